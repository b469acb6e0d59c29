package dualwrite_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// TestPostgresNewPhaseUsesIndexes: in the new phase a filter on a renamed
// key or an indexed renamed column is served by the new table's index
// (PostgreSQL inlines the derived table), shown with EXPLAIN.
func TestPostgresNewPhaseUsesIndexes(t *testing.T) {
	e := postgresBackend.open(t)
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
	e := postgresBackend.open(t, dualwrite.WithRegisterer(reg))
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
