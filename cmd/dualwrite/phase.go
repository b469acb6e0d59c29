package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dualwrite/dualwrite/internal/control"
	"github.com/dualwrite/dualwrite/mapping"
)

// phase sets a fleet's shared phases after checking that the change is
// safe, or lists the transitions.
func (a *app) phase(ctx context.Context, args []string) int {
	var c common
	fs := a.flagSet(&c, "set [--write off|dual|both] [--read old|compare|new] [--force] | history --mapping FILE --dsn DSN [--fleet NAME]",
		"set: changes the shared phases of the fleet (the processes that run with\n"+
			"dualwrite.WithSharedPhases on this database), which every process takes within\n"+
			"its refresh interval, unless an override or its environment decides. The\n"+
			"change is made only when it is safe:\n"+
			"  - reads leave old, and writes go both, only when every live process mirrors\n"+
			"    writes with this mapping, and each table's last verify, begun after its\n"+
			"    backfill was done and after writes last went from off to mirrored, found\n"+
			"    no difference;\n"+
			"  - writes go off only when no live process reads compare or new, or writes both.\n"+
			"Otherwise it says why and exits 1. --force makes the change anyway and\n"+
			"records the reasons. Every change is recorded: who, when, from, to.\n"+
			"history: lists the changes, the newest first.\n"+
			"Exit status: 0 done, 1 refused, 2 error.")
	write := fs.String("write", "", "set: the write phase (default: unchanged)")
	read := fs.String("read", "", "set: the read phase (default: unchanged)")
	force := fs.Bool("force", false, "set: change the phases even though the checks refuse; the reasons are recorded")
	fleet := fs.String("fleet", control.DefaultFleet, "the fleet (dualwrite.SharedPhases.Fleet)")
	by := fs.String("by", control.Operator(), "set: who makes the change, as recorded")
	limit := fs.Int("n", 20, "history: how many changes to list (0: all)")
	pos, code := a.parseArgs(fs, args)
	switch {
	case code != proceed:
		return code
	case len(pos) != 1 || (pos[0] != "set" && pos[0] != "history"):
		return a.usage(fs, "want set or history, got %q", strings.Join(pos, " "))
	case pos[0] == "set" && *write == "" && *read == "":
		return a.usage(fs, "set needs --write, --read or both")
	}
	a.name = "phase " + pos[0]
	t, code := a.setup(ctx, fs, &c, true)
	if code != proceed {
		return code
	}
	defer t.close()
	s := control.New(t.d)
	if pos[0] == "history" {
		ts, err := s.Transitions(ctx, t.db, *fleet, *limit)
		if err != nil {
			return a.fail(err)
		}
		printTransitions(a.stdout, *fleet, ts)
		return exitOK
	}
	cur, ok, err := s.ReadPhases(ctx, t.db, *fleet)
	if err != nil {
		return a.fail(err)
	}
	to := t.m.Phases
	if ok {
		to = cur.Phases
	}
	if *write != "" {
		if to.Write, err = mapping.ParseWritePhase(*write); err != nil {
			return a.usage(fs, "--write: %v", err)
		}
	}
	if *read != "" {
		if to.Read, err = mapping.ParseReadPhase(*read); err != nil {
			return a.usage(fs, "--read: %v", err)
		}
	}
	tr, err := s.Set(ctx, t.db, t.m, control.Change{Fleet: *fleet, To: to, By: *by, Force: *force})
	var refused *control.RefusedError
	if errors.As(err, &refused) {
		fmt.Fprintf(a.stdout, "fleet %s: %v\n", *fleet, err)
		fmt.Fprintln(a.stdout, "nothing changed: dualwrite status shows the fleet; --force changes the phases anyway")
		return exitFindings
	}
	if err != nil {
		return a.fail(err)
	}
	fmt.Fprintf(a.stdout, "fleet %s: write %s, read %s -> write %s, read %s (version %d, by %s)\n",
		*fleet, tr.From.Write, tr.From.Read, tr.To.Write, tr.To.Read, tr.Version, tr.ChangedBy)
	if tr.Forced != "" {
		fmt.Fprintf(a.stdout, "forced despite: %s\n", tr.Forced)
	}
	fmt.Fprintln(a.stdout, "every process takes the change within its refresh interval: dualwrite status shows which have")
	return exitOK
}

// printTransitions lists a fleet's transitions.
func printTransitions(w io.Writer, fleet string, ts []control.Transition) {
	if len(ts) == 0 {
		fmt.Fprintf(w, "fleet %s: no phase change recorded\n", fleet)
		return
	}
	for _, t := range ts {
		fmt.Fprintf(w, "%d  %s  %s  write %s, read %s -> write %s, read %s\n", t.Version, t.ChangedAt.Format(time.RFC3339),
			t.ChangedBy, t.From.Write, t.From.Read, t.To.Write, t.To.Read)
		if t.Forced != "" {
			fmt.Fprintf(w, "   forced despite: %s\n", t.Forced)
		}
	}
}

// printFleet prints the fleet's shared phases and its processes.
func printFleet(ctx context.Context, w io.Writer, t *target, fleet string) error {
	s := control.New(t.d)
	cur, ok, err := s.ReadPhases(ctx, t.db, fleet)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(w, "fleet %s: no shared phases (dualwrite phase set sets them)\n", fleet)
	} else {
		fmt.Fprintf(w, "fleet %s: shared phases write %s, read %s (version %d, %s by %s)\n", fleet, cur.Write, cur.Read,
			cur.Version, cur.ChangedAt.Format(time.RFC3339), cur.ChangedBy)
	}
	procs, err := s.Fleet(ctx, t.db, fleet)
	if err != nil {
		return err
	}
	digest := t.m.Digest()
	counts := map[string]int{}
	var live, stale, other int
	for _, p := range procs {
		if p.Stale {
			stale++
			continue
		}
		live++
		counts["write "+p.Write+", read "+p.Read]++
		if p.Digest != digest {
			other++
		}
	}
	fmt.Fprintf(w, "processes: %d live, %d stale, %d with another mapping\n", live, stale, other)
	for _, phases := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(w, "  %d %s %s\n", counts[phases], plural(counts[phases], "runs", "run"), phases)
	}
	for _, p := range procs {
		var notes []string
		if p.Stale {
			notes = append(notes, fmt.Sprintf("STALE: last seen %s ago", p.Age.Round(time.Second)))
		}
		if p.Digest != digest {
			notes = append(notes, "ANOTHER MAPPING (digest "+p.Digest+")")
		}
		if ok && p.PhasesVersion != cur.Version {
			notes = append(notes, fmt.Sprintf("has read version %d of the shared phases", p.PhasesVersion))
		}
		note := ""
		if len(notes) > 0 {
			note = "; " + strings.Join(notes, "; ")
		}
		fmt.Fprintf(w, "  %s pid %d (%s, version %s): write %s, read %s (%s); seen %s ago%s\n", p.Host, p.PID, p.ID, p.Version,
			p.Write, p.Read, p.DecidedBy, p.Age.Round(time.Millisecond), note)
	}
	return nil
}
