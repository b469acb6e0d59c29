package rewrite

// The prescan. Most statements an application sends name no mapped or
// guarded table, and their plan is the plain pass-through (passPlan).
// When more distinct texts go by than the plan cache holds, each would be
// lexed and analyzed again; the prescan decides from one pass over the
// bytes, before lexing and without the cache, that a text certainly plans
// as passPlan. It is conservative: whatever it does not recognize for
// certain goes to the full planner. It passes a text only when
//
//   - the text is ASCII (a non-ASCII letter may fold to an ASCII one) and
//     holds no backslash (an escape may spell what the text does not show),
//     no & (U&"..." and U&'...' escapes), no $ but before a digit ($1;
//     $$...$$ bodies and $name parameters), no MySQL /*! ... */ comment (its
//     code runs), and no semicolon but at its end: one statement;
//   - its first word, after white space only, is SELECT, INSERT, UPDATE,
//     DELETE or WITH: not a transaction's control, a schema change, SET,
//     PREPARE, EXECUTE, USE, DO, TRUNCATE, MERGE or anything else the
//     planner treats by its first word;
//   - no mapped (old or new) or guarded table's name occurs anywhere in it,
//     case-insensitively, even inside a longer word, a string or a comment:
//     also not a name PostgreSQL would cut a longer identifier to, which
//     begins with it;
//   - it holds neither the word set_config (a change of the settings the
//     plans depend on) nor the word INTO but right after INSERT (SELECT ...
//     INTO creates a table).
//
// The same scan recognizes a plain read (Planner.PlainRead): a text that
// passes the rules above, begins with SELECT, holds none of the words that
// may begin a write or lock rows (WITH, INSERT, UPDATE, DELETE, MERGE,
// REPLACE, FOR, LOCK, SHARE), and names exactly one tracked table, a
// mapped old one. Its plan is a read, or the plain pass-through, and in
// the read phase old it runs as written: the driver need not plan it.
//
// The properties that the prescan passes only texts the planner plans as
// passPlan, and recognizes as plain reads only texts it plans as reads of
// that table, are tested on every statement of the tests' corpora and
// fuzzed (prescan_test.go).

// prescan holds what the scan looks for: the tracked tables' names,
// lower-cased, by their first byte.
type prescan struct {
	names [256][]prescanName
}

type prescanName struct {
	lower, name string // name: as the planner keys it
}

func newPrescan(names []string) *prescan {
	s := &prescan{}
	for _, n := range names {
		if l := lowerASCII(n); l != "" {
			s.names[l[0]] = append(s.names[l[0]], prescanName{l, n})
		}
	}
	return s
}

// passes reports whether query certainly plans as passPlan.
func (s *prescan) passes(query string) bool {
	r, ok := s.scan(query)
	return ok && r.name == ""
}

// scanned is what a scan found: the first word, lower-cased, the first
// tracked name, as the planner keys it, whether there is another, and
// whether a word that may begin a write or lock rows occurs (writeWord).
type scanned struct {
	first, name     string
	several, writes bool
}

// scan reads query by the rules above: ok is false when one fails.
func (s *prescan) scan(query string) (r scanned, ok bool) {
	i := 0
	for i < len(query) && isSpaceASCII(query[i]) {
		i++
	}
	switch w := query[i:wordEnd(query, i)]; {
	case equalLower(w, "select"):
		r.first = "select"
	case equalLower(w, "insert"), equalLower(w, "update"), equalLower(w, "delete"), equalLower(w, "with"):
		r.first = "write"
	default:
		return r, false
	}
	afterInsert := false // only white space since the word INSERT
	for ; i < len(query); i++ {
		c := query[i]
		switch {
		case isWordByte(c):
			end := wordEnd(query, i)
			w := query[i:end]
			if equalLower(w, "set_config") || equalLower(w, "into") && !afterInsert {
				return r, false
			}
			r.writes = r.writes || writeWord(w)
			// The name check sees every offset of the word.
			for j := i; j < end; j++ {
				r.named(s.namedAt(query[j:]))
			}
			afterInsert = equalLower(w, "insert")
			i = end - 1
			continue
		case isSpaceASCII(c):
		case c >= 0x80, c == '\\', c == '&', c == '$' && !numberedParam(query, i):
			return r, false
		case c == '/' && i+2 < len(query) && query[i+1] == '*' && query[i+2] == '!':
			return r, false
		case c == ';':
			for _, b := range []byte(query[i+1:]) {
				if !isSpaceASCII(b) {
					return r, false
				}
			}
			return r, true
		default:
			afterInsert = false
		}
		r.named(s.namedAt(query[i:]))
	}
	return r, true
}

// named records a tracked name found ("": none).
func (r *scanned) named(name string) {
	switch {
	case name == "":
	case r.name == "":
		r.name = name
	case name != r.name:
		r.several = true
	}
}

// writeWord reports whether w is a word that may begin a write: a read
// that holds one is left to the planner.
func writeWord(w string) bool {
	for _, k := range [...]string{"with", "insert", "update", "delete", "merge", "replace", "for", "lock", "share"} {
		if equalLower(w, k) {
			return true
		}
	}
	return false
}

// numberedParam reports whether the $ at query[i] begins a parameter $1,
// $2, ...: digits, then no $ (which could close a dollar quote's tag).
func numberedParam(query string, i int) bool {
	j := i + 1
	for j < len(query) && isDigit(query[j]) {
		j++
	}
	return j > i+1 && (j == len(query) || query[j] != '$')
}

// namedAt returns the tracked name text begins with, ASCII
// case-insensitively, or "".
func (s *prescan) namedAt(text string) string {
	for _, n := range s.names[toLowerASCII(text[0])] {
		if len(text) >= len(n.lower) && equalLower(text[:len(n.lower)], n.lower) {
			return n.name
		}
	}
	return ""
}

// equalLower reports whether s equals lower, a lower-case ASCII word, but
// for the case of ASCII letters.
func equalLower(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if toLowerASCII(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

func toLowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isWordByte reports whether c belongs to a word as the prescan reads
// words: ASCII letters, digits and _. Every dialect's words hold these
// (and more), so that a keyword the lexer reads is a word here too.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func wordEnd(s string, i int) int {
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	return i
}

func isSpaceASCII(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
