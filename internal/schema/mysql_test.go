package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"reflect"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/rewrite"
)

func TestMySQLHappyPath(t *testing.T) {
	ddl := strings.Replace(myUsersSchema, "id bigint PRIMARY KEY", "id bigint AUTO_INCREMENT PRIMARY KEY", 1) + `
CREATE TABLE audit (id int AUTO_INCREMENT PRIMARY KEY, msg text);
CREATE TRIGGER accounts_log AFTER INSERT ON accounts FOR EACH ROW INSERT INTO audit (msg) VALUES (concat('account ', NEW.account_id));
CREATE VIEW audit_recent AS SELECT id, msg FROM audit WHERE id > 100;
CREATE PROCEDURE count_users(OUT n int) BEGIN SELECT count(*) INTO n FROM users; END;
INSERT INTO users (full_name, email, visits) VALUES ('Ada Lovelace', 'ada@example.com', 3), ('Plato', NULL, 0);
`
	db := myOpen(t, ddl)
	s, problems := db.inspect(t, myUsersMapping)
	checkProblems(t, problems)
	if !reflect.DeepEqual(s.OtherUnique, map[string]bool{"users": true}) {
		t.Errorf("OtherUnique = %v, want users only (UNIQUE email besides the key id)", s.OtherUnique)
	}
	if !reflect.DeepEqual(s.AutoIncrement, map[string]string{"users": "id"}) {
		t.Errorf("AutoIncrement = %v, want users.id only", s.AutoIncrement)
	}
	if len(s.Guards) != 0 || len(s.RowTriggers) != 0 || len(s.KeyTypes) != 0 {
		t.Errorf("Guards = %v, RowTriggers = %v, KeyTypes = %v, want none", s.Guards, s.RowTriggers, s.KeyTypes)
	}
	// The projections compute what the mapping means, and down(up(old))
	// is old.
	rows, err := db.db.Query(`SELECT trim(concat(first_name, ' ', coalesce(last_name, ''))) FROM (
	SELECT substring_index(full_name, ' ', 1) AS first_name, substr(full_name, char_length(substring_index(full_name, ' ', 1)) + 2) AS last_name
	FROM users) AS up ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var got []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"Ada Lovelace", "Plato"}) {
		t.Errorf("down(up(users)) = %q", got)
	}
}

func TestMySQLAutoIncrementOfNewTables(t *testing.T) {
	ddl := strings.Replace(myUsersSchema, "account_id bigint PRIMARY KEY", "Account_Id bigint AUTO_INCREMENT PRIMARY KEY", 1)
	s, problems := myOpen(t, ddl).inspect(t, myUsersMapping)
	checkProblems(t, problems)
	if !reflect.DeepEqual(s.AutoIncrement, map[string]string{"accounts": "account_id"}) {
		t.Errorf("AutoIncrement = %v, want accounts.account_id, folded", s.AutoIncrement)
	}
}

func TestMySQLInspectDispatch(t *testing.T) {
	db := myOpen(t, strings.Replace(myUsersSchema, "visits int", "hits int", 1))
	conn, err := db.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_, problems, err := InspectConn(context.Background(), conn, rewrite.MySQL, parseMapping(t, myUsersMapping))
	if err != nil {
		t.Fatal(err)
	}
	checkProblems(t, problems,
		want{"users", "visits", []string{"listed under reverse", "not a column of the old table"}},
		want{"users", "hits", []string{"old column hits of users is not in the mapping"}},
		want{"accounts", "visits", []string{"expression `visits`", "Unknown column 'visits'"}},
	)
}

func TestMySQLTableNamesCaseSensitive(t *testing.T) {
	ddl := strings.Replace(myUsersSchema, "CREATE TABLE users", "CREATE TABLE Users", 1)
	db := myOpen(t, ddl)
	var lctn int
	if err := db.db.QueryRow("SELECT @@lower_case_table_names").Scan(&lctn); err != nil {
		t.Fatal(err)
	}
	if lctn != 0 {
		t.Skipf("lower_case_table_names is %d on this server: table names are not case-sensitive", lctn)
	}
	_, problems := db.inspect(t, myUsersMapping)
	checkProblems(t, problems,
		want{"users", "", []string{"old table does not exist in database " + db.database, "table names are case-sensitive: lower_case_table_names is 0", "line 4"}})

	s, problems := db.inspect(t, strings.Replace(myUsersMapping, "old: users", "old: Users", 1))
	checkProblems(t, problems)
	if !s.OtherUnique["users"] {
		t.Errorf("OtherUnique = %v, want Users, folded", s.OtherUnique)
	}
}

func TestMySQLTableNamesCaseInsensitive(t *testing.T) {
	db := myOpen(t, myUsersSchema)
	db.with(t, func(q Querier) {
		for _, lctn := range []int64{1, 2} {
			fake := mySettings(q, db.database, "10.11.19-MariaDB", "STRICT_TRANS_TABLES", lctn)
			s, problems, err := InspectMySQL(context.Background(), fake, parseMapping(t, strings.Replace(myUsersMapping, "old: users", "old: USERS", 1)))
			if err != nil {
				t.Fatal(err)
			}
			checkProblems(t, problems)
			if !s.OtherUnique["users"] {
				t.Errorf("lower_case_table_names %d: OtherUnique = %v, want USERS, folded", lctn, s.OtherUnique)
			}
			_, problems, err = InspectMySQL(context.Background(), fake, parseMapping(t, strings.Replace(myUsersMapping, "old: users", "old: people", 1)))
			if err != nil {
				t.Fatal(err)
			}
			checkProblems(t, problems, want{"people", "", []string{"old table does not exist in database " + db.database,
				"table names are compared case-insensitively: lower_case_table_names is"}})
		}
	})
}

// mySettings answers the settings query with fixed values: the current
// database, VERSION(), sql_mode and lower_case_table_names.
func mySettings(q Querier, values ...driver.Value) Querier {
	return QuerierFunc(func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
		if strings.Contains(query, "@@lower_case_table_names") {
			return &fakeRows{cols: []string{"db", "version", "sql_mode", "lctn"}, rows: [][]driver.Value{values}}, nil
		}
		return q.Query(ctx, query, args)
	})
}

func TestMySQLVersions(t *testing.T) {
	db := myOpen(t, myUsersSchema)
	m := parseMapping(t, myUsersMapping)
	db.with(t, func(q Querier) {
		for _, tt := range []struct {
			version string
			want    []string // fragments of the one problem; nil for none
		}{
			{"10.4.32-MariaDB", []string{"MariaDB 10.5 or later is required, for INSERT ... RETURNING", "10.4.32-MariaDB", "upgrade the server"}},
			{"5.5.5-10.4.32-MariaDB-log", []string{"MariaDB 10.5 or later is required"}},
			{"10.5.0-MariaDB", nil},
			{"11.4.2-MariaDB-ubu2404", nil},
			{"5.7.44-log", []string{"MySQL 8.0 or later is required", "5.7.44-log"}},
			{"8.0.36", nil},
			{"8.4.0-commercial", nil},
			{"nonsense", []string{"MySQL 8.0 or later is required"}},
		} {
			s, problems, err := InspectMySQL(context.Background(), mySettings(q, db.database, tt.version, "STRICT_TRANS_TABLES", int64(0)), m)
			if err != nil || s == nil {
				t.Fatalf("%s: %v, %v", tt.version, s, err)
			}
			if tt.want == nil {
				checkProblems(t, problems)
			} else {
				checkProblems(t, problems, want{"", "", tt.want})
			}
		}
	})
}

func TestMySQLSQLMode(t *testing.T) {
	dsn := mytest.Database(t, splitDDL(myUsersSchema)...)
	for _, tt := range []struct {
		mode  string
		wants []want
	}{
		{"'STRICT_ALL_TABLES'", nil},
		{"'TRADITIONAL'", nil},
		{"'ANSI_QUOTES,STRICT_TRANS_TABLES'", []want{{"", "", []string{"sql_mode includes ANSI_QUOTES", "remove ANSI_QUOTES from the sql_mode of the server", "of the DSN"}}}},
		{"'ANSI,STRICT_TRANS_TABLES'", []want{{"", "", []string{"sql_mode includes ANSI_QUOTES"}}}},
		{"'NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES'", []want{{"", "", []string{"sql_mode includes NO_BACKSLASH_ESCAPES", "remove NO_BACKSLASH_ESCAPES"}}}},
		{"''", []want{{"", "", []string{"is not strict", "add STRICT_TRANS_TABLES"}}}},
		{"'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'", []want{
			{"", "", []string{"ANSI_QUOTES"}}, {"", "", []string{"NO_BACKSLASH_ESCAPES"}}, {"", "", []string{"is not strict"}}}},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			db, err := sql.Open("mysql", mytest.WithParams(dsn, "sql_mode", tt.mode))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = db.Close() }()
			td := &testDB{db: db, check: InspectMySQL}
			_, problems := td.inspect(t, myUsersMapping)
			checkProblems(t, problems, tt.wants...)
		})
	}
}

func TestMySQLNoDatabase(t *testing.T) {
	dsn := mytest.Database(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = ""
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	td := &testDB{db: db, check: InspectMySQL}
	_, problems := td.inspect(t, myUsersMapping)
	checkProblems(t, problems, want{"", "", []string{"no current database", "name the database in the DSN"}})
}

func TestMySQLStorageEngines(t *testing.T) {
	ddl := strings.Replace(myUsersSchema, "visits int NOT NULL DEFAULT 0);\nCREATE TABLE accounts", "visits int NOT NULL DEFAULT 0) ENGINE=MyISAM;\nCREATE TABLE accounts", 1)
	ddl = strings.Replace(ddl, "visits int NOT NULL DEFAULT 0);\n", "visits int NOT NULL DEFAULT 0) ENGINE=MEMORY;\n", 1)
	ddl += "CREATE TABLE audit (id int PRIMARY KEY) ENGINE=MyISAM;\n" // not mapped
	_, problems := myOpen(t, ddl).inspect(t, myUsersMapping)
	checkProblems(t, problems,
		want{"users", "", []string{"storage engine is MyISAM, not InnoDB", "cannot be made atomic", "ALTER TABLE `users` ENGINE=InnoDB"}},
		want{"accounts", "", []string{"storage engine is MEMORY, not InnoDB", "ALTER TABLE `accounts` ENGINE=InnoDB"}},
	)
}

func TestMySQLOtherRelations(t *testing.T) {
	const users = "CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text, visits int NOT NULL DEFAULT 0);\n"
	for _, tt := range []struct {
		name, ddl string
		want      want
	}{
		{"sequence", users + "CREATE SEQUENCE accounts;", want{"accounts", "", []string{"new table is a sequence, not a table"}}},
		{"view", users + "CREATE VIEW accounts AS SELECT id AS account_id FROM users;", want{"accounts", "", []string{"new table is a view, not a table"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := myOpen(t, tt.ddl).inspect(t, myUsersMapping)
			checkProblems(t, problems, tt.want)
		})
	}
}

func TestMySQLSystemVersionedTable(t *testing.T) {
	ddl := strings.Replace(myUsersSchema, "visits int NOT NULL DEFAULT 0);\nCREATE TABLE accounts", "visits int NOT NULL DEFAULT 0) WITH SYSTEM VERSIONING;\nCREATE TABLE accounts", 1)
	db := myOpen(t, ddl)
	var typ string
	if err := db.db.QueryRow("SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users'").Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ != "SYSTEM VERSIONED" {
		t.Fatalf("users is a %q", typ)
	}
	s, problems := db.inspect(t, myUsersMapping)
	checkProblems(t, problems)
	if !s.OtherUnique["users"] {
		t.Errorf("OtherUnique = %v, want users", s.OtherUnique)
	}
}

func TestMySQLExpressions(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replaced in the mapping
		want     want
	}{
		{"unknown column", `first_name: "substring_index(full_name, ' ', 1)"`, `first_name: "substring_index(full_nam, ' ', 1)"`,
			want{"accounts", "first_name", []string{"expression `substring_index(full_nam, ' ', 1)` (columns, mapping line", "not valid over users", "Unknown column 'full_nam'", "fix it under columns"}}},
		{"unknown function in reverse", `full_name: "trim(concat(first_name, ' ', coalesce(last_name, '')))"`, `full_name: "concat_names(first_name, last_name)"`,
			want{"users", "full_name", []string{"not valid over accounts", "concat_names does not exist", "fix it under reverse"}}},
		{"placeholder", "visits: visits\n    reverse:", "visits: \"visits + ?\"\n    reverse:",
			want{"accounts", "visits", []string{"contains the placeholder ?", "take no arguments"}}},
		{"comment swallows the rest", `email: email_address`, `email: "email_address /* x"`,
			want{"users", "email", []string{"is not a single expression", "unterminated"}}},
		{"hash comment swallows the rest", `email: email_address`, `email: "email_address # x"`,
			want{"users", "email", []string{"is not a single expression"}}},
		{"window function", "visits: visits\n    reverse:", "visits: \"row_number() OVER ()\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregate, window or set-returning", "Window function is allowed only in SELECT list"}}},
		{"aggregate in a window", "visits: visits\n    reverse:", "visits: \"sum(visits) OVER (ORDER BY id)\"\n    reverse:",
			want{"accounts", "visits", []string{"aggregate, window or set-returning"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := myOpen(t, myUsersSchema).inspect(t, replaced(t, myUsersMapping, tt.old, tt.new))
			checkProblems(t, problems, tt.want)
		})
	}
	// A backslash escapes a quote, as the server reads the text: the
	// expression is a string and a column, not a string, ")" and a comment.
	_, problems := myOpen(t, myUsersSchema).inspect(t, replaced(t, myUsersMapping, `email: email_address`, `email: "concat('\\' ); #', email_address)"`))
	checkProblems(t, problems)
}

func TestMySQLErrorNumber(t *testing.T) {
	db := myOpen(t, myUsersSchema)
	_, err := db.db.Exec("SELECT 1 FROM users WHERE count(*) > 0")
	if got := mysqlErrorNumber(err); got != 1111 || !mysqlAggregateError(err) {
		t.Errorf("mysqlErrorNumber(%v) = %d, want 1111, an aggregate error", err, got)
	}
	_, err = db.db.Exec("SELECT nope FROM users")
	if got := mysqlErrorNumber(err); got != 1054 || mysqlAggregateError(err) {
		t.Errorf("mysqlErrorNumber(%v) = %d, want 1054, not an aggregate error", err, got)
	}
	if got := mysqlErrorNumber(context.Canceled); got != 0 {
		t.Errorf("mysqlErrorNumber(context.Canceled) = %d", got)
	}
}
