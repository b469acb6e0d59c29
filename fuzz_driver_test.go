package dualwrite_test

import (
	"database/sql"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/internal/pgtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// FuzzDriver runs random programs through the wrapper: statements (the
// fuzzer's text, and statements built from a grammar of fragments around
// the mapped tables), arguments, transactions and phase switches. Whatever
// the input, nothing panics in the caller, the metrics still gather, and
// while the write phase has been dual since the data was reset, every
// statement the wrapper ran and that succeeded leaves new = up(old).
//
// It runs on SQLite and, with DUALWRITE_TEST_POSTGRES_DSN set, on
// PostgreSQL too, the seeds and while fuzzing. On SQLite a program that
// may change the schema gets a fresh database; on PostgreSQL every input
// reuses one schema, created again when an input changed it (pgFuzz).
func FuzzDriver(f *testing.F) {
	for _, q := range fuzzDriverSeeds {
		f.Add([]byte{opText}, q, int64(1), "Ada Lovelace")
	}
	for _, prog := range fuzzDriverPrograms {
		f.Add(prog, "full_name", int64(2), "Grace Hopper")
	}
	// A transaction begun by text leaves its connection in it: Begin then fails.
	f.Add([]byte{opText, opTx, 0, 0, opGrammar, 11, 0, 2, 0, 0, opTx, 0, 0}, "BEGIN", int64(1), "x")
	lite := &fuzzTarget{b: sqliteBackend, shared: openFuzzEnv(f)}
	targets := []*fuzzTarget{lite}
	if os.Getenv(pgtest.DSNEnv) != "" {
		targets = append(targets, openPostgresFuzz(f))
	}
	f.Fuzz(func(t *testing.T, prog []byte, text string, n int64, s string) {
		if len(prog) > 64 || len(text) > 1000 || len(s) > 100 {
			return
		}
		for _, tg := range targets {
			tg.run(t, prog, text, n, s)
		}
	})
}

// fuzzTarget is one backend of FuzzDriver with the database it reuses
// between inputs.
type fuzzTarget struct {
	b      backend
	shared *fuzzEnv
	pg     *pgFuzz // PostgreSQL's, which reuses shared for every input
}

// fuzzEnv is an env with its metrics registry.
type fuzzEnv struct {
	*env
	reg *prometheus.Registry
}

// openFuzzEnv opens a fresh SQLite database through the wrapper with
// metrics and logging on. The busy timeout is short: a transaction that an
// input leaves open makes the next writers fail fast rather than wait; and
// commits do not wait for the disk (synchronous=OFF), which no test here
// needs.
func openFuzzEnv(t testing.TB) *fuzzEnv {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts := []dualwrite.Option{dualwrite.WithRegisterer(reg), dualwrite.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
	dsn := "file:" + dbtest.SQLiteFile(t) + "?_journal_mode=WAL&_busy_timeout=200&_txlock=immediate&_synchronous=OFF"
	e := newEnvWith(t, corpus.Schema, corpus.Mapping, dbtest.Connector{DSN: dsn, Base: &sqlite3.SQLiteDriver{}}, opts...)
	if err := e.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	return &fuzzEnv{env: e, reg: reg}
}

// Program operations: the low three bits of a byte choose one.
const (
	opText      = iota // Exec the fuzzer's text
	opTextQuery        // Query the fuzzer's text and read the rows
	opGrammar          // Exec a statement built from the next bytes
	opGrammarQuery
	opGrammar2
	opPhase // switch phases as the next two bytes say
	opTx    // begin, or commit or roll back the open transaction
	opArgs  // choose the arguments of the next statements
)

// fuzzStep is one statement of a program, or a control operation.
type fuzzStep struct {
	op    int
	query string
	args  int  // which argument list (see fuzzArgs)
	b     byte // the operand of opPhase and opTx
	b2    byte
}

// fuzzProgram decodes a program: at most 12 steps, or the fuzzer's text
// alone for an empty program.
func fuzzProgram(prog []byte, text string) []fuzzStep {
	r := &byteReader{p: prog}
	if len(prog) == 0 {
		return []fuzzStep{{op: opText, query: text}}
	}
	var steps []fuzzStep
	args := 0
	for len(steps) < 12 && !r.done() {
		s := fuzzStep{op: int(r.next() & 7), args: args}
		switch s.op {
		case opText, opTextQuery:
			s.query = text
		case opGrammar, opGrammarQuery, opGrammar2:
			s.query = grammarStatement(r, text, 0)
		case opPhase, opTx:
			s.b, s.b2 = r.next(), r.next()
		case opArgs:
			args = int(r.next())
			continue
		}
		steps = append(steps, s)
	}
	return steps
}

// mutates reports whether a program may change what outlives it: the
// schema, session settings, or a transaction opened by text. On SQLite
// such a program runs on a fresh database; the others reuse one, reset
// between inputs.
func mutates(steps []fuzzStep) bool {
	return slices.ContainsFunc(steps, func(s fuzzStep) bool { return mutating(s.query) })
}

// mutating reports whether a statement may change what outlives its
// program. The test is by words, so it errs on the side of yes: any
// statement that is not DML, and DML that names a schema change or a
// transaction, or that may create a table (PostgreSQL's SELECT ... INTO).
func mutating(query string) bool {
	q := strings.ToLower(query)
	if strings.ContainsAny(q, ";\x00") {
		return true
	}
	words := strings.FieldsFunc(q, func(r rune) bool { return (r < 'a' || r > 'z') && r != '_' })
	for i, w := range words {
		switch w {
		case "pragma", "attach", "detach", "create", "drop", "alter", "temp", "temporary", "savepoint", "release",
			"begin", "commit", "rollback", "vacuum", "reindex":
			return true
		case "into":
			if !slices.Contains(words, "insert") && !slices.Contains(words, "replace") {
				return true
			}
		}
		if i == 0 && !slices.Contains([]string{"select", "insert", "update", "delete", "replace", "with", "values"}, w) {
			return true // a statement that is not DML, or a comment before one
		}
	}
	return false
}

// run runs one program on the target's backend.
func (tg *fuzzTarget) run(t *testing.T, prog []byte, text string, n int64, s string) {
	steps := fuzzProgram(prog, text)
	if tg.pg != nil {
		tg.preparePostgres(t)
	}
	dirty := false // a statement may have left session state or changed the schema
	e := tg.shared
	if tg.pg == nil && mutates(steps) {
		e = openFuzzEnv(t)
	} else {
		tg.reset(t)
	}
	resetFuzzData(t, e, tg.b)
	dual := true // the write phase has been dual since the data was reset
	var tx *sql.Tx
	defer func() {
		if tx != nil { // a failed check left it open: its locks would hold up the next input
			_ = tx.Rollback()
		}
	}()
	endTx := func(commit bool) {
		var err error
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		tx = nil
		if err == nil && dual {
			e.checkInvariantIn(t)
		}
	}
	for _, st := range steps {
		switch st.op {
		case opPhase:
			tg.setPhase(t, e, st.b, st.b2, &dual)
			continue
		case opTx:
			if tx == nil {
				var err error
				if tx, err = e.db.Begin(); err != nil {
					tx = nil // a transaction begun by text is still open: the driver refuses another
				}
			} else {
				endTx(st.b&1 == 0)
			}
			continue
		}
		var q interface {
			Exec(string, ...any) (sql.Result, error)
			Query(string, ...any) (*sql.Rows, error)
		} = e.db
		if tx != nil {
			q = tx
		}
		query := st.query
		if tg.b.name == "postgres" && strings.Count(query, "'") == 0 {
			query = tg.b.sql(query)
		}
		args := fuzzArgs(st.args, n, s)
		var err error
		if st.op == opTextQuery || st.op == opGrammarQuery {
			var rs *sql.Rows
			if rs, err = q.Query(query, args...); err == nil {
				for rs.Next() {
				}
				err = rs.Err()
				if cerr := rs.Close(); err == nil {
					err = cerr
				}
			}
		} else {
			_, err = q.Exec(query, args...)
		}
		// A statement that failed changed nothing, unless it was several.
		dirty = dirty || mutating(query) && (err == nil || strings.Contains(query, ";"))
		if err == nil && dual && tx == nil {
			e.checkInvariantIn(t)
		}
	}
	if tx != nil {
		endTx(false)
	}
	if dual {
		e.checkInvariantIn(t)
	}
	if _, err := e.reg.Gather(); err != nil {
		t.Fatalf("gathering the metrics: %v", err)
	}
	if tg.pg != nil {
		tg.pg.dirty = dirty
	}
}

// reset puts the shared database back to the dual write phase, reading the
// old tables.
func (tg *fuzzTarget) reset(t *testing.T) {
	if err := tg.shared.sw.SetWrite(mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	tg.shared.sw.ClearRead()
}

// setPhase switches the write phase (a: 0 off, 1 dual) and the read phase
// (b: old, compare, new); reads from the new tables need writes dual, so
// the read phase goes back to old before writes go off. Once writes have
// been off, the new tables no longer follow the old ones: dual is cleared.
func (tg *fuzzTarget) setPhase(t *testing.T, e *fuzzEnv, a, b byte, dual *bool) {
	write := []mapping.WritePhase{mapping.WriteOff, mapping.WriteDual}[a%2]
	read := []mapping.ReadPhase{mapping.ReadOld, mapping.ReadCompare, mapping.ReadNew}[b%3]
	if write == mapping.WriteOff {
		*dual = false
		if err := e.sw.SetRead(mapping.ReadOld, write); err != nil {
			t.Fatal(err)
		}
		read = mapping.ReadOld
	}
	if err := e.sw.SetWrite(write); err != nil {
		t.Fatal(err)
	}
	if err := e.sw.SetRead(read, write); err != nil {
		t.Fatalf("SetRead(%s) with writes %s: %v", read, write, err)
	}
}

// resetFuzzData empties the tables and writes a few rows on both sides
// (new = up(old), which the first check of the invariant confirms), in one
// round trip.
func resetFuzzData(t *testing.T, e *fuzzEnv, b backend) {
	q := strings.Join([]string{
		"DELETE FROM users", "DELETE FROM accounts", "DELETE FROM memberships", "DELETE FROM members", "DELETE FROM audit",
		"INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada Lovelace', 'ada@x', 3), (2, 'Alan Turing', NULL, 0), (3, 'Grace', 'g@x', 1)",
		"INSERT INTO accounts (account_id, email_address, first_name, last_name, visits) VALUES (1, 'ada@x', 'Ada', 'Lovelace', 3), (2, NULL, 'Alan', 'Turing', 0), (3, 'g@x', 'Grace', '', 1)",
		"INSERT INTO memberships (org_id, user_id, role) VALUES (1, 1, 'admin'), (1, 2, 'member')",
		"INSERT INTO members (org, usr, role_name) VALUES (1, 1, 'ADMIN'), (1, 2, 'MEMBER')",
		"INSERT INTO audit (id, msg) VALUES (1, 'Ada Lovelace'), (3, 'Audit Three'), (8, 'Audit Eight')",
	}, ";\n")
	if _, err := e.raw.Exec(q); err != nil {
		t.Fatalf("resetting the %s database: %s: %v", b.name, q, err)
	}
}

// fuzzArgs returns argument list i%6 made of the fuzzer's values.
func fuzzArgs(i int, n int64, s string) []any {
	switch i % 6 {
	case 0:
		return nil
	case 1:
		return []any{n}
	case 2:
		return []any{n, s}
	case 3:
		return []any{s, n, nil}
	case 4:
		return []any{sql.Named("k", n)}
	default:
		return []any{n, s, n, []byte(s)}
	}
}

// byteReader hands out a program's bytes, then zeros.
type byteReader struct {
	p []byte
	i int
}

func (r *byteReader) done() bool { return r.i >= len(r.p) }

func (r *byteReader) next() byte {
	if r.done() {
		return 0
	}
	r.i++
	return r.p[r.i-1]
}

// pick returns one of xs as the next byte says.
func (r *byteReader) pick(xs []string) string { return xs[int(r.next())%len(xs)] }

// grammarStatement builds a statement from fragments: a template whose
// holes ({T} a table, {K} a key, {S} a name, {M} an email, {SET}, {W} a
// condition, {X} the fuzzer's text, {STMT} a nested statement) are filled
// as the next bytes say.
func grammarStatement(r *byteReader, text string, depth int) string {
	tmpl := r.pick(fuzzTemplates)
	var out strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			out.WriteString(tmpl)
			return out.String()
		}
		j := strings.IndexByte(tmpl[i:], '}') + i
		out.WriteString(tmpl[:i])
		switch hole := tmpl[i+1 : j]; hole {
		case "T":
			out.WriteString(r.pick(fuzzTables))
		case "K":
			out.WriteString(r.pick(fuzzKeys))
		case "S":
			out.WriteString(r.pick(fuzzNames))
		case "M":
			out.WriteString(r.pick(fuzzEmails))
		case "SET":
			out.WriteString(fillHoles(r, r.pick(fuzzSets), text))
		case "W":
			out.WriteString(fillHoles(r, r.pick(fuzzConds), text))
		case "X":
			out.WriteString(text)
		case "STMT":
			if depth < 2 {
				out.WriteString(grammarStatement(r, text, depth+1))
			} else {
				out.WriteString("SELECT 1")
			}
		}
		tmpl = tmpl[j+1:]
	}
}

// fillHoles fills the simple holes of a fragment.
func fillHoles(r *byteReader, frag, text string) string {
	for _, h := range []struct {
		hole string
		xs   []string
	}{{"{K}", fuzzKeys}, {"{S}", fuzzNames}, {"{M}", fuzzEmails}} {
		for strings.Contains(frag, h.hole) {
			frag = strings.Replace(frag, h.hole, r.pick(h.xs), 1)
		}
	}
	return strings.ReplaceAll(frag, "{X}", text)
}

var (
	fuzzTables = []string{"users", "users", "memberships", "audit", "accounts", "members", `"users"`, "Users", "main.users", "users AS u", `"Memberships"`}
	fuzzKeys   = []string{"1", "2", "3", "4", "0", "-1", "?", "?1", "?2", ":k", "@k", "$k", "9223372036854775807", "'2'", "NULL", "id", "id + 1", "(SELECT max(id) FROM audit)"}
	fuzzNames  = []string{"'Ada Lovelace'", "'Grace Hopper'", "'it''s'", "''", "?", "'x' || ?", "full_name", "NULL", "'a -- b'", "'/* c */'", `"full_name"`, "upper(full_name)"}
	fuzzEmails = []string{"'ada@x'", "'g@x'", "'new@x'", "NULL", "?", "email"}
	fuzzSets   = []string{"visits = visits + {K}", "id = id + {K}", "full_name = {S}", "email = {M}", "id = {K}, full_name = {S}",
		"full_name = (SELECT msg FROM audit WHERE audit.id = users.id)", "visits = {X}", "{X} = {S}", "(id, visits) = ({K}, {K})",
		"role = {S}", "user_id = user_id + {K}", "org_id = {K}, user_id = {K}", "msg = {S}"}
	fuzzConds = []string{"id = {K}", "id > {K}", "id BETWEEN {K} AND {K}", "email = {M}", "id IN (SELECT id FROM audit)", "1", "{X}",
		"org_id = {K}", "user_id = {K} AND org_id = {K}", "full_name LIKE 'A%'", "EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = id)",
		"id = {K} OR email IS NULL", "rowid = {K}"}
	fuzzTemplates = []string{
		"INSERT INTO {T} (id, full_name, email, visits) VALUES ({K}, {S}, {M}, {K})",
		"INSERT INTO {T} (id, full_name) VALUES ({K}, {S}), ({K}, {S})",
		"INSERT INTO {T} (id, full_name) VALUES ({K}, {S}) ON CONFLICT (id) DO UPDATE SET {SET}",
		"INSERT INTO {T} (id, full_name, email) VALUES ({K}, {S}, {M}) ON CONFLICT (email) DO UPDATE SET visits = excluded.visits + 1 WHERE {W}",
		"INSERT INTO {T} (id, full_name) VALUES ({K}, {S}) ON CONFLICT DO NOTHING",
		"INSERT OR REPLACE INTO {T} (id, full_name, email) VALUES ({K}, {S}, {M})",
		"INSERT OR IGNORE INTO {T} (id, full_name) VALUES ({K}, {S})",
		"REPLACE INTO {T} (id, full_name, email) VALUES ({K}, {S}, {M})",
		"INSERT INTO {T} (id, full_name) SELECT id + {K}, msg FROM audit WHERE {W}",
		"INSERT INTO {T} DEFAULT VALUES",
		"INSERT INTO {T} (id, full_name) VALUES ({K}, {S}) RETURNING *",
		"UPDATE {T} SET {SET} WHERE {W}",
		"UPDATE {T} SET {SET}",
		"UPDATE OR REPLACE {T} SET {SET} WHERE {W}",
		"UPDATE OR IGNORE {T} SET {SET} WHERE {W}",
		"UPDATE {T} SET {SET} FROM audit WHERE audit.id = users.id AND {W}",
		"UPDATE {T} SET {SET} WHERE {W} RETURNING id, full_name",
		"DELETE FROM {T} WHERE {W}",
		"DELETE FROM {T} WHERE {W} RETURNING *",
		"DELETE FROM {T}",
		"WITH x(i, n) AS (SELECT {K}, {S}) INSERT INTO {T} (id, full_name) SELECT i, n FROM x",
		"WITH w AS (SELECT id FROM {T} WHERE {W}) DELETE FROM {T} WHERE id IN (SELECT id FROM w)",
		"WITH w AS (SELECT id FROM audit) UPDATE {T} SET {SET} WHERE id IN (SELECT id FROM w)",
		"INSERT INTO memberships (org_id, user_id, role) VALUES ({K}, {K}, {S}) ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
		"INSERT INTO memberships VALUES ({K}, {K}, {S})",
		"UPDATE memberships SET {SET} WHERE {W}",
		"REPLACE INTO memberships VALUES ({K}, {K}, {S})",
		"DELETE FROM memberships WHERE {W}",
		"SELECT * FROM {T} WHERE {W}",
		"SELECT u.id, m.role FROM users u JOIN memberships m ON m.user_id = u.id WHERE {W}",
		"SELECT id, (SELECT count(*) FROM memberships m WHERE m.user_id = users.id) FROM users WHERE {W}",
		"SELECT * FROM {T} WHERE {W} FOR UPDATE",
		"SELECT {X} FROM users",
		"/* {X} */ {STMT}",
		"{STMT} -- {X}",
		"{STMT}; {STMT}",
		"{STMT};",
		"BEGIN; {STMT}; COMMIT",
		"SAVEPOINT s; {STMT}; ROLLBACK TO s",
		"CREATE TEMP TABLE users (id INTEGER PRIMARY KEY, full_name TEXT)",
		"CREATE TRIGGER tr AFTER INSERT ON users BEGIN DELETE FROM audit; END",
		"CREATE TABLE t (x)",
		"ALTER TABLE {T} ADD COLUMN c TEXT",
		"ALTER TABLE {T} RENAME TO old_{T}",
		"DROP TABLE {T}",
		"DROP INDEX accounts_email_address",
		"PRAGMA foreign_keys = ON",
		"PRAGMA {X}",
		"ATTACH ':memory:' AS aux",
		"UPDATE {T} SET {SET} WHERE CURRENT OF c",
		"{X}",
	}
)

// fuzzDriverSeeds are the statements of TestWriteForms and others: the
// write forms the wrapper mirrors and those it refuses.
var fuzzDriverSeeds = []string{
	"INSERT INTO users (id, full_name, email, visits) VALUES (?, ?, ?, ?)",
	"INSERT INTO users (full_name, email, visits) VALUES ('Edsger Dijkstra', 'ewd@x', 1), ('Barbara Liskov', 'bl@x', 2)",
	"INSERT INTO users DEFAULT VALUES",
	"INSERT INTO users (id, full_name) SELECT id + 100, msg FROM audit WHERE id < 10",
	"INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada King', 'ada@x', 1) ON CONFLICT (id) DO UPDATE SET visits = visits + excluded.visits, full_name = excluded.full_name",
	"INSERT OR IGNORE INTO users (id, full_name) VALUES (2, 'Nobody'), (20, 'Some Body')",
	"UPDATE users SET visits = visits * 2 + 1 WHERE id > ?",
	"UPDATE users SET full_name = audit.msg || ' Jr' FROM audit WHERE audit.id = users.id",
	"UPDATE users AS u SET email = 'u' || u.id || '@x' WHERE u.email IS NULL",
	"DELETE FROM users WHERE id = ?",
	"UPDATE users SET visits = visits + 1 WHERE id IN (1, 2) RETURNING *",
	"WITH x(i, n) AS (SELECT 7, 'With Clause') INSERT INTO users (id, full_name) SELECT i, n FROM x",
	"UPDATE users SET id = CASE id WHEN 1 THEN 2 ELSE 1 END, visits = 9 WHERE id IN (1, 2)",
	"UPDATE users SET id = id + 1",
	"UPDATE users SET id = id + 500 WHERE full_name = :name",
	"UPDATE users AS u SET id = a.id + 2000, full_name = a.msg FROM audit a WHERE u.id = a.id RETURNING u.id, a.msg",
	"INSERT OR REPLACE INTO memberships VALUES (1, 2, 'owner')",
	"REPLACE INTO memberships (org_id, user_id, role) VALUES (3, 3, 'guest')",
	"UPDATE OR REPLACE memberships SET org_id = 1, user_id = 2 WHERE org_id = 1",
	"REPLACE INTO users (id, full_name, email) VALUES (5, 'R R', 'ada@x')",
	"INSERT OR REPLACE INTO memberships (rowid, org_id, user_id, role) VALUES (1, 7, 7, 'x')",
	"INSERT INTO users (id, full_name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET id = 77",
	"INSERT INTO users (id, full_name) VALUES (600, 'a'); INSERT INTO users (id, full_name) VALUES (601, 'b')",
	"INSERT INTO accounts (account_id, first_name) VALUES (900, 'x')",
	"UPDATE users SET visits = 1 ORDER BY id LIMIT 1",
	"WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d",
	"DROP TABLE users",
	"SELECT * FROM users u JOIN memberships m ON m.user_id = u.id",
	"/* x */ UPDATE \"users\" SET full_name = 'a'';b' -- c\nWHERE id = 1",
	"UPDATE users SET full_name = 'a\x00b' WHERE id = 1",
	"UPDATE \"t\xff\" SET x = (SELECT count(*) FROM users) WHERE CURRENT OF c",
	"PRAGMA foreign_keys = ON",
	"BEGIN; UPDATE users SET visits = 2; COMMIT",
	"CREATE TEMP TABLE users (id)",
	"ALTER TABLE audit ADD COLUMN c text DEFAULT 'c'",
	"CREATE UNIQUE INDEX users_name ON users (full_name)",
	"SET search_path = public",
}

// fuzzDriverPrograms are programs over the grammar: transactions, phase
// switches, key changes and upserts.
var fuzzDriverPrograms = [][]byte{
	{opGrammar, 11, 0, 1, 4, 2},                        // UPDATE users SET id = id + ...
	{opArgs, 2, opGrammar, 0, 0, 6, 4, 0, 8},           // INSERT with arguments
	{opTx, 0, 0, opGrammar, 2, 0, 2, 0, 6, opTx, 0, 0}, // an upsert in a committed transaction
	{opTx, 0, 0, opGrammar, 11, 0, 1, 1, 0, opTx, 1, 0, opGrammar, 17, 0, 0, 0},
	{opPhase, 1, 1, opGrammar, 11, 0, 2, 0, 0, opGrammarQuery, 28, 0, 0, 0}, // compare reads
	{opPhase, 1, 2, opGrammarQuery, 29, 0, 5, opGrammar, 7, 0, 1, 0, 2},     // new reads
	{opPhase, 0, 2, opGrammar, 11, 0, 0, 0, 0, opPhase, 1, 0, opGrammar, 17, 0, 0, 0},
	{opGrammar, 23, 2, 1, 0, opGrammar, 26, 0, 3, 0, opGrammar, 25, 10, 0, 8},
	{opGrammar, 33, 11, 0, 1, 0, 0, opGrammar, 35, 17, 0, 0},
	{opGrammarQuery, 16, 0, 1, 2, 0, 0, opGrammarQuery, 18, 2, 1, 0},
	{opGrammar, 15, 0, 0, 0, 0, opGrammar, 21, 0, 0, 3, opGrammar, 20, 4, 1, 0},
	{opGrammar, 37, 11, 0, 0, 1, 0, opGrammar, 39},
}
