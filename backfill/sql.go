package backfill

import (
	"strconv"
	"strings"
	"time"

	"github.com/dualwrite/dualwrite/internal/mysqlrun"
	"github.com/dualwrite/dualwrite/rewrite"
)

// statements spells the statements of one mapped pair's batches in a
// dialect. A key range is bounded by row-value comparisons, (k1, k2) >
// (v1, v2), whose parameters are the bounds' key values, lower bound first.
type statements struct {
	d              *rewrite.Dialect
	old, new       string   // the quoted table names
	oldKey, newKey []string // the quoted key columns
	join           string   // the old row of a new row, by key
}

func newStatements(d *rewrite.Dialect, t *rewrite.Table) *statements {
	s := &statements{d: d, old: d.Quote(t.Map.Old), new: d.Quote(t.Map.New)}
	var join []string
	for i, k := range t.Map.Key {
		s.oldKey = append(s.oldKey, d.Quote(k))
		s.newKey = append(s.newKey, d.Quote(t.Map.NewKey[i]))
		join = append(join, s.old+"."+s.oldKey[i]+" = "+s.new+"."+s.newKey[i])
	}
	s.join = strings.Join(join, " AND ")
	return s
}

// settings returns the query that sets, for the rest of a PostgreSQL
// batch's transaction only, how long the batch waits for a row lock before
// it gives way, and an asynchronous commit: a batch lost to a crash of the
// server is lost with its checkpoint, and the next run copies it again (a
// later synchronous commit, a dual write's, makes it durable with
// everything before it). Set so, nothing outlives the batch on its
// connection, also behind a pooler that hands each transaction another
// server connection.
func settings(timeout time.Duration) string {
	return "SELECT set_config('lock_timeout', '" + strconv.FormatInt(max(timeout.Milliseconds(), 1), 10) +
		"', true), set_config('synchronous_commit', 'off', true)"
}

// rowLocks reports whether a batch locks its old rows (PostgreSQL, MySQL):
// on SQLite the batch holds the database's write lock instead.
func (s *statements) rowLocks() bool { return s.d.Name != rewrite.SQLite.Name }

// oneStatement reports whether a batch is one statement (PostgreSQL, see
// lockedBatch); elsewhere it is a transaction of several (see
// runner.txBatch).
func (s *statements) oneStatement() bool { return s.d.Name == rewrite.Postgres.Name }

// lockedTx reports whether a batch is a transaction of several statements
// that locks its old rows (MySQL; see runner.txBatch).
func (s *statements) lockedTx() bool { return s.rowLocks() && !s.oneStatement() }

// args returns the arguments of q, a statement of s whose parameters
// are numbered, given by number: in the order of the text where the
// dialect's parameters are positional (MySQL).
func (s *statements) args(q string, args ...any) []any {
	out, err := mysqlrun.Args(s.d, q, args)
	if err != nil {
		panic(err) // the statements are generated: a bug, not a database's answer
	}
	return out
}

// mysqlLockTimeout returns the statements that set, on a MySQL batch's
// connection, how long its statements wait for a row lock
// (innodb_lock_wait_timeout, in whole seconds, at least 1) before they give
// way, and that set it back to what it was when the batch is over.
func mysqlLockTimeout(timeout time.Duration) (set, restore string) {
	secs := max((timeout+time.Second-1)/time.Second, 1)
	return "SET @dualwrite_lock_wait_timeout = @@SESSION.innodb_lock_wait_timeout, SESSION innodb_lock_wait_timeout = " + strconv.FormatInt(int64(secs), 10),
		"SET SESSION innodb_lock_wait_timeout = @dualwrite_lock_wait_timeout"
}

// countRange returns, for MySQL, the query of the number of old rows of a
// key range, which a batch runs after its copy, which locked them: the
// rows the copy copied. (ON DUPLICATE KEY UPDATE counts a row it updates
// twice in the rows affected, and one it leaves as it was not at all.) It
// is a locking read, which reads the rows as committed, not as the
// batch's snapshot.
func (s *statements) countRange(lower, upper bool) string {
	return "SELECT count(*) FROM " + s.old + s.where(s.oldKey, lower, upper, "") + " FOR UPDATE"
}

// end returns the query of the key of the n-th old row after the lower
// bound, or from the start without one: the end of a batch's key range.
func (s *statements) end(lower bool, n int) string {
	if !lower {
		return s.endFrom(0, n, "")
	}
	return s.endFrom(1, n, "")
}

// endFrom is end with the lower bound's parameters numbered from p (none
// when p is 0), the key's columns after the select list's head.
func (s *statements) endFrom(p, n int, head string) string {
	read := make([]string, len(s.oldKey))
	for i, k := range s.oldKey {
		read[i] = s.d.AsStored(k) // it comes back as the next batch's lower bound
	}
	return "SELECT " + head + strings.Join(read, ", ") + " FROM " + s.old + s.whereFrom(s.oldKey, p > 0, false, p, "") +
		" ORDER BY " + strings.Join(s.oldKey, ", ") + " LIMIT 1 OFFSET " + strconv.Itoa(n-1)
}

// copyRange returns, for SQLite and MySQL, the statement that sets the
// new rows of a key range's old rows to up(old). On MySQL it locks the old
// rows as it reads them (FOR UPDATE), and at REPEATABLE READ the gaps
// between them: the rows a covering index would give a count(*) are not
// locked there, and writes of their other columns would not wait.
func (s *statements) copyRange(t *rewrite.Table, lower, upper bool) string {
	return t.UpsertFrom(s.oldRange(lower, upper))
}

// oldRange returns the subquery of the old rows of a key range that
// copyRange and copyPlain copy, with FOR UPDATE on MySQL.
func (s *statements) oldRange(lower, upper bool) string {
	lock := ""
	if s.lockedTx() {
		lock = " FOR UPDATE"
	}
	return "(SELECT * FROM " + s.old + s.where(s.oldKey, lower, upper, "") + lock + ")"
}

// copyPlain returns, for MySQL, copyRange's statement as a plain INSERT
// (rewrite.Table.InsertFrom), for a key range without new rows at the
// batch's snapshot: it writes less than the upsert, and its rows affected
// are the rows copied. It fails with a duplicate key error (1062) where
// it meets a new row all the same: one a dual write committed after the
// snapshot, one outside the range as the new key sorts, or one that holds
// the value of another unique key.
func (s *statements) copyPlain(t *rewrite.Table, lower, upper bool) string {
	return t.InsertFrom(s.oldRange(lower, upper))
}

// deleteOrphans returns, for SQLite and MySQL, the statement that deletes the new
// rows of a key range whose key has no old row.
func (s *statements) deleteOrphans(lower, upper bool) string {
	return "DELETE FROM " + s.new + s.where(s.newKey, lower, upper, s.orphan())
}

// newRows returns, for SQLite and MySQL, the query whether the new table
// has a row in a key range, and whether it has one there whose key has no
// old row (an orphan). A range that has none before its batch copies has
// none after it.
func (s *statements) newRows(lower, upper bool) string {
	return "SELECT EXISTS (SELECT 1 FROM " + s.new + s.where(s.newKey, lower, upper, "") + "), EXISTS (SELECT 1 FROM " + s.new +
		s.where(s.newKey, lower, upper, s.orphan()) + ")"
}

// orphan returns the condition that a new row's key has no old row.
func (s *statements) orphan() string {
	return "NOT EXISTS (SELECT 1 FROM " + s.old + " WHERE " + s.join + ")"
}

// lockedBatch returns the one statement of a PostgreSQL batch, which is a
// transaction of its own. Its parts, all seeing the snapshot the statement
// began with:
//
//   - dualwrite_settings applies settings(timeout) to the statement's
//     transaction, before anything waits for a row lock (the table locks
//     are taken as the statement is parsed);
//   - dualwrite_claim locks the table's checkpoint if it is as the run left
//     it (checkpoints.claimIf); everything that writes waits for it and
//     does nothing without it, so two runs take turns and never both copy
//     a range;
//   - dualwrite_upserted locks the key range's old rows as it reads them
//     (FOR NO KEY UPDATE returns each row as its lock leaves it) and sets
//     their new rows to up(old); with plain, when the new table has no row
//     in the range (dualwrite_found, a first run's usual case),
//     dualwrite_inserted does so by plain INSERT instead, which writes
//     less than the upsert's speculative insertion (one of the two reads
//     the old rows; the other's condition is false before it reads).
//     A plain INSERT that meets a new row all the same (one a dual write
//     inserted after the snapshot, or one outside the range as the new key
//     sorts) fails the statement with a unique violation, and the batch is
//     run again without plain;
//   - dualwrite_orphan finds the range's new rows whose key has no old row,
//     and dualwrite_deleted deletes them. It picks them by their row
//     versions at the snapshot (tableoid, ctid and xmin, in a filter that
//     every server re-checks; some minor releases do not re-check a TID
//     scan's own condition): a new row that a dual write changed
//     since (an orphan whose key the application has just inserted, which
//     its mirror upserted over; a mirror always updates the row it meets)
//     is another version, and stays, where a re-check of the row against
//     the snapshot's old table would find no old row and delete it. It does
//     not see the rows the copy inserts, and leaves alone those it updates,
//     whose old rows it finds;
//   - dualwrite_saved writes the checkpoint (checkpoints.saveIf);
//   - with an upper bound, dualwrite_next reads the key of the
//     BatchSize-th old row after it: the end of the next batch's range.
//
// It returns one row: the checkpoint's counts after the batch (NULL when
// the claim found the checkpoint changed, and the statement did nothing),
// the rows copied and deleted, and, with an upper bound, whether there is
// a next end and its key columns.
//
// Parameters: the old key range's bounds, lower first (as for where); the
// same bounds again for the new key range, so that they take the new key
// columns' types; then the old table, the mapping digest, the stored
// last_key, and the new last_key, done and updated_at.
func (s *statements) lockedBatch(t *rewrite.Table, c *checkpoints, lower, upper, plain bool, batchSize int, timeout time.Duration) string {
	n := 0
	if lower {
		n += len(s.oldKey)
	}
	if upper {
		n += len(s.oldKey)
	}
	newRange := func(extra string) string {
		if !upper {
			// The last batch's: a cap the planner can tell is narrow, so
			// that it reads the new key's index, even without statistics
			// of a new table that the backfill is filling.
			limit := s.newKey[0] + " <= (SELECT max(" + s.newKey[0] + ") FROM " + s.new + ")"
			if extra == "" {
				extra = limit
			} else {
				extra = limit + " AND " + extra
			}
		}
		return s.whereFrom(s.newKey, lower, upper, n+1, extra)
	}
	claimed := "EXISTS (SELECT 1 FROM dualwrite_claim)"
	var b strings.Builder
	b.WriteString("WITH dualwrite_settings AS (" + settings(timeout) + "), ")
	b.WriteString("dualwrite_claim AS (" + c.claimIf(2*n+1, "(SELECT true FROM dualwrite_settings)") + "), ")
	locked := func(cond string) string {
		return "(SELECT * FROM " + s.old + s.where(s.oldKey, lower, upper, cond) + " FOR NO KEY UPDATE)"
	}
	source, copied := locked(claimed), "(SELECT count(*) FROM dualwrite_upserted)"
	if plain {
		b.WriteString("dualwrite_found AS (SELECT EXISTS (SELECT 1 FROM " + s.new + newRange("") + ") AS found), ")
		b.WriteString("dualwrite_inserted AS (" + t.InsertFrom(locked(claimed+" AND NOT (SELECT found FROM dualwrite_found)")) + " RETURNING 1), ")
		source = locked(claimed + " AND (SELECT found FROM dualwrite_found)")
		copied = "(SELECT count(*) FROM dualwrite_inserted) + " + copied
	}
	deleted := "(SELECT count(*) FROM dualwrite_deleted)"
	b.WriteString("dualwrite_upserted AS (" + t.UpsertFrom(source) + " RETURNING 1), ")
	// OFFSET 0 keeps the probe of the old table a per-row index lookup: as
	// an anti-join the planner may merge-join the old table's key index
	// from its start in every batch. The DELETE finds its rows by TID scan
	// and checks each one's version (tableoid, ctid, xmin) with a filter,
	// which every server re-checks on a row changed since the snapshot.
	version := "tableoid::text || ' ' || ctid::text || ' ' || xmin::text"
	b.WriteString("dualwrite_orphan AS (SELECT ctid, " + version + " AS version FROM " + s.new +
		newRange(claimed+" AND NOT EXISTS (SELECT 1 FROM "+s.old+" WHERE "+s.join+" OFFSET 0)") + "), ")
	b.WriteString("dualwrite_deleted AS (DELETE FROM " + s.new + " WHERE ctid = ANY (ARRAY(SELECT ctid FROM dualwrite_orphan)) AND " +
		version + " = ANY (ARRAY(SELECT version FROM dualwrite_orphan)) RETURNING 1), ")
	b.WriteString("dualwrite_saved AS (" + c.saveIf(2*n+4, 2*n+1, "dualwrite_claim", copied, deleted) + ")")
	sel := "SELECT dualwrite_saved.*, " + copied + ", " + deleted
	from := " FROM (SELECT 1) AS dualwrite_one LEFT JOIN dualwrite_saved ON true"
	if upper {
		lo := 1
		if lower {
			lo += len(s.oldKey)
		}
		b.WriteString(", dualwrite_next AS (" + s.endFrom(lo, batchSize, "true AS found, ") + ")")
		sel += ", dualwrite_next.*"
		from += " LEFT JOIN dualwrite_next ON true"
	}
	b.WriteString(" " + sel + from)
	return b.String()
}

// count returns the query of the number of old rows after the lower bound,
// or of all of them without one.
func (s *statements) count(lower bool) string {
	return "SELECT count(*) FROM " + s.old + s.where(s.oldKey, lower, false, "")
}

// where returns the WHERE clause of a key range over the key columns,
// and'ed with extra; "" when there is no condition.
func (s *statements) where(key []string, lower, upper bool, extra string) string {
	return s.whereFrom(key, lower, upper, 1, extra)
}

// whereFrom is where with the bounds' parameters numbered from p.
//
// A composite key's range also bounds its first column alone, which the
// row comparison implies: a planner estimates a row comparison by its
// first column as an open range (a third of the table, without
// statistics), and a pair of bounds on one column as a narrow one, for
// which it reads the key's index.
func (s *statements) whereFrom(key []string, lower, upper bool, p int, extra string) string {
	var conds []string
	bound := func(op string) {
		first := mysqlrun.Param(s.d, p)
		conds = append(conds, s.row(key, nil)+" "+op+" "+s.row(key, &p))
		if len(key) > 1 {
			conds = append(conds, key[0]+" "+op[:1]+"= "+first)
		}
	}
	if lower {
		bound(">")
	}
	if upper {
		bound("<=")
	}
	if extra != "" {
		conds = append(conds, extra)
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// row returns the key columns as a row value, "(a, b)", or a single column
// alone; with p, the next len(key) parameters instead, counting on from *p.
func (s *statements) row(key []string, p *int) string {
	items := key
	if p != nil {
		items = make([]string, len(key))
		for i := range items {
			items[i] = mysqlrun.Param(s.d, *p)
			*p++
		}
	}
	if len(items) == 1 {
		return items[0]
	}
	return "(" + strings.Join(items, ", ") + ")"
}
