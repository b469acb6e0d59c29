package dualwrite_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// peopleSchema has unique constraints besides the key on both sides: a
// NOCASE one, a nullable one, and a composite one with a DEFAULT.
var peopleSchema = []string{
	`CREATE TABLE people (id INTEGER PRIMARY KEY, handle TEXT NOT NULL COLLATE NOCASE UNIQUE, email TEXT UNIQUE,
		org INTEGER NOT NULL DEFAULT 1, badge INTEGER, note TEXT, UNIQUE (org, badge))`,
	`CREATE TABLE persons (pid INTEGER PRIMARY KEY, handle TEXT NOT NULL COLLATE NOCASE UNIQUE, email TEXT UNIQUE,
		org INTEGER NOT NULL, badge INTEGER, note TEXT, UNIQUE (org, badge))`,
}

const peopleMapping = `
dialect: sqlite
tables:
  - old: people
    new: persons
    key: [id]
    columns: {pid: id, handle: handle, email: email, org: org, badge: badge, note: note}
    reverse: {id: pid, handle: handle, email: email, org: org, badge: badge, note: note}
`

// TestReplaceOtherUnique runs SQLite's INSERT OR REPLACE on a table with
// unique constraints besides its key through the wrapper and, beside it,
// through the raw driver: the rows REPLACE deletes by any constraint are
// mirrored (their new rows deleted) and new = up(old) holds after each
// statement, which the raw twin shows succeeded or failed alike.
func TestReplaceOtherUnique(t *testing.T) {
	open := func() *env {
		e := newEnvWith(t, peopleSchema, peopleMapping, dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}})
		if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
			t.Fatal(err)
		}
		return e
	}
	wrapped, raw := open(), open()
	steps := []writeStep{
		{query: "INSERT INTO people (id, handle, email, badge) VALUES (1, 'ada', 'ada@x', 10), (2, 'alan', 'alan@x', 20), (3, 'grace', 'grace@x', 30), (4, 'ken', NULL, NULL)"},
		{query: "REPLACE INTO people (id, handle, email) VALUES (5, 'ADA', 'x@x')"},                                                    // deletes 1 by the NOCASE handle
		{query: "INSERT OR REPLACE INTO people (id, handle, email, badge) VALUES (6, 'new', 'alan@x', 30) RETURNING id", query2: true}, // deletes 2 by email, 3 by (org DEFAULT 1, badge)
		{query: "INSERT OR REPLACE INTO people VALUES (7, 'ken', 'k@x', 2, 5, 'no column list')"},                                      // deletes 4 by handle
		{query: "INSERT OR REPLACE INTO people (id, handle, email) SELECT id + 100, handle, email FROM people WHERE id IN (5, 6)"},
		{query: "REPLACE INTO people (id, handle) VALUES (?, ?), (?, ?)", args: []any{8, "dup", 9, "DUP"}}, // the second row deletes the first
		{query: "REPLACE INTO people (id, handle, email) VALUES (105, 'ada2', NULL)"},                      // the key only
		{query: "REPLACE INTO people (handle, email, badge) VALUES ('auto', 'ada2@x', '5')"},               // a rowid of its own; '5' is 5 by affinity: deletes nothing, (1, 5) is free
		{query: "REPLACE INTO people (handle, org, badge) VALUES ('by-default', 2, '5')"},                  // deletes 7 by (org, badge), '5' matching 5
		{query: "INSERT INTO people (id, handle, org, badge) VALUES (20, 'twenty', 1, 77)"},
		{query: "REPLACE INTO people (id, handle, org, badge) VALUES (21, 'twenty-one', NULL, 77)"}, // NULL org takes its DEFAULT 1: deletes 20
		{query: "REPLACE INTO people (id, handle) VALUES (1, 'x') ON CONFLICT (id) DO NOTHING", refused: true},
		{query: "UPDATE OR REPLACE people SET handle = 'auto' WHERE id = 9", refused: true},
		{query: "REPLACE INTO people DEFAULT VALUES", refused: true},
		{query: "WITH s(i) AS (SELECT 50) REPLACE INTO people (id, handle) SELECT i, 'w' FROM s", refused: true},
		{query: "REPLACE INTO people (id, handle) VALUES (51, hex(randomblob(4)))", refused: true},
		{query: "REPLACE INTO people (id, handle, note) VALUES (52, datetime('now'), 'x')", refused: true},
		{query: "REPLACE INTO people (id, handle) VALUES (53, 'a'), (54, (SELECT handle FROM people WHERE id = 53))", refused: true},
	}
	for _, s := range steps {
		got, err := run(t, wrapped.db, s)
		if s.refused {
			if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "REPLACE") {
				t.Fatalf("%s: got %v, want ErrUnsupported naming REPLACE", s.query, err)
			}
		} else {
			want, rawErr := run(t, raw.raw, s)
			got.LastInsertID, want.LastInsertID = 0, 0
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:\n through dualwrite: %+v (%v)\n raw driver:        %+v (%v)", s.query, got, err, want, rawErr)
			}
		}
		if g, w := rows(t, wrapped.raw, "SELECT * FROM people ORDER BY id"), rows(t, raw.raw, "SELECT * FROM people ORDER BY id"); !reflect.DeepEqual(g, w) {
			t.Fatalf("after %s: people differs:\n through dualwrite: %v\n raw driver:        %v", s.query, g, w)
		}
		wrapped.checkInvariant()
	}
	if n := wrapped.count("people"); n < 5 {
		t.Fatalf("people has %d rows: the steps exercise too little", n)
	}

	// Inside a caller's transaction, rolled back: neither table keeps anything.
	before := rows(t, wrapped.raw, "SELECT * FROM persons ORDER BY pid")
	tx, err := wrapped.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "REPLACE INTO people (id, handle) VALUES (200, 'AUTO')")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if after := rows(t, wrapped.raw, "SELECT * FROM persons ORDER BY pid"); !reflect.DeepEqual(before, after) {
		t.Fatalf("a rolled back REPLACE changed persons: %v, was %v", after, before)
	}
	wrapped.checkInvariant()
}

// TestReplaceOtherUniqueRefused: where the rows REPLACE deletes cannot be
// found before it runs, it is refused, naming the reason, and nothing runs.
func TestReplaceOtherUniqueRefused(t *testing.T) {
	for _, c := range []struct{ index, want string }{
		{"CREATE UNIQUE INDEX people_note ON people (note) WHERE note IS NOT NULL", "people_note is partial"},
		{"CREATE UNIQUE INDEX people_lower ON people (lower(note))", "people_lower is on an expression"},
	} {
		e := newEnvWith(t, append(slices.Clone(peopleSchema), c.index), peopleMapping, dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}})
		if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
			t.Fatal(err)
		}
		_, err := e.db.Exec("REPLACE INTO people (id, handle) VALUES (1, 'a')")
		if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrUnsupported naming %q", c.index, err, c.want)
		}
		if n := e.count("people"); n != 0 {
			t.Errorf("%s: a refused REPLACE wrote %d rows", c.index, n)
		}
	}
}
