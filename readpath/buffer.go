package readpath

import (
	"database/sql/driver"
	"errors"
	"io"
	"reflect"
	"slices"

	"github.com/dualwrite/dualwrite/internal/rowtypes"
)

// Buffered is a query's result read in full by [Buffer]: its column names,
// what the driver said of the columns' types, and its rows. It is itself a
// driver.Rows that yields them, with those column types, so that the
// driver can run more statements on the connection before the caller reads
// the result (a locking read runs its new-table query after the old one).
//
// A Buffered is read by one goroutine at a time, as any driver.Rows.
type Buffered struct {
	columns []string
	types   []columnType
	rows    [][]driver.Value
	next    int
}

// columnType is what the driver said of one column's type.
type columnType struct {
	databaseName     string
	scan             reflect.Type
	nullable, hasNul bool
	length           int64
	hasLength        bool
	precision, scale int64
	hasPS            bool
}

var (
	_ driver.Rows                           = (*Buffered)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*Buffered)(nil)
	_ driver.RowsColumnTypeScanType         = (*Buffered)(nil)
	_ driver.RowsColumnTypeNullable         = (*Buffered)(nil)
	_ driver.RowsColumnTypeLength           = (*Buffered)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*Buffered)(nil)
)

// Buffer reads every row of rows and closes it. It copies []byte values,
// since drivers may reuse their buffers. It returns the first error from
// Next (other than io.EOF) or from Close; rows is closed in every case.
func Buffer(rows driver.Rows) (*Buffered, error) {
	b := &Buffered{columns: slices.Clone(rows.Columns())}
	of := rowtypes.Of{Rows: rows}
	b.types = make([]columnType, len(b.columns))
	for i := range b.types {
		ct := &b.types[i]
		ct.databaseName = of.ColumnTypeDatabaseTypeName(i)
		ct.scan = of.ColumnTypeScanType(i)
		ct.nullable, ct.hasNul = of.ColumnTypeNullable(i)
		ct.length, ct.hasLength = of.ColumnTypeLength(i)
		ct.precision, ct.scale, ct.hasPS = of.ColumnTypePrecisionScale(i)
	}
	for {
		row := make([]driver.Value, len(b.columns))
		err := rows.Next(row)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = rows.Close() // the error from Next is the one to report
			return nil, err
		}
		for i, v := range row {
			if bs, ok := v.([]byte); ok {
				row[i] = slices.Clone(bs)
			}
		}
		b.rows = append(b.rows, row)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	return b, nil
}

// Len returns the number of rows.
func (b *Buffered) Len() int { return len(b.rows) }

// TrimKeys removes the last n columns from the result and returns their
// values, row by row: the key columns a query appended to the caller's.
func (b *Buffered) TrimKeys(n int) [][]driver.Value {
	w := len(b.columns) - n
	b.columns, b.types = b.columns[:w], b.types[:w]
	keys := make([][]driver.Value, len(b.rows))
	for i, r := range b.rows {
		keys[i], b.rows[i] = r[w:], r[:w:w]
	}
	return keys
}

// Append adds the rows of o, a result with the same columns, after b's.
func (b *Buffered) Append(o *Buffered) { b.rows = append(b.rows, o.rows...) }

// Reorder puts b's rows, whose keys are keys (row by row), in the order of
// order: for each key of order, the next row of b with an equal key (by
// [Normalize]). Rows that no key of order takes are dropped, and a key of
// order that no row has takes none.
func (b *Buffered) Reorder(keys, order [][]driver.Value) {
	byKey := map[string][]int{}
	var buf, scratch []byte
	for i, k := range keys {
		buf, scratch = rowKey(buf[:0], scratch, k)
		byKey[string(buf)] = append(byKey[string(buf)], i)
	}
	rows := make([][]driver.Value, 0, len(order))
	for _, k := range order {
		buf, scratch = rowKey(buf[:0], scratch, k)
		if at := byKey[string(buf)]; len(at) > 0 {
			rows = append(rows, b.rows[at[0]])
			byKey[string(buf)] = at[1:]
		}
	}
	b.rows = rows
}

// Distinct returns keys without repetitions (by [Normalize]), in order.
func Distinct(keys [][]driver.Value) [][]driver.Value {
	seen := map[string]bool{}
	var out [][]driver.Value
	var buf, scratch []byte
	for _, k := range keys {
		buf, scratch = rowKey(buf[:0], scratch, k)
		if !seen[string(buf)] {
			seen[string(buf)] = true
			out = append(out, k)
		}
	}
	return out
}

// Columns returns the column names.
func (b *Buffered) Columns() []string { return b.columns }

// Close does nothing: the rows are in memory.
func (b *Buffered) Close() error { return nil }

// Next copies the next row into dest.
func (b *Buffered) Next(dest []driver.Value) error {
	if b.next >= len(b.rows) {
		return io.EOF
	}
	copy(dest, b.rows[b.next])
	b.next++
	return nil
}

// ColumnTypeDatabaseTypeName returns what the driver said, or "".
func (b *Buffered) ColumnTypeDatabaseTypeName(i int) string { return b.types[i].databaseName }

// ColumnTypeScanType returns what the driver said, or the type of any.
func (b *Buffered) ColumnTypeScanType(i int) reflect.Type { return b.types[i].scan }

// ColumnTypeNullable returns what the driver said, or false, false.
func (b *Buffered) ColumnTypeNullable(i int) (nullable, ok bool) {
	return b.types[i].nullable, b.types[i].hasNul
}

// ColumnTypeLength returns what the driver said, or 0, false.
func (b *Buffered) ColumnTypeLength(i int) (length int64, ok bool) {
	return b.types[i].length, b.types[i].hasLength
}

// ColumnTypePrecisionScale returns what the driver said, or 0, 0, false.
func (b *Buffered) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	return b.types[i].precision, b.types[i].scale, b.types[i].hasPS
}
