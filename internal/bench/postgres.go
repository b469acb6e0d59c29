package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
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

// pgGroupNames are the PostgreSQL groups of the default set, run only with
// -postgres; the reverse ones are pgReverseGroupNames.
var pgGroupNames = []string{"pg-insert", "pg-update", "pg-update-literal"}

// pgVariant is one variant of the PostgreSQL groups; the ratio is
// dualwrite to it, with this target (0: none).
type pgVariant struct {
	name   string
	target float64
}

// pgVariants are the forward PostgreSQL groups' variants, the wrapper
// first.
var pgVariants = []pgVariant{
	{"dualwrite", 0},
	{"raw-old-only", 0},
	{"raw-2stmt-tx", 1.0},
	{"trigger", triggerTarget},
	{"dualwrite-fenced", 0},
}

// triggerTarget is the target of dualwrite / trigger, in every group that
// has a trigger variant.
const triggerTarget = 1.2

// pgGroupSpec is one PostgreSQL group: the statement on the table the
// application writes (alone: also what the wrapper and the trigger
// variant run), the same write with its mirror hand-coded in one
// transaction (tx), the trigger variant's function and trigger, the
// wrapper's write phase, and the pair the mirror keeps (check, read from
// the written side; dir "up" or "down").
type pgGroupSpec struct {
	name      string
	variants  []pgVariant
	alone, tx func(db *sql.DB) func(int) error
	trigger   []string
	phase     mapping.WritePhase
	check     *mapping.Table
	dir       string
	insert    bool
}

// pgState is what the bench keeps of the PostgreSQL groups: the server, the
// schemas it created (dropped at the end) and what to check after the
// rounds.
type pgState struct {
	dsn     string
	admin   *sql.DB // on dsn as given, for CREATE and DROP SCHEMA
	run     string  // random part of this run's schema names
	schemas []string
	// triggers are the trigger variants' schemas and statements, run
	// after every wrapper has connected.
	triggers []pgTrigger
	version  string // SELECT version()
	settings string // the settings that decide a commit's cost
	// noCheckpoint is set when CHECKPOINT failed (a role without the
	// right): the pg-copy measurements then run without one.
	noCheckpoint bool
}

// pgTrigger is the trigger of a trigger variant: the statements that
// create it, in the schema of dsn.
type pgTrigger struct {
	dsn   string
	stmts []string
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

// schema creates a schema for one variant with the tables of tables and the
// seed rows in users and accounts = up(users), and returns a DSN whose
// search_path is that schema. The trigger variant's trigger is installed
// later, by installTriggers.
func (p *pgState) schema(m *mapping.Mapping, tables []string, group, variant string) (string, error) {
	stmts := append([]string{}, tables...)
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
	for _, t := range p.triggers {
		db, err := sql.Open("pgx", t.dsn)
		if err != nil {
			return err
		}
		err = execAll(db, t.dsn, t.stmts)
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
	specs := []pgGroupSpec{
		{
			name: "pg-insert", variants: pgVariants, phase: mapping.WriteDual, check: usersTable(m), dir: "up", insert: true,
			trigger: []string{qPgTriggerFunc, qPgTrigger},
			alone: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := insertID(i)
					fullName, email, _, _ := user(id)
					return exec(ctx, db, qPgUserInsert, id, fullName, email)
				}
			},
			tx: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := insertID(i)
					fullName, email, first, last := user(id)
					return inTx(ctx, db, []string{qPgUserInsert, qPgAccountInsert},
						[]any{id, fullName, email}, []any{id, email, first, last})
				}
			},
		},
		{
			name: "pg-update", variants: pgVariants, phase: mapping.WriteDual, check: usersTable(m), dir: "up",
			trigger: []string{qPgTriggerFunc, qPgTrigger},
			alone: func(db *sql.DB) func(int) error {
				return func(i int) error { return exec(ctx, db, qPgUserUpdate, seedID(i)) }
			},
			tx: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := seedID(i)
					return inTx(ctx, db, []string{qPgUserUpdate, qPgAccountUpdate}, []any{id}, []any{id})
				}
			},
		},
		{
			// pg-update with the key inlined as a literal: every statement
			// text is one of 1,000 (the seed rows), as ORMs and
			// hand-built SQL that inline values send.
			name: "pg-update-literal", variants: pgVariants, phase: mapping.WriteDual, check: usersTable(m), dir: "up",
			trigger: []string{qPgTriggerFunc, qPgTrigger},
			alone: func(db *sql.DB) func(int) error {
				return func(i int) error { return exec(ctx, db, inline(qPgUserUpdate, seedID(i))) }
			},
			tx: func(db *sql.DB) func(int) error {
				return func(i int) error {
					id := seedID(i)
					return inTx(ctx, db, []string{inline(qPgUserUpdate, id), inline(qPgAccountUpdate, id)}, nil, nil)
				}
			},
		},
	}
	specs = append(specs, pgReverseSpecs(ctx, m)...)
	var out []group
	for _, sp := range specs {
		if !selected(want, sp.name) {
			continue
		}
		g := group{name: sp.name, n: n, warmup: warmup}
		for vi, v := range sp.variants {
			tables := corpus.PostgresBenchSchema
			if sp.phase == mapping.WriteBoth {
				tables = corpus.PostgresReverseBenchSchema
			}
			dsn, err := b.pg.schema(m, tables, sp.name, v.name)
			if err != nil {
				return nil, err
			}
			if v.name == "trigger" {
				b.pg.triggers = append(b.pg.triggers, pgTrigger{dsn: dsn, stmts: sp.trigger})
			}
			if v.name == "dualwrite-fenced" {
				if err := installFence(ctx, dsn, m); err != nil {
					return nil, err
				}
			}
			var db *sql.DB
			if strings.HasPrefix(v.name, "dualwrite") {
				if db, err = b.openPgWrapper(dsn, sp.phase, withMetrics); err != nil {
					return nil, err
				}
			} else if db, err = sql.Open("pgx", dsn); err != nil {
				return nil, err
			}
			db.SetMaxOpenConns(1)
			b.dbs = append(b.dbs, db)
			if err := db.Ping(); err != nil {
				return nil, fmt.Errorf("%s / %s: connecting: %w", sp.name, v.name, err)
			}
			// The wrapper and the trigger run the written table's
			// statement alone, as raw-old-only (raw-new-only) does.
			mk := sp.alone
			if v.name == "raw-2stmt-tx" {
				mk = sp.tx
			}
			g.variants = append(g.variants, variant{v.name, mk(db)})
			switch {
			case v.name == "dualwrite-fenced":
				// What the fence costs a dual write: fenced / unfenced.
				g.ratios = append(g.ratios, ratio{num: vi, den: 0, label: "fence"})
			case vi > 0:
				g.ratios = append(g.ratios, ratio{num: 0, den: vi, target: v.target})
			}
			if vi != 1 { // every variant but the statement alone mirrors
				b.checks = append(b.checks, mirrorCheck{group: sp.name, variant: v.name, where: "schema " + b.pg.schemas[len(b.pg.schemas)-1],
					driver: "pgx", dsn: dsn, table: sp.check, dir: sp.dir, except: "EXCEPT ALL", insert: sp.insert})
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
// the given write phase.
func (b *bench) openPgWrapper(dsn string, phase mapping.WritePhase, withMetrics bool) (*sql.DB, error) {
	base, err := (&stdlib.Driver{}).OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	sw := dualwrite.NewSwitch()
	if err := sw.SetWrite(phase); err != nil {
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

// inline returns q with its one parameter, $1, replaced by the literal id.
func inline(q string, id int64) string {
	return strings.Replace(q, "$1", strconv.FormatInt(id, 10), 1)
}
