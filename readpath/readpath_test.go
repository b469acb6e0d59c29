package readpath

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// fakeRows is a driver.Rows over fixed data, that can fail a chosen call.
type fakeRows struct {
	cols      []string
	data      [][]driver.Value
	pos       int
	nextErrAt int // Next fails at this row index when nextErr is set
	nextErr   error
	closeErr  error
	closes    int
	nexts     int
	buf       []byte // when set, []byte values are written into this one buffer
}

func (f *fakeRows) Columns() []string { return f.cols }

func (f *fakeRows) Close() error {
	f.closes++
	return f.closeErr
}

func (f *fakeRows) Next(dest []driver.Value) error {
	f.nexts++
	if f.closes > 0 {
		return errors.New("fakeRows: Next after Close")
	}
	if f.nextErr != nil && f.pos == f.nextErrAt {
		return f.nextErr
	}
	if f.pos >= len(f.data) {
		return io.EOF
	}
	for i, v := range f.data[f.pos] {
		if b, ok := v.([]byte); ok && f.buf != nil {
			f.buf = append(f.buf[:0], b...)
			v = f.buf
		}
		dest[i] = v
	}
	f.pos++
	return nil
}

// typedRows adds the optional column-type interfaces to fakeRows.
type typedRows struct{ fakeRows }

func (*typedRows) ColumnTypeDatabaseTypeName(i int) string { return "T" + strconv.Itoa(i) }
func (*typedRows) ColumnTypeScanType(int) reflect.Type     { return reflect.TypeFor[int64]() }
func (*typedRows) ColumnTypeNullable(int) (bool, bool)     { return true, true }
func (*typedRows) ColumnTypeLength(i int) (int64, bool)    { return int64(10 + i), true }
func (*typedRows) ColumnTypePrecisionScale(int) (int64, int64, bool) {
	return 7, 2, true
}

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*typedRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*typedRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*typedRows)(nil)
	_ driver.RowsColumnTypeLength           = (*typedRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*typedRows)(nil)
)

func rowsOf(cols []string, data ...[]driver.Value) *fakeRows {
	return &fakeRows{cols: cols, data: data}
}

func r(vs ...driver.Value) []driver.Value { return vs }

type status int

type valuer struct{ v driver.Value }

func (v valuer) Value() (driver.Value, error) { return v.v, nil }

func TestNormalizeEqual(t *testing.T) {
	inst := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	plus2 := time.FixedZone("+02", 2*3600)
	tests := []struct {
		name string
		a, b driver.Value
	}{
		{"nil", nil, nil},
		{"int64 float64", int64(3), float64(3)},
		{"int64 string", int64(3), "3"},
		{"int64 bytes", int64(3), []byte("3")},
		{"float64 string", float64(3), "3"},
		{"float64 bytes", float64(3), []byte("3")},
		{"negative", int64(-42), float64(-42)},
		{"negative string", int64(-42), "-42"},
		{"fraction string", float64(3.5), "3.5"},
		{"fraction bytes", float64(3.5), []byte("3.5")},
		{"shortest float", 0.1, "0.1"},
		{"small float", 1e-7, "1e-07"},
		{"large integral float", float64(1 << 60), int64(1 << 60)},
		{"integral float beyond int64", 1e21, "1000000000000000000000"},
		{"float beyond int64 vs uint64", float64(1 << 63), uint64(1 << 63)},
		{"negative zero", math.Copysign(0, -1), int64(0)},
		{"NaN", math.NaN(), math.NaN()},
		{"NaN string", math.NaN(), "NaN"},
		{"Inf", math.Inf(1), math.Inf(1)},
		{"true", true, int64(1)},
		{"false", false, int64(0)},
		{"true float", true, float64(1)},
		{"true string", true, "1"},
		{"bytes string", []byte("héllo"), "héllo"},
		{"empty bytes string", []byte{}, ""},
		{"binary bytes", []byte{0, 255, 1}, string([]byte{0, 255, 1})},
		{"int32", int32(7), int64(7)},
		{"uint8", uint8(7), float64(7)},
		{"float32 fraction", float32(0.1), "0.1"},
		{"named int", status(7), int64(7)},
		{"valuer", valuer{"x"}, "x"},
		{"nil valuer pointer", (*valuer)(nil), nil},
		{"time zones", inst, inst.In(plus2)},
		{"time monotonic", time.Unix(1700000000, 0).Round(0), time.Unix(1700000000, 0).UTC()},
		{"time string", inst, "2024-03-04 05:06:07"},
		{"time bytes", inst, []byte("2024-03-04 05:06:07")},
		{"time T layout", inst, "2024-03-04T05:06:07"},
		{"time Z suffix", inst, "2024-03-04T05:06:07Z"},
		{"time offset string", inst, "2024-03-04 07:06:07+02:00"},
		{"time fraction", inst.Add(123 * time.Millisecond), "2024-03-04 05:06:07.123"},
		{"time fraction offset", inst.Add(5 * time.Nanosecond), "2024-03-04T05:06:07.000000005+00:00"},
		{"time one-digit hour, as Go reads it", inst, "2024-03-04 5:06:07"},
		{"time minutes", inst.Truncate(time.Minute), "2024-03-04 05:06"},
		{"date", time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC), "2024-03-04"},
		{"date two layouts", "2024-03-04", "2024-03-04 00:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := Normalize(tt.a), Normalize(tt.b)
			if ka != kb {
				t.Errorf("Normalize(%#v) = %q, Normalize(%#v) = %q; want equal", tt.a, ka, tt.b, kb)
			}
		})
	}
}

func TestNormalizeDistinct(t *testing.T) {
	inst := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name string
		a, b driver.Value
	}{
		{"NULL empty string", nil, ""},
		{"NULL empty bytes", nil, []byte{}},
		{"NULL zero", nil, int64(0)},
		{"NULL false", nil, false},
		{"NULL string NULL", nil, "NULL"},
		{"numeric strings by bytes", "3", "3.0"},
		{"non-canonical spelling", int64(3), "3.0"},
		{"float non-canonical", float64(3), "3.0"},
		{"leading zero", int64(2134), "02134"},
		{"plus sign", int64(3), "+3"},
		{"space", int64(3), " 3"},
		{"exponent", int64(3), "3e0"},
		{"trailing zero", 3.5, "3.50"},
		{"different ints", int64(3), int64(4)},
		{"close floats", 0.1, 0.1 + 1e-17*3},
		{"int vs nearby float", int64(1<<53 + 1), float64(1 << 53)},
		{"true string", true, "true"},
		{"true two", true, int64(2)},
		{"NaN zero", math.NaN(), float64(0)},
		{"Inf signs", math.Inf(1), math.Inf(-1)},
		{"case", "abc", "ABC"},
		{"different instants", inst, inst.Add(time.Nanosecond)},
		{"time vs unix seconds", inst, inst.Unix()},
		{"time vs other text", inst, "2024-03-04 05:06:07 UTC"},
		{"time bad string", inst, "2024-3-04 05:06:07"},
		{"time is not text key", "S2024-03-04", "2024-03-04"},
		{"other type", struct{ A int }{1}, "{1}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ka, kb := Normalize(tt.a), Normalize(tt.b); ka == kb {
				t.Errorf("Normalize(%#v) = Normalize(%#v) = %q; want different", tt.a, tt.b, ka)
			}
		})
	}
}

// TestTimestampFormats keeps the copied layouts equal to go-sqlite3's and
// checks that text in each layout equals the time.Time it stands for.
func TestTimestampFormats(t *testing.T) {
	if !slices.Equal(timestampFormats, sqlite3.SQLiteTimestampFormats) {
		t.Fatalf("timestampFormats = %q, sqlite3.SQLiteTimestampFormats = %q", timestampFormats, sqlite3.SQLiteTimestampFormats)
	}
	inst := time.Date(2023, 11, 12, 13, 14, 15, 250_000_000, time.FixedZone("-05", -5*3600))
	for _, layout := range sqlite3.SQLiteTimestampFormats {
		var text string
		var want time.Time
		switch {
		case strings.HasSuffix(layout, "-07:00"):
			text, want = inst.Format(layout), inst
		case strings.HasSuffix(layout, ".999999999"):
			text, want = inst.UTC().Format(layout), inst
		case strings.HasSuffix(layout, "05"):
			text, want = inst.UTC().Format(layout), inst.Truncate(time.Second)
		case strings.HasSuffix(layout, "04"):
			text, want = inst.UTC().Format(layout), inst.Truncate(time.Minute)
		default:
			text, want = inst.UTC().Format(layout), inst.UTC().Truncate(24*time.Hour)
		}
		if Normalize(text) != Normalize(want) || Normalize(text+"Z") != Normalize(want) {
			t.Errorf("layout %q: Normalize(%q) = %q, want Normalize(%v) = %q", layout, text, Normalize(text), want, Normalize(want))
		}
		if Normalize(text) == Normalize(want.Add(time.Millisecond)) {
			t.Errorf("layout %q: %q equals %v", layout, text, want.Add(time.Millisecond))
		}
	}
}

func TestRowKeyUnambiguous(t *testing.T) {
	a := keyOf(r("a", "bc"))
	b := keyOf(r("ab", "c"))
	c := keyOf(r("a1:Sbc"))
	if a == b || a == c || b == c {
		t.Errorf("row keys collide: %q %q %q", a, b, c)
	}
	if keyOf(r(int64(1), "x")) != keyOf(r([]byte("1"), []byte("x"))) {
		t.Error("equal rows have different keys")
	}
}

func keyOf(row []driver.Value) string {
	key, _ := rowKey(nil, nil, row)
	return string(key)
}

func TestCollect(t *testing.T) {
	f := rowsOf([]string{"id", "b"}, r(int64(1), []byte("one")), r(int64(2), []byte("two")), r(int64(1), []byte("one")))
	f.buf = make([]byte, 0, 8) // the driver reuses one buffer
	s, err := Collect(f)
	if err != nil {
		t.Fatal(err)
	}
	if f.closes != 1 {
		t.Errorf("Collect closed the rows %d times, want 1", f.closes)
	}
	if s.Len() != 3 {
		t.Errorf("Len = %d, want 3", s.Len())
	}
	if !slices.Equal(s.Columns(), []string{"id", "b"}) {
		t.Errorf("Columns = %q", s.Columns())
	}
	got := []string{string(s.rows[0][1].([]byte)), string(s.rows[1][1].([]byte)), string(s.rows[2][1].([]byte))}
	if !slices.Equal(got, []string{"one", "two", "one"}) {
		t.Errorf("collected bytes = %q; the driver's buffer was not copied", got)
	}
	if n := countOf(s.keys, keyOf(r(int64(1), "one"))); n != 2 {
		t.Errorf("count of (1, one) = %d, want 2", n)
	}
}

func TestCollectErrors(t *testing.T) {
	nextErr := errors.New("next failed")
	closeErr := errors.New("close failed")

	f := rowsOf([]string{"a"}, r(int64(1)), r(int64(2)))
	f.nextErr, f.nextErrAt, f.closeErr = nextErr, 1, closeErr
	if s, err := Collect(f); !errors.Is(err, nextErr) || s != nil {
		t.Errorf("Collect = %v, %v; want nil, %v", s, err, nextErr)
	}
	if f.closes != 1 {
		t.Errorf("rows closed %d times after a Next error, want 1", f.closes)
	}

	f = rowsOf([]string{"a"}, r(int64(1)))
	f.closeErr = closeErr
	if s, err := Collect(f); !errors.Is(err, closeErr) || s != nil {
		t.Errorf("Collect = %v, %v; want nil, %v", s, err, closeErr)
	}
}

// result records the calls of a done callback.
type result struct {
	calls int
	rep   *Report
	err   error
}

func (res *result) done(oldRows *fakeRows) func(*Report, error) {
	return func(rep *Report, err error) {
		res.calls++
		res.rep, res.err = rep, err
		if oldRows != nil && oldRows.closes != 1 {
			panic(fmt.Sprintf("done called with old closed %d times, want 1", oldRows.closes))
		}
	}
}

// drain reads rows to the end as database/sql does, then closes them, and
// returns the rows read and the error from Next other than io.EOF.
func drain(t *testing.T, rows driver.Rows) ([][]driver.Value, error) {
	t.Helper()
	var out [][]driver.Value
	var err error
	for {
		dest := make([]driver.Value, len(rows.Columns()))
		if err = rows.Next(dest); err != nil {
			break
		}
		out = append(out, dest)
	}
	if cerr := rows.Close(); cerr != nil {
		t.Errorf("Close: %v", cerr)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return out, err
}

func compare(t *testing.T, oldCols, newCols []string, oldData, newData [][]driver.Value, ordered bool, limit int) *Report {
	t.Helper()
	shadow, err := Collect(rowsOf(newCols, newData...))
	if err != nil {
		t.Fatal(err)
	}
	old := rowsOf(oldCols, oldData...)
	var res result
	got, err := drain(t, Compare(old, shadow, ordered, limit, res.done(old)))
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	if !reflect.DeepEqual(got, oldData) && len(oldData) > 0 {
		t.Errorf("Compare yielded %v, want the old rows %v", got, oldData)
	}
	if res.calls != 1 || res.err != nil || res.rep == nil {
		t.Fatalf("done called %d times with %v, %v; want once with a report", res.calls, res.rep, res.err)
	}
	if old.closes != 1 {
		t.Errorf("old closed %d times, want 1", old.closes)
	}
	return res.rep
}

var cols = []string{"id", "name"}

func TestCompareOrder(t *testing.T) {
	a, b, c := r(int64(1), "a"), r(int64(2), "b"), r(int64(3), "c")
	// The new side holds the same data in other types.
	a2, b2, c2 := r(float64(1), []byte("a")), r("2", []byte("b")), r([]byte("3"), "c")

	rep := compare(t, cols, cols, [][]driver.Value{a, b, c}, [][]driver.Value{c2, a2, b2}, false, 5)
	if !rep.Match || rep.OldRows != 3 || rep.NewRows != 3 || len(rep.Samples) != 0 || rep.Ordered || rep.ColumnsDiffer {
		t.Errorf("multiset: %+v; want a match of 3 rows", rep)
	}
	if !slices.Equal(rep.Columns, cols) {
		t.Errorf("Columns = %q, want %q", rep.Columns, cols)
	}

	rep = compare(t, cols, cols, [][]driver.Value{a, b, c}, [][]driver.Value{c2, a2, b2}, true, 5)
	if rep.Match || !rep.Ordered {
		t.Fatalf("ordered: %+v; want a mismatch", rep)
	}
	want := []Diff{
		{"old", 0, []any{int64(1), "a"}},
		{"new", 0, []any{"3", "c"}},
		{"old", 1, []any{int64(2), "b"}},
		{"new", 1, []any{float64(1), "a"}},
		{"old", 2, []any{int64(3), "c"}},
	}
	if !reflect.DeepEqual(rep.Samples, want) {
		t.Errorf("ordered samples = %v, want %v", rep.Samples, want)
	}

	rep = compare(t, cols, cols, [][]driver.Value{a, b, c}, [][]driver.Value{a2, b2, c2}, true, 5)
	if !rep.Match || len(rep.Samples) != 0 {
		t.Errorf("ordered, same order: %+v; want a match", rep)
	}
}

func TestCompareExtraRows(t *testing.T) {
	a, b, x := r(int64(1), "a"), r(int64(2), "b"), r(int64(9), []byte("x"))
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprint("ordered=", ordered), func(t *testing.T) {
			index := -1
			if ordered {
				index = 2
			}
			rep := compare(t, cols, cols, [][]driver.Value{a, b, x}, [][]driver.Value{a, b}, ordered, 5)
			want := []Diff{{"old", index, []any{int64(9), "x"}}}
			if rep.Match || rep.OldRows != 3 || rep.NewRows != 2 || !reflect.DeepEqual(rep.Samples, want) {
				t.Errorf("extra old row: %+v; want a mismatch with samples %v", rep, want)
			}

			rep = compare(t, cols, cols, [][]driver.Value{a, b}, [][]driver.Value{a, b, x}, ordered, 5)
			want = []Diff{{"new", index, []any{int64(9), "x"}}}
			if rep.Match || rep.OldRows != 2 || rep.NewRows != 3 || !reflect.DeepEqual(rep.Samples, want) {
				t.Errorf("extra new row: %+v; want a mismatch with samples %v", rep, want)
			}

			rep = compare(t, cols, cols, nil, nil, ordered, 5)
			if !rep.Match || rep.OldRows != 0 || rep.NewRows != 0 {
				t.Errorf("empty results: %+v; want a match", rep)
			}
		})
	}
}

func TestCompareDuplicates(t *testing.T) {
	a, b := r(int64(1), "a"), r(int64(2), "b")
	rep := compare(t, cols, cols, [][]driver.Value{a, a, b}, [][]driver.Value{a, b, b}, false, 5)
	want := []Diff{{"old", -1, []any{int64(1), "a"}}, {"new", -1, []any{int64(2), "b"}}}
	if rep.Match || !reflect.DeepEqual(rep.Samples, want) {
		t.Errorf("[a a b] vs [a b b]: %+v; want a mismatch with samples %v", rep, want)
	}
	rep = compare(t, cols, cols, [][]driver.Value{a, b, a}, [][]driver.Value{a, a, b}, false, 5)
	if !rep.Match {
		t.Errorf("[a b a] vs [a a b]: %+v; want a match", rep)
	}
}

func TestCompareNULL(t *testing.T) {
	rep := compare(t, cols, cols, [][]driver.Value{r(int64(1), nil)}, [][]driver.Value{r(int64(1), "")}, false, 5)
	if rep.Match {
		t.Errorf("NULL vs '': %+v; want a mismatch", rep)
	}
	rep = compare(t, cols, cols, [][]driver.Value{r(int64(1), nil)}, [][]driver.Value{r(int64(1), nil)}, false, 5)
	if !rep.Match {
		t.Errorf("NULL vs NULL: %+v; want a match", rep)
	}
}

func TestCompareSampleLimit(t *testing.T) {
	var oldData, newData [][]driver.Value
	for i := range 10 {
		oldData = append(oldData, r(int64(i), "old"))
		newData = append(newData, r(int64(i), "new"))
	}
	rep := compare(t, cols, cols, oldData, newData, false, 5)
	var nOld, nNew int
	for _, d := range rep.Samples {
		if d.Side == "old" {
			nOld++
		} else {
			nNew++
		}
	}
	if rep.Match || nOld != 3 || nNew != 2 {
		t.Errorf("samples: %d old, %d new (%v); want 3 old and 2 new", nOld, nNew, rep.Samples)
	}

	rep = compare(t, cols, cols, oldData, newData, true, 5)
	if rep.Match || len(rep.Samples) != 5 {
		t.Errorf("ordered samples = %v; want 5", rep.Samples)
	}

	rep = compare(t, cols, cols, oldData, newData[:1], false, 4)
	if len(rep.Samples) != 4 || rep.Samples[3].Side != "new" {
		t.Errorf("samples = %v; want 3 old and the 1 new", rep.Samples)
	}

	for _, ordered := range []bool{false, true} {
		rep = compare(t, cols, cols, oldData, newData, ordered, -1)
		if rep.Match || len(rep.Samples) != 0 {
			t.Errorf("limit -1, ordered %v: %+v; want a mismatch without samples", ordered, rep)
		}
	}
}

func TestCompareColumns(t *testing.T) {
	data := [][]driver.Value{r(int64(1), "a")}
	rep := compare(t, cols, []string{"id", "full_name"}, data, data, false, 5)
	if rep.Match || !rep.ColumnsDiffer {
		t.Errorf("renamed column: %+v; want a mismatch with ColumnsDiffer", rep)
	}
	rep = compare(t, cols, []string{"ID", "Name"}, data, data, true, 5)
	if !rep.Match || rep.ColumnsDiffer {
		t.Errorf("columns differing in case: %+v; want a match", rep)
	}
	rep = compare(t, cols, []string{"id"}, data, [][]driver.Value{r(int64(1))}, false, 5)
	if rep.Match || !rep.ColumnsDiffer {
		t.Errorf("missing column: %+v; want a mismatch with ColumnsDiffer", rep)
	}
}

func TestCompareEarlyClose(t *testing.T) {
	data := [][]driver.Value{r(int64(1), "a"), r(int64(2), "b"), r(int64(3), "c")}
	shadow, err := Collect(rowsOf(cols, data[0], data[1]))
	if err != nil {
		t.Fatal(err)
	}
	old := rowsOf(cols, data...)
	var res result
	rows := Compare(old, shadow, false, 5, res.done(old))
	dest := make([]driver.Value, 2)
	if err := rows.Next(dest); err != nil {
		t.Fatal(err)
	}
	if res.calls != 0 {
		t.Fatal("done called before the end of the rows")
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if res.calls != 1 || res.rep == nil || res.err != nil {
		t.Fatalf("after Close, done called %d times with %v, %v; want once with a report", res.calls, res.rep, res.err)
	}
	if res.rep.OldRows != 3 || res.rep.Match || len(res.rep.Samples) != 1 || res.rep.Samples[0].Row[0] != int64(3) {
		t.Errorf("report after an early Close: %+v; want all 3 old rows compared", res.rep)
	}
	if err := rows.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if res.calls != 1 || old.closes != 1 {
		t.Errorf("after a second Close: done called %d times, old closed %d times; want 1 and 1", res.calls, old.closes)
	}
	if err := rows.Next(dest); !errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v, want io.EOF", err)
	}
}

func TestCompareCloseError(t *testing.T) {
	closeErr := errors.New("close failed")
	old := rowsOf(cols, r(int64(1), "a"))
	old.closeErr = closeErr
	var res result
	rows := Compare(old, &Shadow{columns: cols}, false, 5, res.done(old))
	dest := make([]driver.Value, 2)
	for rows.Next(dest) == nil {
	}
	if res.calls != 1 || res.rep == nil || res.rep.Match {
		t.Errorf("done: %d calls, %+v; want one mismatch report", res.calls, res.rep)
	}
	for range 2 {
		if err := rows.Close(); !errors.Is(err, closeErr) {
			t.Errorf("Close = %v, want %v", err, closeErr)
		}
	}
	if old.closes != 1 {
		t.Errorf("old closed %d times, want 1", old.closes)
	}
}

func TestCompareNextError(t *testing.T) {
	nextErr := errors.New("disk on fire")
	for _, early := range []bool{false, true} {
		t.Run(fmt.Sprint("early close=", early), func(t *testing.T) {
			shadow, err := Collect(rowsOf(cols, r(int64(1), "a"), r(int64(2), "b")))
			if err != nil {
				t.Fatal(err)
			}
			old := rowsOf(cols, r(int64(1), "a"), r(int64(2), "b"))
			old.nextErr, old.nextErrAt = nextErr, 1
			var res result
			rows := Compare(old, shadow, false, 5, res.done(old))
			dest := make([]driver.Value, 2)
			if err := rows.Next(dest); err != nil {
				t.Fatal(err)
			}
			if early {
				if err := rows.Close(); err != nil {
					t.Errorf("Close = %v, want old's Close error (nil)", err)
				}
			} else if err := rows.Next(dest); !errors.Is(err, nextErr) {
				t.Errorf("Next = %v, want %v", err, nextErr)
			}
			if res.calls != 1 || res.rep != nil || !errors.Is(res.err, nextErr) {
				t.Errorf("done called %d times with %v, %v; want once with nil, %v", res.calls, res.rep, res.err, nextErr)
			}
			if !early {
				if err := rows.Next(dest); !errors.Is(err, nextErr) {
					t.Errorf("Next again = %v, want %v", err, nextErr)
				}
			}
			if err := rows.Close(); err != nil {
				t.Errorf("Close = %v", err)
			}
			if res.calls != 1 || old.closes != 1 {
				t.Errorf("done called %d times, old closed %d times; want 1 and 1", res.calls, old.closes)
			}
		})
	}
}

func TestCompareNilDone(t *testing.T) {
	old := rowsOf(cols, r(int64(1), "a"))
	got, err := drain(t, Compare(old, nil, false, 5, nil))
	if err != nil || len(got) != 1 || old.closes != 1 {
		t.Errorf("got %v, %v, %d closes; want one row and one close", got, err, old.closes)
	}
}

func TestCompareColumnTypes(t *testing.T) {
	typed := &typedRows{fakeRows{cols: cols}}
	rows := Compare(typed, &Shadow{columns: cols}, false, 5, nil)
	if got := rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(1); got != "T1" {
		t.Errorf("DatabaseTypeName = %q, want T1", got)
	}
	if got := rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(0); got != reflect.TypeFor[int64]() {
		t.Errorf("ScanType = %v, want int64", got)
	}
	if n, ok := rows.(driver.RowsColumnTypeNullable).ColumnTypeNullable(0); !n || !ok {
		t.Errorf("Nullable = %v, %v; want true, true", n, ok)
	}
	if n, ok := rows.(driver.RowsColumnTypeLength).ColumnTypeLength(1); n != 11 || !ok {
		t.Errorf("Length = %v, %v; want 11, true", n, ok)
	}
	if p, s, ok := rows.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(0); p != 7 || s != 2 || !ok {
		t.Errorf("PrecisionScale = %v, %v, %v; want 7, 2, true", p, s, ok)
	}
	if _, ok := rows.(driver.RowsNextResultSet); ok {
		t.Error("the compared rows claim RowsNextResultSet")
	}

	rows = Compare(rowsOf(cols), &Shadow{columns: cols}, false, 5, nil)
	if got := rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(1); got != "" {
		t.Errorf("default DatabaseTypeName = %q, want empty", got)
	}
	if got := rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(0); got != reflect.TypeFor[any]() {
		t.Errorf("default ScanType = %v, want interface {}", got)
	}
	if n, ok := rows.(driver.RowsColumnTypeNullable).ColumnTypeNullable(0); n || ok {
		t.Errorf("default Nullable = %v, %v; want false, false", n, ok)
	}
	if n, ok := rows.(driver.RowsColumnTypeLength).ColumnTypeLength(1); n != 0 || ok {
		t.Errorf("default Length = %v, %v; want 0, false", n, ok)
	}
	if p, s, ok := rows.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(0); p != 0 || s != 0 || ok {
		t.Errorf("default PrecisionScale = %v, %v, %v; want 0, 0, false", p, s, ok)
	}
}

// TestCompareSQLite compares a table of INTEGER, REAL, TEXT, BLOB, DATETIME
// and BOOLEAN columns, read by go-sqlite3 through its driver interface, with
// a query returning the same data in other types.
func TestCompareSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `
		CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, d DATETIME, f BOOLEAN);
		INSERT INTO t VALUES
			(1, 2.5, 'one', x'00ff01', '2024-03-04 05:06:07', 1),
			(2, -0.125, 'two', x'', '2024-03-04T07:06:07.5+02:00', 0),
			(3, 4.0, '', x'41', '2024-03-04', 1),
			(-4, 1e15, 'héllo', NULL, NULL, NULL),
			(NULL, NULL, NULL, x'42', '2024-12-31T23:59:00Z', 0)`); err != nil {
		t.Fatal(err)
	}
	const oldQuery = `SELECT i, r, s, b, d, f FROM t`
	// The same data as other types: i as REAL, r (non-integral) as TEXT, s as
	// BLOB, b as TEXT, d as text without the DATETIME type, f as INTEGER.
	const newQuery = `SELECT CAST(i AS REAL) AS i,
		CASE WHEN r = CAST(r AS INTEGER) THEN CAST(r AS INTEGER) ELSE CAST(r AS TEXT) END AS R,
		CAST(s AS BLOB) AS s, CAST(b AS TEXT) AS b, d || '' AS d, f + 0 AS f
		FROM t ORDER BY i DESC`
	// run compares newQ with oldQuery on the driver's connection, as the
	// dualwrite driver does.
	run := func(newQ string, ordered bool) (*Report, [][]driver.Value) {
		t.Helper()
		var res result
		var got [][]driver.Value
		err := conn.Raw(func(dc any) error {
			qc := dc.(driver.QueryerContext)
			newRows, err := qc.QueryContext(ctx, newQ, nil)
			if err != nil {
				return err
			}
			shadow, err := Collect(newRows)
			if err != nil {
				return err
			}
			oldRows, err := qc.QueryContext(ctx, oldQuery, nil)
			if err != nil {
				return err
			}
			got, err = drain(t, Compare(oldRows, shadow, ordered, 5, res.done(nil)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.calls != 1 || res.rep == nil {
			t.Fatalf("done called %d times with %v, %v", res.calls, res.rep, res.err)
		}
		return res.rep, got
	}

	rep, got := run(newQuery, false)
	if !rep.Match || rep.OldRows != 5 || rep.NewRows != 5 || rep.ColumnsDiffer {
		t.Errorf("same data in other types: %+v; want a match of 5 rows", rep)
	}
	// The caller got the old rows, in the old types.
	if len(got) != 5 || got[0][0] != int64(1) || got[1][1] != -0.125 || got[0][2] != "one" ||
		!reflect.DeepEqual(got[0][3], []byte{0, 255, 1}) || !got[0][4].(time.Time).Equal(time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)) || got[0][5] != true {
		t.Errorf("the caller's rows = %v; want the old query's values and types", got)
	}

	rep, _ = run(newQuery, true)
	if rep.Match {
		t.Errorf("ordered comparison of differently ordered rows matched: %+v", rep)
	}

	rep, _ = run(`SELECT i, r, s, b, CASE WHEN i = 2 THEN '2024-03-04 05:06:08.5' ELSE d END AS d, f FROM t`, false)
	if rep.Match || len(rep.Samples) != 2 {
		t.Fatalf("a changed instant: %+v; want a mismatch with 2 samples", rep)
	}
	o, n := rep.Samples[0], rep.Samples[1]
	if o.Side != "old" || n.Side != "new" || o.Row[0] != int64(2) || n.Row[0] != int64(2) || n.Row[4] != "2024-03-04 05:06:08.5" || o.Row[3] != "" {
		t.Errorf("samples = %v; want row 2 on each side, blobs as strings", rep.Samples)
	}

	rep, _ = run(`SELECT i, CAST(r AS TEXT) AS r, s, b, d, f FROM t`, false)
	if rep.Match {
		t.Errorf("REAL 4.0 as the text '4.0' matched: %+v; want a mismatch (text compares by its bytes)", rep)
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add(int64(3), 3.5, "3", []byte("3"))
	f.Add(int64(-1), math.Inf(1), "2024-03-04 05:06:07", []byte("2024-03-04T05:06:07Z"))
	f.Add(int64(1<<62), 1e21, "", []byte{0xff})
	f.Fuzz(func(t *testing.T, i int64, x float64, s string, b []byte) {
		if Normalize(i) != Normalize(strconv.FormatInt(i, 10)) {
			t.Errorf("int64 %d differs from its decimal text", i)
		}
		if Normalize(i) == Normalize(nil) || Normalize(s) == Normalize(nil) || Normalize(x) == Normalize(nil) {
			t.Error("a value equals NULL")
		}
		if (Normalize(i) == Normalize(x)) != (float64(i) == x && x < 1<<63 && int64(x) == i) {
			t.Errorf("int64 %d and float64 %v: keys equal = %v", i, x, Normalize(i) == Normalize(x))
		}
		if Normalize(s) != Normalize([]byte(s)) || Normalize(b) != Normalize(string(b)) {
			t.Error("string and []byte of the same bytes differ")
		}
		if !math.IsNaN(x) && Normalize(x) == Normalize(math.NaN()) {
			t.Errorf("%v equals NaN", x)
		}
		if parsed, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', -1, 64), 64); err == nil && x != math.Trunc(x) && Normalize(parsed) != Normalize(x) {
			t.Errorf("%v and its shortest text differ", x)
		}
		if x != math.Trunc(x) && Normalize(x) != Normalize(strconv.FormatFloat(x, 'g', -1, 64)) {
			t.Errorf("%v differs from its shortest text", x)
		}
	})
}

func BenchmarkCompare(b *testing.B) {
	var data [][]driver.Value
	for i := range 1000 {
		data = append(data, r(int64(i), fmt.Sprint("name", i), float64(i)/3, []byte("blob"), time.Unix(int64(i), 0)))
	}
	shadow, err := Collect(rowsOf([]string{"a", "b", "c", "d", "e"}, data...))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rows := Compare(rowsOf([]string{"a", "b", "c", "d", "e"}, data...), shadow, false, 5, func(rep *Report, err error) {
			if err != nil || !rep.Match {
				b.Fatal("mismatch")
			}
		})
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// countOf returns how many times key occurs in keys.
func countOf(keys []string, key string) int {
	n := 0
	for _, k := range keys {
		if k == key {
			n++
		}
	}
	return n
}
