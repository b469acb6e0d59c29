package dualwrite_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// TestConnectRefusesMismatchedSchema: a mapping that does not match the live
// schema is refused at the first connection, naming every problem; once the
// schema is fixed the same sql.DB connects.
func TestConnectRefusesMismatchedSchema(t *testing.T) {
	base := dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}}
	raw := sql.OpenDB(base)
	defer raw.Close()
	mustExec(t, raw, "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, email TEXT UNIQUE, visits INTEGER NOT NULL DEFAULT 0)")
	mustExec(t, raw, "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, visits INTEGER)")
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	c, err := dualwrite.NewConnector(base, m)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	err = db.Ping()
	if !errors.Is(err, dualwrite.ErrSchemaMismatch) {
		t.Fatalf("Ping = %v, want ErrSchemaMismatch", err)
	}
	for _, want := range []string{"last_name", "memberships", "members"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s:\n%v", want, err)
		}
	}
	if _, err := db.Exec("INSERT INTO users (id, full_name) VALUES (1, 'x')"); !errors.Is(err, dualwrite.ErrSchemaMismatch) {
		t.Fatalf("Exec = %v, want ErrSchemaMismatch", err)
	}
	if n := rows(t, raw, "SELECT count(*) FROM users")[0][0]; n != int64(0) {
		t.Fatalf("a write ran on a refused connection: %v rows", n)
	}
	mustExec(t, raw, "ALTER TABLE accounts ADD COLUMN last_name TEXT")
	mustExec(t, raw, "CREATE TABLE memberships (org_id INTEGER NOT NULL, user_id INTEGER NOT NULL, role TEXT, PRIMARY KEY (org_id, user_id))")
	mustExec(t, raw, "CREATE TABLE members (org INTEGER NOT NULL, usr INTEGER NOT NULL, role_name TEXT, PRIMARY KEY (org, usr))")
	if err := db.Ping(); err != nil {
		t.Fatalf("Ping after fixing the schema: %v", err)
	}
	mustExec(t, db, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	e := &env{t: t, raw: raw, m: m}
	e.checkInvariant()
}

// TestGuardedStatementsAreRefused: a trigger that writes to a mapped table
// makes the statements that fire it refused, naming the trigger.
func TestGuardedStatementsAreRefused(t *testing.T) {
	e := newEnvWith(t, append(corpus.Schema[:len(corpus.Schema):len(corpus.Schema)],
		`CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT)`,
		`CREATE TRIGGER orgs_touch AFTER UPDATE ON orgs BEGIN UPDATE users SET visits = visits + 1 WHERE id = NEW.id; END`),
		corpus.Mapping, dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}})
	mustExec(t, e.db, "INSERT INTO orgs (id, name) VALUES (1, 'a')")
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	_, err := e.db.Exec("UPDATE orgs SET name = 'b' WHERE id = 1")
	if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "orgs_touch") {
		t.Fatalf("got %v, want a refusal naming the trigger", err)
	}
	if got := rows(t, e.raw, "SELECT name FROM orgs")[0][0]; got != "a" {
		t.Fatalf("the refused statement ran: name = %v", got)
	}
	e.checkInvariant()
}

// TestOnConflictReplaceConstraintIsRefused: a unique constraint declared ON
// CONFLICT REPLACE makes a plain INSERT delete rows by it, so writes to the
// table are refused rather than mirrored wrongly.
func TestOnConflictReplaceConstraintIsRefused(t *testing.T) {
	schema := append([]string(nil), corpus.Schema...)
	schema[0] = strings.Replace(schema[0], "email TEXT UNIQUE,", "email TEXT UNIQUE ON CONFLICT REPLACE,", 1)
	e := newEnvWith(t, schema, corpus.Mapping, dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}})
	_, err := e.db.Exec("INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'a@x')")
	if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "ON CONFLICT REPLACE") {
		t.Fatalf("got %v, want a refusal naming ON CONFLICT REPLACE", err)
	}
	mustExec(t, e.db, "INSERT INTO memberships VALUES (1, 1, 'admin')") // other tables are unaffected
	e.checkInvariant()
}

// TestConnectRefusesLineCommentInExpression: a -- comment at the end of a
// mapping expression would swallow the rest of every generated statement,
// so the first connection refuses the mapping, naming the column and the fix.
func TestConnectRefusesLineCommentInExpression(t *testing.T) {
	base := dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}}
	raw := sql.OpenDB(base)
	defer raw.Close()
	for _, s := range corpus.Schema {
		mustExec(t, raw, s)
	}
	yaml := strings.Replace(corpus.Mapping, `first_name: "substr(full_name, 1, instr(full_name || ' ', ' ') - 1)"`,
		`first_name: "substr(full_name, 1, 3) -- first"`, 1)
	m, err := mapping.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := dualwrite.NewConnector(base, m)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	_, err = db.Exec("INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	if !errors.Is(err, dualwrite.ErrSchemaMismatch) {
		t.Fatalf("Exec = %v, want ErrSchemaMismatch", err)
	}
	for _, want := range []string{"first_name", "mapping line 12", "-- comment", "/* ... */"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
}

// TestPlanCacheBytesOption: the byte bound of the plan cache is validated.
func TestPlanCacheBytesOption(t *testing.T) {
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	base := dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}}
	for _, n := range []int64{-1, 0, 1 << 10} {
		if _, err := dualwrite.NewConnector(base, m, dualwrite.WithPlanCacheBytes(n)); err == nil || !strings.Contains(err.Error(), "WithPlanCacheBytes") {
			t.Errorf("WithPlanCacheBytes(%d): %v, want an error naming the option", n, err)
		}
	}
	if _, err := dualwrite.NewConnector(base, m, dualwrite.WithPlanCacheBytes(1<<20)); err != nil {
		t.Fatal(err)
	}
}
