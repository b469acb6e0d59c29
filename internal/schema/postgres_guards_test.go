package schema

import (
	"context"
	"database/sql/driver"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

func TestPostgresPartitionedTables(t *testing.T) {
	ddl := `
CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text, visits int NOT NULL DEFAULT 0) PARTITION BY RANGE (id);
CREATE TABLE users_low PARTITION OF users FOR VALUES FROM (MINVALUE) TO (1000);
CREATE TABLE users_high PARTITION OF users FOR VALUES FROM (1000) TO (MAXVALUE) PARTITION BY HASH (id);
CREATE TABLE users_high_0 PARTITION OF users_high FOR VALUES WITH (MODULUS 1, REMAINDER 0);
CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int NOT NULL DEFAULT 0);
CREATE TABLE people (account_id bigint);
CREATE TABLE accounts_archive () INHERITS (accounts);
ALTER TABLE accounts INHERIT people;
`
	p := pgOpen(t, ddl)
	s, problems := p.inspect(t, pgUsersMapping)
	checkProblems(t, problems)
	all := rewrite.Guard{Insert: true, Update: true, Delete: true}
	got := p.guards(t, s)
	for name, w := range map[string]rewrite.Guard{"users_low": all, "users_high": all, "users_high_0": all, "accounts_archive": all,
		"people": {Update: true, Delete: true}} {
		g := got[name]
		if g.Insert != w.Insert || g.Update != w.Update || g.Delete != w.Delete || g.Reason == "" {
			t.Errorf("Guards[%s] = %#v, want %v", name, g, w)
		}
		// The rows of a partition or child are the mapped table's rows; an
		// ancestor's are not.
		if g.Rows != (name != "people") {
			t.Errorf("Guards[%s].Rows = %v", name, g.Rows)
		}
	}
	if len(got) != 5 {
		t.Errorf("Guards = %v, want 5", got)
	}
	if r := got["users_high_0"].Reason; r != "users_high_0 is a partition or inheritance child of mapped table users, and writes to it change users without the mirror: write to users" {
		t.Errorf("reason %q", r)
	}
}

func TestPostgresGuardsTriggers(t *testing.T) {
	tests := []struct {
		name string
		ddl  string
		want map[string]rewrite.Guard
	}{
		{
			name: "trigger function inserts into users",
			ddl: `CREATE FUNCTION orders_to_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO Users (id, org_id) VALUES (NEW.user_id, 1) ON CONFLICT DO NOTHING;
	RETURN NEW;
END $$;
CREATE TRIGGER orders_ins AFTER INSERT OR UPDATE OF user_id ON orders FOR EACH ROW EXECUTE FUNCTION orders_to_users();`,
			want: map[string]rewrite.Guard{"orders": {Insert: true, Update: true,
				Reason: "trigger orders_ins on orders may write to mapped table users (its function orders_to_users names it)"}},
		},
		{
			name: "trigger function names only other tables",
			ddl: `CREATE TABLE users_archive (id int);
CREATE FUNCTION orders_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit (msg) VALUES ('order of user ' || NEW.user_id);
	INSERT INTO users_archive VALUES (NEW.user_id);
	RETURN NEW;
END $$;
CREATE TRIGGER orders_log AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_log();`,
			want: map[string]rewrite.Guard{},
		},
		{
			name: "sql function, statement trigger on truncate and delete",
			ddl: `CREATE FUNCTION wipe() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN DELETE FROM public_x.accounts; RETURN NULL; END';
CREATE TRIGGER orders_wipe AFTER TRUNCATE ON orders EXECUTE FUNCTION wipe();
CREATE TRIGGER orgs_wipe BEFORE DELETE ON orgs FOR EACH STATEMENT EXECUTE FUNCTION wipe();`,
			want: map[string]rewrite.Guard{
				"orders": {Delete: true, Reason: "trigger orders_wipe on orders may write to mapped table accounts (its function wipe names it)"},
				"orgs":   {Delete: true, Reason: "trigger orgs_wipe on orgs may write to mapped table accounts (its function wipe names it)"},
			},
		},
		{
			name: "trigger writes to a guarded table",
			ddl: `ALTER TABLE users ADD FOREIGN KEY (org_id) REFERENCES orgs ON DELETE CASCADE;
CREATE FUNCTION cleanup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM orgs WHERE id = OLD.id; RETURN OLD; END $$;
CREATE TRIGGER audit_del AFTER DELETE ON audit FOR EACH ROW EXECUTE FUNCTION cleanup();`,
			want: map[string]rewrite.Guard{
				"orgs": {Delete: true, Reason: "foreign key users_org_id_fkey users(org_id) -> orgs ON DELETE CASCADE changes users without the mirror"},
				"audit": {Delete: true, Reason: "trigger audit_del on audit may write to orgs, whose writes change a mapped table " +
					"(foreign key users_org_id_fkey users(org_id) -> orgs ON DELETE CASCADE changes users without the mirror) (its function cleanup names it)"},
			},
		},
		{
			name: "rule on another table writes to users",
			ddl:  `CREATE RULE orders_users AS ON INSERT TO orders DO ALSO UPDATE users SET org_id = 0 WHERE id = NEW.user_id;`,
			want: map[string]rewrite.Guard{"orders": {Insert: true, Reason: "rule orders_users on orders may write to mapped table users"}},
		},
		{
			name: "updatable view over users",
			ddl: `CREATE VIEW active_users AS SELECT id, org_id FROM users WHERE org_id IS NOT NULL;
CREATE VIEW user_orgs AS SELECT u.id, o.name FROM users u JOIN orgs o ON o.id = u.org_id;`,
			want: map[string]rewrite.Guard{"active_users": {Insert: true, Update: true, Delete: true,
				Reason: "view active_users is updatable and writes to mapped table users"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pgOpen(t, orgTables+orgUsers+tt.ddl)
			s, problems := p.inspect(t, orgMapping)
			checkProblems(t, problems)
			if got := p.guards(t, s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Guards = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestPostgresTriggerOnNewTable(t *testing.T) {
	ddl := orgTables + orgUsers + `
CREATE FUNCTION back() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET org_id = NEW.org WHERE id = NEW.account_id; RETURN NEW; END $$;
CREATE TRIGGER back AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION back();
CREATE FUNCTION log_account() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit (msg) VALUES ('new account'); RETURN NEW; END $$;
CREATE TRIGGER log AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION log_account();
`
	p := pgOpen(t, ddl)
	s, problems := p.inspect(t, orgMapping)
	checkProblems(t, problems, want{"accounts", "", []string{"trigger back on the new table may write to mapped table users (its function back names it)", "drop the trigger while dual-writing"}})
	if g := p.guards(t, s)["accounts"]; !g.Insert || g.Update || g.Delete {
		t.Errorf("Guards[accounts] = %#v, want Insert", g)
	}
}

func TestPostgresRules(t *testing.T) {
	ddl := orgTables + orgUsers + `CREATE RULE users_log AS ON UPDATE TO users DO ALSO INSERT INTO audit (msg) VALUES ('user ' || NEW.id);
CREATE RULE accounts_nodelete AS ON DELETE TO accounts DO INSTEAD NOTHING;
`
	_, problems := pgInspect(t, ddl, orgMapping)
	checkProblems(t, problems,
		want{"accounts", "", []string{"rule accounts_nodelete rewrites writes on accounts"}},
		want{"users", "", []string{"rule users_log rewrites writes on users; dualwrite cannot mirror rule-rewritten writes", `DROP RULE "users_log" ON "users"`}},
	)
}

func TestPostgresCFunctionTriggersFailClosed(t *testing.T) {
	// pg_catalog's own trigger functions are internal; a C function cannot
	// be created without a shared library, so the C case is checked by
	// rewriting the language the catalog reports.
	ddl := orgTables + orgUsers + `CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_c BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION noop();
CREATE TRIGGER accounts_c BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION noop();
CREATE TRIGGER orgs_internal BEFORE UPDATE ON orgs FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
`
	p := pgOpen(t, ddl)
	p.with(t, func(q Querier) {
		asC := QuerierFunc(func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
			if strings.Contains(query, "pg_trigger") {
				query = strings.Replace(query, "l.lanname", "CASE p.proname WHEN 'noop' THEN 'c' ELSE l.lanname::text END", 1)
			}
			return q.Query(ctx, query, args)
		})
		s, problems, err := InspectPostgres(context.Background(), asC, parseMapping(t, orgMapping))
		if err != nil {
			t.Fatal(err)
		}
		checkProblems(t, problems, want{"accounts", "", []string{"trigger accounts_c on the new table runs the C function noop", "drop the trigger"}})
		want := map[string]rewrite.Guard{"orders": {Update: true, Reason: "trigger orders_c on orders runs the C function noop, whose writes dualwrite cannot inspect"}}
		if got := p.guards(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("Guards = %#v\nwant %#v", got, want)
		}
	})
}

func TestMentionsWord(t *testing.T) {
	for _, tt := range []struct {
		src, name string
		want      bool
	}{
		{"INSERT INTO users VALUES (1)", "users", true},
		{"insert into public.USERS values (1)", "users", true},
		{`UPDATE "Users" SET x = 1`, "Users", true},
		{"EXECUTE 'DELETE FROM ' || 'users'", "users", true},
		{"INSERT INTO users_archive VALUES (1)", "users", false},
		{"INSERT INTO old_users VALUES (1)", "users", false},
		{"SELECT users$1 FROM t", "users", false},
		{"x users", "users", true},
		{"usersusers users2", "users", false},
		{"", "users", false},
	} {
		if got := mentionsWord(tt.src, tt.name); got != tt.want {
			t.Errorf("mentionsWord(%q, %q) = %v, want %v", tt.src, tt.name, got, tt.want)
		}
	}
}

func TestPostgresTriggerEvents(t *testing.T) {
	for _, tt := range []struct {
		tgtype int64
		want   writeKind
	}{
		{1 | 4, kindInsert}, {8, kindDelete}, {16 | 2, kindUpdate}, {32, kindDelete}, {4 | 8 | 16 | 32, kindAll}, {64 | 4, kindInsert},
	} {
		if got := pgTriggerEvents(tt.tgtype); got != tt.want {
			t.Errorf("pgTriggerEvents(%d) = %v, want %v", tt.tgtype, got, tt.want)
		}
	}
}
