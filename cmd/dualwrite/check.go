package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/verify"
)

// defaultRoundTripSample is the number of old rows per table whose round
// trip check looks at by default: one range, one indexed read, quick on a
// table of any size.
const defaultRoundTripSample = 1000

// check lists every mismatch between the mapping and the live schema, the
// ones that make the driver refuse to connect, then checks the round trip
// down(up(old row)) = old row on the first rows of each old table. It
// exits 0 when there is no problem and 1 when there are some.
func (a *app) check(ctx context.Context, args []string) int {
	var c common
	fs := a.flagSet(&c, "--mapping FILE --dsn DSN [--driver sqlite3|pgx|mysql] [--round-trip-sample N]",
		"Checks the mapping against the live schema, as the driver does when it first\n"+
			"connects, and lists every problem with its table, column and fix. Then it\n"+
			"checks that the reverse expressions undo the column expressions on the first\n"+
			"N rows of each old table (down(up(old row)) = old row) and lists the rows that\n"+
			"would change shape; dualwrite verify --round-trip checks every row.\n"+
			"Exit status: 0 no problem, 1 problems, 2 error.")
	sample := fs.Int64("round-trip-sample", defaultRoundTripSample, "old rows per table whose round trip is checked, in key order (0: none)")
	if code := a.parseFlags(fs, args); code != proceed {
		return code
	}
	if *sample < 0 {
		return a.usage(fs, "--round-trip-sample must be 0 or more, got %d", *sample)
	}
	t, code := a.setup(ctx, fs, &c, true)
	if code != proceed {
		return code
	}
	defer t.close()
	_, problems, err := t.inspect(ctx)
	if err != nil {
		return a.fail(err)
	}
	if len(problems) > 0 {
		printProblems(a.stdout, t, problems)
		return exitFindings
	}
	pairs := make([]string, len(t.m.Tables))
	for i, mt := range t.m.Tables {
		pairs[i] = mt.Old + " -> " + mt.New
	}
	fmt.Fprintf(a.stdout, "OK: %s matches the live schema (%s): %s\n", t.m.File, t.d.Name, strings.Join(pairs, ", "))
	if *sample == 0 {
		return exitOK
	}
	// A sample is the first rows in key order: one range of the round
	// trip's walk, which reads no more than it shows.
	opts := verify.Options{BatchSize: int(min(*sample, 1<<30)), Limit: *sample}
	rep, err := verify.RoundTrip(ctx, t.db, t.d, t.m, opts)
	if err != nil {
		return a.fail(err)
	}
	printRoundTrip(a.stdout, t.m, rep, "(dualwrite verify --round-trip lists more)")
	if !rep.OK {
		fmt.Fprintf(a.stdout, "ROUND TRIP: %s for the rows above; %s\n", roundTripText(t.m, "!="), roundTripAdvice)
		return exitFindings
	}
	fmt.Fprintf(a.stdout, "OK: %s for the first %d rows of each table\n", roundTripText(t.m, "="), *sample)
	return exitOK
}
