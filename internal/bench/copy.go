package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

// The copy groups measure the throughput of backfill.Run and verify.Table
// on a large users table, each against one bulk INSERT ... SELECT of
// up(users) into accounts, the fastest a copy inside the database can go.
// They run only when -groups names them: see docs/benchmarks.md.

// copyGroupNames are the throughput groups: copy on SQLite, pg-copy on
// PostgreSQL, my-copy on MariaDB (MySQL).
var copyGroupNames = []string{"copy", "pg-copy", "my-copy"}

// copyTarget is the least throughput of backfill and of verify, as a
// fraction of the bulk copy's.
const copyTarget = 0.5

// The copy groups' variants, in the order they are reported; the ratios
// with a target are backfill and verify to bulk. pg-copy has one more,
// bulk-locked, a reference: the bulk copy with the row locks that a
// backfill on PostgreSQL must take.
const (
	copyBulk = iota
	copyBackfill
	copyVerify
	copyBulkLocked
)

// copyFirstNames and copyLastNames make the copy groups' users rows: first
// names (some not ASCII), last names (some of two words, one with an
// apostrophe).
var (
	copyFirstNames = []string{"Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "Dennis",
		"Radia", "Tim", "Hedy", "Linus", "Katherine", "John", "Sophie", "José", "Zoë", "Søren"}
	copyLastNames = []string{"Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen",
		"Ritchie", "Perlman", "Berners-Lee", "Lamarr", "Torvalds", "Johnson", "McCarthy", "Wilson", "García", "Müller",
		"O'Brien", "van Rossum", "Nakamura", "Kowalski", "Okafor", "Lindqvist"}
)

// copyUsersSelect returns the select list of the copy groups' users rows
// over an integer i, in SQL that SQLite and PostgreSQL both run (MySQL
// with mysql set: CONCAT for ||, DIV for the integer /): every 10th
// full_name is a first name alone, every 7th (else) has a middle name,
// the others are "first last"; every 13th email is NULL, the others are
// unique (first.last<i>@example.com); visits from 0 to 999.
func copyUsersSelect(mysql bool) string {
	cat := func(s ...string) string { return strings.Join(s, " || ") }
	div := " / "
	if mysql {
		cat = func(s ...string) string { return "CONCAT(" + strings.Join(s, ", ") + ")" }
		div = " DIV "
	}
	first := pick(copyFirstNames, "i")
	middle := pick(copyFirstNames, "i"+div+"7")
	last := pick(copyLastNames, "i"+div+"20")
	return "i, CASE WHEN i % 10 = 0 THEN " + first +
		" WHEN i % 7 = 0 THEN " + cat(first, "' '", middle, "' '", last) +
		" ELSE " + cat(first, "' '", last) + " END," +
		" CASE WHEN i % 13 = 0 THEN NULL ELSE " + cat("lower("+first+")", "'.'", "replace(lower("+last+"), ' ', '')", "i", "'@example.com'") + " END," +
		" (i * 37 + i" + div + "7) % 1000"
}

// pick returns an expression that picks one of names, the one at (i mod
// len(names)) for the value i of the expression index: a substring of one
// string literal of the names padded to the same width.
func pick(names []string, index string) string {
	w := 0
	for _, n := range names {
		w = max(w, utf8.RuneCountInString(n))
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(strings.ReplaceAll(n, "'", "''"))
		b.WriteString(strings.Repeat(" ", w-utf8.RuneCountInString(n)))
	}
	return fmt.Sprintf("rtrim(substr('%s', ((%s) %% %d) * %d + 1, %d))", b.String(), index, len(names), w, w)
}

// qCopyFillSQLite fills users with the copy group's rows; the parameter is
// the number of rows.
func qCopyFillSQLite() string {
	return "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)\n" +
		"INSERT INTO users (id, full_name, email, visits) SELECT " + copyUsersSelect(false) + " FROM n"
}

// qCopyFillPostgres is qCopyFillSQLite for pg-copy.
func qCopyFillPostgres() string {
	return "INSERT INTO users (id, full_name, email, visits) SELECT " + copyUsersSelect(false) +
		" FROM generate_series(1, $1::int) AS i"
}

// qCopyFillMySQL is qCopyFillSQLite for my-copy, with rows rows.
func qCopyFillMySQL(rows int64) string {
	return "INSERT INTO users (id, full_name, email, visits) SELECT " + copyUsersSelect(true) + " FROM " + mySeq(rows)
}

// copyGroup is one engine's copy group: three variants, each on its own
// database (file or schema) holding the same rows.
type copyGroup struct {
	name     string
	engine   string
	rows     int64
	variants []copyVariant
	// check verifies, after the rounds, that the bulk and backfill
	// variants' accounts = up(users), and returns a summary.
	check func(ctx context.Context) ([]string, error)
	// batches are the times between the backfill's batch commits (Progress
	// callbacks), the first of each run left out (it includes the run's
	// count(*)); batchRuns counts the runs.
	batches   []time.Duration
	batchRuns int
}

// copyVariant is one way of going through the rows: prepare (not timed)
// puts its database in the state it starts from; run (timed) returns the
// rows it copied or compared, having checked them.
type copyVariant struct {
	name    string
	prepare func(ctx context.Context) error
	run     func(ctx context.Context) (int64, error)
}

// copySample is one variant's measurement in one round.
type copySample struct {
	rows                               int64
	seconds, allocsPerRow, bytesPerRow float64
}

func (s copySample) rowsPerSecond() float64 { return float64(s.rows) / s.seconds }

// copyGroups sets up the copy groups named in want (none when want is
// empty: they are not in the default set). pg-copy needs b.pg, my-copy
// b.my.
func (b *bench) copyGroups(want []string, rows int64) ([]*copyGroup, error) {
	var out []*copyGroup
	if slices.Contains(want, "copy") {
		g, err := b.sqliteCopyGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("setting up copy: %w", err)
		}
		out = append(out, g)
	}
	if slices.Contains(want, "pg-copy") && b.pg != nil {
		g, err := b.pgCopyGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("setting up pg-copy: %w", err)
		}
		out = append(out, g)
	}
	if slices.Contains(want, "my-copy") && b.my != nil {
		g, err := b.myCopyGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("setting up my-copy: %w", err)
		}
		out = append(out, g)
	}
	return out, nil
}

// sqliteCopyGroup makes the copy group's files, one per variant, copies of
// one seed file (seedCopyFiles); the verify variant's accounts is then
// filled with up(users).
func (b *bench) sqliteCopyGroup(rows int64) (*copyGroup, error) {
	ctx := b.ctx
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		return nil, err
	}
	variants := []string{"bulk", "backfill", "verify"}
	if err := b.seedCopyFiles(rows, variants); err != nil {
		return nil, err
	}
	dbs := map[string]*sql.DB{}
	for _, v := range variants {
		db, err := sql.Open("sqlite3", b.dsn("copy-"+v))
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		b.dbs = append(b.dbs, db)
		dbs[v] = db
	}
	if err := execRows(ctx, dbs["verify"], rows, upInsert(m)); err != nil {
		return nil, err
	}
	checkpoint := func(db *sql.DB) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			return err
		}
	}
	empty := func(db *sql.DB) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			if _, err := db.ExecContext(ctx, `DELETE FROM accounts`); err != nil {
				return err
			}
			return checkpoint(db)(ctx)
		}
	}
	g := &copyGroup{name: "copy", engine: "SQLite", rows: rows}
	copyVariants(g, m, dbs, empty, checkpoint)
	g.check = func(ctx context.Context) ([]string, error) {
		var out []string
		for _, v := range []string{"bulk", "backfill"} {
			var bad, orphans, users int64
			db := dbs[v]
			err := db.QueryRowContext(ctx, qCheckDiff).Scan(&bad)
			if err == nil {
				err = db.QueryRowContext(ctx, qCheckExtra).Scan(&orphans)
			}
			if err == nil {
				err = db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&users)
			}
			if err != nil {
				return nil, fmt.Errorf("checking copy / %s: %w", v, err)
			}
			if bad > 0 || orphans > 0 || users != rows {
				return nil, fmt.Errorf("check FAILED: copy / %s: %d of %d users rows are not in accounts as up(users), %d accounts rows have no users row; want 0 of %d and 0",
					v, bad, users, orphans, rows)
			}
			out = append(out, fmt.Sprintf("check copy / %s: accounts = up(users), %d rows (SQL join on the key, the mapping's expressions)", v, users))
		}
		return out, nil
	}
	return g, nil
}

// seedCopyFiles makes a seed file with the schema and users filled by one
// INSERT ... SELECT from a recursive CTE (with a large page cache: the seed
// is not measured), copies it by VACUUM INTO to the file of each variant,
// so that they start from the same pages, and removes it.
func (b *bench) seedCopyFiles(rows int64, variants []string) (err error) {
	ctx := b.ctx
	path := filepath.Join(b.dir, "copy-seed.db")
	seed, err := sql.Open("sqlite3", "file:"+path+dsnParams)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := seed.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Remove(path)
		}
	}()
	seed.SetMaxOpenConns(1)
	for _, s := range append([]string{`PRAGMA cache_size = -262144`}, corpus.BenchSchema...) {
		if _, err := seed.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if err := execRows(ctx, seed, rows, qCopyFillSQLite(), rows); err != nil {
		return err
	}
	if b.version == "" {
		if err := seed.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&b.version); err != nil {
			return err
		}
	}
	for _, v := range variants {
		file := filepath.Join(b.dir, "copy-"+v+".db")
		if _, err := seed.ExecContext(ctx, "VACUUM INTO '"+strings.ReplaceAll(file, "'", "''")+"'"); err != nil {
			return fmt.Errorf("VACUUM INTO %s: %w", file, err)
		}
	}
	return nil
}

// pgCopyGroup makes the pg-copy group's schemas, one per variant, each
// with users filled by one INSERT ... SELECT from generate_series (the
// unique index on email built afterwards), then VACUUM ANALYZE; the verify
// variant's accounts is then filled with up(users) and vacuumed likewise.
// Autovacuum is off on these tables, so that it cannot start during
// another variant's measurement.
func (b *bench) pgCopyGroup(rows int64) (*copyGroup, error) {
	ctx := b.ctx
	m, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		return nil, err
	}
	dbs := map[string]*sql.DB{}
	for _, v := range []string{"bulk", "backfill", "verify", "bulk-locked"} {
		stmts := append([]string{}, corpus.PostgresBenchSchema...)
		stmts = append(stmts, `ALTER TABLE users SET (autovacuum_enabled = off)`, `ALTER TABLE accounts SET (autovacuum_enabled = off)`)
		dsn, err := b.pg.newSchema("pg-copy", v, stmts)
		if err != nil {
			return nil, err
		}
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		b.dbs = append(b.dbs, db)
		dbs[v] = db
		// The unique index on email is built after the rows (a sort, not a
		// million random insertions), under the name the schema gave it.
		if _, err := db.ExecContext(ctx, `ALTER TABLE users DROP CONSTRAINT users_email_key`); err != nil {
			return nil, err
		}
		if err := execRows(ctx, db, rows, qCopyFillPostgres(), rows); err != nil {
			return nil, err
		}
		for _, q := range []string{`ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)`, `VACUUM ANALYZE users`} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("%s: %w", q, err)
			}
		}
	}
	if err := execRows(ctx, dbs["verify"], rows, upInsert(m)); err != nil {
		return nil, err
	}
	if _, err := dbs["verify"].ExecContext(ctx, `VACUUM ANALYZE accounts`); err != nil {
		return nil, err
	}
	// A CHECKPOINT before each measurement, so that each starts with no
	// dirty buffers of another's and pays the full-page images of the
	// pages it is first to change, as a long backfill does (a checkpoint
	// comes every few minutes).
	checkpoint := func(*sql.DB) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			if b.pg.noCheckpoint {
				return nil
			}
			if _, err := b.pg.admin.ExecContext(ctx, `CHECKPOINT`); err != nil {
				b.pg.noCheckpoint = true
				fmt.Printf("note: CHECKPOINT failed (%v); the pg-copy measurements run without one\n", err)
			}
			return nil
		}
	}
	empty := func(db *sql.DB) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			if _, err := db.ExecContext(ctx, `TRUNCATE accounts`); err != nil {
				return err
			}
			return checkpoint(db)(ctx)
		}
	}
	g := &copyGroup{name: "pg-copy", engine: "PostgreSQL", rows: rows}
	copyVariants(g, m, dbs, empty, checkpoint)
	locked := dbs["bulk-locked"]
	lockedSQL := rewrite.Postgres.Compile(usersTable(m)).InsertFrom("(SELECT * FROM users FOR NO KEY UPDATE)")
	g.variants = append(g.variants, copyVariant{
		name:    "bulk-locked",
		prepare: empty(locked),
		run: func(ctx context.Context) (int64, error) {
			return rows, execRows(ctx, locked, rows, lockedSQL)
		},
	})
	g.check = copyCheck(g.name, m, dbs, rows, "bulk", "backfill", "bulk-locked")
	return g, nil
}

// myCopyGroup makes the my-copy group's databases, one per variant, each
// with users filled by one INSERT ... SELECT from a recursive CTE (the
// unique index on email built afterwards), then ANALYZE TABLE; the verify
// variant's accounts is then filled with up(users). InnoDB has no
// checkpoint to ask for: a measurement starts right after accounts is
// emptied (TRUNCATE).
func (b *bench) myCopyGroup(rows int64) (*copyGroup, error) {
	ctx := b.ctx
	m, err := mapping.Parse([]byte(corpus.MySQLMapping))
	if err != nil {
		return nil, err
	}
	dbs := map[string]*sql.DB{}
	for _, v := range []string{"bulk", "backfill", "verify"} {
		// The unique index on email, under the name the schema gave it,
		// is built after the rows.
		stmts := append([]string{}, corpus.MySQLBenchSchema...)
		stmts = append(stmts, `ALTER TABLE users DROP INDEX email`, qCopyFillMySQL(rows),
			`ALTER TABLE users ADD UNIQUE INDEX email (email)`, `ANALYZE TABLE users`)
		cfg, err := b.my.newDatabase("my-copy", v, stmts)
		if err != nil {
			return nil, err
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		b.dbs = append(b.dbs, db)
		dbs[v] = db
	}
	if err := execRows(ctx, dbs["verify"], rows, upInsert(m)); err != nil {
		return nil, err
	}
	if _, err := dbs["verify"].ExecContext(ctx, `ANALYZE TABLE accounts`); err != nil {
		return nil, err
	}
	settle := func(*sql.DB) func(ctx context.Context) error {
		return func(context.Context) error { return nil }
	}
	empty := func(db *sql.DB) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := db.ExecContext(ctx, `TRUNCATE accounts`)
			return err
		}
	}
	g := &copyGroup{name: "my-copy", engine: b.my.engine(), rows: rows}
	copyVariants(g, m, dbs, empty, settle)
	g.check = copyCheck(g.name, m, dbs, rows, "bulk", "backfill")
	return g, nil
}

// copyCheck returns the check of a copy group: in the databases of the
// variants, accounts = up(users) with all the rows.
func copyCheck(group string, m *mapping.Mapping, dbs map[string]*sql.DB, rows int64, variants ...string) func(context.Context) ([]string, error) {
	diff := mirrorDiff(usersTable(m), "EXCEPT ALL")
	return func(ctx context.Context) ([]string, error) {
		var out []string
		for _, v := range variants {
			var missing, extra, users, visits int64
			if err := dbs[v].QueryRowContext(ctx, diff).Scan(&missing, &extra, &users, &visits); err != nil {
				return nil, fmt.Errorf("checking %s / %s: %w", group, v, err)
			}
			if missing > 0 || extra > 0 || users != rows {
				return nil, fmt.Errorf("check FAILED: %s / %s: accounts != up(users): %d rows of up(users) missing from accounts, %d accounts rows not in up(users), of %d users rows (want %d)",
					group, v, missing, extra, users, rows)
			}
			out = append(out, fmt.Sprintf("check %s / %s: accounts = up(users), %d rows (EXCEPT ALL both ways)", group, v, users))
		}
		return out, nil
	}
}

// copyVariants fills in g's variants on their databases: empty(db)
// empties accounts and settles the database, settle(db) only settles it.
func copyVariants(g *copyGroup, m *mapping.Mapping, dbs map[string]*sql.DB,
	empty, settle func(*sql.DB) func(context.Context) error) {
	rows := g.rows
	mt := usersTable(m)
	d := rewrite.DialectByName(m.Dialect)
	ct := d.Compile(mt)
	bulkSQL := upInsert(m)
	bulk, bf, ver := dbs["bulk"], dbs["backfill"], dbs["verify"]
	g.variants = make([]copyVariant, copyVerify+1)
	g.variants[copyBulk] = copyVariant{
		name:    "bulk",
		prepare: empty(bulk),
		run: func(ctx context.Context) (int64, error) {
			return rows, execRows(ctx, bulk, rows, bulkSQL)
		},
	}
	g.variants[copyBackfill] = copyVariant{
		name: "backfill",
		prepare: func(ctx context.Context) error {
			if err := backfill.Reset(ctx, bf, d, ct, ""); err != nil {
				return err
			}
			return empty(bf)(ctx)
		},
		run: func(ctx context.Context) (int64, error) {
			last, first := time.Now(), true
			p, err := backfill.Run(ctx, bf, d, ct, backfill.Options{Progress: func(backfill.Progress) {
				now := time.Now()
				if !first {
					g.batches = append(g.batches, now.Sub(last))
				}
				last, first = now, false
			}})
			g.batchRuns++
			if err != nil {
				return 0, err
			}
			if !p.Done || p.RunRows != rows || p.Rows != rows || p.Deleted != 0 {
				return 0, fmt.Errorf("backfill.Run: done %v, %d rows copied by this run (%d in all), %d deleted; want done, %d, %d, 0",
					p.Done, p.RunRows, p.Rows, p.Deleted, rows, rows)
			}
			return p.RunRows, nil
		},
	}
	g.variants[copyVerify] = copyVariant{
		name:    "verify",
		prepare: settle(ver),
		run: func(ctx context.Context) (int64, error) {
			rep, err := verify.Table(ctx, ver, d, mt, verify.Options{})
			if err != nil {
				return 0, err
			}
			if !rep.OK || rep.Matching != rows || rep.RowsProcessed != rows {
				return 0, fmt.Errorf("verify.Table: ok %v, %d keys, %d matching, %d mismatched, %d missing, %d extra; want ok and %d matching",
					rep.OK, rep.RowsProcessed, rep.Matching, rep.Mismatched, rep.MissingInNew, rep.ExtraInNew, rows)
			}
			return rep.RowsProcessed, nil
		},
	}
}

// execRows runs q and checks that it affected want rows.
func execRows(ctx context.Context, db *sql.DB, want int64, q string, args ...any) error {
	r, err := db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%.200s: %w", q, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("%.200s: %d rows affected, want %d", q, n, want)
	}
	return nil
}

// runCopies runs the copy groups' rounds: in each, every variant of every
// group once, in an order that rotates every round (order). It returns
// results[group][variant], one sample per round.
func runCopies(ctx context.Context, groups []*copyGroup, rounds int, verbose bool) ([][][]copySample, error) {
	results := make([][][]copySample, len(groups))
	for gi := range groups {
		results[gi] = make([][]copySample, len(groups[gi].variants))
	}
	for r := 0; r < rounds; r++ {
		for gi, g := range groups {
			for _, vi := range order(len(g.variants), r) {
				v := g.variants[vi]
				s, err := measureCopy(ctx, v)
				if err != nil {
					return nil, fmt.Errorf("round %d %s / %s: %w", r+1, g.name, v.name, err)
				}
				results[gi][vi] = append(results[gi][vi], s)
				if verbose {
					fmt.Printf("round %d  %-8s %-9s %10.0f rows/s  %7.3f s\n", r+1, g.name, v.name, s.rowsPerSecond(), s.seconds)
				}
			}
		}
	}
	return results, nil
}

// measureCopy prepares a variant's database (not timed), runs the GC, and
// times one run of the variant.
func measureCopy(ctx context.Context, v copyVariant) (copySample, error) {
	if err := v.prepare(ctx); err != nil {
		return copySample{}, fmt.Errorf("preparing: %w", err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	rows, err := v.run(ctx)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		return copySample{}, err
	}
	return copySample{
		rows:         rows,
		seconds:      elapsed.Seconds(),
		allocsPerRow: float64(after.Mallocs-before.Mallocs) / float64(rows),
		bytesPerRow:  float64(after.TotalAlloc-before.TotalAlloc) / float64(rows),
	}, nil
}

func printCopyHeader(b *bench, groups []*copyGroup, rounds int, setup time.Duration) {
	var engines []string
	for _, g := range groups {
		engines = append(engines, g.engine)
	}
	fmt.Printf("backfill and verify throughput on %s, against one bulk INSERT ... SELECT, in one run\n", strings.Join(engines, " and "))
	fmt.Printf("go %s %s/%s, GOMAXPROCS=%d, NumCPU=%d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
	for _, g := range groups {
		switch g.name {
		case "copy":
			fmt.Printf("copy: SQLite %s via github.com/mattn/go-sqlite3 %s, one file per variant, DSN parameters %s\n",
				b.version, moduleVersion("github.com/mattn/go-sqlite3"), dsnParams)
		case "pg-copy":
			fmt.Printf("pg-copy: %s\n  via github.com/jackc/pgx/v5 %s (stdlib), %s; one schema per variant (dw_bench_%s_pg_copy_*), autovacuum off on its tables\n",
				b.pg.version, moduleVersion("github.com/jackc/pgx/v5"), b.pg.settings, b.pg.run)
		case "my-copy":
			fmt.Printf("my-copy: %s %s\n  via github.com/go-sql-driver/mysql %s, %s; one database per variant (dwbench_%s_my_copy_*), InnoDB\n",
				b.my.engine(), b.my.version, moduleVersion("github.com/go-sql-driver/mysql"), b.my.settings, b.my.run)
		}
	}
	fmt.Printf("users -> accounts of the test mapping (copy: corpus.Mapping, pg-copy: corpus.PostgresMapping, my-copy: corpus.MySQLMapping),\n  %d users rows,", groups[0].rows)
	fmt.Printf(" the same in each variant's database")
	fmt.Printf(" (setup took %s); each variant its own *sql.DB, SetMaxOpenConns(1)\n", setup.Round(100*time.Millisecond))
	fmt.Printf("rounds: %d; in each, every variant runs once, in an order that rotates every round; medians over the rounds\n", rounds)
	fmt.Println()
	fmt.Println("variants (timed: the run only; before it, untimed: accounts emptied, a checkpoint (SQLite: the WAL's, PostgreSQL: CHECKPOINT;")
	fmt.Println("  MariaDB: none), a GC):")
	fmt.Println("  bulk      one INSERT INTO accounts (cols) SELECT <the mapping's up expressions> FROM users, accounts empty")
	fmt.Printf("  backfill  backfill.Run, default options (batches of %d rows, %d on MariaDB, each one transaction), accounts empty,\n",
		backfill.DefaultBatchSize, backfill.DefaultMySQLBatchSize)
	fmt.Println("            the checkpoint reset (backfill.Reset)")
	fmt.Printf("  verify    verify.Table, default options (ranges of %d keys), accounts = up(users); must report every key matching\n", verify.DefaultBatchSize)
	for _, g := range groups {
		if len(g.variants) > copyBulkLocked {
			fmt.Println("  bulk-locked  (pg-copy, a reference) bulk with the old rows locked as the backfill locks them:")
			fmt.Println("            INSERT INTO accounts (cols) SELECT <up expressions> FROM (SELECT * FROM users FOR NO KEY UPDATE) AS users")
		}
	}
	fmt.Println()
}

func reportCopies(w io.Writer, groups []*copyGroup, results [][][]copySample) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "group\tvariant\trows\tmedian rows/s\tmin rows/s\tmax rows/s\tmedian s\tallocs/row\tB/row\t")
	for gi, g := range groups {
		for vi, v := range g.variants {
			ss := results[gi][vi]
			rps := field(ss, func(s copySample) float64 { return s.rowsPerSecond() })
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.0f\t%.0f\t%.3f\t%.1f\t%.0f\t\n", g.name, v.name, g.rows, median(rps),
				slices.Min(rps), slices.Max(rps),
				median(field(ss, func(s copySample) float64 { return s.seconds })),
				median(field(ss, func(s copySample) float64 { return s.allocsPerRow })),
				median(field(ss, func(s copySample) float64 { return s.bytesPerRow })))
		}
	}
	_ = tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "group\tratio (rows/s)\tof medians\tper-round min\tper-round max\ttarget\tmet\t")
	for gi, g := range groups {
		for _, vi := range []int{copyBackfill, copyVerify} {
			lo, hi, ratio := ratios(results[gi][vi], results[gi][copyBulk], copySample.rowsPerSecond)
			met := map[bool]string{true: "yes", false: "NO"}[ratio >= copyTarget]
			fmt.Fprintf(tw, "%s\t%s / %s\t%.3fx\t%.3fx\t%.3fx\t>= %.2fx\t%s\t\n", g.name, g.variants[vi].name, g.variants[copyBulk].name,
				ratio, lo, hi, copyTarget, met)
		}
		if len(g.variants) > copyBulkLocked {
			for _, r := range [][2]int{{copyBulkLocked, copyBulk}, {copyBackfill, copyBulkLocked}} {
				lo, hi, mid := ratios(results[gi][r[0]], results[gi][r[1]], copySample.rowsPerSecond)
				fmt.Fprintf(tw, "%s\t%s / %s\t%.3fx\t%.3fx\t%.3fx\t(reference)\t\t\n", g.name, g.variants[r[0]].name, g.variants[r[1]].name, mid, lo, hi)
			}
		}
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	for _, g := range groups {
		if len(g.batches) == 0 {
			continue
		}
		ms := make([]float64, len(g.batches))
		for i, d := range g.batches {
			ms[i] = float64(d.Microseconds()) / 1000
		}
		med := median(ms)
		var slow float64 // time in batches over 10x the median, beyond the median
		for _, x := range ms {
			if x > 10*med {
				slow += x - med
			}
		}
		sorted := slices.Sorted(slices.Values(ms))
		fmt.Fprintf(w, "%s / backfill: %d runs, %d batches after each run's first; time from one batch's commit to the next's: median %.2f ms, p99 %.2f ms, max %.2f ms; batches over 10x the median took %.0f ms more than the median, in all\n",
			g.name, g.batchRuns, len(g.batches), med, sorted[len(sorted)*99/100], slices.Max(ms), slow)
	}
}
