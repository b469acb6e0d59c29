package rewrite_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

func TestLexPostgres(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []tok
	}{
		{"empty", "", []tok{}},
		{"only space", " \t\r\n\f\v", []tok{}},

		// Comments.
		{"line comment", "a -- comment\nb", []tok{W("a"), W("b")}},
		{"line comment at end", "1 --comment", []tok{N("1")}},
		{"line comment ends at CR", "a --c\r'x'", []tok{W("a"), S("'x'")}},
		{"block comment", "a/* x */b", []tok{W("a"), W("b")}},
		{"nested block comment", "/* /* */ */ x", []tok{W("x")}},
		{"deeper nesting", "a /* 1 /* 2 /* 3 */ 2 */ 1 */ b", []tok{W("a"), W("b")}},
		{"star-slash-star inside", "/*/ x */ y", []tok{W("y")}},
		{"empty block comment", "/**/x/***/", []tok{W("x")}},
		{"comment markers in strings", "'-- /* x' \"/*\"", []tok{S("'-- /* x'"), Q(`"/*"`)}},

		// Strings.
		{"string", "'abc'", []tok{S("'abc'")}},
		{"doubled quote", "'it''s' x", []tok{S("'it''s'"), W("x")}},
		{"empty string", "''", []tok{S("''")}},
		{"backslash is literal", `'a\' x`, []tok{S(`'a\'`), W("x")}},
		{"string with newline", "'a\nb'", []tok{S("'a\nb'")}},
		{"escape string", `E'it\'s'`, []tok{S(`E'it\'s'`)}},
		{"escape string lower-case", `e'\\' x`, []tok{S(`e'\\'`), W("x")}},
		{"escape string doubled quote", `E'a''b\\'`, []tok{S(`E'a''b\\'`)}},
		{"escape string escaped newline and octal", "E'\\\n\\047'", []tok{S("E'\\\n\\047'")}},
		{"bit strings", "B'0101' b'' X'1F' x'ab'", []tok{S("B'0101'"), S("b''"), S("X'1F'"), S("x'ab'")}},
		// B'..' knows no doubled quote: two literals (which the grammar rejects).
		{"bit string ends at first quote", "B'01''10'", []tok{S("B'01'"), S("'10'")}},
		{"national string", "N'abc'", []tok{W("N"), S("'abc'")}},
		{"word ending in e before string", "cafe'x'", []tok{W("cafe"), S("'x'")}},
		{"unicode string", `U&'d\0061t\+000061'`, []tok{S(`U&'d\0061t\+000061'`)}},
		{"unicode string backslash before quote", `u&'\' x`, []tok{S(`u&'\'`), W("x")}},
		{"unicode string uescape", `U&'d!0061t' UESCAPE '!'`, []tok{S(`U&'d!0061t'`), W("UESCAPE"), S("'!'")}},
		{"u and ampersand", "u&x", []tok{W("u"), O("&"), W("x")}},
		{"word ending in u before &'", "colu&'x'", []tok{W("colu"), O("&"), S("'x'")}},

		// Adjacent literals: PostgreSQL concatenates them when the white
		// space between holds a newline; each part is its own token, and a
		// part continues the escape rules of the first.
		{"continued string", "'a'\n'b'", []tok{S("'a'"), S("'b'")}},
		{"continued escape string", "E'a'\n'b\\'c'", []tok{S("E'a'"), S("'b\\'c'")}},
		{"continued escape string after comments", "E'a' -- c\n -- d\n'\\''", []tok{S("E'a'"), S(`'\''`)}},
		{"three parts", "E'a'\n'b'\r\n'\\''", []tok{S("E'a'"), S("'b'"), S(`'\''`)}},
		{"adjacent strings on one line", "'a' 'b'", []tok{S("'a'"), S("'b'")}},
		{"block comment stops continuation", "E'a' /* c */\n'b\\' x", []tok{S("E'a'"), S(`'b\'`), W("x")}},

		// Dollar quotes.
		{"dollar quote", "$$it's$$", []tok{S("$$it's$$")}},
		{"tagged dollar quote", "$fn$ select 'x' $fn$", []tok{S("$fn$ select 'x' $fn$")}},
		{"other tags inside", "$a$ $b$ $a$", []tok{S("$a$ $b$ $a$")}},
		{"tags are case-sensitive", "$A$ $a$ $A$", []tok{S("$A$ $a$ $A$")}},
		{"tag ends after junk", "$a$x$ba$a$ y", []tok{S("$a$x$ba$a$"), W("y")}},
		{"empty tag after junk", "$$x$y$$", []tok{S("$$x$y$$")}},
		{"tag with digits and non-ascii", "$_1é$ 'x $_1é$", []tok{S("$_1é$ 'x $_1é$")}},
		{"dollar quote in a function body", "AS $$ SELECT $1 $$ LANGUAGE sql", []tok{W("AS"), S("$$ SELECT $1 $$"), W("LANGUAGE"), W("sql")}},

		// Identifiers.
		{"words", "SELECT a_1, _b$c FROM t", []tok{W("SELECT"), W("a_1"), comma, W("_b$c"), W("FROM"), W("t")}},
		{"dollar digits inside a word", "a$1 a$$", []tok{W("a$1"), W("a$$")}},
		{"non-ascii word", "SELECT héllo", []tok{W("SELECT"), W("héllo")}},
		{"quoted ident", `"my ""col"""`, []tok{Q(`"my ""col"""`)}},
		{"qualified", `s."T".c`, []tok{W("s"), dot, Q(`"T"`), dot, W("c")}},
		{"unicode quoted ident", `U&"d\0061t\+000061"`, []tok{Q(`U&"d\0061t\+000061"`)}},
		{"unicode quoted ident uescape", `u&"d!0061t" UESCAPE '!'`, []tok{Q(`u&"d!0061t"`), W("UESCAPE"), S("'!'")}},

		// Parameters.
		{"params", "$1, $23", []tok{P("$1"), comma, P("$23")}},
		{"param cast", "$1::int", []tok{P("$1"), O("::"), W("int")}},
		{"param after number", "1$1", []tok{N("1"), P("$1")}},
		{"question mark is an operator", "a ? b", []tok{W("a"), O("?"), W("b")}},

		// Numbers.
		{"integers", "0 42 1_000 007", []tok{N("0"), N("42"), N("1_000"), N("007")}},
		{"decimals", "1.5 .5 3. 1_0.0_1", []tok{N("1.5"), N(".5"), N("3."), N("1_0.0_1")}},
		{"exponents", "1e10 1.5E-3 4e+7 .5e1 3.e2 1e1_0", []tok{N("1e10"), N("1.5E-3"), N("4e+7"), N(".5e1"), N("3.e2"), N("1e1_0")}},
		{"hex octal binary", "0x1F 0X_ff 0o17 0O1_7 0b101 0B1_0", []tok{N("0x1F"), N("0X_ff"), N("0o17"), N("0O1_7"), N("0b101"), N("0B1_0")}},
		{"dot dot", "1..2", []tok{N("1"), O(".."), N("2")}},
		{"two decimals", "1.2.3", []tok{N("1.2"), N(".3")}},
		{"dot then number", "t.5", []tok{W("t"), N(".5")}},
		{"number before dollar", "1$$x$$", []tok{N("1"), S("$$x$$")}},

		// Operators.
		{"json operators", "x->>'k' || x->'c' #> p #>> q", []tok{
			W("x"), O("->>"), S("'k'"), O("||"), W("x"), O("->"), S("'c'"), O("#>"), W("p"), O("#>>"), W("q")}},
		{"containment", "a @> b", []tok{W("a"), O("@>"), W("b")}},
		{"contained", "a<@b", []tok{W("a"), O("<@"), W("b")}},
		{"jsonb key operators", "a ?| b ?& c && d", []tok{W("a"), O("?|"), W("b"), O("?&"), W("c"), O("&&"), W("d")}},
		{"assignment and named arg", "f(a => 1, b := 2)", []tok{W("f"), lp, W("a"), O("=>"), N("1"), comma, W("b"), O(":="), N("2"), rp}},
		{"comparisons", "a<>b!=c<=d>=e<f>g=h", []tok{
			W("a"), O("<>"), W("b"), O("!="), W("c"), O("<="), W("d"), O(">="), W("e"), O("<"), W("f"), O(">"), W("g"), O("="), W("h")}},
		// a-+1 is a - (+1): a trailing + or - is trimmed from an operator
		// made only of SQL operator characters.
		{"minus plus", "a-+1", []tok{W("a"), O("-"), O("+"), N("1")}},
		{"equals minus", "a=-1", []tok{W("a"), O("="), O("-"), N("1")}},
		{"several trailing signs", "a<=+-1", []tok{W("a"), O("<="), O("+"), O("-"), N("1")}},
		{"star minus", "a*-1", []tok{W("a"), O("*"), O("-"), N("1")}},
		// ... but kept when the operator holds a character SQL operators lack.
		{"at minus", "a@-1", []tok{W("a"), O("@-"), N("1")}},
		{"question minus", "a?-b", []tok{W("a"), O("?-"), W("b")}},
		{"percent minus", "a%-b", []tok{W("a"), O("%-"), W("b")}},
		{"regex operators", "a !~* b ~~ c !~~ d", []tok{W("a"), O("!~*"), W("b"), O("~~"), W("c"), O("!~~"), W("d")}},
		{"backquote operator", "a `| b", []tok{W("a"), O("`|"), W("b")}},
		{"comment start ends an operator", "1-/**/-2", []tok{N("1"), O("-"), O("-"), N("2")}},
		{"dash dash ends an operator", "a +--x\nb", []tok{W("a"), O("+"), W("b")}},
		{"star then comment", "a */*x*/", []tok{W("a"), O("*")}},
		{"cast", "x::text[]", []tok{W("x"), O("::"), W("text"), O("["), O("]")}},
		{"array slice", "a[1:2]", []tok{W("a"), O("["), N("1"), O(":"), N("2"), O("]")}},
		{"triple colon", "a:::b", []tok{W("a"), O("::"), O(":"), W("b")}},
		{"other characters", `\ { }`, []tok{O(`\`), O("{"), O("}")}},

		{"punctuation", "f(a,b);", []tok{W("f"), lp, W("a"), comma, W("b"), rp, semi}},
		{"statement", "UPDATE users SET n = n + $1 WHERE id = $2 RETURNING id; -- done", []tok{
			W("UPDATE"), W("users"), W("SET"), W("n"), O("="), W("n"), O("+"), P("$1"),
			W("WHERE"), W("id"), O("="), P("$2"), W("RETURNING"), W("id"), semi}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lexTexts(t, rewrite.Postgres, tt.src)
			if err != nil {
				t.Fatalf("rewrite.Postgres.Lex(%q): %v", tt.src, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rewrite.Postgres.Lex(%q)\n got %v\nwant %v", tt.src, got, tt.want)
			}
		})
	}
}

func TestLexPostgresErrors(t *testing.T) {
	testLexErrors(t, rewrite.Postgres, []lexErrorCase{
		{"SELECT 'abc", 7, "unterminated quoted string"},
		{"SELECT 'it''s", 7, "unterminated quoted string"},
		{`SELECT E'it\'`, 7, "unterminated quoted string"},
		{`SELECT E'abc\`, 7, "unterminated quoted string"},
		{`SELECT U&'abc`, 7, "unterminated quoted string"},
		// As in scan.l, at the start of the whole (continued) literal.
		{"SELECT 'a'\n'b", 7, "unterminated quoted string"},
		// In plain mode '\'' is a quote, a backslash, a doubled quote.
		{`SELECT '\''`, 7, "unterminated quoted string"},
		// A block comment does not continue E'a', so 'b\' is a plain string.
		{"SELECT E'a' /* c */\n'b\\'c'", 25, "unterminated quoted string"},
		{"SELECT B'01", 7, "unterminated bit string"},
		{"SELECT X'1F", 7, "unterminated hexadecimal string"},
		{"SELECT $a$ x $b$", 7, "unterminated dollar-quoted string"},
		{"SELECT $A$ x $a$", 7, "unterminated dollar-quoted string"},
		{"SELECT $$ x $", 7, "unterminated dollar-quoted string"},
		{`SELECT "abc`, 7, "unterminated quoted identifier"},
		{`SELECT "a""`, 7, "unterminated quoted identifier"},
		{`SELECT U&"abc`, 7, "unterminated quoted identifier"},
		{`SELECT ""`, 7, "zero-length delimited identifier"},
		{`SELECT U&""`, 7, "zero-length delimited identifier"},
		{"SELECT /* a /* b */ c", 7, "unterminated /* comment"},
		{"SELECT /*/", 7, "unterminated /* comment"},
		{"SELECT 12abc", 7, "trailing junk after numeric literal"},
		{"SELECT 1.5x", 7, "trailing junk after numeric literal"},
		{"SELECT 1e", 7, "trailing junk after numeric literal"},
		{"SELECT 1e+", 7, "trailing junk after numeric literal"},
		{"SELECT 1_", 7, "trailing junk after numeric literal"},
		{"SELECT 1__000", 7, "trailing junk after numeric literal"},
		{"SELECT 0x1FG", 7, "trailing junk after numeric literal"},
		{"SELECT 0b102", 7, "trailing junk after numeric literal"},
		{"SELECT 0x", 7, "invalid hexadecimal integer"},
		{"SELECT 0o_", 7, "invalid octal integer"},
		{"SELECT 0b", 7, "invalid binary integer"},
		{"SELECT $1a", 7, "trailing junk after parameter"},
		{"SELECT $1_0", 7, "trailing junk after parameter"},
		{"SELECT $", 7, "neither a parameter"},
		{"SELECT $a + 1", 7, "neither a parameter"},
		{"SELECT 1\x00 2", 8, "NUL byte"},
		{"SELECT 1 " + strings.Repeat("~", 64) + " 2", 9, "operator too long"},
		{"-- c\n'", 5, "unterminated quoted string"},
	})
	// An operator of 63 characters is still allowed (NAMEDATALEN is 64).
	if _, err := rewrite.Postgres.Lex("1 " + strings.Repeat("~", 63) + " 2"); err != nil {
		t.Errorf("63-character operator: %v", err)
	}
}

// pgSkipTrivia returns the offset past the white space and comments at
// gap[i:], which must all lie inside gap.
func pgSkipTrivia(gap string) (int, bool) {
	i := 0
	for i < len(gap) {
		switch {
		case strings.IndexByte(" \t\n\r\f\v", gap[i]) >= 0:
			i++
		case strings.HasPrefix(gap[i:], "--"):
			for i < len(gap) && gap[i] != '\n' && gap[i] != '\r' {
				i++
			}
		case strings.HasPrefix(gap[i:], "/*"):
			depth := 0
			i += 2
			for {
				if i+1 >= len(gap) {
					return i, false
				}
				if gap[i] == '/' && gap[i+1] == '*' {
					depth++
					i += 2
				} else if gap[i] == '*' && gap[i+1] == '/' {
					i += 2
					if depth == 0 {
						break
					}
					depth--
				} else {
					i++
				}
			}
		default:
			return i, false
		}
	}
	return i, true
}

func FuzzLexPostgres(f *testing.F) {
	for _, s := range []string{
		"", "SELECT 1", "$1::int", "'it''s'", `E'it\'s'`, "$fn$ select 'x' $fn$", "$a$ $b$ $a$",
		"/* /* */ */ x", "a$1", "x->>'k'", "a @> b", "a<@b", "1 --comment", "a-+1", `U&"d\0061t\+000061"`,
		"E'a'\n'b\\'c'", "E'a' -- c\n'\\''", "1..2", "0x1F 0o17 0b1_01 1_000.5e-3", "a[1:2]", "*/*x*/",
		"UPDATE t SET a = $1 WHERE b = $2 RETURNING id", "B'01'\n'10'", "U&'x' UESCAPE '!'", `"a""b"`,
		"a +--x\nb", "f(a => 1, b := 2)", "$$", "/*", "'", `E'\`, "0x", "1e+", "\x00", "$_é$ $_é$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		toks, err := rewrite.Postgres.Lex(src)
		if err != nil {
			var le *rewrite.LexError
			if !errors.As(err, &le) || le.Offset < 0 || le.Offset > len(src) {
				t.Fatalf("rewrite.Postgres.Lex(%q) error %v, want a *rewrite.LexError with an offset in the text", src, err)
			}
			return
		}
		prev := 0
		for i, k := range toks {
			if int(k.Start) < prev || k.End <= k.Start || int(k.End) > len(src) {
				t.Fatalf("rewrite.Postgres.Lex(%q): token %d has bad span [%d,%d) after %d", src, i, k.Start, k.End, prev)
			}
			if k.Trivia() {
				t.Fatalf("rewrite.Postgres.Lex(%q): token %d is trivia", src, i)
			}
			if n, ok := pgSkipTrivia(src[prev:k.Start]); !ok {
				t.Fatalf("rewrite.Postgres.Lex(%q): byte %d, between tokens, is neither white space nor in a comment", src, prev+n)
			}
			// A token lexes alone as itself, but for a part of a continued
			// string, which keeps the escape rules of the part before it.
			continued := k.Kind == rewrite.String && src[k.Start] == '\'' && i > 0 && toks[i-1].Kind == rewrite.String
			if !continued {
				text := k.Text(src)
				alone, err := rewrite.Postgres.Lex(text)
				if err != nil || len(alone) != 1 || alone[0].Kind != k.Kind || int(alone[0].End) != len(text) {
					t.Fatalf("rewrite.Postgres.Lex(%q): token %d %s(%q) lexes alone as %v, %v", src, i, kindNames[k.Kind], text, alone, err)
				}
			}
			prev = int(k.End)
		}
		if n, ok := pgSkipTrivia(src[prev:]); !ok {
			t.Fatalf("rewrite.Postgres.Lex(%q): byte %d, after the last token, is neither white space nor in a comment", src, prev+n)
		}
	})
}
