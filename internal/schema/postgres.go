package schema

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// InspectPostgres checks m against the live PostgreSQL schema on q (a
// connection of the pgx stdlib driver, or any driver that returns text,
// int64 and bool values and takes $1 placeholders) and returns what the
// planner needs. The contract is [InspectSQLite]'s: problems lists every
// mismatch in mapping order; err is only for failures to run the
// inspection queries (or a cancelled ctx), and s is nil then.
//
// Names are compared exactly: PostgreSQL stores unquoted names in lower
// case and compares stored names case-sensitively, so a mapping names a
// table created as users as users, and one created as "Users" as "Users".
// The mapping's plain names are looked up in current_schema(), the first
// existing schema of search_path; the keys of the returned maps are the
// names exactly as the catalog and the mapping spell them.
//
// Beyond the checks of [InspectSQLite] (with PostgreSQL's notion of a
// table: an ordinary or a partitioned one), it reports rules on mapped
// tables, triggers on new tables that name a mapped table, a server older
// than 13 and standard_conforming_strings off, and it requires the unique
// indexes that make a key to be valid and not deferrable, as
// INSERT ... ON CONFLICT does. Guards cover cascading foreign keys,
// triggers whose function source names a guarded or mapped table (the
// bodies are not parsed: a whole-word, case-insensitive match counts),
// rules whose actions use one, automatically updatable views over one, and
// the partitions, inheritance children and ancestors of mapped tables.
func InspectPostgres(ctx context.Context, q Querier, m *mapping.Mapping) (s *rewrite.Schema, problems []Problem, err error) {
	in := &pgInspector{ctx: ctx, q: q, rels: map[string]*pgRel{}}
	rows, err := queryAll(ctx, q, `SELECT current_schema(), current_setting('server_version_num'), current_setting('server_version'), current_setting('standard_conforming_strings')`)
	if err != nil {
		return nil, nil, fmt.Errorf("schema: reading the PostgreSQL settings: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 4 {
		return nil, nil, fmt.Errorf("schema: reading the PostgreSQL settings: got %d rows", len(rows))
	}
	in.schema = str(rows[0][0])
	versionNum, version, scs := str(rows[0][1]), str(rows[0][2]), str(rows[0][3])
	s = &rewrite.Schema{OtherUnique: map[string]bool{}, ReplaceOnConflict: map[string]bool{}, Guards: map[string]rewrite.Guard{}}
	if n, err := strconv.Atoi(versionNum); err != nil || n < 130000 {
		// The catalog queries below need PostgreSQL 13's catalog.
		in.problem("", "", "PostgreSQL 13 or later is required; this server runs %s (server_version_num %s): upgrade the server", version, versionNum)
		return s, in.problems, nil
	}
	if scs != "on" {
		in.problem("", "", "standard_conforming_strings is %s, and dualwrite reads SQL text as PostgreSQL does with it on (backslashes in '...' are plain characters): set standard_conforming_strings = on for the database or the role", scs)
	}
	if in.schema == "" {
		in.problem("", "", "no schema of the search_path exists (current_schema() is NULL), so the mapped tables cannot be found: set search_path to the schema of the mapped tables")
		return s, in.problems, nil
	}
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

// pgInspector collects the problems of one PostgreSQL inspection.
type pgInspector struct {
	ctx      context.Context
	q        Querier
	schema   string            // current_schema()
	rels     map[string]*pgRel // relations of the current schema by exact name; nil when absent
	problems []Problem
}

func (in *pgInspector) problem(table, column, format string, args ...any) {
	in.problems = append(in.problems, Problem{Table: table, Column: column, Msg: fmt.Sprintf(format, args...)})
}

// pgRel is one relation of the current schema; cols and unique are read
// for ordinary and partitioned tables only.
type pgRel struct {
	oid    int64
	name   string
	kind   string // pg_class.relkind
	cols   []pgColumn
	unique []pgIndex
}

// pgColumn is one live column (attnum > 0, not dropped), in attnum order.
type pgColumn struct {
	name      string
	notNull   bool
	generated bool
}

// pgIndex is one unique index. An expression in it is "" in cols, so that
// it matches no column set.
type pgIndex struct {
	name                               string
	primary, partial, valid, immediate bool
	cols                               []string
}

// key reports whether the index makes cols (any order) a key that
// INSERT ... ON CONFLICT can use: not partial, valid, not deferrable, on
// exactly those columns.
func (ix pgIndex) key(cols []string) bool {
	return !ix.partial && ix.valid && ix.immediate && sameSet(ix.cols, cols)
}

func (r *pgRel) col(name string) (pgColumn, bool) {
	for _, c := range r.cols {
		if c.name == name {
			return c, true
		}
	}
	return pgColumn{}, false
}

// uniqueOn reports whether some unique index (the primary key's included)
// makes cols a key.
func (r *pgRel) uniqueOn(cols []string) bool {
	return slices.ContainsFunc(r.unique, func(ix pgIndex) bool { return ix.key(cols) })
}

// otherUnique reports whether a unique index, partial or not, is on
// columns other than exactly cols.
func (r *pgRel) otherUnique(cols []string) bool {
	return slices.ContainsFunc(r.unique, func(ix pgIndex) bool { return !sameSet(ix.cols, cols) })
}

// sameSet reports whether a and b hold the same names, compared exactly.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

var pgKinds = map[string]string{
	"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table",
	"S": "sequence", "i": "index", "I": "partitioned index", "c": "composite type", "t": "TOAST table",
}

// rel returns the relation of the current schema named exactly name, or
// nil, reading its columns and unique indexes when it is a table.
func (in *pgInspector) rel(name string) (*pgRel, error) {
	if r, ok := in.rels[name]; ok {
		return r, nil
	}
	rows, err := queryAll(in.ctx, in.q, `SELECT c.oid, c.relname, c.relkind::text
FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("schema: looking up %s: %w", name, err)
	}
	if len(rows) == 0 {
		in.rels[name] = nil
		return nil, nil
	}
	r := &pgRel{oid: num(rows[0][0]), name: str(rows[0][1]), kind: str(rows[0][2])}
	in.rels[name] = r
	if r.kind != "r" && r.kind != "p" {
		return r, nil
	}
	cols, err := queryAll(in.ctx, in.q, `SELECT a.attname, a.attnotnull, a.attgenerated <> ''
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, r.oid)
	if err != nil {
		return nil, fmt.Errorf("schema: reading the columns of %s: %w", name, err)
	}
	for _, c := range cols {
		r.cols = append(r.cols, pgColumn{name: str(c[0]), notNull: num(c[1]) != 0, generated: num(c[2]) != 0})
	}
	ixs, err := queryAll(in.ctx, in.q, `SELECT ic.relname, i.indisprimary, i.indpred IS NOT NULL, i.indisvalid, i.indimmediate, coalesce(a.attname, '')
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
WHERE i.indrelid = $1 AND i.indisunique AND k.ord <= i.indnkeyatts
ORDER BY ic.relname, k.ord`, r.oid)
	if err != nil {
		return nil, fmt.Errorf("schema: reading the indexes of %s: %w", name, err)
	}
	for _, x := range ixs {
		if n := len(r.unique); n == 0 || r.unique[n-1].name != str(x[0]) {
			r.unique = append(r.unique, pgIndex{name: str(x[0]), primary: num(x[1]) != 0, partial: num(x[2]) != 0,
				valid: num(x[3]) != 0, immediate: num(x[4]) != 0})
		}
		ix := &r.unique[len(r.unique)-1]
		ix.cols = append(ix.cols, str(x[5]))
	}
	return r, nil
}

// checkTable runs every check of one mapping entry.
func (in *pgInspector) checkTable(t *mapping.Table, s *rewrite.Schema) error {
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
		in.checkKey(oldT, t.Key, "key", t.Line)
		if oldT.otherUnique(t.Key) {
			s.OtherUnique[t.Old] = true
		}
	}
	if newT != nil {
		in.checkColumns(t, newT, "new", t.Columns, "columns", t.Old)
		in.checkKey(newT, t.NewKey, "new key", t.Line)
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

// existing returns the named table, or reports that it is missing or not
// a table.
func (in *pgInspector) existing(name, side string, line int) (*pgRel, error) {
	r, err := in.rel(name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		in.problem(name, "", "%s table does not exist in schema %s (names are case-sensitive; unquoted names are stored in lower case): create it, or fix `%s:` of the mapping entry at line %d",
			side, in.schema, side, line)
		return nil, nil
	}
	if r.kind != "r" && r.kind != "p" {
		kind := pgKinds[r.kind]
		if kind == "" {
			kind = "relation of kind " + r.kind
		}
		in.problem(name, "", "%s table is a %s, not a table: map the table itself (mapping line %d)", side, kind, line)
		return nil, nil
	}
	return r, nil
}

// checkColumns compares the names of a mapping section (columns for the new
// table, reverse for the old one) with the table's columns, both ways.
func (in *pgInspector) checkColumns(t *mapping.Table, r *pgRel, side string, entries []mapping.Column, section, other string) {
	for _, e := range entries {
		c, ok := r.col(e.Name)
		switch {
		case !ok:
			in.problem(r.name, e.Name, "is listed under %s (mapping line %d) but is not a column of the %s table (names are case-sensitive): add the column to %s, or remove it from %s",
				section, e.Line, side, r.name, section)
		case side == "new" && c.generated:
			in.problem(r.name, c.name, "is a generated column, which the mirror cannot write: remove it from columns (mapping line %d)", e.Line)
		}
	}
	for _, c := range r.cols {
		if side == "new" && c.generated {
			continue
		}
		if !slices.ContainsFunc(entries, func(e mapping.Column) bool { return e.Name == c.name }) {
			in.problem(r.name, c.name, "%s column %s of %s is not in the mapping: add it under %s of %s -> %s with an expression over %s's columns, or drop it from the %s table",
				side, c.name, r.name, section, t.Old, t.New, other, side)
		}
	}
}

// checkReverseOrder reports a reverse section that lists exactly the old
// columns but in another order: reads from the new table would change the
// column order of SELECT *.
func (in *pgInspector) checkReverseOrder(t *mapping.Table, r *pgRel) {
	if len(t.Reverse) != len(r.cols) {
		return
	}
	same := true
	got := make([]string, len(t.Reverse))
	want := make([]string, len(r.cols))
	for i, e := range t.Reverse {
		if _, ok := r.col(e.Name); !ok {
			return
		}
		got[i], want[i] = e.Name, r.cols[i].name
		same = same && got[i] == want[i]
	}
	if !same {
		in.problem(r.name, "", "reverse lists the old columns as (%s) but the table has (%s): list them in the table's order, so that SELECT * keeps its column order when reads go to the new table",
			strings.Join(got, ", "), strings.Join(want, ", "))
	}
}

// checkKey checks that key names NOT NULL columns that are the PRIMARY KEY
// or the columns of a UNIQUE index of r that is not partial, not on an
// expression, valid and not deferrable. which is "key" (the old table) or
// "new key", which INSERT ... ON CONFLICT (new key) needs.
func (in *pgInspector) checkKey(r *pgRel, key []string, which string, line int) {
	for _, k := range key {
		c, ok := r.col(k)
		if !ok {
			if which == "key" {
				in.problem(r.name, k, "key column does not exist in the old table: fix key of the mapping entry at line %d", line)
			}
			return // a new key column is under columns, where it is reported
		}
		if !c.notNull {
			in.problem(r.name, c.name, "%s column allows NULL, and a row with a NULL key cannot be mirrored: declare the column NOT NULL", which)
		}
	}
	if r.uniqueOn(key) {
		return
	}
	cols := strings.Join(key, ", ")
	quoted := make([]string, len(key))
	for i, k := range key {
		quoted[i] = rewrite.Postgres.Quote(k)
	}
	fix := fmt.Sprintf("create one (CREATE UNIQUE INDEX ... ON %s (%s))", rewrite.Postgres.Quote(r.name), strings.Join(quoted, ", "))
	if slices.ContainsFunc(r.unique, func(ix pgIndex) bool { return sameSet(ix.cols, key) && !ix.partial }) {
		fix = "the unique index on these columns is deferrable or not valid; make it NOT DEFERRABLE, or rebuild it (REINDEX)"
	}
	if which == "key" {
		in.problem(r.name, "", "key (%s) is not unique in the old table: it must be the PRIMARY KEY or the columns of a UNIQUE index that is not partial, not on an expression and not deferrable; %s, or fix key of the mapping entry at line %d",
			cols, fix, line)
		return
	}
	in.problem(r.name, "", "new key (%s) is not unique in the new table: the mirror's INSERT ... ON CONFLICT (%s) needs it to be the PRIMARY KEY or the columns of a UNIQUE index that is not partial, not on an expression and not deferrable; %s",
		cols, cols, fix)
}

// pgSQLState is implemented by the errors of pgx (*pgconn.PgError).
type pgSQLState interface{ SQLState() string }

// checkExpr checks that the expression of entry c of a mapping section
// computes one value from one row of table src: it runs
// SELECT (<expr>) FROM "schema"."src" WHERE false, then
// SELECT 1 FROM ... WHERE false AND (<expr>) IS NULL, which PostgreSQL
// rejects when the expression aggregates rows or holds a window or
// set-returning function. Both are plain read-only statements run in
// autocommit; a failure leaves nothing behind. Before running anything it
// makes sure, with the PostgreSQL lexer of package rewrite, that the text is
// one balanced expression without placeholders or semicolons (pgx sends
// statements without arguments through the extended protocol, which runs
// one statement only, but a connection configured for the simple protocol
// would run several).
func (in *pgInspector) checkExpr(defined string, c mapping.Column, section, src string) error {
	where := fmt.Sprintf("expression `%s` (%s, mapping line %d)", c.Expr, section, c.Line)
	from := rewrite.Postgres.Quote(in.schema) + "." + rewrite.Postgres.Quote(src)
	head := "SELECT ("
	query := head + c.Expr + "\n) FROM " + from + " WHERE false"
	if msg := singleExpr(rewrite.Postgres, query, len(head), len(head)+len(c.Expr)+1); msg != "" {
		in.problem(defined, c.Name, "%s %s", where, msg)
		return nil
	}
	invalid := func(err error) error {
		if cerr := in.ctx.Err(); cerr != nil {
			return fmt.Errorf("schema: checking %s.%s: %w", defined, c.Name, cerr)
		}
		in.problem(defined, c.Name, "%s is not valid over %s: %v; fix it under %s", where, src, err, section)
		return nil
	}
	rows, err := queryAll(in.ctx, in.q, query)
	if err != nil {
		return invalid(err)
	}
	if len(rows) > 0 {
		in.problem(defined, c.Name, "%s aggregates rows: it must compute one value from one row of %s; fix it under %s", where, src, section)
		return nil
	}
	if _, err := queryAll(in.ctx, in.q, "SELECT 1 FROM "+from+" WHERE false AND ((\n"+c.Expr+"\n) IS NULL)"); err != nil {
		var st pgSQLState
		if !asSQLState(err, &st) || in.ctx.Err() != nil {
			return invalid(err)
		}
		switch st.SQLState() {
		case "42803", "42P20", "0A000": // grouping_error, windowing_error, feature_not_supported
			in.problem(defined, c.Name, "%s is an aggregate, window or set-returning computation (%v): it must compute one value from one row of %s; fix it under %s", where, err, src, section)
			return nil
		}
		return invalid(err)
	}
	return nil
}

func asSQLState(err error, target *pgSQLState) bool {
	for err != nil {
		if s, ok := err.(pgSQLState); ok {
			*target = s
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
