package rewrite_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// pgPlanner plans for the PostgreSQL test mapping.
func pgPlanner(t *testing.T) *rewrite.Planner {
	t.Helper()
	m, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		t.Fatal(err)
	}
	return rewrite.NewPlanner(rewrite.Postgres, m, &rewrite.Schema{}, 100)
}

// pathCase is a statement and what the PostgreSQL planner must make of it.
type pathCase struct {
	sql    string
	action rewrite.Action
	kind   rewrite.Kind // Pass: the plan's kind
	table  string       // Refuse: the table the error names; Mirror: the old table
	says   string       // Refuse: a phrase of the error
}

func checkPaths(t *testing.T, p *rewrite.Planner, cases []pathCase) {
	t.Helper()
	for _, c := range cases {
		plan, _ := p.Plan(c.sql)
		if plan.Action != c.action {
			t.Errorf("%s: action %s (err %v), want %s", c.sql, actionNames[plan.Action], plan.Err, actionNames[c.action])
			continue
		}
		switch c.action {
		case rewrite.Pass:
			if plan.Kind != c.kind {
				t.Errorf("%s: kind %s, want %s", c.sql, plan.Kind, c.kind)
			}
		case rewrite.Refuse:
			var ue *rewrite.UnsupportedError
			if !errors.As(plan.Err, &ue) || !errors.Is(plan.Err, rewrite.ErrUnsupported) {
				t.Errorf("%s: err %#v, want an *UnsupportedError", c.sql, plan.Err)
				continue
			}
			if ue.Table != c.table || !strings.Contains(ue.Error(), c.says) || ue.Fix == "" {
				t.Errorf("%s: %v; want table %q, a fix, and %q", c.sql, ue, c.table, c.says)
			}
		case rewrite.Mirror:
			if plan.Table == nil || plan.Table.Map.Old != c.table {
				t.Errorf("%s: mirrors %v, want %s", c.sql, plan.Table, c.table)
			}
		}
	}
}

// TestPostgresTransactionControlInAnyStatement: transaction control in any
// statement of a string makes the plan's kind KindTx, which tells the
// driver that it no longer knows whether a transaction is open.
func TestPostgresTransactionControlInAnyStatement(t *testing.T) {
	checkPaths(t, pgPlanner(t), []pathCase{
		{sql: "BEGIN", action: rewrite.Pass, kind: rewrite.KindTx},
		{sql: "SELECT 1; BEGIN", action: rewrite.Pass, kind: rewrite.KindTx},
		{sql: "SET work_mem TO '8MB'; COMMIT;", action: rewrite.Pass, kind: rewrite.KindTx},
		{sql: "SELECT 1; PREPARE TRANSACTION 'x'", action: rewrite.Pass, kind: rewrite.KindTx},
		{sql: "SELECT 1; SELECT 2", action: rewrite.Pass, kind: rewrite.KindOther},
		{sql: "CREATE TABLE t2 (x int); ROLLBACK", action: rewrite.Pass, kind: rewrite.KindTx},
		{sql: "SELECT * FROM users; BEGIN", action: rewrite.Refuse, table: "users", says: "several statements"},
	})
}

// TestPostgresDoBlockRule: a DO block is refused, whatever its quoting,
// when its body names a mapped or guarded table, uses EXECUTE, holds a
// U&"..." identifier or escapes, or is in another language than plpgsql.
func TestPostgresDoBlockRule(t *testing.T) {
	m, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		t.Fatal(err)
	}
	strict := rewrite.NewPlanner(rewrite.Postgres, m, &rewrite.Schema{Guards: map[string]rewrite.Guard{
		"orgs": {Reason: "memberships.org_id references orgs(id) ON DELETE CASCADE", Delete: true},
	}}, 100)
	checkPaths(t, strict, []pathCase{
		{sql: `DO 'BEGIN DELETE FROM users WHERE id = 2; END'`, action: rewrite.Refuse, table: "users", says: "DO block whose body names users"},
		{sql: `do e'BEGIN DELETE FROM Accounts; END'`, action: rewrite.Refuse, table: "accounts", says: "names accounts"},
		{sql: `DO E'BEGIN DELETE FROM us\x65rs; END'`, action: rewrite.Refuse, table: "", says: "escapes"},
		{sql: `DO E'BEGIN DELETE FROM x; END' ` + "\n" + `'\x75sers'`, action: rewrite.Refuse, table: "", says: "escapes"},
		{sql: `DO U&'BEGIN DELETE FROM us\0065rs; END'`, action: rewrite.Refuse, table: "", says: "escapes"},
		{sql: `DO U&'BEGIN DELETE FROM us!0065rs; END' UESCAPE '!'`, action: rewrite.Refuse, table: "", says: "UESCAPE"},
		{sql: "DO 'BEGIN DELETE FROM us'\n'ers; END'", action: rewrite.Refuse, table: "users", says: "names users"},
		{sql: `DO 'BEGIN EXECUTE ''DELETE FROM us'' || ''ers''; END'`, action: rewrite.Refuse, table: "", says: "EXECUTE"},
		{sql: `DO $f$ BEGIN execute format('DELETE FROM %I', 'us' || 'ers'); END $f$`, action: rewrite.Refuse, table: "", says: "EXECUTE"},
		{sql: `DO $$ BEGIN DELETE FROM U&"us\0065rs"; END $$`, action: rewrite.Refuse, table: "", says: `U&"..."`},
		{sql: `DO $$ BEGIN DELETE FROM orgs; END $$`, action: rewrite.Refuse, table: "orgs", says: "names orgs"},
		{sql: `DO LANGUAGE plpython3u 'plpy.notice(1)'`, action: rewrite.Refuse, table: "", says: "language plpython3u"},
		{sql: `DO 'plpy.notice(1)' LANGUAGE "plperl"`, action: rewrite.Refuse, table: "", says: "language plperl"},
		{sql: `SELECT 1; DO 'BEGIN DELETE FROM users; END'`, action: rewrite.Refuse, table: "users", says: "names users"},
		{sql: `DO 'BEGIN UPDATE audit SET msg = ''x''; END'`, action: rewrite.Pass},
		{sql: `DO LANGUAGE plpgsql $$ BEGIN UPDATE audit SET msg = 'x'; END $$`, action: rewrite.Pass},
		{sql: `DO E'BEGIN UPDATE audit SET msg = ''x''; END'`, action: rewrite.Pass},
	})
}

// TestPostgresWritingCTERule: a data-modifying statement in a WITH, at any
// depth and under any statement, is refused when the statement names a
// mapped table; a WITH of reads is not.
func TestPostgresWritingCTERule(t *testing.T) {
	const cte = "refused statement on users: a data-modifying statement inside WITH"
	checkPaths(t, pgPlanner(t), []pathCase{
		{sql: "(WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d)", action: rewrite.Refuse, table: "users", says: cte},
		{sql: "SELECT * FROM (WITH d AS NOT MATERIALIZED (UPDATE audit SET msg = 'x' RETURNING id) SELECT * FROM d) s JOIN users USING (id)", action: rewrite.Refuse, table: "users", says: cte},
		{sql: "CREATE TABLE x AS WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d", action: rewrite.Refuse, table: "users", says: cte},
		{sql: "CREATE TABLE x AS WITH d AS MATERIALIZED (INSERT INTO users (id) VALUES (9) RETURNING *) SELECT * FROM d", action: rewrite.Refuse, table: "users", says: cte},
		{sql: "WITH d AS (DELETE FROM users RETURNING *) SELECT * INTO x FROM d", action: rewrite.Refuse, table: "users", says: cte},
		{sql: "EXPLAIN (ANALYZE) WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d", action: rewrite.Refuse, table: "users", says: "users"},
		{sql: "COPY (WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d) TO STDOUT", action: rewrite.Refuse, table: "users", says: "users"},
		{sql: "CREATE TABLE x AS WITH d AS (SELECT * FROM users) SELECT * FROM d", action: rewrite.Pass, kind: rewrite.KindDDL},
		{sql: "(WITH d AS (SELECT * FROM users) SELECT * FROM d)", action: rewrite.Read},
		{sql: "CREATE TABLE x AS WITH d AS (DELETE FROM audit RETURNING *) SELECT * FROM d", action: rewrite.Pass, kind: rewrite.KindDDL},
	})
}

// TestPostgresFoldTruncates: PostgreSQL keeps the first 63 bytes of a
// longer identifier, cut at a character boundary; SQLite keeps them all.
func TestPostgresFoldTruncates(t *testing.T) {
	a63, a62 := strings.Repeat("a", 63), strings.Repeat("a", 62)
	for _, c := range []struct{ tok, want string }{
		{a63, a63},
		{a63 + "bcd", a63},
		{strings.ToUpper(a63) + "B", a63},
		{`"` + a63 + `Bc"`, a63},
		{a62 + "é", a62},             // 64 bytes: the é does not fit whole
		{a62 + "b" + "é", a62 + "b"}, // 65 bytes
		{strings.Repeat("é", 40), strings.Repeat("é", 31)},
		{`"` + a62 + `""x"`, a62 + `"`},
	} {
		if got := rewrite.Postgres.Fold(c.tok); got != c.want {
			t.Errorf("Postgres.Fold(%q) = %q (%d bytes), want %q", c.tok, got, len(got), c.want)
		}
	}
	if got := rewrite.SQLite.Fold(a63 + "bcd"); got != a63+"bcd" {
		t.Errorf("SQLite.Fold truncated to %q", got)
	}
	old := "orders_" + strings.Repeat("o", 56)
	m := &mapping.Mapping{Dialect: "postgres", Tables: []*mapping.Table{{
		Old: old, New: "orders_new", Key: []string{"id"}, NewKey: []string{"id"},
		Columns: []mapping.Column{{Name: "id", Expr: "id"}, {Name: "v", Expr: "v"}},
	}}}
	p := rewrite.NewPlanner(rewrite.Postgres, m, &rewrite.Schema{}, 10)
	checkPaths(t, p, []pathCase{
		{sql: "INSERT INTO " + old + "_and_more (id, v) VALUES (1, 'a')", action: rewrite.Mirror, table: old},
		{sql: `UPDATE "` + old + `X" SET v = 'b'`, action: rewrite.Mirror, table: old},
		{sql: "DELETE FROM " + strings.ToUpper(old) + "éé", action: rewrite.Mirror, table: old},
		{sql: "INSERT INTO " + old[:62] + " (id) VALUES (1)", action: rewrite.Pass},
	})
}

// TestSetTargetFields: a SET target's fields and subscripts assign its
// column (SET k.a = ..., SET k[1] = ...): the column is recorded, not the
// field, so that a change of a key's part is seen as a key change.
func TestSetTargetFields(t *testing.T) {
	for _, c := range []struct {
		sql         string
		set, upsert []string
		unsupported bool
	}{
		{sql: "UPDATE t SET k.a = (k).a + 10", set: []string{"k"}},
		{sql: `UPDATE t AS x SET v = 1, "K".a.b = 2, k[1] = 3, k[1:2][3] = ARRAY[4]`, set: []string{"v", "K", "k", "k"}},
		{sql: "UPDATE t SET (k.a, v[2]) = (1, 2) WHERE id = 1", set: []string{"k", "v"}},
		{sql: "INSERT INTO t VALUES (1) ON CONFLICT (k) DO UPDATE SET k.a = 50, w[excluded.i] = 1", upsert: []string{"k", "w"}},
		{sql: "UPDATE t SET k[1 = 2", unsupported: true},
		{sql: "UPDATE t SET = 2", unsupported: true},
	} {
		st, err := rewrite.Postgres.Analyze(c.sql)
		if err != nil {
			t.Fatal(err)
		}
		if c.unsupported {
			if st.Unsupported == "" {
				t.Errorf("%s: analyzed as %+v, want unsupported", c.sql, st)
			}
			continue
		}
		if st.Unsupported != "" || !slices.Equal(st.SetColumns, c.set) || !slices.Equal(st.UpsertSetColumns, c.upsert) {
			t.Errorf("%s: SET %q, ON CONFLICT SET %q (unsupported %q); want %q, %q", c.sql, st.SetColumns, st.UpsertSetColumns, st.Unsupported, c.set, c.upsert)
		}
	}
	m := &mapping.Mapping{Dialect: "postgres", Tables: []*mapping.Table{{
		Old: "items", New: "items_new", Key: []string{"k"}, NewKey: []string{"k"},
		Columns: []mapping.Column{{Name: "k", Expr: "k"}, {Name: "v", Expr: "v"}},
	}}}
	p := rewrite.NewPlanner(rewrite.Postgres, m, &rewrite.Schema{}, 10)
	if plan, _ := p.Plan("UPDATE items SET k.a = (k).a + 10"); plan.Action != rewrite.Mirror || plan.PreSelect == "" {
		t.Errorf("a change of a composite key's field: %+v, want a key change with a pre-select", plan)
	}
	checkPaths(t, p, []pathCase{
		{sql: "INSERT INTO items VALUES (ROW(1, 2)) ON CONFLICT (k) DO UPDATE SET k.a = 50", action: rewrite.Refuse, table: "items", says: "assigns key column k"},
	})
}

// TestPostgresTableSampleRead: TABLESAMPLE samples a table's own pages; a
// derived table has none, so a query that samples a mapped table is not
// served from the new table, with an error that names TABLESAMPLE.
func TestPostgresTableSampleRead(t *testing.T) {
	p := pgPlanner(t)
	for _, q := range []string{
		"SELECT * FROM users TABLESAMPLE SYSTEM (50)",
		"SELECT u.id FROM users u TABLESAMPLE BERNOULLI (10) REPEATABLE (1)",
		"SELECT count(*) FROM audit a JOIN users AS u TABLESAMPLE SYSTEM (1) ON u.id = a.id",
	} {
		plan, _ := p.Plan(q)
		if plan.Action != rewrite.Read || plan.Err == nil || !strings.Contains(plan.Err.Error(), "TABLESAMPLE") || !errors.Is(plan.Err, rewrite.ErrUnsupported) {
			t.Errorf("%s: %+v (err %v), want a read plan refused for TABLESAMPLE", q, plan, plan.Err)
		}
	}
	if plan, _ := p.Plan("SELECT * FROM audit TABLESAMPLE SYSTEM (50) JOIN users u ON u.id = audit.id"); plan.Action != rewrite.Read || plan.Err != nil {
		t.Errorf("a sample of another table: %+v (err %v), want served", plan, plan.Err)
	}
}
