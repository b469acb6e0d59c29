// Command bench measures what dualwrite costs on SQLite (and PostgreSQL,
// MariaDB), in one run, as ratios to the raw driver:
//
//   - an unmapped statement (INSERT and UPDATE on audit) through the wrapper
//     against the raw github.com/mattn/go-sqlite3 driver (target: within 1.05x);
//   - a single-row dual write (INSERT into users, UPDATE of users by id)
//     through the wrapper in the dual write phase against (a) the raw driver
//     running only the old-table statement and (b) the same two writes
//     hand-coded in one transaction with the raw driver (target: wrapper /
//     hand-coded within 1.3x);
//   - the dual UPDATE through a connector that shares its phases with a
//     fleet (dualwrite.WithSharedPhases) against one that takes them from
//     the mapping file (shared-update; target: within 1.05x), with an A/A
//     control;
//   - a point query (SELECT ... FROM users WHERE id = ?, 10,000 rows)
//     through the wrapper in read phases old, new and compare, each against
//     the raw driver (targets: 1.05x, 1.10x, 2.3x); after the rounds the
//     wrapper's metrics must show every query served in its phase and, in
//     compare, every comparison a match.
//
// With -postgres (default: $DUALWRITE_TEST_POSTGRES_DSN; without it they
// are skipped), the same single-row dual writes on PostgreSQL through pgx
// (groups pg-insert, pg-update, and pg-update-literal, the UPDATE with
// its key inlined as a literal: 1,000 distinct texts), each variant in its own schema: the
// wrapper (one statement with data-modifying CTEs) against the users
// statement alone, the hand-coded transaction (targets: wrapper /
// hand-coded within 1.0x) and the users statement with a plpgsql trigger
// that mirrors each row (target: wrapper / trigger within 1.2x); after the
// rounds accounts = up(users) must hold in the schemas that mirror.
//
// With -mysql (default: $DUALWRITE_TEST_MYSQL_DSN; without it they are
// skipped), the same on MariaDB (or MySQL) through
// github.com/go-sql-driver/mysql, each variant in its own database
// (InnoDB; mysql.go): my-unmapped, an INSERT into the unmapped table audit
// through the wrapper against the raw driver (target: 1.05x), and
// my-insert, my-update and my-delete (DELETE FROM users WHERE id = ?, each
// operation an existing row), the wrapper against the users statement
// alone, the hand-coded transaction (target: 1.0x), the users statement
// with AFTER INSERT / UPDATE / DELETE triggers that mirror each row
// (target: 1.2x), and, for information, the wrapper with
// dualwrite.WithoutReturning() (MySQL 8's plans) against the hand-coded
// transaction; after the rounds accounts = up(users) must hold in the
// databases that mirror.
//
// Not in the default set, run only when -groups names them: texts, the
// statements above as one of 1, 1,000 or 100,000 distinct texts, taken
// cyclically or skewed (texts.go); the reverse
// dual writes of the write phase both (reverse.go; groups reverse-insert,
// reverse-update, and with -postgres pg-reverse-insert, pg-reverse-update),
// the accounts statement through a wrapper with its own Switch in phase
// both against the accounts statement alone, the same two writes by hand
// (targets: 1.3x on SQLite, 1.0x on PostgreSQL) and a trigger on accounts
// that writes users with the mapping's reverse expressions (target: 1.2x),
// with users = down(accounts) checked after the rounds; copy (SQLite),
// pg-copy (PostgreSQL, with -postgres) and my-copy (MariaDB, with
// -mysql), the throughput of
// backfill.Run and verify.Table on -copy-rows users rows (default
// 1,000,000), each as a ratio to one bulk INSERT INTO accounts SELECT
// <the mapping's expressions> FROM users (targets: at least 0.5x), in
// -copy-rounds rounds (copy.go).
//
// Every variant has its own SQLite file (WAL journal, synchronous=NORMAL;
// on PostgreSQL its own schema, on MariaDB its own database)
// and its own *sql.DB limited to one connection, and uses db.Exec with
// arguments (the read group db.QueryRow(...).Scan): no prepared statements
// on the caller's side. Within a round the
// variants of a group take turns every few operations, in an order that
// changes every round; the table gives the median ns/op over the rounds, the
// ratios of the medians, and the smallest and largest per-round ratio, so
// that noise is visible. See docs/benchmarks.md.
//
// Run it from the module root:
//
//	go run ./internal/bench [-n ops-per-round] [-rounds 7] [-cpuprofile file] [-postgres dsn] [-mysql dsn]
//	go run ./internal/bench -groups copy,pg-copy,my-copy [-copy-rows 1000000] [-copy-rounds 3] [-postgres dsn] [-mysql dsn]
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
)

// The statements measured.
const (
	qAuditInsert    = `INSERT INTO audit (msg) VALUES (?)`
	qAuditUpdate    = `UPDATE audit SET msg = ? WHERE id = ?`
	qUserInsert     = `INSERT INTO users (id, full_name, email) VALUES (?, ?, ?)`
	qUserUpdate     = `UPDATE users SET visits = visits + 1 WHERE id = ?`
	qAccountInsert  = `INSERT INTO accounts (account_id, email_address, first_name, last_name, visits) VALUES (?, ?, ?, ?, 0)`
	qAccountUpdate  = `UPDATE accounts SET visits = visits + 1 WHERE account_id = ?`
	defaultParams   = `?_journal_mode=WAL&_synchronous=NORMAL`
	driverName      = "dualwrite-bench"
	seedRows        = 1000 // rows the UPDATE groups cycle through
	firstInsertedID = 1_000_000

	qUserRead = `SELECT id, full_name, email, visits FROM users WHERE id = ?`
	readRows  = 10_000 // rows of users (and accounts) in the read group's files
	// qReadSeedUsers fills users for the read group: every 10th full_name
	// is one word, every 13th email is NULL (see readUser).
	qReadSeedUsers = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO users (id, full_name, email, visits)
SELECT i,
       CASE WHEN i % 10 = 0 THEN 'Ada' || i ELSE 'Ada' || i || ' Lovelace' || i END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE 'ada' || i || '@example.com' END,
       i % 97
FROM n`
	// qReadSeedAccounts fills accounts = up(users) in one statement, with
	// the mapping's columns expressions.
	qReadSeedAccounts = `INSERT INTO accounts (account_id, email_address, first_name, last_name, visits)
SELECT id, email, substr(full_name, 1, instr(full_name || ' ', ' ') - 1),
       ltrim(substr(full_name, instr(full_name || ' ', ' '))), visits
FROM users`
)

// The checks of accounts = up(users) on SQLite, through the raw driver:
// the users rows whose accounts row is missing or differs from up(users)
// (the mapping's expressions), and the accounts rows with no users row.
const (
	qCheckDiff = `SELECT count(*) FROM users u LEFT JOIN accounts a ON a.account_id = u.id
WHERE a.account_id IS NULL OR a.email_address IS NOT u.email
   OR a.first_name IS NOT substr(u.full_name, 1, instr(u.full_name || ' ', ' ') - 1)
   OR a.last_name IS NOT ltrim(substr(u.full_name, instr(u.full_name || ' ', ' ')))
   OR a.visits IS NOT u.visits`
	qCheckExtra = `SELECT count(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.account_id)`
)

// readPhases are the read phases of the read group's wrapper variants, with
// the target of each one's ratio to the raw driver.
var readPhases = []struct {
	phase  mapping.ReadPhase
	target float64
}{
	{mapping.ReadOld, 1.05},
	{mapping.ReadNew, 1.10},
	{mapping.ReadCompare, 2.3},
}

// dsnParams are the DSN parameters of every database (flag -params).
var dsnParams = defaultParams

// variant is one way of doing a group's operation; op does the i-th one.
type variant struct {
	name string
	op   func(i int) error
}

// group is one operation measured several ways, and the ratios reported;
// each variant runs warmup operations, then n per round.
type group struct {
	name      string
	variants  []variant
	ratios    []ratio
	n, warmup int
}

// ratio is one reported ratio of medians: variants[num] / variants[den],
// with its target (0: none) or a label such as "A/A".
type ratio struct {
	num, den int
	target   float64
	label    string
}

// sample is one variant's measurement in one round.
type sample struct {
	nsPerOp, allocsPerOp, bytesPerOp float64
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	n := flag.Int("n", 8000, "operations per variant per round")
	rounds := flag.Int("rounds", 7, "rounds; each runs every variant of every group n times")
	chunk := flag.Int("chunk", 100, "within a round, a group's variants take turns every `ops` operations")
	warmup := flag.Int("warmup", 2000, "warm-up operations per variant before the rounds")
	only := flag.String("groups", "", "comma-separated groups to run (default: all but "+strings.Join(optInGroupNames(), ", ")+"): "+strings.Join(allGroupNames(), ", "))
	pgDSN := flag.String("postgres", os.Getenv(pgDSNEnv), "PostgreSQL `DSN` for the pg-* groups (default $"+pgDSNEnv+"; empty: the pg-* groups are skipped)")
	pgN := flag.Int("pg-n", 1500, "operations per variant per round in the pg-* groups")
	pgWarmup := flag.Int("pg-warmup", 500, "warm-up operations per variant in the pg-* groups")
	myDSN := flag.String("mysql", os.Getenv(myDSNEnv), "MariaDB or MySQL `DSN` (go-sql-driver/mysql syntax) for the my-* groups (default $"+myDSNEnv+"; empty: the my-* groups are skipped)")
	myN := flag.Int("my-n", 1000, "operations per variant per round in the my-* groups")
	myWarmup := flag.Int("my-warmup", 300, "warm-up operations per variant in the my-* groups")
	copyRows := flag.Int64("copy-rows", 1_000_000, "`rows` of users in the copy, pg-copy and my-copy groups")
	copyRounds := flag.Int("copy-rounds", 3, "rounds of the copy, pg-copy and my-copy groups; each runs every variant once")
	scaleRounds := flag.Int("scale-rounds", 7, "measurements per figure of the scale group (the least time and the median allocation are printed)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured rounds to `file`")
	withMetrics := flag.Bool("metrics", false, "register dualwrite's Prometheus metrics (on a private registry) on the wrapper")
	verbose := flag.Bool("v", false, "also print every round's ns/op (copy groups: rows/s) per variant")
	flag.StringVar(&dsnParams, "params", defaultParams, "the DSN parameters of every database (go-sqlite3 syntax)")
	dir := flag.String("dir", "", "directory for the SQLite files (default: a new temporary directory, removed at the end)")
	flag.Parse()
	if *n < 1 || *pgN < 1 || *myN < 1 || *rounds < 1 || *chunk < 1 || *warmup < 0 || *pgWarmup < 0 || *myWarmup < 0 ||
		*copyRows < 1 || *copyRounds < 1 || *scaleRounds < 1 {
		return errors.New("-n, -pg-n, -my-n, -rounds, -chunk, -copy-rows, -copy-rounds and -scale-rounds must be at least 1, -warmup, -pg-warmup and -my-warmup at least 0")
	}
	if v := os.Getenv(dualwrite.WritePhaseEnv); v != "" {
		fmt.Printf("note: %s=%q is set; the benchmark overrides the write phase to dual with a Switch\n", dualwrite.WritePhaseEnv, v)
	}
	var want []string
	if *only != "" {
		want = strings.Split(*only, ",")
		for _, g := range want {
			if !slices.Contains(allGroupNames(), g) {
				return fmt.Errorf("-groups: there is no group %q; the groups are %s", g, strings.Join(allGroupNames(), ", "))
			}
		}
	}

	tmp := *dir
	if tmp == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "dualwrite-bench-"); err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(tmp) }()
	}
	b, err := newBench(tmp, *withMetrics)
	if err != nil {
		return err
	}
	defer b.close()

	groups, err := b.groups(want, *n, *warmup)
	if err != nil {
		return err
	}
	isPg := func(g string) bool {
		return slices.Contains(pgGroupNames, g) || slices.Contains(pgReverseGroupNames, g) || g == "pg-copy"
	}
	pgWanted := len(want) == 0 || slices.ContainsFunc(want, isPg)
	pgSkipped := false
	switch {
	case !pgWanted:
	case *pgDSN == "":
		pgSkipped = true
		skipped := pgGroupNames
		if len(want) > 0 {
			skipped = slices.DeleteFunc(slices.Clone(want), func(g string) bool { return !isPg(g) })
		}
		fmt.Printf("PostgreSQL groups (%s) skipped: set %s or -postgres to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable\n",
			strings.Join(skipped, ", "), pgDSNEnv)
	default:
		if b.pg, err = newPg(*pgDSN); err != nil {
			return err
		}
		pgs, err := b.pgGroups(want, *withMetrics, *pgN, *pgWarmup)
		if err != nil {
			return err
		}
		groups = append(groups, pgs...)
	}
	isMy := func(g string) bool { return slices.Contains(myGroupNames, g) || g == "my-copy" }
	myWanted := len(want) == 0 || slices.ContainsFunc(want, isMy)
	mySkipped := false
	switch {
	case !myWanted:
	case *myDSN == "":
		mySkipped = true
		skipped := myGroupNames
		if len(want) > 0 {
			skipped = slices.DeleteFunc(slices.Clone(want), func(g string) bool { return !isMy(g) })
		}
		fmt.Printf("MariaDB groups (%s) skipped: set %s or -mysql to a DSN, e.g. root@tcp(127.0.0.1:3306)/test\n",
			strings.Join(skipped, ", "), myDSNEnv)
	default:
		if b.my, err = newMy(*myDSN); err != nil {
			return err
		}
		mys, err := b.myGroups(want, *withMetrics, *myN, *myWarmup, *rounds)
		if err != nil {
			return err
		}
		groups = append(groups, mys...)
	}
	setupStart := time.Now()
	copies, err := b.copyGroups(want, *copyRows)
	if err != nil {
		return err
	}
	copySetup := time.Since(setupStart)
	scale := slices.Contains(want, "scale")
	if len(groups) == 0 && len(copies) == 0 && !scale {
		if pgSkipped || mySkipped {
			return nil
		}
		return fmt.Errorf("-groups %q names no group", *only)
	}
	if scale {
		// Last, after the other groups' checks: its big statements
		// would only add noise to their rounds.
		defer func() {
			if err == nil {
				fmt.Println()
				err = b.runScale(os.Stdout, *scaleRounds)
			}
		}()
	}

	prof := &profiler{file: *cpuprofile}
	defer prof.stop()
	if len(groups) > 0 {
		if err := b.runOps(groups, *rounds, *chunk, *withMetrics, *verbose, prof, len(copies) == 0); err != nil {
			return err
		}
	}
	if len(copies) == 0 {
		return nil
	}
	if len(groups) > 0 {
		fmt.Println()
	}
	printCopyHeader(b, copies, *copyRounds, copySetup)
	if err := prof.start(); err != nil {
		return err
	}
	loadBefore := loadAvg()
	start := time.Now()
	results, err := runCopies(b.ctx, copies, *copyRounds, *verbose)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	prof.stop()
	loadAfter := loadAvg()
	var summary []string
	for _, g := range copies {
		lines, err := g.check(b.ctx)
		if err != nil {
			return err
		}
		summary = append(summary, lines...)
	}
	reportCopies(os.Stdout, copies, results)
	fmt.Printf("\nload average before / after the rounds: %s / %s (1 min)\n", loadBefore, loadAfter)
	fmt.Printf("measured rounds took %s (plus setup; the untimed preparation of each measurement included)\n", elapsed.Round(time.Millisecond))
	for _, line := range summary {
		fmt.Println(line)
	}
	return nil
}

// allGroupNames returns the names of every group, those of the default
// set first.
func allGroupNames() []string {
	names := []string{"unmapped-insert", "unmapped-update", "dual-insert", "dual-update", "shared-update", "read-point"}
	names = append(names, pgGroupNames...)
	names = append(names, myGroupNames...)
	return append(names, optInGroupNames()...)
}

// optInGroupNames returns the groups that run only when -groups names
// them.
func optInGroupNames() []string {
	names := slices.Concat(reverseGroupNames, pgReverseGroupNames, copyGroupNames)
	return append(names, "scale", "texts")
}

// selected reports whether the group name runs: it is named in want, or
// want is empty and it is in the default set.
func selected(want []string, name string) bool {
	if len(want) == 0 {
		return !slices.Contains(optInGroupNames(), name)
	}
	return slices.Contains(want, name)
}

// runOps runs the operation groups: warm-up, rounds, checks and report.
// The CPU profile starts after the warm-up; it stops after the rounds when
// stopProfile is set, and otherwise goes on into the copy groups' rounds.
func (b *bench) runOps(groups []group, rounds, chunk int, withMetrics, verbose bool, prof *profiler, stopProfile bool) error {
	printHeader(b, groups, rounds, chunk, withMetrics)

	// Warm up: fill caches (plan cache, SQLite page cache, the WAL files)
	// and let the CPU settle.
	for _, g := range groups {
		for _, v := range g.variants {
			for i := 0; i < g.warmup; i++ {
				if err := v.op(i); err != nil {
					return fmt.Errorf("warm-up %s / %s: %w", g.name, v.name, err)
				}
			}
		}
	}

	if err := prof.start(); err != nil {
		return err
	}

	// results[g][v] holds one sample per round.
	results := make([][][]sample, len(groups))
	for gi, g := range groups {
		results[gi] = make([][]sample, len(g.variants))
	}
	loadBefore := loadAvg()
	start := time.Now()
	for r := 0; r < rounds; r++ {
		for gi, g := range groups {
			ss, err := measure(g, order(len(g.variants), r), g.n, chunk, g.warmup+r*g.n)
			if err != nil {
				return fmt.Errorf("round %d %s: %w", r+1, g.name, err)
			}
			for vi, s := range ss {
				results[gi][vi] = append(results[gi][vi], s)
				if verbose {
					fmt.Printf("round %d  %-16s %-13s %8.0f ns/op\n", r+1, g.name, g.variants[vi].name, s.nsPerOp)
				}
			}
		}
	}
	elapsed := time.Since(start)
	if stopProfile {
		prof.stop()
	}
	readSummary, err := b.checkReads()
	if err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	ops := map[string]int{}
	for _, g := range groups {
		ops[g.name] = g.warmup + rounds*g.n
	}
	summary, err := b.checkMirrors(ops)
	if err != nil {
		return err
	}
	report(os.Stdout, groups, results)
	fmt.Printf("\nload average before / after the rounds: %s / %s (1 min)\n", loadBefore, loadAvg())
	if len(b.mirrored) > 0 {
		fmt.Printf("measured rounds took %s (plus setup and warm-up); the mirrored tables were checked: new = up(old) in every row\n", elapsed.Round(time.Millisecond))
	} else {
		fmt.Printf("measured rounds took %s (plus setup and warm-up)\n", elapsed.Round(time.Millisecond))
	}
	for _, line := range readSummary {
		fmt.Println(line)
	}
	for _, line := range summary {
		fmt.Println(line)
	}
	return nil
}

// profiler writes a CPU profile to file ("": none) from its first start to
// its first stop; later calls do nothing.
type profiler struct {
	file string
	f    *os.File
	done bool
}

func (p *profiler) start() error {
	if p.file == "" || p.f != nil || p.done {
		return nil
	}
	f, err := os.Create(p.file)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return err
	}
	p.f = f
	return nil
}

func (p *profiler) stop() {
	if p.f == nil || p.done {
		return
	}
	pprof.StopCPUProfile()
	_ = p.f.Close()
	p.done = true
}

// order returns the order in which a group's k variants take their turns
// in round r. Two variants alternate (AB, BA, AB, ...). More rotate (ABC,
// BCA, CAB) and each cycle of k rounds reverses the previous one (CBA, ACB,
// BAC), so that no variant always goes first, or always right after the
// same other one.
func order(k, r int) []int {
	o := make([]int, k)
	for i := range o {
		o[i] = (i + r) % k
	}
	if k == 2 {
		return o
	}
	if (r/k)%2 == 1 {
		slices.Reverse(o)
	}
	return o
}

// measure runs one round of a group: n operations of every variant, the
// variants taking turns every chunk operations in the given order, so that
// they share the same stretch of time (and of the machine's noise). first
// is the index of the round's first operation. It returns each variant's
// cost per operation, in the group's variant order. The GC runs once at the
// start of the round; collections during the round fall on whichever
// variant is running, which spreads them in proportion to time rather than
// to allocation (the allocation columns show who allocates what).
func measure(g group, ord []int, n, chunk, first int) ([]sample, error) {
	k := len(g.variants)
	elapsed := make([]time.Duration, k)
	mallocs := make([]uint64, k)
	bytes := make([]uint64, k)
	var before, after runtime.MemStats
	runtime.GC()
	for done := 0; done < n; done += chunk {
		m := min(chunk, n-done)
		for _, vi := range ord {
			v := g.variants[vi]
			runtime.ReadMemStats(&before)
			start := time.Now()
			for i := first + done; i < first+done+m; i++ {
				if err := v.op(i); err != nil {
					return nil, fmt.Errorf("%s: %w", v.name, err)
				}
			}
			elapsed[vi] += time.Since(start)
			runtime.ReadMemStats(&after)
			mallocs[vi] += after.Mallocs - before.Mallocs
			bytes[vi] += after.TotalAlloc - before.TotalAlloc
		}
	}
	out := make([]sample, k)
	for vi := range out {
		out[vi] = sample{
			nsPerOp:     float64(elapsed[vi].Nanoseconds()) / float64(n),
			allocsPerOp: float64(mallocs[vi]) / float64(n),
			bytesPerOp:  float64(bytes[vi]) / float64(n),
		}
	}
	return out, nil
}

// bench owns the databases: one SQLite file per variant, so that no
// variant's writes invalidate another's page cache, grow its tables or
// trigger its WAL checkpoints.
type bench struct {
	dir      string
	ctx      context.Context
	mapping  *mapping.Mapping
	dbs      []*sql.DB
	mirrored []string // files written through the wrapper in phase dual, checked at the end
	version  string
	reads    []readCheck // the read group's wrapper variants, checked at the end

	pg        *pgState         // the PostgreSQL groups' server and schemas; nil without them
	pgMapping *mapping.Mapping // corpus.PostgresMapping
	my        *myState         // the MariaDB groups' server and databases; nil without them
	myMapping *mapping.Mapping // corpus.MySQLMapping
	checks    []mirrorCheck    // the reverse, PostgreSQL and MariaDB groups' databases that mirror, checked at the end
}

// readCheck is what checkReads verifies of one wrapper variant of the read
// group: its metrics must show that every query it ran was served in its
// phase, and, in compare, compared with no mismatch.
type readCheck struct {
	variant string
	phase   mapping.ReadPhase
	reg     *prometheus.Registry
	ops     *int // queries the variant ran
}

func newBench(dir string, withMetrics bool) (*bench, error) {
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		return nil, err
	}
	b := &bench{dir: dir, ctx: context.Background(), mapping: m}
	// The write groups' wrapper, and the reverse groups' one: each its
	// own driver with its own Switch.
	for name, phase := range map[string]mapping.WritePhase{driverName: mapping.WriteDual, bothDriverName: mapping.WriteBoth} {
		sw := dualwrite.NewSwitch()
		if err := sw.SetWrite(phase); err != nil {
			return nil, err
		}
		opts := []dualwrite.Option{dualwrite.WithSwitch(sw)}
		if withMetrics {
			opts = append(opts, dualwrite.WithRegisterer(prometheus.NewRegistry()))
		}
		if err := dualwrite.Register(name, "sqlite3", m, opts...); err != nil {
			return nil, err
		}
	}
	if err := registerShared(m, withMetrics); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *bench) close() {
	for _, db := range b.dbs {
		_ = db.Close()
	}
	if b.pg != nil {
		b.pg.close()
	}
	if b.my != nil {
		b.my.close()
	}
}

func (b *bench) dsn(file string) string {
	return "file:" + filepath.Join(b.dir, file+".db") + dsnParams
}

// open creates a SQLite file with the tables of schema and the rows seed
// inserts (through the raw driver, in one transaction) and opens it with
// driverName, limited to one connection.
func (b *bench) open(file, driverName string, schema []string, seed func(*sql.Tx) error) (*sql.DB, error) {
	dsn := b.dsn(file)
	raw, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	defer func() { _ = raw.Close() }()
	tx, err := raw.Begin()
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }() // after Commit it does nothing
	for _, s := range schema {
		if _, err := tx.Exec(s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	if err := seed(tx); err != nil {
		return nil, fmt.Errorf("seeding %s: %w", file, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if b.version == "" {
		if err := raw.QueryRow(`SELECT sqlite_version()`).Scan(&b.version); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	b.dbs = append(b.dbs, db)
	if err := db.Ping(); err != nil {
		return nil, fmt.Errorf("connecting to %s with %s: %w", file, driverName, err)
	}
	if driverName != "sqlite3" && driverName != bothDriverName {
		b.mirrored = append(b.mirrored, file) // the write phase both's files are in b.checks
	}
	return db, nil
}

// seedWrites inserts the write groups' seed rows (in both users and
// accounts, so that every UPDATE variant updates an existing row on each
// side, and in audit).
func seedWrites(tx *sql.Tx) error {
	for id := int64(1); id <= seedRows; id++ {
		fullName, email, first, last := user(id)
		if _, err := tx.Exec(qUserInsert, id, fullName, email); err != nil {
			return err
		}
		if _, err := tx.Exec(qAccountInsert, id, email, first, last); err != nil {
			return err
		}
		if _, err := tx.Exec(qAuditInsert, "seed"); err != nil {
			return err
		}
	}
	return nil
}

// seedReads fills users with readRows rows and accounts = up(users) with
// one INSERT ... SELECT, and checks the counts.
func seedReads(tx *sql.Tx) error {
	for _, q := range []string{qReadSeedUsers, qReadSeedAccounts} {
		r, err := tx.Exec(q)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		if n, err := r.RowsAffected(); err != nil || n != readRows {
			return fmt.Errorf("%s: %d rows (%v), want %d", q, n, err, readRows) //nolint:errorlint // err is nil or reported as is
		}
	}
	return nil
}

// user returns the old-table values of user id, and the new-table values
// that the mapping's up projection gives them (first word of full_name, the
// rest), as an application that dual-writes by hand computes them.
func user(id int64) (fullName, email, first, last string) {
	fullName = fmt.Sprintf("Ada%d Lovelace%d", id, id)
	email = fmt.Sprintf("ada%d@example.com", id)
	first, last, _ = strings.Cut(fullName, " ")
	return fullName, email, first, strings.TrimLeft(last, " ")
}

// exec runs q on db and checks that it changed exactly one row, so that a
// variant that silently does nothing cannot look fast.
func exec(ctx context.Context, db *sql.DB, q string, args ...any) error {
	r, err := db.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%s: %d rows affected, want 1", q, n)
	}
	return nil
}

// inTx runs the statements, each with its arguments, in one transaction of
// the raw driver: a dual write coded by hand.
func inTx(ctx context.Context, db *sql.DB, stmts []string, args ...[]any) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for i, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, args[i]...); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func seedID(i int) int64 { return int64(i%seedRows) + 1 }

// insertID returns the users id of the i-th INSERT of a variant: above the
// seed rows, distinct across warm-up and rounds.
func insertID(i int) int64 { return firstInsertedID + int64(i) }

// writeSpec is one SQLite write group: its variants, the wrapper first;
// ops[0] is the statement the wrapper and the first raw variant run (and
// raw-copy and trigger), ops[1] that of the next; the ratio of the wrapper
// to baseline has the target; the ratio to a trigger variant has none.
type writeSpec struct {
	name, baseline string
	target         float64
	variants       []string
	ops            []func(db *sql.DB) func(i int) error
}

// groups opens the databases of the groups named in want (the default set
// when empty) and returns the groups.
func (b *bench) groups(want []string, n, warmup int) ([]group, error) {
	ctx := b.ctx
	both := [2]string{qUserUpdate, qAccountUpdate}
	specs := []writeSpec{
		{"unmapped-insert", "raw", 1.05, []string{"dualwrite", "raw", "raw-copy"}, []func(*sql.DB) func(int) error{
			func(db *sql.DB) func(int) error {
				return func(int) error { return exec(ctx, db, qAuditInsert, "hello") }
			},
		}},
		{"unmapped-update", "raw", 1.05, []string{"dualwrite", "raw", "raw-copy"}, []func(*sql.DB) func(int) error{
			func(db *sql.DB) func(int) error {
				return func(i int) error { return exec(ctx, db, qAuditUpdate, "msg", seedID(i)) }
			},
		}},
		{"dual-insert", "raw-2stmt-tx", 1.3, []string{"dualwrite", "raw-old-only", "raw-2stmt-tx"}, []func(*sql.DB) func(int) error{
			func(db *sql.DB) func(int) error { // the users statement alone
				return func(i int) error {
					id := insertID(i)
					fullName, email, _, _ := user(id)
					return exec(ctx, db, qUserInsert, id, fullName, email)
				}
			},
			func(db *sql.DB) func(int) error { // both statements by hand
				return func(i int) error {
					id := insertID(i)
					fullName, email, first, last := user(id)
					return inTx(ctx, db, []string{qUserInsert, qAccountInsert},
						[]any{id, fullName, email}, []any{id, email, first, last})
				}
			},
		}},
		{"dual-update", "raw-2stmt-tx", 1.3, []string{"dualwrite", "raw-old-only", "raw-2stmt-tx"}, []func(*sql.DB) func(int) error{
			func(db *sql.DB) func(int) error {
				return func(i int) error { return exec(ctx, db, qUserUpdate, seedID(i)) }
			},
			func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := seedID(i)
					return inTx(ctx, db, both[:], []any{id}, []any{id})
				}
			},
		}},
	}
	specs = append(specs, reverseSpecs(ctx)...)
	var out []group
	for _, sp := range specs {
		if !selected(want, sp.name) {
			continue
		}
		reverse := slices.Contains(reverseGroupNames, sp.name)
		g := group{name: sp.name, n: n, warmup: warmup}
		for vi, vname := range sp.variants {
			switch {
			case vi == 0:
			case vname == "raw-copy":
				g.ratios = append(g.ratios, ratio{num: 1, den: vi, label: "A/A"})
			case vname == sp.baseline:
				g.ratios = append(g.ratios, ratio{num: 0, den: vi, target: sp.target})
			case vname == "trigger":
				// No target: the forward direction on SQLite has its target
				// against the hand-coded transaction only, and a SQLite
				// trigger runs inside the statement's own program, where a
				// dual write runs four statements (savepoint, statement,
				// upsert, release). The ratio is shown for what it is.
				g.ratios = append(g.ratios, ratio{num: 0, den: vi})
			default:
				g.ratios = append(g.ratios, ratio{num: 0, den: vi})
			}
			drv, mk, seed := "sqlite3", sp.ops[0], seedWrites
			switch {
			case vi == 0 && reverse:
				drv = bothDriverName // the wrapper runs the first raw variant's statement
			case vi == 0:
				drv = driverName
			case vname == "trigger":
				seed = seedReverseTrigger // and runs the first raw variant's statement
			default:
				mk = sp.ops[min(vi, len(sp.ops))-1] // raw-copy runs raw's statement
			}
			file := sp.name + "-" + vname
			schema := corpus.BenchSchema
			if reverse {
				schema = corpus.ReverseBenchSchema
			}
			db, err := b.open(file, drv, schema, seed)
			if err != nil {
				return nil, err
			}
			g.variants = append(g.variants, variant{vname, mk(db)})
			if reverse && vi != 1 { // every variant but the statement alone mirrors
				b.checks = append(b.checks, mirrorCheck{group: sp.name, variant: vname, where: file + ".db",
					driver: "sqlite3", dsn: b.dsn(file), table: b.mapping.Table("users").Flip(), dir: "down", except: "EXCEPT",
					insert: sp.name == "reverse-insert"})
			}
		}
		out = append(out, g)
	}
	if selected(want, "shared-update") {
		g, err := b.sharedGroup()
		if err != nil {
			return nil, err
		}
		g.n, g.warmup = n, warmup
		out = append(out, g)
	}
	if selected(want, "read-point") {
		g, err := b.readGroup()
		if err != nil {
			return nil, err
		}
		g.n, g.warmup = n, warmup
		out = append(out, g)
	}
	if selected(want, "texts") {
		gs, err := b.textsGroups(n, warmup)
		if err != nil {
			return nil, err
		}
		out = append(out, gs...)
	}
	return out, nil
}

// readRow is one row of qUserRead.
type readRow struct {
	id       int64
	fullName string
	email    sql.NullString
	visits   int64
}

// readUser returns the users row id of the read group's files, as
// qReadSeedUsers inserts it.
func readUser(id int64) readRow {
	r := readRow{id: id, fullName: fmt.Sprintf("Ada%d Lovelace%d", id, id), visits: id % 97}
	if id%10 == 0 {
		r.fullName = fmt.Sprintf("Ada%d", id)
	}
	if id%13 != 0 {
		r.email = sql.NullString{String: fmt.Sprintf("ada%d@example.com", id), Valid: true}
	}
	return r
}

// readID returns the id the i-th query of a read variant asks for: a
// pseudo-random existing id (splitmix64 of i), the same sequence for every
// variant.
func readID(i int) int64 {
	z := uint64(i) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int64(z%readRows) + 1
}

// readGroup opens the read group's files: the point query through the raw
// driver (twice, for the A/A test) and through the wrapper in each read
// phase. Each wrapper variant has its own registered driver with its own
// Switch (write phase dual, read phase set) and its own metrics registry,
// so that the phases run side by side in one process.
func (b *bench) readGroup() (group, error) {
	const name = "read-point"
	expect := make([]readRow, readRows)
	for i := range expect {
		expect[i] = readUser(int64(i) + 1)
	}
	mk := func(db *sql.DB, ops *int) func(int) error {
		return func(i int) error {
			*ops++
			id := readID(i)
			var got readRow
			if err := db.QueryRowContext(b.ctx, qUserRead, id).Scan(&got.id, &got.fullName, &got.email, &got.visits); err != nil {
				return fmt.Errorf("id %d: %w", id, err)
			}
			if want := expect[id-1]; got != want {
				return fmt.Errorf("id %d: got %+v, want %+v", id, got, want)
			}
			return nil
		}
	}
	g := group{name: name}
	for _, v := range []string{"raw", "raw-copy"} {
		db, err := b.open(name+"-"+v, "sqlite3", corpus.BenchSchema, seedReads)
		if err != nil {
			return group{}, err
		}
		g.variants = append(g.variants, variant{v, mk(db, new(int))})
	}
	g.ratios = append(g.ratios, ratio{num: 0, den: 1, label: "A/A"})
	for _, rp := range readPhases {
		sw := dualwrite.NewSwitch()
		if err := sw.SetWrite(mapping.WriteDual); err != nil {
			return group{}, err
		}
		if err := sw.SetRead(rp.phase, mapping.WriteDual); err != nil {
			return group{}, err
		}
		reg := prometheus.NewRegistry()
		drv := driverName + "-read-" + string(rp.phase)
		if err := dualwrite.Register(drv, "sqlite3", b.mapping, dualwrite.WithSwitch(sw), dualwrite.WithRegisterer(reg)); err != nil {
			return group{}, err
		}
		vname := "dualwrite-" + string(rp.phase)
		db, err := b.open(name+"-"+vname, drv, corpus.BenchSchema, seedReads)
		if err != nil {
			return group{}, err
		}
		ops := new(int)
		b.reads = append(b.reads, readCheck{variant: vname, phase: rp.phase, reg: reg, ops: ops})
		g.ratios = append(g.ratios, ratio{num: len(g.variants), den: 0, target: rp.target})
		g.variants = append(g.variants, variant{vname, mk(db, ops)})
	}
	// The A/A line last, as in the other groups it follows the wrapper's.
	g.ratios = append(g.ratios[1:], g.ratios[0])
	return g, nil
}

// checkReads verifies, from each read variant's metrics, that every query
// it ran was served in its read phase and, in compare, was compared and
// matched: no mismatch, no error on the new side. It returns a summary.
func (b *bench) checkReads() ([]string, error) {
	var out []string
	for _, rc := range b.reads {
		mfs, err := rc.reg.Gather()
		if err != nil {
			return nil, fmt.Errorf("read check %s: gathering metrics: %w", rc.variant, err)
		}
		reads := counter(mfs, "dualwrite_reads_total", "phase", string(rc.phase))
		allReads := counter(mfs, "dualwrite_reads_total", "", "")
		if reads != float64(*rc.ops) || allReads != reads {
			return nil, fmt.Errorf("read check %s: %d queries ran but dualwrite_reads_total{phase=%q} = %g (all phases: %g): the read phase was not in force",
				rc.variant, *rc.ops, rc.phase, reads, allReads)
		}
		line := fmt.Sprintf("read check %s: %d queries, all served in read phase %s (dualwrite_reads_total)", rc.variant, *rc.ops, rc.phase)
		if rc.phase == mapping.ReadCompare {
			match := counter(mfs, "dualwrite_read_compare_total", "result", "match")
			mismatch := counter(mfs, "dualwrite_read_compare_total", "result", "mismatch")
			errs := counter(mfs, "dualwrite_read_compare_total", "result", "error")
			if mismatch != 0 || match == 0 || errs != 0 || match != float64(*rc.ops) {
				return nil, fmt.Errorf("read check %s: FAILED: dualwrite_read_compare_total: match=%g mismatch=%g error=%g for %d queries; want match=%d and no mismatch or error",
					rc.variant, match, mismatch, errs, *rc.ops, *rc.ops)
			}
			line += fmt.Sprintf("; dualwrite_read_compare_total: match=%g mismatch=0 error=0", match)
		}
		out = append(out, line)
	}
	return out, nil
}

// counter sums the counter samples of family name whose label has the
// given value (every sample when label is "").
func counter(mfs []*dto.MetricFamily, name, label, value string) float64 {
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ok := label == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					ok = true
				}
			}
			if ok {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// check verifies, through the raw driver, that new = up(old) holds in every
// row of every file written through the wrapper, so that a wrapper that
// silently stopped mirroring cannot look fast.
func (b *bench) check() error {
	for _, file := range b.mirrored {
		db, err := sql.Open("sqlite3", b.dsn(file))
		if err != nil {
			return err
		}
		var bad, orphans, users int
		err = db.QueryRow(qCheckDiff).Scan(&bad)
		if err == nil {
			err = db.QueryRow(qCheckExtra).Scan(&orphans)
		}
		if err == nil {
			err = db.QueryRow(`SELECT count(*) FROM users`).Scan(&users)
		}
		_ = db.Close()
		if err != nil {
			return fmt.Errorf("checking %s: %w", file, err)
		}
		if bad > 0 || orphans > 0 {
			return fmt.Errorf("check: in %s, %d of %d users rows are not mirrored correctly and %d accounts rows have no users row: is the write phase dual?", file, bad, users, orphans)
		}
	}
	return nil
}

func printHeader(b *bench, groups []group, rounds, chunk int, withMetrics bool) {
	isPg := func(g group) bool {
		return slices.Contains(pgGroupNames, g.name) || slices.Contains(pgReverseGroupNames, g.name)
	}
	isReverse := func(g group) bool {
		return slices.Contains(reverseGroupNames, g.name) || slices.Contains(pgReverseGroupNames, g.name)
	}
	isMy := func(g group) bool { return slices.Contains(myGroupNames, g.name) }
	sqlite := slices.ContainsFunc(groups, func(g group) bool { return !isPg(g) && !isMy(g) })
	pg := slices.ContainsFunc(groups, isPg)
	my := slices.ContainsFunc(groups, isMy)
	reverse := slices.ContainsFunc(groups, isReverse)
	forward := slices.ContainsFunc(groups, func(g group) bool {
		return slices.ContainsFunc(g.variants, func(v variant) bool { return v.name == "raw-old-only" })
	})
	var engines []string
	for _, e := range []struct {
		on   bool
		name string
	}{{sqlite, "SQLite"}, {pg, "PostgreSQL"}, {my, "MariaDB"}} {
		if e.on {
			engines = append(engines, e.name)
		}
	}
	if my {
		engines[len(engines)-1] = b.my.engine()
	}
	and := strings.Join(engines, " and ")
	if len(engines) > 2 {
		and = strings.Join(engines[:len(engines)-1], ", ") + " and " + engines[len(engines)-1]
	}
	fmt.Printf("dualwrite overhead on %s: one run, variants interleaved in rounds\n", and)
	fmt.Printf("go %s %s/%s, GOMAXPROCS=%d, NumCPU=%d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
	if sqlite {
		fmt.Printf("SQLite %s via github.com/mattn/go-sqlite3 %s\n", b.version, moduleVersion("github.com/mattn/go-sqlite3"))
		fmt.Printf("databases: one SQLite file per variant in a temporary directory, DSN parameters %s\n", dsnParams)
	}
	if pg {
		fmt.Printf("%s\n  via github.com/jackc/pgx/v5 %s (stdlib), %s\n", b.pg.version, moduleVersion("github.com/jackc/pgx/v5"), b.pg.settings)
		fmt.Printf("  one schema per variant (%s_*, search_path in the DSN, dropped at the end), autocommit\n", "dw_bench_"+b.pg.run)
	}
	if my {
		fmt.Printf("%s %s via github.com/go-sql-driver/mysql %s, %s\n", b.my.engine(), b.my.version, moduleVersion("github.com/go-sql-driver/mysql"), b.my.settings)
		fmt.Printf("  one database per variant (dwbench_%s_*, InnoDB, dropped at the end), autocommit\n", b.my.run)
		if b.my.cfg.InterpolateParams {
			fmt.Printf("  interpolateParams=true: the driver sends a db.Exec with arguments as one text statement\n")
		} else {
			fmt.Printf("  interpolateParams=false: the driver runs a db.Exec with arguments as prepare, execute, close (2 round trips)\n")
		}
	}
	fmt.Printf("each variant: its own *sql.DB, SetMaxOpenConns(1), db.Exec (reads: db.QueryRow(...).Scan) with arguments\n")
	fmt.Printf("  (no prepared statements on the caller's side)\n")
	phases := "write phase dual (Switch override)"
	if slices.ContainsFunc(groups, func(g group) bool { return g.name == "shared-update" }) {
		phases += "; shared-update: write phase dual from the mapping file, no override (dualwrite-shared: read through WithSharedPhases)"
	}
	if reverse {
		phases += "; reverse-*, pg-reverse-*: write phase both (a wrapper with its own Switch)"
	}
	fmt.Printf("dualwrite: %s, metrics %s\n", phases, map[bool]string{true: "on (private registry)", false: "off (no Registerer)"}[withMetrics])
	if len(b.reads) > 0 {
		fmt.Printf("read-point: %d rows; the wrapper variants each have their own driver and Switch (write dual, read old/new/compare)\n", readRows)
		fmt.Printf("  and their own metrics registry (metrics always on), checked after the rounds\n")
	}
	fmt.Printf("rounds: %d; within a round the variants of a group take turns every %d ops, in an order that changes every round\n", rounds, chunk)
	for _, g := range groups {
		fmt.Printf("  %-16s %d ops per variant per round, after %d warm-up ops per variant\n", g.name, g.n, g.warmup)
	}
	fmt.Println()
	fmt.Println("variants:")
	fmt.Println("  dualwrite     the statement through the wrapper")
	if slices.ContainsFunc(groups, func(g group) bool {
		return slices.ContainsFunc(g.variants, func(v variant) bool { return v.name == "raw" })
	}) {
		fmt.Println("  raw           the same statement through the raw driver")
		fmt.Println("  raw-copy      raw again, on its own file (database): raw / raw-copy is an A/A test, the noise floor")
	}
	if forward {
		fmt.Println("  raw-old-only  only the old-table statement through the raw driver (no mirror)")
		fmt.Println("  raw-2stmt-tx  BEGIN (my-*: START TRANSACTION); the users statement; the accounts statement (computed columns);")
		fmt.Println("                COMMIT, raw driver")
	}
	if reverse {
		fmt.Println("  raw-new-only  (reverse) only the new-table statement through the raw driver (no mirror)")
		fmt.Println("  raw-2stmt-tx  (reverse) BEGIN; the accounts statement; the users statement (computed full_name); COMMIT, raw driver")
	}
	if pg && forward {
		fmt.Println("  trigger       (pg-*) the users statement through pgx; an AFTER ... FOR EACH ROW plpgsql trigger on users")
		fmt.Println("                upserts the accounts row with the mapping's expressions")
		fmt.Println("  dualwrite-fenced (pg-*) dualwrite, with dualwrite's fence installed (dualwrite fence install):")
		fmt.Println("                a deferred trigger on users and accounts that checks new = up(old) at COMMIT")
	}
	if my && forward {
		fmt.Println("  trigger       (my-*) the users statement through the raw driver; AFTER INSERT / UPDATE / DELETE ... FOR EACH ROW")
		fmt.Println("                triggers on users upsert (delete) the accounts row with the mapping's expressions")
		fmt.Println("  dualwrite-noreturning (my-*) dualwrite with dualwrite.WithoutReturning(): MySQL 8's plans, no RETURNING")
	}
	if reverse {
		fmt.Println("  trigger       (reverse) the accounts statement through the raw driver; AFTER INSERT/UPDATE/DELETE triggers")
		fmt.Println("                on accounts (PostgreSQL: FOR EACH ROW, plpgsql) upsert the users row with the reverse expressions")
	}
	if len(b.reads) > 0 {
		fmt.Println("  dualwrite-old, dualwrite-new, dualwrite-compare")
		fmt.Println("                the query through the wrapper in read phase old, new, compare")
	}
	fmt.Println()
}

// loadAvg returns the 1-minute load average, or "?" where /proc has none.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return "(unknown version)"
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ratios returns the ratio of f of num's samples to f of den's, round by
// round: the smallest and the largest per round, and the ratio of the
// medians.
func ratios[S any](num, den []S, f func(S) float64) (lo, hi, medians float64) {
	per := make([]float64, len(num))
	for r := range num {
		per[r] = f(num[r]) / f(den[r])
	}
	return slices.Min(per), slices.Max(per), median(field(num, f)) / median(field(den, f))
}

// field returns f of each sample, in order.
func field[S any](ss []S, f func(S) float64) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

func report(w io.Writer, groups []group, results [][][]sample) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "group\tvariant\tmedian ns/op\tmin ns/op\tmax ns/op\tallocs/op\tB/op\t")
	for gi, g := range groups {
		for vi, v := range g.variants {
			ss := results[gi][vi]
			ns := field(ss, func(s sample) float64 { return s.nsPerOp })
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", g.name, v.name, median(ns),
				slices.Min(ns), slices.Max(ns),
				median(field(ss, func(s sample) float64 { return s.allocsPerOp })),
				median(field(ss, func(s sample) float64 { return s.bytesPerOp })))
		}
	}
	_ = tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "group\tratio\tof medians\tper-round min\tper-round max\ttarget\tmet\t")
	for gi, g := range groups {
		for _, q := range g.ratios {
			lo, hi, ratio := ratios(results[gi][q.num], results[gi][q.den], func(s sample) float64 { return s.nsPerOp })
			target, met := "-", "-"
			switch {
			case q.target > 0:
				target = fmt.Sprintf("<= %.2fx", q.target)
				met = map[bool]string{true: "yes", false: "NO"}[ratio <= q.target]
			case q.label != "":
				target = q.label
			}
			fmt.Fprintf(tw, "%s\t%s / %s\t%.3fx\t%.3fx\t%.3fx\t%s\t%s\t\n", g.name, g.variants[q.num].name, g.variants[q.den].name,
				ratio, lo, hi, target, met)
		}
	}
	_ = tw.Flush()
}
