package backfill

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dualwrite/dualwrite/internal/mysqlrun"
	"github.com/dualwrite/dualwrite/metrics"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/txn"
)

// Progress is the state of one table's backfill after a batch.
type Progress struct {
	// Table is the mapping's old table.
	Table string
	// Rows is the number of old rows copied, by this run and the runs it
	// resumed.
	Rows int64
	// Deleted is the number of new rows deleted because their key had no
	// old row, likewise.
	Deleted int64
	// RunRows is the number of old rows this run copied.
	RunRows int64
	// RowsLeft estimates the old rows left to copy: the old rows after the
	// checkpoint when this run started (a count(*) query), less RunRows; 0
	// once Done. Rows the application inserts or deletes meanwhile make it
	// drift.
	RowsLeft int64
	// RowsPerSecond is this run's copy rate, waits between batches included
	// (also the wait after the batch just reported).
	RowsPerSecond float64
	// TimeLeft estimates the time to copy RowsLeft at RowsPerSecond; 0 while
	// there is no rate.
	TimeLeft time.Duration
	// Done reports that the whole table has been copied.
	Done bool
}

// Run copies the rows of t's old table into its new table as up(old), in
// batches in key order, each one its own transaction that also records the
// table's checkpoint, until the table is done, ctx ends or a batch fails.
// It starts after the checkpoint the last run left; a table already done
// returns at once. t must be compiled for d, and db opened with the base
// driver, not through dualwrite. See the package documentation for what
// keeps it safe beside the application's writes.
//
// Run returns the progress it made, also with an error; the error names the
// table and the fix. Committed batches stay committed, so that running again
// resumes after the last of them. Run may be called for several tables at
// once.
func Run(ctx context.Context, db *sql.DB, d *rewrite.Dialect, t *rewrite.Table, opts Options) (Progress, error) {
	if err := checkArgs(db, d, t); err != nil {
		return Progress{}, err
	}
	opts, err := opts.withDefaults(d)
	if err != nil {
		return Progress{Table: t.Map.Old}, err
	}
	return newRunner(db, d, t, opts).run(ctx)
}

func checkArgs(db *sql.DB, d *rewrite.Dialect, t *rewrite.Table) error {
	switch {
	case db == nil:
		return errors.New("backfill: nil *sql.DB")
	case d == nil:
		return errors.New("backfill: nil *rewrite.Dialect")
	case t == nil:
		return errors.New("backfill: nil *rewrite.Table: compile the mapping's table with the dialect's Compile")
	}
	return nil
}

// attempts is how many times a batch is tried when the database aborts it
// for a lock timeout, a deadlock or a serialization conflict.
const attempts = 5

// runner is one run of one table's backfill.
type runner struct {
	db    *sql.DB
	at    position // on PostgreSQL, where the run is
	t     *rewrite.Table
	s     *statements
	cp    *checkpoints
	prep  *prepared // txBatch's statements
	opts  Options
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

func newRunner(db *sql.DB, d *rewrite.Dialect, t *rewrite.Table, opts Options) *runner {
	return &runner{db: db, t: t, s: newStatements(d, t), cp: newCheckpoints(d, t, opts.CheckpointTable),
		prep: newPrepared(db), opts: opts, now: time.Now, sleep: sleep}
}

func (r *runner) run(ctx context.Context) (Progress, error) {
	p := Progress{Table: r.t.Map.Old}
	defer r.prep.close()
	if r.s.lockedTx() {
		if err := r.checkSession(ctx); err != nil {
			return p, err
		}
	}
	if err := r.cp.create(ctx, r.db, r.now().UTC()); err != nil {
		return p, r.cp.wrap(err)
	}
	cp, stored, err := r.cp.readStored(ctx, r.db)
	if err != nil {
		return p, r.cp.wrap(err)
	}
	r.at = position{cp: cp, stored: stored}
	if cp.MappingChanged {
		return p, r.mappingChanged()
	}
	p.Rows, p.Deleted, p.Done = cp.Rows, cp.Deleted, cp.Done
	if cp.Done {
		r.opts.Metrics.Remaining(p.Table, 0)
		return p, nil
	}
	var left int64
	count := r.s.count(cp.LastKey != nil)
	if err := r.db.QueryRowContext(ctx, count, r.s.args(count, cp.LastKey...)...).Scan(&left); err != nil {
		return p, fmt.Errorf("backfill %s: counting the rows to copy: %w", p.Table, err)
	}
	p.RowsLeft = left
	r.opts.Metrics.Remaining(p.Table, left)
	start := r.now()
	for {
		if err := ctx.Err(); err != nil {
			return p, fmt.Errorf("backfill %s: stopped after key %s: %w; run again to resume there", p.Table, keyString(cp.LastKey), err)
		}
		began := r.now()
		res, err := r.batchRetrying(ctx)
		if err != nil {
			return p, fmt.Errorf("backfill %s -> %s: the batch after key %s failed: %w; the checkpoint stays at that key: fix the cause and run again to resume there",
				p.Table, r.t.Map.New, keyString(cp.LastKey), err)
		}
		took := r.now().Sub(began)
		cp = res.cp
		p.Rows, p.Deleted, p.Done = cp.Rows, cp.Deleted, cp.Done
		if !res.ran && !p.Done {
			continue // another run took the batch
		}
		p.RunRows += res.copied
		p.RowsLeft = max(left-p.RunRows, 0)
		if p.Done {
			p.RowsLeft = 0
		}
		var wait time.Duration
		if !p.Done {
			wait = r.opts.wait(res.copied, took)
		}
		// The rate counts the wait that follows the batch, so that a
		// throttled run reports the rate it keeps from its first batch on.
		if elapsed := r.now().Sub(start) + wait; elapsed > 0 {
			p.RowsPerSecond = float64(p.RunRows) * float64(time.Second) / float64(elapsed)
		}
		if p.RowsPerSecond > 0 {
			p.TimeLeft = time.Duration(float64(p.RowsLeft) * float64(time.Second) / p.RowsPerSecond)
		}
		r.opts.Metrics.Batch(p.Table, res.copied, res.deleted, took)
		r.opts.Metrics.Remaining(p.Table, p.RowsLeft)
		if r.opts.Progress != nil {
			r.opts.Progress(p)
		}
		if p.Done {
			return p, nil
		}
		if wait > 0 {
			if err := r.sleep(ctx, wait); err != nil {
				return p, fmt.Errorf("backfill %s: stopped after key %s: %w; run again to resume there", p.Table, keyString(cp.LastKey), err)
			}
		}
	}
}

func (r *runner) mappingChanged() error {
	return fmt.Errorf("%w: %s -> %s, checkpoint table %s; reset the checkpoint (Reset) so that Run copies every row with this mapping",
		ErrMappingChanged, r.t.Map.Old, r.t.Map.New, r.cp.name)
}

// batchRetrying runs a batch, again when the database aborted it for a lock
// timeout, a deadlock or a serialization conflict, and, without a plain
// INSERT, when its plain INSERT met a new row (see statements.lockedBatch
// and runner.txBatch).
func (r *runner) batchRetrying(ctx context.Context) (batchResult, error) {
	plain := r.s.rowLocks()
	for i := 1; ; i++ {
		res, err := r.batch(ctx, plain)
		if err == nil || i == attempts {
			return res, err
		}
		reason := retryReason(err, plain)
		if reason == "" {
			return res, err
		}
		if reason == metrics.RetryUniqueViolation {
			plain = false
		}
		r.opts.Metrics.Retry(r.t.Map.Old, reason)
	}
}

// retryReason returns why a batch that failed with err may succeed when
// tried again, as the metrics label it, or "" if it may not: a lock
// timeout, a deadlock or a serialization failure (SQLSTATE 55P03, 40P01,
// 40001; MySQL's errors 1205 and 1213), or a unique violation (23505;
// MySQL's duplicate key, 1062) of a plain INSERT.
func retryReason(err error, plain bool) string {
	switch mysqlrun.ErrorNumber(err) {
	case mysqlrun.LockWaitTimeout:
		return metrics.RetryLockTimeout
	case mysqlrun.Deadlock:
		return metrics.RetryDeadlock
	case mysqlrun.Duplicate:
		if plain {
			return metrics.RetryUniqueViolation
		}
	}
	switch txn.SQLState(err) {
	case "55P03":
		return metrics.RetryLockTimeout
	case "40P01":
		return metrics.RetryDeadlock
	case "40001":
		return metrics.RetrySerialization
	case "23505":
		if plain {
			return metrics.RetryUniqueViolation
		}
	}
	return ""
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// keyString formats a key for messages: (42, "a b"), or (start) for none.
func keyString(key []any) string {
	if key == nil {
		return "(start)"
	}
	parts := make([]string, len(key))
	for i, v := range key {
		if s, ok := v.(string); ok {
			parts[i] = strconv.Quote(s)
		} else {
			parts[i] = fmt.Sprint(v)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
