package backfill

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/metrics"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/txn"
)

// OpenDual opens base through the dualwrite driver with mapping m, in the
// write phase dual; dual_test.go sets it.
var OpenDual func(base driver.Connector, m *mapping.Mapping) (*sql.DB, error)

// testDB is one test database seen two ways: raw, through the base driver
// (the backfill's and the checks'), and wrapped, through dualwrite in the
// dual write phase (the application's).
type testDB struct {
	t            *testing.T
	d            *rewrite.Dialect
	m            *mapping.Mapping
	raw, wrapped *sql.DB
	tables       []*rewrite.Table // the mapping's, compiled, in file order
	dsn          string           // raw's (MySQL)
}

// forEachDialect runs f as a subtest on SQLite, on PostgreSQL and on
// MariaDB (each server's skipped without it).
func forEachDialect(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, name := range []string{rewrite.SQLite.Name, rewrite.Postgres.Name, rewrite.MySQL.Name} {
		t.Run(name, func(t *testing.T) { f(t, name) })
	}
}

// openCorpus opens a fresh database with the test schema and mapping.
func openCorpus(t *testing.T, dialect string) *testDB {
	switch dialect {
	case rewrite.Postgres.Name:
		return open(t, dialect, corpus.PostgresSchema, corpus.PostgresMapping)
	case rewrite.MySQL.Name:
		return open(t, dialect, corpus.MySQLSchema, corpus.MySQLMapping)
	}
	return open(t, dialect, corpus.Schema, corpus.Mapping)
}

// open creates the schema in a fresh database and opens it raw and through
// dualwrite with the mapping. On SQLite the raw DSN has a busy timeout but
// not _txlock=immediate, which backfill does not need; the application's
// has both. The directory of the SQLite file is not t.TempDir(): subtest
// names may hold '#', which ends the path of a file: URI.
func open(t *testing.T, dialect string, schema []string, yaml string) *testDB {
	t.Helper()
	db := &testDB{t: t, d: rewrite.DialectByName(dialect)}
	var base driver.Connector
	var err error
	switch dialect {
	case rewrite.Postgres.Name:
		dsn := pgtest.Schema(t, schema...)
		if db.raw, err = sql.Open("pgx", dsn); err != nil {
			t.Fatal(err)
		}
		if base, err = (&stdlib.Driver{}).OpenConnector(dsn); err != nil {
			t.Fatal(err)
		}
	case rewrite.MySQL.Name:
		dsn := mytest.Database(t, schema...)
		db.dsn = dsn
		if db.raw, err = sql.Open("mysql", dsn); err != nil {
			t.Fatal(err)
		}
		if base, err = (&mysql.MySQLDriver{}).OpenConnector(dsn); err != nil {
			t.Fatal(err)
		}
	default:
		dsn := dbtest.SQLiteDSN(t, "")
		if db.raw, err = sql.Open("sqlite3", dsn); err != nil {
			t.Fatal(err)
		}
		for _, s := range schema {
			db.exec(s)
		}
		base = dbtest.Connector{DSN: dsn + "&_txlock=immediate", Base: &sqlite3.SQLiteDriver{}}
	}
	t.Cleanup(func() { db.raw.Close() })
	if db.m, err = mapping.Parse([]byte(yaml)); err != nil {
		t.Fatal(err)
	}
	if db.wrapped, err = OpenDual(base, db.m); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.wrapped.Close() })
	for _, mt := range db.m.Tables {
		db.tables = append(db.tables, db.d.Compile(mt))
	}
	return db
}

// bind spells the statement's ? parameters in the dialect.
func (db *testDB) bind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString(db.d.Placeholder(n))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// exec runs a statement through the base driver.
func (db *testDB) exec(q string, args ...any) {
	db.t.Helper()
	if _, err := db.raw.Exec(db.bind(q), args...); err != nil {
		db.t.Fatalf("%s: %v", q, err)
	}
}

// rows returns every row of a query run through the base driver.
func (db *testDB) rows(q string, args ...any) [][]any {
	db.t.Helper()
	return dbtest.Rows(db.t, db.raw, db.bind(q), args...)
}

func (db *testDB) count(q string, args ...any) int64 {
	db.t.Helper()
	return db.rows(q, args...)[0][0].(int64)
}

// checkTable asserts new = up(old) row by row for one mapped pair, whose
// old table has rows.
func (db *testDB) checkTable(t *rewrite.Table) {
	db.t.Helper()
	if dbtest.Invariant(db.t, db.raw, db.d, &mapping.Mapping{Tables: []*mapping.Table{t.Map}}) == 0 {
		db.t.Fatalf("%s is empty: the check proves nothing", t.Map.Old)
	}
}

// verify runs package verify over the tables, through the base driver.
func (db *testDB) verify(tables ...*mapping.Table) *VerifyReport {
	db.t.Helper()
	rep, err := RunVerify(context.Background(), db.raw, db.d, &mapping.Mapping{Dialect: db.d.Name, Tables: tables}, 7)
	if err != nil {
		db.t.Fatal(err)
	}
	return rep
}

// VerifyReport is what package verify reports, in the fields these tests
// read.
type VerifyReport struct {
	OK     bool
	Tables []VerifyTable
}

// VerifyTable is one table of a VerifyReport.
type VerifyTable struct {
	Table                                               string
	RowsProcessed, Mismatched, MissingInNew, ExtraInNew int64
}

// RunVerify runs package verify over m with ranges of batch keys;
// dual_test.go sets it, since package verify imports this one.
var RunVerify func(ctx context.Context, db *sql.DB, d *rewrite.Dialect, m *mapping.Mapping, batch int) (*VerifyReport, error)

// checkInvariant asserts new = up(old) for every mapped pair.
func (db *testDB) checkInvariant() {
	db.t.Helper()
	for _, t := range db.tables {
		db.checkTable(t)
	}
}

// seed writes, through the base driver as before dual writing began, users
// with the odd ids 1 to 2*users-1, and memberships of users 1 to members in
// orgs 1 to orgs.
func (db *testDB) seed(users, orgs, members int) {
	db.t.Helper()
	first := []string{"Ada", "Alan", "Grace", "Edsger", "Barbara"}
	last := []string{"Lovelace", "Turing Jr", "", "Hopper", "van Dijkstra"}
	roles := []string{"admin", "member", "guest"}
	tx, err := db.raw.Begin()
	if err != nil {
		db.t.Fatal(err)
	}
	for i := range users {
		var email any
		if i%7 != 3 {
			email = fmt.Sprintf("u%d@x", i)
		}
		name := strings.TrimSpace(first[i%len(first)] + " " + last[i/len(first)%len(last)])
		if _, err := tx.Exec(db.bind("INSERT INTO users (id, full_name, email, visits) VALUES (?, ?, ?, ?)"), 2*i+1, name, email, i%5); err != nil {
			db.t.Fatal(err)
		}
	}
	for org := 1; org <= orgs; org++ {
		for user := 1; user <= members; user++ {
			if _, err := tx.Exec(db.bind("INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)"), org, user, roles[(org+user)%len(roles)]); err != nil {
				db.t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		db.t.Fatal(err)
	}
}

// waitBlockedBy waits until a session waits for a lock that the server
// process pid holds: a batch waits for the application's transaction.
func (db *testDB) waitBlockedBy(pid int) {
	db.t.Helper()
	q := "SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))"
	if db.d.Name == rewrite.MySQL.Name {
		q = "SELECT count(*) FROM information_schema.innodb_lock_waits AS w JOIN information_schema.innodb_trx AS b ON b.trx_id = w.blocking_trx_id WHERE b.trx_mysql_thread_id = ?"
	}
	for deadline := time.Now().Add(10 * time.Second); db.count(q, pid) == 0; db.pollPause() {
		if time.Now().After(deadline) {
			db.t.Fatal("the batch never waited for the application's transaction")
		}
	}
}

// pollPause waits between two looks at the server's lock waits. InnoDB
// refreshes the tables of information_schema on its transactions and lock
// waits only when they were not read for 0.1s: a faster poll would read
// the same stale rows forever.
func (db *testDB) pollPause() {
	if db.d.Name == rewrite.MySQL.Name {
		time.Sleep(150 * time.Millisecond)
	} else {
		time.Sleep(5 * time.Millisecond)
	}
}

// appTx begins an application's transaction on via (the wrapped or the raw
// database), runs q in it, and returns it with the id of its server
// process. The test's end rolls it back if it is still open.
func (db *testDB) appTx(via *sql.DB, q string, args ...any) (*sql.Tx, int) {
	db.t.Helper()
	tx, err := via.BeginTx(context.Background(), nil)
	if err != nil {
		db.t.Fatal(err)
	}
	db.t.Cleanup(func() { _ = tx.Rollback() })
	var pid int
	self := "SELECT pg_backend_pid()"
	if db.d.Name == rewrite.MySQL.Name {
		self = "SELECT CONNECTION_ID()"
	}
	if err := tx.QueryRow(self).Scan(&pid); err != nil {
		db.t.Fatal(err)
	}
	if _, err := tx.Exec(db.bind(q), args...); err != nil {
		db.t.Fatalf("%s: %v", q, err)
	}
	return tx, pid
}

// runAside starts a Run of the first mapped table on a goroutine of its own
// and returns the function that waits for its result.
func (db *testDB) runAside(opts Options) func() (Progress, error) {
	type result struct {
		p   Progress
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := Run(context.Background(), db.raw, db.d, db.tables[0], opts)
		done <- result{p, err}
	}()
	return func() (Progress, error) {
		r := <-done
		return r.p, r.err
	}
}

// metricValue returns the value of a counter or gauge series, or the sample
// count of a histogram series, with the given table label.
func metricValue(t *testing.T, reg *prometheus.Registry, name, table string) float64 {
	t.Helper()
	v, ok := series(t, reg, name, map[string]string{"table": table})
	if !ok {
		t.Fatalf("no series %s{table=%q}", name, table)
	}
	return v
}

// series returns the value of the series of a metric with the given labels,
// as metricValue does, and whether there is one.
func series(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			switch {
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// TestBackfillCopiesRows: rows written before dual writing, and new tables
// holding a stale copy and rows whose key has no old row (before, between
// and after the old keys), are made new = up(old) in batches; progress,
// checkpoint and metrics count what was done.
func TestBackfillCopiesRows(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		db := openCorpus(t, dialect)
		db.seed(40, 4, 9)
		db.exec("INSERT INTO accounts (account_id, first_name, visits) VALUES (0, 'Before', 1), (5, 'Stale', 99), (6, 'Between', 1), (1000, 'After', 1)")
		db.exec("INSERT INTO members (org, usr, role_name) VALUES (0, 0, 'BEFORE'), (2, 3, 'STALE'), (2, 100, 'BETWEEN'), (9, 9, 'AFTER')")
		reg := prometheus.NewRegistry()
		if _, err := metrics.NewBackfill(reg); err != nil {
			t.Fatal(err)
		}
		mb, err := metrics.NewBackfill(reg) // a second caller reuses the collectors
		if err != nil {
			t.Fatal(err)
		}
		lastKeys := map[string][]any{
			"users":       {int64(69)},          // the 35th user: 5 batches of 7, then 5 rows in the open range
			"memberships": {int64(4), int64(8)}, // the 35th membership, then 1 row
		}
		for _, tb := range db.tables {
			old := tb.Map.Old
			rows := db.count("SELECT count(*) FROM " + old)
			var reports []Progress
			p, err := Run(context.Background(), db.raw, db.d, tb, Options{BatchSize: 7, Metrics: mb,
				Progress: func(p Progress) { reports = append(reports, p) }})
			if err != nil {
				t.Fatal(err)
			}
			want := Progress{Table: old, Rows: rows, Deleted: 3, RunRows: rows, Done: true,
				RowsPerSecond: p.RowsPerSecond}
			if p != want || p.RowsPerSecond <= 0 {
				t.Fatalf("%s: progress %+v, want %+v", old, p, want)
			}
			if len(reports) != int(rows/7+1) || reports[len(reports)-1] != p {
				t.Fatalf("%s: %d reports, want %d, the last one the result: %+v", old, len(reports), rows/7+1, reports)
			}
			for i, r := range reports[:len(reports)-1] {
				if r.Done || r.RunRows != int64(7*(i+1)) || r.RowsLeft != rows-r.RunRows {
					t.Fatalf("%s: report %d: %+v", old, i, r)
				}
			}
			cp, err := ReadCheckpoint(context.Background(), db.raw, db.d, tb, "")
			if err != nil {
				t.Fatal(err)
			}
			if !cp.Done || cp.Rows != rows || cp.Deleted != 3 || cp.MappingChanged || !reflect.DeepEqual(cp.LastKey, lastKeys[old]) ||
				time.Since(cp.Updated) > time.Minute {
				t.Fatalf("%s: checkpoint %+v", old, cp)
			}
			for name, want := range map[string]float64{
				"dualwrite_backfill_rows_total":             float64(rows),
				"dualwrite_backfill_deleted_rows_total":     3,
				"dualwrite_backfill_batch_duration_seconds": float64(len(reports)),
				"dualwrite_backfill_rows_remaining":         0,
			} {
				if got := metricValue(t, reg, name, old); got != want {
					t.Fatalf("%s{table=%q} = %v, want %v", name, old, got, want)
				}
			}
		}
		db.checkInvariant()
	})
}

// ignorable reports whether a dual write failed whole for a reason of the
// workload: a key taken, or a deadlock between writers.
func ignorable(err error) bool {
	var pe *pgconn.PgError
	var se sqlite3.Error
	var me *mysql.MySQLError
	return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "40P01") ||
		errors.As(err, &se) && se.Code == sqlite3.ErrConstraint ||
		errors.As(err, &me) && (me.Number == 1062 || me.Number == 1213)
}

// randomWrite runs a random dual write over keys that overlap the seeded
// ones: inserts, updates, key-changing updates and deletes of both tables,
// one in four in a transaction.
func (db *testDB) randomWrite(r *rand.Rand) error {
	user := func() int { return 1 + r.IntN(320) }
	org, member := func() int { return 1 + r.IntN(7) }, func() int { return 1 + r.IntN(28) }
	name := []string{"Ada King", "Alan", "Grace B Hopper", "Edsger W Dijkstra"}[r.IntN(4)]
	role := []string{"admin", "member", "guest"}[r.IntN(3)]
	var q string
	var args []any
	switch r.IntN(8) {
	case 0:
		q, args = "INSERT INTO users (id, full_name, email, visits) VALUES (?, ?, ?, ?)", []any{user(), name, fmt.Sprintf("w%d@x", r.IntN(1000)), 1}
	case 1:
		q, args = "UPDATE users SET full_name = ?, visits = visits + 1 WHERE id = ?", []any{name, user()}
	case 2:
		q, args = "UPDATE users SET id = ? WHERE id = ?", []any{user(), user()}
	case 3:
		q, args = "DELETE FROM users WHERE id = ?", []any{user()}
	case 4:
		q, args = "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)", []any{org(), member(), role}
	case 5:
		q, args = "UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?", []any{role, org(), member()}
	case 6:
		q, args = "UPDATE memberships SET user_id = ? WHERE org_id = ? AND user_id = ?", []any{member(), org(), member()}
	default:
		q, args = "DELETE FROM memberships WHERE org_id = ? AND user_id = ?", []any{org(), member()}
	}
	var err error
	if r.IntN(4) == 0 {
		err = db.inTx(q, args)
	} else {
		_, err = db.wrapped.Exec(db.bind(q), args...)
	}
	if err != nil && !ignorable(err) {
		return fmt.Errorf("%s %v: %w", q, args, err)
	}
	return nil
}

// inTx runs a write through dualwrite in a transaction of its own.
func (db *testDB) inTx(q string, args []any) error {
	tx, err := db.wrapped.Begin()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(db.bind(q), args...); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// TestBackfillBesideDualWrites: both tables are backfilled at once, in
// batches of 5, while 4 goroutines keep writing through dualwrite over the
// same keys, each up to a millisecond apart; afterwards new = up(old) holds
// exactly. Three rounds.
func TestBackfillBesideDualWrites(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		for round := range 3 {
			t.Run(fmt.Sprint(round), func(t *testing.T) {
				db := openCorpus(t, dialect)
				db.seed(150, 6, 25)
				var stop atomic.Bool
				var writes atomic.Int64
				var writers sync.WaitGroup
				errs := make(chan error, 4)
				for w := range 4 {
					writers.Add(1)
					go func() {
						defer writers.Done()
						r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
						for !stop.Load() {
							if err := db.randomWrite(r); err != nil {
								errs <- err
								return
							}
							writes.Add(1)
							time.Sleep(time.Duration(r.IntN(1000)) * time.Microsecond)
						}
					}()
				}
				for writes.Load() < 20 && len(errs) == 0 {
					time.Sleep(time.Millisecond)
				}
				before := writes.Load()
				runs := make([]error, len(db.tables))
				var backfills sync.WaitGroup
				for i, tb := range db.tables {
					backfills.Add(1)
					go func() {
						defer backfills.Done()
						_, runs[i] = Run(context.Background(), db.raw, db.d, tb, Options{BatchSize: 5, Pause: time.Millisecond})
					}()
				}
				backfills.Wait()
				during := writes.Load() - before
				stop.Store(true)
				writers.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				if err := errors.Join(runs...); err != nil {
					t.Fatal(err)
				}
				if during < 20 {
					t.Fatalf("only %d writes during the backfill: the test proves little", during)
				}
				t.Logf("%d dual writes during the backfill", during)
				db.checkInvariant()
				if rep := db.verify(db.m.Tables...); !rep.OK {
					t.Fatalf("verify after the backfill: %+v", rep.Tables)
				}
			})
		}
	})
}

// TestBackfillDefaultBatchSize: with Options.BatchSize 0 a run's batches
// are of DefaultBatchSize rows, and of DefaultMySQLBatchSize on MySQL.
func TestBackfillDefaultBatchSize(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		db := openCorpus(t, dialect)
		const rows = DefaultMySQLBatchSize + 500 // more than either default
		digit := "(SELECT 0 AS i UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4" +
			" UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
		db.exec("INSERT INTO users (id, full_name, visits) SELECT 1 + a.i + 10 * b.i + 100 * c.i + 1000 * d.i, 'X Y', 0 FROM "+
			digit+" AS a, "+digit+" AS b, "+digit+" AS c, "+digit+" AS d WHERE a.i + 10 * b.i + 100 * c.i + 1000 * d.i < ?", rows)
		want := int64(DefaultBatchSize)
		if dialect == rewrite.MySQL.Name {
			want = DefaultMySQLBatchSize
		}
		var sizes []int64
		p, err := Run(context.Background(), db.raw, db.d, db.tables[0], Options{Progress: func(p Progress) {
			sizes = append(sizes, p.RunRows)
		}})
		if err != nil || p.RunRows != rows || sizes[0] != want {
			t.Fatalf("%+v, %v; rows after each batch %v, want %d after the first", p, err, sizes, want)
		}
		db.checkTable(db.tables[0])
	})
}

// TestBackfillResumes: a run cancelled after some batches leaves a
// checkpoint at the last committed one; the next run copies only the rest
// (rows the first run copied and that were then corrupted stay corrupted);
// Reset starts over and repairs them; a run of a table already done
// changes nothing, and copying everything again neither.
func TestBackfillResumes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		db := openCorpus(t, dialect)
		db.seed(100, 6, 10)
		ctx := context.Background()
		for _, tc := range []struct {
			tb                 *rewrite.Table
			batch, stopAfter   int
			lastKey            []any
			corrupt, corrupted string
		}{
			{db.tables[0], 10, 3, []any{int64(59)}, "UPDATE accounts SET visits = -1", "SELECT count(*) FROM accounts WHERE visits = -1"},
			{db.tables[1], 7, 2, []any{int64(2), int64(4)}, "UPDATE members SET role_name = 'CORRUPT'", "SELECT count(*) FROM members WHERE role_name = 'CORRUPT'"},
		} {
			t.Run(tc.tb.Map.Old, func(t *testing.T) {
				db.t = t
				total := db.count("SELECT count(*) FROM " + tc.tb.Map.Old)
				first := int64(tc.batch * tc.stopAfter)
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				batches := 0
				p, err := Run(cctx, db.raw, db.d, tc.tb, Options{BatchSize: tc.batch, Progress: func(Progress) {
					if batches++; batches == tc.stopAfter {
						cancel()
					}
				}})
				if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), tc.tb.Map.Old) || p.RunRows != first || p.Done {
					t.Fatalf("cancelled run: %+v, %v", p, err)
				}
				cp, err := ReadCheckpoint(ctx, db.raw, db.d, tc.tb, "")
				if err != nil || cp.Rows != first || cp.Done || !reflect.DeepEqual(cp.LastKey, tc.lastKey) {
					t.Fatalf("checkpoint after the cancelled run: %+v, %v; want %d rows after %v", cp, err, first, tc.lastKey)
				}
				db.exec(tc.corrupt)

				p, err = Run(ctx, db.raw, db.d, tc.tb, Options{BatchSize: tc.batch})
				if err != nil || p.RunRows != total-first || p.Rows != total || !p.Done || p.RowsLeft != 0 {
					t.Fatalf("resumed run: %+v, %v; want %d rows of %d", p, err, total-first, total)
				}
				if n := db.count(tc.corrupted); n != first {
					t.Fatalf("%d corrupted rows left, want the %d the first run copied", n, first)
				}
				// verify sees just those: nothing missing, nothing extra.
				if r := db.verify(tc.tb.Map).Tables[0]; r.Mismatched != first || r.MissingInNew != 0 || r.ExtraInNew != 0 || r.RowsProcessed != total {
					t.Fatalf("verify after the resumed run: %+v; want %d mismatched of %d", r, first, total)
				}

				if err := Reset(ctx, db.raw, db.d, tc.tb, ""); err != nil {
					t.Fatal(err)
				}
				if cp, err := ReadCheckpoint(ctx, db.raw, db.d, tc.tb, ""); err != nil || !reflect.DeepEqual(cp, Checkpoint{Table: tc.tb.Map.Old}) {
					t.Fatalf("checkpoint after Reset: %+v, %v", cp, err)
				}
				if p, err = Run(ctx, db.raw, db.d, tc.tb, Options{BatchSize: tc.batch}); err != nil || p.RunRows != total {
					t.Fatalf("run after Reset: %+v, %v", p, err)
				}
				db.checkTable(tc.tb)
				if rep := db.verify(tc.tb.Map); !rep.OK {
					t.Fatalf("verify after the run after Reset: %+v", rep.Tables[0])
				}

				before := db.rows("SELECT * FROM " + tc.tb.Map.New + " ORDER BY 1, 2")
				cp, err = ReadCheckpoint(ctx, db.raw, db.d, tc.tb, "")
				if err != nil {
					t.Fatal(err)
				}
				p, err = Run(ctx, db.raw, db.d, tc.tb, Options{BatchSize: tc.batch})
				if err != nil || p != (Progress{Table: tc.tb.Map.Old, Rows: total, Done: true}) {
					t.Fatalf("run of a done table: %+v, %v", p, err)
				}
				if again, err := ReadCheckpoint(ctx, db.raw, db.d, tc.tb, ""); err != nil || !reflect.DeepEqual(again, cp) {
					t.Fatalf("a run of a done table changed its checkpoint: %+v, was %+v (%v)", again, cp, err)
				}
				if err := Reset(ctx, db.raw, db.d, tc.tb, ""); err != nil {
					t.Fatal(err)
				}
				if p, err = Run(ctx, db.raw, db.d, tc.tb, Options{BatchSize: tc.batch}); err != nil || p.RunRows != total || p.Deleted != 0 {
					t.Fatalf("second run after Reset: %+v, %v", p, err)
				}
				if after := db.rows("SELECT * FROM " + tc.tb.Map.New + " ORDER BY 1, 2"); !reflect.DeepEqual(after, before) {
					t.Fatalf("copying again changed %s:\n before %v\n after  %v", tc.tb.Map.New, before, after)
				}
			})
		}
	})
}

// TestBackfillTwoRuns: two runs of the same table at once, the second
// started after the first one's first batch, take turns batch by batch:
// together they copy every row once.
func TestBackfillTwoRuns(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		db := openCorpus(t, dialect)
		db.seed(100, 0, 0)
		var runs [2]Progress
		var errs [2]error
		var second sync.WaitGroup
		secondBatch := make(chan struct{})
		run := func(i int, progress func(Progress)) {
			runs[i], errs[i] = Run(context.Background(), db.raw, db.d, db.tables[0], Options{BatchSize: 3, Progress: progress})
		}
		var once sync.Once
		run(0, func(Progress) {
			once.Do(func() {
				second.Add(1)
				go func() {
					defer second.Done()
					var signal sync.Once
					run(1, func(Progress) { signal.Do(func() { close(secondBatch) }) })
				}()
				<-secondBatch
			})
		})
		second.Wait()
		if err := errors.Join(errs[:]...); err != nil {
			t.Fatal(err)
		}
		for _, p := range runs {
			if p.RunRows == 0 || p.Rows != 100 || !p.Done {
				t.Fatalf("two runs: %+v", runs)
			}
		}
		if runs[0].RunRows+runs[1].RunRows != 100 {
			t.Fatalf("two runs copied %d and %d rows of 100: %+v", runs[0].RunRows, runs[1].RunRows, runs)
		}
		db.checkTable(db.tables[0])
	})
}

// TestBackfillResetDuringRun: a checkpoint deleted by Reset while a run is
// under way (from its Progress callback, through a pool of one connection)
// stops the run at its next batch, with an error that says so; the batches
// before stay copied.
func TestBackfillResetDuringRun(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		db := openCorpus(t, dialect)
		db.seed(30, 0, 0)
		db.raw.SetMaxOpenConns(1) // the run holds no connection between batches
		ctx := context.Background()
		tb := db.tables[0]
		p, err := Run(ctx, db.raw, db.d, tb, Options{BatchSize: 10, Progress: func(Progress) {
			if err := Reset(ctx, db.raw, db.d, tb, ""); err != nil {
				t.Error(err)
			}
		}})
		if !errors.Is(err, sql.ErrNoRows) || !strings.Contains(err.Error(), "deleted (Reset)") || p.RunRows != 10 {
			t.Fatalf("%+v, %v; want an error after the first batch that says the checkpoint was deleted", p, err)
		}
		if n := db.count("SELECT count(*) FROM accounts"); n != 10 {
			t.Fatalf("%d accounts rows, want the first batch's 10", n)
		}
	})
}

// TestBackfillLeavesSessionAsFound: on PostgreSQL a batch's lock timeout
// and asynchronous commit hold for its own transaction only: a session's
// own settings are as they were after a run, on the same connection (the
// pool's one, the same server process).
func TestBackfillLeavesSessionAsFound(t *testing.T) {
	db := openCorpus(t, rewrite.Postgres.Name)
	db.seed(30, 0, 0)
	db.raw.SetMaxOpenConns(1)
	db.exec("SET lock_timeout = '5s'")
	db.exec("SET synchronous_commit = local")
	show := func() []any {
		return db.rows("SELECT current_setting('lock_timeout'), current_setting('synchronous_commit'), pg_backend_pid()")[0]
	}
	before := show()
	if before[0] != "5s" || before[1] != "local" {
		t.Fatalf("session settings before the run: %v", before)
	}
	if _, err := Run(context.Background(), db.raw, db.d, db.tables[0], Options{BatchSize: 7, LockTimeout: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if after := show(); !reflect.DeepEqual(after, before) {
		t.Fatalf("session after the run %v, before %v", after, before)
	}
}

// TestBackfillMySQLLeavesSessionAsFound: on MySQL a batch sets its
// connection's lock wait timeout for the batch only: the session's own is
// as it was after a run, on the same connection.
func TestBackfillMySQLLeavesSessionAsFound(t *testing.T) {
	db := openCorpus(t, rewrite.MySQL.Name)
	db.seed(30, 0, 0)
	db.raw.SetMaxOpenConns(1)
	db.exec("SET SESSION innodb_lock_wait_timeout = 7")
	show := func() []any {
		return db.rows("SELECT @@SESSION.innodb_lock_wait_timeout, CONNECTION_ID()")[0]
	}
	before := show()
	if _, err := Run(context.Background(), db.raw, db.d, db.tables[0], Options{BatchSize: 7, LockTimeout: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if after := show(); !reflect.DeepEqual(after, before) || fmt.Sprint(after[0]) != "7" {
		t.Fatalf("session after the run %v, before %v", after, before)
	}
}

// TestBackfillMySQLPreparesOnce: on MySQL a run prepares each statement
// of its batches once per connection, after the first batch that runs
// it: batches in the middle of a run, whose statements earlier batches
// ran, prepare none (github.com/go-sql-driver/mysql would prepare each
// statement with parameters at each use).
func TestBackfillMySQLPreparesOnce(t *testing.T) {
	db := openCorpus(t, rewrite.MySQL.Name)
	db.seed(30, 0, 0)
	db.raw.SetMaxOpenConns(1) // the run's connection is the one SHOW reads
	prepares := func() int64 {
		var name string
		var n int64
		if err := db.raw.QueryRow("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'").Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var counts []int64
	p, err := Run(context.Background(), db.raw, db.d, db.tables[0], Options{BatchSize: 3, Progress: func(Progress) {
		counts = append(counts, prepares())
	}})
	if err != nil || p.Rows != 30 || !p.Done {
		t.Fatalf("%+v, %v", p, err)
	}
	if len(counts) < 8 {
		t.Fatalf("%d batches, want at least 8", len(counts))
	}
	// Batches 3 to 8 (the 3rd to 8th reports) run the same statements as
	// batch 2.
	if n := counts[7] - counts[1]; n != 0 {
		t.Fatalf("batches 3 to 8 prepared %d statements, want 0 (prepares after each batch: %v)", n, counts)
	}
	db.checkTable(db.tables[0])
}

// TestBackfillMySQLDeletesOnlyWithOrphans: on MySQL a batch whose range
// has new rows, all with their old rows (as dual writes leave them),
// upserts and runs no DELETE; one whose range has a new row without an
// old row deletes it.
func TestBackfillMySQLDeletesOnlyWithOrphans(t *testing.T) {
	db := openCorpus(t, rewrite.MySQL.Name)
	db.seed(30, 0, 0)         // users 1, 3, ..., 59
	db.raw.SetMaxOpenConns(1) // the run's connection is the one SHOW reads
	deletes := func() int64 {
		var name string
		var n int64
		if err := db.raw.QueryRow("SHOW SESSION STATUS LIKE 'Com_delete'").Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ctx := context.Background()
	// run runs the backfill again from the start, and returns its progress
	// and the DELETEs its batches ran.
	run := func() (Progress, int64) {
		t.Helper()
		if err := Reset(ctx, db.raw, db.d, db.tables[0], ""); err != nil {
			t.Fatal(err)
		}
		before := deletes()
		p, err := Run(ctx, db.raw, db.d, db.tables[0], Options{BatchSize: 7})
		if err != nil || p.Rows != 30 || !p.Done {
			t.Fatalf("%+v, %v", p, err)
		}
		n := deletes() - before
		db.checkTable(db.tables[0])
		return p, n
	}
	run()
	db.exec("DELETE FROM accounts WHERE account_id % 3 <> 0")        // new rows left in every batch's range
	db.exec("UPDATE accounts SET visits = -1 WHERE account_id = 27") // a stale one among them
	if p, n := run(); p.Deleted != 0 || n != 0 {
		t.Fatalf("%+v, %d DELETEs; want no row deleted, no DELETE for ranges without orphans", p, n)
	}
	db.exec("INSERT INTO accounts (account_id, first_name, visits) VALUES (28, 'Orphan', 0)")
	if p, n := run(); p.Deleted != 1 || n != 1 {
		t.Fatalf("%+v, %d DELETEs; want the orphan deleted by its batch's one DELETE", p, n)
	}
}

// TestBackfillMySQLGivesWay: on MySQL a batch waits for an application
// transaction that writes an old row of its range at most LockTimeout
// (error 1205), is tried again, and the backfill completes once the
// transaction ends.
func TestBackfillMySQLGivesWay(t *testing.T) {
	db := openCorpus(t, rewrite.MySQL.Name)
	db.seed(10, 0, 0)
	app, pid := db.appTx(db.raw, "UPDATE users SET visits = visits + 1 WHERE id = 9")
	reg := prometheus.NewRegistry()
	mb, err := metrics.NewBackfill(reg)
	if err != nil {
		t.Fatal(err)
	}
	wait := db.runAside(Options{LockTimeout: time.Second, Metrics: mb})
	db.waitBlockedBy(pid)
	// The first try times out: app holds the row longer than LockTimeout.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if v, _ := series(t, reg, "dualwrite_backfill_retries_total", map[string]string{"table": "users", "reason": metrics.RetryLockTimeout}); v > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no retry for a lock timeout")
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if p, err := wait(); err != nil || p.Rows != 10 || !p.Done {
		t.Fatalf("backfill: %+v, %v", p, err)
	}
	db.checkTable(db.tables[0])
}

// TestBackfillMySQLOrphanKeyInsertedMeanwhile: on MySQL, a new row without
// an old row is in a batch's range; while the batch waits for the lock of
// another old row, the application inserts the old row of that key
// through dualwrite. The batch has locked the gaps of its range up to
// that row, so the insert waits for the batch, which deletes the orphan;
// the insert's mirror then writes the new row again.
func TestBackfillMySQLOrphanKeyInsertedMeanwhile(t *testing.T) {
	db := openCorpus(t, rewrite.MySQL.Name)
	db.seed(10, 0, 0) // users 1, 3, ..., 19
	db.exec("INSERT INTO accounts (account_id, first_name, visits) VALUES (4, 'Orphan', 0)")
	app, pid := db.appTx(db.wrapped, "UPDATE users SET visits = visits + 1 WHERE id = 9")
	wait := db.runAside(Options{LockTimeout: time.Minute})
	db.waitBlockedBy(pid) // the batch has locked users 1 to 7 and the gaps before them
	inserted := make(chan error, 1)
	go func() {
		_, err := db.wrapped.Exec("INSERT INTO users (id, full_name, email, visits) VALUES (?, ?, ?, ?)", 4, "Ada Lovelace", "ada@x", 3)
		inserted <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); db.count("SELECT count(*) FROM information_schema.innodb_lock_waits") < 2; db.pollPause() {
		if time.Now().After(deadline) {
			t.Fatal("the insert never waited for the batch")
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if p, err := wait(); err != nil || p.Rows != 10 || p.Deleted != 1 {
		t.Fatalf("backfill: %+v, %v; want the 10 seeded rows copied, the orphan deleted", p, err)
	}
	if err := <-inserted; err != nil {
		t.Fatal(err)
	}
	if got := db.rows("SELECT first_name, last_name, visits FROM accounts WHERE account_id = 4"); !reflect.DeepEqual(got, [][]any{{"Ada", "Lovelace", int64(3)}}) {
		t.Fatalf("account 4: %v, want up(user 4)", got)
	}
	db.checkTable(db.tables[0])
}

// TestBackfillMySQLOtherUniqueKey: on MySQL an old row whose up(old) takes
// the value of another unique key of the new table from a row of another
// key fails its batch (the upsert sets that row's key to NULL, which
// strict mode refuses) rather than overwriting that row; a run whose
// connections are not in strict mode, have sql_safe_updates on or a
// sql_select_limit is refused before it copies anything.
func TestBackfillMySQLOtherUniqueKey(t *testing.T) {
	db := openCorpus(t, rewrite.MySQL.Name)
	db.seed(10, 0, 0) // user 3 has the email u1@x
	db.exec("INSERT INTO accounts (account_id, email_address, first_name, visits) VALUES (1000, 'u1@x', 'Other', 7)")
	ctx := context.Background()
	p, err := Run(ctx, db.raw, db.d, db.tables[0], Options{BatchSize: 4})
	if err == nil || !strings.Contains(err.Error(), "users -> accounts") || !strings.Contains(err.Error(), "another unique key") || p.Done || p.Rows != 0 {
		t.Fatalf("run: %+v, %v; want the first batch to fail", p, err)
	}
	if got := db.rows("SELECT account_id, email_address, first_name, visits FROM accounts"); !reflect.DeepEqual(got, [][]any{{int64(1000), "u1@x", "Other", int64(7)}}) {
		t.Fatalf("accounts after the failed batch: %v", got)
	}

	db.exec("DELETE FROM accounts")
	for _, tc := range []struct{ param, value, want string }{
		{"sql_mode", "'NO_ENGINE_SUBSTITUTION'", "STRICT_TRANS_TABLES"},
		{"sql_safe_updates", "1", "sql_safe_updates"},
		{"sql_select_limit", "5", "sql_select_limit is 5"},
	} {
		other, err := sql.Open("mysql", mytest.WithParams(db.dsn, tc.param, tc.value))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		p, err = Run(ctx, other, db.d, db.tables[0], Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || p.Rows != 0 {
			t.Fatalf("run with %s=%s: %+v, %v", tc.param, tc.value, p, err)
		}
	}
	if n := db.count("SELECT count(*) FROM accounts"); n != 0 {
		t.Fatalf("%d accounts copied by refused runs", n)
	}
}

// TestBackfillOrphanKeyInsertedMeanwhile: on PostgreSQL, a new row without
// an old row is in a batch's range; while the batch waits for the lock of
// another old row, the application inserts the old row of that key
// through dualwrite, whose mirror upserts over the orphan. The batch must
// not delete it: its old row exists now.
func TestBackfillOrphanKeyInsertedMeanwhile(t *testing.T) {
	db := openCorpus(t, rewrite.Postgres.Name)
	db.seed(10, 0, 0) // users 1, 3, ..., 19
	db.exec("INSERT INTO accounts (account_id, first_name, visits) VALUES (4, 'Orphan', 0)")
	app, pid := db.appTx(db.wrapped, "UPDATE users SET visits = visits + 1 WHERE id = 9")
	wait := db.runAside(Options{LockTimeout: time.Minute})
	db.waitBlockedBy(pid) // the batch has its snapshot, and waits for user 9
	if _, err := db.wrapped.Exec("INSERT INTO users (id, full_name, email, visits) VALUES ($1, $2, $3, $4)", 4, "Ada Lovelace", "ada@x", 3); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	// User 4 came after the batch's snapshot: its dual write copied it.
	if p, err := wait(); err != nil || p.Rows != 10 || p.Deleted != 0 {
		t.Fatalf("backfill: %+v, %v; want the 10 seeded rows copied, none deleted", p, err)
	}
	if got := db.rows("SELECT first_name, last_name, visits FROM accounts WHERE account_id = 4"); !reflect.DeepEqual(got, [][]any{{"Ada", "Lovelace", int64(3)}}) {
		t.Fatalf("account 4: %v, want up(user 4)", got)
	}
	db.checkTable(db.tables[0])
}

// TestBackfillOrphanKeyInsertedInOpenTransaction: on PostgreSQL, with a new
// table of key columns only, a new row without an old row is in a batch's
// range, and an open application transaction has inserted its old row
// through dualwrite. The batch waits for that transaction (whose mirror
// updated the new row, though to the same values) and must then keep the
// row.
func TestBackfillOrphanKeyInsertedInOpenTransaction(t *testing.T) {
	db := open(t, rewrite.Postgres.Name, []string{
		`CREATE TABLE tags (name text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (name, seq))`,
		`CREATE TABLE labels (label text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (label, seq))`,
	}, "dialect: postgres\ntables:\n  - old: tags\n    new: labels\n    key: [name, seq]\n    columns: {label: name, seq: seq}\n    reverse: {name: label, seq: seq}\n")
	for _, n := range []string{"a", "b", "c", "e", "f"} {
		db.exec("INSERT INTO tags (name, seq) VALUES (?, 1)", n)
	}
	db.exec("INSERT INTO labels (label, seq) VALUES ('d', 1)") // no old row
	app, pid := db.appTx(db.wrapped, "INSERT INTO tags (name, seq) VALUES (?, ?)", "d", 1)
	wait := db.runAside(Options{LockTimeout: time.Minute})
	db.waitBlockedBy(pid)
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if p, err := wait(); err != nil || p.Rows != 5 || p.Deleted != 0 {
		t.Fatalf("backfill: %+v, %v; want the 5 tags copied, none deleted", p, err)
	}
	db.checkTable(db.tables[0])
}

// TestBackfillBatchesStayBounded: rows the application inserts after the
// last key while a run is under way go into batches of at most BatchSize
// rows like the others (on PostgreSQL a batch reads the next one's end, and
// the last, unbounded batch must not be decided before they come).
func TestBackfillBatchesStayBounded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		db := openCorpus(t, dialect)
		db.seed(15, 0, 0)
		var sizes []int64
		var last int64
		_, err := Run(context.Background(), db.raw, db.d, db.tables[0], Options{BatchSize: 10, Progress: func(p Progress) {
			sizes = append(sizes, p.RunRows-last)
			last = p.RunRows
			if len(sizes) > 1 {
				return
			}
			tx, err := db.wrapped.Begin()
			if err != nil {
				t.Error(err)
				return
			}
			defer tx.Rollback()
			for i := range 300 {
				if _, err := tx.Exec(db.bind("INSERT INTO users (id, full_name, visits) VALUES (?, 'X Y', 0)"), 10000+i); err != nil {
					t.Error(err)
					return
				}
			}
			if err := tx.Commit(); err != nil {
				t.Error(err)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		if last != 315 {
			t.Fatalf("%d rows copied, want 315", last)
		}
		for _, n := range sizes {
			if n > 10 {
				t.Fatalf("batch sizes %v: one over BatchSize 10", sizes)
			}
		}
		db.checkTable(db.tables[0])
	})
}

// TestBackfillClaimWaitsForTheCheckpoint: on PostgreSQL a batch locks the
// checkpoint before it reads anything, and does nothing if another run
// moved it meanwhile. After a run's first batch another transaction holds
// the checkpoint and moves it past keys it does not copy, as another run's
// batch would; the run's next batch waits for it, then goes on after that
// key: it copies neither the other's range nor anything twice.
func TestBackfillClaimWaitsForTheCheckpoint(t *testing.T) {
	db := openCorpus(t, rewrite.Postgres.Name)
	db.seed(30, 0, 0) // ids 1, 3, ..., 59
	ctx := context.Background()
	moved, err := encodeKey([]any{int64(39)})
	if err != nil {
		t.Fatal(err)
	}
	var other *sql.Tx
	p, err := Run(ctx, db.raw, db.d, db.tables[0], Options{BatchSize: 10, LockTimeout: time.Minute, Progress: func(Progress) {
		if other != nil {
			return
		}
		var pid int
		var err error
		if other, err = db.raw.BeginTx(ctx, nil); err == nil {
			err = other.QueryRow("SELECT pg_backend_pid()").Scan(&pid)
		}
		if err == nil {
			_, err = other.Exec("UPDATE dualwrite_backfill SET last_key = $1, rows_copied = rows_copied + 10 WHERE old_table = 'users'", moved)
		}
		if err != nil {
			t.Error(err)
			return
		}
		go func() {
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				var n int
				if err := db.raw.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid).Scan(&n); err != nil || n > 0 {
					break
				}
			}
			if err := other.Commit(); err != nil {
				t.Error(err)
			}
		}()
	}})
	if err != nil || p.RunRows != 20 || p.Rows != 30 || !p.Done {
		t.Fatalf("%+v, %v; want 20 rows copied by the run (ids 1-19 and 41-59), 30 in all", p, err)
	}
	if got := db.count("SELECT count(*) FROM accounts WHERE account_id BETWEEN 21 AND 39"); got != 0 {
		t.Fatalf("%d accounts rows of the range the other transaction took, want 0", got)
	}
	if got := db.count("SELECT count(*) FROM accounts"); got != 20 {
		t.Fatalf("%d accounts rows, want 20", got)
	}
}

// TestBackfillLastBatchReadsTheIndex: on PostgreSQL the statement of the
// last batch, whose key range has no upper bound, reads the new table's
// range through its key index, also when the new table has no statistics
// (the backfill filling it, autovacuum not yet by): a scan of the whole
// table there took a tenth of a million-row backfill, with the last old
// rows locked all along.
func TestBackfillLastBatchReadsTheIndex(t *testing.T) {
	db := openCorpus(t, rewrite.Postgres.Name)
	db.exec("INSERT INTO accounts (account_id, visits) SELECT i, 0 FROM generate_series(1, 50000) i")
	db.exec("INSERT INTO members (org, usr) SELECT i / 100, i % 100 FROM generate_series(1, 50000) i")
	for _, tb := range db.tables {
		r := newRunner(db.raw, db.d, tb, Options{BatchSize: 1000, LockTimeout: time.Second})
		if err := r.cp.create(context.Background(), db.raw, time.Now()); err != nil {
			t.Fatal(err)
		}
		lower := []any{int64(49000)}
		if len(tb.Map.Key) > 1 {
			lower = []any{int64(490), int64(0)}
		}
		args := append(append(append([]any{}, lower...), lower...), tb.Map.Old, r.cp.mapping, nil, "x", true, time.Now())
		for _, plain := range []bool{true, false} {
			var plan []string
			for _, row := range db.rows("EXPLAIN "+r.s.lockedBatch(tb, r.cp, true, false, plain, 1000, time.Second), args...) {
				plan = append(plan, row[0].(string))
			}
			if text := strings.Join(plan, "\n"); strings.Contains(text, "Seq Scan on "+tb.Map.New) {
				t.Fatalf("%s, plain %v: the last batch scans all of %s:\n%s", tb.Map.Old, plain, tb.Map.New, text)
			}
		}
	}
}

// TestBackfillKeyTypes: a composite key of text and bigint goes through the
// checkpoint and back as parameters with its types, in the database's
// order of text (collation), also for quotes, spaces and non-ASCII text.
func TestBackfillKeyTypes(t *testing.T) {
	schemas := map[string][]string{
		rewrite.SQLite.Name: {
			`CREATE TABLE tags (name TEXT NOT NULL, seq INTEGER NOT NULL, note TEXT, PRIMARY KEY (name, seq))`,
			`CREATE TABLE labels (label TEXT NOT NULL, seq INTEGER NOT NULL, note TEXT, PRIMARY KEY (label, seq))`,
		},
		rewrite.Postgres.Name: {
			`CREATE TABLE tags (name text NOT NULL, seq bigint NOT NULL, note text, PRIMARY KEY (name, seq))`,
			`CREATE TABLE labels (label text NOT NULL, seq bigint NOT NULL, note text, PRIMARY KEY (label, seq))`,
		},
		// A case-insensitive collation, in which 'a' sorts before 'B' and
		// 'B' and 'b' are one key, and text compares unlike its bytes.
		rewrite.MySQL.Name: {
			`CREATE TABLE tags (name VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, seq BIGINT NOT NULL, note TEXT, PRIMARY KEY (name, seq)) CHARACTER SET utf8mb4`,
			`CREATE TABLE labels (label VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, seq BIGINT NOT NULL, note TEXT, PRIMARY KEY (label, seq)) CHARACTER SET utf8mb4`,
		},
	}
	const yaml = `
tables:
  - old: tags
    new: labels
    key: [name, seq]
    columns:
      label: name
      seq: seq
      note: upper(note)
    reverse:
      name: label
      seq: seq
      note: lower(note)
`
	forEachDialect(t, func(t *testing.T, dialect string) {
		db := open(t, dialect, schemas[dialect], "dialect: "+dialect+yaml)
		for _, name := range []string{"a", "a b", "a'b", "B", "b", "é", `z"q`, "日本", ""} {
			if name == "b" && dialect == rewrite.MySQL.Name {
				continue // the key of "B"
			}
			for _, seq := range []int64{1, 2, 10, 1 << 40} {
				db.exec("INSERT INTO tags (name, seq, note) VALUES (?, ?, ?)", name, seq, name+" note")
			}
		}
		tb := db.tables[0]
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if _, err := Run(ctx, db.raw, db.d, tb, Options{BatchSize: 5, Progress: func(Progress) { cancel() }}); !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		cp, err := ReadCheckpoint(context.Background(), db.raw, db.d, tb, "")
		if err != nil {
			t.Fatal(err)
		}
		want := db.rows("SELECT name, seq FROM tags ORDER BY name, seq LIMIT 1 OFFSET 4")[0]
		if !reflect.DeepEqual(cp.LastKey, want) {
			t.Fatalf("last key %#v, want %#v", cp.LastKey, want)
		}
		total := db.count("SELECT count(*) FROM tags")
		p, err := Run(context.Background(), db.raw, db.d, tb, Options{BatchSize: 5})
		if err != nil || p.RunRows != total-5 || !p.Done {
			t.Fatalf("resumed run: %+v, %v", p, err)
		}
		db.checkInvariant()
	})
}

// TestKeyEncoding: every driver value type goes through a checkpoint's JSON
// and back unchanged; other types are refused.
func TestKeyEncoding(t *testing.T) {
	when := time.Date(2024, 2, 29, 13, 14, 15, 123456789, time.FixedZone("", 3600))
	key := []any{int64(-42), 1.5, "a \"b\" é", []byte{0, 1, 255}, []byte{}, true, false, when, uint64(1<<64 - 1)} // the last: a MySQL BIGINT UNSIGNED
	enc, err := encodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeKey(enc.(string))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(key) || !got[7].(time.Time).Equal(when) {
		t.Fatalf("decoded %#v from %s", got, enc)
	}
	got[7] = when
	if !reflect.DeepEqual(got, key) {
		t.Fatalf("decoded %#v from %s, want %#v", got, enc, key)
	}
	if enc, err := encodeKey([]any{int64(42), "b"}); err != nil || enc != `[{"int":42},{"text":"b"}]` {
		t.Fatalf("encoded %v, %v", enc, err)
	}
	if enc, err := encodeKey(nil); err != nil || enc != nil {
		t.Fatalf("no key encoded as %v, %v", enc, err)
	}
	if _, err := encodeKey([]any{int32(1)}); err == nil {
		t.Fatal("an int32 key value was encoded")
	}
	if _, err := decodeKey(`[{}]`); err == nil {
		t.Fatal("a key value without a type was decoded")
	}
}

// TestBackfillThrottle: the waits between batches that Run asks for, with a
// clock that only its waits move: none after the last batch, the pause, the
// rate's, or the longer of the two; the rate and the time left it reports.
func TestBackfillThrottle(t *testing.T) {
	db := openCorpus(t, rewrite.SQLite.Name)
	db.seed(35, 0, 0)
	ms := time.Millisecond
	for _, tc := range []struct {
		opts  Options
		waits []time.Duration
	}{
		{Options{BatchSize: 10}, nil},
		{Options{BatchSize: 10, Pause: 30 * ms}, []time.Duration{30 * ms, 30 * ms, 30 * ms}},
		{Options{BatchSize: 10, RowsPerSecond: 100}, []time.Duration{100 * ms, 100 * ms, 100 * ms}},
		{Options{BatchSize: 10, RowsPerSecond: 100, Pause: 250 * ms}, []time.Duration{250 * ms, 250 * ms, 250 * ms}},
		{Options{BatchSize: 20, RowsPerSecond: 50, Pause: 30 * ms}, []time.Duration{400 * ms}},
	} {
		if err := Reset(context.Background(), db.raw, db.d, db.tables[0], ""); err != nil {
			t.Fatal(err)
		}
		var reports []Progress
		tc.opts.Progress = func(p Progress) { reports = append(reports, p) }
		opts, err := tc.opts.withDefaults(db.d)
		if err != nil {
			t.Fatal(err)
		}
		r := newRunner(db.raw, db.d, db.tables[0], opts)
		clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		var waits []time.Duration
		r.now = func() time.Time { return clock }
		r.sleep = func(_ context.Context, d time.Duration) error {
			waits = append(waits, d)
			clock = clock.Add(d)
			return nil
		}
		p, err := r.run(context.Background())
		if err != nil || !p.Done || p.Rows != 35 {
			t.Fatalf("%+v: %+v, %v", tc.opts, p, err)
		}
		if !reflect.DeepEqual(waits, tc.waits) {
			t.Fatalf("%+v: waits %v, want %v", tc.opts, waits, tc.waits)
		}
		if tc.opts.RowsPerSecond == 100 && tc.opts.Pause == 0 {
			// The rate counts the wait after each batch: the configured 100
			// rows/s from the first report on; 15 rows left after the second.
			if r := reports[0]; r.RowsPerSecond != 100 {
				t.Fatalf("first report %+v", r)
			}
			if r := reports[1]; r.RowsPerSecond != 100 || r.RowsLeft != 15 || r.TimeLeft != 150*ms {
				t.Fatalf("second report %+v", r)
			}
		}
	}
}

// TestThrottleWait: the wait after a batch subtracts the time the batch
// took from the rate's, and is never shorter than the pause.
func TestThrottleWait(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		opts Options
		rows int64
		took time.Duration
		want time.Duration
	}{
		{Options{RowsPerSecond: 100}, 10, 30 * ms, 70 * ms},
		{Options{RowsPerSecond: 100}, 10, 200 * ms, 0},
		{Options{RowsPerSecond: 100, Pause: 50 * ms}, 10, 200 * ms, 50 * ms},
		{Options{RowsPerSecond: 0.5}, 1, 0, 2 * time.Second},
		{Options{}, 1000, 0, 0},
	} {
		if got := tc.opts.wait(tc.rows, tc.took); got != tc.want {
			t.Errorf("%+v after %d rows in %v: wait %v, want %v", tc.opts, tc.rows, tc.took, got, tc.want)
		}
	}
}

// TestBackfillRefuses: bad options, a checkpoint of another mapping, and a
// failing batch are errors that name the problem and the fix, and leave the
// checkpoint where it was.
func TestBackfillRefuses(t *testing.T) {
	db := openCorpus(t, rewrite.SQLite.Name)
	db.seed(20, 0, 0)
	ctx := context.Background()
	users := db.tables[0]
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{BatchSize: -1}, "BatchSize is -1"},
		{Options{RowsPerSecond: -5}, "RowsPerSecond is -5"},
		{Options{Pause: -time.Second}, "Pause is -1s"},
	} {
		if _, err := Run(ctx, db.raw, db.d, users, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error with %q", tc.opts, err, tc.want)
		}
	}
	if _, err := Run(ctx, db.raw, db.d, nil, Options{}); err == nil {
		t.Error("Run accepted a nil table")
	}
	if cp, err := ReadCheckpoint(ctx, db.raw, db.d, users, ""); err != nil || !cp.Updated.IsZero() {
		t.Fatalf("refused runs left a checkpoint: %+v, %v", cp, err)
	}

	if _, err := Run(ctx, db.raw, db.d, users, Options{BatchSize: 8}); err != nil {
		t.Fatal(err)
	}
	changed := *users.Map
	changed.Columns = append([]mapping.Column(nil), changed.Columns...)
	changed.Columns[4].Expr = "visits + 1"
	other := db.d.Compile(&changed)
	_, err := Run(ctx, db.raw, db.d, other, Options{})
	if !errors.Is(err, ErrMappingChanged) || !strings.Contains(err.Error(), "users -> accounts") || !strings.Contains(err.Error(), "Reset") {
		t.Fatalf("run with a changed mapping: %v", err)
	}
	if cp, err := ReadCheckpoint(ctx, db.raw, db.d, other, ""); err != nil || !cp.MappingChanged || !cp.Done {
		t.Fatalf("checkpoint of a changed mapping: %+v, %v", cp, err)
	}
	if err := Reset(ctx, db.raw, db.d, other, ""); err != nil {
		t.Fatal(err)
	}
	db.exec("DROP TABLE accounts")
	p, err := Run(ctx, db.raw, db.d, other, Options{BatchSize: 8})
	if err == nil || !strings.Contains(err.Error(), "users -> accounts") || !strings.Contains(err.Error(), "run again") || p.Rows != 0 {
		t.Fatalf("run with the new table dropped: %+v, %v", p, err)
	}
	if cp, err := ReadCheckpoint(ctx, db.raw, db.d, other, ""); err != nil || cp.Rows != 0 || cp.LastKey != nil || cp.Updated.IsZero() {
		t.Fatalf("a failed batch changed the checkpoint: %+v, %v", cp, err)
	}
}

// TestBackfillCheckpointTable: Options.CheckpointTable names the table the
// checkpoints are kept in; the default table is then not created.
func TestBackfillCheckpointTable(t *testing.T) {
	db := openCorpus(t, rewrite.SQLite.Name)
	db.seed(3, 0, 0)
	ctx := context.Background()
	if _, err := Run(ctx, db.raw, db.d, db.tables[0], Options{CheckpointTable: "ops backfill"}); err != nil {
		t.Fatal(err)
	}
	if cp, err := ReadCheckpoint(ctx, db.raw, db.d, db.tables[0], "ops backfill"); err != nil || !cp.Done || cp.Rows != 3 {
		t.Fatalf("checkpoint in the named table: %+v, %v", cp, err)
	}
	if n := db.count("SELECT count(*) FROM sqlite_master WHERE name = ?", DefaultCheckpointTable); n != 0 {
		t.Fatalf("%s was created", DefaultCheckpointTable)
	}
}

// TestBackfillGivesWay: on PostgreSQL a batch waits for an application
// transaction that writes the old table at most LockTimeout, then gives way
// and is tried again, and the backfill completes once the transaction ends.
func TestBackfillGivesWay(t *testing.T) {
	db := openCorpus(t, rewrite.Postgres.Name)
	db.seed(10, 0, 0)
	ctx := context.Background()
	app, pid := db.appTx(db.raw, "UPDATE users SET visits = visits + 1 WHERE id = 9")
	// While app holds the row, every try times out: the run gives up after
	// its tries with the lock timeout's SQLSTATE, having copied nothing.
	p, err := Run(ctx, db.raw, db.d, db.tables[0], Options{LockTimeout: 20 * time.Millisecond})
	if txn.SQLState(err) != "55P03" || p.Rows != 0 {
		t.Fatalf("run while the row is held: %+v, %v; want SQLSTATE 55P03 (lock_not_available)", p, err)
	}
	wait := db.runAside(Options{LockTimeout: 100 * time.Millisecond})
	db.waitBlockedBy(pid)
	// The first try times out (app holds the row longer than LockTimeout);
	// a later one gets the lock once app commits.
	time.Sleep(150 * time.Millisecond)
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if p, err := wait(); err != nil || p.Rows != 10 || !p.Done {
		t.Fatalf("backfill: %+v, %v", p, err)
	}
	db.checkTable(db.tables[0])
}

// TestBackfillPlainInsertMeetsDualWrite: on PostgreSQL and MySQL a batch
// copies by plain INSERT when the new table has no row in its range at its
// snapshot. An application transaction that updates an old row and so
// inserts its first new row, and commits while the batch waits for the old
// row's lock, makes that INSERT fail with a unique violation (MySQL: a
// duplicate key): the batch is tried again with the upsert, and the row
// ends as the application left it.
func TestBackfillPlainInsertMeetsDualWrite(t *testing.T) {
	for _, dialect := range []string{rewrite.Postgres.Name, rewrite.MySQL.Name} {
		t.Run(dialect, func(t *testing.T) {
			db := openCorpus(t, dialect)
			db.seed(10, 0, 0)
			app, pid := db.appTx(db.wrapped, "UPDATE users SET full_name = 'Ada King', visits = 7 WHERE id = 9")
			reg := prometheus.NewRegistry()
			mb, err := metrics.NewBackfill(reg)
			if err != nil {
				t.Fatal(err)
			}
			wait := db.runAside(Options{LockTimeout: time.Minute, Metrics: mb})
			db.waitBlockedBy(pid)
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
			if p, err := wait(); err != nil || p.Rows != 10 || p.Deleted != 0 || !p.Done {
				t.Fatalf("backfill: %+v, %v", p, err)
			}
			retries := func(reason string) float64 {
				v, _ := series(t, reg, "dualwrite_backfill_retries_total", map[string]string{"table": "users", "reason": reason})
				return v
			}
			if got := retries(metrics.RetryUniqueViolation); got != 1 {
				t.Fatalf("%v retries for a unique violation, want 1", got)
			}
			if got := retries(metrics.RetryLockTimeout); got != 0 {
				t.Fatalf("%v retries for a lock timeout, want 0", got)
			}
			if got := db.rows("SELECT first_name, last_name, visits FROM accounts WHERE account_id = 9"); !reflect.DeepEqual(got, [][]any{{"Ada", "King", int64(7)}}) {
				t.Fatalf("account 9: %v", got)
			}
			db.checkTable(db.tables[0])
		})
	}
}

// TestBackfillSQLiteDatetimeKey: keys of a column declared DATETIME, stored
// as text in several layouts, bound the batches as stored (go-sqlite3 would
// read such a column as a time.Time, which binds back in another layout and
// sorts before the stored key: the backfill would never get past it).
func TestBackfillSQLiteDatetimeKey(t *testing.T) {
	db := open(t, rewrite.SQLite.Name, []string{
		`CREATE TABLE ev_old (at DATETIME NOT NULL PRIMARY KEY, v TEXT)`,
		`CREATE TABLE ev_new (at DATETIME NOT NULL PRIMARY KEY, v TEXT)`,
	}, "dialect: sqlite\ntables:\n  - old: ev_old\n    new: ev_new\n    key: [at]\n    columns: {at: at, v: upper(v)}\n    reverse: {at: at, v: lower(v)}\n")
	db.exec(`INSERT INTO ev_old VALUES ('2024-01-01T10:00:00Z', 'a'), ('2024-01-01 10:00:01', 'b'),
		('2024-01-01T10:00:01Z', 'c'), ('2024-01-02', 'd'), ('2024-01-02 00:00:00.5+02:00', 'e'), ('2024-01-03T00:00:00Z', 'f')`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := Run(ctx, db.raw, db.d, db.tables[0], Options{BatchSize: 2})
	if err != nil || !p.Done || p.Rows != 6 {
		t.Fatalf("%+v, %v; want 6 rows copied and done", p, err)
	}
	db.checkInvariant()
}
