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

// InspectMySQL checks m against the live MySQL or MariaDB schema on q (a
// connection of github.com/go-sql-driver/mysql, or any driver that returns
// text as string or []byte and integers as int64 or uint64) and returns
// what the planner needs. The contract is [InspectSQLite]'s: problems
// lists the server's (its version, its sql_mode), then every mismatch in
// mapping order, then the storage engines, triggers, routines and events
// at fault; err is only for failures to run the inspection queries (or a
// cancelled ctx), and s is nil then. Its queries take no arguments: the
// driver runs queries with arguments only through prepared statements,
// which a driver-level connection does not make.
//
// The mapping's plain names are looked up in the current database
// (DATABASE()). Table names are compared as the server compares them:
// exactly when lower_case_table_names is 0 (the default on Linux, where a
// table is a file whose name is case-sensitive), case-insensitively
// otherwise; column names are always compared case-insensitively. The
// keys of the returned maps are folded with [rewrite.MySQL.FoldName].
//
// Beyond the checks of [InspectSQLite] (a table is a BASE TABLE, or a
// MariaDB SYSTEM VERSIONED one), it reports a server older than MariaDB
// 10.5 or MySQL 8.0, an sql_mode with ANSI_QUOTES or NO_BACKSLASH_ESCAPES
// or without strict mode, mapped tables whose storage engine is not
// InnoDB, unique indexes on a column prefix as keys, triggers on new
// tables that name a mapped table, and enabled events and stored routines
// that may write to a mapped table. Guards cover cascading foreign keys,
// triggers whose statement, or a routine it calls, names a guarded or
// mapped table (a whole-word, case-insensitive match, as for PostgreSQL's
// trigger functions), and updatable views over one. Each BEFORE UPDATE
// trigger on a mapped table is noted in [rewrite.Schema.RowTriggers], and
// each mapped table's AUTO_INCREMENT column in
// [rewrite.Schema.AutoIncrement].
func InspectMySQL(ctx context.Context, q Querier, m *mapping.Mapping) (s *rewrite.Schema, problems []Problem, err error) {
	rows, err := queryAll(ctx, q, `SELECT DATABASE(), VERSION(), @@SESSION.sql_mode, @@lower_case_table_names`)
	if err != nil {
		return nil, nil, fmt.Errorf("schema: reading the MySQL settings: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 4 {
		return nil, nil, fmt.Errorf("schema: reading the MySQL settings: got %d rows", len(rows))
	}
	db, version, sqlMode, lctn := str(rows[0][0]), str(rows[0][1]), str(rows[0][2]), num(rows[0][3])
	in := &inspector{ctx: ctx, q: q, d: mysqlDialect(db, lctn)}
	if msg := mysqlVersionProblem(version); msg != "" {
		// The catalog differs before these versions; RETURNING is what
		// dualwrite needs of MariaDB.
		in.problem("", "", "%s", msg)
		return emptySchema(), in.problems, nil
	}
	in.sqlModeProblems(sqlMode)
	if rows[0][0] == nil {
		in.problem("", "", "the connection has no current database (DATABASE() is NULL), so the mapped tables cannot be found: name the database in the DSN (user:password@tcp(host:3306)/database)")
		return emptySchema(), in.problems, nil
	}
	if in.cat, err = loadMySQLCatalog(ctx, q, in.d, strings.Contains(version, "MariaDB")); err != nil {
		return nil, nil, err
	}
	quotedStrings(in, m)
	return in.run(m)
}

// mysqlDialect compares table names as lower_case_table_names lctn
// makes the server compare them, column names case-insensitively, and
// looks tables up in database db, the current one.
func mysqlDialect(db string, lctn int64) *dialect {
	d := &dialect{
		sql:            rewrite.MySQL,
		fold:           exact,
		tableHint:      " in database " + db + " (table names are case-sensitive: lower_case_table_names is 0)",
		keyIndex:       "not on an expression or a column prefix",
		upsert:         "INSERT ... ON DUPLICATE KEY UPDATE",
		qualifier:      rewrite.MySQL.Quote(db) + ".",
		falseLit:       "FALSE",
		aggregateError: mysqlAggregateError,
	}
	if lctn != 0 {
		d.fold = strings.ToLower
		d.tableHint = fmt.Sprintf(" in database %s (table names are compared case-insensitively: lower_case_table_names is %d)", db, lctn)
	}
	return d
}

// mysqlAggregateError reports whether err is the server's refusal of an
// aggregate (1111, ER_INVALID_GROUP_FUNC_USE) or window function
// (MariaDB's 4015, MySQL's 3593) in WHERE.
func mysqlAggregateError(err error) bool {
	switch mysqlErrorNumber(err) {
	case 1111, 4015, 3593:
		return true
	}
	return false
}

// mysqlVersionProblem returns what is wrong with the server of VERSION()
// version, or "": MariaDB must be 10.5 or later (INSERT ... RETURNING),
// MySQL 8.0 or later.
func mysqlVersionProblem(version string) string {
	mariaDB := strings.Contains(version, "MariaDB")
	text := strings.TrimPrefix(version, "5.5.5-") // MariaDB's handshake prefix for old clients
	if i := strings.IndexAny(text, "-+ "); i >= 0 {
		text = text[:i]
	}
	ok := false
	switch {
	case mariaDB:
		ok = versionAtLeast(text, 10, 5, 0)
	default:
		ok = versionAtLeast(text, 8, 0, 0)
	}
	if ok {
		return ""
	}
	if mariaDB {
		return "MariaDB 10.5 or later is required, for INSERT ... RETURNING; this server runs " + version + ": upgrade the server"
	}
	return "MySQL 8.0 or later is required; this server runs " + version + ": upgrade the server"
}

// sqlModeProblems reports the modes of the session's sql_mode that the
// wrapper cannot live with: ANSI_QUOTES and NO_BACKSLASH_ESCAPES change
// how SQL text is read, and dualwrite reads it as the server does
// without them; without strict mode the server stores an invalid or
// truncated value with a warning where the mirror needs an error.
func (in *inspector) sqlModeProblems(sqlMode string) {
	modes := strings.Split(strings.ToUpper(sqlMode), ",")
	for _, mode := range []string{"ANSI_QUOTES", "NO_BACKSLASH_ESCAPES"} {
		if slices.Contains(modes, mode) {
			in.problem("", "", "sql_mode includes %s (%s), and dualwrite reads SQL text as the server does without it: remove %s from the sql_mode of the server (sql_mode in its configuration, SET GLOBAL sql_mode) and of the DSN (its sql_mode parameter)",
				mode, sqlMode, mode)
		}
	}
	if !slices.Contains(modes, "STRICT_TRANS_TABLES") && !slices.Contains(modes, "STRICT_ALL_TABLES") {
		in.problem("", "", "sql_mode (%q) is not strict, so the server stores an invalid or out-of-range value with a warning where a write and its mirror need an error: add STRICT_TRANS_TABLES to the sql_mode of the server, or of the DSN (sql_mode parameter)",
			sqlMode)
	}
}

// myRel is one table or view of the current database.
type myRel struct {
	name, typ, engine string // TABLE_NAME, TABLE_TYPE, ENGINE
	t                 *table // for tables
}

// myCatalog is the part of information_schema for the current database
// that the checks read, loaded at once: the queries take no arguments.
type myCatalog struct {
	ctx  context.Context
	q    Querier
	d    *dialect
	rels map[string]*myRel // by folded name
}

// loadMySQLCatalog reads the tables, views, columns and unique indexes of
// the current database of a MariaDB server, or of a MySQL one.
func loadMySQLCatalog(ctx context.Context, q Querier, d *dialect, mariaDB bool) (*myCatalog, error) {
	c := &myCatalog{ctx: ctx, q: q, d: d, rels: map[string]*myRel{}}
	rows, err := queryAll(ctx, q, `SELECT TABLE_NAME, TABLE_TYPE, ENGINE FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading the tables: %w", err)
	}
	for _, r := range rows {
		rel := &myRel{name: str(r[0]), typ: str(r[1]), engine: str(r[2])}
		if rel.typ == "TEMPORARY" {
			// MariaDB 11.2 lists the session's temporary tables, which
			// no other connection sees.
			continue
		}
		if rel.typ == "BASE TABLE" || rel.typ == "SYSTEM VERSIONED" {
			rel.t = &table{name: rel.name, fold: strings.ToLower}
		}
		c.rels[d.fold(rel.name)] = rel
	}
	cols, err := queryAll(ctx, q, `SELECT TABLE_NAME, COLUMN_NAME, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLUMN_TYPE, COLLATION_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading the columns: %w", err)
	}
	colls := map[string]string{} // table + "\x00" + folded column -> collation
	for _, r := range cols {
		rel := c.rels[d.fold(str(r[0]))]
		if rel == nil || rel.t == nil {
			continue
		}
		extra := strings.ToUpper(str(r[4]))
		col := column{name: str(r[1]), notNull: str(r[2]) == "NO", typ: str(r[5]),
			generated: strings.Contains(extra, "VIRTUAL GENERATED") || strings.Contains(extra, "STORED GENERATED") || strings.Contains(extra, "PERSISTENT GENERATED"),
			dflt:      mysqlDefault(r[3], extra, mariaDB),
			invisible: strings.Contains(extra, "INVISIBLE")}
		if strings.Contains(extra, "AUTO_INCREMENT") {
			rel.t.autoIncrement = col.name
		}
		colls[rel.name+"\x00"+strings.ToLower(col.name)] = str(r[6])
		rel.t.cols = append(rel.t.cols, col)
	}
	ixs, err := queryAll(ctx, q, `SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading the indexes: %w", err)
	}
	for _, r := range ixs {
		rel := c.rels[d.fold(str(r[0]))]
		if rel == nil || rel.t == nil {
			continue
		}
		t := rel.t
		if n := len(t.unique); n == 0 || t.unique[n-1].name != str(r[1]) {
			t.unique = append(t.unique, index{name: str(r[1])})
		}
		ix := &t.unique[len(t.unique)-1]
		// An expression (MySQL's functional key part) has no column name.
		col := str(r[2])
		ix.cols = append(ix.cols, col)
		ix.colls = append(ix.colls, colls[rel.name+"\x00"+strings.ToLower(col)])
		if r[3] != nil && ix.unusable == "" {
			// Unique by a prefix, the index would make the mirror's
			// INSERT ... ON DUPLICATE KEY UPDATE update the row of another
			// key that shares the prefix.
			ix.unusable = fmt.Sprintf("is on a prefix of %s (its first %d characters, or bytes): index the whole column", col, num(r[3]))
		}
	}
	return c, nil
}

// mysqlDefault returns a column's COLUMN_DEFAULT as SQL, as table.dflt
// holds it: MariaDB spells it so ('text', 0, NULL, current_timestamp());
// MySQL gives a literal's value unquoted and marks an expression
// DEFAULT_GENERATED in EXTRA.
func mysqlDefault(v any, extra string, mariaDB bool) string {
	d := str(v)
	switch {
	case v == nil || mariaDB:
		return d
	case strings.Contains(extra, "DEFAULT_GENERATED"):
		return "(" + d + ")"
	}
	return "'" + strings.ReplaceAll(d, "'", "''") + "'"
}

// table returns the table of the current database named name, compared as
// the server compares table names, or what the relation is instead.
func (c *myCatalog) table(name string) (*table, string, error) {
	rel := c.rels[c.d.fold(name)]
	switch {
	case rel == nil:
		return nil, "", nil
	case rel.t != nil:
		return rel.t, "", nil
	case rel.typ == "VIEW" || rel.typ == "SYSTEM VIEW":
		return nil, "view", nil
	}
	return nil, strings.ToLower(rel.typ), nil
}

// engines reports the mapped tables whose storage engine is not InnoDB:
// MyISAM, Aria, MEMORY and the like keep each statement's change however
// the transaction ends, so that a write and its mirror cannot be made
// atomic.
func (c *myCatalog) engines(in *inspector, m *mapping.Mapping) {
	seen := map[string]bool{}
	for _, t := range m.Tables {
		for _, name := range []string{t.Old, t.New} {
			rel := c.rels[c.d.fold(name)]
			if rel == nil || rel.t == nil || seen[rel.name] || strings.EqualFold(rel.engine, "InnoDB") {
				continue
			}
			seen[rel.name] = true
			in.problem(rel.name, "", "the table's storage engine is %s, not InnoDB: it keeps each write whether or not the transaction commits, so a write and its mirror cannot be made atomic: convert it (ALTER TABLE %s ENGINE=InnoDB)",
				rel.engine, rewrite.MySQL.Quote(rel.name))
		}
	}
}

// mysqlErrorNumber returns the server's error number in err's text, or 0:
// go-sql-driver/mysql spells its errors "Error <number> (<SQLSTATE>):
// <message>", and this package does not link the driver.
func mysqlErrorNumber(err error) int {
	rest, ok := strings.CutPrefix(err.Error(), "Error ")
	if !ok {
		return 0
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end <= 0 {
		return 0
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}

// quotedStrings reports the mapping expressions that hold a "..." string:
// without ANSI_QUOTES (which dualwrite refuses) MySQL reads "Full Name" as
// a string, so an expression meant to name a column would write the
// name's text into every row.
func quotedStrings(in *inspector, m *mapping.Mapping) {
	for _, t := range m.Tables {
		for _, sec := range []struct {
			table string
			cols  []mapping.Column
		}{{t.New, t.Columns}, {t.Old, t.Reverse}} {
			for _, c := range sec.cols {
				toks, err := rewrite.MySQL.Lex(c.Expr)
				if err != nil {
					continue // the expression check reports it
				}
				for _, tok := range toks {
					if tok.Kind == rewrite.String && c.Expr[tok.Start] == '"' {
						in.problem(sec.table, c.Name, "the expression %s holds %s, which MySQL reads as a string, not a name: quote names with backquotes (`Full Name`) and strings with single quotes", c.Expr, tok.Text(c.Expr))
						break
					}
				}
			}
		}
	}
}
