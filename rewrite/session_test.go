package rewrite_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

// sessionCases: which PostgreSQL statements are refused in every write
// phase because they change the connection's session (a setting the plans
// depend on, an SQL-level prepared statement), and which pass.
var sessionCases = []struct {
	sql     string
	refused string // "": not a session refusal; else a word of the refusal
}{
	{"SET standard_conforming_strings = off", "standard_conforming_strings"},
	{"ALTER SYSTEM SET standard_conforming_strings = off", "standard_conforming_strings"},
	{"alter system reset Search_Path", "search_path"},
	{"ALTER SYSTEM RESET ALL", "ALTER SYSTEM RESET ALL"},
	{"DO $$ BEGIN EXECUTE 'ALTER SYSTEM SET client_encoding = ''SJIS'''; END $$", "client_encoding"},
	{"ALTER SYSTEM SET work_mem = '64MB'", ""},
	{"set Standard_Conforming_Strings to 'off'", "standard_conforming_strings"},
	{`SET LOCAL "search_path" = other, public`, "search_path"},
	{"SET SESSION search_path TO DEFAULT", "search_path"},
	{"SET SCHEMA 'other'", "search_path"},
	{"SET NAMES 'SJIS'", "client_encoding"},
	{"SET client_encoding = 'SJIS'", "client_encoding"},
	{"SET ROLE reader", "role"},
	{"SET LOCAL ROLE reader", "role"},
	{"SET SESSION AUTHORIZATION reader", "role"},
	{"SET SESSION SESSION AUTHORIZATION reader", "role"},
	{"BEGIN; SET LOCAL search_path = other", "search_path"},
	{"SELECT set_config('search_path', 'other', true)", "search_path"},
	{"SELECT pg_catalog.set_config('SEARCH_PATH', 'other', true)", "search_path"},
	{"SELECT set_config('search' '_path', 'other', true)", "set_config"},
	{"SELECT set_config(E'search_path', 'other', true)", "set_config"},
	{"SELECT set_config($1, $2, false)", "set_config"},
	{"DO $$ BEGIN SET search_path = other; END $$", "search_path"},
	{"DO $body$ BEGIN IF true THEN SET ROLE reader; END IF; END $body$", "role"},
	{"DO $$ BEGIN EXECUTE 'SET standard_conforming_strings = off'; END $$", "standard_conforming_strings"},
	{"CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ SELECT set_config('search_path', 'x', false) $$", "search_path"},
	{"PREPARE p AS UPDATE users SET visits = 9", "PREPARE"},
	{"PREPARE p (bigint) AS SELECT * FROM users WHERE id = $1", "PREPARE"},
	{"PREPARE p AS INSERT INTO audit (msg) VALUES ('x')", "PREPARE"},
	{"PREPARE p AS WITH d AS (DELETE FROM audit RETURNING 1) SELECT * FROM d", "PREPARE"},
	{"PREPARE p AS DO NOTHING", "PREPARE"},
	{"PREPARE p", "PREPARE"},

	{"SET statement_timeout = '5s'", ""},
	{"SET myapp.role = 'x'", ""},
	{"SET TIME ZONE 'UTC'", ""},
	{"RESET search_path", ""},
	{"RESET ALL", ""},
	{"SELECT set_config('application_name', 'x', false)", ""},
	{"SELECT current_setting('search_path')", ""},
	{"UPDATE memberships SET role = 'x' WHERE org_id = 1", ""},
	{"CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = '' AS $$ SELECT 1 $$", ""},
	{"DO $$ BEGIN UPDATE audit SET role = 'x'; END $$", ""},
	{"PREPARE p AS SELECT 1", ""},
	{"PREPARE TRANSACTION 'x'", ""},
	{"EXECUTE p", ""},
	{"SELECT 'SET search_path = other'", ""},
}

func TestSessionRefusals(t *testing.T) {
	p := rewrite.NewPlanner(rewrite.Postgres, testMapping(), &rewrite.Schema{}, 100)
	for _, tc := range sessionCases {
		plan, _ := p.Plan(tc.sql)
		if tc.refused == "" {
			if plan.Session {
				t.Errorf("%s: refused in every phase: %v", tc.sql, plan.Err)
			}
			continue
		}
		if plan.Action != rewrite.Refuse || !plan.Session || !errors.Is(plan.Err, rewrite.ErrUnsupported) || !strings.Contains(plan.Err.Error(), tc.refused) {
			t.Errorf("%s: action %d, session %v, %v; want a refusal in every phase naming %q", tc.sql, plan.Action, plan.Session, plan.Err, tc.refused)
		}
	}
	// SQLite has no such settings, and no SQL-level PREPARE; its
	// temporary triggers and tables named like mapped ones are refused in
	// every phase, and a refused schema change is checked after it when
	// the off phase runs it.
	sp := rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{}, 100)
	for _, q := range []string{
		"CREATE TEMP TRIGGER t AFTER INSERT ON audit BEGIN SELECT 1; END",
		"CREATE TRIGGER temp.t AFTER INSERT ON audit BEGIN UPDATE users SET visits = 9; END",
		"CREATE TEMP TABLE 'users' (id INTEGER PRIMARY KEY)",
		"CREATE TABLE temp.accounts (id INTEGER PRIMARY KEY)",
	} {
		if plan, _ := sp.Plan(q); plan.Action != rewrite.Refuse || !plan.Session {
			t.Errorf("SQLite: %s: action %d, session %v; want a refusal in every phase", q, plan.Action, plan.Session)
		}
	}
	// The effects of every statement of a string count, also of one that
	// is refused in dual only: the off phase runs them all.
	for q, want := range map[string][3]bool{ // Session, TempTable, CreatesTrigger
		"CREATE TEMP TABLE s (id); CREATE TRIGGER t AFTER INSERT ON s BEGIN UPDATE users SET visits = 9; END": {false, true, true},
		"ALTER TABLE users DROP COLUMN email; CREATE TEMP TABLE s (id)":                                       {false, true, false},
		"CREATE TEMP TABLE users (id); SELECT 1":                                                              {true, false, false},
		"SELECT 1; CREATE TEMP TRIGGER t AFTER INSERT ON audit BEGIN SELECT 1; END":                           {true, false, false},
	} {
		plan, _ := sp.Plan(q)
		if plan.Session != want[0] || plan.TempTable != want[1] || plan.CreatesTrigger != want[2] || !plan.Session && !plan.ChangesSchema {
			t.Errorf("SQLite: %s: session %v, temp table %v, creates trigger %v, changes schema %v; want %v, and a schema change unless refused in every phase",
				q, plan.Session, plan.TempTable, plan.CreatesTrigger, plan.ChangesSchema, want)
		}
	}
	for _, q := range []string{
		"ALTER TABLE 'users' RENAME COLUMN visits TO hits",
		"ALTER TABLE users DROP COLUMN email; SELECT 1",
	} {
		if plan, _ := sp.Plan(q); plan.Action != rewrite.Refuse || plan.Session || !plan.ChangesSchema {
			t.Errorf("SQLite: %s: action %d, session %v, changes schema %v; want a refusal in dual that marks a schema change", q, plan.Action, plan.Session, plan.ChangesSchema)
		}
	}
	for q, want := range map[string][2]bool{ // TempTable, CreatesTrigger
		"CREATE TEMP TABLE scratch (id)":                                    {true, false},
		"CREATE TABLE temp.scratch AS SELECT * FROM users":                  {true, false},
		"BEGIN; CREATE TEMPORARY VIEW v AS SELECT 1":                        {true, false},
		"CREATE TABLE scratch (id)":                                         {false, false},
		"CREATE TRIGGER t AFTER INSERT ON scratch BEGIN SELECT 1; END":      {false, true},
		"CREATE TRIGGER main.t AFTER INSERT ON scratch BEGIN SELECT 1; END": {false, false},
	} {
		plan, _ := sp.Plan(q)
		if plan.Action != rewrite.Pass || plan.TempTable != want[0] || plan.CreatesTrigger != want[1] {
			t.Errorf("SQLite: %s: action %d, temp table %v, creates trigger %v; want pass, %v, %v", q, plan.Action, plan.TempTable, plan.CreatesTrigger, want[0], want[1])
		}
	}
	for q, want := range map[string][3]bool{ // refused in every phase, TempTable, ChangesSchema
		"SELECT * INTO TEMP users FROM audit":             {true, false, false},
		"SELECT * INTO pg_temp.accounts FROM audit":       {true, false, false},
		"SELECT 1 AS id INTO TEMPORARY TABLE scratch":     {false, true, true},
		"SELECT * INTO UNLOGGED snap FROM users":          {false, false, true},
		"INSERT INTO audit (msg) VALUES ('x')":            {false, false, false},
		"WITH s AS (SELECT 1) INSERT INTO audit SELECT 1": {false, false, false},
		"SELECT u.into FROM audit u":                      {false, false, false},
		"MERGE INTO audit a USING x ON true DO NOTHING":   {false, false, false},
	} {
		plan, _ := p.Plan(q)
		if plan.Session != want[0] || plan.TempTable != want[1] || plan.ChangesSchema != want[2] {
			t.Errorf("%s: session %v, temp table %v, changes schema %v; want %v", q, plan.Session, plan.TempTable, plan.ChangesSchema, want)
		}
	}
	for q, want := range map[string]struct {
		action rewrite.Action
		kind   rewrite.Kind
	}{
		"SELECT 1 INTO x; ALTER TABLE users DROP COLUMN email": {rewrite.Refuse, rewrite.KindOther},
		"SELECT 1 INTO x; DROP TABLE users":                    {rewrite.Refuse, rewrite.KindOther},
		"SELECT * INTO snap FROM users":                        {rewrite.Pass, rewrite.KindDDL},
		"BEGIN; SELECT 1 INTO TEMP x":                          {rewrite.Pass, rewrite.KindTx},
	} {
		plan, _ := p.Plan(q)
		if plan.Action != want.action || plan.Kind != want.kind || !plan.ChangesSchema {
			t.Errorf("%s: action %d, kind %v, changes schema %v; want action %d, kind %v, a schema change", q, plan.Action, plan.Kind, plan.ChangesSchema, want.action, want.kind)
		}
	}
	if plan, _ := p.Plan("CREATE TRIGGER t AFTER INSERT ON public.scratch FOR EACH ROW EXECUTE FUNCTION f()"); plan.CreatesTrigger {
		t.Errorf("PostgreSQL: a trigger on a table of a named schema may be on a temporary table")
	}
	for _, q := range []string{"SELECT set_config('search_path', 'x', false)", "PREPARE p AS SELECT 1"} {
		if plan, _ := sp.Plan(q); plan.Session {
			t.Errorf("SQLite: %s: refused in every phase: %v", q, plan.Err)
		}
	}
}
