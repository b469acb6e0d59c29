package rewrite

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
)

// ReadPlan is how a query that reads mapped tables is served from the new
// tables: the same text with each reference to a mapped old table replaced
// by a derived table that exposes the old shape from the new table.
type ReadPlan struct {
	// Tables are the mapped pairs the query reads, in order of first reference.
	Tables []*Table
	// NewQuery is the substituted query; its placeholders are the caller's.
	NewQuery string
	// Ordered is set when the query orders its result (a top-level ORDER BY).
	Ordered bool
	// Limited is set when the query, or a subquery in it, has a LIMIT (or
	// an OFFSET, or a FETCH FIRST) with no ORDER BY before it: which rows it
	// picks is up to the plan, so the two results may rightly differ and are
	// not compared. A point lookup is not Limited.
	Limited bool
	// PointLookup is set when the query's only such LIMIT is at its top
	// level and the query returns at most one row, because it reads one
	// mapped table alone and its WHERE fixes the table's key (WHERE id = ?
	// LIMIT 1): it is compared.
	PointLookup bool
	// Lock, for a locking read (SELECT ... FOR UPDATE), is how it is
	// served: NewQuery is then not run. Nil for any other query.
	Lock *LockPlan
	// Fingerprint identifies the statement text (a hash; no argument values).
	Fingerprint string
}

// frame is one level of parentheses while substituting.
type frame struct {
	ctes        map[string]bool // common table expressions declared at this level
	inFrom      bool            // in a FROM clause (or a join group)
	expectTable bool            // the next name is a table reference
	ordered     bool            // an ORDER BY was seen at this level
}

// clauseWords end a FROM clause or begin another clause.
var clauseWords = map[string]bool{
	"SELECT": true, "WHERE": true, "GROUP": true, "HAVING": true, "ORDER": true, "LIMIT": true,
	"WINDOW": true, "UNION": true, "INTERSECT": true, "EXCEPT": true, "VALUES": true, "ON": true,
	"USING": true, "RETURNING": true, "OFFSET": true,
}

// notAlias are the words that may follow a table reference and are not its alias.
var notAlias = map[string]bool{
	"WHERE": true, "GROUP": true, "HAVING": true, "ORDER": true, "LIMIT": true, "WINDOW": true,
	"UNION": true, "INTERSECT": true, "EXCEPT": true, "JOIN": true, "LEFT": true, "RIGHT": true,
	"FULL": true, "INNER": true, "CROSS": true, "NATURAL": true, "OUTER": true, "ON": true,
	"USING": true, "INDEXED": true, "NOT": true, "RETURNING": true, "SET": true, "VALUES": true,
	"SELECT": true, "FROM": true, "OFFSET": true, "FETCH": true, "FOR": true,
}

// mysqlNotAlias are MySQL's words of notAlias's kind; FULL is none (MySQL
// has no FULL JOIN: "users full" is the table with an alias).
var mysqlNotAlias = map[string]bool{"STRAIGHT_JOIN": true, "LOCK": true, "PARTITION": true, "USE": true, "FORCE": true, "IGNORE": true}

// aliasWord reports whether a word after a table reference is its alias.
func (p *Planner) aliasWord(w string) bool {
	if p.d.mysql {
		return w == "FULL" || !notAlias[w] && !mysqlNotAlias[w]
	}
	return !notAlias[w]
}

// read builds the read plan of a SELECT that names a mapped old table, or a
// Refuse-worthy error naming the construct it cannot route with certainty.
func (p *Planner) read(query string, toks []Token, st *Statement) (*ReadPlan, error) {
	end := len(toks)
	for i, t := range toks {
		if t.Kind == Semicolon {
			end = i
			break
		}
	}
	toks = toks[:end]
	if p.d.mysql {
		if err := mysqlHints(query, toks); err != nil {
			return nil, err
		}
	}
	rp := &ReadPlan{Fingerprint: fingerprint(query)}
	word := func(i int) string {
		if i < 0 || i >= len(toks) || toks[i].Kind != Word || i > 0 && toks[i-1].Kind == Dot {
			return "" // a word after a dot is a name, never a keyword
		}
		return strings.ToUpper(toks[i].Text(query))
	}
	stack := []*frame{{}}
	// declared counts, per name, the open frames that declare a CTE of
	// that name: a lookup costs the same at any depth.
	declared := map[string]int{}
	shadowed := func(name string) bool { return declared[name] > 0 }
	var edits []edit
	selectList := -1 // token index of the outermost SELECT
	seen := map[*Table]bool{}
	topLimit := false // an unordered LIMIT at the top level
	limit := func(f *frame) {
		switch {
		case f.ordered:
		case len(stack) == 1:
			topLimit = true
		default:
			rp.Limited = true
		}
	}
	var lock locking
	locked := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		f := stack[len(stack)-1]
		switch t.Kind {
		case LParen:
			child := &frame{}
			if f.expectTable && word(i+1) != "SELECT" && word(i+1) != "WITH" && word(i+1) != "VALUES" {
				child.inFrom, child.expectTable = true, true // a parenthesized join
			}
			f.expectTable = false
			stack = append(stack, child)
			continue
		case RParen:
			if len(stack) == 1 {
				return nil, fmt.Errorf("unbalanced parentheses")
			}
			for name := range f.ctes {
				declared[name]--
			}
			stack = stack[:len(stack)-1]
			continue
		case Comma:
			f.expectTable = f.inFrom
			continue
		}
		w := word(i)
		if isLocking(word, i) {
			// A locking read locks the rows it reads: served from the new
			// table alone, it would lock the wrong rows.
			switch {
			case !p.d.lockingReads:
				return nil, fmt.Errorf("a locking read (%s %s)", word(i), word(i+1))
			case len(stack) > 1:
				return nil, fmt.Errorf("a locking read (FOR %s) in a subquery; lock the mapped table's rows in a query of their own", word(i+1))
			}
			j, err := lockingClause(query, toks, i, &lock)
			if err != nil {
				return nil, err
			}
			locked, i = true, j-1
			f.inFrom, f.expectTable = false, false
			continue
		}
		switch {
		case w == "WITH":
			j, err := p.ctes(query, toks, i+1, f, declared)
			if err != nil {
				return nil, err
			}
			i = j - 1
			continue
		case w == "FROM":
			f.inFrom, f.expectTable = true, true
			continue
		case w == "SELECT" && len(stack) == 1 && selectList < 0:
			selectList = i
		case w == "JOIN":
			f.expectTable = true
			continue
		case w == "FETCH" && (word(i+1) == "FIRST" || word(i+1) == "NEXT"):
			f.inFrom, f.expectTable = false, false
			limit(f)
			continue
		case clauseWords[w]:
			f.inFrom, f.expectTable = false, false
			if w == "ON" || w == "USING" {
				f.inFrom = true // the join may go on after its constraint
			}
			switch w {
			case "ORDER":
				f.ordered = true
			case "LIMIT", "OFFSET":
				limit(f)
			case "UNION", "INTERSECT", "EXCEPT":
				f.ordered = false
			}
			continue
		}
		if t.Kind != Word && t.Kind != QuotedIdent && t.Kind != String {
			continue
		}
		name := p.d.Fold(t.Text(query))
		if f.expectTable {
			f.expectTable = false
			start, j := i, i
			if j+2 < len(toks) && toks[j+1].Kind == Dot {
				if name != "main" {
					if tr := p.tables[p.d.Fold(toks[j+2].Text(query))]; tr != nil && tr.role == roleOld {
						return nil, fmt.Errorf("a mapped table in schema %s", name)
					}
					i = j + 2
					continue
				}
				j += 2
				name = p.d.Fold(toks[j].Text(query))
			}
			i = j
			tr := p.tables[name]
			if tr == nil || tr.role != roleOld || shadowed(name) {
				continue
			}
			if j+1 < len(toks) && toks[j+1].Kind == LParen {
				continue // a table-valued function
			}
			k := j + 1
			if k < len(toks) && toks[k].Kind == Punct && toks[k].Text(query) == "*" {
				return nil, fmt.Errorf("%s * (the table with its inheritance children)", name)
			}
			if nw := word(k); nw == "INDEXED" || nw == "NOT" && word(k+1) == "INDEXED" {
				return nil, fmt.Errorf("INDEXED BY or NOT INDEXED on mapped table %s", name)
			}
			if sampled(toks, word, k) {
				// A sample is of a table's own pages: the new table's are
				// not the old one's, and a derived table has none.
				return nil, fmt.Errorf("TABLESAMPLE on mapped table %s", name)
			}
			hasAlias := word(k) == "AS" || k < len(toks) && (toks[k].Kind == QuotedIdent || toks[k].Kind == String ||
				toks[k].Kind == Word && p.aliasWord(word(k)))
			repl := tr.table.derived
			if !hasAlias {
				repl += " AS " + toks[j].Text(query)
			}
			edits = append(edits, edit{int(toks[start].Start), int(toks[j].End), repl})
			if !seen[tr.table] {
				seen[tr.table] = true
				rp.Tables = append(rp.Tables, tr.table)
			}
			continue
		}
		tr := p.tables[name]
		if t.Kind == String || tr == nil || tr.role != roleOld || shadowed(name) {
			continue
		}
		prevDot := i > 0 && toks[i-1].Kind == Dot
		nextDot := i+1 < len(toks) && toks[i+1].Kind == Dot
		switch {
		case nextDot, prevDot:
			// users.col qualifies a column; x.users is a column.
		case word(i-1) == "AS":
			// an alias named like the table
		case word(i-1) == "IN":
			return nil, fmt.Errorf("IN %s (a table as the right side of IN)", name)
		default:
			return nil, fmt.Errorf("the name %s outside a table position (a column or function named like the table?)", name)
		}
	}
	if len(rp.Tables) == 0 {
		return nil, nil
	}
	if c := p.hiddenColumn(query, toks, rp.Tables); c != "" {
		return nil, fmt.Errorf("a query that names %s, which the new table's stand-in does not have: the name would bind to another table of the query, or fail; select the key columns instead", c)
	}
	if locked {
		lp, err := p.lockPlan(query, toks, rp.Tables[0], len(edits), lock)
		if err != nil {
			return nil, err
		}
		rp.Lock = lp
	}
	if topLimit {
		rp.PointLookup = !rp.Limited && len(rp.Tables) == 1 && p.pointLookup(query, toks, rp.Tables[0])
		rp.Limited = !rp.PointLookup
	}
	if selectList >= 0 && !p.d.dollarParams {
		// PostgreSQL names a column by the expression's shape (its
		// column, function or keyword), which the substitution keeps.
		edits = append(edits, p.keepColumnNames(query, toks, selectList, edits)...)
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b strings.Builder
	size := st.End
	for _, e := range edits {
		size += len(e.text) - (e.end - e.start)
	}
	b.Grow(size)
	at := 0
	for _, e := range edits {
		b.WriteString(query[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.WriteString(query[at:st.End])
	rp.NewQuery = b.String()
	rp.Ordered = stack[0].ordered
	return rp, nil
}

// sampled reports whether the table reference whose name ends before
// token k has a TABLESAMPLE clause: after the name, or after its alias.
func sampled(toks []Token, word func(int) string, k int) bool {
	if word(k) == "AS" {
		k++
	}
	if word(k) == "TABLESAMPLE" {
		return true
	}
	alias := k < len(toks) && (toks[k].Kind == Word || toks[k].Kind == QuotedIdent)
	return alias && word(k+1) == "TABLESAMPLE"
}

// hiddenColumn returns a column that every table has without declaring
// it (Dialect.hiddenColumns: SQLite's rowid, PostgreSQL's ctid) that the
// query names and none of the mapped tables it reads declares, or "". The
// derived table that stands for a mapped table has no such column, so
// that (SELECT rowid FROM users WHERE id = a.id) would read the rowid of
// the outer table a.
func (p *Planner) hiddenColumn(query string, toks []Token, tables []*Table) string {
	for _, t := range toks {
		if t.Kind != Word && t.Kind != QuotedIdent {
			continue
		}
		name := strings.ToLower(p.d.Fold(t.Text(query)))
		if !slices.Contains(p.d.hiddenColumns, name) {
			continue
		}
		declared := false
		for _, tb := range tables {
			for _, c := range tb.Map.Reverse {
				declared = declared || p.d.FoldName(c.Name) == p.d.Fold(t.Text(query))
			}
		}
		if !declared {
			return name
		}
	}
	return ""
}

// edit replaces query[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// keepColumnNames names each result column of the outermost select list
// that holds a substitution and has no alias after its original text, since
// SQLite names such a column by its text (SELECT EXISTS (SELECT 1 FROM
// users)).
func (p *Planner) keepColumnNames(query string, toks []Token, sel int, subs []edit) []edit {
	var out []edit
	item := func(i, j int) {
		if i >= j {
			return
		}
		start, end := int(toks[i].Start), int(toks[j-1].End)
		// subs are in order and do not overlap: the first one after start
		// is the only one that may lie within the item.
		k := sort.Search(len(subs), func(k int) bool { return subs[k].start > start })
		changed := k < len(subs) && subs[k].end <= end
		last := toks[j-1]
		aliased := j-i >= 2 && (last.Kind == Word || last.Kind == QuotedIdent || last.Kind == String) &&
			(toks[j-2].Kind == RParen || toks[j-2].Kind == Word && strings.EqualFold(toks[j-2].Text(query), "AS"))
		if changed && !aliased {
			out = append(out, edit{end, end, " AS " + p.d.Quote(query[start:end])})
		}
	}
	a := &analyzer{d: p.d, src: query, toks: toks, end: len(toks), st: &Statement{}}
	i := sel + 1
	if a.isAny(i, "DISTINCT", "ALL") {
		i++
	}
	for {
		j := a.next(i, func(k int) bool {
			return toks[k].Kind == Comma || a.isAny(k, "FROM", "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "UNION", "INTERSECT", "EXCEPT")
		})
		item(i, j)
		if j >= len(toks) || toks[j].Kind != Comma {
			return out
		}
		i = j + 1
	}
}

// ctes declares the names of the common table expressions of a WITH clause
// whose list starts at token i, and returns the index where the caller goes
// on scanning: the list itself, so that the bodies are scanned too (with the
// names declared: in SQLite a body naming its own CTE refers to the CTE).
// Each name new to f is counted in declared.
func (p *Planner) ctes(query string, toks []Token, i int, f *frame, declared map[string]int) (int, error) {
	a := &analyzer{d: p.d, src: query, toks: toks, end: len(toks), st: &Statement{}}
	if a.is(i, "RECURSIVE") {
		i++
	}
	start := i
	if f.ctes == nil {
		f.ctes = map[string]bool{}
	}
	for {
		if i >= len(toks) || toks[i].Kind != Word && toks[i].Kind != QuotedIdent {
			return 0, fmt.Errorf("a common table expression without a name")
		}
		if name := p.d.Fold(toks[i].Text(query)); !f.ctes[name] {
			f.ctes[name] = true
			declared[name]++
		}
		i++
		if i < len(toks) && toks[i].Kind == LParen {
			i = a.skipParens(i)
		}
		if !a.is(i, "AS") {
			return 0, fmt.Errorf("AS expected in WITH at %s", a.text(i))
		}
		for i++; a.isAny(i, "NOT", "MATERIALIZED"); i++ {
		}
		if i >= len(toks) || toks[i].Kind != LParen {
			return 0, fmt.Errorf("( expected in WITH at %s", a.text(i))
		}
		i = a.skipParens(i)
		if a.st.Unsupported != "" {
			return 0, fmt.Errorf("%s", a.st.Unsupported)
		}
		if i >= len(toks) || toks[i].Kind != Comma {
			return start, nil
		}
		i++
	}
}

// fingerprint identifies a statement text in logs.
func fingerprint(query string) string {
	h := fnv.New64a()
	h.Write([]byte(query))
	return fmt.Sprintf("%016x", h.Sum64())
}

// mysqlHints refuses a MySQL query with an index hint or a PARTITION
// clause: after a mapped table they would follow the derived table that
// stands in for it, which takes neither (the new table has indexes and
// partitions of its own).
func mysqlHints(query string, toks []Token) error {
	for i := 0; i+1 < len(toks); i++ {
		w, next := strings.ToUpper(toks[i].Text(query)), strings.ToUpper(toks[i+1].Text(query))
		switch {
		case toks[i].Kind != Word || i > 0 && toks[i-1].Kind == Dot:
		case (w == "USE" || w == "FORCE" || w == "IGNORE") && (next == "INDEX" || next == "KEY"):
			return fmt.Errorf("an index hint (%s %s), which names the old table's indexes", w, next)
		case w == "PARTITION" && toks[i+1].Kind == LParen:
			return fmt.Errorf("a PARTITION clause, which names the old table's partitions")
		}
	}
	return nil
}
