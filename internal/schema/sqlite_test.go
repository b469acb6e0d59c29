package schema

import (
	"context"
	"database/sql/driver"
	"strings"
	"testing"
)

func TestSQLiteHappyPath(t *testing.T) {
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

func TestSQLiteNamesCaseInsensitive(t *testing.T) {
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

func TestSQLiteIgnoresOtherKindsOfTables(t *testing.T) {
	// A virtual table whose module this build lacks, as when the database
	// was created by a program built with other SQLite options.
	ddl := usersSchema + `
PRAGMA writable_schema = ON;
INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', 'docs', 'docs', 0, 'CREATE VIRTUAL TABLE docs USING fts5(body)');
PRAGMA writable_schema = OFF;
CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT, x INT);
INSERT INTO seq (x) VALUES (1);
`
	s, problems := inspect(t, ddl, usersMapping)
	checkProblems(t, problems)
	if len(s.Guards) != 0 {
		t.Errorf("Guards = %v, want none", s.Guards)
	}
}

func TestSQLiteTooOld(t *testing.T) {
	sqliteOpen(t, usersSchema).with(t, func(q Querier) {
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
	sqliteOpen(t, "").with(t, func(q Querier) {
		v, err := SQLiteVersion(context.Background(), q)
		if err != nil || !strings.HasPrefix(v, "3.") || !versionAtLeast(v, 3, 35, 0) {
			t.Errorf("SQLiteVersion = %q, %v; want the bundled 3.x >= 3.35", v, err)
		}
	})
}
