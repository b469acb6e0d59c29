package dualwrite_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/mapping"
)

// TestSQLiteSessionObjectsRefused: a temporary trigger or table that
// would act on a mapped table behind the mirror is refused in every write
// phase, since it outlives a switch to dual on its pooled connection and
// the schema checks of the other connections cannot see it.
func TestSQLiteSessionObjectsRefused(t *testing.T) {
	e := sqliteBackend.open(t)
	mustExec(t, e.db, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')`)
	c := e.pinned(t)
	for _, phase := range []mapping.WritePhase{mapping.WriteOff, mapping.WriteDual} {
		e.setWrite(t, phase)
		mustRefuse(t, c, `CREATE TEMP TRIGGER bump AFTER INSERT ON audit BEGIN UPDATE users SET visits = 9; END`, "temporary trigger")
		mustRefuse(t, c, `CREATE TRIGGER temp.bump AFTER INSERT ON audit BEGIN UPDATE users SET visits = 9; END`, "temporary trigger")
		mustRefuse(t, c, `CREATE TEMP TABLE 'users' (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT, visits INTEGER)`, "temporary table")
		mustRefuse(t, c, `CREATE TABLE temp."users" (id INTEGER PRIMARY KEY, full_name TEXT, email TEXT, visits INTEGER)`, "temporary table")
	}
	mustExecConn(t, c, `INSERT INTO audit (id, msg) VALUES (1, 'x')`)
	mustExecConn(t, c, `INSERT INTO users (id, full_name) VALUES (2, 'Alan Turing')`)
	if n := e.count("main.users"); n != 2 {
		t.Fatalf("main.users has %d rows, want 2", n)
	}
	e.checkInvariant()
}

// TestMySQLTemporaryTableRefused: a MySQL temporary table named like a
// mapped table hides it from its connection's statements, which would
// then write the temporary table: it is refused in every write phase, in
// each of MySQL's forms, and the writes after it still reach the mapped
// table and its mirror.
func TestMySQLTemporaryTableRefused(t *testing.T) {
	e := mysqlBackend.open(t)
	mustExec(t, e.db, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')`)
	c := e.pinned(t)
	for _, phase := range []mapping.WritePhase{mapping.WriteOff, mapping.WriteDual} {
		e.setWrite(t, phase)
		mustRefuse(t, c, `CREATE TEMPORARY TABLE users (id BIGINT PRIMARY KEY, full_name VARCHAR(200), email VARCHAR(200), visits INT)`, "temporary table")
		mustRefuse(t, c, "CREATE TEMPORARY TABLE IF NOT EXISTS `accounts` LIKE accounts", "temporary table")
		mustRefuse(t, c, `CREATE TEMPORARY TABLE memberships SELECT * FROM memberships`, "temporary table")
	}
	mustExecConn(t, c, `INSERT INTO users (id, full_name) VALUES (2, 'Alan Turing')`)
	if n := e.count("users"); n != 2 {
		t.Fatalf("users has %d rows, want 2", n)
	}
	e.checkInvariant()
}

// TestSQLiteQuotedNameDDL: ALTER TABLE of a mapped table named by a string
// literal is refused in the dual phase as the bare name is; run in the off
// phase it still makes the schema be checked again, so the dual writes
// after it are refused, naming the column the mapping misses.
func TestSQLiteQuotedNameDDL(t *testing.T) {
	e := sqliteBackend.open(t)
	mustExec(t, e.db, `INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x')`)
	c := e.pinned(t)
	mustRefuse(t, c, `ALTER TABLE 'users' RENAME COLUMN email TO mail`, "RENAME COLUMN")
	e.setWrite(t, mapping.WriteOff)
	mustExecConn(t, c, `ALTER TABLE 'users' RENAME COLUMN visits TO hits`)
	e.setWrite(t, mapping.WriteDual)
	_, err := c.ExecContext(context.Background(), `UPDATE users SET hits = 3 WHERE id = 1`)
	if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "visits") {
		t.Fatalf("a dual write after the rename: %v; want a refusal naming visits", err)
	}
	var hits int
	if err := e.raw.QueryRow(`SELECT hits FROM users WHERE id = 1`).Scan(&hits); err != nil || hits != 0 {
		t.Fatalf("users.hits = %d (%v): the refused write ran", hits, err)
	}
}

// TestTriggerOnTempTableRefused: a trigger created on a temporary table is
// temporary too, seen by its own connection only; on a connection that
// created a temporary table, CREATE TRIGGER is refused in every write
// phase unless its schema is named, so that no trigger on the temporary
// table writes users behind the mirror.
func TestTriggerOnTempTableRefused(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		mustExec(t, e.db, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')`)
		c := e.pinned(t)
		trigger := `CREATE TRIGGER bump AFTER INSERT ON scratch BEGIN UPDATE users SET visits = 9; END`
		temp := `CREATE TEMP TABLE scratch (id INTEGER)`
		switch {
		case b.name == "postgres":
			mustExecConn(t, c, `CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET visits = 9; RETURN NULL; END $$`)
			trigger = `CREATE TRIGGER bump AFTER INSERT ON scratch FOR EACH ROW EXECUTE FUNCTION bump()`
		case b.runs("mysql"):
			trigger = `CREATE TRIGGER bump AFTER INSERT ON scratch FOR EACH ROW UPDATE users SET visits = 9`
			temp = `CREATE TEMPORARY TABLE scratch (id INT)`
		}
		e.setWrite(t, mapping.WriteOff)
		if b.name == "sqlite" {
			// In one string, on a connection that had none before.
			mustRefuse(t, e.pinned(t), `CREATE TEMP TABLE other (id INTEGER); CREATE TRIGGER bump2 AFTER INSERT ON other BEGIN UPDATE users SET visits = 9; END`, "temporary table")
		}
		mustExecConn(t, c, temp)
		mustRefuse(t, c, trigger, "temporary table")
		e.setWrite(t, mapping.WriteDual)
		mustRefuse(t, c, trigger, "temporary table")
		mustExecConn(t, c, `INSERT INTO scratch (id) VALUES (1)`)
		var visits int
		if err := e.raw.QueryRow(`SELECT visits FROM users WHERE id = 1`).Scan(&visits); err != nil || visits != 0 {
			t.Fatalf("users.visits = %d (%v): a trigger on the temporary table ran", visits, err)
		}
		e.checkInvariant()
	})
}

// TestPostgresSelectIntoTemp: SELECT ... INTO TEMP creates a temporary
// table as CREATE TEMP TABLE does: one named like a mapped table is
// refused in every write phase, and after another one CREATE TRIGGER on
// the connection is refused, so that writes of users keep going to the
// mapped table and no trigger on the temporary table writes it.
func TestPostgresSelectIntoTemp(t *testing.T) {
	b := postgresBackend
	e := b.open(t)
	mustExec(t, e.db, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')`)
	c := e.pinned(t)
	mustExecConn(t, c, `CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET visits = 9; RETURN NULL; END $$`)
	for _, phase := range []mapping.WritePhase{mapping.WriteOff, mapping.WriteDual} {
		e.setWrite(t, phase)
		mustRefuse(t, c, `SELECT * INTO TEMP users FROM users`, "temporary table")
	}
	e.setWrite(t, mapping.WriteOff)
	mustExecConn(t, c, `SELECT 1 AS id INTO TEMP scratch`)
	mustRefuse(t, c, `CREATE TRIGGER bump AFTER INSERT ON scratch FOR EACH ROW EXECUTE FUNCTION bump()`, "temporary table")
	e.setWrite(t, mapping.WriteDual)
	mustExecConn(t, c, `INSERT INTO scratch (id) VALUES (2)`)
	mustExecConn(t, c, `INSERT INTO users (id, full_name) VALUES (2, 'Alan Turing')`)
	if n := e.count("users"); n != 2 {
		t.Fatalf("users has %d rows, want 2", n)
	}
	e.checkInvariant()
}
