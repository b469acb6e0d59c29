package readpath

import (
	"database/sql/driver"
	"io"
	"sync"

	"github.com/dualwrite/dualwrite/internal/rowtypes"
)

// Compare returns rows that yield exactly what old yields (the same Columns,
// the same values from Next, the same errors, and old's answers to the
// optional column-type interfaces), comparing each row with shadow as it
// passes: as a multiset, or position by position when ordered is true.
// Values are compared by [Normalize]. Only counters, the unmatched shadow
// counts and up to sampleLimit sample rows are kept; the old rows are not.
//
// done is called exactly once, after old has been closed (so that it may end
// the snapshot both queries ran in):
//   - when Next returns io.EOF, with the [Report] and a nil error;
//   - when old's Next returns another error, with a nil *Report and that
//     error, which the caller of Next also gets;
//   - when the returned rows are closed before either, with the outcome of
//     reading the rest of old: Close first reads old to its end to finish
//     the comparison, which costs the time of reading rows that the caller
//     did not want.
//
// The returned rows' Close returns old's Close error. Closing twice is
// harmless; done is not called again. done may be nil; it must not call
// methods of the returned rows. The returned rows do not implement
// driver.RowsNextResultSet: only the first result set is compared. Like any
// driver.Rows, they are not safe for concurrent use beyond what database/sql
// does (Close from another goroutine on cancellation).
//
// shadow must not be changed during the comparison ([Collect] never changes
// it). sampleLimit bounds Report.Samples; a negative limit counts as 0.
func Compare(old driver.Rows, shadow *Shadow, ordered bool, sampleLimit int, done func(*Report, error)) driver.Rows {
	cols := old.Columns()
	return &rows{
		Of:   rowtypes.Of{Rows: old},
		old:  old,
		cols: cols,
		cmp:  newComparison(cols, shadow, ordered, sampleLimit),
		done: done,
	}
}

// rows are old's rows, compared with the shadow as they pass.
type rows struct {
	rowtypes.Of // old's column types
	old         driver.Rows
	cols        []string
	done        func(*Report, error)

	mu       sync.Mutex
	cmp      *comparison
	finished bool  // old is closed and done has been called
	err      error // the error Next returns once finished
	closeErr error // old's Close error
}

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypeLength           = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
)

// Columns returns old's column names, as old returned them when Compare
// was called.
func (r *rows) Columns() []string { return r.cols }

// Next reads old's next row into dest and compares it.
func (r *rows) Next(dest []driver.Value) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return r.err
	}
	err := r.old.Next(dest)
	if err == nil {
		r.cmp.observe(dest)
		return nil
	}
	r.finish(err)
	return err
}

// Close reads the rest of old to finish the comparison, unless Next already
// did, and returns old's Close error.
func (r *rows) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.finished {
		dest := make([]driver.Value, len(r.cols))
		for {
			err := r.old.Next(dest)
			if err != nil {
				r.finish(err)
				break
			}
			r.cmp.observe(dest)
		}
	}
	return r.closeErr
}

// finish closes old and calls done, once, after Next returned err.
func (r *rows) finish(err error) {
	r.finished = true
	r.closeErr = r.old.Close()
	var rep *Report
	if err == io.EOF { //nolint:errorlint // database/sql, too, compares io.EOF by identity.
		rep = r.cmp.report()
	} else {
		r.err = err
	}
	if r.err == nil {
		r.err = io.EOF
	}
	r.cmp = nil
	if r.done != nil {
		if rep != nil {
			r.done(rep, nil)
		} else {
			r.done(nil, err)
		}
	}
}
