// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by DUALWRITE_TEST_POSTGRES_DSN, and skips them when it is unset.
// Only tests import it.
package pgtest

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// DSNEnv names the variable that enables the PostgreSQL tests.
const DSNEnv = "DUALWRITE_TEST_POSTGRES_DSN"

// Schema creates a fresh schema, runs the statements in it, and returns a
// DSN whose search_path is that schema. The schema is dropped when the test
// ends. Without DSNEnv the test is skipped.
func Schema(t testing.TB, statements ...string) string {
	t.Helper()
	dsn, _ := New(t, statements...)
	return dsn
}

// New is Schema, and returns the schema's name too.
func New(t testing.TB, statements ...string) (dsn, schema string) {
	t.Helper()
	base := os.Getenv(DSNEnv)
	if base == "" {
		t.Skipf("set %s to run PostgreSQL tests, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", DSNEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close() }()
	schema = fmt.Sprintf("dw_test_%d", rand.Uint32())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("%s: %v", DSNEnv, err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("pgx", base); err == nil {
			// A test that failed may have left a transaction open on a
			// connection it never gave back: end its sessions first.
			if _, err := db.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", schema); err != nil {
				t.Errorf("ending the sessions of %s: %v", schema, err)
			}
			if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
				t.Errorf("DROP SCHEMA %s: %v", schema, err)
			}
			_ = db.Close()
		}
	})
	dsn = withSearchPath(base, schema)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	for _, s := range statements {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return dsn, schema
}

// withSearchPath returns dsn with search_path set to schema, and the
// sessions named after it (application_name).
func withSearchPath(dsn, schema string) string {
	return WithSettings(dsn, "search_path", schema, "application_name", schema)
}

// WithSettings returns dsn with the given settings (name, value pairs) as
// URL parameters or keyword/value pairs; pgx sends those it does not know
// itself to the server as session settings when it connects.
func WithSettings(dsn string, nameValues ...string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		for i := 0; i+1 < len(nameValues); i += 2 {
			q.Set(nameValues[i], nameValues[i+1])
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for i := 0; i+1 < len(nameValues); i += 2 {
		dsn += " " + nameValues[i] + "=" + nameValues[i+1]
	}
	return dsn
}
