package verify

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/dualwrite/dualwrite/internal/mysqlrun"
	"github.com/dualwrite/dualwrite/internal/schema"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/readpath"
	"github.com/dualwrite/dualwrite/rewrite"
)

// undoTimeout bounds the rollback of a snapshot after an error, which runs
// even when the caller's context is done.
const undoTimeout = 10 * time.Second

// dualwritePackage is the import path of the dualwrite driver, whose
// connections may read the new table in place of the old one.
const dualwritePackage = "github.com/dualwrite/dualwrite"

// Table verifies one mapped pair: it compares up(old row) with the new row
// for every key of either table, range by range, and returns the counts and
// samples of the differences. A report with differences is not an error;
// err is for what stopped the verification (see [Run]).
//
// db must reach the tables directly, through the base driver
// (github.com/mattn/go-sqlite3, github.com/jackc/pgx/v5/stdlib or
// github.com/go-sql-driver/mysql), not through dualwrite; d is the
// mapping's dialect. Table is safe for concurrent use; it holds one
// connection of db while it runs.
func Table(ctx context.Context, db *sql.DB, d *rewrite.Dialect, t *mapping.Table, opts Options) (*TableReport, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: the *mapping.Table is nil", ErrInvalidArgument)
	}
	v, err := newVerifier(db, d, "", opts)
	if err != nil {
		return nil, err
	}
	conn, err := v.connect(ctx, &mapping.Mapping{Dialect: d.Name, Tables: []*mapping.Table{t}})
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	return v.table(ctx, conn, t)
}

// Run verifies every mapped pair of m, one after another in mapping order,
// as [Table] does, and returns their reports; Report.OK is true only when
// no table has a difference.
//
// Before reading any row, Run checks m against the live schema as the
// driver does when it first connects; a mismatch is an error wrapping
// [ErrSchemaMismatch] that lists the problems. Bad arguments give an error
// wrapping [ErrInvalidArgument]. Any other error names the table and what
// failed: an unreachable database, a failed query, a done ctx (the error
// then wraps ctx.Err()). On error Run returns no report.
func Run(ctx context.Context, db *sql.DB, d *rewrite.Dialect, m *mapping.Mapping, opts Options) (*Report, error) {
	if !opts.Record {
		return runAll(ctx, db, d, m, opts, (*verifier).table)
	}
	if m != nil && m.Flipped {
		return nil, fmt.Errorf("%w: Options.Record with a flipped mapping: only the forward verification is recorded", ErrInvalidArgument)
	}
	st, err := begin(ctx, db, d, m)
	if err != nil {
		return nil, err
	}
	rep, err := runAll(ctx, db, d, m, opts, (*verifier).table)
	if err != nil {
		return nil, err
	}
	return rep, record(ctx, db, d, m, rep, st)
}

// runAll checks every mapped pair of m with check, one after another in
// mapping order on one connection, after the schema check; see [Run].
func runAll(ctx context.Context, db *sql.DB, d *rewrite.Dialect, m *mapping.Mapping, opts Options,
	check func(*verifier, context.Context, *sql.Conn, *mapping.Table) (*TableReport, error)) (*Report, error) {
	if m == nil || len(m.Tables) == 0 {
		return nil, fmt.Errorf("%w: the mapping is nil or has no tables", ErrInvalidArgument)
	}
	v, err := newVerifier(db, d, m.Dialect, opts)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	conn, err := v.connect(ctx, m)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	rep := &Report{OK: true, Tables: make([]*TableReport, 0, len(m.Tables))}
	for _, t := range m.Tables {
		tr, err := check(v, ctx, conn, t)
		if err != nil {
			return nil, err
		}
		rep.Tables = append(rep.Tables, tr)
		rep.OK = rep.OK && tr.OK
	}
	rep.DurationSeconds = time.Since(start).Seconds()
	return rep, nil
}

// verifier holds the validated arguments of a verification.
type verifier struct {
	db   *sql.DB
	d    *rewrite.Dialect
	opts Options
}

// newVerifier validates the arguments; mappingDialect is the dialect the
// mapping file names, or "".
func newVerifier(db *sql.DB, d *rewrite.Dialect, mappingDialect string, opts Options) (*verifier, error) {
	switch {
	case db == nil:
		return nil, fmt.Errorf("%w: the *sql.DB is nil", ErrInvalidArgument)
	case d == nil:
		return nil, fmt.Errorf("%w: the dialect is nil; pass rewrite.SQLite, rewrite.Postgres or rewrite.MySQL", ErrInvalidArgument)
	case d.Name != rewrite.SQLite.Name && d.Name != rewrite.Postgres.Name && d.Name != rewrite.MySQL.Name:
		return nil, fmt.Errorf("%w: verify supports the sqlite, postgres and mysql dialects, not %q", ErrInvalidArgument, d.Name)
	case mappingDialect != "" && mappingDialect != d.Name:
		return nil, fmt.Errorf("%w: the mapping is written for %s, the dialect given is %s", ErrInvalidArgument, mappingDialect, d.Name)
	case throughDualwrite(db):
		return nil, fmt.Errorf("%w: the *sql.DB is opened through the dualwrite driver, whose read phase may read the new table for the old one; open it with the base driver", ErrInvalidArgument)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &verifier{db: db, d: d, opts: opts}, nil
}

// throughDualwrite reports whether db's driver is the dualwrite driver.
func throughDualwrite(db *sql.DB) bool {
	t := reflect.TypeOf(db.Driver())
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.PkgPath() == dualwritePackage
}

// connect takes a connection of v.db and checks m against the live schema
// on it, and on MySQL its sql_select_limit, which would cut the rows of
// the comparisons. The caller closes the connection.
func (v *verifier) connect(ctx context.Context, m *mapping.Mapping) (*sql.Conn, error) {
	conn, err := v.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: connecting to the database (is it reachable, and is the DSN right?): %w", err)
	}
	if v.d.Name == rewrite.MySQL.Name {
		s, err := mysqlrun.ReadSession(ctx, conn)
		if err == nil {
			err = s.Check(false)
		}
		if err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("verify: %w", err)
		}
	}
	if err := v.checkSchema(ctx, conn, m); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// checkSchema makes the driver's checks of m against the live schema: the
// tables and columns exist, the keys are unique and NOT NULL (so that a key
// names at most one row on each side and every row is in some range), and
// every expression compiles.
func (v *verifier) checkSchema(ctx context.Context, conn *sql.Conn, m *mapping.Mapping) error {
	// By name: rewrite.MySQLWithoutReturning is MySQL's dialect too.
	_, problems, err := schema.InspectConn(ctx, conn, rewrite.DialectByName(v.d.Name), m)
	if err != nil {
		return fmt.Errorf("verify: checking the mapping against the live schema: %w", err)
	}
	if len(problems) == 0 {
		return nil
	}
	source := ""
	if m.File != "" {
		source = " (" + m.File + ")"
	}
	return fmt.Errorf("%w%s:\n%s", ErrSchemaMismatch, source, schema.List(problems))
}

// table verifies one mapped pair on conn, range by range.
func (v *verifier) table(ctx context.Context, conn *sql.Conn, t *mapping.Table) (*TableReport, error) {
	fast, err := v.fastPath(ctx, conn, t)
	if err != nil {
		return nil, tableError(t, "reading the column types", err)
	}
	return v.walk(ctx, conn, t, forward{v: v, s: tableSQL{d: v.d, t: t, batch: v.opts.BatchSize, fast: fast}})
}

// walker is one kind of comparison of a table, made range by range by
// [verifier.walk]: forward (new = up(old)) or the round trip
// (down(up(old)) = old).
type walker interface {
	// countSQL counts the old table's rows, for the estimate of progress.
	countSQL() string
	// bound returns the upper bound of the range after last, or nil when
	// that range is the last one.
	bound(ctx context.Context, conn *sql.Conn, last []any) ([]any, error)
	// compare compares the range (last, bound] into rep.
	compare(ctx context.Context, conn *sql.Conn, rep *TableReport, last, bound []any) error
}

// forward is the comparison of new rows with up(old rows).
type forward struct {
	v *verifier
	s tableSQL
}

func (f forward) countSQL() string { return f.s.countSQL() }

func (f forward) bound(ctx context.Context, conn *sql.Conn, last []any) ([]any, error) {
	return f.v.bound(ctx, conn, f.s, last)
}

func (f forward) compare(ctx context.Context, conn *sql.Conn, rep *TableReport, last, bound []any) error {
	return f.v.compare(ctx, conn, f.s, rep, last, bound)
}

// walk compares t range by range with w, until the last range or, with
// Options.Limit, the first range that reaches the limit.
//
// Memory is bounded by construction: each range's rows that the client
// compares are streamed from one query and compared one at a time, and
// besides counters only the bounds of the current range and at most
// SampleSize samples of each kind are kept, whatever the size of the tables.
func (v *verifier) walk(ctx context.Context, conn *sql.Conn, t *mapping.Table, w walker) (*TableReport, error) {
	start := time.Now()
	rep := newTableReport(t)
	var estimate int64
	if v.opts.Progress != nil {
		if err := conn.QueryRowContext(ctx, w.countSQL()).Scan(&estimate); err != nil {
			return nil, tableError(t, "counting the old table's rows", err)
		}
		if v.opts.Limit > 0 {
			estimate = min(estimate, v.opts.Limit)
		}
	}
	var last []any
	for {
		if err := ctx.Err(); err != nil {
			return nil, tableError(t, "stopped", err)
		}
		bound, err := v.compareRange(ctx, conn, w, rep, last)
		if err != nil {
			return nil, tableError(t, rangeName(t, last), err)
		}
		done := bound == nil || v.opts.Limit > 0 && rep.RowsProcessed >= v.opts.Limit
		if v.opts.Progress != nil {
			elapsed := time.Since(start)
			left := max(estimate-rep.RowsProcessed, 0)
			if done {
				left = 0
			}
			v.opts.Progress(Progress{
				Table:         t.Old,
				NewTable:      t.New,
				RowsProcessed: rep.RowsProcessed,
				RowsPerSecond: float64(rep.RowsProcessed) / max(elapsed.Seconds(), 1e-9),
				RowsLeft:      left,
				Elapsed:       elapsed,
			})
		}
		if done {
			break
		}
		last = bound
	}
	rep.OK = rep.Mismatched == 0 && rep.MissingInNew == 0 && rep.ExtraInNew == 0
	rep.DurationSeconds = time.Since(start).Seconds()
	return rep, nil
}

// compareRange compares the range that starts after the bound last (at the
// first key when last is nil) in one snapshot of the dialect: a REPEATABLE
// READ, READ ONLY transaction in PostgreSQL, a deferred read transaction in
// SQLite (one snapshot in WAL mode), a READ ONLY transaction WITH
// CONSISTENT SNAPSHOT in MySQL, at REPEATABLE READ whatever the session's
// isolation level (at READ COMMITTED each query would read a snapshot of
// its own). It returns the range's upper bound, or nil when the range was
// the last one.
func (v *verifier) compareRange(ctx context.Context, conn *sql.Conn, w walker, rep *TableReport, last []any) (bound []any, err error) {
	unit := v.d.SnapshotUnit(true)
	defer func() {
		if err != nil {
			undo(ctx, conn, unit)
		}
	}()
	if v.d.Name == rewrite.MySQL.Name {
		// For the next transaction only.
		if _, err := conn.ExecContext(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
			return nil, fmt.Errorf("opening a read snapshot: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, unit.Begin); err != nil {
		return nil, fmt.Errorf("opening a read snapshot: %w", err)
	}
	if bound, err = w.bound(ctx, conn, last); err != nil {
		return nil, fmt.Errorf("finding the range's upper bound: %w", err)
	}
	if err := w.compare(ctx, conn, rep, last, bound); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, unit.End); err != nil {
		return nil, fmt.Errorf("closing the read snapshot: %w", err)
	}
	return bound, nil
}

// undo rolls back a snapshot after an error. When that fails the
// connection's state is unknown, and it is discarded rather than returned
// to the pool inside a transaction.
func undo(ctx context.Context, conn *sql.Conn, u rewrite.Unit) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	for _, stmt := range u.Undo {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			return
		}
	}
}

// bound returns the upper bound of the range after last, or nil when the
// range is the last one.
func (v *verifier) bound(ctx context.Context, conn *sql.Conn, s tableSQL, last []any) ([]any, error) {
	args := append(append([]any(nil), last...), last...) // for the old table, then the new one
	return readBound(ctx, conn, s.d, len(s.t.Key), s.boundSQL(last != nil), args)
}

// readBound reads a range's upper bound, a key of n columns, with query
// in dialect d; it returns nil when the query finds no row. In MySQL each
// value is in the Go type of the other drivers' values, text as a string
// rather than the driver's []byte ([mysqlrun.KeyValue]), as samples and
// messages show it.
func readBound(ctx context.Context, conn *sql.Conn, d *rewrite.Dialect, n int, query string, args []any) (bound []any, err error) {
	if args, err = mysqlrun.Args(d, query, args); err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	if !rows.Next() {
		return nil, rows.Err()
	}
	bound = make([]any, n)
	ptrs := make([]any, len(bound))
	for i := range bound {
		ptrs[i] = &bound[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	if mysqlrun.Positional(d) {
		types, err := rows.ColumnTypes()
		if err != nil {
			return nil, err
		}
		for i := range bound {
			bound[i] = mysqlrun.KeyValue(bound[i], types[i].DatabaseTypeName())
		}
	}
	return bound, nil
}

// queryArgs returns the arguments of query, a query of s given its
// arguments by number ([mysqlrun.Args]).
func (s tableSQL) queryArgs(query string, args []any) ([]any, error) {
	return mysqlrun.Args(s.d, query, args)
}

// compare compares one range ([tableSQL.compareSQL]): the database counts
// its keys and those whose values it finds identical, and the client reads
// and compares only the others, streamed in key order.
//
// The range's upper bound is a key read in the same snapshot, so it is one
// of the range's keys. When it is not, the key values did not survive the
// trip from the database through the driver and back as parameters, and
// the ranges could skip or repeat keys: that is an error, not a report.
func (v *verifier) compare(ctx context.Context, conn *sql.Conn, s tableSQL, rep *TableReport, last, bound []any) (err error) {
	var args []any
	for range 2 { // for the old table, then the new one
		args = append(append(args, last...), bound...)
	}
	var oldKeys, withNew, same, newRows, boundSeen int64
	summary := s.summarySQL(last != nil, bound != nil)
	summaryArgs, err := s.queryArgs(summary, append(args, bound...))
	if err == nil {
		err = conn.QueryRowContext(ctx, summary, summaryArgs...).Scan(&oldKeys, &withNew, &same, &newRows, &boundSeen)
	}
	if err != nil {
		return fmt.Errorf("comparing the rows: %w", err)
	}
	if boundSeen == 0 {
		return fmt.Errorf("the range's upper bound %s is not among its keys: the values of the key columns change on their way through the driver and back, so verify cannot walk them in ranges",
			keyText(s.t, bound))
	}
	rep.RowsProcessed += same
	rep.Matching += same
	if oldKeys == same && newRows == withNew {
		return nil // every key matches: no key without a row in either table
	}
	detail := s.detailSQL(last != nil, bound != nil)
	if args, err = s.queryArgs(detail, args); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, detail, args...)
	if err != nil {
		return fmt.Errorf("comparing the rows: %w", err)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	var inOld, inNew int64
	w := len(s.t.Key)
	row := make([]any, w+2*len(s.t.Columns)) // the key, then the pairs of values
	ptrs := []any{&inOld, &inNew}
	for i := range row {
		ptrs = append(ptrs, &row[i])
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("reading the rows: %w", err)
		}
		v.observe(rep, s.t, s.t.Columns, inOld == 1, inNew == 1, row[:w], row[w:])
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the rows: %w", err)
	}
	return nil
}

// fastPath reports whether the database can find identical values of t
// itself: always in PostgreSQL, whose check compares the types; in SQLite
// when each pair of an up expression and its new column is decoded alike by
// github.com/mattn/go-sqlite3, which turns values of columns declared DATE,
// DATETIME, TIMESTAMP or BOOLEAN into time.Time and bool, so that the same
// stored value could reach the client as two different ones.
func (v *verifier) fastPath(ctx context.Context, conn *sql.Conn, t *mapping.Table) (bool, error) {
	if v.d.Name != rewrite.SQLite.Name {
		return true, nil
	}
	exprs, cols := make([]string, len(t.Columns)), make([]string, len(t.Columns))
	for i, c := range t.Columns {
		exprs[i], cols[i] = c.Expr, v.d.Quote(c.Name)
	}
	return decodedAlike(ctx, conn,
		"SELECT "+strings.Join(exprs, ", ")+" FROM "+v.d.Quote(t.Old)+" LIMIT 0",
		"SELECT "+strings.Join(cols, ", ")+" FROM "+v.d.Quote(t.New)+" LIMIT 0")
}

// decodedAlike reports whether github.com/mattn/go-sqlite3 decodes each
// column of the query expected as it decodes the same column of actual
// (see [decoded]).
func decodedAlike(ctx context.Context, conn *sql.Conn, expected, actual string) (bool, error) {
	want, err := declaredTypes(ctx, conn, expected)
	if err != nil {
		return false, err
	}
	got, err := declaredTypes(ctx, conn, actual)
	if err != nil {
		return false, err
	}
	for i := range want {
		if decoded(want[i]) != decoded(got[i]) {
			return false, nil
		}
	}
	return true, nil
}

// declaredTypes returns the declared types of a query's columns.
func declaredTypes(ctx context.Context, conn *sql.Conn, query string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(types))
	for i, ct := range types {
		out[i] = ct.DatabaseTypeName()
	}
	return out, rows.Err()
}

// decoded names what go-sqlite3 turns a value of a column of the declared
// type into, beyond its storage class: "time", "bool" or "".
func decoded(declared string) string {
	switch strings.ToLower(declared) {
	case "date", "datetime", "timestamp":
		return "time"
	case "boolean":
		return "bool"
	}
	return ""
}

// observe counts one key of the comparison, given whether each table has a
// row for it and the pairs (expected value, actual value) of cols in
// order, and samples it if it differs and there is room.
func (v *verifier) observe(rep *TableReport, t *mapping.Table, cols []mapping.Column, inOld, inNew bool, key, values []any) {
	rep.RowsProcessed++
	room := v.opts.SampleSize
	switch {
	case !inNew:
		rep.MissingInNew++
		if len(rep.Samples.MissingInNew) < room {
			rep.Samples.MissingInNew = append(rep.Samples.MissingInNew, Sample{Key: sampleKey(t, key)})
		}
	case !inOld:
		rep.ExtraInNew++
		if len(rep.Samples.ExtraInNew) < room {
			rep.Samples.ExtraInNew = append(rep.Samples.ExtraInNew, Sample{Key: sampleKey(t, key)})
		}
	default:
		diffs := differing(cols, values)
		if len(diffs) == 0 {
			rep.Matching++
			return
		}
		rep.Mismatched++
		if len(rep.Samples.Mismatched) < room {
			rep.Samples.Mismatched = append(rep.Samples.Mismatched, Sample{Key: sampleKey(t, key), Columns: diffs})
		}
	}
}

// differing returns the columns whose expected value differs from the
// actual one, given the pairs (expected, actual) in the order of cols: the
// up value and the new value of each new column, or the old value and
// down(up(old)) of each old column. Values compare as the read path
// compares them ([readpath.Normalize]).
func differing(cols []mapping.Column, values []any) []ColumnDiff {
	var diffs []ColumnDiff
	for i, c := range cols {
		expected, actual := values[2*i], values[2*i+1]
		if readpath.Normalize(expected) != readpath.Normalize(actual) {
			diffs = append(diffs, ColumnDiff{Column: c.Name, Expected: sampleValue(expected), Actual: sampleValue(actual)})
		}
	}
	return diffs
}

// tableError names the table and the step in an error.
func tableError(t *mapping.Table, step string, err error) error {
	return fmt.Errorf("verify %s -> %s: %s: %w", t.Old, t.New, step, err)
}

// rangeName names a range by where it starts, for errors.
func rangeName(t *mapping.Table, last []any) string {
	if last == nil {
		return "comparing the first range of keys"
	}
	return "comparing the keys after " + keyText(t, last)
}

// keyText spells a key for errors: "(org_id, user_id) = (1, 2)".
func keyText(t *mapping.Table, key []any) string {
	vals := make([]string, len(key))
	for i, x := range key {
		vals[i] = fmt.Sprint(sampleValue(x))
	}
	return "(" + strings.Join(t.Key, ", ") + ") = (" + strings.Join(vals, ", ") + ")"
}
