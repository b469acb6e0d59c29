package main

import (
	"context"
	"fmt"
	"strings"
)

// check lists every mismatch between the mapping and the live schema, the
// ones that make the driver refuse to connect. It exits 0 when there is
// none and 1 when there are some.
func (a *app) check(ctx context.Context, args []string) int {
	var c common
	fs := a.flagSet(&c, "--mapping FILE --dsn DSN [--driver sqlite3|pgx]",
		"Checks the mapping against the live schema, as the driver does when it first\nconnects, and lists every problem with its table, column and fix.\nExit status: 0 no problem, 1 problems, 2 error.")
	if code := a.parseFlags(fs, args); code != proceed {
		return code
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
	return exitOK
}
