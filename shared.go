package dualwrite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/dualwrite/dualwrite/internal/control"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/metrics"
)

// SharedPhases configures [WithSharedPhases].
type SharedPhases struct {
	// Fleet names the processes that share phases: every process of one
	// migration, whatever its program. Default "default".
	Fleet string
	// Refresh is how often the process reads the shared phases (default 1s,
	// at least 10ms): a change reaches every process of the fleet within
	// Refresh and one read. The process writes its own record every 5
	// refreshes, and at once when its phases change.
	Refresh time.Duration
	// Version is the program's version in the process's record; default
	// the main module's version in the build info.
	Version string
}

// WithSharedPhases makes the connector take its phases from the fleet's
// shared phases, in the control tables of its own database (dualwrite_*),
// instead of the mapping file's: `dualwrite phase set` changes them, for
// every process of the fleet, after checking that the change is safe.
// The override of the Switch and the environment still come first: the
// precedence is override, environment, control table, mapping file.
//
// The connector's first connection creates the control tables that are
// missing, reads the shared phases and registers the process; the
// connection fails if it cannot, since a process that does not know the
// fleet's phases, or that the fleet cannot see, is not safe to run. After
// that a background goroutine reads the phases every Refresh and writes
// the process's record (host, pid, version, mapping digest, the phases it
// runs and what decided them), until [Connector.Close] (sql.DB.Close)
// deletes it. When the control table cannot be read, the process keeps
// its last known phases, logs the error once, counts it, and logs when it
// can read them again. Statements never wait for the control table: they
// take the last phases read.
//
// A process whose mapping's digest differs from the one the shared phases
// were set with runs no phase that reads or writes the new tables on their
// own: read old, and write dual in place of both.
func WithSharedPhases(sp SharedPhases) Option {
	return func(c *config) error {
		if sp.Fleet == "" {
			sp.Fleet = control.DefaultFleet
		}
		if sp.Refresh == 0 {
			sp.Refresh = time.Second
		}
		if sp.Refresh < 10*time.Millisecond {
			return fmt.Errorf("dualwrite: WithSharedPhases: Refresh %v is less than 10ms", sp.Refresh)
		}
		if sp.Version == "" {
			sp.Version = "(unknown)"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				sp.Version = bi.Main.Version
			}
		}
		c.shared = &sp
		return nil
	}
}

// What decides a phase, in a process's record and its status.
const (
	decidedOverride    = "override"
	decidedEnvironment = "environment"
	decidedControl     = "control table"
	decidedCapped      = "control table, capped: this process runs another mapping"
	decidedMapping     = "mapping file"
)

// sharedState is what the control table said last, as the process runs it.
type sharedState struct {
	fleet   string
	self    string // the process's record
	phases  mapping.Phases
	by      string // decidedControl, decidedCapped, or decidedMapping (no shared phases yet)
	version int64
	readAt  time.Time
}

// shared reads a connector's shared phases and keeps its record.
type shared struct {
	cfg     SharedPhases
	c       *Connector
	store   *control.Store
	digest  string
	metrics *metrics.Fleet
	db      *sql.DB // over the base connector, one connection

	mu      sync.Mutex // serializes start and close
	started bool
	stop    chan struct{}
	done    chan struct{}

	// The loop's own.
	self    control.Process
	failing map[string]bool // by op: in a streak of errors, logged once
}

// baseOnly hides a base connector's Close from the control connection's
// sql.DB, which must not close the base connector the application's
// sql.DB still uses.
type baseOnly struct{ driver.Connector }

func newShared(c *Connector, cfg SharedPhases) (*shared, error) {
	s := &shared{cfg: cfg, c: c, store: control.New(c.drv.dialect), digest: c.drv.mapping.Digest(), failing: map[string]bool{}}
	if c.cfg.registerer != nil {
		var err error
		if s.metrics, err = metrics.NewFleet(c.cfg.registerer); err != nil {
			return nil, fmt.Errorf("dualwrite: registering metrics: %w", err)
		}
	}
	host, _ := os.Hostname()
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	s.self = control.Process{ID: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(suffix[:])), Fleet: cfg.Fleet,
		Host: host, PID: int64(os.Getpid()), Version: cfg.Version, Digest: s.digest, Refresh: cfg.Refresh}
	return s, nil
}

// start, on the connector's first connection, creates the control tables
// that are missing, reads the shared phases, registers the process and
// starts the refreshes; until it succeeds, every connection tries again.
func (s *shared) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil
	}
	if s.db == nil {
		s.db = sql.OpenDB(baseOnly{s.c.base})
		s.db.SetMaxOpenConns(1)
	}
	err := s.store.Ensure(ctx, s.db)
	if err == nil {
		err = s.refresh(ctx)
	}
	if err == nil {
		err = s.heartbeat(ctx)
	}
	if err != nil {
		return fmt.Errorf("dualwrite: shared phases of fleet %q: %w; the process needs the control tables %s, %s, %s and %s, "+
			"to read %s and to write its record in %s (grant the application's role that, and the right to create the tables or create them with dualwrite phase set)",
			s.cfg.Fleet, err, control.PhasesTable, control.TransitionsTable, control.ProcessesTable, control.VerifyTable, control.PhasesTable, control.ProcessesTable)
	}
	s.metrics.Phases(s.self.Write, writePhases, string(s.c.cfg.sw.Read(s.c.drv.mapping.Phases)), readPhases)
	refresh := func(ctx context.Context) { _ = s.refresh(ctx) } // the loop reports the errors
	s.c.cfg.sw.refresher.Store(&refresh)
	s.started = true
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.loop(s.stop, s.done)
	return nil
}

// refresh reads the shared phases into the Switch.
func (s *shared) refresh(ctx context.Context) error {
	p, ok, err := s.store.ReadPhases(ctx, s.db, s.cfg.Fleet)
	if err != nil {
		return err
	}
	if last := s.c.cfg.sw.shared.Load(); !ok && last != nil && last.version > 0 {
		// Dropped, or its row deleted: the mapping file's phases may be
		// less safe than the last known.
		return fmt.Errorf("the shared phases of fleet %q are gone from %s (dropped, or the row deleted); keeping version %d",
			s.cfg.Fleet, control.PhasesTable, last.version)
	}
	st := &sharedState{fleet: s.cfg.Fleet, self: s.self.ID, phases: s.c.drv.mapping.Phases, by: decidedMapping, readAt: time.Now()}
	if ok {
		st.phases, st.by, st.version = p.Phases, decidedControl, p.Version
		if p.Digest != s.digest {
			st.phases, st.by = control.Capped(p.Phases), decidedCapped
		}
	}
	prev := s.c.cfg.sw.shared.Swap(st)
	if prev != nil && (prev.phases != st.phases || prev.by != st.by) {
		s.c.cfg.logger.Info("dualwrite: the shared phases changed", slog.String("fleet", s.cfg.Fleet),
			slog.String("write_phase", string(st.phases.Write)), slog.String("read_phase", string(st.phases.Read)),
			slog.String("decided_by", st.by), slog.Int64("version", st.version))
	}
	return nil
}

// record returns the process's record as it runs now.
func (s *shared) record() control.Process {
	sw := s.c.cfg.sw
	def := s.c.drv.mapping.Phases
	p := s.self
	p.Write, p.Read = string(sw.Write(def.Write)), string(sw.Read(def))
	writeBy, readBy := sw.decidedBy()
	if st := sw.shared.Load(); st != nil {
		p.PhasesVersion, p.PhasesReadAt = st.version, st.readAt
		writeBy, readBy = or(writeBy, st.by), or(readBy, st.by)
	}
	p.DecidedBy = "write: " + writeBy + "; read: " + readBy
	// A read share sends some queries elsewhere: the record says so, and
	// the checks count the process as reading both phases.
	if r := sw.share(); r != nil && r.percent > 0 && string(r.phase) != p.Read && sw.safeRead(r.phase, def.Write) == r.phase {
		p.Read += "+" + r.text + "%"
	}
	return p
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// heartbeat writes the process's record.
func (s *shared) heartbeat(ctx context.Context) error {
	p := s.record()
	if err := s.store.Heartbeat(ctx, s.db, p); err != nil {
		return err
	}
	s.self.Write, s.self.Read, s.self.DecidedBy, s.self.PhasesVersion = p.Write, p.Read, p.DecidedBy, p.PhasesVersion
	return nil
}

// loop refreshes the phases and the record until stop is closed.
func (s *shared) loop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(s.cfg.Refresh)
	defer t.Stop()
	timeout := max(s.cfg.Refresh, time.Second) * control.HeartbeatEvery
	for n := 1; ; n++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		s.report("read", s.refresh(ctx))
		if st := s.c.cfg.sw.shared.Load(); st != nil {
			s.metrics.Age(time.Since(st.readAt))
		}
		p := s.record()
		if n%control.HeartbeatEvery == 0 || p.Write != s.self.Write || p.Read != s.self.Read ||
			p.DecidedBy != s.self.DecidedBy || p.PhasesVersion != s.self.PhasesVersion {
			s.report("heartbeat", s.heartbeat(ctx))
		}
		cancel()
		s.metrics.Phases(p.Write, writePhases, string(s.c.cfg.sw.Read(s.c.drv.mapping.Phases)), readPhases)
	}
}

var (
	writePhases = []string{string(mapping.WriteOff), string(mapping.WriteDual), string(mapping.WriteBoth)}
	readPhases  = []string{string(mapping.ReadOld), string(mapping.ReadCompare), string(mapping.ReadNew)}
)

// report counts a failure of op, and logs the first of a streak and the
// recovery after it.
func (s *shared) report(op string, err error) {
	if err == nil {
		if s.failing[op] {
			s.failing[op] = false
			s.c.cfg.logger.Info("dualwrite: the control table answers again", slog.String("fleet", s.cfg.Fleet), slog.String("op", op))
		}
		return
	}
	s.metrics.ControlError(op)
	if !s.failing[op] {
		s.failing[op] = true
		s.c.cfg.logger.Error("dualwrite: the control table cannot be used; the process keeps its last known phases",
			slog.String("fleet", s.cfg.Fleet), slog.String("op", op), slog.String("error", err.Error()))
	}
}

// close stops the refreshes and deletes the process's record.
func (s *shared) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	var err error
	if s.started {
		close(s.stop)
		<-s.done
		s.started = false
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = s.store.Leave(ctx, s.db, s.self.ID)
		cancel()
	}
	err = errors.Join(err, s.db.Close())
	s.db = nil
	return err
}
