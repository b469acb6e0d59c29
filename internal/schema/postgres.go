package schema

import (
	"context"
	"fmt"
	"strconv"

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
// than 13 and standard_conforming_strings off, and it requires the new
// key's columns to be NOT NULL too and the unique indexes that make a key
// to be valid and not deferrable, as INSERT ... ON CONFLICT does. Guards cover cascading foreign keys,
// triggers whose function source names a guarded or mapped table (the
// bodies are not parsed: a whole-word, case-insensitive match counts),
// rules whose actions use one, automatically updatable views over one, and
// the partitions, inheritance children and ancestors of mapped tables.
func InspectPostgres(ctx context.Context, q Querier, m *mapping.Mapping) (s *rewrite.Schema, problems []Problem, err error) {
	rows, err := queryAll(ctx, q, `SELECT current_schema(), current_setting('server_version_num'), current_setting('server_version'), current_setting('standard_conforming_strings')`)
	if err != nil {
		return nil, nil, fmt.Errorf("schema: reading the PostgreSQL settings: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 4 {
		return nil, nil, fmt.Errorf("schema: reading the PostgreSQL settings: got %d rows", len(rows))
	}
	schema, versionNum, version, scs := str(rows[0][0]), str(rows[0][1]), str(rows[0][2]), str(rows[0][3])
	in := &inspector{ctx: ctx, q: q, d: postgresDialect(schema), cat: &pgCatalog{ctx: ctx, q: q, rels: map[string]*pgRel{}}}
	if n, err := strconv.Atoi(versionNum); err != nil || n < 130000 {
		// The catalog queries need PostgreSQL 13's catalog.
		in.problem("", "", "PostgreSQL 13 or later is required; this server runs %s (server_version_num %s): upgrade the server", version, versionNum)
		return emptySchema(), in.problems, nil
	}
	if scs != "on" {
		in.problem("", "", "standard_conforming_strings is %s, and dualwrite reads SQL text as PostgreSQL does with it on (backslashes in '...' are plain characters): set standard_conforming_strings = on for the database or the role", scs)
	}
	if schema == "" {
		in.problem("", "", "no schema of the search_path exists (current_schema() is NULL), so the mapped tables cannot be found: set search_path to the schema of the mapped tables")
		return emptySchema(), in.problems, nil
	}
	return in.run(m)
}

// postgresDialect compares names exactly, and looks tables up in schema,
// the current one.
func postgresDialect(schema string) *dialect {
	return &dialect{
		sql:             rewrite.Postgres,
		fold:            exact,
		tableHint:       " in schema " + schema + " (names are case-sensitive; unquoted names are stored in lower case)",
		columnHint:      " (names are case-sensitive)",
		keyIndex:        "not partial, not on an expression and not deferrable",
		qualifier:       rewrite.Postgres.Quote(schema) + ".",
		falseLit:        "false",
		aggregateStates: []string{"42803", "42P20", "0A000"}, // grouping_error, windowing_error, feature_not_supported
	}
}

// exact is PostgreSQL's comparison form of a name: the name itself.
func exact(name string) string { return name }

// pgCatalog reads the catalogs of the current schema, caching relations by
// exact name.
type pgCatalog struct {
	ctx  context.Context
	q    Querier
	rels map[string]*pgRel // nil for a name that nothing has
}

// pgRel is one relation of the current schema; t is read for ordinary and
// partitioned tables only.
type pgRel struct {
	oid  int64
	kind string // pg_class.relkind
	t    *table
}

var pgKinds = map[string]string{
	"r": "table", "p": "partitioned table", "v": "view", "m": "materialized view", "f": "foreign table",
	"S": "sequence", "i": "index", "I": "partitioned index", "c": "composite type", "t": "TOAST table",
}

// table returns the table of the current schema named exactly name, or
// what the relation of that name is instead.
func (c *pgCatalog) table(name string) (*table, string, error) {
	r, err := c.rel(name)
	if err != nil || r == nil {
		return nil, "", err
	}
	kind := pgKinds[r.kind]
	if kind == "" {
		kind = "relation of kind " + r.kind
	}
	return r.t, kind, nil
}

// rel returns the relation of the current schema named exactly name, or nil,
// reading its columns and unique indexes when it is an ordinary or a
// partitioned table. An index that is deferrable or not valid cannot be
// INSERT ... ON CONFLICT's key.
func (c *pgCatalog) rel(name string) (*pgRel, error) {
	if r, ok := c.rels[name]; ok {
		return r, nil
	}
	rows, err := queryAll(c.ctx, c.q, `SELECT c.oid, c.relname, c.relkind::text
FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("schema: looking up %s: %w", name, err)
	}
	if len(rows) == 0 {
		c.rels[name] = nil
		return nil, nil
	}
	r := &pgRel{oid: num(rows[0][0]), kind: str(rows[0][2])}
	c.rels[name] = r
	if r.kind != "r" && r.kind != "p" {
		return r, nil
	}
	t := &table{name: str(rows[0][1]), fold: exact}
	// The last column: whether the type, under any domains, is composite.
	cols, err := queryAll(c.ctx, c.q, `SELECT a.attname, a.attnotnull, a.attgenerated <> '', pg_catalog.format_type(a.atttypid, a.atttypmod),
	(WITH RECURSIVE b(typtype, base) AS (
		SELECT t.typtype, t.typbasetype FROM pg_catalog.pg_type AS t WHERE t.oid = a.atttypid
		UNION ALL
		SELECT t.typtype, t.typbasetype FROM pg_catalog.pg_type AS t JOIN b ON t.oid = b.base WHERE b.typtype = 'd'
	) SELECT coalesce(bool_or(b.typtype = 'c'), false) FROM b)
FROM pg_catalog.pg_attribute AS a
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, r.oid)
	if err != nil {
		return nil, fmt.Errorf("schema: reading the columns of %s: %w", name, err)
	}
	for _, col := range cols {
		t.cols = append(t.cols, column{name: str(col[0]), notNull: num(col[1]) != 0, generated: num(col[2]) != 0, typ: str(col[3]),
			composite: num(col[4]) != 0})
	}
	ixs, err := queryAll(c.ctx, c.q, `SELECT ic.relname, i.indpred IS NOT NULL, i.indisvalid, i.indimmediate, coalesce(a.attname, '')
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
		if n := len(t.unique); n == 0 || t.unique[n-1].name != str(x[0]) {
			ix := index{name: str(x[0]), partial: num(x[1]) != 0}
			switch {
			case num(x[3]) == 0:
				ix.unusable = "is deferrable: make it NOT DEFERRABLE"
			case num(x[2]) == 0:
				ix.unusable = "is not valid: rebuild it (REINDEX INDEX " + rewrite.Postgres.Quote(ix.name) + ")"
			}
			t.unique = append(t.unique, ix)
		}
		ix := &t.unique[len(t.unique)-1]
		ix.cols = append(ix.cols, str(x[4]))
	}
	r.t = t
	return r, nil
}
