package mysqlrun

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

// TestArgs: on MySQL the arguments follow the text, a parameter used twice
// takes its argument twice, and a "?" in a string or a comment of the
// statement is no parameter; dialects that number their parameters take
// the arguments as they are.
func TestArgs(t *testing.T) {
	p := func(n int) string { return Param(rewrite.MySQL, n) }
	q := "SELECT '?/*1*/', `a?` FROM t /* ? */ WHERE (a, b) > (" + p(2) + ", " + p(3) + ") AND a >= " + p(2) + " AND c = " + p(1)
	got, err := Args(rewrite.MySQL, q, []any{"c", int64(1), "b"})
	if want := []any{int64(1), "b", int64(1), "c"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Args(%s) = %v, %v; want %v", q, got, err, want)
	}
	if _, err := Args(rewrite.MySQL, "SELECT "+p(4), []any{1}); err == nil {
		t.Error("a parameter past the arguments was accepted")
	}
	if _, err := Args(rewrite.MySQL, "SELECT ?", []any{1}); err == nil {
		t.Error("a parameter without its number was accepted")
	}
	for _, d := range []*rewrite.Dialect{rewrite.SQLite, rewrite.Postgres} {
		args := []any{1, 2}
		if got, err := Args(d, "SELECT "+Param(d, 2)+", "+Param(d, 1), args); err != nil || !reflect.DeepEqual(got, args) || Positional(d) {
			t.Errorf("%s: %v, %v", d.Name, got, err)
		}
	}
}

// MySQLError has the name and the field of github.com/go-sql-driver/mysql's.
type MySQLError struct{ Number uint16 }

func (e *MySQLError) Error() string { return fmt.Sprintf("Error %d", e.Number) }

func TestErrorNumber(t *testing.T) {
	deadlock := &MySQLError{Number: Deadlock}
	for _, tc := range []struct {
		err  error
		want uint16
	}{
		{deadlock, Deadlock},
		{fmt.Errorf("batch: %w", deadlock), Deadlock},
		{errors.Join(errors.New("other"), fmt.Errorf("x: %w", &MySQLError{Number: LockWaitTimeout})), LockWaitTimeout},
		{errors.New("Error 1213"), 0},
		{nil, 0},
	} {
		if got := ErrorNumber(tc.err); got != tc.want {
			t.Errorf("ErrorNumber(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestKeyValue(t *testing.T) {
	for _, tc := range []struct {
		v      any
		dbType string
		want   any
	}{
		{[]byte("a"), "VARCHAR", "a"},
		{[]byte("a"), "CHAR", "a"},
		{[]byte("2024-01-02 03:04:05"), "DATETIME", "2024-01-02 03:04:05"},
		{[]byte{0, 255}, "VARBINARY", []byte{0, 255}},
		{[]byte{1}, "binary", []byte{1}},
		{uint64(7), "UNSIGNED BIGINT", int64(7)},
		{uint64(math.MaxUint64), "UNSIGNED BIGINT", uint64(math.MaxUint64)},
		{float32(0.5), "FLOAT", float64(0.5)},
		{int64(3), "INT", int64(3)},
		{nil, "INT", nil},
	} {
		if got := KeyValue(tc.v, tc.dbType); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("KeyValue(%#v, %s) = %#v, want %#v", tc.v, tc.dbType, got, tc.want)
		}
	}
}

func TestSessionCheck(t *testing.T) {
	good := Session{Mode: "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION", SelectLimit: NoSelectLimit}
	for _, tc := range []struct {
		s      Session
		writes bool
		want   string // "" for no error
	}{
		{good, true, ""},
		{Session{Mode: "strict_all_tables", SelectLimit: NoSelectLimit}, true, ""},
		{Session{Mode: "", SelectLimit: NoSelectLimit}, false, ""},
		{Session{Mode: "", SelectLimit: NoSelectLimit}, true, "STRICT_TRANS_TABLES"},
		{Session{Mode: good.Mode, SelectLimit: NoSelectLimit, SafeUpdates: true}, true, "sql_safe_updates"},
		{Session{Mode: good.Mode, SelectLimit: NoSelectLimit, SafeUpdates: true}, false, ""},
		{Session{Mode: good.Mode, SelectLimit: "1000"}, false, "sql_select_limit is 1000"},
	} {
		err := tc.s.Check(tc.writes)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v.Check(%v) = %v, want %q", tc.s, tc.writes, err, tc.want)
		}
	}
}
