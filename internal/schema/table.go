package schema

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dualwrite/dualwrite/rewrite"
)

// table is what a dialect's catalog says about one table, in the terms the
// checks share.
type table struct {
	name   string
	cols   []column // the columns a statement sees, in table order
	unique []index  // the PRIMARY KEY and the unique indexes and constraints
	// replaceOnConflict: a constraint of the table resolves conflicts by
	// deleting rows (SQLite's ON CONFLICT REPLACE).
	replaceOnConflict bool
	// autoIncrement is the table's AUTO_INCREMENT column (MySQL), "" when
	// it has none.
	autoIncrement string
	// fold returns a name's comparison form, as the database compares
	// identifiers.
	fold func(string) string
}

// column is one column of a table.
type column struct {
	name string
	// notNull: the database keeps the column free of NULLs, by a NOT NULL
	// constraint or by the nature of its key.
	notNull   bool
	generated bool
	// invisible: a statement that names no columns leaves it out (MySQL's
	// INVISIBLE columns).
	invisible bool
	// dflt is the column's DEFAULT as written, "" when it has none (SQLite).
	dflt string
	// typ is the column's type as format_type spells it (PostgreSQL).
	typ string
	// composite: the column's type is a composite type, or a domain over
	// one (PostgreSQL), whose values a statement must bind with a cast.
	composite bool
}

// index is one unique index (or constraint) of a table. An expression in it
// is "" in cols, so that it matches no column set.
type index struct {
	name    string
	partial bool
	cols    []string
	// colls are the collations the index compares cols by, where the
	// catalog was read for them (SQLite); nil otherwise.
	colls []string
	// unusable says why INSERT ... ON CONFLICT cannot use the index as its
	// key although its columns would do, and what to do about it; "" when
	// it can.
	unusable string
}

// col returns the column with the given name.
func (t *table) col(name string) (column, bool) {
	i := slices.IndexFunc(t.cols, func(c column) bool { return t.same(c.name, name) })
	if i < 0 {
		return column{}, false
	}
	return t.cols[i], true
}

// same reports whether two names denote the same identifier.
func (t *table) same(a, b string) bool { return t.fold(a) == t.fold(b) }

// sameSet reports whether a and b hold the same names, in any order.
func (t *table) sameSet(a, b []string) bool {
	set := func(names []string) []string {
		s := make([]string, len(names))
		for i, n := range names {
			s[i] = t.fold(n)
		}
		slices.Sort(s)
		return slices.Compact(s)
	}
	return slices.Equal(set(a), set(b))
}

// keyIndex returns the non-partial unique index on exactly cols (any
// order), preferring one that INSERT ... ON CONFLICT can use.
func (t *table) keyIndex(cols []string) (index, bool) {
	var found index
	ok := false
	for _, ix := range t.unique {
		if !ix.partial && t.sameSet(ix.cols, cols) && (!ok || found.unusable != "") {
			found, ok = ix, true
		}
	}
	return found, ok
}

// otherUnique reports whether the table has a unique index, partial or not,
// whose columns are not exactly cols.
func (t *table) otherUnique(cols []string) bool {
	return slices.ContainsFunc(t.unique, func(ix index) bool { return !t.sameSet(ix.cols, cols) })
}

// replaceTargets describes the unique indexes, the key's among them, by
// which an INSERT OR REPLACE deletes rows.
func (t *table) replaceTargets() *rewrite.ReplaceTargets {
	rt := &rewrite.ReplaceTargets{}
	for _, c := range t.cols {
		if !c.generated {
			rt.Columns = append(rt.Columns, c.name)
		}
	}
	for _, ix := range t.unique {
		switch {
		case ix.partial:
			rt.Refuse = "its unique index " + ix.name + " is partial"
		case slices.Contains(ix.cols, "") || len(ix.colls) != len(ix.cols):
			rt.Refuse = "its unique index " + ix.name + " is on an expression"
		}
		if rt.Refuse != "" {
			return rt
		}
		u := make([]rewrite.UniqueColumn, len(ix.cols))
		for i, name := range ix.cols {
			c, ok := t.col(name)
			if !ok {
				rt.Refuse = "its unique index " + ix.name + " names column " + name + ", which the table does not show"
				return rt
			}
			if c.generated {
				rt.Refuse = "its unique index " + ix.name + " is on generated column " + c.name
				return rt
			}
			u[i] = rewrite.UniqueColumn{Name: c.name, Collate: ix.colls[i], Default: literal(c.dflt), NotNull: c.notNull}
		}
		rt.Unique = append(rt.Unique, u)
	}
	return rt
}

// literal returns a column default as SQL when it is a literal value, NULL
// when there is none, and "" when it is an expression.
func literal(dflt string) string {
	d := strings.TrimSpace(dflt)
	switch {
	case d == "":
		return "NULL"
	case len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' && !strings.Contains(strings.ReplaceAll(d[1:len(d)-1], "''", ""), "'"):
		return d
	}
	if _, err := strconv.ParseFloat(strings.TrimPrefix(d, "-"), 64); err == nil && !strings.ContainsAny(d, "xXiInN") {
		return d
	}
	switch strings.ToUpper(d) {
	case "NULL", "TRUE", "FALSE":
		return d
	}
	return ""
}

// keyTypes returns the types the key columns' values are bound as, one
// per key column, "" for a column bound without a cast; nil when none
// needs one.
// integerKey returns, for MySQL, which key columns are of an integer
// type (TINYINT to BIGINT, as COLUMN_TYPE spells them), or nil for none.
func (t *table) integerKey(key []string) []bool {
	var ints []bool
	for i, k := range key {
		c, ok := t.col(k)
		if !ok {
			continue
		}
		typ := strings.ToLower(c.typ)
		for _, p := range []string{"tinyint", "smallint", "mediumint", "int", "bigint"} {
			if typ == p || strings.HasPrefix(typ, p+"(") || strings.HasPrefix(typ, p+" ") {
				if ints == nil {
					ints = make([]bool, len(key))
				}
				ints[i] = true
			}
		}
	}
	return ints
}

// inexactKey returns, for each key column, whether a value given for it
// may be stored as another value that no longer compares equal to the one
// given (MySQL's COLUMN_TYPE): every type but the integers, VARCHAR,
// VARBINARY and the TEXT and BLOB types (DECIMAL rounds, DATE drops a
// time, CHAR and BINARY pad or strip, FLOAT rounds); nil when none may.
func (t *table) inexactKey(key []string) []bool {
	var out []bool
	for i, k := range key {
		c, ok := t.col(k)
		if !ok {
			continue
		}
		typ := strings.ToLower(c.typ)
		exact := false
		for _, p := range []string{"tinyint", "smallint", "mediumint", "int", "bigint", "varchar", "varbinary",
			"tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob"} {
			exact = exact || typ == p || strings.HasPrefix(typ, p+"(") || strings.HasPrefix(typ, p+" ")
		}
		if !exact {
			if out == nil {
				out = make([]bool, len(key))
			}
			out[i] = true
		}
	}
	return out
}

func (t *table) keyTypes(key []string) []string {
	var types []string
	for i, k := range key {
		if c, ok := t.col(k); ok && c.composite {
			if types == nil {
				types = make([]string, len(key))
			}
			types[i] = c.typ
		}
	}
	return types
}
