package dualwrite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// backend is one database the shared suites run on: the test schema and
// mapping in its dialect, and how to reach a fresh database.
type backend struct {
	name    string
	schema  []string
	mapping string
	driver  driver.Driver
	dsn     func(testing.TB) string // a fresh, empty database (or schema)
	// dialect is the mapping's dialect, which steps for one dialect name
	// (writeStep.only); opts are the backend's own options.
	dialect string
	opts    []dualwrite.Option
}

var (
	sqliteBackend = backend{name: "sqlite", schema: corpus.Schema, mapping: corpus.Mapping,
		driver: &sqlite3.SQLiteDriver{}, dsn: sqliteDSN}
	postgresBackend = backend{name: "postgres", schema: corpus.PostgresSchema, mapping: corpus.PostgresMapping,
		driver: &stdlib.Driver{}, dsn: func(t testing.TB) string { return pgtest.Schema(t) }}
	// MariaDB, with the RETURNING its versions from 10.5 have, and
	// without it, as on MySQL.
	mysqlBackend = backend{name: "mariadb", dialect: "mysql", schema: corpus.MySQLSchema, mapping: corpus.MySQLMapping,
		driver: &mysql.MySQLDriver{}, dsn: func(t testing.TB) string { return mytest.Database(t) }}
	mysqlNoReturningBackend = backend{name: "mariadb-noreturning", dialect: "mysql", schema: corpus.MySQLSchema, mapping: corpus.MySQLMapping,
		driver: &mysql.MySQLDriver{}, dsn: func(t testing.TB) string { return mytest.Database(t) },
		opts: []dualwrite.Option{dualwrite.WithoutReturning()}}
)

// mysqlClientSideBackend is the RETURNING-free MariaDB backend with the
// driver's interpolateParams (arguments spliced into the text on the
// client, no server-side prepare) and clientFoundRows (RowsAffected
// counts matched rows, not changed ones) on.
var mysqlClientSideBackend = func() backend {
	b := mysqlNoReturningBackend
	b.name = "mariadb-interpolate"
	b.dsn = func(t testing.TB) string {
		return mytest.WithParams(mytest.Database(t), "interpolateParams", "true", "clientFoundRows", "true")
	}
	return b
}()

// runs reports whether a step for the dialects only names (a
// comma-separated list; "" for all) runs on the backend.
func (b backend) runs(only string) bool {
	if only == "" {
		return true
	}
	name := b.engine()
	for _, o := range strings.Split(only, ",") {
		if o == name || o == b.name {
			return true
		}
	}
	return false
}

// engine is the name of the backend's dialect: "mysql" for both MariaDB
// backends, the backend's name for the others.
func (b backend) engine() string {
	if b.dialect != "" {
		return b.dialect
	}
	return b.name
}

// quote quotes an identifier as the wrapper's statements on the backend
// spell it.
func (b backend) quote(name string) string {
	return rewrite.DialectByName(b.engine()).Quote(name)
}

// forBackends runs a shared suite on SQLite, PostgreSQL and MariaDB (with
// and without RETURNING), each as a subtest; a server's is skipped, naming
// the variable that enables it, when none is configured.
func forBackends(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range []backend{sqliteBackend, postgresBackend, mysqlBackend, mysqlNoReturningBackend} {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// open creates the test schema in a fresh database and opens it through
// dualwrite with the test mapping, in the dual write phase.
func (b backend) open(t testing.TB, opts ...dualwrite.Option) *env {
	t.Helper()
	return b.openWith(t, dbtest.Connector{DSN: b.dsn(t), Base: b.driver}, opts...)
}

// openWith is open over a given base connector to a fresh database.
func (b backend) openWith(t testing.TB, base driver.Connector, opts ...dualwrite.Option) *env {
	t.Helper()
	e := newEnvWith(t, b.schema, b.mapping, base, append(b.opts[:len(b.opts):len(b.opts)], opts...)...)
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	return e
}

// sql spells a test statement's "?" and "?NNN" placeholders in the
// backend's dialect. Test statements hold no '?' in their literals. MySQL
// has no numbered placeholders: there "?NNN" is "?", which is right for a
// statement that uses each number once, in order.
func (b backend) sql(q string) string {
	if b.name != "postgres" && !b.runs("mysql") {
		return q
	}
	var out strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			out.WriteByte(q[i])
			continue
		}
		numbered := i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9'
		switch {
		case b.runs("mysql"):
			out.WriteByte('?')
			for i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
				i++ // the number
			}
		case numbered:
			out.WriteByte('$')
		default:
			n++
			fmt.Fprintf(&out, "$%d", n)
		}
	}
	return out.String()
}

// withParam adds a parameter (name=value) to a go-sql-driver/mysql DSN.
func withParam(dsn, param string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + param
	}
	return dsn + "?" + param
}

// concat writes the concatenation of terms into format's %s: with || but
// on MySQL, where || is OR, with CONCAT.
func (b backend) concat(format string, terms ...string) string {
	if b.runs("mysql") {
		return fmt.Sprintf(format, "CONCAT("+strings.Join(terms, ", ")+")")
	}
	return fmt.Sprintf(format, strings.Join(terms, " || "))
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

// newEnv creates the test schema in a fresh SQLite file and opens it through
// dualwrite with the test mapping (whose write phase is dual unless the
// environment or the switch says otherwise).
func newEnv(t testing.TB, opts ...dualwrite.Option) *env {
	t.Helper()
	return newEnvWith(t, corpus.Schema, corpus.Mapping, dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}}, opts...)
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

// rows returns every row of a query as comparable values.
func rows(t testing.TB, db dbtest.Querier, q string, args ...any) [][]any {
	t.Helper()
	return dbtest.Rows(t, db, q, args...)
}

// sqliteDSN returns the DSN of a new SQLite file, with the write lock taken
// by BEGIN, as an application's would.
func sqliteDSN(t testing.TB) string { return dbtest.SQLiteDSN(t, "&_txlock=immediate") }

// checkInvariant asserts new = up(old) row by row for every mapped table,
// reading both through the base driver.
func (e *env) checkInvariant() {
	e.t.Helper()
	e.checkInvariantIn(e.t)
}

// checkInvariantIn is checkInvariant reporting to t: a fuzz target's
// iteration, for an env opened before the fuzzing began.
func (e *env) checkInvariantIn(t testing.TB) {
	t.Helper()
	dbtest.Invariant(t, e.raw, rewrite.DialectByName(e.m.Dialect), e.m)
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

// pinned returns one connection of e's pool, closed when the test ends.
func (e *env) pinned(t *testing.T) *sql.Conn {
	t.Helper()
	c, err := e.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
