package dualwrite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dualwrite/dualwrite/internal/schema"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/metrics"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Connector is a driver.Connector that wraps another one with a mapping. It
// checks the mapping against the live schema on its first successful
// connection and refuses to connect while they do not match, and checks
// again after each schema change run through its connections. It is safe
// for concurrent use.
type Connector struct {
	base    driver.Connector
	drv     *Driver
	cfg     config
	metrics *metrics.Metrics

	mu sync.Mutex // serializes the schema checks
	// state is the planner of the last check of the live schema, and the
	// schema generation it was made at; gen counts the schema changes run
	// through the connector's connections (recheck.go).
	state atomic.Pointer[schemaState]
	gen   atomic.Uint64
	// session holds the settings the plans depend on, as the connection
	// the schema was first checked on had them; written before state is
	// first stored, read-only after it.
	session []string
	// roundTrip runs checkRoundTrip once, when the write phase both first
	// applies.
	roundTrip sync.Once
	// shared reads the fleet's phases and keeps the process's record;
	// nil without WithSharedPhases.
	shared *shared
}

var _ driver.Connector = (*Connector)(nil)

func newConfig(opts []Option) (config, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return cfg, errors.New("dualwrite: nil Option")
		}
		if err := o(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func newConnector(base driver.Connector, drv *Driver) (*Connector, error) {
	cfg, err := newConfig(drv.opts)
	if err != nil {
		return nil, err
	}
	c := &Connector{base: base, drv: drv, cfg: cfg}
	if cfg.registerer != nil {
		if c.metrics, err = metrics.New(cfg.registerer, tableNames(drv.mapping)); err != nil {
			return nil, fmt.Errorf("dualwrite: registering metrics: %w", err)
		}
	}
	if c.cfg.sw == nil {
		c.cfg.sw = NewSwitch()
	}
	c.cfg.sw.attach(cfg.logger, c.metrics)
	if err := c.cfg.sw.checkEnv(); err != nil {
		return nil, err
	}
	if cfg.shared != nil {
		if c.shared, err = newShared(c, *cfg.shared); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close stops reading the shared phases ([WithSharedPhases]) and deletes
// the process's record; sql.DB.Close calls it. The base connector is the
// caller's: Close leaves it open.
func (c *Connector) Close() error {
	if c.shared != nil {
		return c.shared.close()
	}
	return nil
}

// Driver returns the dualwrite driver.
func (c *Connector) Driver() driver.Driver { return c.drv }

// Switch returns the Switch the connector takes its phases from.
func (c *Connector) Switch() *Switch { return c.cfg.sw }

// Connect opens a connection with the base connector. The first successful
// connection checks the mapping against the live schema; while it does not
// match, Connect returns an error wrapping [ErrSchemaMismatch].
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if err = c.checkConn(ctx, inner); err == nil && c.shared != nil {
		err = c.shared.start(ctx)
	}
	if err != nil {
		_ = inner.Close()
		return nil, err
	}
	return &conn{inner: inner, c: c}, nil
}

// checkConn checks a new connection: the first one checks the mapping
// against the live schema; every one must have the session settings the
// plans depend on as the first had them (a search_path, a role or
// standard_conforming_strings set per role, per database or in the DSN
// after the first connection may differ).
func (c *Connector) checkConn(ctx context.Context, inner driver.Conn) error {
	session, err := c.readSession(ctx, inner)
	if err != nil {
		return err
	}
	if c.state.Load() == nil {
		if err := c.check(ctx, inner, session); err != nil {
			return err
		}
	}
	return c.sameSession(session)
}

// readSession reads the session settings the plans depend on, on inner.
func (c *Connector) readSession(ctx context.Context, inner driver.Conn) ([]string, error) {
	if c.cfg.noCheck {
		return nil, nil
	}
	session, err := schema.Session(ctx, innerConn{Conn: inner}, c.drv.dialect)
	if err != nil {
		return nil, fmt.Errorf("dualwrite: checking a new connection: %w", err)
	}
	if c.drv.dialect.Name == rewrite.MySQL.Name {
		if err := checkMySQLSession(session); err != nil {
			return nil, fmt.Errorf("%w%s: %w", ErrSchemaMismatch, c.source(), err)
		}
	}
	return session, nil
}

// sameSession returns an error wrapping [ErrSchemaMismatch] when a
// connection's session settings differ from those the schema was first
// checked with. It must be called once the first check succeeded.
func (c *Connector) sameSession(session []string) error {
	if name, got, want, ok := schema.SessionDiffers(c.drv.dialect, session, c.session); ok {
		return fmt.Errorf("%w%s: a new connection has %s %q, and the mapping was checked on a connection with %q: "+
			"give every connection the same settings (the DSN, ALTER ROLE/ALTER DATABASE ... SET), and open a new sql.DB after changing them",
			ErrSchemaMismatch, c.source(), name, got, want)
	}
	return nil
}

// check runs the first check of the live schema, on the first connection,
// whose session settings are session.
func (c *Connector) check(ctx context.Context, inner driver.Conn, session []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Load() != nil {
		return nil
	}
	gen := c.gen.Load()
	s, problems, err := c.inspect(ctx, inner)
	if err != nil {
		return fmt.Errorf("dualwrite: checking the mapping against the live schema: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w%s:\n%s", ErrSchemaMismatch, c.source(), schema.List(problems))
	}
	c.session = session
	c.state.Store(&schemaState{p: c.newPlanner(s), gen: gen})
	return nil
}

// inspect reads the live schema on inner, which must see the schema as
// committed (or, for a connection's own check, as its transaction sees it).
func (c *Connector) inspect(ctx context.Context, inner driver.Conn) (*rewrite.Schema, []schema.Problem, error) {
	if c.cfg.noCheck {
		return rewrite.AssumedSchema(c.drv.dialect, c.drv.mapping), nil, nil
	}
	return schema.Inspect(ctx, innerConn{Conn: inner}, c.drv.dialect, c.drv.mapping)
}

func (c *Connector) newPlanner(s *rewrite.Schema) *rewrite.Planner {
	d := c.drv.dialect
	if d.Name == rewrite.MySQL.Name {
		d, s = c.mysqlPlanning(s)
	}
	return rewrite.NewPlannerBounded(d, c.drv.mapping, s, c.cfg.cacheSize, c.cfg.cacheBytes)
}

func (c *Connector) source() string {
	if f := c.drv.mapping.File; f != "" {
		return " (" + f + ")"
	}
	return ""
}

// tableNames returns the old and new table names of the mapping.
func tableNames(m *mapping.Mapping) []string {
	var names []string
	for _, t := range m.Tables {
		names = append(names, t.Old, t.New)
	}
	return names
}

// mappedName returns the mapping's spelling of a table name that a refusal
// names, old or new table of a pair, or "" when the mapping does not name it:
// what the metrics record as the table.
func (c *Connector) mappedName(name string) string {
	f := c.drv.dialect.FoldName(name)
	for _, t := range c.drv.mapping.Tables {
		for _, n := range []string{t.Old, t.New} {
			if n == name || c.drv.dialect.FoldName(n) == f {
				return n
			}
		}
	}
	return ""
}

func (c *Connector) writePhase() mapping.WritePhase {
	return c.cfg.sw.Write(c.drv.mapping.Phases.Write)
}
