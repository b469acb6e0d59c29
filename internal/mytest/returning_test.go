package mytest

import (
	"slices"
	"testing"
)

// erParse is ER_PARSE_ERROR: the grammar has no such statement.
const erParse = 1064

// TestFactReturning: MariaDB has INSERT ... RETURNING, in all its forms,
// and single-table DELETE ... RETURNING; it has no UPDATE ... RETURNING and
// no RETURNING on a multi-table DELETE, both parse errors. The dialect
// appends the key columns to a RETURNING clause of INSERT and single-table
// DELETE, and takes a locking pre-select of the keys for UPDATE and
// multi-table DELETE.
func TestFactReturning(t *testing.T) {
	db := open(t, Database(t,
		"CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(50) NOT NULL UNIQUE, n INT NOT NULL DEFAULT 0)",
		"CREATE TABLE u (id INT PRIMARY KEY)"))

	// Each form returns exactly the rows it wrote, as the table has them
	// (INSERT IGNORE: not the ones it skipped; ON DUPLICATE KEY UPDATE:
	// the updated row with its key, and the inserted one alike).
	for _, c := range []struct{ stmt, written string }{
		{"INSERT INTO t (email) VALUES ('a'), ('b') RETURNING id, email, n", "'a', 'b'"},
		{"INSERT IGNORE INTO t (email) VALUES ('a'), ('c') RETURNING id, email, n", "'c'"},
		{"INSERT INTO t (email) SELECT CONCAT(email, 'x') FROM t WHERE email IN ('a', 'b') ORDER BY id RETURNING id, email, n", "'ax', 'bx'"},
		{"INSERT INTO t (email) VALUES ('a'), ('d') ON DUPLICATE KEY UPDATE n = n + 1 RETURNING id, email, n", "'a', 'd'"},
	} {
		got := rowsOf(t, db, c.stmt)
		wantRows(t, db, "SELECT id, email, n FROM t WHERE email IN ("+c.written+") ORDER BY id", got...)
	}
	wantRows(t, db, "SELECT email, n FROM t WHERE email = 'a'", "a,1")
	deleted := rowsOf(t, db, "SELECT id FROM t WHERE email IN ('b', 'bx') ORDER BY id")
	wantRows(t, db, "DELETE FROM t WHERE email IN ('b', 'bx') RETURNING id", deleted...)
	if len(deleted) != 2 {
		t.Fatalf("rows of b and bx: %q", deleted)
	}

	_, err := db.Exec("UPDATE t SET n = 2 RETURNING id")
	wantErrNo(t, "UPDATE ... RETURNING", err, erParse)
	_, err = db.Exec("DELETE t FROM t JOIN u ON u.id = t.id RETURNING t.id")
	wantErrNo(t, "multi-table DELETE ... RETURNING", err, erParse)
	_, err = db.Exec("DELETE FROM t USING t JOIN u ON u.id = t.id RETURNING t.id")
	wantErrNo(t, "DELETE ... USING ... RETURNING", err, erParse)
	// Nothing ran: the table is as the successful statements left it.
	wantRows(t, db, "SELECT email, n FROM t ORDER BY email", "a,1", "ax,0", "c,0", "d,0")
}

// TestFactReplaceReturning: REPLACE deletes every row that conflicts with
// the new one on any unique key, and RETURNING reports only the new row:
// a row deleted through another unique key than the one RETURNING shows
// is not reported. The dialect cannot learn REPLACE's deleted keys from
// RETURNING; it pre-selects the rows conflicting on every unique key (or
// refuses REPLACE on a table with more than one).
func TestFactReplaceReturning(t *testing.T) {
	db := open(t, Database(t,
		"CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL UNIQUE)",
		"INSERT INTO t VALUES (1, 'a'), (2, 'b')"))
	// (1, 'b') conflicts with row 1 on the key and with row 2 on email.
	wantRows(t, db, "REPLACE INTO t (id, email) VALUES (1, 'b') RETURNING id, email", "1,b")
	wantRows(t, db, "SELECT id, email FROM t ORDER BY id", "1,b")
}

// TestFactUpsertAssignsKey: an ON DUPLICATE KEY UPDATE that assigns the
// key changes the conflicting row's key, and RETURNING shows the new key
// only: the old one, gone from the table, is in no result. The dialect
// refuses (or pre-selects for) an upsert whose UPDATE list assigns a key
// column, as it does for an UPDATE that changes keys.
func TestFactUpsertAssignsKey(t *testing.T) {
	db := open(t, Database(t,
		"CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL UNIQUE)",
		"INSERT INTO t VALUES (1, 'a')"))
	got := rowsOf(t, db, "INSERT INTO t (id, email) VALUES (3, 'a') ON DUPLICATE KEY UPDATE id = 10 RETURNING id")
	if slices.Contains(got, "1") {
		t.Fatalf("RETURNING reported the old key 1: %q", got)
	}
	wantRows(t, db, "SELECT id, email FROM t", "10,a")
	if !slices.Equal(got, []string{"10"}) {
		t.Fatalf("RETURNING: got %q, want the new key 10", got)
	}
}

// TestFactUpsertAnyUniqueKey: ON DUPLICATE KEY UPDATE fires on a conflict
// with ANY unique index, not only the primary key: an insert of key 5
// that collides on email updates row 1 instead, and key 5 is never
// written. RowsAffected tells the cases apart: 1 for an inserted row, 2
// for an updated one, 0 for a row the update left as it was, or 1 with
// clientFoundRows. The dialect reads the touched keys from RETURNING (or,
// on MySQL, pre-selects the rows conflicting on every unique index), never
// from the VALUES list; RowsAffected alone cannot name the rows.
func TestFactUpsertAnyUniqueKey(t *testing.T) {
	dsn := Database(t,
		"CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL UNIQUE, name VARCHAR(50) NOT NULL)",
		"INSERT INTO t VALUES (1, 'a', 'x')")
	const upsert = "INSERT INTO t (id, email, name) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name)"
	for _, c := range []struct {
		clientFoundRows bool
		wantSame        int64 // RowsAffected of an update that changes nothing
	}{{false, 0}, {true, 1}} {
		d := dsn
		if c.clientFoundRows {
			d = WithParams(dsn, "clientFoundRows", "true")
		}
		db := open(t, d)
		mustExec(t, db, "DELETE FROM t WHERE id <> 1")
		mustExec(t, db, "UPDATE t SET name = 'x' WHERE id = 1")
		if n := mustExec(t, db, upsert, 5, "a", "y"); n != 2 {
			t.Fatalf("clientFoundRows=%v: upsert that updates another row: RowsAffected %d, want 2", c.clientFoundRows, n)
		}
		wantRows(t, db, "SELECT id, email, name FROM t ORDER BY id", "1,a,y")
		if n := mustExec(t, db, upsert, 5, "a", "y"); n != c.wantSame {
			t.Fatalf("clientFoundRows=%v: upsert that changes nothing: RowsAffected %d, want %d", c.clientFoundRows, n, c.wantSame)
		}
		if n := mustExec(t, db, upsert, 5, "e", "z"); n != 1 {
			t.Fatalf("clientFoundRows=%v: upsert that inserts: RowsAffected %d, want 1", c.clientFoundRows, n)
		}
		wantRows(t, db, "SELECT id, email, name FROM t ORDER BY id", "1,a,y", "5,e,z")
	}
}

// TestFactVersion: VERSION() names MariaDB in its text, and the
// RETURNING forms ParseVersion's Version promises are the ones the server
// runs. The dialect reads VERSION() once per connector and picks the
// RETURNING or pre-select strategy from it.
func TestFactVersion(t *testing.T) {
	db := open(t, Database(t, "CREATE TABLE t (id INT PRIMARY KEY)"))
	text := variable(t, db, "version")
	v, err := ParseVersion(text)
	if err != nil {
		t.Fatal(err)
	}
	comment := variable(t, db, "version_comment")
	t.Logf("VERSION() = %q (@@version_comment %q): %s", text, comment, v)
	_, err = db.Exec("INSERT INTO t VALUES (1) RETURNING id")
	if (err == nil) != v.InsertReturning() {
		t.Fatalf("%s: InsertReturning() = %v, but INSERT ... RETURNING gave %v", v, v.InsertReturning(), err)
	}
	_, err = db.Exec("DELETE FROM t RETURNING id")
	if (err == nil) != v.DeleteReturning() {
		t.Fatalf("%s: DeleteReturning() = %v, but DELETE ... RETURNING gave %v", v, v.DeleteReturning(), err)
	}
}

// TestParseVersion reads the version texts of MariaDB and MySQL servers.
func TestParseVersion(t *testing.T) {
	for _, c := range []struct {
		text                string
		want                Version
		insertRet, deleteRe bool
	}{
		{"10.11.19-MariaDB-0+deb12u1", Version{true, 10, 11, 19}, true, true},
		{"5.5.5-10.4.32-MariaDB-log", Version{true, 10, 4, 32}, false, true},
		{"10.5.0-MariaDB", Version{true, 10, 5, 0}, true, true},
		{"11.4.2-MariaDB-ubu2404", Version{true, 11, 4, 2}, true, true},
		{"8.0.36", Version{false, 8, 0, 36}, false, false},
		{"8.4.0-log", Version{false, 8, 4, 0}, false, false},
		{"5.7.44-0ubuntu0.18.04.1", Version{false, 5, 7, 44}, false, false},
	} {
		v, err := ParseVersion(c.text)
		if err != nil || v != c.want || v.InsertReturning() != c.insertRet || v.DeleteReturning() != c.deleteRe {
			t.Errorf("ParseVersion(%q) = %+v, %v (insert %v, delete %v); want %+v (insert %v, delete %v)",
				c.text, v, err, v.InsertReturning(), v.DeleteReturning(), c.want, c.insertRet, c.deleteRe)
		}
	}
	for _, bad := range []string{"", "MariaDB", "10.11", "x.y.z"} {
		if v, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) = %+v, want an error", bad, v)
		}
	}
}
