package dualwrite

import (
	"context"
	"database/sql/driver"
	"log/slog"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/metrics"
	"github.com/dualwrite/dualwrite/readpath"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/txn"
)

// lockingRead serves a locking read (SELECT ... FOR UPDATE) of a mapped
// table in the compare and new read phases, by its [rewrite.LockPlan]: the
// caller's query runs on the old table, with the key columns appended, and
// locks exactly the rows it would lock without the wrapper, first; then
// the new rows of the keys it returned are read and locked. Outside a
// caller's transaction both run in a transaction of their own, so that the
// old rows stay locked until the new ones are read.
//
// In the new phase the caller gets the new rows, in the order of the old
// ones. In the compare phase it gets the old rows, compared row by row with
// the new rows of the same keys; if the new query fails, a savepoint (or
// the wrapper's own transaction) is rolled back, the failure is counted, and
// the caller still gets the old rows, still locked in its transaction.
func (c *conn) lockingRead(ctx context.Context, plan *rewrite.Plan, args []driver.NamedValue, phase mapping.ReadPhase, asWritten func() (driver.Rows, error)) (driver.Rows, error) {
	lp, table := plan.Read.Lock, readTable(plan)
	compare := phase == mapping.ReadCompare
	if compare && !c.c.sampled() {
		return asWritten()
	}
	if compare && !lp.Compared {
		c.c.metrics.Compare(table, metrics.NotCompared)
		return asWritten()
	}
	ic, d := c.run(), c.c.drv.dialect
	own, err := c.lockTx(ctx, ic)
	if err != nil {
		return nil, err
	}
	undo := func() {
		if !own {
			return // a failed statement left the caller's transaction aborted, as without the wrapper
		}
		if _, err := ic.Exec(context.WithoutCancel(ctx), d.LockUnit(true).Undo[0], nil); err != nil {
			c.c.cfg.logger.Debug("dualwrite: rolling back a locking read", slog.String("error", err.Error()))
		}
	}
	old, err := bufferQuery(ctx, ic, lp.OldQuery, args)
	if err != nil {
		undo()
		return nil, err // the caller's own query failed (NOWAIT, a deadlock): its error, unchanged
	}
	keys := old.TrimKeys(lp.KeyCols)
	if !compare {
		rows, err := c.lockedNewRows(ctx, ic, lp, keys)
		if err == nil && own {
			_, err = ic.Exec(ctx, d.LockUnit(true).End, nil)
		}
		if err != nil {
			undo()
			return nil, err
		}
		return rows, nil
	}
	inner := d.LockUnit(false)
	if !own {
		if _, err := ic.Exec(ctx, inner.Begin, nil); err != nil {
			return nil, err
		}
	}
	rows, err := c.lockedNewRows(ctx, ic, lp, keys)
	if err != nil {
		if own {
			undo()
		} else {
			for _, q := range inner.Undo {
				if _, uerr := ic.Exec(context.WithoutCancel(ctx), q, nil); uerr != nil {
					c.c.cfg.logger.Debug("dualwrite: undoing a locking read's new query", slog.String("error", uerr.Error()))
				}
			}
		}
		c.compareFailed(ctx, table, plan.Read.Fingerprint, err)
		return old, nil
	}
	end := inner.End
	if own {
		end = d.LockUnit(true).End
	}
	if _, err := ic.Exec(ctx, end, nil); err != nil {
		undo()
		return nil, err
	}
	shadow, err := readpath.Collect(rows)
	if err != nil {
		return nil, err
	}
	return readpath.Compare(old, shadow, true, sampleRows, func(rep *readpath.Report, err error) {
		c.report(plan, rep, err)
	}), nil
}

// lockTx makes sure the two queries of a locking read run in one
// transaction: the caller's, or one the wrapper begins (own is then true).
// Where the connection does not know whether a transaction is open, it
// asks the database with a savepoint, released at once.
func (c *conn) lockTx(ctx context.Context, ic innerConn) (own bool, err error) {
	if c.txState == txn.TxOpen {
		return false, nil
	}
	u, outside, _, err := txn.Open(ctx, ic, c.txState, c.c.drv.dialect.InTxQuery(), c.c.drv.dialect.LockUnit)
	if err == nil && !outside {
		_, err = ic.Exec(ctx, u.End, nil)
	}
	return outside, err
}

// lockedNewRows reads and locks the new rows of keys, in batches, and
// returns them in the order of keys, without the key columns.
func (c *conn) lockedNewRows(ctx context.Context, ic innerConn, lp *rewrite.LockPlan, keys [][]driver.Value) (*readpath.Buffered, error) {
	distinct := readpath.Distinct(keys)
	var all *readpath.Buffered
	var got [][]driver.Value
	for first := true; first || len(distinct) > 0; first = false {
		n := min(len(distinct), lp.KeyBatch())
		var args []driver.NamedValue
		for _, k := range distinct[:n] {
			for _, v := range k {
				args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
			}
		}
		q := lp.NewQuery(n)
		if n == 0 {
			q = lp.NewQuery(1) // no key: the columns only (NULL matches no key)
			args = make([]driver.NamedValue, lp.KeyCols)
			for i := range args {
				args[i] = driver.NamedValue{Ordinal: i + 1}
			}
		}
		b, err := bufferQuery(ctx, ic, q, args)
		if err != nil {
			return nil, err
		}
		got = append(got, b.TrimKeys(lp.KeyCols)...)
		if all == nil {
			all = b
		} else {
			all.Append(b)
		}
		distinct = distinct[n:]
	}
	all.Reorder(got, keys)
	return all, nil
}

// bufferQuery runs a query on the base connection and reads its rows in full.
func bufferQuery(ctx context.Context, ic innerConn, query string, args []driver.NamedValue) (*readpath.Buffered, error) {
	rows, err := ic.Query(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return readpath.Buffer(rows)
}
