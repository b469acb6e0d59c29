package readpath

import (
	"database/sql/driver"
	"errors"
	"reflect"
	"testing"
)

// TestBuffer: a buffered result yields the rows and the column types of
// the rows it read, with []byte values copied out of the driver's buffer;
// TrimKeys splits the appended key columns off; Reorder puts rows in the
// order of other keys by normalized value, dropping rows no key takes.
func TestBuffer(t *testing.T) {
	src := &typedRows{fakeRows{cols: []string{"name", "id"}, buf: []byte{},
		data: [][]driver.Value{r([]byte("c"), int64(3)), r([]byte("a"), int64(1)), r([]byte("b"), int64(2)), r([]byte("x"), int64(9))}}}
	b, err := Buffer(src)
	if err != nil || src.closes != 1 {
		t.Fatalf("Buffer: %v, %d closes", err, src.closes)
	}
	keys := b.TrimKeys(1)
	if !reflect.DeepEqual(keys, [][]driver.Value{r(int64(3)), r(int64(1)), r(int64(2)), r(int64(9))}) {
		t.Fatalf("keys %v", keys)
	}
	// The old side's keys, of another Go type, in the old order, one twice.
	b.Reorder(keys, [][]driver.Value{r(1.0), r("2"), r(int32(3)), r(int64(4)), r(int64(1))})
	got, err := drain(t, b)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]driver.Value{r([]byte("a")), r([]byte("b")), r([]byte("c"))}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(b.Columns(), []string{"name"}) {
		t.Fatalf("reordered %v (columns %v), want %v", got, b.Columns(), want)
	}
	if b.ColumnTypeDatabaseTypeName(0) != "T0" || b.ColumnTypeScanType(0) != reflect.TypeFor[int64]() {
		t.Fatalf("column types: %s %v", b.ColumnTypeDatabaseTypeName(0), b.ColumnTypeScanType(0))
	}
	if l, ok := b.ColumnTypeLength(0); l != 10 || !ok {
		t.Fatalf("length %d %v", l, ok)
	}
	if d := Distinct([][]driver.Value{r(int64(1)), r(1.0), r("1"), r(int64(2))}); len(d) != 2 {
		t.Fatalf("Distinct: %v", d)
	}
	boom := errors.New("boom")
	bad := &fakeRows{cols: []string{"a"}, data: [][]driver.Value{r(1), r(2)}, nextErr: boom, nextErrAt: 1}
	if _, err := Buffer(bad); !errors.Is(err, boom) || bad.closes != 1 {
		t.Fatalf("Buffer of failing rows: %v, %d closes", err, bad.closes)
	}
}
