package backfill

import (
	"context"
	"database/sql"
	"errors"
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
	if r.s.rowLocks() {
		return r.lockedBatch(ctx, plain)
	}
	return r.txBatch(ctx)
}

// txBatch runs a batch on SQLite, in a transaction of its own: it claims
// the checkpoint (which takes the database's write lock), finds the end of
// its range, copies it, deletes the orphans, and saves the checkpoint.
func (r *runner) txBatch(ctx context.Context) (res batchResult, err error) {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	cp, err := r.cp.claim(ctx, tx)
	switch {
	case err != nil:
		return res, err
	case cp.MappingChanged:
		return res, r.mappingChanged()
	case cp.Done: // another run finished the table
		return batchResult{cp: cp}, tx.Commit()
	}
	start := cp.LastKey
	end, err := r.end(ctx, tx, start)
	if err != nil {
		return res, err
	}
	bounds := append(append([]any(nil), start...), end...)
	// The batch holds the write lock: a range without new rows before the
	// copy has no orphans after it, and needs no DELETE.
	var found bool
	if err := tx.QueryRowContext(ctx, r.s.anyNew(start != nil, end != nil), bounds...).Scan(&found); err != nil {
		return res, err
	}
	n, err := rowsAffected(tx.ExecContext(ctx, r.s.copyRange(r.t, start != nil, end != nil), bounds...))
	if err != nil {
		return res, err
	}
	var deleted int64
	if found {
		if deleted, err = rowsAffected(tx.ExecContext(ctx, r.s.deleteOrphans(start != nil, end != nil), bounds...)); err != nil {
			return res, err
		}
	}
	advance(&cp, end)
	cp.Rows += n
	cp.Deleted += deleted
	cp.Updated = r.now().UTC()
	if err := r.cp.save(ctx, tx, cp); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	return batchResult{cp: cp, copied: n, deleted: deleted, ran: true}, nil
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
// there are fewer rows, and the range has no end.
func (r *runner) end(ctx context.Context, q querier, start []any) ([]any, error) {
	key := make([]any, len(r.t.Map.Key))
	dest := make([]any, len(key))
	for i := range key {
		dest[i] = &key[i]
	}
	err := q.QueryRowContext(ctx, r.s.end(start != nil, r.opts.BatchSize), start...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return key, err
}

// rowsAffected returns the rows a statement that ran with err affected.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
