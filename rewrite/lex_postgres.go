package rewrite

import "strings"

// lexPostgres splits PostgreSQL SQL into significant tokens: white space and
// comments are dropped, offsets keep their place. It follows the token
// boundaries of PostgreSQL's scan.l (version 16 and later, with
// standard_conforming_strings on, the default since 9.1):
//
//   - "--" line comments and "/* */" block comments, which nest; an
//     unterminated block comment is an error.
//   - '...' strings, where backslash is an ordinary character; E'...' strings
//     with backslash escapes (\' does not end them); B'...' and X'...' bit
//     strings; U&'...' strings. Escapes are not checked, only skipped.
//     N'...' is the word N and a string, as in scan.l. PostgreSQL joins
//     string literals separated by white space that holds a newline into one
//     constant; each part is its own String token here, and a part goes on
//     with the escape rules of the first (E'a' <newline> 'b\'c' is two String
//     tokens, the second of which holds an escaped quote). U&'...' UESCAPE '!'
//     is the String, the Word UESCAPE and another String, as scan.l returns it.
//   - $$...$$ and $tag$...$tag$ dollar-quoted strings (tags are case-sensitive
//     and hold no $); $1, $23 parameters (Param). A $ that starts neither is
//     an error, where PostgreSQL's grammar would reject the lone $.
//   - bare identifiers and keywords (Word; $ and digits may follow the first
//     character, so a$1 is one Word), "..." and U&"..." quoted identifiers.
//   - numbers: 42, 1_000, 1.5, .5, 1e10, 0x1F, 0o17, 0b101. A number or a
//     parameter followed at once by an identifier character (12abc, 0x1FG,
//     $1a) is an error, as in PostgreSQL 15 and later ("trailing junk"); so
//     is 0x with no digits. 1..2 is the Number 1, the Punct "..", the Number 2.
//   - operators as scan.l forms them (Punct): the longest run of
//     ~ ! @ # ^ & | ` ? + - * / % < > =, cut before a "--" or "/*" inside it,
//     and, when it is longer than one character and ends in + or -, trimmed
//     of its trailing + and - unless it holds one of ~ ! @ # ^ & | ` ? %
//     (so a-+1 is a - + 1, and a@-1 is a @- 1). "::", ":=" and ".." are one
//     Punct each; a lone ":" (a[1:2]), "[" and "]" are Punct; ( ) , . ; have
//     their own kinds.
//
// Any other byte below 0x80 (\, {, } and control characters) is a one-byte
// Punct, as scan.l returns it; the grammar rejects them. A NUL byte is an
// error: the server reads the statement as a C string.
func lexPostgres(src string) ([]Token, error) {
	toks := make([]Token, 0, len(src)/4+4)
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		var kind TokenKind
		switch {
		case c == 0:
			return nil, lexError(start, "NUL byte in the statement")
		case pgIsSpace(c):
			i++
			continue
		case c == '-' && pgAt(src, i+1, '-'):
			i = pgLineEnd(src, i)
			continue
		case c == '/' && pgAt(src, i+1, '*'):
			end, ok := pgBlockComment(src, i)
			if !ok {
				return nil, lexError(start, "unterminated /* comment")
			}
			i = end
			continue
		case c == '\'':
			end, err := pgStrings(src, i, i, pgPlain, &toks)
			if err != nil {
				return nil, err
			}
			i = end
			continue
		case (c == 'e' || c == 'E') && pgAt(src, i+1, '\''):
			end, err := pgStrings(src, i, i+1, pgEscape, &toks)
			if err != nil {
				return nil, err
			}
			i = end
			continue
		case (c == 'b' || c == 'B' || c == 'x' || c == 'X') && pgAt(src, i+1, '\''):
			end, err := pgStrings(src, i, i+1, pgBits, &toks)
			if err != nil {
				return nil, err
			}
			i = end
			continue
		case (c == 'u' || c == 'U') && pgAt(src, i+1, '&') && pgAt(src, i+2, '\''):
			end, err := pgStrings(src, i, i+2, pgPlain, &toks)
			if err != nil {
				return nil, err
			}
			i = end
			continue
		case (c == 'u' || c == 'U') && pgAt(src, i+1, '&') && pgAt(src, i+2, '"'):
			end, err := pgQuotedIdent(src, i, i+2)
			if err != nil {
				return nil, err
			}
			i, kind = end, QuotedIdent
		case c == '"':
			end, err := pgQuotedIdent(src, i, i)
			if err != nil {
				return nil, err
			}
			i, kind = end, QuotedIdent
		case c == '$':
			end, k, err := pgDollar(src, i)
			if err != nil {
				return nil, err
			}
			i, kind = end, k
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			end, err := pgNumber(src, i)
			if err != nil {
				return nil, err
			}
			i, kind = end, Number
		case isIdentStart(c):
			i, kind = scanWord(src, i), Word
		case c == '.' && pgAt(src, i+1, '.'):
			i, kind = i+2, Punct
		case single[c] != Space:
			i, kind = i+1, single[c]
		case c == ':' && (pgAt(src, i+1, ':') || pgAt(src, i+1, '=')):
			i, kind = i+2, Punct
		case pgIsOpChar(c):
			end, err := pgOperator(src, i)
			if err != nil {
				return nil, err
			}
			i, kind = end, Punct
		default:
			// : [ ] and the characters scan.l returns one by one ({other}).
			i, kind = i+1, Punct
		}
		toks = append(toks, Token{Kind: kind, Start: int32(start), End: int32(i)})
	}
	return toks, nil
}

// String literal flavours, by how their body is read.
const (
	pgPlain   = iota // '...' and U&'...': '' stands for a quote
	pgEscape         // E'...': '' and backslash escapes
	pgBits           // B'...' and X'...': the first quote ends them
	pgUnicode        // U&'...', read as pgPlain; only a DO block's body tells them apart
)

// pgStrings reads the string literal that starts at src[start] (its prefix,
// if any, included) and whose opening quote is at src[quote], appends one
// String token per part (parts joined by white space with a newline, which
// PostgreSQL concatenates), and returns the offset past the last part.
func pgStrings(src string, start, quote, mode int, toks *[]Token) (int, error) {
	literal := start
	for {
		end, ok := pgStringBody(src, quote, mode)
		if !ok {
			// scan.l reports the error at the start of the whole literal.
			msg := "unterminated quoted string"
			if mode == pgBits {
				msg = "unterminated bit string literal"
				if src[literal]|0x20 == 'x' {
					msg = "unterminated hexadecimal string literal"
				}
			}
			return 0, lexError(literal, msg)
		}
		*toks = append(*toks, Token{Kind: String, Start: int32(start), End: int32(end)})
		next, ok := pgContinuation(src, end)
		if !ok {
			return end, nil
		}
		start, quote = next, next
	}
}

// pgStringBody returns the offset just past the quote that closes the one
// at src[i].
func pgStringBody(src string, i, mode int) (int, bool) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if mode == pgEscape {
				j++ // the escaped byte, whatever it is
			}
		case '\'':
			if mode != pgBits && j+1 < len(src) && src[j+1] == '\'' {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return len(src), false
}

// pgContinuation reports whether the string literal that ends at src[i] goes
// on, as scan.l's {quotecontinue}: white space and -- comments holding at
// least one newline, then a quote, whose offset it returns. Block comments
// do not join literals.
func pgContinuation(src string, i int) (int, bool) {
	// {non_newline_whitespace}* {newline}
	for {
		switch {
		case i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\f' || src[i] == '\v'):
			i++
			continue
		case i+1 < len(src) && src[i] == '-' && src[i+1] == '-':
			i = pgLineEnd(src, i)
			continue
		}
		break
	}
	if i >= len(src) || (src[i] != '\n' && src[i] != '\r') {
		return 0, false
	}
	i++
	// {special_whitespace}* {quote}, where a -- comment must end in a newline.
	for i < len(src) {
		switch {
		case pgIsSpace(src[i]):
			i++
		case src[i] == '-' && pgAt(src, i+1, '-'):
			i = pgLineEnd(src, i)
			if i >= len(src) {
				return 0, false
			}
			i++
		case src[i] == '\'':
			return i, true
		default:
			return 0, false
		}
	}
	return 0, false
}

// pgQuotedIdent reads a "..." identifier whose opening quote is at
// src[quote], start being where the token (U& included) starts.
func pgQuotedIdent(src string, start, quote int) (int, error) {
	end, ok := scanQuoted(src, quote, '"')
	if !ok {
		return 0, lexError(start, "unterminated quoted identifier")
	}
	if end == quote+2 {
		return 0, lexError(start, "zero-length delimited identifier")
	}
	return end, nil
}

// pgDollar reads what starts with the $ at src[i]: a parameter ($1) or a
// dollar-quoted string ($$...$$, $tag$...$tag$).
func pgDollar(src string, i int) (int, TokenKind, error) {
	j := i + 1
	if j < len(src) && isDigit(src[j]) {
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		if j < len(src) && isIdentStart(src[j]) {
			return 0, 0, lexError(i, "trailing junk after parameter")
		}
		return j, Param, nil
	}
	if j < len(src) && isIdentStart(src[j]) {
		for j < len(src) && (isIdentStart(src[j]) || isDigit(src[j])) {
			j++
		}
	}
	if j >= len(src) || src[j] != '$' {
		return 0, 0, lexError(i, "$ starts neither a parameter ($1) nor a dollar-quoted string ($$...$$)")
	}
	delim := src[i : j+1]
	end := indexFrom(src, delim, j+1)
	if end < 0 {
		return 0, 0, lexError(i, "unterminated dollar-quoted string")
	}
	return end + len(delim), String, nil
}

// pgNumber reads the numeric literal at src[i].
func pgNumber(src string, i int) (int, error) {
	start := i
	if src[i] == '0' && i+1 < len(src) {
		var digit func(byte) bool
		var name string
		switch src[i+1] | 0x20 {
		case 'x':
			digit, name = isHex, "hexadecimal"
		case 'o':
			digit, name = func(c byte) bool { return c >= '0' && c <= '7' }, "octal"
		case 'b':
			digit, name = func(c byte) bool { return c == '0' || c == '1' }, "binary"
		}
		if digit != nil {
			j := i + 2
			for {
				if j < len(src) && digit(src[j]) {
					j++
				} else if j+1 < len(src) && src[j] == '_' && digit(src[j+1]) {
					j += 2
				} else {
					break
				}
			}
			if j == i+2 && (j >= len(src) || src[j] == '_' || !isIdentChar(src[j])) {
				return 0, lexError(start, "invalid "+name+" integer")
			}
			// {integer_junk} ("0" and an identifier) outmatches a shorter
			// hex, octal or binary integer.
			if j < len(src) && isIdentChar(src[j]) {
				return 0, lexError(start, "trailing junk after numeric literal")
			}
			return j, nil
		}
	}
	i = pgDecimal(src, i)
	if i < len(src) && src[i] == '.' {
		if pgAt(src, i+1, '.') {
			return i, nil // 1..2: the integer, then ".."
		}
		i = pgDecimal(src, i+1)
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		sign := j < len(src) && (src[j] == '+' || src[j] == '-')
		if sign {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			i = pgDecimal(src, j)
		} else if sign {
			return 0, lexError(start, "trailing junk after numeric literal")
		}
	}
	if i < len(src) && isIdentStart(src[i]) {
		return 0, lexError(start, "trailing junk after numeric literal")
	}
	return i, nil
}

// pgDecimal returns the offset past the digits at src[i], where single
// underscores may separate digits.
func pgDecimal(src string, i int) int {
	for i < len(src) {
		if isDigit(src[i]) {
			i++
		} else if src[i] == '_' && i > 0 && isDigit(src[i-1]) && i+1 < len(src) && isDigit(src[i+1]) {
			i += 2
		} else {
			break
		}
	}
	return i
}

// pgOperator reads the operator at src[i] as scan.l's {operator} rule does.
func pgOperator(src string, i int) (int, error) {
	j := i
	for j < len(src) && pgIsOpChar(src[j]) {
		j++
	}
	op := src[i:j]
	// A comment start inside the run ends the operator.
	if k := strings.Index(op, "/*"); k >= 0 {
		op = op[:k]
	}
	if k := strings.Index(op, "--"); k >= 0 {
		op = op[:k]
	}
	n := len(op)
	if n > 1 && (op[n-1] == '+' || op[n-1] == '-') && !strings.ContainsAny(op[:n-1], "~!@#^&|`?%") {
		for n > 1 && (op[n-1] == '+' || op[n-1] == '-') {
			n--
		}
	}
	if n >= 64 { // NAMEDATALEN
		return 0, lexError(i, "operator too long")
	}
	return i + n, nil
}

func pgIsOpChar(c byte) bool {
	switch c {
	case '~', '!', '@', '#', '^', '&', '|', '`', '?', '+', '-', '*', '/', '%', '<', '>', '=':
		return true
	}
	return false
}

func pgIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func pgAt(src string, i int, c byte) bool { return i < len(src) && src[i] == c }

// pgLineEnd returns the offset of the newline (\n or \r) that ends the --
// comment at src[i], or len(src).
func pgLineEnd(src string, i int) int {
	for i < len(src) && src[i] != '\n' && src[i] != '\r' {
		i++
	}
	return i
}

// pgBlockComment returns the offset past the /* comment at src[i], which
// may hold nested /* */ pairs.
func pgBlockComment(src string, i int) (int, bool) {
	depth := 0
	for j := i + 2; j+1 < len(src); {
		switch {
		case src[j] == '/' && src[j+1] == '*':
			depth++
			j += 2
		case src[j] == '*' && src[j+1] == '/':
			if depth == 0 {
				return j + 2, true
			}
			depth--
			j += 2
		default:
			j++
		}
	}
	return len(src), false
}
