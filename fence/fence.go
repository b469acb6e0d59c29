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
//
// # Modes
//
// [Install] installs the strict fence ([Strict]): new = up(old), the
// invariant of the write phase dual. In the write phase both, a write to a
// new table through dualwrite leaves old = down(new) instead, which is
// not new = up(old) for a row that does not round-trip (down(up(old)) is
// not old); the strict fence fails such a write. [InstallBoth] installs
// the fence of that phase ([Both]), which passes a key when either holds.
// It is weaker, and so not the default: a write that bypasses dualwrite
// and leaves old = down(new) passes it, and in the write phase dual only
// new = up(old) is the invariant. Installing either replaces the other in
// one transaction, so that the pair is never without a fence.
package fence

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Mode is what a fence checks at COMMIT for each key a transaction
// touched.
type Mode int

const (
	// Strict passes a key when new = up(old) or both rows are absent: the
	// invariant of the write phase dual ([rewrite.Table.Fence]). [Install]
	// installs it.
	Strict Mode = iota
	// Both also passes a key when old = down(new), which a write to the
	// new table leaves in the write phase both ([rewrite.Table.FenceBoth]).
	// [InstallBoth] installs it.
	Both
)

// modes are the modes, in the order Status tries them.
var modes = []Mode{Strict, Both}

// String returns "strict" or "both".
func (m Mode) String() string {
	if m == Both {
		return "both"
	}
	return "strict"
}

// State is the fence of one mapped pair as the database has it.
type State struct {
	Old, New string
	// Installed: the fence's trigger is on both tables.
	Installed bool
	// Current: the installed function is the one this mapping makes in
	// one of the modes, Mode; a fence installed for another version of the
	// mapping is not.
	Current bool
	// Mode is the mode of the installed fence, when Current.
	Mode Mode
}

// Install installs (or replaces) the strict fence ([Strict]) of every
// mapped pair of m, in one transaction. db is opened with the base driver
// (pgx).
func Install(ctx context.Context, db *sql.DB, m *mapping.Mapping) error {
	return install(ctx, db, m, Strict)
}

// InstallBoth installs (or replaces) the fence of the write phase both
// ([Both]) of every mapped pair of m, in one transaction. db is opened
// with the base driver (pgx).
func InstallBoth(ctx context.Context, db *sql.DB, m *mapping.Mapping) error {
	return install(ctx, db, m, Both)
}

func install(ctx context.Context, db *sql.DB, m *mapping.Mapping, mode Mode) error {
	return inTx(ctx, db, func(tx *sql.Tx) error {
		for _, t := range m.Tables {
			f, err := fenceOf(ctx, tx, t, mode)
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

// Status reports the fence of every mapped pair of m, and its mode.
func Status(ctx context.Context, db *sql.DB, m *mapping.Mapping) ([]State, error) {
	var out []State
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		for _, t := range m.Tables {
			fs := make([]*rewrite.Fence, len(modes))
			for i, mode := range modes {
				f, err := fenceOf(ctx, tx, t, mode)
				if err != nil {
					return err
				}
				fs[i] = f
			}
			st := State{Old: t.Old, New: t.New, Installed: true, Current: true}
			found := -1 // the index in modes of the installed fence, once seen
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
				default:
					i := slices.IndexFunc(fs, func(f *rewrite.Fence) bool { return fn == f.Function && src == f.Body })
					if i < 0 || found >= 0 && i != found {
						st.Current = false
					}
					found = i
				}
			}
			if st.Current {
				st.Mode = modes[found]
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// fenceOf makes the fence of a pair in mode from the live types of its
// columns: the new table's, and for [Both] also the old table's.
func fenceOf(ctx context.Context, tx *sql.Tx, t *mapping.Table, mode Mode) (*rewrite.Fence, error) {
	newTypes, err := columnTypes(ctx, tx, t, "new", t.New, t.Columns)
	if err != nil {
		return nil, err
	}
	ct := rewrite.Postgres.Compile(t)
	if mode == Strict {
		return ct.Fence(newTypes)
	}
	oldTypes, err := columnTypes(ctx, tx, t, "old", t.Old, t.Reverse)
	if err != nil {
		return nil, err
	}
	return ct.FenceBoth(newTypes, oldTypes)
}

// columnTypes returns the types of the columns cols of table (the pair
// t's side, "old" or "new"), as format_type spells them.
func columnTypes(ctx context.Context, tx *sql.Tx, t *mapping.Table, side, table string, cols []mapping.Column) ([]string, error) {
	types := make([]string, len(cols))
	for i, c := range cols {
		err := tx.QueryRowContext(ctx, `SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS r ON r.oid = a.attrelid
WHERE r.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema()) AND r.relname = $1
	AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`, table, c.Name).Scan(&types[i])
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("fence: the %s table %s has no column %s (mapping line %d): run dualwrite check", side, table, c.Name, t.Line)
		}
		if err != nil {
			return nil, fmt.Errorf("fence: reading the columns of %s: %w", table, err)
		}
	}
	return types, nil
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
