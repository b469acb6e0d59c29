package schema

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Problem is one mismatch between the mapping and the live schema.
type Problem struct {
	// Table is the table at fault, as the database spells it (as the
	// mapping does when the table does not exist); "" for problems of the
	// database as a whole (the server's version, a setting).
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

// dialect is what the checks need to know about one database besides its
// catalog: how it compares names, how its problems are worded, and which
// checks it adds.
type dialect struct {
	sql *rewrite.Dialect // lexes and quotes; FoldName keys the maps of [rewrite.Schema]
	// fold returns a catalog name's comparison form.
	fold func(string) string
	// tableHint follows "table does not exist": where tables are looked
	// up, and how names match.
	tableHint string
	// columnHint follows "is not a column of the new table".
	columnHint string
	// keyIndex says what a unique index must be to serve as a key.
	keyIndex string
	// upsert names the mirror's upsert where it is not
	// INSERT ... ON CONFLICT (<new key>).
	upsert string
	// qualifier is put before the table name in expression checks
	// (`"schema".`), and falseLit is the WHERE clause that reads no row.
	qualifier, falseLit string
	// aggregateStates are the SQLSTATEs by which the server rejects an
	// aggregate, window or set-returning expression in WHERE; when set,
	// each expression is also checked that way.
	aggregateStates []string
	// aggregateError, where the driver's errors carry no SQLSTATE method
	// (go-sql-driver/mysql), tells the same rejections by the error
	// itself; when set, each expression is also checked that way.
	aggregateError func(error) bool
}

// catalog reads one dialect's catalog.
type catalog interface {
	// table returns the named table; nil and what the relation is instead
	// ("view"); or nil and "" when nothing has that name.
	table(name string) (t *table, kind string, err error)
	// guards fills s.Guards, and reports the triggers and rules that
	// dual writes cannot live with.
	guards(in *inspector, m *mapping.Mapping, s *rewrite.Schema) error
}

// inspector collects the problems of one inspection.
type inspector struct {
	ctx      context.Context
	q        Querier
	d        *dialect
	cat      catalog
	problems []Problem
	flipped  bool // the mapping is flipped (mapping.Mapping.Flip): its reverse need not keep any column order
}

func (in *inspector) problem(table, column, format string, args ...any) {
	in.problems = append(in.problems, Problem{Table: table, Column: column, Msg: fmt.Sprintf(format, args...)})
}

// run checks every mapping entry and computes the guards.
func (in *inspector) run(m *mapping.Mapping) (*rewrite.Schema, []Problem, error) {
	s := emptySchema()
	in.flipped = m.Flipped
	for _, t := range m.Tables {
		if err := in.checkTable(t, s); err != nil {
			return nil, nil, err
		}
	}
	if err := in.cat.guards(in, m, s); err != nil {
		return nil, nil, err
	}
	return s, in.problems, nil
}

func emptySchema() *rewrite.Schema {
	return &rewrite.Schema{OtherUnique: map[string]bool{}, ReplaceOnConflict: map[string]bool{}, Guards: map[string]rewrite.Guard{},
		Replace: map[string]*rewrite.ReplaceTargets{}, RowTriggers: map[string]string{}, KeyTypes: map[string][]string{},
		Columns: map[string][]string{}, InsertTriggers: map[string]string{}, AutoIncrement: map[string]string{},
		IntegerKeys: map[string][]bool{}, InexactKeys: map[string][]bool{}}
}

// side is one table of a mapping entry with the section that lists its
// columns: reverse for the old table, columns for the new one.
type side struct {
	name    string // "old" or "new"
	table   string // as the mapping spells it
	section string // "reverse" or "columns"
	entries []mapping.Column
	key     []string
}

// checkTable runs every check of one mapping entry.
func (in *inspector) checkTable(t *mapping.Table, s *rewrite.Schema) error {
	old := side{"old", t.Old, "reverse", t.Reverse, t.Key}
	nu := side{"new", t.New, "columns", t.Columns, t.NewKey}
	oldT, err := in.existing(old, t.Line)
	if err != nil {
		return err
	}
	newT, err := in.existing(nu, t.Line)
	if err != nil {
		return err
	}
	if oldT != nil {
		in.checkColumns(t, oldT, old, t.New)
		if !in.flipped {
			in.checkReverseOrder(t, oldT)
		}
		in.checkKey(oldT, old, t.Line)
		in.writeFacts(s, t.Old, oldT, t.Key)
	}
	if newT != nil {
		in.checkColumns(t, newT, nu, t.Old)
		in.checkKey(newT, nu, t.Line)
		// The new table's too: in the write phase both its writes are
		// planned as the old table's are in dual.
		in.writeFacts(s, t.New, newT, t.NewKey)
	}
	if err := in.checkExprs(nu, oldT); err != nil {
		return err
	}
	return in.checkExprs(old, newT)
}

// writeFacts records what the planner needs to know of a table whose
// writes it mirrors: its unique constraints besides its key, the types
// its key values are bound as, and its auto-increment column.
func (in *inspector) writeFacts(s *rewrite.Schema, name string, tbl *table, key []string) {
	if types := tbl.keyTypes(key); types != nil {
		s.KeyTypes[in.d.sql.FoldName(name)] = types
	}
	if tbl.otherUnique(key) {
		s.OtherUnique[in.d.sql.FoldName(name)] = true
		s.Replace[in.d.sql.FoldName(name)] = tbl.replaceTargets()
	}
	if tbl.replaceOnConflict {
		s.ReplaceOnConflict[in.d.sql.FoldName(name)] = true
	}
	if tbl.autoIncrement != "" {
		s.AutoIncrement[in.d.sql.FoldName(name)] = in.d.sql.FoldName(tbl.autoIncrement)
	}
	if ints := tbl.integerKey(key); ints != nil {
		s.IntegerKeys[in.d.sql.FoldName(name)] = ints
	}
	if in.d.sql.Name == rewrite.MySQL.Name {
		if inexact := tbl.inexactKey(key); inexact != nil {
			s.InexactKeys[in.d.sql.FoldName(name)] = inexact
		}
	}
	var cols []string
	for _, c := range tbl.cols {
		if !c.invisible {
			cols = append(cols, in.d.sql.FoldName(c.name))
		}
	}
	s.Columns[in.d.sql.FoldName(name)] = cols
}

// checkExprs checks the expressions of a side's section, which compute its
// columns from a row of the other side's table src (nil when it does not
// exist).
func (in *inspector) checkExprs(sd side, src *table) error {
	if src == nil {
		return nil
	}
	for _, c := range sd.entries {
		if err := in.checkExpr(sd.table, c, sd.section, src.name); err != nil {
			return err
		}
	}
	return nil
}

// existing returns the table of one side, or reports that it is missing or
// not a table.
func (in *inspector) existing(sd side, line int) (*table, error) {
	tbl, kind, err := in.cat.table(sd.table)
	switch {
	case err != nil:
		return nil, err
	case tbl == nil && kind == "":
		in.problem(sd.table, "", "%s table does not exist%s: create it, or fix `%s:` of the mapping entry at line %d", sd.name, in.d.tableHint, sd.name, line)
	case tbl == nil:
		in.problem(sd.table, "", "%s table is a %s, not a table: map the table itself (mapping line %d)", sd.name, kind, line)
	}
	return tbl, nil
}

// checkColumns compares the names of a side's mapping section with the
// table's columns, both ways. other is the other side's table.
func (in *inspector) checkColumns(t *mapping.Table, tbl *table, sd side, other string) {
	for _, e := range sd.entries {
		c, ok := tbl.col(e.Name)
		switch {
		case !ok:
			in.problem(tbl.name, e.Name, "is listed under %s (mapping line %d) but is not a column of the %s table%s: add the column to %s, or remove it from %s",
				sd.section, e.Line, sd.name, in.d.columnHint, tbl.name, sd.section)
		case sd.name == "new" && c.generated:
			in.problem(tbl.name, c.name, "is a generated column, which the mirror cannot write: remove it from columns (mapping line %d)", e.Line)
		}
	}
	for _, c := range tbl.cols {
		if sd.name == "new" && c.generated || slices.ContainsFunc(sd.entries, func(e mapping.Column) bool { return tbl.same(e.Name, c.name) }) {
			continue
		}
		in.problem(tbl.name, c.name, "%s column %s of %s is not in the mapping: add it under %s of %s -> %s with an expression over %s's columns, or drop it from the %s table",
			sd.name, c.name, tbl.name, sd.section, t.Old, t.New, other, sd.name)
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
	got := make([]string, len(t.Reverse))
	want := make([]string, len(tbl.cols))
	for i, e := range t.Reverse {
		if _, ok := tbl.col(e.Name); !ok {
			return
		}
		got[i], want[i] = e.Name, tbl.cols[i].name
		same = same && tbl.same(got[i], want[i])
	}
	if !same {
		in.problem(tbl.name, "", "reverse lists the old columns as (%s) but the table has (%s): list them in the table's order, so that SELECT * keeps its column order when reads go to the new table",
			strings.Join(got, ", "), strings.Join(want, ", "))
	}
}

// checkKey checks that a side's key names columns that are the PRIMARY KEY
// or a unique index of its table that INSERT ... ON CONFLICT can use, and
// NOT NULL (for the new key where the dialect requires it). A new key
// column that does not exist is reported by checkColumns: it is listed
// under columns.
func (in *inspector) checkKey(tbl *table, sd side, line int) {
	which := "key"
	if sd.name == "new" {
		which = "new key"
	}
	missing := false
	for _, k := range sd.key {
		c, ok := tbl.col(k)
		switch {
		case !ok && sd.name == "old":
			in.problem(tbl.name, k, "key column does not exist in the old table: fix key of the mapping entry at line %d", line)
		case ok && !c.notNull:
			// A NULL new key would escape the key ranges of backfill and verify too.
			in.problem(tbl.name, c.name, "%s column allows NULL, and a row with a NULL key cannot be mirrored: declare the column NOT NULL, or choose a NOT NULL key", which)
		case ok && c.generated && sd.name == "old":
			in.problem(tbl.name, c.name, "key column is generated, so an UPDATE of the columns it is computed from changes the key without naming it, and the mirror would keep the old key's row: choose a key that is not generated")
		}
		missing = missing || !ok
	}
	ix, found := tbl.keyIndex(sd.key)
	if missing || found && ix.unusable == "" {
		return
	}
	cols := strings.Join(sd.key, ", ")
	quoted := make([]string, len(sd.key))
	for i, k := range sd.key {
		quoted[i] = in.d.sql.Quote(k)
	}
	fix := fmt.Sprintf("create one (CREATE UNIQUE INDEX ... ON %s (%s))", in.d.sql.Quote(tbl.name), strings.Join(quoted, ", "))
	if found {
		fix = "the unique index " + ix.name + " on these columns " + ix.unusable
	}
	if sd.name == "old" {
		in.problem(tbl.name, "", "key (%s) is not unique in the old table: it must be the PRIMARY KEY or the columns of a UNIQUE index that is %s; %s, or fix key of the mapping entry at line %d",
			cols, in.d.keyIndex, fix, line)
		return
	}
	upsert := "INSERT ... ON CONFLICT (" + cols + ")"
	if in.d.upsert != "" {
		upsert = in.d.upsert
	}
	in.problem(tbl.name, "", "new key (%s) is not unique in the new table: the mirror's %s needs it to be the PRIMARY KEY or the columns of a UNIQUE index that is %s; %s",
		cols, upsert, in.d.keyIndex, fix)
}
