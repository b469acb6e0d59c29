package verify_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/readpath"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

// roundTripUsers are old rows of users: names that split and join back, and
// names the corpus mapping's first_name/last_name split cannot give back (a
// leading, a trailing or a double space; the double space survives in
// PostgreSQL, whose split keeps the second space in last_name), with and
// without an email.
var roundTripUsers = []struct {
	id          int
	name, email any
}{
	{1, "Ada Lovelace", "ada@example.com"},
	{2, "Ada  Lovelace", nil},
	{3, " Ada", "lead@example.com"},
	{4, "Grace Hopper ", nil},
	{5, "Plato", nil},
	{6, "Alan Mathison Turing", "alan@example.com"},
	{7, "", nil},
}

// roundTripMembers are old rows of memberships (a composite key): roles
// that upper and lower give back, and roles whose case they change.
var roundTripMembers = []struct {
	org, usr int
	role     any
}{
	{1, 1, "admin"}, {1, 2, "Admin"}, {1, 3, nil}, {2, 1, "OWNER"}, {2, 2, "member"}, {3, 1, "mEmber"}, {3, 2, nil},
}

// fillRoundTrip puts roundTripUsers and roundTripMembers in the old tables.
func (b *backend) fillRoundTrip(t *testing.T) {
	t.Helper()
	for _, u := range roundTripUsers {
		exec(t, b.db, fmt.Sprintf("INSERT INTO users (id, full_name, email, visits) VALUES (%s, %s, %s, %s)", b.ph(1), b.ph(2), b.ph(3), b.ph(4)),
			u.id, u.name, u.email, u.id%3)
	}
	for _, m := range roundTripMembers {
		exec(t, b.db, fmt.Sprintf("INSERT INTO memberships (org_id, user_id, role) VALUES (%s, %s, %s)", b.ph(1), b.ph(2), b.ph(3)),
			m.org, m.usr, m.role)
	}
}

// change is a key whose row changes shape, spelled for comparison: its
// key values in key column order, then each changing column with the
// expected and the actual value (`[3] full_name: " Ada" -> "Ada"`).
type change string

func spell(key []any, cols []verify.ColumnDiff) change {
	var b strings.Builder
	fmt.Fprint(&b, key)
	for _, c := range cols {
		fmt.Fprintf(&b, " %s: %#v -> %#v", c.Column, c.Expected, c.Actual)
	}
	return change(b.String())
}

// reported returns the changes a table report's mismatched samples name,
// in key order.
func reported(t *testing.T, tb *mapping.Table, tr *verify.TableReport) []change {
	t.Helper()
	out := []change{}
	for i, k := range keys(t, tb, tr.Samples.Mismatched) {
		out = append(out, spell(k, tr.Samples.Mismatched[i].Columns))
	}
	return out
}

// storedRoundTrip is the test's oracle, independent of RoundTrip's SQL: it
// reads down(new row) by the reverse expressions from the new table, which
// must hold up(old) (copyUp), and compares it in Go with the old row. It
// returns the changes of tb in key order.
func (b *backend) storedRoundTrip(t *testing.T, tb *mapping.Table) []change {
	t.Helper()
	var old, down []string
	for _, c := range tb.Reverse {
		old = append(old, b.d.Quote(c.Name))
		down = append(down, c.Expr)
	}
	oldKey, newKey := strings.Join(quoted(b, tb.Key), ", "), strings.Join(quoted(b, tb.NewKey), ", ")
	olds := b.query(t, len(tb.Key)+len(old), fmt.Sprintf("SELECT %s, %s FROM %s ORDER BY %s",
		oldKey, strings.Join(old, ", "), b.d.Quote(tb.Old), oldKey))
	downs := b.query(t, len(tb.NewKey)+len(down), fmt.Sprintf("SELECT %s, %s FROM %s ORDER BY %s",
		newKey, strings.Join(down, ", "), b.d.Quote(tb.New), newKey))
	if len(olds) != len(downs) {
		t.Fatalf("%d old rows, %d new rows: the new table does not hold up(old)", len(olds), len(downs))
	}
	out := []change{}
	w := len(tb.Key)
	for i, o := range olds {
		if fmt.Sprint(o[:w]) != fmt.Sprint(downs[i][:w]) {
			t.Fatalf("old key %v, new key %v: the new table does not hold up(old)", o[:w], downs[i][:w])
		}
		var diffs []verify.ColumnDiff
		for j, c := range tb.Reverse {
			if readpath.Normalize(o[w+j]) != readpath.Normalize(downs[i][w+j]) {
				diffs = append(diffs, verify.ColumnDiff{Column: c.Name, Expected: text(o[w+j]), Actual: text(downs[i][w+j])})
			}
		}
		if diffs != nil {
			out = append(out, spell(o[:w], diffs))
		}
	}
	return out
}

// text returns a value read from the database as a sample shows it.
func text(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// query returns every row of query, each of n columns.
func (b *backend) query(t *testing.T, n int, query string) [][]any {
	t.Helper()
	rows, err := b.db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		row := make([]any, n)
		ptrs := make([]any, n)
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func quoted(b *backend, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = b.d.Quote(n)
	}
	return out
}

// roundTrip runs verify.RoundTrip on m and fails the test on error.
func (b *backend) roundTrip(t *testing.T, m *mapping.Mapping, opts verify.Options) *verify.Report {
	t.Helper()
	rep, err := verify.RoundTrip(context.Background(), b.db, b.d, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tables) != len(m.Tables) {
		t.Fatalf("%d table reports, want %d", len(rep.Tables), len(m.Tables))
	}
	return rep
}

// TestRoundTrip: the report names exactly the old rows whose round trip
// down(up(old)) differs, with exactly their changing columns, as storing
// up(old) in the new tables and reading it back by the reverse
// expressions finds them; rows that round-trip (NULLs included) count as
// matching; single and composite keys, across ranges of 2 keys and in one
// range.
func TestRoundTrip(t *testing.T) {
	forEach(t, corpusFixture, func(t *testing.T, b *backend) {
		empty := b.roundTrip(t, b.m, verify.Options{})
		for _, tr := range empty.Tables {
			if !tr.OK || countsOf(tr) != (counts{}) {
				t.Fatalf("empty %s: %+v", tr.Table, tr)
			}
		}
		b.fillRoundTrip(t)
		var reports []*verify.Report
		for _, batch := range []int{2, 100} {
			reports = append(reports, b.roundTrip(t, b.m, verify.Options{BatchSize: batch, SampleSize: 100}))
		}
		b.copyUp(t)
		want := map[string][]change{}
		for _, tb := range b.m.Tables {
			want[tb.Old] = b.storedRoundTrip(t, tb)
		}
		// The oracle sees what the fixture is made of.
		for _, c := range []string{`[3] full_name: " Ada" -> "Ada"`, `[1 2] role: "Admin" -> "admin"`, `[2 1] role: "OWNER" -> "owner"`} {
			if !strings.Contains(fmt.Sprint(want), c) {
				t.Fatalf("the stored round trip %q lacks %s", want, c)
			}
		}
		for _, rep := range reports {
			if rep.OK {
				t.Errorf("report OK with rows that change shape")
			}
			for i, tb := range b.m.Tables {
				tr := rep.Tables[i]
				if got := reported(t, tb, tr); !reflect.DeepEqual(got, want[tb.Old]) {
					t.Errorf("%s: changes %q\nwant %q", tb.Old, got, want[tb.Old])
				}
				rows := map[string]int64{"users": int64(len(roundTripUsers)), "memberships": int64(len(roundTripMembers))}[tb.Old]
				changed := int64(len(want[tb.Old]))
				if c := countsOf(tr); c != (counts{processed: rows, matching: rows - changed, mismatched: changed}) || tr.OK {
					t.Errorf("%s: %+v, OK %v; want %d rows, %d changing shape", tb.Old, c, tr.OK, rows, changed)
				}
			}
		}
	})
}

// TestRoundTripClean: rows that all round-trip give an OK report; a limit
// checks the first keys only.
func TestRoundTripClean(t *testing.T) {
	forEach(t, corpusFixture, func(t *testing.T, b *backend) {
		b.fillCorpus(t)
		rep := b.roundTrip(t, b.m, verify.Options{BatchSize: 7})
		for _, tr := range rep.Tables {
			rows := map[string]int64{"users": 100, "memberships": 60}[tr.Table]
			if !tr.OK || countsOf(tr) != (counts{processed: rows, matching: rows}) {
				t.Errorf("%s: %+v, want %d rows matching", tr.Table, tr, rows)
			}
		}
		if !rep.OK {
			t.Errorf("report not OK")
		}
		// An old row that changes shape past the limit is not seen; one
		// within it is.
		exec(t, b.db, "UPDATE users SET full_name = ' x' WHERE id = 50")
		for _, limit := range []int64{10, 50} {
			rep = b.roundTrip(t, b.m, verify.Options{BatchSize: int(limit), Limit: limit})
			want := counts{processed: limit, matching: limit}
			if limit == 50 {
				want = counts{processed: limit, matching: limit - 1, mismatched: 1}
			}
			if countsOf(rep.Tables[0]) != want || rep.Tables[1].RowsProcessed != limit {
				t.Errorf("limit %d: users %+v, memberships %+v; want users %+v", limit, countsOf(rep.Tables[0]), countsOf(rep.Tables[1]), want)
			}
		}
	})
}

// TestReverseDirection: verifying the flipped mapping (old = down(new))
// finds the old row whose name has a leading space, which forward
// verification calls matching: up(old) is stored, but down(new) is not
// the old row.
func TestReverseDirection(t *testing.T) {
	forEach(t, corpusFixture, func(t *testing.T, b *backend) {
		b.fillCorpus(t)
		prefix := "' ' || full_name"
		if b.d == rewrite.MySQL {
			prefix = "CONCAT(' ', full_name)" // || is OR
		}
		exec(t, b.db, "UPDATE users SET full_name = "+prefix+" WHERE id = 42")
		exec(t, b.db, "DELETE FROM accounts")
		exec(t, b.db, "DELETE FROM members")
		b.copyUp(t)
		if rep := b.run(t, verify.Options{}); !rep.OK {
			t.Fatalf("forward: %+v, want OK", rep.Tables[0])
		}
		rep, err := verify.Run(context.Background(), b.db, b.d, b.m.Flip(), verify.Options{BatchSize: 9})
		if err != nil {
			t.Fatal(err)
		}
		tr := rep.Tables[0]
		if rep.OK || tr.Table != "accounts" || countsOf(tr) != (counts{processed: 100, matching: 99, mismatched: 1}) || !rep.Tables[1].OK {
			t.Fatalf("reverse: %+v, want one mismatch", tr)
		}
		got := spell(keys(t, b.m.Flip().Tables[0], tr.Samples.Mismatched)[0], tr.Samples.Mismatched[0].Columns)
		if want := change(`[42] full_name: "Name42 Family42" -> " Name42 Family42"`); got != want {
			t.Fatalf("reverse: %s, want %s", got, want)
		}
	})
}

// TestRoundTripStoredTypes: in PostgreSQL the round trip casts each
// computed value to the type of the column that would store it, so a
// price that the new integer column of cents rounds changes shape, while
// prices that survive the trip, a char(5) padding that rtrim removes
// again, and NULLs do not.
func TestRoundTripStoredTypes(t *testing.T) {
	dsn := pgtest.Schema(t)
	b := open(t, "pgx", dsn, rewrite.Postgres, []string{
		"CREATE TABLE items (id bigint PRIMARY KEY, price numeric(10,3), code varchar(3))",
		"CREATE TABLE goods (gid bigint PRIMARY KEY, cents integer, code char(5))",
		"INSERT INTO items VALUES (1, 1.25, 'ab'), (2, 1.005, 'abc'), (3, NULL, NULL)",
	}, `
dialect: postgres
tables:
  - old: items
    new: goods
    key: [id]
    columns: {gid: id, cents: "price * 100", code: code}
    reverse: {id: gid, price: "cents / 100.0", code: "rtrim(code)"}
`)
	rep := b.roundTrip(t, b.m, verify.Options{})
	tr := rep.Tables[0]
	got := reported(t, b.m.Tables[0], tr)
	if want := []change{`[2] price: "1.005" -> "1.010"`}; !reflect.DeepEqual(got, want) || countsOf(tr) != (counts{processed: 3, matching: 2, mismatched: 1}) {
		t.Fatalf("%+v: changes %q, want %q", countsOf(tr), got, want)
	}
}
