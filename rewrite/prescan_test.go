package rewrite_test

import (
	"bufio"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// prescanPlanners returns a planner of each dialect, each with a guarded
// table (ledger) besides its mapping's tables.
func prescanPlanners(t testing.TB) map[string]*rewrite.Planner {
	t.Helper()
	guards := map[string]rewrite.Guard{"ledger": {Reason: "a trigger writes users", Insert: true, Update: true, Delete: true}}
	parse := func(src string) *mapping.Mapping {
		m, err := mapping.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	return map[string]*rewrite.Planner{
		"sqlite":   rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{Guards: guards}, 100),
		"postgres": rewrite.NewPlanner(rewrite.Postgres, parse(corpus.PostgresMapping), &rewrite.Schema{Guards: guards}, 100),
		"mysql":    rewrite.NewPlanner(rewrite.MySQL, parse(corpus.MySQLMapping), &rewrite.Schema{Guards: guards}, 100),
	}
}

// trackedNames matches the names of the tracked tables of
// prescanPlanners, to make statements that name none of them.
var trackedNames = regexp.MustCompile(`(?i)users|accounts|memberships|members|ledger`)

// prescanCorpus returns every statement the tests know: the string
// literals of the rewrite and root packages' tests and of internal/corpus,
// the fuzz corpora's strings and the SQLite judge's statements, each also
// with the tracked tables' names replaced by another, so that statements
// of every shape reach the prescan as statements on no tracked table.
func prescanCorpus(t testing.TB) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		for _, v := range []string{s, trackedNames.ReplaceAllString(s, "plain_t")} {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	var files []string
	for _, pattern := range []string{"*_test.go", "../*_test.go", "../internal/corpus/*.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					add(s)
				}
			}
			return true
		})
	}
	fuzzFiles, err := filepath.Glob("testdata/fuzz/*/*")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("../testdata/fuzz/*/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range append(fuzzFiles, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			if lit, ok := strings.CutPrefix(sc.Text(), "string("); ok {
				if s, err := strconv.Unquote(strings.TrimSuffix(lit, ")")); err == nil {
					add(s)
				}
			}
		}
	}
	judge, err := os.ReadFile("testdata/sqlite-judge.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range strings.Split(string(judge), "\n\n") {
		var lines []string
		for _, l := range strings.Split(entry, "\n") {
			if !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		if s := strings.TrimSpace(strings.Join(lines, "\n")); s != "" {
			add(s)
		}
	}
	return out
}

// checkPrescan fails when a planner's prescan passes a text that the full
// planner does not plan as the plain pass-through. It returns how many
// planners passed the text.
func checkPrescan(t *testing.T, planners map[string]*rewrite.Planner, text string) int {
	t.Helper()
	passed := 0
	for name, p := range planners {
		checkPlainRead(t, name, p, text)
		if !p.PrescanPasses(text) {
			continue
		}
		passed++
		if plan := p.PlanFully(text); !rewrite.IsPlainPass(plan) {
			t.Errorf("%s: the prescan passes %q, which the planner plans as %+v (err %v)", name, text, *plan, plan.Err)
		}
	}
	return passed
}

// checkPlainRead fails when the planner's PlainRead recognizes a text
// that the full planner does not plan as a read of that table, labelled
// with it: in the read phase old the driver runs such a text as written,
// without planning it, where the plan would run it as written too.
func checkPlainRead(t *testing.T, name string, p *rewrite.Planner, text string) {
	t.Helper()
	table, ok := p.PlainRead(text)
	if !ok {
		return
	}
	plan := p.PlanFully(text)
	label := ""
	var ue *rewrite.UnsupportedError
	switch {
	case plan.Read != nil && len(plan.Read.Tables) > 0:
		label = plan.Read.Tables[0].Map.Old
	case errors.As(plan.Err, &ue):
		label = ue.Table
	}
	if rewrite.IsPlainPass(plan) {
		return // runs as written too, without a read's metric
	}
	if plan.Action != rewrite.Read || plan.Kind != rewrite.KindSelect || plan.Reverse || plan.Session || plan.ChangesSchema || label != table {
		t.Errorf("%s: PlainRead(%q) = %s, which the planner plans as %+v (err %v)", name, text, table, *plan, plan.Err)
	}
}

// TestPrescanPassesOnlyPlainPasses runs every statement of the tests'
// corpora through the prescan and the full planner of each dialect: the
// prescan may pass a text only where the planner's plan is the plain
// pass-through.
func TestPrescanPassesOnlyPlainPasses(t *testing.T) {
	planners := prescanPlanners(t)
	texts := prescanCorpus(t)
	passed, plain, reads, plainReads := 0, 0, 0, 0
	for _, text := range texts {
		passed += checkPrescan(t, planners, text)
		for _, p := range planners {
			plan := p.PlanFully(text)
			if rewrite.IsPlainPass(plan) {
				plain++
			}
			if plan.Action == rewrite.Read {
				reads++
			}
			if _, ok := p.PlainRead(text); ok {
				plainReads++
			}
		}
	}
	t.Logf("%d texts, %d dialects: the planner passes %d plainly, the prescan %d; the planner plans %d reads, PlainRead recognizes %d",
		len(texts), len(planners), plain, passed, reads, plainReads)
	if plainReads == 0 {
		t.Error("PlainRead recognized no read of the corpora")
	}
	if passed < plain/4 {
		t.Errorf("the prescan passed %d of the %d plain passes: it should recognize the common ones", passed, plain)
	}
}

// TestPlainRead checks PlainRead's decisions on statements chosen for it.
func TestPlainRead(t *testing.T) {
	planners := prescanPlanners(t)
	for _, c := range []struct {
		sql   string
		table string // "": not recognized
	}{
		{"SELECT id, full_name FROM users WHERE id IN (?, -1)", "users"},
		{"select * from USERS u where u.id = $1", "users"},
		{"SELECT * FROM users JOIN memberships m ON m.user_id = users.id", ""},
		{"SELECT * FROM accounts", ""},
		{"SELECT * FROM ledger", ""},
		{"SELECT * FROM users FOR UPDATE", ""},
		{"WITH u AS (SELECT * FROM users) SELECT * FROM u", ""},
		{"SELECT * INTO t FROM users", ""},
		{"UPDATE users SET visits = 1", ""},
		{"SELECT * FROM users; DELETE FROM users", ""},
		{"SELECT * FROM audit", ""},
	} {
		for name, p := range planners {
			if table, _ := p.PlainRead(c.sql); table != c.table {
				t.Errorf("%s: PlainRead(%q) = %q, want %q", name, c.sql, table, c.table)
			}
			checkPlainRead(t, name, p, c.sql)
		}
	}
}

// TestPrescan checks the prescan's decisions on statements chosen for it.
func TestPrescan(t *testing.T) {
	planners := prescanPlanners(t)
	for _, c := range []struct {
		sql    string
		passes bool
	}{
		{"SELECT id, msg FROM audit WHERE id IN (?, -1)", true},
		{"  select * from audit where id = $1;  ", true},
		{"INSERT INTO audit (msg) VALUES ('a')", true},
		{"UPDATE audit SET msg = 'x' WHERE id = 1", true},
		{"WITH a AS (SELECT 1) DELETE FROM audit", true},
		{"SELECT * FROM users", false},
		{"SELECT * FROM audit WHERE msg = 'USERS'", false},
		{"SELECT * FROM \"Users_history\"", false},
		{"SELECT * FROM audit -- accounts", false},
		{"SELECT * FROM ledger", false},
		{"SELECT * FROM audit; SELECT 1", false},
		{"SELECT * INTO audit2 FROM audit", false},
		{"INSERT /* c */ INTO audit VALUES (1)", false},
		{"SELECT set_config('search_path', 'x', false)", false},
		{`SELECT * FROM U&"\0075sers"`, false},
		{"SELECT $$x$$", false},
		{"SELECT 'é' FROM audit", false},
		{"SELECT 1 /*! , 2 */", false},
		{"SET search_path = x", false},
		{"BEGIN", false},
		{"CREATE TABLE t (id int)", false},
		{"/* c */ SELECT 1", false},
	} {
		for name, p := range planners {
			if got := p.PrescanPasses(c.sql); got != c.passes {
				t.Errorf("%s: prescan passes %q: %v, want %v", name, c.sql, got, c.passes)
			}
		}
		checkPrescan(t, planners, c.sql)
	}
}

// FuzzPrescan: on any text, the prescan passes only what the full
// planner plans as the plain pass-through, in every dialect.
func FuzzPrescan(f *testing.F) {
	for _, s := range prescanCorpus(f) {
		if len(s) <= 2000 {
			f.Add(s)
		}
	}
	planners := prescanPlanners(f)
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 2000 {
			return
		}
		checkPrescan(t, planners, text)
	})
}
