package verify

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dualwrite/dualwrite/mapping"
)

// Report is the outcome of [Run]: one [TableReport] per mapped pair, in
// mapping order. Its JSON form, with the field names in the tags, is meant
// to gate a deploy: OK is true only when every table is.
type Report struct {
	// OK is true when no table has any difference.
	OK bool `json:"ok"`
	// Tables are the reports of the mapped pairs, in mapping order.
	Tables []*TableReport `json:"tables"`
	// DurationSeconds is the time the whole verification took.
	DurationSeconds float64 `json:"duration_seconds"`
}

// TableReport is the outcome of verifying one mapped pair. Every key of
// either table is counted once: RowsProcessed = Matching + Mismatched +
// MissingInNew + ExtraInNew.
type TableReport struct {
	// Table and NewTable name the old and the new table.
	Table    string `json:"table"`
	NewTable string `json:"new_table"`
	// OK is true when Mismatched, MissingInNew and ExtraInNew are all 0.
	OK bool `json:"ok"`
	// RowsProcessed counts the keys compared.
	RowsProcessed int64 `json:"rows_processed"`
	// Matching counts the keys whose new row equals up(old row).
	Matching int64 `json:"matching"`
	// Mismatched counts the keys with both rows, whose new row differs from
	// up(old row) in at least one column.
	Mismatched int64 `json:"mismatched"`
	// MissingInNew counts the keys with an old row and no new row.
	MissingInNew int64 `json:"missing_in_new"`
	// ExtraInNew counts the keys with a new row and no old row.
	ExtraInNew int64 `json:"extra_in_new"`
	// Samples holds the first differences of each kind, in key order, up to
	// Options.SampleSize of each.
	Samples Samples `json:"samples"`
	// DurationSeconds is the time the table's verification took.
	DurationSeconds float64 `json:"duration_seconds"`
}

// Samples are the sampled differences of a [TableReport], by kind. Each
// list is empty, never nil, when there is nothing to show.
type Samples struct {
	Mismatched   []Sample `json:"mismatched"`
	MissingInNew []Sample `json:"missing_in_new"`
	ExtraInNew   []Sample `json:"extra_in_new"`
}

// Sample is one key that differs.
type Sample struct {
	// Key maps the old table's key column names to the key's values (read
	// from the new table for an extra row).
	Key map[string]any `json:"key"`
	// Columns are the new columns that differ, in mapping order; only for
	// mismatched keys.
	Columns []ColumnDiff `json:"columns,omitempty"`
}

// ColumnDiff is one differing column of a mismatched key.
type ColumnDiff struct {
	// Column is the new table's column; in a [RoundTrip] report, the old
	// table's.
	Column string `json:"column"`
	// Expected is the value of up(old row), computed by the mapping's
	// expression; Actual is the new row's value. In a [RoundTrip] report,
	// Expected is the old row's value and Actual that of down(up(old row)).
	Expected any `json:"expected"`
	Actual   any `json:"actual"`
}

func newTableReport(t *mapping.Table) *TableReport {
	return &TableReport{
		Table:    t.Old,
		NewTable: t.New,
		Samples:  Samples{Mismatched: []Sample{}, MissingInNew: []Sample{}, ExtraInNew: []Sample{}},
	}
}

// sampleKey returns the key of a sample: the old key column names with the
// given values.
func sampleKey(t *mapping.Table, values []any) map[string]any {
	key := make(map[string]any, len(t.Key))
	for i, name := range t.Key {
		key[name] = sampleValue(values[i])
	}
	return key
}

// sampleValue returns a value as a sample shows it, in a form encoding/json
// always accepts: []byte as a string when it is valid UTF-8 (base64 in JSON
// otherwise), NaN and infinities as "NaN", "+Inf" and "-Inf", and a value of
// any other type in its fmt %v spelling.
func sampleValue(v any) any {
	switch x := v.(type) {
	case nil, int64, bool, string, time.Time:
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return x
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return x
	}
	return fmt.Sprint(v)
}
