package rewrite

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Dialect is one SQL dialect's rules: how its text is split into tokens, how
// identifiers compare, and how generated statements are spelled. The
// analyzer and the generators are shared; a dialect only supplies these rules.
type Dialect struct {
	// Name is the mapping file's name for the dialect: "sqlite", "postgres" or "mysql".
	Name string

	lex func(src string) ([]Token, error)
	// foldQuoted reports whether quoted identifiers compare case-insensitively.
	foldQuoted bool
	// dollarParams: "$n" is positional parameter n (PostgreSQL), and the
	// dialect spells generated parameters so; otherwise "?n".
	dollarParams bool
	// fused: a dual write is one statement (the caller's in a
	// data-modifying CTE, the mirror beside it), atomic on its own.
	fused bool
	// write makes one dual write of several statements atomic inside a
	// caller's transaction, or anywhere when outsideWrite is zero;
	// outsideWrite does outside one, where the dialect refuses savepoints.
	write, outsideWrite Unit
	// snapshot opens and closes one snapshot for the two queries of a
	// comparison, as write and outsideWrite do.
	snapshot, outsideSnapshot Unit
	// lockRows: a statement that may change keys first locks the rows it is
	// about to change and is then restricted to them, by row identity, so
	// that rows committed in between (READ COMMITTED) cannot slip in.
	lockRows bool
	// lockingReads: SELECT ... FOR UPDATE and its kin exist, and a
	// locking read of one mapped table is served by a [LockPlan].
	lockingReads bool
	// lock holds the row locks of a locking read's two queries together:
	// outsideLock opens a transaction where the caller has none; lock is a
	// savepoint of the caller's around the new query of a comparison.
	lock, outsideLock Unit
	// doBlocks: DO runs procedural code on the server (PostgreSQL); a DO
	// block is refused by the rule of do_block.go.
	doBlocks bool
	// maxIdent, when not zero, is the length in bytes to which the
	// database truncates a longer identifier (PostgreSQL: NAMEDATALEN-1).
	maxIdent int
	// errorAborts: a failed statement aborts the caller's transaction
	// (PostgreSQL), which nothing the failed dual write did can survive.
	errorAborts bool
	// resultQuery returns the caller's statement's last insert id and rows
	// affected; "" where the database has no last insert id.
	resultQuery string
	// settings are the session settings the wrapper's plans depend on,
	// by the names SET takes for them (session.go): statements that
	// change one are refused in every write phase.
	settings map[string]sessionSetting
	// connSettings are read on every new connection and must be the
	// same as on the connection the schema was checked on.
	connSettings []Setting
	// sqlPrepare: PREPARE name AS statement keeps a statement on the
	// connection that a later EXECUTE runs.
	sqlPrepare bool
	// selectInto: SELECT ... INTO table creates a table.
	selectInto bool
	// hiddenColumns are the columns every table has without declaring
	// them, which a derived table does not expose.
	hiddenColumns []string
	// dropDeletes: DROP TABLE deletes the table's rows before it drops
	// it, running the actions of the foreign keys that reference it
	// (SQLite, with foreign keys on).
	dropDeletes bool
	// mysql: MySQL's and MariaDB's grammar (INSERT IGNORE, ON DUPLICATE
	// KEY UPDATE, multi-table UPDATE and DELETE, qualified SET targets),
	// backquoted identifiers and positional "?" parameters.
	mysql bool
	// inTxQuery, when set, asks the database whether a transaction is
	// open: where SAVEPOINT outside one is no error (MySQL), the unit for
	// inside a transaction cannot be tried first.
	inTxQuery string
	// returning: INSERT ... RETURNING and DELETE ... RETURNING exist
	// (MariaDB 10.5); MySQL has neither.
	returning bool
}

// Setting is one session setting a connection is checked for: its name
// in messages, and the SQL expression that reads it as text.
type Setting struct {
	Name, Expr string
}

// Unit spells the statements that open, close and undo one atomic unit of
// work: a dual write or a comparison's snapshot.
type Unit struct {
	Begin, End string
	Undo       []string
}

// MirrorRetry is the savepoint around a key change's upsert where the
// changed rows' keys overlap: the same spelling works in every dialect.
var MirrorRetry = Unit{Begin: "SAVEPOINT dualwrite_mirror", End: "RELEASE SAVEPOINT dualwrite_mirror",
	Undo: []string{"ROLLBACK TO SAVEPOINT dualwrite_mirror"}}

// zero reports whether u is the absent unit.
func (u Unit) zero() bool { return u.Begin == "" }

// SQLite is the dialect of github.com/mattn/go-sqlite3 (SQLite 3.35 or later,
// for RETURNING).
var SQLite = &Dialect{
	Name:       "sqlite",
	lex:        lexSQLite,
	foldQuoted: true,
	write:      Unit{Begin: "SAVEPOINT dualwrite", End: "RELEASE dualwrite", Undo: []string{"ROLLBACK TO dualwrite", "RELEASE dualwrite"}},
	// Outside a transaction a dual write takes the write lock first: a
	// deferred one that read before writing (a key change's pre-select)
	// would fail with SQLITE_BUSY if another writer committed in between.
	outsideWrite: Unit{Begin: "BEGIN IMMEDIATE", End: "COMMIT", Undo: []string{"ROLLBACK"}},
	resultQuery:  "SELECT last_insert_rowid(), changes()",
	// hiddenColumns: the rowid's names, unless a column takes one.
	hiddenColumns: []string{"rowid", "_rowid_", "oid"},
	dropDeletes:   true,
	// A savepoint outside a transaction opens a deferred one, whose snapshot
	// (in WAL mode; a shared lock otherwise) is taken by the first read.
	snapshot: Unit{Begin: "SAVEPOINT dualwrite_read", End: "RELEASE dualwrite_read", Undo: []string{"ROLLBACK TO dualwrite_read", "RELEASE dualwrite_read"}},
}

// Postgres is the dialect of PostgreSQL 13 or later, with
// standard_conforming_strings on. Unquoted identifiers fold to lower case;
// quoted ones compare exactly. A dual write is one statement with
// data-modifying CTEs, except an UPDATE that may change keys: that locks its
// rows first and runs in steps, in a savepoint of the caller's transaction
// or a transaction of its own. A comparison inside a caller's transaction
// shares its snapshot only at REPEATABLE READ or above; outside one it runs
// in a REPEATABLE READ, READ ONLY transaction of its own.
var Postgres = &Dialect{
	Name:         "postgres",
	lex:          lexPostgres,
	dollarParams: true,
	fused:        true,
	lockRows:     true,
	lockingReads: true,
	doBlocks:     true,
	maxIdent:     63,
	errorAborts:  true,
	write: Unit{Begin: "SAVEPOINT dualwrite", End: "RELEASE SAVEPOINT dualwrite",
		Undo: []string{"ROLLBACK TO SAVEPOINT dualwrite", "RELEASE SAVEPOINT dualwrite"}},
	outsideWrite: Unit{Begin: "BEGIN", End: "COMMIT", Undo: []string{"ROLLBACK"}},
	snapshot: Unit{Begin: "SAVEPOINT dualwrite_read", End: "RELEASE SAVEPOINT dualwrite_read",
		Undo: []string{"ROLLBACK TO SAVEPOINT dualwrite_read", "RELEASE SAVEPOINT dualwrite_read"}},
	outsideSnapshot: Unit{Begin: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", End: "COMMIT", Undo: []string{"ROLLBACK"}},
	lock: Unit{Begin: "SAVEPOINT dualwrite_lock", End: "RELEASE SAVEPOINT dualwrite_lock",
		Undo: []string{"ROLLBACK TO SAVEPOINT dualwrite_lock", "RELEASE SAVEPOINT dualwrite_lock"}},
	outsideLock: Unit{Begin: "BEGIN", End: "COMMIT", Undo: []string{"ROLLBACK"}},
	settings:    postgresSettings,
	connSettings: []Setting{
		{"search_path", "current_setting('search_path')"},
		{"current schema", "coalesce(current_schema()::text, '')"},
		{"standard_conforming_strings", "current_setting('standard_conforming_strings')"},
		{"client_encoding", "current_setting('client_encoding')"},
		{"user", "current_user::text"},
	},
	sqlPrepare:    true,
	selectInto:    true,
	hiddenColumns: []string{"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"},
}

// MySQL is the dialect of MariaDB 10.5 or later (and MySQL 8 where it
// does not need RETURNING), through github.com/go-sql-driver/mysql, in
// the session's default lexing mode: sql_mode without ANSI_QUOTES and
// NO_BACKSLASH_ESCAPES (a connection with either is refused when it
// connects, and SET of sql_mode is refused). Table names are compared
// case-insensitively, which is exact with lower_case_table_names 1 or 2
// and errs towards mirroring or refusing with 0. A dual write runs in
// steps, in a savepoint of the caller's transaction or a transaction of
// its own: autocommit makes each statement its own transaction.
var MySQL = &Dialect{
	Name:       "mysql",
	lex:        func(src string) ([]Token, error) { return lexMySQL(src, MySQLMode{}) },
	foldQuoted: true,
	mysql:      true,
	write: Unit{Begin: "SAVEPOINT dualwrite", End: "RELEASE SAVEPOINT dualwrite",
		Undo: []string{"ROLLBACK TO SAVEPOINT dualwrite", "RELEASE SAVEPOINT dualwrite"}},
	outsideWrite: Unit{Begin: "START TRANSACTION", End: "COMMIT", Undo: []string{"ROLLBACK"}},
	snapshot: Unit{Begin: "SAVEPOINT dualwrite_read", End: "RELEASE SAVEPOINT dualwrite_read",
		Undo: []string{"ROLLBACK TO SAVEPOINT dualwrite_read", "RELEASE SAVEPOINT dualwrite_read"}},
	outsideSnapshot: Unit{Begin: "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", End: "COMMIT", Undo: []string{"ROLLBACK"}},
	inTxQuery:       "SELECT @@in_transaction",
	returning:       true,
	// hiddenColumns: _rowid names a table's single-column integer
	// primary key without declaring it.
	hiddenColumns: []string{"_rowid"},
	settings:      mysqlSettings,
	connSettings: []Setting{
		{"the current database", "COALESCE(DATABASE(), '')"},
		{"sql_mode", "@@SESSION.sql_mode"},
		{"character_set_client", "@@SESSION.character_set_client"},
		{"autocommit", "IF(@@SESSION.autocommit, 1, 0)"},
		{"auto_increment_increment", "CAST(@@SESSION.auto_increment_increment AS CHAR)"},
		{"user", "CURRENT_USER()"},
		{"the server version", "VERSION()"},
		{"sql_select_limit", "CAST(@@SESSION.sql_select_limit AS CHAR)"},
		{"sql_safe_updates", "IF(@@SESSION.sql_safe_updates, 1, 0)"},
	},
}

// MySQLWithoutReturning is [MySQL] for a server without RETURNING
// (MySQL, or MariaDB before 10.5): an INSERT ... SELECT into a mapped
// table is refused, since nothing else names the keys it wrote.
var MySQLWithoutReturning = func() *Dialect {
	d := *MySQL
	d.returning = false
	return &d
}()

// Returning reports whether the dialect's server has INSERT ... RETURNING.
func (d *Dialect) Returning() bool { return d.returning || d.fused || d == SQLite }

// InTxQuery returns a query whose one value is non-zero when a
// transaction is open on the connection; "" where a failed savepoint
// says so instead.
func (d *Dialect) InTxQuery() string { return d.inTxQuery }

// ConnSettings returns the session settings that every connection must
// share with the one the schema was checked on, and the SQL expressions
// that read them; nil where a connection has none that matter.
func (d *Dialect) ConnSettings() []Setting { return d.connSettings }

// DialectByName returns the dialect with the given mapping-file name, or nil.
func DialectByName(name string) *Dialect {
	switch name {
	case SQLite.Name:
		return SQLite
	case Postgres.Name:
		return Postgres
	case MySQL.Name:
		return MySQL
	}
	return nil
}

// Lex splits src into significant tokens. Text with a NUL byte anywhere,
// even in a comment or a string, is an error: the database would stop
// reading at it.
func (d *Dialect) Lex(src string) ([]Token, error) {
	if len(src) > MaxStatementLen {
		return nil, lexError(MaxStatementLen, "a statement of "+strconv.Itoa(len(src))+" bytes: longer than any database accepts")
	}
	if i := strings.IndexByte(src, 0); i >= 0 {
		return nil, lexError(i, "NUL byte in the statement")
	}
	return d.lex(src)
}

// WriteUnit returns the statements that make a dual write of several
// statements atomic: inside a caller's transaction, or outside one.
func (d *Dialect) WriteUnit(outside bool) Unit {
	if outside && !d.outsideWrite.zero() {
		return d.outsideWrite
	}
	return d.write
}

// SnapshotUnit returns the statements that hold one read snapshot for a
// comparison's two queries: inside a caller's transaction, or outside one.
func (d *Dialect) SnapshotUnit(outside bool) Unit {
	if outside && !d.outsideSnapshot.zero() {
		return d.outsideSnapshot
	}
	return d.snapshot
}

// LockUnit returns the statements that keep the row locks of a locking
// read's two queries: outside a caller's transaction, a transaction that
// holds them from the first query to the end of the second; inside one, a
// savepoint around the second query of a comparison, so that its failure
// leaves the caller's transaction, and the locks of the first, as they were.
func (d *Dialect) LockUnit(outside bool) Unit {
	if outside {
		return d.outsideLock
	}
	return d.lock
}

// ErrorAborts reports whether a failed statement aborts the transaction it
// runs in, so that only a rollback can follow.
func (d *Dialect) ErrorAborts() bool { return d.errorAborts }

// ResultQuery returns a query whose single row holds the last insert id and
// the rows affected by the statement run just before it on the same
// connection; "" where the database has no last insert id.
func (d *Dialect) ResultQuery() string { return d.resultQuery }

// Fold returns the name an identifier token denotes, unquoted and, where the
// dialect compares it case-insensitively, lower-cased, and cut to the
// length the database keeps of it (PostgreSQL truncates identifiers to 63
// bytes). A PostgreSQL U&"" identifier folds to itself, which names no
// table: the planner refuses statements that hold one.
func (d *Dialect) Fold(tok string) string {
	return d.truncate(d.fold(tok))
}

func (d *Dialect) fold(tok string) string {
	if tok == "" {
		return ""
	}
	switch q := tok[0]; q {
	case '"', '`', '\'':
		inner := strings.ReplaceAll(tok[1:len(tok)-1], string([]byte{q, q}), string(q))
		if d.foldQuoted {
			return strings.ToLower(inner)
		}
		return inner
	case '[':
		return strings.ToLower(tok[1 : len(tok)-1])
	}
	if d.dollarParams {
		return lowerASCII(tok) // PostgreSQL folds ASCII letters only
	}
	return strings.ToLower(tok)
}

// truncate cuts a folded name to maxIdent bytes as the database does: at
// the last character boundary that fits, never inside a UTF-8 sequence
// (PostgreSQL's truncate_identifier with pg_mbcliplen).
func (d *Dialect) truncate(name string) string {
	if d.maxIdent == 0 || len(name) <= d.maxIdent {
		return name
	}
	n := d.maxIdent
	for n > 0 && !utf8.RuneStart(name[n]) {
		n--
	}
	return name[:n]
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// FoldName returns the comparison form of a name written in a mapping file.
func (d *Dialect) FoldName(name string) string {
	if d.foldQuoted {
		return strings.ToLower(name)
	}
	return name
}

// Quote returns name as a quoted identifier.
func (d *Dialect) Quote(name string) string {
	if d.mysql {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// AsStored returns a select list item that reads a column's values so
// that they can be passed back as parameters unchanged, as a key that
// bounds a range of keys is. In SQLite a unary + makes the column an
// expression, which github.com/mattn/go-sqlite3 returns as stored; a column
// declared DATE, DATETIME or TIMESTAMP would come back as a time.Time, which
// binds as text in another layout and does not compare as the stored value.
func (d *Dialect) AsStored(col string) string {
	if d == SQLite {
		return "+" + col
	}
	return col
}

// Placeholder returns the spelling of the n-th (1-based) parameter.
func (d *Dialect) Placeholder(n int) string {
	switch {
	case d.dollarParams:
		return "$" + strconv.Itoa(n)
	case d.mysql:
		return "?" // positional: arguments are passed in the order of the text
	}
	return "?" + strconv.Itoa(n)
}
