package rewrite

import (
	"strings"
	"testing"
)

// mysqlTokens lexes src in mode and returns its tokens as "Kind:text".
func mysqlTokens(t *testing.T, src string, mode MySQLMode) ([]string, error) {
	t.Helper()
	toks, err := lexMySQL(src, mode)
	if err != nil {
		return nil, err
	}
	names := map[TokenKind]string{Word: "W", QuotedIdent: "Q", String: "S", Number: "N", Param: "P", Punct: "O",
		LParen: "(", RParen: ")", Comma: ",", Dot: ".", Semicolon: ";"}
	out := make([]string, len(toks))
	prev := 0
	for i, k := range toks {
		start, end := int(k.Start), int(k.End)
		if start < prev || end <= start || end > len(src) {
			t.Fatalf("lexMySQL(%q): token %d has bad span [%d,%d) after %d", src, i, start, end, prev)
		}
		prev = end
		out[i] = names[k.Kind] + ":" + src[start:end]
	}
	return out, nil
}

// TestLexMySQL checks the lexer on MySQL's and MariaDB's lexical forms,
// in the modes that change them.
func TestLexMySQL(t *testing.T) {
	def, ansi, nobs := MySQLMode{}, MySQLMode{ANSIQuotes: true}, MySQLMode{NoBackslashEscapes: true}
	for _, c := range []struct {
		src  string
		mode MySQLMode
		want string
	}{
		{"SELECT a FROM `my table` WHERE b = ?", def, "W:SELECT W:a W:FROM Q:`my table` W:WHERE W:b O:= P:?"},
		{"SELECT `a``b`", def, "W:SELECT Q:`a``b`"},
		// Comments: #, "-- " with a space, and "--" without one is two minus signs.
		{"SELECT 1 # comment; DELETE FROM users\n, 2", def, "W:SELECT N:1 ,:, N:2"},
		{"SELECT 1 -- comment; DELETE FROM users\n, 2", def, "W:SELECT N:1 ,:, N:2"},
		{"SELECT 1--1", def, "W:SELECT N:1 O:- O:- N:1"},
		{"SELECT 1--\tx\n", def, "W:SELECT N:1"},
		{"SELECT 1 --", def, "W:SELECT N:1"},
		{"SELECT /* a; */ 1", def, "W:SELECT N:1"},
		{"SELECT /*+ hint */ 1", def, "W:SELECT N:1"},
		// Strings: a backslash escapes the quote unless NO_BACKSLASH_ESCAPES.
		{`SELECT 'a\' || '; DELETE FROM users; -- '`, def, `W:SELECT S:'a\' || ' ;:; W:DELETE W:FROM W:users ;:;`},
		{`SELECT 'a\'; DELETE FROM users; -- '`, def, `W:SELECT S:'a\'; DELETE FROM users; -- '`},
		{`SELECT 'a\'; DELETE FROM users; -- '`, nobs, `W:SELECT S:'a\' ;:; W:DELETE W:FROM W:users ;:;`},
		{`SELECT 'it''s', "say ""hi"""`, def, `W:SELECT S:'it''s' ,:, S:"say ""hi"""`},
		{`SELECT "a\"b"`, def, `W:SELECT S:"a\"b"`},
		// ANSI_QUOTES: "..." is an identifier, where a backslash is ordinary.
		{`SELECT "col" FROM "users"`, ansi, `W:SELECT Q:"col" W:FROM Q:"users"`},
		{`SELECT "col" FROM "users"`, def, `W:SELECT S:"col" W:FROM S:"users"`},
		{`SELECT "a\" FROM users`, ansi, `W:SELECT Q:"a\" W:FROM W:users`},
		// Literals with a prefix, charset introducers, numbers and identifiers that begin with a digit.
		{"SELECT X'4142', x'41', b'101', N'abc', _utf8mb4'x'", def, "W:SELECT S:X'4142' ,:, S:x'41' ,:, S:b'101' ,:, S:N'abc' ,:, W:_utf8mb4 S:'x'"},
		{"SELECT 0x1F, 0b101, 1.5e3, .5, 12, 1e", def, "W:SELECT N:0x1F ,:, N:0b101 ,:, N:1.5e3 ,:, N:.5 ,:, N:12 ,:, W:1e"},
		{"SELECT 1st_place, 0X1F, 123abc FROM t1", def, "W:SELECT W:1st_place ,:, W:0X1F ,:, W:123abc W:FROM W:t1"},
		{"SELECT 0xg, 0Xreturning, 0b12, 0x1Fz, 0x1F FROM t", def, "W:SELECT W:0xg ,:, W:0Xreturning ,:, W:0b12 ,:, W:0x1Fz ,:, N:0x1F W:FROM W:t"},
		// Right after a name and a dot comes a name, even one that begins with a digit.
		{"UPDATE db.0a SET t.1e5 = `t`.5, x = t .5, y = t. 5", def,
			"W:UPDATE W:db .:. W:0a W:SET W:t .:. W:1e5 O:= Q:`t` .:. W:5 ,:, W:x O:= W:t N:.5 ,:, W:y O:= W:t .:. N:5"},
		// Variables are words, not parameters.
		{"SET @x := 1, @`y z` = 2, @'w' = 3, @@session.sql_mode = '', @@autocommit = 0", def,
			"W:SET W:@x O::= N:1 ,:, W:@`y z` O:= N:2 ,:, W:@'w' O:= N:3 ,:, W:@@session.sql_mode O:= S:'' ,:, W:@@autocommit O:= N:0"},
		{"SELECT a <=> b, j->>'$.x', j->'$.y', a && b, a || b FROM t", def,
			"W:SELECT W:a O:<=> W:b ,:, W:j O:->> S:'$.x' ,:, W:j O:-> S:'$.y' ,:, W:a O:&& W:b ,:, W:a O:|| W:b W:FROM W:t"},
		{"INSERT INTO t (a) VALUES (?) ON DUPLICATE KEY UPDATE a = VALUES(a)", def,
			"W:INSERT W:INTO W:t (:( W:a ):) W:VALUES (:( P:? ):) W:ON W:DUPLICATE W:KEY W:UPDATE W:a O:= W:VALUES (:( W:a ):)"},
	} {
		got, err := mysqlTokens(t, c.src, c.mode)
		if err != nil {
			t.Errorf("lexMySQL(%q, %+v): %v", c.src, c.mode, err)
			continue
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("lexMySQL(%q, %+v)\n got %s\nwant %s", c.src, c.mode, strings.Join(got, " "), c.want)
		}
	}
}

// TestLexMySQLErrors: text the server would read in a way the lexer does
// not follow is an error, never a guess.
func TestLexMySQLErrors(t *testing.T) {
	for _, c := range []struct {
		src  string
		mode MySQLMode
		want string
	}{
		{"SELECT 1 /*! , (SELECT 1 FROM users) */", MySQLMode{}, "executable comment"},
		{"SELECT 1 /*!50110 KEY_BLOCK_SIZE=1024 */", MySQLMode{}, "executable comment"},
		{"SELECT 1 /*M!100100 , 2 */", MySQLMode{}, "executable comment"},
		{"SELECT 1 /* open", MySQLMode{}, "unterminated /* comment"},
		{"SELECT 'open", MySQLMode{}, "unterminated string"},
		{`SELECT 'a\'`, MySQLMode{}, "unterminated string"},
		{`SELECT "open`, MySQLMode{ANSIQuotes: true}, "unterminated quoted identifier"},
		{"SELECT `open", MySQLMode{}, "unterminated quoted identifier"},
		{"SELECT @ FROM t", MySQLMode{}, "variable name"},
		{"SELECT 1\x00; DELETE FROM users", MySQLMode{}, "NUL"},
	} {
		_, err := mysqlTokens(t, c.src, c.mode)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("lexMySQL(%q, %+v) = %v, want an error with %q", c.src, c.mode, err, c.want)
		}
	}
	// A backslash-escaped quote is closed in NO_BACKSLASH_ESCAPES.
	if _, err := mysqlTokens(t, `SELECT 'a\'`, MySQLMode{NoBackslashEscapes: true}); err != nil {
		t.Errorf("NO_BACKSLASH_ESCAPES: %v", err)
	}
}

// FuzzLexMySQL: on any input and mode, the lexer returns tokens with valid
// increasing spans or an error, and never panics.
func FuzzLexMySQL(f *testing.F) {
	for _, s := range []string{"SELECT `a``b`, 'x\\'y', \"z\" -- c\n#d\n/* e */ @@s.v ?", "/*!", "@'", "0x", "--", "1e+"} {
		f.Add(s, false, false)
	}
	f.Fuzz(func(t *testing.T, src string, ansi, nobs bool) {
		_, _ = mysqlTokens(t, src, MySQLMode{ANSIQuotes: ansi, NoBackslashEscapes: nobs})
	})
}
