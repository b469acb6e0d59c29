package rewrite_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/rewrite"
)

var benchQueries = []string{
	"INSERT INTO users (id, full_name, email) VALUES (?, ?, ?)",
	"UPDATE users SET visits = visits + 1 WHERE id = ?",
	"UPDATE users SET id = id + 100, visits = 0 WHERE email LIKE ? AND visits > :min",
	"DELETE FROM users WHERE id = ?",
	"SELECT u.id, u.email FROM users u JOIN stats s ON s.user_id = u.id WHERE u.visits > ? ORDER BY u.id",
	"INSERT INTO users AS u (id, email) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET email = excluded.email, visits = u.visits + 1 WHERE u.email IS NOT excluded.email",
}

// BenchmarkPlanCached measures the path every repeated statement takes: a cache hit.
func BenchmarkPlanCached(b *testing.B) {
	p := rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{}, 100)
	for _, q := range benchQueries {
		p.Plan(q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, src := p.Plan(benchQueries[i%len(benchQueries)]); src != rewrite.Cached {
			b.Fatal("cache miss")
		}
	}
}

// BenchmarkPlanUnmappedMiss measures a cache miss on a statement that names
// no mapped table: lexing and the name scan, no analysis.
func BenchmarkPlanUnmappedMiss(b *testing.B) {
	const n = 1024
	qs := make([]string, n)
	for i := range qs {
		qs[i] = "SELECT o.id, o.name FROM orgs o JOIN stats s ON s.n = o.id WHERE o.name = ? AND s.user_id > " + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var p *rewrite.Planner
	for i := 0; i < b.N; i++ {
		if i%n == 0 {
			b.StopTimer()
			p = rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{}, n)
			b.StartTimer()
		}
		if plan, src := p.Plan(qs[i%n]); src != rewrite.Prescanned || plan.Action != rewrite.Pass {
			b.Fatalf("source %d action %v", src, plan.Action)
		}
	}
}

// BenchmarkPlanMappedMiss measures a cache miss on mapped writes: the full analysis and splicing.
func BenchmarkPlanMappedMiss(b *testing.B) {
	b.ReportAllocs()
	p := rewrite.NewPlannerBounded(rewrite.SQLite, testMapping(), &rewrite.Schema{}, 1, 1)
	for i := 0; i < b.N; i++ {
		// A cache of one byte keeps no plan: every call misses.
		if _, src := p.Plan(benchQueries[i%2+1]); src != rewrite.Planned {
			b.Fatal("not planned")
		}
	}
}

func BenchmarkAnalyze(b *testing.B) {
	for _, q := range benchQueries {
		b.Run(q[:6], func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(q)))
			for i := 0; i < b.N; i++ {
				if _, err := rewrite.SQLite.Analyze(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLexSQLite(b *testing.B) {
	q := benchQueries[len(benchQueries)-1]
	b.ReportAllocs()
	b.SetBytes(int64(len(q)))
	for i := 0; i < b.N; i++ {
		if _, err := rewrite.SQLite.Lex(q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMirrorSQL(b *testing.B) {
	tbl := rewrite.NewPlanner(rewrite.SQLite, testMapping(), nil, 1).Table("memberships")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = tbl.UpsertSQL(2 + i%8)
	}
}

// scaleDialects are the dialects the scale benchmarks plan on.
var scaleDialects = []*rewrite.Dialect{rewrite.SQLite, rewrite.Postgres}

// BenchmarkPlanNested plans statements nested 1k, 4k and 16k levels deep
// (cache misses): ns/op divided by the depth should stay about the same
// from one depth to the next.
func BenchmarkPlanNested(b *testing.B) {
	shapes := []struct {
		name string
		gen  func(int) string
	}{
		{"read", corpus.NestedRead},
		{"update", corpus.NestedUpdate},
		{"delete", corpus.NestedDelete},
		{"parens", corpus.DeepParens},
	}
	for _, d := range scaleDialects {
		for _, s := range shapes {
			for _, depth := range []int{1000, 4000, 16000} {
				b.Run(fmt.Sprintf("%s/%s/depth=%d", d.Name, s.name, depth), func(b *testing.B) {
					benchPlan(b, d, s.gen(depth))
				})
			}
		}
	}
}

// BenchmarkPlanBigInsert plans INSERTs of literal rows of 1, 4 and 16 MiB
// (cache misses): B/op divided by the size is the allocation per input
// byte, and ns/op divided by it should stay about the same.
func BenchmarkPlanBigInsert(b *testing.B) {
	for _, d := range scaleDialects {
		for _, mib := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("%s/MiB=%d", d.Name, mib), func(b *testing.B) {
				benchPlan(b, d, corpus.BigInsert(mib<<20))
			})
		}
	}
}

// benchPlan measures planning q, a cache miss every time: the planner's
// cache of one byte keeps no plan.
func benchPlan(b *testing.B, d *rewrite.Dialect, q string) {
	p := rewrite.NewPlannerBounded(d, testMapping(), &rewrite.Schema{}, 1, 1)
	b.ReportAllocs()
	b.SetBytes(int64(len(q)))
	b.ResetTimer() // not the making of q
	for i := 0; i < b.N; i++ {
		if plan, src := p.Plan(q); src != rewrite.Planned || plan.Action == rewrite.Pass {
			b.Fatalf("source %d, action %v", src, plan.Action)
		}
	}
}
