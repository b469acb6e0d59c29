package schema

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Querier runs a query on the wrapped driver's connection (driver level, not
// database/sql). [InspectSQLite], [InspectPostgres] and [InspectMySQL] read
// every [driver.Rows] they get to [io.EOF] and close it.
type Querier interface {
	Query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error)
}

// QuerierFunc adapts a function, such as the QueryContext method of a
// [driver.QueryerContext], to a [Querier].
type QuerierFunc func(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error)

// Query calls f.
func (f QuerierFunc) Query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return f(ctx, query, args)
}

// queryAll runs query with positional args and returns every row. Byte
// slices are copied, since a driver may reuse them on the next row.
func queryAll(ctx context.Context, q Querier, query string, args ...any) (rows [][]driver.Value, err error) {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	r, err := q.Query(ctx, query, named)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := r.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	n := len(r.Columns())
	for {
		dest := make([]driver.Value, n)
		if err := r.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				return rows, nil
			}
			return nil, err
		}
		for i, v := range dest {
			if b, ok := v.([]byte); ok {
				dest[i] = append([]byte(nil), b...)
			}
		}
		rows = append(rows, dest)
	}
}

// str returns a catalog value as text; NULL is "".
func str(v driver.Value) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	default:
		return fmt.Sprint(v)
	}
}

// num returns a catalog value as an integer; NULL and non-numbers are 0.
func num(v driver.Value) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case uint64: // go-sql-driver/mysql's BIGINT UNSIGNED
		return int64(v)
	case float64:
		return int64(v)
	case bool:
		if v {
			return 1
		}
	case string, []byte:
		n, _ := strconv.ParseInt(str(v), 10, 64)
		return n
	}
	return 0
}
