package main

import (
	"database/sql"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// The scale group (run only when -groups names it) checks that planning
// costs grow linearly with a statement's nesting depth and size, and what
// a big INSERT allocates through the wrapper:
//
//   - planning (a cache miss, rewrite.Planner.Plan) of statements nested
//     scaleDepths levels deep, on SQLite and PostgreSQL: ns per level at
//     each depth and their ratio (about 1 when linear);
//   - planning an INSERT of literal rows of scaleSizes bytes: ns and bytes
//     allocated per input byte, and the ratio of ns per byte;
//   - one db.Exec of such an INSERT on SQLite through the wrapper (write
//     phase dual) and through the raw driver: bytes the Go heap allocated
//     (runtime.MemStats.TotalAlloc) per input byte, and the ratio of the
//     two.
//
// Each time is the least of -scale-rounds measurements, the one least
// disturbed by other work on the machine (a planning of less than 50 ms is
// repeated within a measurement until it takes that long); each allocation
// is the median.

// scaleDepths are the nesting depths compared, smallest first.
var scaleDepths = []int{1000, 16000}

// scaleSizes are the INSERT sizes compared, in bytes, smallest first.
var scaleSizes = []int{1 << 20, 16 << 20}

// scaleShapes are the nested statements planned.
var scaleShapes = []struct {
	name string
	gen  func(depth int) string
}{
	{"read IN (SELECT ...)", corpus.NestedRead},
	{"UPDATE SET = (SELECT ...)", corpus.NestedUpdate},
	{"DELETE IN (SELECT ...)", corpus.NestedDelete},
	{"UPDATE SET = ((...))", corpus.DeepParens},
}

// scaleCost is one measurement: time and Go heap bytes allocated.
type scaleCost struct {
	ns, bytes float64
}

// scaleMinTime is how long a measurement of a repeatable op lasts at least.
const scaleMinTime = 50 * time.Millisecond

// measureScale measures op in rounds and returns the least time and the
// median allocation of one op. prepare(r), when set, runs untimed before
// round r; a repeatable op runs as many times per round as it takes to
// last scaleMinTime, a first untimed run telling how many.
func measureScale(rounds int, repeatable bool, prepare func(r int) error, op func() error) (scaleCost, error) {
	reps := 1
	if repeatable {
		start := time.Now()
		if err := op(); err != nil {
			return scaleCost{}, err
		}
		reps = int(min(1000, scaleMinTime/max(time.Since(start), 1)+1))
	}
	var ns, bytes []float64
	var before, after runtime.MemStats
	for r := 0; r < rounds; r++ {
		if prepare != nil {
			if err := prepare(r); err != nil {
				return scaleCost{}, err
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		for i := 0; i < reps; i++ {
			if err := op(); err != nil {
				return scaleCost{}, err
			}
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		ns = append(ns, float64(elapsed.Nanoseconds())/float64(reps))
		bytes = append(bytes, float64(after.TotalAlloc-before.TotalAlloc)/float64(reps))
	}
	return scaleCost{slices.Min(ns), median(bytes)}, nil
}

// planOnce returns an op that plans q, a cache miss every time: the
// planner's cache of one byte keeps no plan.
func planOnce(d *rewrite.Dialect, m *mapping.Mapping, q string) func() error {
	p := rewrite.NewPlannerBounded(d, m, &rewrite.Schema{}, 1, 1)
	return func() error {
		if plan, src := p.Plan(q); src != rewrite.Planned || plan.Action == rewrite.Pass {
			return fmt.Errorf("%s: a statement on users not planned (source %d) or planned as Pass", d.Name, src)
		}
		return nil
	}
}

// runScale measures the scale group and prints its tables.
func (b *bench) runScale(w io.Writer, rounds int) error {
	fmt.Fprintf(w, "scale: planning cost against nesting depth and statement size; %d rounds, the least time and the median allocation\n", rounds)
	fmt.Fprintf(w, "go %s %s/%s, GOMAXPROCS=%d; load average before: %s (1 min)\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), loadAvg())
	start := time.Now()
	dialects := []*rewrite.Dialect{rewrite.SQLite, rewrite.Postgres}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "planning\tdialect\tns/level at %d\tns/level at %d\tratio\t\n", scaleDepths[0], scaleDepths[1])
	for _, s := range scaleShapes {
		for _, d := range dialects {
			var per []float64
			for _, depth := range scaleDepths {
				c, err := measureScale(rounds, true, nil, planOnce(d, b.mapping, s.gen(depth)))
				if err != nil {
					return err
				}
				per = append(per, c.ns/float64(depth))
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.2fx\t\n", s.name, d.Name, per[0], per[1], per[1]/per[0])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	inserts := make([]string, len(scaleSizes))
	for i, size := range scaleSizes {
		inserts[i] = corpus.BigInsert(size)
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "planning INSERT\tdialect\tMiB\tns/byte\tB alloc/byte\t\t")
	for _, d := range dialects {
		var per []float64
		for _, q := range inserts {
			c, err := measureScale(rounds, true, nil, planOnce(d, b.mapping, q))
			if err != nil {
				return err
			}
			n := float64(len(q))
			per = append(per, c.ns/n)
			fmt.Fprintf(tw, "\t%s\t%.0f\t%.2f\t%.2f\t\t\n", d.Name, n/(1<<20), c.ns/n, c.bytes/n)
		}
		fmt.Fprintf(tw, "\t%s\tratio of ns/byte\t%.2fx\t\t\t\n", d.Name, per[len(per)-1]/per[0])
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	if err := b.scaleExec(w, rounds, inserts); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nload average after: %s (1 min); the scale group took %s\n", loadAvg(), time.Since(start).Round(time.Millisecond))
	return nil
}

// scaleExec measures one db.Exec of each INSERT through the wrapper in the
// dual write phase and through the raw driver, each on its own file
// emptied (through the raw driver) before each run, and checks that the
// wrapper's last INSERT was mirrored. Each round's text starts with its
// own comment, so that the wrapper plans it (a cache miss) every time.
func (b *bench) scaleExec(w io.Writer, rounds int, inserts []string) error {
	none := func(*sql.Tx) error { return nil }
	variants := []struct{ name, driver, file string }{
		{"dualwrite", driverName, "scale-dual"},
		{"raw", "sqlite3", "scale-raw"},
	}
	costs := make([][]scaleCost, len(variants))
	for vi, v := range variants {
		db, err := b.open(v.file, v.driver, corpus.BenchSchema, none)
		if err != nil {
			return err
		}
		raw, err := sql.Open("sqlite3", b.dsn(v.file))
		if err != nil {
			return err
		}
		b.dbs = append(b.dbs, raw)
		for _, q := range inserts {
			var text string
			prepare := func(r int) error {
				text = "/* round " + strconv.Itoa(r) + " */ " + q
				for _, q := range []string{`DELETE FROM users`, `DELETE FROM accounts`} {
					if _, err := raw.ExecContext(b.ctx, q); err != nil {
						return err
					}
				}
				return nil
			}
			c, err := measureScale(rounds, false, prepare, func() error {
				_, err := db.ExecContext(b.ctx, text)
				return err
			})
			if err != nil {
				return fmt.Errorf("scale %s: %w", v.name, err)
			}
			costs[vi] = append(costs[vi], c)
		}
		if v.driver == driverName {
			var users, diff int
			if err := raw.QueryRowContext(b.ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil {
				return err
			}
			if err := raw.QueryRowContext(b.ctx, qCheckDiff).Scan(&diff); err != nil {
				return err
			}
			if users == 0 || diff != 0 {
				return fmt.Errorf("scale: after the wrapper's INSERT, %d users rows of which %d are not mirrored", users, diff)
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// The raw driver allocates next to nothing on the Go heap (SQLite
	// copies the text in C): the wrapper's figure is compared by
	// difference, not by ratio.
	fmt.Fprintln(tw, "db.Exec INSERT (SQLite)\tMiB\tdualwrite B alloc/byte\traw B alloc/byte\tdifference\tdualwrite ns/byte\traw ns/byte\tratio\t")
	for i, q := range inserts {
		n := float64(len(q))
		d, r := costs[0][i], costs[1][i]
		fmt.Fprintf(tw, "\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t%.2fx\t\n", n/(1<<20),
			d.bytes/n, r.bytes/n, (d.bytes-r.bytes)/n, d.ns/n, r.ns/n, d.ns/r.ns)
	}
	return tw.Flush()
}
