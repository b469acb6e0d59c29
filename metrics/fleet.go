package metrics

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Fleet holds the collectors of a process that shares its phases with a
// fleet (dualwrite.WithSharedPhases):
//
//   - dualwrite_phase{kind,phase}: 1 for the write phase (kind "write")
//     and the read phase (kind "read") the process runs, 0 for the others.
//   - dualwrite_phase_info_age_seconds: how long ago the process last read
//     the shared phases.
//   - dualwrite_control_errors_total{op}: failures to read the shared phases
//     (op "read"; the process keeps its last known phases) or to write its
//     record (op "heartbeat").
//
// Its methods do nothing on a nil *Fleet.
type Fleet struct {
	phase *prometheus.GaugeVec
	age   prometheus.Gauge
	errs  *prometheus.CounterVec
}

// NewFleet creates the collectors and registers them on reg, reusing those
// already registered.
func NewFleet(reg prometheus.Registerer) (*Fleet, error) {
	f := &Fleet{
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dualwrite_phase",
			Help: "1 for the write and read phases the process runs, 0 for the others.",
		}, []string{"kind", "phase"}),
		age: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dualwrite_phase_info_age_seconds",
			Help: "Seconds since the process last read the fleet's shared phases.",
		}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_control_errors_total",
			Help: "Failures to read the shared phases (op read) or to write the process's record (op heartbeat).",
		}, []string{"op"}),
	}
	if err := reuse(reg, &f.phase); err != nil {
		return nil, err
	}
	if err := reuse(reg, &f.age); err != nil {
		return nil, err
	}
	if err := reuse(reg, &f.errs); err != nil {
		return nil, err
	}
	return f, nil
}

// reuse registers *c on reg, or replaces it with the collector of the same
// kind already registered.
func reuse[C prometheus.Collector](reg prometheus.Registerer, c *C) error {
	err := reg.Register(*c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		existing, ok := are.ExistingCollector.(C)
		if !ok {
			return err
		}
		*c = existing
		return nil
	}
	return err
}

// Phases records the phases the process runs, among all the phases of
// each kind.
func (f *Fleet) Phases(write string, writes []string, read string, reads []string) {
	if f == nil {
		return
	}
	for _, k := range []struct {
		kind, now string
		all       []string
	}{{"write", write, writes}, {"read", read, reads}} {
		for _, p := range k.all {
			v := 0.0
			if p == k.now {
				v = 1
			}
			f.phase.WithLabelValues(k.kind, p).Set(v)
		}
	}
}

// Age records how long ago the shared phases were last read.
func (f *Fleet) Age(d time.Duration) {
	if f != nil {
		f.age.Set(d.Seconds())
	}
}

// ControlError records a failure of op ("read" or "heartbeat").
func (f *Fleet) ControlError(op string) {
	if f != nil {
		f.errs.WithLabelValues(op).Inc()
	}
}
