package dualwrite_test

import (
	"database/sql"
	"database/sql/driver"
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// pgFuzz is FuzzDriver's PostgreSQL database: one schema that every input
// reuses, since creating a schema per input would make fuzzing on
// PostgreSQL too slow. Before each input the data is reset (resetFuzzData);
// the wrapper's sessions are ended when the previous program may have
// changed them (a setting, a temporary table, a transaction begun by
// text); and the schema is created again only when its catalog
// fingerprint says the previous input changed it.
type pgFuzz struct {
	schema string
	base   driver.Connector
	c      driver.Connector // the wrapper over base, made again with the schema
	fp     string           // the schema's catalog fingerprint as created
	dirty  bool             // the last program may have left session state or changed the schema
}

// fuzzPostgresSettings keep an input from waiting long on a lock that
// another of its statements holds (a transaction begun by text on one
// connection, a statement on another) or from running for long, and its
// commits from waiting for the disk.
var fuzzPostgresSettings = []string{"lock_timeout", "1s", "statement_timeout", "10s", "synchronous_commit", "off"}

// openPostgresFuzz creates FuzzDriver's PostgreSQL target, its schema
// dropped when f ends.
func openPostgresFuzz(f *testing.F) *fuzzTarget {
	dsn, name := pgtest.New(f, postgresBackend.schema...)
	pg := &pgFuzz{schema: name, base: dbtest.Connector{DSN: pgtest.WithSettings(dsn, fuzzPostgresSettings...), Base: &stdlib.Driver{}}}
	tg := &fuzzTarget{b: postgresBackend, pg: pg}
	raw := sql.OpenDB(pg.base)
	f.Cleanup(func() {
		_ = raw.Close()
		_ = tg.shared.db.Close()
	})
	tg.shared = pg.connect(f, raw)
	pg.fp = pg.fingerprint(f, raw)
	return tg
}

// connect opens a new wrapper over the schema with its own metrics
// registry and switch, in the dual write phase: a new connector checks
// the schema as it is now.
func (pg *pgFuzz) connect(t testing.TB, raw *sql.DB) *fuzzEnv {
	t.Helper()
	m, err := mapping.Parse([]byte(postgresBackend.mapping))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, raw: raw, m: m, sw: dualwrite.NewSwitch()}
	reg := prometheus.NewRegistry()
	if pg.c, err = dualwrite.NewConnector(pg.base, m, dualwrite.WithSwitch(e.sw), dualwrite.WithRegisterer(reg),
		dualwrite.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))); err != nil {
		t.Fatal(err)
	}
	e.db = sql.OpenDB(pg.c)
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	return &fuzzEnv{env: e, reg: reg}
}

// preparePostgres makes the shared env ready for the next program after
// one that was dirty (or did not run to its end): the wrapper's sessions
// are ended, and the schema is created again if the catalog says it
// changed. A program that ends clean sets dirty back to false.
func (tg *fuzzTarget) preparePostgres(t *testing.T) {
	t.Helper()
	pg := tg.pg
	dirty := pg.dirty
	pg.dirty = true // until the program runs to its end
	if !dirty {
		return
	}
	e := tg.shared
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	if pg.fingerprint(t, e.raw) != pg.fp {
		for _, q := range append([]string{"DROP SCHEMA IF EXISTS " + pg.schema + " CASCADE", "CREATE SCHEMA " + pg.schema}, postgresBackend.schema...) {
			mustExec(t, e.raw, q)
		}
		tg.shared = pg.connect(t, e.raw)
		pg.fp = pg.fingerprint(t, e.raw)
	} else {
		e.db = sql.OpenDB(pg.c)
	}
}

// fingerprint sums up what the catalog says of the schema's objects:
// relations, columns and their defaults, constraints, triggers, rules,
// policies, functions and types. Any schema change an input can make
// through the wrapper or around it changes it.
func (pg *pgFuzz) fingerprint(t testing.TB, raw *sql.DB) string {
	t.Helper()
	var fp string
	if err := raw.QueryRow(fingerprintSQL, pg.schema).Scan(&fp); err != nil {
		t.Fatalf("the catalog fingerprint of %s: %v", pg.schema, err)
	}
	return fp
}

const fingerprintSQL = `SELECT md5(coalesce(string_agg(x, E'\n' ORDER BY x), '')) FROM (
	SELECT 'n ' || n.oid FROM pg_namespace n WHERE n.nspname = $1
	UNION ALL
	SELECT concat_ws(' ', 'c', c.oid, c.relname, c.relkind, c.relpersistence, c.relhasrules, c.relhastriggers,
		c.relrowsecurity, c.relforcerowsecurity, c.relacl)
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
	UNION ALL
	SELECT concat_ws(' ', 'a', a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.attisdropped,
		a.attgenerated, a.attidentity, a.attcollation, pg_get_expr(d.adbin, d.adrelid))
	FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
	LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	WHERE n.nspname = $1 AND a.attnum > 0
	UNION ALL
	SELECT concat_ws(' ', 'k', o.oid, o.conname, pg_get_constraintdef(o.oid))
	FROM pg_constraint o JOIN pg_namespace n ON n.oid = o.connamespace WHERE n.nspname = $1
	UNION ALL
	SELECT concat_ws(' ', 't', g.oid, g.tgenabled)
	FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
	UNION ALL
	SELECT concat_ws(' ', 'r', r.oid, r.ev_enabled)
	FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
	UNION ALL
	SELECT 'p ' || p.oid
	FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
	UNION ALL
	SELECT 'f ' || p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
	UNION ALL
	SELECT 'y ' || y.oid FROM pg_type y JOIN pg_namespace n ON n.oid = y.typnamespace WHERE n.nspname = $1
) f(x)`
