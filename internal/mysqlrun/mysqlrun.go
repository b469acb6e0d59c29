// Package mysqlrun holds what packages backfill and verify need to run
// their generated statements on MySQL and MariaDB through
// github.com/go-sql-driver/mysql, without linking that driver: numbered
// parameters spelled for a dialect whose parameters are positional, the
// server's error number of an error, and key values in the Go types of
// the other drivers.
package mysqlrun

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/dualwrite/dualwrite/rewrite"
)

// Positional reports whether d's parameters are positional ("?"): each
// takes the next argument, in the order of the text.
func Positional(d *rewrite.Dialect) bool { return d.Placeholder(1) == d.Placeholder(2) }

// Param returns the spelling of the n-th (1-based) parameter of a
// generated statement in d: d's own where it numbers its parameters, and
// where they are positional "?" followed by a comment that keeps the
// number, "?/*n*/", which [Args] reads.
func Param(d *rewrite.Dialect, n int) string {
	if Positional(d) {
		return "?/*" + strconv.Itoa(n) + "*/"
	}
	return d.Placeholder(n)
}

// Args returns the arguments of query, whose parameters [Param] spelled,
// given the arguments by number (args[0] is parameter 1): args itself
// where d numbers its parameters; where they are positional, the
// argument of each parameter in the order of the text, one that the text
// uses twice passed twice.
func Args(d *rewrite.Dialect, query string, args []any) ([]any, error) {
	if !Positional(d) {
		return args, nil
	}
	toks, err := d.Lex(query)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, t := range toks {
		if t.Kind != rewrite.Param {
			continue
		}
		// The lexer drops comments: the number is the text just after
		// the "?", outside any string or comment since the "?" is.
		n := 0
		if rest, ok := strings.CutPrefix(query[t.End:], "/*"); ok {
			if num, _, ok := strings.Cut(rest, "*/"); ok {
				n, _ = strconv.Atoi(num)
			}
		}
		if n < 1 || n > len(args) {
			return nil, fmt.Errorf("generated statement: parameter %d of %d arguments at offset %d: %s", n, len(args), t.Start, query)
		}
		out = append(out, args[n-1])
	}
	return out, nil
}

// ErrorNumber returns the server's error number of a
// github.com/go-sql-driver/mysql error in err's chain (a *MySQLError, read
// by its fields), or 0: 1205 for a lock wait timeout, 1213 for a deadlock.
func ErrorNumber(err error) uint16 {
	if f, ok := errorField(err, "Number"); ok && f.Kind() == reflect.Uint16 {
		return uint16(f.Uint())
	}
	return 0
}

// Message returns the server's message of a github.com/go-sql-driver/mysql
// error in err's chain, or "".
func Message(err error) string {
	if f, ok := errorField(err, "Message"); ok && f.Kind() == reflect.String {
		return f.String()
	}
	return ""
}

// errorField returns the named field of the first *MySQLError in err's
// chain.
func errorField(err error, name string) (reflect.Value, bool) {
	for err != nil {
		v := reflect.ValueOf(err)
		if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct && v.Elem().Type().Name() == "MySQLError" {
			f := v.Elem().FieldByName(name)
			return f, f.IsValid()
		}
		if u, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range u.Unwrap() {
				if f, ok := errorField(e, name); ok {
					return f, true
				}
			}
			return reflect.Value{}, false
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return reflect.Value{}, false
		}
		err = u.Unwrap()
	}
	return reflect.Value{}, false
}

// Error numbers of MySQL and MariaDB.
const (
	BadNull         = 1048 // ER_BAD_NULL_ERROR
	SubqueryRows    = 1242 // ER_SUBQUERY_NO_1_ROW: the mirror's guard (rewrite.MySQLMirrorConflict)
	Duplicate       = 1062 // ER_DUP_ENTRY
	LockWaitTimeout = 1205 // ER_LOCK_WAIT_TIMEOUT: the statement, or with innodb_rollback_on_timeout the transaction
	Deadlock        = 1213 // ER_LOCK_DEADLOCK: the whole transaction was rolled back
	NoSavepoint     = 1305 // ER_SP_DOES_NOT_EXIST
	// AutoIncRead is ER_AUTOINC_READ_FAILED, which InnoDB also reports for
	// a deadlock on a table's AUTO-INC lock: the transaction may be gone.
	AutoIncRead = 1467
)

// KeyValue returns a key value that github.com/go-sql-driver/mysql read
// from a column of the given database type
// (sql.ColumnType.DatabaseTypeName) in one of the Go types a backfill
// checkpoint keeps and a report prints as the column's values are: the
// text of a character column as a string (the driver returns it as
// []byte), the bytes of a binary column as []byte, an unsigned integer
// that fits in an int64 as one, a FLOAT (float32) as the float64 of the
// same value. Each goes back as a parameter that compares with the column
// as the value read did. Other values are returned as they are.
func KeyValue(v any, databaseType string) any {
	switch x := v.(type) {
	case []byte:
		if binaryType(databaseType) {
			return x
		}
		return string(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
	case float32:
		return float64(x)
	}
	return v
}

// binaryType reports whether a column of the database type holds bytes
// rather than text.
func binaryType(t string) bool {
	switch strings.ToUpper(t) {
	case "BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BIT", "GEOMETRY":
		return true
	}
	return false
}

// NoSelectLimit is sql_select_limit's default: no limit.
const NoSelectLimit = "18446744073709551615"

// Session is what package backfill and verify depend on of a MySQL
// connection's session settings.
type Session struct {
	Mode        string // sql_mode
	SelectLimit string // sql_select_limit
	SafeUpdates bool   // sql_safe_updates
}

// ReadSession reads the session settings of a connection of db.
func ReadSession(ctx context.Context, db interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (Session, error) {
	var s Session
	err := db.QueryRowContext(ctx, "SELECT @@SESSION.sql_mode, CAST(@@SESSION.sql_select_limit AS CHAR), IF(@@SESSION.sql_safe_updates, 1, 0)").
		Scan(&s.Mode, &s.SelectLimit, &s.SafeUpdates)
	return s, err
}

// Check returns an error naming the first setting of s that would make a
// reader's queries return other rows (sql_select_limit cuts every query's
// rows) or, with writes, a writer's statements do other than asked
// (sql_mode without strict mode stores a changed value with a warning;
// sql_safe_updates refuses a DELETE without a key in its WHERE), and the
// fix; nil when there is none.
func (s Session) Check(writes bool) error {
	if s.SelectLimit != NoSelectLimit {
		return fmt.Errorf("the connection's sql_select_limit is %s, which would cut the rows of dualwrite's queries: leave it at its default in the DSN and the server's configuration", s.SelectLimit)
	}
	if !writes {
		return nil
	}
	modes := strings.Split(strings.ToUpper(s.Mode), ",")
	if !slices.Contains(modes, "STRICT_TRANS_TABLES") && !slices.Contains(modes, "STRICT_ALL_TABLES") {
		return fmt.Errorf("the connection's sql_mode (%q) has neither STRICT_TRANS_TABLES nor STRICT_ALL_TABLES, and dualwrite relies on strict mode to fail rather than store a changed value: add STRICT_TRANS_TABLES to the sql_mode of the DSN (sql_mode='...') or of the server", s.Mode)
	}
	if s.SafeUpdates {
		return errors.New("the connection has sql_safe_updates on, which refuses a DELETE whose WHERE names no key, as the last batch's does: turn it off in the DSN or the server's configuration")
	}
	return nil
}
