package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/mapping"
)

// backfill copies the old rows of every mapped pair (or of --table) into
// the new tables, resuming after each table's checkpoint.
func (a *app) backfill(ctx context.Context, args []string) int {
	var c common
	fs := a.flagSet(&c, "--mapping FILE --dsn DSN [--driver sqlite3|pgx|mysql] [flags]",
		"Copies the rows of each mapped old table into its new table as up(old), in\n"+
			"batches in key order, each one a short transaction that records a checkpoint:\n"+
			"a run that stops resumes where it stopped. Every instance of the application\n"+
			"must write in the dual phase (DUALWRITE_WRITE_PHASE=dual) before it starts.\n"+
			"With --direction reverse it copies each new table into its old table as\n"+
			"down(new) instead, and deletes the old rows that have no new row: a repair for\n"+
			"the write phase both, run only while every instance writes in it.\n"+
			"On SQLite give the DSN a busy timeout (_busy_timeout=10000).\n"+
			"On MySQL and MariaDB the tables must be InnoDB's: a batch locks its rows.\n"+
			"Exit status: 0 every table done, 2 error.")
	var opts backfill.Options
	fs.IntVar(&opts.BatchSize, "batch-size", 0, fmt.Sprintf("old rows copied per batch (one transaction); default %d, %d on MySQL and MariaDB",
		backfill.DefaultBatchSize, backfill.DefaultMySQLBatchSize))
	fs.Float64Var(&opts.RowsPerSecond, "rows-per-second", 0, "cap on the copy rate; 0 for none")
	fs.DurationVar(&opts.Pause, "pause", 0, "least wait between two batches, e.g. 100ms")
	reset := fs.Bool("reset", false, "forget the checkpoints first and copy every row again")
	only := fs.String("table", "", "backfill only this mapped old table (default: all, in mapping order)")
	direction := directionFlag(fs)
	if code := a.parseFlags(fs, args); code != proceed {
		return code
	}
	switch {
	case opts.BatchSize <= 0 && isSet(fs, "batch-size"):
		return a.usage(fs, "--batch-size must be positive, got %d", opts.BatchSize)
	case opts.RowsPerSecond < 0:
		return a.usage(fs, "--rows-per-second must not be negative, got %g", opts.RowsPerSecond)
	case opts.Pause < 0:
		return a.usage(fs, "--pause must not be negative, got %s", opts.Pause)
	case *direction != forward && *direction != reverse:
		return a.usage(fs, "--direction must be %s or %s, got %q", forward, reverse, *direction)
	}
	t, code := a.setup(ctx, fs, &c, true)
	if code != proceed {
		return code
	}
	defer t.close()
	tables, code := a.tables(fs, t.m, *only)
	if code != proceed {
		return code
	}
	if code := a.requireSchema(ctx, t); code != proceed {
		return code
	}
	prog := newProgress(a.stderr)
	opts.Progress = func(p backfill.Progress) {
		prog.update(p.Table, p.Rows, p.Rows+p.RowsLeft, p.RowsPerSecond)
	}
	for _, mt := range tables {
		if *direction == reverse {
			mt = mt.Flip()
		}
		ct := t.d.Compile(mt)
		if *reset {
			if err := backfill.Reset(ctx, t.db, t.d, ct, ""); err != nil {
				return a.fail(err)
			}
			fmt.Fprintf(a.stdout, "%s: checkpoint reset\n", mt.Old)
		}
		start := time.Now()
		p, err := backfill.Run(ctx, t.db, t.d, ct, opts)
		prog.finish()
		if err != nil {
			return a.fail(backfillError(err, mt, ctx.Err() != nil))
		}
		side := "new"
		if *direction == reverse {
			side = "old" // the flipped pair's new table is the old one
		}
		fmt.Fprintf(a.stdout, "%s -> %s: done: %d %s copied in all (%d by this run, in %s), %d %s %s deleted\n",
			mt.Old, mt.New, p.Rows, plural(p.Rows, "row", "rows"), p.RunRows, time.Since(start).Round(time.Millisecond),
			p.Deleted, side, plural(p.Deleted, "row", "rows"))
	}
	return exitOK
}

// The directions of backfill and verify.
const (
	forward = "forward" // new = up(old)
	reverse = "reverse" // old = down(new)
)

// directionFlag defines --direction on fs.
func directionFlag(fs *flag.FlagSet) *string {
	return fs.String("direction", forward, "forward: new = up(old), the mapping's columns; reverse: old = down(new), its reverse expressions (the write phase both)")
}

// backfillError adds what to do to an error of backfill.Run.
func backfillError(err error, mt *mapping.Table, interrupted bool) error {
	switch {
	case interrupted:
		return fmt.Errorf("interrupted; the committed batches stay: %w", err)
	case errors.Is(err, backfill.ErrMappingChanged):
		return fmt.Errorf("%w: run dualwrite backfill --reset --table %s to copy every row with the current mapping", err, mt.Old)
	}
	return err
}

// requireSchema refuses to go on while the mapping does not match the live
// schema: it prints the problems and returns the exit status, or [proceed]
// when all is well.
func (a *app) requireSchema(ctx context.Context, t *target) int {
	_, problems, err := t.inspect(ctx)
	if err != nil {
		return a.fail(err)
	}
	if len(problems) > 0 {
		printProblems(a.stderr, t, problems)
		fmt.Fprintf(a.stderr, "dualwrite %s: refused until the mapping matches the live schema (see dualwrite check)\n", a.name)
		return exitError
	}
	return proceed
}

// oldTables lists the mapped old tables.
// tables returns the mapped pairs a --table flag names: the one whose old
// table is only, or all of them when only is "".
func (a *app) tables(fs *flag.FlagSet, m *mapping.Mapping, only string) ([]*mapping.Table, int) {
	if only == "" {
		return m.Tables, proceed
	}
	mt := m.Table(only)
	if mt == nil {
		return nil, a.usage(fs, "--table %s is not a mapped old table of %s: use one of %s", only, m.File, oldTables(m))
	}
	return []*mapping.Table{mt}, proceed
}

func oldTables(m *mapping.Mapping) string {
	names := make([]string, len(m.Tables))
	for i, mt := range m.Tables {
		names[i] = mt.Old
	}
	return strings.Join(names, ", ")
}
