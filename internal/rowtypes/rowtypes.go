// Package rowtypes lets a wrapper of driver.Rows report the column types of
// the rows it wraps, as database/sql asks for them.
package rowtypes

import (
	"database/sql/driver"
	"reflect"
)

// Of reports the column types of Rows: what Rows says where it implements
// the driver.RowsColumnType interfaces, and where it does not, exactly what
// database/sql assumes for rows without them. Embed it in a wrapper so the
// wrapper keeps the column types of what it wraps.
type Of struct{ Rows driver.Rows }

// ColumnTypeDatabaseTypeName returns Rows' answer, or "".
func (o Of) ColumnTypeDatabaseTypeName(index int) string {
	if t, ok := o.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(index)
	}
	return ""
}

// ColumnTypeScanType returns Rows' answer, or the type of any.
func (o Of) ColumnTypeScanType(index int) reflect.Type {
	if t, ok := o.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(index)
	}
	return reflect.TypeFor[any]()
}

// ColumnTypeNullable returns Rows' answer, or false, false.
func (o Of) ColumnTypeNullable(index int) (nullable, ok bool) {
	if t, ok := o.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(index)
	}
	return false, false
}

// ColumnTypeLength returns Rows' answer, or 0, false.
func (o Of) ColumnTypeLength(index int) (length int64, ok bool) {
	if t, ok := o.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(index)
	}
	return 0, false
}

// ColumnTypePrecisionScale returns Rows' answer, or 0, 0, false.
func (o Of) ColumnTypePrecisionScale(index int) (precision, scale int64, ok bool) {
	if t, ok := o.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(index)
	}
	return 0, 0, false
}
