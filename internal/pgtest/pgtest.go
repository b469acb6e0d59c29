// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by DUALWRITE_TEST_POSTGRES_DSN, and skips them when it is unset.
// Only tests import it.
package pgtest

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
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
	dsn := os.Getenv(DSNEnv)
	if dsn == "" {
		t.Skipf("set %s to run PostgreSQL tests, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", DSNEnv)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close() }()
	schema := fmt.Sprintf("dw_test_%d", rand.Uint32())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("%s: %v", DSNEnv, err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("pgx", dsn); err == nil {
			_, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE")
			_ = db.Close()
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += sep + "search_path=" + schema
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	for _, s := range statements {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return dsn
}
