package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/internal/control"
	"github.com/dualwrite/dualwrite/mapping"
)

// status prints the phases in force in this environment and, with --dsn,
// the row counts and the backfill checkpoint of every mapped pair.
func (a *app) status(ctx context.Context, args []string) int {
	var c common
	fs := a.flagSet(&c, "--mapping FILE [--driver sqlite3|pgx|mysql] [--dsn DSN] [--fleet NAME]",
		"Shows the phases a program started in this environment would use (from\n"+
			"DUALWRITE_WRITE_PHASE, DUALWRITE_READ_PHASE and the mapping's defaults) and,\n"+
			"with --dsn, the fleet's shared phases and its processes (the phases each\n"+
			"runs, what decided them, which are stale and which run another mapping),\n"+
			"the row counts of every mapped old and new table and the backfill's\n"+
			"checkpoint and last verify per table. Exit status: 0, or 2 when a table\n"+
			"cannot be read.")
	fleet := fs.String("fleet", control.DefaultFleet, "the fleet (dualwrite.SharedPhases.Fleet)")
	if code := a.parseFlags(fs, args); code != proceed {
		return code
	}
	t, code := a.setup(ctx, fs, &c, false)
	if code != proceed {
		return code
	}
	defer t.close()
	fmt.Fprintf(a.stdout, "mapping: %s (dialect %s; defaults: write %s, read %s)\n", t.m.File, t.d.Name, t.m.Phases.Write, t.m.Phases.Read)
	def, from := t.m.Phases, "mapping default"
	if t.db != nil {
		cur, ok, err := control.New(t.d).ReadPhases(ctx, t.db, *fleet)
		switch {
		case err != nil:
			fmt.Fprintf(a.stdout, "fleet %s: the shared phases cannot be read (%v)\n", *fleet, err)
		case ok && cur.Digest != t.m.Digest():
			def, from = control.Capped(cur.Phases), fmt.Sprintf("fleet %s's shared phases, set with another mapping, capped for this one", *fleet)
		case ok:
			def, from = cur.Phases, fmt.Sprintf("fleet %s's shared phases", *fleet)
		}
	}
	printPhases(a.stdout, def, from)
	if t.db == nil {
		fmt.Fprintln(a.stdout, "tables: pass --dsn for row counts and backfill progress")
		return exitOK
	}
	code = exitOK
	if err := printFleet(ctx, a.stdout, t, *fleet); err != nil {
		fmt.Fprintf(a.stdout, "fleet %s: cannot be read (%v)\n", *fleet, err)
		code = exitError
	}
	fmt.Fprintln(a.stdout, "tables:")
	verifies, err := control.New(t.d).Verifies(ctx, t.db)
	if err != nil {
		fmt.Fprintf(a.stdout, "verify results cannot be read (%v)\n", err)
		code = exitError
	}
	for _, mt := range t.m.Tables {
		line, ok := tableStatus(ctx, t, mt, verifies)
		fmt.Fprintf(a.stdout, "  %s -> %s: %s\n", mt.Old, mt.New, line)
		if !ok {
			code = exitError
		}
	}
	return code
}

// printPhases prints the phases a program started in this environment
// would use, where each comes from, and what is wrong with the variables;
// def are the phases below the environment, from says where they come from.
func printPhases(w io.Writer, def mapping.Phases, from string) {
	sw := dualwrite.NewSwitch()
	write, read := sw.Write(def.Write), sw.Read(def)
	_, werr := mapping.ParseWritePhase(os.Getenv(dualwrite.WritePhaseEnv))
	asked, rerr := mapping.ParseReadPhase(os.Getenv(dualwrite.ReadPhaseEnv))
	if rerr != nil {
		asked = def.Read
	}
	fmt.Fprintf(w, "write phase: %-7s %s\n", write, source(dualwrite.WritePhaseEnv, werr, from))
	note := source(dualwrite.ReadPhaseEnv, rerr, from)
	if asked != read {
		note += fmt.Sprintf("; %s is refused while the write phase is off, since the new tables do not follow the old ones: reads stay on old (set %s=dual first)",
			asked, dualwrite.WritePhaseEnv)
	}
	fmt.Fprintf(w, "read phase:  %-7s %s\n", read, note)
	fmt.Fprintf(w, "mirrored:    %s\n", mirrored[write])
}

// mirrored says, by write phase, which writes the driver mirrors.
var mirrored = map[mapping.WritePhase]string{
	mapping.WriteOff:  "nothing: writes run as written",
	mapping.WriteDual: "writes to the old tables, forward into the new tables (writes to the new tables are refused)",
	mapping.WriteBoth: "writes to the old tables, forward into the new tables, and writes to the new tables, back into the old tables",
}

// source says where a phase comes from: the environment variable name, or
// from when the variable is unset or invalid (err is the error parsing its
// value).
func source(name string, err error, from string) string {
	raw := os.Getenv(name)
	switch {
	case raw == "":
		return fmt.Sprintf("(%s; %s is not set)", from, name)
	case err != nil:
		return fmt.Sprintf("(%s; %s is invalid and ignored: %v)", from, name, err)
	}
	return fmt.Sprintf("(from %s=%s)", name, raw)
}

// tableStatus returns the row counts, the backfill checkpoint and the last
// recorded verify of one mapped pair, and false when something could not
// be read.
func tableStatus(ctx context.Context, t *target, mt *mapping.Table, verifies map[string]control.VerifyRecord) (string, bool) {
	ok := true
	count := func(table string) string {
		var n int64
		if err := t.db.QueryRowContext(ctx, "SELECT count(*) FROM "+t.d.Quote(table)).Scan(&n); err != nil {
			ok = false
			return fmt.Sprintf("%s cannot be counted (%v)", table, err)
		}
		return fmt.Sprintf("%d %s %s", n, plural(n, "row", "rows"), "in "+table)
	}
	line := count(mt.Old) + ", " + count(mt.New) + "; backfill: "
	cp, err := backfill.ReadCheckpoint(ctx, t.db, t.d, t.d.Compile(mt), "")
	if err != nil {
		return line + "cannot read the checkpoint (" + err.Error() + ")", false
	}
	return line + checkpointStatus(cp) + "; verify: " + verifyStatus(cp, mt, verifies), ok
}

// verifyStatus describes the last recorded verify of mt, given its
// backfill checkpoint.
func verifyStatus(cp backfill.Checkpoint, mt *mapping.Table, verifies map[string]control.VerifyRecord) string {
	r, ok := verifies[mt.Old]
	if !ok {
		return "none recorded"
	}
	s := fmt.Sprintf("%d %s in %d keys, %s by %s", r.Differences, plural(r.Differences, "difference", "differences"), r.Compared,
		r.Finished.Format(time.RFC3339), r.By)
	switch {
	case r.Digest != mt.Digest():
		s += " (with another mapping)"
	case r.Backfill != control.BackfillStamp(cp):
		s += " (before the backfill's last batch)"
	}
	return s
}

// checkpointStatus describes a backfill checkpoint.
func checkpointStatus(cp backfill.Checkpoint) string {
	var s string
	switch {
	case cp.Updated.IsZero():
		return "not started"
	case cp.Done:
		s = "done"
	default:
		s = fmt.Sprintf("in progress, after key %v", cp.LastKey)
	}
	s += fmt.Sprintf(", %d %s copied, %d new %s deleted, updated %s", cp.Rows, plural(cp.Rows, "row", "rows"),
		cp.Deleted, plural(cp.Deleted, "row", "rows"), cp.Updated.Format(time.RFC3339))
	if cp.MappingChanged {
		s += "; made with another mapping of the table: run dualwrite backfill --reset --table " + cp.Table
	}
	return s
}
