package rewrite_test

import (
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// mysqlPlanner plans for corpus.MySQLMapping as the driver does on
// corpus.MySQLSchema: users.id is AUTO_INCREMENT and users.email unique.
func mysqlPlanner(t *testing.T, d *rewrite.Dialect) *rewrite.Planner {
	t.Helper()
	m, err := mapping.Parse([]byte(corpus.MySQLMapping))
	if err != nil {
		t.Fatal(err)
	}
	s := &rewrite.Schema{OtherUnique: map[string]bool{"users": true}, AutoIncrement: map[string]string{"users": "id"}, AutoIncrementStep: 1,
		Columns: map[string][]string{"users": {"id", "full_name", "email", "visits"}}}
	return rewrite.NewPlanner(d, m, s, 100)
}

// describe says what a MySQL plan does, in one line.
func describe(plan *rewrite.Plan) string {
	switch {
	case plan.Err != nil:
		return "refused: " + plan.Err.Error()
	case plan.Action == rewrite.Pass:
		return "pass"
	case plan.Restrict != nil:
		return "lock: " + plan.PreSelect + " | then: " + plan.Restrict.Head + "<" + plan.Restrict.Keys + " IN keys>" + plan.Restrict.Tail +
			fmt.Sprintf(" | args before: %d, pre-select params: %v", plan.Restrict.Args, plan.PreSelectParams)
	case plan.InsertKeys != nil:
		var rows []string
		for _, r := range plan.InsertKeys {
			var ks []string
			for _, k := range r {
				switch {
				case k.Generated:
					ks = append(ks, "generated")
				case k.Arg > 0:
					ks = append(ks, fmt.Sprintf("arg %d", k.Arg))
				default:
					ks = append(ks, fmt.Sprintf("%#v", k.Lit))
				}
			}
			rows = append(rows, "("+strings.Join(ks, ", ")+")")
		}
		return "insert, keys " + strings.Join(rows, " ")
	case plan.PointKey != nil && plan.Kind == rewrite.KindUpdate:
		var ks []string
		for _, k := range plan.PointKey {
			if k.Arg > 0 {
				ks = append(ks, fmt.Sprintf("arg %d", k.Arg))
			} else {
				ks = append(ks, fmt.Sprintf("%#v", k.Lit))
			}
		}
		return "point: " + plan.Capture + " | key (" + strings.Join(ks, ", ") + ")"
	case plan.Capture != "":
		return "returning: " + plan.Capture + " | id: " + plan.InsertIDQuery
	}
	return fmt.Sprintf("action %d", plan.Action)
}

func TestMySQLPlans(t *testing.T) {
	cases := []struct{ query, want string }{
		{"INSERT INTO users (id, full_name, email) VALUES (?, ?, ?)", "insert, keys (arg 1)"},
		{"INSERT INTO users (full_name, id) VALUES (?, ?), ('x', -7)", "insert, keys (arg 2) (-7)"},
		{"INSERT INTO users (full_name) VALUES (?), ('b')", "insert, keys (generated) (generated)"},
		{"INSERT INTO users (id, full_name) VALUES (NULL, 'a'), (DEFAULT, 'b')", "insert, keys (generated) (generated)"},
		{"INSERT INTO users () VALUES ()", "insert, keys (generated)"},
		{"insert low_priority ignore users set id = 5, full_name = 'x'", "insert, keys (5)"},
		{"INSERT INTO memberships (role, user_id, org_id) VALUE ('a', ?, ?)", "insert, keys (arg 2, arg 1)"},
		{"INSERT INTO memberships (org_id, user_id, role) VALUES ('1', \"2\", 'x') ON DUPLICATE KEY UPDATE role = VALUES(role)", `insert, keys ("1", "2")`},
		{"REPLACE INTO memberships (org_id, user_id, role) VALUES (1, 2, 'x')", "insert, keys (1, 2)"},
		{"INSERT INTO users (full_name) SELECT msg FROM audit WHERE id < ?", "returning: INSERT INTO users (full_name) SELECT msg FROM audit WHERE id < ? RETURNING `id` | id: SELECT LAST_INSERT_ID()"},
		{"INSERT INTO users (full_name) VALUES ('x') RETURNING full_name", "returning: INSERT INTO users (full_name) VALUES ('x') RETURNING full_name, `id` | id: "},
		{"UPDATE users SET full_name = ? WHERE id > ? ORDER BY id DESC LIMIT ?",
			"lock: SELECT users.`id` FROM users WHERE id > ? ORDER BY id DESC LIMIT ? FOR UPDATE | then: UPDATE users SET full_name = ? WHERE (id > ?) AND <users.`id` IN keys> ORDER BY id DESC LIMIT ? | args before: 2, pre-select params: [2 3]"},
		{"UPDATE IGNORE memberships AS m USE INDEX (PRIMARY) SET m.role = ?",
			"lock: SELECT m.`org_id`, m.`user_id` FROM memberships AS m FOR UPDATE | then: UPDATE IGNORE memberships AS m USE INDEX (PRIMARY) SET m.role = ? WHERE <(m.`org_id`, m.`user_id`) IN keys> | args before: 1, pre-select params: []"},
		{"DELETE QUICK FROM users WHERE email LIKE ? LIMIT 3 RETURNING id",
			"returning: DELETE QUICK FROM users WHERE email LIKE ? LIMIT 3 RETURNING id, `id` | id: "},
		{"DELETE FROM users WHERE id = ?", "returning: DELETE FROM users WHERE id = ? RETURNING `id` | id: "},
		{"UPDATE users SET visits = visits + 1 WHERE id = ?", "point: UPDATE users SET visits = visits + 1 WHERE id = ? | key (arg 1)"},
		{"UPDATE users AS u SET u.visits = ? WHERE u.visits < ? AND `u`.id = -4 ORDER BY id LIMIT 1", "point: UPDATE users AS u SET u.visits = ? WHERE u.visits < ? AND `u`.id = -4 ORDER BY id LIMIT 1 | key (-4)"},
		{"UPDATE memberships SET role = ? WHERE user_id = ? AND (org_id = '3' AND role <> 'x')", `point: UPDATE memberships SET role = ? WHERE user_id = ? AND (org_id = '3' AND role <> 'x') | key ("3", arg 2)`},
		{"UPDATE users SET visits = 1 WHERE id = ? OR id = ?", "lock: SELECT users.`id` FROM users WHERE id = ? OR id = ? FOR UPDATE"},
		{"UPDATE users SET visits = 1 WHERE id = ? || visits = 2", "lock: SELECT users.`id` FROM users WHERE id = ? || visits = 2 FOR UPDATE"},
		{"UPDATE users SET visits = 1 WHERE id = 1 && visits = 2", "lock: SELECT users.`id` FROM users WHERE id = 1 && visits = 2 FOR UPDATE"},
		{"UPDATE users SET visits = 1 WHERE users.id = 0x10", "lock: SELECT users.`id` FROM users WHERE users.id = 0x10 FOR UPDATE"},
		{"UPDATE users SET visits = 1 WHERE audit.id = 1", "lock: SELECT users.`id` FROM users WHERE audit.id = 1 FOR UPDATE"},
		{"UPDATE memberships SET role = 'x' WHERE org_id = 1", "lock: SELECT memberships.`org_id`, memberships.`user_id` FROM memberships WHERE org_id = 1 FOR UPDATE"},
		{"UPDATE users SET id = 5 WHERE id = 4", "lock: SELECT users.`id`, (5) FROM users WHERE id = 4 FOR UPDATE"},
		{"UPDATE users u JOIN audit a ON a.id = u.id SET u.visits = 1 WHERE u.id = 1", "lock: SELECT u.`id` FROM users u JOIN audit a ON a.id = u.id WHERE u.id = 1 FOR UPDATE"},
		{"INSERT INTO users VALUES (1, 'a', 'b', 0)", "insert, keys (1)"},
		{"INSERT INTO users VALUES (1, 'a', 'b')", "refused: dualwrite: refused statement on users: an INSERT whose rows do not have one value per column"},
		{"INSERT INTO memberships VALUES (1, 2, 'x')", "refused: dualwrite: refused statement on memberships: an INSERT without a column list, on a table whose columns are not known"},
		{"INSERT INTO users (id, full_name) VALUES (1 + 1, 'a')", "refused: dualwrite: refused statement on users: an INSERT whose key column id is given by an expression"},
		{"INSERT INTO memberships (org_id, role) VALUES (1, 'a')", "refused: dualwrite: refused statement on memberships: an INSERT that leaves key column user_id to its default"},
		{"INSERT INTO users (id, full_name) SELECT id, msg FROM audit", "refused: dualwrite: refused statement on users: INSERT ... SELECT that writes the AUTO_INCREMENT column id"},
		{"INSERT INTO memberships (org_id, user_id) SELECT 1, id FROM audit ON DUPLICATE KEY UPDATE role = 'x'", "refused: dualwrite: refused statement on memberships: INSERT ... SELECT ... ON DUPLICATE KEY UPDATE"},
		{"INSERT INTO users (id) VALUES (1) ON DUPLICATE KEY UPDATE visits = visits + 1", "refused: dualwrite: refused statement on users: ON DUPLICATE KEY UPDATE on a table with a unique key besides its key"},
		{"INSERT INTO memberships (org_id, user_id) VALUES (1, 1) ON DUPLICATE KEY UPDATE memberships.user_id = 2", "refused: dualwrite: refused statement on memberships: ON DUPLICATE KEY UPDATE that assigns key column user_id"},
		{"INSERT INTO memberships (org_id, user_id) VALUES (1, 1) ON DUPLICATE KEY UPDATE user_id = user_id + 0", "refused: dualwrite: refused statement on memberships: ON DUPLICATE KEY UPDATE that assigns key column user_id"},
		{"INSERT INTO memberships (org_id, user_id) VALUES (1, 1) ON DUPLICATE KEY UPDATE org_id = org_id", "insert, keys (1, 1)"},
		{"INSERT INTO memberships (org_id, user_id) VALUES (?, ?) ON DUPLICATE KEY UPDATE `memberships`.`user_id` = VALUES(`user_id`)", "insert, keys (arg 1, arg 2)"},
		{"REPLACE INTO users (id, full_name) VALUES (1, 'a')", "refused: dualwrite: refused statement on users: REPLACE on a table with a unique key besides its key"},
		{"UPDATE users SET id = id + ? WHERE id > ? LIMIT ?",
			"lock: SELECT users.`id`, (id + ?) FROM users WHERE id > ? LIMIT ? FOR UPDATE | then: UPDATE users SET id = id + ? WHERE (id > ?) AND <users.`id` IN keys> LIMIT ? | args before: 2, pre-select params: [1 2 3]"},
		{"UPDATE memberships m SET m.role = 'x', m.user_id = IF(m.org_id = 1, ?, m.user_id + 10)",
			"lock: SELECT m.`org_id`, m.`user_id`, m.`org_id`, (IF(m.org_id = 1, ?, m.user_id + 10)) FROM memberships AS m FOR UPDATE"},
		{"UPDATE users SET id = FLOOR(RAND() * 100)", "refused: dualwrite: refused statement on users: an UPDATE that sets key column id to an expression calling RAND"},
		{"UPDATE users SET visits = 1, id = visits", "refused: dualwrite: refused statement on users: an UPDATE that sets key column id to an expression reading visits, which the SET assigns before it"},
		{"UPDATE users SET id = @next", "refused: dualwrite: refused statement on users: an UPDATE that sets key column id to an expression with a variable (@next)"},
		{"UPDATE users SET id = (SELECT MAX(id) + 1 FROM audit)", "refused: dualwrite: refused statement on users: an UPDATE that sets key column id to an expression reading SELECT"},
		{"UPDATE users SET id = UNIX_TIMESTAMP()", "refused: dualwrite: refused statement on users: an UPDATE that sets key column id to an expression calling UNIX_TIMESTAMP"},
		{"UPDATE users SET id = CURRENT_TIMESTAMP + 0", "refused: dualwrite: refused statement on users: an UPDATE that sets key column id to an expression reading CURRENT_TIMESTAMP"},
		{"UPDATE users u JOIN audit a ON a.id = u.id AND a.msg <> ? SET u.full_name = a.msg WHERE u.visits > ?",
			"lock: SELECT u.`id` FROM users u JOIN audit a ON a.id = u.id AND a.msg <> ? WHERE u.visits > ? FOR UPDATE | then: UPDATE users u JOIN audit a ON a.id = u.id AND a.msg <> ? SET u.full_name = a.msg WHERE (u.visits > ?) AND <u.`id` IN keys> | args before: 2, pre-select params: [1 2]"},
		{"UPDATE audit, users SET users.visits = 1",
			"lock: SELECT users.`id` FROM audit, users FOR UPDATE | then: UPDATE audit, users SET users.visits = 1 WHERE <users.`id` IN keys>"},
		{"UPDATE audit a, (SELECT id FROM users) x SET a.msg = 'y' WHERE a.id = x.id", "pass"},
		{"UPDATE users u LEFT JOIN memberships m USING (id) SET m.role = 'x'",
			"lock: SELECT m.`org_id`, m.`user_id` FROM users u LEFT JOIN memberships m USING (id) FOR UPDATE"},
		{"DELETE u FROM users u JOIN audit a ON a.id = u.id",
			"lock: SELECT u.`id` FROM users u JOIN audit a ON a.id = u.id FOR UPDATE | then: DELETE u FROM users u JOIN audit a ON a.id = u.id WHERE <u.`id` IN keys>"},
		{"DELETE FROM users.* USING users JOIN audit ON audit.id = users.id WHERE audit.msg = ?",
			"lock: SELECT users.`id` FROM users JOIN audit ON audit.id = users.id WHERE audit.msg = ? FOR UPDATE"},
		{"DELETE a FROM audit a JOIN users u ON a.id = u.id", "pass"},
		{"DELETE u, a FROM users u JOIN audit a ON a.id = u.id", "refused: dualwrite: refused statement on users: a multi-table DELETE that writes several tables"},
		{"UPDATE users u JOIN audit a ON a.id = u.id SET u.visits = 1, a.msg = 'x'", "refused: dualwrite: refused statement on users: a multi-table UPDATE that writes several tables"},
		{"UPDATE users u JOIN audit a ON a.id = u.id SET visits = 1", "refused: dualwrite: refused statement on users: an unqualified column in the SET of a multi-table UPDATE"},
		{"UPDATE users u JOIN audit a ON a.id = u.id SET u.id = a.id + 100", "refused: dualwrite: refused statement on users: a multi-table UPDATE that assigns key column id"},
		{"UPDATE users SET visits = 1 RETURNING id", "refused: dualwrite: refused statement on users: RETURNING in UPDATE"},
		{"SET sql_mode = 'ANSI_QUOTES'", "refused: dualwrite: refused statement: SET sql_mode"},
		{"SET @a = 1, @@session.sql_mode = ''", "refused: dualwrite: refused statement: SET @a = 1, @@session.sql_mode"},
		{"SET STATEMENT max_statement_time = 1 FOR SELECT 1", "refused: dualwrite: refused statement: SET STATEMENT"},
		{"SET NAMES sjis", "refused: dualwrite: refused statement: SET NAMES"},
		{"SET autocommit = 0", "refused: dualwrite: refused statement: SET autocommit"},
		{"USE other", "refused: dualwrite: refused statement: USE"},
		{"SET SESSION sql_select_limit = 1", "refused: dualwrite: refused statement: SET SESSION sql_select_limit"},
		{"SET sql_safe_updates = 1", "refused: dualwrite: refused statement: SET sql_safe_updates"},
		{"SET @@auto_increment_increment = 2", "refused: dualwrite: refused statement: SET @@auto_increment_increment"},
		{"PREPARE s FROM @q", "refused: dualwrite: refused statement: an SQL-level PREPARE or EXECUTE IMMEDIATE of text that is not a string literal"},
		{"EXECUTE IMMEDIATE 'DELETE FROM audit'", "refused: dualwrite: refused statement: an SQL-level PREPARE or EXECUTE IMMEDIATE of anything but a plain read"},
		{"PREPARE s FROM 'SELECT * FROM users'", "refused: dualwrite: refused statement on users: an SQL-level PREPARE"},
		{"PREPARE s FROM 'SELECT * FROM audit WHERE id = ?'", "pass"},
		{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "pass"},
		{"INSERT INTO audit (id, msg) VALUES (1, 'users')", "pass"},
		{"SELECT /*! SLEEP(1) */ 1 FROM users", "refused: dualwrite: refused statement on users: SQL text that cannot be tokenized"},
	}
	p := mysqlPlanner(t, rewrite.MySQL)
	for _, c := range cases {
		plan, _ := p.Plan(c.query)
		if got := describe(plan); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.query, got, c.want)
		}
	}
	// Without RETURNING, what needs it is refused, and the rest is alike.
	p = mysqlPlanner(t, rewrite.MySQLWithoutReturning)
	for _, c := range cases {
		plan, _ := p.Plan(c.query)
		got := describe(plan)
		if strings.HasPrefix(c.query, "DELETE") && strings.HasPrefix(c.want, "returning: ") {
			// A single-table DELETE locks its rows first instead.
			if !strings.HasPrefix(got, "lock: SELECT users.`id` FROM users WHERE ") {
				t.Errorf("without RETURNING, %s: got %s, want a locking pre-select", c.query, got)
			}
		} else if strings.HasPrefix(c.want, "returning: ") || strings.HasPrefix(c.query, "INSERT") && strings.Contains(c.query, " SELECT ") {
			if !strings.Contains(got, "an INSERT ... SELECT or INSERT ... RETURNING on a server without RETURNING") {
				t.Errorf("without RETURNING, %s: got %s, want a refusal", c.query, got)
			}
		} else if !strings.HasPrefix(got, c.want) {
			t.Errorf("without RETURNING, %s:\n got  %s\n want %s", c.query, got, c.want)
		}
	}
}

// TestMySQLBlocks: on MariaDB a point UPDATE or DELETE has a compound
// statement for outside a transaction, unless it returns rows or reads
// what the block changes or names; MySQL has none.
func TestMySQLBlocks(t *testing.T) {
	cases := map[string]bool{
		"UPDATE users SET visits = visits + 1 WHERE id = ?":                          true,
		"DELETE FROM users WHERE id = ? AND visits = 0":                              true,
		"DELETE FROM users WHERE id = ? RETURNING email":                             false,
		"DELETE FROM users WHERE id > ?":                                             false,
		"UPDATE users SET visits = LAST_INSERT_ID(visits) WHERE id = ?":              false,
		"UPDATE users SET visits = row_count() WHERE id = ?":                         false,
		"UPDATE users SET full_name = 'dualwrite_rows' WHERE id = ?":                 false,
		"UPDATE users u JOIN audit a ON a.id = u.id SET u.visits = 1 WHERE u.id = 1": false,
	}
	for _, d := range []*rewrite.Dialect{rewrite.MySQL, rewrite.MySQLWithoutReturning} {
		p := mysqlPlanner(t, d)
		for q, want := range cases {
			plan, _ := p.Plan(q)
			if want = want && d == rewrite.MySQL; (plan.Block != "") != want {
				t.Errorf("%s on %s: block %q, want one: %v", q, d.Name, plan.Block, want)
			}
			if plan.Block != "" && !strings.Contains(plan.Block, "\n"+q+"\n;\n") {
				t.Errorf("%s: the block does not hold the statement on lines of its own:\n%s", q, plan.Block)
			}
		}
	}
}

// TestMySQLRestrict: the restricted statement takes the caller's
// arguments before its key condition, the keys, then the rest, in the
// order of its "?" placeholders; with no key, it changes no row.
func TestMySQLRestrict(t *testing.T) {
	p := mysqlPlanner(t, rewrite.MySQL)
	plan, _ := p.Plan("UPDATE memberships SET role = ? WHERE org_id = ? ORDER BY user_id LIMIT ?")
	args := []driver.NamedValue{{Ordinal: 1, Value: "r"}, {Ordinal: 2, Value: int64(7)}, {Ordinal: 3, Value: int64(10)}}
	keys := [][]driver.Value{{int64(7), int64(1)}, {int64(7), int64(2)}}
	q, got := plan.Restrict.SQL(plan.Table, args, keys)
	if want := "UPDATE memberships SET role = ? WHERE (org_id = ?) AND (memberships.`org_id`, memberships.`user_id`) IN ((?, ?), (?, ?)) ORDER BY user_id LIMIT ?"; q != want {
		t.Fatalf("restricted:\n got  %s\n want %s", q, want)
	}
	var vals []driver.Value
	for i, a := range got {
		if a.Ordinal != i+1 {
			t.Fatalf("argument %d has ordinal %d", i, a.Ordinal)
		}
		vals = append(vals, a.Value)
	}
	if want := []driver.Value{"r", int64(7), int64(7), int64(1), int64(7), int64(2), int64(10)}; !reflect.DeepEqual(vals, want) {
		t.Fatalf("arguments %v, want %v", vals, want)
	}
	if q, _ := plan.Restrict.SQL(plan.Table, args, nil); !strings.Contains(q, "(org_id = ?) AND FALSE ORDER BY") {
		t.Fatalf("with no key: %s", q)
	}
	if got := p.Table("users").UpsertSQL(1); got != "INSERT INTO `accounts` (`account_id`, `email_address`, `first_name`, `last_name`, `visits`) SELECT id, email, "+
		"SUBSTRING_INDEX(full_name, ' ', 1), SUBSTRING(full_name, CHAR_LENGTH(SUBSTRING_INDEX(full_name, ' ', 1)) + 2), visits FROM `users` WHERE `id` IN (?) "+
		"ON DUPLICATE KEY UPDATE `accounts`.`account_id` = IF(`accounts`.`account_id` <=> VALUES(`account_id`), `accounts`.`account_id`, (SELECT 1 UNION ALL SELECT 2)), "+
		"`accounts`.`email_address` = VALUES(`email_address`), `accounts`.`first_name` = VALUES(`first_name`), `accounts`.`last_name` = VALUES(`last_name`), `accounts`.`visits` = VALUES(`visits`)" {
		t.Fatalf("upsert: %s", got)
	}
}

// TestMySQLReadHints: a read with an index hint or a PARTITION clause
// cannot be served from the new table, whose derived table takes neither:
// its plan says so, and the old read phase runs it as written.
func TestMySQLReadHints(t *testing.T) {
	p := mysqlPlanner(t, rewrite.MySQL)
	for _, q := range []string{
		"SELECT * FROM users USE INDEX (PRIMARY) WHERE id = 1",
		"SELECT * FROM users u FORCE KEY FOR JOIN (email) JOIN audit a ON a.id = u.id",
		"SELECT * FROM users PARTITION (p0)",
	} {
		plan, _ := p.Plan(q)
		if plan.Action != rewrite.Read || plan.Err == nil || !strings.Contains(plan.Err.Error(), "old table's") {
			t.Errorf("%s: action %d, %v; want a read that cannot be served from the new table", q, plan.Action, plan.Err)
		}
	}
	if plan, _ := p.Plan("SELECT `use`, `index` FROM users"); plan.Err != nil {
		t.Errorf("columns named use and index: %v", plan.Err)
	}
}

// TestMySQLReadAliases: MySQL's words after a table reference that are
// no alias (STRAIGHT_JOIN, LOCK IN SHARE MODE), and FULL, which is one:
// the derived table that stands in for the old table keeps the name the
// query calls it by.
func TestMySQLReadAliases(t *testing.T) {
	p := mysqlPlanner(t, rewrite.MySQL)
	for q, want := range map[string]string{
		"SELECT * FROM users STRAIGHT_JOIN audit": ") AS users STRAIGHT_JOIN audit",
		"SELECT full.id FROM users full":          ") full",
	} {
		plan, _ := p.Plan(q)
		if plan.Read == nil || plan.Err != nil || !strings.HasSuffix(plan.Read.NewQuery, want) {
			t.Errorf("%s: %+v; want the new query to end in %q", q, plan.Read, want)
		}
	}
}
