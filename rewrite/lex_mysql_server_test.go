package rewrite

// The MySQL lexer against the server's own lexer: for each statement text
// and sql_mode, the server's result says how it split the text, and
// lexMySQL must have split it the same way.

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/mytest"
)

// mysqlLexTable is the table the statements below read: columns whose
// names are what a misread quote would make of them.
var mysqlLexTable = []string{
	"CREATE TABLE t (a INT, `a\\` INT, `x\\` INT, `#` INT, `--` INT)",
	"INSERT INTO t VALUES (7, 8, 9, 10, 11)",
}

// mysqlLexCases are select lists (after SELECT, before "\nFROM t") that
// the modes and comment rules split differently. Each is valid SQL in
// every mode, or invalid in those where lexMySQL finds it unterminated.
var mysqlLexCases = []string{
	// "#" comments to the end of the line.
	"1 # , 2\n, 3",
	// "-- " needs a white space or control character after it...
	"1 -- , 2\n, 3",
	"1--\t, 2\n, 3",
	// ...and "--1" is two minus signs: 1 - (-1).
	"1 --1, 2",
	"1 /* , 2 */, 3",
	"'--', '#', '/*', 2",
	// A backslash escapes the quote, unless NO_BACKSLASH_ESCAPES.
	`'x\', 2 -- '`,
	`"x\", 2 -- "`,
	`'it''s', 'a\'b'`,
	`'a\\', 'b'`,
	// "..." is a string, or with ANSI_QUOTES an identifier.
	`"a", 'b'`,
	`"#", "--", 3`,
	"a, `a\\`",
	"'a' 'b', 2",
	"_utf8mb4'a\\'b', X'41', 0x42, b'1000001', N'n'",
	"@@session.autocommit, @x, 1",
}

// TestLexMySQLAgreesWithServer: in each sql_mode, for each text, the
// server returns one column per comma-separated item lexMySQL finds at
// the top level, each with the value the server gives that item alone;
// and where lexMySQL finds a literal unterminated, the server refuses the
// text (a parse error). The mode lexMySQL is given is read from the
// server's @@sql_mode, as the dialect will read it.
func TestLexMySQLAgreesWithServer(t *testing.T) {
	dsn := mytest.Database(t, mysqlLexTable...)
	for _, c := range []struct {
		sqlMode string // "" keeps the server's
		want    MySQLMode
	}{
		{"", MySQLMode{}},
		{"ANSI_QUOTES", MySQLMode{ANSIQuotes: true}},
		{"ANSI", MySQLMode{ANSIQuotes: true}},
		{"NO_BACKSLASH_ESCAPES", MySQLMode{NoBackslashEscapes: true}},
		{"ANSI_QUOTES,NO_BACKSLASH_ESCAPES", MySQLMode{ANSIQuotes: true, NoBackslashEscapes: true}},
	} {
		t.Run("sql_mode="+c.sqlMode, func(t *testing.T) {
			d := dsn
			if c.sqlMode != "" {
				d = mytest.WithParams(dsn, "sql_mode", "'"+c.sqlMode+"'")
			}
			db, err := sql.Open("mysql", d)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = db.Close() }()
			var sqlMode string
			if err := db.QueryRow("SELECT @@sql_mode").Scan(&sqlMode); err != nil {
				t.Fatal(err)
			}
			flags := strings.Split(sqlMode, ",")
			mode := MySQLMode{ANSIQuotes: slices.Contains(flags, "ANSI_QUOTES"), NoBackslashEscapes: slices.Contains(flags, "NO_BACKSLASH_ESCAPES")}
			if mode != c.want {
				t.Fatalf("@@sql_mode %q reads as %+v, want %+v", sqlMode, mode, c.want)
			}
			for _, list := range mysqlLexCases {
				checkMySQLLex(t, db, list, mode)
			}
		})
	}
}

// checkMySQLLex runs "SELECT <list>\nFROM t" and compares its columns
// with the items lexMySQL splits list into, each run alone.
func checkMySQLLex(t *testing.T, db *sql.DB, list string, mode MySQLMode) {
	t.Helper()
	src := "SELECT " + list + "\nFROM t"
	server, serverErr := mysqlRow(db, src)
	items, lexErr := mysqlSelectItems(src, mode)
	switch {
	case lexErr != nil:
		if n := mytest.ErrorNumber(serverErr); n != 1064 {
			t.Errorf("%q in %+v: lexMySQL refuses it (%v), the server gave %q, %v", src, mode, lexErr, server, serverErr)
		}
		return
	case serverErr != nil:
		t.Errorf("%q in %+v: lexMySQL splits it into %q, the server refuses it: %v", src, mode, items, serverErr)
		return
	}
	var want []string
	for _, item := range items {
		v, err := mysqlRow(db, "SELECT "+item+"\nFROM t")
		if err != nil || len(v) != 1 {
			t.Errorf("%q in %+v: the item %q that lexMySQL found alone gives %q, %v", src, mode, item, v, err)
			return
		}
		want = append(want, v[0])
	}
	if !slices.Equal(server, want) {
		t.Errorf("%q in %+v: the server returns %q; lexMySQL's items %q give %q", src, mode, server, items, want)
	}
}

// mysqlSelectItems returns the texts of the top-level items of the select
// list of src, as lexMySQL splits it.
func mysqlSelectItems(src string, mode MySQLMode) ([]string, error) {
	toks, err := lexMySQL(src, mode)
	if err != nil {
		return nil, err
	}
	var items []string
	depth, first := 0, -1
	flush := func(last int) {
		if first >= 0 {
			items = append(items, src[toks[first].Start:toks[last].End])
		}
		first = -1
	}
	for i := 1; i < len(toks); i++ { // toks[0] is SELECT
		k := toks[i]
		text := src[k.Start:k.End]
		switch {
		case k.Kind == LParen:
			depth++
		case k.Kind == RParen:
			depth--
		case depth == 0 && k.Kind == Comma:
			flush(i - 1)
			continue
		case depth == 0 && k.Kind == Word && strings.EqualFold(text, "FROM"):
			flush(i - 1)
			return items, nil
		}
		if first < 0 {
			first = i
		}
	}
	flush(len(toks) - 1)
	return items, nil
}

// mysqlRow returns the one row of query, each column as text.
func mysqlRow(db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for _, v := range vals {
			if !v.Valid {
				v.String = "<NULL>"
			}
			out = append(out, v.String)
		}
	}
	return out, rows.Err()
}

// TestMySQLExecutableComments: the server runs the text of "/*! ... */"
// and of MariaDB's "/*M! ... */" (unless the version after the "!" is
// above its own), where a lexer that skipped them as comments would see
// one column fewer; lexMySQL refuses all of them.
func TestMySQLExecutableComments(t *testing.T) {
	db, err := sql.Open("mysql", mytest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	for _, c := range []struct {
		src  string
		cols int
	}{
		{"SELECT 1 /*! , 2 */", 2},
		{"SELECT 1 /*!50000 , 2 */", 2},
		{"SELECT 1 /*M! , 2 */", 2},
		{"SELECT 1 /*M!100000 , 2 */", 2},
		{"SELECT 1 /*!99999 , 2 */", 1},
	} {
		got, err := mysqlRow(db, c.src)
		if err != nil || len(got) != c.cols {
			t.Errorf("%q: the server gave %q, %v; want %d columns", c.src, got, err, c.cols)
		}
		if toks, err := lexMySQL(c.src, MySQLMode{}); err == nil {
			t.Errorf("%q: lexMySQL read it as %d tokens, want it refused", c.src, len(toks))
		}
	}
}
