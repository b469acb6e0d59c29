package dualwrite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/metrics"
	"github.com/dualwrite/dualwrite/readpath"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/txn"
)

// sampleRows bounds the differing rows a mismatch log shows.
const sampleRows = 5

// query serves a query of mapped tables in the read phase in force: as
// written (old), from the new tables (new), or both under one snapshot with
// the old rows returned and the results compared (compare). asWritten runs
// the caller's query on the old tables.
func (c *conn) query(ctx context.Context, plan *rewrite.Plan, args []driver.NamedValue, asWritten func() (driver.Rows, error)) (driver.Rows, error) {
	phase, by := c.c.cfg.sw.readFor(ctx, c.c.drv.mapping.Phases)
	return c.queryIn(ctx, phase, by, readTable(plan), plan, args, asWritten)
}

// queryIn is query in the read phase given, decided by by; table labels
// its metrics. plan may be nil in the read phase old, for a query that
// rewrite.Planner.PlainRead recognized as a read of table.
func (c *conn) queryIn(ctx context.Context, phase mapping.ReadPhase, by, table string, plan *rewrite.Plan, args []driver.NamedValue, asWritten func() (driver.Rows, error)) (_ driver.Rows, err error) {
	defer func() {
		if err != nil && txn.TxGone(err) {
			c.txState = txn.TxUnknown // MySQL: a deadlock rolled back the caller's transaction
		}
	}()
	c.c.metrics.Route(string(phase), by)
	if phase == mapping.ReadOld || plan.Reverse && phase != mapping.ReadCompare {
		// A query of the new tables is compared with up(old) in compare,
		// and otherwise runs as written.
		c.c.metrics.Read(table, string(phase))
		return asWritten()
	}
	if plan.Err != nil {
		c.c.metrics.Refused(table)
		return nil, fmt.Errorf("%w (read phase %s)", plan.Err, phase)
	}
	c.c.metrics.Read(table, string(phase))
	rp := plan.Read
	switch {
	case rp.Lock != nil:
		return c.lockingRead(ctx, plan, args, phase, asWritten)
	case phase == mapping.ReadNew:
		return c.run().Query(ctx, rp.NewQuery, args)
	case !c.c.sampled():
		return asWritten()
	case rp.Limited:
		// Its two results may rightly hold different rows.
		c.c.metrics.Compare(table, metrics.NotCompared)
		return asWritten()
	}
	return c.compare(ctx, plan, args, asWritten)
}

// compare runs the new-table query and then the caller's, under one
// snapshot, and returns the caller's rows wrapped so that they are compared
// as they stream.
func (c *conn) compare(ctx context.Context, plan *rewrite.Plan, args []driver.NamedValue, asWritten func() (driver.Rows, error)) (driver.Rows, error) {
	ic := c.run()
	d := c.c.drv.dialect
	table, rp := readTable(plan), plan.Read
	u, _, _, err := txn.Open(ctx, ic, c.txState, d.InTxQuery(), d.SnapshotUnit)
	if err != nil {
		return nil, err
	}
	end := func() {
		if _, err := ic.Exec(context.WithoutCancel(ctx), u.End, nil); err != nil {
			// The caller's transaction ended first (it took the savepoint with it).
			c.c.cfg.logger.Debug("dualwrite: closing a comparison snapshot", slog.String("error", err.Error()))
		}
	}
	newRows, err := ic.Query(ctx, rp.NewQuery, args)
	var shadow *readpath.Shadow
	if err == nil {
		shadow, err = readpath.Collect(newRows)
	}
	if err != nil {
		// Undo the snapshot: in PostgreSQL the failure aborted it, and with it
		// the caller's transaction unless rolled back to the savepoint.
		for _, q := range u.Undo {
			if _, aerr := ic.Exec(context.WithoutCancel(ctx), q, nil); aerr != nil {
				c.c.cfg.logger.Debug("dualwrite: undoing a comparison snapshot", slog.String("error", aerr.Error()))
			}
		}
		c.compareFailed(ctx, table, rp.Fingerprint, err)
		return asWritten()
	}
	old, err := asWritten()
	if err != nil {
		end()
		return nil, err
	}
	return readpath.Compare(old, shadow, rp.Ordered, sampleRows, func(rep *readpath.Report, err error) {
		end()
		c.report(plan, rep, err)
	}), nil
}

// compareFailed counts and logs a comparison whose new-table query failed:
// an error, unless the caller's own context ended it, which leaves the
// query not compared.
func (c *conn) compareFailed(ctx context.Context, table, fingerprint string, err error) {
	if ctx.Err() != nil {
		c.c.metrics.Compare(table, metrics.NotCompared)
		c.c.cfg.logger.Debug("dualwrite: the caller's context ended a comparison", slog.String("table", table),
			slog.String("fingerprint", fingerprint), slog.String("error", err.Error()))
		return
	}
	c.c.metrics.Compare(table, metrics.Error)
	c.c.cfg.logger.Error("dualwrite: the new-table query of a comparison failed; the caller gets the old rows",
		slog.String("table", table), slog.String("fingerprint", fingerprint), slog.String("error", err.Error()))
}

// report counts the outcome of a comparison, and logs a mismatch with a
// sample. A nil rep with an error is the caller's own query failing, which
// the caller sees; nothing is counted.
func (c *conn) report(plan *rewrite.Plan, rep *readpath.Report, err error) {
	table := readTable(plan)
	switch {
	case err != nil:
	case rep.Match:
		c.c.metrics.Compare(table, metrics.Match)
	default:
		c.c.metrics.Compare(table, metrics.Mismatch)
		samples := make([]any, len(rep.Samples))
		for i, s := range rep.Samples {
			samples[i] = s
		}
		c.c.cfg.logger.Warn("dualwrite: old and new tables disagree",
			slog.String("table", table), slog.String("fingerprint", plan.Read.Fingerprint),
			slog.Int("old_rows", rep.OldRows), slog.Int("new_rows", rep.NewRows),
			slog.Bool("ordered", rep.Ordered), slog.Bool("columns_differ", rep.ColumnsDiffer),
			slog.Any("sample", samples))
	}
}

// readTable is the metric label of a read: its first mapped table.
func readTable(plan *rewrite.Plan) string {
	if plan.Read != nil && len(plan.Read.Tables) > 0 {
		return plan.Read.Tables[0].Map.Old
	}
	var ue *rewrite.UnsupportedError
	if errors.As(plan.Err, &ue) {
		return ue.Table
	}
	return ""
}

// sampled reports whether this query is compared, by the sample rate.
func (c *Connector) sampled() bool {
	r := c.cfg.sampleRate
	return r >= 1 || rand.Float64() < r
}
