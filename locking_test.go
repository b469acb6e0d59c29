package dualwrite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// lockMapping maps a job queue and account balances, the tables locking
// reads are for: jobs -> tasks (state spelled in upper case), balances ->
// wallets.
const lockMapping = `
dialect: postgres
tables:
  - old: jobs
    new: tasks
    key: [id]
    columns:
      task_id: id
      status: upper(state)
      worker: claimed_by
    reverse:
      id: task_id
      state: lower(status)
      claimed_by: worker
  - old: balances
    new: wallets
    key: [id]
    columns:
      wallet_id: id
      amount_cents: cents
    reverse:
      id: wallet_id
      cents: amount_cents
`

var lockSchema = []string{
	`CREATE TABLE jobs (id bigint PRIMARY KEY, state text NOT NULL, claimed_by int)`,
	`CREATE TABLE tasks (task_id bigint PRIMARY KEY, status text NOT NULL, worker int)`,
	`CREATE TABLE balances (id bigint PRIMARY KEY, cents bigint NOT NULL)`,
	`CREATE TABLE wallets (wallet_id bigint PRIMARY KEY, amount_cents bigint NOT NULL)`,
}

const (
	lockJobs     = 120
	lockAccounts = 6
	lockCents    = 1000
)

// openLocking opens a fresh PostgreSQL schema with the job and balance
// tables through dualwrite, in the dual write phase and the given read
// phase, with jobs and balances written through the wrapper.
func openLocking(t *testing.T, phase mapping.ReadPhase, opts ...dualwrite.Option) *env {
	t.Helper()
	e := newEnvWith(t, lockSchema, lockMapping, dbtest.Connector{DSN: pgtest.Schema(t), Base: &stdlib.Driver{}}, opts...)
	e.db.SetMaxOpenConns(16)
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	mustExec(t, e.db, fmt.Sprintf("INSERT INTO jobs (id, state) SELECT g, 'queued' FROM generate_series(1, %d) g", lockJobs))
	mustExec(t, e.db, fmt.Sprintf("INSERT INTO balances (id, cents) SELECT g, %d FROM generate_series(1, %d) g", lockCents, lockAccounts))
	if err := e.sw.SetRead(phase, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	e.checkInvariant()
	return e
}

// lockPhases runs a test in the compare and in the new read phase, with a
// registry for its counters.
func lockPhases(t *testing.T, f func(t *testing.T, phase mapping.ReadPhase, reg *prometheus.Registry)) {
	for _, phase := range []mapping.ReadPhase{mapping.ReadCompare, mapping.ReadNew} {
		t.Run(string(phase), func(t *testing.T) { f(t, phase, prometheus.NewRegistry()) })
	}
}

// checkCompared asserts that the compare phase compared locking reads
// without a mismatch or an error.
func checkCompared(t *testing.T, phase mapping.ReadPhase, reg *prometheus.Registry) {
	t.Helper()
	for _, r := range []string{"mismatch", "error"} {
		if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": r}); n != 0 {
			t.Fatalf("%v comparisons with result %s", n, r)
		}
	}
	n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "match"})
	if phase == mapping.ReadCompare && n == 0 {
		t.Fatal("no locking read was compared")
	}
	if phase == mapping.ReadNew && n != 0 {
		t.Fatalf("%v comparisons in the new phase", n)
	}
}

// TestLockingReadJobQueue: 4 workers claim jobs with SELECT ... FOR UPDATE
// SKIP LOCKED through the wrapper, and mark each claimed job done with a
// dual write in the same transaction. Every job is claimed exactly once
// (a job whose old row was not locked would be claimed twice: the claim's
// UPDATE does not check the state), none is lost, new = up(old) after the
// run, and compare finds no mismatch.
func TestLockingReadJobQueue(t *testing.T) {
	lockPhases(t, func(t *testing.T, phase mapping.ReadPhase, reg *prometheus.Registry) {
		e := openLocking(t, phase, dualwrite.WithRegisterer(reg))
		var mu sync.Mutex
		claims := map[int64][]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					done, err := claimJob(e.db, w, func(id int64) {
						mu.Lock()
						claims[id] = append(claims[id], w)
						mu.Unlock()
					})
					if err != nil {
						errs <- fmt.Errorf("worker %d: %w", w, err)
						return
					}
					if done {
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for id := int64(1); id <= lockJobs; id++ {
			if len(claims[id]) != 1 {
				t.Fatalf("job %d claimed by workers %v", id, claims[id])
			}
			var by int
			if err := e.raw.QueryRow("SELECT claimed_by FROM jobs WHERE id = $1 AND state = 'done'", id).Scan(&by); err != nil || by != claims[id][0] {
				t.Fatalf("job %d: claimed_by %d, %v; want worker %d", id, by, err, claims[id][0])
			}
		}
		e.checkInvariant()
		checkCompared(t, phase, reg)
	})
}

// claimJob claims one queued job and marks it done, in a transaction;
// done is set when no job is left.
func claimJob(db *sql.DB, worker int, claimed func(int64)) (done bool, err error) {
	tx, err := db.Begin()
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback() }()
	var id int64
	err = tx.QueryRow("SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED").Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// Counted outside the transaction: a comparison inside one at READ
		// COMMITTED may see writes committed between its two queries.
		if err := tx.Rollback(); err != nil {
			return false, err
		}
		var left int
		if err := db.QueryRow("SELECT count(*) FROM jobs WHERE state = 'queued'").Scan(&left); err != nil {
			return false, err
		}
		return left == 0, nil // the others are claimed by workers still at work
	}
	if err != nil {
		return false, err
	}
	time.Sleep(time.Millisecond) // hold the claim while others look for jobs
	if _, err := tx.Exec("UPDATE jobs SET state = 'done', claimed_by = $1 WHERE id = $2", worker, id); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	claimed(id)
	return false, nil
}

// transfers is the money-moving workload: 8 goroutines, each moving
// amounts between two accounts read with SELECT ... FOR UPDATE and written
// back as absolute values computed from what was read, so that a row read
// without its lock loses an update. ordered locks the two accounts in key
// order, as a workload that avoids deadlocks does. It returns the deadlocks
// met (each transfer that met one is rolled back and not retried) and
// checks that the total is constant and that every account holds its
// balance from before the run plus the transfers that committed.
func transfers(t *testing.T, db, raw *sql.DB, seed uint64, ordered bool) (deadlocks int) {
	t.Helper()
	start := map[int64]int64{}
	for id := int64(1); id <= lockAccounts; id++ {
		var cents int64
		if err := raw.QueryRow("SELECT cents FROM balances WHERE id = $1", id).Scan(&cents); err != nil {
			t.Fatal(err)
		}
		start[id] = cents
	}
	var mu sync.Mutex
	delta := map[int64]int64{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			n := 25
			if !ordered {
				n = 8 // each deadlock costs PostgreSQL's deadlock_timeout, 1s by default
			}
			for range n {
				a, b := rng.Int64N(lockAccounts)+1, rng.Int64N(lockAccounts-1)+1
				if b >= a {
					b++
				}
				amount := rng.Int64N(50) + 1
				err := transfer(db, a, b, amount, ordered)
				var pe *pgconn.PgError
				switch {
				case errors.As(err, &pe) && pe.Code == "40P01" && strings.Contains(pe.Where, "wallets"):
					// Only a wait for a new row, which the raw workload does not have, can put one in a cycle.
					errs <- fmt.Errorf("transfer %d -> %d: a deadlock while waiting for a new row: %w (%s)", a, b, err, pe.Where)
					return
				case sqlState(err) == "40P01":
					mu.Lock()
					deadlocks++
					mu.Unlock()
				case err != nil:
					errs <- fmt.Errorf("transfer %d -> %d: %w", a, b, err)
					return
				default:
					mu.Lock()
					delta[a] -= amount
					delta[b] += amount
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int64
	for id := int64(1); id <= lockAccounts; id++ {
		var cents int64
		if err := raw.QueryRow("SELECT cents FROM balances WHERE id = $1", id).Scan(&cents); err != nil {
			t.Fatal(err)
		}
		if want := start[id] + delta[id]; cents != want {
			t.Fatalf("account %d holds %d, want %d: an update was lost", id, cents, want)
		}
		total += cents
	}
	if total != lockAccounts*lockCents {
		t.Fatalf("total %d, want %d", total, lockAccounts*lockCents)
	}
	return deadlocks
}

// transfer moves amount from account a to account b in one transaction.
func transfer(db *sql.DB, a, b, amount int64, ordered bool) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	first, second := a, b
	if ordered && b < a {
		first, second = b, a
	}
	cents := map[int64]int64{}
	for _, id := range []int64{first, second} {
		var c int64
		if err := tx.QueryRow("SELECT cents FROM balances WHERE id = $1 FOR UPDATE", id).Scan(&c); err != nil {
			return err
		}
		cents[id] = c
	}
	time.Sleep(200 * time.Microsecond) // widen the window a lost update needs
	for id, c := range map[int64]int64{a: cents[a] - amount, b: cents[b] + amount} {
		if _, err := tx.Exec("UPDATE balances SET cents = $1 WHERE id = $2", c, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// TestLockingReadTransfers: 8 goroutines move money between accounts read
// with FOR UPDATE through the wrapper: no update is lost, the total is
// constant, new = up(old) after the run, compare finds no mismatch, and
// the wrapper adds no deadlock: with the accounts locked in key order the
// raw driver has none, and neither has the wrapper, whose locking read
// locks the old row before the new one as its dual writes do. With the
// accounts locked in any order both meet deadlocks, and none through the
// wrapper is met waiting for a new row: the cycles are the raw workload's,
// on the old rows. The counts on the same seed are logged; they differ by
// timing (the wrapper's statements hold the first lock longer before
// asking for the second), not by kind.
func TestLockingReadTransfers(t *testing.T) {
	const seed = 10
	raw := openLocking(t, mapping.ReadOld)
	rawOrdered := transfers(t, raw.raw, raw.raw, seed, true)
	rawAny := transfers(t, raw.raw, raw.raw, seed, false)
	if rawOrdered != 0 {
		t.Fatalf("the raw driver met %d deadlocks with the accounts locked in order", rawOrdered)
	}
	lockPhases(t, func(t *testing.T, phase mapping.ReadPhase, reg *prometheus.Registry) {
		e := openLocking(t, phase, dualwrite.WithRegisterer(reg))
		if n := transfers(t, e.db, e.raw, seed, true); n > rawOrdered {
			t.Fatalf("%d deadlocks through the wrapper with the accounts locked in order, %d with the raw driver", n, rawOrdered)
		}
		wrapped := transfers(t, e.db, e.raw, seed, false)
		t.Logf("seed %d, accounts locked in any order: %d deadlocks with the raw driver, %d through the wrapper (%s phase)", seed, rawAny, wrapped, phase)
		e.checkInvariant()
		checkCompared(t, phase, reg)
	})
}

// TestLockingReadHoldsLocks: in compare and new, the rows a locking read
// returns stay locked, old and new, until the caller's transaction ends:
// a dual write of the same key waits for it (FOR KEY SHARE lets an update
// of other columns through, as it does without the wrapper, and holds a
// delete), NOWAIT fails at once, SKIP LOCKED skips the row, and a
// corrupted new row is a mismatch in compare.
func TestLockingReadHoldsLocks(t *testing.T) {
	lockPhases(t, func(t *testing.T, phase mapping.ReadPhase, reg *prometheus.Registry) {
		e := openLocking(t, phase, dualwrite.WithRegisterer(reg))
		b := backend{name: "postgres"}
		for _, tc := range []struct {
			strength, write string
			blocks          bool
		}{
			{"UPDATE", "UPDATE jobs SET claimed_by = 7 WHERE id = 1", true},
			{"NO KEY UPDATE", "UPDATE jobs SET claimed_by = 7 WHERE id = 1", true},
			{"SHARE", "UPDATE jobs SET claimed_by = 7 WHERE id = 1", true},
			{"KEY SHARE", "UPDATE jobs SET claimed_by = 7 WHERE id = 1", false},
			{"KEY SHARE", "DELETE FROM jobs WHERE id = 1", true},
		} {
			tx, err := e.db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			var state string
			if err := tx.QueryRow("SELECT state FROM jobs j WHERE j.id = $1 FOR "+tc.strength+" OF j", 1).Scan(&state); err != nil || state != "queued" {
				t.Fatalf("FOR %s: %q, %v", tc.strength, state, err)
			}
			if tc.strength != "KEY SHARE" {
				// The new row is locked too: nobody can change it behind the old one.
				var n int
				err := e.raw.QueryRow("SELECT count(*) FROM (SELECT 1 FROM tasks WHERE task_id = 1 FOR UPDATE NOWAIT) x").Scan(&n)
				if sqlState(err) != "55P03" {
					t.Fatalf("FOR %s: the new row was not locked: %d, %v", tc.strength, n, err)
				}
				if sqlState(queryErr(e.db, "SELECT id FROM jobs WHERE id = 1 FOR UPDATE NOWAIT")) != "55P03" {
					t.Fatalf("FOR %s: NOWAIT did not fail on the locked row", tc.strength)
				}
				var next int64
				if err := e.db.QueryRow("SELECT id FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED").Scan(&next); err != nil || next != 2 {
					t.Fatalf("FOR %s: SKIP LOCKED returned %d, %v; want 2", tc.strength, next, err)
				}
			}
			wrote := make(chan error, 1)
			go func() {
				_, err := e.db.Exec(tc.write)
				wrote <- err
			}()
			if tc.blocks {
				waitBlocked(t, e, b)
				select {
				case err := <-wrote:
					t.Fatalf("FOR %s: %s did not wait for the lock: %v", tc.strength, tc.write, err)
				default:
				}
			} else if err := <-wrote; err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if tc.blocks {
				if err := <-wrote; err != nil {
					t.Fatal(err)
				}
			}
			e.checkInvariant()
		}
		if phase != mapping.ReadCompare {
			checkCompared(t, phase, reg)
			return
		}
		if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "not_compared"}); n != 2 {
			t.Fatalf("not compared: %v, want 2 (the FOR KEY SHARE reads)", n)
		}
		mustExec(t, e.raw, "UPDATE tasks SET status = 'LOST' WHERE task_id = 2")
		var state string
		if err := e.db.QueryRow("SELECT state FROM jobs WHERE id = $1 FOR UPDATE", 2).Scan(&state); err != nil || state != "queued" {
			t.Fatalf("compare with a corrupted new row: %q, %v; want the old row's queued", state, err)
		}
		if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "mismatch"}); n != 1 {
			t.Fatalf("mismatches = %v, want 1", n)
		}
	})
}

// queryErr runs a query and returns its error, reading and closing its rows.
func queryErr(db *sql.DB, q string) error {
	rs, err := db.QueryContext(context.Background(), q)
	if err != nil {
		return err
	}
	for rs.Next() {
	}
	return errors.Join(rs.Err(), rs.Close())
}
