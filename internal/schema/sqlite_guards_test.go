package schema

import (
	"reflect"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

func TestSQLiteGuardsTriggers(t *testing.T) {
	tests := []struct {
		name string
		ddl  string
		want map[string]rewrite.Guard
	}{
		{
			name: "insert trigger writes to users",
			ddl:  "CREATE TRIGGER orders_ins AFTER INSERT ON orders BEGIN UPDATE users SET org_id = 1 WHERE id = NEW.user_id; END;",
			want: map[string]rewrite.Guard{"orders": {Insert: true, Reason: "trigger orders_ins on orders writes to mapped table users"}},
		},
		{
			name: "update of columns, quoted names, or replace",
			ddl:  `CREATE TRIGGER IF NOT EXISTS "Orders Upd" BEFORE UPDATE OF total, user_id ON "orders" FOR EACH ROW WHEN NEW.total > 0 BEGIN SELECT 1; INSERT OR REPLACE INTO [Users] (id) VALUES (NEW.user_id); END;`,
			want: map[string]rewrite.Guard{"orders": {Update: true, Reason: "trigger Orders Upd on orders writes to mapped table users"}},
		},
		{
			name: "delete triggers on two tables merge",
			ddl: "CREATE TRIGGER a_del AFTER DELETE ON orders BEGIN DELETE FROM users WHERE id = OLD.user_id; END;\n" +
				"CREATE TRIGGER b_ins AFTER INSERT ON orders BEGIN INSERT INTO accounts (account_id) VALUES (NEW.id); END;",
			want: map[string]rewrite.Guard{"orders": {Insert: true, Delete: true,
				Reason: "trigger a_del on orders writes to mapped table users; trigger b_ins on orders writes to mapped table accounts"}},
		},
		{
			name: "trigger on the old table writing to itself",
			ddl:  "CREATE TRIGGER touch AFTER UPDATE ON users BEGIN UPDATE users SET org_id = 0 WHERE org_id IS NULL; END;",
			want: map[string]rewrite.Guard{"users": {Update: true, Reason: "trigger touch on users writes to mapped table users"}},
		},
		{
			name: "through another trigger",
			ddl: "CREATE TRIGGER audit_del AFTER DELETE ON audit BEGIN DELETE FROM users WHERE id = OLD.id; END;\n" +
				"CREATE TRIGGER orders_upd AFTER UPDATE ON orders BEGIN DELETE FROM audit WHERE id = OLD.id; INSERT INTO audit (msg) VALUES ('x'); END;",
			want: map[string]rewrite.Guard{
				"audit": {Delete: true, Reason: "trigger audit_del on audit writes to mapped table users"},
				"orders": {Update: true, Reason: "trigger orders_upd on orders writes to audit, whose writes change a mapped table " +
					"(trigger audit_del on audit writes to mapped table users)"},
			},
		},
		{
			name: "only reads users",
			ddl:  "CREATE TRIGGER orders_log AFTER INSERT ON orders BEGIN INSERT INTO audit (msg) SELECT 'users: ' || count(*) FROM users; END;",
			want: map[string]rewrite.Guard{},
		},
		{
			name: "writes to an unrelated table, even from users",
			ddl:  "CREATE TRIGGER users_log AFTER UPDATE ON users BEGIN INSERT INTO audit (msg) VALUES ('users changed'); UPDATE orders SET total = 0 WHERE user_id = NEW.id; END;",
			want: map[string]rewrite.Guard{},
		},
		{
			name: "insert into audit does not guard audit inserts",
			ddl: "CREATE TRIGGER audit_del AFTER DELETE ON audit BEGIN DELETE FROM users WHERE id = OLD.id; END;\n" +
				"CREATE TRIGGER orders_ins AFTER INSERT ON orders BEGIN INSERT INTO audit (msg) VALUES ('x'); END;",
			want: map[string]rewrite.Guard{"audit": {Delete: true, Reason: "trigger audit_del on audit writes to mapped table users"}},
		},
		{
			name: "instead of trigger on a view",
			ddl: "CREATE VIEW v AS SELECT id FROM users;\n" +
				"CREATE TRIGGER v_del INSTEAD OF DELETE ON v BEGIN DELETE FROM users WHERE id = OLD.id; END;",
			want: map[string]rewrite.Guard{"v": {Delete: true, Reason: "trigger v_del on v writes to mapped table users"}},
		},
		{
			name: "cascade from a guarded table",
			ddl: "CREATE TRIGGER audit_del AFTER DELETE ON audit BEGIN DELETE FROM users WHERE id = OLD.id; END;\n" +
				"CREATE TABLE batches (id INTEGER PRIMARY KEY);\n" +
				"CREATE TABLE audit2 (id INTEGER PRIMARY KEY, batch INT REFERENCES batches ON DELETE CASCADE);\n" +
				"CREATE TRIGGER audit2_del AFTER DELETE ON audit2 BEGIN DELETE FROM audit; END;",
			want: map[string]rewrite.Guard{
				"audit":  {Delete: true, Reason: "trigger audit_del on audit writes to mapped table users"},
				"audit2": {Delete: true, Reason: "trigger audit2_del on audit2 writes to audit, whose writes change a mapped table (trigger audit_del on audit writes to mapped table users)"},
				"batches": {Delete: true, Reason: "foreign key audit2(batch) -> batches ON DELETE CASCADE changes audit2, " +
					"whose writes change a mapped table without the mirror"},
			},
		},
		{
			name: "a replacing constraint on a table whose deletes cascade",
			ddl: "CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT UNIQUE ON CONFLICT REPLACE);\n" +
				"CREATE TABLE uses (id INTEGER PRIMARY KEY, code_id INT REFERENCES codes ON DELETE CASCADE);\n" +
				"CREATE TRIGGER uses_del AFTER DELETE ON uses BEGIN DELETE FROM users WHERE id = OLD.id; END;",
			want: map[string]rewrite.Guard{
				"uses": {Delete: true, Reason: "trigger uses_del on uses writes to mapped table users"},
				"codes": {Insert: true, Update: true, Delete: true, Reason: "foreign key uses(code_id) -> codes ON DELETE CASCADE changes uses, " +
					"whose writes change a mapped table without the mirror; a constraint of codes declared ON CONFLICT REPLACE makes its inserts and updates delete the rows they conflict with"},
			},
		},
		{
			name: "a replacing constraint on a table whose deletes change nothing",
			ddl:  "CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT UNIQUE ON CONFLICT REPLACE);",
			want: map[string]rewrite.Guard{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, problems := inspect(t, orgTables+orgUsers+tt.ddl, orgMapping)
			checkProblems(t, problems)
			if !reflect.DeepEqual(s.Guards, tt.want) {
				t.Errorf("Guards = %#v\nwant %#v", s.Guards, tt.want)
			}
		})
	}
}

func TestSQLiteTriggerOnNewTable(t *testing.T) {
	ddl := orgTables + "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT);\n" +
		"CREATE TRIGGER back AFTER INSERT ON accounts BEGIN UPDATE users SET org_id = NEW.org WHERE id = NEW.account_id; END;\n" +
		"CREATE TRIGGER log AFTER INSERT ON accounts BEGIN INSERT INTO audit (msg) VALUES ('new account'); END;"
	s, problems := inspect(t, ddl, orgMapping)
	checkProblems(t, problems, want{"accounts", "", []string{"trigger back on the new table writes to mapped table users", "drop the trigger while dual-writing"}})
	if g := s.Guards["accounts"]; !g.Insert {
		t.Errorf("Guards[accounts] = %#v, want Insert", g)
	}
}

func TestParseTrigger(t *testing.T) {
	tests := []struct {
		sql  string
		want trigger
	}{
		{"CREATE TRIGGER t AFTER INSERT ON x BEGIN INSERT INTO y VALUES (1); END",
			trigger{kindInsert, []write{{"y", kindInsert}}}},
		{"create temp trigger main.t update on x begin update or replace y set a = 1; delete from main.z; end",
			trigger{kindUpdate, []write{{"y", kindUpdate | kindDelete}, {"z", kindDelete}}}},
		{`CREATE TRIGGER t DELETE ON x BEGIN REPLACE INTO "we""ird" VALUES (1); INSERT INTO y VALUES (1) ON CONFLICT DO UPDATE SET a = 2; END`,
			trigger{kindDelete, []write{{`we"ird`, kindInsert | kindDelete}, {"y", kindInsert | kindUpdate}}}},
		{"CREATE TRIGGER t BEFORE DELETE ON x WHEN (SELECT count(*) FROM users) > 0 BEGIN SELECT RAISE(ABORT, 'no'); END",
			trigger{kindDelete, nil}},
		{"CREATE TRIGGER t BEFORE DELETE ON x BEGIN SELECT CASE WHEN 1 THEN 2 END; END",
			trigger{kindDelete, nil}},
		// Shapes the parser does not know fail closed.
		{"CREATE TRIGGER t AFTER TRUNCATE ON x BEGIN SELECT 1; END",
			trigger{kindAll, []write{{"CREATE", kindAll}, {"TRIGGER", kindAll}, {"t", kindAll}, {"AFTER", kindAll}, {"TRUNCATE", kindAll},
				{"ON", kindAll}, {"x", kindAll}, {"BEGIN", kindAll}, {"SELECT", kindAll}, {"END", kindAll}}}},
		{"CREATE TRIGGER t AFTER INSERT ON x BEGIN WITH c AS (SELECT 1) DELETE FROM users; END",
			trigger{kindAll, []write{{"CREATE", kindAll}, {"TRIGGER", kindAll}, {"t", kindAll}, {"AFTER", kindAll}, {"INSERT", kindAll},
				{"ON", kindAll}, {"x", kindAll}, {"BEGIN", kindAll}, {"WITH", kindAll}, {"c", kindAll}, {"AS", kindAll}, {"SELECT", kindAll},
				{"DELETE", kindAll}, {"FROM", kindAll}, {"users", kindAll}, {"END", kindAll}}}},
	}
	for _, tt := range tests {
		if got := parseTrigger(tt.sql); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseTrigger(%q)\n got %v\nwant %v", tt.sql, got, tt.want)
		}
	}
}
