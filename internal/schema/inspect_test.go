package schema

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The tests of this file run on every backend: SQLite, PostgreSQL when
// DUALWRITE_TEST_POSTGRES_DSN is set, and MySQL or MariaDB when
// DUALWRITE_TEST_MYSQL_DSN is set. A case with only set runs on the
// backends it names.

func TestInspectMissingTables(t *testing.T) {
	const users = "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);\n"
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name, only, ddl string // only: the backend a case runs on, "" for every one
			want            want
		}{
			{"old", "", "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);",
				want{"users", "", []string{"old table does not exist", "create it", "`old:`", fmt.Sprintf("line %d", lineOf(t, b.mapping, "- old: users"))}}},
			{"new", "", users, want{"accounts", "", []string{"new table does not exist", "create it", "`new:`"}}},
			{"new is a view", "", users + "CREATE VIEW accounts AS SELECT id AS account_id, email AS email_address, full_name AS first_name, full_name AS last_name, visits FROM users;",
				want{"accounts", "", []string{"new table is a view, not a table"}}},
			{"new is a materialized view", "postgres", users + "CREATE MATERIALIZED VIEW accounts AS SELECT id AS account_id, email AS email_address, full_name AS first_name, full_name AS last_name, visits FROM users;",
				want{"accounts", "", []string{"new table is a materialized view, not a table"}}},
			{"new is a sequence", "postgres", users + "CREATE SEQUENCE accounts;",
				want{"accounts", "", []string{"new table is a sequence, not a table"}}},
		}
		for _, tt := range tests {
			if !b.runs(tt.only) {
				continue
			}
			t.Run(tt.name, func(t *testing.T) {
				_, problems := b.open(t, tt.ddl).inspect(t, b.mapping)
				checkProblems(t, problems, tt.want)
			})
		}
	})
}

func TestInspectColumns(t *testing.T) {
	const users = "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);\n"
	const accounts = "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, "
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name, only, ddl string // only: the backend a case runs on, "" for every one
			wants           []want
		}{
			{
				name:  "extra new column",
				ddl:   users + accounts + "visits INT, nickname TEXT);",
				wants: []want{{"accounts", "nickname", []string{"new column nickname of accounts is not in the mapping", "add it under columns", "drop it from the new table"}}},
			},
			{
				name: "missing new column",
				only: "sqlite",
				ddl:  users + "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, visits INT);",
				wants: []want{
					{"accounts", "last_name", []string{"listed under columns (mapping line 10)", "not a column of the new table", "add the column to accounts"}},
					// The down expression of users.full_name reads the missing column.
					{"users", "full_name", []string{"expression `first_name || ' ' || last_name`", "not valid over accounts", "no such column: last_name"}},
				},
			},
			{
				name: "missing new column",
				only: "postgres",
				ddl:  users + "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, visits INT);",
				wants: []want{
					{"accounts", "last_name", []string{"listed under columns (mapping line 11)", "not a column of the new table", "add the column to accounts"}},
					{"users", "full_name", []string{"expression `trim(first_name || ' ' || last_name)`", "not valid over accounts", `column "last_name" does not exist`, "42703"}},
				},
			},
			{
				name:  "extra old column",
				ddl:   "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT, age INT);\n" + accounts + "visits INT);",
				wants: []want{{"users", "age", []string{"old column age of users is not in the mapping", "add it under reverse", "over accounts's columns"}}},
			},
			{
				name: "missing old column",
				only: "sqlite",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE);\n" + accounts + "visits INT);",
				wants: []want{
					{"users", "visits", []string{"listed under reverse", "not a column of the old table"}},
					// The up expression of accounts.visits reads the missing column.
					{"accounts", "visits", []string{"expression `visits`", "not valid over users", "no such column: visits"}},
				},
			},
			{
				name: "missing old column",
				only: "postgres",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE);\n" + accounts + "visits INT);",
				wants: []want{
					{"users", "visits", []string{"listed under reverse", "not a column of the old table"}},
					{"accounts", "visits", []string{"expression `visits`", "not valid over users", `column "visits" does not exist`}},
				},
			},
			{
				name: "missing new column",
				only: "mysql",
				ddl:  users + "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, visits INT);",
				wants: []want{
					{"accounts", "last_name", []string{"listed under columns (mapping line 11)", "not a column of the new table", "add the column to accounts"}},
					{"users", "full_name", []string{"expression `trim(concat(first_name, ' ', coalesce(last_name, '')))`", "not valid over accounts", "Unknown column 'last_name'", "Error 1054"}},
				},
			},
			{
				name: "missing old column",
				only: "mysql",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE);\n" + accounts + "visits INT);",
				wants: []want{
					{"users", "visits", []string{"listed under reverse", "not a column of the old table"}},
					{"accounts", "visits", []string{"expression `visits`", "not valid over users", "Unknown column 'visits'"}},
				},
			},
			{
				name: "column names compare case-insensitively",
				only: "mysql",
				ddl:  "CREATE TABLE users (ID INTEGER PRIMARY KEY, Full_Name TEXT, EMAIL TEXT UNIQUE, visits INT);\n" + accounts + "Visits INT);",
			},
			{
				name: "dropped old column is not a column",
				only: "postgres",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, age INT, email TEXT UNIQUE, visits INT);\nALTER TABLE users DROP COLUMN age;\n" + accounts + "visits INT);",
			},
			{
				name: "generated new column is not mapped",
				ddl:  users + accounts + "visits INT, domain TEXT GENERATED ALWAYS AS (lower(email_address)) STORED);",
			},
			{
				name: "virtual generated new column is not mapped",
				only: "sqlite,mysql",
				ddl:  users + accounts + "visits INT, domain TEXT AS (substr(email_address, instr(email_address, '@') + 1)));",
			},
			{
				name: "generated new column is mapped",
				ddl:  users + accounts + "visits INT GENERATED ALWAYS AS (0) STORED);",
				wants: []want{{"accounts", "visits", []string{"generated column",
					fmt.Sprintf("remove it from columns (mapping line %d)", lineOf(t, b.mapping, "visits: visits\n    reverse:"))}}},
			},
			{
				name:  "virtual generated new column is mapped",
				only:  "sqlite",
				ddl:   users + accounts + "visits INT AS (0));",
				wants: []want{{"accounts", "visits", []string{"generated column", "remove it from columns (mapping line 11)"}}},
			},
			{
				name:  "reverse in another order",
				ddl:   "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, full_name TEXT, visits INT);\n" + accounts + "visits INT);",
				wants: []want{{"users", "", []string{"reverse lists the old columns as (id, full_name, email, visits) but the table has (id, email, full_name, visits)"}}},
			},
		}
		for _, tt := range tests {
			if !b.runs(tt.only) {
				continue
			}
			t.Run(tt.name, func(t *testing.T) {
				_, problems := b.open(t, tt.ddl).inspect(t, b.mapping)
				checkProblems(t, problems, tt.wants...)
			})
		}
	})
}

func TestInspectKeys(t *testing.T) {
	const accounts = "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);\n"
	const users = "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT, visits INT);\n"
	const usersNoKey = "CREATE TABLE users (id INTEGER NOT NULL, full_name TEXT, email TEXT, visits INT);\n"
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name, only, ddl string // only: the backend a case runs on, "" for every one
			otherUnique     bool
			wants           []want
		}{
			{
				name: "old key not unique",
				ddl:  usersNoKey + accounts,
				wants: []want{{"users", "", []string{"key (id) is not unique in the old table", "CREATE UNIQUE INDEX ... ON " + b.d.Quote("users") + " (" + b.d.Quote("id") + ")",
					fmt.Sprintf("line %d", lineOf(t, b.mapping, "- old: users"))}}},
			},
			{
				name:  "old key with only a partial unique index",
				only:  "sqlite,postgres",
				ddl:   usersNoKey + "CREATE UNIQUE INDEX users_id ON users (id) WHERE visits > 0;\n" + accounts,
				wants: []want{{"users", "", []string{"key (id) is not unique in the old table"}}}, // the partial index is on the key's columns
			},
			{
				name:        "old key with only an expression index",
				only:        "sqlite,postgres",
				ddl:         usersNoKey + "CREATE UNIQUE INDEX users_id ON users ((id + 0));\n" + accounts,
				otherUnique: true,
				wants:       []want{{"users", "", []string{"key (id) is not unique in the old table"}}},
			},
			{
				name: "old key by unique index",
				ddl:  usersNoKey + "CREATE UNIQUE INDEX users_id ON users (id);\n" + accounts,
			},
			{
				name: "old key by unique index, with included columns",
				only: "postgres",
				ddl:  usersNoKey + "CREATE UNIQUE INDEX users_id ON users (id) INCLUDE (email);\n" + accounts,
			},
			{
				name:  "old key deferrable",
				only:  "postgres",
				ddl:   "CREATE TABLE users (id INTEGER NOT NULL, full_name TEXT, email TEXT, visits INT, UNIQUE (id) DEFERRABLE);\n" + accounts,
				wants: []want{{"users", "", []string{"key (id) is not unique", "unique index users_id_key on these columns is deferrable", "NOT DEFERRABLE"}}},
			},
			{
				name:  "old key nullable",
				ddl:   "CREATE TABLE users (id INTEGER UNIQUE, full_name TEXT, email TEXT, visits INT);\n" + accounts,
				wants: []want{{"users", "id", []string{"key column allows NULL", "NOT NULL"}}},
			},
			{
				// Only an INTEGER PRIMARY KEY, or any PRIMARY KEY of a
				// WITHOUT ROWID table, keeps NULLs out without NOT NULL.
				name:  "old key nullable in a primary key",
				only:  "sqlite",
				ddl:   "CREATE TABLE users (id TEXT PRIMARY KEY, full_name TEXT, email TEXT, visits INT);\n" + accounts,
				wants: []want{{"users", "id", []string{"key column allows NULL", "NOT NULL"}}},
			},
			{
				name: "old key in a WITHOUT ROWID primary key is not null",
				only: "sqlite",
				ddl:  "CREATE TABLE users (id TEXT PRIMARY KEY, full_name TEXT, email TEXT, visits INT) WITHOUT ROWID;\n" + accounts,
			},
			{
				name: "new key not unique",
				ddl:  users + "CREATE TABLE accounts (account_id INTEGER NOT NULL, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);",
				wants: []want{{"accounts", "", []string{"new key (account_id) is not unique in the new table", b.upsert("account_id"),
					"CREATE UNIQUE INDEX ... ON " + b.d.Quote("accounts") + " (" + b.d.Quote("account_id") + ")"}}},
			},
			{
				name:  "new key deferrable",
				only:  "postgres",
				ddl:   users + "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);",
				wants: []want{{"accounts", "", []string{"new key (account_id) is not unique", "deferrable"}}},
			},
			{
				// An UPDATE of visits would change the key without naming it.
				// MariaDB has no NOT NULL generated columns.
				name:  "old key generated",
				only:  "sqlite,postgres",
				ddl:   "CREATE TABLE users (id INTEGER GENERATED ALWAYS AS (visits + 1) STORED NOT NULL UNIQUE, full_name TEXT, email TEXT, visits INT);\n" + accounts,
				wants: []want{{"users", "id", []string{"key column is generated", "choose a key that is not generated"}}},
			},
			{
				// A NULL new key would escape backfill's and verify's key ranges.
				name:  "new key nullable",
				ddl:   users + "CREATE TABLE accounts (account_id INTEGER UNIQUE, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);",
				wants: []want{{"accounts", "account_id", []string{"new key column allows NULL"}}},
			},
			{
				name:  "old key on a column prefix",
				only:  "mysql",
				ddl:   "CREATE TABLE users (id varchar(20) NOT NULL, full_name TEXT, email TEXT, visits INT, UNIQUE KEY users_id (id(4)));\n" + accounts,
				wants: []want{{"users", "", []string{"key (id) is not unique", "the unique index users_id on these columns is on a prefix of id (its first 4 characters, or bytes): index the whole column"}}},
			},
			{
				name: "new key by unique constraint",
				ddl:  users + "CREATE TABLE accounts (account_id INTEGER NOT NULL UNIQUE, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);",
			},
		}
		for _, tt := range tests {
			if !b.runs(tt.only) {
				continue
			}
			t.Run(tt.name, func(t *testing.T) {
				s, problems := b.open(t, tt.ddl).inspect(t, b.mapping)
				checkProblems(t, problems, tt.wants...)
				if s.OtherUnique["users"] != tt.otherUnique {
					t.Errorf("OtherUnique[users] = %v, want %v", s.OtherUnique["users"], tt.otherUnique)
				}
			})
		}
	})
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
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name, only, ddl string // only: the backends a case runs on, "" for every one
			otherUnique     bool
			wants           []want
		}{
			{
				name: "unique index in another column order",
				ddl: `CREATE TABLE memberships (org_id int NOT NULL, user_id int NOT NULL, role text);
CREATE UNIQUE INDEX memberships_key ON memberships (user_id, org_id);
CREATE TABLE members (org int NOT NULL, usr int NOT NULL, role_name text, PRIMARY KEY (org, usr));`,
			},
			{
				name: "primary key and another partial unique index",
				only: "sqlite,postgres",
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
CREATE TABLE members (org int NOT NULL, usr int NOT NULL, role_name varchar(20) NOT NULL, PRIMARY KEY (org, usr, role_name));`,
				wants: []want{{"members", "", []string{"new key (org, usr) is not unique", b.upsert("org, usr")}}},
			},
		}
		for _, tt := range tests {
			if !b.runs(tt.only) {
				continue
			}
			t.Run(tt.name, func(t *testing.T) {
				s, problems := b.open(t, tt.ddl).inspect(t, yaml)
				checkProblems(t, problems, tt.wants...)
				if s.OtherUnique["memberships"] != tt.otherUnique {
					t.Errorf("OtherUnique[memberships] = %v, want %v", s.OtherUnique["memberships"], tt.otherUnique)
				}
			})
		}
	})
}

func TestInspectExpressions(t *testing.T) {
	tests := []struct {
		name, only string // only: the backend a case runs on, "" for every one
		old, new   string // replaced in the backend's mapping
		want       want
	}{
		{"unknown column", "sqlite", `first_name: "substr(full_name, 1, instr(full_name, ' ') - 1)"`, `first_name: "substr(full_nam, 1)"`,
			want{"accounts", "first_name", []string{"expression `substr(full_nam, 1)` (columns, mapping line", "not valid over users", "no such column: full_nam", "fix it under columns"}}},
		{"unknown column", "postgres", `first_name: "split_part(full_name, ' ', 1)"`, `first_name: "split_part(full_nam, ' ', 1)"`,
			want{"accounts", "first_name", []string{"expression `split_part(full_nam, ' ', 1)` (columns, mapping line", "not valid over users", `column "full_nam" does not exist`, "fix it under columns"}}},
		{"unknown function in reverse", "sqlite", `full_name: "first_name || ' ' || last_name"`, `full_name: "concat_names(first_name, last_name)"`,
			want{"users", "full_name", []string{"not valid over accounts", "no such function: concat_names", "fix it under reverse"}}},
		{"unknown function in reverse", "postgres", `full_name: "trim(first_name || ' ' || last_name)"`, `full_name: "concat_names(first_name, last_name)"`,
			want{"users", "full_name", []string{"not valid over accounts", "function concat_names(text, text) does not exist", "fix it under reverse"}}},
		{"placeholder", "sqlite", "visits: visits\n    reverse:", "visits: \"visits + ?\"\n    reverse:",
			want{"accounts", "visits", []string{"contains the placeholder ?", "take no arguments"}}},
		{"placeholder", "postgres", "visits: visits\n    reverse:", "visits: \"visits + $1\"\n    reverse:",
			want{"accounts", "visits", []string{"contains the placeholder $1", "take no arguments"}}},
		{"named placeholder", "sqlite", `email: email_address`, `email: "coalesce(email_address, :default)"`,
			want{"users", "email", []string{"contains the placeholder :default"}}},
		{"statements", "", "visits: visits\n    reverse:", "visits: \"visits; DELETE FROM users\"\n    reverse:",
			want{"accounts", "visits", []string{"contains a semicolon"}}},
		{"closing the parenthesis", "", "visits: visits\n    reverse:", "visits: \"1) FROM users WHERE false UNION ALL SELECT (1\"\n    reverse:",
			want{"accounts", "visits", []string{"unbalanced parentheses"}}},
		// SQLite's lexer lets a comment run to the end of the text.
		{"comment swallows the rest", "sqlite", `email: email_address`, `email: "email_address /* x"`,
			want{"users", "email", []string{"is not a single expression", "runs past its end"}}},
		{"comment swallows the rest", "postgres", `email: email_address`, `email: "email_address /* x"`,
			want{"users", "email", []string{"is not a single expression", "unterminated /* comment"}}},
		// The generated statements put the expression inline: a -- comment
		// would swallow the rest of them.
		{"line comment swallows the rest", "", `email: email_address`, `email: "email_address -- the address"`,
			want{"users", "email", []string{"(reverse, mapping line", "ends in a -- comment", "/* ... */"}}},
		{"string swallows the rest", "", `email: email_address`, `email: "email_address || 'x"`,
			want{"users", "email", []string{"is not a single expression", "runs past its end"}}},
		{"dollar quote swallows the rest", "postgres", `email: email_address`, `email: "email_address || $$x"`,
			want{"users", "email", []string{"is not a single expression", "dollar-quoted"}}},
		{"unbalanced", "", `email: email_address`, `email: "email_address) || (1"`,
			want{"users", "email", []string{"unbalanced parentheses"}}},
		{"aggregate", "", "visits: visits\n    reverse:", "visits: \"count(*)\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregates rows"}}},
		{"aggregate over columns", "", "visits: visits\n    reverse:", "visits: \"sum(visits)\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregates rows"}}},
		{"window function", "postgres", "visits: visits\n    reverse:", "visits: \"row_number() OVER ()\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregate, window or set-returning", "window functions are not allowed in WHERE"}}},
		{"set-returning function", "postgres", "visits: visits\n    reverse:", "visits: \"generate_series(1, visits)\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregate, window or set-returning", "set-returning functions are not allowed in WHERE"}}},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, tt := range tests {
			if !b.runs(tt.only) {
				continue
			}
			t.Run(tt.name, func(t *testing.T) {
				_, problems := b.open(t, b.users).inspect(t, replaced(t, b.mapping, tt.old, tt.new))
				checkProblems(t, problems, tt.want)
			})
		}
	})
}

func TestInspectStatementsInExpressionDoNotRun(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t, b.users+"INSERT INTO users VALUES (1, 'Ada Lovelace', 'ada@example.com', 1);")
		for expr, msg := range map[string]string{
			"1) FROM users; DELETE FROM users; SELECT (1": "unbalanced parentheses",
			"(SELECT 1); DELETE FROM users":               "contains a semicolon",
		} {
			_, problems := db.inspect(t, replaced(t, b.mapping, "visits: visits\n    reverse:", "visits: \""+expr+"\"\n    reverse:"))
			checkProblems(t, problems, want{"accounts", "visits", []string{msg}})
		}
		var n int
		if err := db.db.QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("users has %d rows after inspection, want 1", n)
		}
	})
}

func TestInspectQueryError(t *testing.T) {
	boom := errors.New("connection lost")
	forEachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t, b.users)
		db.with(t, func(q Querier) {
			for _, fail := range b.catalogQueries {
				failed := false
				bad := QuerierFunc(func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
					if strings.Contains(query, fail) {
						failed = true
						return nil, boom
					}
					return q.Query(ctx, query, args)
				})
				s, problems, err := db.check(context.Background(), bad, parseMapping(t, b.mapping))
				if !failed || !errors.Is(err, boom) || s != nil || problems != nil {
					t.Errorf("failing %s (failed: %v): got %v, %v, %v; want nil, nil and the query error", fail, failed, s, problems, err)
				}
			}
		})
	})
}

func TestInspectCanceled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t, b.users)
		db.with(t, func(q Querier) {
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
			_, _, err := db.check(ctx, canceling, parseMapping(t, b.mapping))
			if !errors.Is(err, context.Canceled) || calls != 1 {
				t.Errorf("got %v after %d expression checks; want context.Canceled after 1", err, calls)
			}
		})
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
