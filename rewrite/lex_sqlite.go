package rewrite

import (
	"fmt"
	"strings"
)

// lexSQLite splits SQLite SQL into significant tokens: white space and
// comments are dropped, offsets keep their place. It follows SQLite's
// tokenize.c: single-quoted strings, double-quoted, backquoted and bracketed
// identifiers, blob literals, ?NNN and :@$# named parameters, and block
// comments that run to the end when unterminated.
func lexSQLite(src string) ([]Token, error) {
	toks := make([]Token, 0, len(src)/4+4)
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		var kind TokenKind
		switch {
		case c == 0:
			// SQLite stops reading at a NUL: what follows would not run.
			return nil, lexError(start, "NUL byte in the statement")
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
			continue
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := indexFrom(src, "*/", i+2)
			if end < 0 {
				i = len(src)
			} else {
				i = end + 2
			}
			continue
		case c == '\'':
			end, ok := scanQuoted(src, i, '\'')
			if !ok {
				return nil, lexError(start, "unterminated string literal")
			}
			i, kind = end, String
		case c == '"' || c == '`':
			end, ok := scanQuoted(src, i, c)
			if !ok {
				return nil, lexError(start, "unterminated quoted identifier")
			}
			i, kind = end, QuotedIdent
		case c == '[':
			end := indexFrom(src, "]", i+1)
			if end < 0 {
				return nil, lexError(start, "unterminated [identifier]")
			}
			i, kind = end+1, QuotedIdent
		case (c == 'x' || c == 'X') && i+1 < len(src) && src[i+1] == '\'':
			end, ok := scanQuoted(src, i+1, '\'')
			if !ok {
				return nil, lexError(start, "unterminated blob literal")
			}
			i, kind = end, String
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			i, kind = scanNumber(src, i), Number
		case c == '?':
			i++
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			kind = Param
		case c == ':' || c == '@' || c == '#' || c == '$':
			end, ok := scanVariable(src, i)
			if !ok {
				return nil, lexError(start, fmt.Sprintf("%q is not followed by a parameter name", c))
			}
			i, kind = end, Param
		case isIdentStart(c):
			i, kind = scanWord(src, i), Word
		case single[c] != Space:
			i, kind = i+1, single[c]
		default:
			i, kind = scanOperator(src, i), Punct
		}
		toks = append(toks, Token{Kind: kind, Start: int32(start), End: int32(i)})
	}
	return toks, nil
}

// scanQuoted returns the offset just past the quote that closes the one at
// src[i], where a doubled quote stands for itself.
func scanQuoted(src string, i int, q byte) (int, bool) {
	for j := i + 1; j < len(src); j++ {
		if src[j] == q {
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return len(src), false
}

func scanNumber(src string, i int) int {
	if src[i] == '0' && i+1 < len(src) && (src[i+1] == 'x' || src[i+1] == 'X') {
		i += 2
		for i < len(src) && (isHex(src[i]) || src[i] == '_') {
			i++
		}
		return i
	}
	for i < len(src) && (isDigit(src[i]) || src[i] == '_') {
		i++
	}
	if i < len(src) && src[i] == '.' {
		i++
		for i < len(src) && (isDigit(src[i]) || src[i] == '_') {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			i = j
			for i < len(src) && isDigit(src[i]) {
				i++
			}
		}
	}
	// SQLite reads "12abc" as one (bad) token; keep identifier characters with it.
	for i < len(src) && isIdentChar(src[i]) {
		i++
	}
	return i
}

// scanVariable reads a named parameter at src[i] as SQLite's tokenizer
// does: identifier characters, "::" anywhere, and one "(...)" suffix (with
// no white space in it) that ends the name.
func scanVariable(src string, i int) (int, bool) {
	n := 0
	for i++; i < len(src); i++ {
		c := src[i]
		switch {
		case isIdentChar(c):
			n++
		case c == '(' && n > 0:
			for i++; i < len(src) && src[i] != ')' && !isSpace(src[i]); i++ {
			}
			if i < len(src) && src[i] == ')' {
				return i + 1, true
			}
			return i, false
		case c == ':' && i+1 < len(src) && src[i+1] == ':':
			i++
		default:
			return i, n > 0
		}
	}
	return i, n > 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func scanOperator(src string, i int) int {
	for _, op := range [...]string{"->>", "->", "||", "<=", ">=", "<>", "!=", "==", "<<", ">>"} {
		if len(src)-i >= len(op) && src[i:i+len(op)] == op {
			return i + len(op)
		}
	}
	return i + 1
}

func indexFrom(s, sub string, from int) int {
	if j := strings.Index(s[from:], sub); j >= 0 {
		return from + j
	}
	return -1
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isHex(c byte) bool        { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80 }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '$' }

// LexError reports SQL text the lexer cannot split into tokens.
type LexError struct {
	Offset int
	Msg    string
}

func (e *LexError) Error() string { return fmt.Sprintf("at offset %d: %s", e.Offset, e.Msg) }

func lexError(at int, msg string) error { return &LexError{Offset: at, Msg: msg} }
