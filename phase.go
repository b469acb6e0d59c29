package dualwrite

import (
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/metrics"
)

// WritePhaseEnv is the environment variable that overrides the mapping
// file's write phase. It is read on every statement, so a change takes effect
// on the next one.
const WritePhaseEnv = "DUALWRITE_WRITE_PHASE"

// Switch decides the phase in force for each statement: a programmatic
// override when one is set ([Switch.SetWrite]), else the environment, else
// the mapping file's default. An invalid value in the environment is logged
// and counted once per distinct value, and the last valid phase stays in
// force. A Switch is safe for concurrent use.
type Switch struct {
	override atomic.Pointer[mapping.WritePhase]
	env      atomic.Pointer[envPhase] // what the environment said last
	mu       sync.Mutex               // serializes re-parsing a changed value
	logger   *slog.Logger
	metrics  *metrics.Metrics
}

type envPhase struct {
	raw   string             // the variable's value
	phase mapping.WritePhase // the phase in force after reading raw ("" = default)
}

// NewSwitch returns a Switch with no override.
func NewSwitch() *Switch { return &Switch{} }

// SetWrite overrides the write phase for every connection of the
// connectors that share this Switch, until [Switch.ClearWrite].
func (s *Switch) SetWrite(p mapping.WritePhase) error {
	if _, err := mapping.ParseWritePhase(string(p)); err != nil {
		return err
	}
	s.override.Store(&p)
	return nil
}

// ClearWrite removes the override: the environment and the mapping file decide again.
func (s *Switch) ClearWrite() { s.override.Store(nil) }

// write returns the write phase in force; def is the mapping file's default.
func (s *Switch) write(def mapping.WritePhase) mapping.WritePhase {
	if p := s.override.Load(); p != nil {
		return *p
	}
	raw, set := os.LookupEnv(WritePhaseEnv)
	if !set {
		raw = ""
	}
	e := s.env.Load()
	if e == nil || e.raw != raw {
		e = s.reread(raw)
	}
	if e.phase == "" {
		return def
	}
	return e.phase
}

func (s *Switch) reread(raw string) *envPhase {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.env.Load()
	if prev != nil && prev.raw == raw {
		return prev
	}
	next := &envPhase{raw: raw}
	if raw != "" {
		p, err := mapping.ParseWritePhase(raw)
		if err == nil {
			next.phase = p
		} else {
			if prev != nil {
				next.phase = prev.phase
			}
			s.metrics.InvalidPhase(WritePhaseEnv)
			if s.logger != nil {
				s.logger.Error("dualwrite: ignoring invalid phase in the environment; the last valid phase stays",
					slog.String("variable", WritePhaseEnv), slog.String("error", err.Error()),
					slog.String("phase", string(next.phase)))
			}
		}
	}
	s.env.Store(next)
	return next
}

// attach gives the Switch a logger and metrics for invalid values, unless it has them.
func (s *Switch) attach(l *slog.Logger, m *metrics.Metrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logger == nil {
		s.logger = l
	}
	if s.metrics == nil {
		s.metrics = m
	}
}
