// Package fence installs, removes and reports dualwrite's fence on
// PostgreSQL: for each mapped pair, a deferred constraint trigger on the
// old and on the new table that, at COMMIT, checks for every key a row
// change touched that new = up(old) or both rows are absent, and fails
// the transaction otherwise (see [rewrite.Fence]).
//
// The driver refuses every unmirrored write it sees; the fence catches
// the ones it cannot see: a function or procedure that writes a mapped
// table, dynamic SQL, a trigger, and every writer that does not go
// through dualwrite (another service, a script, psql). Dual writes,
// backfill and verify pass it, since they keep both tables in step in the
// same transaction.
//
// Install it once the new tables exist and every writer runs with the
// write phase dual (a write through a process still at off fails), and
// remove it before the phase goes back to off or the old table is
// dropped. The functions here are safe for concurrent use; each runs in
// one transaction.
package fence

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// State is the fence of one mapped pair as the database has it.
type State struct {
	Old, New string
	// Installed: the fence's trigger is on both tables.
	Installed bool
	// Current: the installed function is the one this mapping makes; a
	// fence installed for another version of the mapping is not.
	Current bool
}

// Install installs (or replaces) the fence of every mapped pair of m, in
// one transaction. db is opened with the base driver (pgx).
func Install(ctx context.Context, db *sql.DB, m *mapping.Mapping) error {
	return inTx(ctx, db, func(tx *sql.Tx) error {
		for _, t := range m.Tables {
			f, err := fenceOf(ctx, tx, t)
			if err != nil {
				return err
			}
			if err := execAll(ctx, tx, f.Install); err != nil {
				return fmt.Errorf("fence: installing on %s -> %s: %w", t.Old, t.New, err)
			}
		}
		return nil
	})
}

// Remove removes the fence of every mapped pair of m, in one transaction.
func Remove(ctx context.Context, db *sql.DB, m *mapping.Mapping) error {
	return inTx(ctx, db, func(tx *sql.Tx) error {
		for _, t := range m.Tables {
			if err := execAll(ctx, tx, rewrite.Postgres.Compile(t).FenceRemove()); err != nil {
				return fmt.Errorf("fence: removing from %s -> %s: %w", t.Old, t.New, err)
			}
		}
		return nil
	})
}

// Status reports the fence of every mapped pair of m.
func Status(ctx context.Context, db *sql.DB, m *mapping.Mapping) ([]State, error) {
	var out []State
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		for _, t := range m.Tables {
			f, err := fenceOf(ctx, tx, t)
			if err != nil {
				return err
			}
			st := State{Old: t.Old, New: t.New, Installed: true, Current: true}
			for _, table := range []string{t.Old, t.New} {
				var fn, src string
				err := tx.QueryRowContext(ctx, `SELECT p.proname::text, p.prosrc
FROM pg_catalog.pg_trigger AS tg
JOIN pg_catalog.pg_class AS c ON c.oid = tg.tgrelid
JOIN pg_catalog.pg_proc AS p ON p.oid = tg.tgfoid
WHERE c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema()) AND c.relname = $1 AND tg.tgname = $2`,
					table, rewrite.FenceTrigger).Scan(&fn, &src)
				switch {
				case errors.Is(err, sql.ErrNoRows):
					st.Installed, st.Current = false, false
				case err != nil:
					return fmt.Errorf("fence: reading the triggers of %s: %w", table, err)
				case fn != f.Function || src != f.Body:
					st.Current = false
				}
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// fenceOf makes the fence of a pair from the live types of its new table's
// columns.
func fenceOf(ctx context.Context, tx *sql.Tx, t *mapping.Table) (*rewrite.Fence, error) {
	types := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		err := tx.QueryRowContext(ctx, `SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS r ON r.oid = a.attrelid
WHERE r.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema()) AND r.relname = $1
	AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`, t.New, c.Name).Scan(&types[i])
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("fence: the new table %s has no column %s (mapping line %d): run dualwrite check", t.New, c.Name, t.Line)
		}
		if err != nil {
			return nil, fmt.Errorf("fence: reading the columns of %s: %w", t.New, err)
		}
	}
	return rewrite.Postgres.Compile(t).Fence(types)
}

func inTx(ctx context.Context, db *sql.DB, f func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func execAll(ctx context.Context, tx *sql.Tx, stmts []string) error {
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
