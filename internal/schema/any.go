package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Inspect checks m against the live schema of the dialect's database, with
// [InspectSQLite], [InspectPostgres] or [InspectMySQL].
func Inspect(ctx context.Context, q Querier, d *rewrite.Dialect, m *mapping.Mapping) (*rewrite.Schema, []Problem, error) {
	switch d {
	case rewrite.Postgres:
		return InspectPostgres(ctx, q, m)
	case rewrite.MySQL:
		return InspectMySQL(ctx, q, m)
	}
	return InspectSQLite(ctx, q, m)
}

// InspectConn is [Inspect] on the base driver's connection under conn.
func InspectConn(ctx context.Context, conn *sql.Conn, d *rewrite.Dialect, m *mapping.Mapping) (s *rewrite.Schema, problems []Problem, err error) {
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("the driver's connection (%T) cannot run queries directly (no driver.QueryerContext)", dc)
		}
		s, problems, err = Inspect(ctx, QuerierFunc(qc.QueryContext), d, m)
		return err
	})
	return s, problems, err
}

// List returns the problems one per line, each indented as an item.
func List(problems []Problem) string {
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = "  - " + p.Error()
	}
	return strings.Join(msgs, "\n")
}
