package rewrite

import "maps"

// pointLookup reports whether a query returns at most one row because it
// reads one mapped table alone and its WHERE fixes that table's key: a
// single table in FROM (no join, no subquery in FROM), no GROUP BY,
// HAVING or WINDOW, and a top-level WHERE whose top-level AND conjuncts
// include [qualifier.]column = <placeholder or literal> for every key
// column of the mapping. The key is unique and NOT NULL (the schema check
// makes sure), so at most one row passes such a WHERE, and a LIMIT without
// ORDER BY cannot pick other rows on the two sides. Anything else, a
// top-level OR or BETWEEN included, is not a point lookup.
func (p *Planner) pointLookup(query string, toks []Token, t *Table) bool {
	s, ok := p.d.findSoleTable(query, toks)
	if !ok || p.d.Fold(toks[s.name].Text(query)) != p.d.FoldName(t.Map.Old) {
		return false
	}
	a := &analyzer{d: p.d, src: query, toks: toks, end: len(toks), st: &Statement{}}
	if !a.is(s.next, "WHERE") {
		return false
	}
	end := a.next(s.next+1, func(k int) bool { return a.isAny(k, soleTableEnd...) })
	if a.isAny(end, "GROUP", "HAVING", "WINDOW", "WHERE") || a.st.Unsupported != "" {
		return false
	}
	return p.fixedKey(query, toks, s.next+1, end, s, t) != nil
}

// fixedKey returns, for every key column of t's mapping in order, the
// tokens of the value that the AND-conjuncts of the condition toks[i:end]
// fix it to (a placeholder, a literal or a negative number), or nil when
// they do not fix the whole key.
func (p *Planner) fixedKey(query string, toks []Token, i, end int, s soleTable, t *Table) [][]Token {
	fixed := map[string][]Token{}
	if !p.conjuncts(query, toks, i, end, s, fixed) {
		return nil
	}
	key := make([][]Token, len(t.Map.Key))
	for j, k := range t.Map.Key {
		if key[j] = fixed[p.d.FoldName(k)]; key[j] == nil {
			return nil
		}
	}
	return key
}

// conjuncts adds to fixed the columns that the AND-conjuncts of the
// condition toks[i:end] fix, with their values' tokens, looking into a conjunct that is one
// parenthesized condition ((u.id = 2) AND u.deleted_at IS NULL, as bun
// writes it), and reports false, fixing nothing, when an OR or a BETWEEN
// joins them at this level.
func (p *Planner) conjuncts(query string, toks []Token, i, end int, s soleTable, fixed map[string][]Token) bool {
	a := &analyzer{d: p.d, src: query, toks: toks, end: end, st: &Statement{}}
	for i < end {
		j := a.next(i, func(k int) bool { return a.isAny(k, "AND", "OR", "BETWEEN") })
		if a.isAny(j, "OR", "BETWEEN") || a.st.Unsupported != "" {
			return false // AND binds tighter than OR; BETWEEN's AND is not a conjunction
		}
		if toks[i].Kind == LParen && a.skipParens(i) == j {
			// A group joined by OR inside fixes nothing, and is no reason
			// to doubt the conjuncts beside it.
			inner := map[string][]Token{}
			if p.conjuncts(query, toks, i+1, j-1, s, inner) {
				maps.Copy(fixed, inner)
			}
		} else if col, v := p.fixedColumn(query, toks[i:j], s); col != "" {
			fixed[col] = v
		}
		i = j + 1
	}
	return true
}

// fixedColumn returns the folded name of the column a conjunct fixes, and
// the value's tokens, when it is exactly [qualifier.]column = <placeholder
// or literal>, or "".
func (p *Planner) fixedColumn(query string, c []Token, s soleTable) (string, []Token) {
	isName := func(t Token) bool { return t.Kind == Word || t.Kind == QuotedIdent }
	col := 0
	if len(c) >= 3 && c[1].Kind == Dot {
		if !isName(c[0]) || p.d.Fold(c[0].Text(query)) != p.d.Fold(s.qualifier) {
			return "", nil // a column of another query level, or a schema-qualified one
		}
		col = 2
	}
	v := c[min(col+2, len(c)):]
	if len(c) < col+3 || !isName(c[col]) || c[col+1].Kind != Punct || c[col+1].Text(query) != "=" {
		return "", nil
	}
	switch {
	case len(v) == 1 && (v[0].Kind == Param || v[0].Kind == Number || v[0].Kind == String):
	case len(v) == 2 && v[0].Kind == Punct && v[0].Text(query) == "-" && v[1].Kind == Number:
	default:
		return "", nil
	}
	return p.d.Fold(c[col].Text(query)), v
}
