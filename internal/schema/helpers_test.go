package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

const usersSchema = `
CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT UNIQUE, visits INT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INT);
`

const usersMapping = `
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      email_address: email
      first_name: "substr(full_name, 1, instr(full_name, ' ') - 1)"
      last_name: "substr(full_name, instr(full_name, ' ') + 1)"
      visits: visits
    reverse:
      id: account_id
      full_name: "first_name || ' ' || last_name"
      email: email_address
      visits: visits
`

// openDB creates a fresh SQLite file with the given DDL.
func openDB(t *testing.T, ddl string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	for _, stmt := range splitDDL(ddl) {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return db
}

// splitDDL splits a script at semicolons that end a line, so that trigger
// bodies (whose semicolons are mid-line here) stay whole.
func splitDDL(ddl string) []string {
	var out []string
	for _, s := range strings.Split(ddl, ";\n") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseMapping(t *testing.T, yaml string) *mapping.Mapping {
	t.Helper()
	m, err := mapping.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("mapping: %v", err)
	}
	return m
}

// countingQuerier counts the rows it hands out and the ones closed.
type countingQuerier struct {
	q              Querier
	opened, closed atomic.Int64
}

func (c *countingQuerier) Query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.q.Query(ctx, query, args)
	if err != nil {
		return nil, err
	}
	c.opened.Add(1)
	return &countedRows{Rows: r, c: c}, nil
}

type countedRows struct {
	driver.Rows
	c *countingQuerier
}

func (r *countedRows) Close() error {
	r.c.closed.Add(1)
	return r.Rows.Close()
}

// withQuerier runs f with a driver-level Querier on one connection of db.
func withQuerier(t *testing.T, db *sql.DB, f func(q Querier)) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("the sqlite3 connection is not a driver.QueryerContext")
		}
		f(QuerierFunc(qc.QueryContext))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// inspect creates ddl in a fresh database and inspects yaml against it,
// checking that every driver.Rows was closed.
func inspect(t *testing.T, ddl, yaml string) (*rewrite.Schema, []Problem) {
	t.Helper()
	db := openDB(t, ddl)
	m := parseMapping(t, yaml)
	var (
		s        *rewrite.Schema
		problems []Problem
	)
	withQuerier(t, db, func(q Querier) {
		cq := &countingQuerier{q: q}
		var err error
		s, problems, err = InspectSQLite(context.Background(), cq, m)
		if err != nil {
			t.Fatalf("InspectSQLite: %v", err)
		}
		if o, c := cq.opened.Load(), cq.closed.Load(); o != c || o == 0 {
			t.Errorf("opened %d rows, closed %d", o, c)
		}
	})
	return s, problems
}

// want is an expected problem: Table and Column exactly, and fragments
// that Msg must contain.
type want struct {
	table, column string
	frags         []string
}

// checkProblems asserts that problems are exactly the wanted ones, in order.
func checkProblems(t *testing.T, problems []Problem, wants ...want) {
	t.Helper()
	if len(problems) != len(wants) {
		t.Errorf("got %d problems, want %d:", len(problems), len(wants))
		for _, p := range problems {
			t.Errorf("  %s", p.Error())
		}
		return
	}
	for i, w := range wants {
		p := problems[i]
		if p.Table != w.table || p.Column != w.column {
			t.Errorf("problem %d: got table %q column %q, want %q %q (%s)", i, p.Table, p.Column, w.table, w.column, p.Error())
		}
		for _, f := range w.frags {
			if !strings.Contains(p.Msg, f) {
				t.Errorf("problem %d: message %q does not contain %q", i, p.Msg, f)
			}
		}
	}
}

// fakeRows serves fixed rows.
type fakeRows struct {
	cols []string
	rows [][]driver.Value
}

func (r *fakeRows) Columns() []string { return r.cols }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}
