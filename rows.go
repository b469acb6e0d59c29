package dualwrite

import (
	"database/sql/driver"
	"errors"
	"io"
	"reflect"

	"github.com/dualwrite/dualwrite/txn"
)

// bufferedRows hands the caller the RETURNING rows of a dual write, which
// were read in full before the mirror ran. It reports the column types the
// wrapped driver reported; where the driver said nothing it reports what
// database/sql assumes for a driver without the interface.
type bufferedRows struct {
	res *txn.Result
	i   int
}

var (
	_ driver.Rows                           = (*bufferedRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*bufferedRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*bufferedRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*bufferedRows)(nil)
)

func (r *bufferedRows) Columns() []string { return r.res.Columns }
func (r *bufferedRows) Close() error      { return nil }

func (r *bufferedRows) Next(dest []driver.Value) error {
	if r.i >= len(r.res.Rows) {
		return io.EOF
	}
	copy(dest, r.res.Rows[r.i])
	r.i++
	return nil
}

func (r *bufferedRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.res.Types[i].DatabaseTypeName
}

func (r *bufferedRows) ColumnTypeScanType(i int) reflect.Type {
	if t := r.res.Types[i].ScanType; t != nil {
		return t
	}
	return reflect.TypeFor[any]()
}

func (r *bufferedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	return r.res.Types[i].Nullable, r.res.Types[i].HasNullable
}

// result is the caller's statement's driver.Result.
type result struct {
	lastID, affected int64
	noLastID         bool
}

var errNoLastInsertID = errors.New("LastInsertId is not supported by this driver")

func (r result) LastInsertId() (int64, error) {
	if r.noLastID {
		return 0, errNoLastInsertID
	}
	return r.lastID, nil
}
func (r result) RowsAffected() (int64, error) { return r.affected, nil }
