package dualwrite_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/mapping"
)

// routedEnv is an env whose users row 1 reads "Ada Lovelace" from the old
// table and "Countess Lovelace" from the new one, so that a query's result
// tells which side served it.
func routedEnv(t *testing.T, opts ...dualwrite.Option) (*env, func(context.Context) string) {
	t.Helper()
	e := newEnv(t, opts...)
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	mustExec(t, e.raw, "UPDATE accounts SET first_name = 'Countess' WHERE account_id = 1")
	name := func(ctx context.Context) string {
		var s string
		if err := e.db.QueryRowContext(ctx, "SELECT full_name FROM users WHERE id = ?", 1).Scan(&s); err != nil {
			t.Error(err)
		}
		return s
	}
	return e, name
}

const (
	fromOld = "Ada Lovelace"
	fromNew = "Countess Lovelace"
)

// TestWithReadPhase: a query run with WithReadPhase reads in that phase,
// whatever the Switch says; others read in the phase in force. While the
// write phase is off the context's new is refused like any other: the
// query reads the old table. An invalid phase is an error.
func TestWithReadPhase(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, name := routedEnv(t, dualwrite.WithRegisterer(reg))
	bg := context.Background()
	newCtx, err := dualwrite.WithReadPhase(bg, mapping.ReadNew)
	if err != nil {
		t.Fatal(err)
	}
	oldCtx, err := dualwrite.WithReadPhase(bg, " OLD ")
	if err != nil {
		t.Fatal(err)
	}
	if got := name(bg); got != fromOld {
		t.Fatalf("in read phase old: %q, want %q", got, fromOld)
	}
	if got := name(newCtx); got != fromNew {
		t.Fatalf("with WithReadPhase(new): %q, want %q", got, fromNew)
	}
	if err := e.sw.SetRead(mapping.ReadNew, mapping.WriteDual); err != nil {
		t.Fatal(err)
	}
	if got, gotOld := name(bg), name(oldCtx); got != fromNew || gotOld != fromOld {
		t.Fatalf("in read phase new: %q and, with WithReadPhase(old), %q; want %q and %q", got, gotOld, fromNew, fromOld)
	}
	e.sw.ClearRead()
	if err := e.sw.SetWrite(mapping.WriteOff); err != nil {
		t.Fatal(err)
	}
	if got := name(newCtx); got != fromOld {
		t.Fatalf("with WithReadPhase(new) while writes are off: %q, want %q (refused)", got, fromOld)
	}
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"phase": "old", "by": "default"}, 1},
		{map[string]string{"phase": "new", "by": "context"}, 1},
		{map[string]string{"phase": "new", "by": "default"}, 1},
		{map[string]string{"phase": "old", "by": "context"}, 2}, // the old context, and the refused new one
	} {
		if got := counterValue(t, reg, "dualwrite_read_routes_total", c.labels); got != c.want {
			t.Errorf("dualwrite_read_routes_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if _, err := dualwrite.WithReadPhase(bg, "sideways"); err == nil || !strings.Contains(err.Error(), "old, compare, new") {
		t.Fatalf("WithReadPhase(sideways) = %v, want an error naming the valid phases", err)
	}
}

// within fails the test unless got, a share of n independent trials, is
// within five standard deviations of p.
func within(t *testing.T, what string, got float64, n int, p float64) {
	t.Helper()
	sd := math.Sqrt(p * (1 - p) / float64(n))
	if math.Abs(got-p) > 5*sd {
		t.Errorf("%s: %.4f of %d, want %.4f within %.4f (5 standard deviations)", what, got, n, p, 5*sd)
	}
}

// TestReadShare: a read share sends its percent of the queries to its
// phase, from 8 goroutines at once, within statistical bounds; queries
// that carry a routing key take the same side every time, and the keys
// split by the same percent. The environment's share works like
// SetReadShare's, which wins over it.
func TestReadShare(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, name := routedEnv(t, dualwrite.WithRegisterer(reg))
	e.db.SetMaxOpenConns(8)
	if err := e.sw.SetReadShare(mapping.ReadNew, 20); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 400
	var mu sync.Mutex
	served := map[string]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[string]int{}
			for range each {
				local[name(context.Background())]++
			}
			mu.Lock()
			defer mu.Unlock()
			for k, v := range local {
				served[k] += v
			}
		}()
	}
	wg.Wait()
	if served[fromOld]+served[fromNew] != workers*each {
		t.Fatalf("results %v, want %d from the two sides", served, workers*each)
	}
	within(t, "queries served from new", float64(served[fromNew])/(workers*each), workers*each, 0.2)
	if got := counterValue(t, reg, "dualwrite_read_routes_total", map[string]string{"phase": "new", "by": "share"}); got != float64(served[fromNew]) {
		t.Errorf("dualwrite_read_routes_total{new,share} = %v, want %d", got, served[fromNew])
	}

	// Sticky by key.
	const keys = 2000
	onNew := 0
	for k := range keys {
		ctx := dualwrite.WithRoutingKey(context.Background(), fmt.Sprint("tenant-", k))
		first := name(ctx)
		for range 2 {
			if got := name(ctx); got != first {
				t.Fatalf("key tenant-%d: %q, then %q", k, first, got)
			}
		}
		if first == fromNew {
			onNew++
		}
	}
	within(t, "keys served from new", float64(onNew)/keys, keys, 0.2)

	// The environment's share, and SetReadShare's over it.
	e.sw.ClearReadShare()
	t.Setenv(dualwrite.ReadShareEnv, "new:100")
	if got := name(context.Background()); got != fromNew {
		t.Fatalf("with %s=new:100: %q", dualwrite.ReadShareEnv, got)
	}
	if err := e.sw.SetReadShare(mapping.ReadNew, 0); err != nil {
		t.Fatal(err)
	}
	if got := name(context.Background()); got != fromOld {
		t.Fatalf("with SetReadShare(new, 0) over the environment's new:100: %q", got)
	}
	e.sw.ClearReadShare()
	t.Setenv(dualwrite.ReadShareEnv, "new:lots")
	if got := name(context.Background()); got != fromNew {
		t.Fatalf("after an invalid share: %q, want the last valid one (new:100) in force", got)
	}
	if got := counterValue(t, reg, "dualwrite_invalid_phase_total", map[string]string{"variable": dualwrite.ReadShareEnv}); got != 1 {
		t.Fatalf("invalid shares counted %v, want 1", got)
	}
	for _, c := range []struct {
		p   mapping.ReadPhase
		pct float64
	}{{mapping.ReadNew, 101}, {mapping.ReadNew, -1}, {"sideways", 5}, {mapping.ReadNew, math.NaN()}} {
		if err := e.sw.SetReadShare(c.p, c.pct); err == nil {
			t.Errorf("SetReadShare(%q, %v) accepted", c.p, c.pct)
		}
	}
}
