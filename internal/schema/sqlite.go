package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// InspectSQLite checks m against the live schema on q and returns what the
// planner needs.
//
// problems lists every mismatch found, in mapping order (empty when all is
// well); the driver must refuse to dual-write while there are any. err is
// only for failures to run the inspection queries (or a cancelled ctx); s
// is nil then. The facts in s are computed even when there are problems.
func InspectSQLite(ctx context.Context, q Querier, m *mapping.Mapping) (s *rewrite.Schema, problems []Problem, err error) {
	in := &inspector{ctx: ctx, q: q, d: sqliteDialect}
	version, err := SQLiteVersion(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	if !versionAtLeast(version, 3, 35, 0) {
		in.problem("", "", "SQLite 3.35 or later is required for RETURNING; this connection runs %s: link a newer SQLite library", version)
	}
	if in.cat, err = loadSQLiteCatalog(ctx, q); err != nil {
		return nil, nil, err
	}
	return in.run(m)
}

// sqliteDialect compares names ASCII case-insensitively, as SQLite compares
// identifiers.
var sqliteDialect = &dialect{
	sql:      rewrite.SQLite,
	fold:     fold,
	keyIndex: "not partial and not on an expression",
	falseLit: "0",
}

// object is one row of sqlite_master (or of temp.sqlite_master).
type object struct {
	typ, name, tblName, sql string
}

// sqliteCatalog reads sqlite_master and the pragmas, caching tables by
// folded name.
type sqliteCatalog struct {
	ctx      context.Context
	q        Querier
	objects  map[string]object // main schema tables and views, by folded name
	triggers []object          // main and temp triggers, by name
	tables   map[string]*table
}

func loadSQLiteCatalog(ctx context.Context, q Querier) (*sqliteCatalog, error) {
	c := &sqliteCatalog{ctx: ctx, q: q, objects: map[string]object{}, tables: map[string]*table{}}
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

// table returns the columns and unique keys of a table of the main schema.
// A PRIMARY KEY column is NOT NULL in a WITHOUT ROWID table and as an
// INTEGER PRIMARY KEY that stands for the rowid (one without an index of
// its own).
func (c *sqliteCatalog) table(name string) (*table, string, error) {
	if t := c.tables[fold(name)]; t != nil {
		return t, "", nil
	}
	o, ok := c.objects[fold(name)]
	if !ok || o.typ != "table" {
		return nil, o.typ, nil
	}
	t := &table{name: o.name, replaceOnConflict: replaceOnConflict(o.sql), fold: fold}
	rows, err := queryAll(c.ctx, c.q, `SELECT name, type, "notnull", pk, hidden, dflt_value FROM pragma_table_xinfo(?, 'main') ORDER BY cid`, o.name)
	if err != nil {
		return nil, "", fmt.Errorf("schema: reading the columns of %s: %w", o.name, err)
	}
	pk := index{name: "PRIMARY KEY"}
	var pkCols []int // indexes in t.cols
	var pkType string
	for _, r := range rows {
		col := column{name: str(r[0]), notNull: num(r[2]) != 0, dflt: str(r[5])}
		switch num(r[4]) { // hidden
		case 1: // a hidden column of a virtual table
			continue
		case 2, 3:
			col.generated = true
		}
		if num(r[3]) > 0 { // its position in the PRIMARY KEY
			pk.cols = append(pk.cols, col.name)
			pkCols = append(pkCols, len(t.cols))
			pkType = str(r[1])
		}
		t.cols = append(t.cols, col)
	}
	ixs, err := queryAll(c.ctx, c.q, `SELECT name, origin, partial FROM pragma_index_list(?, 'main') WHERE "unique" ORDER BY name`, o.name)
	if err != nil {
		return nil, "", fmt.Errorf("schema: reading the indexes of %s: %w", o.name, err)
	}
	pkIndexed := false
	for _, r := range ixs {
		cols, err := queryAll(c.ctx, c.q, `SELECT name, coll FROM pragma_index_xinfo(?, 'main') WHERE key ORDER BY seqno`, str(r[0]))
		if err != nil {
			return nil, "", fmt.Errorf("schema: reading the columns of index %s: %w", str(r[0]), err)
		}
		if str(r[1]) == "pk" { // the PRIMARY KEY's own index
			pkIndexed = true
			pk.cols = pk.cols[:0] // in the index's order, beside their collations
			for _, cr := range cols {
				pk.cols = append(pk.cols, str(cr[0]))
				pk.colls = append(pk.colls, str(cr[1]))
			}
			continue
		}
		ix := index{name: str(r[0]), partial: num(r[2]) != 0}
		for _, cr := range cols {
			ix.cols = append(ix.cols, str(cr[0]))
			ix.colls = append(ix.colls, str(cr[1]))
		}
		t.unique = append(t.unique, ix)
	}
	withoutRowid := withoutRowid(o.sql)
	rowidAlias := !withoutRowid && !pkIndexed && len(pk.cols) == 1 && equalFold(strings.TrimSpace(pkType), "INTEGER")
	if rowidAlias {
		pk.colls = []string{"BINARY"} // the rowid: an integer
	}
	if len(pk.cols) > 0 {
		t.unique = append(t.unique, pk)
	}
	for _, i := range pkCols {
		t.cols[i].notNull = t.cols[i].notNull || withoutRowid || rowidAlias
	}
	c.tables[fold(name)] = t
	return t, "", nil
}

// foreignKeys returns the foreign keys of every table of the main schema.
// Virtual tables have none, and reading them could need a module that this
// build of SQLite lacks.
func (c *sqliteCatalog) foreignKeys() ([]foreignKey, error) {
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
			last.cols = append(last.cols, str(r[3]))
			continue
		}
		fks = append(fks, foreignKey{
			child: str(r[0]), parent: str(r[2]), cols: []string{str(r[3])},
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

func equalFold(a, b string) bool { return fold(a) == fold(b) }
