package rewrite_test

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

// heapAfterGC returns the bytes of the live heap.
func heapAfterGC() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// bigStatement returns a statement of about size bytes: an unmapped query
// that the prescan leaves to the planner (it begins with a comment), or,
// when mapped, an INSERT into a mapped table, distinct for each i.
func bigStatement(size, i int, mapped bool) string {
	pad := strings.Repeat("x", size)
	if mapped {
		return "INSERT INTO users (id, full_name) VALUES (" + strconv.Itoa(i) + ", '" + pad + "')"
	}
	return "/* big */ SELECT '" + pad + "' FROM orgs WHERE id = " + strconv.Itoa(i)
}

// TestPlanCacheKeepsNoLongTexts: the plans of long statements on no mapped
// table cost the cache a fixed amount each, not their text.
func TestPlanCacheKeepsNoLongTexts(t *testing.T) {
	const n, size = 32, 1 << 20
	p := rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{}, 1000)
	before := heapAfterGC()
	for i := range n {
		if plan, src := p.Plan(bigStatement(size, i, false)); src != rewrite.Planned || plan.Action != rewrite.Pass {
			t.Fatalf("statement %d: source %d, action %v", i, src, plan.Action)
		}
	}
	kept := heapAfterGC() - before
	runtime.KeepAlive(p)
	t.Logf("%d statements of %d KiB on no mapped table: the cache kept %d KiB", n, size>>10, kept>>10)
	if kept > 1<<20 {
		t.Fatalf("the cache kept %d KiB for %d statements on no mapped table, want under 1 MiB", kept>>10, n)
	}
	// Still cached, by digest.
	if _, src := p.Plan(bigStatement(size, 3, false)); src != rewrite.Cached {
		t.Fatal("a long statement planned before was not cached")
	}
	// A text of the same length but another content is another entry.
	q := bigStatement(size, 3, false)
	q = strings.Replace(q, "orgs", "user", 1)
	if plan, src := p.Plan(q); src != rewrite.Planned || plan.Action != rewrite.Pass {
		t.Fatalf("a different text of the same length: source %d, action %v", src, plan.Action)
	}
	mapped := bigStatement(size, 3, true)
	if _, src := p.Plan(mapped); src != rewrite.Planned {
		t.Fatal("a mapped statement hit another text's entry")
	}
}

// TestPlanCacheBoundedByBytes: plans of long mapped statements, which hold
// texts as long as the statement, are kept within the byte bound, as many
// as fit in it; a plan larger than an eighth of it is not cached at all.
func TestPlanCacheBoundedByBytes(t *testing.T) {
	const n, size, bound = 32, 256 << 10, 4 << 20
	p := rewrite.NewPlannerBounded(rewrite.SQLite, testMapping(), &rewrite.Schema{}, 1000, bound)
	before := heapAfterGC()
	for i := range n {
		if plan, _ := p.Plan(bigStatement(size, i, true)); plan.Action != rewrite.Mirror {
			t.Fatalf("statement %d: action %v", i, plan.Action)
		}
	}
	kept := heapAfterGC() - before
	runtime.KeepAlive(p)
	t.Logf("%d mapped statements of %d KiB, bound %d KiB: the cache kept %d KiB", n, size>>10, bound>>10, kept>>10)
	if kept > bound+bound/4 {
		t.Fatalf("the cache kept %d KiB, bound %d KiB", kept>>10, bound>>10)
	}
	// Each plan holds the statement's text (its capture) and a little more.
	entries, weight := p.CacheEntries()
	if fit := bound / size; entries == 0 || entries > fit || weight > bound {
		t.Fatalf("the cache holds %d plans of %d KiB weighing %d KiB, want 1 to %d within %d KiB", entries, size>>10, weight>>10, fit, bound>>10)
	}
	huge := bigStatement(bound/4, 0, true)
	p.Plan(huge)
	if _, src := p.Plan(huge); src == rewrite.Cached {
		t.Fatal("a plan larger than an eighth of the bound was cached")
	}
}

// BenchmarkPlanCacheRetained reports the heap the plan cache keeps per
// distinct 1 MiB statement on no mapped table ("kept-B/stmt").
func BenchmarkPlanCacheRetained(b *testing.B) {
	const size = 1 << 20
	p := rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{}, 1000)
	before := heapAfterGC()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Plan(bigStatement(size, i%1000, false))
	}
	b.StopTimer()
	kept := heapAfterGC() - before
	runtime.KeepAlive(p)
	b.ReportMetric(float64(kept)/float64(min(b.N, 1000)), "kept-B/stmt")
}

// BenchmarkPlanCachedLong measures a cache hit on an 8 KiB statement,
// whose key is its digest.
func BenchmarkPlanCachedLong(b *testing.B) {
	p := rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{}, 100)
	q := bigStatement(8<<10, 1, true)
	p.Plan(q)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, src := p.Plan(q); src != rewrite.Cached {
			b.Fatal("cache miss")
		}
	}
}

// TestPlanCacheCountsWhatItKeeps: whatever a long statement's plan is (a
// refusal, a read, a mirrored write), the cache keeps no more than its byte
// bound: no plan keeps the statement's text alive behind the count.
func TestPlanCacheCountsWhatItKeeps(t *testing.T) {
	const n, size, bound = 16, 1 << 20, 4 << 20
	pad := func(i int) string { return strings.Repeat("y", size) + strconv.Itoa(i) }
	for _, c := range []struct {
		name   string
		action rewrite.Action
		sql    func(i int) string
	}{
		{"refused, unmapped target", rewrite.Refuse, func(i int) string {
			return `UPDATE "t` + strconv.Itoa(i) + `" SET x = (SELECT count(*) FROM users) WHERE CURRENT OF c AND y = '` + pad(i) + `'`
		}},
		{"refused", rewrite.Refuse, func(i int) string { return `UPDATE users SET x = 1 WHERE CURRENT OF c; SELECT '` + pad(i) + `'` }},
		{"read", rewrite.Read, func(i int) string { return `SELECT * FROM users WHERE full_name = '` + pad(i) + `'` }},
		{"mirrored", rewrite.Mirror, func(i int) string { return `UPDATE users SET full_name = '` + pad(i) + `' WHERE id = 1` }},
	} {
		for _, d := range []*rewrite.Dialect{rewrite.SQLite, rewrite.Postgres} {
			t.Run(c.name+"/"+d.Name, func(t *testing.T) {
				p := rewrite.NewPlannerBounded(d, testMapping(), &rewrite.Schema{}, 1000, bound)
				before := heapAfterGC()
				for i := range n {
					if plan, _ := p.Plan(c.sql(i)); plan.Action != c.action {
						t.Fatalf("action %v, want %v", plan.Action, c.action)
					}
				}
				kept := heapAfterGC() - before
				runtime.KeepAlive(p)
				if kept > bound+bound/4 {
					t.Fatalf("%d statements of %d KiB: the cache kept %d KiB, bound %d KiB", n, size>>10, kept>>10, bound>>10)
				}
			})
		}
	}
}

// TestPlanCacheResistsScans: hot statements stay cached through a scan of
// one-off texts and through a cycle over ten times as many texts as the
// cache holds, where a least-recently-used cache would evict them (249
// other texts run between two uses of a hot one).
func TestPlanCacheResistsScans(t *testing.T) {
	const size, hot = 100, 50
	hotText := func(i int) string { return "UPDATE users SET visits = visits + 1 WHERE id = " + strconv.Itoa(i) }
	for _, c := range []struct {
		name string
		text func(i int) string // the i-th statement of the workload
	}{
		{"scan", func(i int) string { return "DELETE FROM users WHERE id = " + strconv.Itoa(i) }},
		{"cycle", func(i int) string { return "DELETE FROM users WHERE id = " + strconv.Itoa(i%(10*size)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := rewrite.NewPlanner(rewrite.SQLite, testMapping(), &rewrite.Schema{}, size)
			for range 10 {
				for h := range hot {
					p.Plan(hotText(h))
				}
			}
			for i := range 50 * size {
				p.Plan(c.text(i))
				if i%5 == 0 {
					p.Plan(hotText(i / 5 % hot)) // each hot statement every 250 statements, 200 of them others
				}
			}
			evicted := 0
			for h := range hot {
				if _, src := p.Plan(hotText(h)); src != rewrite.Cached {
					evicted++
				}
			}
			if evicted > 0 {
				t.Errorf("%d of %d hot statements evicted by a %s of %d texts", evicted, hot, c.name, 50*size)
			}
		})
	}
}
