package rewrite

// MySQLMode is the part of a MySQL or MariaDB session's sql_mode that
// decides how its statements split into tokens. A statement lexed with
// another mode than the server's may hide a statement inside a string
// literal, or a string inside an identifier, so the mode is read on every
// connection and a statement that changes it is refused.
type MySQLMode struct {
	// ANSIQuotes: "..." is an identifier, not a string (ANSI_QUOTES).
	ANSIQuotes bool
	// NoBackslashEscapes: a backslash in a string literal is an ordinary
	// character (NO_BACKSLASH_ESCAPES).
	NoBackslashEscapes bool
}

// lexMySQL splits MySQL and MariaDB SQL into significant tokens, in the
// session's mode, as the server's lexer (sql_lex.cc) does:
//
//   - "#" comments to the end of the line; "--" starts one only when a
//     white space or control character (or the end of the text) follows,
//     and is otherwise two minus signs; "/* */" comments do not nest, and
//     one left open is an error;
//   - "/*!...*/" and "/*M!...*/" comments are SQL the server runs (when
//     its version is at least the number after the "!"): a statement with
//     one is refused rather than read two ways;
//   - '...' strings, and "..." unless ANSI_QUOTES makes it an identifier,
//     with a doubled quote and, unless NO_BACKSLASH_ESCAPES, a backslash
//     escaping the next byte; X'..', B'..' and N'..' literals are strings;
//   - `...` identifiers, with a doubled backquote; a bare identifier may
//     begin with a digit (1st_place), and is a number only when it reads as
//     one;
//   - "?" placeholders; @var, @'var', @@var and @@session.var variables
//     are words, as they are no parameters of the caller's.
func lexMySQL(src string, mode MySQLMode) ([]Token, error) {
	toks := make([]Token, 0, len(src)/4+4)
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		var kind TokenKind
		switch {
		case c == 0:
			return nil, lexError(start, "NUL byte in the statement")
		case c <= ' ':
			i++
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '-' && i+1 < len(src) && src[i+1] == '-' && (i+2 == len(src) || src[i+2] <= ' ' || src[i+2] == 0x7f):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			if i+2 < len(src) && (src[i+2] == '!' || src[i+2] == 'M' && i+3 < len(src) && src[i+3] == '!') {
				return nil, lexError(start, "an executable comment (/*! ... */ or /*M! ... */), whose text the server runs as SQL")
			}
			end := indexFrom(src, "*/", i+2)
			if end < 0 {
				return nil, lexError(start, "unterminated /* comment")
			}
			i = end + 2
			continue
		case c == '\'' || c == '"' && !mode.ANSIQuotes:
			end, ok := scanMySQLString(src, i, c, mode)
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
		case (c|0x20 == 'x' || c|0x20 == 'b' || c|0x20 == 'n') && i+1 < len(src) && src[i+1] == '\'':
			end, ok := scanMySQLString(src, i+1, '\'', mode)
			if !ok {
				return nil, lexError(start, "unterminated string literal")
			}
			i, kind = end, String
		case c == '@':
			end, ok := scanMySQLVariable(src, i, mode)
			if !ok {
				return nil, lexError(start, "@ is not followed by a variable name")
			}
			i, kind = end, Word
		case c == '.' && afterName(toks, start):
			// After a name, "." separates it from the next name, which
			// begins right after the dot even with a digit (t.1st, db.0a),
			// as the server's lexer reads them (MY_LEX_IDENT_SEP).
			i, kind = i+1, Dot
		case isDigit(c) && len(toks) > 0 && toks[len(toks)-1].Kind == Dot && int(toks[len(toks)-1].End) == start &&
			afterName(toks[:len(toks)-1], int(toks[len(toks)-1].Start)):
			i, kind = scanWord(src, i), Word
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			i = scanNumber(src, i)
			if c != '.' && i < len(src) && isIdentChar(src[i]) && !hasDot(src[start:i]) {
				i = scanWord(src, i) // 0xg, 0b12: the server reads one name
			}
			kind = Number
			if !mysqlNumber(src[start:i]) {
				kind = Word // 1st_place, 123abc, 0xg: identifiers
			}
		case c == '?':
			i, kind = i+1, Param
		case isIdentStart(c) || c == '$':
			i, kind = scanWord(src, i), Word
		case single[c] != Space:
			i, kind = i+1, single[c]
		default:
			i, kind = scanMySQLOperator(src, i), Punct
		}
		toks = append(toks, mkToken(kind, start, i))
	}
	return toks, nil
}

// hasDot reports whether s holds a dot.
func hasDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}

// afterName reports whether the last token of toks is a name (a word or
// a quoted identifier) that ends at offset at.
func afterName(toks []Token, at int) bool {
	if len(toks) == 0 {
		return false
	}
	last := toks[len(toks)-1]
	return int(last.End) == at && (last.Kind == Word || last.Kind == QuotedIdent)
}

// scanMySQLString returns the offset just past the quote q that closes the
// string at src[i]: a doubled quote stands for itself and, unless the mode
// says otherwise, a backslash escapes the byte after it.
func scanMySQLString(src string, i int, q byte, mode MySQLMode) (int, bool) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if !mode.NoBackslashEscapes {
				j++
			}
		case q:
			if j+1 < len(src) && src[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return len(src), false
}

// scanMySQLVariable returns the offset just past the variable at src[i]:
// "@" or "@@", then a name, bare or quoted ('..', "..", `..`), and for
// "@@" an optional scope ("@@session.name").
func scanMySQLVariable(src string, i int, mode MySQLMode) (int, bool) {
	i++
	system := i < len(src) && src[i] == '@'
	if system {
		i++
	}
	name := func(i int) (int, bool) {
		switch {
		case i >= len(src):
			return i, false
		case src[i] == '`' || src[i] == '"' && mode.ANSIQuotes:
			return scanQuoted(src, i, src[i])
		case src[i] == '\'' || src[i] == '"':
			return scanMySQLString(src, i, src[i], mode)
		}
		j := i
		for j < len(src) && (isIdentChar(src[j]) || !system && src[j] == '.') {
			j++
		}
		return j, j > i
	}
	end, ok := name(i)
	if ok && system && end < len(src) && src[end] == '.' {
		end, ok = name(end + 1)
	}
	return end, ok
}

// mysqlNumber reports whether a token that begins with a digit (or a dot)
// reads as a number: decimal with an optional fraction and exponent, or
// 0x hexadecimal, or 0b binary; anything else is an identifier.
func mysqlNumber(s string) bool {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'b') {
		for i := 2; i < len(s); i++ {
			if s[1] == 'x' && !isHex(s[i]) || s[1] == 'b' && s[i] != '0' && s[i] != '1' {
				return false
			}
		}
		return true
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for i = j; i < len(s) && isDigit(s[i]); i++ {
			}
		}
	}
	return i == len(s)
}

func scanMySQLOperator(src string, i int) int {
	for _, op := range [...]string{"<=>", "->>", "->", ":=", "||", "&&", "<=", ">=", "<>", "!=", "<<", ">>"} {
		if len(src)-i >= len(op) && src[i:i+len(op)] == op {
			return i + len(op)
		}
	}
	return i + 1
}

// mkToken makes the token of src[start:end].
func mkToken(kind TokenKind, start, end int) Token {
	return Token{Kind: kind, Start: int32(start), End: int32(end)}
}
