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
// connection and refuses to connect while they do not match. It is safe for
// concurrent use.
type Connector struct {
	base    driver.Connector
	drv     *Driver
	cfg     config
	metrics *metrics.Metrics

	mu      sync.Mutex // serializes the schema check
	planner atomic.Pointer[rewrite.Planner]
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
		if c.metrics, err = metrics.New(cfg.registerer); err != nil {
			return nil, fmt.Errorf("dualwrite: registering metrics: %w", err)
		}
	}
	if c.cfg.sw == nil {
		c.cfg.sw = NewSwitch()
	}
	c.cfg.sw.attach(cfg.logger, c.metrics)
	return c, nil
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
	p := c.planner.Load()
	if p == nil {
		if p, err = c.check(ctx, inner); err != nil {
			_ = inner.Close()
			return nil, err
		}
	}
	return &conn{inner: inner, c: c, p: p}, nil
}

func (c *Connector) check(ctx context.Context, inner driver.Conn) (*rewrite.Planner, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.planner.Load(); p != nil {
		return p, nil
	}
	if c.cfg.noCheck {
		s := &rewrite.Schema{OtherUnique: map[string]bool{}}
		for _, t := range c.drv.mapping.Tables {
			s.OtherUnique[c.drv.dialect.FoldName(t.Old)] = true
		}
		p := rewrite.NewPlanner(c.drv.dialect, c.drv.mapping, s, c.cfg.cacheSize)
		c.planner.Store(p)
		return p, nil
	}
	s, problems, err := schema.Inspect(ctx, innerConn{Conn: inner}, c.drv.dialect, c.drv.mapping)
	if err != nil {
		return nil, fmt.Errorf("dualwrite: checking the mapping against the live schema: %w", err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w%s:\n%s", ErrSchemaMismatch, c.source(), schema.List(problems))
	}
	p := rewrite.NewPlanner(c.drv.dialect, c.drv.mapping, s, c.cfg.cacheSize)
	c.planner.Store(p)
	return p, nil
}

func (c *Connector) source() string {
	if f := c.drv.mapping.File; f != "" {
		return " (" + f + ")"
	}
	return ""
}

func (c *Connector) writePhase() mapping.WritePhase {
	return c.cfg.sw.Write(c.drv.mapping.Phases.Write)
}

func (c *Connector) readPhase() mapping.ReadPhase {
	return c.cfg.sw.Read(c.drv.mapping.Phases)
}
