package schema

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// SQLiteVersion returns the version of the SQLite library behind q, as
// sqlite_version() spells it ("3.46.1").
func SQLiteVersion(ctx context.Context, q Querier) (string, error) {
	rows, err := queryAll(ctx, q, "SELECT sqlite_version()")
	if err != nil {
		return "", fmt.Errorf("schema: reading the SQLite version: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return "", fmt.Errorf("schema: reading the SQLite version: got %d rows", len(rows))
	}
	return str(rows[0][0]), nil
}

// versionAtLeast reports whether a dotted version is at least
// major.minor.patch. A version it cannot read counts as too old.
func versionAtLeast(v string, want ...int) bool {
	parts := strings.Split(v, ".")
	for i, w := range want {
		n := 0
		if i < len(parts) {
			var err error
			if n, err = strconv.Atoi(parts[i]); err != nil {
				return false
			}
		}
		if n != w {
			return n > w
		}
	}
	return true
}
