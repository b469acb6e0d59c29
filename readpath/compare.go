package readpath

import (
	"database/sql/driver"
	"slices"
	"strings"
)

// Report is the outcome of one comparison by [Compare].
type Report struct {
	// Match is true when the new result has the same columns (names compared
	// case-insensitively) and the same rows as the old one: the same
	// multiset of rows, or the same rows in the same order when Ordered.
	// Values are compared by [Normalize].
	Match bool
	// OldRows and NewRows count the rows of the old and the new result.
	OldRows, NewRows int
	// Columns are the old query's column names.
	Columns []string
	// ColumnsDiffer is true when the new query's column names or count
	// differ from the old's; that alone makes Match false.
	ColumnsDiffer bool
	// Ordered is true when the rows were compared position by position.
	Ordered bool
	// Samples holds up to the sample limit rows found on one side only (or,
	// for ordered comparisons, the rows at the first differing positions,
	// the old row before the new one at each). When both sides have such
	// rows, each side gets at least half of the limit if it has that many.
	Samples []Diff
}

// Diff is one row of a [Report] sample.
type Diff struct {
	// Side is "old" for a row of the old result (only in old, or old's row
	// at Index) and "new" for a row of the new result.
	Side string
	// Index is the row's position in its result, counted from 0, for
	// ordered comparisons; -1 for multiset comparisons.
	Index int
	// Row is the row's values as the driver returned them, except that
	// []byte values are converted to string for logging.
	Row []any
}

// Sides of a [Diff].
const (
	sideOld = "old"
	sideNew = "new"
)

// comparison is the state of one comparison while the old rows stream: the
// report being built and, for multisets, how many of each new row are still
// unmatched.
type comparison struct {
	shadow  *Shadow
	limit   int
	rep     Report
	counts  map[string]int // multiset: shadow rows not yet matched, by key
	matched int            // multiset: old rows that matched a shadow row
	differ  bool           // ordered: some position differs
	oldOnly []Diff         // multiset samples of the old side
	buf     []byte         // row key buffer, reused
	scratch []byte         // value key buffer, reused
}

func newComparison(columns []string, shadow *Shadow, ordered bool, limit int) *comparison {
	c := &comparison{
		shadow: shadow,
		limit:  max(limit, 0),
		rep: Report{
			Columns:       slices.Clone(columns),
			ColumnsDiffer: !sameColumns(columns, shadow.Columns()),
			Ordered:       ordered,
			NewRows:       shadow.Len(),
		},
	}
	if !ordered && shadow != nil {
		c.counts = make(map[string]int, len(shadow.keys))
		for _, k := range shadow.keys {
			c.counts[k]++
		}
	}
	return c
}

// sameColumns compares column names case-insensitively.
func sameColumns(a, b []string) bool {
	return slices.EqualFunc(a, b, strings.EqualFold)
}

// observe compares one old row with the shadow.
func (c *comparison) observe(row []driver.Value) {
	c.buf, c.scratch = rowKey(c.buf[:0], c.scratch, row)
	i := c.rep.OldRows
	c.rep.OldRows++
	if c.rep.Ordered {
		switch {
		case i >= c.shadow.Len():
			c.differ = true
			c.sample(sideOld, i, row)
		case string(c.buf) != c.shadow.keys[i]:
			c.differ = true
			c.sample(sideOld, i, row)
			c.sample(sideNew, i, c.shadow.rows[i])
		}
		return
	}
	if n := c.counts[string(c.buf)]; n > 0 {
		c.counts[string(c.buf)] = n - 1
		c.matched++
		return
	}
	if len(c.oldOnly) < c.limit {
		c.oldOnly = append(c.oldOnly, Diff{Side: sideOld, Index: -1, Row: sampleRow(row)})
	}
}

// sample appends a sample of an ordered comparison, within the limit.
func (c *comparison) sample(side string, index int, row []driver.Value) {
	if len(c.rep.Samples) < c.limit {
		c.rep.Samples = append(c.rep.Samples, Diff{Side: side, Index: index, Row: sampleRow(row)})
	}
}

// report completes the comparison once the old rows are exhausted.
func (c *comparison) report() *Report {
	rep := &c.rep
	if rep.Ordered {
		for i := rep.OldRows; i < rep.NewRows; i++ {
			c.differ = true
			if len(rep.Samples) >= c.limit {
				break
			}
			c.sample(sideNew, i, c.shadow.rows[i])
		}
		rep.Match = !rep.ColumnsDiffer && !c.differ && rep.OldRows == rep.NewRows
		return rep
	}
	unmatchedOld := rep.OldRows - c.matched
	unmatchedNew := rep.NewRows - c.matched
	rep.Match = !rep.ColumnsDiffer && unmatchedOld == 0 && unmatchedNew == 0
	// Share the limit: each side gets half, and what the other side leaves.
	nNew := min(unmatchedNew, c.limit/2)
	nOld := min(len(c.oldOnly), c.limit-nNew)
	nNew = min(unmatchedNew, c.limit-nOld)
	rep.Samples = append(rep.Samples, c.oldOnly[:nOld]...)
	for i, key := range c.shadow.keysOrNil() {
		if len(rep.Samples) >= nOld+nNew {
			break
		}
		if c.counts[key] > 0 {
			c.counts[key]--
			rep.Samples = append(rep.Samples, Diff{Side: sideNew, Index: -1, Row: sampleRow(c.shadow.rows[i])})
		}
	}
	c.counts, c.oldOnly = nil, nil
	return rep
}

// keysOrNil returns the row keys of s, nil for a nil Shadow.
func (s *Shadow) keysOrNil() []string {
	if s == nil {
		return nil
	}
	return s.keys
}

// sampleRow copies a row for a [Diff], with []byte values as strings.
func sampleRow(row []driver.Value) []any {
	out := make([]any, len(row))
	for i, v := range row {
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		out[i] = v
	}
	return out
}
