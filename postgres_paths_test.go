package dualwrite_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// pgRefused runs q through the wrapper on PostgreSQL and asserts that it is
// refused with ErrUnsupported and that the old and new tables are as they
// were: it ran neither whole nor in part.
func pgRefused(t *testing.T, e *env, q string, asQuery bool) {
	t.Helper()
	before := rows(t, e.raw, "SELECT * FROM users ORDER BY id")
	var err error
	if asQuery {
		var rs interface{ Close() error }
		rs, err = e.db.Query(q) //nolint:rowserrcheck,sqlclosecheck // closed below; no rows are read
		if err == nil {
			_ = rs.Close()
		}
	} else {
		_, err = e.db.Exec(q)
	}
	if !errors.Is(err, dualwrite.ErrUnsupported) {
		t.Errorf("%s: got %v, want ErrUnsupported", q, err)
	}
	if after := rows(t, e.raw, "SELECT * FROM users ORDER BY id"); len(after) != len(before) {
		t.Errorf("%s changed users: %v, was %v", q, after, before)
	}
	e.checkInvariant()
}

// pgPathsEnv opens the PostgreSQL test schema through dualwrite, in the
// dual write phase, with two users mirrored.
func pgPathsEnv(t *testing.T) *env {
	t.Helper()
	e := postgresBackend.open(t)
	mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x')")
	e.checkInvariant()
	return e
}

// TestPostgresDoBlocks: a DO block whose body, however it is quoted, names
// a mapped table or builds statements with EXECUTE is refused before it
// runs; one that does neither runs.
func TestPostgresDoBlocks(t *testing.T) {
	for _, q := range []string{
		`DO 'BEGIN DELETE FROM users WHERE id = 2; END'`,
		`DO E'BEGIN DELETE FROM users WHERE id = 2; END'`,
		`DO E'BEGIN DELETE FROM us\x65rs WHERE id = 2; END'`,
		`DO U&'BEGIN DELETE FROM us\0065rs WHERE id = 2; END'`,
		"DO 'BEGIN DELETE FROM us'\n'ers WHERE id = 2; END'",
		`DO LANGUAGE plpgsql 'BEGIN DELETE FROM "users" WHERE id = 2; END'`,
		`DO 'BEGIN EXECUTE ''DELETE FROM us'' || ''ers WHERE id = 2''; END'`,
		`DO $$ BEGIN EXECUTE 'DELETE FROM us' || 'ers WHERE id = 2'; END $$`,
		`DO $$ BEGIN DELETE FROM U&"us\0065rs" WHERE id = 2; END $$`,
		`SELECT 1; DO 'BEGIN DELETE FROM users WHERE id = 2; END'`,
	} {
		t.Run(q, func(t *testing.T) { pgRefused(t, pgPathsEnv(t), q, false) })
	}
	e := pgPathsEnv(t)
	mustExec(t, e.db, `DO 'BEGIN INSERT INTO audit (id, msg) VALUES (1, ''ran''); END'`)
	if got := rows(t, e.raw, "SELECT msg FROM audit"); len(got) != 1 || got[0][0] != "ran" {
		t.Fatalf("audit after a DO block that names no mapped table = %v", got)
	}
}

// TestPostgresWritingCTEAnywhere: a data-modifying statement in a WITH is
// refused wherever the WITH stands in a statement that names a mapped
// table: in parentheses, under CREATE TABLE AS, SELECT INTO, EXPLAIN
// ANALYZE or COPY.
func TestPostgresWritingCTEAnywhere(t *testing.T) {
	for _, c := range []struct {
		q       string
		asQuery bool
	}{
		{"(WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d)", true},
		{"((WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d))", true},
		{"CREATE TABLE x AS WITH d AS (DELETE FROM accounts WHERE account_id = 1 RETURNING *) SELECT * FROM d", false},
		{"CREATE TEMP TABLE x AS WITH d AS MATERIALIZED (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d", false},
		{"WITH d AS (UPDATE users SET visits = 9 WHERE id = 1 RETURNING *) SELECT * INTO x FROM d", false},
		{"EXPLAIN ANALYZE WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d", true},
		{"COPY (WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d) TO STDOUT", false},
	} {
		t.Run(c.q, func(t *testing.T) { pgRefused(t, pgPathsEnv(t), c.q, c.asQuery) })
	}
}

// TestPostgresLongIdentifiers: PostgreSQL truncates an identifier longer
// than 63 bytes to its first 63 (never splitting a character), so a longer
// name that begins with a mapped table's 63-byte name writes that table:
// the write is mirrored.
func TestPostgresLongIdentifiers(t *testing.T) {
	old := "orders_" + strings.Repeat("o", 56) // 63 bytes
	nw := "orders_" + strings.Repeat("n", 56)
	schema := []string{
		"CREATE TABLE " + old + " (id int PRIMARY KEY, v text)",
		"CREATE TABLE " + nw + " (id int PRIMARY KEY, v text)",
	}
	yaml := "dialect: postgres\ntables:\n  - old: " + old + "\n    new: " + nw +
		"\n    key: [id]\n    columns:\n      id: id\n      v: upper(v)\n    reverse:\n      id: id\n      v: lower(v)\n"
	e := newEnvWith(t, schema, yaml, dbtest.Connector{DSN: pgtest.Schema(t), Base: &stdlib.Driver{}})
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO " + old + "_and_more (id, v) VALUES (1, 'a'), (2, 'b')",
		`UPDATE "` + old + `XYZ" SET v = 'c' WHERE id = 1`,
		"DELETE FROM " + strings.ToUpper(old) + "éé WHERE id = 2",
	} {
		mustExec(t, e.db, q)
		e.checkInvariant()
	}
	if got := rows(t, e.raw, "SELECT id, v FROM "+old); len(got) != 1 || got[0][1] != "c" {
		t.Fatalf("%s = %v, want the one row the statements left", old, got)
	}
	// A write to the new table by a longer name is refused like one by its own.
	if _, err := e.db.Exec("INSERT INTO " + nw + "_x (id, v) VALUES (5, 'E')"); !errors.Is(err, dualwrite.ErrUnsupported) {
		t.Fatalf("a write to the new table by a longer name: %v, want ErrUnsupported", err)
	}
}

// TestPostgresKeyFieldAssignment: assigning a field of a composite key
// (SET k.a = ...) or an element of an array key (SET k[1] = ...) changes
// the key: the change is mirrored as a key change, and refused in ON
// CONFLICT DO UPDATE like any assignment of a key column.
func TestPostgresKeyFieldAssignment(t *testing.T) {
	schema := []string{
		"CREATE TYPE pair AS (a int, b int)",
		"CREATE TABLE items (k pair PRIMARY KEY, v text)",
		"CREATE TABLE items_new (k pair PRIMARY KEY, v text)",
		"CREATE TABLE lists (k int[] PRIMARY KEY, v text)",
		"CREATE TABLE lists_new (k int[] PRIMARY KEY, v text)",
	}
	yaml := `dialect: postgres
tables:
  - old: items
    new: items_new
    key: [k]
    columns: {k: k, v: v}
    reverse: {k: k, v: v}
  - old: lists
    new: lists_new
    key: [k]
    columns: {k: k, v: v}
    reverse: {k: k, v: v}
`
	e := newEnvWith(t, schema, yaml, dbtest.Connector{DSN: pgtest.Schema(t), Base: &stdlib.Driver{}})
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	mustExec(t, e.db, "INSERT INTO items VALUES (ROW(1, 2), 'a'), (ROW(3, 4), 'b')")
	// A composite key's change runs as a key change, whose steps bind the
	// old and new keys cast to the key column's type
	// (TestPostgresCompositeTypeKey).
	for _, q := range []string{
		"UPDATE items SET k.a = (k).a + 10 WHERE (k).b = 2",
		"UPDATE items AS i SET v = 'c', k.b = 40 WHERE (i.k).a = 3",
	} {
		mustExec(t, e.db, q)
		e.checkInvariant()
	}
	if got := rows(t, e.raw, "SELECT k::text, v FROM items ORDER BY 1"); !reflect.DeepEqual(got, [][]any{{"(11,2)", "a"}, {"(3,40)", "c"}}) {
		t.Fatalf("items = %v", got)
	}
	for _, q := range []string{
		"INSERT INTO lists VALUES (ARRAY[1, 2], 'a'), (ARRAY[3, 4], 'b')",
		"UPDATE lists SET k[1] = 7 WHERE k[2] = 2",
		"UPDATE lists AS l SET k[2:2] = ARRAY[9], v = 'd' WHERE l.k[1] = 3",
	} {
		mustExec(t, e.db, q)
		e.checkInvariant()
	}
	if got := rows(t, e.raw, "SELECT k::text FROM lists ORDER BY k"); len(got) != 2 || got[0][0] != "{3,9}" || got[1][0] != "{7,2}" {
		t.Fatalf("lists keys = %v", got)
	}
	for _, q := range []string{
		"INSERT INTO items VALUES (ROW(11, 2), 'x') ON CONFLICT (k) DO UPDATE SET k.a = 50",
		"INSERT INTO lists VALUES (ARRAY[7, 9], 'x') ON CONFLICT (k) DO UPDATE SET k[1] = 50",
	} {
		if _, err := e.db.Exec(q); !errors.Is(err, dualwrite.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", q, err)
		}
		e.checkInvariant()
	}
}

// TestPostgresKeyChangeWithWith: a key-changing UPDATE with a WITH clause
// of its own is mirrored: its pre-select keeps the WITH.
func TestPostgresKeyChangeWithWith(t *testing.T) {
	e := pgPathsEnv(t)
	mustExec(t, e.db, "WITH s AS (SELECT 2 AS i) UPDATE users SET id = id + 100 WHERE id IN (SELECT i FROM s)")
	e.checkInvariant()
	mustExec(t, e.db, "WITH s(i) AS (SELECT $1::bigint) UPDATE users AS u SET id = u.id + s.i FROM s WHERE u.id = $2", 1000, 1)
	e.checkInvariant()
	if got := rows(t, e.raw, "SELECT id FROM users ORDER BY id"); len(got) != 2 || got[0][0] != int64(102) || got[1][0] != int64(1001) {
		t.Fatalf("users ids = %v, want 102 and 1001", got)
	}
}

// TestPostgresTableSampleNewPhase: in the new read phase a query that
// samples a mapped table is refused with ErrUnsupported naming
// TABLESAMPLE, not sent to the server as an invalid query; in the old phase
// it runs.
func TestPostgresTableSampleNewPhase(t *testing.T) {
	e := pgPathsEnv(t)
	q := "SELECT id FROM users u TABLESAMPLE SYSTEM (100) REPEATABLE (7) ORDER BY id"
	if got, err := query(t, e.db, q); err != nil || len(got.Rows) != 2 {
		t.Fatalf("old phase: %+v, %v; want both rows", got, err)
	}
	if err := e.sw.SetRead(mapping.ReadNew, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	if _, err := query(t, e.db, q); !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "TABLESAMPLE") {
		t.Fatalf("new phase: %v, want ErrUnsupported naming TABLESAMPLE", err)
	}
}

// TestPostgresBeforeTriggerChangesKey: a BEFORE UPDATE row trigger on the
// old table that changes the key makes every UPDATE a key change, whatever
// the statement assigns, so that the old key's new row goes with it; an
// upsert that may update a row there is refused.
func TestPostgresBeforeTriggerChangesKey(t *testing.T) {
	e := postgresBackend.open(t)
	mustExec(t, e.raw, `CREATE FUNCTION renumber() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.visits > 100 THEN NEW.id := NEW.id + 1000; END IF; RETURN NEW; END $$`)
	mustExec(t, e.raw, "CREATE TRIGGER renumber BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION renumber()")
	mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x')")
	mustExec(t, e.db, "UPDATE users SET visits = 200 WHERE id = 1")
	if got := rows(t, e.raw, "SELECT account_id FROM accounts ORDER BY account_id"); !reflect.DeepEqual(got, [][]any{{int64(2)}, {int64(1001)}}) {
		t.Fatalf("accounts keys after the trigger moved 1 to 1001: %v", got)
	}
	e.checkInvariant()
	pgRefused(t, e, "INSERT INTO users (id, full_name) VALUES (2, 'A T') ON CONFLICT (id) DO UPDATE SET visits = 500", false)
}

// TestPostgresTriggerCallsFunction: a trigger on an unmapped table whose
// function calls another function that writes a mapped table guards the
// unmapped table: the write that would fire it is refused.
func TestPostgresTriggerCallsFunction(t *testing.T) {
	e := postgresBackend.open(t)
	mustExec(t, e.raw, `CREATE FUNCTION add_user(i bigint, n text) RETURNS void LANGUAGE sql AS $$ INSERT INTO users (id, full_name) VALUES (i, n) $$`)
	mustExec(t, e.raw, `CREATE FUNCTION audit_calls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM add_user(NEW.id + 1000, NEW.msg); RETURN NEW; END $$`)
	mustExec(t, e.raw, "CREATE TRIGGER audit_calls AFTER INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_calls()")
	_, err := e.db.Exec("INSERT INTO audit (id, msg) VALUES (1, 'Via Function')")
	if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "audit_calls") {
		t.Fatalf("an insert whose trigger calls a function writing users: %v, want ErrUnsupported naming the trigger", err)
	}
	if n := e.count("users"); n != 0 {
		t.Fatalf("users has %d rows after the refused insert", n)
	}
	e.checkInvariant()
}
