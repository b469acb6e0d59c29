package control

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/mapping"
)

// TestRefusals checks each rule against facts read from a database whose
// tables were backfilled and verified, then changed one at a time.
func TestRefusals(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		e.ensure(t)
		e.fill(t)
		for _, mt := range e.m.Tables {
			e.backfill(t, mt.Old, 1000, false)
		}
		if rep := e.verify(t); !rep.OK {
			t.Fatalf("verify after the backfill: %+v", rep)
		}
		good, err := e.s.ReadFacts(ctx, e.db, e.m, DefaultFleet)
		if err != nil {
			t.Fatal(err)
		}
		if len(good.Tables) != 2 || good.Tables[0].Verify == nil || good.Tables[1].Verify == nil || good.Digest != e.m.Digest() {
			t.Fatalf("facts: %+v", good)
		}
		users := good.Tables[0].Map.Old
		proc := func(id, write, read string) Process {
			return Process{ID: id, Host: "h", PID: 1, Digest: good.Digest, Write: write, Read: read, DecidedBy: "write: control table; read: control table"}
		}
		withProcs := func(ps ...Process) func(*Facts) {
			return func(f *Facts) { f.Processes = ps }
		}
		stale := func(p Process) Process { p.Stale = true; return p }
		users0 := func(change func(*TableFacts)) func(*Facts) {
			return func(f *Facts) {
				f.Tables = slices.Clone(f.Tables)
				v := *f.Tables[0].Verify
				f.Tables[0].Verify = &v
				change(&f.Tables[0])
			}
		}
		tests := []struct {
			name   string
			change func(*Facts)
			to     mapping.Phases
			want   []string // what each reason holds, in order; none: allowed
		}{
			{"verified, no process: read new", nil, dualNew, nil},
			{"verified, no process: write both", nil, bothNew, nil},
			{"verified: write both, read old", nil, mapping.Phases{Write: mapping.WriteBoth, Read: mapping.ReadOld}, nil},
			{"mirroring process: read compare", withProcs(proc("p1", "dual", "old")), dualComp, nil},
			{"process writing off: read compare", withProcs(proc("p1", "off", "old")), dualComp,
				[]string{"read phase compare needs every live process to mirror writes: process 1 on h (p1) writes off (write: control table; read: control table)"}},
			{"process writing off: write both", withProcs(proc("p1", "off", "old")), bothNew,
				[]string{"read phase new needs every live process to mirror writes: process 1 on h (p1) writes off"}},
			{"process writing off: write both, read old", withProcs(proc("p1", "off", "old")), mapping.Phases{Write: mapping.WriteBoth, Read: mapping.ReadOld},
				[]string{"write phase both needs every live process to mirror writes: process 1 on h (p1) writes off"}},
			{"stale process writing off: read compare", withProcs(stale(proc("p1", "off", "old"))), dualComp, nil},
			{"process with another mapping: read new", withProcs(func() Process { p := proc("p1", "dual", "old"); p.Digest = "d2"; return p }()), dualNew,
				[]string{"read phase new needs every live process to run this mapping: process 1 on h (p1) runs another (digest d2, this one " + good.Digest + ")"}},
			{"never backfilled", users0(func(tf *TableFacts) { tf.Checkpoint.Updated = time.Time{} }), dualComp,
				[]string{"read phase compare needs " + users + " backfilled and verified with no difference: it was never backfilled"}},
			{"backfilled with another mapping", users0(func(tf *TableFacts) { tf.Checkpoint.MappingChanged = true }), dualComp,
				[]string{"its backfill was made with another mapping: run dualwrite backfill --reset --table " + users}},
			{"backfill not done", users0(func(tf *TableFacts) { tf.Checkpoint.Done = false }), dualComp,
				[]string{"its backfill is not done"}},
			{"never verified", users0(func(tf *TableFacts) { tf.Verify = nil }), dualComp,
				[]string{"it was never verified"}},
			{"verified with another mapping", users0(func(tf *TableFacts) { tf.Verify.Digest = "d2" }), dualComp,
				[]string{"its last verify was made with another mapping"}},
			{"verified before the last batch", users0(func(tf *TableFacts) { tf.Checkpoint.Rows++ }), dualComp,
				[]string{"its last verify ran before its backfill's last batch"}},
			{"verify found differences", users0(func(tf *TableFacts) { tf.Verify.Differences = 2 }), dualComp,
				[]string{"found 2 differences: backfill again and verify"}},
			{"verify found a difference: write both", users0(func(tf *TableFacts) { tf.Verify.Differences = 1 }), mapping.Phases{Write: mapping.WriteBoth, Read: mapping.ReadOld},
				[]string{"write phase both needs " + users + " backfilled and verified with no difference: its last verify ("}},
			{"read new with writes off", nil, mapping.Phases{Write: mapping.WriteOff, Read: mapping.ReadNew},
				[]string{"read phase new with write phase off: the new tables do not follow the old ones while writes are not mirrored"}},
			{"write off, process reading old", withProcs(proc("p1", "dual", "old")), offOld, nil},
			{"write off, process reading compare", withProcs(proc("p1", "dual", "compare")), offOld,
				[]string{"write phase off needs every live process to read old and write old tables only: process 1 on h (p1) reads compare and writes dual"}},
			{"write off, process writing both", withProcs(proc("p1", "both", "old")), offOld,
				[]string{"write phase off needs every live process to read old and write old tables only: process 1 on h (p1) reads old and writes both"}},
			{"write off, stale process reading new", withProcs(stale(proc("p1", "both", "new"))), offOld, nil},
			// Rollbacks.
			{"reads back to old, never backfilled", users0(func(tf *TableFacts) { tf.Checkpoint.Updated = time.Time{} }), dualOld, nil},
			{"reads back to old, processes at both and new", withProcs(proc("p1", "both", "new"), proc("p2", "dual", "old")), dualOld, nil},
			{"both back to dual, processes at both and new", withProcs(proc("p1", "both", "new")), dualNew, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := good
				if tt.change != nil {
					tt.change(&f)
				}
				matchReasons(t, Refusals(f, tt.to), tt.want...)
			})
		}
		// The cases changed copies.
		if again := Refusals(good, dualNew); len(again) != 0 {
			t.Fatalf("the facts changed: %v", again)
		}
	})
}

// TestSetChecks makes the transitions of a migration through Set, each
// refused until its facts, made for real, allow it.
func TestSetChecks(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		set := func(to mapping.Phases) error {
			_, err := e.s.Set(ctx, e.db, e.m, Change{Fleet: DefaultFleet, To: to, By: "operator"})
			return err
		}
		must := func(to mapping.Phases) {
			t.Helper()
			if err := set(to); err != nil {
				t.Fatalf("to %v: %v", to, err)
			}
		}
		e.fill(t)
		must(dualOld)
		const users, members = "users backfilled and verified with no difference: ", "memberships backfilled and verified with no difference: "
		refused(t, set(dualComp), users+"it was never backfilled", members+"it was never backfilled")

		e.backfill(t, "users", 1, true)
		refused(t, set(dualComp), users+"its backfill is not done", members+"it was never backfilled")
		// A verify while the backfill runs.
		e.verify(t)
		e.backfill(t, "users", 1, false)
		e.backfill(t, "memberships", 1, false)
		refused(t, set(dualComp), users+"its last verify ran before its backfill's last batch", members+"its last verify ran before its backfill's last batch")

		if rep := e.verify(t); !rep.OK {
			t.Fatalf("verify after the backfill: %+v", rep)
		}

		// A process that does not mirror, then is stale: its record says
		// it refreshes every hour, then every 10ms.
		p := Process{ID: "p1", Fleet: DefaultFleet, Host: "h", PID: 1, Digest: e.m.Digest(), Write: "off", Read: "old", DecidedBy: "environment", Refresh: time.Hour}
		heartbeat := func(p Process) {
			t.Helper()
			if err := e.s.Heartbeat(ctx, e.db, p); err != nil {
				t.Fatal(err)
			}
		}
		heartbeat(p)
		refused(t, set(dualComp), "read phase compare needs every live process to mirror writes: process 1 on h (p1) writes off (environment)")
		p.Refresh = 10 * time.Millisecond
		heartbeat(p)
		for ps := fleet(t, e, DefaultFleet); !ps[0].Stale; ps = fleet(t, e, DefaultFleet) {
			e.waitUntil(t, ps[0].LastSeen.Add(StaleAfter(p.Refresh)).UnixMilli())
		}
		must(dualComp)

		// A difference, found by verify, then repaired.
		e.exec(t, "UPDATE accounts SET first_name = 'Augusta' WHERE account_id = 1")
		if rep := e.verify(t); rep.OK {
			t.Fatal("verify found no difference")
		}
		refused(t, set(dualNew), "found 1 difference: backfill again and verify")
		e.exec(t, "UPDATE accounts SET first_name = 'Ada' WHERE account_id = 1")
		e.verify(t)
		must(dualNew)
		must(bothNew)

		// Writes stop mirroring only once no live process reads the new
		// tables.
		q := p
		q.ID, q.Write, q.Read, q.Refresh = "p2", "both", "new", time.Hour
		heartbeat(q)
		must(dualOld)
		refused(t, set(offOld), "write phase off needs every live process to read old and write old tables only: process 1 on h (p2) reads new and writes both (environment)")
		if err := e.s.Leave(ctx, e.db, q.ID); err != nil {
			t.Fatal(err)
		}
		must(offOld)

		ts, err := e.s.Transitions(ctx, e.db, DefaultFleet, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []mapping.Phases{offOld, dualOld, bothNew, dualNew, dualComp, dualOld}
		if len(ts) != len(want) {
			t.Fatalf("transitions: %+v", ts)
		}
		for i, tr := range ts {
			if tr.To != want[i] || tr.Version != int64(len(want)-i) || tr.Forced != "" {
				t.Errorf("transition %d: %+v, want to %v", i, tr, want[i])
			}
		}

		// A row written while writes were off is in no new table: the
		// verify from before they went back to mirrored no longer counts.
		e.exec(t, "INSERT INTO users (id, full_name) VALUES (900, 'Written While Off')")
		must(dualOld)
		const resumed = "its last verify began before the fleet's writes went from off to mirrored again"
		refused(t, set(dualComp), users+resumed, members+resumed)
		if rep := e.verify(t); rep.OK {
			t.Fatal("verify found no difference after a write made while writes were off")
		}
		refused(t, set(dualComp), users+"its last verify")
		if err := backfill.Reset(ctx, e.db, e.d, e.d.Compile(e.m.Table("users")), ""); err != nil {
			t.Fatal(err)
		}
		e.backfill(t, "users", 100, false)
		e.verify(t)
		must(dualComp)
	})
}

// TestRecordVerify: a second verify of a table replaces the first.
func TestRecordVerify(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		e.ensure(t)
		first := VerifyRecord{Table: "users", Digest: "d1", Backfill: "b1", Compared: 10, Differences: 2, By: "alice"}
		other := VerifyRecord{Table: "memberships", Digest: "d3", Backfill: "b3", Compared: 5, By: "carol"}
		second := VerifyRecord{Table: "users", Digest: "d2", Backfill: "b2", Compared: 12, By: "bob"}
		for _, r := range []VerifyRecord{first, other} {
			if err := e.s.RecordVerify(ctx, e.db, r); err != nil {
				t.Fatal(err)
			}
		}
		got := verifies(t, e)
		if len(got) != 2 || !same(got["users"], first) || !same(got["memberships"], other) {
			t.Fatalf("Verifies: %+v, want %+v and %+v", got, first, other)
		}
		before := got["users"].Finished
		e.waitUntil(t, before.UnixMilli())
		if err := e.s.RecordVerify(ctx, e.db, second); err != nil {
			t.Fatal(err)
		}
		got = verifies(t, e)
		if len(got) != 2 || !same(got["users"], second) || !same(got["memberships"], other) {
			t.Fatalf("Verifies after a second verify of users: %+v, want %+v and %+v", got, second, other)
		}
		if !got["users"].Finished.After(before) {
			t.Fatalf("the second verify finished at %v, the first at %v", got["users"].Finished, before)
		}
	})
}

// verifies returns the verify records, each checked to be of its table
// and to have finished recently.
func verifies(t *testing.T, e *engine) map[string]VerifyRecord {
	t.Helper()
	vs, err := e.s.Verifies(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range vs {
		recent(t, k+" finished", v.Finished)
		if k != v.Table {
			t.Errorf("the record of %s is of %s", k, v.Table)
		}
	}
	return vs
}

// same reports whether a and b are equal but for when they finished.
func same(a, b VerifyRecord) bool {
	a.Finished = b.Finished
	return a == b
}
