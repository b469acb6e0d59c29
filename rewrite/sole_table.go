package rewrite

// soleTable is the top-level FROM clause of a query that reads one table
// and nothing else at its top level: no join, no second table, no
// subquery in FROM, no UNION, INTERSECT or EXCEPT.
type soleTable struct {
	from int // token index of the top-level FROM
	name int // token index of the table's name (its last part)
	// qualifier is how the query names the table's rows: its alias, or its
	// name as written.
	qualifier string
	next      int // token index just past the reference and its alias
}

// soleTableEnd are the words that may follow the one table of a sole
// table's FROM clause.
var soleTableEnd = []string{"WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "FOR"}

// findSoleTable returns the FROM clause of a query that starts with SELECT
// and reads exactly one table at its top level; ok is false for any other
// query (a WITH, a join, a table list, a subquery or a function in FROM, a
// compound query).
func (d *Dialect) findSoleTable(query string, toks []Token) (s soleTable, ok bool) {
	a := &analyzer{d: d, src: query, toks: toks, end: len(toks), st: &Statement{}}
	if !a.is(0, "SELECT") {
		return s, false
	}
	if a.next(1, func(k int) bool { return a.isAny(k, "UNION", "INTERSECT", "EXCEPT") }) != a.end {
		return s, false
	}
	s.from = a.next(1, func(k int) bool { return a.is(k, "FROM") })
	if a.st.Unsupported != "" || s.from == a.end {
		return s, false
	}
	isName := func(i int) bool {
		return i < a.end && (toks[i].Kind == Word || toks[i].Kind == QuotedIdent)
	}
	i := s.from + 1
	if !isName(i) || a.isAny(i, "ONLY", "LATERAL") {
		return s, false
	}
	if i+2 < a.end && toks[i+1].Kind == Dot {
		if !isName(i + 2) {
			return s, false
		}
		i += 2
	}
	s.name, s.qualifier = i, toks[i].Text(query)
	i++
	switch {
	case a.is(i, "AS") && isName(i+1):
		s.qualifier, i = toks[i+1].Text(query), i+2
	case isName(i) && !notAlias[upperWord(a, i)]:
		s.qualifier, i = toks[i].Text(query), i+1
	}
	if i < a.end && !a.isAny(i, soleTableEnd...) {
		return s, false // a join, a comma, a function's arguments, INDEXED BY, TABLESAMPLE ...
	}
	s.next = i
	return s, true
}

// upperWord returns token i in upper case when it is a keyword-shaped word,
// or "".
func upperWord(a *analyzer, i int) string {
	if i >= a.end || a.toks[i].Kind != Word {
		return ""
	}
	b := []byte(a.toks[i].Text(a.src))
	for j, c := range b {
		if 'a' <= c && c <= 'z' {
			b[j] = c - 'a' + 'A'
		}
	}
	return string(b)
}
