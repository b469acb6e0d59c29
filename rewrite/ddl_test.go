package rewrite_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

// ddlCases: which schema changes pass (and are marked for the check after
// them) and which are refused before they run, naming the table and the
// construct.
var ddlCases = []struct {
	name    string
	pg      bool // planned by the PostgreSQL dialect
	sql     string
	refused string // "": passes; else a word of the refusal
}{
	// Pass: new indexes, other tables (also referencing a mapped one),
	// CREATE TABLE IF NOT EXISTS of an existing mapped table, triggers
	// (the check after them decides), unmapped tables.
	{"index on users", false, "CREATE INDEX users_visits ON users (visits)", ""},
	{"unique index on users", false, "CREATE UNIQUE INDEX IF NOT EXISTS users_email2 ON users (email)", ""},
	{"index on accounts", false, "CREATE INDEX accounts_last ON accounts (last_name)", ""},
	{"concurrent index", true, "CREATE INDEX CONCURRENTLY users_visits ON users (visits)", ""},
	{"table referencing users", false, "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id) ON DELETE CASCADE)", ""},
	{"table as select users", false, "CREATE TABLE copy AS SELECT * FROM users", ""},
	{"if not exists users", false, "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, full_name TEXT)", ""},
	{"if not exists quoted", true, `CREATE TABLE IF NOT EXISTS "users" ("id" bigserial, PRIMARY KEY ("id"))`, ""},
	{"if not exists main.users", false, "CREATE TABLE IF NOT EXISTS main.users (id)", ""},
	{"trigger on users", false, "CREATE TRIGGER t AFTER INSERT ON users BEGIN INSERT INTO audit (msg) VALUES ('x'); END", ""},
	{"function naming users", true, "CREATE OR REPLACE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET visits = 0; RETURN NULL; END $$", ""},
	{"view over users", false, "CREATE VIEW active AS SELECT * FROM users WHERE visits > 0", ""},
	{"temp table as select users", false, "CREATE TEMP TABLE snap AS SELECT * FROM users", ""},
	{"drop index", false, "DROP INDEX users_visits", ""},
	{"drop trigger on users", true, "DROP TRIGGER t ON users", ""},
	{"drop other table", false, "DROP TABLE IF EXISTS orders", ""},
	{"alter unmapped", false, "ALTER TABLE stats ADD COLUMN n INTEGER", ""},
	{"inherit unmapped", true, "ALTER TABLE stats INHERIT stats_base", ""},
	{"drop a table with a trigger writing users", true, "DROP TABLE audit", ""},
	{"drop a table whose inserts write users", false, "DROP TABLE audit", ""},
	{"drop a table whose deletes cascade, postgres", true, "DROP TABLE orgs", ""},
	{"index on a partition of users", true, "ALTER TABLE users_2024 ADD CONSTRAINT c CHECK (visits >= 0)", ""},
	{"no inherit check", true, "ALTER TABLE stats ADD CONSTRAINT users CHECK (n > 0) NO INHERIT", ""},
	{"fk from unmapped", true, `ALTER TABLE "orders" ADD CONSTRAINT "fk_users_orders" FOREIGN KEY ("user_id") REFERENCES "users"("id")`, ""},
	{"fk on users", true, "ALTER TABLE memberships ADD CONSTRAINT m_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE", ""},
	{"check and unique on users", true, "ALTER TABLE ONLY users ADD CHECK (visits >= 0), ADD CONSTRAINT u UNIQUE (email, visits)", ""},
	{"default on users", true, "ALTER TABLE users ALTER COLUMN visits SET DEFAULT 1, ALTER full_name DROP DEFAULT", ""},
	{"validate", true, "ALTER TABLE users VALIDATE CONSTRAINT c", ""},
	{"unmapped drop cascade is not ddl on users", false, "CREATE INDEX stats_n ON stats (n)", ""},
	{"cut short", false, "CREATE", ""},
	{"cut short after temp", true, "CREATE TEMP", ""},

	// Refused: the columns, key or existence of a mapped table.
	{"drop users", false, "DROP TABLE users", "DROP TABLE"},
	{"drop accounts among others", true, "DROP TABLE orders, accounts", "DROP TABLE"},
	{"rename users", false, `ALTER TABLE "Users" RENAME TO people`, "RENAME"},
	{"rename to users", false, "ALTER TABLE people RENAME TO users", "RENAME"},
	{"add column to users", false, "ALTER TABLE users ADD COLUMN age INTEGER", "ADD COLUMN"},
	{"add column to accounts", true, "ALTER TABLE accounts ADD COLUMN age integer NOT NULL DEFAULT 0", "ADD COLUMN"},
	{"add column without keyword", true, "ALTER TABLE users ADD age integer", "ADD age"},
	{"drop column", false, "ALTER TABLE users DROP COLUMN email", "DROP COLUMN"},
	{"rename column", false, "ALTER TABLE users RENAME COLUMN email TO mail", "RENAME COLUMN"},
	{"alter type", true, "ALTER TABLE users ALTER COLUMN visits TYPE bigint", "TYPE"},
	{"set not null then safe", true, "ALTER TABLE users ADD CHECK (visits > 0), ALTER COLUMN email SET NOT NULL", "SET NOT NULL"},
	{"drop constraint", true, "ALTER TABLE users DROP CONSTRAINT users_pkey", "DROP CONSTRAINT"},
	{"add primary key", true, "ALTER TABLE accounts ADD PRIMARY KEY (account_id)", "PRIMARY KEY"},
	{"inherit users", true, "ALTER TABLE users_archive INHERIT users", "INHERIT"},
	{"no inherit users", true, `ALTER TABLE IF EXISTS ONLY users_archive NO INHERIT public."users"`, "INHERIT"},
	{"inherit accounts among others", true, "ALTER TABLE x ADD CHECK (n > 0) NO INHERIT, INHERIT accounts", "INHERIT"},
	{"inherit a partition of users", true, "ALTER TABLE x INHERIT users_2024", "INHERIT users_2024"},
	{"drop a table whose deletes cascade into memberships", false, "DROP TABLE IF EXISTS main.orgs", "DROP TABLE orgs, which deletes its rows"},
	{"drop a partition of users", true, "DROP TABLE IF EXISTS stats, users_2024", "DROP TABLE users_2024"},
	{"detach from a partition of users", true, "ALTER TABLE users_2024 DETACH PARTITION users_2024_01", "DETACH"},
	{"attach to a partition of users", true, "ALTER TABLE users_2024 ATTACH PARTITION users_2024_02 FOR VALUES FROM (1) TO (2)", "ATTACH"},
	{"create table users", false, "CREATE TABLE users (id INTEGER PRIMARY KEY)", "IF NOT EXISTS"},
	{"temp table users", false, "CREATE TEMP TABLE IF NOT EXISTS users (id)", "temporary"},
	{"temp schema users", false, "CREATE TABLE IF NOT EXISTS temp.users (id)", "temporary"},
	{"view named users", true, "CREATE VIEW accounts AS SELECT 1", "CREATE VIEW"},
	{"temp trigger writing users", false, "CREATE TEMP TRIGGER t AFTER INSERT ON stats BEGIN UPDATE users SET visits = 0; END", "temporary trigger"},
	{"temp trigger writing another table", false, "CREATE TEMPORARY TRIGGER t AFTER INSERT ON stats BEGIN INSERT INTO log (n) VALUES (1); END", "temporary trigger"},
	{"trigger in temp schema", false, "CREATE TRIGGER IF NOT EXISTS temp.t AFTER INSERT ON stats BEGIN UPDATE users SET visits = 0; END", "temporary trigger"},
	{"temp table users as a string", false, "CREATE TEMP TABLE 'users' (id INTEGER PRIMARY KEY)", "temporary table"},
	{"temp view accounts", true, "CREATE TEMP VIEW accounts AS SELECT 1", "temporary view"},
	{"policy on users", true, "CREATE POLICY p ON users USING (true)", "CREATE POLICY"},
	{"drop type cascade", true, "DROP TYPE mood CASCADE", "CASCADE"},
	{"alter type cascade", true, "ALTER TYPE addr ALTER ATTRIBUTE zip TYPE text CASCADE", "CASCADE"},
	{"second statement", false, "CREATE INDEX a ON stats (n); DROP TYPE mood CASCADE", "CASCADE"},
}

func TestDDL(t *testing.T) {
	for _, tc := range ddlCases {
		t.Run(tc.name, func(t *testing.T) {
			d := rewrite.SQLite
			if tc.pg {
				d = rewrite.Postgres
			}
			p := rewrite.NewPlanner(d, testMapping(), strictSchema(), 10)
			plan, _ := p.Plan(tc.sql)
			if tc.refused == "" {
				if plan.Action != rewrite.Pass || !plan.ChangesSchema {
					t.Fatalf("Plan(%q) = action %s, ChangesSchema %v (err %v); want a pass marked as a schema change", tc.sql, actionNames[plan.Action], plan.ChangesSchema, plan.Err)
				}
				return
			}
			if plan.Action != rewrite.Refuse || !errors.Is(plan.Err, rewrite.ErrUnsupported) {
				t.Fatalf("Plan(%q) = action %s (err %v); want refuse", tc.sql, actionNames[plan.Action], plan.Err)
			}
			if !strings.Contains(plan.Err.Error(), tc.refused) {
				t.Errorf("the refusal of %q does not say %q: %v", tc.sql, tc.refused, plan.Err)
			}
		})
	}
}

// TestBrokenMapping: an entry the schema check found broken has its writes
// refused and its reads refused outside the old phase, naming the
// problem; the other entries are untouched.
func TestBrokenMapping(t *testing.T) {
	s := strictSchema()
	s.Broken = map[string]string{"users": "users.email: is listed under reverse but is not a column of the old table"}
	p := rewrite.NewPlanner(rewrite.SQLite, testMapping(), s, 10)
	plan, _ := p.Plan("UPDATE users SET visits = 1 WHERE id = ?")
	if plan.Action != rewrite.Refuse || !strings.Contains(plan.Err.Error(), "users.email") || !strings.Contains(plan.Err.Error(), "users -> accounts") {
		t.Fatalf("write: action %s, err %v; want a refusal naming the problem", actionNames[plan.Action], plan.Err)
	}
	plan, _ = p.Plan("SELECT * FROM users")
	if plan.Action != rewrite.Read || plan.Err == nil || !strings.Contains(plan.Err.Error(), "users.email") {
		t.Fatalf("read: action %s, err %v; want a read plan with the problem", actionNames[plan.Action], plan.Err)
	}
	if plan, _ := p.Plan("INSERT INTO memberships VALUES (1, 2, 'a')"); plan.Action != rewrite.Mirror {
		t.Fatalf("another entry: action %s, err %v; want mirror", actionNames[plan.Action], plan.Err)
	}
}
