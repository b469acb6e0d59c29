package readpath

import (
	"database/sql/driver"
	"io"
	"slices"
)

// Shadow is the new query's result, collected in full by [Collect] before
// the old rows are streamed through [Compare]: its column names, its rows in
// order (kept for ordered comparisons and for samples) and each row's key;
// a comparison as a multiset counts the keys when it starts.
//
// Memory: a Shadow holds every row of the new result, plus one key string
// per row (about the size of the row's text); a multiset comparison adds a
// map entry per distinct row. Compare only keeps the Shadow and counters. A comparison of a large
// result therefore costs memory in proportion to it; the driver bounds that
// by which queries it compares.
//
// A Shadow is not changed after Collect returns, so one Shadow may be
// compared more than once and read from several goroutines. A nil *Shadow is
// an empty result with no columns.
type Shadow struct {
	columns []string
	rows    [][]driver.Value
	keys    []string // each row's comparison key
}

// Collect reads every row of rows into a new [Shadow] and closes rows. It
// copies []byte values, since drivers may reuse their buffers between calls
// to Next. It returns the first error from Next (other than io.EOF) or from
// Close, and then no Shadow; rows is closed in every case.
func Collect(rows driver.Rows) (*Shadow, error) {
	s := &Shadow{
		columns: slices.Clone(rows.Columns()),
	}
	dest := make([]driver.Value, len(s.columns))
	var buf, scratch []byte
	for {
		err := rows.Next(dest)
		if err == io.EOF { //nolint:errorlint // database/sql, too, compares io.EOF by identity.
			break
		}
		if err != nil {
			_ = rows.Close() // The error from Next is the one to report.
			return nil, err
		}
		row := make([]driver.Value, len(dest))
		for i, v := range dest {
			if b, ok := v.([]byte); ok {
				v = slices.Clone(b)
			}
			row[i] = v
		}
		buf, scratch = rowKey(buf[:0], scratch, row)
		key := string(buf)
		s.rows = append(s.rows, row)
		s.keys = append(s.keys, key)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	return s, nil
}

// Len returns the number of rows in the shadow result.
func (s *Shadow) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rows)
}

// Columns returns the column names of the shadow result. The caller must not
// modify the slice.
func (s *Shadow) Columns() []string {
	if s == nil {
		return nil
	}
	return s.columns
}
