package rewrite_test

// SQLite itself as the judge of which tables a statement writes.
//
// The corpus, testdata/sqlite-judge.sql, holds a schema and a few hundred
// statements written for this test: every write form SQLite has, the
// quoting and qualifying forms of table names, triggers, views with
// INSTEAD OF triggers and cascading foreign keys that write tables the
// statement does not name, and reads, schema changes and utility
// statements.
//
// Each statement is judged on a real SQLite database holding the schema:
// it writes a table when the program EXPLAIN lists for it opens one of the
// table's b-trees (the table or an index of it) for writing (OpenWrite),
// or empties or destroys one (Clear, Destroy: a DELETE without WHERE, a
// DROP). EXPLAIN lists the sub-programs of triggers and foreign-key
// actions after the main program, nested ones included, so the writes
// they make are judged too. Each statement is compiled with recursive
// triggers off and on, and the writes of both count; a string of several
// statements writes what each of them writes.
//
// A statement that only writes a table's indexes (REINDEX, DROP INDEX)
// rebuilds or drops them and leaves the rows as they are: it is counted
// apart, and it must be one of those statements. REINDEX also rebuilds
// the b-tree of a WITHOUT ROWID table, which is its primary key's index,
// from the rows it holds: that counts as an index too. (CREATE INDEX
// opens its new b-tree by a register, not a root page: it writes
// sqlite_schema only.) EXPLAIN cannot explain an EXPLAIN statement, which
// compiles its statement and runs nothing: it writes nothing.
//
// Every table of the main schema that has a primary key is then mapped in
// turn, as an old table (to a copy, <table>_dwnew) and as a new one (from
// a copy, <table>_dwold), with the Schema the driver learns from the same
// database; and each statement is planned:
//
//   - a statement that writes the mapped table must be mirrored or refused,
//     and a Mirror plan mirrors a table SQLite writes;
//   - each statement a Mirror plan runs (the capture, the pre-select), and
//     the mirror's own statements, prepare on the database;
//   - nothing panics.
//
// EXPLAIN never runs the statement it compiles, but some PRAGMAs
// (foreign_keys, recursive_triggers) take effect when they are compiled:
// after each statement the test restores them, and checks that no row
// and no schema object changed.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite/internal/schema"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// judgeEntry is one statement of the corpus, with its line in the file.
type judgeEntry struct {
	src  string
	line int
}

// judgeCorpus reads testdata/sqlite-judge.sql: entries separated by blank
// lines, lines starting with "#" left out, the entries before the line
// "#statements" the schema and those after it the statements.
func judgeCorpus(t *testing.T) (head, stmts []judgeEntry) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sqlite-judge.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var cur []string
	start, inStmts := 0, false
	flush := func() {
		if len(cur) > 0 {
			e := judgeEntry{strings.Join(cur, "\n"), start}
			if inStmts {
				stmts = append(stmts, e)
			} else {
				head = append(head, e)
			}
		}
		cur = nil
	}
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.TrimSpace(line) == "#statements":
			flush()
			inStmts = true
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			flush()
		default:
			if len(cur) == 0 {
				start = i + 1
			}
			cur = append(cur, line)
		}
	}
	flush()
	return head, stmts
}

// judgeSettings are the connection settings the judged programs are
// compiled under, restored after every statement. Each statement is also
// compiled with recursive triggers on (judgeRecursive), which a
// connection may turn on: an INSERT OR REPLACE, or a write to a table
// with an ON CONFLICT REPLACE constraint, then fires the DELETE triggers
// of the rows it replaces. A statement writes what either program writes.
const (
	judgeSettings  = "PRAGMA foreign_keys = ON; PRAGMA recursive_triggers = OFF"
	judgeRecursive = "PRAGMA recursive_triggers = ON"
)

// sqliteJudge reads SQLite's programs on one connection to a database
// holding the corpus's schema.
type sqliteJudge struct {
	ctx  context.Context
	conn *sql.Conn
	// objects maps a database number and a root page to the table that
	// b-tree belongs to, as "schema.table", and whether it is an index.
	objects map[[2]int64]judgeObject
}

type judgeObject struct {
	table string
	index bool
}

// judgement is what SQLite's programs for one string write.
type judgement struct {
	rows       map[string]bool // tables whose rows it writes, "schema.table", folded
	indexes    map[string]bool // tables of which it writes only indexes
	statements int             // how many statements it holds
}

// openJudge opens a database in a temporary file, runs the schema in it
// and reads where each b-tree is.
func openJudge(t *testing.T, head []judgeEntry) *sqliteJudge {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "judge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	j := &sqliteJudge{ctx: ctx, conn: conn}
	if _, err := conn.ExecContext(ctx, judgeSettings); err != nil {
		t.Fatal(err)
	}
	for _, e := range head {
		if _, err := conn.ExecContext(ctx, e.src); err != nil {
			t.Fatalf("sqlite-judge.sql:%d: %v\n%s", e.line, err, e.src)
		}
	}
	j.readObjects(t)
	return j
}

// readObjects maps every b-tree of every attached database to its table.
func (j *sqliteJudge) readObjects(t *testing.T) {
	t.Helper()
	j.objects = map[[2]int64]judgeObject{}
	dbs := map[int64]string{}
	rows, err := j.conn.QueryContext(j.ctx, "SELECT seq, name FROM pragma_database_list")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var seq int64
		var name string
		if err := rows.Scan(&seq, &name); err != nil {
			t.Fatal(err)
		}
		dbs[seq] = name
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for seq, name := range dbs {
		j.objects[[2]int64{seq, 1}] = judgeObject{table: name + ".sqlite_schema"}
		rows, err := j.conn.QueryContext(j.ctx, "SELECT type, tbl_name, rootpage FROM "+rewrite.SQLite.Quote(name)+".sqlite_schema WHERE rootpage > 0")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var typ, table string
			var page int64
			if err := rows.Scan(&typ, &table, &page); err != nil {
				t.Fatal(err)
			}
			j.objects[[2]int64{seq, page}] = judgeObject{table: strings.ToLower(name + "." + table), index: typ == "index"}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
}

// state returns the database's change count and schema version, which
// judging a statement must leave as they are.
func (j *sqliteJudge) state() (string, error) {
	var changes, version int64
	err := j.conn.QueryRowContext(j.ctx, "SELECT total_changes(), (SELECT schema_version FROM pragma_schema_version)").Scan(&changes, &version)
	return fmt.Sprint(changes, "/", version), err
}

// opOpenWrite's P5 flag that makes P2 a register (a b-tree the same
// program creates) rather than a root page.
const opflagP2IsReg = 0x10

// judge returns what the programs of the statements of src write, or the
// error by which SQLite refuses to compile one. A string of several
// statements writes what each writes (database/sql's SQLite driver runs
// them all); each is compiled on its own, so that EXPLAIN never runs the
// next. EXPLAIN cannot explain an EXPLAIN: one, which compiles its
// statement and never runs it, writes nothing.
func (j *sqliteJudge) judge(src string) (judgement, error) {
	got := judgement{rows: map[string]bool{}, indexes: map[string]bool{}}
	var ops []explainOp
	for rest := src; strings.TrimSpace(rest) != ""; {
		found, tail, err := j.first(rest)
		if err != nil {
			return got, err
		}
		stmt := rest[:len(rest)-len(tail)]
		rest = tail
		if !found {
			continue
		}
		got.statements++
		if fields := strings.Fields(stripComments(stmt)); len(fields) > 0 && strings.EqualFold(fields[0], "EXPLAIN") {
			if _, err := j.program(stmt, false, false); err != nil {
				return got, err
			}
			continue
		}
		for _, recursive := range []bool{false, true} {
			o, err := j.program("EXPLAIN "+stmt, true, recursive)
			if err != nil {
				return got, err
			}
			ops = append(ops, o...)
		}
	}
	for _, op := range ops {
		var key [2]int64
		switch {
		case op.opcode == "OpenWrite" && op.p5&opflagP2IsReg == 0:
			key = [2]int64{op.p3, op.p2}
		case op.opcode == "Clear":
			key = [2]int64{op.p2, op.p1}
		case op.opcode == "Destroy":
			key = [2]int64{op.p3, op.p1}
		default:
			continue
		}
		obj, ok := j.objects[key]
		if !ok {
			return got, fmt.Errorf("%s of b-tree %d of database %d, which sqlite_schema does not list", op.opcode, key[1], key[0])
		}
		if obj.index {
			got.indexes[obj.table] = true
		} else {
			got.rows[obj.table] = true
		}
	}
	if fields := strings.Fields(stripComments(src)); len(fields) > 0 && strings.EqualFold(fields[0], "REINDEX") {
		// A WITHOUT ROWID table is its primary key's b-tree, which REINDEX
		// rebuilds from the rows it holds: the rows stay as they are.
		maps.Copy(got.indexes, got.rows)
		clear(got.rows)
	}
	for table := range got.rows {
		delete(got.indexes, table)
	}
	return got, nil
}

// first compiles the first statement of q, without running it, and
// returns whether q holds one (and not only comments) and the text after
// it, as SQLite's parser found them. The driver keeps that text in
// unexported fields of its statement (the handle, nil for no statement,
// and the tail), which reflection reads.
func (j *sqliteJudge) first(q string) (found bool, tail string, err error) {
	err = j.conn.Raw(func(dc any) error {
		s, err := dc.(driver.Conn).Prepare(q)
		if err != nil {
			return err
		}
		v := reflect.ValueOf(s).Elem()
		handle, rest := v.FieldByName("s"), v.FieldByName("t")
		if handle.Kind() != reflect.Pointer || rest.Kind() != reflect.String {
			s.Close()
			return fmt.Errorf("the SQLite driver's statement (%T) no longer holds its handle in s and its tail in t", s)
		}
		found, tail = !handle.IsNil(), rest.String()
		return s.Close()
	})
	return found, tail, err
}

// stripComments returns src without its leading comments.
func stripComments(src string) string {
	for {
		src = strings.TrimSpace(src)
		switch {
		case strings.HasPrefix(src, "--"):
			_, src, _ = strings.Cut(src, "\n")
		case strings.HasPrefix(src, "/*"):
			_, src, _ = strings.Cut(src, "*/")
		default:
			return src
		}
	}
}

// explainOp is one instruction of a program EXPLAIN lists.
type explainOp struct {
	opcode         string
	p1, p2, p3, p5 int64
}

// program runs a query (an EXPLAIN, or a statement EXPLAIN compiles and
// never runs) with NULL for each of its parameters, and returns its rows
// as the instructions of an EXPLAIN listing when listing is set. It
// compiles the query with recursive triggers on when recursive is set,
// restores the settings (also those a PRAGMA may have changed when it was
// compiled), and fails when the database changed.
func (j *sqliteJudge) program(query string, listing, recursive bool) ([]explainOp, error) {
	before, err := j.state()
	if err != nil {
		return nil, err
	}
	if recursive {
		if _, err := j.conn.ExecContext(j.ctx, judgeRecursive); err != nil {
			return nil, err
		}
	}
	// database/sql's SQLite driver refuses a query run with fewer
	// arguments than it has parameters; the statement itself tells how many.
	n := 0
	err = j.conn.Raw(func(dc any) error {
		s, err := dc.(driver.Conn).Prepare(query)
		if err != nil {
			return err
		}
		n = s.NumInput()
		return s.Close()
	})
	if err != nil {
		return nil, err
	}
	rows, err := j.conn.QueryContext(j.ctx, query, make([]any, n)...)
	if err != nil {
		return nil, err
	}
	var ops []explainOp
	for listing && rows.Next() {
		var op explainOp
		var addr int64
		var p4, comment any
		if err := rows.Scan(&addr, &op.opcode, &op.p1, &op.p2, &op.p3, &p4, &op.p5, &comment); err != nil {
			rows.Close()
			return nil, err
		}
		ops = append(ops, op)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	if _, err := j.conn.ExecContext(j.ctx, judgeSettings); err != nil {
		return nil, err
	}
	after, err := j.state()
	if err != nil {
		return nil, err
	}
	if after != before {
		return nil, fmt.Errorf("the statement changed the database (changes/schema version %s -> %s)", before, after)
	}
	return ops, nil
}

// prepares reports whether SQLite compiles a statement.
func (j *sqliteJudge) prepares(src string) error {
	_, err := j.judge(src)
	return err
}

// judgeTable is one table of the corpus's main schema, as the mappings
// need it.
type judgeTable struct {
	name      string
	cols      []string // every column, in order
	key       []string // the primary key's columns; none when it has no key
	generated []string // its generated columns
}

// tables returns the tables of the main schema, sorted by name.
func (j *sqliteJudge) tables(t *testing.T) []judgeTable {
	t.Helper()
	var names []string
	rows, err := j.conn.QueryContext(j.ctx, "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var tables []judgeTable
	for _, name := range names {
		tbl := judgeTable{name: name}
		rows, err := j.conn.QueryContext(j.ctx, "SELECT name, pk, hidden IN (2, 3) FROM pragma_table_xinfo(?, 'main') ORDER BY cid", name)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[int]string{}
		for rows.Next() {
			var col string
			var pk int
			var generated bool
			if err := rows.Scan(&col, &pk, &generated); err != nil {
				t.Fatal(err)
			}
			tbl.cols = append(tbl.cols, col)
			if generated {
				tbl.generated = append(tbl.generated, col)
			}
			if pk > 0 {
				keys[pk] = col
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		for i := 1; i <= len(keys); i++ {
			tbl.key = append(tbl.key, keys[i])
		}
		tables = append(tables, tbl)
	}
	return tables
}

// copyTable creates a table with tbl's columns and key, named name.
func (j *sqliteJudge) copyTable(tbl judgeTable, name string) error {
	q := rewrite.SQLite.Quote
	defs := make([]string, len(tbl.cols))
	for i, c := range tbl.cols {
		defs[i] = q(c)
		if slices.Contains(tbl.key, c) {
			defs[i] += " NOT NULL"
		}
	}
	keys := make([]string, len(tbl.key))
	for i, k := range tbl.key {
		keys[i] = q(k)
	}
	_, err := j.conn.ExecContext(j.ctx, fmt.Sprintf("CREATE TABLE %s (%s, PRIMARY KEY (%s))", q(name), strings.Join(defs, ", "), strings.Join(keys, ", ")))
	return err
}

// judgeMapping maps old to new, both with tbl's columns, each to itself;
// when new is tbl, its generated columns are not written.
func judgeMapping(tbl judgeTable, old, new string) *mapping.Mapping {
	var cols, reverse []mapping.Column
	for _, c := range tbl.cols {
		col := mapping.Column{Name: c, Expr: rewrite.SQLite.Quote(c)}
		reverse = append(reverse, col)
		if new != tbl.name || !slices.Contains(tbl.generated, c) {
			cols = append(cols, col)
		}
	}
	return &mapping.Mapping{Tables: []*mapping.Table{{
		Old: old, New: new, Key: tbl.key, NewKey: tbl.key, Columns: cols, Reverse: reverse,
	}}}
}

// judgeRun holds the totals of a run.
type judgeRun struct {
	j                                     *sqliteJudge
	statements, invalid, indexOnly, multi int
	mappings, unmappable, plans, writes   int
	mirrored, refused, prepared           int
	failures                              []string
	knownSeen                             map[string]bool
}

func (r *judgeRun) fail(e judgeEntry, format string, args ...any) {
	src := e.src
	if len(src) > 300 {
		src = src[:300] + "..."
	}
	r.failures = append(r.failures, fmt.Sprintf("sqlite-judge.sql:%d: %q: %s", e.line, src, fmt.Sprintf(format, args...)))
}

// plan plans one statement with one table mapped (as the old table when
// asNew is false) and judges the plan against what SQLite writes.
func (r *judgeRun) plan(e judgeEntry, w judgement, valid bool, p *rewrite.Planner, table string, asNew bool) {
	role := "old"
	if asNew {
		role = "new"
	}
	defer func() {
		if v := recover(); v != nil {
			r.fail(e, "panic planning with %s as the %s table: %v", table, role, v)
		}
	}()
	plan, _ := p.Plan(e.src)
	r.plans++
	if !valid {
		return
	}
	if w.rows["main."+strings.ToLower(table)] {
		r.writes++
		switch plan.Action {
		case rewrite.Mirror:
			r.mirrored++
		case rewrite.Refuse:
			r.refused++
		default:
			key := e.src + "\x00" + table + "\x00" + role
			if _, known := judgeKnown[key]; known {
				r.knownSeen[key] = true
			} else {
				r.fail(e, "writes %s (mapped as the %s table), but the plan is %s", table, role, actionNames[plan.Action])
			}
		}
	}
	if plan.Action != rewrite.Mirror {
		return
	}
	if plan.Table == nil || !w.rows["main."+strings.ToLower(plan.Table.Map.Old)] {
		r.fail(e, "with %s as the %s table, a Mirror plan, but SQLite writes %v", table, role, slices.Sorted(maps.Keys(w.rows)))
	}
	for _, g := range []struct{ what, sql string }{{"Capture", plan.Capture}, {"PreSelect", plan.PreSelect}} {
		if g.sql == "" {
			continue
		}
		r.prepared++
		if err := r.j.prepares(g.sql); err != nil {
			r.fail(e, "with %s as the %s table, %s does not prepare: %v\n%s", table, role, g.what, err, g.sql)
		}
	}
}

// judgeKnown lists writes to a mapped table that the planner still lets
// pass, by the statement's text in sqlite-judge.sql, the table and the
// role ("old" or "new"), joined by NUL bytes, with the reason. An entry
// that no longer passes fails the test, so that the list only shrinks.
var judgeKnown = map[string]string{}

func TestRegressSQLite(t *testing.T) {
	start := time.Now()
	head, stmts := judgeCorpus(t)
	j := openJudge(t, head)
	r := &judgeRun{j: j, knownSeen: map[string]bool{}}

	judged := make([]judgement, len(stmts))
	valid := make([]bool, len(stmts))
	for i, e := range stmts {
		r.statements++
		w, err := j.judge(e.src)
		invalidExpected := strings.HasPrefix(e.src, "-- invalid")
		switch {
		case err != nil && invalidExpected:
			r.invalid++
		case err != nil:
			r.fail(e, "SQLite does not compile it: %v", err)
		case invalidExpected:
			r.fail(e, "marked invalid, but SQLite compiles it")
		case w.statements == 0:
			r.fail(e, "holds no statement")
		default:
			judged[i], valid[i] = w, true
		}
		if w.statements > 1 {
			r.multi++
		}
		if len(w.indexes) > 0 {
			r.indexOnly++
			if first := strings.ToUpper(strings.Fields(stripComments(e.src))[0]); first != "REINDEX" && first != "DROP" {
				r.fail(e, "writes only indexes of %v, but is no REINDEX or DROP INDEX", slices.Sorted(maps.Keys(w.indexes)))
			}
		}
	}

	tables := j.tables(t)
	for _, tbl := range tables {
		if len(tbl.key) == 0 {
			r.unmappable++
			continue
		}
		for _, asNew := range []bool{false, true} {
			old, new, copied := tbl.name, tbl.name+"_dwnew", tbl.name+"_dwnew"
			if asNew {
				old, new, copied = tbl.name+"_dwold", tbl.name, tbl.name+"_dwold"
			}
			if err := j.copyTable(tbl, copied); err != nil {
				t.Fatalf("creating %s: %v", copied, err)
			}
			j.readObjects(t)
			m := judgeMapping(tbl, old, new)
			s, problems, err := schema.InspectConn(j.ctx, j.conn, rewrite.SQLite, m)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) > 0 {
				t.Errorf("mapping %s -> %s: the schema check reports problems:\n%s", old, new, schema.List(problems))
				continue
			}
			r.mappings++
			p := rewrite.NewPlanner(rewrite.SQLite, m, s, 2*len(stmts))
			if !asNew {
				tb := p.Table(old)
				for _, gen := range []string{tb.UpsertSQL(1), tb.DeleteSQL(1)} {
					r.prepared++
					if err := j.prepares(gen); err != nil {
						t.Errorf("mapping %s -> %s: generated mirror statement does not prepare: %v\n%s", old, new, err, gen)
					}
				}
			}
			for i, e := range stmts {
				r.plan(e, judged[i], valid[i], p, tbl.name, asNew)
			}
		}
	}
	for key, reason := range judgeKnown {
		if !r.knownSeen[key] {
			t.Errorf("known failure no longer passes; remove it from judgeKnown: %q (%s)", key, reason)
		}
	}
	t.Logf("%d statements (%d invalid on purpose, %d strings of several, %d only rebuilding or dropping indexes); %d tables, %d without a key left unmapped; %d mappings, %d plans",
		r.statements, r.invalid, r.multi, r.indexOnly, len(tables), r.unmappable, r.mappings, r.plans)
	t.Logf("%d writes to a mapped table judged: %d mirrored, %d refused, %d passed as known exceptions; %d planned statements prepared",
		r.writes, r.mirrored, r.refused, len(r.knownSeen), r.prepared)
	t.Logf("%d failures, in %v", len(r.failures), time.Since(start).Round(time.Millisecond))
	// A judge that saw no writes, or a planner that mirrored or refused
	// none, would make the test pass without judging anything.
	if r.writes == 0 || r.mirrored == 0 || r.refused == 0 || r.prepared == 0 {
		t.Errorf("too little judged: %d writes, %d mirrored, %d refused, %d statements prepared", r.writes, r.mirrored, r.refused, r.prepared)
	}
	if len(r.failures) > 0 {
		shown := r.failures[:min(40, len(r.failures))]
		t.Errorf("%d failures; the first %d:\n%s", len(r.failures), len(shown), strings.Join(shown, "\n"))
	}
}

// TestSQLiteJudge checks the judge of TestRegressSQLite on the corpus's
// schema: the tables whose rows a statement writes, also through
// triggers (temporary ones, INSTEAD OF ones, chains of them) and
// foreign-key actions, and those of which it only rebuilds indexes.
func TestSQLiteJudge(t *testing.T) {
	head, _ := judgeCorpus(t)
	j := openJudge(t, head)
	for _, c := range []struct {
		src, rows, indexes string // sorted, comma-separated
	}{
		// The trigger's INSERT OR REPLACE deletes the row it replaces, and
		// with it, by foreign-key actions, the rows that reference it.
		{"INSERT INTO inbox (payload) VALUES ('x')", "main.inbox,main.posts,main.profiles,main.sessions,main.tags,main.users", ""},
		{"DELETE FROM inbox", "main.inbox", ""},
		// With recursive triggers on, the rows REPLACE deletes fire
		// stage's DELETE trigger.
		{"REPLACE INTO stage (id) VALUES (1)", "main.audit,main.kv,main.select,main.stage", ""},
		{"DELETE FROM stage", "main.audit,main.kv,main.select,main.stage", ""},
		{"INSERT INTO events (kind) VALUES ('a')", "main.audit,main.events,main.kv,main.select,main.users", ""},
		{"DELETE FROM users WHERE id = 1", "main.posts,main.profiles,main.sessions,main.tags,main.users", ""},
		{"UPDATE orgs SET id = 2", "main.orgs", ""},
		{"INSERT INTO active_users (id) VALUES (1)", "main.users", ""},
		{"INSERT INTO scratch (note) VALUES ('x')", "main.orgs,temp.scratch", ""},
		{"INSERT INTO aux.users (id) VALUES (1)", "aux.users", ""},
		{"DROP TABLE posts", "main.posts,main.sqlite_schema,main.sqlite_sequence,main.tags", ""},
		{"REINDEX kv", "", "main.kv"},
		{"DROP INDEX users_name", "main.sqlite_schema", "main.users"},
		{"CREATE INDEX stage_email ON stage (email)", "main.sqlite_schema", ""},
		{"EXPLAIN DELETE FROM users", "", ""},
		{"/* c */ explain query plan DELETE FROM users", "", ""},
		{"DELETE FROM inbox; -- done", "main.inbox", ""},
		{"DELETE FROM inbox; DELETE FROM codes WHERE id = 1; SELECT 1", "main.code_uses,main.codes,main.inbox", ""},
		{"SELECT * FROM users JOIN orgs ON orgs.id = users.org_id", "", ""},
	} {
		w, err := j.judge(c.src)
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		rows, indexes := strings.Join(slices.Sorted(maps.Keys(w.rows)), ","), strings.Join(slices.Sorted(maps.Keys(w.indexes)), ",")
		if rows != c.rows || indexes != c.indexes {
			t.Errorf("%q writes the rows of [%s] and only indexes of [%s]; want [%s] and [%s]", c.src, rows, indexes, c.rows, c.indexes)
		}
	}
	if _, err := j.judge("DELETE users"); err == nil {
		t.Error("a syntax error is judged")
	}
}
