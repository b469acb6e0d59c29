package dualwrite_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"testing"
)

func TestCallerTransactionRollbackUndoesBothSides(t *testing.T) {
	e := newEnv(t)
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Kept Row')")
	tx, err := e.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (2, 'Gone Row')")
	mustExec(t, tx, "UPDATE users SET visits = 5")
	mustExec(t, tx, "DELETE FROM users WHERE id = 1")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, e.raw, "SELECT id, visits FROM users"); len(got) != 1 || got[0][0] != int64(1) || got[0][1] != int64(0) {
		t.Fatalf("users after rollback = %v", got)
	}
	e.checkInvariant()
}

func TestCallerTransactionCommitAndStatementErrors(t *testing.T) {
	e := newEnv(t)
	tx, err := e.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'a@x')")
	// A failing statement leaves the transaction usable, as it does without the wrapper.
	if _, err := tx.Exec("INSERT INTO users (id, full_name, email) VALUES (2, 'Dup Mail', 'a@x')"); err == nil {
		t.Fatal("duplicate email was accepted")
	}
	mustExec(t, tx, "INSERT INTO users (id, full_name, email) VALUES (3, 'Alan Turing', 't@x')")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := e.count("accounts"); n != 2 {
		t.Fatalf("accounts has %d rows, want 2", n)
	}
	e.checkInvariant()
}

func TestSavepointsInsideCallerTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "SAVEPOINT a")
	mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (1, 'Rolled Back')")
	mustExec(t, tx, "ROLLBACK TO a")
	mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (2, 'Kept Row')")
	mustExec(t, tx, "RELEASE a")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, e.raw, "SELECT account_id FROM accounts"); len(got) != 1 || got[0][0] != int64(2) {
		t.Fatalf("accounts = %v, want only id 2", got)
	}
	e.checkInvariant()
}

func TestPreparedStatementsAcrossConnections(t *testing.T) {
	e := newEnv(t)
	e.db.SetMaxOpenConns(4)
	ins, err := e.db.Prepare("INSERT INTO users (id, full_name, visits) VALUES (?, ?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	upd, err := e.db.Prepare("UPDATE users SET visits = visits + 1 WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer upd.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				id := g*100 + i
				if _, err := ins.Exec(id, "Person Number", i); err != nil {
					errs <- err
					return
				}
				if _, err := upd.Exec(id); err != nil {
					errs <- err
					return
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
	if n := e.count("accounts"); n != 100 {
		t.Fatalf("accounts has %d rows, want 100", n)
	}
	e.checkInvariant()
}

func TestSQLConn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, err := e.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "INSERT INTO users (id, full_name) VALUES (?, ?)", 1, "Conn Write"); err != nil {
		t.Fatal(err)
	}
	// A transaction begun in SQL on the same connection holds the dual write too.
	for _, q := range []string{"BEGIN", "INSERT INTO users (id, full_name) VALUES (2, 'In Sql Tx')", "ROLLBACK"} {
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
	if n := e.count("accounts"); n != 1 {
		t.Fatalf("accounts has %d rows, want 1", n)
	}
	e.checkInvariant()
}

func TestQueryOfWriteWithoutReturning(t *testing.T) {
	e := newEnv(t)
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
	if err := e.db.QueryRow("INSERT INTO users (id, full_name) VALUES (2, 'Row Query') RETURNING full_name").Scan(&one); err != nil || one.String != "Row Query" {
		t.Fatalf("QueryRow RETURNING = %v, %v", one, err)
	}
	e.checkInvariant()
}
