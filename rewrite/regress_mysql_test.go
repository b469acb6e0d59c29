package rewrite_test

// The MySQL statements of TiDB's parser tests as input the planner's
// authors did not write.
//
// The parser module's own test files (parser_test.go and the others of
// github.com/pingcap/tidb/pkg/parser, Apache-2.0) hold thousands of MySQL
// statements as Go string literals. The test reads them from the module's
// directory in the module cache (go list -m -f {{.Dir}}), keeps every
// literal the parser accepts as statements, and judges the analyzer and
// the planner on each, with every table it names mapped in turn, as an old
// table and then as a new one:
//
//   - nothing panics;
//   - the analyzer's kind agrees with the parser's for SELECT, INSERT,
//     REPLACE, UPDATE and DELETE, and so do its parameters and, for a
//     write it reads in full, its target;
//   - a statement that changes the mapped table's rows (INSERT, REPLACE,
//     UPDATE, DELETE, TRUNCATE, LOAD DATA, EXPLAIN ANALYZE of one of them)
//     is mirrored or refused, a Mirror plan mirrors the one table MySQL
//     writes, the old table, and a refusal names its construct;
//   - every statement the planner generates parses as one statement.

import (
	"errors"
	"fmt"
	goast "go/ast"
	goparser "go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// tidbParserModule is the module whose tests hold the statements.
const tidbParserModule = "github.com/pingcap/tidb/pkg/parser"

// tidbStatements returns the distinct string literals of the parser
// module's test files, in file order.
func tidbStatements(t *testing.T) (stmts []string, files int) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to find the module %s: %v", tidbParserModule, err)
	}
	out, err := exec.Command(gobin, "list", "-m", "-f", "{{.Dir}}", tidbParserModule).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("go list -m %s: %v (run go mod download)", tidbParserModule, err)
	}
	var paths []string
	for _, pattern := range []string{"*_test.go", "ast/*_test.go"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		t.Fatalf("no test files in %s", dir)
	}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, path := range paths {
		f, err := goparser.ParseFile(fset, path, nil, goparser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		goast.Inspect(f, func(n goast.Node) bool {
			if lit, ok := n.(*goast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && !seen[s] && strings.TrimSpace(s) != "" {
					seen[s] = true
					stmts = append(stmts, s)
				}
			}
			return true
		})
	}
	return stmts, len(paths)
}

// myWritten returns the tables (folded, without their database) whose
// rows a statement changes when it runs. A multi-table UPDATE writes the
// tables its SET qualifies, or all of its tables where a target is not
// qualified; a multi-table DELETE the tables it lists, through their
// aliases.
func myWritten(n ast.StmtNode) []string {
	switch s := n.(type) {
	case *ast.InsertStmt, *ast.UpdateStmt, *ast.DeleteStmt:
		if tn, single := myTarget(n); single {
			return []string{tn.Name.L}
		}
	case *ast.TruncateTableStmt:
		return []string{s.Table.Name.L}
	case *ast.LoadDataStmt:
		return []string{s.Table.Name.L}
	case *ast.ImportIntoStmt:
		return []string{s.Table.Name.L}
	case *ast.NonTransactionalDMLStmt:
		return myWritten(s.DMLStmt)
	case *ast.ExplainStmt:
		if s.Analyze {
			return myWritten(s.Stmt)
		}
		return nil
	}
	var refs *ast.TableRefsClause
	var names []string // the tables or aliases written; nil: all
	switch s := n.(type) {
	case *ast.UpdateStmt:
		refs = s.TableRefs
		for _, a := range s.List {
			if a.Column.Table.L == "" {
				names = nil
				break
			}
			names = append(names, a.Column.Table.L)
		}
	case *ast.DeleteStmt:
		refs = s.TableRefs
		if s.Tables != nil {
			for _, tn := range s.Tables.Tables {
				names = append(names, tn.Name.L)
			}
		}
	default:
		return nil
	}
	if refs == nil || refs.TableRefs == nil {
		return nil
	}
	aliases := map[string]string{} // alias or name -> table
	var all []string
	var join func(rs ast.ResultSetNode)
	join = func(rs ast.ResultSetNode) {
		switch r := rs.(type) {
		case *ast.Join:
			join(r.Left)
			if r.Right != nil {
				join(r.Right)
			}
		case *ast.TableSource:
			if tn, ok := r.Source.(*ast.TableName); ok {
				all = append(all, tn.Name.L)
				if r.AsName.L != "" {
					aliases[r.AsName.L] = tn.Name.L
				} else {
					aliases[tn.Name.L] = tn.Name.L
				}
			} else {
				join(r.Source)
			}
		}
	}
	join(refs.TableRefs)
	if names == nil {
		return all
	}
	var out []string
	for _, a := range names {
		if table, ok := aliases[a]; ok {
			out = append(out, table)
		} else {
			out = append(out, a)
		}
	}
	return out
}

// myTables returns the tables a statement names, folded, in order.
func myTables(n ast.StmtNode) []string {
	var out []string
	seen := map[string]bool{}
	walkMy(n, func(n ast.Node) bool {
		if tn, ok := n.(*ast.TableName); ok && !seen[tn.Name.L] && tn.Name.L != "" {
			seen[tn.Name.L] = true
			out = append(out, tn.Name.L)
		}
		return true
	})
	return out
}

// mysqlLexExempt returns why the lexer rejects text that MySQL's grammar
// parses, where that is understood, or "". The planner refuses text the
// lexer rejects when it names a mapped table.
func mysqlLexExempt(src string, err error) string {
	switch msg := err.Error(); {
	case strings.Contains(msg, "executable comment"):
		return "MySQL runs the text of /*! ... */ as SQL; the lexer refuses such text rather than read it two ways"
	case strings.Contains(msg, "NUL byte"):
		return "the lexer refuses a NUL byte anywhere, by design (Dialect.Lex)"
	case strings.Contains(msg, "@ is not followed by a variable name"):
		return "TiDB reads a bare @ as a variable with an empty name; MariaDB 10.11 rejects it (SELECT @ is a syntax error)"
	}
	return ""
}

// regressMySQLMapping maps old to new with one key column, the same in
// both. The key is written as a plain identifier: a double-quoted name
// in a mapping's expressions is a string literal to MySQL.
func regressMySQLMapping(old, new, key string) (*mapping.Mapping, error) {
	if !plainMySQLName(key) {
		return nil, fmt.Errorf("key column %q is not a plain identifier", key)
	}
	q := func(s string) string {
		return `'"` + strings.ReplaceAll(strings.ReplaceAll(s, `"`, `""`), `'`, `''`) + `"'`
	}
	yaml := fmt.Sprintf("dialect: mysql\ntables:\n  - old: %s\n    new: %s\n    key: [%[3]s]\n    columns:\n      %[3]s: %[3]s\n    reverse:\n      %[3]s: %[3]s\n", q(old), q(new), key)
	return mapping.Parse([]byte(yaml))
}

// plainMySQLName reports whether s is an identifier that needs no quotes
// and is no keyword a mapping expression would misread.
func plainMySQLName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != "" && !slices.Contains([]string{"null", "true", "false", "default"}, strings.ToLower(s))
}

// myRegressRun holds the planners of a run, one per mapped name and role,
// and its totals.
type myRegressRun struct {
	planners map[string]*rewrite.Planner
	keys     map[string]string // tables' key columns, where a statement shows one
	g        *myGenerated

	literals, parsed, plans, unmappable            int
	lexRefused, unsupported, disagreements         int
	writes, mirrored, refused, kindChecked, target int
	refusals                                       map[string]int // writes refused, by construct
	failures                                       []string
	knownSeen                                      map[int]int // mysqlRegressKnown's entries, by the failures they match
}

// fail records a failure, unless mysqlRegressKnown explains it; it
// reports whether it recorded one.
func (r *myRegressRun) fail(src, format string, args ...any) bool {
	msg := fmt.Sprintf(format, args...)
	if k := mysqlKnown(src, msg); k >= 0 {
		r.knownSeen[k]++
		return false
	}
	r.failures = append(r.failures, myFailure{src, msg}.String())
	return true
}

func (r *myRegressRun) key(table string) string {
	if col := r.keys[table]; col != "" {
		return col
	}
	return "id"
}

func (r *myRegressRun) planner(old, new, col string) *rewrite.Planner {
	key := old + "\x00" + new + "\x00" + col
	if p, ok := r.planners[key]; ok {
		return p
	}
	var p *rewrite.Planner
	if m, err := regressMySQLMapping(old, new, col); err == nil {
		p = rewrite.NewPlanner(rewrite.MySQL, m, &rewrite.Schema{}, 16)
	}
	r.planners[key] = p
	return p
}

// analyze judges the analyzer on one statement.
func (r *myRegressRun) analyze(src string, n ast.StmtNode, returning string) {
	defer func() {
		if e := recover(); e != nil {
			r.fail(src, "Analyze panics: %v", e)
		}
	}()
	st, err := rewrite.MySQL.Analyze(src)
	if err != nil {
		if mysqlLexExempt(src, err) == "" {
			r.fail(src, "MySQL parses it, Lex fails: %v", err)
		} else {
			r.lexRefused++
		}
		return
	}
	four := map[string]bool{"select": true, "insert": true, "update": true, "delete": true}
	got, want := st.Kind.String(), myKind(n)
	if !four[got] && !four[want] {
		return
	}
	r.kindChecked++
	if st.Unsupported != "" {
		r.unsupported++
	} else if st.Kind.IsWrite() {
		r.target++
	}
	for _, d := range myDisagreements(src, st, n, returning, r.g.o.callerParams(src, n, returning)) {
		if r.fail(src, "%s", d) {
			r.disagreements++
		}
	}
}

// statement judges one statement with every table it names mapped in
// turn.
func (r *myRegressRun) statement(src string, n ast.StmtNode, written []string, params int) {
	for _, table := range myTables(n) {
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
			r.plan(src, n, table, asNew, written, params, p)
		}
	}
}

func (r *myRegressRun) plan(src string, n ast.StmtNode, table string, asNew bool, written []string, params int, p *rewrite.Planner) {
	role := "old"
	if asNew {
		role = "new"
	}
	defer func() {
		if e := recover(); e != nil {
			r.fail(src, "panic planning with %s as the %s table: %v", table, role, e)
		}
	}()
	plan, _ := p.Plan(src)
	r.plans++
	writes := false
	for _, w := range written {
		writes = writes || w == table
	}
	if writes {
		r.writes++
		switch plan.Action {
		case rewrite.Mirror:
			r.mirrored++
			if asNew || len(written) != 1 || !strings.EqualFold(plan.Table.Map.Old, table) {
				r.fail(src, "with %s as the %s table, a Mirror plan, but MySQL writes %v", table, role, written)
			}
		case rewrite.Refuse:
			r.refused++
			var ue *rewrite.UnsupportedError
			if errors.As(plan.Err, &ue) {
				construct, _, _ := strings.Cut(ue.Construct, " at ")
				construct, _, _ = strings.Cut(construct, " of the mapping ")
				r.refusals[construct]++
			}
		default:
			r.fail(src, "writes %s (mapped as the %s table), but the plan is action %d", table, role, plan.Action)
		}
	} else if plan.Action == rewrite.Mirror {
		r.fail(src, "with %s as the %s table, a Mirror plan, but MySQL writes %v", table, role, written)
	}
	before := len(r.g.failures)
	r.g.plan(src, plan, myKind(n), params)
	for _, f := range r.g.failures[before:] {
		r.fail(f.src, "with %s as the %s table: %s", table, role, f.msg)
	}
	r.g.failures = r.g.failures[:before]
}

// mysqlRegressKnown are the understood failures of the judge, each with
// its reason: a failure is known when its statement matches stmt and its
// message matches failure. The test named by shownBy fails when the entry
// matches no failure there, so that the list only shrinks.
var mysqlRegressKnown = []struct {
	stmt, failure *regexp.Regexp
	shownBy       string
	reason        string
}{
	{regexp.MustCompile("(?i)^(update|delete) (high_priority|delayed) "), regexp.MustCompile(""), "TestRegressMySQL",
		"TiDB's extension: MySQL's and MariaDB's UPDATE and DELETE take LOW_PRIORITY, IGNORE (and QUICK) only, and reject these words, " +
			"which are reserved (no table is named so unquoted); the analyzer reads the word after UPDATE as the target, so that the planner " +
			"passes a statement the server refuses, and the word before FROM as a multi-table DELETE's, which the planner refuses"},
	{regexp.MustCompile(`(?i)^with .*\) *(\(|table )`), regexp.MustCompile("^kind other, MySQL says select"), "TestRegressMySQL",
		"the analyzer finds the query after WITH by its first keyword, and misses a parenthesized query (MySQL and MariaDB) or MySQL 8's TABLE: " +
			"it calls the statement unclassifiable, and the planner refuses it when it names a mapped table, a read refused (analyze.go)"},
	{regexp.MustCompile(`(?i) as of timestamp | tablesample `), regexp.MustCompile(""), "TestRegressMySQL",
		"TiDB's extensions (stale reads, TABLESAMPLE), which MySQL and MariaDB reject"},
	{regexp.MustCompile(`^"`), regexp.MustCompile(`names the column .*, but MySQL reads \*test_driver.ValueExpr`), "TestMySQLMappingColumns",
		"a mapping's double-quoted name is written into the generated SQL as it is, and MySQL (without ANSI_QUOTES, which the dialect " +
			"requires) reads \"...\" as a string: the mirror writes the name's text into the new column, and reads of the new table return it " +
			"where the planner is given such a mapping; the schema check refuses it (internal/schema: quotedStrings), so no driver plans with it"},
	{regexp.MustCompile(`\d\.\s*$`), regexp.MustCompile(`^(Restrict\(\d keys\)|PreSelect) does not parse in MySQL: .* near "(WHERE |FOR UPDATE)`), "TestMySQLPlansParse",
		"the oracle's: TiDB's lexer reads a number that ends in a dot (1.) and a word after it otherwise than MySQL; MariaDB 10.11 runs " +
			"UPDATE t SET a = 0. WHERE FALSE"},
	{regexp.MustCompile(`(?i)\breturning\b`), regexp.MustCompile(`^Returning true, MySQL \(without MariaDB's RETURNING\) says false|^Capture does not parse in MySQL|does not parse in MySQL: .* near "RETURNING`), "TestMySQLOracle",
		"RETURNING is a reserved word in MariaDB 10.5 and later, which rejects it as a name unquoted, and a name in MySQL: the analyzer " +
			"reads it as MariaDB does (DELETE FROM t RETURNING is MySQL's DELETE with the alias returning), and on MySQL the planner refuses " +
			"an INSERT ... SELECT or a RETURNING (the safe side) or runs text the server rejects"},
}

// checkKnownSeen fails a test when an entry of mysqlRegressKnown that it
// shows matched no failure.
func checkKnownSeen(t *testing.T, test string, seen map[int]int) {
	t.Helper()
	for i, k := range mysqlRegressKnown {
		if k.shownBy == test && seen[i] == 0 {
			t.Errorf("known failure no longer seen; remove it from mysqlRegressKnown: %s (%s)", k.stmt, k.reason)
		}
	}
}

// mysqlKnown returns the index of the mysqlRegressKnown entry that
// explains a failure, or -1.
func mysqlKnown(src, msg string) int {
	for i, k := range mysqlRegressKnown {
		if k.stmt.MatchString(src) && k.failure.MatchString(msg) {
			return i
		}
	}
	return -1
}

func TestRegressMySQL(t *testing.T) {
	start := time.Now()
	lits, files := tidbStatements(t)
	o := newMySQLOracle()
	r := &myRegressRun{planners: map[string]*rewrite.Planner{}, keys: map[string]string{}, knownSeen: map[int]int{}, refusals: map[string]int{}, g: newMyGenerated()}
	type parsedStmt struct {
		src       string
		n         ast.StmtNode
		returning string
	}
	var stmts []parsedStmt
	for i, lit := range lits {
		if regressSample > 1 && i%regressSample != 0 {
			continue
		}
		r.literals++
		n, returning, err := o.parseCaller(lit)
		if err != nil {
			continue
		}
		r.parsed++
		switch s := n.(type) {
		case *ast.CreateTableStmt:
			if len(s.Cols) > 0 && r.keys[s.Table.Name.L] == "" {
				r.keys[s.Table.Name.L] = s.Cols[0].Name.Name.O
			}
		case *ast.InsertStmt:
			if tn, _ := myTarget(n); tn != nil && len(s.Columns) > 0 && r.keys[tn.Name.L] == "" {
				r.keys[tn.Name.L] = s.Columns[0].Name.O
			}
		}
		stmts = append(stmts, parsedStmt{lit, n, returning})
	}
	for _, s := range stmts {
		r.analyze(s.src, s.n, s.returning)
		r.statement(s.src, s.n, myWritten(s.n), len(o.callerParams(s.src, s.n, s.returning)))
	}
	known := 0
	for _, n := range r.knownSeen {
		known += n
	}
	if regressSample == 1 {
		checkKnownSeen(t, "TestRegressMySQL", r.knownSeen)
	}
	t.Logf("%d test files of %s: %d string literals, %d statements MySQL parses (sampled every %d)", files, tidbParserModule, r.literals, r.parsed, regressSample)
	t.Logf("analyzer: %d statements judged on kind (%d writes on target), %d read only in part (unsupported), %d refused by the lexer by design, %d disagreements",
		r.kindChecked, r.target, r.unsupported, r.lexRefused, r.disagreements)
	t.Logf("planner: %d plans, %d table names unmappable; %d writes to a mapped table judged: %d mirrored, %d refused; generated statements checked %v",
		r.plans, r.unmappable, r.writes, r.mirrored, r.refused, r.g.counts)
	constructs := make([]string, 0, len(r.refusals))
	for c := range r.refusals {
		constructs = append(constructs, c)
	}
	sort.Slice(constructs, func(i, j int) bool { return r.refusals[constructs[i]] > r.refusals[constructs[j]] })
	for _, c := range constructs[:min(8, len(constructs))] {
		t.Logf("refused: %d writes: %s", r.refusals[c], c)
	}
	t.Logf("%d failures, %d known (mysqlRegressKnown), in %v", len(r.failures), known, time.Since(start).Round(time.Millisecond))
	if r.parsed < 2000 || r.writes < 500 || r.mirrored == 0 || r.refused == 0 {
		t.Errorf("too little judged: %d statements, %d writes, %d mirrored, %d refused", r.parsed, r.writes, r.mirrored, r.refused)
	}
	if len(r.failures) > 0 {
		shown := r.failures[:min(400, len(r.failures))]
		t.Errorf("%d failures; the first %d:\n%s", len(r.failures), len(shown), strings.Join(shown, "\n"))
	}
}
