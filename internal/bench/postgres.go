package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/fence"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
)

// pgDSNEnv is the variable that gives -postgres its default; the package
// tests read the same one (internal/pgtest.DSNEnv, a test-only package).
const pgDSNEnv = "DUALWRITE_TEST_POSTGRES_DSN"

// The PostgreSQL groups' statements: those of the SQLite groups with $n
// placeholders.
const (
	qPgUserInsert    = `INSERT INTO users (id, full_name, email) VALUES ($1, $2, $3)`
	qPgUserUpdate    = `UPDATE users SET visits = visits + 1 WHERE id = $1`
	qPgAccountInsert = `INSERT INTO accounts (account_id, email_address, first_name, last_name, visits) VALUES ($1, $2, $3, $4, 0)`
	qPgAccountUpdate = `UPDATE accounts SET visits = visits + 1 WHERE account_id = $1`

	// qPgSeedUsers fills users with the seed rows, as user(id) gives them.
	qPgSeedUsers = `INSERT INTO users (id, full_name, email)
SELECT i, 'Ada' || i || ' Lovelace' || i, 'ada' || i || '@example.com' FROM generate_series(1, 1000) AS i`

	// qPgTrigger is the trigger variant's mirror, as trigger-based migration
	// tools install it: a plpgsql function run AFTER each row's INSERT,
	// UPDATE or DELETE on users that upserts the accounts row with the
	// PostgresMapping's columns expressions (on NEW) or deletes it.
	qPgTriggerFunc = `CREATE FUNCTION users_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.id IS DISTINCT FROM OLD.id) THEN
    DELETE FROM accounts WHERE account_id = OLD.id;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO accounts (account_id, email_address, first_name, last_name, visits)
    VALUES (NEW.id, NEW.email, split_part(NEW.full_name, ' ', 1),
            substr(NEW.full_name, length(split_part(NEW.full_name, ' ', 1)) + 2), NEW.visits)
    ON CONFLICT (account_id) DO UPDATE SET email_address = excluded.email_address,
      first_name = excluded.first_name, last_name = excluded.last_name, visits = excluded.visits;
  END IF;
  RETURN NULL;
END
$$`
	qPgTrigger = `CREATE TRIGGER users_mirror AFTER INSERT OR UPDATE OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION users_mirror()`
)

// pgGroupNames are the PostgreSQL groups, run only with -postgres.
var pgGroupNames = []string{"pg-insert", "pg-update"}

// pgVariants are the PostgreSQL groups' variants, the wrapper first; the
// ratios are dualwrite to each of the others, with these targets (0: none).
var pgVariants = []struct {
	name   string
	target float64
}{
	{"dualwrite", 0},
	{"raw-old-only", 0},
	{"raw-2stmt-tx", 1.0},
	{"trigger", 1.2},
	{"dualwrite-fenced", 0},
}

// pgState is what the bench keeps of the PostgreSQL groups: the server, the
// schemas it created (dropped at the end) and what to check after the
// rounds.
type pgState struct {
	dsn     string
	admin   *sql.DB // on dsn as given, for CREATE and DROP SCHEMA
	run     string  // random part of this run's schema names
	schemas []string
	// triggerDSNs are the trigger variants' schemas, whose trigger is
	// installed after every wrapper has connected.
	triggerDSNs []string
	checks      []pgCheck
	version     string // SELECT version()
	settings    string // the settings that decide a commit's cost
	// noCheckpoint is set when CHECKPOINT failed (a role without the
	// right): the pg-copy measurements then run without one.
	noCheckpoint bool
}

// pgCheck is one schema whose accounts must equal up(users) after the
// rounds.
type pgCheck struct {
	group, variant, schema, dsn string
}

// withSearchPath returns dsn with search_path set to schema, as a URL
// parameter or a keyword/value pair.
func withSearchPath(dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "search_path=" + schema
	}
	return dsn + " search_path=" + schema
}

// newPg connects to the server and reads its version and commit settings.
func newPg(dsn string) (*pgState, error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	p := &pgState{dsn: dsn, admin: admin, run: fmt.Sprintf("%08x", rand.Uint32())}
	var sc, fsync string
	err = admin.QueryRow(`SELECT version(), current_setting('synchronous_commit'), current_setting('fsync')`).Scan(&p.version, &sc, &fsync)
	if err != nil {
		_ = admin.Close()
		return nil, fmt.Errorf("-postgres: %w", err)
	}
	p.settings = fmt.Sprintf("synchronous_commit=%s, fsync=%s", sc, fsync)
	return p, nil
}

// close drops the schemas this run created and closes the admin pool. The
// variants' pools must be closed first.
func (p *pgState) close() {
	for _, s := range p.schemas {
		if _, err := p.admin.Exec("DROP SCHEMA " + s + " CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "bench: dropping schema %s: %v\n", s, err)
		}
	}
	_ = p.admin.Close()
}

// schema creates a schema for one variant with the test tables and the
// seed rows in users and accounts = up(users), and returns a DSN whose
// search_path is that schema. The trigger variant's trigger is installed
// later, by installTriggers.
func (p *pgState) schema(m *mapping.Mapping, group, variant string) (string, error) {
	stmts := append([]string{}, corpus.PostgresBenchSchema...)
	stmts = append(stmts, qPgSeedUsers, upInsert(m), "ANALYZE")
	return p.newSchema(group, variant, stmts)
}

// newSchema creates the schema of one variant of a group, dropped at the
// end, runs stmts in it, and returns a DSN whose search_path is that
// schema.
func (p *pgState) newSchema(group, variant string, stmts []string) (string, error) {
	name := strings.ReplaceAll("dw_bench_"+p.run+"_"+group+"_"+variant, "-", "_")
	if _, err := p.admin.Exec("CREATE SCHEMA " + name); err != nil {
		return "", fmt.Errorf("-postgres: %w", err)
	}
	p.schemas = append(p.schemas, name)
	dsn := withSearchPath(p.dsn, name)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer func() { _ = db.Close() }()
	if err := execAll(db, name, stmts); err != nil {
		return "", err
	}
	return dsn, nil
}

func execAll(db *sql.DB, schema string, stmts []string) error {
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			return fmt.Errorf("schema %s: %s: %w", schema, s, err)
		}
	}
	return nil
}

// installTriggers creates the trigger variants' triggers, once every
// wrapper variant has connected. dualwrite checks the live schema on a
// connector's first connection; until commit 9d01ade its PostgreSQL trigger
// guard read the triggers of every schema by table name, so that the
// trigger on users in the trigger variant's schema made a wrapper that
// connected after it refuse writes to users in its own schema. Creating
// the triggers last keeps the program right with either check. See
// docs/benchmarks.md.
func (p *pgState) installTriggers() error {
	for _, dsn := range p.triggerDSNs {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return err
		}
		err = execAll(db, dsn, []string{qPgTriggerFunc, qPgTrigger})
		_ = db.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// usersTable returns the mapping of users.
func usersTable(m *mapping.Mapping) *mapping.Table {
	return m.Table("users")
}

// upColumns returns the new table's columns and the old table's
// expressions for them, from the mapping.
func upColumns(m *mapping.Mapping) (cols, exprs string) {
	var c, e []string
	for _, col := range usersTable(m).Columns {
		c = append(c, col.Name)
		e = append(e, col.Expr)
	}
	return strings.Join(c, ", "), strings.Join(e, ", ")
}

// upInsert fills accounts = up(users) with the mapping's expressions.
func upInsert(m *mapping.Mapping) string {
	cols, exprs := upColumns(m)
	return "INSERT INTO accounts (" + cols + ") SELECT " + exprs + " FROM users"
}

// pgGroups builds the PostgreSQL groups named in want (all when empty):
// each variant in its own schema, with its own *sql.DB of one connection.
func (b *bench) pgGroups(want []string, withMetrics bool, n, warmup int) ([]group, error) {
	m, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		return nil, err
	}
	b.pgMapping = m
	ctx := b.ctx
	ops := map[string]map[string]func(db *sql.DB) func(int) error{
		"pg-insert": {
			"raw-old-only": func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := insertID(i)
					fullName, email, _, _ := user(id)
					return exec(ctx, db, qPgUserInsert, id, fullName, email)
				}
			},
			"raw-2stmt-tx": func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := insertID(i)
					fullName, email, first, last := user(id)
					return inTx(ctx, db, []string{qPgUserInsert, qPgAccountInsert},
						[]any{id, fullName, email}, []any{id, email, first, last})
				}
			},
		},
		"pg-update": {
			"raw-old-only": func(db *sql.DB) func(int) error {
				return func(i int) error { return exec(ctx, db, qPgUserUpdate, seedID(i)) }
			},
			"raw-2stmt-tx": func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := seedID(i)
					return inTx(ctx, db, []string{qPgUserUpdate, qPgAccountUpdate}, []any{id}, []any{id})
				}
			},
		},
	}
	var out []group
	for _, gname := range pgGroupNames {
		if len(want) > 0 && !slices.Contains(want, gname) {
			continue
		}
		g := group{name: gname, n: n, warmup: warmup}
		for vi, v := range pgVariants {
			dsn, err := b.pg.schema(m, gname, v.name)
			if err != nil {
				return nil, err
			}
			if v.name == "trigger" {
				b.pg.triggerDSNs = append(b.pg.triggerDSNs, dsn)
			}
			if v.name == "dualwrite-fenced" {
				if err := installFence(ctx, dsn, m); err != nil {
					return nil, err
				}
			}
			var db *sql.DB
			if strings.HasPrefix(v.name, "dualwrite") {
				if db, err = b.openPgWrapper(dsn, withMetrics); err != nil {
					return nil, err
				}
			} else if db, err = sql.Open("pgx", dsn); err != nil {
				return nil, err
			}
			db.SetMaxOpenConns(1)
			b.dbs = append(b.dbs, db)
			if err := db.Ping(); err != nil {
				return nil, fmt.Errorf("%s / %s: connecting: %w", gname, v.name, err)
			}
			// The wrapper and the trigger run the users statement alone,
			// as raw-old-only does.
			mk := ops[gname]["raw-old-only"]
			if f, ok := ops[gname][v.name]; ok {
				mk = f
			}
			g.variants = append(g.variants, variant{v.name, mk(db)})
			switch {
			case v.name == "dualwrite-fenced":
				// What the fence costs a dual write: fenced / unfenced.
				g.ratios = append(g.ratios, ratio{num: vi, den: 0, label: "fence"})
			case vi > 0:
				g.ratios = append(g.ratios, ratio{num: 0, den: vi, target: v.target})
			}
			if v.name != "raw-old-only" {
				b.pg.checks = append(b.pg.checks, pgCheck{group: gname, variant: v.name, schema: b.pg.schemas[len(b.pg.schemas)-1], dsn: dsn})
			}
		}
		out = append(out, g)
	}
	if err := b.pg.installTriggers(); err != nil {
		return nil, err
	}
	return out, nil
}

// installFence installs dualwrite's fence (package fence) in the schema of
// dsn, with the base driver.
func installFence(ctx context.Context, dsn string, m *mapping.Mapping) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	return fence.Install(ctx, db, m)
}

// openPgWrapper opens dsn through dualwrite as postgres_test.go does: the
// pgx stdlib connector wrapped by dualwrite.NewConnector, with a Switch in
// write phase dual.
func (b *bench) openPgWrapper(dsn string, withMetrics bool) (*sql.DB, error) {
	base, err := (&stdlib.Driver{}).OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	sw := dualwrite.NewSwitch()
	if err := sw.SetWrite(mapping.WriteDual); err != nil {
		return nil, err
	}
	opts := []dualwrite.Option{dualwrite.WithSwitch(sw)}
	if withMetrics {
		opts = append(opts, dualwrite.WithRegisterer(prometheus.NewRegistry()))
	}
	c, err := dualwrite.NewConnector(base, b.pgMapping, opts...)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// checkPg verifies, through pgx, that accounts = up(users) (the mapping's
// expressions; NULLs equal) in the schemas of the variants that mirror,
// and that users holds what every operation of the variant wrote: ops
// inserted rows above the seed (pg-insert) or ops increments of visits
// (pg-update). ops[group] is the number of operations each variant of the
// group ran, warm-up included.
func (b *bench) checkPg(ops map[string]int) ([]string, error) {
	if b.pg == nil {
		return nil, nil
	}
	diff := pgDiff(b.pgMapping)
	var out []string
	for _, c := range b.pg.checks {
		db, err := sql.Open("pgx", c.dsn)
		if err != nil {
			return nil, err
		}
		var missing, extra, users, visits int64
		err = db.QueryRow(diff).Scan(&missing, &extra, &users, &visits)
		_ = db.Close()
		if err != nil {
			return nil, fmt.Errorf("checking %s / %s (schema %s): %w", c.group, c.variant, c.schema, err)
		}
		if missing > 0 || extra > 0 {
			return nil, fmt.Errorf("check FAILED: %s / %s (schema %s): accounts != up(users): %d rows of up(users) missing from accounts, %d accounts rows not in up(users), of %d users rows",
				c.group, c.variant, c.schema, missing, extra, users)
		}
		n := int64(ops[c.group])
		wantUsers, wantVisits := int64(seedRows), int64(0)
		if c.group == "pg-insert" {
			wantUsers += n
		} else {
			wantVisits = n
		}
		if users != wantUsers || visits != wantVisits {
			return nil, fmt.Errorf("check FAILED: %s / %s (schema %s): users has %d rows and sum(visits) = %d after %d operations; want %d and %d",
				c.group, c.variant, c.schema, users, visits, n, wantUsers, wantVisits)
		}
		out = append(out, fmt.Sprintf("check %s / %s: accounts = up(users), %d rows; users: %d rows, sum(visits) = %d, as its %d operations give",
			c.group, c.variant, users, users, visits, n))
	}
	return out, nil
}

// pgDiff returns the query of the rows of up(users) (the mapping's
// expressions) missing from accounts, the accounts rows not in up(users)
// (both EXCEPT ALL, so NULLs are equal), the users rows and their
// sum(visits).
func pgDiff(m *mapping.Mapping) string {
	cols, exprs := upColumns(m)
	up := "SELECT " + exprs + " FROM users"
	acc := "SELECT " + cols + " FROM accounts"
	return "SELECT (SELECT count(*) FROM (" + up + " EXCEPT ALL " + acc + ") AS missing), (SELECT count(*) FROM (" +
		acc + " EXCEPT ALL " + up + ") AS extra), (SELECT count(*) FROM users), (SELECT coalesce(sum(visits), 0) FROM users)"
}
