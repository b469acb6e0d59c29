package rewrite_test

import (
	"database/sql"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// pgSchemaDB opens a fresh schema on the test server with the test tables,
// or skips the test when the server is not configured.
func pgSchemaDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", pgtest.Schema(t, corpus.PostgresSchema...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func pgRows(t *testing.T, db dbtest.Querier, q string, args ...any) [][]any {
	t.Helper()
	return dbtest.Rows(t, db, q, args...)
}

// pgInvariant asserts new = up(old) row by row for both pairs.
func pgInvariant(t *testing.T, db *sql.DB, m *mapping.Mapping) {
	t.Helper()
	dbtest.Invariant(t, db, rewrite.Postgres, m)
}

// TestPostgresFusedWrites runs the fused statement of every write form on a
// real PostgreSQL server, beside the caller's statement run as written on
// a twin schema: the caller's columns and row counts agree, the old tables
// agree, and new = up(old) holds after each statement.
func TestPostgresFusedWrites(t *testing.T) {
	db, twin := pgSchemaDB(t), pgSchemaDB(t)
	m, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		t.Fatal(err)
	}
	p := rewrite.NewPlanner(rewrite.Postgres, m, &rewrite.Schema{}, 100)
	steps := []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO audit (id, msg) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing')", nil},
		{"INSERT INTO users (id, full_name, email, visits) VALUES ($1, $2, $3, $4)", []any{1, "Ada Lovelace", "ada@x", 3}},
		{"INSERT INTO users (id, full_name) VALUES (2, 'Grace Brewster Hopper'), (3, 'Plato')", nil},
		{"INSERT INTO users (id, full_name) SELECT id + 100, msg FROM audit", nil},
		{"INSERT INTO users AS u (id, full_name, visits) VALUES (1, 'Ada King', 1) ON CONFLICT (id) DO UPDATE SET visits = u.visits + excluded.visits, full_name = excluded.full_name", nil},
		{"INSERT INTO users (id, full_name) VALUES (2, 'Nobody') ON CONFLICT DO NOTHING", nil},
		{"INSERT INTO users (id, full_name, email) VALUES (4, 'Edsger Dijkstra', 'ewd@x') RETURNING id, upper(full_name) AS shout", nil},
		{"UPDATE users SET visits = visits * 2 + 1 WHERE id > $1", []any{1}},
		{"UPDATE ONLY users SET full_name = audit.msg || ' Jr' FROM audit WHERE audit.id + 100 = users.id", nil},
		{"UPDATE users u SET email = 'u' || u.id || '@x' WHERE u.email IS NULL RETURNING u.*", nil},
		{"WITH x AS (SELECT 7 AS i) INSERT INTO users (id, full_name) SELECT i, 'With Clause' FROM x", nil},
		{"INSERT INTO memberships VALUES (1, 1, 'admin'), (1, 2, 'member')", nil},
		{"INSERT INTO memberships VALUES (1, 2, 'owner') ON CONFLICT ON CONSTRAINT memberships_pk DO UPDATE SET role = excluded.role", nil},
		{"UPDATE memberships SET role = 'guest' WHERE org_id = 1 AND user_id = 1", nil},
	}
	for _, s := range steps {
		plan, _ := p.Plan(s.sql)
		var got [][]any
		switch plan.Action {
		case rewrite.Mirror:
			if plan.Fused == "" {
				t.Fatalf("%s: no fused statement", s.sql)
			}
			got = pgRows(t, db, plan.Fused, s.args...)
			for i, r := range got {
				got[i] = r[:len(r)-plan.KeyCols]
			}
		case rewrite.Pass:
			got = pgRows(t, db, s.sql, s.args...)
		default:
			t.Fatalf("%s: action %d, err %v", s.sql, plan.Action, plan.Err)
		}
		if plan.Action == rewrite.Mirror && !plan.CallerReturning {
			// Without RETURNING the caller gets a row count: one fused row
			// per row the statement wrote, with no caller columns.
			r, err := twin.Exec(s.sql, s.args...)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := r.RowsAffected()
			if int64(len(got)) != n {
				t.Fatalf("%s: the fused statement returned %d rows, the plain one affected %d", s.sql, len(got), n)
			}
			for i := range got {
				if len(got[i]) != 0 {
					t.Fatalf("%s: fused row %d has caller columns %v", s.sql, i, got[i])
				}
			}
		} else if want := pgRows(t, twin, s.sql, s.args...); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n fused: %v\n plain: %v", s.sql, got, want)
		}
		for _, q := range []string{"SELECT * FROM users ORDER BY id", "SELECT * FROM memberships ORDER BY 1, 2", "SELECT * FROM audit ORDER BY id"} {
			if g, w := pgRows(t, db, q), pgRows(t, twin, q); !reflect.DeepEqual(g, w) {
				t.Fatalf("after %s: %s differs:\n fused: %v\n plain: %v", s.sql, q, g, w)
			}
		}
		pgInvariant(t, db, m)
	}
	// A DELETE runs in steps: fused, its mirror would miss a new row
	// committed while the DELETE waited for a row lock.
	if plan, _ := p.Plan("DELETE FROM users WHERE id = $1"); plan.Action != rewrite.Mirror || plan.Fused != "" || plan.Capture == "" {
		t.Fatalf("DELETE: %+v, want a mirror in steps", plan)
	}
}

// TestPostgresFusedRowCount: Exec of the fused statement reports the
// caller's rows affected.
func TestPostgresFusedRowCount(t *testing.T) {
	db := pgSchemaDB(t)
	m, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		t.Fatal(err)
	}
	p := rewrite.NewPlanner(rewrite.Postgres, m, &rewrite.Schema{}, 100)
	for _, c := range []struct {
		sql  string
		want int64
	}{
		{"INSERT INTO users (id, full_name) VALUES (1, 'A B'), (2, 'C D'), (3, 'E F')", 3},
		{"UPDATE users SET visits = 1 WHERE id < 3", 2},
		{"INSERT INTO users (id, full_name) VALUES (1, 'X') ON CONFLICT DO NOTHING", 0},
	} {
		plan, _ := p.Plan(c.sql)
		r, err := db.Exec(plan.Fused)
		if err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if n, err := r.RowsAffected(); err != nil || n != c.want {
			t.Fatalf("%s: RowsAffected = %d, %v; want %d", c.sql, n, err, c.want)
		}
	}
	pgInvariant(t, db, m)
}

func TestPostgresRefusals(t *testing.T) {
	m, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		t.Fatal(err)
	}
	p := rewrite.NewPlanner(rewrite.Postgres, m, &rewrite.Schema{}, 100)
	for _, q := range []string{
		"WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d",
		`INSERT INTO U&"users" (id) VALUES (1)`,
		"DELETE FROM users WHERE CURRENT OF c",
		"MERGE INTO users USING audit ON users.id = audit.id WHEN MATCHED THEN DELETE",
		"TRUNCATE orgs CASCADE",
		"TRUNCATE users",
		"DO $$ BEGIN UPDATE users SET visits = 0; END $$",
		"DO $body$ BEGIN DELETE FROM Accounts; END $body$ LANGUAGE plpgsql",
	} {
		if plan, _ := p.Plan(q); plan.Action != rewrite.Refuse {
			t.Errorf("%s: action %d, want refuse", q, plan.Action)
		}
	}
	// bun's bulk MERGE: the WITH holds only VALUES; the refusal names MERGE.
	for _, q := range []string{
		`WITH "_data" ("id", "full_name") AS (VALUES (1, 'a'), (2, 'b')) MERGE INTO "users" AS "u" USING "_data" ON "u"."id" = "_data"."id" WHEN MATCHED THEN UPDATE SET "full_name" = "_data"."full_name" WHEN NOT MATCHED THEN INSERT ("id", "full_name") VALUES ("_data"."id", "_data"."full_name")`,
		"MERGE INTO ONLY accounts a USING audit ON a.account_id = audit.id WHEN MATCHED THEN DELETE",
	} {
		plan, _ := p.Plan(q)
		if plan.Action != rewrite.Refuse || !strings.Contains(plan.Err.Error(), "MERGE into a table the mirror keeps") {
			t.Errorf("%s: %+v, want refused naming MERGE", q, plan)
		}
	}
	if plan, _ := p.Plan("MERGE INTO audit USING users ON audit.id = users.id WHEN MATCHED THEN UPDATE SET msg = users.full_name"); plan.Action != rewrite.Pass {
		t.Errorf("a MERGE into an unmapped table that reads a mapped one: %+v, want pass", plan)
	}
	if plan, _ := p.Plan("SELECT * FROM users WHERE id = $1 FOR UPDATE"); plan.Action != rewrite.Read || plan.Err != nil || plan.Read.Lock == nil {
		t.Errorf("a locking read is served without its locks: %+v", plan)
	}
	for _, q := range []string{`SELECT * FROM "Users"`, "INSERT INTO audit VALUES ($1, $2)", "TRUNCATE audit", "DO $$ BEGIN UPDATE audit SET msg = 'x'; END $$"} {
		if plan, _ := p.Plan(q); plan.Action != rewrite.Pass {
			t.Errorf("%s: action %d, want pass (PostgreSQL names are case-sensitive once quoted)", q, plan.Action)
		}
	}
}
