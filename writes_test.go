package dualwrite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
)

// outcome is what a statement gave its caller.
type outcome struct {
	Err          bool
	LastInsertID int64
	RowsAffected int64
	Rows         [][]any
}

type writeStep struct {
	query   string
	args    []any
	query2  bool   // run with Query (the caller reads RETURNING rows)
	refused bool   // the wrapper must refuse it with ErrUnsupported
	only    string // the one backend the step runs on, when it is dialect-specific
	// Reverse suites (both_test.go):
	twin        string // what the raw driver runs instead: a forward write's effect on the new tables
	mirrorFails bool   // the mirror fails: an error, and nothing written
}

func run(t *testing.T, db *sql.DB, s writeStep) (outcome, error) {
	t.Helper()
	if s.query2 {
		rs, err := db.Query(s.query, s.args...) //nolint:rowserrcheck // dbtest.Scan checks rs.Err
		if err != nil {
			return outcome{Err: true}, err
		}
		return outcome{Rows: dbtest.Scan(t, rs)}, nil
	}
	r, err := db.Exec(s.query, s.args...)
	if err != nil {
		return outcome{Err: true}, err
	}
	id, _ := r.LastInsertId()
	n, _ := r.RowsAffected()
	return outcome{LastInsertID: id, RowsAffected: n}, nil
}

func plainInsert(q string) bool {
	return strings.HasPrefix(q, "INSERT INTO") && !strings.Contains(q, "ON CONFLICT")
}

var oldTables = []string{
	"SELECT * FROM users ORDER BY id",
	"SELECT * FROM memberships ORDER BY org_id, user_id",
	"SELECT * FROM audit ORDER BY id",
}

// TestWriteForms runs every supported write form through the wrapper and,
// beside it, through the raw driver on an identical database: the caller
// must see the same results and errors (with the same SQLSTATE on
// PostgreSQL) and the old tables the same rows, and after each statement
// new = up(old) must hold. Statements written for one dialect run only there.
func TestWriteForms(t *testing.T) {
	steps := []writeStep{
		{query: "INSERT INTO audit (id, msg) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing'), (50, 'Grace Hopper')"},
		{query: "INSERT INTO users (id, full_name, email, visits) VALUES (?, ?, ?, ?)", args: []any{1, "Ada Lovelace", "ada@x", 3}},
		{query: "INSERT INTO users (full_name, email) VALUES (?, ?)", args: []any{"Alan Turing", "alan@x"}}, // PostgreSQL: no id default, an error on both
		{query: "INSERT INTO users (id, full_name) VALUES (2, 'Alan Turing')", only: "postgres"},
		{query: "INSERT INTO users (full_name, email, visits) VALUES ('Edsger Dijkstra', 'ewd@x', 1), ('Barbara Liskov', 'bl@x', 2), ('Donald Knuth', NULL, 0)", only: "sqlite"},
		{query: "INSERT INTO users (id, full_name, email, visits) VALUES (3, 'Edsger Dijkstra', 'ewd@x', 1), (4, 'Barbara Liskov', 'bl@x', 2), (5, 'Donald Knuth', NULL, 0)", only: "postgres"},
		{query: "INSERT INTO users DEFAULT VALUES"},
		{query: "INSERT INTO users (id, full_name) SELECT id + 100, msg FROM audit WHERE id < 10"},
		{query: "INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada King', 'ada@x', 1) ON CONFLICT (id) DO UPDATE SET visits = visits + excluded.visits, full_name = excluded.full_name", only: "sqlite"},
		{query: "INSERT INTO users AS u (id, full_name, email, visits) VALUES (1, 'Ada King', 'ada@x', 1) ON CONFLICT (id) DO UPDATE SET visits = u.visits + excluded.visits, full_name = excluded.full_name", only: "postgres"},
		{query: "INSERT INTO users (id, full_name) VALUES (2, 'Nobody') ON CONFLICT DO NOTHING"},
		{query: "INSERT OR IGNORE INTO users (id, full_name) VALUES (2, 'Nobody'), (20, 'Some Body')", only: "sqlite"},
		{query: "UPDATE users SET visits = visits * 2 + 1 WHERE id > ?", args: []any{1}},
		{query: "UPDATE users SET full_name = audit.msg || ' Jr' FROM audit WHERE audit.id = users.id"},
		{query: "UPDATE users SET full_name = audit.msg || ' Sr' FROM audit WHERE audit.id + 100 = users.id RETURNING users.id, full_name", query2: true, only: "postgres"},
		{query: "UPDATE users AS u SET email = 'u' || u.id || '@x' WHERE u.email IS NULL"},
		{query: "DELETE FROM users WHERE id = ?", args: []any{20}},
		{query: "DELETE FROM users USING audit WHERE users.id = audit.id + 100 AND audit.id = 50", only: "postgres"},
		{query: "INSERT INTO users (full_name, email) VALUES ('Ken Thompson', 'ken@x') RETURNING id, full_name, visits", query2: true, only: "sqlite"},
		{query: "INSERT INTO users (id, full_name, email) VALUES (6, 'Ken Thompson', 'ken@x') RETURNING id, full_name, visits", query2: true, only: "postgres"},
		{query: "UPDATE users SET visits = visits + 1 WHERE id IN (1, 2) RETURNING *", query2: true},
		{query: "DELETE FROM users WHERE id = 101 RETURNING email", query2: true},
		{query: "UPDATE users SET visits = 0 WHERE id = 102 RETURNING visits"},
		{query: "WITH x(i, n) AS (SELECT 7, 'With Clause') INSERT INTO users (id, full_name) SELECT i, n FROM x"},
		{query: "WITH gone AS (SELECT id FROM audit WHERE id = 50) DELETE FROM users WHERE id IN (SELECT id FROM gone)"},
		{query: "UPDATE users SET id = id + 1000 WHERE id = ?", args: []any{7}},
		{query: "UPDATE users SET id = CASE id WHEN 1 THEN 2 ELSE 1 END, visits = 9 WHERE id IN (1, 2)"}, // PostgreSQL checks keys row by row: an error on both
		{query: "UPDATE users SET id = CASE id WHEN 1 THEN 3 ELSE 1 END WHERE id IN (1, 3)", only: "postgres"},
		{query: "UPDATE users SET id = id + 1"}, // a collision midway on PostgreSQL: an error on both
		{query: "UPDATE users SET id = id + 500 WHERE full_name = :name", args: []any{sql.Named("name", "Ken Thompson")}, only: "sqlite"},
		{query: "UPDATE users SET id = id + 500 WHERE full_name = ?", args: []any{"Ken Thompson"}, only: "postgres"},
		{query: "UPDATE users AS u SET id = a.id + 2000, full_name = a.msg FROM audit a WHERE u.id = a.id + 100 RETURNING u.id, a.msg", query2: true},
		{query: "UPDATE users SET id = id + 1000 WHERE id > ? RETURNING id, full_name", args: []any{4}, query2: true},
		{query: "INSERT INTO users (id, full_name) VALUES (?2, ?1)", args: []any{"Numbered Params", 300}},
		{query: "INSERT INTO users (id, full_name) VALUES (@id, $name)", args: []any{sql.Named("id", 301), sql.Named("name", "Named Params")}, only: "sqlite"},
		{query: "INSERT INTO memberships VALUES (1, 1, 'admin'), (1, 2, 'member'), (2, 1, 'member')"},
		{query: "INSERT OR REPLACE INTO memberships VALUES (1, 2, 'owner')", only: "sqlite"},
		{query: "INSERT INTO memberships VALUES (1, 2, 'owner') ON CONFLICT ON CONSTRAINT memberships_pk DO UPDATE SET role = excluded.role", only: "postgres"},
		{query: "REPLACE INTO memberships (org_id, user_id, role) VALUES (3, 3, 'guest')", only: "sqlite"},
		{query: "INSERT INTO memberships (org_id, user_id, role) VALUES (3, 3, 'guest')", only: "postgres"},
		{query: "UPDATE memberships SET user_id = user_id + 10 WHERE org_id = 1"},
		{query: "UPDATE memberships SET user_id = user_id + 10 RETURNING *", query2: true},
		{query: "UPDATE OR REPLACE memberships SET org_id = 1, user_id = 21 WHERE org_id = 2", only: "sqlite"},
		{query: "DELETE FROM memberships WHERE role = 'guest' RETURNING org_id, user_id", query2: true},
		{query: "INSERT INTO users (id, full_name, email) VALUES (400, 'Dup Email', 'ada@x')"},           // unique violation: an error on both
		{query: "UPDATE users SET id = 2 WHERE id = 1"},                                                  // key collision: an error on both
		{query: "INSERT INTO users (id, full_name) VALUES (?, ?)", args: []any{900}},                     // too few arguments: an error on both
		{query: "REPLACE INTO users (id, full_name, email) VALUES (5, 'R R', 'alan@x')", only: "sqlite"}, // deletes the row of alan@x
		{query: "INSERT OR REPLACE INTO memberships (rowid, org_id, user_id, role) VALUES (1, 7, 7, 'x')", refused: true, only: "sqlite"},
		{query: "UPDATE OR REPLACE memberships SET rowid = 1 WHERE org_id = 3", refused: true, only: "sqlite"},
		{query: "INSERT INTO users (id, full_name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET id = 77", refused: true},
		{query: "INSERT INTO users (id, full_name) VALUES (600, 'a'); INSERT INTO users (id, full_name) VALUES (601, 'b')", refused: true},
		{query: "INSERT INTO accounts (account_id, first_name) VALUES (900, 'x')", refused: true},
		{query: "UPDATE users SET visits = 1 ORDER BY id LIMIT 1", refused: true, only: "sqlite"},
		{query: "WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d", refused: true, only: "postgres"},
		{query: "DROP TABLE users", refused: true},
		{query: "INSERT INTO audit (msg) SELECT full_name FROM users"},
		{query: "DELETE FROM users"},
	}
	forBackends(t, func(t *testing.T, b backend) {
		wrapped, raw := b.open(t), b.open(t)
		for _, s := range steps {
			if s.only != "" && s.only != b.name {
				continue
			}
			s.query = b.sql(s.query)
			got, err := run(t, wrapped.db, s)
			if s.refused {
				if !errors.Is(err, dualwrite.ErrUnsupported) {
					t.Fatalf("%s: got %v, want ErrUnsupported", s.query, err)
				}
			} else {
				want, rawErr := run(t, raw.raw, s)
				if !plainInsert(s.query) {
					// SQLite's last insert rowid is only the caller's after an
					// INSERT that inserts; otherwise it is the connection's
					// previous one, which may be a mirror's (README: Limits).
					got.LastInsertID, want.LastInsertID = 0, 0
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s:\n through dualwrite: %+v (%v)\n raw driver:        %+v (%v)", s.query, got, err, want, rawErr)
				}
				if c := sqlState(rawErr); c != sqlState(err) {
					t.Fatalf("%s: error %v, want SQLSTATE %s as the raw driver gives", s.query, err, c)
				}
			}
			for _, q := range oldTables {
				if g, w := rows(t, wrapped.raw, q), rows(t, raw.raw, q); !reflect.DeepEqual(g, w) {
					t.Fatalf("after %s: %s differs:\n through dualwrite: %v\n raw driver:        %v", s.query, q, g, w)
				}
			}
			wrapped.checkInvariant()
		}
		if n := wrapped.count("accounts"); n != 0 {
			t.Fatalf("accounts has %d rows after DELETE FROM users", n)
		}
		if r, err := wrapped.db.Exec(b.sql("UPDATE users SET visits = 0")); err != nil {
			t.Fatal(err)
		} else if _, err := r.LastInsertId(); (err == nil) != (b.name == "sqlite") {
			t.Fatalf("LastInsertId: %v; want an error on PostgreSQL only, as its driver gives", err)
		}
	})
}

// sqlState returns the SQLSTATE of a PostgreSQL error, "" for other errors.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestBigWritesMirrorInBatches: writes of more rows than one mirror
// statement takes keys (900 single-column keys, 450 two-column ones) are
// mirrored in full batches and a last partial one, and the rows the write
// returns are read into blocks: every row's mirror is right.
func TestBigWritesMirrorInBatches(t *testing.T) {
	const n = 2000 // two full batches of users keys and a partial one; four of memberships keys
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		var users, members strings.Builder
		users.WriteString("INSERT INTO users (id, full_name, email) VALUES ")
		members.WriteString("INSERT INTO memberships (org_id, user_id, role) VALUES ")
		for i := 1; i <= n; i++ {
			if i > 1 {
				users.WriteString(", ")
				members.WriteString(", ")
			}
			fmt.Fprintf(&users, "(%d, 'Name %d', 'e%d@example.com')", i, i, i)
			fmt.Fprintf(&members, "(%d, %d, 'r%d')", i%7, i, i)
		}
		for _, q := range []string{
			users.String(),
			members.String(),
			"UPDATE users SET visits = visits + id",
			"UPDATE memberships SET role = role || 'x'",
			"DELETE FROM users WHERE id % 3 <> 0",
			"DELETE FROM memberships WHERE user_id % 3 <> 0",
		} {
			r := mustExec(t, e.db, q)
			if got, err := r.RowsAffected(); err != nil || got < n*2/3 {
				t.Fatalf("%.40s...: %d rows affected (%v), want at least %d", q, got, err, n*2/3)
			}
			e.checkInvariant()
		}
		if got := e.count("accounts"); got != n/3 {
			t.Fatalf("accounts has %d rows, want %d", got, n/3)
		}
		if got := e.count("members"); got != n/3 {
			t.Fatalf("members has %d rows, want %d", got, n/3)
		}
	})
}
