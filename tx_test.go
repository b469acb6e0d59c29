package dualwrite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
)

func TestCallerTransactionRollbackUndoesBothSides(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Kept Row')")
		tx, err := e.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (2, 'Gone Row')")
		mustExec(t, tx, "UPDATE users SET visits = 5")
		mustExec(t, tx, "UPDATE users SET id = 3 WHERE id = 2")
		mustExec(t, tx, "DELETE FROM users WHERE id = 1")
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got := rows(t, e.raw, "SELECT id, visits FROM users"); len(got) != 1 || got[0][0] != int64(1) || got[0][1] != int64(0) {
			t.Fatalf("users after rollback = %v", got)
		}
		e.checkInvariant()
	})
}

// TestCallerTransactionCommitAndStatementErrors: a failing statement leaves
// the caller's transaction as the database would without the wrapper:
// usable on SQLite and MySQL, aborted on PostgreSQL.
func TestCallerTransactionCommitAndStatementErrors(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		for _, failing := range []string{
			"INSERT INTO users (id, full_name, email) VALUES (2, 'Dup Mail', 'a@x')",
			"UPDATE users SET id = 5, email = 'a@x' WHERE id = 4", // a key change, in steps
		} {
			mustExec(t, e.raw, "DELETE FROM users")
			mustExec(t, e.raw, "DELETE FROM accounts")
			tx, err := e.db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'a@x'), (4, 'Four Four', 'f@x')")
			if _, err := tx.Exec(failing); err == nil {
				t.Fatalf("%s: the duplicate email was accepted", failing)
			}
			_, err = tx.Exec("INSERT INTO users (id, full_name, email) VALUES (3, 'Alan Turing', 't@x')")
			if b.name == "postgres" {
				if sqlState(err) != "25P02" { // in_failed_sql_transaction
					t.Fatalf("after a failed statement: %v, want SQLSTATE 25P02", err)
				}
				if err := tx.Commit(); err == nil {
					t.Fatal("PostgreSQL committed an aborted transaction")
				}
				if n := e.count("accounts"); n != 0 {
					t.Fatalf("accounts has %d rows, want 0", n)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				if n := e.count("accounts"); n != 3 {
					t.Fatalf("accounts has %d rows, want 3", n)
				}
			}
			e.checkInvariant()
		}
	})
}

func TestSavepointsInsideCallerTransaction(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		ctx := context.Background()
		tx, err := e.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "SAVEPOINT a")
		mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (1, 'Rolled Back')")
		mustExec(t, tx, "UPDATE users SET id = 7 WHERE id = 1")
		mustExec(t, tx, "ROLLBACK TO SAVEPOINT a")
		mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (2, 'Kept Row')")
		mustExec(t, tx, "RELEASE SAVEPOINT a")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := rows(t, e.raw, "SELECT account_id FROM accounts"); len(got) != 1 || got[0][0] != int64(2) {
			t.Fatalf("accounts = %v, want only id 2", got)
		}
		e.checkInvariant()
	})
}

func TestPreparedStatementsAcrossConnections(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		e.db.SetMaxOpenConns(4)
		ins, err := e.db.Prepare(b.sql("INSERT INTO users (id, full_name, visits) VALUES (?, ?, ?)"))
		if err != nil {
			t.Fatal(err)
		}
		defer ins.Close()
		upd, err := e.db.Prepare(b.sql("UPDATE users SET visits = visits + 1 WHERE id = ?"))
		if err != nil {
			t.Fatal(err)
		}
		defer upd.Close()
		move, err := e.db.Prepare(b.sql("UPDATE users SET id = id + 1000 WHERE id = ?"))
		if err != nil {
			t.Fatal(err)
		}
		defer move.Close()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					id := g*100 + i + 1 // not 0: MySQL generates an AUTO_INCREMENT key for 0
					if _, err := ins.Exec(id, "Person Number", i); err != nil {
						errs <- err
						return
					}
					if _, err := upd.Exec(id); err != nil {
						errs <- err
						return
					}
					if i%5 == 0 {
						if _, err := move.Exec(id); err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		tx, err := e.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Stmt(upd).Exec(1); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := e.count("accounts WHERE account_id >= 1000"); n != 20 {
			t.Fatalf("accounts has %d moved rows, want 20", n)
		}
		if n := e.count("accounts"); n != 100 {
			t.Fatalf("accounts has %d rows, want 100", n)
		}
		e.checkInvariant()
	})
}

// TestSQLConn: on one connection, a transaction begun and ended in SQL text
// holds the dual writes too, and the writes after it, in autocommit, are
// still atomic (the connection no longer knows whether a transaction is
// open, and asks the database).
func TestSQLConn(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		ctx := context.Background()
		c, err := e.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, b.sql("INSERT INTO users (id, full_name) VALUES (?, ?)"), 1, "Conn Write"); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			"BEGIN", "INSERT INTO users (id, full_name) VALUES (2, 'In Sql Tx')", "UPDATE users SET id = 3 WHERE id = 1", "ROLLBACK",
			"UPDATE users SET id = 4 WHERE id = 1",
			"BEGIN", "UPDATE users SET id = 5 WHERE id = 4", "COMMIT",
			"UPDATE users SET id = 6 WHERE id = 5",
		} {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		err = c.Raw(func(dc any) error {
			u, ok := dc.(interface{ Unwrap() driver.Conn })
			if !ok {
				t.Fatalf("%T has no Unwrap", dc)
			}
			if _, ok := u.Unwrap().(driver.ExecerContext); !ok {
				t.Fatalf("Unwrap returned %T", u.Unwrap())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := rows(t, e.raw, "SELECT account_id FROM accounts"); len(got) != 1 || got[0][0] != int64(6) {
			t.Fatalf("accounts = %v, want only id 6", got)
		}
		e.checkInvariant()
	})
}

// TestIsolationLevels: dual writes (one statement, and a key change in
// steps) and comparisons in a caller's transaction at every isolation level
// the database offers.
func TestIsolationLevels(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		levels := []sql.IsolationLevel{sql.LevelDefault, sql.LevelSerializable}
		switch {
		case b.name == "postgres":
			levels = append(levels, sql.LevelReadCommitted, sql.LevelRepeatableRead)
		case b.runs("mysql"):
			levels = append(levels, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead)
		}
		reg := prometheus.NewRegistry()
		e := b.open(t, dualwrite.WithRegisterer(reg))
		seed(t, e)
		if err := e.sw.SetRead(mapping.ReadCompare, mapping.WriteDual); err != nil {
			t.Fatal(err)
		}
		for i, level := range levels {
			tx, err := e.db.BeginTx(context.Background(), &sql.TxOptions{Isolation: level})
			if err != nil {
				t.Fatalf("%s: %v", level, err)
			}
			id := 10 + i
			mustExec(t, tx, b.sql("INSERT INTO users (id, full_name) VALUES (?, 'Level Test')"), id)
			mustExec(t, tx, b.sql("UPDATE users SET visits = visits + 1 WHERE id = ?"), id)
			mustExec(t, tx, b.sql("UPDATE users SET id = id + 100 WHERE id = ?"), id)
			if _, err := query(t, tx, "SELECT * FROM users ORDER BY id"); err != nil {
				t.Fatalf("%s: %v", level, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatalf("%s: %v", level, err)
			}
			e.checkInvariant()
		}
		if n := e.count("accounts WHERE account_id >= 100"); n != len(levels) {
			t.Fatalf("%d moved rows, want %d", n, len(levels))
		}
		match := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "match"})
		if n := counterValue(t, reg, "dualwrite_read_compare_total", nil); match != float64(len(levels)) || n != match {
			t.Fatalf("%v comparisons matched of %v, want all %d", match, n, len(levels))
		}
	})
}

func TestQueryOfWriteWithoutReturning(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		rs, err := e.db.Query("INSERT INTO users (id, full_name) VALUES (1, 'Via Query')")
		if err != nil {
			t.Fatal(err)
		}
		if rs.Next() {
			t.Fatal("a write without RETURNING returned a row")
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		if err := rs.Close(); err != nil {
			t.Fatal(err)
		}
		var one sql.NullString
		err = e.db.QueryRow("INSERT INTO users (id, full_name) VALUES (2, 'Row Query') RETURNING full_name").Scan(&one)
		if b.name == "mariadb-noreturning" {
			// Without RETURNING on the server, the wrapper cannot add the
			// key to the caller's RETURNING list.
			if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "RETURNING") {
				t.Fatalf("QueryRow RETURNING without RETURNING on the server: %v, %v; want a refusal naming RETURNING", one, err)
			}
			if n := e.count("users"); n != 1 {
				t.Fatalf("users has %d rows after the refusal, want 1", n)
			}
		} else if err != nil || one.String != "Row Query" {
			t.Fatalf("QueryRow RETURNING = %v, %v", one, err)
		}
		e.checkInvariant()
	})
}

// TestSQLSavepointOutsideTransaction: on SQLite a SAVEPOINT sent outside a
// transaction opens one; a dual write after it joins that transaction, and
// the RELEASE commits both.
func TestSQLSavepointOutsideTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, q := range []string{"SAVEPOINT outer", "INSERT INTO users (id, full_name) VALUES (1, 'In Savepoint')", "RELEASE outer",
		"INSERT INTO users (id, full_name) VALUES (2, 'After It')"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if n := e.count("accounts"); n != 2 {
		t.Fatalf("accounts has %d rows, want 2", n)
	}
	e.checkInvariant()
}

// TestTransactionControlAfterAStatement: a string whose later statement
// opens a transaction leaves the connection in it, so that a dual write
// after it joins the caller's transaction and the caller's ROLLBACK undoes
// it on both sides.
func TestTransactionControlAfterAStatement(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		var e *env
		if b.runs("mysql") {
			// go-sql-driver/mysql sends a string of statements only with
			// multiStatements set.
			e = b.openWith(t, dbtest.Connector{DSN: withParam(b.dsn(t), "multiStatements=true"), Base: b.driver})
		} else {
			e = b.open(t)
		}
		mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x')")
		ctx := context.Background()
		c, err := e.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		mustExecConn(t, c, "SELECT 1; BEGIN")
		// A DELETE is mirrored in steps, in a transaction of its own when
		// the wrapper believes none is open.
		mustExecConn(t, c, "DELETE FROM users WHERE id = 2")
		mustExecConn(t, c, "ROLLBACK")
		if got := rows(t, e.raw, "SELECT id FROM users ORDER BY id"); len(got) != 2 {
			t.Fatalf("users after the caller's ROLLBACK = %v; want both rows back", got)
		}
		e.checkInvariant()
	})
}
