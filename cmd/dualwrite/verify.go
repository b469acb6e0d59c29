package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dualwrite/dualwrite/internal/control"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/verify"
)

// verify compares every new row with up(old row), or with --direction
// reverse every old row with down(new row), or with --round-trip every old
// row with down(up(old row)), and reports the differences. It exits 0
// only when there is none.
func (a *app) verify(ctx context.Context, args []string) int {
	var c common
	fs := a.flagSet(&c, "--mapping FILE --dsn DSN [--driver sqlite3|pgx|mysql] [flags]",
		"Compares up(old row) with the new row for every key of every mapped pair,\n"+
			"range by range, each range under one snapshot, and reports the keys that\n"+
			"match, differ, are missing in the new table or extra in it, with samples.\n"+
			"--direction reverse compares down(new row) with the old row instead, the\n"+
			"invariant of the write phase both. --round-trip reports the old rows that\n"+
			"down(up(old row)) changes (with --direction reverse, the new rows that\n"+
			"up(down(new row)) changes), computed over one table.\n"+
			"The result of a forward verify is recorded per table (see --no-record).\n"+
			"Exit status: 0 no difference, 1 differences, 2 error.")
	var opts verify.Options
	fs.IntVar(&opts.BatchSize, "batch-size", verify.DefaultBatchSize, "keys compared per range (one snapshot)")
	fs.IntVar(&opts.SampleSize, "samples", verify.DefaultSampleSize, "differences shown per kind and table")
	asJSON := fs.Bool("json", false, "write the report as JSON to stdout")
	only := fs.String("table", "", "verify only this mapped old table (default: all, in mapping order)")
	direction := fs.String("direction", "forward", "forward: new = up(old); reverse: old = down(new)")
	roundTrip := fs.Bool("round-trip", false, "report the rows that down(up(row)) changes instead (up(down(row)) with --direction reverse)")
	noRecord := fs.Bool("no-record", false, "do not record the result in the control table "+control.VerifyTable+
		" (dualwrite phase set moves reads off old only after a recorded verify with no difference)")
	if code := a.parseFlags(fs, args); code != proceed {
		return code
	}
	switch {
	case opts.BatchSize <= 0:
		return a.usage(fs, "--batch-size must be positive, got %d", opts.BatchSize)
	case opts.SampleSize <= 0:
		return a.usage(fs, "--samples must be positive, got %d", opts.SampleSize)
	case *direction != "forward" && *direction != "reverse":
		return a.usage(fs, "--direction must be forward or reverse, got %q", *direction)
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
	m := *t.m
	m.Tables = tables
	if *direction == "reverse" {
		m = *m.Flip()
	}
	prog := newProgress(a.stderr)
	opts.Progress = func(p verify.Progress) {
		prog.update(p.Table, p.RowsProcessed, p.RowsProcessed+p.RowsLeft, p.RowsPerSecond)
	}
	check := verify.Run
	if *roundTrip {
		check = verify.RoundTrip
	}
	opts.Record = !*noRecord && !*roundTrip && *direction == "forward"
	rep, err := check(ctx, t.db, t.d, &m, opts)
	prog.finish()
	if err != nil {
		return a.fail(err)
	}
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return a.fail(err)
		}
	} else if *roundTrip {
		printRoundTrip(a.stdout, &m, rep, "(--samples shows more)")
		if rep.OK {
			fmt.Fprintf(a.stdout, "verify --round-trip: OK: %s for every row\n", roundTripText(&m, "="))
		} else {
			fmt.Fprintf(a.stdout, "verify --round-trip: ROWS CHANGE SHAPE: %s for the rows above; %s\n", roundTripText(&m, "!="), roundTripAdvice)
		}
	} else {
		printReport(a.stdout, &m, rep)
	}
	if !rep.OK {
		return exitFindings
	}
	return exitOK
}

// roundTripAdvice tells what rows that change shape mean.
const roundTripAdvice = "these rows do not survive a trip through the other table unchanged: the read phases compare and new read them changed (as down(up(row))), and in the write phase both a write mirrored back would change them: fix the mapping's columns or reverse expressions, or the rows"

// roundTripText spells the round trip of m with the operator op ("=" or
// "!="): down(up(old)) op old, or up(down(new)) op new for a flipped
// mapping.
func roundTripText(m *mapping.Mapping, op string) string {
	if m.Flipped {
		return "up(down(new)) " + op + " new"
	}
	return "down(up(old)) " + op + " old"
}

// printRoundTrip writes a round-trip report as text, one line per table
// and a line per sampled row that changes shape; more tells how to see the
// rows beyond the samples.
func printRoundTrip(w io.Writer, m *mapping.Mapping, rep *verify.Report, more string) {
	for _, tr := range rep.Tables {
		if tr.Mismatched == 0 {
			fmt.Fprintf(w, "%s -> %s: round trip OK: %d rows (%.2fs)\n", tr.Table, tr.NewTable, tr.RowsProcessed, tr.DurationSeconds)
			continue
		}
		fmt.Fprintf(w, "%s -> %s: %d of %d rows change shape in the round trip (%.2fs)\n",
			tr.Table, tr.NewTable, tr.Mismatched, tr.RowsProcessed, tr.DurationSeconds)
		printSamples(w, "changes shape", tr.Mismatched, tr.Samples.Mismatched, tableKey(m, tr.Table), more)
	}
}

// tableKey returns the key columns of m's table old, or nil.
func tableKey(m *mapping.Mapping, old string) []string {
	if mt := m.Table(old); mt != nil {
		return mt.Key
	}
	return nil
}

// printReport writes a verification report as text.
func printReport(w io.Writer, m *mapping.Mapping, rep *verify.Report) {
	for _, tr := range rep.Tables {
		diffs := tr.Mismatched + tr.MissingInNew + tr.ExtraInNew
		if diffs == 0 {
			fmt.Fprintf(w, "%s -> %s: OK: %d rows, all matching (%.2fs)\n", tr.Table, tr.NewTable, tr.RowsProcessed, tr.DurationSeconds)
			continue
		}
		fmt.Fprintf(w, "%s -> %s: %d %s in %d rows: %d matching, %d mismatched, %d missing in new, %d extra in new (%.2fs)\n",
			tr.Table, tr.NewTable, diffs, plural(diffs, "difference", "differences"), tr.RowsProcessed,
			tr.Matching, tr.Mismatched, tr.MissingInNew, tr.ExtraInNew, tr.DurationSeconds)
		key := tableKey(m, tr.Table)
		const more = "(--samples shows more)"
		printSamples(w, "mismatched", tr.Mismatched, tr.Samples.Mismatched, key, more)
		printSamples(w, "missing in new", tr.MissingInNew, tr.Samples.MissingInNew, key, more)
		printSamples(w, "extra in new", tr.ExtraInNew, tr.Samples.ExtraInNew, key, more)
	}
	switch {
	case m.Flipped && rep.OK:
		fmt.Fprintln(w, "verify: OK: old = down(new) for every key")
	case m.Flipped:
		fmt.Fprintln(w, `verify: DIFFERENCES: old != down(new) for the keys above; each pair is read new -> old, so "missing in new" is a row missing in the old table`)
	case rep.OK:
		fmt.Fprintln(w, "verify: OK: new = up(old) for every key")
	default:
		fmt.Fprintln(w, "verify: DIFFERENCES: do not move reads to the new tables until verify passes")
	}
}

// printSamples lists the sampled keys of one kind of difference, of n in
// all; key orders the key columns, and more tells how to see the others.
func printSamples(w io.Writer, kind string, n int64, samples []verify.Sample, key []string, more string) {
	for _, s := range samples {
		fmt.Fprintf(w, "  %s %s", kind, formatKey(s.Key, key))
		for i, c := range s.Columns {
			sep := ": "
			if i > 0 {
				sep = "; "
			}
			fmt.Fprintf(w, "%s%s expected %s, got %s", sep, c.Column, formatValue(c.Expected), formatValue(c.Actual))
		}
		fmt.Fprintln(w)
	}
	if int64(len(samples)) < n {
		fmt.Fprintf(w, "  ... and %d more %s %s\n", n-int64(len(samples)), kind, more)
	}
}

// formatKey writes a key as col=value pairs, in the mapping's key order.
func formatKey(k map[string]any, order []string) string {
	var parts []string
	for _, c := range order {
		if v, ok := k[c]; ok {
			parts = append(parts, c+"="+formatValue(v))
		}
	}
	if len(parts) != len(k) { // a key the mapping does not name: print all of it
		parts = parts[:0]
		for _, c := range slices.Sorted(maps.Keys(k)) {
			parts = append(parts, c+"="+formatValue(k[c]))
		}
	}
	return strings.Join(parts, " ")
}

// formatValue writes a column value: text quoted, NULL as NULL.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return strconv.Quote(v)
	case []byte:
		return strconv.Quote(string(v))
	}
	return fmt.Sprint(v)
}
