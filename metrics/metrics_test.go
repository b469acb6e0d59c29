package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite/metrics"
)

// TestTableLabels: every method records a table the mapping does not name,
// valid UTF-8 or not, as "other", and a mapped one by its name; a
// direction that is none is recorded as forward.
func TestTableLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, []string{"users", "accounts", "bad\xff"})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"users", "t\xff", "", "orders", "bad\xff"} {
		m.Write(table, "sideways", "insert", metrics.Mirrored, time.Millisecond)
		m.Passthrough(table)
		m.Refused(table)
		m.Read(table, "old")
		m.Compare(table, metrics.Match)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			for _, lp := range s.GetLabel() {
				if lp.GetName() == "direction" && lp.GetValue() != metrics.Forward {
					t.Errorf("%s: direction label %q, want %s for a value that is no direction", mf.GetName(), lp.GetValue(), metrics.Forward)
				}
				if lp.GetName() != "table" {
					continue
				}
				want := 4.0 // four names that the mapping does not name, or not validly
				if lp.GetValue() == "users" {
					want = 1
				} else if lp.GetValue() != metrics.Other {
					t.Errorf("%s: table label %q", mf.GetName(), lp.GetValue())
					continue
				}
				got := s.GetCounter().GetValue()
				if h := s.GetHistogram(); h != nil {
					got = float64(h.GetSampleCount())
				}
				if got != want {
					t.Errorf("%s{table=%q} = %v, want %v", mf.GetName(), lp.GetValue(), got, want)
				}
			}
		}
	}
}
