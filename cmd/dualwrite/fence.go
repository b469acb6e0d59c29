package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/fence"
	"github.com/dualwrite/dualwrite/rewrite"
)

// fence installs, removes or reports the fence (package fence): on
// PostgreSQL, a deferred trigger on both tables of each mapped pair that
// fails any transaction leaving a touched key with new != up(old) (with
// --both: and old != down(new)).
func (a *app) fence(ctx context.Context, args []string) int {
	isAction := func(s string) bool { return s == "install" || s == "remove" || s == "status" }
	var c common
	fs := a.flagSet(&c, "install [--both]|remove|status --mapping FILE --driver pgx --dsn DSN",
		"install: puts a deferred trigger on both tables of every mapped pair that, at\n"+
			"COMMIT, fails a transaction that left a key it touched with new != up(old):\n"+
			"a write that did not come through dualwrite (a function, a procedure, a\n"+
			"trigger, another client) fails; dual writes, backfill and verify pass.\n"+
			"Install it once every writer runs with the write phase dual.\n"+
			"install --both: the fence of the write phase both, which also passes a key\n"+
			"with old = down(new), as a write to the new table through dualwrite leaves\n"+
			"it; weaker, so only for that phase. Installing replaces the other mode.\n"+
			"remove: drops it; do so before writes go back to off.\n"+
			"status: says whether each pair has the fence this mapping makes, and its mode.\n"+
			"PostgreSQL only. Exit status: 0 done (status: every pair fenced), 1 status\n"+
			"found a pair without its fence, 2 error.")
	both := fs.Bool("both", false, "install: the fence of the write phase both (new = up(old) or old = down(new))")
	pos, code := a.parseArgs(fs, args)
	switch {
	case code != proceed:
		return code
	case len(pos) != 1 || !isAction(pos[0]):
		return a.usage(fs, "want one of install, remove or status, got %q", strings.Join(pos, " "))
	case *both && pos[0] != "install":
		return a.usage(fs, "--both is for install only")
	}
	action := pos[0]
	a.name = "fence " + action
	t, code := a.setup(ctx, fs, &c, true)
	if code != proceed {
		return code
	}
	defer t.close()
	if t.d != rewrite.Postgres {
		return a.fail(fmt.Errorf("%w; dialect %s has none", rewrite.ErrNoFence, t.d.Name))
	}
	switch action {
	case "install":
		if code := a.requireSchema(ctx, t); code != proceed {
			return code
		}
		install, mode := fence.Install, fence.Strict
		if *both {
			install, mode = fence.InstallBoth, fence.Both
		}
		if err := install(ctx, t.db, t.m); err != nil {
			return a.fail(err)
		}
		for _, mt := range t.m.Tables {
			fmt.Fprintf(a.stdout, "%s -> %s: fenced (%s)\n", mt.Old, mt.New, mode)
		}
	case "remove":
		if err := fence.Remove(ctx, t.db, t.m); err != nil {
			return a.fail(err)
		}
		for _, mt := range t.m.Tables {
			fmt.Fprintf(a.stdout, "%s -> %s: fence removed\n", mt.Old, mt.New)
		}
	case "status":
		states, err := fence.Status(ctx, t.db, t.m)
		if err != nil {
			return a.fail(err)
		}
		code := exitOK
		for _, s := range states {
			state := "fenced (" + s.Mode.String() + ")"
			switch {
			case !s.Installed:
				state, code = "not fenced", exitFindings
			case !s.Current:
				state, code = "fenced for another version of the mapping (not current): run dualwrite fence install [--both] again", exitFindings
			}
			fmt.Fprintf(a.stdout, "%s -> %s: %s\n", s.Old, s.New, state)
		}
		return code
	}
	return exitOK
}
