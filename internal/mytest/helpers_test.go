package mytest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
)

// open opens dsn and closes it when the test ends.
func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// execer is what runs statements: a *sql.DB, *sql.Conn or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// mustExec runs query and returns its RowsAffected.
func mustExec(t *testing.T, db execer, query string, args ...any) int64 {
	t.Helper()
	res, err := db.ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		t.Fatalf("%s: RowsAffected: %v", query, err)
	}
	return n
}

// wantErrNo fails unless err is the server's error number want.
func wantErrNo(t *testing.T, what string, err error, want uint16) {
	t.Helper()
	if got := ErrorNumber(err); got != want {
		t.Fatalf("%s: got error %v (number %d), want error %d", what, err, got, want)
	}
}

// rowsOf runs query and returns its rows, each column as text ("NULL"
// for NULL), joined by commas.
func rowsOf(t *testing.T, db execer, query string, args ...any) []string {
	t.Helper()
	out, err := tryRows(db, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func tryRows(db execer, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		line := ""
		for i, v := range vals {
			if i > 0 {
				line += ","
			}
			if v.Valid {
				line += v.String
			} else {
				line += "NULL"
			}
		}
		out = append(out, line)
	}
	return out, rows.Err()
}

// wantRows fails unless query returns exactly want, in order.
func wantRows(t *testing.T, db execer, query string, want ...string) {
	t.Helper()
	if got := rowsOf(t, db, query); !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", query, got, want)
	}
}

// conn takes one connection of db, given back when the test ends.
func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// begin begins a transaction at level on c.
func begin(t *testing.T, c *sql.Conn, level sql.IsolationLevel) *sql.Tx {
	t.Helper()
	tx, err := c.BeginTx(context.Background(), &sql.TxOptions{Isolation: level})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	return tx
}

// variable returns a server variable's session value as text.
func variable(t *testing.T, db execer, name string) string {
	t.Helper()
	rows := rowsOf(t, db, fmt.Sprintf("SELECT @@%s", name))
	if len(rows) != 1 {
		t.Fatalf("@@%s: got %q", name, rows)
	}
	return rows[0]
}
