package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/rewrite"
)

// Session reads, on q, the session settings the plans of dialect d depend
// on ([rewrite.Dialect.ConnSettings]), as text in that order; nil where
// the dialect has none. A connection whose settings differ from those of
// the connection the schema was checked on may resolve a table name to
// another table, or read a string literal otherwise than the wrapper.
func Session(ctx context.Context, q Querier, d *rewrite.Dialect) ([]string, error) {
	settings := d.ConnSettings()
	if len(settings) == 0 {
		return nil, nil
	}
	exprs := make([]string, len(settings))
	for i, s := range settings {
		exprs[i] = s.Expr
	}
	rows, err := queryAll(ctx, q, "SELECT "+strings.Join(exprs, ", "))
	if err != nil {
		return nil, fmt.Errorf("schema: reading the session settings: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != len(settings) {
		return nil, fmt.Errorf("schema: reading the session settings: got %d rows", len(rows))
	}
	out := make([]string, len(settings))
	for i, v := range rows[0] {
		out[i] = str(v)
	}
	return out, nil
}

// SessionDiffers returns the first setting of d.ConnSettings whose value
// in got differs from want, with both values; ok is false when none does.
func SessionDiffers(d *rewrite.Dialect, got, want []string) (name, gotValue, wantValue string, ok bool) {
	for i, s := range d.ConnSettings() {
		if i < len(got) && i < len(want) && got[i] != want[i] {
			return s.Name, got[i], want[i], true
		}
	}
	return "", "", "", false
}
