package rewrite

import (
	"strconv"
	"strings"
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
	// atomic spells the statements that make one dual write atomic, inside or
	// outside a caller's transaction.
	begin, commit, rollback []string
	// resultQuery returns the caller's statement's last insert id and rows affected.
	resultQuery string
	// snapshot opens and closes one snapshot for the two queries of a
	// comparison, inside or outside a caller's transaction.
	snapshotBegin, snapshotEnd string
	// outsideBegin and outsideEnd open and close the snapshot instead when
	// snapshotBegin fails because no transaction is open (PostgreSQL
	// refuses SAVEPOINT outside one); "" when it never does.
	outsideBegin, outsideEnd string
	// snapshotAbort and outsideAbort undo a snapshot whose new-table query
	// failed, so that the failure leaves a caller's transaction usable.
	snapshotAbort []string
	outsideAbort  string
}

// SQLite is the dialect of github.com/mattn/go-sqlite3 (SQLite 3.35 or later,
// for RETURNING).
var SQLite = &Dialect{
	Name:        "sqlite",
	lex:         lexSQLite,
	foldQuoted:  true,
	begin:       []string{"SAVEPOINT dualwrite"},
	commit:      []string{"RELEASE dualwrite"},
	rollback:    []string{"ROLLBACK TO dualwrite", "RELEASE dualwrite"},
	resultQuery: "SELECT last_insert_rowid(), changes()",
	// A savepoint outside a transaction opens a deferred one, whose snapshot
	// (in WAL mode; a shared lock otherwise) is taken by the first read.
	snapshotBegin: "SAVEPOINT dualwrite_read",
	snapshotEnd:   "RELEASE dualwrite_read",
	snapshotAbort: []string{"ROLLBACK TO dualwrite_read", "RELEASE dualwrite_read"},
}

// Postgres is the dialect of PostgreSQL 13 or later, with
// standard_conforming_strings on. Unquoted identifiers fold to lower case;
// quoted ones compare exactly. A dual write is one statement with
// data-modifying CTEs. A comparison inside a caller's transaction shares
// its snapshot only at REPEATABLE READ or above; outside one it runs in a
// REPEATABLE READ, READ ONLY transaction of its own.
var Postgres = &Dialect{
	Name:          "postgres",
	lex:           lexPostgres,
	dollarParams:  true,
	fused:         true,
	snapshotBegin: "SAVEPOINT dualwrite_read",
	snapshotEnd:   "RELEASE SAVEPOINT dualwrite_read",
	snapshotAbort: []string{"ROLLBACK TO SAVEPOINT dualwrite_read", "RELEASE SAVEPOINT dualwrite_read"},
	outsideBegin:  "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
	outsideEnd:    "COMMIT",
	outsideAbort:  "ROLLBACK",
}

// DialectByName returns the dialect with the given mapping-file name, or nil.
func DialectByName(name string) *Dialect {
	switch name {
	case SQLite.Name:
		return SQLite
	case Postgres.Name:
		return Postgres
	}
	return nil
}

// Lex splits src into significant tokens. Text with a NUL byte anywhere,
// even in a comment or a string, is an error: the database would stop
// reading at it.
func (d *Dialect) Lex(src string) ([]Token, error) {
	if i := strings.IndexByte(src, 0); i >= 0 {
		return nil, lexError(i, "NUL byte in the statement")
	}
	return d.lex(src)
}

// Begin returns the statements that open one atomic dual write. They work
// both inside a caller's transaction and in autocommit mode.
func (d *Dialect) Begin() []string { return d.begin }

// Commit returns the statements that make a dual write permanent (or hand it
// to the caller's transaction).
func (d *Dialect) Commit() []string { return d.commit }

// Rollback returns the statements that undo a dual write that failed part-way.
func (d *Dialect) Rollback() []string { return d.rollback }

// ResultQuery returns a query whose single row holds the last insert id and the
// rows affected by the statement run just before it on the same connection.
func (d *Dialect) ResultQuery() string { return d.resultQuery }

// SnapshotBegin returns the statement that opens one read snapshot for a
// comparison's two queries; SnapshotEnd the one that closes it.
func (d *Dialect) SnapshotBegin() string { return d.snapshotBegin }

// SnapshotEnd returns the statement that closes what SnapshotBegin opened.
func (d *Dialect) SnapshotEnd() string { return d.snapshotEnd }

// SnapshotAbort returns the statements that undo the snapshot after its
// new-table query failed: inside a transaction (outside is false) or in the
// transaction OutsideSnapshot opened.
func (d *Dialect) SnapshotAbort(outside bool) []string {
	if outside {
		return []string{d.outsideAbort}
	}
	return d.snapshotAbort
}

// OutsideSnapshot returns the statements that open and close a comparison's
// snapshot when SnapshotBegin failed for want of a transaction; "" when the
// dialect needs none.
func (d *Dialect) OutsideSnapshot() (begin, end string) { return d.outsideBegin, d.outsideEnd }

// Fold returns the name an identifier token denotes, unquoted and, where the
// dialect compares it case-insensitively, lower-cased. A PostgreSQL U&""
// identifier folds to itself, which names no table: the planner refuses
// statements that hold one.
func (d *Dialect) Fold(tok string) string {
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
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Placeholder returns the spelling of the n-th (1-based) parameter.
func (d *Dialect) Placeholder(n int) string {
	if d.dollarParams {
		return "$" + strconv.Itoa(n)
	}
	return "?" + strconv.Itoa(n)
}

// Fused reports whether a dual write is one statement of the dialect
// ([Plan.Fused]) rather than steps inside a savepoint.
func (d *Dialect) Fused() bool { return d.fused }
