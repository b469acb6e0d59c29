package rewrite_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testMapping maps users to accounts (key id) and memberships to members
// (composite key org_id, user_id).
func testMapping() *mapping.Mapping {
	return &mapping.Mapping{Tables: []*mapping.Table{
		{
			Old: "users", New: "accounts",
			Key: []string{"id"}, NewKey: []string{"account_id"},
			Columns: []mapping.Column{
				{Name: "account_id", Expr: "id"},
				{Name: "email_address", Expr: "email"},
				{Name: "first_name", Expr: "substr(full_name, 1, instr(full_name || ' ', ' ') - 1)"},
				{Name: "last_name", Expr: "ltrim(substr(full_name, instr(full_name || ' ', ' ')))"},
				{Name: "visits", Expr: "visits"},
			},
			Reverse: []mapping.Column{
				{Name: "id", Expr: "account_id"},
				{Name: "full_name", Expr: "trim(first_name || ' ' || last_name)"},
				{Name: "email", Expr: "email_address"},
				{Name: "visits", Expr: "visits"},
			},
		},
		{
			Old: "memberships", New: "members",
			Key: []string{"org_id", "user_id"}, NewKey: []string{"org", "usr"},
			Columns: []mapping.Column{
				{Name: "org", Expr: "org_id"},
				{Name: "usr", Expr: "user_id"},
				{Name: "role_name", Expr: "role"},
			},
			Reverse: []mapping.Column{
				{Name: "org_id", Expr: "org"},
				{Name: "user_id", Expr: "usr"},
				{Name: "role", Expr: "role_name"},
			},
		},
	}}
}

// strictSchema has a second unique constraint on users and guarded tables.
func strictSchema() *rewrite.Schema {
	return &rewrite.Schema{
		OtherUnique: map[string]bool{"users": true},
		Guards: map[string]rewrite.Guard{
			"orgs":       {Reason: "memberships.org_id references orgs(id) ON UPDATE CASCADE ON DELETE CASCADE", Update: true, Delete: true},
			"audit":      {Reason: "trigger audit_ai inserts into users", Insert: true},
			"users":      {Reason: "trigger users_ad deletes from memberships", Delete: true},
			"users_2024": {Reason: "users_2024 is a partition or inheritance child of mapped table users", Insert: true, Update: true, Delete: true, Rows: true},
		},
	}
}

func newPlanners() map[string]*rewrite.Planner {
	return map[string]*rewrite.Planner{
		"plain":  rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{}, 100),
		"strict": rewrite.NewPlanner(rewrite.SQLite, testMapping(), strictSchema(), 100),
	}
}

var actionNames = map[rewrite.Action]string{rewrite.Pass: "pass", rewrite.Mirror: "mirror", rewrite.Refuse: "refuse", rewrite.Read: "read"}

type planCase struct {
	name    string
	planner string // "plain" or "strict"
	sql     string
	action  rewrite.Action
	table   string // Refuse: the table the error names; Mirror: the old table
	preSel  bool   // Mirror: whether a PreSelect is expected
}

var planCases = []planCase{
	// Mirrored writes on users.
	{"insert one row", "plain", "INSERT INTO users (id, full_name, email) VALUES (?, ?, ?)", rewrite.Mirror, "users", false},
	{"insert many rows", "plain", "INSERT INTO users (id, email) VALUES (1, 'a'), (2, 'b')", rewrite.Mirror, "users", false},
	{"insert default values", "plain", "INSERT INTO users DEFAULT VALUES", rewrite.Mirror, "users", false},
	{"insert select", "plain", "INSERT INTO users SELECT * FROM archive WHERE true", rewrite.Mirror, "users", false},
	{"insert select join", "plain", "INSERT INTO users (id, email) SELECT a.id, a.email FROM archive AS a JOIN stats s ON s.user_id = a.id", rewrite.Mirror, "users", false},
	{"upsert do update where", "plain", "INSERT INTO users AS u (id, email) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET email = excluded.email, visits = u.visits + 1 WHERE u.email IS NOT excluded.email", rewrite.Mirror, "users", false},
	{"upsert do nothing returning", "plain", "INSERT INTO users (id) VALUES (1) ON CONFLICT DO NOTHING RETURNING *", rewrite.Mirror, "users", false},
	{"upsert two clauses", "plain", "INSERT INTO users (id, email) VALUES (1, 'a') ON CONFLICT (email) DO UPDATE SET full_name = 'x' ON CONFLICT (id) DO UPDATE SET (email, full_name) = (excluded.email, excluded.full_name) RETURNING id, email", rewrite.Mirror, "users", false},
	{"insert or replace", "plain", "INSERT OR REPLACE INTO users (id, email) VALUES (1, 'a')", rewrite.Mirror, "users", false},
	{"replace into", "plain", "REPLACE INTO users (id, email) VALUES (1, 'a')", rewrite.Mirror, "users", false},
	{"insert or ignore", "plain", "INSERT OR IGNORE INTO users (id) VALUES (1)", rewrite.Mirror, "users", false},
	{"update expression", "plain", "UPDATE users SET visits = visits + 1 WHERE id = ?", rewrite.Mirror, "users", false},
	{"update key", "plain", "UPDATE users SET id = id + 100, visits = 0 WHERE email LIKE ? AND visits > :min", rewrite.Mirror, "users", true},
	{"update key from", "plain", "UPDATE users AS u SET id = s.n FROM stats AS s WHERE s.user_id = u.id RETURNING email", rewrite.Mirror, "users", true},
	{"update key quoted names", "plain", `UPDATE "main"."Users" SET "ID" = ?3 WHERE id = ?1 OR id = :x`, rewrite.Mirror, "users", true},
	{"update key string name", "plain", "UPDATE 'users' SET id = 5 WHERE id = 1", rewrite.Mirror, "users", true},
	{"update key row value", "plain", "UPDATE users SET (email, id) = ('a', ?) WHERE id = ? -- note", rewrite.Mirror, "users", true},
	{"update key no where", "plain", "UPDATE users INDEXED BY users_email SET id = -id", rewrite.Mirror, "users", true},
	{"update or replace", "plain", "UPDATE OR REPLACE users SET email = ? WHERE id = ?", rewrite.Mirror, "users", false},
	{"update indexed by", "plain", "UPDATE users INDEXED BY users_email SET visits = 0 WHERE email = 'a'", rewrite.Mirror, "users", false},
	{"update is distinct from", "plain", "UPDATE users SET email = ?, visits = email IS DISTINCT FROM ? WHERE email IS NOT DISTINCT FROM ?", rewrite.Mirror, "users", false},
	{"delete where", "plain", "DELETE FROM users WHERE id = ?", rewrite.Mirror, "users", false},
	{"delete alias returning", "plain", "DELETE FROM users AS u WHERE u.visits = 0 RETURNING id, email", rewrite.Mirror, "users", false},
	{"delete semicolon comment", "plain", "DELETE FROM main.users; -- all of them", rewrite.Mirror, "users", false},
	{"with delete", "plain", "WITH s AS (SELECT id FROM archive) DELETE FROM users WHERE id IN s", rewrite.Mirror, "users", false},
	{"with upsert", "plain", "WITH s AS (SELECT 1 AS id, 'a' AS email) INSERT INTO users (id, email) SELECT id, email FROM s WHERE true ON CONFLICT (id) DO NOTHING", rewrite.Mirror, "users", false},
	{"with update key", "plain", "WITH s AS (SELECT user_id FROM stats) UPDATE users SET id = -id WHERE id IN s", rewrite.Mirror, "users", true},
	{"strict update", "strict", "UPDATE users SET visits = 0 WHERE id = 1", rewrite.Mirror, "users", false},

	// Mirrored writes on memberships (composite key).
	{"composite insert", "plain", "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, 'admin')", rewrite.Mirror, "memberships", false},
	{"composite upsert", "plain", "INSERT INTO memberships VALUES (1, 2, 'x') ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role", rewrite.Mirror, "memberships", false},
	{"composite update key", "plain", "UPDATE memberships SET user_id = :new WHERE user_id = :old AND org_id = @org", rewrite.Mirror, "memberships", true},
	{"composite update", "plain", "UPDATE memberships SET role = 'x' WHERE org_id = ? RETURNING role", rewrite.Mirror, "memberships", false},
	{"composite delete", "plain", "DELETE FROM memberships WHERE org_id = ?", rewrite.Mirror, "memberships", false},

	// Refusals.
	{"multi touching users", "plain", "DELETE FROM stats; DELETE FROM users", rewrite.Refuse, "users", false},
	{"multi after write", "plain", "UPDATE users SET visits = 1; SELECT 1", rewrite.Refuse, "users", false},
	{"write new table", "plain", "INSERT INTO accounts (account_id) VALUES (1)", rewrite.Refuse, "accounts", false},
	{"update new table", "plain", "UPDATE members SET role_name = 'x'", rewrite.Refuse, "members", false},
	{"delete new table qualified", "plain", "DELETE FROM main.accounts", rewrite.Refuse, "accounts", false},
	{"drop users", "plain", "DROP TABLE users", rewrite.Refuse, "users", false},
	{"alter users", "plain", "ALTER TABLE \"Users\" RENAME TO people", rewrite.Refuse, "users", false},
	{"replace with other unique", "strict", "REPLACE INTO users (id, email) VALUES (1, 'a')", rewrite.Refuse, "users", false},
	{"insert or replace with other unique", "strict", "INSERT OR REPLACE INTO users (id) VALUES (1)", rewrite.Refuse, "users", false},
	{"update or replace with other unique", "strict", "UPDATE OR REPLACE users SET email = ? WHERE id = ?", rewrite.Refuse, "users", false},
	{"upsert assigns key", "plain", "INSERT INTO users (id, email) VALUES (1, 'a') ON CONFLICT (email) DO UPDATE SET id = excluded.id", rewrite.Refuse, "users", false},
	{"upsert assigns composite key", "plain", "INSERT INTO memberships VALUES (1, 2, 'x') ON CONFLICT (org_id, user_id) DO UPDATE SET (role, \"USER_ID\") = ('y', 3)", rewrite.Refuse, "memberships", false},
	{"guarded update", "strict", "UPDATE orgs SET id = 2 WHERE id = 1", rewrite.Refuse, "orgs", false},
	{"guarded delete", "strict", "DELETE FROM orgs", rewrite.Refuse, "orgs", false},
	{"guarded replace", "strict", "INSERT OR REPLACE INTO orgs (id, name) VALUES (1, 'x')", rewrite.Refuse, "orgs", false},
	{"guarded insert", "strict", "INSERT INTO audit (id) VALUES (1)", rewrite.Refuse, "audit", false},
	{"guarded mapped delete", "strict", "DELETE FROM users WHERE id = 1", rewrite.Refuse, "users", false},
	{"other schema", "plain", "INSERT INTO other.users (id) VALUES (1)", rewrite.Refuse, "users", false},
	{"temp schema", "plain", "DELETE FROM temp.users", rewrite.Refuse, "users", false},
	{"pragma", "plain", "PRAGMA table_info(users)", rewrite.Pass, "", false},
	{"explain", "plain", "EXPLAIN DELETE FROM users", rewrite.Pass, "", false},
	{"update order by limit", "plain", "UPDATE users SET visits = 0 ORDER BY id LIMIT 1", rewrite.Refuse, "users", false},
	{"delete limit", "plain", "DELETE FROM users LIMIT 1", rewrite.Refuse, "users", false},
	{"on conflict without do", "plain", "INSERT INTO users (id) VALUES (1) ON CONFLICT (id)", rewrite.Refuse, "users", false},
	{"garbage after target", "plain", "UPDATE users x y SET visits = 1", rewrite.Refuse, "users", false},
	{"unsupported write reading users", "plain", "UPDATE archive SET visits = (SELECT max(visits) FROM users) LIMIT 1", rewrite.Refuse, "archive", false},
	{"cannot tokenize", "plain", "SELECT * FROM users WHERE email = 'x", rewrite.Refuse, "users", false},

	// Passes.
	{"select", "plain", "SELECT * FROM users WHERE id = ?", rewrite.Read, "", false},
	{"with select", "plain", "WITH u AS (SELECT * FROM users) SELECT count(*) FROM u", rewrite.Read, "", false},
	{"values", "plain", "VALUES ('users')", rewrite.Pass, "", false},
	{"select new table", "plain", "SELECT * FROM accounts", rewrite.Read, "", false},
	{"insert archive select users", "plain", "INSERT INTO archive SELECT * FROM users", rewrite.Pass, "", false},
	{"update unmapped reading users", "plain", "UPDATE archive SET visits = (SELECT count(*) FROM users)", rewrite.Pass, "", false},
	{"delete unmapped reading users", "plain", "DELETE FROM stats WHERE user_id NOT IN (SELECT id FROM users)", rewrite.Pass, "", false},
	{"unmapped insert", "plain", "INSERT INTO stats VALUES (1, 2)", rewrite.Pass, "", false},
	{"unmapped delete", "strict", "DELETE FROM stats", rewrite.Pass, "", false},
	{"guarded table, unguarded write", "strict", "INSERT INTO orgs (id, name) VALUES (1, 'x')", rewrite.Pass, "", false},
	{"savepoint named users", "plain", "SAVEPOINT users", rewrite.Pass, "", false},
	{"begin", "plain", "BEGIN", rewrite.Pass, "", false},
	{"unmapped ddl", "plain", "CREATE TABLE t2 (x)", rewrite.Pass, "", false},
	{"comment only", "plain", "-- DELETE FROM users", rewrite.Pass, "", false},
	{"unmapped multi", "plain", "DELETE FROM stats; DELETE FROM archive", rewrite.Pass, "", false},
	{"unmapped cannot tokenize", "plain", "SELECT 'x", rewrite.Pass, "", false},
}

func TestPlan(t *testing.T) {
	planners := newPlanners()
	for _, tc := range planCases {
		t.Run(tc.name, func(t *testing.T) {
			p := planners[tc.planner]
			plan, src := p.Plan(tc.sql)
			if src == rewrite.Cached {
				t.Errorf("first Plan(%q) reported cached", tc.sql)
			}
			if plan.Action != tc.action {
				t.Fatalf("Plan(%q).Action = %s (err %v), want %s", tc.sql, actionNames[plan.Action], plan.Err, actionNames[tc.action])
			}
			switch plan.Action {
			case rewrite.Refuse:
				var ue *rewrite.UnsupportedError
				if !errors.As(plan.Err, &ue) || !errors.Is(plan.Err, rewrite.ErrUnsupported) {
					t.Fatalf("Err = %#v, want an *UnsupportedError wrapping ErrUnsupported", plan.Err)
				}
				if ue.Table != tc.table || ue.Construct == "" {
					t.Errorf("Err names table %q construct %q, want table %q and a construct", ue.Table, ue.Construct, tc.table)
				}
				if !strings.Contains(ue.Error(), "nothing was executed") {
					t.Errorf("Err %q does not say nothing was executed", ue.Error())
				}
			case rewrite.Mirror:
				checkMirror(t, p, tc, plan)
			case rewrite.Pass:
				if plan.Err != nil || plan.Capture != "" || plan.Table != nil {
					t.Errorf("Pass plan carries %+v", plan)
				}
			}
			again, src := p.Plan(tc.sql)
			if src == rewrite.Planned || again != plan {
				t.Errorf("second Plan(%q) = %p source %d, want the first plan %p from the cache or the prescan", tc.sql, again, src, plan)
			}
		})
	}
}

func checkMirror(t *testing.T, p *rewrite.Planner, tc planCase, plan *rewrite.Plan) {
	t.Helper()
	st, err := rewrite.SQLite.Analyze(tc.sql)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Err != nil || plan.Table == nil || plan.Table.Map.Old != tc.table || plan.Table != p.Table(tc.table) {
		t.Fatalf("Mirror plan: Err %v, Table %v; want no error and the %s pair", plan.Err, plan.Table, tc.table)
	}
	if plan.Kind != st.Kind || plan.KeyCols != len(plan.Table.Map.Key) || plan.CallerReturning != st.Returning {
		t.Errorf("Kind %s KeyCols %d CallerReturning %v; want %s %d %v", plan.Kind, plan.KeyCols, plan.CallerReturning, st.Kind, len(plan.Table.Map.Key), st.Returning)
	}
	// Capture is the statement with the key columns appended, nothing else.
	head := tc.sql[:st.End]
	added, ok := strings.CutPrefix(plan.Capture, head)
	if !ok {
		t.Fatalf("Capture %q does not keep %q", plan.Capture, head)
	}
	var keys []string
	for _, k := range plan.Table.Map.Key {
		keys = append(keys, `"`+k+`"`)
	}
	wantAdded := " RETURNING " + strings.Join(keys, ", ")
	if st.Returning {
		wantAdded = ", " + strings.Join(keys, ", ")
	}
	if added != wantAdded {
		t.Errorf("Capture appends %q, want %q", added, wantAdded)
	}
	if (plan.PreSelect != "") != tc.preSel {
		t.Errorf("PreSelect = %q, want one: %v", plan.PreSelect, tc.preSel)
	}
	if plan.PreSelect != "" {
		if plan.Params == nil {
			t.Errorf("PreSelect without Params")
		}
		if !strings.HasPrefix(plan.PreSelect, "SELECT ") && !strings.HasPrefix(plan.PreSelect, "WITH ") {
			t.Errorf("PreSelect %q is not a SELECT", plan.PreSelect)
		}
		for _, p := range st.Params {
			if text := p.Text(tc.sql); text[0] != '?' && strings.Contains(plan.PreSelect, text) {
				t.Errorf("PreSelect %q keeps named parameter %s; it must number every parameter", plan.PreSelect, text)
			}
		}
	}
}

// TestPlanGolden writes every plan of the corpus to testdata/plans.golden.
func TestPlanGolden(t *testing.T) {
	planners := newPlanners()
	var b strings.Builder
	for _, tc := range planCases {
		plan, _ := planners[tc.planner].Plan(tc.sql)
		fmt.Fprintf(&b, "=== %s [%s]\n", tc.name, tc.planner)
		fmt.Fprintf(&b, "sql:       %s\n", tc.sql)
		writePlan(&b, plan)
		if plan.Back != nil {
			b.WriteString("--- in the write phase both, mirrored back:\n")
			writePlan(&b, plan.Back)
		}
		b.WriteString("\n")
	}
	golden(t, "plans.golden", b.String())
}

func writePlan(b *strings.Builder, plan *rewrite.Plan) {
	fmt.Fprintf(b, "action:    %s\n", actionNames[plan.Action])
	if plan.Action == rewrite.Mirror {
		fmt.Fprintf(b, "kind:      %s\n", plan.Kind)
		fmt.Fprintf(b, "table:     %s -> %s\n", plan.Table.Map.Old, plan.Table.Map.New)
		fmt.Fprintf(b, "capture:   %s\n", plan.Capture)
		fmt.Fprintf(b, "keycols:   %d callerReturning: %v\n", plan.KeyCols, plan.CallerReturning)
		if plan.PreSelect != "" {
			fmt.Fprintf(b, "preselect: %s\n", plan.PreSelect)
			fmt.Fprintf(b, "params:    %d\n", plan.Params.Count)
		}
	}
	if plan.Read != nil {
		if plan.Reverse {
			b.WriteString("reverse:   a query of new tables, compared with up(old) in the read phase compare\n")
		}
		fmt.Fprintf(b, "new query: %s\n", plan.Read.NewQuery)
		fmt.Fprintf(b, "ordered:   %v limited: %v\n", plan.Read.Ordered, plan.Read.Limited)
	}
	if plan.Err != nil {
		fmt.Fprintf(b, "err:       %s\n", plan.Err)
	}
}

// TestMirrorSQLGolden writes the generated mirror statements to testdata/mirror.golden.
func TestMirrorSQLGolden(t *testing.T) {
	p := newPlanners()["plain"]
	var b strings.Builder
	for _, old := range []string{"users", "memberships"} {
		tbl := p.Table(old)
		fmt.Fprintf(&b, "=== %s -> %s (KeyBatch %d)\n", tbl.Map.Old, tbl.Map.New, tbl.KeyBatch())
		fmt.Fprintf(&b, "UpsertSQL(1): %s\n", tbl.UpsertSQL(1))
		fmt.Fprintf(&b, "UpsertSQL(3): %s\n", tbl.UpsertSQL(3))
		fmt.Fprintf(&b, "DeleteSQL(1): %s\n", tbl.DeleteSQL(1))
		fmt.Fprintf(&b, "DeleteSQL(2): %s\n\n", tbl.DeleteSQL(2))
	}
	golden(t, "mirror.golden", b.String())
}

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d (run go test -update to accept):\n got %s\nwant %s", path, i+1, g, w)
			}
		}
	}
}

func TestMirrorSQLPlaceholders(t *testing.T) {
	p := newPlanners()["plain"]
	for _, old := range []string{"users", "memberships"} {
		tbl := p.Table(old)
		w := len(tbl.Map.Key)
		for _, n := range []int{1, 2, 7, tbl.KeyBatch()} {
			for name, sql := range map[string]string{"UpsertSQL": tbl.UpsertSQL(n), "DeleteSQL": tbl.DeleteSQL(n)} {
				st, err := rewrite.SQLite.Analyze(sql)
				if err != nil {
					t.Fatalf("%s(%d): %v", name, n, err)
				}
				if len(st.Params) != n*w {
					t.Errorf("%s.%s(%d) has %d placeholders, want %d", old, name, n, len(st.Params), n*w)
				}
				for i, prm := range st.Params {
					if got, want := prm.Text(sql), fmt.Sprintf("?%d", i+1); got != want {
						t.Errorf("%s.%s(%d) placeholder %d = %s, want %s", old, name, n, i, got, want)
						break
					}
				}
			}
		}
		if tbl.KeyBatch()*w > 999 {
			t.Errorf("%s: KeyBatch %d * %d key columns exceeds 999 parameters", old, tbl.KeyBatch(), w)
		}
	}
}

func TestPlannerTable(t *testing.T) {
	p := newPlanners()["plain"]
	if tbl := p.Table("USERS"); tbl == nil || tbl.Map.New != "accounts" {
		t.Errorf("Table(USERS) = %v, want the users -> accounts pair", tbl)
	}
	for _, name := range []string{"accounts", "members", "stats", ""} {
		if tbl := p.Table(name); tbl != nil {
			t.Errorf("Table(%q) = %v, want nil: only old tables name a pair", name, tbl)
		}
	}
	if p.Dialect() != rewrite.SQLite {
		t.Error("Dialect() is not SQLite")
	}
}

// TestPlanCacheEviction: the cache holds at most its size in plans.
func TestPlanCacheEviction(t *testing.T) {
	p := rewrite.NewPlanner(rewrite.SQLite, testMapping(), nil, 2)
	a := "DELETE FROM users WHERE id = 1"
	pa, _ := p.Plan(a)
	if again, src := p.Plan(a); src != rewrite.Cached || again != pa {
		t.Fatal("a not cached")
	}
	for i := 2; i < 50; i++ {
		p.Plan("DELETE FROM users WHERE id = " + strconv.Itoa(i))
		if n, _ := p.CacheEntries(); n > 2 {
			t.Fatalf("%d plans in a cache of 2", n)
		}
	}
	// A size below 1 still caches one plan.
	p0 := rewrite.NewPlanner(rewrite.SQLite, testMapping(), nil, 0)
	p0.Plan(a)
	if _, src := p0.Plan(a); src != rewrite.Cached {
		t.Error("cache of size 0 does not keep the last plan")
	}
}

func TestPlanConcurrent(t *testing.T) {
	p := rewrite.NewPlanner(rewrite.SQLite, testMapping(), strictSchema(), 8)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				tc := planCases[(g*31+i)%len(planCases)]
				q := tc.sql
				if i%3 == 0 {
					q += fmt.Sprintf(" -- %d", i)
				}
				if plan, _ := p.Plan(q); plan == nil {
					t.Errorf("nil plan for %q", q)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestGuardMerge(t *testing.T) {
	a := rewrite.Guard{Reason: "trigger t1", Insert: true}
	b := rewrite.Guard{Reason: "fk f1", Delete: true}
	if got, want := a.Merge(b), (rewrite.Guard{Reason: "trigger t1; fk f1", Insert: true, Delete: true}); got != want {
		t.Errorf("Merge = %+v, want %+v", got, want)
	}
	if got, want := a.Merge(rewrite.Guard{Update: true}), (rewrite.Guard{Reason: "trigger t1", Insert: true, Update: true}); got != want {
		t.Errorf("Merge = %+v, want %+v", got, want)
	}
	if got, want := (rewrite.Guard{}).Merge(b), b; got != want {
		t.Errorf("Merge = %+v, want %+v", got, want)
	}
}

func TestUnsupportedError(t *testing.T) {
	e := &rewrite.UnsupportedError{Table: "users", Construct: "LIMIT in UPDATE", Fix: "drop the LIMIT"}
	if got, want := e.Error(), "dualwrite: refused statement on users: LIMIT in UPDATE; drop the LIMIT (nothing was executed)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e.Fix = ""
	if got, want := e.Error(), "dualwrite: refused statement on users: LIMIT in UPDATE (nothing was executed)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, rewrite.ErrUnsupported) {
		t.Error("UnsupportedError does not wrap ErrUnsupported")
	}
}

// TestGuardUpsertDoUpdate: INSERT ... ON CONFLICT DO UPDATE updates rows, so
// it fires UPDATE triggers and ON UPDATE CASCADE foreign keys like UPDATE does.
func TestGuardUpsertDoUpdate(t *testing.T) {
	p := newPlanners()["strict"] // orgs is guarded for UPDATE and DELETE
	q := "INSERT INTO orgs (id, name) VALUES (9, 'one') ON CONFLICT (name) DO UPDATE SET id = excluded.id"
	plan, _ := p.Plan(q)
	if plan.Action != rewrite.Refuse {
		t.Fatalf("Plan(%q) = %s with orgs guarded for UPDATE (%q): the upsert's DO UPDATE changes orgs.id, "+
			"which cascades to memberships behind the mirror; Guard.refuses checks only Insert (and REPLACE) for "+
			"KindInsert and should also check Update when the statement has ON CONFLICT DO UPDATE",
			q, actionNames[plan.Action], strictSchema().Guards["orgs"].Reason)
	}
}
