package backfill

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/dualwrite/dualwrite/internal/mysqlrun"
)

// batchResult is what a batch did.
type batchResult struct {
	cp              Checkpoint // the checkpoint after it
	copied, deleted int64      // old rows copied, new rows deleted
	// ran reports that the batch ran: false when it found the table done
	// or, on PostgreSQL, the checkpoint moved by another run, and did
	// nothing.
	ran bool
}

// position is where a PostgreSQL run is: the checkpoint as it last read or
// wrote it, with last_key as stored, and the end of the next batch's key
// range when it knows it (nil: the range has no end).
type position struct {
	cp       Checkpoint
	stored   sql.NullString
	end      []any
	endKnown bool
}

// batch runs one batch. Its key range starts after the checkpoint's last
// key and ends at the key of the BatchSize-th old row after it, or has no
// end when there are fewer rows: that batch is the last. plain is
// lockedBatch's.
func (r *runner) batch(ctx context.Context, plain bool) (batchResult, error) {
	if r.s.oneStatement() {
		return r.lockedBatch(ctx, plain)
	}
	res, err := r.txBatch(ctx, plain)
	if !res.cp.Done {
		r.prep.prepare(ctx) // with the batch's connection back in the pool
	}
	return res, err
}

// txBatch runs a batch on SQLite or MySQL, in a transaction of its own: it
// claims the checkpoint, finds the end of its range, copies it, deletes
// the orphans, and saves the checkpoint. A statement runs prepared from
// the run's second batch that runs it on (see prepared).
//
// On SQLite the claim is a write, which takes the database's write lock:
// nothing else writes until the batch commits. On MySQL the transaction
// is REPEATABLE READ, on a connection whose lock wait timeout is the
// batch's (see mysqlBegin); the claim locks the checkpoint's row (SELECT
// ... FOR UPDATE), so that runs take turns, and the batch locks the
// range's old rows and the gaps between them as it copies them
// (copyRange, copyPlain): a dual write of one of them committed before,
// and the copy reads what it wrote, or waits for the batch and writes
// over the copy; no old row is inserted in the range meanwhile.
//
// With plain, on MySQL, the batch reads at its snapshot whether the range
// has new rows and orphans among them (newRows, read after the end and
// before the copy takes any lock). A range without orphans at the
// snapshot has none to delete: a dual write commits a key's new row with
// its old row, never one without the other, so a new row without an old
// row is one the new table had of its own, which the snapshot sees (as
// PostgreSQL's batch finds its orphans at its statement's snapshot). A
// range without new rows is copied by plain INSERT (copyPlain), whose
// rows affected are the rows copied: a new row that a dual write commits
// in the range after the snapshot has its old row, which the copy reads,
// and the INSERT fails on it with a duplicate key error; the batch is
// then tried again without plain (batchRetrying), as on PostgreSQL.
// Otherwise the copy is the upsert, and the statements that follow (the
// count of the rows copied, the DELETE of the orphans) read the rows as
// committed, with locks (a DELETE's subquery does at REPEATABLE READ),
// not as the snapshot.
func (r *runner) txBatch(ctx context.Context, plain bool) (res batchResult, err error) {
	var tx *sql.Tx
	if r.s.lockedTx() {
		var done func()
		tx, done, err = r.mysqlBegin(ctx)
		if err != nil {
			return res, err
		}
		defer done()
	} else if tx, err = r.db.BeginTx(ctx, nil); err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	btx := r.prep.in(tx)
	cp, err := r.cp.claim(ctx, btx)
	switch {
	case err != nil:
		return res, err
	case cp.MappingChanged:
		return res, r.mappingChanged()
	case cp.Done: // another run finished the table
		return batchResult{cp: cp}, tx.Commit()
	}
	start := cp.LastKey
	end, err := r.end(ctx, btx, start)
	if err != nil {
		return res, err
	}
	lower, upper := start != nil, end != nil
	bounds := append(append([]any(nil), start...), end...)
	// found: the range may have new rows, which the copy upserts;
	// orphans: it may have new rows without an old row, which the batch
	// deletes. A range without them before the copy has none after it: on
	// SQLite the batch holds the write lock, and on MySQL no dual write
	// commits an orphan meanwhile (see above).
	found, orphans := true, true
	if !r.s.lockedTx() || plain {
		if found, orphans, err = r.newRows(ctx, btx, lower, upper, bounds); err != nil {
			return res, err
		}
	}
	q := r.s.copyRange(r.t, lower, upper)
	if !found && r.s.lockedTx() {
		q = r.s.copyPlain(r.t, lower, upper)
	}
	n, err := rowsAffected(btx.ExecContext(ctx, q, r.s.args(q, bounds...)...))
	if err != nil {
		if n := mysqlrun.ErrorNumber(err); r.s.lockedTx() && (n == mysqlrun.SubqueryRows || n == mysqlrun.BadNull) {
			// The upsert's guard (rewrite.MySQLMirrorConflict) or a NULL up value.
			err = fmt.Errorf("%w: the copy of a row either met a row of %s with another key that holds the same value of another unique key (the copy refuses to overwrite it), or computed NULL for a NOT NULL column; find the rows with dualwrite verify and fix them", err, r.t.Map.New)
		}
		return res, err
	}
	if found && r.s.lockedTx() {
		q := r.s.countRange(lower, upper)
		if err := btx.QueryRowContext(ctx, q, r.s.args(q, bounds...)...).Scan(&n); err != nil {
			return res, err
		}
	}
	var deleted int64
	if orphans {
		q := r.s.deleteOrphans(lower, upper)
		if deleted, err = rowsAffected(btx.ExecContext(ctx, q, r.s.args(q, bounds...)...)); err != nil {
			return res, err
		}
	}
	advance(&cp, end)
	cp.Rows += n
	cp.Deleted += deleted
	cp.Updated = r.now().UTC()
	if err := r.cp.save(ctx, btx, cp); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	return batchResult{cp: cp, copied: n, deleted: deleted, ran: true}, nil
}

// checkSession refuses a MySQL run whose connections' session settings
// would make its statements do other than asked ([mysqlrun.Session.Check]):
// a sql_mode without strict mode above all, where the copy's upsert, when
// it meets the row of another unique key of the new table, would store 0
// for the NULL key it sets that row's key to (which strict mode makes an
// error), and overwrite the row.
func (r *runner) checkSession(ctx context.Context) error {
	s, err := mysqlrun.ReadSession(ctx, r.db)
	if err == nil {
		err = s.Check(true)
	}
	if err != nil {
		return fmt.Errorf("backfill %s -> %s: %w", r.t.Map.Old, r.t.Map.New, err)
	}
	return nil
}

// restoreTimeout bounds setting a MySQL batch's connection back as it
// was, which runs even when the run's context is done.
const restoreTimeout = 10 * time.Second

// mysqlBegin takes a connection of the run's pool for a MySQL batch, sets
// its lock wait timeout to Options.LockTimeout, and begins the batch's
// REPEATABLE READ transaction on it. done, called when the transaction
// is over, sets the timeout back and returns the connection to the pool;
// where that fails, the connection is closed instead, so that no other
// user of the pool meets the batch's timeout.
func (r *runner) mysqlBegin(ctx context.Context) (tx *sql.Tx, done func(), err error) {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	set, restore := mysqlLockTimeout(r.opts.LockTimeout)
	done = func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
		defer cancel()
		if _, err := conn.ExecContext(ctx, restore); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}
	if _, err := conn.ExecContext(ctx, set); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	if tx, err = conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}); err != nil {
		done()
		return nil, nil, err
	}
	return tx, done, nil
}

// advance moves cp past a batch whose range ended at end (nil: no end).
func advance(cp *Checkpoint, end []any) {
	if end != nil {
		cp.LastKey = end
	} else {
		cp.Done = true
	}
}

// lockedBatch runs a batch on PostgreSQL: one statement (see
// statements.lockedBatch), which also reads the end of the next batch's
// range; the first batch of a run, one after a batch that found no next
// end, and one after a lost claim find their end with a query of their
// own. When the statement finds the checkpoint changed by another run,
// lockedBatch reads it again and returns it, having done nothing.
func (r *runner) lockedBatch(ctx context.Context, plain bool) (batchResult, error) {
	at := &r.at
	if !at.endKnown {
		end, err := r.end(ctx, r.db, at.cp.LastKey)
		if err != nil {
			return batchResult{}, err
		}
		at.end, at.endKnown = end, true
	}
	start, end := at.cp.LastKey, at.end
	next := at.cp
	advance(&next, end)
	next.Updated = r.now().UTC()
	stored, err := encodeKey(next.LastKey)
	if err != nil {
		return batchResult{}, err
	}
	bounds := append(append([]any(nil), start...), end...)
	args := append(append(bounds, bounds...), r.cp.table, r.cp.mapping, at.stored, stored, next.Done, next.Updated)
	var rows, deleted sql.NullInt64
	var n, gone int64
	var found sql.NullBool
	look := make([]any, len(r.t.Map.Key))
	dest := []any{&rows, &deleted, &n, &gone}
	if end != nil {
		dest = append(dest, &found)
		for i := range look {
			dest = append(dest, &look[i])
		}
	}
	q := r.s.lockedBatch(r.t, r.cp, start != nil, end != nil, plain, r.opts.BatchSize, r.opts.LockTimeout)
	if err := r.db.QueryRowContext(ctx, q, args...).Scan(dest...); err != nil {
		return batchResult{}, err
	}
	if !rows.Valid { // another run moved the checkpoint, or Reset deleted it
		cp, stored, err := r.cp.readStored(ctx, r.db)
		if err != nil {
			return batchResult{}, resetMeanwhile(err)
		}
		if cp.MappingChanged {
			return batchResult{}, r.mappingChanged()
		}
		r.at = position{cp: cp, stored: stored}
		return batchResult{cp: cp}, nil
	}
	next.Rows, next.Deleted = rows.Int64, deleted.Int64
	// Without a next end the next batch finds its own: rows the
	// application inserts after the range meanwhile would all fall into
	// that last batch, which has no upper bound.
	r.at = position{cp: next, endKnown: found.Bool}
	r.at.stored.String, r.at.stored.Valid = stored.(string)
	if found.Bool {
		r.at.end = look
	}
	return batchResult{cp: next, copied: n, deleted: gone, ran: true}, nil
}

// end returns the key of the BatchSize-th old row after start, or from the
// first row when start is nil: the end of the batch's key range; nil when
// there are fewer rows, and the range has no end. On MySQL each value is
// in a Go type a checkpoint keeps: text as a string, not the driver's
// []byte ([mysqlrun.KeyValue]).
func (r *runner) end(ctx context.Context, q querier, start []any) (key []any, err error) {
	query := r.s.end(start != nil, r.opts.BatchSize)
	rows, err := q.QueryContext(ctx, query, r.s.args(query, start...)...)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	if !rows.Next() {
		return nil, rows.Err()
	}
	key = make([]any, len(r.t.Map.Key))
	dest := make([]any, len(key))
	for i := range key {
		dest[i] = &key[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	if r.s.lockedTx() {
		types, err := rows.ColumnTypes()
		if err != nil {
			return nil, err
		}
		for i := range key {
			key[i] = mysqlrun.KeyValue(key[i], types[i].DatabaseTypeName())
		}
	}
	return key, nil
}

// newRows reports whether the new table has a row in a batch's key range,
// and an orphan (statements.newRows).
func (r *runner) newRows(ctx context.Context, tx querier, lower, upper bool, bounds []any) (found, orphans bool, err error) {
	q := r.s.newRows(lower, upper)
	err = tx.QueryRowContext(ctx, q, r.s.args(q, bounds...)...).Scan(&found, &orphans)
	return found, orphans, err
}

// rowsAffected returns the rows a statement that ran with err affected.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
