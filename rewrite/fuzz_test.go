package rewrite_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

// FuzzAnalyze plans arbitrary text with both test planners. It checks that
// nothing panics, that a Mirror plan's Capture only appends to the caller's
// statement, and, using SQLite as the oracle (prepare only, never execute),
// that a Capture or PreSelect is valid whenever the caller's statement is.
func FuzzAnalyze(f *testing.F) {
	for _, tc := range planCases {
		f.Add(tc.sql)
	}
	for _, tc := range analyzeTests {
		f.Add(tc.sql)
	}
	f.Add("UPDATE users SET id = $a::b(c) WHERE id = :a OR id = ?7")
	f.Add("INSERT INTO users (id) VALUES (x'00') ON CONFLICT (id) DO UPDATE SET visits = visits + 1 RETURNING *")
	db := openDB(f, false)
	planners := newPlanners()
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 2000 {
			return
		}
		st, err := rewrite.SQLite.Analyze(src)
		if err == nil {
			checkSpans(t, src, st)
		}
		for _, name := range []string{"plain", "strict"} {
			plan, _ := planners[name].Plan(src)
			if plan == nil {
				t.Fatalf("%s: nil plan", name)
			}
			switch plan.Action {
			case rewrite.Refuse:
				if plan.Err == nil {
					t.Fatalf("%s: Refuse without Err", name)
				}
				continue
			case rewrite.Pass:
				continue
			case rewrite.Read:
				checkRead(t, db, name, src, plan)
				continue
			}
			if err != nil {
				t.Fatalf("%s: Mirror plan for text that does not lex: %v", name, err)
			}
			if added, ok := strings.CutPrefix(plan.Capture, src[:st.End]); !ok ||
				!strings.HasPrefix(added, " RETURNING ") && !strings.HasPrefix(added, ", ") {
				t.Fatalf("%s: Capture %q does not append to %q at %d", name, plan.Capture, src, st.End)
			}
			if strings.IndexByte(src, 0) >= 0 {
				t.Fatalf("%s: text with a NUL byte is mirrored: %q", name, src)
			}
			if prepare(db, src) != nil {
				continue
			}
			if err := prepare(db, plan.Capture); err != nil {
				t.Fatalf("%s: %q prepares but its Capture %q does not: %v", name, src, plan.Capture, err)
			}
			if plan.PreSelect != "" {
				if err := prepare(db, plan.PreSelect); err != nil {
					t.Fatalf("%s: %q prepares but its PreSelect %q does not: %v", name, src, plan.PreSelect, err)
				}
			}
		}
	})
}

// checkSpans checks that every offset the analyzer reports lies in src.
func checkSpans(t *testing.T, src string, st *rewrite.Statement) {
	t.Helper()
	in := func(a, b int) bool { return 0 <= a && a <= b && b <= len(src) }
	if !in(st.End, len(src)) || !in(st.Target.Start, st.Target.End) || st.Target.End > st.End && st.Target.End != 0 ||
		!in(st.From.Start, st.From.End) || !in(st.Where.Start, st.Where.End) {
		t.Fatalf("Analyze(%q): spans out of range: %+v", src, st)
	}
	for _, p := range st.Params {
		if !in(int(p.Start), int(p.End)) || int(p.End) > st.End {
			t.Fatalf("Analyze(%q): param %+v beyond End %d", src, p, st.End)
		}
	}
}

// checkRead checks a read plan: it substitutes at least one table, and a
// query that prepares in SQLite has a substituted query that prepares too.
func checkRead(t *testing.T, db *sql.DB, name, src string, plan *rewrite.Plan) {
	t.Helper()
	if plan.Err != nil {
		if plan.Read != nil {
			t.Fatalf("%s: read plan with both Err and Read", name)
		}
		return
	}
	if plan.Read == nil || len(plan.Read.Tables) == 0 || plan.Read.NewQuery == "" {
		t.Fatalf("%s: read plan without a substitution: %+v", name, plan.Read)
	}
	if strings.IndexByte(src, 0) >= 0 {
		t.Fatalf("%s: text with a NUL byte is routed: %q", name, src)
	}
	if prepare(db, src) != nil {
		return
	}
	if err := prepare(db, plan.Read.NewQuery); err != nil {
		t.Fatalf("%s: %q prepares but its new-table query %q does not: %v", name, src, plan.Read.NewQuery, err)
	}
}
