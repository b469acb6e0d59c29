package verify

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dualwrite/dualwrite/internal/mysqlrun"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// tableSQL spells the queries that verify one mapped pair in one dialect.
//
// A range is the keys k with last < k <= bound, compared as row values in
// the database's own order; the first range has no lower end and the last
// no upper end. Both tables are cut at the same bounds, so every key of
// either table falls in exactly one range.
type tableSQL struct {
	d     *rewrite.Dialect
	t     *mapping.Table
	batch int
	// fast: the database finds identical values itself (dw_same), and only
	// the other keys travel to the client; see [verifier.fastPath].
	fast bool
	// upTypes and downTypes, for the round trip in PostgreSQL, are the
	// types of the new columns (in the order of t.Columns) and of the old
	// ones (t.Reverse), to which the computed values are cast as storing
	// them would.
	upTypes, downTypes []string
}

// countSQL counts the old table's rows.
func (s tableSQL) countSQL() string {
	return "SELECT count(*) FROM " + s.d.Quote(s.t.Old)
}

// boundSQL returns the query of the next range's upper bound: the smaller
// of the BatchSize-th key after the last bound in the old table and the
// same in the new table (parameters: the last bound for the old table, then
// for the new table; none when after is false). A range so holds at most
// BatchSize keys of each table, and exactly BatchSize keys when the tables
// agree. No row means that neither table has BatchSize keys left: the next
// range is the last one.
func (s tableSQL) boundSQL(after bool) string {
	p := 1
	side := func(table string, key []string, alias string) string {
		cols := s.quoteAll(key)
		sel := make([]string, len(cols))
		for i, c := range cols {
			sel[i] = c + " AS " + keyAlias(i)
		}
		q := "SELECT " + strings.Join(sel, ", ") + " FROM " + s.d.Quote(table)
		if after {
			q += " WHERE " + tuple(cols) + " > " + tuple(s.params(&p, len(cols)))
		}
		q += " ORDER BY " + strings.Join(cols, ", ") + " LIMIT 1 OFFSET " + strconv.Itoa(s.batch-1)
		return "SELECT * FROM (" + q + ") AS " + alias
	}
	oldSide := side(s.t.Old, s.t.Key, "o")
	newSide := side(s.t.New, s.t.NewKey, "n")
	keys := s.aliases("u.")
	return "SELECT " + strings.Join(s.readKeys(keys), ", ") +
		" FROM (" + oldSide + " UNION ALL " + newSide + ") AS u" +
		" ORDER BY " + strings.Join(keys, ", ") + " LIMIT 1"
}

// compareSQL returns the query that compares one range: the old rows of
// the range with up(old row) computed by the mapping's expressions, each
// with the new row of its key, then the new rows of the range that have no
// old row (both LEFT JOINs on the key). Parameters: for the old table the
// lower end (when lower) and the upper end (when upper), then the same for
// the new table. Each join also restricts its inner table to the range,
// which changes no result (equal keys are in the same range) and lets
// PostgreSQL read both tables as two index range scans.
//
// Each row of the result is one key: dw_old and dw_new (1 where the table
// has a row for the key, 0 where it has none), the key's columns (dw_k1,
// ...), then for each new column the up expression's value (dw_eI) and the
// new column's value (dw_nI), and last dw_same: 1 where the database itself
// finds every pair identical ([tableSQL.same]), 0 where the client must
// compare. The rows come in no order.
func (s tableSQL) compareSQL(lower, upper bool) string {
	withOld, newOnly := s.branches(lower, upper)
	return withOld + " UNION ALL " + newOnly
}

// branches returns the two parts of compareSQL: the old rows of the range
// joined with their new rows, and the new rows of the range without an old
// row. They take the same parameters.
func (s tableSQL) branches(lower, upper bool) (withOldSQL, newOnlySQL string) {
	p, again := 1, 1
	oldRange := s.rangeConds("", s.t.Key, lower, upper, &p) // in the old table's own scope
	newRange := s.rangeConds("n.", s.t.NewKey, lower, upper, &p)
	toOld := s.rangeConds("o.", s.t.Key, lower, upper, &again) // the old range again, in the join
	oldKey, newKey := s.quoteAll(s.t.Key), s.quoteAll(s.t.NewKey)

	inner := make([]string, 0, len(oldKey)+len(s.t.Columns))
	for i, c := range oldKey {
		inner = append(inner, c+" AS "+keyAlias(i))
	}
	for i, c := range s.t.Columns {
		inner = append(inner, c.Expr+" AS "+valueAlias(i))
	}
	withOld := []string{"1 AS dw_old", "CASE WHEN n." + newKey[0] + " IS NULL THEN 0 ELSE 1 END AS dw_new"}
	newOnly := []string{"0", "1"}
	toNew := slices.Clone(newRange)
	for i, k := range s.readKeys(s.aliases("o.")) {
		withOld = append(withOld, k+" AS "+keyAlias(i))
		toNew = append(toNew, "n."+newKey[i]+" = o."+keyAlias(i))
		toOld = append(toOld, "o."+oldKey[i]+" = n."+newKey[i])
	}
	newOnly = append(newOnly, s.readKeys(prefixAll("n.", newKey))...)
	same := []string{"n." + newKey[0] + " IS NOT NULL"}
	for i, c := range s.t.Columns {
		col := "n." + s.d.Quote(c.Name)
		withOld = append(withOld, "o."+valueAlias(i), col+" AS "+newAlias(i))
		newOnly = append(newOnly, "NULL", col)
		same = append(same, s.same("o."+valueAlias(i), col))
	}
	sameCol := "0"
	if s.fast {
		sameCol = "CASE WHEN " + strings.Join(same, " AND ") + " THEN 1 ELSE 0 END"
	}
	withOld = append(withOld, sameCol+" AS dw_same")
	newOnly = append(newOnly, "0")
	newTable := s.d.Quote(s.t.New) + " AS n"
	withOldSQL = "SELECT " + strings.Join(withOld, ", ") +
		" FROM (SELECT " + strings.Join(inner, ", ") + " FROM " + s.d.Quote(s.t.Old) + where(oldRange) + ") AS o" +
		" LEFT JOIN " + newTable + " ON " + strings.Join(toNew, " AND ")
	newOnlySQL = "SELECT " + strings.Join(newOnly, ", ") + " FROM " + newTable +
		" LEFT JOIN " + s.d.Quote(s.t.Old) + " AS o ON " + strings.Join(toOld, " AND ") +
		where(append(newRange, "o."+oldKey[0]+" IS NULL"))
	return withOldSQL, newOnlySQL
}

// same returns the condition under which the database finds an up value
// and a new value identical, so that they need no comparison in the client:
// the same type and the same value (NULL and NULL included). It never holds
// for values the client would find different; values of different types
// are left to the client, which compares them as the read path does.
func (s tableSQL) same(up, col string) string {
	// Text compares byte for byte (a column's NOCASE or nondeterministic
	// collation would call 'A' and 'a' identical).
	switch s.d.Name {
	case rewrite.SQLite.Name:
		return "typeof(" + up + ") = typeof(" + col + ") AND " + up + " IS " + col + " COLLATE BINARY"
	case rewrite.MySQL.Name:
		// MySQL has no type of a value to compare: the text forms,
		// byte for byte, are identical only where the client finds the
		// values equal (a number and the text of its spelling, which
		// the client also calls equal, included). = would call 'A' and
		// 'a', or 'a' and 'a ', equal in most collations.
		return "CAST(" + up + " AS BINARY) <=> CAST(" + col + " AS BINARY)"
	}
	// The text forms compare values of any one type exactly, where = might
	// call values of some types equal that print differently.
	return "pg_typeof(" + up + ") = pg_typeof(" + col + ") AND (" + up + `)::text COLLATE "C" IS NOT DISTINCT FROM (` + col + `)::text COLLATE "C"`
}

// summarySQL returns the query of one range's counts, without the
// anti-join of compareSQL: its old keys, those with a new row, those whose
// values the database finds identical (dw_same), the range's new rows, and
// whether the range's upper bound, passed back as parameters after
// compareSQL's, is a key of either table (1 without an upper bound). The
// range has new rows without an old row exactly when it has more new rows
// than old keys with a new row.
func (s tableSQL) summarySQL(lower, upper bool) string {
	withOld, _ := s.branches(lower, upper)
	p := 1 // the new table's range parameters follow the old table's
	for _, b := range []bool{lower, upper} {
		if b {
			p += len(s.t.Key)
		}
	}
	newRange := s.rangeConds("", s.t.NewKey, lower, upper, &p)
	boundSeen := "1"
	if upper {
		b := 1 + 2*len(s.t.Key)
		if lower {
			b += 2 * len(s.t.Key)
		}
		bound := tuple(s.params(&b, len(s.t.Key)))
		boundSeen = "(SELECT count(*) FROM " + s.d.Quote(s.t.Old) + " WHERE " + tuple(s.quoteAll(s.t.Key)) + " = " + bound +
			") + (SELECT count(*) FROM " + s.d.Quote(s.t.New) + " WHERE " + tuple(s.quoteAll(s.t.NewKey)) + " = " + bound + ")"
	}
	return "SELECT count(*), coalesce(sum(c.dw_new), 0), coalesce(sum(c.dw_same), 0), " +
		"(SELECT count(*) FROM " + s.d.Quote(s.t.New) + where(newRange) + "), " + boundSeen +
		" FROM (" + withOld + ") AS c"
}

// detailSQL returns the query of one range's keys that the client compares
// (dw_same = 0), in key order, with compareSQL's columns but dw_same.
func (s tableSQL) detailSQL(lower, upper bool) string {
	cols := append([]string{"c.dw_old", "c.dw_new"}, s.aliases("c.")...)
	for i := range s.t.Columns {
		cols = append(cols, "c."+valueAlias(i), "c."+newAlias(i))
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM (" + s.compareSQL(lower, upper) + ") AS c WHERE c.dw_same = 0 ORDER BY " +
		strings.Join(s.aliases("c."), ", ")
}

// rangeConds returns the conditions that restrict a table to a range of
// its key columns, written with a qualifier ("n." or ""), taking the
// parameters from *p on.
func (s tableSQL) rangeConds(qualifier string, key []string, lower, upper bool, p *int) []string {
	cols := tuple(prefixAll(qualifier, s.quoteAll(key)))
	var conds []string
	if lower {
		conds = append(conds, cols+" > "+tuple(s.params(p, len(key))))
	}
	if upper {
		conds = append(conds, cols+" <= "+tuple(s.params(p, len(key))))
	}
	return conds
}

// where returns a WHERE clause of the conditions, or "" for none.
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// readKeys returns the select list items that read key columns as stored
// ([rewrite.Dialect.AsStored]), to pass them back as range bounds.
func (s tableSQL) readKeys(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = s.d.AsStored(c)
	}
	return out
}

// aliases returns the key column aliases with a prefix: "o.dw_k1", ...
func (s tableSQL) aliases(prefix string) []string {
	out := make([]string, len(s.t.Key))
	for i := range out {
		out[i] = prefix + keyAlias(i)
	}
	return out
}

func prefixAll(prefix string, items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = prefix + it
	}
	return out
}

func (s tableSQL) quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = s.d.Quote(n)
	}
	return out
}

// params returns n parameters, numbered from *p on ([mysqlrun.Param]:
// where the dialect's parameters are positional, [mysqlrun.Args] passes
// the arguments in the order of the text).
func (s tableSQL) params(p *int, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = mysqlrun.Param(s.d, *p)
		*p++
	}
	return out
}

func keyAlias(i int) string   { return "dw_k" + strconv.Itoa(i+1) }
func valueAlias(i int) string { return "dw_e" + strconv.Itoa(i+1) }
func newAlias(i int) string   { return "dw_n" + strconv.Itoa(i+1) }

// tuple spells a row value, or the single item of a one-item list.
func tuple(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return "(" + strings.Join(items, ", ") + ")"
}
