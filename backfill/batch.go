package backfill

import (
	"context"
	"database/sql"
	"errors"
)

// batchResult is what a committed batch did.
type batchResult struct {
	cp              Checkpoint // the checkpoint it wrote
	copied, deleted int64      // old rows copied, new rows deleted
}

// batch runs one batch in a transaction of its own. Its key range starts
// after the checkpoint's last key and ends at the key of the BatchSize-th
// old row after it, or has no end when there are fewer rows: that batch is
// the last. plain is copyLocked's.
func (r *runner) batch(ctx context.Context, plain bool) (res batchResult, err error) {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, q := range r.s.lock(r.opts.LockTimeout) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return res, err
		}
	}
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
	n, deleted, err := r.copy(ctx, tx, start, end, plain)
	if err != nil {
		return res, err
	}
	if end != nil {
		cp.LastKey = end
	} else {
		cp.Done = true
	}
	cp.Rows += n
	cp.Deleted += deleted
	cp.Updated = r.now().UTC()
	if err := r.cp.save(ctx, tx, cp); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	return batchResult{cp: cp, copied: n, deleted: deleted}, nil
}

// end returns the key of the BatchSize-th old row after start, or from the
// first row when start is nil: the end of the batch's key range; nil when
// there are fewer rows, and the range has no end.
func (r *runner) end(ctx context.Context, tx *sql.Tx, start []any) ([]any, error) {
	key := make([]any, len(r.t.Map.Key))
	dest := make([]any, len(key))
	for i := range key {
		dest[i] = &key[i]
	}
	err := tx.QueryRowContext(ctx, r.s.end(start != nil, r.opts.BatchSize), start...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return key, err
}

// copy copies the key range after start up to end (nil: no end) in tx and
// deletes its new rows whose key has no old row; it returns the numbers of
// rows copied and deleted.
func (r *runner) copy(ctx context.Context, tx *sql.Tx, start, end []any, plain bool) (copied, deleted int64, err error) {
	bounds := append(append([]any(nil), start...), end...)
	if r.s.rowLocks() {
		err = tx.QueryRowContext(ctx, r.s.copyLocked(r.t, start != nil, end != nil, plain), append(bounds, bounds...)...).Scan(&copied, &deleted)
		return copied, deleted, err
	}
	// The batch holds the write lock: a range without new rows before the
	// copy has no orphans after it, and needs no DELETE.
	var found bool
	if err := tx.QueryRowContext(ctx, r.s.anyNew(start != nil, end != nil, 1), bounds...).Scan(&found); err != nil {
		return 0, 0, err
	}
	if copied, err = rowsAffected(tx.ExecContext(ctx, r.s.copyRange(r.t, start != nil, end != nil), bounds...)); err != nil || !found {
		return copied, 0, err
	}
	deleted, err = rowsAffected(tx.ExecContext(ctx, r.s.deleteOrphans(start != nil, end != nil), bounds...))
	return copied, deleted, err
}

// rowsAffected returns the rows a statement that ran with err affected.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
