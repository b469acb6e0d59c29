package rewrite_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

// want is what a test expects of a *rewrite.Statement. Spans are given as
// the text they cover; rest is the text after Statement.End.
type want struct {
	kind        rewrite.Kind
	schema      string
	table       string // folded Target.Table
	target      string // the target as written (the Target span)
	qual        string // Qualifier
	replace     bool
	set         []string
	upsertSet   []string
	from, where string
	returning   bool
	rest        string // src[End:]
	multi       bool
	unsupported string // a part of Unsupported; "" means none
	params      []string
}

var analyzeTests = []struct {
	name string
	sql  string
	want want
}{
	// INSERT
	{"insert one row", "INSERT INTO users (id, email) VALUES (?, ?)",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", params: []string{"?", "?"}}},
	{"insert many rows", "INSERT INTO users(id, email) VALUES (1, 'a'), (2, 'b'), (:id, @e)",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", params: []string{":id", "@e"}}},
	{"insert default values", "insert into users default values",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users"}},
	{"insert select", "INSERT INTO users (id, email) SELECT id, email FROM staging WHERE ok",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users"}},
	{"insert select join on", "INSERT INTO users SELECT s.* FROM staging s JOIN orgs o ON o.id = s.org_id WHERE o.name = ?",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", params: []string{"?"}}},
	{"insert with alias", "INSERT INTO users AS u (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET visits = u.visits + 1",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "u", upsertSet: []string{"visits"}}},
	{"insert returning", "INSERT INTO users (email) VALUES ('a') RETURNING id, email",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", returning: true}},
	{"insert select returning", "INSERT INTO users SELECT * FROM staging RETURNING *",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", returning: true}},

	// Upserts
	{"on conflict do nothing", "INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO NOTHING",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users"}},
	{"on conflict without target", "INSERT INTO users (id) VALUES (1) ON CONFLICT DO NOTHING RETURNING id",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", returning: true}},
	{"on conflict do update where", "INSERT INTO users (id, email) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET email = excluded.email, visits = visits + 1 WHERE excluded.email <> users.email",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", upsertSet: []string{"email", "visits"}, params: []string{"?", "?"}}},
	{"partial index conflict target", "INSERT INTO users (id) VALUES (1) ON CONFLICT (email) WHERE email IS NOT NULL DO UPDATE SET \"Visits\" = 0",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", upsertSet: []string{"visits"}}},
	{"several on conflict clauses", "INSERT INTO users (id, email) VALUES (1, 'a') ON CONFLICT (email) DO UPDATE SET full_name = 'x' WHERE 1 ON CONFLICT (id) DO UPDATE SET visits = 2 ON CONFLICT DO NOTHING RETURNING id",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", upsertSet: []string{"full_name", "visits"}, returning: true}},
	{"on conflict row assignment", "INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET (email, [full_name]) = (excluded.email, 'x')",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", upsertSet: []string{"email", "full_name"}}},
	{"on conflict assigning the key", "INSERT INTO users (id) VALUES (1) ON CONFLICT (email) DO UPDATE SET id = excluded.id",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", upsertSet: []string{"id"}}},
	{"on conflict without do", "INSERT INTO users (id) VALUES (1) ON CONFLICT (id)",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", unsupported: "ON CONFLICT without DO"}},
	{"on conflict do something else", "INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO SOMETHING",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", unsupported: "ON CONFLICT without DO"}},

	// REPLACE and conflict resolution
	{"insert or replace", "INSERT OR REPLACE INTO users (id) VALUES (1)",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", replace: true}},
	{"replace into", "REPLACE INTO users (id) VALUES (1)",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", replace: true}},
	{"insert or ignore", "INSERT OR IGNORE INTO users (id) VALUES (1)",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users"}},
	{"insert or abort", "insert or abort into users default values",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users"}},
	{"insert or nonsense", "INSERT OR WHATEVER INTO users (id) VALUES (1)",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", unsupported: "OR WHATEVER"}},
	{"insert without into", "INSERT users (id) VALUES (1)",
		want{kind: rewrite.KindInsert, unsupported: "INTO expected"}},

	// UPDATE
	{"update expressions", "UPDATE users SET visits = visits + 1, email = lower(?) WHERE id = ?",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits", "email"}, where: "id = ?", params: []string{"?", "?"}}},
	{"update without where", "UPDATE users SET visits = 0",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits"}}},
	{"update key", "UPDATE users SET id = id + 100 WHERE id IN (SELECT user_id FROM stats WHERE n > ?1)",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"id"}, where: "id IN (SELECT user_id FROM stats WHERE n > ?1)", params: []string{"?1"}}},
	{"update from", "UPDATE users SET visits = s.n FROM stats AS s WHERE s.user_id = users.id",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits"}, from: "stats AS s", where: "s.user_id = users.id"}},
	{"update from join", "UPDATE users SET visits = s.n FROM stats s JOIN orgs o ON o.id = s.n RETURNING id",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits"}, from: "stats s JOIN orgs o ON o.id = s.n", returning: true}},
	{"update or replace", "UPDATE OR REPLACE users SET email = ? WHERE id = 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", replace: true, set: []string{"email"}, where: "id = 1", params: []string{"?"}}},
	{"update or ignore", "UPDATE OR IGNORE users SET email = 'x'",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"email"}}},
	{"update alias", "UPDATE users AS u SET visits = u.visits + 1 WHERE u.id = 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "u", set: []string{"visits"}, where: "u.id = 1"}},
	{"update bare alias", "UPDATE users u SET visits = 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "u", set: []string{"visits"}}},
	{"update indexed by", "UPDATE users AS u INDEXED BY users_email SET visits = 1 WHERE email = 'a'",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "u", set: []string{"visits"}, where: "email = 'a'"}},
	{"update not indexed", "UPDATE users NOT INDEXED SET visits = 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits"}}},
	{"update row value", "UPDATE users SET (email, \"ID\") = (SELECT 'a', 2) WHERE id = 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"email", "id"}, where: "id = 1"}},
	{"update is distinct from", "UPDATE users SET email = ?, visits = email IS DISTINCT FROM ?, full_name = email IS NOT DISTINCT FROM 'x' WHERE email IS DISTINCT FROM ?",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"email", "visits", "full_name"}, where: "email IS DISTINCT FROM ?", params: []string{"?", "?", "?"}}},
	{"update case expression", "UPDATE users SET visits = CASE WHEN visits > 1 THEN 0 ELSE visits END, email = coalesce(email, '') WHERE 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits", "email"}, where: "1"}},
	{"update returning", "UPDATE users SET visits = 1 WHERE id = 1 RETURNING visits",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits"}, where: "id = 1", returning: true}},
	{"update order by", "UPDATE users SET visits = 1 ORDER BY id LIMIT 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits"}, unsupported: "ORDER in UPDATE"}},
	{"update where limit", "UPDATE users SET visits = 1 WHERE id > 1 LIMIT 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits"}, where: "id > 1", unsupported: "LIMIT in UPDATE"}},
	{"update without set", "UPDATE users WHERE id = 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "WHERE", unsupported: "SET expected"}},
	{"update garbage after target", "UPDATE users x y SET a = 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "x", unsupported: "SET expected at y"}},
	{"update set without =", "UPDATE users SET a 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"a"}, unsupported: "= expected"}},
	{"update unbalanced parens", "UPDATE users SET a = (1 WHERE id = 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"a"}, unsupported: "unbalanced"}},
	{"update unbalanced close", "UPDATE users SET a = 1) WHERE id = 1",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"a"}, unsupported: "unbalanced"}},

	// DELETE
	{"delete all", "DELETE FROM users",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "users"}},
	{"delete where", "DELETE FROM users WHERE id = :id AND email = :id",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "users", where: "id = :id AND email = :id", params: []string{":id", ":id"}}},
	{"delete alias", "DELETE FROM users AS u WHERE u.visits = 0 RETURNING id",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "u", where: "u.visits = 0", returning: true}},
	{"delete indexed by", "DELETE FROM users INDEXED BY users_email WHERE email = 'a'",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "users", where: "email = 'a'"}},
	{"delete limit", "DELETE FROM users WHERE visits = 0 LIMIT 10",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "users", where: "visits = 0", unsupported: "LIMIT in DELETE"}},
	{"delete garbage", "DELETE FROM users u v",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "u", unsupported: "unexpected v"}},
	{"delete without from", "DELETE users WHERE id = 1",
		want{kind: rewrite.KindDelete, unsupported: "FROM expected"}},
	{"delete without table", "DELETE FROM (SELECT 1)",
		want{kind: rewrite.KindDelete, unsupported: "table name expected"}},
	{"delete schema without table", "DELETE FROM main.",
		want{kind: rewrite.KindDelete, unsupported: "table name expected at end of statement"}},

	// WITH
	{"with insert", "WITH s AS (SELECT 1 AS id) INSERT INTO users (id) SELECT id FROM s",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users"}},
	{"with recursive update", "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) UPDATE users SET visits = 1 WHERE id IN c",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits"}, where: "id IN c"}},
	{"with delete", "WITH old AS MATERIALIZED (SELECT id FROM users WHERE visits = 0), o2 AS (SELECT 1) DELETE FROM users WHERE id IN old",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "users", where: "id IN old"}},
	{"with replace", "WITH s AS (SELECT 1) REPLACE INTO users (id) SELECT * FROM s",
		want{kind: rewrite.KindInsert, table: "users", target: "users", qual: "users", replace: true}},
	{"with select", "WITH s AS (DELETE FROM users) SELECT * FROM s",
		want{kind: rewrite.KindSelect}},
	{"with nothing", "WITH s AS (SELECT 1)",
		want{kind: rewrite.KindOther, unsupported: "WITH without a statement"}},

	// Names
	{"schema-qualified", "INSERT INTO main.users (id) VALUES (1)",
		want{kind: rewrite.KindInsert, schema: "main", table: "users", target: "main.users", qual: "main.users"}},
	{"quoted names", `UPDATE "Main"."USERS" SET visits = 1`,
		want{kind: rewrite.KindUpdate, schema: "main", table: "users", target: `"Main"."USERS"`, qual: `"Main"."USERS"`, set: []string{"visits"}}},
	{"bracket and backquote names", "DELETE FROM [main].`Users` WHERE 1",
		want{kind: rewrite.KindDelete, schema: "main", table: "users", target: "[main].`Users`", qual: "[main].`Users`", where: "1"}},
	{"string as table name", "DELETE FROM 'users' WHERE 1",
		want{kind: rewrite.KindDelete, table: "users", target: "'users'", qual: "'users'", where: "1"}},
	{"spaced qualified name", "DELETE FROM main . users",
		want{kind: rewrite.KindDelete, schema: "main", table: "users", target: "main . users", qual: "main . users"}},

	// Statement end, trailing text, several statements
	{"semicolon", "DELETE FROM users WHERE id = 1;",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "users", where: "id = 1", rest: ";"}},
	{"trailing line comment", "DELETE FROM users WHERE id = 1 -- the end",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "users", where: "id = 1", rest: " -- the end"}},
	{"semicolon and comment", "UPDATE users SET visits = 1 /* a */ ;  -- b\n",
		want{kind: rewrite.KindUpdate, table: "users", target: "users", qual: "users", set: []string{"visits"}, rest: " /* a */ ;  -- b\n"}},
	{"several semicolons", "DELETE FROM users;;",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "users", rest: ";;"}},
	{"multi", "DELETE FROM users WHERE id = ?; DELETE FROM stats WHERE user_id = ?",
		want{kind: rewrite.KindDelete, table: "users", target: "users", qual: "users", where: "id = ?", rest: "; DELETE FROM stats WHERE user_id = ?", multi: true, params: []string{"?"}}},
	{"multi after select", "SELECT 1; DELETE FROM users",
		want{kind: rewrite.KindSelect, rest: "; DELETE FROM users", multi: true}},
	{"leading semicolon", "; DELETE FROM users",
		want{kind: rewrite.KindEmpty, rest: "; DELETE FROM users", multi: true}},

	// Reads and others
	{"select", "SELECT * FROM users WHERE id = ?", want{kind: rewrite.KindSelect, rest: "", params: []string{"?"}}},
	{"values", "VALUES (1), (2)", want{kind: rewrite.KindSelect}},
	{"with select", "WITH u AS (SELECT * FROM users) SELECT count(*) FROM u", want{kind: rewrite.KindSelect}},
	{"parenthesized select", "(SELECT 1)", want{kind: rewrite.KindSelect}},
	{"begin", "BEGIN IMMEDIATE", want{kind: rewrite.KindTx}},
	{"commit", "COMMIT", want{kind: rewrite.KindTx}},
	{"end", "END TRANSACTION", want{kind: rewrite.KindTx}},
	{"rollback to", "ROLLBACK TO sp1", want{kind: rewrite.KindTx}},
	{"savepoint", "SAVEPOINT sp1", want{kind: rewrite.KindTx}},
	{"release", "RELEASE SAVEPOINT sp1", want{kind: rewrite.KindTx}},
	{"create", "CREATE TABLE t (id INTEGER PRIMARY KEY)", want{kind: rewrite.KindDDL}},
	{"drop", "DROP TABLE IF EXISTS users", want{kind: rewrite.KindDDL}},
	{"alter", "ALTER TABLE users ADD COLUMN x", want{kind: rewrite.KindDDL}},
	{"pragma", "PRAGMA table_info(users)", want{kind: rewrite.KindUtility}},
	{"explain", "EXPLAIN DELETE FROM users", want{kind: rewrite.KindUtility}},
	{"empty", "", want{kind: rewrite.KindEmpty}},
	{"only comments", "-- nothing\n/* here */", want{kind: rewrite.KindEmpty, rest: "-- nothing\n/* here */"}},
	{"only semicolon", " ; ", want{kind: rewrite.KindEmpty, rest: " ; "}},
}

func TestAnalyze(t *testing.T) {
	for _, tt := range analyzeTests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := rewrite.SQLite.Analyze(tt.sql)
			if err != nil {
				t.Fatalf("Analyze(%q): %v", tt.sql, err)
			}
			checkStatement(t, tt.sql, st, tt.want)
		})
	}
}

func spanText(src string, sp rewrite.Span) string {
	if sp.Start == sp.End {
		return ""
	}
	return src[sp.Start:sp.End]
}

func checkStatement(t *testing.T, src string, st *rewrite.Statement, w want) {
	t.Helper()
	var params []string
	for _, p := range st.Params {
		params = append(params, p.Text(src))
	}
	target := ""
	if st.Target.End > st.Target.Start {
		target = src[st.Target.Start:st.Target.End]
	}
	got := want{
		kind: st.Kind, schema: st.Target.Schema, table: st.Target.Table, target: target,
		qual: st.Qualifier, replace: st.Replace, set: st.SetColumns, upsertSet: st.UpsertSetColumns,
		from: spanText(src, st.From), where: spanText(src, st.Where), returning: st.Returning,
		rest: src[st.End:], multi: st.Multi, params: params,
	}
	switch {
	case w.unsupported == "" && st.Unsupported != "":
		t.Errorf("Unsupported = %q, want none", st.Unsupported)
	case w.unsupported != "" && !strings.Contains(st.Unsupported, w.unsupported):
		t.Errorf("Unsupported = %q, want it to contain %q", st.Unsupported, w.unsupported)
	}
	w.unsupported = ""
	if !reflect.DeepEqual(got, w) {
		t.Errorf("Analyze(%q)\n got %+v\nwant %+v", src, got, w)
	}
	if st.Kind.String() == "" {
		t.Errorf("Kind %d has no name", st.Kind)
	}
}

func TestKind(t *testing.T) {
	names := map[rewrite.Kind]string{
		rewrite.KindOther: "other", rewrite.KindSelect: "select", rewrite.KindInsert: "insert",
		rewrite.KindUpdate: "update", rewrite.KindDelete: "delete", rewrite.KindTx: "transaction",
		rewrite.KindDDL: "ddl", rewrite.KindEmpty: "empty",
	}
	for k, name := range names {
		if k.String() != name {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), name)
		}
		if want := k == rewrite.KindInsert || k == rewrite.KindUpdate || k == rewrite.KindDelete; k.IsWrite() != want {
			t.Errorf("%s.IsWrite() = %v, want %v", k, k.IsWrite(), want)
		}
	}
}

// TestAnalyzeStatementEnd checks the property the planner relies on: End is
// just past the last significant token of the first statement, so appending
// there lands before any trailing comment or semicolon.
func TestAnalyzeStatementEnd(t *testing.T) {
	for _, tt := range analyzeTests {
		st, err := rewrite.SQLite.Analyze(tt.sql)
		if err != nil {
			continue
		}
		if st.Kind == rewrite.KindEmpty {
			if st.End != 0 {
				t.Errorf("%s: empty statement has End %d", tt.name, st.End)
			}
			continue
		}
		toks, _ := rewrite.SQLite.Lex(tt.sql[:st.End])
		if len(toks) == 0 || int(toks[len(toks)-1].End) != st.End || toks[len(toks)-1].Kind == rewrite.Semicolon {
			t.Errorf("%s: End %d is not just past a significant token of %q", tt.name, st.End, tt.sql)
		}
	}
}
