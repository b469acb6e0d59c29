package verify

import (
	"database/sql"
	"reflect"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// TestFastPathAgrees: where the database finds values identical itself,
// the report is the one the client's own comparison of every row gives,
// also for text of a column that compares case-insensitively ('a', 'A'):
// values of one type and one value are matches, everything else is left to
// the client, which calls some of it equal (2 and 2.0) and some not.
func TestFastPathAgrees(t *testing.T) {
	db, conn := memDB(t,
		"CREATE TABLE o (id INTEGER PRIMARY KEY, v COLLATE NOCASE)",
		"CREATE TABLE n (id INTEGER PRIMARY KEY, v COLLATE NOCASE)",
		"INSERT INTO o VALUES (1, 2), (2, 2), (3, '007'), (4, NULL), (5, NULL), (6, 'a'), (7, x'00'), (8, 1.5), (9, 'same')",
		"INSERT INTO n VALUES (1, 2), (2, 2.0), (3, 7), (4, NULL), (5, 0), (6, 'A'), (7, x'00'), (8, 1.5), (9, 'same'), (10, 'extra')")
	m, err := mapping.Parse([]byte("dialect: sqlite\ntables:\n  - old: o\n    new: n\n    key: [id]\n    columns: {id: id, v: v}\n    reverse: {id: id, v: v}\n"))
	if err != nil {
		t.Fatal(err)
	}
	v := &verifier{db: db, d: rewrite.SQLite, opts: Options{BatchSize: 100, SampleSize: 10}}
	if fast, err := v.fastPath(t.Context(), conn, m.Tables[0]); err != nil || !fast {
		t.Fatalf("fastPath = %v, %v; want true for undeclared types", fast, err)
	}
	var reports []*TableReport
	for _, fast := range []bool{false, true} {
		rep := newTableReport(m.Tables[0])
		s := tableSQL{d: rewrite.SQLite, t: m.Tables[0], batch: 100, fast: fast}
		if err := v.compare(t.Context(), conn, s, rep, nil, nil); err != nil {
			t.Fatal(err)
		}
		reports = append(reports, rep)
	}
	if !reflect.DeepEqual(reports[0], reports[1]) {
		t.Fatalf("the client alone: %+v\nwith the database's check: %+v", reports[0], reports[1])
	}
	// 1, 2 (2 = 2.0), 4, 7, 8, 9 match; 3, 5, 6 differ; 10 is extra.
	if r := reports[1]; r.RowsProcessed != 10 || r.Matching != 6 || r.Mismatched != 3 || r.ExtraInNew != 1 {
		t.Fatalf("report %+v", r)
	}
}

// TestFastPathOffForDecodedTypes: in SQLite a pair of columns that
// go-sqlite3 decodes differently (declared DATETIME or BOOLEAN on one side
// only) is compared by the client.
func TestFastPathOffForDecodedTypes(t *testing.T) {
	db, conn := memDB(t,
		"CREATE TABLE o (id INTEGER PRIMARY KEY, flag BOOLEAN, at TEXT)",
		"CREATE TABLE n (id INTEGER PRIMARY KEY, flag INTEGER, at DATETIME)")
	v := &verifier{db: db, d: rewrite.SQLite}
	for _, cols := range []string{"{id: id, flag: flag}", "{id: id, at: at}", "{id: id, flag: flag + 0}"} {
		m, err := mapping.Parse([]byte("dialect: sqlite\ntables:\n  - old: o\n    new: n\n    key: [id]\n    columns: " + cols + "\n    reverse: {id: id}\n"))
		if err != nil {
			t.Fatal(err)
		}
		fast, err := v.fastPath(t.Context(), conn, m.Tables[0])
		if err != nil {
			t.Fatal(err)
		}
		// flag + 0 is an expression, with no declared type, like n.flag.
		if want := cols == "{id: id, flag: flag + 0}"; fast != want {
			t.Errorf("columns %s: fastPath = %v, want %v", cols, fast, want)
		}
	}
}

// memDB opens an in-memory SQLite database with one connection, runs the
// statements on it, and returns it with that connection.
func memDB(t *testing.T, statements ...string) (*sql.DB, *sql.Conn) {
	t.Helper()
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1) // one in-memory database
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, s := range statements {
		if _, err := conn.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return db, conn
}

// TestRoundTripFastPath: the round trip's report is the same whether the
// database sorts out identical values or the client compares every row
// (a case-insensitive column's 'A' that comes back 'a' changes shape, the
// integer 2 that comes back as the text '2' does not); and in SQLite an
// old column declared DATETIME whose round trip is an expression, decoded
// differently, turns the database's check off.
func TestRoundTripFastPath(t *testing.T) {
	db, conn := memDB(t,
		"CREATE TABLE o (id INTEGER PRIMARY KEY, at DATETIME, v COLLATE NOCASE)",
		"CREATE TABLE n (id INTEGER PRIMARY KEY, at TEXT, v TEXT)",
		"INSERT INTO o VALUES (1, '2024-01-02 03:04:05', 'a'), (2, '2024-01-02', 'A'), (3, NULL, NULL), (4, '2024-01-02 03:04:05', 2)")
	parse := func(reverseAt string) *mapping.Table {
		m, err := mapping.Parse([]byte("dialect: sqlite\ntables:\n  - old: o\n    new: n\n    key: [id]\n    columns: {id: id, at: at, v: lower(v)}\n    reverse: {id: id, at: \"" + reverseAt + "\", v: v}\n"))
		if err != nil {
			t.Fatal(err)
		}
		return m.Tables[0]
	}
	v := &verifier{db: db, d: rewrite.SQLite, opts: Options{BatchSize: 100, SampleSize: 10}}
	for reverseAt, want := range map[string]bool{"at": true, "at || ''": false} {
		if fast, err := v.roundTripFast(t.Context(), conn, parse(reverseAt)); err != nil || fast != want {
			t.Errorf("reverse at: %s: roundTripFast = %v, %v; want %v", reverseAt, fast, err, want)
		}
	}
	tb := parse("at")
	var reports []*TableReport
	for _, fast := range []bool{false, true} {
		rep := newTableReport(tb)
		r := roundTrip{v: v, s: tableSQL{d: rewrite.SQLite, t: tb, batch: 100, fast: fast}}
		if err := r.compare(t.Context(), conn, rep, nil, nil); err != nil {
			t.Fatal(err)
		}
		reports = append(reports, rep)
	}
	if !reflect.DeepEqual(reports[0], reports[1]) {
		t.Fatalf("the client alone: %+v\nwith the database's check: %+v", reports[0], reports[1])
	}
	want := []Sample{{Key: map[string]any{"id": int64(2)}, Columns: []ColumnDiff{{Column: "v", Expected: "A", Actual: "a"}}}}
	if r := reports[1]; r.RowsProcessed != 4 || r.Matching != 3 || r.Mismatched != 1 || !reflect.DeepEqual(r.Samples.Mismatched, want) {
		t.Fatalf("report %+v", r)
	}
}
