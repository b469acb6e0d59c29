package dualwrite_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// TestPostgresCompositeTypeKey: a mapped table whose key column is of a
// composite type is mirrored for every write form: INSERT, UPDATE of other
// columns, DELETE, a key change by field and of the whole key, and
// INSERT ... ON CONFLICT. Each statement also runs, through the base
// driver, on a twin of the old table: the old table must end as the twin
// (the statement ran as written) and new = up(old) must hold. An upsert
// that assigns a field of the key is refused, naming the table and the
// column, and writes nothing. In the write phase both, writes to the new
// tables are mirrored back alike.
func TestPostgresCompositeTypeKey(t *testing.T) {
	schema := []string{
		"CREATE TYPE pair AS (a int, b int)",
		"CREATE TABLE items (k pair PRIMARY KEY, v text)",
		"CREATE TABLE items_twin (k pair PRIMARY KEY, v text)",
		"CREATE TABLE items_new (key pair PRIMARY KEY, label text)",
		"CREATE TABLE grid (g int, k pair, v text, PRIMARY KEY (g, k))",
		"CREATE TABLE grid_twin (g int, k pair, v text, PRIMARY KEY (g, k))",
		"CREATE TABLE grid_new (g int, k pair, label text, PRIMARY KEY (g, k))",
		"CREATE DOMAIN dpair AS pair CHECK ((VALUE).a IS NOT NULL)",
		"CREATE TABLE boxes (k dpair PRIMARY KEY, v text)",
		"CREATE TABLE boxes_twin (k dpair PRIMARY KEY, v text)",
		"CREATE TABLE boxes_new (k dpair PRIMARY KEY, v text)",
	}
	yaml := `dialect: postgres
tables:
  - old: items
    new: items_new
    key: [k]
    columns: {key: k, label: upper(v)}
    reverse: {k: key, v: lower(label)}
  - old: grid
    new: grid_new
    key: [g, k]
    columns: {g: g, k: k, label: upper(v)}
    reverse: {g: g, k: k, v: lower(label)}
  - old: boxes
    new: boxes_new
    key: [k]
    columns: {k: k, v: v}
    reverse: {k: k, v: v}
`
	e := newEnvWith(t, schema, yaml, dbtest.Connector{DSN: pgtest.Schema(t), Base: &stdlib.Driver{}})
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO items VALUES (ROW(1, 2), 'a'), (ROW(3, 4), 'b'), (ROW(5, 6), 'c'), (ROW(7, 8), 'd')",
		"UPDATE items SET v = v || 'x' WHERE (k).a < 4",
		"DELETE FROM items WHERE (k).a = 5",
		"UPDATE items SET k.a = (k).a + 10 WHERE (k).b = 2",
		"UPDATE items AS i SET v = 'e', k.b = 40 WHERE (i.k).a = 3",
		"UPDATE items SET k = ROW((k).b, (k).a)::pair WHERE (k).a = 7",
		"UPDATE items SET k = ROW((k).a + 100, (k).b)",
		"INSERT INTO items VALUES (ROW(111, 2), 'f'), (ROW(9, 9), 'g') ON CONFLICT (k) DO UPDATE SET v = excluded.v",
		"INSERT INTO items VALUES (ROW(9, 9), 'h') ON CONFLICT DO NOTHING",
		"DELETE FROM items WHERE k = ROW(9, 9)::pair",
		"INSERT INTO grid VALUES (1, ROW(1, 2), 'a'), (1, ROW(3, 4), 'b'), (2, ROW(1, 2), 'c')",
		"UPDATE grid SET v = 'x' WHERE g = 1",
		"UPDATE grid SET k.a = (k).a + 10 WHERE g = 1",
		"UPDATE grid SET g = g + 1, k = ROW(0, 0)::pair WHERE (k).a = 1",
		"INSERT INTO grid VALUES (1, ROW(13, 4), 'y') ON CONFLICT (g, k) DO UPDATE SET v = excluded.v",
		"DELETE FROM grid WHERE (k).a = 11",
		"INSERT INTO boxes VALUES (ROW(1, 2), 'a'), (ROW(3, 4), 'b')",
		"UPDATE boxes SET k.a = (k).a + 10 WHERE (k).b = 2",
		"UPDATE boxes SET k = ROW(5, 5)::dpair WHERE (k).a = 3",
		"DELETE FROM boxes WHERE (k).a = 11",
	} {
		if _, err := e.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		twin := strings.NewReplacer("items", "items_twin", "grid", "grid_twin", "boxes", "boxes_twin").Replace(q)
		mustExec(t, e.raw, twin)
		for _, tb := range []string{"items", "grid", "boxes"} {
			got := rows(t, e.raw, "SELECT * FROM "+tb+" ORDER BY 1, 2")
			want := rows(t, e.raw, "SELECT * FROM "+tb+"_twin ORDER BY 1, 2")
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("after %s: %s = %v, want %v", q, tb, got, want)
			}
		}
		e.checkInvariant()
	}
	// An upsert that assigns a field of the key is refused before it runs,
	// as any upsert that assigns a key column: nothing is written.
	q := "INSERT INTO items VALUES (ROW(111, 2), 'z'), (ROW(1, 1), 'z') ON CONFLICT (k) DO UPDATE SET k.a = 50"
	before := [][][]any{rows(t, e.raw, "SELECT * FROM items ORDER BY 1"), rows(t, e.raw, "SELECT * FROM items_new ORDER BY 1")}
	_, err := e.db.Exec(q)
	if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "items") || !strings.Contains(err.Error(), "key column k") {
		t.Errorf("%s: %v, want ErrUnsupported naming items and its key column k", q, err)
	}
	after := [][][]any{rows(t, e.raw, "SELECT * FROM items ORDER BY 1"), rows(t, e.raw, "SELECT * FROM items_new ORDER BY 1")}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("%s was refused but wrote: %v, was %v", q, after, before)
	}
	// In the write phase both, writes to the new tables bind their
	// composite keys with their types too, mirrored back.
	if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO items_new VALUES (ROW(500, 5), 'NEW'), (ROW(501, 5), 'NEWER')",
		"UPDATE items_new SET label = 'Q' WHERE (key).a > 100",
		"UPDATE items_new SET key.a = (key).a + 1000 WHERE (key).a = 501",
		"DELETE FROM items_new WHERE (key).a = 500",
		"UPDATE grid_new SET k = ROW(7, 7)::pair WHERE g = 2",
		"DELETE FROM boxes_new",
	} {
		if _, err := e.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		e.checkDown()
	}
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	// The statements leave rows on each side: the comparisons above were
	// not of empty tables only.
	for tb, want := range map[string]int{"items_new": 4, "grid_new": 2, "boxes_new": 0, "boxes": 0} {
		if n := e.count(tb); n != want {
			t.Errorf("%s has %d rows, want %d", tb, n, want)
		}
	}
}
