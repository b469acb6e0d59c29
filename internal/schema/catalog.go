package schema

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dualwrite/dualwrite/rewrite"
)

// object is one row of sqlite_master (or of temp.sqlite_master).
type object struct {
	typ, name, tblName, sql string
}

// column is one row of pragma_table_xinfo.
type column struct {
	name, typ string
	notNull   bool
	pk        int // 1-based position in the PRIMARY KEY, 0 when not in it
	hidden    int // 0 ordinary, 1 hidden (virtual tables), 2 and 3 generated
}

func (c column) generated() bool { return c.hidden == 2 || c.hidden == 3 }

// index is one unique index of a table with its columns, folded; an
// expression in the index is "" so that it matches no column set.
type index struct {
	name    string
	origin  string // "c" CREATE INDEX, "u" UNIQUE constraint, "pk" PRIMARY KEY
	partial bool
	cols    []string
}

// table is what the catalog says about one table.
type table struct {
	name         string
	cols         []column // visible columns (not hidden), in table order
	pk           []string // PRIMARY KEY columns, folded, in key order
	unique       []index
	withoutRowid bool
}

// col returns the column with the given name.
func (t *table) col(name string) (column, bool) {
	for _, c := range t.cols {
		if equalFold(c.name, name) {
			return c, true
		}
	}
	return column{}, false
}

// rowidAlias reports whether the PRIMARY KEY is an INTEGER PRIMARY KEY
// column that stands for the rowid: it has no index of its own.
func (t *table) rowidAlias() bool {
	if t.withoutRowid || len(t.pk) != 1 {
		return false
	}
	for _, ix := range t.unique {
		if ix.origin == "pk" {
			return false
		}
	}
	c, _ := t.col(t.pk[0])
	return equalFold(strings.TrimSpace(c.typ), "INTEGER")
}

// notNull reports whether SQLite keeps column c free of NULLs.
func (t *table) notNull(c column) bool {
	return c.notNull || c.pk > 0 && (t.withoutRowid || t.rowidAlias())
}

// uniqueOn reports whether cols (any order) are exactly the PRIMARY KEY or
// the columns of a non-partial unique index.
func (t *table) uniqueOn(cols []string) bool {
	set := foldSet(cols)
	if len(t.pk) > 0 && slices.Equal(foldSet(t.pk), set) {
		return true
	}
	for _, ix := range t.unique {
		if !ix.partial && slices.Equal(foldSet(ix.cols), set) {
			return true
		}
	}
	return false
}

// otherUnique reports whether the table has a PRIMARY KEY or a unique index,
// partial or not, whose columns are not exactly cols.
func (t *table) otherUnique(cols []string) bool {
	set := foldSet(cols)
	if len(t.pk) > 0 && !slices.Equal(foldSet(t.pk), set) {
		return true
	}
	for _, ix := range t.unique {
		if !slices.Equal(foldSet(ix.cols), set) {
			return true
		}
	}
	return false
}

// catalog reads sqlite_master and the pragmas, caching tables by folded name.
type catalog struct {
	ctx      context.Context
	q        Querier
	objects  map[string]object // main schema tables and views, by folded name
	triggers []object          // main and temp triggers, by name
	tables   map[string]*table
}

func loadCatalog(ctx context.Context, q Querier) (*catalog, error) {
	c := &catalog{ctx: ctx, q: q, objects: map[string]object{}, tables: map[string]*table{}}
	const cols = `SELECT type, name, tbl_name, sql FROM %s.sqlite_master WHERE type IN ('table', 'view', 'trigger') ORDER BY type, name`
	for _, db := range []string{"main", "temp"} {
		rows, err := queryAll(ctx, q, fmt.Sprintf(cols, db))
		if err != nil {
			return nil, fmt.Errorf("schema: reading %s.sqlite_master: %w", db, err)
		}
		for _, r := range rows {
			o := object{typ: str(r[0]), name: str(r[1]), tblName: str(r[2]), sql: str(r[3])}
			switch {
			case o.typ == "trigger":
				c.triggers = append(c.triggers, o)
			case db == "main":
				c.objects[fold(o.name)] = o
			}
		}
	}
	return c, nil
}

// object returns the main-schema table or view with the given name.
func (c *catalog) object(name string) (object, bool) {
	o, ok := c.objects[fold(name)]
	return o, ok
}

// table returns the columns and unique keys of an existing table.
func (c *catalog) table(name string) (*table, error) {
	if t := c.tables[fold(name)]; t != nil {
		return t, nil
	}
	o, ok := c.object(name)
	if !ok || o.typ != "table" {
		return nil, fmt.Errorf("schema: %s is not a table", name)
	}
	t := &table{name: o.name, withoutRowid: withoutRowid(o.sql)}
	rows, err := queryAll(c.ctx, c.q, `SELECT name, type, "notnull", pk, hidden FROM pragma_table_xinfo(?, 'main') ORDER BY cid`, o.name)
	if err != nil {
		return nil, fmt.Errorf("schema: reading the columns of %s: %w", o.name, err)
	}
	type pkCol struct {
		pos  int
		name string
	}
	var pk []pkCol
	for _, r := range rows {
		col := column{name: str(r[0]), typ: str(r[1]), notNull: num(r[2]) != 0, pk: int(num(r[3])), hidden: int(num(r[4]))}
		if col.hidden == 1 {
			continue
		}
		t.cols = append(t.cols, col)
		if col.pk > 0 {
			pk = append(pk, pkCol{col.pk, fold(col.name)})
		}
	}
	slices.SortFunc(pk, func(a, b pkCol) int { return a.pos - b.pos })
	for _, p := range pk {
		t.pk = append(t.pk, p.name)
	}
	ixs, err := queryAll(c.ctx, c.q, `SELECT name, origin, partial FROM pragma_index_list(?, 'main') WHERE "unique" ORDER BY name`, o.name)
	if err != nil {
		return nil, fmt.Errorf("schema: reading the indexes of %s: %w", o.name, err)
	}
	for _, r := range ixs {
		ix := index{name: str(r[0]), origin: str(r[1]), partial: num(r[2]) != 0}
		cols, err := queryAll(c.ctx, c.q, `SELECT name FROM pragma_index_info(?, 'main') ORDER BY seqno`, ix.name)
		if err != nil {
			return nil, fmt.Errorf("schema: reading the columns of index %s: %w", ix.name, err)
		}
		for _, cr := range cols {
			ix.cols = append(ix.cols, fold(str(cr[0])))
		}
		t.unique = append(t.unique, ix)
	}
	c.tables[fold(name)] = t
	return t, nil
}

// foreignKey is one foreign key constraint of a child table.
type foreignKey struct {
	child, parent      string
	from               []string
	onUpdate, onDelete string
}

// foreignKeys returns the foreign keys of every table of the main schema.
// Virtual tables have none, and reading them could need a module that this
// build of SQLite lacks.
func (c *catalog) foreignKeys() ([]foreignKey, error) {
	rows, err := queryAll(c.ctx, c.q, `SELECT m.name, f.id, f."table", f."from", f.on_update, f.on_delete
FROM main.sqlite_master AS m, pragma_foreign_key_list(m.name, 'main') AS f
WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY m.name, f.id, f.seq`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading foreign keys: %w", err)
	}
	var fks []foreignKey
	for i, r := range rows {
		if i > 0 && str(r[0]) == str(rows[i-1][0]) && num(r[1]) == num(rows[i-1][1]) {
			last := &fks[len(fks)-1]
			last.from = append(last.from, str(r[3]))
			continue
		}
		fks = append(fks, foreignKey{
			child: str(r[0]), parent: str(r[2]), from: []string{str(r[3])},
			onUpdate: strings.ToUpper(str(r[4])), onDelete: strings.ToUpper(str(r[5])),
		})
	}
	return fks, nil
}

// withoutRowid reports whether a CREATE TABLE statement ends with the
// WITHOUT ROWID option.
func withoutRowid(sql string) bool {
	toks, err := rewrite.SQLite.Lex(sql)
	if err != nil {
		return false
	}
	depth := 0
	for i, t := range toks {
		switch t.Kind {
		case rewrite.LParen:
			depth++
		case rewrite.RParen:
			depth--
		case rewrite.Word:
			if depth == 0 && i+1 < len(toks) && equalFold(t.Text(sql), "WITHOUT") &&
				toks[i+1].Kind == rewrite.Word && equalFold(toks[i+1].Text(sql), "ROWID") {
				return true
			}
		}
	}
	return false
}

// fold returns name with ASCII letters lower-cased, as SQLite compares
// identifiers.
func fold(name string) string {
	b := []byte(name)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func equalFold(a, b string) bool { return len(a) == len(b) && fold(a) == fold(b) }

// foldSet returns the folded names, sorted, for comparing column sets.
func foldSet(names []string) []string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = fold(n)
	}
	slices.Sort(s)
	return slices.Compact(s)
}
