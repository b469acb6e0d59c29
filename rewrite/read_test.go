package rewrite_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/corpus"
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
			if plan.Read != nil {
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
