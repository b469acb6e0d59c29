package rewrite_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

const jobsDerived = `(SELECT account_id AS "id", trim(first_name || ' ' || last_name) AS "full_name", email_address AS "email", visits AS "visits" FROM "accounts"`

// TestLockPlan: every locking form on PostgreSQL gets a LockPlan whose old
// query is the caller's with the key appended to its select list (so it
// takes exactly the caller's locks, NOWAIT and SKIP LOCKED included), and
// whose new query locks the new rows of the returned keys with the same
// strength, waiting for them unless the caller said NOWAIT.
func TestLockPlan(t *testing.T) {
	p := rewrite.NewPlanner(rewrite.Postgres, testMapping(), &rewrite.Schema{}, 100)
	for _, tc := range []struct {
		sql, old, new string
		compared      bool
	}{
		{
			"SELECT * FROM users WHERE id = $1 FOR UPDATE",
			`SELECT *, users."id" FROM users WHERE id = $1 FOR UPDATE`,
			`SELECT *, users."id" FROM ` + jobsDerived + ` WHERE "account_id" IN ($1, $2) FOR UPDATE) AS users`,
			true,
		},
		{
			"SELECT visits FROM users u WHERE u.visits > 0 ORDER BY u.id LIMIT 2 FOR NO KEY UPDATE SKIP LOCKED",
			`SELECT visits, u."id" FROM users u WHERE u.visits > 0 ORDER BY u.id LIMIT 2 FOR NO KEY UPDATE SKIP LOCKED`,
			`SELECT visits, u."id" FROM ` + jobsDerived + ` WHERE "account_id" IN ($1, $2) FOR NO KEY UPDATE) AS u`,
			true,
		},
		{
			"SELECT u.id, upper(u.email) AS e FROM users AS u WHERE email = $1 FOR SHARE OF u NOWAIT",
			`SELECT u.id, upper(u.email) AS e, u."id" FROM users AS u WHERE email = $1 FOR SHARE OF u NOWAIT`,
			`SELECT u.id, upper(u.email) AS e, u."id" FROM ` + jobsDerived + ` WHERE "account_id" IN ($1, $2) FOR SHARE NOWAIT) AS u`,
			true,
		},
		{
			"SELECT id FROM users WHERE visits = 0 FOR KEY SHARE OF users SKIP LOCKED",
			`SELECT id, users."id" FROM users WHERE visits = 0 FOR KEY SHARE OF users SKIP LOCKED`,
			`SELECT id, users."id" FROM ` + jobsDerived + ` WHERE "account_id" IN ($1, $2) FOR KEY SHARE) AS users`,
			false, // FOR KEY SHARE lets others update the rows' other columns in between
		},
		{
			"SELECT id FROM users FOR UPDATE LIMIT 1", // the locking clause may come before LIMIT
			`SELECT id, users."id" FROM users FOR UPDATE LIMIT 1`,
			`SELECT id, users."id" FROM ` + jobsDerived + ` WHERE "account_id" IN ($1, $2) FOR UPDATE) AS users`,
			true,
		},
		{
			"SELECT id -- the id\nFROM users FOR SHARE FOR UPDATE NOWAIT;",
			"SELECT id, users.\"id\" -- the id\nFROM users FOR SHARE FOR UPDATE NOWAIT",
			`SELECT id, users."id" FROM ` + jobsDerived + ` WHERE "account_id" IN ($1, $2) FOR UPDATE NOWAIT) AS users`,
			true,
		},
		{
			"SELECT role FROM memberships m WHERE m.org_id = $1 FOR UPDATE OF m",
			`SELECT role, m."org_id", m."user_id" FROM memberships m WHERE m.org_id = $1 FOR UPDATE OF m`,
			`SELECT role, m."org_id", m."user_id" FROM (SELECT org AS "org_id", usr AS "user_id", role_name AS "role" FROM "members" WHERE ("org", "usr") IN (($1, $2), ($3, $4)) FOR UPDATE) AS m`,
			true,
		},
	} {
		plan, _ := p.Plan(tc.sql)
		if plan.Action != rewrite.Read || plan.Err != nil || plan.Read == nil || plan.Read.Lock == nil {
			t.Fatalf("%q: %+v, want a locking read plan", tc.sql, plan)
		}
		lp := plan.Read.Lock
		if lp.OldQuery != tc.old {
			t.Errorf("%q: old query\n %s\nwant\n %s", tc.sql, lp.OldQuery, tc.old)
		}
		if got := lp.NewQuery(2); got != tc.new {
			t.Errorf("%q: new query\n %s\nwant\n %s", tc.sql, got, tc.new)
		}
		if lp.Compared != tc.compared {
			t.Errorf("%q: compared %v, want %v", tc.sql, lp.Compared, tc.compared)
		}
		if want := strings.Count(tc.old, `."`) - strings.Count(tc.sql, `."`); lp.KeyCols != want {
			t.Errorf("%q: %d key columns, want %d", tc.sql, lp.KeyCols, want)
		}
	}
}

// TestLockPlanRefused: locking reads the wrapper cannot serve from the new
// table with the caller's locks are refused in the compare and new phases,
// naming the construct; on SQLite, which has no locking reads, nothing
// changed.
func TestLockPlanRefused(t *testing.T) {
	p := rewrite.NewPlanner(rewrite.Postgres, testMapping(), &rewrite.Schema{}, 100)
	for _, tc := range []struct{ sql, construct string }{
		{"SELECT * FROM users u JOIN audit a ON a.id = u.id FOR UPDATE OF u", "one mapped table alone"},
		{"SELECT * FROM users u, audit a WHERE a.id = u.id FOR UPDATE", "one mapped table alone"},
		{"SELECT * FROM users u JOIN memberships m ON m.user_id = u.id FOR UPDATE", "one mapped table alone"},
		{"WITH x AS (SELECT 1) SELECT * FROM users FOR UPDATE", "one mapped table alone"},
		{"SELECT * FROM (SELECT * FROM users) s FOR UPDATE", "one mapped table alone"},
		{"SELECT * FROM (SELECT * FROM users FOR UPDATE) s", "in a subquery"},
		{"SELECT * FROM users WHERE id IN (SELECT user_id FROM memberships) FOR UPDATE", "a mapped table in a subquery too"},
		{"SELECT * FROM users WHERE id IN (SELECT id FROM users WHERE visits > 0) FOR UPDATE", "a mapped table in a subquery too"},
		{"SELECT id, $2::int FROM users WHERE id = $1 FOR UPDATE", "a placeholder in the select list"},
		{"SELECT FROM users FOR UPDATE", "an empty select list"},
		{"SELECT * FROM users FOR UPDATE WAIT 5", "cannot read"},
	} {
		plan, _ := p.Plan(tc.sql)
		var ue *rewrite.UnsupportedError
		if plan.Action != rewrite.Read || !errors.As(plan.Err, &ue) || !strings.Contains(ue.Construct, tc.construct) || ue.Table == "" {
			t.Errorf("%q: %+v (%v), want refused naming the table and %q", tc.sql, plan, plan.Err, tc.construct)
		}
	}
	sqlite := rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{}, 100)
	plan, _ := sqlite.Plan("SELECT * FROM users WHERE id = ? FOR UPDATE")
	if plan.Err == nil || !strings.Contains(plan.Err.Error(), "a locking read (FOR UPDATE)") {
		t.Errorf("SQLite: %+v (%v), want the locking read refused as before", plan, plan.Err)
	}
}
