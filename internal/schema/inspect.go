package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Problem is one mismatch between the mapping and the live schema.
type Problem struct {
	// Table is the table at fault, as the database spells it (as the
	// mapping does when the table does not exist); "" for problems of the
	// database as a whole (the SQLite version).
	Table string
	// Column is the column at fault, or "" for a problem of the table.
	Column string
	// Msg says what is wrong and how to fix it. It does not repeat Table and
	// Column; [Problem.Error] puts them in front.
	Msg string
}

// Error returns the problem as "table.column: msg", "table: msg" or "msg".
func (p Problem) Error() string {
	switch {
	case p.Table == "":
		return p.Msg
	case p.Column == "":
		return p.Table + ": " + p.Msg
	}
	return p.Table + "." + p.Column + ": " + p.Msg
}

// InspectSQLite checks m against the live schema on q and returns what the
// planner needs.
//
// problems lists every mismatch found, in mapping order (empty when all is
// well); the driver must refuse to dual-write while there are any. err is
// only for failures to run the inspection queries (or a cancelled ctx); s
// is nil then. The facts in s are computed even when there are problems.
func InspectSQLite(ctx context.Context, q Querier, m *mapping.Mapping) (s *rewrite.Schema, problems []Problem, err error) {
	in := &inspector{ctx: ctx, q: q}
	version, err := SQLiteVersion(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	if !versionAtLeast(version, 3, 35, 0) {
		in.problem("", "", "SQLite 3.35 or later is required for RETURNING; this connection runs %s: link a newer SQLite library", version)
	}
	if in.cat, err = loadCatalog(ctx, q); err != nil {
		return nil, nil, err
	}
	s = &rewrite.Schema{OtherUnique: map[string]bool{}, ReplaceOnConflict: map[string]bool{}, Guards: map[string]rewrite.Guard{}}
	for _, t := range m.Tables {
		if err := in.checkTable(t, s); err != nil {
			return nil, nil, err
		}
	}
	if err := in.guards(m, s); err != nil {
		return nil, nil, err
	}
	return s, in.problems, nil
}

// inspector collects the problems of one inspection.
type inspector struct {
	ctx      context.Context
	q        Querier
	cat      *catalog
	problems []Problem
}

func (in *inspector) problem(table, column, format string, args ...any) {
	in.problems = append(in.problems, Problem{Table: table, Column: column, Msg: fmt.Sprintf(format, args...)})
}

// checkTable runs every check of one mapping entry.
func (in *inspector) checkTable(t *mapping.Table, s *rewrite.Schema) error {
	oldT, err := in.existing(t.Old, "old", t.Line)
	if err != nil {
		return err
	}
	newT, err := in.existing(t.New, "new", t.Line)
	if err != nil {
		return err
	}
	if oldT != nil {
		in.checkColumns(t, oldT, "old", t.Reverse, "reverse", t.New)
		in.checkReverseOrder(t, oldT)
		in.checkOldKey(t, oldT)
		if oldT.otherUnique(t.Key) {
			s.OtherUnique[rewrite.SQLite.FoldName(t.Old)] = true
		}
		if o, _ := in.cat.object(t.Old); replaceOnConflict(o.sql) {
			s.ReplaceOnConflict[rewrite.SQLite.FoldName(t.Old)] = true
		}
	}
	if newT != nil {
		in.checkColumns(t, newT, "new", t.Columns, "columns", t.Old)
		in.checkNewKey(t, newT)
	}
	if oldT != nil {
		for _, c := range t.Columns {
			if err := in.checkExpr(t.New, c, "columns", oldT.name); err != nil {
				return err
			}
		}
	}
	if newT != nil {
		for _, c := range t.Reverse {
			if err := in.checkExpr(t.Old, c, "reverse", newT.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// existing returns the named table, or reports that it is missing or a view.
func (in *inspector) existing(name, side string, line int) (*table, error) {
	o, ok := in.cat.object(name)
	if !ok {
		in.problem(name, "", "%s table does not exist: create it, or fix `%s:` of the mapping entry at line %d", side, side, line)
		return nil, nil
	}
	if o.typ != "table" {
		in.problem(name, "", "%s table is a %s, not a table: map the table itself (mapping line %d)", side, o.typ, line)
		return nil, nil
	}
	return in.cat.table(name)
}

// checkColumns compares the names of a mapping section (columns for the new
// table, reverse for the old one) with the table's columns, both ways.
func (in *inspector) checkColumns(t *mapping.Table, tbl *table, side string, entries []mapping.Column, section, other string) {
	for _, e := range entries {
		c, ok := tbl.col(e.Name)
		switch {
		case !ok:
			in.problem(tbl.name, e.Name, "is listed under %s (mapping line %d) but is not a column of the %s table: add the column to %s, or remove it from %s",
				section, e.Line, side, tbl.name, section)
		case side == "new" && c.generated():
			in.problem(tbl.name, c.name, "is a generated column, which the mirror cannot write: remove it from columns (mapping line %d)", e.Line)
		}
	}
	for _, c := range tbl.cols {
		if side == "new" && c.generated() {
			continue
		}
		if !hasEntry(entries, c.name) {
			in.problem(tbl.name, c.name, "%s column %s of %s is not in the mapping: add it under %s of %s -> %s with an expression over %s's columns, or drop it from the %s table",
				side, c.name, tbl.name, section, t.Old, t.New, other, side)
		}
	}
}

// checkReverseOrder reports a reverse section that lists exactly the old
// columns but in another order: reads from the new table would change the
// column order of SELECT *.
func (in *inspector) checkReverseOrder(t *mapping.Table, tbl *table) {
	if len(t.Reverse) != len(tbl.cols) {
		return
	}
	same := true
	for _, e := range t.Reverse {
		if _, ok := tbl.col(e.Name); !ok {
			return
		}
	}
	for i, e := range t.Reverse {
		same = same && equalFold(e.Name, tbl.cols[i].name)
	}
	if same {
		return
	}
	got := make([]string, len(t.Reverse))
	want := make([]string, len(tbl.cols))
	for i := range got {
		got[i], want[i] = t.Reverse[i].Name, tbl.cols[i].name
	}
	in.problem(tbl.name, "", "reverse lists the old columns as (%s) but the table has (%s): list them in the table's order, so that SELECT * keeps its column order when reads go to the new table",
		strings.Join(got, ", "), strings.Join(want, ", "))
}

// checkOldKey checks that the key names existing NOT NULL columns that are
// the PRIMARY KEY or a UNIQUE index of the old table.
func (in *inspector) checkOldKey(t *mapping.Table, tbl *table) {
	missing := false
	for _, k := range t.Key {
		c, ok := tbl.col(k)
		if !ok {
			in.problem(tbl.name, k, "key column does not exist in the old table: fix key of the mapping entry at line %d", t.Line)
			missing = true
			continue
		}
		if !tbl.notNull(c) {
			in.problem(tbl.name, c.name, "key column allows NULL, and a row with a NULL key cannot be mirrored: declare the column NOT NULL, or choose a NOT NULL key")
		}
	}
	if !missing && !tbl.uniqueOn(t.Key) {
		key := strings.Join(t.Key, ", ")
		in.problem(tbl.name, "", "key (%s) is not unique in the old table: it must be the PRIMARY KEY or the columns of a UNIQUE index that is not partial; create one (CREATE UNIQUE INDEX ... ON %s (%s)) or fix key of the mapping entry at line %d",
			key, tbl.name, key, t.Line)
	}
}

// checkNewKey checks that the new key is the PRIMARY KEY or a UNIQUE index
// of the new table, as INSERT ... ON CONFLICT (new key) requires.
func (in *inspector) checkNewKey(t *mapping.Table, tbl *table) {
	for _, k := range t.NewKey {
		if _, ok := tbl.col(k); !ok {
			return // reported by checkColumns: the key is under columns
		}
	}
	if !tbl.uniqueOn(t.NewKey) {
		key := strings.Join(t.NewKey, ", ")
		in.problem(tbl.name, "", "new key (%s) is not unique in the new table: the mirror's INSERT ... ON CONFLICT (%s) needs it to be the PRIMARY KEY or the columns of a UNIQUE index that is not partial; create one (CREATE UNIQUE INDEX ... ON %s (%s))",
			key, key, tbl.name, key)
	}
}

func hasEntry(entries []mapping.Column, name string) bool {
	for _, e := range entries {
		if equalFold(e.Name, name) {
			return true
		}
	}
	return false
}

// replaceOnConflict reports whether a CREATE TABLE statement declares a
// constraint ON CONFLICT REPLACE, which makes plain INSERTs and UPDATEs
// delete conflicting rows. Text that does not lex counts as declaring one.
func replaceOnConflict(createSQL string) bool {
	toks, err := rewrite.SQLite.Lex(createSQL)
	if err != nil {
		return true
	}
	word := func(i int, w string) bool {
		return i < len(toks) && toks[i].Kind == rewrite.Word && strings.EqualFold(toks[i].Text(createSQL), w)
	}
	for i := range toks {
		if word(i, "ON") && word(i+1, "CONFLICT") && word(i+2, "REPLACE") {
			return true
		}
	}
	return false
}
