package dualwrite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// newPostgresEnv opens a fresh PostgreSQL schema with the test tables, raw
// and through dualwrite (pgx), or skips without a server.
func newPostgresEnv(t *testing.T, opts ...dualwrite.Option) *env {
	t.Helper()
	dsn := pgtest.Schema(t, corpus.PostgresSchema...)
	e := &env{t: t, sw: dualwrite.NewSwitch()}
	var err error
	if e.raw, err = sql.Open("pgx", dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.raw.Close() })
	if e.m, err = mapping.Parse([]byte(corpus.PostgresMapping)); err != nil {
		t.Fatal(err)
	}
	base, err := (&stdlib.Driver{}).OpenConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dualwrite.NewConnector(base, e.m, append([]dualwrite.Option{dualwrite.WithSwitch(e.sw)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.db = sql.OpenDB(c)
	t.Cleanup(func() { e.db.Close() })
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestPostgresWrites runs write forms through the wrapper (one statement per
// dual write) and beside it through pgx on a twin schema: same results, same
// old tables, new = up(old) after each.
func TestPostgresWrites(t *testing.T) {
	e, twin := newPostgresEnv(t), newPostgresEnv(t)
	steps := []writeStep{
		{query: "INSERT INTO audit (id, msg) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing')"},
		{query: "INSERT INTO users (id, full_name, email, visits) VALUES ($1, $2, $3, $4)", args: []any{1, "Ada Lovelace", "ada@x", 3}},
		{query: "INSERT INTO users (id, full_name) VALUES (2, 'Grace Brewster Hopper'), (3, 'Plato')"},
		{query: "INSERT INTO users (id, full_name) SELECT id + 100, msg FROM audit"},
		{query: "INSERT INTO users AS u (id, full_name, visits) VALUES (1, 'Ada King', 1) ON CONFLICT (id) DO UPDATE SET visits = u.visits + excluded.visits RETURNING id, visits", query2: true},
		{query: "INSERT INTO users (id, full_name) VALUES (2, 'Nobody') ON CONFLICT DO NOTHING"},
		{query: "UPDATE users SET visits = visits * 2 + 1 WHERE id > $1", args: []any{1}},
		{query: "UPDATE users SET full_name = audit.msg || ' Jr' FROM audit WHERE audit.id + 100 = users.id RETURNING users.id, full_name", query2: true},
		{query: "DELETE FROM users USING audit WHERE users.id = audit.id + 100 AND audit.id = 1"},
		{query: "INSERT INTO memberships VALUES (1, 1, 'admin'), (1, 2, 'member')"},
		{query: "INSERT INTO memberships VALUES (1, 2, 'owner') ON CONFLICT ON CONSTRAINT memberships_pk DO UPDATE SET role = excluded.role"},
		{query: "DELETE FROM memberships WHERE role = 'owner' RETURNING org_id, user_id", query2: true},
		{query: "INSERT INTO users (id, full_name, email) VALUES (9, 'Dup Mail', 'ada@x')"}, // unique violation on both
		{query: "UPDATE users SET id = id + 1"}, // a collision midway: 23505 on both
		{query: "UPDATE users SET id = id + 1000 WHERE id > $1 RETURNING id, full_name", args: []any{100}, query2: true},
		{query: "UPDATE users AS u SET id = a.id + 2000, full_name = a.msg FROM audit a WHERE u.id = a.id + 1100"},
		{query: "UPDATE users SET id = CASE id WHEN 1 THEN 3 ELSE 1 END WHERE id IN (1, 3)"},
		{query: "UPDATE memberships SET user_id = user_id + 10 RETURNING *", query2: true},
		{query: "INSERT INTO accounts (account_id) VALUES (99)", refused: true},
		{query: "DELETE FROM users WHERE visits > 5"},
	}
	for _, s := range steps {
		got, err := run(t, e.db, s)
		if s.refused {
			if !errors.Is(err, dualwrite.ErrUnsupported) {
				t.Fatalf("%s: got %v, want ErrUnsupported", s.query, err)
			}
		} else {
			want, rawErr := run(t, twin.raw, s)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:\n through dualwrite: %+v (%v)\n raw driver:        %+v (%v)", s.query, got, err, want, rawErr)
			}
			var pe, rawPe *pgconn.PgError
			if errors.As(rawErr, &rawPe) && (!errors.As(err, &pe) || pe.Code != rawPe.Code) {
				t.Fatalf("%s: error %v, want SQLSTATE %s as the raw driver gives", s.query, err, rawPe.Code)
			}
		}
		for _, q := range []string{"SELECT * FROM users ORDER BY id", "SELECT * FROM memberships ORDER BY 1, 2", "SELECT * FROM audit ORDER BY id"} {
			if g, w := rows(t, e.raw, q), rows(t, twin.raw, q); !reflect.DeepEqual(g, w) {
				t.Fatalf("after %s: %s differs:\n through dualwrite: %v\n raw driver:        %v", s.query, q, g, w)
			}
		}
		e.checkInvariant()
	}
	if _, err := e.db.Exec("INSERT INTO audit (id) VALUES (50)"); err != nil {
		t.Fatal(err)
	}
	r, err := e.db.Exec("UPDATE users SET visits = 0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.LastInsertId(); err == nil {
		t.Fatal("LastInsertId on PostgreSQL returned no error")
	}
}

// TestPostgresFailingMirrorRollsBack: a mirror that violates a constraint of
// the new table fails the caller's write, which is not applied, in
// autocommit and in a transaction (which PostgreSQL then aborts).
func TestPostgresFailingMirrorRollsBack(t *testing.T) {
	e := newPostgresEnv(t)
	mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'a@x')")
	mustExec(t, e.raw, "ALTER TABLE accounts ADD CONSTRAINT short_first CHECK (length(first_name) < 5)")
	if _, err := e.db.Exec("INSERT INTO users (id, full_name) VALUES (2, 'Grace Hopper')"); err == nil {
		t.Fatal("the failing mirror did not fail the write")
	}
	tx, err := e.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "UPDATE users SET visits = 7 WHERE id = 1")
	if _, err := tx.Exec("UPDATE users SET full_name = 'Adalovelace King' WHERE id = 1"); err == nil {
		t.Fatal("the failing mirror did not fail the write in a transaction")
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("PostgreSQL committed an aborted transaction")
	}
	if got := rows(t, e.raw, "SELECT id, full_name, visits FROM users ORDER BY id"); !reflect.DeepEqual(got, [][]any{{int64(1), "Ada Lovelace", int64(0)}}) {
		t.Fatalf("users = %v", got)
	}
	e.checkInvariant()
}

// TestPostgresReads serves queries in every read phase and compares, inside
// and outside transactions.
func TestPostgresReads(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newPostgresEnv(t, dualwrite.WithRegisterer(reg))
	mustExec(t, e.db, "INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada Lovelace', 'a@x', 3), (2, 'Grace Brewster Hopper', NULL, 0), (3, 'Plato', 'p@x', 3)")
	mustExec(t, e.db, "INSERT INTO memberships VALUES (1, 1, 'admin'), (1, 2, 'member')")
	queries := []struct {
		sql  string
		args []any
	}{
		{"SELECT * FROM users ORDER BY id", nil},
		{"SELECT u.full_name, m.role FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = $1 ORDER BY 1", []any{1}},
		{"SELECT visits, count(*) FROM users GROUP BY visits ORDER BY visits", nil},
		{"SELECT id::text || ':' || full_name AS label FROM users WHERE email IS NOT NULL ORDER BY id", nil},
		{"WITH top AS (SELECT id FROM users WHERE visits > 1) SELECT count(*) FROM top", nil},
	}
	for _, q := range queries {
		var results []result
		for _, phase := range []mapping.ReadPhase{mapping.ReadOld, mapping.ReadNew, mapping.ReadCompare} {
			if err := e.sw.SetRead(phase, mapping.WriteDual); err != nil {
				t.Fatal(err)
			}
			r, err := query(t, e.db, q.sql, q.args...)
			if err != nil {
				t.Fatalf("%s in %s: %v", q.sql, phase, err)
			}
			results = append(results, r)
			tx, err := e.db.BeginTx(context.Background(), &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
			if err != nil {
				t.Fatal(err)
			}
			r, err = query(t, tx, q.sql, q.args...)
			if err != nil {
				t.Fatalf("%s in %s, in a transaction: %v", q.sql, phase, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			results = append(results, r)
		}
		for _, r := range results[1:] {
			if !reflect.DeepEqual(r, results[0]) {
				t.Fatalf("%s: results differ by phase: %+v", q.sql, results)
			}
		}
	}
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "match"}); n != float64(2*len(queries)) {
		t.Fatalf("matches = %v, want %d", n, 2*len(queries))
	}
	// A corrupted new row is caught.
	mustExec(t, e.raw, "UPDATE accounts SET last_name = 'Byron' WHERE account_id = 1")
	if _, err := query(t, e.db, "SELECT * FROM users WHERE id = $1", 1); err != nil {
		t.Fatal(err)
	}
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "mismatch"}); n != 1 {
		t.Fatalf("mismatches = %v, want 1", n)
	}
}

// TestPostgresConcurrency: 8 goroutines write through the wrapper for a few
// seconds, some in transactions that roll back, while compare reads run;
// afterwards new = up(old) exactly and no comparison mismatched.
func TestPostgresConcurrency(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newPostgresEnv(t, dualwrite.WithRegisterer(reg))
	e.db.SetMaxOpenConns(10)
	if err := e.sw.SetRead(mapping.ReadCompare, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				id := i%40 + 1
				var err error
				switch i % 5 {
				case 0:
					_, err = e.db.Exec(fmt.Sprintf("INSERT INTO users (id, full_name, visits) VALUES (%d, 'Writer %d', 1) ON CONFLICT (id) DO UPDATE SET visits = users.visits + 1", id, w))
				case 1:
					_, err = e.db.Exec("UPDATE users SET visits = visits + 1, full_name = 'Up Dated' WHERE id = $1", id)
				case 2:
					_, err = e.db.Exec("DELETE FROM users WHERE id = $1", id+7)
				case 3:
					var tx *sql.Tx
					if tx, err = e.db.Begin(); err == nil {
						if _, err = tx.Exec("UPDATE users SET visits = -1 WHERE id = $1", id); err == nil {
							err = tx.Rollback()
						} else {
							_ = tx.Rollback()
						}
					}
				default:
					_, err = query(t, e.db, "SELECT id, full_name, visits FROM users WHERE id <= $1 ORDER BY id", id)
				}
				var pe *pgconn.PgError
				if errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "23505") {
					err = nil // a deadlock or a racing insert: the statement failed whole
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
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
	e.checkInvariant()
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "mismatch"}); n != 0 {
		t.Fatalf("%v mismatches", n)
	}
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "match"}); n == 0 {
		t.Fatal("nothing was compared")
	}
}

// TestPostgresNewPhaseUsesIndexes: in the new phase a filter on a renamed
// key or an indexed renamed column is served by the new table's index
// (PostgreSQL inlines the derived table), shown with EXPLAIN.
func TestPostgresNewPhaseUsesIndexes(t *testing.T) {
	e := newPostgresEnv(t)
	mustExec(t, e.raw, "CREATE INDEX accounts_email ON accounts (email_address)")
	mustExec(t, e.raw, "INSERT INTO users (id, full_name, email) SELECT g, 'Person ' || g, 'p' || g || '@x' FROM generate_series(1, 5000) g")
	mustExec(t, e.raw, "INSERT INTO accounts SELECT id, email, split_part(full_name, ' ', 1), substr(full_name, length(split_part(full_name, ' ', 1)) + 2), visits FROM users")
	mustExec(t, e.raw, "ANALYZE accounts")
	if err := e.sw.SetRead(mapping.ReadNew, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ query, index string }{
		{"SELECT * FROM users WHERE id = 42", "accounts_pkey"},
		{"SELECT u.full_name FROM users u WHERE u.email = 'p42@x'", "accounts_email"},
	} {
		// EXPLAIN of the statement the new phase runs: the caller's query with
		// the derived table, as the wrapper builds it.
		r, err := query(t, e.db, c.query)
		if err != nil || len(r.Rows) != 1 {
			t.Fatalf("%s: %+v, %v", c.query, r, err)
		}
		plan := planText(t, e, c.query)
		if !strings.Contains(plan, "Index") || !strings.Contains(plan, c.index) {
			t.Fatalf("%s in the new phase does not use %s:\n%s", c.query, c.index, plan)
		}
	}
}

// planText returns EXPLAIN's output for the query the new phase runs: the
// planner's substitution, as the wrapper builds it.
func planText(t *testing.T, e *env, query string) string {
	t.Helper()
	plan, _ := rewrite.NewPlanner(rewrite.Postgres, e.m, &rewrite.Schema{}, 10).Plan(query)
	if plan.Read == nil {
		t.Fatalf("%s: no read plan (%v)", query, plan.Err)
	}
	var lines []string
	for _, row := range rows(t, e.raw, "EXPLAIN "+plan.Read.NewQuery) {
		lines = append(lines, fmt.Sprint(row[0]))
	}
	return strings.Join(lines, "\n")
}

// TestPostgresCompareErrorKeepsTransaction: when the new-table query of a
// comparison fails inside a caller's transaction, the caller still gets the
// old rows and the transaction stays usable.
func TestPostgresCompareErrorKeepsTransaction(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newPostgresEnv(t, dualwrite.WithRegisterer(reg))
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	if err := e.sw.SetRead(mapping.ReadCompare, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	mustExec(t, e.raw, "ALTER TABLE accounts RENAME COLUMN last_name TO surname")
	for _, inTx := range []bool{false, true} {
		var q interface {
			Query(string, ...any) (*sql.Rows, error)
		} = e.db
		var tx *sql.Tx
		if inTx {
			var err error
			if tx, err = e.db.Begin(); err != nil {
				t.Fatal(err)
			}
			q = tx
		}
		r, err := query(t, q, "SELECT full_name FROM users WHERE id = $1", 1)
		if err != nil || len(r.Rows) != 1 || r.Rows[0][0] != "Ada Lovelace" {
			t.Fatalf("in a transaction: %v: %+v, %v; want the old row", inTx, r, err)
		}
		if tx != nil {
			if _, err := tx.Exec("UPDATE audit SET msg = 'still usable'"); err != nil {
				t.Fatalf("the transaction was aborted by the comparison: %v", err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "error"}); n != 2 {
		t.Fatalf("errors = %v, want 2", n)
	}
}
