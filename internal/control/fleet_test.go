package control

import (
	"context"
	"testing"
	"time"
)

// TestHeartbeat: Heartbeat writes a process's record and, on the next
// call, its new values but not when it started; Fleet lists a fleet's
// records with their age by the database's clock; Leave deletes one.
func TestHeartbeat(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		e.ensure(t)
		readAt := time.Now().Truncate(time.Millisecond)
		a := Process{ID: "host-a:7:aa", Fleet: DefaultFleet, Host: "host-a", PID: 7, Version: "v1.2.3", Digest: e.m.Digest(),
			Write: "dual", Read: "old", DecidedBy: "write: control table; read: control table", PhasesVersion: 3, PhasesReadAt: readAt,
			Refresh: time.Hour}
		b := Process{ID: "host-b:8:bb", Fleet: DefaultFleet, Host: "host-b", PID: 8, Version: "v1.2.4", Digest: "other",
			Write: "off", Read: "old", DecidedBy: "write: mapping file; read: mapping file", Refresh: time.Hour}
		c := Process{ID: "host-c:9:cc", Fleet: "other", Host: "host-c", PID: 9, Refresh: time.Hour}
		for _, p := range []Process{b, a, c} {
			if err := e.s.Heartbeat(ctx, e.db, p); err != nil {
				t.Fatal(err)
			}
		}
		ps := fleet(t, e, DefaultFleet)
		if len(ps) != 2 {
			t.Fatalf("fleet: %+v, want a and b", ps)
		}
		for i, want := range []Process{a, b} {
			got := ps[i]
			recent(t, "Started", got.Started)
			recent(t, "LastSeen", got.LastSeen)
			if got.Stale {
				t.Errorf("%s is stale %v after its heartbeat, with a refresh of an hour", got.ID, got.Age)
			}
			want.PhasesReadAt = want.PhasesReadAt.UTC()
			want.Started, want.LastSeen, want.Age = got.Started, got.LastSeen, got.Age
			if got != want {
				t.Errorf("record:\n got %+v\nwant %+v", got, want)
			}
		}

		// A second heartbeat writes the new phases and last_seen, and keeps
		// started_at.
		first := ps[0]
		e.waitUntil(t, first.LastSeen.UnixMilli())
		a.Write, a.Read, a.PhasesVersion = "both", "new", 4
		if err := e.s.Heartbeat(ctx, e.db, a); err != nil {
			t.Fatal(err)
		}
		got := fleet(t, e, DefaultFleet)[0]
		if got.Write != "both" || got.Read != "new" || got.PhasesVersion != 4 || !got.Started.Equal(first.Started) || !got.LastSeen.After(first.LastSeen) {
			t.Fatalf("after a second heartbeat: %+v; before: %+v", got, first)
		}

		if err := e.s.Leave(ctx, e.db, a.ID); err != nil {
			t.Fatal(err)
		}
		if ps := fleet(t, e, DefaultFleet); len(ps) != 1 || ps[0].ID != b.ID {
			t.Fatalf("after a left: %+v, want b only", ps)
		}
		if ps := fleet(t, e, "other"); len(ps) != 1 || ps[0].ID != c.ID {
			t.Fatalf("fleet other: %+v, want c", ps)
		}
	})
}

// fleet returns the records of fleet, and checks each one's age against
// the database's clock before and after.
func fleet(t *testing.T, e *engine, fleet string) []Process {
	t.Helper()
	before := e.now(t)
	ps, err := e.s.Fleet(context.Background(), e.db, fleet)
	if err != nil {
		t.Fatal(err)
	}
	after := e.now(t)
	for _, p := range ps {
		seen := p.LastSeen.UnixMilli()
		if lo, hi := time.Duration(before-seen)*time.Millisecond, time.Duration(after-seen)*time.Millisecond; p.Age < lo || p.Age > hi {
			t.Errorf("%s, last seen at %d: age %v, want between %v and %v", p.ID, seen, p.Age, lo, hi)
		}
		if p.Stale != (p.Age > StaleAfter(p.Refresh)) {
			t.Errorf("%s: stale %v at age %v, refresh %v", p.ID, p.Stale, p.Age, p.Refresh)
		}
	}
	return ps
}

// TestStaleAndAgedOut: a record not written for StaleAfter is stale, and
// once AgedOutAfter has passed the next heartbeat of its fleet deletes it;
// another fleet's records stay.
func TestStaleAndAgedOut(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		e.ensure(t)
		const refresh = 10 * time.Millisecond
		live := Process{ID: "live", Fleet: DefaultFleet, Host: "a", Refresh: time.Hour}
		gone := Process{ID: "gone", Fleet: DefaultFleet, Host: "b", Refresh: refresh}
		away := Process{ID: "away", Fleet: "other", Host: "c", Refresh: refresh}
		for _, p := range []Process{live, gone, away} {
			if err := e.s.Heartbeat(ctx, e.db, p); err != nil {
				t.Fatal(err)
			}
		}
		ps := fleet(t, e, DefaultFleet)
		if len(ps) != 2 || ps[1].ID != gone.ID {
			t.Fatalf("fleet: %+v", ps)
		}
		seen := ps[1].LastSeen.UnixMilli()

		e.waitUntil(t, seen+StaleAfter(refresh).Milliseconds())
		ps = fleet(t, e, DefaultFleet)
		if len(ps) != 2 || ps[0].Stale || !ps[1].Stale {
			t.Fatalf("after %v: %+v; want %s not stale and %s stale", StaleAfter(refresh), ps, live.ID, gone.ID)
		}

		// A heartbeat deletes the records that aged out when it ran: those
		// that had by the clock before it, not those that had not after.
		for {
			before := e.now(t)
			if err := e.s.Heartbeat(ctx, e.db, live); err != nil {
				t.Fatal(err)
			}
			after := e.now(t)
			ps = fleet(t, e, DefaultFleet)
			age := AgedOutAfter(refresh).Milliseconds()
			if before-seen > age && len(ps) != 1 {
				t.Fatalf("%d ms after its last heartbeat: %+v; want %s deleted", before-seen, ps, gone.ID)
			}
			if after-seen < age && len(ps) != 2 {
				t.Fatalf("%d ms after its last heartbeat: %+v; want %s kept", after-seen, ps, gone.ID)
			}
			if len(ps) == 1 {
				break
			}
			time.Sleep(AgedOutAfter(refresh) / 4)
		}
		if ps := fleet(t, e, "other"); len(ps) != 1 || ps[0].ID != away.ID || !ps[0].Stale {
			t.Fatalf("fleet other: %+v; want %s, stale, kept", ps, away.ID)
		}
	})
}
