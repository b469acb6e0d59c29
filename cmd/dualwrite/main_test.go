package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

// binary is the command, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dualwrite-cmd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dualwrite")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the command: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the command did.
type result struct {
	stdout, stderr string
	code           int
}

// invoke runs the command with args, in an environment without the phase
// variables but for those in env ("NAME=value").
func invoke(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "DUALWRITE_WRITE_PHASE=") && !strings.HasPrefix(e, "DUALWRITE_READ_PHASE=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("dualwrite %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// expect fails the test unless r exited with code and its output (stdout
// and stderr together) holds every one of want.
func (r result) expect(t *testing.T, code int, want ...string) {
	t.Helper()
	out := r.stdout + r.stderr
	if r.code != code {
		t.Errorf("exit status %d, want %d; output:\n%s", r.code, code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// backend is a database with the corpus schema and a mapping file for it.
type backend struct {
	driver  string // --driver
	dsn     string
	mapping string // the mapping file's path
	db      *sql.DB
	d       *rewrite.Dialect
}

// flags returns the command's arguments: the command, b's common flags,
// then args.
func (b *backend) flags(command string, args ...string) []string {
	return append([]string{command, "--driver", b.driver, "--dsn", b.dsn, "--mapping", b.mapping}, args...)
}

// exec runs statements on the database directly.
func (b *backend) exec(t *testing.T, statements ...string) {
	t.Helper()
	for _, s := range statements {
		if _, err := b.db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// writeFile writes a file in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// newSQLite makes a SQLite file with the statements and the corpus mapping.
func newSQLite(t *testing.T, statements ...string) *backend {
	t.Helper()
	dir := t.TempDir()
	b := &backend{driver: "sqlite3", dsn: filepath.Join(dir, "test.db"), d: rewrite.SQLite,
		mapping: writeFile(t, dir, "mapping.yaml", corpus.Mapping)}
	db, err := sql.Open("sqlite3", b.dsn+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	b.db = db
	b.exec(t, statements...)
	return b
}

// newPostgres makes a PostgreSQL schema with the corpus schema and the
// corpus mapping, or skips the test without DUALWRITE_TEST_POSTGRES_DSN.
func newPostgres(t *testing.T) *backend {
	t.Helper()
	dsn := pgtest.Schema(t, corpus.PostgresSchema...)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return &backend{driver: "pgx", dsn: dsn, db: db, d: rewrite.Postgres,
		mapping: writeFile(t, t.TempDir(), "mapping.yaml", corpus.PostgresMapping)}
}

// newMySQL makes a MariaDB database with the corpus schema and the corpus
// mapping, or skips the test without DUALWRITE_TEST_MYSQL_DSN.
func newMySQL(t *testing.T) *backend {
	t.Helper()
	dsn := mytest.Database(t, corpus.MySQLSchema...)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return &backend{driver: "mysql", dsn: dsn, db: db, d: rewrite.MySQL,
		mapping: writeFile(t, t.TempDir(), "mapping.yaml", corpus.MySQLMapping)}
}

// compiled returns the corpus mapping's users -> accounts pair compiled
// for d: the generated statements explain must show.
func compiled(t *testing.T, src string, d *rewrite.Dialect) *rewrite.Table {
	t.Helper()
	m, err := mapping.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return d.Compile(m.Table("users"))
}

func TestCheckOK(t *testing.T) {
	b := newSQLite(t, corpus.Schema...)
	invoke(t, nil, b.flags("check")...).expect(t, 0, "OK:", "users -> accounts, memberships -> members")
}

// TestCheckProblems: a new table without one of its mapped columns, and a
// missing new table, are both listed, each naming the table (and column).
func TestCheckProblems(t *testing.T) {
	schema := []string{
		corpus.Schema[0],
		`CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, visits INTEGER NOT NULL DEFAULT 0)`,
		corpus.Schema[2],
	}
	b := newSQLite(t, schema...)
	r := invoke(t, nil, b.flags("check")...)
	r.expect(t, 1, "does not match the live schema: ", "\n  - accounts.last_name: ", "\n  - members: ")
	if strings.Contains(r.stdout, "OK") {
		t.Errorf("check with problems says OK:\n%s", r.stdout)
	}
}

// TestExplain shows each action, as text and as JSON, with the generated
// statements the rewrite package makes, and that the live schema (here a
// trigger that writes to users) changes the answer.
func TestExplain(t *testing.T) {
	b := newSQLite(t, append(corpus.Schema[:len(corpus.Schema):len(corpus.Schema)],
		`CREATE TRIGGER audit_visits AFTER INSERT ON audit BEGIN UPDATE users SET visits = visits + 1; END`)...)
	users := compiled(t, corpus.Mapping, rewrite.SQLite)
	explain := func(t *testing.T, live bool, query string) (explanation, result) {
		t.Helper()
		args := []string{"explain", "--mapping", b.mapping, query, "--json"}
		if live {
			args = b.flags("explain", query, "--json")
		}
		r := invoke(t, nil, args...)
		var e explanation
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &e) != nil {
			t.Fatalf("explain --json %q: exit %d\n%s%s", query, r.code, r.stdout, r.stderr)
		}
		if e.LiveSchema != live {
			t.Errorf("live_schema = %v, want %v", e.LiveSchema, live)
		}
		return e, invoke(t, nil, args[:len(args)-1]...)
	}

	t.Run("pass", func(t *testing.T) {
		e, text := explain(t, true, "SELECT msg FROM audit")
		if e.Action != "pass" {
			t.Errorf("action %q, want pass", e.Action)
		}
		text.expect(t, 0, "action: pass")
	})
	t.Run("mirror", func(t *testing.T) {
		q := "UPDATE users SET visits = visits + 1 WHERE id = ?"
		e, text := explain(t, true, q)
		if e.Action != "mirror" || e.Table != "users" || e.NewTable != "accounts" || e.Kind != "update" {
			t.Fatalf("got %+v, want a mirrored update of users into accounts", e)
		}
		want := []string{q + ` RETURNING "id"`, users.UpsertSQL(1)}
		if len(e.Steps) != len(want) {
			t.Fatalf("steps %+v, want %q", e.Steps, want)
		}
		for i, s := range e.Steps {
			if s.SQL != want[i] {
				t.Errorf("step %d: %s\nwant %s", i+1, s.SQL, want[i])
			}
		}
		text.expect(t, 0, "action: mirror: UPDATE on users, mirrored into accounts", users.UpsertSQL(1))
	})
	t.Run("key change", func(t *testing.T) {
		e, text := explain(t, false, "UPDATE users SET id = id + 100 WHERE id = ?")
		if n := len(e.Steps); n != 4 || !strings.HasPrefix(e.Steps[0].SQL, "SELECT ") || e.Steps[2].SQL != users.DeleteSQL(1) || e.Steps[3].SQL != users.UpsertSQL(1) {
			t.Errorf("steps %+v, want pre-select, statement, delete, upsert", e.Steps)
		}
		text.expect(t, 0, "planned against: the mapping alone", users.DeleteSQL(1))
	})
	t.Run("read", func(t *testing.T) {
		e, text := explain(t, true, "SELECT full_name FROM users WHERE id = ?")
		if e.Action != "read" || e.Read == nil || !strings.Contains(e.Read.NewQuery, users.Derived()) || !e.Read.Compared {
			t.Fatalf("got %+v, want a read served from accounts", e)
		}
		text.expect(t, 0, "read phase new: it runs as", e.Read.NewQuery, "compared as multisets")
	})
	t.Run("read refused", func(t *testing.T) {
		e, text := explain(t, true, "SELECT users FROM audit")
		if e.Action != "read" || e.Read != nil || e.Refused == nil || e.Refused.Table != "users" {
			t.Fatalf("got %+v, want a read that cannot be served from accounts", e)
		}
		text.expect(t, 0, "read phases compare and new: it is refused", "construct: "+e.Refused.Construct)
	})
	t.Run("refuse", func(t *testing.T) {
		e, text := explain(t, true, "UPDATE OR REPLACE users SET email = 'x' WHERE id = 1")
		if e.Action != "refuse" || e.Refused == nil || !strings.Contains(e.Refused.Construct, "REPLACE") || e.Refused.Fix == "" {
			t.Fatalf("got %+v, want UPDATE OR REPLACE refused with a fix", e)
		}
		text.expect(t, 0, "action: refuse", "construct: "+e.Refused.Construct, "fix: ")
	})
	t.Run("trigger", func(t *testing.T) {
		q := "INSERT INTO audit (msg) VALUES ('hello')"
		if e, _ := explain(t, true, q); e.Action != "refuse" || e.Refused == nil || e.Refused.Table != "audit" {
			t.Errorf("with --dsn: got %+v, want refused for the trigger on audit", e)
		}
		if e, _ := explain(t, false, q); e.Action != "pass" {
			t.Errorf("without --dsn: got %+v, want pass (the trigger is unknown)", e)
		}
	})
}

// TestExplainMySQL: on MySQL explain shows the steps the driver runs
// there: an UPDATE by its key runs as written and its mirror locks the old
// row, a DELETE has RETURNING on MariaDB, another UPDATE or DELETE locks
// its rows and runs restricted to their keys, an INSERT runs as written
// and its keys come from its values; an
// INSERT ... SELECT has RETURNING on MariaDB 10.5 and later, and with
// --dsn explain plans as the driver does on the server it reaches.
func TestExplainMySQL(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "mapping.yaml", corpus.MySQLMapping)
	users := compiled(t, corpus.MySQLMapping, rewrite.MySQL)
	explain := func(t *testing.T, args ...string) explanation {
		t.Helper()
		r := invoke(t, nil, append([]string{"explain", "--driver", "mysql", "--mapping", path, "--json"}, args...)...)
		var e explanation
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &e) != nil {
			t.Fatalf("explain --json %q: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		return e
	}
	sqls := func(e explanation) []string {
		var out []string
		for _, s := range e.Steps {
			out = append(out, s.SQL)
		}
		return out
	}
	e := explain(t, "UPDATE users SET visits = visits + 1 WHERE id > ?")
	if want := []string{"SELECT users.`id` FROM users WHERE id > ? FOR UPDATE", "UPDATE users SET visits = visits + 1 WHERE (id > ?) AND users.`id` IN (?)", users.UpsertSQL(1)}; e.Action != "mirror" || !reflect.DeepEqual(sqls(e), want) {
		t.Errorf("update: %+v\nwant steps %q", e, want)
	}
	e = explain(t, "UPDATE users SET visits = visits + 1 WHERE id = ?")
	if want := []string{"UPDATE users SET visits = visits + 1 WHERE id = ?", users.UpsertLockedSQL(1)}; e.Action != "mirror" || len(sqls(e)) != 3 || !reflect.DeepEqual(sqls(e)[:2], want) || !strings.HasPrefix(sqls(e)[2], "BEGIN NOT ATOMIC") {
		t.Errorf("point update: %+v\nwant steps %q", e, want)
	}
	e = explain(t, "UPDATE users SET id = id + 100 WHERE id = ?")
	if got := sqls(e); len(got) != 5 || !strings.HasPrefix(got[0], "SELECT users.`id`, (id + 100) FROM users") || got[3] != users.DeleteSQL(1) || got[4] != users.UpsertSQL(1) {
		t.Errorf("key change: steps %q, want the pre-select of old and new keys, the restricted UPDATE, the check of the new keys, the delete and the upsert", got)
	}
	e = explain(t, "DELETE FROM users WHERE visits > 3")
	if want := []string{"DELETE FROM users WHERE visits > 3 RETURNING `id`", users.DeleteSQL(1)}; !reflect.DeepEqual(sqls(e), want) {
		t.Errorf("delete: steps %q, want %q (MariaDB's RETURNING)", sqls(e), want)
	}
	e = explain(t, "DELETE u FROM users u JOIN audit a ON a.id = u.id")
	if got := sqls(e); len(got) != 3 || !strings.HasPrefix(got[1], "DELETE u FROM users u JOIN audit a ON a.id = u.id WHERE ") || got[2] != users.DeleteSQL(1) {
		t.Errorf("multi-table delete: steps %q, want the pre-select, the restricted DELETE and the generated delete", got)
	}
	e = explain(t, "INSERT INTO users (id, full_name) VALUES (?, ?)")
	if want := []string{"INSERT INTO users (id, full_name) VALUES (?, ?)", users.UpsertSQL(1)}; !reflect.DeepEqual(sqls(e), want) || !strings.Contains(e.Steps[1].What, "insert id") {
		t.Errorf("insert: %+v\nwant steps %q", e.Steps, want)
	}
	insertSelect := "INSERT INTO users (full_name) SELECT full_name FROM users"
	if e = explain(t, insertSelect); e.Action != "mirror" || !strings.HasSuffix(e.Steps[0].SQL, " RETURNING `id`") {
		t.Errorf("INSERT ... SELECT without --dsn: %+v, want it mirrored with RETURNING (MariaDB 10.5)", e)
	}
	b := newMySQL(t)
	var version string
	if err := b.db.QueryRow("SELECT VERSION()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	e = explain(t, "--dsn", b.dsn, insertSelect)
	if want := strings.Contains(version, "MariaDB"); (e.Action == "mirror") != want {
		t.Errorf("INSERT ... SELECT on %s: %+v; mirrored: want %v", version, e, want)
	}
}

func TestStatus(t *testing.T) {
	b := newSQLite(t, corpus.Schema...)
	b.exec(t, `INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing'), (3, 'Grace Hopper')`,
		`INSERT INTO accounts (account_id) VALUES (1)`)
	r := invoke(t, []string{"DUALWRITE_WRITE_PHASE=dual", "DUALWRITE_READ_PHASE=bogus"}, b.flags("status")...)
	r.expect(t, 0,
		"write phase: dual    (from DUALWRITE_WRITE_PHASE=dual)",
		"read phase:  old     (mapping default; DUALWRITE_READ_PHASE is invalid and ignored", `"bogus"`,
		"users -> accounts: 3 rows in users, 1 row in accounts; backfill: not started",
		"memberships -> members: 0 rows in memberships, 0 rows in members")

	// Reading from the new tables while writes are off is refused.
	r = invoke(t, []string{"DUALWRITE_WRITE_PHASE=off", "DUALWRITE_READ_PHASE=new"}, "status", "--mapping", b.mapping)
	r.expect(t, 0, "write phase: off", "read phase:  old ", "new is refused while the write phase is off", "pass --dsn")

	r = invoke(t, []string{"DUALWRITE_WRITE_PHASE=both", "DUALWRITE_READ_PHASE=new"}, "status", "--mapping", b.mapping)
	r.expect(t, 0, "write phase: both    (from DUALWRITE_WRITE_PHASE=both)", "read phase:  new ",
		"mirrored:    writes to the old tables, forward into the new tables, and writes to the new tables, back into the old tables")
}

// TestErrors: each mistake exits 2 with a message naming the thing and the
// fix.
func TestErrors(t *testing.T) {
	b := newSQLite(t, corpus.Schema...)
	dir := t.TempDir()
	badYAML := writeFile(t, dir, "bad-yaml.yaml", "tables: [\n")
	badField := writeFile(t, dir, "bad-field.yaml", strings.Replace(corpus.Mapping, "key: [id]", "key: [nope]", 1))
	pgMapping := writeFile(t, dir, "pg.yaml", corpus.PostgresMapping)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"bad flag", []string{"check", "--nope"}, []string{"flag provided but not defined: -nope", "Usage: dualwrite check"}},
		{"bad flag value", []string{"backfill", "--mapping", b.mapping, "--dsn", b.dsn, "--batch-size", "0"}, []string{"--batch-size must be positive"}},
		{"unknown command", []string{"frob"}, []string{`unknown command "frob"`, "dualwrite help"}},
		{"unknown driver", []string{"check", "--driver", "oracle", "--mapping", b.mapping, "--dsn", b.dsn}, []string{`unknown --driver "oracle": use sqlite3, pgx or mysql`}},
		{"dialect mismatch, mysql", []string{"check", "--driver", "mysql", "--mapping", b.mapping, "--dsn", b.dsn}, []string{"dialect: sqlite", "--driver mysql is for mysql", "--driver sqlite3"}},
		{"missing mapping flag", []string{"check", "--dsn", b.dsn}, []string{"missing --mapping"}},
		{"missing dsn", []string{"verify", "--mapping", b.mapping}, []string{"missing --dsn"}},
		{"missing statement", []string{"explain", "--mapping", b.mapping}, []string{"missing the statement"}},
		{"missing mapping file", []string{"check", "--mapping", filepath.Join(dir, "none.yaml"), "--dsn", b.dsn},
			[]string{"cannot read the mapping file", "none.yaml", "no such file"}},
		{"bad mapping YAML", []string{"check", "--mapping", badYAML, "--dsn", b.dsn}, []string{"bad mapping file", badYAML + ":1: "}},
		{"bad mapping field", []string{"status", "--mapping", badField}, []string{badField + ":", "nope"}},
		{"dialect mismatch", []string{"check", "--driver", "pgx", "--mapping", b.mapping, "--dsn", b.dsn}, []string{"dialect: sqlite", "--driver sqlite3"}},
		{"missing database file", []string{"check", "--mapping", b.mapping, "--dsn", filepath.Join(dir, "none.db")},
			[]string{"cannot reach the database (--driver sqlite3 --dsn ", "none.db", "does not exist"}},
		{"unreachable database", []string{"check", "--driver", "pgx", "--mapping", pgMapping, "--dsn", "postgres://nobody:s3cret@127.0.0.1:1/x"},
			[]string{"cannot reach the database (--driver pgx --dsn postgres://nobody:xxxxx@127.0.0.1:1/x): "}},
		{"unknown table", []string{"backfill", "--mapping", b.mapping, "--dsn", b.dsn, "--table", "nope"}, []string{"--table nope is not a mapped old table", "users, memberships"}},
		{"verify of an unknown table", []string{"verify", "--mapping", b.mapping, "--dsn", b.dsn, "--table", "nope"}, []string{"--table nope is not a mapped old table", "users, memberships"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := invoke(t, nil, tc.args...)
			r.expect(t, 2, tc.want...)
			if strings.Contains(r.stdout+r.stderr, "s3cret") {
				t.Errorf("the output shows the password:\n%s", r.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}} {
		r := invoke(t, nil, args...)
		r.expect(t, 0, "Commands:", "check", "explain", "status", "backfill", "verify")
	}
	// No command at all is a usage error.
	if r := invoke(t, nil); r.code != 2 || !strings.Contains(r.stderr, "Commands:") {
		t.Errorf("no command: exit %d, stderr %q; want 2 and the usage", r.code, r.stderr)
	}
	invoke(t, nil, "verify", "-h").expect(t, 0, "Usage: dualwrite verify", "-samples")
}

func TestMigrationSQLite(t *testing.T) { testMigration(t, newSQLite(t, corpus.Schema...)) }

func TestMigrationPostgres(t *testing.T) {
	b := newPostgres(t)
	e := invoke(t, nil, b.flags("explain", "UPDATE users SET visits = visits + 1 WHERE id = $1")...)
	e.expect(t, 0, "action: mirror", "WITH dw_w AS (UPDATE users SET visits = visits + 1 WHERE id = $1 RETURNING")
	testMigration(t, b)
}

func TestMigrationMySQL(t *testing.T) {
	b := newMySQL(t)
	e := invoke(t, nil, b.flags("explain", "UPDATE users SET visits = visits + 1 WHERE id = ?")...)
	e.expect(t, 0, "planned against: the live schema (--driver mysql", "action: mirror", compiled(t, corpus.MySQLMapping, rewrite.MySQL).UpsertLockedSQL(1))
	testMigration(t, b)
}

// progressLine is a plain progress line.
var progressLine = regexp.MustCompile(`^(users|memberships): \d+/\d+ rows \(\d+%\), \d+ rows/s, ETA (\S+)$`)

// testMigration checks, backfills and verifies b's database; then a new row
// is corrupted, verify names its key, and a backfill with --reset repairs it.
func testMigration(t *testing.T, b *backend) {
	var users, members []string
	for i := 1; i <= 250; i++ {
		users = append(users, fmt.Sprintf("(%d, 'Ada Lovelace %d', 'ada%d@example.com', %d)", i, i, i, i%7))
	}
	for i := 1; i <= 12; i++ {
		members = append(members, fmt.Sprintf("(%d, %d, 'admin')", i%3, i))
	}
	b.exec(t, "INSERT INTO users (id, full_name, email, visits) VALUES "+strings.Join(users, ", "),
		"INSERT INTO memberships (org_id, user_id, role) VALUES "+strings.Join(members, ", "))
	invoke(t, nil, b.flags("check")...).expect(t, 0, "OK:")

	r := invoke(t, nil, b.flags("backfill", "--batch-size", "100")...)
	r.expect(t, 0, "users -> accounts: done: 250 rows copied", "memberships -> members: done: 12 rows copied")
	checkProgress(t, r.stderr)
	invoke(t, nil, b.flags("status")...).expect(t, 0, "250 rows in users, 250 rows in accounts; backfill: done, 250 rows copied")

	rep := verifyJSON(t, b, 0)
	for _, tr := range rep.Tables {
		if !tr.OK || tr.Mismatched+tr.MissingInNew+tr.ExtraInNew != 0 || tr.RowsProcessed != map[string]int64{"users": 250, "memberships": 12}[tr.Table] {
			t.Errorf("after backfill: %+v, want every row matching", tr)
		}
	}

	b.exec(t, "UPDATE accounts SET last_name = 'Byron' WHERE account_id = 42")
	rep = verifyJSON(t, b, 1)
	if tr := rep.Tables[0]; tr.Mismatched != 1 || len(tr.Samples.Mismatched) != 1 || fmt.Sprint(tr.Samples.Mismatched[0].Key["id"]) != "42" {
		t.Errorf("after corrupting key 42: %+v, want one mismatch at id 42", tr)
	}
	invoke(t, nil, b.flags("verify")...).expect(t, 1, `mismatched id=42: last_name expected "Lovelace 42", got "Byron"`, "DIFFERENCES")

	r = invoke(t, nil, b.flags("backfill", "--reset", "--table", "users")...)
	r.expect(t, 0, "users: checkpoint reset", "users -> accounts: done: 250 rows copied in all (250 by this run")
	if strings.Contains(r.stdout, "memberships") {
		t.Errorf("backfill --table users did more:\n%s", r.stdout)
	}
	verifyJSON(t, b, 0)

	// verify --table: one pair only; the other one's difference is not seen.
	b.exec(t, "UPDATE members SET role_name = 'CORRUPT'")
	r = invoke(t, nil, b.flags("verify", "--table", "users")...)
	r.expect(t, 0, "users -> accounts: OK: 250 rows, all matching", "verify: OK")
	if strings.Contains(r.stdout, "memberships") {
		t.Errorf("verify --table users did more:\n%s", r.stdout)
	}
	invoke(t, nil, b.flags("verify", "--table", "memberships")...).expect(t, 1, "memberships -> members: 12 differences in 12 rows", "DIFFERENCES")
}

// verifyJSON runs verify --json, expects the exit status code and returns
// the report.
func verifyJSON(t *testing.T, b *backend, code int) *verify.Report {
	t.Helper()
	r := invoke(t, nil, b.flags("verify", "--json", "--batch-size", "64")...)
	var rep verify.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify --json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	if r.code != code || rep.OK != (code == 0) || len(rep.Tables) != 2 {
		t.Fatalf("verify --json: exit %d, ok %v, %d tables; want exit %d\n%s%s", r.code, rep.OK, len(rep.Tables), code, r.stdout, r.stderr)
	}
	checkProgress(t, r.stderr)
	return &rep
}

// checkProgress checks that progress written to a pipe is plain lines, the
// last one of each table at 100%.
func checkProgress(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress to a pipe redraws in place:\n%q", stderr)
	}
	last := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		if !progressLine.MatchString(line) {
			t.Errorf("not a progress line: %q", line)
			continue
		}
		last[strings.SplitN(line, ":", 2)[0]] = line
	}
	for _, table := range []string{"users", "memberships"} {
		if !strings.Contains(last[table], "(100%)") {
			t.Errorf("the last progress line of %s is %q, want it at 100%%", table, last[table])
		}
	}
}

// TestBackfillMappingChanged: a checkpoint made with another mapping of a
// table is refused, shown by status, and --reset starts the table over.
func TestBackfillMappingChanged(t *testing.T) {
	b := newSQLite(t, corpus.Schema...)
	b.exec(t, "INSERT INTO memberships (org_id, user_id, role) VALUES (1, 1, 'admin'), (1, 2, 'owner')")
	invoke(t, nil, b.flags("backfill")...).expect(t, 0, "memberships -> members: done: 2 rows copied")
	writeFile(t, filepath.Dir(b.mapping), filepath.Base(b.mapping), strings.Replace(corpus.Mapping, "role_name: upper(role)", "role_name: lower(role)", 1))

	invoke(t, nil, b.flags("backfill")...).expect(t, 2, "memberships", "dualwrite backfill --reset --table memberships")
	invoke(t, nil, b.flags("status")...).expect(t, 0, "made with another mapping of the table: run dualwrite backfill --reset --table memberships")
	invoke(t, nil, b.flags("backfill", "--reset", "--table", "memberships")...).expect(t, 0, "memberships -> members: done: 2 rows copied in all (2 by this run")
	invoke(t, nil, b.flags("verify")...).expect(t, 0, "verify: OK")
}

// TestBackfillReverse: backfill --direction reverse copies each new table
// into its old table as down(new), and deletes the old rows without a new
// row; a bad direction is a usage error.
func TestBackfillReverse(t *testing.T) {
	for _, engine := range []struct {
		name string
		open func(*testing.T) *backend
	}{
		{"sqlite", func(t *testing.T) *backend { return newSQLite(t, corpus.Schema...) }},
		{"postgres", newPostgres},
		{"mysql", newMySQL},
	} {
		t.Run(engine.name, func(t *testing.T) { testBackfillReverse(t, engine.open(t)) })
	}
}

// testBackfillReverse: backfill --direction reverse copies each new table
// into its old table as down(new), and deletes the old rows without a new
// row.
func testBackfillReverse(t *testing.T, b *backend) {
	b.exec(t, "INSERT INTO accounts (account_id, email_address, first_name, last_name, visits) VALUES (1, 'ada@x', 'Ada', 'Lovelace', 3), (2, NULL, 'Alan', 'Turing', 1)",
		"INSERT INTO users (id, full_name) VALUES (2, 'Stale Name'), (9, 'No New Row')",
		"INSERT INTO members (org, usr, role_name) VALUES (1, 1, 'ADMIN')")
	invoke(t, nil, b.flags("backfill", "--direction", "reverse")...).expect(t, 0,
		"accounts -> users: done: 2 rows copied", "1 old row deleted", "members -> memberships: done: 1 row copied")
	got := dbtest.Rows(t, b.db, "SELECT id, full_name, email, visits FROM users ORDER BY id")
	want := [][]any{{int64(1), "Ada Lovelace", "ada@x", int64(3)}, {int64(2), "Alan Turing", nil, int64(1)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("users after backfill --direction reverse = %v, want %v", got, want)
	}
	if got := dbtest.Rows(t, b.db, "SELECT org_id, user_id, role FROM memberships"); !reflect.DeepEqual(got, [][]any{{int64(1), int64(1), "admin"}}) {
		t.Fatalf("memberships = %v", got)
	}
	invoke(t, nil, b.flags("backfill", "--direction", "sideways")...).expect(t, 2, "--direction must be forward or reverse")
}

// TestFence runs dualwrite fence on PostgreSQL: status before (exit 1),
// install, status (exit 0) with the mode, a plain write failing with the
// fence's error, the same with install --both, remove, and the same write
// passing; --both with another action is a usage error; on SQLite the
// command says there is no fence (exit 2).
func TestFence(t *testing.T) {
	s := newSQLite(t, corpus.Schema...)
	invoke(t, nil, s.flags("fence", "install")...).expect(t, 2, "the fence needs PostgreSQL", "dialect sqlite has none")
	invoke(t, nil, "fence", "frob").expect(t, 2, "want one of install, remove or status")

	b := newPostgres(t)
	b.exec(t, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	invoke(t, nil, b.flags("fence", "status")...).expect(t, 1, "users -> accounts: not fenced")
	invoke(t, nil, b.flags("backfill")...).expect(t, 0)
	invoke(t, nil, b.flags("fence", "install")...).expect(t, 0, "users -> accounts: fenced (strict)", "memberships -> members: fenced (strict)")
	invoke(t, nil, b.flags("fence", "status")...).expect(t, 0, "users -> accounts: fenced (strict)")
	invoke(t, nil, b.flags("verify")...).expect(t, 0)
	if _, err := b.db.Exec("UPDATE users SET visits = 5 WHERE id = 1"); err == nil || !strings.Contains(err.Error(), "dualwrite fence") {
		t.Fatalf("a plain write under the fence: %v, want the fence's error", err)
	}
	invoke(t, nil, b.flags("fence", "status", "--both")...).expect(t, 2, "--both is for install only")
	invoke(t, nil, b.flags("fence", "install", "--both")...).expect(t, 0, "users -> accounts: fenced (both)", "memberships -> members: fenced (both)")
	invoke(t, nil, b.flags("fence", "status")...).expect(t, 0, "users -> accounts: fenced (both)", "memberships -> members: fenced (both)")
	if _, err := b.db.Exec("UPDATE users SET visits = 5 WHERE id = 1"); err == nil || !strings.Contains(err.Error(), "dualwrite fence") {
		t.Fatalf("a plain write under the fence of the write phase both: %v, want the fence's error", err)
	}
	invoke(t, nil, b.flags("fence", "remove")...).expect(t, 0, "users -> accounts: fence removed")
	invoke(t, nil, b.flags("fence", "status")...).expect(t, 1, "users -> accounts: not fenced")
	b.exec(t, "UPDATE users SET visits = 5 WHERE id = 1")
}
