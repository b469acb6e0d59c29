package rewrite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite/rewrite"
)

// schemaSQL creates the tables the corpus names.
const schemaSQL = `
CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INTEGER NOT NULL DEFAULT 0);
CREATE INDEX users_email ON users (email);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INTEGER);
CREATE TABLE memberships (org_id INTEGER NOT NULL, user_id INTEGER NOT NULL, role TEXT, PRIMARY KEY (org_id, user_id));
CREATE TABLE members (org INTEGER NOT NULL, usr INTEGER NOT NULL, role_name TEXT, PRIMARY KEY (org, usr));
CREATE TABLE archive (id INTEGER, full_name TEXT, email TEXT, visits INTEGER);
CREATE TABLE stats (user_id INTEGER, n INTEGER);
CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE audit (id INTEGER);
`

const seedSQL = `
INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada Lovelace', 'ada@x', 3), (2, 'Alan Turing', 'alan@x', 0), (5, 'Grace', 'grace@x', 1);
INSERT INTO memberships VALUES (1, 1, 'admin'), (1, 2, 'member'), (1, 5, 'admin'), (2, 5, 'member'), (2, 2, 'admin');
INSERT INTO orgs VALUES (1, 'one'), (2, 'two'), (7, 'seven');
INSERT INTO stats VALUES (1, 10), (2, 20);
INSERT INTO archive VALUES (9, 'Old Timer', 'old@x', 4);
`

// openDB returns an in-memory SQLite database with the schema (and the
// seed rows when seed is set), on one connection so that it stays one database.
func openDB(t testing.TB, seed bool) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(schemaSQL); err != nil {
		t.Fatalf("schema: %v", err)
	}
	if seed {
		if _, err := db.Exec(seedSQL); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	return db
}

func prepare(db *sql.DB, q string) error {
	s, err := db.Prepare(q)
	if err != nil {
		return err
	}
	return s.Close()
}

// TestPlansPrepareInSQLite checks that every statement a Mirror plan runs is
// valid SQLite: the capture, the pre-select and the generated mirror statements.
func TestPlansPrepareInSQLite(t *testing.T) {
	db := openDB(t, false)
	planners := newPlanners()
	for _, tc := range planCases {
		plan, _ := planners[tc.planner].Plan(tc.sql)
		if plan.Action != rewrite.Mirror {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			if err := prepare(db, tc.sql); err != nil {
				t.Fatalf("corpus statement %q does not prepare: %v", tc.sql, err)
			}
			if err := prepare(db, plan.Capture); err != nil {
				t.Errorf("Capture %q: %v", plan.Capture, err)
			}
			if plan.PreSelect != "" {
				if err := prepare(db, plan.PreSelect); err != nil {
					if strings.HasPrefix(tc.sql, "WITH") {
						t.Fatalf("PreSelect %q of %q does not prepare (%v): preSelect drops the WITH clause the "+
							"WHERE refers to, so every key-changing UPDATE with a WITH clause fails at run time", plan.PreSelect, tc.sql, err)
					}
					t.Errorf("PreSelect %q: %v", plan.PreSelect, err)
				}
			}
		})
	}
	for _, old := range []string{"users", "memberships"} {
		tbl := planners["plain"].Table(old)
		for _, n := range []int{1, 2, 3, tbl.KeyBatch()} {
			if err := prepare(db, tbl.UpsertSQL(n)); err != nil {
				t.Errorf("%s UpsertSQL(%d): %v", old, n, err)
			}
			if err := prepare(db, tbl.DeleteSQL(n)); err != nil {
				t.Errorf("%s DeleteSQL(%d): %v", old, n, err)
			}
		}
	}
}

// numInput asks the SQLite driver how many arguments q takes.
func numInput(t testing.TB, db *sql.DB, q string) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	err = conn.Raw(func(dc any) error {
		s, err := dc.(driver.Conn).Prepare(q)
		if err != nil {
			return err
		}
		defer s.Close()
		n = s.NumInput()
		return nil
	})
	if err != nil {
		t.Fatalf("prepare %q: %v", q, err)
	}
	return n
}

// TestCaptureReturnsKeys runs every Mirror plan's Capture on a seeded
// database and checks that its last columns are the key columns.
func TestCaptureReturnsKeys(t *testing.T) {
	db := openDB(t, false) // empty, so that no INSERT conflicts
	planners := newPlanners()
	for _, tc := range planCases {
		plan, _ := planners[tc.planner].Plan(tc.sql)
		if plan.Action != rewrite.Mirror {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			args := make([]any, numInput(t, db, plan.Capture))
			for i := range args {
				args[i] = i + 1
			}
			checkCaptureColumns(t, db, plan, args)
		})
	}
}

// TestCaptureTrailingText: go-sqlite3's Query runs each statement of a
// string and returns the rows of the last one; a comment or a second
// semicolon after the statement counts as one more (empty) statement.
func TestCaptureTrailingText(t *testing.T) {
	p := newPlanners()["plain"]
	for _, q := range []string{
		"DELETE FROM users WHERE id = 1; -- done",
		"DELETE FROM users WHERE id = 1;;",
		"DELETE FROM users WHERE id = 1; /* done */",
		"DELETE FROM users WHERE id = 1 -- done",
		"DELETE FROM users WHERE id = 1;\n",
		"DELETE FROM users WHERE id = 1 ; ",
	} {
		t.Run(q, func(t *testing.T) {
			plan, _ := p.Plan(q)
			if plan.Action != rewrite.Mirror {
				return // refusing is fine
			}
			db := openDB(t, true)
			rows, err := db.Query(plan.Capture)
			if err != nil {
				return // an error is fine
			}
			var keys []int64
			for rows.Next() {
				var k int64
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				keys = append(keys, k)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			var n int
			db.QueryRow("SELECT count(*) FROM users WHERE id = 1").Scan(&n)
			if n == 0 && len(keys) == 0 {
				t.Fatalf("Plan(%q) is Mirror with Capture %q; through go-sqlite3's QueryContext (what "+
					"txn uses) the DELETE runs but its RETURNING rows are discarded for the trailing text, so no "+
					"key is captured and accounts keeps the row. Capture should end at the statement "+
					"(drop the text after End) or the planner refuse trailing statements.", q, plan.Capture)
			}
			if n != 0 || len(keys) != 1 || keys[0] != 1 {
				t.Errorf("Capture %q: deleted %v, users has id 1: %d rows", plan.Capture, keys, n)
			}
		})
	}
}

func checkCaptureColumns(t *testing.T, db *sql.DB, plan *rewrite.Plan, args []any) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.Query(plan.Capture, args...)
	if err != nil {
		t.Fatalf("Capture %q: %v", plan.Capture, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("Capture %q: %v", plan.Capture, err)
	}
	if len(cols) < plan.KeyCols || !reflect.DeepEqual(cols[len(cols)-plan.KeyCols:], plan.Table.Map.Key) {
		t.Errorf("Capture %q returns columns %v, want them to end with the key %v", plan.Capture, cols, plan.Table.Map.Key)
	}
}

// TestCaptureNULByte: SQLite reads a statement only up to its first NUL byte.
func TestCaptureNULByte(t *testing.T) {
	db := openDB(t, true)
	p := newPlanners()["plain"]
	for _, q := range []string{
		"DELETE FROM users WHERE id = 1\x00 anything",
		"UPDATE users SET visits = 7\x00",
		"INSERT INTO users (id) VALUES (42)\x00",
	} {
		t.Run(fmt.Sprintf("%q", q), func(t *testing.T) {
			plan, _ := p.Plan(q)
			if plan.Action != rewrite.Mirror {
				return // refusing is fine
			}
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			rows, err := tx.Query(plan.Capture)
			if err != nil {
				return // an error is fine: nothing is mirrored wrongly
			}
			cols, _ := rows.Columns()
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				return // an error is fine: nothing is mirrored wrongly
			}
			rows.Close()
			if len(cols) != plan.KeyCols {
				t.Fatalf("Plan(%q) is Mirror with Capture %q, but SQLite stops reading at the NUL byte: "+
					"the statement runs without RETURNING (columns %v), changes rows and reports no keys, so "+
					"the mirror silently misses them. The lexer should end the text at NUL or the planner refuse it.", q, plan.Capture, cols)
			}
		})
	}
}

// TestRowidKeyChange: when the key is an INTEGER PRIMARY KEY it is the rowid,
// and SET rowid = ... changes it.
func TestRowidKeyChange(t *testing.T) {
	db := openDB(t, true)
	p := newPlanners()["plain"]
	for _, q := range []string{
		"UPDATE users SET rowid = 1000 WHERE id = 1",
		"UPDATE users SET _rowid_ = 1000 WHERE id = 1",
		"UPDATE users SET oid = 1000 WHERE id = 1",
		"INSERT INTO users (id, email) VALUES (7, 'ada@x') ON CONFLICT (email) DO UPDATE SET rowid = 1000",
	} {
		t.Run(q, func(t *testing.T) {
			plan, _ := p.Plan(q)
			if plan.Action == rewrite.Refuse || plan.PreSelect != "" {
				return
			}
			// Show the divergence: the key of the changed row is not the one it had.
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var key int64
			if err := tx.QueryRow(plan.Capture).Scan(&key); err != nil {
				t.Fatalf("Capture %q: %v", plan.Capture, err)
			}
			var n int
			tx.QueryRow("SELECT count(*) FROM users WHERE id = 1").Scan(&n)
			if key == 1000 && n == 0 {
				t.Fatalf("Plan(%q) is %s without PreSelect, but the statement changes the key id (an "+
					"INTEGER PRIMARY KEY is the rowid) from 1 to %d: the mirror upserts 1000 and never deletes "+
					"accounts row 1. Assigning rowid/_rowid_/oid must count as assigning the key (or be refused).",
					q, actionNames[plan.Action], key)
			}
			t.Errorf("Plan(%q) = %s without PreSelect; Capture returned key %d, users has id 1: %d rows", q, actionNames[plan.Action], key, n)
		})
	}
}

// TestPreSelectMatchesUpdate checks PreSelect and Params.Bind against SQLite:
// with the caller's arguments bound as Bind says, the pre-select returns the
// old keys of exactly the rows the UPDATE changes.
func TestPreSelectMatchesUpdate(t *testing.T) {
	p := newPlanners()["plain"]
	tests := []struct {
		sql  string
		args []any
	}{
		{"UPDATE memberships SET user_id = user_id + ? WHERE org_id = :org AND role = ?3 OR (user_id = @u AND :org > 0)",
			[]any{100, sql.Named("org", 1), "admin", sql.Named("u", 5)}},
		{"UPDATE memberships AS m SET org_id = o.id FROM orgs AS o WHERE o.name = $name AND m.role <> ? AND m.org_id <> o.id",
			[]any{sql.Named("name", "seven"), "admin"}},
		{"UPDATE memberships SET (role, org_id) = (?2, ?1 + 10) WHERE user_id IN (?3, @other) AND role = ?2",
			[]any{1, "admin", 1, sql.Named("other", 5)}},
		{"UPDATE memberships SET org_id = org_id * 10 WHERE org_id = ?5 OR user_id = ?",
			[]any{nil, nil, nil, nil, 2, 1}},
		{"UPDATE memberships SET user_id = :a WHERE user_id = :b",
			[]any{sql.Named("b", 2), sql.Named("a", 9)}},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			plan, _ := p.Plan(tt.sql)
			if plan.Action != rewrite.Mirror || plan.PreSelect == "" {
				t.Fatalf("Plan = %s PreSelect %q, want Mirror with a PreSelect (err %v)", actionNames[plan.Action], plan.PreSelect, plan.Err)
			}
			db := openDB(t, true)
			before := map[int64][2]int64{}
			rows, err := db.Query("SELECT rowid, org_id, user_id FROM memberships")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id, o, u int64
				if err := rows.Scan(&id, &o, &u); err != nil {
					t.Fatal(err)
				}
				before[id] = [2]int64{o, u}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()

			// The pre-select, bound the way txn binds it.
			named := make([]driver.NamedValue, len(tt.args))
			for i, a := range tt.args {
				named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
				if n, ok := a.(sql.NamedArg); ok {
					named[i].Name, named[i].Value = n.Name, n.Value
				}
			}
			var bound []any
			for _, v := range plan.Params.Subset(named, plan.PreSelectParams) {
				bound = append(bound, v.Value)
			}
			got := queryKeys(t, db, plan.PreSelect, bound...)

			// The rows the statement really changes, by rowid.
			st, _ := rewrite.SQLite.Analyze(tt.sql)
			q := tt.sql[:st.End] + " RETURNING memberships.rowid" + tt.sql[st.End:]
			var want []string
			rows, err = db.Query(q, tt.args...)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				k := before[id]
				want = append(want, fmt.Sprintf("%d,%d", k[0], k[1]))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			sort.Strings(want)
			if len(want) == 0 {
				t.Fatalf("test statement changes no rows; pick arguments that select some")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("PreSelect %q with %v selects %v, the UPDATE changed %v", plan.PreSelect, bound, got, want)
			}
		})
	}
}

func queryKeys(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var o, u int64
		if err := rows.Scan(&o, &u); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, fmt.Sprintf("%d,%d", o, u))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

func TestParamsBind(t *testing.T) {
	p := newPlanners()["plain"]
	pos := func(ord int, v any) driver.NamedValue { return driver.NamedValue{Ordinal: ord, Value: v} }
	named := func(ord int, name string, v any) driver.NamedValue {
		return driver.NamedValue{Ordinal: ord, Name: name, Value: v}
	}
	tests := []struct {
		name  string
		sql   string
		count int
		args  []driver.NamedValue
		want  []any // Bind's values, 1..count
	}{
		{"anonymous", "UPDATE users SET id = ? WHERE id = ? AND email = ?", 3,
			[]driver.NamedValue{pos(1, 10), pos(2, 1), pos(3, "a")}, []any{10, 1, "a"}},
		{"numbered", "UPDATE users SET id = ?2 WHERE id = ?1 OR id = ?", 3,
			[]driver.NamedValue{pos(1, 1), pos(2, 10), pos(3, 7)}, []any{1, 10, 7}},
		{"named reused", "UPDATE users SET id = :new WHERE id = :old OR visits = :new", 2,
			[]driver.NamedValue{named(1, "old", 1), named(2, "new", 10)}, []any{10, 1}},
		{"prefixes are distinct names", "UPDATE users SET id = :a WHERE id = @a OR id = $a", 3,
			[]driver.NamedValue{named(1, "a", 5)}, []any{5, 5, 5}},
		{"mixed", "UPDATE users SET id = ? WHERE email = :e AND visits > ?5 OR full_name = ? OR email = @e OR id = :e", 7,
			[]driver.NamedValue{pos(1, "new"), named(2, "e", "e@x"), pos(5, 10), pos(6, "fn")},
			[]any{"new", "e@x", nil, nil, 10, "fn", "e@x"}},
		{"named then numbered", "UPDATE users SET id = :x WHERE id = ?1", 1,
			[]driver.NamedValue{named(1, "x", 3)}, []any{3}},
		{"tcl name", "UPDATE users SET id = $a::b WHERE id = ?", 2,
			[]driver.NamedValue{named(1, "a::b", 4), pos(2, 1)}, []any{4, 1}},
		{"ignores unknown and out of range", "UPDATE users SET id = :a WHERE id = ?", 2,
			[]driver.NamedValue{named(1, "zzz", 1), pos(2, 2), pos(9, 9), pos(0, 0)}, []any{nil, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, _ := p.Plan(tt.sql)
			if plan.Params == nil {
				t.Fatalf("Plan(%q) has no Params (action %s, err %v)", tt.sql, actionNames[plan.Action], plan.Err)
			}
			if plan.Params.Count != tt.count {
				t.Errorf("Count = %d, want %d", plan.Params.Count, tt.count)
			}
			got := plan.Params.Bind(tt.args)
			if len(got) != len(tt.want) {
				t.Fatalf("Bind returned %d values, want %d", len(got), len(tt.want))
			}
			for i, v := range got {
				if v.Ordinal != i+1 || v.Name != "" || v.Value != tt.want[i] {
					t.Errorf("Bind[%d] = %+v, want positional %d = %v", i, v, i+1, tt.want[i])
				}
			}
		})
	}
}

// TestParamsHugeNumber: SQLite refuses ?NNN above 32766, but Params counts
// whatever is written, and txn calls Bind, which allocates Count values,
// before SQLite ever sees the statement.
func TestParamsHugeNumber(t *testing.T) {
	p := newPlanners()["plain"]
	for _, q := range []string{
		"UPDATE users SET id = ?2000000000 WHERE id = ?1",
		"UPDATE users SET id = 1 WHERE id = ?9223372036854775807",
	} {
		plan, _ := p.Plan(q)
		if plan.Action == rewrite.Mirror && plan.Params != nil && plan.Params.Count > 32766 {
			t.Fatalf("Plan(%q) is Mirror with Params.Count = %d; txn.Write calls Params.Bind before the "+
				"statement reaches SQLite, which makes a slice of Count values: about 80 GB for ?2000000000 "+
				"(out of memory), a panic for ?9223372036854775807. Numbers above SQLite's limit (32766) should "+
				"be refused.", q, plan.Params.Count)
		}
	}
}

// TestPreSelectTclParam: SQLite reads @p(x) as one parameter; the lexer reads
// @p and a parenthesized x, and the pre-select renumbers only @p.
func TestPreSelectTclParam(t *testing.T) {
	db := openDB(t, false)
	q := "UPDATE users SET id = 2 WHERE id = @p(x)"
	if err := prepare(db, q); err != nil {
		t.Fatalf("%q does not prepare: %v", q, err)
	}
	plan, _ := newPlanners()["plain"].Plan(q)
	if plan.Action != rewrite.Mirror {
		return
	}
	if err := prepare(db, plan.PreSelect); err != nil {
		t.Fatalf("%q prepares in SQLite, but its PreSelect %q does not (%v): the lexer splits the "+
			"parameter @p(x) (see TestLexSQLiteTclParams)", q, plan.PreSelect, err)
	}
}
