package control

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver

	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// engine is one fresh database with the corpus tables (users ->
// accounts, memberships -> members), empty, and no control table.
type engine struct {
	driver, dsn string
	// schema is the PostgreSQL schema, which names its sessions
	// (application_name); "" elsewhere.
	schema string
	db     *sql.DB
	d      *rewrite.Dialect
	m      *mapping.Mapping
	s      *Store
}

// forEach runs test against SQLite, against PostgreSQL (skipped unless
// pgtest.DSNEnv is set) and against MariaDB (skipped unless mytest.DSNEnv
// is set).
func forEach(t *testing.T, test func(t *testing.T, e *engine)) {
	t.Run("sqlite", func(t *testing.T) {
		test(t, open(t, "sqlite3", dbtest.SQLiteDSN(t, ""), "", rewrite.SQLite, corpus.Schema, corpus.Mapping))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, schema := pgtest.New(t, corpus.PostgresSchema...)
		test(t, open(t, "pgx", dsn, schema, rewrite.Postgres, nil, corpus.PostgresMapping))
	})
	t.Run("mysql", func(t *testing.T) {
		dsn := mytest.Database(t, corpus.MySQLSchema...)
		test(t, open(t, "mysql", dsn, "", rewrite.MySQL, nil, corpus.MySQLMapping))
	})
}

func open(t *testing.T, driverName, dsn, schema string, d *rewrite.Dialect, statements []string, yaml string) *engine {
	t.Helper()
	e := &engine{driver: driverName, dsn: dsn, schema: schema, d: d, s: New(d)}
	e.db = e.open(t)
	for _, s := range statements {
		e.exec(t, s)
	}
	m, err := mapping.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	return e
}

// open opens another pool on the engine's database: its connections are
// not the other pools'.
func (e *engine) open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(e.driver, e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (e *engine) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := e.db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// ensure creates the control tables.
func (e *engine) ensure(t *testing.T) {
	t.Helper()
	if err := e.s.Ensure(context.Background(), e.db); err != nil {
		t.Fatal(err)
	}
}

// now returns the database's clock.
func (e *engine) now(t *testing.T) int64 {
	t.Helper()
	now, err := e.s.Now(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// waitUntil returns once the database's clock has passed ms.
func (e *engine) waitUntil(t *testing.T, ms int64) {
	t.Helper()
	for e.now(t) <= ms {
		time.Sleep(5 * time.Millisecond)
	}
}

// fill writes rows in the old tables.
func (e *engine) fill(t *testing.T) {
	t.Helper()
	e.exec(t, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x'), (3, 'Grace Hopper', 'grace@x')")
	e.exec(t, "INSERT INTO memberships (org_id, user_id, role) VALUES (1, 1, 'admin'), (1, 2, 'member')")
}

// backfill runs the backfill of the mapping's old table old with batches
// of size rows; with stopAfterOne, it stops after its first batch.
func (e *engine) backfill(t *testing.T, old string, size int, stopAfterOne bool) backfill.Checkpoint {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tb := e.d.Compile(e.m.Table(old))
	opts := backfill.Options{BatchSize: size}
	if stopAfterOne {
		opts.Progress = func(backfill.Progress) { cancel() }
	}
	p, err := backfill.Run(ctx, e.db, e.d, tb, opts)
	if stopAfterOne {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("backfill of %s stopped after one batch: got %v, want context.Canceled", old, err)
		}
		if p.Done {
			t.Fatalf("backfill of %s: done after one batch of %d rows", old, size)
		}
	} else if err != nil || !p.Done {
		t.Fatalf("backfill of %s: %+v, %v", old, p, err)
	}
	return e.checkpoint(t, old)
}

// checkpoint reads the backfill checkpoint of old.
func (e *engine) checkpoint(t *testing.T, old string) backfill.Checkpoint {
	t.Helper()
	cp, err := backfill.ReadCheckpoint(context.Background(), e.db, e.d, e.d.Compile(e.m.Table(old)), "")
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// verify verifies every table and records the results, with the
// backfill checkpoints read before it started, as the dualwrite command
// does; it returns the report.
func (e *engine) verify(t *testing.T) verifyResult {
	t.Helper()
	ctx := context.Background()
	stamps := map[string]string{}
	for _, mt := range e.m.Tables {
		stamps[mt.Old] = BackfillStamp(e.checkpoint(t, mt.Old))
	}
	now, err := e.s.Now(ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}
	records, err := RunVerify(ctx, e.db, e.d, e.m)
	if err != nil {
		t.Fatal(err)
	}
	res := verifyResult{OK: true}
	for _, r := range records {
		mt := e.m.Table(r.Table)
		r.Digest, r.Backfill, r.Started, r.By = mt.Digest(), stamps[mt.Old], millis(now), "verifier"
		if err := e.s.RecordVerify(ctx, e.db, r); err != nil {
			t.Fatal(err)
		}
		res.OK = res.OK && r.Differences == 0
	}
	return res
}

// verifyResult is what engine.verify found.
type verifyResult struct{ OK bool }

// RunVerify runs package verify on every table of m and returns each
// table's compared keys and differences; verify_test.go sets it, since
// package verify imports this one.
var RunVerify func(ctx context.Context, db *sql.DB, d *rewrite.Dialect, m *mapping.Mapping) ([]VerifyRecord, error)

// recent fails the test unless at is in UTC and within a minute of now.
func recent(t *testing.T, what string, at time.Time) {
	t.Helper()
	if at.Location() != time.UTC {
		t.Errorf("%s: %v is not in UTC", what, at)
	}
	if d := time.Since(at); d > time.Minute || d < -time.Minute {
		t.Errorf("%s: %v is %v away from now", what, at, d)
	}
}

// refused fails the test unless err is a *RefusedError whose reasons each
// hold the matching element of want, in order, and no other reason.
func refused(t *testing.T, err error, want ...string) *RefusedError {
	t.Helper()
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *RefusedError", err)
	}
	matchReasons(t, re.Reasons, want...)
	return re
}

// matchReasons fails the test unless each reason holds the matching
// element of want, and there are as many.
func matchReasons(t *testing.T, reasons []string, want ...string) {
	t.Helper()
	ok := len(reasons) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.Contains(reasons[i], want[i])
	}
	if !ok {
		t.Fatalf("reasons:\n  %s\nwant, in order, reasons holding:\n  %s", strings.Join(reasons, "\n  "), strings.Join(want, "\n  "))
	}
}
