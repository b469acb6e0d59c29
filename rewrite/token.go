package rewrite

import "math"

// TokenKind classifies a lexical token.
type TokenKind uint8

// Token kinds produced by a dialect's lexer.
const (
	Space       TokenKind = iota // white space
	Comment                      // -- line or /* block */ comment
	Word                         // bare identifier or keyword
	QuotedIdent                  // "x", `x` or [x]
	String                       // 'x', and dialect variants (x'..', E'..', $tag$..$tag$)
	Number                       // numeric literal
	Param                        // placeholder: ?, ?NNN, :name, @name, $name, $1
	Punct                        // operator or other punctuation
	LParen                       // (
	RParen                       // )
	Comma                        // ,
	Dot                          // .
	Semicolon                    // ;
)

// Token is one lexical token: its kind and its byte offsets in the statement text.
//
// Offsets are int32, so that a token takes 12 bytes rather than 24: the
// token slice is the largest allocation of planning a long statement (an
// INSERT of many rows). No database accepts a statement near 2 GiB
// (SQLite's SQLITE_MAX_SQL_LENGTH is at most 1 GB, PostgreSQL's and
// MySQL's limits are 1 GiB), and [Dialect.Lex] refuses text longer than
// [MaxStatementLen].
type Token struct {
	Kind       TokenKind
	Start, End int32
}

// MaxStatementLen is the longest statement text, in bytes, that
// [Dialect.Lex] splits into tokens: every offset fits in a Token.
const MaxStatementLen = math.MaxInt32

// Trivia reports whether the token carries no meaning (space or comment).
func (t Token) Trivia() bool { return t.Kind == Space || t.Kind == Comment }

// Text returns the token's source text.
func (t Token) Text(src string) string { return src[t.Start:t.End] }

// single maps the bytes that are tokens on their own in every dialect to
// their kinds; Space (the zero value) marks the others.
var single = [256]TokenKind{'(': LParen, ')': RParen, ',': Comma, ';': Semicolon, '.': Dot}

// scanWord returns the offset just past the bare word starting at src[i].
func scanWord(src string, i int) int {
	for i < len(src) && isIdentChar(src[i]) {
		i++
	}
	return i
}
