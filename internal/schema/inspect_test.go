package schema

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"
)

func TestInspectHappyPath(t *testing.T) {
	s, problems := inspect(t, usersSchema, usersMapping)
	checkProblems(t, problems)
	if !s.OtherUnique["users"] {
		t.Error("OtherUnique[users] = false; users has UNIQUE email besides the key id")
	}
	if len(s.OtherUnique) != 1 {
		t.Errorf("OtherUnique = %v, want only users", s.OtherUnique)
	}
	if len(s.Guards) != 0 {
		t.Errorf("Guards = %v, want none", s.Guards)
	}
}

func TestInspectNamesCaseInsensitive(t *testing.T) {
	ddl := `
CREATE TABLE Users (ID INTEGER PRIMARY KEY, Full_Name TEXT, EMAIL TEXT, Visits INT);
CREATE TABLE "ACCOUNTS" (Account_ID INTEGER PRIMARY KEY, Email_Address TEXT, FIRST_NAME TEXT, last_NAME TEXT, VISITS INT);
`
	s, problems := inspect(t, ddl, usersMapping)
	checkProblems(t, problems)
	if s.OtherUnique["users"] {
		t.Error("OtherUnique[users] = true; the only unique constraint is the key")
	}
}

func TestInspectMissingTables(t *testing.T) {
	tests := []struct {
		name, ddl string
		want      want
	}{
		{"old", "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);",
			want{"users", "", []string{"old table does not exist", "create it", "`old:`", "line 3"}}},
		{"new", "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);",
			want{"accounts", "", []string{"new table does not exist", "create it", "`new:`"}}},
		{"new is a view", "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);\n" +
			"CREATE VIEW accounts AS SELECT id AS account_id, email AS email_address, full_name AS first_name, full_name AS last_name, visits FROM users;",
			want{"accounts", "", []string{"new table is a view, not a table"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := inspect(t, tt.ddl, usersMapping)
			checkProblems(t, problems, tt.want)
		})
	}
}

func TestInspectColumns(t *testing.T) {
	tests := []struct {
		name, ddl string
		wants     []want
	}{
		{
			name: "extra new column",
			ddl: `CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT, nickname TEXT);`,
			wants: []want{{"accounts", "nickname", []string{"new column nickname of accounts is not in the mapping", "add it under columns", "drop it from the new table"}}},
		},
		{
			name: "missing new column",
			ddl: `CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, visits INT);`,
			wants: []want{
				{"accounts", "last_name", []string{"listed under columns (mapping line 10)", "not a column of the new table", "add the column to accounts"}},
				// The down expression of users.full_name reads the missing column.
				{"users", "full_name", []string{"expression `first_name || ' ' || last_name`", "not valid over accounts", "no such column: last_name"}},
			},
		},
		{
			name: "extra old column",
			ddl: `CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT, age INT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);`,
			wants: []want{{"users", "age", []string{"old column age of users is not in the mapping", "add it under reverse", "over accounts's columns"}}},
		},
		{
			name: "missing old column",
			ddl: `CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);`,
			wants: []want{
				{"users", "visits", []string{"listed under reverse", "not a column of the old table"}},
				// The up expression of accounts.visits reads the missing column.
				{"accounts", "visits", []string{"expression `visits`", "not valid over users", "no such column: visits"}},
			},
		},
		{
			name: "generated new column is not mapped",
			ddl: `CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT, domain TEXT AS (substr(email_address, instr(email_address, '@') + 1)));`,
		},
		{
			name: "reverse in another order",
			ddl: `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, full_name TEXT, visits INT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);`,
			wants: []want{{"users", "", []string{"reverse lists the old columns as (id, full_name, email, visits) but the table has (id, email, full_name, visits)"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := inspect(t, tt.ddl, usersMapping)
			checkProblems(t, problems, tt.wants...)
		})
	}
}

func TestInspectGeneratedColumnInColumns(t *testing.T) {
	ddl := `CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT AS (0));`
	_, problems := inspect(t, ddl, usersMapping)
	checkProblems(t, problems, want{"accounts", "visits", []string{"generated column", "remove it from columns"}})
}

func TestInspectKeys(t *testing.T) {
	const accounts = "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);"
	const users = "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);"
	tests := []struct {
		name, ddl string
		wants     []want
	}{
		{
			name:  "old key not unique",
			ddl:   "CREATE TABLE users (id INTEGER NOT NULL, full_name TEXT, email TEXT UNIQUE, visits INT);\n" + accounts,
			wants: []want{{"users", "", []string{"key (id) is not unique in the old table", "CREATE UNIQUE INDEX ... ON users (id)"}}},
		},
		{
			name: "old key with only a partial unique index",
			ddl: "CREATE TABLE users (id INTEGER NOT NULL, full_name TEXT, email TEXT, visits INT);\n" +
				"CREATE UNIQUE INDEX users_id ON users (id) WHERE visits > 0;\n" + accounts,
			wants: []want{{"users", "", []string{"key (id) is not unique in the old table"}}},
		},
		{
			name: "old key by unique index",
			ddl: "CREATE TABLE users (id INTEGER NOT NULL, full_name TEXT, email TEXT, visits INT);\n" +
				"CREATE UNIQUE INDEX users_id ON users (id);\n" + accounts,
		},
		{
			name:  "old key nullable",
			ddl:   "CREATE TABLE users (id TEXT PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);\n" + accounts,
			wants: []want{{"users", "id", []string{"key column allows NULL", "NOT NULL"}}},
		},
		{
			name: "old key in a WITHOUT ROWID primary key is not null",
			ddl:  "CREATE TABLE users (id TEXT PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT) WITHOUT ROWID;\n" + accounts,
		},
		{
			name:  "new key not unique",
			ddl:   users + "\nCREATE TABLE accounts (account_id INTEGER NOT NULL, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);",
			wants: []want{{"accounts", "", []string{"new key (account_id) is not unique in the new table", "ON CONFLICT (account_id)", "CREATE UNIQUE INDEX ... ON accounts (account_id)"}}},
		},
		{
			name: "new key by unique constraint",
			ddl:  users + "\nCREATE TABLE accounts (account_id INTEGER NOT NULL UNIQUE, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := inspect(t, tt.ddl, usersMapping)
			checkProblems(t, problems, tt.wants...)
		})
	}
}

func TestInspectCompositeKey(t *testing.T) {
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
			ddl: `CREATE TABLE memberships (org_id INT NOT NULL, user_id INT NOT NULL, role TEXT);
CREATE UNIQUE INDEX memberships_key ON memberships (user_id, org_id);
CREATE TABLE members (org INT NOT NULL, usr INT NOT NULL, role_name TEXT, PRIMARY KEY (org, usr));`,
		},
		{
			name: "primary key and another unique index",
			ddl: `CREATE TABLE memberships (org_id INT NOT NULL, user_id INT NOT NULL, role TEXT, PRIMARY KEY (org_id, user_id));
CREATE UNIQUE INDEX memberships_role ON memberships (org_id, role) WHERE role = 'owner';
CREATE TABLE members (org INT NOT NULL, usr INT NOT NULL, role_name TEXT, UNIQUE (usr, org));`,
			otherUnique: true,
		},
		{
			name: "unique on a subset only",
			ddl: `CREATE TABLE memberships (org_id INT NOT NULL, user_id INT NOT NULL UNIQUE, role TEXT);
CREATE TABLE members (org INT NOT NULL, usr INT NOT NULL, role_name TEXT, PRIMARY KEY (org, usr));`,
			otherUnique: true,
			wants:       []want{{"memberships", "", []string{"key (org_id, user_id) is not unique"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, problems := inspect(t, tt.ddl, yaml)
			checkProblems(t, problems, tt.wants...)
			if s.OtherUnique["memberships"] != tt.otherUnique {
				t.Errorf("OtherUnique[memberships] = %v, want %v", s.OtherUnique["memberships"], tt.otherUnique)
			}
		})
	}
}

func TestInspectExpressions(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replaced in usersMapping
		want     want
	}{
		{"unknown column", `first_name: "substr(full_name, 1, instr(full_name, ' ') - 1)"`, `first_name: "substr(full_nam, 1)"`,
			want{"accounts", "first_name", []string{"expression `substr(full_nam, 1)` (columns, mapping line", "not valid over users", "no such column: full_nam", "fix it under columns"}}},
		{"unknown function in reverse", `full_name: "first_name || ' ' || last_name"`, `full_name: "concat_names(first_name, last_name)"`,
			want{"users", "full_name", []string{"not valid over accounts", "no such function: concat_names", "fix it under reverse"}}},
		{"placeholder", `visits: visits
    reverse:`, `visits: "visits + ?"
    reverse:`,
			want{"accounts", "visits", []string{"contains the placeholder ?", "take no arguments"}}},
		{"named placeholder", `email: email_address`, `email: "coalesce(email_address, :default)"`,
			want{"users", "email", []string{"contains the placeholder :default"}}},
		{"statements", `visits: visits
    reverse:`, `visits: "visits; DELETE FROM users"
    reverse:`,
			want{"accounts", "visits", []string{"contains a semicolon"}}},
		{"closing the parenthesis", `visits: visits
    reverse:`, `visits: "1) FROM users; DELETE FROM users; SELECT (1"
    reverse:`,
			want{"accounts", "visits", []string{"unbalanced parentheses"}}},
		{"comment swallows the rest", `email: email_address`, `email: "email_address /* x"`,
			want{"users", "email", []string{"is not a single expression"}}},
		{"unbalanced", `email: email_address`, `email: "email_address) + (1"`,
			want{"users", "email", []string{"unbalanced parentheses"}}},
		{"aggregate", `visits: visits
    reverse:`, `visits: "count(*)"
    reverse:`,
			want{"accounts", "visits", []string{"aggregates rows"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := strings.Replace(usersMapping, tt.old, tt.new, 1)
			if yaml == usersMapping {
				t.Fatalf("%q is not in the mapping", tt.old)
			}
			_, problems := inspect(t, usersSchema, yaml)
			checkProblems(t, problems, tt.want)
		})
	}
}

func TestInspectStatementsInExpressionDoNotRun(t *testing.T) {
	db := openDB(t, usersSchema+"INSERT INTO users (full_name, email, visits) VALUES ('Ada Lovelace', 'ada@example.com', 1);")
	yaml := strings.Replace(usersMapping, "visits: visits\n    reverse:", "visits: \"1) FROM users; DELETE FROM users; SELECT (1\"\n    reverse:", 1)
	withQuerier(t, db, func(q Querier) {
		if _, _, err := InspectSQLite(context.Background(), q, parseMapping(t, yaml)); err != nil {
			t.Fatal(err)
		}
	})
	var n int
	if err := db.QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("users has %d rows after inspection, want 1", n)
	}
}

func TestInspectOldSQLite(t *testing.T) {
	db := openDB(t, usersSchema)
	withQuerier(t, db, func(q Querier) {
		old := QuerierFunc(func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
			if query == "SELECT sqlite_version()" {
				return &fakeRows{cols: []string{"v"}, rows: [][]driver.Value{{"3.31.1"}}}, nil
			}
			return q.Query(ctx, query, args)
		})
		_, problems, err := InspectSQLite(context.Background(), old, parseMapping(t, usersMapping))
		if err != nil {
			t.Fatal(err)
		}
		checkProblems(t, problems, want{"", "", []string{"SQLite 3.35 or later is required for RETURNING", "3.31.1"}})
	})
}

func TestInspectQueryError(t *testing.T) {
	boom := errors.New("connection lost")
	db := openDB(t, usersSchema)
	withQuerier(t, db, func(q Querier) {
		for _, fail := range []string{"sqlite_version", "sqlite_master", "table_xinfo", "index_list", "index_info", "foreign_key_list"} {
			bad := QuerierFunc(func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
				if strings.Contains(query, fail) {
					return nil, boom
				}
				return q.Query(ctx, query, args)
			})
			s, problems, err := InspectSQLite(context.Background(), bad, parseMapping(t, usersMapping))
			if !errors.Is(err, boom) || s != nil || problems != nil {
				t.Errorf("failing %s: got %v, %v, %v; want nil, nil and the query error", fail, s, problems, err)
			}
		}
	})
}

func TestInspectCanceled(t *testing.T) {
	db := openDB(t, usersSchema)
	withQuerier(t, db, func(q Querier) {
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
		_, _, err := InspectSQLite(ctx, canceling, parseMapping(t, usersMapping))
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Errorf("got %v after %d expression checks; want context.Canceled after 1", err, calls)
		}
	})
}

func TestProblemError(t *testing.T) {
	for _, tt := range []struct {
		p    Problem
		want string
	}{
		{Problem{"users", "email", "m"}, "users.email: m"},
		{Problem{"users", "", "m"}, "users: m"},
		{Problem{"", "", "m"}, "m"},
	} {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("%#v.Error() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want bool
	}{
		{"3.35.0", true}, {"3.35", true}, {"3.54.1", true}, {"4.0.0", true},
		{"3.34.9", false}, {"3.9.2", false}, {"2.99.0", false}, {"", false}, {"x.y", false},
	} {
		if got := versionAtLeast(tt.v, 3, 35, 0); got != tt.want {
			t.Errorf("versionAtLeast(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestSQLiteVersion(t *testing.T) {
	withQuerier(t, openDB(t, ""), func(q Querier) {
		v, err := SQLiteVersion(context.Background(), q)
		if err != nil || !strings.HasPrefix(v, "3.") || !versionAtLeast(v, 3, 35, 0) {
			t.Errorf("SQLiteVersion = %q, %v; want the bundled 3.x >= 3.35", v, err)
		}
	})
}
