package dualwrite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/txn"
)

// mysqlEnv opens the shared suites' MariaDB database with extra DSN
// parameters (session variables the driver sets on each connection).
func mysqlEnv(t *testing.T, b backend, params ...string) *env {
	t.Helper()
	dsn := mytest.WithParams(b.dsn(t), params...)
	return b.openWith(t, dbtest.Connector{DSN: dsn, Base: b.driver})
}

// TestMySQLDeadlock: two transactions through the wrapper lock users rows
// in opposite orders. The server rolls one back with a deadlock (1213),
// at its statement or at its mirror: that caller gets the server's error
// itself, nothing of its transaction is left, the other commits, new =
// up(old) holds, and the victim's connection runs the next transaction.
func TestMySQLDeadlock(t *testing.T) {
	for _, b := range []backend{mysqlBackend, mysqlNoReturningBackend} {
		t.Run(b.name, func(t *testing.T) {
			e := b.open(t)
			ctx := context.Background()
			mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x')")
			c1, c2 := e.pinned(t), e.pinned(t)
			tx1, err := c1.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			tx2, err := c2.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx1, "UPDATE users SET visits = visits + 1 WHERE id = 1")
			mustExec(t, tx2, "UPDATE users SET visits = visits + 10 WHERE id = 2")
			mustExec(t, tx2, "INSERT INTO users (id, full_name) VALUES (3, 'Only Tx Two')")
			errs := make(chan error, 2)
			go func() {
				_, err := tx1.Exec("UPDATE users SET visits = visits + 1 WHERE id = 2")
				errs <- err
			}()
			time.Sleep(200 * time.Millisecond) // tx1 waits for tx2's lock on 2
			_, err2 := tx2.Exec("UPDATE users SET visits = visits + 10 WHERE id = 1")
			err1 := <-errs
			var victim *sql.Tx
			var verr error
			switch {
			case err1 != nil && err2 == nil:
				victim, verr = tx1, err1
				if err := tx2.Commit(); err != nil {
					t.Fatal(err)
				}
			case err2 != nil && err1 == nil:
				victim, verr = tx2, err2
				if err := tx1.Commit(); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("want one deadlock victim; got %v and %v", err1, err2)
			}
			var me *mysql.MySQLError
			if !errors.As(verr, &me) || me.Number != 1213 {
				t.Fatalf("the victim got %v (%T), want the server's deadlock error 1213", verr, verr)
			}
			if _, ok := verr.(*mysql.MySQLError); !ok { //nolint:errorlint // the server's error itself, not one wrapping it
				t.Fatalf("the victim got %T wrapping the deadlock, want the server's error itself", verr)
			}
			_ = victim.Rollback()
			e.checkInvariant()
			var n int
			if err := e.raw.QueryRow("SELECT COUNT(*) FROM users WHERE id = 3").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 0, false: 1}[victim == tx2]; n != want {
				t.Fatalf("users has %d rows of id 3 (written by tx2 only), want %d", n, want)
			}
			// The victim's connection is whole: a new transaction dual-writes.
			vc := map[bool]*sql.Conn{true: c1, false: c2}[victim == tx1]
			tx, err := vc.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (4, 'After The Deadlock')")
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if got := e.count("accounts"); got < 3 {
				t.Fatalf("accounts has %d rows, want the new row mirrored", got)
			}
			e.checkInvariant()
		})
	}
}

// TestMySQLLockWaitTimeout: a dual write that waits longer than
// innodb_lock_wait_timeout fails with the server's 1205, which rolls back
// the statement only: the caller's transaction keeps its earlier writes,
// mirrored, and commits them.
func TestMySQLLockWaitTimeout(t *testing.T) {
	for _, b := range []backend{mysqlBackend, mysqlNoReturningBackend} {
		t.Run(b.name, func(t *testing.T) {
			e := mysqlEnv(t, b, "innodb_lock_wait_timeout", "1")
			ctx := context.Background()
			mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x')")
			holder, err := e.pinned(t).BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, holder, "UPDATE users SET visits = 1 WHERE id = 1")
			tx, err := e.pinned(t).BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (3, 'Before The Wait')")
			_, err = tx.Exec("UPDATE users SET visits = 2 WHERE id IN (1, 2)")
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1205 {
				t.Fatalf("got %v, want the server's lock wait timeout 1205", err)
			}
			mustExec(t, tx, "UPDATE users SET visits = 3 WHERE id = 2")
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := holder.Commit(); err != nil {
				t.Fatal(err)
			}
			got := dbtest.Rows(t, e.raw, "SELECT id, visits FROM users ORDER BY id")
			if want := [][]any{{int64(1), int64(1)}, {int64(2), int64(3)}, {int64(3), int64(0)}}; !equalRows(got, want) {
				t.Fatalf("users = %v, want %v", got, want)
			}
			e.checkInvariant()
		})
	}
}

// equalRows compares rows of integers whatever their Go integer types.
func equalRows(got, want [][]any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			return false
		}
		for j := range got[i] {
			if fmtInt(got[i][j]) != fmtInt(want[i][j]) {
				return false
			}
		}
	}
	return true
}

func fmtInt(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// TestMySQLKeyChange: a key-changing UPDATE's new keys are computed by its
// pre-select; where the column stores another value than the expression
// computes (a rounded number), the check after the UPDATE fails the write
// and nothing is written, rather than mirror the wrong key.
func TestMySQLKeyChange(t *testing.T) {
	for _, b := range []backend{mysqlBackend, mysqlNoReturningBackend} {
		t.Run(b.name, func(t *testing.T) {
			e := b.open(t)
			mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x'), (3, 'Grace Hopper', 'grace@x')")
			mustExec(t, e.db, "INSERT INTO memberships (org_id, user_id, role) VALUES (1, 1, 'a'), (1, 2, 'b'), (2, 1, 'c')")
			for _, q := range []string{
				"UPDATE users SET id = id + 10 WHERE id < 3 ORDER BY id DESC",
				"UPDATE users SET full_name = CONCAT(full_name, '!'), id = ? * 100 + id WHERE email = ?",
				"UPDATE memberships SET user_id = IF(org_id = 1, user_id + 1, user_id) ORDER BY user_id DESC",
				"UPDATE memberships SET role = 'x', org_id = org_id * 10 WHERE role <> 'x' LIMIT 2",
			} {
				var args []any
				if strings.Contains(q, "?") {
					args = []any{7, "grace@x"}
				}
				mustExec(t, e.db, q, args...)
				e.checkInvariant()
			}
			if n := e.count("accounts"); n != 3 {
				t.Fatalf("accounts has %d rows, want 3", n)
			}
			before := dbtest.Rows(t, e.raw, "SELECT id FROM users ORDER BY id")
			_, err := e.db.Exec("UPDATE users SET id = id + 0.5 WHERE id = 703")
			if err == nil || !strings.Contains(err.Error(), "name 0 rows after it, not 1") {
				t.Fatalf("a rounded new key: got %v, want the key check's error", err)
			}
			if after := dbtest.Rows(t, e.raw, "SELECT id FROM users ORDER BY id"); !reflect.DeepEqual(after, before) {
				t.Fatalf("users ids %v after the failed write, want %v", after, before)
			}
			e.checkInvariant()
		})
	}
}

// TestMySQLKeyChangeAfterSnapshot: at REPEATABLE READ a key-changing
// UPDATE that leaves the key as it was (SET id = id + 0) of a row
// committed after the transaction's snapshot passes the check of its new
// keys, which reads the latest rows, not the snapshot that lacks the row.
func TestMySQLKeyChangeAfterSnapshot(t *testing.T) {
	for _, b := range []backend{mysqlBackend, mysqlNoReturningBackend} {
		t.Run(b.name, func(t *testing.T) {
			e := b.open(t)
			ctx := context.Background()
			tx, err := e.pinned(t).BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			var n int
			if err := tx.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil { // the snapshot
				t.Fatal(err)
			}
			mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (7, 'After Snapshot')")
			for _, d := range []int{0, 10} {
				if _, err := tx.Exec("UPDATE users SET id = id + ? WHERE id = ?", d, 7); err != nil {
					t.Fatalf("SET id = id + %d: %v", d, err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			got := dbtest.Rows(t, e.raw, "SELECT id FROM users")
			if want := [][]any{{int64(17)}}; !equalRows(got, want) {
				t.Fatalf("users ids %v, want %v", got, want)
			}
			e.checkInvariant()
		})
	}
}

// TestMySQLNewPhaseUsesIndexes: in the new phase a filter on a renamed key
// or an indexed renamed column is served by the new table's index
// (MariaDB merges the derived table into the query), shown with EXPLAIN.
func TestMySQLNewPhaseUsesIndexes(t *testing.T) {
	e := mysqlBackend.open(t)
	mustExec(t, e.raw, "INSERT INTO users (id, full_name, email) SELECT seq, CONCAT('Person ', seq), CONCAT('p', seq, '@x') FROM seq_1_to_5000")
	mustExec(t, e.raw, "INSERT INTO accounts SELECT id, email, SUBSTRING_INDEX(full_name, ' ', 1), SUBSTRING(full_name, CHAR_LENGTH(SUBSTRING_INDEX(full_name, ' ', 1)) + 2), visits FROM users")
	mustExec(t, e.raw, "ANALYZE TABLE accounts")
	if err := e.sw.SetRead(mapping.ReadNew, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	p := rewrite.NewPlanner(rewrite.MySQL, e.m, &rewrite.Schema{}, 10)
	for _, c := range []struct{ query, index string }{
		{"SELECT * FROM users WHERE id = 42", "PRIMARY"},
		{"SELECT u.full_name FROM users u WHERE u.email = 'p42@x'", "accounts_email_address"},
	} {
		r, err := query(t, e.db, c.query)
		if err != nil || len(r.Rows) != 1 {
			t.Fatalf("%s: %+v, %v", c.query, r, err)
		}
		// EXPLAIN of the statement the new phase runs: the caller's query
		// with the derived table, as the wrapper builds it.
		plan, _ := p.Plan(c.query)
		if plan.Read == nil {
			t.Fatalf("%s: no read plan (%v)", c.query, plan.Err)
		}
		rs, err := e.raw.Query("EXPLAIN " + plan.Read.NewQuery) //nolint:rowserrcheck // dbtest.Scan checks rs.Err
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rs.Columns()
		if err != nil {
			t.Fatal(err)
		}
		out := dbtest.Scan(t, rs)
		var lines []string
		used := false
		for _, row := range out {
			lines = append(lines, fmt.Sprint(row))
			for i, col := range cols {
				if col == "key" && row[i] == c.index {
					used = true
				}
			}
		}
		if !used || len(out) != 1 {
			t.Fatalf("%s in the new phase does not read accounts by %s alone:\n%s", c.query, c.index, strings.Join(lines, "\n"))
		}
	}
}

// TestMySQLMirrorConflict: the mirror's ON DUPLICATE KEY UPDATE fires on
// any unique key of the new table. Where it meets the new row of another
// key (a stale row of accounts with the same email_address), the write
// fails with ErrMirrorConflict, nothing is written, and that other row is
// left as it was, rather than overwritten or the write silently skipped.
func TestMySQLMirrorConflict(t *testing.T) {
	for _, b := range []backend{mysqlBackend, mysqlNoReturningBackend} {
		t.Run(b.name, func(t *testing.T) {
			e := b.open(t)
			mustExec(t, e.raw, "INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (99, 'ada@x', 'Stale', 'Row')")
			stale := dbtest.Rows(t, e.raw, "SELECT * FROM accounts ORDER BY account_id")
			for _, q := range []string{
				"INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x')",
				"INSERT INTO users (full_name, email) VALUES ('Ada Lovelace', 'ada@x')",
			} {
				_, err := e.db.Exec(q)
				if !errors.Is(err, dualwrite.ErrMirrorConflict) {
					t.Fatalf("%s: got %v, want ErrMirrorConflict", q, err)
				}
				if n := e.count("users"); n != 0 {
					t.Fatalf("%s: users has %d rows after the failed write", q, n)
				}
				if got := dbtest.Rows(t, e.raw, "SELECT * FROM accounts ORDER BY account_id"); !reflect.DeepEqual(got, stale) {
					t.Fatalf("%s: accounts = %v, want the stale row untouched: %v", q, got, stale)
				}
			}
			// In a transaction, the failed write leaves the caller's
			// earlier writes, and the transaction goes on.
			tx, err := e.db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx, "INSERT INTO users (id, full_name, email) VALUES (2, 'Alan Turing', 'alan@x')")
			if _, err := tx.Exec("UPDATE users SET email = 'ada@x' WHERE id = 2"); !errors.Is(err, dualwrite.ErrMirrorConflict) {
				t.Fatalf("UPDATE onto the stale row's email: got %v, want ErrMirrorConflict", err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			got := dbtest.Rows(t, e.raw, "SELECT id, email FROM users")
			if len(got) != 1 || fmtInt(got[0][1]) != "alan@x" {
				t.Fatalf("users = %v, want the row of id 2 with its first email", got)
			}
			mustExec(t, e.raw, "DELETE FROM accounts WHERE account_id = 99")
			e.checkInvariant()

			// In the write phase both the mirror writes users, whose key is
			// AUTO_INCREMENT (where MySQL stores 0 for a NULL): a stale
			// users row with the same email is left as it was too.
			if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
				t.Fatal(err)
			}
			mustExec(t, e.raw, "INSERT INTO users (id, full_name, email) VALUES (99, 'Stale Row', 'grace@x')")
			stale = dbtest.Rows(t, e.raw, "SELECT * FROM users ORDER BY id")
			if _, err := e.db.Exec("INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (3, 'grace@x', 'Grace', 'Hopper')"); !errors.Is(err, dualwrite.ErrMirrorConflict) {
				t.Fatalf("a reverse mirror onto the stale users row: got %v, want ErrMirrorConflict", err)
			}
			if got := dbtest.Rows(t, e.raw, "SELECT * FROM users ORDER BY id"); !reflect.DeepEqual(got, stale) {
				t.Fatalf("users = %v, want the stale row untouched: %v", got, stale)
			}
		})
	}
}

// TestMySQLInsertTrigger: a BEFORE INSERT trigger may change the key a
// MySQL INSERT names, which the mirror reads from the statement: INSERTs
// on such a table are refused, nothing written; other writes go on.
func TestMySQLInsertTrigger(t *testing.T) {
	e := mysqlBackend.open(t)
	mustExec(t, e.raw, "CREATE TRIGGER users_shift BEFORE INSERT ON users FOR EACH ROW SET NEW.id = NEW.id + 1000")
	_, err := e.db.Exec("INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "users_shift") {
		t.Fatalf("got %v, want ErrUnsupported naming the trigger", err)
	}
	if n := e.count("users"); n != 0 {
		t.Fatalf("users has %d rows after the refused INSERT", n)
	}
	mustExec(t, e.raw, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	mustExec(t, e.raw, "INSERT INTO accounts (account_id, first_name, last_name) VALUES (1001, 'Ada', 'Lovelace')")
	mustExec(t, e.db, "UPDATE users SET visits = 5 WHERE id = 1001")
	e.checkInvariant()
}

// TestMySQLSessionChecks: a connection whose session the wrapper cannot
// read statements in, or whose settings would change what its own
// statements do, fails to connect, naming the setting.
func TestMySQLSessionChecks(t *testing.T) {
	for _, c := range []struct{ name, value, want string }{
		{"sql_mode", "'ANSI_QUOTES,STRICT_TRANS_TABLES'", "ANSI_QUOTES"},
		{"sql_mode", "'ANSI'", "ANSI_QUOTES"},
		{"sql_mode", "'NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES'", "NO_BACKSLASH_ESCAPES"},
		{"sql_mode", "''", "STRICT_TRANS_TABLES"},
		{"autocommit", "0", "autocommit"},
		{"sql_select_limit", "10", "sql_select_limit"},
		{"sql_safe_updates", "1", "sql_safe_updates"},
		{"charset", "gbk", "character_set_client"},
	} {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			b := mysqlBackend
			e := b.openWith(t, dbtest.Connector{DSN: mytest.WithParams(b.dsn(t), c.name, c.value), Base: b.driver})
			_, err := e.db.Exec("INSERT INTO audit (id, msg) VALUES (1, 'x')")
			if !errors.Is(err, dualwrite.ErrSchemaMismatch) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrSchemaMismatch naming %s", err, c.want)
			}
		})
	}
}

// TestMySQLZeroKey: MySQL stores a generated key where 0 is inserted into
// an AUTO_INCREMENT column, unless sql_mode has NO_AUTO_VALUE_ON_ZERO. A
// mirror that would write key 0 into one (users.id, in the write phase
// both) fails, nothing written; with NO_AUTO_VALUE_ON_ZERO it writes 0.
func TestMySQLZeroKey(t *testing.T) {
	for _, c := range []struct {
		mode string
		ok   bool
	}{{"'STRICT_TRANS_TABLES'", false}, {"'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO'", true}} {
		t.Run(c.mode, func(t *testing.T) {
			b := mysqlBackend
			e := b.openWith(t, dbtest.Connector{DSN: mytest.WithParams(b.dsn(t), "sql_mode", c.mode), Base: b.driver})
			if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
				t.Fatal(err)
			}
			_, err := e.db.Exec("INSERT INTO accounts (account_id, first_name, last_name) VALUES (0, 'Zero', 'Key')")
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				if got := dbtest.Rows(t, e.raw, "SELECT id FROM users"); len(got) != 1 || fmtInt(got[0][0]) != "0" {
					t.Fatalf("users ids %v, want [0]", got)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), "NO_AUTO_VALUE_ON_ZERO") {
					t.Fatalf("got %v, want the mirror's refusal of key 0", err)
				}
				if n := e.count("accounts") + e.count("users"); n != 0 {
					t.Fatalf("%d rows written", n)
				}
				// An UPDATE by key 0, which names no row, is no error.
				mustExec(t, e.db, "UPDATE accounts SET first_name = 'Nobody' WHERE account_id = 0")
			}
			e.checkInvariant()
		})
	}
}

// TestMySQLPointUpdateLocksTheRow: an UPDATE whose WHERE names the key runs
// as written, and its mirror sets the new row of that key from the old row,
// which it reads locked. At READ COMMITTED an UPDATE that matches nothing
// leaves the row unlocked, and another transaction may have changed the
// row and its new row without committing yet: the mirror waits for it and
// writes up() of the row it committed, not of the snapshot before. (The
// UPDATE's FALSE keeps it from reading the row at all, as where it scans
// another index and its semi-consistent read skips a locked row.)
func TestMySQLPointUpdateLocksTheRow(t *testing.T) {
	for _, b := range []backend{mysqlBackend, mysqlNoReturningBackend} {
		t.Run(b.name, func(t *testing.T) {
			e := b.open(t)
			ctx := context.Background()
			mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x')")
			rc := &sql.TxOptions{Isolation: sql.LevelReadCommitted}
			other, err := e.pinned(t).BeginTx(ctx, rc)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, other, "UPDATE users SET visits = 100 WHERE id = 1")
			tx, err := e.pinned(t).BeginTx(ctx, rc)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := tx.Exec("UPDATE users SET visits = 5 WHERE id = ? AND FALSE", 1)
				done <- err
			}()
			mytest.WaitLockWait(t, e.raw, done) // the mirror waits for other's lock
			if err := other.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			got := dbtest.Rows(t, e.raw, "SELECT visits FROM accounts WHERE account_id = 1")
			if want := [][]any{{int64(100)}}; !equalRows(got, want) {
				t.Fatalf("accounts.visits = %v, want %v", got, want)
			}
			e.checkInvariant()
		})
	}
}

// TestMySQLBlock: on MariaDB a point UPDATE outside a transaction is one
// compound statement, one client statement as a SELECT is; the UPDATE's
// own error comes back as the server's error itself, unchanged, and the
// mirror's as a dual write's error with nothing written.
func TestMySQLBlock(t *testing.T) {
	e := mysqlBackend.open(t)
	ctx := context.Background()
	mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x')")
	c := e.pinned(t)
	questions := func() int64 {
		var name string
		var n int64
		if err := c.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Questions'").Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	statements := func(f func()) int64 {
		before := questions()
		f()
		return questions() - before
	}
	update := func() {
		if _, err := c.ExecContext(ctx, "UPDATE users SET visits = visits + 1 WHERE id = ?", 1); err != nil {
			t.Fatal(err)
		}
	}
	update() // runs the block without preparing it: its first use on the connection
	update() // prepares the block on the connection
	one := statements(func() {
		if _, err := c.ExecContext(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	})
	if got := statements(update); got != one {
		t.Fatalf("a dual UPDATE by key is %d client statements, want %d, as many as a SELECT", got, one)
	}
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (3, 'Grace Hopper'), (4, 'Edsger Dijkstra'), (5, 'Barbara Liskov')")
	del := func(id int) sql.Result {
		r, err := c.ExecContext(ctx, "DELETE FROM users WHERE id = ? AND visits = 0", id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	del(3)
	del(5) // the second use prepares the block
	var deleted sql.Result
	if got := statements(func() { deleted = del(4) }); got != one {
		t.Fatalf("a dual DELETE by key is %d client statements, want %d", got, one)
	}
	if n, err := deleted.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("the DELETE's RowsAffected = %d, %v; want 1", n, err)
	}
	if n, err := del(1).RowsAffected(); err != nil || n != 0 { // visits is 2: the row stays, and its new row
		t.Fatalf("a DELETE that matches nothing: RowsAffected = %d, %v; want 0", n, err)
	}
	e.checkInvariant()
	_, err := c.ExecContext(ctx, "UPDATE users SET visits = 'many' WHERE id = ?", 1)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1366 || strings.Contains(me.Message, rewrite.MySQLBlockPrefix) {
		t.Fatalf("the UPDATE's own error: %v, want the server's 1366 as it is", err)
	}
	if _, ok := err.(*mysql.MySQLError); !ok { //nolint:errorlint // the server's error itself
		t.Fatalf("the UPDATE's own error is a %T, want *mysql.MySQLError", err)
	}
	mustExec(t, e.raw, "CREATE UNIQUE INDEX accounts_first_name ON accounts (first_name)")
	_, err = c.ExecContext(ctx, "UPDATE users SET full_name = 'Ada Turing' WHERE id = ?", 2)
	var te *txn.Error
	if !errors.As(err, &te) || te.Step != txn.StepUpsert || !errors.As(err, &me) || me.Number != 1062 {
		t.Fatalf("the mirror's error: %v, want a dual write's error at its upsert wrapping the server's 1062", err)
	}
	var name string
	if err := e.raw.QueryRow("SELECT full_name FROM users WHERE id = 2").Scan(&name); err != nil || name != "Alan Turing" {
		t.Fatalf("users row 2 after the failed mirror: %q (%v), want it unchanged", name, err)
	}
	e.checkInvariant()
}

// TestMySQLInsertKeyStoredOtherwise: an INSERT that gives an integer key
// a value the column stores as another number (7.5 is stored as 8) is
// refused before it runs, in autocommit (one compound
// statement on MariaDB) and in a transaction: the mirror would look for
// the row under the value given. An integer, or its text, is mirrored.
func TestMySQLInsertKeyStoredOtherwise(t *testing.T) {
	for _, b := range []backend{mysqlBackend, mysqlNoReturningBackend} {
		t.Run(b.name, func(t *testing.T) {
			e := b.open(t)
			var ue *rewrite.UnsupportedError
			if _, err := e.db.Exec("INSERT INTO users (id, full_name) VALUES (?, 'Half Key')", 7.5); !errors.As(err, &ue) {
				t.Fatalf("a key of 7.5: %v, want a refusal", err)
			}
			tx, err := e.db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO users (id, full_name) VALUES (?, 'Half Key')", "9.5"); !errors.As(err, &ue) {
				t.Fatalf("a key of '9.5': %v, want a refusal", err)
			}
			mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (?, 'Whole Key')", "11")
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if got := dbtest.Rows(t, e.raw, "SELECT id FROM users"); !equalRows(got, [][]any{{int64(11)}}) {
				t.Fatalf("users ids %v, want [11]", got)
			}
			// accounts.account_id is a BIGINT without AUTO_INCREMENT, in
			// the write phase both.
			if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.Exec("INSERT INTO accounts (account_id, first_name, last_name) VALUES (?, 'Half', 'Key')", 12.5); !errors.As(err, &ue) {
				t.Fatalf("an accounts key of 12.5: %v, want a refusal", err)
			}
			e.checkInvariant()
		})
	}
}

// TestMySQLMirrorAutoIncLock: InnoDB's INSERT ... SELECT into a table with
// an AUTO_INCREMENT column takes the table's AUTO-INC lock at each row it
// inserts and, at innodb_autoinc_lock_mode 1 (MariaDB's default), holds it
// to the end of the statement. A mirror of several keys in one statement
// (into users, in the write phase both) would hold it while waiting for
// another transaction's row, and that transaction's INSERT of a generated
// id would wait for it: a deadlock, which InnoDB reports to the INSERT as
// error 1467. The mirror writes such a table one key a statement.
func TestMySQLMirrorAutoIncLock(t *testing.T) {
	b := mysqlBackend
	e := b.open(t)
	if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	other, err := e.raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback() }()
	// other holds the users row of key 200 the mirror will need after
	// the row of key 100.
	if _, err := other.Exec("INSERT INTO users (id, full_name) VALUES (200, 'Held Row')"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.db.Exec("INSERT INTO accounts (account_id, first_name, last_name) VALUES (100, 'First', 'Key'), (200, 'Waits', 'ForRow')")
		done <- err
	}()
	mytest.WaitLockWait(t, e.raw, done) // the mirror waits for other's row
	if _, err := other.Exec("INSERT INTO users (full_name) VALUES ('Generated Id')"); err != nil {
		t.Fatalf("an INSERT of a generated id while the mirror waits: %v", err)
	}
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var name string
	var n int
	if err := e.raw.QueryRow("SELECT (SELECT full_name FROM users WHERE id = 200), (SELECT COUNT(*) FROM users WHERE id = 100)").Scan(&name, &n); err != nil {
		t.Fatal(err)
	}
	if name != "Waits ForRow" || n != 1 {
		t.Fatalf("users row 200 is %q and there are %d rows of 100, want row 200 mirrored from accounts and one row of 100", name, n)
	}
}

// TestMySQLQuotedNameInMapping: "..." is a string in MySQL, so a mapping
// expression that quotes a name so would write the name's text into every
// row: the check at connect refuses the mapping, naming the column.
func TestMySQLQuotedNameInMapping(t *testing.T) {
	b := mysqlBackend
	yaml := strings.Replace(corpus.MySQLMapping, `email_address: email`, `email_address: '"email"'`, 1)
	e := newEnvWith(t, b.schema, yaml, dbtest.Connector{DSN: b.dsn(t), Base: b.driver})
	_, err := e.db.Exec("INSERT INTO audit (id, msg) VALUES (1, 'x')")
	if !errors.Is(err, dualwrite.ErrSchemaMismatch) || !strings.Contains(err.Error(), "email_address") || !strings.Contains(err.Error(), "backquotes") {
		t.Fatalf("got %v, want ErrSchemaMismatch naming accounts.email_address and the fix", err)
	}
}

// TestMySQLInexactKeys: a key column that stores a value given for it as
// another value (DECIMAL rounds, DATE drops the time) must not leave the
// row unmirrored, as a mirror that looked for the key as given would. On
// MariaDB an INSERT ... VALUES into such a table reads its keys back with
// RETURNING; without RETURNING the keys named are counted after the
// INSERT, and a key stored otherwise fails the dual write, nothing written.
func TestMySQLInexactKeys(t *testing.T) {
	schema := []string{
		"CREATE TABLE prices (amount DECIMAL(8,2) NOT NULL PRIMARY KEY, label VARCHAR(40))",
		"CREATE TABLE prices2 (cents_key DECIMAL(8,2) NOT NULL PRIMARY KEY, label VARCHAR(40))",
		"CREATE TABLE days (day DATE NOT NULL PRIMARY KEY, note VARCHAR(40))",
		"CREATE TABLE days2 (day_key DATE NOT NULL PRIMARY KEY, note VARCHAR(40))",
	}
	yaml := `dialect: mysql
phases:
  write: dual
tables:
  - old: prices
    new: prices2
    key: [amount]
    columns:
      cents_key: amount
      label: upper(label)
    reverse:
      amount: cents_key
      label: lower(label)
  - old: days
    new: days2
    key: [day]
    columns:
      day_key: day
      note: upper(note)
    reverse:
      day: day_key
      note: lower(note)
`
	for _, b := range []backend{mysqlBackend, mysqlNoReturningBackend} {
		t.Run(b.name, func(t *testing.T) {
			e := newEnvWith(t, schema, yaml, dbtest.Connector{DSN: b.dsn(t), Base: b.driver}, b.opts...)
			inserts := []struct {
				query string
				arg   any
			}{
				{"INSERT INTO prices (amount, label) VALUES (?, 'rounded')", "1.005"},
				{"INSERT INTO prices (amount, label) VALUES (2.999, 'literal')", nil},
				{"INSERT INTO days (day, note) VALUES (?, 'with a time')", "2024-01-02 10:30:00"},
			}
			for _, in := range inserts {
				var err error
				if in.arg != nil {
					_, err = e.db.Exec(in.query, in.arg)
				} else {
					_, err = e.db.Exec(in.query)
				}
				var ue *rewrite.UnsupportedError
				switch {
				case b.name == mysqlBackend.name && err != nil:
					t.Errorf("%s: %v, want it mirrored with the key RETURNING gives", in.query, err)
				case b.name != mysqlBackend.name && !errors.As(err, &ue):
					t.Errorf("%s: %v, want the dual write refused after it ran", in.query, err)
				}
			}
			want := int64(3)
			if b.name != mysqlBackend.name {
				want = 0 // each refused INSERT was rolled back
			}
			var n int64
			if err := e.raw.QueryRow("SELECT (SELECT COUNT(*) FROM prices) + (SELECT COUNT(*) FROM days)").Scan(&n); err != nil || n != want {
				t.Fatalf("old rows: %d, %v; want %d", n, err, want)
			}
			// Keys given as stored pass everywhere.
			mustExec(t, e.db, "INSERT INTO prices (amount, label) VALUES (?, 'exact')", "7.25")
			mustExec(t, e.db, "INSERT INTO days (day, note) VALUES (?, 'exact')", "2024-03-04")
			if b.name != mysqlBackend.name {
				_, err := e.db.Exec("INSERT IGNORE INTO days (day, note) VALUES ('2024-03-05', 'ignored')")
				var ue *rewrite.UnsupportedError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), "INSERT IGNORE") {
					t.Errorf("INSERT IGNORE into days without RETURNING: %v, want a refusal", err)
				}
			}
			e.checkInvariant()
		})
	}
}
