// Package mytest gives tests a MySQL or MariaDB database of their own on
// the server named by DUALWRITE_TEST_MYSQL_DSN, and skips them when it is
// unset. Only tests import it.
package mytest

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql" // the "mysql" driver
)

// DSNEnv names the variable that enables the MySQL and MariaDB tests.
const DSNEnv = "DUALWRITE_TEST_MYSQL_DSN"

// Database creates a fresh database, runs the statements in it, and
// returns a DSN that connects to it, with parseTime on. The database is
// dropped when the test ends. Without DSNEnv the test is skipped.
func Database(t testing.TB, statements ...string) string {
	t.Helper()
	dsn, _ := New(t, statements...)
	return dsn
}

// New is Database, and returns the database's name too.
func New(t testing.TB, statements ...string) (dsn, name string) {
	t.Helper()
	base := os.Getenv(DSNEnv)
	if base == "" {
		t.Skipf("set %s to run MySQL and MariaDB tests, e.g. root@tcp(127.0.0.1:3306)/test", DSNEnv)
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("%s: %v", DSNEnv, err)
	}
	admin, err := sql.Open("mysql", base)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close() }()
	name = fmt.Sprintf("dw_test_%d", rand.Uint32())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("%s: %v", DSNEnv, err)
	}
	t.Cleanup(func() { drop(t, base, name) })

	cfg.DBName = name
	cfg.ParseTime = true
	dsn = cfg.FormatDSN()
	db, err := sql.Open("mysql", dsn)
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
	return dsn, name
}

// drop drops the database name. A test that failed may have left a
// transaction open on a connection it never gave back, whose metadata
// locks would make DROP DATABASE wait: its sessions are killed first.
func drop(t testing.TB, base, name string) {
	db, err := sql.Open("mysql", base)
	if err != nil {
		t.Errorf("DROP DATABASE %s: %v", name, err)
		return
	}
	defer func() { _ = db.Close() }()
	ids, err := sessions(db, name)
	if err != nil {
		t.Errorf("listing the sessions of %s: %v", name, err)
	}
	for _, id := range ids {
		// The session may have ended since it was listed (1094: unknown thread).
		if _, err := db.Exec(fmt.Sprintf("KILL %d", id)); err != nil && ErrorNumber(err) != 1094 {
			t.Errorf("ending session %d of %s: %v", id, name, err)
		}
	}
	if _, err := db.Exec("DROP DATABASE " + name); err != nil {
		t.Errorf("DROP DATABASE %s: %v", name, err)
	}
}

// sessions returns the ids of the other sessions using database name.
func sessions(db *sql.DB, name string) ([]int64, error) {
	rows, err := db.Query("SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()", name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// WithParams returns dsn with the given parameters (name, value pairs)
// added: the driver's own (clientFoundRows=true), or session variables
// it sets when it connects (sql_mode='ANSI_QUOTES', quoted as the
// driver wants).
func WithParams(dsn string, nameValues ...string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	for i := 0; i+1 < len(nameValues); i += 2 {
		dsn += sep + nameValues[i] + "=" + url.QueryEscape(nameValues[i+1])
		sep = "&"
	}
	return dsn
}

// ErrorNumber returns the server's error number of err (1213 for a
// deadlock), or 0 when err is no server error.
func ErrorNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// WaitLockWait returns once a session of db's current database waits for
// a lock, and fails the test if waiting delivers first (the statement that
// was to wait ended). It polls information_schema, so an interleaving does
// not rest on timing; InnoDB refreshes what innodb_trx shows only when it
// was not read for 100 ms, so the polls are further apart than that.
func WaitLockWait(t testing.TB, db *sql.DB, waiting <-chan error) {
	t.Helper()
	for {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM information_schema.innodb_trx t
JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case err := <-waiting:
			t.Fatalf("a statement was to wait for a lock; it ended: %v", err)
		case <-time.After(150 * time.Millisecond):
		}
	}
}
