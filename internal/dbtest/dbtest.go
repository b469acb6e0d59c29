// Package dbtest holds what the tests of several packages share to look at
// a real database: a fresh SQLite file, a connector for drivers without
// one, a query's rows as comparable values, and the check of the invariant
// new = up(old). Only tests import it.
package dbtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// SQLiteFile returns the path of a new SQLite file in a directory removed
// when the test ends. The directory is not t.TempDir(): subtest names may
// hold '#', which ends the path of a file: URI.
func SQLiteFile(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dualwrite-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	return filepath.Join(dir, "test.db")
}

// SQLiteDSN returns the DSN of a new SQLite file in WAL mode with a busy
// timeout, and the given go-sqlite3 parameters after them ("&_txlock=immediate").
func SQLiteDSN(t testing.TB, params string) string {
	t.Helper()
	return "file:" + SQLiteFile(t) + "?_journal_mode=WAL&_busy_timeout=10000" + params
}

// Connector is a driver.Connector over a driver's Open, for drivers
// without one (go-sqlite3).
type Connector struct {
	DSN  string
	Base driver.Driver
}

// Connect opens a connection with the driver.
func (c Connector) Connect(context.Context) (driver.Conn, error) { return c.Base.Open(c.DSN) }

// Driver returns the driver.
func (c Connector) Driver() driver.Driver { return c.Base }

// Querier is a *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	Query(string, ...any) (*sql.Rows, error)
}

// Rows returns every row of a query, with []byte values as strings so that
// rows compare with reflect.DeepEqual.
func Rows(t testing.TB, q Querier, query string, args ...any) [][]any {
	t.Helper()
	rs, err := q.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return Scan(t, rs)
}

// Scan reads and closes rs, as Rows does.
func Scan(t testing.TB, rs *sql.Rows) [][]any {
	t.Helper()
	defer func() { _ = rs.Close() }()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out = append(out, vals)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Invariant asserts new = up(old) row by row for every pair of m, reading
// both tables with q (the base driver, not dualwrite), and returns the
// number of rows compared.
func Invariant(t testing.TB, q Querier, d *rewrite.Dialect, m *mapping.Mapping) int {
	t.Helper()
	n := 0
	for _, tb := range m.Tables {
		var exprs, cols, oldKey, newKey []string
		for _, c := range tb.Columns {
			exprs = append(exprs, c.Expr)
			cols = append(cols, d.Quote(c.Name))
		}
		for i, k := range tb.Key {
			oldKey = append(oldKey, d.Quote(k))
			newKey = append(newKey, d.Quote(tb.NewKey[i]))
		}
		up := Rows(t, q, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(exprs, ", "), d.Quote(tb.Old), strings.Join(oldKey, ", ")))
		got := Rows(t, q, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(cols, ", "), d.Quote(tb.New), strings.Join(newKey, ", ")))
		if !reflect.DeepEqual(up, got) {
			t.Fatalf("new = up(old) does not hold for %s -> %s:\n up(old) = %v\n new     = %v", tb.Old, tb.New, up, got)
		}
		n += len(up)
	}
	return n
}
