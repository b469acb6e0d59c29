package schema

import (
	"context"
	"database/sql/driver"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

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

func TestPostgresInvalidKeyIndex(t *testing.T) {
	p := pgOpen(t, "CREATE TABLE users (id bigint NOT NULL, full_name text, email text, visits int);\n"+
		"CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int);\n"+
		"INSERT INTO users (id) VALUES (1), (1);")
	// A unique index built concurrently over duplicates stays behind, not
	// valid.
	if _, err := p.db.Exec("CREATE UNIQUE INDEX CONCURRENTLY users_id ON users (id)"); err == nil {
		t.Fatal("CREATE UNIQUE INDEX over duplicates succeeded")
	}
	_, problems := p.inspect(t, pgUsersMapping)
	checkProblems(t, problems, want{"users", "", []string{"key (id) is not unique", `unique index users_id on these columns is not valid: rebuild it (REINDEX INDEX "users_id")`}})
}

func TestPostgresExpressionsWithQuotesAndComments(t *testing.T) {
	// Semicolons, dollar signs and parentheses inside strings, quoted
	// names and comments are not the expression's.
	yaml := strings.Replace(pgUsersMapping, `first_name: "split_part(full_name, ' ', 1)"`,
		`first_name: "split_part(full_name, ';)$1', 1) || $q$;($$q$ || E'\\';(' || \"full_name\" -- ;)\n|| ''"`, 1)
	_, problems := pgInspect(t, pgUsersSchema, yaml)
	checkProblems(t, problems)
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
		{"a -- x", "ends in a -- comment"},
		{"a -- x\n+ 1", ""},
		{"a /* x", "is not a single expression"},
		{"a || 'x", "is not a single expression"},
		{"a || $", "cannot be read as SQL"},
	} {
		query := head + tt.expr + ") FROM \"s\".\"t\" WHERE false"
		got := singleExpr(rewrite.Postgres, query, len(head), len(head)+len(tt.expr))
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("singleExpr(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}
