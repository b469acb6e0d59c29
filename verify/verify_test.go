package verify_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

// fixture is a schema and its mapping in each dialect.
type fixture struct {
	sqliteSchema   []string
	sqliteMapping  string
	postgresSchema []string
	postgresMap    string
	mysqlSchema    []string
	mysqlMapping   string
}

var corpusFixture = fixture{corpus.Schema, corpus.Mapping, corpus.PostgresSchema, corpus.PostgresMapping, corpus.MySQLSchema, corpus.MySQLMapping}

// backend is one database with a fixture's tables, opened with the base
// driver.
type backend struct {
	driver, dsn string
	db          *sql.DB
	d           *rewrite.Dialect
	m           *mapping.Mapping
}

// forEach runs test against SQLite, against PostgreSQL (skipped unless
// pgtest.DSNEnv is set) and against MariaDB (skipped unless mytest.DSNEnv
// is set), each with the fixture's tables, empty.
func forEach(t *testing.T, f fixture, test func(t *testing.T, b *backend)) {
	t.Run("sqlite", func(t *testing.T) {
		test(t, open(t, "sqlite3", sqliteDSN(t), rewrite.SQLite, f.sqliteSchema, f.sqliteMapping))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Schema(t)
		test(t, open(t, "pgx", dsn, rewrite.Postgres, f.postgresSchema, f.postgresMap))
	})
	t.Run("mysql", func(t *testing.T) {
		dsn := mytest.Database(t)
		test(t, open(t, "mysql", dsn, rewrite.MySQL, f.mysqlSchema, f.mysqlMapping))
	})
}

// sqliteDSN returns the DSN of a new SQLite file in WAL mode.
func sqliteDSN(t testing.TB) string { return dbtest.SQLiteDSN(t, "&_txlock=immediate") }

func open(t *testing.T, driverName, dsn string, d *rewrite.Dialect, schema []string, yaml string) *backend {
	t.Helper()
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range schema {
		exec(t, db, s)
	}
	m, err := mapping.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return &backend{driver: driverName, dsn: dsn, db: db, d: d, m: m}
}

func exec(t testing.TB, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// ph returns the n-th parameter of b's dialect.
func (b *backend) ph(n int) string { return b.d.Placeholder(n) }

// copyUp fills every new table with exactly up(old), by the mapping's
// expressions.
func (b *backend) copyUp(t testing.TB) {
	t.Helper()
	for _, tb := range b.m.Tables {
		var cols, exprs []string
		for _, c := range tb.Columns {
			cols = append(cols, b.d.Quote(c.Name))
			exprs = append(exprs, c.Expr)
		}
		exec(t, b.db, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
			b.d.Quote(tb.New), strings.Join(cols, ", "), strings.Join(exprs, ", "), b.d.Quote(tb.Old)))
	}
}

// fillCorpus puts 100 users (ids 1 to 100) and 60 memberships (orgs 1 to 5,
// users 1 to 12) in the old tables of the corpus, and up(old) in the new
// ones.
func (b *backend) fillCorpus(t testing.TB) {
	t.Helper()
	tx, err := b.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	insUser := fmt.Sprintf("INSERT INTO users (id, full_name, email, visits) VALUES (%s, %s, %s, %s)", b.ph(1), b.ph(2), b.ph(3), b.ph(4))
	for i := 1; i <= 100; i++ {
		name := fmt.Sprintf("Name%d Family%d", i, i)
		switch i % 10 {
		case 0:
			name = fmt.Sprintf("Mono%d", i)
		case 5:
			name = fmt.Sprintf("Ana%d Maria Family%d", i, i)
		}
		var email any = fmt.Sprintf("u%d@example.com", i)
		if i%7 == 0 {
			email = nil
		}
		if _, err := tx.Exec(insUser, i, name, email, i%13); err != nil {
			t.Fatal(err)
		}
	}
	insMember := fmt.Sprintf("INSERT INTO memberships (org_id, user_id, role) VALUES (%s, %s, %s)", b.ph(1), b.ph(2), b.ph(3))
	for org := 1; org <= 5; org++ {
		for usr := 1; usr <= 12; usr++ {
			var role any = []string{"admin", "member", "owner"}[(org+usr)%3]
			if org*usr%11 == 0 {
				role = nil
			}
			if _, err := tx.Exec(insMember, org, usr, role); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	b.copyUp(t)
}

// run verifies b's whole mapping and fails the test on error.
func (b *backend) run(t testing.TB, opts verify.Options) *verify.Report {
	t.Helper()
	rep, err := verify.Run(context.Background(), b.db, b.d, b.m, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tables) != len(b.m.Tables) {
		t.Fatalf("%d table reports, want %d", len(rep.Tables), len(b.m.Tables))
	}
	return rep
}

// counts are a table report's counters.
type counts struct{ processed, matching, mismatched, missing, extra int64 }

func countsOf(r *verify.TableReport) counts {
	return counts{r.RowsProcessed, r.Matching, r.Mismatched, r.MissingInNew, r.ExtraInNew}
}

// keys returns the keys of samples, each as its values in key column order.
func keys(t *testing.T, tb *mapping.Table, samples []verify.Sample) [][]any {
	t.Helper()
	var out [][]any
	for _, s := range samples {
		if len(s.Key) != len(tb.Key) {
			t.Fatalf("sample key %v, want the columns %v", s.Key, tb.Key)
		}
		var k []any
		for _, c := range tb.Key {
			v, ok := s.Key[c]
			if !ok {
				t.Fatalf("sample key %v has no column %s", s.Key, c)
			}
			k = append(k, v)
		}
		out = append(out, k)
	}
	return out
}

// TestConsistent: tables where new = up(old) verify clean across many small
// ranges, single and composite keys, with progress after each range; empty
// tables verify clean too.
func TestConsistent(t *testing.T) {
	forEach(t, corpusFixture, func(t *testing.T, b *backend) {
		empty := b.run(t, verify.Options{BatchSize: 7})
		for _, tr := range empty.Tables {
			if !tr.OK || countsOf(tr) != (counts{}) {
				t.Fatalf("empty %s: %+v", tr.Table, tr)
			}
		}
		b.fillCorpus(t)
		var progress []verify.Progress
		rep := b.run(t, verify.Options{BatchSize: 7, Progress: func(p verify.Progress) { progress = append(progress, p) }})
		if !rep.OK {
			t.Fatalf("report not OK: %+v", rep)
		}
		want := map[string]int64{"users": 100, "memberships": 60}
		for _, tr := range rep.Tables {
			n := want[tr.Table]
			if got := countsOf(tr); got != (counts{processed: n, matching: n}) || !tr.OK {
				t.Errorf("%s: %+v, want %d rows processed, all matching", tr.Table, got, n)
			}
			if len(tr.Samples.Mismatched)+len(tr.Samples.MissingInNew)+len(tr.Samples.ExtraInNew) != 0 {
				t.Errorf("%s: samples %+v, want none", tr.Table, tr.Samples)
			}
			var ranges []verify.Progress
			for _, p := range progress {
				if p.Table == tr.Table {
					ranges = append(ranges, p)
				}
			}
			// A range holds at most 7 keys, so there are more than n/7 of them.
			if len(ranges) <= int(n)/7 {
				t.Fatalf("%s: %d ranges, want more than %d", tr.Table, len(ranges), n/7)
			}
			for i, p := range ranges {
				if i > 0 && p.RowsProcessed < ranges[i-1].RowsProcessed {
					t.Fatalf("%s: progress went back: %+v after %+v", tr.Table, p, ranges[i-1])
				}
				if p.RowsProcessed+p.RowsLeft != n && i < len(ranges)-1 {
					t.Fatalf("%s: progress %+v: processed + left != %d", tr.Table, p, n)
				}
			}
			if last := ranges[len(ranges)-1]; last.RowsProcessed != n || last.RowsLeft != 0 || last.NewTable != tr.NewTable {
				t.Fatalf("%s: last progress %+v", tr.Table, last)
			}
		}
	})
}

// corrupt breaks the corpus tables in each kind of difference: users 3 has
// a wrong last_name, 10 has no new row, 0 (before the first old key), 50
// (between old keys) and 1000 (beyond the last old key) have new rows
// only; memberships (2, 3) has a wrong role_name, (3, 4) no new row, and
// (2, 100) and (9, 1) new rows only.
func (b *backend) corrupt(t testing.TB) {
	exec(t, b.db, "UPDATE accounts SET last_name = 'Corrupt' WHERE account_id = 3")
	exec(t, b.db, "DELETE FROM accounts WHERE account_id = 10")
	exec(t, b.db, "DELETE FROM users WHERE id = 50")
	exec(t, b.db, "INSERT INTO accounts (account_id, first_name, last_name, visits) VALUES (0, 'Zero', 'Extra', 0), (1000, 'Late', 'Extra', 0)")
	exec(t, b.db, "UPDATE members SET role_name = 'WRONG' WHERE org = 2 AND usr = 3")
	exec(t, b.db, "DELETE FROM members WHERE org = 3 AND usr = 4")
	exec(t, b.db, "INSERT INTO members (org, usr, role_name) VALUES (2, 100, 'X'), (9, 1, 'Y')")
}

// TestDifferences: each kind of difference is counted exactly and sampled
// with its key, and a mismatch with the differing column and both values,
// whatever the range size.
func TestDifferences(t *testing.T) {
	forEach(t, corpusFixture, func(t *testing.T, b *backend) {
		b.fillCorpus(t)
		b.corrupt(t)
		for _, batch := range []int{1, 7, 1000} {
			rep := b.run(t, verify.Options{BatchSize: batch})
			if rep.OK {
				t.Fatalf("batch %d: report OK despite differences", batch)
			}
			users, members := rep.Tables[0], rep.Tables[1]
			// users: 99 old keys, and 0, 50 and 1000 in new only.
			if got, want := countsOf(users), (counts{processed: 102, matching: 97, mismatched: 1, missing: 1, extra: 3}); got != want || users.OK {
				t.Errorf("batch %d: users %+v, want %+v", batch, got, want)
			}
			ut := b.m.Tables[0]
			if got, want := keys(t, ut, users.Samples.MissingInNew), [][]any{{int64(10)}}; !reflect.DeepEqual(got, want) {
				t.Errorf("batch %d: users missing %v, want %v", batch, got, want)
			}
			if got, want := keys(t, ut, users.Samples.ExtraInNew), [][]any{{int64(0)}, {int64(50)}, {int64(1000)}}; !reflect.DeepEqual(got, want) {
				t.Errorf("batch %d: users extra %v, want %v", batch, got, want)
			}
			wantMismatch := []verify.Sample{{
				Key:     map[string]any{"id": int64(3)},
				Columns: []verify.ColumnDiff{{Column: "last_name", Expected: "Family3", Actual: "Corrupt"}},
			}}
			if !reflect.DeepEqual(users.Samples.Mismatched, wantMismatch) {
				t.Errorf("batch %d: users mismatched %+v, want %+v", batch, users.Samples.Mismatched, wantMismatch)
			}
			// memberships: 60 old keys, and (2, 100) and (9, 1) in new only.
			if got, want := countsOf(members), (counts{processed: 62, matching: 58, mismatched: 1, missing: 1, extra: 2}); got != want {
				t.Errorf("batch %d: memberships %+v, want %+v", batch, got, want)
			}
			mt := b.m.Tables[1]
			if got, want := keys(t, mt, members.Samples.MissingInNew), [][]any{{int64(3), int64(4)}}; !reflect.DeepEqual(got, want) {
				t.Errorf("batch %d: memberships missing %v, want %v", batch, got, want)
			}
			if got, want := keys(t, mt, members.Samples.ExtraInNew), [][]any{{int64(2), int64(100)}, {int64(9), int64(1)}}; !reflect.DeepEqual(got, want) {
				t.Errorf("batch %d: memberships extra %v, want %v", batch, got, want)
			}
			wantRole := []verify.Sample{{
				Key:     map[string]any{"org_id": int64(2), "user_id": int64(3)},
				Columns: []verify.ColumnDiff{{Column: "role_name", Expected: "OWNER", Actual: "WRONG"}},
			}}
			if !reflect.DeepEqual(members.Samples.Mismatched, wantRole) {
				t.Errorf("batch %d: memberships mismatched %+v, want %+v", batch, members.Samples.Mismatched, wantRole)
			}
		}
	})
}

// typesFixture has new columns of other types than the up expressions: the
// values are equal data, except in rows 2 (a lossy conversion), 3 (NULL in
// up(old), a value in new) and 4 (the reverse).
var typesFixture = fixture{
	sqliteSchema: []string{
		`CREATE TABLE t_old (id INTEGER PRIMARY KEY, a INTEGER, b REAL, c TEXT, d TEXT, e TEXT, f TEXT)`,
		`CREATE TABLE t_new (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c INTEGER, d DATETIME, e TEXT, f TEXT)`,
	},
	sqliteMapping: typesMapping("sqlite"),
	postgresSchema: []string{
		`CREATE TABLE t_old (id int PRIMARY KEY, a int, b numeric(10,0), c float8, d text, e text, f text)`,
		`CREATE TABLE t_new (id bigint PRIMARY KEY, a bigint, b int, c int, d varchar(40), e text, f text)`,
	},
	postgresMap: typesMapping("postgres"),
	mysqlSchema: []string{
		`CREATE TABLE t_old (id INT PRIMARY KEY, a INT, b DECIMAL(10,0), c DOUBLE, d TEXT, e TEXT, f TEXT)`,
		`CREATE TABLE t_new (id BIGINT PRIMARY KEY, a BIGINT, b INT, c INT, d VARCHAR(40), e TEXT, f TEXT)`,
	},
	mysqlMapping: typesMapping("mysql"),
}

func typesMapping(dialect string) string {
	return `
dialect: ` + dialect + `
tables:
  - old: t_old
    new: t_new
    key: [id]
    columns: {id: id, a: a, b: b, c: c, d: d, e: e, f: f}
    reverse: {id: id, a: a, b: b, c: c, d: d, e: e, f: f}
`
}

// TestEqualAcrossTypes: equal data in different types compares equal, as
// in the read path; NULL equals NULL and differs from a value; a lossy
// conversion is a mismatch.
func TestEqualAcrossTypes(t *testing.T) {
	forEach(t, typesFixture, func(t *testing.T, b *backend) {
		ins := fmt.Sprintf("INSERT INTO t_old VALUES (%s, %s, %s, %s, %s, %s, %s)", b.ph(1), b.ph(2), b.ph(3), b.ph(4), b.ph(5), b.ph(6), b.ph(7))
		lossy := "007" // SQLite's INTEGER affinity stores 7
		var lost any = "007"
		var kept any = int64(7)
		if b.d != rewrite.SQLite {
			lossy = "2.75" // an assignment to int rounds to 3
			lost, kept = 2.75, int64(3)
		}
		for id := 1; id <= 20; id++ {
			c := "7"
			if id == 2 {
				c = lossy
			}
			var e, f any = nil, "w"
			exec(t, b.db, ins, id, 5, 2.0, c, "2024-01-02 03:04:05", e, f)
		}
		b.copyUp(t)
		exec(t, b.db, "UPDATE t_new SET e = 'v' WHERE id = 3")
		exec(t, b.db, "UPDATE t_new SET f = NULL WHERE id = 4")

		rep, err := verify.Table(context.Background(), b.db, b.d, b.m.Tables[0], verify.Options{BatchSize: 6})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := countsOf(rep), (counts{processed: 20, matching: 17, mismatched: 3}); got != want || rep.OK {
			t.Fatalf("%+v, want %+v", got, want)
		}
		want := []verify.Sample{
			{Key: map[string]any{"id": int64(2)}, Columns: []verify.ColumnDiff{{Column: "c", Expected: lost, Actual: kept}}},
			{Key: map[string]any{"id": int64(3)}, Columns: []verify.ColumnDiff{{Column: "e", Expected: nil, Actual: "v"}}},
			{Key: map[string]any{"id": int64(4)}, Columns: []verify.ColumnDiff{{Column: "f", Expected: "w", Actual: nil}}},
		}
		if !reflect.DeepEqual(rep.Samples.Mismatched, want) {
			t.Fatalf("mismatched %+v,\nwant %+v", rep.Samples.Mismatched, want)
		}
	})
}

// TestSQLiteDatetimeKey: keys of a column declared DATETIME, stored as text
// in several layouts, are walked range by range as stored (go-sqlite3
// would read such a column as a time.Time, which binds back in another
// layout), so every key is compared once, by Run and by RoundTrip.
func TestSQLiteDatetimeKey(t *testing.T) {
	b := open(t, "sqlite3", sqliteDSN(t), rewrite.SQLite, []string{
		`CREATE TABLE ev_old (at DATETIME NOT NULL PRIMARY KEY, v TEXT)`,
		`CREATE TABLE ev_new (at DATETIME NOT NULL PRIMARY KEY, v TEXT)`,
	}, `
tables:
  - old: ev_old
    new: ev_new
    key: [at]
    columns: {at: at, v: v}
    reverse: {at: at, v: v}
`)
	exec(t, b.db, `INSERT INTO ev_old VALUES ('2024-01-01T10:00:00Z', 'a'), ('2024-01-01 10:00:01', 'b'),
		('2024-01-01T10:00:02', 'c'), ('2024-01-02', 'd'), ('2024-01-02 00:00:00.5+02:00', 'e')`)
	b.copyUp(t)
	exec(t, b.db, `INSERT INTO ev_new VALUES ('2024-01-01T10:00:01.5Z', 'x')`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := verify.Run(ctx, b.db, b.d, b.m, verify.Options{BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(rep.Tables[0]), (counts{processed: 6, matching: 5, extra: 1}); got != want {
		t.Fatalf("%+v, want %+v", got, want)
	}
	// The round trip walks the old table's keys the same way.
	exec(t, b.db, `UPDATE ev_old SET v = NULL WHERE v = 'c'`)
	rep, err = verify.RoundTrip(ctx, b.db, b.d, b.m, verify.Options{BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(rep.Tables[0]), (counts{processed: 5, matching: 5}); got != want {
		t.Fatalf("round trip: %+v, want %+v", got, want)
	}
}

// TestSampleBoundAndJSON: samples stop at SampleSize, the first ones in key
// order, while the counts stay exact; the JSON report has the documented
// field names and round-trips through encoding/json.
func TestSampleBoundAndJSON(t *testing.T) {
	forEach(t, corpusFixture, func(t *testing.T, b *backend) {
		b.fillCorpus(t)
		exec(t, b.db, "UPDATE accounts SET last_name = 'X' WHERE account_id IN (2, 4, 6, 8, 12)")
		exec(t, b.db, "DELETE FROM accounts WHERE account_id BETWEEN 20 AND 23")
		exec(t, b.db, "INSERT INTO accounts (account_id, visits) VALUES (200, 0), (201, 0), (202, 0)")
		rep := b.run(t, verify.Options{BatchSize: 9, SampleSize: 2})
		users := rep.Tables[0]
		if got, want := countsOf(users), (counts{processed: 103, matching: 91, mismatched: 5, missing: 4, extra: 3}); got != want {
			t.Fatalf("users %+v, want %+v", got, want)
		}
		ut := b.m.Tables[0]
		for _, c := range []struct {
			kind    string
			samples []verify.Sample
			want    [][]any
		}{
			{"mismatched", users.Samples.Mismatched, [][]any{{int64(2)}, {int64(4)}}},
			{"missing", users.Samples.MissingInNew, [][]any{{int64(20)}, {int64(21)}}},
			{"extra", users.Samples.ExtraInNew, [][]any{{int64(200)}, {int64(201)}}},
		} {
			if got := keys(t, ut, c.samples); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s samples %v, want %v", c.kind, got, c.want)
			}
		}

		data, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		wantFields(t, "report", doc, "ok", "tables", "duration_seconds")
		if doc["ok"] != false {
			t.Errorf("ok = %v, want false", doc["ok"])
		}
		tables := doc["tables"].([]any)
		table := tables[0].(map[string]any)
		wantFields(t, "table", table, "table", "new_table", "ok", "rows_processed", "matching", "mismatched",
			"missing_in_new", "extra_in_new", "samples", "duration_seconds")
		if table["table"] != "users" || table["new_table"] != "accounts" || table["rows_processed"] != 103.0 || table["mismatched"] != 5.0 {
			t.Errorf("table %v", table)
		}
		samples := table["samples"].(map[string]any)
		wantFields(t, "samples", samples, "mismatched", "missing_in_new", "extra_in_new")
		mismatch := samples["mismatched"].([]any)[0].(map[string]any)
		wantFields(t, "sample", mismatch, "key", "columns")
		column := mismatch["columns"].([]any)[0].(map[string]any)
		wantFields(t, "column", column, "column", "expected", "actual")
		if column["column"] != "last_name" || column["expected"] != "Family2" || column["actual"] != "X" {
			t.Errorf("column %v", column)
		}
		missing := samples["missing_in_new"].([]any)[0].(map[string]any)
		wantFields(t, "missing sample", missing, "key")
		if clean := tables[1].(map[string]any)["samples"].(map[string]any); fmt.Sprint(clean["mismatched"]) != "[]" {
			t.Errorf("a clean table's samples are %v, want empty lists", clean)
		}

		var back verify.Report
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		again, err := json.Marshal(&back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, again) {
			t.Fatalf("JSON does not round-trip:\n%s\n%s", data, again)
		}
	})
}

// wantFields fails unless the JSON object has exactly the given fields.
func wantFields(t *testing.T, what string, obj map[string]any, fields ...string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(fields)
	if !slices.Equal(got, fields) {
		t.Errorf("%s fields %v, want %v", what, got, fields)
	}
}

// TestFailureLeavesNoTransaction: a query that fails in the middle of the
// walk (an up expression that fails on one row) names the table and the
// range, and leaves the connection out of any transaction: a write on the
// same pool, which has one connection, commits and is seen by another one.
// A cancelled context stops the walk with its error.
func TestFailureLeavesNoTransaction(t *testing.T) {
	forEach(t, corpusFixture, func(t *testing.T, b *backend) {
		b.fillCorpus(t)
		b.db.SetMaxOpenConns(1)
		failing := `visits + abs(CASE WHEN id = 50 THEN -9223372036854775807 - 1 ELSE 0 END)` // integer overflow
		switch b.d {
		case rewrite.Postgres:
			failing = `visits / (id - 50)` // division by zero
		case rewrite.MySQL:
			failing = `visits + CASE WHEN id = 50 THEN 9223372036854775807 ELSE 0 END` // BIGINT out of range
		}
		bad := *b.m.Tables[0]
		bad.Columns = slices.Clone(bad.Columns)
		for i, c := range bad.Columns {
			if c.Name == "visits" {
				bad.Columns[i].Expr = failing
			}
		}
		_, err := verify.Table(context.Background(), b.db, b.d, &bad, verify.Options{BatchSize: 10})
		if err == nil || !strings.Contains(err.Error(), "verify users -> accounts: comparing the keys after (id) = (") {
			t.Fatalf("got %v, want an error naming the table and the range", err)
		}
		exec(t, b.db, "UPDATE users SET visits = 99 WHERE id = 1")
		other, err := sql.Open(b.driver, b.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		var visits int
		if err := other.QueryRow("SELECT visits FROM users WHERE id = 1").Scan(&visits); err != nil || visits != 99 {
			t.Fatalf("another connection reads visits = %d (%v), want the committed 99", visits, err)
		}

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		_, err = verify.Run(ctx, b.db, b.d, b.m, verify.Options{BatchSize: 10, Progress: func(verify.Progress) { calls++; cancel() }})
		if !errors.Is(err, context.Canceled) || calls != 1 {
			t.Fatalf("after cancelling: %v, %d progress calls; want context.Canceled after 1", err, calls)
		}
		if rep := b.run(t, verify.Options{}); rep.OK {
			t.Fatal("the changed visits of user 1 were not found")
		}
	})
}

// TestErrors: bad arguments, a mapping that does not match the schema and
// an unreachable database give errors that name the problem.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	b := open(t, "sqlite3", sqliteDSN(t), rewrite.SQLite, corpus.Schema, corpus.Mapping)
	pg, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		t.Fatal(err)
	}
	badExpr, err := mapping.Parse([]byte(strings.Replace(corpus.Mapping, "email_address: email", "email_address: no_such_column", 1)))
	if err != nil {
		t.Fatal(err)
	}
	missing, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "no", "such", "dir.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer missing.Close()
	wrapper, err := dualwrite.NewConnector(dbtest.Connector{DSN: b.dsn, Base: &sqlite3.SQLiteDriver{}}, b.m)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := sql.OpenDB(wrapper)
	defer wrapped.Close()

	for _, c := range []struct {
		name string
		err  error
		db   *sql.DB
		d    *rewrite.Dialect
		m    *mapping.Mapping
		opts verify.Options
		msg  string
	}{
		{"negative batch", verify.ErrInvalidArgument, b.db, b.d, b.m, verify.Options{BatchSize: -1}, "Options.BatchSize is -1"},
		{"negative samples", verify.ErrInvalidArgument, b.db, b.d, b.m, verify.Options{SampleSize: -3}, "Options.SampleSize is -3"},
		{"nil db", verify.ErrInvalidArgument, nil, b.d, b.m, verify.Options{}, "*sql.DB is nil"},
		{"nil dialect", verify.ErrInvalidArgument, b.db, nil, b.m, verify.Options{}, "dialect is nil"},
		{"nil mapping", verify.ErrInvalidArgument, b.db, b.d, nil, verify.Options{}, "mapping is nil"},
		{"other dialect", verify.ErrInvalidArgument, b.db, b.d, pg, verify.Options{}, "written for postgres"},
		{"through dualwrite", verify.ErrInvalidArgument, wrapped, b.d, b.m, verify.Options{}, "open it with the base driver"},
		{"bad expression", verify.ErrSchemaMismatch, b.db, b.d, badExpr, verify.Options{}, "accounts.email_address: expression `no_such_column`"},
		{"unreachable", nil, missing, b.d, b.m, verify.Options{}, "connecting to the database"},
	} {
		rep, err := verify.Run(ctx, c.db, c.d, c.m, c.opts)
		if err == nil || rep != nil || c.err != nil && !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, %v; want an error wrapping %v that says %q", c.name, rep, err, c.err, c.msg)
		}
	}
	if _, err := verify.Table(ctx, b.db, b.d, nil, verify.Options{}); !errors.Is(err, verify.ErrInvalidArgument) {
		t.Errorf("nil table: got %v", err)
	}
}

// TestMySQLTextKeys: on MySQL a text key in a case-insensitive collation
// is walked in the collation's order, where 'a' comes before 'B' (and in
// the bytes' order after it), also with interpolateParams, where the
// driver spells a []byte parameter as a binary string: every key is
// compared once, and a sample's key is text.
func TestMySQLTextKeys(t *testing.T) {
	dsn := mytest.WithParams(mytest.Database(t), "interpolateParams", "true")
	b := open(t, "mysql", dsn, rewrite.MySQL, []string{
		`CREATE TABLE tags (name VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, note TEXT) CHARACTER SET utf8mb4`,
		`CREATE TABLE labels (label VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, note TEXT) CHARACTER SET utf8mb4`,
	}, "dialect: mysql\ntables:\n  - old: tags\n    new: labels\n    key: [name]\n    columns: {label: name, note: note}\n    reverse: {name: label, note: note}\n")
	names := []string{"a", "B", "c", "D", "e", "F", "g", "é z", "Z"}
	for _, n := range names {
		exec(t, b.db, "INSERT INTO tags (name, note) VALUES (?, ?)", n, "note "+n)
	}
	b.copyUp(t)
	exec(t, b.db, "UPDATE labels SET note = 'changed' WHERE label = 'D'")
	rep := b.run(t, verify.Options{BatchSize: 2})
	if got, want := countsOf(rep.Tables[0]), (counts{processed: int64(len(names)), matching: int64(len(names) - 1), mismatched: 1}); got != want {
		t.Fatalf("%+v, want %+v", got, want)
	}
	if k := rep.Tables[0].Samples.Mismatched[0].Key["name"]; k != "D" {
		t.Fatalf("mismatched key %#v, want \"D\"", k)
	}
	rt, err := verify.RoundTrip(context.Background(), b.db, b.d, b.m, verify.Options{BatchSize: 2})
	if err != nil || !rt.OK || rt.Tables[0].RowsProcessed != int64(len(names)) {
		t.Fatalf("round trip: %+v, %v", rt.Tables[0], err)
	}
	// A sql_select_limit would cut the rows of the comparison: refused.
	limited, err := sql.Open("mysql", mytest.WithParams(dsn, "sql_select_limit", "1"))
	if err != nil {
		t.Fatal(err)
	}
	defer limited.Close()
	if _, err := verify.Run(context.Background(), limited, b.d, b.m, verify.Options{}); err == nil || !strings.Contains(err.Error(), "sql_select_limit is 1") {
		t.Fatalf("verify with sql_select_limit=1: %v", err)
	}
	// The dialect of a server without RETURNING is MySQL's too.
	again, err := verify.Run(context.Background(), b.db, rewrite.MySQLWithoutReturning, b.m, verify.Options{BatchSize: 2})
	if err != nil || countsOf(again.Tables[0]) != countsOf(rep.Tables[0]) {
		t.Fatalf("with rewrite.MySQLWithoutReturning: %+v, %v", again, err)
	}
}
