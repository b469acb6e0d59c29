package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://bob:s3cret@db:5432/app?sslmode=disable", "postgres://bob:xxxxx@db:5432/app?sslmode=disable"},
		{"postgres://db/app?user=bob&password=s3cret", "postgres://db/app?password=xxxxx&user=bob"},
		{"host=db user=bob password=s3cret dbname=app", "host=db user=bob password=xxxxx dbname=app"},
		{"host=db password='s3 cret' dbname=app", "host=db password=xxxxx dbname=app"},
		{"postgres://bob@db/app", "postgres://bob@db/app"},
		{"file:test.db?_busy_timeout=5000", "file:test.db?_busy_timeout=5000"},
		{"/var/lib/app/test.db", "/var/lib/app/test.db"},
		{"bob:s3cret@tcp(db:3306)/app?parseTime=true", "bob:xxxxx@tcp(db:3306)/app?parseTime=true"},
		{"bob:s3:cr@t@unix(/run/mysqld/mysqld.sock)/app", "bob:xxxxx@unix(/run/mysqld/mysqld.sock)/app"},
		{"bob@tcp(db)/app", "bob@tcp(db)/app"},
	} {
		if got := redact(tc.dsn); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
		if msg := hidePassword("failed for "+tc.dsn, tc.dsn); strings.Contains(msg, "s3") {
			t.Errorf("hidePassword kept the password of %q: %s", tc.dsn, msg)
		}
	}
}

func TestSQLiteFile(t *testing.T) {
	for dsn, want := range map[string]string{
		"test.db":                      "test.db",
		"file:test.db?cache=shared":    "test.db",
		"/tmp/x.db?_busy_timeout=1000": "/tmp/x.db",
		":memory:":                     "",
		"file::memory:?cache=shared":   "",
		"file:mem?mode=memory":         "",
	} {
		if got := sqliteFile(dsn); got != want {
			t.Errorf("sqliteFile(%q) = %q, want %q", dsn, got, want)
		}
	}
}

// TestParse: flags may follow positional arguments; after "--" everything
// is positional.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		json bool
	}{
		{[]string{"--json", "SELECT 1"}, []string{"SELECT 1"}, true},
		{[]string{"SELECT 1", "-json"}, []string{"SELECT 1"}, true},
		{[]string{"SELECT 1", "SELECT 2"}, []string{"SELECT 1", "SELECT 2"}, false},
		{[]string{"--", "-- a comment\nSELECT 1", "--json"}, []string{"-- a comment\nSELECT 1", "--json"}, false},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		asJSON := fs.Bool("json", false, "")
		pos, err := parse(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *asJSON != tc.json {
			t.Errorf("parse(%q) = %q, json %v, %v; want %q, json %v", tc.args, pos, *asJSON, err, tc.pos, tc.json)
		}
	}
}
