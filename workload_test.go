package dualwrite_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// randomWrite returns a random write on the mapped tables, in the
// backend's dialect, over a small key space so that conflicts, key
// collisions and unique violations happen.
func randomWrite(r *rand.Rand, b backend) (string, []any) {
	id := func() int { return r.IntN(40) }
	name := func() string {
		first := []string{"Ada", "Alan", "Grace", "Edsger", "", "Barbara"}[r.IntN(6)]
		last := []string{"Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", ""}[r.IntN(6)]
		return first + " " + last
	}
	email := func() any {
		if r.IntN(5) == 0 {
			return nil
		}
		return fmt.Sprintf("m%d@x", r.IntN(30))
	}
	pg, my := b.name == "postgres", b.dialect == "mysql"
	q, args := "", []any(nil)
	switch r.IntN(14) {
	case 0, 1:
		q, args = "INSERT INTO users (id, full_name, email, visits) VALUES (?, ?, ?, ?)", []any{id(), name(), email(), r.IntN(9)}
	case 2:
		if pg { // no id default on PostgreSQL
			q, args = "INSERT INTO users (id, full_name, email) VALUES (?, ?, ?), (?, ?, ?)", []any{id(), name(), email(), id(), name(), email()}
		} else {
			q, args = "INSERT INTO users (full_name, email) VALUES (?, ?), (?, ?)", []any{name(), email(), name(), email()}
		}
	case 3:
		q, args = "INSERT INTO users AS u (id, full_name, email) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET visits = u.visits + 1, email = excluded.email", []any{id(), name(), email()}
		if my { // users.email is unique too: an upsert of memberships
			q, args = "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE role = CONCAT(memberships.role, '+', VALUES(role))", []any{r.IntN(4), r.IntN(6), "up"}
		}
	case 4:
		q, args = "INSERT INTO users (id, full_name) VALUES (?, ?) ON CONFLICT DO NOTHING", []any{id(), name()}
		switch {
		case my:
			q = "INSERT IGNORE INTO users (id, full_name) VALUES (?, ?)"
		case !pg && r.IntN(2) == 0:
			q = "INSERT OR IGNORE INTO users (id, full_name) VALUES (?, ?)"
		}
	case 5:
		q, args = "UPDATE users SET visits = visits + ?, full_name = ? WHERE id BETWEEN ? AND ?", []any{r.IntN(3), name(), id(), id()}
	case 6:
		q, args = "UPDATE users SET id = id + ? WHERE id = ?", []any{r.IntN(5) - 2, id()}
	case 7:
		q, args = "DELETE FROM users WHERE id = ? OR email = ?", []any{id(), email()}
	case 8:
		q, args = "UPDATE users SET email = NULL WHERE visits > ? RETURNING id", []any{r.IntN(10)}
		if my {
			q = "UPDATE users SET email = NULL WHERE visits > ? ORDER BY id DESC LIMIT 3"
		}
	case 9:
		q, args = "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)", []any{r.IntN(4), r.IntN(6), []string{"admin", "member", "guest"}[r.IntN(3)]}
	case 10:
		q, args = "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, 'replaced') ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role", []any{r.IntN(4), r.IntN(6)}
		if my {
			q = "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, 'replaced') ON DUPLICATE KEY UPDATE role = VALUES(role)"
		}
		if !pg && r.IntN(2) == 0 {
			q = "REPLACE INTO memberships (org_id, user_id, role) VALUES (?, ?, 'replaced')"
		}
	case 11:
		q, args = "UPDATE memberships SET user_id = user_id + 1 WHERE org_id = ?", []any{r.IntN(4)}
	case 12:
		q, args = "DELETE FROM memberships WHERE role = ?", []any{[]string{"admin", "member", "guest"}[r.IntN(3)]}
	default:
		q = "UPDATE users SET full_name = (SELECT msg FROM audit WHERE audit.id = users.id) WHERE id IN (SELECT id FROM audit)"
	}
	return b.sql(q), args
}

type execer interface {
	Exec(string, ...any) (sql.Result, error)
}

// TestRandomWorkload runs hundreds of random writes and transactions (some
// rolled back, some failing on purpose) through the wrapper and, in the same
// order, through the raw driver on an identical database. Afterwards the old
// tables agree with the raw run and new = up(old) holds exactly; it is also
// checked along the way.
func TestRandomWorkload(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				wrapped, raw := b.open(t), b.open(t)
				mustExec(t, wrapped.raw, "INSERT INTO audit (id, msg) VALUES (3, 'Audit Three'), (8, 'Audit Eight')")
				mustExec(t, raw.raw, "INSERT INTO audit (id, msg) VALUES (3, 'Audit Three'), (8, 'Audit Eight')")
				r := rand.New(rand.NewPCG(seed, 99))
				failures := 0
				for i := 0; i < 400; i++ {
					if r.IntN(6) == 0 {
						failures += randomTx(t, r, b, wrapped, raw)
					} else {
						q, args := randomWrite(r, b)
						failures += same(t, q, args, wrapped.db, raw.raw)
					}
					if i%50 == 0 {
						wrapped.checkInvariant()
					}
				}
				for _, q := range oldTables {
					if g, w := rows(t, wrapped.raw, q), rows(t, raw.raw, q); !reflect.DeepEqual(g, w) {
						t.Fatalf("%s differs:\n through dualwrite: %v\n raw driver:        %v", q, g, w)
					}
				}
				wrapped.checkInvariant()
				if failures == 0 || wrapped.count("accounts") == 0 {
					t.Fatalf("the workload had %d failing statements and left %d accounts: not a useful workload", failures, wrapped.count("accounts"))
				}
			})
		}
	})
}

// same runs a statement on both databases and fails the test unless both
// succeed or both fail; it returns 1 for a failure.
func same(t *testing.T, q string, args []any, a, b execer) int {
	t.Helper()
	_, errA := a.Exec(q, args...)
	_, errB := b.Exec(q, args...)
	if (errA == nil) != (errB == nil) {
		t.Fatalf("%s %v:\n through dualwrite: %v\n raw driver:        %v", q, args, errA, errB)
	}
	if errA != nil {
		return 1
	}
	return 0
}

// randomTx runs a few random writes in a transaction on both databases
// and commits or rolls back both; it returns the failures. On PostgreSQL a
// failure aborts the transaction, and Commit then fails on both sides.
func randomTx(t *testing.T, r *rand.Rand, b backend, wrapped, raw *env) int {
	t.Helper()
	ta, err := wrapped.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := raw.raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for range 1 + r.IntN(5) {
		q, args := randomWrite(r, b)
		failures += same(t, q, args, ta, tb)
	}
	var errA, errB error
	if r.IntN(3) == 0 {
		errA, errB = ta.Rollback(), tb.Rollback()
	} else {
		errA, errB = ta.Commit(), tb.Commit()
	}
	if (errA == nil) != (errB == nil) {
		t.Fatalf("ending the transaction:\n through dualwrite: %v\n raw driver:        %v", errA, errB)
	}
	return failures
}
