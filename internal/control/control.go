// Package control keeps a fleet's migration state in the application's own
// database: the shared phases and their transitions, the processes that run
// dualwrite and the phases each one runs, and the results of verify. The
// driver reads the phases and registers its process; the dualwrite command
// and the operator endpoint change the phases, through the same checks
// (check.go).
//
// Every time in these tables is the database's clock, in milliseconds since
// 1970, so that the hosts' clocks do not matter; the one exception is a
// process's phases_read_at, which it takes from its own clock.
package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/rewrite"
)

// The control tables.
const (
	PhasesTable      = "dualwrite_phases"
	TransitionsTable = "dualwrite_transitions"
	ProcessesTable   = "dualwrite_processes"
	VerifyTable      = "dualwrite_verify"
)

// DefaultFleet is the fleet of processes that name none.
const DefaultFleet = "default"

// Querier is what the control statements run on: a *sql.DB, *sql.Conn or
// *sql.Tx.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// spelling is what differs between the dialects in the control statements.
type spelling struct {
	// now is the database's clock in milliseconds since 1970.
	now string
	// upsert follows an INSERT of a row whose first column is the key,
	// to write the other columns when the key exists; cols are those
	// columns, quoted.
	upsert func(key string, cols []string) string
	// keep follows an INSERT of a row whose key is the column key (quoted),
	// to leave the row that has the key as it is: the INSERT then affects
	// no row (on MySQL, unless the connection counts the rows found,
	// clientFoundRows).
	keep func(key string) string
	// long is the type of a column of text that may be long: the reasons
	// of a forced transition, one or more for each table and process.
	long string
}

var spellings = map[string]spelling{
	rewrite.SQLite.Name: {
		now:    "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
		upsert: onConflict,
		keep:   doNothing,
		long:   "TEXT",
	},
	rewrite.Postgres.Name: {
		now:    "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
		upsert: onConflict,
		keep:   doNothing,
		long:   "TEXT",
	},
	rewrite.MySQL.Name: {
		// Not UNIX_TIMESTAMP(NOW(3)), which goes through the session's
		// time zone: it is an hour behind in the hour that a change from
		// summer time repeats.
		now: "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(3)) DIV 1000",
		upsert: func(_ string, cols []string) string {
			var set []string
			for _, c := range cols {
				set = append(set, c+" = VALUES("+c+")")
			}
			return " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
		},
		keep: func(key string) string { return " ON DUPLICATE KEY UPDATE " + key + " = " + key },
		long: "MEDIUMTEXT", // TEXT holds 64 KB
	},
}

func onConflict(key string, cols []string) string {
	var set []string
	for _, c := range cols {
		set = append(set, c+" = excluded."+c)
	}
	return " ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(set, ", ")
}

func doNothing(key string) string { return " ON CONFLICT (" + key + ") DO NOTHING" }

// Store reads and writes the control tables of one database in one dialect.
type Store struct {
	d  *rewrite.Dialect
	sp spelling
}

// New returns the Store of dialect d.
func New(d *rewrite.Dialect) *Store {
	return &Store{d: d, sp: spellings[d.Name]}
}

// q quotes a name.
func (s *Store) q(name string) string { return s.d.Quote(name) }

// list quotes names and joins them with commas.
func (s *Store) list(names ...string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = s.q(n)
	}
	return strings.Join(out, ", ")
}

// params returns n placeholders, numbered from first, joined with commas.
func (s *Store) params(first, n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = s.d.Placeholder(first + i)
	}
	return strings.Join(out, ", ")
}

// Ensure creates the control tables that are missing.
func (s *Store) Ensure(ctx context.Context, q Querier) error {
	const key, text, num = "VARCHAR(255)", "VARCHAR(255)", "BIGINT"
	tables := []struct {
		name string
		cols [][2]string
		key  string
	}{
		{PhasesTable, [][2]string{{"fleet", key + " NOT NULL"}, {"write_phase", text + " NOT NULL"}, {"read_phase", text + " NOT NULL"},
			{"mapping_digest", text + " NOT NULL"}, {"version", num + " NOT NULL"}, {"changed_at", num + " NOT NULL"}, {"changed_by", text + " NOT NULL"}}, "fleet"},
		{TransitionsTable, [][2]string{{"fleet", key + " NOT NULL"}, {"version", num + " NOT NULL"}, {"changed_at", num + " NOT NULL"},
			{"changed_by", text + " NOT NULL"}, {"from_write", text + " NOT NULL"}, {"from_read", text + " NOT NULL"},
			{"to_write", text + " NOT NULL"}, {"to_read", text + " NOT NULL"}, {"mapping_digest", text + " NOT NULL"}, {"forced", s.sp.long + " NOT NULL"}}, "fleet, version"},
		{ProcessesTable, [][2]string{{"id", key + " NOT NULL"}, {"fleet", text + " NOT NULL"}, {"host", text + " NOT NULL"}, {"pid", num + " NOT NULL"},
			{"version", text + " NOT NULL"}, {"mapping_digest", text + " NOT NULL"}, {"write_phase", text + " NOT NULL"}, {"read_phase", text + " NOT NULL"},
			{"decided_by", text + " NOT NULL"}, {"phases_version", num + " NOT NULL"}, {"phases_read_at", num + " NOT NULL"},
			{"refresh_ms", num + " NOT NULL"}, {"started_at", num + " NOT NULL"}, {"last_seen", num + " NOT NULL"}}, "id"},
		{VerifyTable, [][2]string{{"old_table", key + " NOT NULL"}, {"mapping_digest", text + " NOT NULL"}, {"backfill", text + " NOT NULL"},
			{"compared", num + " NOT NULL"}, {"differences", num + " NOT NULL"}, {"started_at", num + " NOT NULL"}, {"finished_at", num + " NOT NULL"},
			{"verified_by", text + " NOT NULL"}}, "old_table"},
	}
	for _, t := range tables {
		var cols []string
		for _, c := range t.cols {
			cols = append(cols, s.q(c[0])+" "+c[1])
		}
		keyCols := strings.Split(t.key, ", ")
		ddl := "CREATE TABLE IF NOT EXISTS " + s.q(t.name) + " (" + strings.Join(cols, ", ") + ", PRIMARY KEY (" + s.list(keyCols...) + "))"
		if _, err := q.ExecContext(ctx, ddl); err != nil {
			// Two processes may race to create it (PostgreSQL): the loser finds it there.
			if ok, _ := s.exists(ctx, q, t.name); !ok {
				return fmt.Errorf("creating the control table %s: %w", t.name, err)
			}
		}
	}
	return nil
}

// exists reports whether table exists.
func (s *Store) exists(ctx context.Context, q Querier, table string) (bool, error) {
	query, arg := "SELECT to_regclass($1) IS NOT NULL", s.q(table)
	switch s.d.Name {
	case rewrite.SQLite.Name:
		query, arg = "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE", table
	case rewrite.MySQL.Name:
		query, arg = "SELECT count(*) > 0 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", table
	}
	var ok bool
	err := q.QueryRowContext(ctx, query, arg).Scan(&ok)
	return ok, err
}

// ErrNoTable is returned, wrapped, when a control table does not exist.
var ErrNoTable = errors.New("the control table does not exist")

// missing returns err, or an error wrapping ErrNoTable when table does not
// exist, which is then the likely reason of err.
func (s *Store) missing(ctx context.Context, q Querier, table string, err error) error {
	if err == nil {
		return nil
	}
	if ok, xerr := s.exists(ctx, q, table); xerr == nil && !ok {
		return fmt.Errorf("%s: %w", table, ErrNoTable)
	}
	return fmt.Errorf("%s: %w", table, err)
}

// query runs query, a read of table; rows is nil, with no error, when the
// table does not exist.
func (s *Store) query(ctx context.Context, q Querier, table, query string, args ...any) (*sql.Rows, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		if err = s.missing(ctx, q, table, err); errors.Is(err, ErrNoTable) {
			err = nil
		}
	}
	return rows, err
}

// Now returns the database's clock, in milliseconds since 1970.
func (s *Store) Now(ctx context.Context, q Querier) (int64, error) {
	var now int64
	err := q.QueryRowContext(ctx, "SELECT "+s.sp.now).Scan(&now)
	return now, err
}
