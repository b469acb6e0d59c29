package main

import (
	"database/sql"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
)

// mirrorCheck is one database (a SQLite file, a PostgreSQL schema or a
// MariaDB database) of a variant that mirrors, checked after the rounds:
// the table it wrote, table.Old, must be projected into table.New by
// table's expressions, and hold what its operations imply.
type mirrorCheck struct {
	group, variant string
	where          string // the file, schema or database, for messages
	driver, dsn    string // the base driver and its DSN
	table          *mapping.Table
	dir            string // "up" (forward) or "down" (table is flipped)
	except         string // "EXCEPT ALL" (PostgreSQL, MariaDB) or "EXCEPT" (SQLite, keyed rows: the same)
	insert         bool   // each operation inserted a row
	deletes        bool   // each operation deleted a row; otherwise (neither) it added 1 to visits
	seed           int64  // the rows table.Old was seeded with; 0: seedRows
}

// checkMirrors runs every mirror check, through the base driver: the rows
// of the projection of table.Old missing from table.New and the rows of
// table.New not in it must both be none (NULLs equal), and table.Old must
// hold seed + ops rows with sum(visits) = 0 after inserts, seed - ops rows
// with sum(visits) = 0 after deletes, or seed rows with sum(visits) = ops
// after updates, where seed is the rows seeded (seedRows unless said) and
// ops[group] the number of operations each variant of the group ran,
// warm-up included.
// It returns a summary line per check.
func (b *bench) checkMirrors(ops map[string]int) ([]string, error) {
	var out []string
	for _, c := range b.checks {
		t := c.table
		db, err := sql.Open(c.driver, c.dsn)
		if err != nil {
			return nil, err
		}
		var missing, extra, rows, visits int64
		err = db.QueryRow(mirrorDiff(t, c.except)).Scan(&missing, &extra, &rows, &visits)
		_ = db.Close()
		if err != nil {
			return nil, fmt.Errorf("checking %s / %s (%s): %w", c.group, c.variant, c.where, err)
		}
		if missing > 0 || extra > 0 {
			return nil, fmt.Errorf("check FAILED: %s / %s (%s): %s != %s(%s): %d rows of %s(%s) missing from %s, %d %s rows not in %s(%s), of %d %s rows",
				c.group, c.variant, c.where, t.New, c.dir, t.Old, missing, c.dir, t.Old, t.New, extra, t.New, c.dir, t.Old, rows, t.Old)
		}
		n := int64(ops[c.group])
		wantRows, wantVisits := int64(seedRows), int64(0)
		if c.seed != 0 {
			wantRows = c.seed
		}
		switch {
		case c.insert:
			wantRows += n
		case c.deletes:
			wantRows -= n
		default:
			wantVisits = n
		}
		if rows != wantRows || visits != wantVisits {
			return nil, fmt.Errorf("check FAILED: %s / %s (%s): %s has %d rows and sum(visits) = %d after %d operations; want %d and %d",
				c.group, c.variant, c.where, t.Old, rows, visits, n, wantRows, wantVisits)
		}
		out = append(out, fmt.Sprintf("check %s / %s: %s = %s(%s), %d rows; %s: %d rows, sum(visits) = %d, as its %d operations give",
			c.group, c.variant, t.New, c.dir, t.Old, rows, t.Old, rows, visits, n))
	}
	return out, nil
}

// mirrorDiff returns the query of the rows of the projection of t.Old by
// t's expressions missing from t.New, the rows of t.New not in it (both
// by except, under which NULLs are equal), the rows of t.Old and their
// sum(visits).
func mirrorDiff(t *mapping.Table, except string) string {
	var cols, exprs []string
	for _, c := range t.Columns {
		cols = append(cols, c.Name)
		exprs = append(exprs, c.Expr)
	}
	proj := "SELECT " + strings.Join(exprs, ", ") + " FROM " + t.Old
	have := "SELECT " + strings.Join(cols, ", ") + " FROM " + t.New
	return "SELECT (SELECT count(*) FROM (" + proj + " " + except + " " + have + ") AS missing), (SELECT count(*) FROM (" +
		have + " " + except + " " + proj + ") AS extra), (SELECT count(*) FROM " + t.Old + "), (SELECT coalesce(sum(visits), 0) FROM " + t.Old + ")"
}
