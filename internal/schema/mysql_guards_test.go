package schema

import (
	"context"
	"database/sql/driver"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/rewrite"
)

func TestMySQLGuardsTriggers(t *testing.T) {
	tests := []struct {
		name  string
		ddl   string // after orgTables and orgUsers
		want  map[string]rewrite.Guard
		wants []want // the problems
	}{
		{
			name: "trigger inserts into users",
			ddl:  "CREATE TRIGGER orders_ins AFTER INSERT ON orders FOR EACH ROW INSERT IGNORE INTO Users (id, org_id) VALUES (NEW.user_id, 1);",
			want: map[string]rewrite.Guard{"orders": {Insert: true,
				Reason: "trigger orders_ins on orders may write to mapped table users (its statement names it)"}},
		},
		{
			name: "trigger names only other tables",
			ddl: "CREATE TABLE users_archive (id int);\n" +
				"CREATE TRIGGER orders_log AFTER INSERT ON orders FOR EACH ROW BEGIN INSERT INTO audit (msg) VALUES (concat('order of user ', NEW.user_id)); INSERT INTO users_archive VALUES (NEW.user_id); END;",
			want: map[string]rewrite.Guard{},
		},
		{
			name: "triggers on two tables, one through a procedure",
			ddl: "CREATE PROCEDURE wipe() DELETE FROM accounts;\n" +
				"CREATE TRIGGER orders_wipe AFTER DELETE ON orders FOR EACH ROW CALL wipe();\n" +
				"CREATE TRIGGER orgs_upd BEFORE UPDATE ON orgs FOR EACH ROW UPDATE users SET org_id = NEW.id WHERE org_id = OLD.id;",
			want: map[string]rewrite.Guard{
				"orders": {Delete: true, Reason: "trigger orders_wipe on orders may write to mapped table accounts (its statement names it)"},
				"orgs":   {Update: true, Reason: "trigger orgs_upd on orgs may write to mapped table users (its statement names it)"},
			},
			// The procedure may be called by anyone.
			wants: []want{{"accounts", "", []string{"procedure wipe may write to mapped table accounts (its body names it)", "DROP PROCEDURE `wipe`"}}},
		},
		{
			name: "trigger writes to a table guarded by a cascading foreign key",
			ddl: "ALTER TABLE users ADD CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE;\n" +
				"CREATE TRIGGER audit_del AFTER DELETE ON audit FOR EACH ROW DELETE FROM orgs WHERE id = OLD.id;",
			want: map[string]rewrite.Guard{
				"orgs": {Delete: true, Reason: "foreign key users_org users(org_id) -> orgs ON DELETE CASCADE changes users without the mirror"},
				"audit": {Delete: true, Reason: "trigger audit_del on audit may write to orgs, whose writes change a mapped table " +
					"(foreign key users_org users(org_id) -> orgs ON DELETE CASCADE changes users without the mirror) (its statement names it)"},
			},
		},
		{
			name: "trigger on the old table writing to another table",
			ddl:  "CREATE TRIGGER users_log AFTER UPDATE ON users FOR EACH ROW INSERT INTO audit (msg) VALUES ('user changed');",
			want: map[string]rewrite.Guard{},
		},
		{
			name: "updatable views over users, directly and through another view",
			ddl: "CREATE VIEW active_users AS SELECT id, org_id FROM users WHERE org_id IS NOT NULL;\n" +
				"CREATE VIEW busy_users AS SELECT id FROM active_users WHERE id > 10;\n" +
				"CREATE VIEW users_per_org AS SELECT org_id, count(*) AS n FROM users GROUP BY org_id;\n" +
				"CREATE VIEW org_names AS SELECT id, name FROM orgs;",
			want: map[string]rewrite.Guard{
				"active_users": {Insert: true, Update: true, Delete: true, Reason: "view active_users is updatable and writes to mapped table users"},
				"busy_users": {Insert: true, Update: true, Delete: true,
					Reason: "view busy_users is updatable and writes to active_users, whose writes change a mapped table (view active_users is updatable and writes to mapped table users)"},
			},
		},
		{
			name: "trigger on the new table",
			ddl: "CREATE TRIGGER back AFTER INSERT ON accounts FOR EACH ROW UPDATE users SET org_id = NEW.org WHERE id = NEW.account_id;\n" +
				"CREATE TRIGGER log AFTER INSERT ON accounts FOR EACH ROW INSERT INTO audit (msg) VALUES ('new account');",
			want: map[string]rewrite.Guard{"accounts": {Insert: true, Reason: "trigger back on accounts may write to mapped table users (its statement names it)"}},
			wants: []want{{"accounts", "", []string{"trigger back on the new table may write to mapped table users (its statement names it)",
				"the mirror's writes would fire it", "DROP TRIGGER `back`"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := myOpen(t, orgTables+orgUsers+tt.ddl)
			s, problems := db.inspect(t, orgMapping)
			checkProblems(t, problems, tt.wants...)
			if !reflect.DeepEqual(s.Guards, tt.want) {
				t.Errorf("Guards = %#v\nwant %#v", s.Guards, tt.want)
			}
		})
	}
}

func TestMySQLRowTriggers(t *testing.T) {
	ddl := orgTables + orgUsers + `CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW SET NEW.org_id = coalesce(NEW.org_id, 0);
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW SET NEW.org = coalesce(NEW.org, 0);
CREATE TRIGGER users_ins BEFORE INSERT ON users FOR EACH ROW SET NEW.org_id = coalesce(NEW.org_id, 0);
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW SET NEW.total = coalesce(NEW.total, 0);
`
	s, problems := myOpen(t, ddl).inspect(t, orgMapping)
	checkProblems(t, problems)
	want := map[string]string{"users": "trigger users_touch (BEFORE UPDATE FOR EACH ROW)", "accounts": "trigger accounts_touch (BEFORE UPDATE FOR EACH ROW)"}
	if !reflect.DeepEqual(s.RowTriggers, want) {
		t.Errorf("RowTriggers = %v\nwant %v", s.RowTriggers, want)
	}
	if len(s.Guards) != 0 {
		t.Errorf("Guards = %v, want none", s.Guards)
	}
}

func TestMySQLServerCode(t *testing.T) {
	tests := []struct {
		name  string
		ddl   string // after orgTables and orgUsers
		wants []want
	}{
		{
			name: "enabled event deletes from users",
			ddl:  "CREATE EVENT purge_users ON SCHEDULE EVERY 1 DAY STARTS CURRENT_TIMESTAMP + INTERVAL 1 DAY DO DELETE FROM users WHERE org_id IS NULL;",
			wants: []want{{"users", "", []string{"event purge_users may write to mapped table users (its body names it)", "on its schedule",
				"ALTER EVENT `purge_users` DISABLE"}}},
		},
		{
			name: "disabled event",
			ddl:  "CREATE EVENT purge_users ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM users WHERE org_id IS NULL;",
		},
		{
			name: "event calls a procedure that updates accounts",
			ddl: "CREATE PROCEDURE bump(IN o int) UPDATE accounts SET org = o;\n" +
				"CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS CURRENT_TIMESTAMP + INTERVAL 1 DAY DO CALL bump(1);",
			wants: []want{
				{"accounts", "", []string{"procedure bump may write to mapped table accounts", "DROP PROCEDURE `bump`"}},
				{"accounts", "", []string{"event nightly may write to mapped table accounts (its body names it)"}},
			},
		},
		{
			name: "function writes users",
			ddl:  "CREATE FUNCTION add_user(i int) RETURNS int MODIFIES SQL DATA BEGIN INSERT INTO users (id) VALUES (i); RETURN i; END;",
			wants: []want{{"users", "", []string{"function add_user may write to mapped table users",
				"when it is called (CALL, or a statement that uses the function)", "DROP FUNCTION `add_user`"}}},
		},
		{
			name:  "dynamic SQL names users",
			ddl:   "CREATE PROCEDURE run_it() BEGIN SET @s = 'DELETE FROM users'; PREPARE st FROM @s; EXECUTE st; END;",
			wants: []want{{"users", "", []string{"procedure run_it may write to mapped table users"}}},
		},
		{
			name: "procedure writes a table guarded by a cascading foreign key",
			ddl: "ALTER TABLE users ADD CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE;\n" +
				"CREATE PROCEDURE drop_org(i int) DELETE FROM orgs WHERE id = i;",
			wants: []want{{"", "", []string{"procedure drop_org may write to orgs, whose writes change a mapped table (foreign key users_org"}}},
		},
		{
			name: "routines that only read users, or write elsewhere",
			ddl: "CREATE FUNCTION user_count() RETURNS int READS SQL DATA RETURN (SELECT count(*) FROM users);\n" +
				"CREATE PROCEDURE log_it(m text) INSERT INTO audit (msg) VALUES (m);",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := myOpen(t, orgTables+orgUsers+tt.ddl).inspect(t, orgMapping)
			checkProblems(t, problems, tt.wants...)
		})
	}
}

func TestMySQLUnreadableRoutinesFailClosed(t *testing.T) {
	// A user who did not define a routine, without the privilege to see
	// routines, reads NULL bodies: the catalog's answer is rewritten so.
	ddl := orgTables + orgUsers + `CREATE PROCEDURE log_it(m text) INSERT INTO audit (msg) VALUES (m);
CREATE TRIGGER orders_log AFTER UPDATE ON orders FOR EACH ROW CALL log_it('order');
CREATE TRIGGER orgs_log AFTER DELETE ON orgs FOR EACH ROW INSERT INTO audit (msg) VALUES ('org');
`
	db := myOpen(t, ddl)
	db.with(t, func(q Querier) {
		hidden := QuerierFunc(func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
			if strings.Contains(query, "information_schema.ROUTINES") {
				query = strings.Replace(query, "ROUTINE_DEFINITION", "NULL", 1)
			}
			return q.Query(ctx, query, args)
		})
		s, problems, err := InspectMySQL(context.Background(), hidden, parseMapping(t, orgMapping))
		if err != nil {
			t.Fatal(err)
		}
		checkProblems(t, problems, want{"accounts", "", []string{"procedure log_it may write to mapped table accounts (its body is hidden from this user, who may not read it)"}})
		want := map[string]rewrite.Guard{"orders": {Update: true,
			Reason: "trigger orders_log on orders may write to mapped table accounts (its statement runs procedure log_it, whose text this user may not read)"}}
		if !reflect.DeepEqual(s.Guards, want) {
			t.Errorf("Guards = %#v\nwant %#v", s.Guards, want)
		}
	})
}

func TestMySQLTriggerEvents(t *testing.T) {
	for _, tt := range []struct {
		event string
		want  writeKind
	}{
		{"INSERT", kindInsert}, {"update", kindUpdate}, {"DELETE", kindDelete}, {"INSERT,UPDATE", kindInsert | kindUpdate}, {"", kindAll}, {"TRUNCATE", kindAll},
	} {
		if got := myTriggerEvents(tt.event); got != tt.want {
			t.Errorf("myTriggerEvents(%q) = %v, want %v", tt.event, got, tt.want)
		}
	}
}

func TestMySQLForeignKeyToAnotherDatabase(t *testing.T) {
	_, other := mytest.New(t, "CREATE TABLE orgs (id int PRIMARY KEY)")
	db := myOpen(t, "CREATE TABLE accounts (account_id int PRIMARY KEY, org int);\n"+
		"CREATE TABLE users (id int PRIMARY KEY, org_id int, CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES "+other+".orgs (id) ON DELETE SET NULL);")
	s, problems := db.inspect(t, orgMapping)
	checkProblems(t, problems)
	want := map[string]rewrite.Guard{"orgs": {Delete: true, Reason: "foreign key users_org users(org_id) -> orgs ON DELETE SET NULL changes users without the mirror"}}
	if !reflect.DeepEqual(s.Guards, want) {
		t.Errorf("Guards = %#v\nwant %#v", s.Guards, want)
	}
}
