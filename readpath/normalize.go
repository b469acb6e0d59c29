package readpath

import (
	"database/sql/driver"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Key tags: the first byte of every [Normalize] key names its class, so that
// keys of different classes never collide.
const (
	tagNull  = 'N' // SQL NULL
	tagText  = 'S' // strings, byte slices, numbers, booleans
	tagTime  = 'D' // instants, in UTC
	tagOther = 'X' // any other Go type, by type and %v
)

// timestampFormats are the layouts github.com/mattn/go-sqlite3 tries, in this
// order, when it reads a TEXT value from a DATE, DATETIME or TIMESTAMP
// column (sqlite3.SQLiteTimestampFormats, copied so that this package does
// not link the cgo driver; a test keeps the two equal).
var timestampFormats = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// timeKeyLayout spells an instant in a time key: UTC, with as many fraction
// digits as it needs.
const timeKeyLayout = "2006-01-02T15:04:05.999999999Z"

// Normalize returns a comparable key for one driver value: two values are the
// same data exactly when their keys are equal. The key is opaque (do not
// parse it) and the same for every call with the same value.
//
// The rules, which make equality an equivalence (what is equal to one of two
// equal values is equal to the other):
//
//   - nil (SQL NULL) equals only nil. NULL is not "" and not 0.
//   - A string and a []byte are equal when they hold the same bytes.
//   - A number is equal to another number of the same value, whatever its Go
//     type: int64(3), float64(3), int32(3) and uint8(3) are equal, and so are
//     float64(1<<60) and int64(1<<60). float64(-0) equals 0. NaN equals NaN,
//     +Inf equals +Inf.
//   - bool is a number: true is 1 and false is 0.
//   - A number equals a string or []byte that holds its canonical spelling:
//     the decimal integer (no sign for positive values, no leading zeros, no
//     fraction) for an integral value, otherwise the shortest decimal that
//     reads back as the same float64 (strconv.FormatFloat with 'g' and -1,
//     which is what database/sql produces when it scans a float into a
//     string), and "NaN", "+Inf", "-Inf". So int64(3) == "3", float64(3.5) ==
//     "3.5", true == "1"; but "3.0", "03", "+3", " 3" and "3e0" are not equal
//     to 3. Two strings are never equal by numeric value: "3" != "3.0". A
//     migration that turns the text "02134" into the integer 2134 loses data,
//     and the comparison must say so.
//   - A time.Time equals another time.Time of the same instant, whatever its
//     location (the monotonic clock reading is ignored), and a string or
//     []byte that github.com/mattn/go-sqlite3 would read as that instant
//     from a DATETIME column: an optional trailing "Z" removed, then one of
//     sqlite3.SQLiteTimestampFormats, read in UTC when it has no offset. By
//     the same rule, two strings holding the same instant in different
//     layouts are equal: "2024-01-02" == "2024-01-02 00:00:00" ==
//     "2024-01-02T02:00:00+02:00". A time never equals a number.
//   - A driver.Valuer is replaced by its Value when that succeeds and is a
//     plain driver value; a nil pointer is NULL. Other named types of a basic
//     kind (type Status int) follow their kind. Any other value is equal only
//     to a value of the same Go type with the same fmt %v text.
func Normalize(v driver.Value) string {
	return string(appendKey(nil, v))
}

// appendKey appends the [Normalize] key of v to buf.
func appendKey(buf []byte, v driver.Value) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, tagNull)
	case string:
		return appendText(buf, x)
	case []byte:
		if mayBeTimestamp(x) {
			return appendText(buf, string(x))
		}
		return append(append(buf, tagText), x...)
	case int64:
		return strconv.AppendInt(append(buf, tagText), x, 10)
	case float64:
		return appendFloat(append(buf, tagText), x, 64)
	case bool:
		return appendBool(buf, x)
	case time.Time:
		return appendTime(buf, x)
	}
	return appendOther(buf, v)
}

// appendOther appends the key of a value that is not one of the
// driver.Value types.
func appendOther(buf []byte, v any) []byte {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		if rv.IsNil() {
			return append(buf, tagNull)
		}
	}
	if valuer, ok := v.(driver.Valuer); ok {
		if inner, err := valuer.Value(); err == nil && (inner == nil || driver.IsValue(inner)) {
			if _, again := inner.(driver.Valuer); !again {
				return appendKey(buf, inner)
			}
		}
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(append(buf, tagText), rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(append(buf, tagText), rv.Uint(), 10)
	case reflect.Float32:
		return appendFloat(append(buf, tagText), rv.Float(), 32)
	case reflect.Float64:
		return appendFloat(append(buf, tagText), rv.Float(), 64)
	case reflect.Bool:
		return appendBool(buf, rv.Bool())
	case reflect.String:
		return appendText(buf, rv.String())
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return appendText(buf, string(rv.Bytes()))
		}
	}
	return fmt.Appendf(append(buf, tagOther), "%T:%v", v, v)
}

func appendBool(buf []byte, b bool) []byte {
	if b {
		return append(buf, tagText, '1')
	}
	return append(buf, tagText, '0')
}

// appendFloat appends the canonical spelling of a float of the given bit
// size: an integral value as an exact decimal integer, any other as the
// shortest decimal that reads back as the same value.
func appendFloat(buf []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "+Inf"...)
	case math.IsInf(f, -1):
		return append(buf, "-Inf"...)
	case f == 0:
		return append(buf, '0') // and -0
	case f != math.Trunc(f):
		return strconv.AppendFloat(buf, f, 'g', -1, bitSize)
	case f >= -(1<<63) && f < 1<<63:
		return strconv.AppendInt(buf, int64(f), 10)
	default:
		// Exact: strconv prints every digit of an integral float with 'f'.
		return strconv.AppendFloat(buf, f, 'f', 0, 64)
	}
}

// appendText appends the key of a string or byte slice: an instant when
// go-sqlite3 would read it as one, the bytes otherwise.
func appendText(buf []byte, s string) []byte {
	if mayBeTimestamp(s) {
		if t, ok := parseTimestamp(s); ok {
			return appendTime(buf, t)
		}
	}
	return append(append(buf, tagText), s...)
}

func appendTime(buf []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(append(buf, tagTime), timeKeyLayout)
}

// mayBeTimestamp is a quick test that rules out most text that is no
// timestamp: every layout starts with "2006-01-02".
func mayBeTimestamp[T string | []byte](s T) bool {
	return len(s) >= len("2006-01-02") && s[4] == '-' && s[7] == '-' && isDigit(s[0]) && isDigit(s[9])
}

// parseTimestamp reads s as go-sqlite3 reads the text of a DATETIME column:
// without a trailing "Z", in the first of [timestampFormats] that fits, in
// UTC unless the text has an offset.
func parseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range timestampFormats {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// rowKey appends the key of a row to buf and returns it, using scratch as
// working space (both may be nil): each value's [Normalize] key, prefixed
// with its length, so that no two different rows share a key.
func rowKey(buf, scratch []byte, row []driver.Value) (key, scratchOut []byte) {
	for _, v := range row {
		scratch = appendKey(scratch[:0], v)
		buf = strconv.AppendInt(buf, int64(len(scratch)), 10)
		buf = append(buf, ':')
		buf = append(buf, scratch...)
	}
	return buf, scratch
}
