package rewrite_test

// PostgreSQL's regression suite as input the planner's authors did not write.
//
// The suite's SQL scripts (src/test/regress/sql and PL/pgSQL's
// src/pl/plpgsql/src/sql) are kept outside the module, at ../shared/corpus
// relative to the module root; the test skips when they are absent. Every
// statement is split and parsed by PostgreSQL's own grammar (pg_query);
// every table it references is mapped in turn, as an old table and then as
// a new one; and the plan is judged against the parse tree:
//
//   - a statement that changes the mapped table's rows (INSERT, UPDATE,
//     DELETE, MERGE, TRUNCATE, COPY FROM, where the tree has them; ATTACH or
//     DETACH PARTITION, [NO] INHERIT) must be mirrored or refused;
//   - a Mirror plan mirrors the one table PostgreSQL writes, the old table,
//     and selects the keys before a write that assigns the key;
//   - every statement the planner generates parses as one statement, and a
//     new-phase read no longer reads the old table;
//   - nothing panics.
//
// Server-side code (CALL, functions the suite defines, DO blocks) is
// counted, not judged: the grammar sees no further than its name or its
// string.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// regressDir returns the folder of the regression scripts, found from the
// module root (the nearest parent directory holding go.mod).
func regressDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	return filepath.Join(dir, "..", "shared", "corpus", "postgres-regress")
}

// regressFiles returns the .sql files of one suite, sorted.
func regressFiles(t *testing.T, suite string) []string {
	t.Helper()
	dir := filepath.Join(regressDir(t), suite)
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no PostgreSQL regression scripts in %s (the corpus is kept outside the module, at ../shared/corpus)", dir)
	}
	sort.Strings(files)
	return files
}

// regressSplit splits a script into statements by PostgreSQL's grammar,
// or by its scanner when some statement of the script does not parse.
// psql's commands are removed first (they are psql's, not SQL): lines
// that start with a backslash, a backslash command that ends a statement
// instead of its semicolon (\gset, \gexec, ...), and the data lines that
// follow a COPY ... FROM stdin.
func regressSplit(src string) []string {
	src = regressStripPsql(src)
	if stmts, err := pg_query.SplitWithParser(src, true); err == nil {
		return stmts
	}
	stmts, _ := pg_query.SplitWithScanner(src, true)
	return stmts
}

var (
	psqlCopyIn  = regexp.MustCompile(`(?i)\bfrom\s+stdin\b.*;\s*$`)
	psqlTrailer = regexp.MustCompile(`\s\\(g|gset|gexec|gx|gdesc|crosstabview|watch)\b.*$`)
)

func regressStripPsql(src string) string {
	var out []string
	copyData := false
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case copyData:
			copyData = trimmed != `\.`
			line = ""
		case strings.HasPrefix(trimmed, `\`):
			line = ""
		case psqlCopyIn.MatchString(line):
			copyData = true
		default:
			line = psqlTrailer.ReplaceAllString(line, ";")
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// regressFacts is what PostgreSQL's parse tree says about one statement.
type regressFacts struct {
	tables  []string        // the names of the tables it references, folded, in order
	written map[string]bool // the tables it writes when it runs, folded
	calls   []string        // the functions it calls, unqualified
	call    bool            // CALL of a procedure
	do      bool            // a DO block
	defined []string        // functions and procedures it creates
	ctes    map[string]bool // the names of its common table expressions, folded
	// assigned holds, per table it writes, the columns an UPDATE or an
	// INSERT's ON CONFLICT DO UPDATE assigns, folded.
	assigned map[string][]string
	doBody   string // the code of a DO block
	// firstColumn holds, per table, the first column of its CREATE TABLE
	// or of an INSERT's column list: the key of the mappings.
	firstColumn map[string]string
}

// isExplainAnalyze reports whether an EXPLAIN runs the statement it
// explains.
func isExplainAnalyze(e *pg_query.ExplainStmt) bool {
	for _, o := range e.Options {
		if d := o.GetDefElem(); d != nil && strings.EqualFold(d.Defname, "analyze") {
			if d.Arg == nil {
				return true
			}
			switch v := d.Arg.Node.(type) {
			case *pg_query.Node_Boolean:
				return v.Boolean.Boolval
			case *pg_query.Node_String_:
				s := strings.ToLower(v.String_.Sval)
				return s == "true" || s == "on" || s == "1" || s == "yes"
			case *pg_query.Node_Integer:
				return v.Integer.Ival != 0
			}
			return true
		}
	}
	return false
}

func foldRel(rv *pg_query.RangeVar) string { return strings.ToLower(rv.Relname) }

// regressFactsOf reads the facts of one parsed statement. Code whose
// writes happen later, not when the statement runs (a rule's actions, a
// function's SQL body, an EXPLAIN without ANALYZE, a prepared statement),
// names its tables but writes none of them now.
func regressFactsOf(stmt *pg_query.RawStmt) regressFacts {
	f := regressFacts{written: map[string]bool{}, firstColumn: map[string]string{}, ctes: map[string]bool{}, assigned: map[string][]string{}}
	seen := map[string]bool{}
	deferred := 0
	var visit func(m protoreflect.Message) bool
	visit = func(m protoreflect.Message) bool {
		write := func(rv *pg_query.RangeVar) {
			if rv != nil && deferred == 0 {
				f.written[foldRel(rv)] = true
			}
		}
		assign := func(rv *pg_query.RangeVar, targets []*pg_query.Node) {
			if rv == nil || deferred > 0 {
				return
			}
			for _, t := range targets {
				if name := t.GetResTarget().GetName(); name != "" {
					f.assigned[foldRel(rv)] = append(f.assigned[foldRel(rv)], strings.ToLower(name))
				}
			}
		}
		switch n := m.Interface().(type) {
		case *pg_query.RangeVar:
			if name := foldRel(n); !seen[name] {
				seen[name] = true
				f.tables = append(f.tables, name)
			}
		case *pg_query.InsertStmt:
			write(n.Relation)
			if oc := n.OnConflictClause; oc != nil {
				assign(n.Relation, oc.TargetList)
			}
			if n.Relation != nil && len(n.Cols) > 0 && f.firstColumn[foldRel(n.Relation)] == "" {
				f.firstColumn[foldRel(n.Relation)] = n.Cols[0].GetResTarget().GetName()
			}
		case *pg_query.CreateStmt:
			if n.Relation != nil && len(n.TableElts) > 0 && f.firstColumn[foldRel(n.Relation)] == "" {
				f.firstColumn[foldRel(n.Relation)] = n.TableElts[0].GetColumnDef().GetColname()
			}
		case *pg_query.UpdateStmt:
			write(n.Relation)
			assign(n.Relation, n.TargetList)
		case *pg_query.DeleteStmt:
			write(n.Relation)
		case *pg_query.MergeStmt:
			write(n.Relation)
		case *pg_query.TruncateStmt:
			for _, r := range n.Relations {
				write(r.GetRangeVar())
			}
		case *pg_query.CopyStmt:
			if n.IsFrom {
				write(n.Relation)
			}
		case *pg_query.AlterTableStmt:
			// The rows of a table include those of its partitions and
			// inheritance children: attaching or detaching one, or making
			// a table inherit from it or not, changes them.
			for _, c := range n.Cmds {
				switch cmd := c.GetAlterTableCmd(); cmd.GetSubtype() {
				case pg_query.AlterTableType_AT_AttachPartition, pg_query.AlterTableType_AT_DetachPartition,
					pg_query.AlterTableType_AT_DetachPartitionFinalize:
					write(n.Relation)
				case pg_query.AlterTableType_AT_AddInherit, pg_query.AlterTableType_AT_DropInherit:
					write(cmd.GetDef().GetRangeVar())
				}
			}
		case *pg_query.CommonTableExpr:
			f.ctes[strings.ToLower(n.Ctename)] = true
		case *pg_query.CallStmt:
			f.call = true
		case *pg_query.DoStmt:
			f.do = true
			for _, a := range n.Args {
				if d := a.GetDefElem(); d != nil && d.Defname == "as" {
					f.doBody = d.Arg.GetString_().GetSval()
				}
			}
		case *pg_query.FuncCall:
			if len(n.Funcname) > 0 {
				f.calls = append(f.calls, strings.ToLower(n.Funcname[len(n.Funcname)-1].GetString_().GetSval()))
			}
		case *pg_query.CreateFunctionStmt:
			if len(n.Funcname) > 0 {
				f.defined = append(f.defined, strings.ToLower(n.Funcname[len(n.Funcname)-1].GetString_().GetSval()))
			}
			deferWalk(m, visit, &deferred)
			return false
		case *pg_query.RuleStmt, *pg_query.PrepareStmt:
			deferWalk(m, visit, &deferred)
			return false
		case *pg_query.ExplainStmt:
			if !isExplainAnalyze(n) {
				deferWalk(m, visit, &deferred)
				return false
			}
		}
		return true
	}
	walkTree(stmt.ProtoReflect(), visit)
	return f
}

// deferWalk walks a message's children as code that runs later.
func deferWalk(m protoreflect.Message, visit func(protoreflect.Message) bool, deferred *int) {
	*deferred++
	defer func() { *deferred-- }()
	first := true
	walkTree(m, func(c protoreflect.Message) bool {
		if first {
			first = false
			return true
		}
		return visit(c)
	})
}

// regressMapping maps old to new with one key column, the same in both.
func regressMapping(old, new, key string) (*mapping.Mapping, error) {
	q := func(s string) string {
		return `'"` + strings.ReplaceAll(strings.ReplaceAll(s, `"`, `""`), `'`, `''`) + `"'`
	}
	yaml := fmt.Sprintf("dialect: postgres\ntables:\n  - old: %s\n    new: %s\n    key: [%[3]s]\n    columns:\n      %[3]s: %[3]s\n    reverse:\n      %[3]s: %[3]s\n", q(old), q(new), q(key))
	return mapping.Parse([]byte(yaml))
}

// regressRun holds the planners of a run, one per mapped name and role,
// and its totals.
type regressRun struct {
	planners map[string]*rewrite.Planner
	userFns  map[string]bool   // functions the suite defines
	keys     map[string]string // tables' key columns, where the suite shows one

	parsed, unparsable, plans, unmappable     int
	writes, mirrored, refused                 int
	callStmts, userFnCalls, doPass, generated int
	doBlocks, keyWrites                       int
	failures                                  []string
	knownSeen                                 map[string]bool
}

// key returns the key column of the mappings of a table.
func (r *regressRun) key(table string) string {
	if col := r.keys[table]; col != "" {
		return col
	}
	return "id"
}

func (r *regressRun) planner(old, new, col string) *rewrite.Planner {
	key := old + "\x00" + new + "\x00" + col
	if p, ok := r.planners[key]; ok {
		return p
	}
	var p *rewrite.Planner
	if m, err := regressMapping(old, new, col); err == nil {
		p = rewrite.NewPlanner(rewrite.Postgres, m, &rewrite.Schema{}, 16)
	}
	r.planners[key] = p
	return p
}

func (r *regressRun) fail(file, src, format string, args ...any) {
	if len(src) > 300 {
		src = src[:300] + "..."
	}
	r.failures = append(r.failures, fmt.Sprintf("%s: %q: %s", file, src, fmt.Sprintf(format, args...)))
}

// statement judges one statement with every table it references mapped
// in turn.
func (r *regressRun) statement(file, src string, facts regressFacts, fileTables []string) {
	tables := facts.tables
	if facts.do {
		// A DO block's code is a string to the grammar: the tables of its
		// script that it names are mapped, to count the blocks that pass.
		r.doBlocks++
		body := strings.ToLower(facts.doBody)
		for _, table := range fileTables {
			if namesWord(body, table) {
				tables = append(tables, table)
			}
		}
	}
	serverCode := facts.call
	for _, fn := range facts.calls {
		serverCode = serverCode || r.userFns[fn]
	}
	if facts.call {
		r.callStmts++
	}
	for _, table := range tables {
		for _, asNew := range []bool{false, true} {
			old, new := table, table+"_dwnew"
			if asNew {
				old, new = table+"_dwold", table
			}
			p := r.planner(old, new, r.key(table))
			if p == nil {
				r.unmappable++
				continue
			}
			r.plan(file, src, table, asNew, facts, serverCode, p)
		}
	}
}

func (r *regressRun) plan(file, src, table string, asNew bool, facts regressFacts, serverCode bool, p *rewrite.Planner) {
	role := "old"
	if asNew {
		role = "new"
	}
	defer func() {
		if e := recover(); e != nil {
			r.fail(file, src, "panic planning with %s as the %s table: %v", table, role, e)
		}
	}()
	plan, _ := p.Plan(src)
	r.plans++
	if facts.written[table] {
		r.writes++
		if slices.Contains(facts.assigned[table], strings.ToLower(r.key(table))) {
			r.keyWrites++
		}
		switch plan.Action {
		case rewrite.Mirror:
			r.mirrored++
			if slices.Contains(facts.assigned[table], strings.ToLower(r.key(table))) && plan.PreSelect == "" {
				r.fail(file, src, "assigns the key %s of %s, but the Mirror plan does not select the keys before the write", r.key(table), table)
			}
			if asNew || len(facts.written) != 1 || plan.Table == nil || !strings.EqualFold(plan.Table.Map.Old, table) {
				r.fail(file, src, "with %s as the %s table, a Mirror plan, but PostgreSQL writes %v", table, role, facts.written)
			}
		case rewrite.Refuse:
			r.refused++
		default:
			key := file + "\x00" + src + "\x00" + table + "\x00" + role
			if _, known := regressKnown[key]; known {
				r.knownSeen[key] = true
			} else {
				r.fail(file, src, "writes %s (mapped as the %s table), but the plan is action %d", table, role, plan.Action)
			}
		}
	} else if plan.Action == rewrite.Pass || plan.Action == rewrite.Read {
		switch {
		case facts.do && plan.Action == rewrite.Pass:
			r.doPass++
		case serverCode:
			r.userFnCalls++
		}
	}
	for _, g := range []struct{ what, sql string }{
		{"Capture", plan.Capture}, {"PreSelect", plan.PreSelect}, {"Fused", plan.Fused},
	} {
		r.parses(file, src, table, role, g.what, g.sql)
	}
	if plan.Action == rewrite.Mirror && !facts.written[table] {
		r.fail(file, src, "with %s as the %s table, a Mirror plan, but PostgreSQL writes %v", table, role, facts.written)
	}
	if plan.Action == rewrite.Read && plan.Err == nil && plan.Read != nil {
		tree := r.parses(file, src, table, role, "Read.NewQuery", plan.Read.NewQuery)
		if tree != nil && !asNew && !facts.ctes[table] && regressFactsOf(tree.Stmts[0]).references(table) {
			r.fail(file, src, "with %s as the old table, Read.NewQuery still reads it:\n%s", table, plan.Read.NewQuery)
		}
		if l := plan.Read.Lock; l != nil {
			r.parses(file, src, table, role, "Read.Lock.OldQuery", l.OldQuery)
			r.parses(file, src, table, role, "Read.Lock.NewQuery(1)", l.NewQuery(1))
			r.parses(file, src, table, role, "Read.Lock.NewQuery(3)", l.NewQuery(3))
		}
	}
}

// references reports whether the statement names a table.
func (f regressFacts) references(table string) bool {
	return slices.Contains(f.tables, table)
}

// parses checks that a generated statement parses as one statement, and
// returns its tree, or nil.
func (r *regressRun) parses(file, src, table, role, what, gen string) *pg_query.ParseResult {
	if gen == "" {
		return nil
	}
	r.generated++
	res, err := pg_query.Parse(gen)
	switch {
	case err != nil:
		r.fail(file, src, "with %s as the %s table, %s does not parse: %v\n%s", table, role, what, err, gen)
	case len(res.Stmts) != 1:
		r.fail(file, src, "with %s as the %s table, %s is %d statements:\n%s", table, role, what, len(res.Stmts), gen)
	default:
		return res
	}
	return nil
}

// regressKnown lists writes to a mapped table that the planner still lets
// pass, by file base name, statement, table and role ("old" or "new"),
// joined by NUL bytes, with the reason. An entry that no longer passes
// fails the test, so that the list only shrinks.
var regressKnown = map[string]string{}

func TestRegressPostgres(t *testing.T) {
	for _, suite := range []string{"postgres_regress", "plpgsql_regress"} {
		t.Run(suite, func(t *testing.T) { regressSuite(t, suite) })
	}
}

func regressSuite(t *testing.T, suite string) {
	start := time.Now()
	files := regressFiles(t, suite)
	type parsedStmt struct {
		file, src string
		facts     regressFacts
	}
	var stmts []parsedStmt
	r := &regressRun{planners: map[string]*rewrite.Planner{}, userFns: map[string]bool{}, keys: map[string]string{}, knownSeen: map[string]bool{}}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(path)
		for i, src := range regressSplit(string(data)) {
			if regressSample > 1 && i%regressSample != 0 {
				continue
			}
			tree, err := pg_query.Parse(src)
			if err != nil || len(tree.Stmts) != 1 {
				r.unparsable++
				continue
			}
			r.parsed++
			facts := regressFactsOf(tree.Stmts[0])
			for table, col := range facts.firstColumn {
				if r.keys[table] == "" {
					r.keys[table] = col
				}
			}
			for _, fn := range facts.defined {
				r.userFns[fn] = true
			}
			stmts = append(stmts, parsedStmt{base, src, facts})
		}
	}
	fileTables := map[string][]string{}
	seen := map[string]bool{}
	for _, s := range stmts {
		for _, table := range s.facts.tables {
			if k := s.file + "\x00" + table; !seen[k] {
				seen[k] = true
				fileTables[s.file] = append(fileTables[s.file], table)
			}
		}
	}
	for _, s := range stmts {
		r.statement(s.file, s.src, s.facts, fileTables[s.file])
	}
	for key, reason := range regressKnown {
		if !r.knownSeen[key] && knownInSuite(files, key) && regressSample == 1 {
			t.Errorf("known failure no longer passes; remove it from regressKnown: %q (%s)", key, reason)
		}
	}
	t.Logf("%s: %d files, %d statements parsed, %d unparsable (sampled every %d), %d plans, %d table names unmappable",
		suite, len(files), r.parsed, r.unparsable, regressSample, r.plans, r.unmappable)
	t.Logf("%s: %d writes to a mapped table judged: %d mirrored, %d refused (%d of them assign the key); %d generated statements parsed",
		suite, r.writes, r.mirrored, r.refused, r.keyWrites, r.generated)
	t.Logf("%s: not judged (server-side code): %d CALL statements, %d plans passing or reading a statement that calls a function the suite defines, %d plans passing one of %d DO blocks with a table it names mapped",
		suite, r.callStmts, r.userFnCalls, r.doPass, r.doBlocks)
	t.Logf("%s: %d failures, in %v", suite, len(r.failures), time.Since(start).Round(time.Millisecond))
	// A judge that saw no writes, or a planner that mirrored none, would
	// make the test pass without judging anything.
	if r.writes == 0 || r.mirrored == 0 || r.refused == 0 || r.generated == 0 {
		t.Errorf("%s: too little judged: %d writes, %d mirrored, %d refused, %d generated statements", suite, r.writes, r.mirrored, r.refused, r.generated)
	}
	if len(r.failures) > 0 {
		shown := r.failures[:min(30, len(r.failures))]
		t.Errorf("%d failures; the first %d:\n%s", len(r.failures), len(shown), strings.Join(shown, "\n"))
	}
}

// namesWord reports whether text holds word, not as part of a longer name.
func namesWord(text, word string) bool {
	isName := func(c byte) bool {
		return c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
	}
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || !isName(text[start-1])) && (end == len(text) || !isName(text[end])) {
			return true
		}
		i = start + 1
	}
}

// knownInSuite reports whether a regressKnown key names a file of the suite.
func knownInSuite(files []string, key string) bool {
	file := strings.SplitN(key, "\x00", 2)[0]
	for _, f := range files {
		if filepath.Base(f) == file {
			return true
		}
	}
	return false
}

// TestRegressFacts checks the judge of TestRegressPostgres: which tables a
// statement writes when it runs, by PostgreSQL's parse tree.
func TestRegressFacts(t *testing.T) {
	for _, c := range []struct {
		src     string
		written string // the tables written, sorted, comma-separated
	}{
		{"INSERT INTO a SELECT * FROM b", "a"},
		{"UPDATE a SET x = 1 FROM b WHERE a.id = b.id", "a"},
		{"DELETE FROM public.a USING b", "a"},
		{"MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN DELETE", "a"},
		{"TRUNCATE a, ONLY b", "a,b"},
		{"COPY a FROM stdin", "a"},
		{"COPY a TO stdout", ""},
		{"COPY (SELECT * FROM a) TO stdout", ""},
		{"WITH d AS (DELETE FROM a RETURNING *) SELECT * FROM d JOIN b USING (id)", "a"},
		{"SELECT * FROM b WHERE id IN (WITH u AS (UPDATE a SET x = 1 RETURNING id) SELECT id FROM u)", "a"},
		{"CREATE TABLE c AS WITH d AS (DELETE FROM a RETURNING *) SELECT * FROM d", "a"},
		{"EXPLAIN ANALYZE DELETE FROM a", "a"},
		{"EXPLAIN (ANALYZE, COSTS OFF) UPDATE a SET x = 1", "a"},
		{"EXPLAIN (ANALYZE false) DELETE FROM a", ""},
		{"EXPLAIN DELETE FROM a", ""},
		{"CREATE RULE r AS ON INSERT TO b DO INSTEAD INSERT INTO a VALUES (new.*)", ""},
		{"PREPARE p AS DELETE FROM a", ""},
		{"CREATE FUNCTION f() RETURNS void BEGIN ATOMIC DELETE FROM a; END", ""},
		{"SELECT * FROM a, b", ""},
		{"ALTER TABLE b INHERIT a", "a"},
		{"ALTER TABLE b NO INHERIT a", "a"},
		{"ALTER TABLE a ATTACH PARTITION b FOR VALUES IN (1)", "a"},
		{"ALTER TABLE a DETACH PARTITION b", "a"},
		{"ALTER TABLE a ADD COLUMN x int", ""},
	} {
		tree, err := pg_query.Parse(c.src)
		if err != nil || len(tree.Stmts) != 1 {
			t.Fatalf("%q: %v", c.src, err)
		}
		var got []string
		for name := range regressFactsOf(tree.Stmts[0]).written {
			got = append(got, name)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != c.written {
			t.Errorf("%q writes %v, want %s", c.src, got, c.written)
		}
	}
}
