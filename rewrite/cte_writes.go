package rewrite

import "strings"

// Data-modifying common table expressions. PostgreSQL runs a WITH whose
// expression is an INSERT, UPDATE, DELETE or MERGE wherever that WITH
// stands at the top of a statement: before a SELECT, but also inside the
// parentheses of a parenthesized query, after CREATE TABLE ... AS,
// EXPLAIN ANALYZE or COPY (...). Its write is not mirrored, so a statement
// that names a mapped table and holds one anywhere is refused, whatever
// the analyzer makes of the rest.

// writingCTE reports whether a statement holds, at any depth, a common
// table expression whose body is a data-modifying statement:
// "AS [NOT] [MATERIALIZED] (" followed by INSERT, UPDATE, DELETE or MERGE.
func writingCTE(query string, toks []Token) bool {
	word := func(i int, w string) bool {
		return i < len(toks) && toks[i].Kind == Word && strings.EqualFold(toks[i].Text(query), w)
	}
	for i := range toks {
		if !word(i, "AS") || i > 0 && toks[i-1].Kind == Dot {
			continue
		}
		j := i + 1
		if word(j, "NOT") {
			j++
		}
		if word(j, "MATERIALIZED") {
			j++
		}
		if j < len(toks) && toks[j].Kind == LParen &&
			(word(j+1, "INSERT") || word(j+1, "UPDATE") || word(j+1, "DELETE") || word(j+1, "MERGE")) {
			return true
		}
	}
	return false
}
