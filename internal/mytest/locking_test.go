package mytest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Server error numbers the dialect tells apart.
const (
	erLockWaitTimeout = 1205 // ER_LOCK_WAIT_TIMEOUT
	erLockDeadlock    = 1213 // ER_LOCK_DEADLOCK
	erSPDoesNotExist  = 1305 // ER_SP_DOES_NOT_EXIST: no such savepoint
)

// TestFactPreSelect: where there is no RETURNING (UPDATE, multi-table
// DELETE), the dialect learns the keys a statement touches by selecting
// them first, in the caller's transaction. Between that pre-select and
// the statement, another session commits a new row that matches the
// statement's WHERE. Whether the statement then touches a key the
// pre-select did not return depends on how the keys are selected and on
// the isolation level:
//
//   - a plain SELECT reads the transaction's snapshot, but the UPDATE
//     reads the latest committed rows: at REPEATABLE READ (and READ
//     COMMITTED) it touches the new row, which would go unmirrored;
//   - SELECT ... FOR UPDATE takes next-key (gap) locks at REPEATABLE
//     READ, so the other session cannot insert (it waits, here fails at
//     once): exact; at READ COMMITTED there are no gap locks: racy;
//   - the statement restricted to the pre-selected keys
//     (WHERE (<user's condition>) AND key IN (<pre-selected>)) touches
//     only those, at both levels.
//
// The dialect pre-selects with FOR UPDATE and restricts the statement to
// the keys it found: exact at both levels, and the caller's statement
// waits for no more locks than it would have.
//
// The interleaving is made by the test, not by timing: the other session
// runs with innodb_lock_wait_timeout = 0, so a locked gap makes its insert
// fail at once instead of waiting.
func TestFactPreSelect(t *testing.T) {
	dsn := Database(t, "CREATE TABLE acc (id INT PRIMARY KEY, grp INT NOT NULL, n INT NOT NULL DEFAULT 0, KEY (grp))")
	db := open(t, dsn)
	for _, c := range []struct {
		level                  sql.IsolationLevel
		forUpdate, restrict    bool
		wantBlocked, wantExact bool
	}{
		{sql.LevelRepeatableRead, false, false, false, false},
		{sql.LevelRepeatableRead, true, false, true, true},
		{sql.LevelReadCommitted, false, false, false, false},
		{sql.LevelReadCommitted, true, false, false, false},
		{sql.LevelRepeatableRead, false, true, false, true},
		{sql.LevelRepeatableRead, true, true, true, true},
		{sql.LevelReadCommitted, false, true, false, true},
		{sql.LevelReadCommitted, true, true, false, true},
	} {
		name := fmt.Sprintf("%v/forUpdate=%v/restrict=%v", c.level, c.forUpdate, c.restrict)
		t.Run(name, func(t *testing.T) {
			mustExec(t, db, "DELETE FROM acc")
			mustExec(t, db, "INSERT INTO acc (id, grp) VALUES (1, 1), (3, 2)")
			a := begin(t, conn(t, db), c.level)
			other := conn(t, db)
			mustExec(t, other, "SET SESSION innodb_lock_wait_timeout = 0")

			pre := "SELECT id FROM acc WHERE grp = 1 ORDER BY id"
			if c.forUpdate {
				pre += " FOR UPDATE"
			}
			keys := rowsOf(t, a, pre)
			if !slices.Equal(keys, []string{"1"}) {
				t.Fatalf("pre-select: got %q, want [1]", keys)
			}
			_, err := other.ExecContext(context.Background(), "INSERT INTO acc (id, grp) VALUES (2, 1)")
			if blocked := ErrorNumber(err) == erLockWaitTimeout; blocked != c.wantBlocked || err != nil && !blocked {
				t.Fatalf("the other session's insert of a matching row: %v, want blocked %v", err, c.wantBlocked)
			}
			if c.level == sql.LevelRepeatableRead && !c.wantBlocked {
				// A plain SELECT reads the snapshot, without the committed row.
				if again := rowsOf(t, a, "SELECT id FROM acc WHERE grp = 1 ORDER BY id"); !slices.Equal(again, keys) {
					t.Fatalf("the snapshot after the other session's insert: got %q, want %q", again, keys)
				}
			}
			// The UPDATE reads the latest committed rows, the inserted one too.
			update := "UPDATE acc SET n = n + 1 WHERE grp = 1"
			if c.restrict {
				update = "UPDATE acc SET n = n + 1 WHERE (grp = 1) AND id IN (" + strings.Join(keys, ", ") + ")"
			}
			mustExec(t, a, update)
			if err := a.Commit(); err != nil {
				t.Fatal(err)
			}
			touched := rowsOf(t, db, "SELECT id FROM acc WHERE n > 0 ORDER BY id")
			if exact := slices.Equal(touched, keys); exact != c.wantExact {
				t.Fatalf("pre-selected %q, the UPDATE touched %q: exact %v, want %v", keys, touched, exact, c.wantExact)
			}
		})
	}
}

// connectionID returns the server's id of c's session.
func connectionID(t *testing.T, c *sql.Conn) int64 {
	t.Helper()
	var id int64
	if err := c.QueryRowContext(context.Background(), "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitLockWait returns once the session id waits for a lock. It polls
// information_schema, so the interleaving does not rest on timing; the
// server's lock wait timeout bounds the wait. InnoDB refreshes what
// innodb_trx shows only when it was not read for 100 ms, so the polls are
// further apart than that.
func waitLockWait(t *testing.T, db *sql.DB, id int64, waiting <-chan error) {
	t.Helper()
	for {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = ? AND trx_state = 'LOCK WAIT'", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case err := <-waiting:
			t.Fatalf("session %d was to wait for a lock; its statement ended: %v", id, err)
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// TestFactDeadlock: a deadlock (1213) rolls back the victim's whole
// transaction, not only the statement: its earlier writes are undone, it
// is no longer in a transaction, and ROLLBACK TO SAVEPOINT fails with
// 1305 since the savepoint went with it. The dialect, which wraps its
// steps in a savepoint inside the caller's transaction, returns 1213 as
// it is and does not try to roll back to its savepoint (that would hide
// the deadlock behind 1305); the caller retries the transaction.
func TestFactDeadlock(t *testing.T) {
	db := open(t, Database(t, "CREATE TABLE d (id INT PRIMARY KEY, n INT NOT NULL)", "INSERT INTO d VALUES (1, 0), (2, 0)"))
	ca, cb := conn(t, db), conn(t, db)
	idA := connectionID(t, ca)
	a, b := begin(t, ca, sql.LevelDefault), begin(t, cb, sql.LevelDefault)
	// a adds 1 and b adds 10 to each row, each starting with its own row.
	mustExec(t, a, "UPDATE d SET n = n + 1 WHERE id = 1")
	mustExec(t, a, "SAVEPOINT sp")
	mustExec(t, b, "UPDATE d SET n = n + 10 WHERE id = 2")
	mustExec(t, b, "SAVEPOINT sp")
	errA := make(chan error, 1)
	go func() {
		_, err := a.Exec("UPDATE d SET n = n + 1 WHERE id = 2")
		errA <- err
	}()
	waitLockWait(t, db, idA, errA)
	_, eb := b.Exec("UPDATE d SET n = n + 10 WHERE id = 1")
	ea := <-errA

	victim, survivor, inc, name := a, b, "10", "the waiting session"
	if ErrorNumber(ea) != erLockDeadlock {
		victim, survivor, inc, name = b, a, "1", "the session that closed the cycle"
		if ea != nil || ErrorNumber(eb) != erLockDeadlock {
			t.Fatalf("want one deadlock (1213) and one success; got %v and %v", ea, eb)
		}
	} else if eb != nil {
		t.Fatalf("want one deadlock (1213) and one success; got %v and %v", ea, eb)
	}
	t.Logf("deadlock victim: %s", name)
	if got := variable(t, victim, "in_transaction"); got != "0" {
		t.Fatalf("after the deadlock the victim's @@in_transaction is %s, want 0", got)
	}
	_, err := victim.Exec("ROLLBACK TO SAVEPOINT sp")
	wantErrNo(t, "ROLLBACK TO SAVEPOINT after a deadlock", err, erSPDoesNotExist)
	if err := survivor.Commit(); err != nil {
		t.Fatal(err)
	}
	// Only the survivor's writes are there: the victim's first write,
	// before its savepoint, was rolled back too.
	wantRows(t, db, "SELECT n FROM d ORDER BY id", inc, inc)
}

// TestFactLockWaitTimeout: a lock wait timeout (1205) rolls back only the
// statement that waited, when innodb_rollback_on_timeout is off (the
// default, read here): the statement's own changes are undone, the
// transaction's earlier writes and its savepoints remain, and it can go
// on and commit. With innodb_rollback_on_timeout on, the whole
// transaction is rolled back, as for a deadlock. The dialect, after 1205
// in its own steps, rolls back to its savepoint when the transaction is
// still open (@@in_transaction) and returns the error; it must not assume
// either setting.
func TestFactLockWaitTimeout(t *testing.T) {
	db := open(t, Database(t, "CREATE TABLE d (id INT PRIMARY KEY, n INT NOT NULL)", "INSERT INTO d VALUES (1, 0), (2, 0), (3, 0)"))
	a := begin(t, conn(t, db), sql.LevelDefault)
	mustExec(t, a, "UPDATE d SET n = n + 1 WHERE id = 3")

	cb := conn(t, db)
	rollbackOnTimeout := variable(t, cb, "innodb_rollback_on_timeout")
	t.Logf("@@innodb_rollback_on_timeout = %s", rollbackOnTimeout)
	// A real timeout (1 s, the least), not NOWAIT's 0: the setting
	// applies to what a timeout does.
	mustExec(t, cb, "SET SESSION innodb_lock_wait_timeout = 1")
	b := begin(t, cb, sql.LevelDefault)
	mustExec(t, b, "UPDATE d SET n = n + 10 WHERE id = 1")
	mustExec(t, b, "SAVEPOINT sp")
	// Updates row 2 (ORDER BY makes it the first), then waits for row 3,
	// which a holds.
	_, err := b.Exec("UPDATE d SET n = n + 100 WHERE id IN (2, 3) ORDER BY id")
	wantErrNo(t, "UPDATE of a locked row", err, erLockWaitTimeout)

	switch rollbackOnTimeout {
	case "0":
		if got := variable(t, b, "in_transaction"); got != "1" {
			t.Fatalf("after 1205 @@in_transaction is %s, want 1", got)
		}
		// The statement's change to row 2 is undone; the earlier write stays.
		wantRows(t, b, "SELECT n FROM d ORDER BY id", "10", "0", "0")
		mustExec(t, b, "ROLLBACK TO SAVEPOINT sp")
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
		mustExec(t, b, "UPDATE d SET n = n + 100 WHERE id IN (2, 3)")
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		wantRows(t, db, "SELECT n FROM d ORDER BY id", "10", "100", "101")
	case "1":
		if got := variable(t, b, "in_transaction"); got != "0" {
			t.Fatalf("after 1205 with innodb_rollback_on_timeout @@in_transaction is %s, want 0", got)
		}
		_, err := b.Exec("ROLLBACK TO SAVEPOINT sp")
		wantErrNo(t, "ROLLBACK TO SAVEPOINT after 1205 with innodb_rollback_on_timeout", err, erSPDoesNotExist)
	default:
		t.Fatalf("@@innodb_rollback_on_timeout = %q", rollbackOnTimeout)
	}
}
