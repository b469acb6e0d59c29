package main

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql" // also registers the "mysql" driver
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
)

// The MariaDB (MySQL) groups measure the dual writes of the PostgreSQL
// groups on MariaDB or MySQL through github.com/go-sql-driver/mysql, with
// corpus.MySQLMapping and corpus.MySQLBenchSchema (InnoDB), each variant in
// a database of its own: my-unmapped (a statement on the unmapped table
// audit, through the wrapper and the raw driver), my-insert, my-update and
// my-delete (a statement on users through the wrapper, alone, with its
// mirror hand-coded in one transaction, with mirroring triggers, and
// through the wrapper planning as on MySQL 8, without RETURNING). my-copy
// (copy.go) measures backfill and verify.

// myDSNEnv is the variable that gives -mysql its default, the one the
// package tests and examples/mysql read.
const myDSNEnv = "DUALWRITE_TEST_MYSQL_DSN"

// The MariaDB groups' statements that the SQLite groups have not
// (qUserInsert, qUserUpdate, qAccountInsert and qAccountUpdate serve as
// they are): audit's id has no default on MySQL, so the unmapped INSERT
// names it.
const (
	qMyAuditInsert    = `INSERT INTO audit (id, msg) VALUES (?, ?)`
	qMyUserDelete     = `DELETE FROM users WHERE id = ?`
	qMyAccountDelete  = `DELETE FROM accounts WHERE account_id = ?`
	qMyAccountsUpsert = `INSERT INTO accounts (account_id, email_address, first_name, last_name, visits)
  VALUES (NEW.id, NEW.email, SUBSTRING_INDEX(NEW.full_name, ' ', 1),
          SUBSTRING(NEW.full_name, CHAR_LENGTH(SUBSTRING_INDEX(NEW.full_name, ' ', 1)) + 2), NEW.visits)
  ON DUPLICATE KEY UPDATE email_address = VALUES(email_address), first_name = VALUES(first_name),
    last_name = VALUES(last_name), visits = VALUES(visits)`
)

// myTrigger is the trigger variant's mirror in MySQL syntax, as
// trigger-based migration tools install it: after each row's INSERT,
// UPDATE or DELETE on users, upsert the accounts row with
// corpus.MySQLMapping's columns expressions (on NEW), or delete it.
var myTrigger = []string{
	`CREATE TRIGGER users_mirror_insert AFTER INSERT ON users FOR EACH ROW
  ` + qMyAccountsUpsert,
	`CREATE TRIGGER users_mirror_update AFTER UPDATE ON users FOR EACH ROW
BEGIN
  IF NOT (NEW.id <=> OLD.id) THEN
    DELETE FROM accounts WHERE account_id = OLD.id;
  END IF;
  ` + qMyAccountsUpsert + `;
END`,
	`CREATE TRIGGER users_mirror_delete AFTER DELETE ON users FOR EACH ROW
  DELETE FROM accounts WHERE account_id = OLD.id`,
}

// myGroupNames are the MariaDB groups of the default set, run only with
// -mysql; my-copy is in copyGroupNames.
var myGroupNames = []string{"my-unmapped", "my-insert", "my-update", "my-delete"}

// myVariants are the variants of my-insert, my-update and my-delete, the
// wrapper first; dualwrite-noreturning is reported against raw-2stmt-tx,
// with no target.
var myVariants = []pgVariant{
	{"dualwrite", 0},
	{"raw-old-only", 0},
	{"raw-2stmt-tx", 1.0},
	{"trigger", triggerTarget},
	{"dualwrite-noreturning", 0},
}

// myState is what the bench keeps of the MariaDB groups: the server, the
// databases it created (dropped at the end) and what it read of the
// server.
type myState struct {
	cfg       *mysql.Config // -mysql, parsed
	admin     *sql.DB       // on the DSN as given, for CREATE and DROP DATABASE
	run       string        // random part of this run's database names
	databases []string
	version   string // SELECT VERSION()
	settings  string // the settings that decide a commit's cost
	mariaDB   bool
}

// newMy connects to the server and reads its version and commit settings.
func newMy(dsn string) (*myState, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("-mysql: %w", err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	p := &myState{cfg: cfg, admin: admin, run: fmt.Sprintf("%08x", rand.Uint32())}
	var flush, syncBinlog, logBin, isolation string
	err = admin.QueryRow(`SELECT VERSION(), @@innodb_flush_log_at_trx_commit, @@sync_binlog, @@log_bin`).
		Scan(&p.version, &flush, &syncBinlog, &logBin)
	if err == nil {
		// MariaDB before 11.1 has only tx_isolation, MySQL 8 only
		// transaction_isolation.
		p.mariaDB = strings.Contains(p.version, "MariaDB")
		q := `SELECT @@transaction_isolation`
		if p.mariaDB {
			q = `SELECT @@tx_isolation`
		}
		err = admin.QueryRow(q).Scan(&isolation)
	}
	if err != nil {
		_ = admin.Close()
		return nil, fmt.Errorf("-mysql: %w", err)
	}
	p.settings = fmt.Sprintf("innodb_flush_log_at_trx_commit=%s, log_bin=%s, sync_binlog=%s, %s", flush, logBin, syncBinlog, isolation)
	return p, nil
}

// engine returns "MariaDB" or "MySQL", by the server's version.
func (p *myState) engine() string {
	if p.mariaDB {
		return "MariaDB"
	}
	return "MySQL"
}

// close drops the databases this run created and closes the admin pool.
// The variants' pools must be closed first.
func (p *myState) close() {
	for _, d := range p.databases {
		if _, err := p.admin.Exec("DROP DATABASE " + d); err != nil {
			fmt.Fprintf(os.Stderr, "bench: dropping database %s: %v\n", d, err)
		}
	}
	_ = p.admin.Close()
}

// newDatabase creates the database of one variant of a group, dropped at
// the end, runs stmts in it through the raw driver, and returns the
// driver's configuration for it.
func (p *myState) newDatabase(group, variant string, stmts []string) (*mysql.Config, error) {
	name := strings.ReplaceAll("dwbench_"+p.run+"_"+group+"_"+variant, "-", "_")
	if _, err := p.admin.Exec("CREATE DATABASE " + name); err != nil {
		return nil, fmt.Errorf("-mysql: %w", err)
	}
	p.databases = append(p.databases, name)
	cfg := p.cfg.Clone()
	cfg.DBName = name
	// MySQL and MariaDB stop a recursive CTE (mySeq) at 1000 rows by
	// default, each by its own variable.
	setup := cfg.Clone()
	if setup.Params == nil {
		setup.Params = map[string]string{}
	}
	if p.mariaDB {
		setup.Params["max_recursive_iterations"] = "4294967295"
	} else {
		setup.Params["cte_max_recursion_depth"] = "4294967295"
	}
	db, err := sql.Open("mysql", setup.FormatDSN())
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }()
	if err := execAll(db, name, stmts); err != nil {
		return nil, err
	}
	return cfg, nil
}

// mySeq returns a derived table n of one column i, the integers 1 to
// rows.
func mySeq(rows int64) string {
	return fmt.Sprintf("(WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) SELECT i FROM seq) AS n", rows)
}

// mySeedUsers fills users with rows 1 to rows, as user(id) gives them.
func mySeedUsers(rows int64) string {
	return "INSERT INTO users (id, full_name, email) SELECT i, CONCAT('Ada', i, ' Lovelace', i), CONCAT('ada', i, '@example.com') FROM " + mySeq(rows)
}

// openMyWrapper opens cfg's database through dualwrite as examples/mysql
// does: the go-sql-driver/mysql connector wrapped by
// dualwrite.NewConnector, with a Switch in write phase dual and the extra
// options.
func (b *bench) openMyWrapper(cfg *mysql.Config, withMetrics bool, extra ...dualwrite.Option) (*sql.DB, error) {
	base, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	sw := dualwrite.NewSwitch()
	if err := sw.SetWrite(mapping.WriteDual); err != nil {
		return nil, err
	}
	opts := append([]dualwrite.Option{dualwrite.WithSwitch(sw)}, extra...)
	if withMetrics {
		opts = append(opts, dualwrite.WithRegisterer(prometheus.NewRegistry()))
	}
	c, err := dualwrite.NewConnector(base, b.myMapping, opts...)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// myGroupSpec is one MariaDB group: the statement on users alone (also
// what the wrapper and the trigger variant run), the same write with its
// mirror hand-coded in one transaction, the users rows seeded, and what
// each operation does to them (for the check).
type myGroupSpec struct {
	name      string
	alone, tx func(db *sql.DB) func(int) error
	seed      int64
	insert    bool // each operation inserts a row
	deletes   bool // each operation deletes a row; otherwise it adds 1 to visits
}

// myGroups builds the MariaDB groups named in want (the default set when
// empty): each variant in its own database, with its own *sql.DB of one
// connection. my-delete seeds a row for each of its operations, warm-up
// and rounds.
func (b *bench) myGroups(want []string, withMetrics bool, n, warmup, rounds int) ([]group, error) {
	m, err := mapping.Parse([]byte(corpus.MySQLMapping))
	if err != nil {
		return nil, err
	}
	b.myMapping = m
	ctx := b.ctx
	var out []group
	if selected(want, "my-unmapped") {
		g := group{name: "my-unmapped", n: n, warmup: warmup}
		for _, v := range []string{"dualwrite", "raw", "raw-copy"} {
			db, _, err := b.openMy(g.name, v, corpus.MySQLBenchSchema, withMetrics)
			if err != nil {
				return nil, err
			}
			g.variants = append(g.variants, variant{v, func(i int) error {
				return exec(ctx, db, qMyAuditInsert, insertID(i), "hello")
			}})
		}
		g.ratios = []ratio{{num: 0, den: 1, target: 1.05}, {num: 1, den: 2, label: "A/A"}}
		out = append(out, g)
	}
	specs := []myGroupSpec{
		{
			name: "my-insert", seed: seedRows, insert: true,
			alone: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := insertID(i)
					fullName, email, _, _ := user(id)
					return exec(ctx, db, qUserInsert, id, fullName, email)
				}
			},
			tx: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := insertID(i)
					fullName, email, first, last := user(id)
					return inTx(ctx, db, []string{qUserInsert, qAccountInsert},
						[]any{id, fullName, email}, []any{id, email, first, last})
				}
			},
		},
		{
			name: "my-update", seed: seedRows,
			alone: func(db *sql.DB) func(int) error {
				return func(i int) error { return exec(ctx, db, qUserUpdate, seedID(i)) }
			},
			tx: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := seedID(i)
					return inTx(ctx, db, []string{qUserUpdate, qAccountUpdate}, []any{id}, []any{id})
				}
			},
		},
		{
			// The i-th operation deletes row i + 1: every one an
			// existing row, seedRows rows left at the end.
			name: "my-delete", seed: int64(warmup+rounds*n) + seedRows, deletes: true,
			alone: func(db *sql.DB) func(int) error {
				return func(i int) error { return exec(ctx, db, qMyUserDelete, int64(i)+1) }
			},
			tx: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := int64(i) + 1
					return inTx(ctx, db, []string{qMyUserDelete, qMyAccountDelete}, []any{id}, []any{id})
				}
			},
		},
	}
	for _, sp := range specs {
		if !selected(want, sp.name) {
			continue
		}
		g := group{name: sp.name, n: n, warmup: warmup}
		for vi, v := range myVariants {
			stmts := append([]string{}, corpus.MySQLBenchSchema...)
			stmts = append(stmts, mySeedUsers(sp.seed), upInsert(m), "ANALYZE TABLE users, accounts")
			if v.name == "trigger" {
				stmts = append(stmts, myTrigger...)
			}
			db, dsn, err := b.openMy(sp.name, v.name, stmts, withMetrics)
			if err != nil {
				return nil, err
			}
			// The wrappers and the trigger run the users statement alone,
			// as raw-old-only does.
			mk := sp.alone
			if v.name == "raw-2stmt-tx" {
				mk = sp.tx
			}
			g.variants = append(g.variants, variant{v.name, mk(db)})
			switch v.name {
			case "dualwrite":
			case "dualwrite-noreturning":
				// For information: MySQL 8's plans, on MariaDB.
				g.ratios = append(g.ratios, ratio{num: vi, den: 2})
			default:
				g.ratios = append(g.ratios, ratio{num: 0, den: vi, target: v.target})
			}
			if v.name != "raw-old-only" { // every variant but the statement alone mirrors
				b.checks = append(b.checks, mirrorCheck{group: sp.name, variant: v.name, where: "database " + b.my.databases[len(b.my.databases)-1],
					driver: "mysql", dsn: dsn, table: usersTable(m), dir: "up", except: "EXCEPT ALL",
					insert: sp.insert, deletes: sp.deletes, seed: sp.seed})
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// openMy creates the database of a variant with stmts and opens it, limited
// to one connection: through the wrapper for the variants named dualwrite
// (dualwrite-noreturning with WithoutReturning), through the raw driver
// for the others. It also returns the database's DSN for the raw driver.
func (b *bench) openMy(group, variant string, stmts []string, withMetrics bool) (*sql.DB, string, error) {
	cfg, err := b.my.newDatabase(group, variant, stmts)
	if err != nil {
		return nil, "", err
	}
	var db *sql.DB
	switch variant {
	case "dualwrite":
		db, err = b.openMyWrapper(cfg, withMetrics)
	case "dualwrite-noreturning":
		db, err = b.openMyWrapper(cfg, withMetrics, dualwrite.WithoutReturning())
	default:
		db, err = sql.Open("mysql", cfg.FormatDSN())
	}
	if err != nil {
		return nil, "", err
	}
	db.SetMaxOpenConns(1)
	b.dbs = append(b.dbs, db)
	if err := db.Ping(); err != nil {
		return nil, "", fmt.Errorf("%s / %s: connecting: %w", group, variant, err)
	}
	return db, cfg.FormatDSN(), nil
}
