package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/rewrite"
)

const pgUsersSchema = `
CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE, visits int NOT NULL DEFAULT 0);
CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int NOT NULL DEFAULT 0);
`

const pgUsersMapping = `
dialect: postgres
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      email_address: email
      first_name: "split_part(full_name, ' ', 1)"
      last_name: "substr(full_name, length(split_part(full_name, ' ', 1)) + 2)"
      visits: visits
    reverse:
      id: account_id
      full_name: "trim(first_name || ' ' || last_name)"
      email: email_address
      visits: visits
`

// pgTest is one test's schema on the server of DUALWRITE_TEST_POSTGRES_DSN.
type pgTest struct {
	schema string
	db     *sql.DB // its connections have search_path = schema
}

// pgOpen creates a schema of its own for the test, runs ddl in it, and
// drops it when the test ends. It skips the test when the variable is not
// set.
func pgOpen(t *testing.T, ddl string) *pgTest {
	t.Helper()
	dsn, schema := pgtest.New(t, ddl)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() }) // runs before the DROP
	return &pgTest{schema: schema, db: db}
}

// with runs f with a driver-level Querier on one connection of the pool.
func (p *pgTest) with(t *testing.T, f func(q Querier)) {
	t.Helper()
	ctx := context.Background()
	conn, err := p.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("the pgx connection is not a driver.QueryerContext")
		}
		f(QuerierFunc(qc.QueryContext))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// inspect runs InspectPostgres for yaml, checking that every driver.Rows
// was closed.
func (p *pgTest) inspect(t *testing.T, yaml string) (*rewrite.Schema, []Problem) {
	t.Helper()
	m := parseMapping(t, yaml)
	var (
		s        *rewrite.Schema
		problems []Problem
	)
	p.with(t, func(q Querier) {
		cq := &countingQuerier{q: q}
		var err error
		s, problems, err = InspectPostgres(context.Background(), cq, m)
		if err != nil {
			t.Fatalf("InspectPostgres: %v", err)
		}
		if o, c := cq.opened.Load(), cq.closed.Load(); o != c || o == 0 {
			t.Errorf("opened %d rows, closed %d", o, c)
		}
	})
	return s, problems
}

// guards returns the guards of s on relations of the test's schema.
func (p *pgTest) guards(t *testing.T, s *rewrite.Schema) map[string]rewrite.Guard {
	t.Helper()
	rows, err := p.db.Query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1", p.schema)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	own := map[string]rewrite.Guard{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if g, ok := s.Guards[name]; ok {
			own[name] = g
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return own
}

func pgInspect(t *testing.T, ddl, yaml string) (*rewrite.Schema, []Problem) {
	t.Helper()
	return pgOpen(t, ddl).inspect(t, yaml)
}

func TestPostgresHappyPath(t *testing.T) {
	p := pgOpen(t, pgUsersSchema+`
INSERT INTO users VALUES (1, 'Ada Lovelace', 'ada@example.com', 3), (2, 'Plato', NULL, 0);
CREATE TABLE audit (id serial PRIMARY KEY, msg text);
CREATE FUNCTION log_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO audit (msg) VALUES ('account ' || NEW.account_id);
	RETURN NEW;
END $$;
CREATE TRIGGER accounts_log AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION log_account();
`)
	s, problems := p.inspect(t, pgUsersMapping)
	checkProblems(t, problems)
	if !reflect.DeepEqual(s.OtherUnique, map[string]bool{"users": true}) {
		t.Errorf("OtherUnique = %v, want users only (UNIQUE email besides the key id)", s.OtherUnique)
	}
	if len(s.ReplaceOnConflict) != 0 {
		t.Errorf("ReplaceOnConflict = %v, want none", s.ReplaceOnConflict)
	}
	if g := p.guards(t, s); len(g) != 0 {
		t.Errorf("Guards = %v, want none", g)
	}
	// The up projection computes what the mapping means.
	var first, last string
	if err := p.db.QueryRow(`SELECT split_part(full_name, ' ', 1), substr(full_name, length(split_part(full_name, ' ', 1)) + 2) FROM users WHERE id = 2`).Scan(&first, &last); err != nil {
		t.Fatal(err)
	}
	if first != "Plato" || last != "" {
		t.Errorf("up(Plato) = %q, %q", first, last)
	}
}

func TestPostgresNamesCaseSensitive(t *testing.T) {
	ddl := `
CREATE TABLE "Users" (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE, visits int NOT NULL DEFAULT 0);
CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, "Visits" int NOT NULL DEFAULT 0);
`
	p := pgOpen(t, ddl)
	_, problems := p.inspect(t, pgUsersMapping)
	checkProblems(t, problems,
		want{"users", "", []string{"old table does not exist in schema " + p.schema, "case-sensitive", "line 4"}},
		want{"accounts", "visits", []string{"listed under columns", "not a column of the new table"}},
		want{"accounts", "Visits", []string{"new column Visits of accounts is not in the mapping"}},
		want{"users", "visits", []string{"expression `visits`", "not valid over accounts", `column "visits" does not exist`}},
	)

	quoted := strings.Replace(pgUsersMapping, "old: users", `old: '"Users"'`, 1)
	quoted = strings.Replace(quoted, "visits: visits\n    reverse:", "\"Visits\": visits\n    reverse:", 1)
	quoted = strings.Replace(quoted, "visits: visits\n", "visits: '\"Visits\"'\n", 1)
	s, problems := p.inspect(t, quoted)
	checkProblems(t, problems)
	if !s.OtherUnique["Users"] || s.OtherUnique["users"] {
		t.Errorf("OtherUnique = %v, want the exact name Users", s.OtherUnique)
	}
}

func TestPostgresMissingTables(t *testing.T) {
	const users = "CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE, visits int NOT NULL DEFAULT 0);\n"
	tests := []struct {
		name, ddl string
		want      want
	}{
		{"old", "CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int);",
			want{"users", "", []string{"old table does not exist", "create it", "`old:`", "line 4"}}},
		{"new", users, want{"accounts", "", []string{"new table does not exist", "`new:`"}}},
		{"new is a view", users + "CREATE VIEW accounts AS SELECT id AS account_id, email AS email_address, full_name AS first_name, full_name AS last_name, visits FROM users;",
			want{"accounts", "", []string{"new table is a view, not a table"}}},
		{"new is a materialized view", users + "CREATE MATERIALIZED VIEW accounts AS SELECT id AS account_id, email AS email_address, full_name AS first_name, full_name AS last_name, visits FROM users;",
			want{"accounts", "", []string{"new table is a materialized view, not a table"}}},
		{"new is a sequence", users + "CREATE SEQUENCE accounts;",
			want{"accounts", "", []string{"new table is a sequence, not a table"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := pgInspect(t, tt.ddl, pgUsersMapping)
			checkProblems(t, problems, tt.want)
		})
	}
}

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
	}
	if len(got) != 5 {
		t.Errorf("Guards = %v, want 5", got)
	}
	if r := got["users_high_0"].Reason; r != "users_high_0 is a partition or inheritance child of mapped table users, and writes to it change users without the mirror: write to users" {
		t.Errorf("reason %q", r)
	}
}

func TestPostgresColumns(t *testing.T) {
	const users = "CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE, visits int NOT NULL DEFAULT 0);\n"
	const accounts = "CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int NOT NULL DEFAULT 0);\n"
	tests := []struct {
		name, ddl string
		wants     []want
	}{
		{
			name:  "extra new column",
			ddl:   users + "CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int, nickname text);",
			wants: []want{{"accounts", "nickname", []string{"new column nickname of accounts is not in the mapping", "add it under columns", "drop it from the new table"}}},
		},
		{
			name: "missing new column",
			ddl:  users + "CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, visits int);",
			wants: []want{
				{"accounts", "last_name", []string{"listed under columns (mapping line 11)", "not a column of the new table", "add the column to accounts"}},
				{"users", "full_name", []string{"expression `trim(first_name || ' ' || last_name)`", "not valid over accounts", `column "last_name" does not exist`, "42703"}},
			},
		},
		{
			name:  "extra old column",
			ddl:   "CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE, visits int, age int);\n" + accounts,
			wants: []want{{"users", "age", []string{"old column age of users is not in the mapping", "add it under reverse", "over accounts's columns"}}},
		},
		{
			name: "dropped old column is not a column",
			ddl: "CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, age int, email text UNIQUE, visits int);\n" +
				"ALTER TABLE users DROP COLUMN age;\n" + accounts,
		},
		{
			name: "missing old column",
			ddl:  "CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE);\n" + accounts,
			wants: []want{
				{"users", "visits", []string{"listed under reverse", "not a column of the old table"}},
				{"accounts", "visits", []string{"expression `visits`", "not valid over users", `column "visits" does not exist`}},
			},
		},
		{
			name: "generated new column is not mapped",
			ddl: users + "CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int, " +
				"domain text GENERATED ALWAYS AS (split_part(email_address, '@', 2)) STORED);",
		},
		{
			name: "generated new column is mapped",
			ddl: users + "CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, " +
				"visits int GENERATED ALWAYS AS (0) STORED);",
			wants: []want{{"accounts", "visits", []string{"generated column", "remove it from columns (mapping line 12)"}}},
		},
		{
			name:  "reverse in another order",
			ddl:   "CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE, full_name text NOT NULL, visits int);\n" + accounts,
			wants: []want{{"users", "", []string{"reverse lists the old columns as (id, full_name, email, visits) but the table has (id, email, full_name, visits)"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := pgInspect(t, tt.ddl, pgUsersMapping)
			checkProblems(t, problems, tt.wants...)
		})
	}
}

func TestPostgresKeys(t *testing.T) {
	const accounts = "CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int);\n"
	const users = "CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE, visits int);\n"
	tests := []struct {
		name, ddl   string
		otherUnique bool
		wants       []want
	}{
		{
			name:  "old key not unique",
			ddl:   "CREATE TABLE users (id bigint NOT NULL, full_name text, email text, visits int);\n" + accounts,
			wants: []want{{"users", "", []string{"key (id) is not unique in the old table", `CREATE UNIQUE INDEX ... ON "users" ("id")`, "line 4"}}},
		},
		{
			name: "old key with only a partial unique index",
			ddl: "CREATE TABLE users (id bigint NOT NULL, full_name text, email text, visits int);\n" +
				"CREATE UNIQUE INDEX users_id ON users (id) WHERE visits > 0;\n" + accounts,
			otherUnique: false, // the partial index is on the key's columns
			wants:       []want{{"users", "", []string{"key (id) is not unique in the old table"}}},
		},
		{
			name: "old key with only an expression index",
			ddl: "CREATE TABLE users (id bigint NOT NULL, full_name text, email text, visits int);\n" +
				"CREATE UNIQUE INDEX users_id ON users ((id + 0));\n" + accounts,
			otherUnique: true,
			wants:       []want{{"users", "", []string{"key (id) is not unique in the old table"}}},
		},
		{
			name: "old key by unique index, with included columns",
			ddl: "CREATE TABLE users (id bigint NOT NULL, full_name text, email text, visits int);\n" +
				"CREATE UNIQUE INDEX users_id ON users (id) INCLUDE (email);\n" + accounts,
		},
		{
			name:  "old key nullable",
			ddl:   "CREATE TABLE users (id bigint UNIQUE, full_name text, email text, visits int);\n" + accounts,
			wants: []want{{"users", "id", []string{"key column allows NULL", "NOT NULL"}}},
		},
		{
			name:        "old key deferrable",
			ddl:         "CREATE TABLE users (id bigint NOT NULL, full_name text, email text, visits int, UNIQUE (id) DEFERRABLE);\n" + accounts,
			otherUnique: false,
			wants:       []want{{"users", "", []string{"key (id) is not unique", "deferrable"}}},
		},
		{
			name:  "new key not unique",
			ddl:   users + "CREATE TABLE accounts (account_id bigint NOT NULL, email_address text, first_name text, last_name text, visits int);",
			wants: []want{{"accounts", "", []string{"new key (account_id) is not unique in the new table", "ON CONFLICT (account_id)", `CREATE UNIQUE INDEX ... ON "accounts" ("account_id")`}}},
		},
		{
			name:  "new key deferrable",
			ddl:   users + "CREATE TABLE accounts (account_id bigint PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE, email_address text, first_name text, last_name text, visits int);",
			wants: []want{{"accounts", "", []string{"new key (account_id) is not unique", "deferrable"}}},
		},
		{
			name:  "new key nullable",
			ddl:   users + "CREATE TABLE accounts (account_id bigint UNIQUE, email_address text, first_name text, last_name text, visits int);",
			wants: []want{{"accounts", "account_id", []string{"new key column allows NULL"}}},
		},
		{
			name: "new key by unique constraint",
			ddl:  users + "CREATE TABLE accounts (account_id bigint NOT NULL UNIQUE, email_address text, first_name text, last_name text, visits int);",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, problems := pgInspect(t, tt.ddl, pgUsersMapping)
			checkProblems(t, problems, tt.wants...)
			if !strings.HasPrefix(tt.ddl, users) && s.OtherUnique["users"] != tt.otherUnique {
				t.Errorf("OtherUnique[users] = %v, want %v", s.OtherUnique["users"], tt.otherUnique)
			}
		})
	}
}

func TestPostgresCompositeKey(t *testing.T) {
	const yaml = `
tables:
  - old: memberships
    new: members
    key: [org_id, user_id]
    columns:
      org: org_id
      usr: user_id
      role_name: upper(role)
    reverse:
      org_id: org
      user_id: usr
      role: lower(role_name)
`
	tests := []struct {
		name, ddl   string
		otherUnique bool
		wants       []want
	}{
		{
			name: "unique index in another column order",
			ddl: `CREATE TABLE memberships (org_id int NOT NULL, user_id int NOT NULL, role text);
CREATE UNIQUE INDEX memberships_key ON memberships (user_id, org_id);
CREATE TABLE members (org int NOT NULL, usr int NOT NULL, role_name text, PRIMARY KEY (org, usr));`,
		},
		{
			name: "primary key and another partial unique index",
			ddl: `CREATE TABLE memberships (org_id int NOT NULL, user_id int NOT NULL, role text, PRIMARY KEY (org_id, user_id));
CREATE UNIQUE INDEX memberships_role ON memberships (org_id, role) WHERE role = 'owner';
CREATE TABLE members (org int NOT NULL, usr int NOT NULL, role_name text, UNIQUE (usr, org));`,
			otherUnique: true,
		},
		{
			name: "unique on a subset only",
			ddl: `CREATE TABLE memberships (org_id int NOT NULL, user_id int NOT NULL UNIQUE, role text);
CREATE TABLE members (org int NOT NULL, usr int NOT NULL, role_name text, PRIMARY KEY (org, usr));`,
			otherUnique: true,
			wants:       []want{{"memberships", "", []string{"key (org_id, user_id) is not unique"}}},
		},
		{
			name: "new key on a superset only",
			ddl: `CREATE TABLE memberships (org_id int NOT NULL, user_id int NOT NULL, role text, PRIMARY KEY (org_id, user_id));
CREATE TABLE members (org int NOT NULL, usr int NOT NULL, role_name text NOT NULL, PRIMARY KEY (org, usr, role_name));`,
			wants: []want{{"members", "", []string{"new key (org, usr) is not unique", "ON CONFLICT (org, usr)"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, problems := pgInspect(t, tt.ddl, yaml)
			checkProblems(t, problems, tt.wants...)
			if s.OtherUnique["memberships"] != tt.otherUnique {
				t.Errorf("OtherUnique[memberships] = %v, want %v", s.OtherUnique["memberships"], tt.otherUnique)
			}
		})
	}
}

func TestPostgresExpressions(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           want
	}{
		{"unknown column", `first_name: "split_part(full_name, ' ', 1)"`, `first_name: "split_part(full_nam, ' ', 1)"`,
			want{"accounts", "first_name", []string{"expression `split_part(full_nam, ' ', 1)` (columns, mapping line", "not valid over users", `column "full_nam" does not exist`, "fix it under columns"}}},
		{"unknown function in reverse", `full_name: "trim(first_name || ' ' || last_name)"`, `full_name: "concat_names(first_name, last_name)"`,
			want{"users", "full_name", []string{"not valid over accounts", "function concat_names(text, text) does not exist", "fix it under reverse"}}},
		{"placeholder", "visits: visits\n    reverse:", "visits: \"visits + $1\"\n    reverse:",
			want{"accounts", "visits", []string{"contains the placeholder $1", "take no arguments"}}},
		{"statements", "visits: visits\n    reverse:", "visits: \"visits; DELETE FROM users\"\n    reverse:",
			want{"accounts", "visits", []string{"contains a semicolon"}}},
		{"closing the parenthesis", "visits: visits\n    reverse:", "visits: \"1) FROM users WHERE false UNION ALL SELECT (1\"\n    reverse:",
			want{"accounts", "visits", []string{"unbalanced parentheses"}}},
		{"comment swallows the rest", `email: email_address`, `email: "email_address /* x"`,
			want{"users", "email", []string{"is not a single expression", "unterminated /* comment"}}},
		{"string swallows the rest", `email: email_address`, `email: "email_address || 'x"`,
			want{"users", "email", []string{"is not a single expression", "runs past its end"}}},
		{"dollar quote swallows the rest", `email: email_address`, `email: "email_address || $$x"`,
			want{"users", "email", []string{"is not a single expression", "dollar-quoted"}}},
		{"unbalanced", `email: email_address`, `email: "email_address) || (1"`,
			want{"users", "email", []string{"unbalanced parentheses"}}},
		{"aggregate", "visits: visits\n    reverse:", "visits: \"count(*)\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregates rows"}}},
		{"aggregate over columns", "visits: visits\n    reverse:", "visits: \"sum(visits)\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregates rows"}}},
		{"window function", "visits: visits\n    reverse:", "visits: \"row_number() OVER ()\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregate, window or set-returning", "window functions are not allowed in WHERE"}}},
		{"set-returning function", "visits: visits\n    reverse:", "visits: \"generate_series(1, visits)\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregate, window or set-returning", "set-returning functions are not allowed in WHERE"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := strings.Replace(pgUsersMapping, tt.old, tt.new, 1)
			if yaml == pgUsersMapping {
				t.Fatalf("%q is not in the mapping", tt.old)
			}
			_, problems := pgInspect(t, pgUsersSchema, yaml)
			checkProblems(t, problems, tt.want)
		})
	}
}

func TestPostgresExpressionsWithQuotesAndComments(t *testing.T) {
	// Semicolons, dollar signs and parentheses inside strings, quoted
	// names and comments are not the expression's.
	yaml := strings.Replace(pgUsersMapping, `first_name: "split_part(full_name, ' ', 1)"`,
		`first_name: "split_part(full_name, ';)$1', 1) || $q$;($$q$ || E'\\';(' || \"full_name\" -- ;)\n"`, 1)
	_, problems := pgInspect(t, pgUsersSchema, yaml)
	checkProblems(t, problems)
}

func TestPostgresStatementsInExpressionDoNotRun(t *testing.T) {
	p := pgOpen(t, pgUsersSchema+"INSERT INTO users VALUES (1, 'Ada Lovelace', 'ada@example.com', 1);")
	for _, expr := range []string{"1) FROM users; DELETE FROM users; SELECT (1", "(SELECT 1); DELETE FROM users"} {
		yaml := strings.Replace(pgUsersMapping, "visits: visits\n    reverse:", "visits: \""+expr+"\"\n    reverse:", 1)
		_, problems := p.inspect(t, yaml)
		if len(problems) != 1 {
			t.Errorf("%s: problems %v", expr, problems)
		}
	}
	var n int
	if err := p.db.QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("users has %d rows after inspection, want 1", n)
	}
}

// settingsQuerier answers the settings query with fixed values.
func settingsQuerier(q Querier, values ...driver.Value) Querier {
	return QuerierFunc(func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
		if strings.Contains(query, "current_setting('server_version_num')") {
			return &fakeRows{cols: []string{"schema", "num", "version", "scs"}, rows: [][]driver.Value{values}}, nil
		}
		return q.Query(ctx, query, args)
	})
}

func TestPostgresSettings(t *testing.T) {
	p := pgOpen(t, pgUsersSchema)
	m := parseMapping(t, pgUsersMapping)
	p.with(t, func(q Querier) {
		s, problems, err := InspectPostgres(context.Background(), settingsQuerier(q, p.schema, "120017", "12.17", "on"), m)
		if err != nil || s == nil {
			t.Fatal(s, err)
		}
		checkProblems(t, problems, want{"", "", []string{"PostgreSQL 13 or later is required", "12.17"}})

		_, problems, err = InspectPostgres(context.Background(), settingsQuerier(q, p.schema, "150004", "15.4", "off"), m)
		if err != nil {
			t.Fatal(err)
		}
		checkProblems(t, problems, want{"", "", []string{"standard_conforming_strings is off", "set standard_conforming_strings = on"}})

		_, problems, err = InspectPostgres(context.Background(), settingsQuerier(q, nil, "150004", "15.4", "on"), m)
		if err != nil {
			t.Fatal(err)
		}
		checkProblems(t, problems, want{"", "", []string{"no schema of the search_path exists", "set search_path"}})
	})
}

func TestPostgresQueryError(t *testing.T) {
	boom := errors.New("connection lost")
	p := pgOpen(t, pgUsersSchema)
	p.with(t, func(q Querier) {
		for _, fail := range []string{"server_version_num", "pg_class AS c JOIN", "pg_attribute AS a\n", "pg_index", "pg_inherits", "pg_constraint", "pg_trigger", "pg_rewrite"} {
			failed := false
			bad := QuerierFunc(func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
				if strings.Contains(query, fail) {
					failed = true
					return nil, boom
				}
				return q.Query(ctx, query, args)
			})
			s, problems, err := InspectPostgres(context.Background(), bad, parseMapping(t, pgUsersMapping))
			if !failed || !errors.Is(err, boom) || s != nil || problems != nil {
				t.Errorf("failing %s (failed: %v): got %v, %v, %v; want nil, nil and the query error", fail, failed, s, problems, err)
			}
		}
	})
}

func TestPostgresCanceled(t *testing.T) {
	p := pgOpen(t, pgUsersSchema)
	p.with(t, func(q Querier) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		canceling := QuerierFunc(func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
			if strings.HasPrefix(query, "SELECT (") {
				calls++
				cancel()
				return nil, errors.New("interrupted")
			}
			return q.Query(ctx, query, args)
		})
		_, _, err := InspectPostgres(ctx, canceling, parseMapping(t, pgUsersMapping))
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Errorf("got %v after %d expression checks; want context.Canceled after 1", err, calls)
		}
	})
}

const pgOrgMapping = `
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      org: org_id
    reverse:
      id: account_id
      org_id: org
`

const pgOrgTables = `
CREATE TABLE orgs (id int PRIMARY KEY, name text);
CREATE TABLE accounts (account_id int PRIMARY KEY, org int);
CREATE TABLE audit (id serial PRIMARY KEY, msg text);
CREATE TABLE orders (id int PRIMARY KEY, user_id int, total int);
`

func TestPostgresGuardsForeignKeys(t *testing.T) {
	tests := []struct {
		name  string
		users string
		want  map[string]rewrite.Guard
	}{
		{
			name:  "on delete cascade",
			users: "CREATE TABLE users (id int PRIMARY KEY, org_id int REFERENCES orgs ON DELETE CASCADE);",
			want: map[string]rewrite.Guard{"orgs": {Delete: true,
				Reason: "foreign key users_org_id_fkey users(org_id) -> orgs ON DELETE CASCADE changes users without the mirror"}},
		},
		{
			name: "on update set null, on delete set default, named",
			users: "CREATE TABLE users (id int PRIMARY KEY, org_id int DEFAULT 0, " +
				"CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES orgs (id) ON UPDATE SET NULL ON DELETE SET DEFAULT);",
			want: map[string]rewrite.Guard{"orgs": {Delete: true, Update: true,
				Reason: "foreign key users_org users(org_id) -> orgs ON DELETE SET DEFAULT ON UPDATE SET NULL changes users without the mirror"}},
		},
		{
			name:  "restrict and no action change nothing",
			users: "CREATE TABLE users (id int PRIMARY KEY, org_id int REFERENCES orgs ON DELETE RESTRICT ON UPDATE NO ACTION);",
			want:  map[string]rewrite.Guard{},
		},
		{
			name: "cascade into a table that is not mapped",
			users: "CREATE TABLE users (id int PRIMARY KEY, org_id int);\n" +
				"CREATE TABLE invoices (id int PRIMARY KEY, org_id int REFERENCES orgs ON DELETE CASCADE);",
			want: map[string]rewrite.Guard{},
		},
		{
			name: "cascade through another table",
			users: "CREATE TABLE teams (id int PRIMARY KEY, org_id int REFERENCES orgs ON DELETE CASCADE);\n" +
				"CREATE TABLE users (id int PRIMARY KEY, org_id int REFERENCES teams ON DELETE CASCADE);",
			want: map[string]rewrite.Guard{
				"teams": {Delete: true, Reason: "foreign key users_org_id_fkey users(org_id) -> teams ON DELETE CASCADE changes users without the mirror"},
				"orgs":  {Delete: true, Reason: "foreign key teams_org_id_fkey teams(org_id) -> orgs ON DELETE CASCADE changes teams, whose writes change a mapped table without the mirror"},
			},
		},
		{
			name:  "new table, composite",
			users: "CREATE TABLE users (id int PRIMARY KEY, org_id int);\nALTER TABLE orgs ADD UNIQUE (id, name);\nALTER TABLE accounts ADD COLUMN region text;\nALTER TABLE accounts ADD CONSTRAINT acc_org FOREIGN KEY (org, region) REFERENCES orgs (id, name) ON UPDATE CASCADE;",
			want: map[string]rewrite.Guard{"orgs": {Update: true,
				Reason: "foreign key acc_org accounts(org, region) -> orgs ON UPDATE CASCADE changes accounts without the mirror"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := pgOrgMapping
			if strings.Contains(tt.users, "region") {
				yaml = strings.Replace(yaml, "org: org_id\n", "org: org_id\n      region: \"'eu'\"\n", 1)
			}
			p := pgOpen(t, pgOrgTables+tt.users)
			s, problems := p.inspect(t, yaml)
			checkProblems(t, problems)
			if got := p.guards(t, s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Guards = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestPostgresGuardsTriggers(t *testing.T) {
	const users = "CREATE TABLE users (id int PRIMARY KEY, org_id int);\n"
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
			p := pgOpen(t, pgOrgTables+users+tt.ddl)
			s, problems := p.inspect(t, pgOrgMapping)
			checkProblems(t, problems)
			if got := p.guards(t, s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Guards = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestPostgresTriggerOnNewTable(t *testing.T) {
	ddl := pgOrgTables + "CREATE TABLE users (id int PRIMARY KEY, org_id int);\n" + `
CREATE FUNCTION back() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET org_id = NEW.org WHERE id = NEW.account_id; RETURN NEW; END $$;
CREATE TRIGGER back AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION back();
CREATE FUNCTION log_account() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit (msg) VALUES ('new account'); RETURN NEW; END $$;
CREATE TRIGGER log AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION log_account();
`
	p := pgOpen(t, ddl)
	s, problems := p.inspect(t, pgOrgMapping)
	checkProblems(t, problems, want{"accounts", "", []string{"trigger back on the new table may write to mapped table users (its function back names it)", "drop the trigger while dual-writing"}})
	if g := p.guards(t, s)["accounts"]; !g.Insert || g.Update || g.Delete {
		t.Errorf("Guards[accounts] = %#v, want Insert", g)
	}
}

func TestPostgresRules(t *testing.T) {
	ddl := pgOrgTables + `CREATE TABLE users (id int PRIMARY KEY, org_id int);
CREATE RULE users_log AS ON UPDATE TO users DO ALSO INSERT INTO audit (msg) VALUES ('user ' || NEW.id);
CREATE RULE accounts_nodelete AS ON DELETE TO accounts DO INSTEAD NOTHING;
`
	_, problems := pgInspect(t, ddl, pgOrgMapping)
	checkProblems(t, problems,
		want{"accounts", "", []string{"rule accounts_nodelete rewrites writes on accounts"}},
		want{"users", "", []string{"rule users_log rewrites writes on users; dualwrite cannot mirror rule-rewritten writes", `DROP RULE "users_log" ON "users"`}},
	)
}

func TestPostgresCFunctionTriggersFailClosed(t *testing.T) {
	// pg_catalog's own trigger functions are internal; a C function cannot
	// be created without a shared library, so the C case is checked by
	// rewriting the language the catalog reports.
	ddl := pgOrgTables + `CREATE TABLE users (id int PRIMARY KEY, org_id int);
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
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
		s, problems, err := InspectPostgres(context.Background(), asC, parseMapping(t, pgOrgMapping))
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

func TestPostgresSingleExpr(t *testing.T) {
	head := "SELECT ("
	for _, tt := range []struct{ expr, want string }{
		{"a + 1", ""},
		{"'$1;)' || \"a;b\" || $t$ ; ) $t$ /* ; ) */ -- ;)\n", ""},
		{"E'\\'' || a", ""},
		{"a + $2", "contains the placeholder $2"},
		{"a; b", "contains a semicolon"},
		{"a)", "unbalanced parentheses"},
		{"(a", "unbalanced parentheses"},
		{"a -- x", ""},
		{"a /* x", "is not a single expression"},
		{"a || 'x", "is not a single expression"},
		{"a || $", "cannot be read as SQL"},
	} {
		query := head + tt.expr + "\n) FROM \"s\".\"t\" WHERE false"
		got := singleExpr(rewrite.Postgres, query, len(head), len(head)+len(tt.expr)+1)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("singleExpr(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
