package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/rewrite"
)

var controlTables = []string{PhasesTable, TransitionsTable, ProcessesTable, VerifyTable}

// TestEnsure: Ensure creates the four control tables, and a second call
// changes nothing and succeeds.
func TestEnsure(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		for _, tb := range controlTables {
			if ok, err := e.s.exists(ctx, e.db, tb); err != nil || ok {
				t.Fatalf("%s exists before Ensure: %v, %v", tb, ok, err)
			}
		}
		e.ensure(t)
		if _, _, err := e.s.ReadPhases(ctx, e.db, DefaultFleet); err != nil {
			t.Fatal(err)
		}
		ch := Change{Fleet: DefaultFleet, To: e.m.Phases, By: "first"}
		if _, err := e.s.Set(ctx, e.db, e.m, ch); err != nil {
			t.Fatal(err)
		}
		e.ensure(t)
		for _, tb := range controlTables {
			if ok, err := e.s.exists(ctx, e.db, tb); err != nil || !ok {
				t.Fatalf("%s after Ensure: exists %v, %v", tb, ok, err)
			}
		}
		// The second Ensure kept the first transition.
		if p, ok, err := e.s.ReadPhases(ctx, e.db, DefaultFleet); err != nil || !ok || p.Version != 1 {
			t.Fatalf("after a second Ensure: %+v, %v, %v; want version 1", p, ok, err)
		}
	})
}

// TestEnsureRace: two Ensure calls from separate connections at once both
// succeed. On PostgreSQL the second one is made to wait for the first,
// which creates the tables in a transaction, so that its CREATE TABLE IF
// NOT EXISTS fails on the catalog's key once the first commits: Ensure
// finds the table there and goes on.
func TestEnsureRace(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		first, second := e.open(t), e.open(t)
		if e.d.Name == rewrite.Postgres.Name {
			tx, err := first.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if err := e.s.Ensure(ctx, tx); err != nil {
				t.Fatal(err)
			}
			rec := &recorder{Querier: second}
			done := make(chan error, 1)
			go func() { done <- e.s.Ensure(ctx, rec) }()
			waitLock(t, e, done)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("the Ensure that waited: %v", err)
			}
			if len(rec.errs) == 0 {
				t.Fatal("the Ensure that waited met no error: the race did not happen")
			}
			t.Logf("the Ensure that waited met, and got past: %v", rec.errs)
		} else {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, db := range []*sql.DB{first, second} {
				wg.Go(func() { errs[i] = e.s.Ensure(ctx, db) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
		}
		for _, tb := range controlTables {
			if ok, err := e.s.exists(ctx, e.db, tb); err != nil || !ok {
				t.Fatalf("%s after Ensure: exists %v, %v", tb, ok, err)
			}
		}
	})
}

// recorder is a Querier that keeps the errors of its statements.
type recorder struct {
	Querier
	errs []error
}

func (r *recorder) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := r.Querier.ExecContext(ctx, query, args...)
	if err != nil {
		r.errs = append(r.errs, err)
	}
	return res, err
}

// waitLock returns once a session of e's PostgreSQL schema waits for a
// lock, and fails the test if done delivers first.
func waitLock(t *testing.T, e *engine, done <-chan error) {
	t.Helper()
	for {
		var n int
		if err := e.db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", e.schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("a statement was to wait for a lock; it ended: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestNoTables: before Ensure, the reads find nothing and fail not; a
// heartbeat fails with ErrNoTable.
func TestNoTables(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		ctx := context.Background()
		if p, ok, err := e.s.ReadPhases(ctx, e.db, DefaultFleet); err != nil || ok {
			t.Errorf("ReadPhases: %+v, %v, %v; want none, no error", p, ok, err)
		}
		if ts, err := e.s.Transitions(ctx, e.db, DefaultFleet, 0); err != nil || ts != nil {
			t.Errorf("Transitions: %v, %v; want none, no error", ts, err)
		}
		if ps, err := e.s.Fleet(ctx, e.db, DefaultFleet); err != nil || ps != nil {
			t.Errorf("Fleet: %v, %v; want none, no error", ps, err)
		}
		if vs, err := e.s.Verifies(ctx, e.db); err != nil || vs != nil {
			t.Errorf("Verifies: %v, %v; want none, no error", vs, err)
		}
		err := e.s.Heartbeat(ctx, e.db, Process{ID: "p", Fleet: DefaultFleet, Refresh: time.Second})
		if !errors.Is(err, ErrNoTable) {
			t.Errorf("Heartbeat: %v; want ErrNoTable", err)
		}
	})
}

// TestNow: the database's clock is near the test's, and on MySQL it does
// not depend on the session's time zone, also in the hour that a change
// from summer time repeats (with the server's time zone tables loaded).
func TestNow(t *testing.T) {
	forEach(t, func(t *testing.T, e *engine) {
		recent(t, "Now", millis(e.now(t)))
		if e.d.Name != rewrite.MySQL.Name {
			return
		}
		ctx := context.Background()
		conn, err := e.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// 2025-10-26 00:30 and 01:30 UTC: 02:30 in Paris, twice.
		for _, zone := range []string{"+05:30", "Europe/Paris"} {
			if _, err := conn.ExecContext(ctx, "SET time_zone = '"+zone+"'"); err != nil {
				if mytest.ErrorNumber(err) == 1298 { // unknown time zone
					t.Logf("time zone %s: %v; load the server's time zone tables (mariadb-tzinfo-to-sql) to check it", zone, err)
					continue
				}
				t.Fatal(err)
			}
			for _, at := range []int64{1761438600250, 1761442200250} {
				if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET timestamp = %d.%03d", at/1000, at%1000)); err != nil {
					t.Fatal(err)
				}
				if now, err := e.s.Now(ctx, conn); err != nil || now != at {
					t.Errorf("time zone %s, session timestamp %d ms: Now = %d, %v", zone, at, now, err)
				}
			}
		}
	})
}
