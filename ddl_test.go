package dualwrite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite"
)

// ordersDDL creates a table whose foreign key references users with ON
// DELETE CASCADE, and a trigger that writes users when an orders row is
// deleted: a delete of users then changes users through the cascade and
// the trigger, behind the mirror's back.
func (b backend) ordersDDL() (table, trigger []string) {
	table = []string{`CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id) ON DELETE CASCADE)`}
	trigger = []string{`CREATE TRIGGER orders_gone AFTER DELETE ON orders BEGIN UPDATE users SET visits = visits + 1 WHERE id = OLD.user_id; END`}
	switch {
	case b.name == "postgres":
		table = []string{`CREATE TABLE orders (id int PRIMARY KEY, user_id bigint REFERENCES users(id) ON DELETE CASCADE)`}
		trigger = []string{
			`CREATE FUNCTION orders_gone() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET visits = visits + 1 WHERE id = OLD.user_id; RETURN OLD; END $$`,
			`CREATE TRIGGER orders_gone AFTER DELETE ON orders FOR EACH ROW EXECUTE FUNCTION orders_gone()`,
		}
	case b.runs("mysql"):
		// users.id is a BIGINT, which a foreign key's column must be too.
		table = []string{`CREATE TABLE orders (id INT PRIMARY KEY, user_id BIGINT, FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE) ENGINE=InnoDB`}
		trigger = []string{`CREATE TRIGGER orders_gone AFTER DELETE ON orders FOR EACH ROW UPDATE users SET visits = visits + 1 WHERE id = OLD.user_id`}
	}
	return table, trigger
}

// TestAllowedDDLKeepsMirroring: in the dual phase, new indexes on mapped
// tables, CREATE TABLE IF NOT EXISTS of a mapped table and a new table
// whose cascading foreign key references users pass; dual writes go on
// afterwards and keep new = up(old), and a delete of users that cascades
// into the unmapped table is mirrored.
func TestAllowedDDLKeepsMirroring(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		mustExec(t, e.db, b.sql("INSERT INTO users (id, full_name, email) VALUES (?, ?, ?)"), 1, "Ada Lovelace", "ada@x")
		orders, _ := b.ordersDDL()
		ddl := append([]string{
			`CREATE INDEX users_visits ON users (visits)`,
			`CREATE UNIQUE INDEX IF NOT EXISTS accounts_email ON accounts (email_address)`,
			`CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY)`,
		}, orders...)
		for _, q := range ddl {
			mustExec(t, e.db, q)
		}
		mustExec(t, e.db, b.sql("INSERT INTO users (id, full_name, email) VALUES (?, ?, ?)"), 2, "Alan Turing", "alan@x")
		mustExec(t, e.db, b.sql("INSERT INTO orders (id, user_id) VALUES (?, ?)"), 10, 2)
		mustExec(t, e.db, b.sql("UPDATE users SET visits = visits + 1, full_name = ? WHERE id = ?"), "Ada King", 1)
		mustExec(t, e.db, b.sql("DELETE FROM users WHERE id = ?"), 2)
		if n := e.count("orders"); n != 0 && b.name != "sqlite" { // go-sqlite3 leaves foreign keys off by default
			t.Fatalf("the cascade left %d orders rows", n)
		}
		if n := e.count("accounts"); n != 1 {
			t.Fatalf("accounts has %d rows, want 1", n)
		}
		e.checkInvariant()
	})
}

// TestDDLGuardsEveryConnection: a trigger added through one connection of
// the pool, with a cascading foreign key into its table, makes the dual
// writes it would change refused on another connection that had already
// planned them, naming the foreign key or the trigger; nothing is written.
func TestDDLGuardsEveryConnection(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		e.db.SetMaxOpenConns(2)
		ctx := context.Background()
		c1, c2 := e.pinned(t), e.pinned(t)
		del := b.sql("DELETE FROM users WHERE id = ?")
		mustExecConn(t, c2, b.sql("INSERT INTO users (id, full_name) VALUES (?, ?)"), 1, "Ada Lovelace")
		mustExecConn(t, c2, b.sql("INSERT INTO users (id, full_name) VALUES (?, ?)"), 2, "Alan Turing")
		mustExecConn(t, c2, del, 2) // planned and cached on c2 before the change
		orders, trigger := b.ordersDDL()
		for _, q := range append(orders, trigger...) {
			mustExecConn(t, c1, q)
		}
		mustExecConn(t, c1, b.sql("INSERT INTO orders (id, user_id) VALUES (?, ?)"), 10, 1)

		_, err := c2.ExecContext(ctx, del, 1)
		if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "orders(user_id) -> users ON DELETE CASCADE") {
			t.Fatalf("DELETE of users on the other connection: %v; want a refusal naming the foreign key", err)
		}
		if _, err := c2.ExecContext(ctx, "DELETE FROM orders"); !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "orders_gone") {
			t.Fatalf("DELETE of orders: %v; want a refusal naming the trigger", err)
		}
		if e.count("users") != 1 || e.count("orders") != 1 {
			t.Fatalf("a refused statement wrote: %d users, %d orders", e.count("users"), e.count("orders"))
		}
		// Writes the trigger does not change are still mirrored.
		mustExecConn(t, c2, b.sql("UPDATE users SET full_name = ? WHERE id = ?"), "Ada King", 1)
		e.checkInvariant()
	})
}

// TestPostgresForeignKeyIntoMappedTable: a cascading foreign key added to
// a mapped table (memberships -> users ON DELETE CASCADE) makes a delete of
// users, which would delete memberships rows unmirrored, refused on every
// connection.
func TestPostgresForeignKeyIntoMappedTable(t *testing.T) {
	b := postgresBackend
	e := b.open(t)
	e.db.SetMaxOpenConns(2)
	ctx := context.Background()
	c1, c2 := e.pinned(t), e.pinned(t)
	mustExecConn(t, c2, "INSERT INTO users (id, full_name) VALUES ($1, $2)", 1, "Ada Lovelace")
	mustExecConn(t, c2, "INSERT INTO memberships (org_id, user_id, role) VALUES (1, 1, 'admin')")
	mustExecConn(t, c1, "ALTER TABLE memberships ADD CONSTRAINT m_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE")
	_, err := c2.ExecContext(ctx, "DELETE FROM users WHERE id = $1", 1)
	if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "m_user") {
		t.Fatalf("DELETE of users: %v; want a refusal naming the foreign key", err)
	}
	if e.count("users") != 1 || e.count("members") != 1 {
		t.Fatalf("a refused statement wrote: %d users, %d members", e.count("users"), e.count("members"))
	}
	e.checkInvariant()
}

// TestRefusedDDLLeavesSchema: changes of a mapped table's columns, key or
// existence are refused before they run, naming the change; the schema is
// as it was and dual writes go on.
func TestRefusedDDLLeavesSchema(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		before := columns(t, e.raw, b, "users")
		for _, q := range []string{
			`ALTER TABLE users ADD COLUMN age INTEGER`,
			`ALTER TABLE accounts ADD COLUMN age INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE users DROP COLUMN email`,
			`ALTER TABLE users RENAME COLUMN email TO mail`,
			`ALTER TABLE users RENAME TO people`,
			`DROP TABLE accounts`,
			`CREATE TABLE users (id INTEGER PRIMARY KEY)`,
		} {
			_, err := e.db.Exec(q)
			if !errors.Is(err, dualwrite.ErrUnsupported) {
				t.Errorf("%s: %v, want ErrUnsupported", q, err)
			}
		}
		if after := columns(t, e.raw, b, "users"); !reflect.DeepEqual(before, after) {
			t.Fatalf("users changed: %v, then %v", before, after)
		}
		if n := e.count("accounts"); n != 0 {
			t.Fatalf("accounts has %d rows", n)
		}
		mustExec(t, e.db, b.sql("INSERT INTO users (id, full_name) VALUES (?, ?)"), 1, "Ada Lovelace")
		e.checkInvariant()
	})
}

// TestDDLBreakingTheMapping: a trigger on a new table that writes to a
// mapped table makes its mapping invalid: the check after it refuses the
// entry's dual writes naming the trigger, the other entry goes on, and
// dropping the trigger through the wrapper resumes them.
func TestDDLBreakingTheMapping(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		create := []string{`CREATE TRIGGER accounts_touch AFTER INSERT ON accounts BEGIN UPDATE memberships SET role = role; END`}
		drop := `DROP TRIGGER accounts_touch`
		switch {
		case b.name == "postgres":
			create = []string{
				`CREATE FUNCTION accounts_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE memberships SET role = role; RETURN NULL; END $$`,
				`CREATE TRIGGER accounts_touch AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_touch()`,
			}
			drop = `DROP TRIGGER accounts_touch ON accounts`
		case b.runs("mysql"):
			create = []string{`CREATE TRIGGER accounts_touch AFTER INSERT ON accounts FOR EACH ROW UPDATE memberships SET role = role`}
		}
		ins := b.sql("INSERT INTO users (id, full_name) VALUES (?, ?)")
		mustExec(t, e.db, ins, 1, "Ada Lovelace")
		for _, q := range create {
			mustExec(t, e.db, q)
		}
		_, err := e.db.Exec(ins, 2, "Alan Turing")
		if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "accounts_touch") || !strings.Contains(err.Error(), "users -> accounts") {
			t.Fatalf("INSERT INTO users after the trigger: %v; want a refusal naming the trigger and the mapping", err)
		}
		if n := e.count("users"); n != 1 {
			t.Fatalf("a refused write ran: %d users", n)
		}
		mustExec(t, e.db, "INSERT INTO memberships (org_id, user_id, role) VALUES (1, 1, 'admin')")
		mustExec(t, e.db, drop)
		mustExec(t, e.db, ins, 2, "Alan Turing")
		e.checkInvariant()
	})
}

// TestDDLInTransaction: a trigger created inside a transaction guards its
// table for the transaction's own statements at once; after a rollback
// nothing of it stays (the statement it refused passes), and after a
// commit every connection refuses it, also one that checked the schema
// while the transaction was open. In MySQL a schema change commits the
// transaction it is in: the trigger, and the dual write before it, stay
// after a rollback too.
func TestDDLInTransaction(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		trigger := []string{`CREATE TRIGGER audit_touch AFTER INSERT ON audit BEGIN UPDATE users SET visits = visits + 1; END`}
		switch {
		case b.name == "postgres":
			trigger = []string{
				`CREATE FUNCTION audit_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET visits = visits + 1; RETURN NULL; END $$`,
				`CREATE TRIGGER audit_touch AFTER INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_touch()`,
			}
		case b.runs("mysql"):
			trigger = []string{`CREATE TRIGGER audit_touch AFTER INSERT ON audit FOR EACH ROW UPDATE users SET visits = visits + 1`}
		}
		ins := b.sql("INSERT INTO audit (id, msg) VALUES (?, ?)")
		insUser := b.sql("INSERT INTO users (id, full_name) VALUES (?, ?)")
		mustExec(t, e.db, insUser, 1, "Ada Lovelace")
		for i, commit := range []bool{false, true} {
			tx, err := e.db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx, insUser, 100+i, "In Transaction")
			for _, q := range trigger {
				mustExec(t, tx, q)
			}
			if _, err := tx.Exec(ins, 10+i, "x"); !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "audit_touch") {
				t.Fatalf("INSERT INTO audit in the transaction: %v; want a refusal naming the trigger", err)
			}
			// Another connection checks the schema while the change is
			// not committed, and must check it again after the commit.
			rows(t, e.db, "SELECT count(*) FROM audit")
			if commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			stays := commit || b.runs("mysql")
			_, err = e.db.Exec(ins, 20+i, "y")
			switch {
			case !stays && err != nil:
				t.Fatalf("INSERT INTO audit after the rollback: %v", err)
			case stays && !errors.Is(err, dualwrite.ErrUnsupported):
				t.Fatalf("INSERT INTO audit after the commit (commit: %v): %v; want a refusal", commit, err)
			}
			if n := e.count(fmt.Sprintf("users WHERE id = %d", 100+i)); n != 1 && stays || n != 0 && !stays {
				t.Fatalf("the transaction's dual write left %d rows (commit: %v)", n, commit)
			}
			if b.runs("mysql") {
				mustExec(t, e.db, "DROP TRIGGER audit_touch") // for the next round's CREATE
			}
		}
		if got := rows(t, e.raw, "SELECT visits FROM users WHERE id = 1")[0][0]; got != int64(0) {
			t.Fatalf("the trigger ran: visits = %v", got)
		}
		e.checkInvariant()
	})
}

func mustExecConn(t testing.TB, c *sql.Conn, q string, args ...any) {
	t.Helper()
	if _, err := c.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// columns returns a table's column names, read through the base driver.
func columns(t testing.TB, db *sql.DB, b backend, table string) []any {
	t.Helper()
	q := "SELECT name FROM pragma_table_info('" + table + "') ORDER BY cid"
	switch {
	case b.name == "postgres":
		q = "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '" + table + "' ORDER BY ordinal_position"
	case b.runs("mysql"):
		q = "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" + table + "' ORDER BY ORDINAL_POSITION"
	}
	var out []any
	for _, r := range rows(t, db, q) {
		out = append(out, r[0])
	}
	if len(out) == 0 {
		t.Fatalf("%s has no columns", table)
	}
	return out
}

// TestPostgresDDLInAbortedTransaction: a schema change in a transaction
// begun in SQL text, then a failed schema change that aborts the transaction:
// the ROLLBACK still reaches the server (the check of the transaction's
// schema cannot run in it, and is not needed), and nothing of the change
// stays.
func TestPostgresDDLInAbortedTransaction(t *testing.T) {
	e := postgresBackend.open(t)
	ctx := context.Background()
	c, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustExecConn(t, c, "BEGIN")
	mustExecConn(t, c, `CREATE FUNCTION audit_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET visits = visits + 1; RETURN NULL; END $$`)
	mustExecConn(t, c, `CREATE TRIGGER audit_touch AFTER INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_touch()`)
	if _, err := c.ExecContext(ctx, "INSERT INTO audit (id, msg) VALUES (1, 'x')"); !errors.Is(err, dualwrite.ErrUnsupported) {
		t.Fatalf("INSERT INTO audit in the transaction: %v; want a refusal", err)
	}
	// A failed schema change: the schema must be checked again, and the
	// transaction is aborted.
	if _, err := c.ExecContext(ctx, "CREATE INDEX nope ON no_such_table (x)"); err == nil {
		t.Fatal("CREATE INDEX on a missing table did not fail")
	}
	mustExecConn(t, c, "ROLLBACK")
	mustExecConn(t, c, "INSERT INTO audit (id, msg) VALUES (2, 'y')")
	if n := e.count("audit"); n != 1 {
		t.Fatalf("audit has %d rows, want 1", n)
	}
}
