package dualwrite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/mapping"
)

// TestConcurrentWritesAndCompare: 8 goroutines write through the wrapper
// for a few seconds (inserts, upserts, updates, key changes, deletes, and
// transactions that roll back), while compare reads run beside them.
// Afterwards new = up(old) exactly, and no comparison mismatched. The key
// changes by name race with inserts of that name, which a READ COMMITTED
// statement would see midway were its rows not locked first.
func TestConcurrentWritesAndCompare(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		reg := prometheus.NewRegistry()
		e := b.open(t, dualwrite.WithRegisterer(reg))
		e.db.SetMaxOpenConns(10)
		seed(t, e)
		// The upsert adds a visit to the row already there. MySQL refuses
		// ON DUPLICATE KEY UPDATE on users, whose email is unique too (it
		// may update the row of another key): there the insert that
		// meets a row of its key skips it.
		upsert := "INSERT INTO users AS u (id, full_name, visits) VALUES (?, 'Writer %d', 1) ON CONFLICT (id) DO UPDATE SET visits = u.visits + 1"
		if b.runs("mysql") {
			upsert = "INSERT IGNORE INTO users (id, full_name, visits) VALUES (?, 'Writer %d', 1)"
		}
		if err := e.sw.SetRead(mapping.ReadCompare, mapping.WriteDual); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		var written, compared [8]int
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					id := i%40 + 10
					var err error
					switch i % 8 {
					case 0:
						_, err = e.db.Exec(b.sql(fmt.Sprintf(upsert, w)), id)
					case 1:
						_, err = e.db.Exec(b.sql("UPDATE users SET visits = visits + 1, full_name = 'Up Dated' WHERE id = ?"), id)
					case 2:
						_, err = e.db.Exec(b.sql("DELETE FROM users WHERE id = ?"), id+7)
					case 3:
						_, err = e.db.Exec(b.sql("UPDATE users SET id = CASE WHEN id >= 1000 THEN id - 1000 ELSE id + 1000 END WHERE id = ? OR id = ? + 1000"), id, id)
					case 4:
						_, err = e.db.Exec(b.sql("INSERT INTO users (id, full_name) VALUES (?, 'Phan Tom')"), 3000+w*1000+i)
					case 5:
						_, err = e.db.Exec(b.sql("UPDATE users SET id = id + 100000, full_name = 'Moved Away' WHERE full_name = 'Phan Tom'"))
					case 6:
						var tx *sql.Tx
						if tx, err = e.db.Begin(); err == nil {
							if _, err = tx.Exec(b.sql("UPDATE users SET visits = -1, id = id + 500 WHERE id = ?"), id); err == nil {
								err = tx.Rollback()
							} else {
								_ = tx.Rollback()
							}
						}
					default:
						_, err = query(t, e.db, b.sql("SELECT id, full_name, visits FROM users WHERE id <= ? ORDER BY id"), id)
						compared[w]++
					}
					if raceLost(err) {
						err = nil // the statement failed whole, as it would without the wrapper
					}
					if err != nil {
						errs <- fmt.Errorf("writer %d, step %d: %w", w, i, err)
						return
					}
					written[w]++
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		e.checkInvariant()
		if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "mismatch"}); n != 0 {
			t.Fatalf("%v mismatches", n)
		}
		if n := counterValue(t, reg, "dualwrite_read_compare_total", map[string]string{"result": "match"}); n == 0 {
			t.Fatal("nothing was compared")
		}
		if n := e.count("users WHERE id >= 100000"); n == 0 {
			t.Fatal("no row was moved by a key change: not a useful workload")
		}
		t.Logf("statements per writer: %v (compare reads: %v)", written, compared)
	})
}

// raceLost reports whether err is a statement losing a race with another
// writer: a deadlock, a duplicate key, or a serialization failure (MySQL's
// errors are spelled number/SQLSTATE).
func raceLost(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrConstraint
	}
	if errors.Is(err, dualwrite.ErrMirrorConflict) {
		return true
	}
	switch sqlState(err) {
	case "40P01", "23505", "40001", "1062/23000", "1213/40001": // MySQL: duplicate key, deadlock
		return true
	case "1467/HY000":
		// InnoDB's report of a deadlock on a table's AUTO-INC lock, which
		// the mirror's INSERT ... SELECT into a table with AUTO_INCREMENT
		// takes (innodb_autoinc_lock_mode 1): the transaction is rolled
		// back, as for 1213.
		return true
	}
	return false
}

// TestFailingMirrorRollsBack: a mirror that violates a constraint of the
// new table fails the caller's write, which is not applied, in autocommit
// and in a transaction, for a one-statement write and a key change. In a
// transaction SQLite and MySQL go on without the statement, as after any
// failed statement; PostgreSQL aborts the transaction, as after any failed
// one.
func TestFailingMirrorRollsBack(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'a@x'), (2, 'Alan Turing', 't@x')")
		mustExec(t, e.raw, "CREATE UNIQUE INDEX accounts_first_name ON accounts (first_name)")
		before := rows(t, e.raw, "SELECT * FROM users ORDER BY id")
		for _, q := range []string{
			"INSERT INTO users (id, full_name) VALUES (3, 'Ada Byron')",
			"UPDATE users SET full_name = 'Ada Turing' WHERE id = 2",
			"UPDATE users SET id = 20, full_name = 'Ada Turing' WHERE id = 2",
		} {
			if _, err := e.db.Exec(q); err == nil {
				t.Fatalf("%s: the failing mirror did not fail the write", q)
			}
			tx, err := e.db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, tx, "UPDATE users SET visits = visits + 1 WHERE id = 1")
			if _, err := tx.Exec(q); err == nil {
				t.Fatalf("%s: the failing mirror did not fail the write in a transaction", q)
			}
			err = tx.Commit()
			if b.name == "postgres" {
				if err == nil {
					t.Fatal("PostgreSQL committed an aborted transaction")
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				mustExec(t, e.db, "UPDATE users SET visits = visits - 1 WHERE id = 1")
			}
			if got := rows(t, e.raw, "SELECT * FROM users ORDER BY id"); !reflect.DeepEqual(got, before) {
				t.Fatalf("%s: users = %v, want %v", q, got, before)
			}
			e.checkInvariant()
		}
	})
}

// TestDeleteWaitingOnAMirroredUpdate: a row written before dual-writing has
// no new row; an update of it in one transaction inserts that new row, and
// a delete of it in another waits for the update's row lock. Once the
// update commits, the delete must remove the new row too, although the new
// row was committed after the delete began.
func TestDeleteWaitingOnAMirroredUpdate(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		mustExec(t, e.raw, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing')")
		tx, err := e.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "UPDATE users SET visits = visits + 1 WHERE id = 1")
		deleted := make(chan error, 1)
		go func() {
			_, err := e.db.Exec("DELETE FROM users WHERE id = 1")
			deleted <- err
		}()
		waitBlocked(t, e, b)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-deleted; err != nil {
			t.Fatal(err)
		}
		if n := e.count("accounts WHERE account_id = 1"); n != 0 {
			t.Fatal("the new row of the deleted key was left behind")
		}
		mustExec(t, e.raw, "DELETE FROM users WHERE id = 2") // not dual-written yet
		e.checkInvariant()
	})
}

// waitBlocked waits until a statement of e's is waiting for a lock: on
// PostgreSQL as pg_stat_activity shows it (the test's sessions share an
// application_name), on MySQL as InnoDB's transactions show it (the test's
// sessions share a database), on SQLite for a moment, the busy handler
// being invisible.
func waitBlocked(t *testing.T, e *env, b backend) {
	t.Helper()
	waiting := "SELECT count(*) FROM pg_stat_activity WHERE application_name = current_setting('application_name') AND wait_event_type = 'Lock'"
	pause := 20 * time.Millisecond
	switch {
	case b.runs("mysql"):
		waiting = "SELECT count(*) FROM information_schema.INNODB_TRX x JOIN information_schema.PROCESSLIST p ON p.ID = x.trx_mysql_thread_id WHERE p.DB = DATABASE() AND x.trx_state = 'LOCK WAIT'"
		// InnoDB refreshes what INNODB_TRX shows only once it has not
		// been read for 100ms.
		pause = 150 * time.Millisecond
	case b.name != "postgres":
		time.Sleep(300 * time.Millisecond)
		return
	}
	for range 100 {
		var n int
		if err := e.raw.QueryRow(waiting).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(pause)
	}
	t.Fatal("no statement came to wait for a lock")
}
