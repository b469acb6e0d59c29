package mytest

import (
	"database/sql"
	"testing"
)

// TestFactInsertIDs: what LAST_INSERT_ID() and ROW_COUNT() say after
// inserts with explicit ids, generated ids, both, ON DUPLICATE KEY UPDATE
// and INSERT ... SELECT, at the server's innodb_autoinc_lock_mode (read
// and logged). The dialect cannot name the inserted keys from
// LAST_INSERT_ID and ROW_COUNT in general: an explicit id leaves
// LAST_INSERT_ID as it was, a mixed insert takes ids out of sequence, an
// upsert counts an updated row twice and burns an id for it, and a
// statement's ids have gaps after it. It reads the keys from RETURNING
// (MariaDB) and otherwise counts on LAST_INSERT_ID only for a plain
// multi-row INSERT ... VALUES whose ids are all generated, where they are
// consecutive. Since the mirror writes explicit keys, it leaves
// LAST_INSERT_ID and the caller's LastInsertId as the caller's statement
// set them; ROW_COUNT() it does change, and the dialect says so.
func TestFactInsertIDs(t *testing.T) {
	db := open(t, Database(t, "CREATE TABLE ai (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(20) NOT NULL UNIQUE, n INT NOT NULL DEFAULT 0)"))
	c := conn(t, db) // LAST_INSERT_ID() and ROW_COUNT() are the session's
	mode := variable(t, c, "innodb_autoinc_lock_mode")
	t.Logf("@@innodb_autoinc_lock_mode = %s", mode)

	// insert runs stmt and returns LAST_INSERT_ID(), ROW_COUNT(), and the
	// driver's LastInsertId and RowsAffected.
	insert := func(stmt string) (lastID, rowCount, resID, resRows int64) {
		t.Helper()
		res, err := c.ExecContext(t.Context(), stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		if err := c.QueryRowContext(t.Context(), "SELECT LAST_INSERT_ID(), ROW_COUNT()").Scan(&lastID, &rowCount); err != nil {
			t.Fatal(err)
		}
		resID, _ = res.LastInsertId()
		resRows, _ = res.RowsAffected()
		t.Logf("%s: LAST_INSERT_ID() %d, ROW_COUNT() %d, LastInsertId %d, RowsAffected %d", stmt, lastID, rowCount, resID, resRows)
		return
	}
	id := func(email string) int64 {
		t.Helper()
		var id int64
		if err := c.QueryRowContext(t.Context(), "SELECT id FROM ai WHERE email = ?", email).Scan(&id); err != nil {
			t.Fatalf("id of %s: %v", email, err)
		}
		return id
	}
	maxID := func() int64 {
		t.Helper()
		var id sql.NullInt64
		if err := c.QueryRowContext(t.Context(), "SELECT MAX(id) FROM ai").Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id.Int64
	}
	check := func(what string, got, want int64) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: got %d, want %d (innodb_autoinc_lock_mode %s)", what, got, want, mode)
		}
	}

	// An explicit id: LAST_INSERT_ID() stays 0, as after no insert; the
	// driver's LastInsertId is the explicit id.
	last, count, resID, _ := insert("INSERT INTO ai (id, email) VALUES (10, 'a')")
	check("LAST_INSERT_ID() after an explicit id", last, 0)
	check("ROW_COUNT()", count, 1)
	check("LastInsertId after an explicit id", resID, 10)

	// Generated ids: the first of them, and consecutive.
	last, count, resID, _ = insert("INSERT INTO ai (email) VALUES ('b'), ('c')")
	check("LAST_INSERT_ID() after generated ids", last, id("b"))
	check("LastInsertId", resID, id("b"))
	check("ROW_COUNT()", count, 2)
	check("the second generated id", id("c"), id("b")+1)

	// Mixed: LAST_INSERT_ID() is the first generated id; after an explicit
	// id above the counter, the next generated one follows it.
	last, count, _, _ = insert("INSERT INTO ai (id, email) VALUES (NULL, 'd'), (50, 'e'), (NULL, 'f')")
	check("LAST_INSERT_ID() after a mixed insert", last, id("d"))
	check("ROW_COUNT()", count, 3)
	check("the id generated after an explicit 50", id("f"), 51)
	// An explicit id below the counter leaves LAST_INSERT_ID() as it was.
	last, _, _, _ = insert("INSERT INTO ai (id, email) VALUES (40, 'x')")
	check("LAST_INSERT_ID() after an explicit id", last, id("d"))

	// ON DUPLICATE KEY UPDATE of an existing row: ROW_COUNT() 2, and
	// LAST_INSERT_ID() as it was.
	// The driver's LastInsertId (the OK packet's) is the updated row's id.
	before := last
	last, count, resID, _ = insert("INSERT INTO ai (email) VALUES ('b') ON DUPLICATE KEY UPDATE n = n + 1")
	check("LAST_INSERT_ID() after an upsert that updated", last, before)
	check("ROW_COUNT() after an upsert that updated", count, 2)
	check("LastInsertId after an upsert that updated", resID, id("b"))
	// One updated row and one inserted: 2 + 1, LAST_INSERT_ID() the new
	// row's, and the updated row burnt an id before it.
	top := maxID()
	last, count, _, _ = insert("INSERT INTO ai (email) VALUES ('b'), ('h') ON DUPLICATE KEY UPDATE n = n + 1")
	check("ROW_COUNT() after an upsert that updated one row and inserted one", count, 3)
	check("LAST_INSERT_ID() after it", last, id("h"))
	check("the inserted row's id, after the one the updated row burnt", id("h"), top+2)
	// The idiom that makes LAST_INSERT_ID() name the updated row.
	last, _, _, _ = insert("INSERT INTO ai (email) VALUES ('b') ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), n = n + 1")
	check("LAST_INSERT_ID() after id = LAST_INSERT_ID(id)", last, id("b"))

	// INSERT ... SELECT: the first id, consecutive ids, and a gap after
	// them: the ids of a statement whose row count is not known in advance
	// are reserved in batches of 1, 2, 4, 8, ..., and those it did not use
	// are not given back (8 rows here, so 7 are lost).
	insert("INSERT INTO ai (email) VALUES ('g')")
	var rows int64
	if err := c.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM ai").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	last, count, _, _ = insert("INSERT INTO ai (email) SELECT CONCAT(email, '2') FROM ai ORDER BY id")
	check("ROW_COUNT() after INSERT ... SELECT", count, rows)
	check("LAST_INSERT_ID() after INSERT ... SELECT", last, id("a2"))
	check("the last id of INSERT ... SELECT", maxID(), last+rows-1)
	top = maxID()
	insert("INSERT INTO ai (email) VALUES ('z')")
	if next := id("z"); next <= top+1 {
		t.Fatalf("the id after INSERT ... SELECT of %d rows: %d, want a gap after %d (innodb_autoinc_lock_mode %s)", rows, next, top, mode)
	} else {
		t.Logf("INSERT ... SELECT of %d rows left ids %d to %d unused", rows, top+1, next-1)
	}
}
