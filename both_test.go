package dualwrite_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
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
	d := rewrite.SQLite
	if e.m.Dialect == rewrite.Postgres.Name {
		d = rewrite.Postgres
	}
	dbtest.Invariant(e.t, e.raw, d, e.m.Flip())
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
		{query: "INSERT INTO accounts (email_address, first_name, last_name) VALUES (?, ?, ?)", args: []any{"alan@x", "Alan", "Turing"}}, // PostgreSQL: no key default, an error on both
		{query: "INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (2, 'alan@x', 'Alan', 'Turing')", only: "postgres"},
		{query: "INSERT INTO accounts (account_id, email_address, first_name, last_name, visits) VALUES (3, 'ewd@x', 'Edsger', 'Dijkstra', 1), (4, 'bl@x', 'Barbara', 'Liskov', 2), (5, NULL, 'Donald', 'Knuth', 0)"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name) SELECT id + 100, 'Grace', msg FROM audit WHERE id < 10"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name, visits) VALUES (1, 'Ada', 'King', 1) ON CONFLICT (account_id) DO UPDATE SET visits = visits + excluded.visits, last_name = excluded.last_name", only: "sqlite"},
		{query: "INSERT INTO accounts AS a (account_id, first_name, last_name, visits) VALUES (1, 'Ada', 'King', 1) ON CONFLICT (account_id) DO UPDATE SET visits = a.visits + excluded.visits, last_name = excluded.last_name", only: "postgres"},
		{query: "INSERT INTO accounts (account_id, first_name, last_name) VALUES (2, 'No', 'Body') ON CONFLICT DO NOTHING"},
		{query: "INSERT OR IGNORE INTO accounts (account_id, first_name, last_name) VALUES (2, 'No', 'Body'), (20, 'Some', 'Body')", only: "sqlite"},
		{query: "UPDATE accounts SET visits = visits * 2 + 1 WHERE account_id > ?", args: []any{1}},
		{query: "UPDATE accounts SET last_name = audit.msg || 'son' FROM audit WHERE audit.id = accounts.account_id"},
		{query: "UPDATE accounts SET first_name = 'Rear' FROM audit WHERE audit.id + 100 = accounts.account_id RETURNING accounts.account_id, first_name", query2: true, only: "postgres"},
		{query: "UPDATE accounts AS a SET email_address = 'a' || a.account_id || '@x' WHERE a.email_address IS NULL"},
		{query: "UPDATE users SET visits = visits + 10 WHERE id = 1", twin: "UPDATE accounts SET visits = visits + 10 WHERE account_id = 1"}, // forward, in the same phase
		{query: "DELETE FROM accounts WHERE account_id = ?", args: []any{20}},
		{query: "DELETE FROM accounts USING audit WHERE accounts.account_id = audit.id + 100 AND audit.id = 50", only: "postgres"},
		{query: "INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (6, 'ken@x', 'Ken', 'Thompson') RETURNING account_id, first_name, visits", query2: true},
		{query: "UPDATE accounts SET visits = visits + 1 WHERE account_id IN (1, 2) RETURNING *", query2: true},
		{query: "DELETE FROM accounts WHERE account_id = 101 RETURNING email_address", query2: true},
		{query: "WITH x(i, f, l) AS (SELECT 7, 'With', 'Clause') INSERT INTO accounts (account_id, first_name, last_name) SELECT i, f, l FROM x"},
		{query: "WITH gone AS (SELECT id FROM audit WHERE id = 50) DELETE FROM accounts WHERE account_id IN (SELECT id + 100 FROM gone)"},
		{query: "UPDATE accounts SET account_id = account_id + 1000 WHERE account_id = ?", args: []any{7}},
		{query: "UPDATE accounts SET account_id = CASE account_id WHEN 1 THEN 2 ELSE 1 END, visits = 9 WHERE account_id IN (1, 2)"}, // PostgreSQL checks keys row by row: an error on both
		{query: "UPDATE accounts SET account_id = account_id + 1"},                                                                  // a collision midway on PostgreSQL: an error on both
		{query: "UPDATE accounts SET account_id = account_id + 500 WHERE first_name = ? RETURNING account_id, last_name", args: []any{"Ken"}, query2: true},
		{query: "INSERT INTO users (id, full_name, email) VALUES (30, 'Forward Write', 'fw@x')", twin: "INSERT INTO accounts (account_id, first_name, last_name, email_address) VALUES (30, 'Forward', 'Write', 'fw@x')"},
		{query: "INSERT INTO members VALUES (1, 1, 'ADMIN'), (1, 2, 'MEMBER'), (2, 1, 'MEMBER')"},
		{query: "INSERT OR REPLACE INTO members VALUES (1, 2, 'OWNER')", only: "sqlite"},
		{query: "INSERT INTO members VALUES (1, 2, 'OWNER') ON CONFLICT ON CONSTRAINT members_pkey DO UPDATE SET role_name = excluded.role_name", only: "postgres"},
		{query: "INSERT INTO members (org, usr, role_name) VALUES (3, 3, 'GUEST')"},
		{query: "UPDATE members SET usr = usr + 10 WHERE org = 1"},
		{query: "UPDATE members SET usr = usr + 10 RETURNING *", query2: true},
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
			if s.only != "" && s.only != b.name {
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
				if !plainInsert(s.query) {
					got.LastInsertID, want.LastInsertID = 0, 0 // as in TestWriteForms
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
