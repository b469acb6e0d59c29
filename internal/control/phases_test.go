package control

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dualwrite/dualwrite/mapping"
)

var (
	dualOld  = mapping.Phases{Write: mapping.WriteDual, Read: mapping.ReadOld}
	offOld   = mapping.Phases{Write: mapping.WriteOff, Read: mapping.ReadOld}
	dualNew  = mapping.Phases{Write: mapping.WriteDual, Read: mapping.ReadNew}
	bothNew  = mapping.Phases{Write: mapping.WriteBoth, Read: mapping.ReadNew}
	dualComp = mapping.Phases{Write: mapping.WriteDual, Read: mapping.ReadCompare}
)

// TestSetVersions: a fleet has no phases until the first transition, which
// sets version 1 from the mapping's phases; each later one adds one.
// Transitions lists them newest first, n of them, per fleet.
func TestSetVersions(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		const fleet = "web"
		e.ensure(t)
		if p, ok, err := e.s.ReadPhases(ctx, e.db, fleet); err != nil || ok {
			t.Fatalf("ReadPhases before any transition: %+v, %v, %v", p, ok, err)
		}
		steps := []struct {
			to mapping.Phases
			by string
		}{{dualOld, "alice"}, {offOld, "bob"}, {dualOld, "carol"}}
		var want []Transition
		from := e.m.Phases
		for i, st := range steps {
			tr, err := e.s.Set(ctx, e.db, e.m, Change{Fleet: fleet, To: st.to, By: st.by})
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			w := Transition{Version: int64(i + 1), ChangedBy: st.by, From: from, To: st.to, Digest: e.m.Digest()}
			if tr.Version != w.Version || tr.From != w.From || tr.To != w.To || tr.ChangedBy != w.ChangedBy || tr.Digest != w.Digest || tr.Forced != "" {
				t.Fatalf("step %d: Set returned %+v, want %+v", i, tr, w)
			}
			p, ok, err := e.s.ReadPhases(ctx, e.db, fleet)
			if err != nil || !ok {
				t.Fatalf("step %d: ReadPhases: %v, %v", i, ok, err)
			}
			recent(t, "ChangedAt", p.ChangedAt)
			if p.Phases != st.to || p.Version != w.Version || p.ChangedBy != st.by || p.Digest != e.m.Digest() {
				t.Fatalf("step %d: ReadPhases: %+v, want %v, version %d by %s", i, p, st.to, w.Version, st.by)
			}
			want = append([]Transition{w}, want...)
			from = st.to
		}

		all, err := e.s.Transitions(ctx, e.db, fleet, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range all {
			recent(t, "ChangedAt", all[i].ChangedAt)
			if i > 0 && all[i].ChangedAt.After(all[i-1].ChangedAt) {
				t.Errorf("transition %d changed at %v, after the next one (%v)", all[i].Version, all[i].ChangedAt, all[i-1].ChangedAt)
			}
		}
		for i := range all {
			all[i].ChangedAt = want[i].ChangedAt
		}
		if !reflect.DeepEqual(all, want) {
			t.Fatalf("Transitions:\n got %+v\nwant %+v", all, want)
		}
		two, err := e.s.Transitions(ctx, e.db, fleet, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(two) != 2 || two[0].Version != 3 || two[1].Version != 2 {
			t.Fatalf("the last 2 transitions: %+v", two)
		}
		// Another fleet has its own.
		if ts, err := e.s.Transitions(ctx, e.db, DefaultFleet, 0); err != nil || len(ts) != 0 {
			t.Fatalf("Transitions of another fleet: %v, %v", ts, err)
		}
		if p, ok, err := e.s.ReadPhases(ctx, e.db, DefaultFleet); err != nil || ok {
			t.Fatalf("ReadPhases of another fleet: %+v, %v, %v", p, ok, err)
		}
	})
}

// TestSetRefusedAndForced: a refused change records nothing; a forced one
// records the reasons.
func TestSetRefusedAndForced(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		if _, err := e.s.Set(ctx, e.db, e.m, Change{Fleet: DefaultFleet, To: dualOld, By: "alice"}); err != nil {
			t.Fatal(err)
		}
		_, err := e.s.Set(ctx, e.db, e.m, Change{Fleet: DefaultFleet, To: dualNew, By: "bob"})
		re := refused(t, err, "users backfilled and verified with no difference: it was never backfilled",
			"memberships backfilled and verified with no difference: it was never backfilled")
		if re.From != dualOld || re.To != dualNew {
			t.Errorf("refused from %v to %v, want from %v to %v", re.From, re.To, dualOld, dualNew)
		}
		if p, _, err := e.s.ReadPhases(ctx, e.db, DefaultFleet); err != nil || p.Version != 1 || p.Phases != dualOld {
			t.Fatalf("after a refused change: %+v, %v", p, err)
		}
		tr, err := e.s.Set(ctx, e.db, e.m, Change{Fleet: DefaultFleet, To: dualNew, By: "bob", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		ts, err := e.s.Transitions(ctx, e.db, DefaultFleet, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 1 || ts[0].Version != 2 || ts[0].Forced == "" || ts[0].Forced != tr.Forced || ts[0].To != dualNew {
			t.Fatalf("the forced transition: Set returned %+v, Transitions %+v", tr, ts)
		}
		matchReasons(t, []string{ts[0].Forced}, "users backfilled and verified with no difference: it was never backfilled: run dualwrite backfill; read phase new needs memberships")

		// More reasons, all recorded.
		for i := range 3 {
			p := Process{ID: fmt.Sprintf("web-%d.example.com:4242:0a1b2c3d", i), Fleet: DefaultFleet, Host: fmt.Sprintf("web-%d.example.com", i), PID: 4242,
				Digest: "another", Write: "off", Read: "old", DecidedBy: "write: environment; read: control table, capped: this process runs another mapping", Refresh: time.Hour}
			if err := e.s.Heartbeat(ctx, e.db, p); err != nil {
				t.Fatal(err)
			}
		}
		tr, err = e.s.Set(ctx, e.db, e.m, Change{Fleet: DefaultFleet, To: bothNew, By: "bob", Force: true})
		if err != nil {
			t.Fatalf("forced with %d characters of reasons: %v", len(tr.Forced), err)
		}
		if ts, err = e.s.Transitions(ctx, e.db, DefaultFleet, 1); err != nil || len(ts) != 1 || ts[0].Forced != tr.Forced || ts[0].Version != 3 {
			t.Fatalf("the forced transition: Set returned %+v, Transitions %+v, %v", tr, ts, err)
		}
	})
}

// TestWriteRace: two transitions checked against the same version race:
// the one that writes second finds the phases changed, and records
// nothing. Both the first transition of a fleet (an insert) and a later
// one (an update) are raced. The second write starts while the first one's
// transaction is open, so that on the servers it waits for its lock.
func TestWriteRace(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		e.ensure(t)
		other := e.open(t)
		for _, version := range []int64{0, 1} {
			prev, ok, err := e.s.ReadPhases(ctx, e.db, DefaultFleet)
			if err != nil || ok != (version > 0) || prev.Version != version {
				t.Fatalf("ReadPhases: %+v, %v, %v; want version %d", prev, ok, err, version)
			}
			winner := Transition{Version: version + 1, ChangedBy: "winner", From: prev.Phases, To: dualOld, Digest: e.m.Digest()}
			loser := Transition{Version: version + 1, ChangedBy: "loser", From: prev.Phases, To: offOld, Digest: e.m.Digest()}
			tx, err := e.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.s.write(ctx, tx, DefaultFleet, prev, winner); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				tx, err := other.BeginTx(ctx, nil)
				if err == nil {
					err = e.s.write(ctx, tx, DefaultFleet, prev, loser)
					err = errors.Join(err, tx.Rollback())
				}
				done <- err
			}()
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; !errors.Is(err, ErrChanged) {
				t.Fatalf("the second write from version %d: %v, want ErrChanged", version, err)
			}
		}
		ts, err := e.s.Transitions(ctx, e.db, DefaultFleet, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 2 || ts[0].Version != 2 || ts[1].Version != 1 || ts[0].ChangedBy != "winner" || ts[1].ChangedBy != "winner" {
			t.Fatalf("transitions: %+v; want versions 2 and 1, by the winners", ts)
		}
	})
}

// TestSetConcurrent: transitions made at once from separate connections
// each succeed or fail with ErrChanged;
// those that succeed are all recorded, with consecutive versions, each
// from the phases the one before set.
func TestSetConcurrent(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		e.ensure(t)
		targets := []mapping.Phases{dualOld, offOld}
		const n = 8
		var wg sync.WaitGroup
		results := make([]Transition, n)
		errs := make([]error, n)
		for i := range n {
			db := e.open(t)
			wg.Go(func() {
				results[i], errs[i] = e.s.Set(ctx, db, e.m, Change{Fleet: DefaultFleet, To: targets[i%2], By: fmt.Sprint("setter ", i)})
			})
		}
		wg.Wait()
		won := map[int64]Transition{}
		for i, err := range errs {
			switch {
			case err == nil:
				if _, dup := won[results[i].Version]; dup {
					t.Fatalf("two transitions returned version %d", results[i].Version)
				}
				won[results[i].Version] = results[i]
			case !errors.Is(err, ErrChanged):
				t.Fatalf("setter %d: %v", i, err)
			}
		}
		ts, err := e.s.Transitions(ctx, e.db, DefaultFleet, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != len(won) || len(ts) == 0 {
			t.Fatalf("%d transitions recorded, %d returned", len(ts), len(won))
		}
		from := e.m.Phases
		for i := len(ts) - 1; i >= 0; i-- {
			tr, v := ts[i], int64(len(ts)-i)
			w, ok := won[v]
			if tr.Version != v || !ok || tr.ChangedBy != w.ChangedBy || tr.From != from || tr.To != w.To {
				t.Fatalf("transition %d: %+v; returned %+v (%v), from %v", v, tr, w, ok, from)
			}
			from = tr.To
		}
		t.Logf("%d of %d transitions made", len(ts), n)
	})
}
