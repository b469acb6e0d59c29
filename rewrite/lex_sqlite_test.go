package rewrite_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

// tok is a token as a test expects it: its kind and its text.
type tok struct {
	kind rewrite.TokenKind
	text string
}

var kindNames = map[rewrite.TokenKind]string{
	rewrite.Space: "Space", rewrite.Comment: "Comment", rewrite.Word: "Word",
	rewrite.QuotedIdent: "QuotedIdent", rewrite.String: "String", rewrite.Number: "Number",
	rewrite.Param: "Param", rewrite.Punct: "Punct", rewrite.LParen: "LParen",
	rewrite.RParen: "RParen", rewrite.Comma: "Comma", rewrite.Dot: "Dot",
	rewrite.Semicolon: "Semicolon",
}

func (t tok) String() string { return fmt.Sprintf("%s(%q)", kindNames[t.kind], t.text) }

// The tokens of the lexer tests' expectations, by kind.
func W(s string) tok { return tok{rewrite.Word, s} }
func Q(s string) tok { return tok{rewrite.QuotedIdent, s} }
func S(s string) tok { return tok{rewrite.String, s} }
func N(s string) tok { return tok{rewrite.Number, s} }
func P(s string) tok { return tok{rewrite.Param, s} }
func O(s string) tok { return tok{rewrite.Punct, s} }

var (
	lp, rp           = tok{rewrite.LParen, "("}, tok{rewrite.RParen, ")"}
	comma, dot, semi = tok{rewrite.Comma, ","}, tok{rewrite.Dot, "."}, tok{rewrite.Semicolon, ";"}
)

// lexTexts lexes src in the dialect and returns the tokens as kind and
// text, checking that offsets are in range and increasing.
func lexTexts(t testing.TB, d *rewrite.Dialect, src string) ([]tok, error) {
	t.Helper()
	toks, err := d.Lex(src)
	if err != nil {
		return nil, err
	}
	out := make([]tok, len(toks))
	var prev int32
	for i, k := range toks {
		if k.Start < prev || k.End <= k.Start || int(k.End) > len(src) {
			t.Fatalf("Lex(%q): token %d has bad span [%d,%d) after %d", src, i, k.Start, k.End, prev)
		}
		if k.Trivia() {
			t.Errorf("Lex(%q): token %d is trivia %s; the lexers drop white space and comments", src, i, kindNames[k.Kind])
		}
		prev = k.End
		out[i] = tok{k.Kind, k.Text(src)}
	}
	return out, nil
}

func TestLexSQLite(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []tok
	}{
		{"empty", "", []tok{}},
		{"only space", " \t\r\n\f", []tok{}},
		{"words", "SELECT a_1, _b$c FROM t", []tok{W("SELECT"), W("a_1"), comma, W("_b$c"), W("FROM"), W("t")}},
		{"non-ascii word", "SELECT héllo", []tok{W("SELECT"), W("héllo")}},
		{"string", "'abc'", []tok{S("'abc'")}},
		{"string with escaped quote", "'it''s' x", []tok{S("'it''s'"), W("x")}},
		{"string of quotes", "''''''", []tok{S("''''''")}},
		{"empty string", "''", []tok{S("''")}},
		{"string keeps comment markers", "'-- /* x */'", []tok{S("'-- /* x */'")}},
		{"string with newline", "'a\nb'", []tok{S("'a\nb'")}},
		{"double-quoted ident", `"my ""col"""`, []tok{Q(`"my ""col"""`)}},
		{"backquoted ident", "`a``b`.c", []tok{Q("`a``b`"), dot, W("c")}},
		{"bracketed ident", "[a b].[c\"d]", []tok{Q("[a b]"), dot, Q(`[c"d]`)}},
		{"blob", "x'0aFF' X'' xy", []tok{S("x'0aFF'"), S("X''"), W("xy")}},
		{"word ending in x before string", "max'a'", []tok{W("max"), S("'a'")}},
		{"integers", "0 42 1_000", []tok{N("0"), N("42"), N("1_000")}},
		{"hex", "0x1F 0XaB_cd", []tok{N("0x1F"), N("0XaB_cd")}},
		{"decimals", "1.5 .5 3. 1.5e10 2E-3 4e+7", []tok{N("1.5"), N(".5"), N("3."), N("1.5e10"), N("2E-3"), N("4e+7")}},
		{"exponent without digits stays with the number", "1e+ x", []tok{N("1e"), O("+"), W("x")}},
		{"number glued to word", "12abc", []tok{N("12abc")}},
		{"dot then number", "t.5", []tok{W("t"), N(".5")}},
		{"qualified name", "main.users", []tok{W("main"), dot, W("users")}},
		{"anonymous params", "?,?", []tok{P("?"), comma, P("?")}},
		{"numbered params", "?12 ?1x", []tok{P("?12"), P("?1"), W("x")}},
		{"named params", ":a @b $c #d :1", []tok{P(":a"), P("@b"), P("$c"), P("#d"), P(":1")}},
		{"named param with $ inside", ":a$b", []tok{P(":a$b")}},
		{"tcl param", "$a::b(c) + 1", []tok{P("$a::b(c)"), O("+"), N("1")}},
		{"tcl param without paren", "$a::b::c", []tok{P("$a::b::c")}},
		{"line comment", "a -- comment\nb", []tok{W("a"), W("b")}},
		{"line comment at end", "a -- comment", []tok{W("a")}},
		{"block comment", "a/* x */b", []tok{W("a"), W("b")}},
		{"block comment does not nest", "a /* /* */ b */", []tok{W("a"), W("b"), O("*"), O("/")}},
		{"unterminated block comment runs to the end", "a /* b 'c", []tok{W("a")}},
		{"comment markers split operators", "1-/**/-2", []tok{N("1"), O("-"), O("-"), N("2")}},
		{"minus then comment", "1 - -- x\n2", []tok{N("1"), O("-"), N("2")}},
		{"json operators", "a->>'$.b' || a->'c'", []tok{W("a"), O("->>"), S("'$.b'"), O("||"), W("a"), O("->"), S("'c'")}},
		{"comparisons", "a<>b==c!=d<=e>=f<g>h=i", []tok{
			W("a"), O("<>"), W("b"), O("=="), W("c"), O("!="), W("d"), O("<="), W("e"),
			O(">="), W("f"), O("<"), W("g"), O(">"), W("h"), O("="), W("i")}},
		{"shifts and bit ops", "a<<1>>2&3|4~5", []tok{W("a"), O("<<"), N("1"), O(">>"), N("2"), O("&"), N("3"), O("|"), N("4"), O("~"), N("5")}},
		{"arithmetic", "a*b/c%d+e-f", []tok{W("a"), O("*"), W("b"), O("/"), W("c"), O("%"), W("d"), O("+"), W("e"), O("-"), W("f")}},
		{"punctuation", "f(a,b);", []tok{W("f"), lp, W("a"), comma, W("b"), rp, semi}},
		{"statement", "UPDATE users SET n = n + ?1 WHERE id = :id; -- done", []tok{
			W("UPDATE"), W("users"), W("SET"), W("n"), O("="), W("n"), O("+"), P("?1"),
			W("WHERE"), W("id"), O("="), P(":id"), semi}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lexTexts(t, rewrite.SQLite, tt.src)
			if err != nil {
				t.Fatalf("Lex(%q): %v", tt.src, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Lex(%q)\n got %v\nwant %v", tt.src, got, tt.want)
			}
		})
	}
}

func TestLexSQLiteErrors(t *testing.T) {
	testLexErrors(t, rewrite.SQLite, []lexErrorCase{
		{"SELECT 'abc", 7, "unterminated string"},
		{"SELECT $a(b", 7, "not followed by a parameter name"}, // SQLite: TK_ILLEGAL
		{"SELECT 1\x00 2", 8, "NUL byte"},
		{"SELECT 'it''s", 7, "unterminated string"},
		{`SELECT "abc`, 7, "unterminated quoted identifier"},
		{"SELECT `abc", 7, "unterminated quoted identifier"},
		{"SELECT [abc", 7, "unterminated [identifier]"},
		{"SELECT x'00", 7, "unterminated blob"},
		{"SELECT a FROM t WHERE b = :", 26, "parameter name"},
		{"SELECT @ + 1", 7, "parameter name"},
		{"SELECT $", 7, "parameter name"},
		{"-- c\n'", 5, "unterminated string"},
	})
}

// lexErrorCase is a text a lexer must reject at an offset with a message.
type lexErrorCase struct {
	src    string
	offset int
	msg    string // a part of the message
}

// testLexErrors checks that the dialect's Lex and Analyze reject each text
// with a *rewrite.LexError at its offset and with its message.
func testLexErrors(t *testing.T, d *rewrite.Dialect, tests []lexErrorCase) {
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			toks, err := d.Lex(tt.src)
			if err == nil {
				t.Fatalf("Lex(%q) = %d tokens, want an error", tt.src, len(toks))
			}
			var le *rewrite.LexError
			if !errors.As(err, &le) {
				t.Fatalf("Lex(%q) error %T %v, want *rewrite.LexError", tt.src, err, err)
			}
			if le.Offset != tt.offset || !strings.Contains(le.Msg, tt.msg) {
				t.Errorf("Lex(%q) = offset %d %q, want offset %d containing %q", tt.src, le.Offset, le.Msg, tt.offset, tt.msg)
			}
			if want := fmt.Sprintf("at offset %d:", tt.offset); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
			// Analyze reports the same error.
			if _, aerr := d.Analyze(tt.src); !errors.As(aerr, &le) {
				t.Errorf("Analyze(%q) error = %v, want *rewrite.LexError", tt.src, aerr)
			}
		})
	}
}

// TestLexSQLiteTclParams checks the parameter suffixes SQLite's tokenize.c
// accepts after every named-parameter prefix (:, @, # and $), not only $.
func TestLexSQLiteTclParams(t *testing.T) {
	for _, src := range []string{":a::b", "@a(x)", "#a::b(y)"} {
		t.Run(src, func(t *testing.T) {
			got, err := lexTexts(t, rewrite.SQLite, src)
			want := []tok{{rewrite.Param, src}}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("Lex(%q) = %v, %v; SQLite's tokenize.c reads the whole text as one variable "+
					"(the ::name and (...) suffixes apply to :, @, # and $ alike), so the lexer splits or rejects a "+
					"parameter SQLite accepts", src, got, err)
			}
		})
	}
}

func TestTokenText(t *testing.T) {
	src := "DELETE FROM t"
	toks, err := rewrite.SQLite.Lex(src)
	if err != nil {
		t.Fatal(err)
	}
	if got := toks[1].Text(src); got != "FROM" || toks[1].Start != 7 || toks[1].End != 11 {
		t.Errorf("token 1 = %q [%d,%d), want FROM [7,11)", got, toks[1].Start, toks[1].End)
	}
	if (rewrite.Token{Kind: rewrite.Comment}).Trivia() != true || (rewrite.Token{Kind: rewrite.Word}).Trivia() {
		t.Error("Trivia: want true for Comment, false for Word")
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Users", "users"},
		{`"Us""ers"`, `us"ers`},
		{"`Us``ers`", "us`ers"},
		{"[Users]", "users"},
		{"'Us''ers'", "us'ers"},
	}
	for _, tt := range tests {
		if got := rewrite.SQLite.Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := rewrite.SQLite.Quote(`a"b`); got != `"a""b"` {
		t.Errorf("Quote = %s", got)
	}
	if got := rewrite.SQLite.Placeholder(12); got != "?12" {
		t.Errorf("Placeholder(12) = %s", got)
	}
	if rewrite.DialectByName("sqlite") != rewrite.SQLite || rewrite.DialectByName("oracle") != nil {
		t.Error("DialectByName")
	}
}
