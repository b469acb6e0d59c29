package rewrite

import (
	"strings"
	"sync"

	"github.com/dualwrite/dualwrite/mapping"
)

// Table is one mapped pair compiled for a dialect: the generated statements
// that keep new = up(old) for a set of keys. The same statements serve the
// mirror, backfill and verification. A Table is immutable and safe for
// concurrent use.
type Table struct {
	Map *mapping.Table
	d   *Dialect

	upsertHead, upsertTail string
	insertSelect, conflict string // the upsert around its source rows
	deleteHead, deleteTail string
	oldKeyList, newKeyList string   // key columns for "<list> IN (...)"
	keyTypes               []string // per key column, the type its bound values are cast to, or ""
	upsert1, delete1       string   // the statements for one key
	upsertLocked1          string   // MySQL: UpsertLockedSQL(1)
	// full holds the statements for KeyBatch keys, every batch of a big
	// write but its last: made at the first big write, since most
	// programs never make one.
	full    batchSQL
	derived string // the old table's shape over the new table, for reads
	// zeroGenerates: the new table's key is MySQL's AUTO_INCREMENT
	// column, and sql_mode lacks NO_AUTO_VALUE_ON_ZERO, so that an insert
	// of key 0 stores a generated key instead.
	zeroGenerates bool
	// autoIncrement: the new table is MySQL's and has an AUTO_INCREMENT
	// column (UpsertBatch).
	autoIncrement bool
}

// MySQLMirrorConflict is the expression a MySQL mirror's upsert evaluates
// where it meets the new row of another key: a subquery of two rows,
// which fails the statement with error 1242 (ER_SUBQUERY_NO_1_ROW).
const MySQLMirrorConflict = "(SELECT 1 UNION ALL SELECT 2)"

// ZeroGenerates reports whether the mirror cannot write key 0: the new
// table's key is an AUTO_INCREMENT column, which MySQL fills with a
// generated key when given 0 (unless sql_mode has NO_AUTO_VALUE_ON_ZERO).
func (t *Table) ZeroGenerates() bool { return t.zeroGenerates }

// Compile builds the generated statements of one mapped pair.
func (d *Dialect) Compile(t *mapping.Table) *Table { return d.CompileKeyTypes(t, nil) }

// CompileKeyTypes is [Dialect.Compile] for a pair whose key values must
// be cast to their columns' types where the statements bind them:
// keyTypes holds one type per key column, "" for a column that needs no
// cast (see [Schema.KeyTypes]).
func (d *Dialect) CompileKeyTypes(t *mapping.Table, keyTypes []string) *Table {
	q := d.Quote
	ct := &Table{Map: t, d: d, keyTypes: keyTypes}
	var cols, exprs, sets []string
	if d.mysql {
		// ON DUPLICATE KEY UPDATE fires on any unique key of the new
		// table: where it meets a row of another key, the key's
		// assignment evaluates a subquery of two rows, an error (1242)
		// whatever the column and the sql_mode, so the write fails
		// rather than overwrite that row or skip this one. (NULL would
		// not do: MySQL stores 0 for NULL in an AUTO_INCREMENT column.)
		for _, k := range t.NewKey {
			nk := q(t.New) + "." + q(k)
			sets = append(sets, nk+" = IF("+nk+" <=> VALUES("+q(k)+"), "+nk+", "+MySQLMirrorConflict+")")
		}
	}
	for _, c := range t.Columns {
		cols = append(cols, q(c.Name))
		exprs = append(exprs, c.Expr)
		switch {
		case containsFold(t.NewKey, c.Name):
		case d.mysql:
			sets = append(sets, q(t.New)+"."+q(c.Name)+" = VALUES("+q(c.Name)+")")
		default:
			sets = append(sets, q(c.Name)+" = excluded."+q(c.Name))
		}
	}
	var newKey, oldKey, join []string
	for i, k := range t.Key {
		oldKey = append(oldKey, q(k))
		newKey = append(newKey, q(t.NewKey[i]))
		join = append(join, q(t.Old)+"."+q(k)+" = "+q(t.New)+"."+q(t.NewKey[i]))
	}
	ct.oldKeyList = keyList(oldKey)
	ct.newKeyList = keyList(newKey)
	ct.insertSelect = "INSERT INTO " + q(t.New) + " (" + strings.Join(cols, ", ") + ") SELECT " +
		strings.Join(exprs, ", ") + " FROM "
	if len(sets) == 0 {
		// A new table of key columns only: the upsert still updates the
		// row it meets (to the same key), so that it locks the row and
		// makes a new version of it; a DO NOTHING would leave a backfill's
		// orphan DELETE, which waits for neither, free to delete the row
		// this very write needs.
		k := q(t.NewKey[0])
		sets = append(sets, k+" = excluded."+k)
	}
	ct.conflict = " ON CONFLICT (" + strings.Join(newKey, ", ") + ") DO UPDATE SET " + strings.Join(sets, ", ")
	if d.mysql {
		ct.conflict = " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
	}
	ct.upsertHead = ct.insertSelect + q(t.Old) + " WHERE " + ct.oldKeyList + " IN ("
	ct.upsertTail = ")" + ct.conflict
	ct.deleteHead = "DELETE FROM " + q(t.New) + " WHERE " + ct.newKeyList + " IN ("
	ct.deleteTail = ") AND NOT EXISTS (SELECT 1 FROM " + q(t.Old) + " WHERE " + strings.Join(join, " AND ") + ")"
	var rev []string
	for _, c := range t.Reverse {
		rev = append(rev, c.Expr+" AS "+q(c.Name))
	}
	ct.derived = "(SELECT " + strings.Join(rev, ", ") + " FROM " + q(t.New) + ")"
	ct.upsert1 = ct.UpsertSQL(1)
	if d.mysql {
		ct.upsertLocked1 = ct.UpsertLockedSQL(1)
	}
	ct.delete1 = ct.DeleteSQL(1)
	return ct
}

// Derived returns the derived table that exposes the old table's columns,
// in the old table's order, computed from the new table by the mapping's
// reverse expressions.
func (t *Table) Derived() string { return t.derived }

// fusedMirror returns the common table expression that mirrors the rows a
// data-modifying CTE named dw_w (an INSERT or UPDATE) returned as whole-row
// values in its column dw_row: an upsert of up(row). It reads the returned
// rows, not the old table, since the statements of one WITH all see the
// snapshot from before any of them ran; the upsert's conflict check sees
// new rows committed since.
func (t *Table) fusedMirror() string {
	return "dw_m AS (" + t.UpsertFrom("(SELECT (dw_w.dw_row).* FROM dw_w)") + ")"
}

// UpsertFrom returns the statement that sets the new rows of the rows a
// subquery returns to up(row): source is a parenthesized SELECT of rows
// shaped like the old table's, which the statement names as the old table.
func (t *Table) UpsertFrom(source string) string {
	return t.InsertFrom(source) + t.conflict
}

// InsertFrom returns UpsertFrom's statement without its ON CONFLICT clause:
// a plain INSERT of up(row), which fails with a unique violation where a
// new row with one of the keys is there already.
func (t *Table) InsertFrom(source string) string {
	// WHERE true: SQLite reads ON CONFLICT after a bare FROM as a join's.
	return t.insertSelect + source + " AS " + t.d.Quote(t.Map.Old) + " WHERE true"
}

func keyList(cols []string) string {
	if len(cols) == 1 {
		return cols[0]
	}
	return "(" + strings.Join(cols, ", ") + ")"
}

// UpsertSQL returns the statement that sets the new rows of n keys to up(old):
// its parameters are the n keys' column values, key by key.
func (t *Table) UpsertSQL(n int) string {
	switch {
	case n == 1 && t.upsert1 != "":
		return t.upsert1
	case n == t.KeyBatch():
		return t.fullBatch().upsert
	}
	return t.upsertHead + t.keyValues(n) + t.upsertTail
}

// UpsertLockedSQL is UpsertSQL for MySQL, where it reads the old rows
// with FOR UPDATE: the latest committed rows, locked until the
// transaction ends, where a plain INSERT ... SELECT reads a snapshot
// without locks at READ COMMITTED.
func (t *Table) UpsertLockedSQL(n int) string {
	if n == 1 && t.upsertLocked1 != "" {
		return t.upsertLocked1
	}
	return t.upsertHead + t.keyValues(n) + ") FOR UPDATE" + t.conflict
}

// DeleteSQL returns the statement that deletes the new rows of those of n keys
// that have no old row; its parameters are as for UpsertSQL.
func (t *Table) DeleteSQL(n int) string {
	switch {
	case n == 1 && t.delete1 != "":
		return t.delete1
	case n == t.KeyBatch():
		return t.fullBatch().delete
	}
	return t.deleteHead + t.keyValues(n) + t.deleteTail
}

// batchSQL is the upsert and the delete for one number of keys.
type batchSQL struct {
	once           sync.Once
	upsert, delete string
}

// fullBatch returns t.full, made at its first use.
func (t *Table) fullBatch() *batchSQL {
	t.full.once.Do(func() {
		keys := t.keyValues(t.KeyBatch())
		t.full.upsert = t.upsertHead + keys + t.upsertTail
		t.full.delete = t.deleteHead + keys + t.deleteTail
	})
	return &t.full
}

// DeleteKeysSQL returns the statement that deletes the new rows of n keys,
// whether or not they have an old row; its parameters are as for
// UpsertSQL. A key change uses it to clear the new rows of keys that moved
// among the changed rows before it writes them again.
func (t *Table) DeleteKeysSQL(n int) string {
	return t.deleteHead + t.keyValues(n) + ")"
}

// UpsertBatch is the most keys one upsert takes: KeyBatch, but 1 where
// the new table is MySQL's and has an AUTO_INCREMENT column. InnoDB's
// INSERT ... SELECT takes such a table's AUTO-INC lock at each row it
// inserts (innodb_autoinc_lock_mode 0 and 1, MariaDB's default) and holds
// it to the end of the statement: an upsert of several keys may then wait
// for another row's lock while holding it, and deadlock with a plain
// INSERT waiting for it, which fails with error 1467 ("Failed to read
// auto-increment value"). An upsert of one key takes it after its one
// row's lock, and waits for nothing more.
func (t *Table) UpsertBatch() int {
	if t.autoIncrement {
		return 1
	}
	return t.KeyBatch()
}

// KeyBatch is the most keys one generated statement takes, which keeps the
// statement's parameters under every dialect's limit.
func (t *Table) KeyBatch() int { return 900 / len(t.Map.Key) }

// keyValues returns the IN list for n keys: "?1, ?2" for single-column keys,
// "VALUES (?1, ?2), (?3, ?4)" for composite ones; in PostgreSQL a list of
// rows, "($1, $2), ($3, $4)", whose parameters take the key columns' types
// (a VALUES list would make them text); a parameter is cast to its key
// column's type where keyTypes names one.
func (t *Table) keyValues(n int) string {
	var b strings.Builder
	w := len(t.Map.Key)
	if w > 1 && !t.d.dollarParams && !t.d.mysql {
		b.WriteString("VALUES ")
	}
	p := 1
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		if w > 1 {
			b.WriteByte('(')
		}
		for j := 0; j < w; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t.d.Placeholder(p))
			if j < len(t.keyTypes) && t.keyTypes[j] != "" {
				b.WriteString("::" + t.keyTypes[j])
			}
			p++
		}
		if w > 1 {
			b.WriteByte(')')
		}
	}
	return b.String()
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
