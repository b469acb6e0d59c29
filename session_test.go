package dualwrite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// setWrite switches e's write phase.
func (e *env) setWrite(t *testing.T, p mapping.WritePhase) {
	t.Helper()
	if err := e.sw.SetWrite(p); err != nil {
		t.Fatal(err)
	}
}

// mustRefuse runs q on c and fails unless it is refused with
// ErrUnsupported, with an error that holds want.
func mustRefuse(t *testing.T, c *sql.Conn, q, want string) {
	t.Helper()
	_, err := c.ExecContext(context.Background(), q)
	if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: %v; want a refusal naming %q", q, err, want)
	}
}

// TestPostgresStringSettingRefused: a session setting that changes how
// the server reads string literals is refused in every write phase, so a
// statement the wrapper reads as one string literal stays one on the
// server: the UPDATE hidden in it, which would run unmirrored with
// standard_conforming_strings off, does not run.
func TestPostgresStringSettingRefused(t *testing.T) {
	e := postgresBackend.open(t)
	mustExec(t, e.db, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')`)
	c := e.pinned(t)
	for _, phase := range []mapping.WritePhase{mapping.WriteOff, mapping.WriteDual} {
		e.setWrite(t, phase)
		for _, q := range []string{
			`SET standard_conforming_strings = off`,
			`SET SESSION standard_conforming_strings TO off`,
			`SET LOCAL "standard_conforming_strings" = off`,
			`SELECT set_config('standard_conforming_strings', 'off', false)`,
			`SELECT pg_catalog.set_config('Standard_Conforming_Strings', 'off', false)`,
			`SELECT set_config(lower('STANDARD_CONFORMING_STRINGS'), 'off', false)`,
			`SELECT 1; SET standard_conforming_strings = off`,
			`DO $$ BEGIN PERFORM set_config('standard_conforming_strings', 'off', false); END $$`,
		} {
			mustRefuse(t, c, q, "standard_conforming_strings")
		}
	}
	mustExecConn(t, c, `SELECT 'a\' || '; UPDATE users SET visits = 9; -- '`)
	var visits int
	if err := e.raw.QueryRow(`SELECT visits FROM users WHERE id = 1`).Scan(&visits); err != nil || visits != 0 {
		t.Fatalf("users.visits = %d (%v): the statement hidden in a string literal ran", visits, err)
	}
	// A setting the wrapper does not depend on still passes.
	mustExecConn(t, c, `SET statement_timeout = '5s'`)
	mustExecConn(t, c, `SELECT set_config('application_name', 'x', false)`)
	e.checkInvariant()
}

// otherUsers creates a schema of its own holding another table named
// users, and returns its name.
func otherUsers(t *testing.T) string {
	t.Helper()
	_, other := pgtest.New(t, `CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL DEFAULT 'Anon Ymous', email text UNIQUE, visits int NOT NULL DEFAULT 0)`)
	return other
}

// TestPostgresSearchPathRefused: changing search_path (or the role, by
// which "$user" and schema privileges resolve it) through the wrapper is
// refused in every write phase, so that a write of users cannot land in
// another schema's users while the mirror writes the mapped pair.
func TestPostgresSearchPathRefused(t *testing.T) {
	e := postgresBackend.open(t)
	other := otherUsers(t)
	var own string
	if err := e.db.QueryRow(`SELECT current_schema()`).Scan(&own); err != nil {
		t.Fatal(err)
	}
	c := e.pinned(t)
	for _, phase := range []mapping.WritePhase{mapping.WriteOff, mapping.WriteDual} {
		e.setWrite(t, phase)
		for _, q := range []string{
			`SET search_path = ` + other + `, ` + own,
			`SET SESSION search_path TO ` + other + `, ` + own,
			`SET LOCAL search_path = ` + other + `, ` + own,
			`SET SCHEMA '` + other + `'`,
			`SET search_path TO DEFAULT`,
			`SELECT set_config('search_path', '` + other + `, ` + own + `', false)`,
		} {
			mustRefuse(t, c, q, "search_path")
		}
		mustRefuse(t, c, `SET ROLE postgres`, "role")
		mustRefuse(t, c, `SET SESSION AUTHORIZATION postgres`, "role")
	}
	mustExecConn(t, c, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')`)
	if n := e.count(other + ".users"); n != 0 {
		t.Fatalf("%s.users has %d rows", other, n)
	}
	// RESET restores the value the connection was checked with.
	mustExecConn(t, c, `RESET search_path`)
	mustExecConn(t, c, `RESET ALL`)
	mustExecConn(t, c, `UPDATE users SET visits = 2 WHERE id = 1`)
	e.checkInvariant()
}

// switchConnector connects with dsn, and with other once switched.
type switchConnector struct {
	dsn, other string
	switched   atomic.Bool
}

func (s *switchConnector) Connect(context.Context) (driver.Conn, error) {
	if s.switched.Load() {
		return (&stdlib.Driver{}).Open(s.other)
	}
	return (&stdlib.Driver{}).Open(s.dsn)
}

func (s *switchConnector) Driver() driver.Driver { return &stdlib.Driver{} }

// otherSearchPathEnv opens the test schema through dualwrite over a base
// connector whose connections, once base.switched is set, put the schema
// other (with a users table of its own) first on their search_path.
func otherSearchPathEnv(t *testing.T) (e *env, base *switchConnector, other string) {
	t.Helper()
	dsn := postgresBackend.dsn(t)
	other = otherUsers(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", other+","+q.Get("search_path"))
	u.RawQuery = q.Encode()
	base = &switchConnector{dsn: dsn, other: u.String()}
	e = postgresBackend.openWith(t, base)
	e.raw = sql.OpenDB(dbtest.Connector{DSN: dsn, Base: &stdlib.Driver{}})
	t.Cleanup(func() { _ = e.raw.Close() })
	return e, base, other
}

// TestPostgresConnectionSettingsChecked: a connection of the pool whose
// search_path differs from the one the mapping was checked with (here by
// its DSN; an ALTER ROLE ... SET does the same to new sessions) is refused
// when it connects, before a write of users could land in another schema.
func TestPostgresConnectionSettingsChecked(t *testing.T) {
	e, base, other := otherSearchPathEnv(t)
	ctx := context.Background()
	c1 := e.pinned(t) // the schema is checked on the first connection
	mustExecConn(t, c1, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')`)
	base.switched.Store(true)
	c2, err := e.db.Conn(ctx)
	if err == nil {
		_, err = c2.ExecContext(ctx, `INSERT INTO users (id, full_name) VALUES (2, 'Alan Turing')`)
		_ = c2.Close()
	}
	if !errors.Is(err, dualwrite.ErrSchemaMismatch) || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("a connection with another search_path: %v; want ErrSchemaMismatch naming search_path", err)
	}
	if n := e.count(other + ".users"); n != 0 {
		t.Fatalf("%s.users has %d rows", other, n)
	}
	e.checkInvariant()
}

// TestPostgresSQLPrepareRefused: an SQL-level PREPARE of a write, or of a
// statement naming a mapped table, is refused in every write phase, so no
// EXECUTE in the dual phase can run a write that was never planned.
func TestPostgresSQLPrepareRefused(t *testing.T) {
	e := postgresBackend.open(t)
	mustExec(t, e.db, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')`)
	c := e.pinned(t)
	e.setWrite(t, mapping.WriteOff)
	mustRefuse(t, c, `PREPARE bump AS UPDATE users SET visits = 9`, "PREPARE")
	mustRefuse(t, c, `PREPARE look (bigint) AS SELECT * FROM users WHERE id = $1`, "PREPARE")
	mustRefuse(t, c, `PREPARE note AS INSERT INTO audit (id, msg) VALUES (1, 'x')`, "PREPARE")
	e.setWrite(t, mapping.WriteDual)
	mustRefuse(t, c, `PREPARE bump AS UPDATE users SET visits = 9`, "PREPARE")
	if _, err := c.ExecContext(context.Background(), `EXECUTE bump`); err == nil {
		t.Fatal("EXECUTE bump ran: a statement was prepared")
	}
	mustExecConn(t, c, `PREPARE one AS SELECT 1`)
	mustExecConn(t, c, `EXECUTE one`)
	e.checkInvariant()
}

// TestPostgresRecheckConnectionSettingsChecked: the connection of the base
// connector that checks the schema again for a connection inside a
// transaction is held to the same settings: one with another search_path
// makes the statement fail naming it, rather than check another schema.
func TestPostgresRecheckConnectionSettingsChecked(t *testing.T) {
	e, base, _ := otherSearchPathEnv(t)
	ctx := context.Background()
	c1, c2 := e.pinned(t), e.pinned(t)
	tx, err := c1.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	mustExecConn(t, c2, `CREATE INDEX users_visits ON users (visits)`)
	base.switched.Store(true)
	_, err = tx.ExecContext(ctx, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')`)
	if !errors.Is(err, dualwrite.ErrSchemaMismatch) || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("a write after a schema change, checked on a connection with another search_path: %v; want ErrSchemaMismatch naming search_path", err)
	}
}
