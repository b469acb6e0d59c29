package rewrite_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// TestReadGolden writes the substitution of every corpus query to
// testdata/reads.golden, and checks what the corpus says is refused.
func TestReadGolden(t *testing.T) {
	p := newPlanners()["plain"]
	var b strings.Builder
	for _, q := range corpus.Reads {
		plan, _ := p.Plan(q.SQL)
		fmt.Fprintf(&b, "=== %s\nsql: %s\n", q.Name, q.SQL)
		switch {
		case plan.Action != rewrite.Read && plan.Action != rewrite.Pass:
			t.Errorf("%s: action %s, want read", q.Name, actionNames[plan.Action])
		case q.Refused != (plan.Err != nil):
			t.Errorf("%s: err %v, want refused: %v", q.Name, plan.Err, q.Refused)
		case plan.Err != nil:
			fmt.Fprintf(&b, "refused: %s\n", plan.Err)
		case plan.Read == nil:
			fmt.Fprintf(&b, "pass: names no mapped table as a table\n")
		default:
			var tables []string
			for _, tb := range plan.Read.Tables {
				tables = append(tables, tb.Map.Old)
			}
			fmt.Fprintf(&b, "new: %s\ntables: %s ordered: %v limited: %v\n", plan.Read.NewQuery, strings.Join(tables, ", "), plan.Read.Ordered, plan.Read.Limited)
		}
		b.WriteString("\n")
	}
	golden(t, "reads.golden", b.String())
}

// TestReadPlanDetails checks what the golden file cannot show at a glance.
func TestReadPlanDetails(t *testing.T) {
	p := newPlanners()["plain"]
	for _, tc := range []struct {
		sql              string
		ordered, limited bool
		substitutions    int
	}{
		{"SELECT * FROM users", false, false, 1},
		{"SELECT * FROM users ORDER BY id", true, false, 1},
		{"SELECT * FROM users LIMIT 3", false, true, 1},
		{"SELECT id FROM users UNION SELECT id FROM users ORDER BY 1", true, false, 2},
		{"SELECT max(id) OVER (ORDER BY id) FROM users", false, false, 1},
		{"SELECT * FROM (SELECT * FROM users ORDER BY id LIMIT 2)", false, false, 1},
		{"SELECT max(email) FROM (SELECT email FROM users LIMIT 1)", false, true, 1},
		{"SELECT * FROM users WHERE id IN (SELECT id FROM users LIMIT 3) ORDER BY id", true, true, 2},
		{"SELECT * FROM users ORDER BY id LIMIT 3", true, false, 1},
		{"WITH users AS (SELECT * FROM accounts) SELECT * FROM users", false, false, 0},
		{"SELECT u.id FROM users u, users v, memberships m", false, false, 3},
	} {
		plan, _ := p.Plan(tc.sql)
		if tc.substitutions == 0 {
			// A query of new tables only is planned in reverse, for the
			// new release's comparisons: no old table is substituted.
			if plan.Read != nil && !plan.Reverse {
				t.Errorf("%q: substituted %q", tc.sql, plan.Read.NewQuery)
			}
			continue
		}
		if plan.Err != nil || plan.Read == nil {
			t.Fatalf("%q: %+v", tc.sql, plan)
		}
		if got := strings.Count(plan.Read.NewQuery, "FROM \"accounts\")") + strings.Count(plan.Read.NewQuery, "FROM \"members\")"); got != tc.substitutions {
			t.Errorf("%q: %d substitutions in %q, want %d", tc.sql, got, plan.Read.NewQuery, tc.substitutions)
		}
		if plan.Read.Ordered != tc.ordered || plan.Read.Limited != tc.limited {
			t.Errorf("%q: ordered %v limited %v, want %v %v", tc.sql, plan.Read.Ordered, plan.Read.Limited, tc.ordered, tc.limited)
		}
		if len(plan.Read.Fingerprint) != 16 {
			t.Errorf("%q: fingerprint %q", tc.sql, plan.Read.Fingerprint)
		}
	}
}

// TestPointLookup: a LIMIT without ORDER BY does not keep a query from
// being compared when the query reads one mapped table alone and its WHERE
// fixes the table's whole key with top-level AND conjuncts; anything else
// stays Limited.
func TestPointLookup(t *testing.T) {
	planners := map[string]*rewrite.Planner{
		"sqlite":   newPlanners()["plain"],
		"postgres": rewrite.NewPlanner(rewrite.Postgres, testMapping(), &rewrite.Schema{}, 100),
	}
	for _, tc := range []struct {
		dialect, sql string
		point        bool
	}{
		{"sqlite", "SELECT * FROM users WHERE id = ? LIMIT 1", true},
		{"sqlite", "SELECT * FROM users WHERE id = ?1 LIMIT 1", true},
		{"sqlite", "SELECT * FROM users WHERE id = :id LIMIT 1", true},
		{"sqlite", "SELECT * FROM main.users AS u WHERE u.id = 7 AND u.visits > ? LIMIT 1", true},
		{"sqlite", "SELECT full_name FROM users u WHERE visits > 0 AND (email = 'a' OR email IS NULL) AND u.id = -3 LIMIT 1", true},
		{"sqlite", `SELECT * FROM "users" WHERE "ID" = 'x' LIMIT 1 OFFSET 0`, true},
		{"sqlite", "SELECT role FROM memberships WHERE org_id = ? AND user_id = ? LIMIT 1", true},
		{"postgres", "SELECT * FROM users WHERE id = $1 LIMIT 1", true},
		{"postgres", "SELECT * FROM users WHERE id = $1 FETCH FIRST 1 ROWS ONLY", true},
		{"postgres", "SELECT u.email FROM users AS u WHERE u.id = $1 LIMIT 1", true},
		// Not point lookups.
		{"sqlite", "SELECT * FROM users LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE visits = ? LIMIT 1", false},
		{"sqlite", "SELECT role FROM memberships WHERE org_id = ? LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE id = 1 OR visits = 2 LIMIT 1", false},
		{"postgres", `SELECT "u"."id" FROM "users" AS "u" WHERE (u.id = 2) AND "u"."deleted_at" IS NULL LIMIT 1`, true}, // bun
		{"sqlite", "SELECT * FROM users WHERE ((id = 1) AND visits = 2) LIMIT 1", true},
		{"sqlite", "SELECT * FROM users WHERE (id = 1 OR visits = 2) AND email = 'a' LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE (id = 1) OR visits = 2 LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE visits = 2 OR id = 1 AND email = 'a' LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE visits BETWEEN 1 AND id = 3 LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE id > 1 LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE id = visits LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE id = ? + 1 LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE NOT id = 1 LIMIT 1", false},
		{"sqlite", "SELECT * FROM users u WHERE v.id = 1 LIMIT 1", false},
		{"sqlite", "SELECT * FROM users u JOIN audit a ON a.id = u.id WHERE u.id = 1 LIMIT 1", false},
		{"sqlite", "SELECT * FROM users u, audit a WHERE u.id = 1 LIMIT 1", false},
		{"sqlite", "SELECT * FROM audit a WHERE a.id = 1 AND a.msg IN (SELECT full_name FROM users) LIMIT 1", false},
		{"sqlite", "SELECT * FROM users WHERE id = 1 AND email IN (SELECT msg FROM audit LIMIT 3) LIMIT 1", false},
		{"sqlite", "SELECT visits, count(*) FROM users WHERE id = 1 GROUP BY visits LIMIT 1", false},
		{"sqlite", "SELECT id FROM users WHERE id = 1 UNION SELECT id FROM users WHERE id = 2 LIMIT 1", false},
		{"sqlite", "WITH x AS (SELECT 1) SELECT * FROM users WHERE id = 1 LIMIT 1", false},
		{"sqlite", "SELECT * FROM (SELECT * FROM users) WHERE id = 1 LIMIT 1", false},
		{"postgres", "SELECT * FROM users WHERE id = $1::bigint LIMIT 1", false},
		{"postgres", "SELECT * FROM users OFFSET 1", false},
	} {
		plan, _ := planners[tc.dialect].Plan(tc.sql)
		if plan.Err != nil || plan.Read == nil {
			t.Fatalf("%s %q: %+v", tc.dialect, tc.sql, plan)
		}
		if plan.Read.PointLookup != tc.point || plan.Read.Limited == tc.point {
			t.Errorf("%s %q: point lookup %v, limited %v; want point lookup %v", tc.dialect, tc.sql, plan.Read.PointLookup, plan.Read.Limited, tc.point)
		}
	}
}

// TestReadHiddenColumns: a query of a mapped table that names a column
// every table has without declaring it cannot be served from the new
// table, unless the mapped table declares a column of that name.
func TestReadHiddenColumns(t *testing.T) {
	m, err := mapping.Parse([]byte(`
dialect: sqlite
tables:
  - old: things
    new: items
    key: [id]
    columns:
      item_id: id
      item_oid: oid
    reverse:
      id: item_id
      oid: item_oid
`))
	if err != nil {
		t.Fatal(err)
	}
	p := rewrite.NewPlanner(rewrite.SQLite, m, &rewrite.Schema{}, 10)
	for q, refused := range map[string]bool{
		"SELECT rowid FROM things":                                       true,
		`SELECT t."_ROWID_" FROM things t`:                               true,
		"SELECT (SELECT rowid FROM things WHERE id = a.id) FROM audit a": true,
		"SELECT oid FROM things":                                         false, // a declared column
		"SELECT rowid FROM audit":                                        false, // no mapped table
		"SELECT 'rowid', id FROM things":                                 false,
	} {
		plan, _ := p.Plan(q)
		if got := plan.Err != nil && strings.Contains(plan.Err.Error(), "stand-in"); got != refused {
			t.Errorf("%s: action %d, %v; want refused %v", q, plan.Action, plan.Err, refused)
		}
	}
}
