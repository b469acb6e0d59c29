package dualwrite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// seed writes rows to the old tables and up(old) to the new ones, by the
// mapping's expressions, so that the reverse expressions give the old rows
// back.
func seed(t *testing.T, e *env) {
	t.Helper()
	for _, q := range []string{
		"INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada Lovelace', 'ada@x', 3), (2, 'Grace Brewster Hopper', NULL, 0), (3, 'Plato', 'p@x', 3), (4, 'Alan Turing', 'alan@x', 7)",
		"INSERT INTO memberships VALUES (1, 1, 'admin'), (1, 2, 'member'), (2, 1, 'member'), (2, 4, 'guest')",
		"INSERT INTO audit (id, msg) VALUES (1, 'one'), (4, 'four'), (9, 'nine')",
		"CREATE INDEX users_email ON users (email)",
	} {
		mustExec(t, e.raw, q)
	}
	for _, tb := range e.m.Tables {
		var cols, exprs []string
		for _, c := range tb.Columns {
			cols, exprs = append(cols, c.Name), append(exprs, c.Expr)
		}
		mustExec(t, e.raw, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", tb.New, strings.Join(cols, ", "), strings.Join(exprs, ", "), tb.Old))
	}
	e.checkInvariant()
}

func args(q corpus.Read) []any {
	out := append([]any(nil), q.Args...)
	for k, v := range q.Named {
		out = append(out, sql.Named(k, v))
	}
	return out
}

// result is a query's column names and rows.
type result struct {
	Cols []string
	Rows [][]any
}

func query(t *testing.T, db interface {
	Query(string, ...any) (*sql.Rows, error)
}, q string, a ...any) (result, error) {
	t.Helper()
	rs, err := db.Query(q, a...) //nolint:rowserrcheck // dbtest.Scan checks rs.Err
	if err != nil {
		return result{}, err
	}
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	return result{Cols: cols, Rows: dbtest.Scan(t, rs)}, nil
}

// TestReadPhasesAgree runs every corpus query in the old, new and compare
// phases, outside and inside a transaction, on data where new = up(old):
// the results (values, column names, column order) are identical, and
// compare finds no mismatch.
func TestReadPhasesAgree(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		reg := prometheus.NewRegistry()
		e := b.open(t, dualwrite.WithRegisterer(reg))
		seed(t, e)
		compared := 0
		for _, q := range corpus.Reads {
			if q.SQLiteOnly && b.name != "sqlite" {
				continue
			}
			t.Run(q.Name, func(t *testing.T) {
				sql := b.sql(q.SQL)
				var want *result
				for _, phase := range []mapping.ReadPhase{mapping.ReadOld, mapping.ReadNew, mapping.ReadCompare} {
					if err := e.sw.SetRead(phase, mapping.WriteDual); err != nil {
						t.Fatal(err)
					}
					for _, inTx := range []bool{false, true} {
						got, err := queryIn(t, e, inTx, sql, args(q)...)
						if q.Refused {
							// The old phase runs it as written (the database may reject it).
							if phase != mapping.ReadOld && !errors.Is(err, dualwrite.ErrUnsupported) {
								t.Fatalf("%s phase: %v, want ErrUnsupported", phase, err)
							}
							continue
						}
						if err != nil {
							t.Fatalf("%s phase (in a transaction: %v): %v", phase, inTx, err)
						}
						if !strings.Contains(sql, "ORDER BY") {
							// Without ORDER BY the rows come in any order.
							slices.SortFunc(got.Rows, func(a, b []any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
						}
						if want == nil {
							want = &got
						} else if !reflect.DeepEqual(got, *want) {
							t.Fatalf("%s phase (in a transaction: %v):\n %+v\nold phase:\n %+v", phase, inTx, got, *want)
						}
						if phase == mapping.ReadCompare {
							compared++
						}
					}
				}
			})
		}
		if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "mismatch"}); n != 0 {
			t.Fatalf("%v mismatches on equal data", n)
		}
		// Queries with LIMIT and no ORDER BY are not compared.
		if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "match"}); n < float64(compared)*3/4 {
			t.Fatalf("only %v of %d comparisons matched", n, compared)
		}
	})
}

// queryIn runs a query on e.db, in a transaction of its own when inTx is set.
func queryIn(t *testing.T, e *env, inTx bool, q string, a ...any) (result, error) {
	t.Helper()
	if !inTx {
		return query(t, e.db, q, a...)
	}
	tx, err := e.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	return query(t, tx, q, a...)
}

// TestReadRoutingInTransactionAndPrepared: prepared queries and queries in
// a transaction follow the read phase too.
func TestReadRoutingInTransactionAndPrepared(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, dualwrite.WithRegisterer(reg))
	seed(t, e)
	// Make the two sides distinguishable.
	mustExec(t, e.raw, "UPDATE accounts SET visits = 100 WHERE account_id = 1")
	stmt, err := e.db.Prepare("SELECT visits FROM users WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for _, c := range []struct {
		phase mapping.ReadPhase
		want  int64
	}{{mapping.ReadOld, 3}, {mapping.ReadNew, 100}, {mapping.ReadCompare, 3}} {
		if err := e.sw.SetRead(c.phase, mapping.WriteDual); err != nil {
			t.Fatal(err)
		}
		var got int64
		if err := stmt.QueryRow(1).Scan(&got); err != nil || got != c.want {
			t.Fatalf("%s prepared: %d, %v; want %d", c.phase, got, err, c.want)
		}
		tx, err := e.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow("SELECT visits FROM users WHERE id = ?", 1).Scan(&got); err != nil || got != c.want {
			t.Fatalf("%s in a transaction: %d, %v; want %d", c.phase, got, err, c.want)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// compare returned the old value and saw the new one: both reads mismatched.
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "mismatch"}); n != 2 {
		t.Fatalf("mismatches = %v, want 2 (prepared and in a transaction)", n)
	}
}

// TestReadPhaseFromEnvironment flips DUALWRITE_READ_PHASE between queries on
// one *sql.DB and sees the routing change at once.
func TestReadPhaseFromEnvironment(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e := newEnv(t, dualwrite.WithRegisterer(reg), dualwrite.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	seed(t, e)
	mustExec(t, e.raw, "UPDATE accounts SET visits = 100 WHERE account_id = 1")
	visits := func() int64 {
		t.Helper()
		var v int64
		if err := e.db.QueryRow("SELECT visits FROM users WHERE id = 1").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		env  string
		want int64
	}{{"old", 3}, {"new", 100}, {"old", 3}, {"NEW", 100}, {"sideways", 100}, {"compare", 3}} {
		t.Setenv(dualwrite.ReadPhaseEnv, c.env)
		if got := visits(); got != c.want {
			t.Fatalf("%s=%s: visits %d, want %d", dualwrite.ReadPhaseEnv, c.env, got, c.want)
		}
	}
	if !strings.Contains(logs.String(), `invalid read phase \"sideways\"`) {
		t.Fatalf("the invalid value was not logged: %s", logs.String())
	}
	// Reading from the new tables while writes are off is refused.
	t.Setenv(dualwrite.ReadPhaseEnv, "new")
	t.Setenv(dualwrite.WritePhaseEnv, "off")
	if got := visits(); got != 3 {
		t.Fatalf("read phase new with writes off: visits %d, want the old 3", got)
	}
	if !strings.Contains(logs.String(), "refusing read phase while the write phase is off") {
		t.Fatalf("the unsafe combination was not logged: %s", logs.String())
	}
	if err := e.sw.SetRead(mapping.ReadNew, mapping.WriteDual); err == nil {
		t.Fatal("SetRead(new) accepted while the write phase is off")
	}
	if n := counterValue(t, reg, "dualwrite_invalid_phase_total", map[string]string{"variable": dualwrite.ReadPhaseEnv}); n != 2 {
		t.Fatalf("invalid read phases counted %v, want 2 (one invalid value, one unsafe combination)", n)
	}
}

// TestCompareFindsMismatch: a corrupted new row is counted and logged with
// a sample, and the caller still gets the old rows; a broken new table
// counts an error and the caller still succeeds.
func TestCompareFindsMismatch(t *testing.T) {
	forBackends(t, testCompareFindsMismatch)
}

func testCompareFindsMismatch(t *testing.T, b backend) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e := b.open(t, dualwrite.WithRegisterer(reg), dualwrite.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	seed(t, e)
	if err := e.sw.SetRead(mapping.ReadCompare, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	want, err := query(t, e.raw, "SELECT * FROM users ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, e.raw, "UPDATE accounts SET last_name = 'Byron' WHERE account_id = 1")
	got, err := query(t, e.db, "SELECT * FROM users ORDER BY id")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("compare phase returned %+v, %v; want the old rows %+v", got, err, want)
	}
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"table": "users", "result": "mismatch"}); n != 1 {
		t.Fatalf("mismatches = %v, want 1", n)
	}
	for _, s := range []string{"old and new tables disagree", `"table":"users"`, "Ada Byron", "Ada Lovelace", `"old_rows":4`, `"new_rows":4`, `"fingerprint"`} {
		if !strings.Contains(logs.String(), s) {
			t.Fatalf("the mismatch log lacks %s:\n%s", s, logs.String())
		}
	}
	if strings.Contains(logs.String(), "SELECT") {
		t.Fatalf("the log holds SQL text:\n%s", logs.String())
	}
	mustExec(t, e.raw, "ALTER TABLE accounts RENAME COLUMN last_name TO surname")
	got, err = query(t, e.db, "SELECT * FROM users ORDER BY id")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("with a broken new table: %+v, %v; want the old rows", got, err)
	}
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"table": "users", "result": "error"}); n != 1 {
		t.Fatalf("errors = %v, want 1", n)
	}
}

// TestCompareSkips: a query with LIMIT and no ORDER BY is not compared (its
// two results may rightly hold different rows), and the sample rate bounds
// how many queries are.
func TestCompareSkips(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, dualwrite.WithRegisterer(reg), dualwrite.WithCompareSampleRate(1e-12))
	seed(t, e)
	if err := e.sw.SetRead(mapping.ReadCompare, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := query(t, e.db, "SELECT * FROM users WHERE id = ?", 1); err != nil {
			t.Fatal(err)
		}
	}
	if n := counterValue(t, reg, "dualwrite_read_compare_total", nil); n != 0 {
		t.Fatalf("%v comparisons at a sample rate of 1e-12", n)
	}
	if n := counterValue(t, reg, "dualwrite_reads_total", map[string]string{"phase": "compare"}); n != 20 {
		t.Fatalf("reads in compare = %v, want 20", n)
	}
	if _, err := dualwrite.NewConnector(dbtest.Connector{}, e.m, dualwrite.WithCompareSampleRate(0)); err == nil {
		t.Fatal("a sample rate of 0 was accepted")
	}
	reg2 := prometheus.NewRegistry()
	lim := newEnv(t, dualwrite.WithRegisterer(reg2))
	seed(t, lim)
	if err := lim.sw.SetRead(mapping.ReadCompare, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	if _, err := query(t, lim.db, "SELECT * FROM users LIMIT 2"); err != nil {
		t.Fatal(err)
	}
	if _, err := query(t, lim.db, "SELECT * FROM users ORDER BY id LIMIT 2"); err != nil {
		t.Fatal(err)
	}
	if n := counterValue(t, reg2, "dualwrite_read_compare_total", map[string]string{"result": "match"}); n != 1 {
		t.Fatalf("%v comparisons, want 1 (the ordered query only)", n)
	}
	if n := counterValue(t, reg2, "dualwrite_read_compare_total", map[string]string{"result": "not_compared"}); n != 1 {
		t.Fatalf("%v queries counted as not compared, want 1 (the LIMIT without ORDER BY)", n)
	}
}

// TestComparePointLookups: a query with LIMIT and no ORDER BY whose WHERE
// fixes the whole key (WHERE id = ? LIMIT 1) returns at most one row, and
// is compared: a match is counted, a corrupted new row is caught as a
// mismatch while the caller gets the old row; a LIMIT on a non-key column
// is still not compared, and counted so.
func TestComparePointLookups(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		reg := prometheus.NewRegistry()
		e := b.open(t, dualwrite.WithRegisterer(reg))
		seed(t, e)
		if err := e.sw.SetRead(mapping.ReadCompare, mapping.WriteDual); err != nil {
			t.Fatal(err)
		}
		count := func(result string) float64 {
			t.Helper()
			return counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": result})
		}
		lookup := b.sql("SELECT * FROM users WHERE id = ? LIMIT 1")
		want, err := query(t, e.raw, lookup, 1)
		if err != nil || len(want.Rows) != 1 {
			t.Fatalf("%+v, %v", want, err)
		}
		if got, err := query(t, e.db, lookup, 1); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("compare returned %+v, %v; want %+v", got, err, want)
		}
		if _, err := query(t, e.db, b.sql("SELECT role FROM memberships m WHERE m.user_id = ? AND m.org_id = ? LIMIT 1"), 4, 2); err != nil {
			t.Fatal(err)
		}
		if n := count("match"); n != 2 {
			t.Fatalf("matches = %v, want 2 (the two point lookups)", n)
		}
		mustExec(t, e.raw, "UPDATE accounts SET last_name = 'Byron' WHERE account_id = 1")
		if got, err := query(t, e.db, lookup, 1); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("compare with a corrupted new row returned %+v, %v; want the old row %+v", got, err, want)
		}
		if n := count("mismatch"); n != 1 {
			t.Fatalf("mismatches = %v, want 1 (the corrupted row)", n)
		}
		if _, err := query(t, e.db, b.sql("SELECT * FROM users WHERE visits = ? LIMIT 1"), 3); err != nil {
			t.Fatal(err)
		}
		if m, n := count("match")+count("mismatch"), count("not_compared"); m != 3 || n != 1 {
			t.Fatalf("the LIMIT on a non-key column: %v comparisons, %v not compared; want 3 and 1", m, n)
		}
	})
}

// TestWritesAreNotReads: in the new read phase, a write's RETURNING rows and
// the queries inside a write still read the old tables.
func TestWritesAreNotReads(t *testing.T) {
	e := newEnv(t)
	seed(t, e)
	mustExec(t, e.raw, "UPDATE accounts SET last_name = 'Byron' WHERE account_id = 1")
	if err := e.sw.SetRead(mapping.ReadNew, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := e.db.QueryRow("UPDATE users SET visits = visits + 1 WHERE id = 1 RETURNING full_name").Scan(&name); err != nil || name != "Ada Lovelace" {
		t.Fatalf("RETURNING in the new phase: %q, %v; want the old table's Ada Lovelace", name, err)
	}
	mustExec(t, e.db, "INSERT INTO audit (id, msg) SELECT 50, full_name FROM users WHERE id = 1")
	if got := rows(t, e.raw, "SELECT msg FROM audit WHERE id = 50")[0][0]; got != "Ada Lovelace" {
		t.Fatalf("INSERT ... SELECT in the new phase read %q, want the old table's Ada Lovelace", got)
	}
	e.checkInvariant() // the UPDATE re-mirrored row 1
}

// TestNestedSameQueryInNewPhase runs a query again while its own rows are
// still open on the same connection (a transaction): the wrapper's prepared
// statement is busy, so the inner run must not reset the outer rows.
func TestNestedSameQueryInNewPhase(t *testing.T) {
	e := newEnv(t)
	seed(t, e)
	if err := e.sw.SetRead(mapping.ReadNew, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	tx, err := e.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = "SELECT id, full_name FROM users WHERE id > ? ORDER BY id"
	outer, err := tx.Query(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int64
	for outer.Next() {
		var id int64
		var name string
		if err := outer.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, id)
		inner, err := query(t, tx, q, 10+id) // other arguments than the outer run's
		if err != nil {
			t.Fatal(err)
		}
		if len(inner.Rows) != 0 {
			t.Fatalf("inner query after id %d returned %d rows", id, len(inner.Rows))
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if !reflect.DeepEqual(seen, []int64{1, 2, 3, 4}) {
		t.Fatalf("the outer rows were %v, want 1..4", seen)
	}
}

// TestCompareCanceledByCaller: a comparison that the caller's own context
// ends is counted as not compared, never as an error of the new table.
func TestCompareCanceledByCaller(t *testing.T) {
	reg := prometheus.NewRegistry() // PostgreSQL, for pg_sleep
	e := postgresBackend.open(t, dualwrite.WithRegisterer(reg))
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	if err := e.sw.SetRead(mapping.ReadCompare, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var id int64
	err := e.db.QueryRowContext(ctx, "SELECT id FROM users WHERE pg_sleep(0.5) IS NOT NULL AND id = $1", 1).Scan(&id)
	if err == nil {
		t.Fatal("a query that sleeps past its context's deadline succeeded")
	}
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "error"}); n != 0 {
		t.Fatalf("%v comparisons counted as errors after the caller's context ended: %v", n, err)
	}
	if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "not_compared"}); n != 1 {
		t.Fatalf("not_compared = %v, want 1", n)
	}
}
