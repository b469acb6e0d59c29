package mapping

import "strings"

// parseName parses a table or column name: a plain identifier (ASCII
// letters, digits, '_' and '$', not starting with a digit or '$'), or any
// name in double quotes, with "" standing for one quote. It returns the name
// without quotes, or a message saying what is wrong.
func parseName(s string) (name, problem string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "is empty"
	}
	if s[0] == '"' {
		if len(s) < 2 || s[len(s)-1] != '"' {
			return "", "has an opening double quote but no closing one"
		}
		inner := s[1 : len(s)-1]
		if strings.Contains(strings.ReplaceAll(inner, `""`, ""), `"`) {
			return "", `has a double quote inside the quoted name; write it twice ("")`
		}
		inner = strings.ReplaceAll(inner, `""`, `"`)
		if strings.TrimSpace(inner) == "" {
			return "", "is empty"
		}
		return inner, ""
	}
	if !isPlainIdent(s) {
		return "", "is not a plain identifier: use ASCII letters, digits, _ and $, or put the name in double quotes (in YAML: '\"" + s + "\"')"
	}
	return s, ""
}

// plainIdent reports the name an SQL expression refers to when the
// expression is nothing but a column name, plain or double-quoted.
func plainIdent(expr string) (string, bool) {
	name, problem := parseName(expr)
	return name, problem == ""
}

func isPlainIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && (c == '$' || '0' <= c && c <= '9'):
		default:
			return false
		}
	}
	return s != ""
}

// equalFold reports whether a and b are equal under ASCII case folding.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// foldKey returns s with ASCII letters lower-cased, for use as a map key.
func foldKey(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lower(c)
	}
	return string(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
