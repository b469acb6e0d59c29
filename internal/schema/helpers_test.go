package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// usersSchema and usersMapping, and pgUsersSchema and pgUsersMapping, are a
// schema and a mapping that match it, on SQLite and on PostgreSQL.
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

const pgUsersSchema = `
CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE, visits int NOT NULL DEFAULT 0);
CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int NOT NULL DEFAULT 0);
`

const pgUsersMapping = `
dialect: postgres
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      email_address: email
      first_name: "split_part(full_name, ' ', 1)"
      last_name: "substr(full_name, length(split_part(full_name, ' ', 1)) + 2)"
      visits: visits
    reverse:
      id: account_id
      full_name: "trim(first_name || ' ' || last_name)"
      email: email_address
      visits: visits
`

// myUsersSchema and myUsersMapping are the same on MySQL and MariaDB. Its
// || is OR: names are joined with concat.
const myUsersSchema = `
CREATE TABLE users (id bigint PRIMARY KEY, full_name varchar(200) NOT NULL, email varchar(200) UNIQUE, visits int NOT NULL DEFAULT 0);
CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address varchar(200), first_name varchar(100), last_name varchar(100), visits int NOT NULL DEFAULT 0);
`

const myUsersMapping = `
dialect: mysql
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      email_address: email
      first_name: "substring_index(full_name, ' ', 1)"
      last_name: "substr(full_name, char_length(substring_index(full_name, ' ', 1)) + 2)"
      visits: visits
    reverse:
      id: account_id
      full_name: "trim(concat(first_name, ' ', coalesce(last_name, '')))"
      email: email_address
      visits: visits
`

// orgMapping, orgTables and orgUsers make the guard tests' schema, on
// either database.
const orgMapping = `
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      org: org_id
    reverse:
      id: account_id
      org_id: org
`

const orgTables = `
CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, org INT);
CREATE TABLE audit (id INTEGER PRIMARY KEY, msg TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INT, total INT);
`

const orgUsers = "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT);\n"

// testDB is one test's database: a fresh SQLite file, a fresh schema on
// the server of DUALWRITE_TEST_POSTGRES_DSN, or a fresh database on the
// server of DUALWRITE_TEST_MYSQL_DSN.
type testDB struct {
	db     *sql.DB // on PostgreSQL its connections have search_path = schema
	schema string  // "" on SQLite and MySQL
	// database is the MySQL database's name, "" elsewhere.
	database string
	// check is InspectSQLite, InspectPostgres or InspectMySQL.
	check func(context.Context, Querier, *mapping.Mapping) (*rewrite.Schema, []Problem, error)
}

// backend is a database the shared tests run against, with a schema and a
// mapping that match.
type backend struct {
	name           string
	d              *rewrite.Dialect
	open           func(t *testing.T, ddl string) *testDB
	users, mapping string
	catalogQueries []string // a fragment of each catalog query, to make it fail
}

var backends = []backend{
	{"sqlite", rewrite.SQLite, sqliteOpen, usersSchema, usersMapping,
		[]string{"sqlite_version", "sqlite_master", "table_xinfo", "index_list", "index_xinfo", "foreign_key_list"}},
	{"postgres", rewrite.Postgres, pgOpen, pgUsersSchema, pgUsersMapping,
		[]string{"server_version_num", "pg_class AS c JOIN", "pg_attribute AS a\n", "pg_index", "pg_inherits", "pg_constraint", "pg_trigger", "pg_rewrite"}},
	{"mysql", rewrite.MySQL, myOpen, myUsersSchema, myUsersMapping,
		[]string{"@@lower_case_table_names", "information_schema.TABLES", "information_schema.COLUMNS", "information_schema.STATISTICS",
			"REFERENTIAL_CONSTRAINTS", "information_schema.ROUTINES", "information_schema.TRIGGERS", "information_schema.EVENTS", "information_schema.VIEWS"}},
}

// upsert is how the problem of a new key that is not unique names the
// mirror's upsert on the key columns cols.
func (b backend) upsert(cols string) string {
	if b.name == "mysql" {
		return "the mirror's INSERT ... ON DUPLICATE KEY UPDATE needs it"
	}
	return "the mirror's INSERT ... ON CONFLICT (" + cols + ") needs it"
}

// runs reports whether a test case for only (backend names separated by
// commas, "" for every backend) runs on b.
func (b backend) runs(only string) bool {
	return only == "" || slices.Contains(strings.Split(only, ","), b.name)
}

// forEachBackend runs f as a subtest on each backend; the PostgreSQL one
// skips without DUALWRITE_TEST_POSTGRES_DSN, the MySQL one without
// DUALWRITE_TEST_MYSQL_DSN.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// sqliteOpen creates a fresh SQLite file with the given DDL.
func sqliteOpen(t *testing.T, ddl string) *testDB {
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
	return &testDB{db: db, check: InspectSQLite}
}

// pgOpen creates a schema of its own for the test, runs ddl in it, and
// drops it when the test ends. It skips the test when
// DUALWRITE_TEST_POSTGRES_DSN is not set.
func pgOpen(t *testing.T, ddl string) *testDB {
	t.Helper()
	dsn, schema := pgtest.New(t, ddl)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() }) // runs before the DROP
	return &testDB{db: db, schema: schema, check: InspectPostgres}
}

// myOpen creates a database of its own for the test and runs ddl in it;
// it is dropped when the test ends. It skips the test when
// DUALWRITE_TEST_MYSQL_DSN is not set.
func myOpen(t *testing.T, ddl string) *testDB {
	t.Helper()
	dsn, name := mytest.New(t, splitDDL(ddl)...)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() }) // runs before the DROP
	return &testDB{db: db, database: name, check: InspectMySQL}
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

// with runs f with a driver-level Querier on one connection of the pool.
func (d *testDB) with(t *testing.T, f func(q Querier)) {
	t.Helper()
	ctx := context.Background()
	conn, err := d.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("the driver's connection is not a driver.QueryerContext")
		}
		f(QuerierFunc(qc.QueryContext))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// inspect inspects the database against yaml, checking that every
// driver.Rows was closed.
func (d *testDB) inspect(t *testing.T, yaml string) (*rewrite.Schema, []Problem) {
	t.Helper()
	m := parseMapping(t, yaml)
	var (
		s        *rewrite.Schema
		problems []Problem
	)
	d.with(t, func(q Querier) {
		cq := &countingQuerier{q: q}
		var err error
		if s, problems, err = d.check(context.Background(), cq, m); err != nil {
			t.Fatalf("inspection: %v", err)
		}
		if o, c := cq.opened.Load(), cq.closed.Load(); o != c || o == 0 {
			t.Errorf("opened %d rows, closed %d", o, c)
		}
	})
	return s, problems
}

// guards returns the guards of s on tables of the test's own database.
func (d *testDB) guards(t *testing.T, s *rewrite.Schema) map[string]rewrite.Guard {
	t.Helper()
	if d.schema == "" {
		return s.Guards
	}
	rows, err := d.db.Query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1", d.schema)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	own := map[string]rewrite.Guard{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if g, ok := s.Guards[name]; ok {
			own[name] = g
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return own
}

// inspect creates ddl in a fresh SQLite database and inspects yaml against
// it; pgInspect does so on PostgreSQL.
func inspect(t *testing.T, ddl, yaml string) (*rewrite.Schema, []Problem) {
	t.Helper()
	return sqliteOpen(t, ddl).inspect(t, yaml)
}

func pgInspect(t *testing.T, ddl, yaml string) (*rewrite.Schema, []Problem) {
	t.Helper()
	return pgOpen(t, ddl).inspect(t, yaml)
}

// replaced returns yaml with old replaced by new, once.
func replaced(t *testing.T, yaml, old, new string) string {
	t.Helper()
	out := strings.Replace(yaml, old, new, 1)
	if out == yaml {
		t.Fatalf("%q is not in the mapping", old)
	}
	return out
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

// lineOf returns the line of yaml on which text starts.
func lineOf(t *testing.T, yaml, text string) int {
	t.Helper()
	i := strings.Index(yaml, text)
	if i < 0 {
		t.Fatalf("%q is not in the mapping", text)
	}
	return strings.Count(yaml[:i], "\n") + 1
}
