package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/dualwrite/dualwrite/internal/corpus"
)

// The texts groups (run only when -groups names texts) measure what
// many distinct statement texts cost: ORMs and IN lists of varying length
// produce thousands of texts, and values inlined as literals make every
// statement distinct. Each statement is one of textCounts texts, told
// apart by a literal that matches no row (WHERE id IN (?, -k)), taken
// cyclically (0, 1, ..., N-1, 0, ...: more texts than a least-recently-
// used cache holds miss on every use) or skewed (a Zipf distribution,
// s = 1.1: a few hot texts and a long tail), for:
//
//   - an unmapped SELECT (audit), through the wrapper against the raw
//     driver (target: within 1.05x at any number of texts);
//   - a SELECT of the mapped table users in read phase old (target:
//     within 1.10x);
//   - a dual UPDATE of users (no target against the statement alone: the
//     group with one text is the reference);
//
// each with an A/A control (raw against raw-copy).

// textCounts are the numbers of distinct texts measured.
var textCounts = []int{1, 1_000, 100_000}

// textShapes are the statements measured, each with the target of the
// wrapper's ratio to the raw driver (0: none).
var textShapes = []struct {
	name   string
	format string // the text, with %d for k
	read   bool   // a query of one row, else an UPDATE of one row
	target float64
}{
	{"unmapped", "SELECT id, msg FROM audit WHERE id IN (?, -%d)", true, 1.05},
	{"mapped-old", "SELECT id, full_name, email, visits FROM users WHERE id IN (?, -%d)", true, 1.10},
	{"dual-update", "UPDATE users SET visits = visits + 1 WHERE id IN (?, -%d)", false, 0},
}

// zipfSeq is how many draws of the skewed pattern are made; the i-th
// operation takes draw i modulo zipfSeq, the same in every variant.
const zipfSeq = 1 << 16

// textPatterns returns the access patterns measured with n texts.
func textPatterns(n int) []string {
	if n == 1 {
		return []string{""}
	}
	return []string{"cyclic", "zipf"}
}

func textsGroupName(shape string, n int, pattern string) string {
	name := "texts-" + shape + "-" + strconv.Itoa(n)
	if pattern != "" {
		name += "-" + pattern
	}
	return name
}

// textIndex returns which of n texts the i-th operation uses.
func textIndex(n int, pattern string) func(i int) int {
	switch pattern {
	case "cyclic":
		return func(i int) int { return i % n }
	case "zipf":
		z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, uint64(n-1))
		seq := make([]int32, zipfSeq)
		for i := range seq {
			seq[i] = int32(z.Uint64())
		}
		return func(i int) int { return int(seq[i%zipfSeq]) }
	}
	return func(int) int { return 0 }
}

// textsGroups opens the databases of the texts groups.
func (b *bench) textsGroups(n, warmup int) ([]group, error) {
	ctx := b.ctx
	var out []group
	for _, sh := range textShapes {
		for _, count := range textCounts {
			texts := make([]string, count)
			for k := range texts {
				texts[k] = fmt.Sprintf(sh.format, k+1)
			}
			for _, pattern := range textPatterns(count) {
				name := textsGroupName(sh.name, count, pattern)
				g := group{name: name, n: n, warmup: warmup}
				for _, vname := range []string{"dualwrite", "raw", "raw-copy"} {
					drv := "sqlite3"
					if vname == "dualwrite" {
						drv = driverName
					}
					db, err := b.open(name+"-"+vname, drv, corpus.BenchSchema, seedWrites)
					if err != nil {
						return nil, err
					}
					g.variants = append(g.variants, variant{vname, textOp(ctx, db, texts, textIndex(count, pattern), sh.read)})
				}
				g.ratios = []ratio{{num: 0, den: 1, target: sh.target}, {num: 1, den: 2, label: "A/A"}}
				out = append(out, g)
			}
		}
	}
	return out, nil
}

// textOp returns the i-th operation of a texts group's variant: the
// text index(i) picks, with the id of a seed row.
func textOp(ctx context.Context, db *sql.DB, texts []string, index func(int) int, read bool) func(i int) error {
	return func(i int) error {
		q, id := texts[index(i)], seedID(i)
		if !read {
			return exec(ctx, db, q, id)
		}
		found, err := countRows(ctx, db, q, id)
		if err != nil {
			return err
		}
		if found != 1 {
			return fmt.Errorf("%s with id %d: %d rows, want 1", q, id, found)
		}
		return nil
	}
}

// countRows runs a query and returns how many rows it gave.
func countRows(ctx context.Context, db *sql.DB, q string, args ...any) (int, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer func() { _ = rows.Close() }()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}
