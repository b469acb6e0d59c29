package dualwrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/metrics"
)

// The environment variables that override the mapping file's phases. They
// are read on every statement, so a change takes effect on the next one.
const (
	WritePhaseEnv = "DUALWRITE_WRITE_PHASE"
	ReadPhaseEnv  = "DUALWRITE_READ_PHASE"
)

// Switch decides the phases in force for each statement: a programmatic
// override when one is set ([Switch.SetWrite], [Switch.SetRead]), else the
// environment, else the fleet's shared phases when a connector shares them
// ([WithSharedPhases]), else the mapping file's default. An invalid value in the
// environment when a connector is created is an error (see [NewConnector]);
// one that appears later is logged and counted once per distinct value, and
// the last valid phase stays in force. Reading from the new tables (read phase
// compare or new) while writes are off is unsafe, since the new tables do
// not follow the old ones: such a combination is refused (logged, counted,
// and reads stay on the old tables). A Switch is safe for concurrent use.
type Switch struct {
	writeOverride atomic.Pointer[mapping.WritePhase]
	readOverride  atomic.Pointer[mapping.ReadPhase]
	write         envVar
	read          envVar
	// The read share: SetReadShare's, else the environment's (ReadShareEnv),
	// parsed once per value.
	shareOverride atomic.Pointer[readShare]
	shareEnv      envVar
	shareParsed   atomic.Pointer[readShare]
	// shared is what the control table said last (WithSharedPhases), and
	// refresher reads it again now.
	shared    atomic.Pointer[sharedState]
	refresher atomic.Pointer[func(context.Context)]

	mu      sync.Mutex // serializes re-parsing a changed value and attach
	logger  *slog.Logger
	metrics *metrics.Metrics
	unsafe  atomic.Pointer[string] // the last unsafe combination reported
}

// envVar is what one environment variable said last.
type envVar struct {
	last atomic.Pointer[envValue]
}

type envValue struct {
	raw   string // the variable's value
	phase string // the phase in force after reading raw ("" = the mapping's default)
}

// NewSwitch returns a Switch with no override.
func NewSwitch() *Switch { return &Switch{} }

// SetWrite overrides the write phase for every connection of the connectors
// that share this Switch, until [Switch.ClearWrite].
func (s *Switch) SetWrite(p mapping.WritePhase) error {
	if _, err := mapping.ParseWritePhase(string(p)); err != nil {
		return err
	}
	s.writeOverride.Store(&p)
	return nil
}

// ClearWrite removes the write override: the environment and the mapping
// file decide again.
func (s *Switch) ClearWrite() { s.writeOverride.Store(nil) }

// SetRead overrides the read phase until [Switch.ClearRead]. def is the
// mapping file's write phase, used to refuse reading from the new tables
// while writes are off.
func (s *Switch) SetRead(p mapping.ReadPhase, def mapping.WritePhase) error {
	if _, err := mapping.ParseReadPhase(string(p)); err != nil {
		return err
	}
	if p != mapping.ReadOld && s.Write(def) == mapping.WriteOff {
		return fmt.Errorf("dualwrite: read phase %s refused: the write phase is off, so the new tables do not follow the old ones; set the write phase to dual (and backfill) first", p)
	}
	s.readOverride.Store(&p)
	return nil
}

// ClearRead removes the read override.
func (s *Switch) ClearRead() { s.readOverride.Store(nil) }

// Write returns the write phase in force; def is the mapping file's default.
func (s *Switch) Write(def mapping.WritePhase) mapping.WritePhase {
	if p := s.writeOverride.Load(); p != nil {
		return *p
	}
	return s.writeDefault(def)
}

// writeDefault returns the write phase in force without the override.
func (s *Switch) writeDefault(def mapping.WritePhase) mapping.WritePhase {
	if p := s.env(&s.write, WritePhaseEnv, parseWrite); p != "" {
		return mapping.WritePhase(p)
	}
	if st := s.shared.Load(); st != nil {
		return st.phases.Write
	}
	return def
}

// Read returns the read phase in force, given the mapping file's defaults.
func (s *Switch) Read(def mapping.Phases) mapping.ReadPhase {
	if o := s.readOverride.Load(); o != nil {
		return s.safeRead(*o, def.Write)
	}
	return s.safeRead(s.readDefault(def), def.Write)
}

// readDefault returns the read phase asked for without the override,
// before the check against the write phase.
func (s *Switch) readDefault(def mapping.Phases) mapping.ReadPhase {
	if e := s.env(&s.read, ReadPhaseEnv, parseRead); e != "" {
		return mapping.ReadPhase(e)
	}
	if st := s.shared.Load(); st != nil {
		return st.phases.Read
	}
	return def.Read
}

// safeRead returns read phase p, unless the write phase in force (def:
// the mapping file's) is off and p reads the new tables: then it reports
// the unsafe combination and returns old.
func (s *Switch) safeRead(p mapping.ReadPhase, def mapping.WritePhase) mapping.ReadPhase {
	if p != mapping.ReadOld && s.Write(def) == mapping.WriteOff {
		s.reportUnsafe(p)
		return mapping.ReadOld
	}
	if s.unsafe.Load() != nil {
		s.unsafe.Store(nil) // report the next unsafe combination again
	}
	return p
}

// decidedBy says what decides the write and the read phase, "" where
// neither the override nor the environment does.
func (s *Switch) decidedBy() (write, read string) {
	if s.writeOverride.Load() != nil {
		write = decidedOverride
	} else if s.env(&s.write, WritePhaseEnv, parseWrite) != "" {
		write = decidedEnvironment
	}
	if s.readOverride.Load() != nil {
		read = decidedOverride
	} else if s.env(&s.read, ReadPhaseEnv, parseRead) != "" {
		read = decidedEnvironment
	}
	return write, read
}

func parseWrite(raw string) (string, error) {
	p, err := mapping.ParseWritePhase(raw)
	return string(p), err
}

func parseRead(raw string) (string, error) {
	p, err := mapping.ParseReadPhase(raw)
	return string(p), err
}

// env returns the phase the variable sets, "" for none.
func (s *Switch) env(v *envVar, name string, parse func(string) (string, error)) string {
	raw := os.Getenv(name)
	if e := v.last.Load(); e != nil && e.raw == raw {
		return e.phase
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := v.last.Load()
	if prev != nil && prev.raw == raw {
		return prev.phase
	}
	next := &envValue{raw: raw}
	if raw != "" {
		p, err := parse(raw)
		if err == nil {
			next.phase = p
		} else {
			if prev != nil {
				next.phase = prev.phase
			}
			s.metrics.InvalidPhase(name)
			if s.logger != nil {
				s.logger.Error("dualwrite: ignoring invalid phase in the environment; the last valid phase stays",
					slog.String("variable", name), slog.String("error", err.Error()),
					slog.String("phase", next.phase))
			}
		}
	}
	v.last.Store(next)
	return next.phase
}

// checkEnv is the start-up check of the environment: a value that is not a
// phase in either variable is an error wrapping [ErrInvalidPhase] that names
// the variable and the valid values. Valid values become the last valid
// phases, which stay in force if a variable later holds an invalid value.
func (s *Switch) checkEnv() error {
	for _, v := range []struct {
		name  string
		parse func(string) (string, error)
		last  *envVar
	}{{WritePhaseEnv, parseWrite, &s.write}, {ReadPhaseEnv, parseRead, &s.read}, {ReadShareEnv, parseShareText, &s.shareEnv}} {
		if raw := os.Getenv(v.name); raw != "" {
			if _, err := v.parse(raw); err != nil {
				return fmt.Errorf("%w: %s: %w; set it to a valid value, or unset it to use the mapping file's phase", ErrInvalidPhase, v.name, err)
			}
		}
		s.env(v.last, v.name, v.parse)
	}
	return nil
}

// reportUnsafe logs and counts an unsafe read phase once per phase.
func (s *Switch) reportUnsafe(p mapping.ReadPhase) {
	key := string(p)
	if last := s.unsafe.Load(); last != nil && *last == key {
		return
	}
	s.unsafe.Store(&key)
	s.metrics.InvalidPhase(ReadPhaseEnv)
	if s.logger != nil {
		s.logger.Error("dualwrite: refusing read phase while the write phase is off; reads stay on the old tables",
			slog.String("read_phase", key), slog.String("error", errUnsafePhases.Error()))
	}
}

var errUnsafePhases = errors.New("the new tables do not follow the old ones while writes are off: set DUALWRITE_WRITE_PHASE=dual first")

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
