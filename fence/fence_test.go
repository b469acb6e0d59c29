package fence_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/fence"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

// setup creates the test schema on PostgreSQL with rows written before
// dual-writing began, server-side code that writes users (a function, a
// procedure, and a trigger on the unmapped audit table), and returns the
// base database and the mapping.
func setup(t *testing.T) (*sql.DB, *mapping.Mapping, string) {
	t.Helper()
	stmts := append(append([]string{}, corpus.PostgresSchema...),
		`INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x')`,
		`INSERT INTO memberships VALUES (1, 1, 'admin')`,
		`CREATE FUNCTION add_user(i int) RETURNS void LANGUAGE sql AS $$ INSERT INTO users (id, full_name) VALUES (i, 'From Function') $$`,
		`CREATE PROCEDURE bump() LANGUAGE sql AS $$ UPDATE users SET visits = visits + 1 $$`,
	)
	dsn := pgtest.Schema(t, stmts...)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		t.Fatal(err)
	}
	return db, m, dsn
}

// openDual opens the database through dualwrite in the dual write phase.
func openDual(t *testing.T, dsn string, m *mapping.Mapping) *sql.DB {
	t.Helper()
	return openIn(t, dsn, m, mapping.WriteDual)
}

// openIn opens the database through dualwrite in the write phase p.
func openIn(t *testing.T, dsn string, m *mapping.Mapping, p mapping.WritePhase) *sql.DB {
	t.Helper()
	sw := dualwrite.NewSwitch()
	if err := sw.SetWrite(p); err != nil {
		t.Fatal(err)
	}
	c, err := dualwrite.NewConnector(dbtest.Connector{DSN: dsn, Base: &stdlib.Driver{}}, m, dualwrite.WithSwitch(sw))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// fenced asserts that err is the fence's refusal.
func fenced(t *testing.T, what string, err error) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "P0001" || !strings.Contains(pe.Message, "dualwrite fence") {
		t.Fatalf("%s: got %v, want the fence's error", what, err)
	}
}

func visits(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT sum(visits) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFence: with the fence installed, writes that do not come through
// dualwrite's mirror fail (from a plain connection, a function, a
// procedure, a trigger, and a function called through dualwrite itself,
// which the driver cannot see into), and nothing of them stays; dual
// writes, backfill and verify pass; the live-schema check accepts the
// fence; removing it lets plain writes through again.
func TestFence(t *testing.T) {
	ctx := context.Background()
	raw, m, dsn := setup(t)
	if err := fence.Install(ctx, raw, m); err != nil {
		t.Fatal(err)
	}
	if err := fence.Install(ctx, raw, m); err != nil {
		t.Fatalf("installing again: %v", err)
	}
	st, err := fence.Status(ctx, raw, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.Installed || !s.Current {
			t.Fatalf("status after install: %+v", st)
		}
	}

	// Backfill copies the rows written before dual-writing; verify passes.
	d := rewrite.Postgres
	for _, mt := range m.Tables {
		if _, err := backfill.Run(ctx, raw, d, d.Compile(mt), backfill.Options{}); err != nil {
			t.Fatalf("backfill of %s under the fence: %v", mt.Old, err)
		}
	}
	if rep, err := verify.Run(ctx, raw, d, m, verify.Options{}); err != nil || !rep.OK {
		t.Fatalf("verify under the fence: %+v, %v", rep, err)
	}

	// Dual writes of every kind pass.
	db := openDual(t, dsn, m)
	for _, q := range []string{
		"INSERT INTO users (id, full_name, email) VALUES (3, 'Grace Hopper', 'grace@x')",
		"UPDATE users SET visits = visits + 1 WHERE id IN (1, 2)",
		"UPDATE users SET id = 30 WHERE id = 3",
		"INSERT INTO users (id, full_name) VALUES (1, 'Ada King') ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name",
		"DELETE FROM users WHERE id = 2",
		"UPDATE memberships SET user_id = 5 WHERE org_id = 1",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("dual write %s under the fence: %v", q, err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE users SET visits = 7 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("a dual write's transaction under the fence: %v", err)
	}
	dbtest.Invariant(t, raw, d, m)

	// Writes that bypass the mirror fail and leave nothing.
	before := visits(t, raw)
	_, err = raw.Exec("UPDATE users SET visits = visits + 100 WHERE id = 1")
	fenced(t, "a plain connection's UPDATE", err)
	_, err = raw.Exec("DELETE FROM accounts WHERE account_id = 1")
	fenced(t, "a plain connection's DELETE of a new row", err)
	_, err = raw.Exec("SELECT add_user(60)")
	fenced(t, "a function", err)
	_, err = db.Exec("SELECT add_user(61)") // the driver sees no mapped table in it
	fenced(t, "a function called through dualwrite", err)
	_, err = raw.Exec("CALL bump()")
	fenced(t, "a procedure", err)
	if _, err := raw.Exec(`CREATE FUNCTION audit_to_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO users (id, full_name) VALUES (NEW.id + 1000, NEW.msg); RETURN NEW; END $$`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TRIGGER audit_users AFTER INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_to_users()"); err != nil {
		t.Fatal(err)
	}
	_, err = raw.Exec("INSERT INTO audit (id, msg) VALUES (1, 'Via Trigger')")
	fenced(t, "a trigger", err)
	if after := visits(t, raw); after != before {
		t.Fatalf("sum(visits) %d after the fenced writes, was %d", after, before)
	}
	var n int
	if err := raw.QueryRow("SELECT count(*) FROM users WHERE id IN (60, 61, 1001)").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows of the fenced inserts stayed (%v)", n, err)
	}
	dbtest.Invariant(t, raw, d, m)

	// Removed, plain writes pass again.
	if err := fence.Remove(ctx, raw, m); err != nil {
		t.Fatal(err)
	}
	if st, err := fence.Status(ctx, raw, m); err != nil || st[0].Installed {
		t.Fatalf("status after remove: %+v, %v", st, err)
	}
	if _, err := raw.Exec("UPDATE users SET visits = visits + 100 WHERE id = 1"); err != nil {
		t.Fatalf("a plain write after the fence was removed: %v", err)
	}
}

// TestFenceOfAnotherMapping: a fence whose function is not the one the
// mapping makes (installed for an earlier version of the mapping) is
// reported by Status and makes the driver's schema check fail, naming it.
func TestFenceOfAnotherMapping(t *testing.T) {
	ctx := context.Background()
	raw, m, dsn := setup(t)
	if err := fence.Install(ctx, raw, m); err != nil {
		t.Fatal(err)
	}
	other, err := mapping.Parse([]byte(strings.Replace(corpus.PostgresMapping, "role_name: upper(role)", "role_name: lower(role)", 1)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := fence.Status(ctx, raw, other)
	if err != nil {
		t.Fatal(err)
	}
	if !st[0].Current || st[1].Current || !st[1].Installed {
		t.Fatalf("status against a changed mapping: %+v; want users current, memberships installed but not current", st)
	}
	_, err = openDual(t, dsn, other).Exec("INSERT INTO audit (id, msg) VALUES (1, 'x')")
	if !errors.Is(err, dualwrite.ErrSchemaMismatch) || !strings.Contains(err.Error(), "is not the fence of the mapping entry memberships -> members") {
		t.Fatalf("connecting with a changed mapping under the old fence: %v", err)
	}
}

// status asserts that every pair of m has the current fence in mode.
func status(t *testing.T, raw *sql.DB, m *mapping.Mapping, mode fence.Mode) {
	t.Helper()
	st, err := fence.Status(context.Background(), raw, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.Installed || !s.Current || s.Mode != mode {
			t.Fatalf("status: %+v, want every pair fenced in mode %s", st, mode)
		}
	}
}

// TestFenceBoth: in the write phase both, a write to a new table through
// dualwrite whose row does not round-trip (down(up(old)) != old) leaves
// old = down(new) but not new = up(old): the strict fence fails it, the
// fence of the phase both passes it, and writes to the old tables through
// dualwrite too. Under that fence, plain writes that leave a key with
// neither new = up(old) nor old = down(new) fail, as do plain deletes of
// one side; a plain write that leaves old = down(new) passes (why it is
// not the default). Status reports the mode, and a fence of the phase
// both made for another version of the mapping as not current; the
// driver's schema check accepts it.
func TestFenceBoth(t *testing.T) {
	ctx := context.Background()
	raw, m, dsn := setup(t)
	d := rewrite.Postgres
	for _, mt := range m.Tables {
		if _, err := backfill.Run(ctx, raw, d, d.Compile(mt), backfill.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	// Neither writes round-trips: 'Mary Ann' + 'Evans' comes back as
	// 'Mary' + 'Ann Evans', 'Owner' as 'OWNER'.
	newWrites := []string{
		"INSERT INTO accounts (account_id, email_address, first_name, last_name) VALUES (10, 'mae@x', 'Mary Ann', 'Evans')",
		"UPDATE members SET role_name = 'Owner' WHERE org = 1 AND usr = 1",
	}

	if err := fence.Install(ctx, raw, m); err != nil {
		t.Fatal(err)
	}
	status(t, raw, m, fence.Strict)
	strict := openIn(t, dsn, m, mapping.WriteBoth)
	for _, q := range newWrites {
		_, err := strict.Exec(q)
		fenced(t, "under the strict fence, "+q, err)
	}

	if err := fence.InstallBoth(ctx, raw, m); err != nil {
		t.Fatal(err)
	}
	status(t, raw, m, fence.Both)
	db := openIn(t, dsn, m, mapping.WriteBoth) // a new connector: its schema check meets this fence
	for _, q := range []string{
		"INSERT INTO users (id, full_name, email) VALUES (3, 'Grace Hopper', 'grace@x')",
		"UPDATE users SET visits = visits + 1 WHERE id IN (1, 2)",
		"UPDATE users SET id = 30 WHERE id = 3",
		"DELETE FROM users WHERE id = 2",
		"INSERT INTO memberships VALUES (2, 1, 'member')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("a write to an old table through dualwrite under the fence of the phase both, %s: %v", q, err)
		}
	}
	dbtest.Invariant(t, raw, d, m)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range newWrites {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("writes to the new tables through dualwrite under the fence of the phase both: %v", err)
	}
	dbtest.Invariant(t, raw, d, m.Flip())
	var full, first string
	if err := raw.QueryRow("SELECT u.full_name, a.first_name FROM users AS u JOIN accounts AS a ON a.account_id = u.id WHERE u.id = 10").Scan(&full, &first); err != nil {
		t.Fatal(err)
	}
	if full != "Mary Ann Evans" || first != "Mary Ann" {
		t.Fatalf("key 10: users.full_name %q, accounts.first_name %q; want the row as written to accounts, and down of it", full, first)
	}

	// Plain writes that leave neither state, or one side only, fail and
	// leave nothing.
	before := visits(t, raw)
	for _, q := range []string{
		"UPDATE users SET visits = visits + 100 WHERE id = 1",
		"UPDATE accounts SET first_name = 'Mae' WHERE account_id = 10",
		"UPDATE users SET full_name = 'Mary Ann  Evans' WHERE id = 10",
		"UPDATE members SET role_name = 'Admin' WHERE org = 1 AND usr = 1",
		"INSERT INTO users (id, full_name) VALUES (40, 'Old Only')",
		"INSERT INTO accounts (account_id, first_name, last_name) VALUES (41, 'New', 'Only')",
		"DELETE FROM users WHERE id = 1",
		"DELETE FROM accounts WHERE account_id = 10",
		"DELETE FROM memberships WHERE org_id = 2",
		"SELECT add_user(60)",
	} {
		_, err := raw.Exec(q)
		fenced(t, "a plain "+q, err)
	}
	if after := visits(t, raw); after != before {
		t.Fatalf("sum(visits) %d after the fenced writes, was %d", after, before)
	}
	var n int
	if err := raw.QueryRow("SELECT (SELECT count(*) FROM users WHERE id IN (1, 10, 40, 41, 60)) + (SELECT count(*) FROM accounts WHERE account_id IN (1, 10, 40, 41, 60))").Scan(&n); err != nil || n != 4 {
		t.Fatalf("%d rows of keys 1, 10, 40, 41, 60 in users and accounts, want 4 (%v)", n, err)
	}
	dbtest.Invariant(t, raw, d, m.Flip())

	// A plain transaction that leaves old = down(new) passes.
	tx, err = raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE accounts SET first_name = 'Mae' WHERE account_id = 10",
		"UPDATE users SET full_name = 'Mae Evans' WHERE id = 10",
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("a plain transaction that leaves old = down(new) under the fence of the phase both: %v", err)
	}
	// So does the repair of the phase both, a reverse backfill, which
	// rewrites memberships (1, 1) as down of its new row 'Owner'.
	for _, mt := range m.Tables {
		if _, err := backfill.Run(ctx, raw, d, d.Compile(mt.Flip()), backfill.Options{}); err != nil {
			t.Fatalf("reverse backfill of %s under the fence of the phase both: %v", mt.New, err)
		}
	}
	dbtest.Invariant(t, raw, d, m.Flip())

	// Against another version of the mapping, memberships' fence is not
	// current; the driver's schema check names it.
	other, err := mapping.Parse([]byte(strings.Replace(corpus.PostgresMapping, "role: lower(role_name)", "role: lower(trim(role_name))", 1)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := fence.Status(ctx, raw, other)
	if err != nil {
		t.Fatal(err)
	}
	if !st[0].Current || st[0].Mode != fence.Both || st[1].Current || !st[1].Installed {
		t.Fatalf("status against a changed reverse: %+v; want users current in mode both, memberships installed but not current", st)
	}
	_, err = openIn(t, dsn, other, mapping.WriteBoth).Exec("INSERT INTO audit (id, msg) VALUES (1, 'x')")
	if !errors.Is(err, dualwrite.ErrSchemaMismatch) || !strings.Contains(err.Error(), "is not the fence of the mapping entry memberships -> members") {
		t.Fatalf("connecting with a changed mapping under the fence of the phase both: %v", err)
	}
}
