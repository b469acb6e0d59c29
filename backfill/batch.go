package backfill

import (
	"context"
	"database/sql"
)

// batchResult is what a committed batch did.
type batchResult struct {
	cp              Checkpoint // the checkpoint it wrote
	copied, deleted int64      // old rows copied, new rows deleted
}

// batch runs one batch in a transaction of its own. Its key range starts
// after the checkpoint's last key and ends at the key of the BatchSize-th
// old row after it, or has no end when there are fewer rows: that batch is
// the last.
func (r *runner) batch(ctx context.Context) (res batchResult, err error) {
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
	keys, err := r.keys(ctx, tx, r.s.keys(start != nil, r.opts.BatchSize), start)
	if err != nil {
		return res, err
	}
	var end []any
	if len(keys) == r.opts.BatchSize {
		end = keys[len(keys)-1]
	}
	if r.s.rowLocks() {
		// Lock the range's rows before the upsert reads them: a dual write
		// of one of them then commits before the batch reads the row, or
		// waits and writes after the batch, over what it copied.
		if keys, err = r.keys(ctx, tx, r.s.lockRange(start != nil, end != nil), append(append([]any(nil), start...), end...)); err != nil {
			return res, err
		}
	}
	if err := r.upsert(ctx, tx, keys); err != nil {
		return res, err
	}
	orphans, err := tx.ExecContext(ctx, r.s.deleteOrphans(start != nil, end != nil), append(append([]any(nil), start...), end...)...)
	if err != nil {
		return res, err
	}
	deleted, err := orphans.RowsAffected()
	if err != nil {
		return res, err
	}
	if end != nil {
		cp.LastKey = end
	} else {
		cp.Done = true
	}
	cp.Rows += int64(len(keys))
	cp.Deleted += deleted
	cp.Updated = r.now().UTC()
	if err := r.cp.save(ctx, tx, cp); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	return batchResult{cp: cp, copied: int64(len(keys)), deleted: deleted}, nil
}

// keys returns the keys a query of old keys returns.
func (r *runner) keys(ctx context.Context, tx *sql.Tx, query string, args []any) ([][]any, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var keys [][]any
	for rows.Next() {
		key := make([]any, len(r.t.Map.Key))
		dest := make([]any, len(key))
		for i := range key {
			dest[i] = &key[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, rows.Err()
}

// upsert sets the new rows of the keys to up(old), at most KeyBatch keys
// per statement.
func (r *runner) upsert(ctx context.Context, tx *sql.Tx, keys [][]any) error {
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), r.t.KeyBatch())]
		keys = keys[len(chunk):]
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for _, k := range chunk {
			args = append(args, k...)
		}
		if _, err := tx.ExecContext(ctx, r.t.UpsertSQL(len(chunk)), args...); err != nil {
			return err
		}
	}
	return nil
}
