package dualwrite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
	"github.com/ngrok/sqlmw"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
)

var registerSeq int

// register registers a dualwrite driver over base with the test mapping
// under a fresh name, creates the test schema through the raw base driver,
// and returns the name and the raw database.
func register(t *testing.T, base, dsn string) (string, *sql.DB) {
	t.Helper()
	registerSeq++
	name := fmt.Sprintf("dualwrite-test-%d", registerSeq)
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	if err := dualwrite.Register(name, base, m); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open(base, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	for _, s := range corpus.Schema {
		mustExec(t, raw, s)
	}
	return name, raw
}

func TestRegisterRejectsBadInput(t *testing.T) {
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	if err := dualwrite.Register("dw-no-base", "no-such-driver", m); err == nil || !strings.Contains(err.Error(), "no-such-driver") {
		t.Fatalf("unknown base: %v", err)
	}
	if err := dualwrite.Register("sqlite3", "sqlite3", m); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("taken name: %v", err)
	}
	if err := dualwrite.Register("dw-nil", "sqlite3", nil); err == nil {
		t.Fatal("nil mapping accepted")
	}
	if err := dualwrite.Register("dw-nil-opt", "sqlite3", m, dualwrite.WithLogger(nil)); err == nil {
		t.Fatal("nil logger accepted")
	}
}

type user struct {
	ID       int64          `db:"id"`
	FullName string         `db:"full_name"`
	Email    sql.NullString `db:"email"`
	Visits   int64          `db:"visits"`
}

func TestSqlx(t *testing.T) {
	dsn := sqliteDSN(t)
	name, raw := register(t, "sqlite3", dsn)
	db, err := sqlx.Open(name, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Rebind("SELECT ?") != "SELECT ?" {
		t.Fatalf("Rebind = %q", db.Rebind("SELECT ?"))
	}
	people := []user{{ID: 1, FullName: "Ada Lovelace", Visits: 2}, {ID: 2, FullName: "Alan Turing", Email: sql.NullString{String: "a@x", Valid: true}}}
	for _, u := range people {
		if _, err := db.NamedExec("INSERT INTO users (id, full_name, email, visits) VALUES (:id, :full_name, :email, :visits)", u); err != nil {
			t.Fatal(err)
		}
	}
	q, args, err := sqlx.In("UPDATE users SET visits = visits + 10 WHERE id IN (?)", []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(db.Rebind(q), args...); err != nil {
		t.Fatal(err)
	}
	var got []user
	if err := db.Select(&got, "SELECT * FROM users ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	var one user
	if err := db.Get(&one, "SELECT * FROM users WHERE id = ?", 2); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Visits != 12 || got[1].Visits != 10 || one.FullName != "Alan Turing" {
		t.Fatalf("Select = %+v, Get = %+v", got, one)
	}
	e := &env{t: t, raw: raw, m: mustMapping(t)}
	e.checkInvariant()
	if e.count("accounts") != 2 {
		t.Fatal("sqlx writes were not mirrored")
	}
}

func mustMapping(t *testing.T) *mapping.Mapping {
	t.Helper()
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// counter is an sqlmw interceptor that records every statement it sees.
type counter struct {
	sqlmw.NullInterceptor
	mu   sync.Mutex
	seen []string
}

func (c *counter) add(q string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, q)
}

func (c *counter) ConnExecContext(ctx context.Context, conn driver.ExecerContext, q string, args []driver.NamedValue) (driver.Result, error) {
	c.add(q)
	return conn.ExecContext(ctx, q, args)
}

func (c *counter) ConnQueryContext(ctx context.Context, conn driver.QueryerContext, q string, args []driver.NamedValue) (context.Context, driver.Rows, error) {
	c.add(q)
	rows, err := conn.QueryContext(ctx, q, args)
	return ctx, rows, err
}

func (c *counter) StmtExecContext(ctx context.Context, s driver.StmtExecContext, q string, args []driver.NamedValue) (driver.Result, error) {
	c.add(q)
	return s.ExecContext(ctx, args)
}

func (c *counter) StmtQueryContext(ctx context.Context, s driver.StmtQueryContext, q string, args []driver.NamedValue) (context.Context, driver.Rows, error) {
	c.add(q)
	rows, err := s.QueryContext(ctx, args)
	return ctx, rows, err
}

func (c *counter) statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

func TestSqlmwUnderDualwrite(t *testing.T) {
	cnt := &counter{}
	registerSeq++
	base := fmt.Sprintf("sqlmw-sqlite-%d", registerSeq)
	sql.Register(base, sqlmw.Driver(&sqlite3.SQLiteDriver{}, cnt))
	dsn := sqliteDSN(t)
	name, raw := register(t, base, dsn)
	db, err := sql.Open(name, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil { // connects, and checks the schema
		t.Fatal(err)
	}
	before := len(cnt.statements())
	mustExec(t, db, "INSERT INTO users (id, full_name) VALUES (?, ?)", 1, "Ada Lovelace")
	mustExec(t, db, "INSERT INTO audit (msg) VALUES ('unmapped')")
	seen := cnt.statements()[before:]
	want := []string{"BEGIN IMMEDIATE", `INSERT INTO users (id, full_name) VALUES (?, ?) RETURNING "id"`,
		"SELECT last_insert_rowid(), changes()", `INSERT INTO "accounts"`, "COMMIT", "INSERT INTO audit (msg) VALUES ('unmapped')"}
	if len(seen) != len(want) {
		t.Fatalf("the interceptor saw %q, want %q", seen, want)
	}
	for i := range want {
		if !strings.HasPrefix(seen[i], want[i]) {
			t.Fatalf("statement %d = %q, want %q...", i, seen[i], want[i])
		}
	}
	e := &env{t: t, raw: raw, m: mustMapping(t)}
	e.checkInvariant()
}

func TestSqlmwOverDualwrite(t *testing.T) {
	dsn := sqliteDSN(t)
	name, raw := register(t, "sqlite3", dsn)
	probe, err := sql.Open(name, "")
	if err != nil {
		t.Fatal(err)
	}
	dw := probe.Driver()
	probe.Close()
	cnt := &counter{}
	registerSeq++
	over := fmt.Sprintf("sqlmw-over-dualwrite-%d", registerSeq)
	sql.Register(over, sqlmw.Driver(dw, cnt))
	db, err := sql.Open(over, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec(t, db, "INSERT INTO users (id, full_name) VALUES (?, ?)", 1, "Ada Lovelace")
	mustExec(t, db, "UPDATE users SET visits = 3 WHERE id = 1")
	seen := cnt.statements()
	if len(seen) != 2 || !strings.HasPrefix(seen[0], "INSERT INTO users") || !strings.HasPrefix(seen[1], "UPDATE users") {
		t.Fatalf("the interceptor saw %q, want the caller's two statements", seen)
	}
	e := &env{t: t, raw: raw, m: mustMapping(t)}
	e.checkInvariant()
	if e.count("accounts") != 1 {
		t.Fatal("the write was not mirrored")
	}
}
