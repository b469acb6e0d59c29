package main

import (
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
)

// The drivers of the shared-update group: neither has a Switch override,
// so that the write phase (dual, the mapping file's) is decided below the
// environment on every statement, from the mapping file or from the shared
// phases the connector read last.
const (
	fileDriverName   = "dualwrite-bench-file"
	sharedDriverName = "dualwrite-bench-shared"
)

// registerShared registers the shared-update group's drivers.
func registerShared(m *mapping.Mapping, withMetrics bool) error {
	for name, opts := range map[string][]dualwrite.Option{
		fileDriverName: nil,
		sharedDriverName: {dualwrite.WithSharedPhases(dualwrite.SharedPhases{Fleet: "bench", Refresh: time.Second,
			Version: "bench"})},
	} {
		if withMetrics {
			opts = append(opts, dualwrite.WithRegisterer(prometheus.NewRegistry()))
		}
		if err := dualwrite.Register(name, "sqlite3", m, opts...); err != nil {
			return err
		}
	}
	return nil
}

// sharedGroup is shared-update: the dual UPDATE of dual-update through a
// connector that shares its phases (WithSharedPhases, refreshed every
// second in the background) against one that takes them from the mapping
// file (target: within 1.05x: reading the shared phases adds no round trip
// to a statement), and an A/A control of the latter against itself.
func (b *bench) sharedGroup() (group, error) {
	g := group{name: "shared-update", ratios: []ratio{{num: 0, den: 1, target: 1.05}, {num: 2, den: 1, label: "A/A"}}}
	for _, v := range []struct{ name, driver string }{
		{"dualwrite-shared", sharedDriverName}, {"dualwrite-file", fileDriverName}, {"dualwrite-file-copy", fileDriverName},
	} {
		db, err := b.open(g.name+"-"+v.name, v.driver, corpus.BenchSchema, seedWrites)
		if err != nil {
			return g, err
		}
		g.variants = append(g.variants, variant{v.name, updateOp(b, db)})
	}
	return g, nil
}

// updateOp is dual-update's operation on db.
func updateOp(b *bench, db *sql.DB) func(int) error {
	return func(i int) error { return exec(b.ctx, db, qUserUpdate, seedID(i)) }
}
