package verify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// RoundTrip checks that the mapping's reverse expressions undo its column
// expressions on the live data: for every row of every old table of m, it
// computes down(up(old row)) and compares it with the old row, range by
// range, each range in one snapshot, as [Run] compares the tables. A row
// that differs would change shape on its way through the new table: in the
// write phase both, a write of the new row as it was mirrored gives the
// old table another row than it had.
//
// The report has the form of [Run]'s, one [TableReport] per mapped pair:
// RowsProcessed counts the old rows, Matching those that come back
// identical, Mismatched those that change shape, and each mismatched
// sample names the old columns that change, with the old value as
// Expected and down(up(old)) as Actual. MissingInNew and ExtraInNew are
// always 0: the new table is not read. RoundTrip(ctx, db, d, m.Flip(),
// opts) checks the other way round, up(down(new)) = new for every new row.
//
// Everything is computed in SQL over the old table alone: the column
// expressions over the old row give the new columns, and the reverse
// expressions over those give the old ones again. In PostgreSQL each
// value is cast to the type of the column it would be stored in (the new
// column, then the old one), so that a rounding or a truncation by the
// column's type shows; in SQLite and MySQL the values are not converted
// by the columns' types (affinity) as storing them would.
//
// The arguments, the schema check and the errors are those of [Run].
func RoundTrip(ctx context.Context, db *sql.DB, d *rewrite.Dialect, m *mapping.Mapping, opts Options) (*Report, error) {
	return runAll(ctx, db, d, m, opts, (*verifier).roundTripTable)
}

// roundTripTable checks the round trip of one mapped pair on conn, range
// by range.
func (v *verifier) roundTripTable(ctx context.Context, conn *sql.Conn, t *mapping.Table) (*TableReport, error) {
	s := tableSQL{d: v.d, t: t, batch: v.opts.BatchSize}
	var err error
	if v.d.Name == rewrite.Postgres.Name {
		if s.upTypes, err = columnTypes(ctx, conn, t.New, t.Columns); err != nil {
			return nil, tableError(t, "reading the column types", err)
		}
		if s.downTypes, err = columnTypes(ctx, conn, t.Old, t.Reverse); err != nil {
			return nil, tableError(t, "reading the column types", err)
		}
	}
	if s.fast, err = v.roundTripFast(ctx, conn, t); err != nil {
		return nil, tableError(t, "reading the column types", err)
	}
	return v.walk(ctx, conn, t, roundTrip{v: v, s: s})
}

// columnTypes returns the PostgreSQL types of a table's columns, in the
// order of cols, as format_type spells them.
func columnTypes(ctx context.Context, conn *sql.Conn, table string, cols []mapping.Column) ([]string, error) {
	types := make([]string, len(cols))
	for i, c := range cols {
		err := conn.QueryRowContext(ctx, `SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = $1::regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`, rewrite.Postgres.Quote(table), c.Name).Scan(&types[i])
		if err != nil {
			return nil, fmt.Errorf("the type of %s.%s: %w", table, c.Name, err)
		}
	}
	return types, nil
}

// roundTripFast reports whether the database can find identical round
// trips of t itself, as [verifier.fastPath] does for the forward
// comparison: in SQLite only when each old column and its round trip are
// decoded alike by github.com/mattn/go-sqlite3.
func (v *verifier) roundTripFast(ctx context.Context, conn *sql.Conn, t *mapping.Table) (bool, error) {
	if v.d.Name != rewrite.SQLite.Name {
		return true, nil
	}
	olds, trips := make([]string, len(t.Reverse)), make([]string, len(t.Reverse))
	for i := range t.Reverse {
		olds[i], trips[i] = "c."+valueAlias(i), "c."+newAlias(i)
	}
	from := " FROM (" + tableSQL{d: v.d, t: t}.downSQL(false, false) + ") AS c LIMIT 0"
	return decodedAlike(ctx, conn, "SELECT "+strings.Join(olds, ", ")+from, "SELECT "+strings.Join(trips, ", ")+from)
}

// roundTrip is the comparison of old rows with down(up(old row)).
type roundTrip struct {
	v *verifier
	s tableSQL
}

func (r roundTrip) countSQL() string { return r.s.countSQL() }

func (r roundTrip) bound(ctx context.Context, conn *sql.Conn, last []any) ([]any, error) {
	return readBound(ctx, conn, r.s.d, len(r.s.t.Key), r.s.oldBoundSQL(last != nil), last)
}

// compare checks one range as [verifier.compare] does: the database counts
// the range's rows and those it finds identical after the round trip, and
// the client reads and compares only the others, streamed in key order.
func (r roundTrip) compare(ctx context.Context, conn *sql.Conn, rep *TableReport, last, bound []any) (err error) {
	s := r.s
	args := append(append([]any(nil), last...), bound...)
	var rows, same, boundSeen int64
	summary := s.roundTripSummarySQL(last != nil, bound != nil)
	summaryArgs, err := s.queryArgs(summary, append(args, bound...))
	if err == nil {
		err = conn.QueryRowContext(ctx, summary, summaryArgs...).Scan(&rows, &same, &boundSeen)
	}
	if err != nil {
		return fmt.Errorf("computing the round trip: %w", err)
	}
	if boundSeen == 0 {
		return fmt.Errorf("the range's upper bound %s is not among its keys: the values of the key columns change on their way through the driver and back, so verify cannot walk them in ranges",
			keyText(s.t, bound))
	}
	rep.RowsProcessed += same
	rep.Matching += same
	if rows == same {
		return nil
	}
	detailSQL := s.roundTripDetailSQL(last != nil, bound != nil)
	if args, err = s.queryArgs(detailSQL, args); err != nil {
		return err
	}
	detail, err := conn.QueryContext(ctx, detailSQL, args...)
	if err != nil {
		return fmt.Errorf("computing the round trip: %w", err)
	}
	defer func() {
		if cerr := detail.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	w := len(s.t.Key)
	row := make([]any, w+2*len(s.t.Reverse)) // the key, then the pairs of values
	ptrs := make([]any, len(row))
	for i := range row {
		ptrs[i] = &row[i]
	}
	for detail.Next() {
		if err := detail.Scan(ptrs...); err != nil {
			return fmt.Errorf("reading the rows: %w", err)
		}
		r.v.observe(rep, s.t, s.t.Reverse, true, true, row[:w], row[w:])
	}
	if err := detail.Err(); err != nil {
		return fmt.Errorf("reading the rows: %w", err)
	}
	return nil
}
