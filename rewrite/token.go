package rewrite

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
type Token struct {
	Kind       TokenKind
	Start, End int
}

// Trivia reports whether the token carries no meaning (space or comment).
func (t Token) Trivia() bool { return t.Kind == Space || t.Kind == Comment }

// Text returns the token's source text.
func (t Token) Text(src string) string { return src[t.Start:t.End] }
