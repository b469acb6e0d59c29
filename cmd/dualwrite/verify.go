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

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/verify"
)

// verify compares every new row with up(old row) and reports the
// differences. It exits 0 only when there is none.
func (a *app) verify(ctx context.Context, args []string) int {
	var c common
	fs := a.flagSet(&c, "--mapping FILE --dsn DSN [--driver sqlite3|pgx] [flags]",
		"Compares up(old row) with the new row for every key of every mapped pair,\n"+
			"range by range, each range under one snapshot, and reports the keys that\n"+
			"match, differ, are missing in the new table or extra in it, with samples.\n"+
			"Exit status: 0 no difference, 1 differences, 2 error.")
	var opts verify.Options
	fs.IntVar(&opts.BatchSize, "batch-size", verify.DefaultBatchSize, "keys compared per range (one snapshot)")
	fs.IntVar(&opts.SampleSize, "samples", verify.DefaultSampleSize, "differences shown per kind and table")
	asJSON := fs.Bool("json", false, "write the report as JSON to stdout")
	only := fs.String("table", "", "verify only this mapped old table (default: all, in mapping order)")
	if code := a.parseFlags(fs, args); code != proceed {
		return code
	}
	switch {
	case opts.BatchSize <= 0:
		return a.usage(fs, "--batch-size must be positive, got %d", opts.BatchSize)
	case opts.SampleSize <= 0:
		return a.usage(fs, "--samples must be positive, got %d", opts.SampleSize)
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
	prog := newProgress(a.stderr)
	opts.Progress = func(p verify.Progress) {
		prog.update(p.Table, p.RowsProcessed, p.RowsProcessed+p.RowsLeft, p.RowsPerSecond)
	}
	rep, err := verify.Run(ctx, t.db, t.d, &m, opts)
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
	} else {
		printReport(a.stdout, t.m, rep)
	}
	if !rep.OK {
		return exitFindings
	}
	return exitOK
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
		var key []string
		if mt := m.Table(tr.Table); mt != nil {
			key = mt.Key
		}
		printSamples(w, "mismatched", tr.Mismatched, tr.Samples.Mismatched, key)
		printSamples(w, "missing in new", tr.MissingInNew, tr.Samples.MissingInNew, key)
		printSamples(w, "extra in new", tr.ExtraInNew, tr.Samples.ExtraInNew, key)
	}
	if rep.OK {
		fmt.Fprintln(w, "verify: OK: new = up(old) for every key")
	} else {
		fmt.Fprintln(w, "verify: DIFFERENCES: do not move reads to the new tables until verify passes")
	}
}

// printSamples lists the sampled keys of one kind of difference, of n in
// all; key orders the key columns.
func printSamples(w io.Writer, kind string, n int64, samples []verify.Sample, key []string) {
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
		fmt.Fprintf(w, "  ... and %d more %s (--samples shows more)\n", n-int64(len(samples)), kind)
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
