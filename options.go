package dualwrite

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite/rewrite"
)

// Option configures a connector or a registered driver.
type Option func(*config) error

type config struct {
	registerer prometheus.Registerer
	logger     *slog.Logger
	sw         *Switch
	cacheSize  int
	cacheBytes int64
	noCheck    bool
	// noReturning: MySQL plans that do without RETURNING (WithoutReturning).
	noReturning bool
	sampleRate  float64
	shared      *SharedPhases // WithSharedPhases
}

func defaultConfig() config {
	return config{logger: slog.New(slog.DiscardHandler), cacheSize: 1000, cacheBytes: rewrite.DefaultPlanCacheBytes, sampleRate: 1}
}

// WithRegisterer registers dualwrite's metrics (see package metrics) on reg.
// Without it no metric is registered.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(c *config) error {
		if reg == nil {
			return errors.New("dualwrite: WithRegisterer: nil Registerer")
		}
		c.registerer = reg
		return nil
	}
}

// WithLogger sets the logger for invalid phases and failed dual writes. The
// default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("dualwrite: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithSwitch makes the connector take its phases from sw, so that a program
// (a test, an admin endpoint) can override them. Several connectors may
// share one Switch. By default each connector has its own.
func WithSwitch(sw *Switch) Option {
	return func(c *config) error {
		if sw == nil {
			return errors.New("dualwrite: WithSwitch: nil Switch")
		}
		c.sw = sw
		return nil
	}
}

// WithPlanCacheSize bounds the number of statement texts whose plans are
// cached (default 1000). [WithPlanCacheBytes] bounds their memory too. The
// cache resists scans: a new text displaces a cached one only when it is
// used more often, so that a cycle over more texts than n, or a burst of
// one-off statements, does not evict the statements that run all the time.
func WithPlanCacheSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("dualwrite: WithPlanCacheSize: size must be at least 1")
		}
		c.cacheSize = n
		return nil
	}
}

// WithoutSchemaCheck skips the check of the mapping against the live schema
// at the first connection and after schema changes, and the check of each
// new connection's session settings. It exists for drivers that have no
// schema, such as go-sqlmock in tests. Without the check the wrapper knows
// nothing about the live schema's unique constraints, triggers and foreign
// keys, so it refuses REPLACE on every mapped table (the new ones too, in
// the write phase both) and cannot refuse statements that fire triggers or
// cascades into mapped tables.
func WithoutSchemaCheck() Option {
	return func(c *config) error {
		c.noCheck = true
		return nil
	}
}

// WithoutReturning makes dual writes on MariaDB plan as on a server
// without RETURNING (MySQL): an INSERT ... SELECT into a mapped table is
// refused, and nothing else changes. Without it, the server's version
// decides. It lets a team on MariaDB check that its writes also work on
// MySQL.
func WithoutReturning() Option {
	return func(c *config) error {
		c.noReturning = true
		return nil
	}
}

// WithCompareSampleRate sets the share of queries that are compared in the
// compare read phase (default 1: every query). The others are served from
// the old tables only, at no extra cost.
func WithCompareSampleRate(rate float64) Option {
	return func(c *config) error {
		if !(rate > 0 && rate <= 1) {
			return fmt.Errorf("dualwrite: WithCompareSampleRate: rate %v is not in (0, 1]", rate)
		}
		c.sampleRate = rate
		return nil
	}
}

// WithPlanCacheBytes bounds the memory of the plan cache, approximately
// (default 16 MiB): the plans' own texts, which for a statement on a
// mapped table are about as long as the statement, and a fixed overhead
// per entry. A statement that names no mapped table costs the cache that
// overhead only, however long its text. Each plan counts for at least
// n / [WithPlanCacheSize] bytes, so that both bounds hold. A plan larger
// than an eighth of n is not cached: its statement is analyzed each time
// it runs.
func WithPlanCacheBytes(n int64) Option {
	return func(c *config) error {
		if n < 1<<16 {
			return fmt.Errorf("dualwrite: WithPlanCacheBytes: %d bytes is less than the minimum, 64 KiB", n)
		}
		c.cacheBytes = n
		return nil
	}
}
