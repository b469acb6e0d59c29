package dualwrite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
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
		{query: "INSERT INTO users (full_name, email, visits) VALUES ('Edsger Dijkstra', 'ewd@x', 1), ('Barbara Liskov', 'bl@x', 2), ('Donald Knuth', NULL, 0)", only: "sqlite,mysql"},
		{query: "INSERT INTO users (id, full_name, email, visits) VALUES (3, 'Edsger Dijkstra', 'ewd@x', 1), (4, 'Barbara Liskov', 'bl@x', 2), (5, 'Donald Knuth', NULL, 0)", only: "postgres"},
		{query: "INSERT INTO users DEFAULT VALUES", only: "sqlite,postgres"},
		{query: "INSERT INTO users () VALUES ()", only: "mysql"},
		{query: "INSERT INTO users (full_name) VALUES (DEFAULT), ('Two Words')", only: "mysql"},
		{query: "INSERT INTO users (id, full_name) SELECT id + 100, msg FROM audit WHERE id < 10", only: "sqlite,postgres"},
		{query: "INSERT INTO users (full_name) SELECT msg FROM audit WHERE id < 10", only: "mariadb"},
		{query: "INSERT INTO users (id, full_name) SELECT id + 100, msg FROM audit WHERE id < 10", refused: true, only: "mysql"},
		{query: "INSERT INTO users (id, full_name) VALUES (101, 'Ada Lovelace'), (102, 'Alan Turing')", only: "mariadb-noreturning"},
		{query: "INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada King', 'ada@x', 1) ON CONFLICT (id) DO UPDATE SET visits = visits + excluded.visits, full_name = excluded.full_name", only: "sqlite"},
		{query: "INSERT INTO users AS u (id, full_name, email, visits) VALUES (1, 'Ada King', 'ada@x', 1) ON CONFLICT (id) DO UPDATE SET visits = u.visits + excluded.visits, full_name = excluded.full_name", only: "postgres"},
		{query: "INSERT INTO users (id, full_name) VALUES (2, 'Nobody') ON CONFLICT DO NOTHING", only: "sqlite,postgres"},
		{query: "INSERT IGNORE INTO users (id, full_name) VALUES (2, 'Nobody'), (20, 'Some Body')", only: "mysql"},
		{query: "INSERT INTO users (id, full_name) VALUES (2, 'Nobody') ON DUPLICATE KEY UPDATE visits = visits + 1", refused: true, only: "mysql"}, // users.email is unique too
		{query: "INSERT OR IGNORE INTO users (id, full_name) VALUES (2, 'Nobody'), (20, 'Some Body')", only: "sqlite"},
		{query: "UPDATE users SET visits = visits * 2 + 1 WHERE id > ?", args: []any{1}},
		{query: "UPDATE users SET full_name = audit.msg || ' Jr' FROM audit WHERE audit.id = users.id", only: "sqlite,postgres"},
		{query: "UPDATE users JOIN audit ON audit.id = users.id SET users.full_name = CONCAT(audit.msg, ' Jr')", only: "mysql"},
		{query: "UPDATE audit a, users u SET u.visits = u.visits + a.id WHERE a.id = u.id + 100 OR a.id = ?", args: []any{2}, only: "mysql"},
		{query: "UPDATE LOW_PRIORITY users SET full_name = CONCAT(full_name, ' Jr') WHERE id IN (SELECT id FROM audit) ORDER BY id DESC LIMIT ?", args: []any{2}, only: "mysql"},
		{query: "UPDATE users SET full_name = audit.msg || ' Sr' FROM audit WHERE audit.id + 100 = users.id RETURNING users.id, full_name", query2: true, only: "postgres"},
		{query: "UPDATE users AS u SET email = 'u' || u.id || '@x' WHERE u.email IS NULL", only: "sqlite,postgres"},
		{query: "UPDATE users AS u SET u.email = CONCAT('u', u.id, '@x') WHERE u.email IS NULL", only: "mysql"},
		{query: "UPDATE users SET full_name = 'Moved', id = id + ? WHERE id > ? ORDER BY id DESC LIMIT 2", args: []any{500, 3}, only: "mysql"},
		{query: "UPDATE users SET id = id + 0.5 WHERE id = 3", only: "mysql"}, // the new key is rounded: the key check fails the write, the raw one succeeds
		{query: "UPDATE users SET id = RAND() WHERE id = 3", refused: true, only: "mysql"},
		{query: "DELETE FROM users WHERE id = ?", args: []any{20}},
		{query: "DELETE FROM users USING audit WHERE users.id = audit.id + 100 AND audit.id = 50", only: "postgres"},
		{query: "INSERT INTO users (full_name, email) VALUES ('Ken Thompson', 'ken@x') RETURNING id, full_name, visits", query2: true, only: "sqlite,mariadb"},
		{query: "INSERT INTO users (full_name, email) VALUES ('Ken Thompson', 'ken@x') RETURNING id, full_name, visits", query2: true, refused: true, only: "mariadb-noreturning"},
		{query: "INSERT INTO users (id, full_name, email) VALUES (6, 'Ken Thompson', 'ken@x') RETURNING id, full_name, visits", query2: true, only: "postgres"},
		{query: "UPDATE users SET visits = visits + 1 WHERE id IN (1, 2) RETURNING *", query2: true, only: "sqlite,postgres"},
		{query: "UPDATE users SET visits = visits + 1 WHERE id IN (1, 2) RETURNING *", query2: true, refused: true, only: "mysql"}, // no UPDATE ... RETURNING
		{query: "DELETE FROM users WHERE id = 101 RETURNING email", query2: true},
		{query: "UPDATE users SET visits = 0 WHERE id = 102 RETURNING visits", only: "sqlite,postgres"},
		{query: "WITH x(i, n) AS (SELECT 7, 'With Clause') INSERT INTO users (id, full_name) SELECT i, n FROM x", only: "sqlite,postgres"},
		{query: "WITH x(i, n) AS (SELECT 7, 'With Clause') INSERT INTO users (id, full_name) SELECT i, n FROM x", refused: true, only: "mysql"},
		{query: "WITH gone AS (SELECT id FROM audit WHERE id = 50) DELETE FROM users WHERE id IN (SELECT id FROM gone)", only: "sqlite,postgres"},
		{query: "WITH gone AS (SELECT id FROM audit WHERE id = 50) DELETE FROM users WHERE id IN (SELECT id FROM gone)", refused: true, only: "mysql"},
		{query: "UPDATE users SET id = id + 1000 WHERE id = ?", args: []any{7}},
		{query: "UPDATE users SET id = CASE id WHEN 1 THEN 2 ELSE 1 END, visits = 9 WHERE id IN (1, 2)"}, // PostgreSQL checks keys row by row: an error on both
		{query: "UPDATE users SET id = CASE id WHEN 1 THEN 3 ELSE 1 END WHERE id IN (1, 3)", only: "postgres"},
		{query: "UPDATE users SET id = id + 1"}, // a collision midway on PostgreSQL: an error on both
		{query: "UPDATE users SET id = id + 500 WHERE full_name = :name", args: []any{sql.Named("name", "Ken Thompson")}, only: "sqlite"},
		{query: "UPDATE users SET id = id + 500 WHERE full_name = ?", args: []any{"Ken Thompson"}, only: "postgres"},
		{query: "UPDATE users AS u SET id = a.id + 2000, full_name = a.msg FROM audit a WHERE u.id = a.id + 100 RETURNING u.id, a.msg", query2: true, only: "sqlite,postgres"},
		{query: "UPDATE users SET id = id + 1000 WHERE id > ? RETURNING id, full_name", args: []any{4}, query2: true, only: "sqlite,postgres"},
		{query: "INSERT INTO users (id, full_name) VALUES (?2, ?1)", args: []any{"Numbered Params", 300}, only: "sqlite,postgres"},
		{query: "INSERT INTO users (full_name, id) VALUES (?, ?)", args: []any{"Numbered Params", 300}, only: "mysql"},
		{query: "INSERT INTO users SET id = 302, full_name = 'Set Form'", only: "mysql"},
		{query: "INSERT INTO users (id, full_name) VALUES (0, 'Zero Means Next'), (?, 'Nil Means Next')", args: []any{nil}, only: "mysql"},
		{query: "INSERT INTO users (id, full_name) VALUES (?, ?), (NULL, 'Mixed Keys')", args: []any{303, "Explicit Key"}, refused: true, only: "mysql"},
		{query: "INSERT INTO users (id, full_name) VALUES (LAST_INSERT_ID() + 1, 'Expression Key')", refused: true, only: "mysql"},
		{query: "INSERT INTO users (id, full_name) VALUES (@id, $name)", args: []any{sql.Named("id", 301), sql.Named("name", "Named Params")}, only: "sqlite"},
		{query: "INSERT INTO memberships VALUES (1, 1, 'admin'), (1, 2, 'member'), (2, 1, 'member')"},
		{query: "REPLACE INTO memberships (org_id, user_id, role) VALUES (1, 2, 'owner')", only: "mysql"},
		{query: "INSERT INTO memberships (org_id, user_id, role) VALUES (3, 3, 'guest'), (1, 1, 'boss') ON DUPLICATE KEY UPDATE role = CONCAT(memberships.role, '+', VALUES(role))", only: "mysql"},
		{query: "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE user_id = 9", args: []any{1, 1, "x"}, refused: true, only: "mysql"},
		{query: "INSERT OR REPLACE INTO memberships VALUES (1, 2, 'owner')", only: "sqlite"},
		{query: "INSERT INTO memberships VALUES (1, 2, 'owner') ON CONFLICT ON CONSTRAINT memberships_pk DO UPDATE SET role = excluded.role", only: "postgres"},
		{query: "REPLACE INTO memberships (org_id, user_id, role) VALUES (3, 3, 'guest')", only: "sqlite"},
		{query: "INSERT INTO memberships (org_id, user_id, role) VALUES (3, 3, 'guest')", only: "postgres"},
		{query: "UPDATE memberships SET user_id = user_id + 10 WHERE org_id = 1"},
		{query: "UPDATE memberships SET user_id = user_id + 10 RETURNING *", query2: true, only: "sqlite,postgres"},
		{query: "UPDATE memberships SET role = CONCAT(role, '!') WHERE org_id = 1 ORDER BY user_id DESC LIMIT 1", only: "mysql"},
		{query: "DELETE LOW_PRIORITY QUICK IGNORE FROM memberships WHERE org_id = ? ORDER BY user_id LIMIT 1", args: []any{1}, only: "mysql"},
		{query: "DELETE m FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.visits > ?", args: []any{100}, only: "mysql"},
		{query: "DELETE FROM m USING memberships AS m LEFT JOIN users u ON u.id = m.user_id WHERE u.id IS NULL", only: "mysql"},
		{query: "DELETE m, u FROM memberships m JOIN users u ON u.id = m.user_id", refused: true, only: "mysql"},
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
		{query: "UPDATE users SET visits = 1 ORDER BY id LIMIT 1", only: "mysql"},
		{query: "SET sql_mode = 'ANSI_QUOTES'", refused: true, only: "mysql"},
		{query: "SET @@SESSION.autocommit = 0", refused: true, only: "mysql"},
		{query: "SET NAMES gbk", refused: true, only: "mysql"},
		{query: "USE mysql", refused: true, only: "mysql"},
		{query: "PREPARE s FROM 'DELETE FROM users'", refused: true, only: "mysql"},
		{query: "PREPARE s FROM @text", refused: true, only: "mysql"},
		{query: "WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d", refused: true, only: "postgres"},
		{query: "DROP TABLE users", refused: true},
		{query: "INSERT INTO audit (msg) SELECT full_name FROM users"},
		{query: "DELETE FROM users"},
	}
	for _, b := range []backend{sqliteBackend, postgresBackend, mysqlBackend, mysqlNoReturningBackend, mysqlClientSideBackend} {
		t.Run(b.name, func(t *testing.T) { writeForms(t, b, steps) })
	}
}

// writeForms runs TestWriteForms's steps on one backend.
func writeForms(t *testing.T, b backend, steps []writeStep) {
	wrapped, raw := b.open(t), b.open(t)
	for _, s := range steps {
		if !b.runs(s.only) {
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
			if b.name == "sqlite" && !plainInsert(s.query) {
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
	} else if _, err := r.LastInsertId(); (err == nil) == (b.name == "postgres") {
		t.Fatalf("LastInsertId: %v; want an error on PostgreSQL only, as its driver gives", err)
	}
}

// sqlState returns the SQLSTATE of a PostgreSQL error, the number and
// SQLSTATE of a MySQL one, and "" for other errors.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return fmt.Sprintf("%d/%s", me.Number, me.SQLState)
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
			b.concat("UPDATE memberships SET role = %s", "role", "'x'"),
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
