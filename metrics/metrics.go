// Package metrics holds dualwrite's Prometheus collectors. Nothing is
// registered at import time: [New] registers them on the Registerer the
// caller gives, and a nil *Metrics records nothing.
//
// # Metrics
//
//   - dualwrite_writes_total{table,direction,operation,outcome}: writes on
//     mapped tables in the dual and both phases; table is the table
//     written, direction "forward" (an old table's write, mirrored into the
//     new table) or "reverse" (a new table's write, mirrored back into the
//     old table, in the both phase); outcome is "mirrored",
//     "statement_error" (the caller's own statement failed; nothing
//     written) or "mirror_error" (the mirror failed; nothing written).
//   - dualwrite_mirror_duration_seconds{table,direction,operation}: time of
//     a whole dual write (statement and mirror), successful ones only.
//   - dualwrite_passthrough_writes_total{table}: writes on mapped tables run
//     as written because the write phase is off.
//   - dualwrite_refused_total{table}: statements refused as unsupported;
//     table is the mapped table the refusal names, or "other" when it names
//     a table the mapping does not (a guarded table, a write to another
//     table), or none.
//   - dualwrite_reads_total{table,phase}: queries of mapped tables, by the
//     read phase they ran in (old, compare, new); table is the first mapped
//     table the query names.
//   - dualwrite_read_routes_total{phase,by}: the same queries by the read
//     phase chosen for them and how: "default" (the phase in force),
//     "context" (dualwrite.WithReadPhase) or "share" (a read share took the
//     query); a phase the write phase refuses is counted as old.
//   - dualwrite_read_compare_total{table,result}: comparisons in the compare
//     phase: "match", "mismatch", "error" (the new side failed; the caller
//     still got the old rows), or "not_compared" (a sampled query that the
//     wrapper cannot compare without false mismatches, and ran on the old
//     tables only).
//   - dualwrite_invalid_phase_total{variable}: invalid phase values seen in
//     the environment (the last valid phase stays in force).
//   - dualwrite_plan_cache_total{result}: plan cache lookups, "hit" or
//     "miss", and statements passed without one, "prescan".
//   - dualwrite_transitions_refused_total: phase changes the operator
//     endpoint (dualwrite.Handler) refused as unsafe.
//   - the backfill's collectors: see [Backfill]; a fleet's: see [Fleet].
//
// Label values are bounded: a table label is one of the names the mapping
// gives [New] or [Other], whatever name a statement holds; operation is
// insert, update or delete; no SQL text or argument ever becomes a label.
package metrics

import (
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is the set of dualwrite collectors. Its methods are safe for
// concurrent use and do nothing on a nil *Metrics.
type Metrics struct {
	writes       *prometheus.CounterVec
	mirrorTime   *prometheus.HistogramVec
	passthrough  *prometheus.CounterVec
	refused      *prometheus.CounterVec
	invalidPhase *prometheus.CounterVec
	planCache    *prometheus.CounterVec
	reads        *prometheus.CounterVec
	routes       *prometheus.CounterVec
	compares     *prometheus.CounterVec
	refusedPhase *prometheus.CounterVec
	hit, miss    prometheus.Counter // resolved once: looked up on every statement
	prescan      prometheus.Counter
	tables       map[string]bool // the table label values besides Other
}

// Other is the table label of everything the mapping does not name.
const Other = "other"

// New creates the collectors and registers them on reg. A collector that is
// already registered (a second connector on the same registry) is reused.
// tables are the table label values the methods keep (the mapping's old and
// new table names); they record any other table, and a name that is not
// valid UTF-8, as [Other], so that no statement can add a series or make
// the client library panic.
func New(reg prometheus.Registerer, tables []string) (*Metrics, error) {
	m := &Metrics{
		tables: make(map[string]bool, len(tables)),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_writes_total",
			Help: "Writes on mapped tables in the dual and both write phases, by direction and outcome.",
		}, []string{"table", "direction", "operation", "outcome"}),
		mirrorTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dualwrite_mirror_duration_seconds",
			Help:    "Duration of successful dual writes: the statement and its mirror.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}, []string{"table", "direction", "operation"}),
		passthrough: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_passthrough_writes_total",
			Help: "Writes on mapped tables run as written because the write phase is off.",
		}, []string{"table"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_refused_total",
			Help: "Statements on mapped tables refused as unsupported.",
		}, []string{"table"}),
		invalidPhase: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_invalid_phase_total",
			Help: "Invalid phase values seen in the environment; the last valid phase stayed.",
		}, []string{"variable"}),
		planCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_plan_cache_total",
			Help: "Plan cache lookups by result (hit or miss), and statements passed without one (prescan).",
		}, []string{"result"}),
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_reads_total",
			Help: "Queries of mapped tables by read phase.",
		}, []string{"table", "phase"}),
		routes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_read_routes_total",
			Help: "Queries of mapped tables by the read phase chosen for them and how it was chosen (default, context, share).",
		}, []string{"phase", "by"}),
		compares: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_read_compare_total",
			Help: "Comparisons of old and new query results in the compare phase, by result.",
		}, []string{"table", "result"}),
		refusedPhase: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_transitions_refused_total",
			Help: "Phase changes the operator endpoint refused as unsafe.",
		}, nil),
	}
	for _, c := range []**prometheus.CounterVec{&m.writes, &m.passthrough, &m.refused, &m.invalidPhase, &m.planCache, &m.reads, &m.routes, &m.compares, &m.refusedPhase} {
		if err := reuse(reg, c); err != nil {
			return nil, err
		}
	}
	if err := reuse(reg, &m.mirrorTime); err != nil {
		return nil, err
	}
	m.hit, m.miss = m.planCache.WithLabelValues("hit"), m.planCache.WithLabelValues("miss")
	m.prescan = m.planCache.WithLabelValues("prescan")
	for _, t := range tables {
		if utf8.ValidString(t) {
			m.tables[t] = true
		}
	}
	return m, nil
}

// table returns the label value of a table name.
func (m *Metrics) table(name string) string {
	if m.tables[name] {
		return name
	}
	return Other
}

// Write outcomes.
const (
	Mirrored       = "mirrored"
	StatementError = "statement_error"
	MirrorError    = "mirror_error"
)

// Directions of a dual write.
const (
	Forward = "forward" // a write to an old table, mirrored into its new table
	Reverse = "reverse" // a write to a new table, mirrored back into its old table
)

// Write records one dual write of table in direction (Forward or
// Reverse); d is recorded for mirrored writes only.
func (m *Metrics) Write(table, direction, operation, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	table = m.table(table)
	if direction != Reverse {
		direction = Forward
	}
	m.writes.WithLabelValues(table, direction, operation, outcome).Inc()
	if outcome == Mirrored {
		m.mirrorTime.WithLabelValues(table, direction, operation).Observe(d.Seconds())
	}
}

// Passthrough records a write on a mapped table run as written.
func (m *Metrics) Passthrough(table string) {
	if m != nil {
		m.passthrough.WithLabelValues(m.table(table)).Inc()
	}
}

// Refused records a refused statement; table is the table its refusal
// names, mapped or not.
func (m *Metrics) Refused(table string) {
	if m != nil {
		m.refused.WithLabelValues(m.table(table)).Inc()
	}
}

// InvalidPhase records an invalid phase value in the named variable.
func (m *Metrics) InvalidPhase(variable string) {
	if m != nil {
		m.invalidPhase.WithLabelValues(variable).Inc()
	}
}

// PlanCache records a plan cache lookup.
func (m *Metrics) PlanCache(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.hit.Inc()
	} else {
		m.miss.Inc()
	}
}

// Prescanned records a statement passed without a plan cache lookup: a
// scan of its text found no mapped or guarded table.
func (m *Metrics) Prescanned() {
	if m != nil {
		m.prescan.Inc()
	}
}

// Compare results.
const (
	Match       = "match"
	Mismatch    = "mismatch"
	Error       = "error"
	NotCompared = "not_compared"
)

// Read records a query of a mapped table in a read phase.
func (m *Metrics) Read(table, phase string) {
	if m != nil {
		m.reads.WithLabelValues(m.table(table), phase).Inc()
	}
}

// Route records the read phase chosen for a query of a mapped table, and
// how it was chosen.
func (m *Metrics) Route(phase, by string) {
	if m != nil {
		m.routes.WithLabelValues(phase, by).Inc()
	}
}

// TransitionRefused records a phase change refused as unsafe.
func (m *Metrics) TransitionRefused() {
	if m != nil {
		m.refusedPhase.WithLabelValues().Inc()
	}
}

// Compare records the result of one comparison.
func (m *Metrics) Compare(table, result string) {
	if m != nil {
		m.compares.WithLabelValues(m.table(table), result).Inc()
	}
}
