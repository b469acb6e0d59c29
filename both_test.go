package dualwrite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

// openBoth is open in the write phase both.
func (b backend) openBoth(t testing.TB, opts ...dualwrite.Option) *env {
	t.Helper()
	e := b.open(t, opts...)
	if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
		t.Fatal(err)
	}
	return e
}

// checkDown asserts old = down(new) row by row for every mapped table: the
// invariant after writes to the new tables in the write phase both.
func (e *env) checkDown() {
	e.t.Helper()
	dbtest.Invariant(e.t, e.raw, rewrite.DialectByName(e.m.Dialect), e.m.Flip())
}

var newTables = []string{
	"SELECT * FROM accounts ORDER BY account_id",
	"SELECT * FROM members ORDER BY org, usr",
	"SELECT * FROM audit ORDER BY id",
}

// TestReverseWriteForms is TestWriteForms on the new tables in the write
// phase both: every supported write form on accounts and members, through
// the wrapper and through the raw driver on an identical database. The
// caller must see the same results and errors, the new tables the same
// rows, and after each statement old = down(new). The rows the steps write
// round-trip (down(up(old)) = old), so that new = up(old) holds too, also
// after the writes to users between them, which are mirrored forward (the
// raw driver runs their equivalent on the new tables instead). A
// write whose mirror fails (down gives NULL for a NOT NULL column) fails,
// and neither table changes.
func TestReverseWriteForms(t *testing.T) {
	steps := []writeStep{
		{query: "INSERT INTO audit (id, msg) VALUES (1, 'Lovelace'), (2, 'Turing'), (50, 'Hopper')"},
		{query: "INSERT INTO accounts (account_id, email_address, first_name, last_name, visits) VALUES (?, ?, ?, ?, ?)", args: []any{1, "ada@x", "Ada", "Lovelace", 3}},
		{query: "INSERT INTO accounts (email_address, first_name, last_name) VALUES (?, ?, ?)", args: []any{"alan@x", "Alan", "Turing"}, only: "sqlite,postgres"}, // PostgreSQL: no key default, an error on both
		{query: "INSERT INTO accounts (email_address, first_name, last_name) VALUES (?, ?, ?)", args: []any{"alan@x", "Alan", "Turing"}, refused: true, only: "mysql"},
		{query: "INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (2, 'alan@x', 'Alan', 'Turing')", only: "postgres,mysql"},
		{query: "INSERT INTO accounts (account_id, email_address, first_name, last_name, visits) VALUES (3, 'ewd@x', 'Edsger', 'Dijkstra', 1), (4, 'bl@x', 'Barbara', 'Liskov', 2), (5, NULL, 'Donald', 'Knuth', 0)"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name) SELECT id + 100, 'Grace', msg FROM audit WHERE id < 10", only: "sqlite,postgres,mariadb"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name) SELECT id + 100, 'Grace', msg FROM audit WHERE id < 10", refused: true, only: "mariadb-noreturning"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name) VALUES (101, 'Grace', 'Lovelace'), (102, 'Grace', 'Turing')", only: "mariadb-noreturning"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name, visits) VALUES (1, 'Ada', 'King', 1) ON CONFLICT (account_id) DO UPDATE SET visits = visits + excluded.visits, last_name = excluded.last_name", only: "sqlite"},
		{query: "INSERT INTO accounts AS a (account_id, first_name, last_name, visits) VALUES (1, 'Ada', 'King', 1) ON CONFLICT (account_id) DO UPDATE SET visits = a.visits + excluded.visits, last_name = excluded.last_name", only: "postgres"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name) VALUES (2, 'No', 'Body') ON CONFLICT DO NOTHING", only: "sqlite,postgres"},
		{query: "INSERT IGNORE INTO accounts (account_id, first_name, last_name) VALUES (2, 'No', 'Body'), (20, 'Some', 'Body')", only: "mysql"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name, visits) VALUES (1, 'Ada', 'King', 1) ON DUPLICATE KEY UPDATE visits = visits + VALUES(visits)", refused: true, only: "mysql"}, // accounts.email_address is unique too
		{query: "INSERT OR IGNORE INTO accounts (account_id, first_name, last_name) VALUES (2, 'No', 'Body'), (20, 'Some', 'Body')", only: "sqlite"},
		{query: "UPDATE accounts SET visits = visits * 2 + 1 WHERE account_id > ?", args: []any{1}},
		{query: "UPDATE accounts SET last_name = audit.msg || 'son' FROM audit WHERE audit.id = accounts.account_id", only: "sqlite,postgres"},
		{query: "UPDATE accounts SET last_name = CONCAT(last_name, 'son') WHERE account_id IN (SELECT id FROM audit) ORDER BY account_id LIMIT 5", only: "mysql"},
		{query: "UPDATE accounts SET first_name = 'Rear' FROM audit WHERE audit.id + 100 = accounts.account_id RETURNING accounts.account_id, first_name", query2: true, only: "postgres"},
		{query: "UPDATE accounts AS a SET email_address = 'a' || a.account_id || '@x' WHERE a.email_address IS NULL", only: "sqlite,postgres"},
		{query: "UPDATE accounts AS a SET a.email_address = CONCAT('a', a.account_id, '@x') WHERE a.email_address IS NULL", only: "mysql"},
		{query: "UPDATE users SET visits = visits + 10 WHERE id = 1", twin: "UPDATE accounts SET visits = visits + 10 WHERE account_id = 1"}, // forward, in the same phase
		{query: "DELETE FROM accounts WHERE account_id = ?", args: []any{20}},
		{query: "DELETE FROM accounts USING audit WHERE accounts.account_id = audit.id + 100 AND audit.id = 50", only: "postgres"},
		{query: "INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (6, 'ken@x', 'Ken', 'Thompson') RETURNING account_id, first_name, visits", query2: true, only: "sqlite,postgres,mariadb"},
		{query: "INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (6, 'ken@x', 'Ken', 'Thompson')", only: "mariadb-noreturning"},
		{query: "UPDATE accounts SET visits = visits + 1 WHERE account_id IN (1, 2) RETURNING *", query2: true, only: "sqlite,postgres"},
		{query: "UPDATE accounts SET visits = visits + 1 WHERE account_id IN (1, 2) RETURNING *", query2: true, refused: true, only: "mysql"}, // no UPDATE ... RETURNING
		{query: "DELETE FROM accounts WHERE account_id = 101 RETURNING email_address", query2: true},
		{query: "WITH x(i, f, l) AS (SELECT 7, 'With', 'Clause') INSERT INTO accounts (account_id, first_name, last_name) SELECT i, f, l FROM x", only: "sqlite,postgres"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name) VALUES (7, 'With', 'Clause')", only: "mysql"},
		{query: "WITH gone AS (SELECT id FROM audit WHERE id = 50) DELETE FROM accounts WHERE account_id IN (SELECT id + 100 FROM gone)", only: "sqlite,postgres"},
		{query: "DELETE FROM accounts WHERE account_id IN (SELECT id + 100 FROM audit WHERE id = 50)", only: "mysql"},
		{query: "UPDATE accounts SET account_id = account_id + 1000 WHERE account_id = ?", args: []any{7}},
		{query: "UPDATE accounts SET account_id = CASE account_id WHEN 1 THEN 2 ELSE 1 END, visits = 9 WHERE account_id IN (1, 2)"}, // PostgreSQL checks keys row by row: an error on both
		{query: "UPDATE accounts SET account_id = account_id + 1"},                                                                  // a collision midway on PostgreSQL: an error on both
		{query: "UPDATE accounts SET account_id = account_id + 500 WHERE first_name = ? RETURNING account_id, last_name", args: []any{"Ken"}, query2: true, only: "sqlite,postgres"},
		{query: "UPDATE accounts SET account_id = account_id + 500 WHERE first_name = ?", args: []any{"Ken"}, only: "mysql"},
		{query: "INSERT INTO users (id, full_name, email) VALUES (30, 'Forward Write', 'fw@x')", twin: "INSERT INTO accounts (account_id, first_name, last_name, email_address) VALUES (30, 'Forward', 'Write', 'fw@x')"},
		{query: "INSERT INTO members VALUES (1, 1, 'ADMIN'), (1, 2, 'MEMBER'), (2, 1, 'MEMBER')"},
		{query: "INSERT OR REPLACE INTO members VALUES (1, 2, 'OWNER')", only: "sqlite"},
		{query: "INSERT INTO members VALUES (1, 2, 'OWNER') ON CONFLICT ON CONSTRAINT members_pkey DO UPDATE SET role_name = excluded.role_name", only: "postgres"},
		{query: "REPLACE INTO members (org, usr, role_name) VALUES (1, 2, 'OWNER')", only: "mysql"},
		{query: "INSERT INTO members (org, usr, role_name) VALUES (1, 1, 'BOSS') ON DUPLICATE KEY UPDATE role_name = VALUES(role_name)", only: "mysql"},
		{query: "INSERT INTO members (org, usr, role_name) VALUES (3, 3, 'GUEST')"},
		{query: "UPDATE members SET usr = usr + 10 WHERE org = 1"},
		{query: "UPDATE members SET usr = usr + 10 RETURNING *", query2: true, only: "sqlite,postgres"},
		{query: "DELETE FROM members WHERE role_name = 'GUEST' RETURNING org, usr", query2: true},
		{query: "INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (400, 'ada@x', 'Dup', 'Email')"},                 // unique violation: an error on both
		{query: "UPDATE accounts SET account_id = 2 WHERE account_id = 1001"},                                                                    // key collision: an error on both (when 2 exists)
		{query: "REPLACE INTO accounts (account_id, email_address, first_name, last_name) VALUES (5, 'alan@x', 'Re', 'Placed')", only: "sqlite"}, // deletes the row of alan@x
		{query: "INSERT INTO accounts (account_id, first_name, last_name) VALUES (1, 'x', 'y') ON CONFLICT (account_id) DO UPDATE SET account_id = 77", refused: true},
		{query: "INSERT INTO accounts (account_id, first_name) VALUES (600, 'a'); INSERT INTO accounts (account_id, first_name) VALUES (601, 'b')", refused: true},
		{query: "DROP TABLE accounts", refused: true},
		{query: "INSERT INTO accounts (account_id) VALUES (700)", mirrorFails: true}, // down gives full_name NULL, and users.full_name is NOT NULL
		{query: "INSERT INTO audit (msg) SELECT first_name FROM accounts"},
		{query: "DELETE FROM accounts"},
	}
	forBackends(t, func(t *testing.T, b backend) {
		wrapped, raw := b.openBoth(t), b.open(t)
		for _, s := range steps {
			if !b.runs(s.only) {
				continue
			}
			s.query = b.sql(s.query)
			got, err := run(t, wrapped.db, s)
			switch {
			case s.refused:
				if !errors.Is(err, dualwrite.ErrUnsupported) {
					t.Fatalf("%s: got %v, want ErrUnsupported", s.query, err)
				}
			case s.mirrorFails:
				if err == nil {
					t.Fatalf("%s: no error, want the mirror's", s.query)
				}
			default:
				twin := s
				if s.twin != "" {
					twin.query = b.sql(s.twin)
				}
				want, rawErr := run(t, raw.raw, twin)
				if b.name == "sqlite" && !plainInsert(s.query) || s.twin != "" {
					// As in TestWriteForms; a twin writes another table,
					// whose ids MySQL does not generate.
					got.LastInsertID, want.LastInsertID = 0, 0
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s:\n through dualwrite: %+v (%v)\n raw driver:        %+v (%v)", s.query, got, err, want, rawErr)
				}
				if c := sqlState(rawErr); c != sqlState(err) {
					t.Fatalf("%s: error %v, want SQLSTATE %s as the raw driver gives", s.query, err, c)
				}
			}
			for _, q := range newTables {
				if g, w := rows(t, wrapped.raw, q), rows(t, raw.raw, q); !reflect.DeepEqual(g, w) {
					t.Fatalf("after %s: %s differs:\n through dualwrite: %v\n raw driver:        %v", s.query, q, g, w)
				}
			}
			wrapped.checkDown()
			wrapped.checkInvariant()
		}
		if n := wrapped.count("users"); n != 0 {
			t.Fatalf("users has %d rows after DELETE FROM accounts", n)
		}
	})
}

// randomNewWrite is randomWrite for the new release: a random write on the
// new tables, over the same small key space.
func randomNewWrite(r *rand.Rand, b backend) (string, []any) {
	id := func() int { return r.IntN(40) }
	first := func() string { return []string{"Ada", "Alan", "Grace", "Edsger", "Barbara"}[r.IntN(5)] }
	last := func() string { return []string{"Lovelace", "Turing", "Hopper", "", " Dijkstra", "Liskov"}[r.IntN(6)] }
	email := func() any {
		if r.IntN(5) == 0 {
			return nil
		}
		return fmt.Sprintf("m%d@x", r.IntN(30))
	}
	my := b.dialect == "mysql"
	q, args := "", []any(nil)
	switch r.IntN(10) {
	case 0, 1:
		q, args = "INSERT INTO accounts (account_id, email_address, first_name, last_name, visits) VALUES (?, ?, ?, ?, ?)", []any{id(), email(), first(), last(), r.IntN(9)}
	case 2:
		q, args = "INSERT INTO accounts AS a (account_id, first_name, last_name) VALUES (?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET visits = a.visits + 1, last_name = excluded.last_name", []any{id(), first(), last()}
		if my { // accounts.email_address is unique too
			q = "INSERT IGNORE INTO accounts (account_id, first_name, last_name) VALUES (?, ?, ?)"
		}
	case 3:
		q, args = "UPDATE accounts SET visits = visits + ?, first_name = ? WHERE account_id BETWEEN ? AND ?", []any{r.IntN(3), first(), id(), id()}
	case 4:
		q, args = "UPDATE accounts SET account_id = account_id + ? WHERE account_id = ?", []any{r.IntN(5) - 2, id()}
	case 5:
		q, args = "DELETE FROM accounts WHERE account_id = ? OR email_address = ?", []any{id(), email()}
	case 6:
		q, args = "UPDATE accounts SET email_address = NULL WHERE visits > ? RETURNING account_id", []any{r.IntN(10)}
		if my {
			q = "UPDATE accounts SET email_address = NULL WHERE visits > ? ORDER BY account_id LIMIT 2"
		}
	case 7:
		q, args = "INSERT INTO members (org, usr, role_name) VALUES (?, ?, ?) ON CONFLICT (org, usr) DO UPDATE SET role_name = excluded.role_name", []any{r.IntN(4), r.IntN(6), []string{"ADMIN", "MEMBER", "Guest"}[r.IntN(3)]}
		if my {
			q = "INSERT INTO members (org, usr, role_name) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE role_name = VALUES(role_name)"
		}
	case 8:
		q, args = "UPDATE members SET usr = usr + 1 WHERE org = ?", []any{r.IntN(4)}
	default:
		q, args = "DELETE FROM members WHERE role_name = ?", []any{[]string{"ADMIN", "MEMBER", "Guest"}[r.IntN(3)]}
	}
	return b.sql(q), args
}

// release runs random writes (one of write's) and reads (of read) on db
// until ctx is done, one statement at a time or a few in a transaction,
// some of which it rolls back. It returns the first error that is not a
// statement losing a race with another writer (a deadlock, a unique
// violation), and counts the deadlocks.
func release(ctx context.Context, db *sql.DB, seed uint64, write func(*rand.Rand) (string, []any), read string, deadlocks *atomic.Int64) (writes int, err error) {
	r := rand.New(rand.NewPCG(seed, seed))
	for ctx.Err() == nil {
		switch r.IntN(10) {
		case 0:
			rs, err := db.Query(read)
			if err == nil {
				for rs.Next() {
				}
				err = errors.Join(rs.Err(), rs.Close())
			}
			if err != nil {
				return writes, err
			}
		case 1:
			tx, err := db.Begin()
			if err != nil {
				return writes, err
			}
			for range 1 + r.IntN(3) {
				q, args := write(r)
				if _, err = tx.Exec(q, args...); err != nil {
					break
				}
			}
			if sqlState(err) == "40P01" {
				deadlocks.Add(1)
			}
			if err != nil || r.IntN(2) == 0 {
				_ = tx.Rollback()
			} else {
				err = tx.Commit()
				writes++
			}
			if err != nil && !raceLost(err) {
				return writes, err
			}
		default:
			q, args := write(r)
			_, err := db.Exec(q, args...)
			if sqlState(err) == "40P01" {
				deadlocks.Add(1)
			}
			if err != nil && !raceLost(err) {
				return writes, fmt.Errorf("%s %v: %w", q, args, err)
			}
			writes++
		}
	}
	return writes, nil
}

// differing returns the keys verify finds different between the tables of
// each pair of m, as text, by pair.
func differing(t *testing.T, e *env, m *mapping.Mapping) map[string]map[string]bool {
	t.Helper()
	rep, err := verify.Run(context.Background(), e.raw, rewrite.DialectByName(e.m.Dialect), m, verify.Options{SampleSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for i, tr := range rep.Tables {
		keys := map[string]bool{}
		for _, list := range [][]verify.Sample{tr.Samples.Mismatched, tr.Samples.MissingInNew, tr.Samples.ExtraInNew} {
			for _, s := range list {
				var k []string
				for _, col := range m.Tables[i].Key {
					k = append(k, fmt.Sprint(s.Key[col]))
				}
				keys[strings.Join(k, ",")] = true
			}
		}
		out[e.m.Tables[i].Old] = keys
	}
	return out
}

// TestRollingDeploy: an old release (writes and reads of users and
// memberships) and a new release (of accounts and members) run side by
// side through dualwrite in the write phase both, with random writes and
// transactions, some rolled back, on a small key space. Some of the
// values either side writes do not round-trip (a name with a leading
// space), so the two allowed states of a key are told apart: afterwards
// every key must be in one of them, new = up(old) (last written on the old
// side) or old = down(new) (last written on the new side), as verify in
// each direction finds: no key differs in both. A state crossed between two
// transactions fails both.
func TestRollingDeploy(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				if b.dialect == "mysql" {
					// The new release writes key 0, which the mirror can
					// write into users.id (AUTO_INCREMENT) only so.
					b.dsn = func(t testing.TB) string {
						return mytest.WithParams(mytest.Database(t), "sql_mode", "'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO'")
					}
				}
				e := b.openBoth(t)
				e.db.SetMaxOpenConns(8)
				// One row that does not round-trip from each release.
				mustExec(t, e.db, b.sql("INSERT INTO users (id, full_name) VALUES (60, ' Old Release')"))
				mustExec(t, e.db, b.sql("INSERT INTO accounts (account_id, first_name, last_name) VALUES (61, 'New', 'Release ')"))
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				var wg sync.WaitGroup
				var writes [6]int
				var deadlocks atomic.Int64
				errs := make([]error, 6)
				for w := range 6 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s := seed*100 + uint64(w)
						if w%2 == 0 {
							writes[w], errs[w] = release(ctx, e.db, s, func(r *rand.Rand) (string, []any) { return randomWrite(r, b) }, "SELECT * FROM users ORDER BY id", &deadlocks)
						} else {
							writes[w], errs[w] = release(ctx, e.db, s, func(r *rand.Rand) (string, []any) { return randomNewWrite(r, b) }, "SELECT * FROM accounts ORDER BY account_id", &deadlocks)
						}
					}()
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
				up, down := differing(t, e, e.m), differing(t, e, e.m.Flip())
				// The rows of the two writes before the workload, out of
				// its key space, are in one state each: the check tells
				// the two states apart.
				if !up["users"]["61"] || down["users"]["61"] || !down["users"]["60"] || up["users"]["60"] {
					t.Fatalf("keys 60 and 61: forward differences %v, reverse %v; want 60 only in the reverse and 61 only in the forward", up["users"], down["users"])
				}
				rows, oneWay := 0, 0
				for table, keys := range up {
					for k := range keys {
						if down[table][k] {
							t.Errorf("%s key %s: new != up(old) and old != down(new)", table, k)
						}
					}
					oneWay += len(keys) + len(down[table])
				}
				rows = e.count("users") + e.count("memberships")
				if slices.Max(writes[:]) == 0 {
					t.Fatalf("writes per release goroutine: %v: not a useful workload", writes)
				}
				t.Logf("writes per release goroutine (old, new, ...): %v; %d deadlocks; %d rows, %d keys agree one way only", writes, deadlocks.Load(), rows, oneWay)
			})
		}
	})
}

// TestRollbackAfterCutOver: after the new release has written rows in the
// write phase both, the old release is deployed again (the write phase
// back to dual): its reads and writes of the rows the new release wrote
// behave as if it had written them itself, as on a raw database where it
// did.
func TestRollbackAfterCutOver(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e, twin := b.openBoth(t), b.open(t)
		for _, s := range []struct{ newRelease, oldRelease string }{
			{"INSERT INTO accounts (account_id, email_address, first_name, last_name, visits) VALUES (1, 'ada@x', 'Ada', 'Lovelace', 3), (2, NULL, 'Alan', 'Turing', 0)",
				"INSERT INTO users (id, email, full_name, visits) VALUES (1, 'ada@x', 'Ada Lovelace', 3), (2, NULL, 'Alan Turing', 0)"},
			{"UPDATE accounts SET last_name = 'King', visits = visits + 1 WHERE account_id = 1",
				"UPDATE users SET full_name = 'Ada King', visits = visits + 1 WHERE id = 1"},
			{"UPDATE accounts SET account_id = 7 WHERE account_id = 2", "UPDATE users SET id = 7 WHERE id = 2"},
			{"INSERT INTO members (org, usr, role_name) VALUES (1, 1, 'ADMIN'), (1, 7, 'MEMBER')",
				"INSERT INTO memberships (org_id, user_id, role) VALUES (1, 1, 'admin'), (1, 7, 'member')"},
		} {
			mustExec(t, e.db, s.newRelease)
			mustExec(t, twin.raw, s.oldRelease)
		}
		if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
			t.Fatal(err)
		}
		for _, s := range []writeStep{
			{query: "SELECT * FROM users ORDER BY id", query2: true},
			{query: "SELECT u.full_name, m.role FROM users u JOIN memberships m ON m.user_id = u.id ORDER BY u.id", query2: true},
			{query: "UPDATE users SET visits = visits + 1 WHERE full_name = 'Ada King' RETURNING id, visits", query2: true},
			{query: "UPDATE memberships SET role = 'owner' WHERE user_id = 7"},
			{query: "UPDATE users SET id = 8 WHERE id = 7"},
			{query: "DELETE FROM users WHERE email = 'ada@x'"},
			{query: "SELECT * FROM users ORDER BY id", query2: true},
			{query: "SELECT * FROM memberships ORDER BY org_id, user_id", query2: true},
		} {
			s.query = b.sql(s.query)
			got, err := run(t, e.db, s)
			want, twinErr := run(t, twin.raw, s)
			got.LastInsertID, want.LastInsertID = 0, 0 // no INSERT: the connection's last one
			if !reflect.DeepEqual(got, want) || (err == nil) != (twinErr == nil) {
				t.Fatalf("%s:\n after the rollback: %+v (%v)\n written by the old release itself: %+v (%v)", s.query, got, err, want, twinErr)
			}
		}
		e.checkInvariant()
	})
}

// TestReversePreparedAndTx: a statement on a new table prepared once
// follows the write phase at each execution (mirrored back in both,
// refused in dual); inside a caller's transaction, reverse dual writes
// roll back with it, and one rolled back to a savepoint leaves neither
// table changed.
func TestReversePreparedAndTx(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.openBoth(t)
		mustExec(t, e.db, b.sql("INSERT INTO accounts (account_id, first_name, last_name) VALUES (1, 'Ada', 'Lovelace'), (2, 'Alan', 'Turing')"))
		st, err := e.db.Prepare(b.sql("UPDATE accounts SET visits = visits + ? WHERE account_id = ?"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.Exec(5, 1); err != nil {
			t.Fatal(err)
		}
		e.checkDown()
		if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Exec(5, 1); !errors.Is(err, dualwrite.ErrUnsupported) {
			t.Fatalf("in dual: %v, want ErrUnsupported", err)
		}
		if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
			t.Fatal(err)
		}

		tx, err := e.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, b.sql("UPDATE accounts SET last_name = 'King' WHERE account_id = 1"))
		mustExec(t, tx, "SAVEPOINT s")
		mustExec(t, tx, b.sql("DELETE FROM accounts WHERE account_id = 2"))
		mustExec(t, tx, b.sql("UPDATE accounts SET account_id = 20 WHERE account_id = 1"))
		mustExec(t, tx, "ROLLBACK TO SAVEPOINT s")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		e.checkDown()
		got := rows(t, e.raw, "SELECT id, full_name, visits FROM users ORDER BY id")
		if want := [][]any{{int64(1), "Ada King", int64(5)}, {int64(2), "Alan Turing", int64(0)}}; !reflect.DeepEqual(got, want) {
			t.Fatalf("users = %v, want %v", got, want)
		}

		tx, err = e.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, b.sql("DELETE FROM accounts"))
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if n := e.count("users"); n != 2 {
			t.Fatalf("users has %d rows after a rolled back DELETE FROM accounts, want 2", n)
		}
		e.checkDown()
	})
}

// TestRoundTripWarning: the first write in the write phase both logs, once,
// the rows among the first of each old table that do not survive a round
// trip, naming their keys; the write itself runs.
func TestRoundTripWarning(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		var logs dbtest.SyncBuffer
		e := b.open(t, dualwrite.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
		mustExec(t, e.db, b.sql("INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing '), (3, 'Grace Hopper')"))
		mustExec(t, e.db, b.sql("UPDATE users SET visits = 1 WHERE id = 1"))
		if got := logs.String(); got != "" {
			t.Fatalf("logged in the dual phase: %s", got)
		}
		if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
			t.Fatal(err)
		}
		mustExec(t, e.db, b.sql("UPDATE accounts SET visits = 2 WHERE account_id = 3"))
		mustExec(t, e.db, b.sql("UPDATE accounts SET visits = 3 WHERE account_id = 3"))
		got := logs.String()
		if strings.Count(got, "do not survive a round trip") != 1 || !strings.Contains(got, "table=users") ||
			!strings.Contains(got, "rows_changing=1") || !strings.Contains(got, "map[id:2]") {
			t.Fatalf("logged %q, want one warning naming users key 2", got)
		}
		e.checkInvariant() // key 2 last written on users, which does not round-trip: new = up(old) only
	})
}

// TestNewReleaseShadowReads: the new release's queries of the new tables
// run as written, and in the read phase compare are also compared with the
// same query over up(old), the mirror image of the old release's
// comparisons: a match, then, after a users row is changed behind the
// wrapper's back, a mismatch counted for accounts, while the caller gets
// the accounts rows. In the other read phases they are not compared.
func TestNewReleaseShadowReads(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		reg := prometheus.NewRegistry()
		e := b.openBoth(t, dualwrite.WithRegisterer(reg), dualwrite.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		mustExec(t, e.db, b.sql("INSERT INTO accounts (account_id, first_name, last_name, visits) VALUES (1, 'Ada', 'Lovelace', 3), (2, 'Alan', 'Turing', 5)"))
		q := b.sql("SELECT account_id, first_name, last_name, visits FROM accounts WHERE visits > ? ORDER BY account_id")
		want := [][]any{{int64(1), "Ada", "Lovelace", int64(3)}, {int64(2), "Alan", "Turing", int64(5)}}
		compared := func(result string) float64 {
			return counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"table": "accounts", "result": result})
		}
		read := func() {
			t.Helper()
			if got := rows(t, e.db, q, 0); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s = %v, want %v", q, got, want)
			}
		}
		if err := e.sw.SetRead(mapping.ReadCompare, mapping.WriteBoth); err != nil {
			t.Fatal(err)
		}
		read()
		if m, mm := compared("match"), compared("mismatch"); m != 1 || mm != 0 {
			t.Fatalf("compare: %v matches, %v mismatches; want 1 and 0", m, mm)
		}
		mustExec(t, e.raw, "UPDATE users SET visits = 30 WHERE id = 1") // behind the wrapper's back
		read()
		if mm := compared("mismatch"); mm != 1 {
			t.Fatalf("compare after users changed: %v mismatches, want 1", mm)
		}
		for _, phase := range []mapping.ReadPhase{mapping.ReadNew, mapping.ReadOld} {
			if err := e.sw.SetRead(phase, mapping.WriteBoth); err != nil {
				t.Fatal(err)
			}
			read()
		}
		if n := compared("match") + compared("mismatch"); n != 2 {
			t.Fatalf("%v comparisons after the new and old read phases, want still 2", n)
		}
	})
}

// TestReverseReplaceWithoutSchemaCheck: without the schema check the
// wrapper knows nothing of the tables' unique constraints, so REPLACE is
// refused on every mapped table, the new ones too in the write phase both:
// a REPLACE on accounts may delete a row by another unique key, which the
// mirror back into users would not see. Nothing runs.
func TestReverseReplaceWithoutSchemaCheck(t *testing.T) {
	e := newEnv(t, dualwrite.WithoutSchemaCheck())
	if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
		t.Fatal(err)
	}
	mustExec(t, e.db, "INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (1, 'a@x', 'Ada', 'Lovelace'), (2, 'b@x', 'Alan', 'Turing')")
	for _, q := range []string{
		"REPLACE INTO accounts (account_id, email_address, first_name, last_name) VALUES (3, 'a@x', 'Grace', 'Hopper')",
		"INSERT OR REPLACE INTO users (id, full_name, email) VALUES (4, 'Alan Turing', 'b@x')",
	} {
		if _, err := e.db.Exec(q); !errors.Is(err, dualwrite.ErrUnsupported) {
			t.Fatalf("%s: %v, want ErrUnsupported", q, err)
		}
	}
	if n := e.count("accounts"); n != 2 {
		t.Fatalf("accounts has %d rows after refused statements, want 2", n)
	}
	e.checkDown()
}
