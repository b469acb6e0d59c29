package dualwrite_test

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

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// backend is one database the shared suites run on: the test schema and
// mapping in its dialect, and how to reach a fresh database.
type backend struct {
	name    string
	schema  []string
	mapping string
	driver  driver.Driver
	dsn     func(testing.TB) string // a fresh, empty database (or schema)
}

var (
	sqliteBackend = backend{name: "sqlite", schema: corpus.Schema, mapping: corpus.Mapping,
		driver: &sqlite3.SQLiteDriver{}, dsn: sqliteDSN}
	postgresBackend = backend{name: "postgres", schema: corpus.PostgresSchema, mapping: corpus.PostgresMapping,
		driver: &stdlib.Driver{}, dsn: func(t testing.TB) string { return pgtest.Schema(t) }}
)

// forBackends runs a shared suite on SQLite and on PostgreSQL, each as a
// subtest; the PostgreSQL one is skipped, naming the variable that enables
// it, when no server is configured.
func forBackends(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range []backend{sqliteBackend, postgresBackend} {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// open creates the test schema in a fresh database and opens it through
// dualwrite with the test mapping, in the dual write phase.
func (b backend) open(t testing.TB, opts ...dualwrite.Option) *env {
	t.Helper()
	return b.openWith(t, dsnConnector{dsn: b.dsn(t), d: b.driver}, opts...)
}

// openWith is open over a given base connector to a fresh database.
func (b backend) openWith(t testing.TB, base driver.Connector, opts ...dualwrite.Option) *env {
	t.Helper()
	e := newEnvWith(t, b.schema, b.mapping, base, opts...)
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	return e
}

// sql spells a test statement's "?" and "?NNN" placeholders in the
// backend's dialect. Test statements hold no '?' in their literals.
func (b backend) sql(q string) string {
	if b.name != "postgres" {
		return q
	}
	var out strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			out.WriteByte(q[i])
			continue
		}
		if i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
			out.WriteByte('$')
			continue
		}
		n++
		fmt.Fprintf(&out, "$%d", n)
	}
	return out.String()
}

// env is one database seen two ways: raw through the base driver, and
// through dualwrite.
type env struct {
	t   testing.TB
	raw *sql.DB
	db  *sql.DB
	m   *mapping.Mapping
	sw  *dualwrite.Switch
}

// dsnConnector is a driver.Connector over a driver's Open.
type dsnConnector struct {
	dsn string
	d   driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// sqliteDSN returns the DSN of a new SQLite file. The directory is not
// t.TempDir(): subtest names may hold '#', which ends the path of a file: URI.
func sqliteDSN(t testing.TB) string {
	dir, err := os.MkdirTemp("", "dualwrite-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return "file:" + filepath.Join(dir, "test.db") + "?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate"
}

// newEnv creates the test schema in a fresh SQLite file and opens it through
// dualwrite with the test mapping (whose write phase is dual unless the
// environment or the switch says otherwise).
func newEnv(t testing.TB, opts ...dualwrite.Option) *env {
	t.Helper()
	return newEnvWith(t, corpus.Schema, corpus.Mapping, dsnConnector{dsn: sqliteDSN(t), d: &sqlite3.SQLiteDriver{}}, opts...)
}

func newEnvWith(t testing.TB, schema []string, yaml string, base driver.Connector, opts ...dualwrite.Option) *env {
	t.Helper()
	e := &env{t: t, sw: dualwrite.NewSwitch()}
	e.raw = sql.OpenDB(base)
	t.Cleanup(func() { e.raw.Close() })
	for _, s := range schema {
		mustExec(t, e.raw, s)
	}
	var err error
	if e.m, err = mapping.Parse([]byte(yaml)); err != nil {
		t.Fatal(err)
	}
	c, err := dualwrite.NewConnector(base, e.m, append([]dualwrite.Option{dualwrite.WithSwitch(e.sw)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e.db = sql.OpenDB(c)
	t.Cleanup(func() { e.db.Close() })
	return e
}

func mustExec(t testing.TB, db interface {
	Exec(string, ...any) (sql.Result, error)
}, q string, args ...any) sql.Result {
	t.Helper()
	r, err := db.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

// rows returns every row of a query as normalized values.
func rows(t testing.TB, db interface {
	Query(string, ...any) (*sql.Rows, error)
}, q string, args ...any) [][]any {
	t.Helper()
	rs, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return scanAll(t, rs)
}

// scanAll reads and closes rs, returning normalized values.
func scanAll(t testing.TB, rs *sql.Rows) [][]any {
	t.Helper()
	defer rs.Close()
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

// checkInvariant asserts new = up(old) row by row for every mapped table,
// reading both through the base driver.
func (e *env) checkInvariant() {
	e.t.Helper()
	for _, tb := range e.m.Tables {
		var exprs, cols []string
		for _, c := range tb.Columns {
			exprs = append(exprs, c.Expr)
			cols = append(cols, `"`+c.Name+`"`)
		}
		up := rows(e.t, e.raw, fmt.Sprintf(`SELECT %s FROM "%s" ORDER BY %s`, strings.Join(exprs, ", "), tb.Old, strings.Join(tb.Key, ", ")))
		got := rows(e.t, e.raw, fmt.Sprintf(`SELECT %s FROM "%s" ORDER BY %s`, strings.Join(cols, ", "), tb.New, strings.Join(tb.NewKey, ", ")))
		if !reflect.DeepEqual(up, got) {
			e.t.Fatalf("invariant broken for %s -> %s:\n up(old) = %v\n new     = %v", tb.Old, tb.New, up, got)
		}
	}
}

// count returns the number of rows in a table, read through the base driver.
func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.raw.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}
