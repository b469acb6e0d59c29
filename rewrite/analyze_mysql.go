package rewrite

import "strings"

// MySQL's and MariaDB's write statements, as far as the planner needs
// them. Only single-table forms are read in full; a multi-table UPDATE or
// DELETE is marked unsupported.
//
//	INSERT [LOW_PRIORITY | DELAYED | HIGH_PRIORITY] [IGNORE] [INTO] t [PARTITION (p, ...)]
//	    [(cols)] {VALUES | VALUE} (...), ... [AS alias [(cols)]] | SET c = v, ... | SELECT ... | TABLE t
//	    [ON DUPLICATE KEY UPDATE c = v, ...] [RETURNING ...]
//	REPLACE [LOW_PRIORITY | DELAYED] [INTO] t ... (as INSERT, without ON DUPLICATE KEY UPDATE)
//	UPDATE [LOW_PRIORITY] [IGNORE] t [[AS] alias] [index hints] SET c = v, ... [WHERE ...] [ORDER BY ...] [LIMIT ...]
//	DELETE [LOW_PRIORITY] [QUICK] [IGNORE] FROM t [[AS] alias] [PARTITION (p, ...)]
//	    [WHERE ...] [ORDER BY ...] [LIMIT ...] [RETURNING ...]

// mysqlInsert reads an INSERT or REPLACE at i.
func (a *analyzer) mysqlInsert(i int) {
	a.st.Replace = a.is(i, "REPLACE")
	for i++; a.isAny(i, "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE"); i++ {
		if a.is(i, "IGNORE") {
			a.st.Ignore = true
		}
	}
	if a.is(i, "INTO") {
		i++
	}
	i = a.tableName(i)
	i = a.partition(i)
	if i < a.end && a.toks[i].Kind == LParen && !a.is(i+1, "SELECT") && !a.is(i+1, "WITH") && !a.is(i+1, "VALUES") && !a.is(i+1, "TABLE") {
		j := a.skipParens(i)
		for k := i + 1; k < j-1; k++ {
			if a.toks[k].Kind != Comma {
				a.st.Columns = append(a.st.Columns, a.d.Fold(a.text(k)))
			}
		}
		a.st.HasColumns = true
		i = j
	}
	start := i
	switch {
	case a.isAny(i, "VALUES", "VALUE"):
		i = a.valueRows(i + 1)
	case a.is(i, "SET"):
		var cols []string
		cols, i = a.mysqlAssignments(i+1, &a.st.Rows, nil)
		a.st.Columns, a.st.HasColumns = cols, true
	case a.isAny(i, "SELECT", "WITH", "TABLE") || i < a.end && a.toks[i].Kind == LParen:
		a.st.FromQuery = true
		i = a.next(i, func(j int) bool {
			return a.is(j, "ON") && a.is(j+1, "DUPLICATE") || a.is(j, "RETURNING")
		})
	default:
		a.unsupported("VALUES, SET or SELECT expected at " + a.text(i))
		return
	}
	a.st.Source = a.span(start, i)
	if a.is(i, "AS") && !a.st.FromQuery {
		// The row alias of the inserted rows (MySQL 8.0.19), and its columns.
		i += 2
		if i < a.end && a.toks[i].Kind == LParen {
			i = a.skipParens(i)
		}
	}
	if a.is(i, "ON") && a.is(i+1, "DUPLICATE") && a.is(i+2, "KEY") && a.is(i+3, "UPDATE") {
		a.st.Upsert = true
		var values [][]Span
		a.st.UpsertSetColumns, i = a.mysqlAssignments(i+4, &values, nil)
		if len(values) == 1 {
			a.st.UpsertSetValues = values[0]
		}
	}
	if a.is(i, "RETURNING") {
		i = a.returning(i)
	}
	if i < a.end {
		a.unsupported("unexpected " + a.text(i))
	}
}

// partition skips a PARTITION (p, ...) clause at i.
func (a *analyzer) partition(i int) int {
	if a.is(i, "PARTITION") && i+1 < a.end && a.toks[i+1].Kind == LParen {
		return a.skipParens(i + 1)
	}
	return i
}

// valueRows reads the rows of VALUES at i: "(v, ...), ..." or, in MySQL
// 8, "ROW(v, ...), ...". Each row's values are recorded as spans.
func (a *analyzer) valueRows(i int) int {
	for {
		if a.is(i, "ROW") {
			i++
		}
		if i >= a.end || a.toks[i].Kind != LParen {
			a.unsupported("( expected in VALUES at " + a.text(i))
			return a.end
		}
		end := a.skipParens(i)
		row := []Span{}
		if end == i+2 {
			a.st.Rows = append(a.st.Rows, row) // VALUES (): every column its default
			i = end
			if i >= a.end || a.toks[i].Kind != Comma {
				return i
			}
			i++
			continue
		}
		j, depth := i+1, 0
		for k := i + 1; k < end; k++ {
			switch a.toks[k].Kind {
			case LParen:
				depth++
			case RParen:
				depth--
			}
			if k == end-1 || depth == 0 && a.toks[k].Kind == Comma {
				row = append(row, a.span(j, k))
				j = k + 1
			}
		}
		a.st.Rows = append(a.st.Rows, row)
		i = end
		if i >= a.end || a.toks[i].Kind != Comma {
			return i
		}
		i++
	}
}

// mysqlAssignments reads "c = v, t.c = v, ..." at i, where the targets may
// be qualified by their table, and returns the folded columns and the
// index after the list. When values is not nil, the values' spans are
// appended to it as one row; when quals is not nil, each target's
// qualifier as written ("" for none).
func (a *analyzer) mysqlAssignments(i int, values *[][]Span, quals *[]string) ([]string, int) {
	var cols []string
	var row []Span
	for {
		j := i
		for j+2 < a.end && a.toks[j+1].Kind == Dot {
			j += 2 // db.t.c, t.c
		}
		if quals != nil {
			q := ""
			if j > i {
				q = a.src[a.toks[i].Start:a.toks[j-2].End]
			}
			*quals = append(*quals, q)
		}
		if j >= a.end || a.toks[j].Kind != Word && a.toks[j].Kind != QuotedIdent {
			a.unsupported("column expected in SET at " + a.text(j))
			return cols, a.end
		}
		cols = append(cols, a.d.Fold(a.text(j)))
		if j+1 >= a.end || a.text(j+1) != "=" && a.text(j+1) != ":=" {
			a.unsupported("= expected in SET at " + a.text(j+1))
			return cols, a.end
		}
		k := a.next(j+2, func(k int) bool {
			return a.toks[k].Kind == Comma || a.isAny(k, "WHERE", "ORDER", "LIMIT", "RETURNING", "AS") || a.is(k, "ON") && a.is(k+1, "DUPLICATE")
		})
		row = append(row, a.span(j+2, k))
		if k >= a.end || a.toks[k].Kind != Comma {
			if values != nil {
				*values = append(*values, row)
			}
			return cols, k
		}
		i = k + 1
	}
}

// mysqlUpdate reads an UPDATE at i, after the keyword.
func (a *analyzer) mysqlUpdate(i int) {
	for ; a.isAny(i, "LOW_PRIORITY", "IGNORE"); i++ {
		a.st.Ignore = a.st.Ignore || a.is(i, "IGNORE")
	}
	start := i
	i = a.tableName(i)
	i = a.partition(i)
	i = a.alias(i, "SET", "USE", "FORCE", "IGNORE", "PARTITION", "JOIN", "INNER", "LEFT", "RIGHT", "CROSS", "STRAIGHT_JOIN", "NATURAL")
	i = a.indexHints(i)
	joined := !a.is(i, "SET")
	if joined {
		var refs []tableRef
		if refs, i = a.tableRefs(start, func(k int) bool { return a.is(k, "SET") }); !a.is(i, "SET") {
			a.unsupported("SET expected at " + a.text(i))
			return
		}
		a.st.From = a.span(start, i)
		var quals []string
		a.st.SetColumns, i = a.mysqlAssignments(i+1, nil, &quals)
		if !a.written(refs, quals, "a multi-table UPDATE") {
			return
		}
		a.mysqlTail(i)
		return
	}
	var values [][]Span
	a.st.SetColumns, i = a.mysqlAssignments(i+1, &values, nil)
	if len(values) == 1 {
		a.st.SetValues = values[0]
	}
	a.mysqlTail(i)
}

// tableRef is one table of a multi-table statement's table references:
// the table (none for a derived table) and the name its clauses call it by.
type tableRef struct {
	name Name
	qual string
}

// tableRefs reads the table references of a multi-table UPDATE or DELETE
// at i, up to the token stop reports, and returns them and where they end.
func (a *analyzer) tableRefs(i int, stop func(int) bool) ([]tableRef, int) {
	var refs []tableRef
	joins := []string{"JOIN", "STRAIGHT_JOIN", "INNER", "CROSS", "LEFT", "RIGHT", "NATURAL"}
	notAlias := append([]string{"ON", "USING", "SET", "WHERE", "USE", "FORCE", "IGNORE", "PARTITION"}, joins...)
	expect := true
	for i < a.end && !stop(i) {
		switch {
		case a.toks[i].Kind == Comma, a.isAny(i, "JOIN", "STRAIGHT_JOIN"):
			expect = true
			i++
		case a.isAny(i, "INNER", "CROSS", "LEFT", "RIGHT", "NATURAL", "OUTER"):
			i++
		case a.is(i, "ON"):
			i = a.next(i+1, func(k int) bool { return stop(k) || a.toks[k].Kind == Comma || a.isAny(k, joins...) })
		case a.is(i, "USING") && i+1 < a.end && a.toks[i+1].Kind == LParen:
			i = a.skipParens(i + 1)
		case expect && a.toks[i].Kind == LParen:
			end := a.skipParens(i)
			if a.isAny(i+1, "SELECT", "WITH", "VALUES", "TABLE") {
				i = end
				if a.is(i, "AS") {
					i++
				}
				if i < a.end && !a.isAny(i, notAlias...) && (a.toks[i].Kind == Word || a.toks[i].Kind == QuotedIdent) {
					refs = append(refs, tableRef{qual: a.text(i)})
					i++
				}
			} else {
				inner, _ := a.tableRefs(i+1, func(k int) bool { return k == end-1 })
				refs = append(refs, inner...)
				i = end
			}
			expect = false
		case expect:
			n, j := a.nameAt(i)
			if n.Text == "" {
				return refs, a.end
			}
			ref := tableRef{name: n, qual: a.src[n.Start:n.End]}
			j = a.partition(j)
			if a.is(j, "AS") {
				j++
			}
			if j < a.end && !stop(j) && !a.isAny(j, notAlias...) && (a.toks[j].Kind == Word || a.toks[j].Kind == QuotedIdent) {
				ref.qual = a.text(j)
				j++
			}
			refs = append(refs, ref)
			i, expect = a.indexHints(j), false
		default:
			a.unsupported("unexpected " + a.text(i) + " in the tables of a multi-table statement")
			return refs, a.end
		}
	}
	return refs, i
}

// written makes the one table of refs that quals name the statement's
// target; what a statement is names it where quals name no table, an
// unqualified column, or several tables.
func (a *analyzer) written(refs []tableRef, quals []string, what string) bool {
	var target *tableRef
	for _, q := range quals {
		if q == "" {
			a.unsupported("an unqualified column in the SET of " + what)
			return false
		}
		var ref *tableRef
		for k := range refs {
			if a.d.Fold(refs[k].qual) == a.d.Fold(q) || refs[k].name.Text != "" && a.d.Fold(a.src[refs[k].name.Start:refs[k].name.End]) == a.d.Fold(q) {
				ref = &refs[k]
			}
		}
		switch {
		case ref == nil || ref.name.Text == "":
			a.unsupported(what + " that writes " + q + ", which is no table of its table references")
			return false
		case target != nil && target != ref:
			a.unsupported(what + " that writes several tables")
			return false
		}
		target = ref
	}
	if target == nil {
		a.unsupported(what + " that writes no table")
		return false
	}
	a.st.Target, a.st.Qualifier, a.st.Joined = target.name, target.qual, true
	return true
}

// mysqlDelete reads a DELETE at i, after the keyword.
func (a *analyzer) mysqlDelete(i int) {
	for a.isAny(i, "LOW_PRIORITY", "QUICK", "IGNORE") {
		a.st.Ignore = a.st.Ignore || a.is(i, "IGNORE")
		i++
	}
	if !a.is(i, "FROM") {
		// DELETE t1[.*], ... FROM table_references
		targets, j := a.deleteTargets(i, "FROM")
		a.multiDelete(targets, j)
		return
	}
	if j := a.next(i+1, func(k int) bool { return a.isAny(k, "USING", "WHERE") }); a.is(j, "USING") {
		// DELETE FROM t1[.*], ... USING table_references
		targets, j := a.deleteTargets(i+1, "USING")
		a.multiDelete(targets, j)
		return
	}
	i = a.tableName(i + 1)
	i = a.alias(i, "WHERE", "ORDER", "LIMIT", "RETURNING", "PARTITION", "USE", "FORCE", "IGNORE")
	i = a.partition(i)
	i = a.indexHints(i)
	a.mysqlTail(i)
}

// deleteTargets reads the tables a multi-table DELETE deletes from, at i,
// up to the keyword end, and returns them as written (without .*) and the
// index of end.
func (a *analyzer) deleteTargets(i int, end string) ([]string, int) {
	var targets []string
	for i < a.end && !a.is(i, end) {
		start := i
		for i < a.end && a.toks[i].Kind != Comma && !a.is(i, end) {
			i++
		}
		if i == start {
			break
		}
		t := a.src[a.toks[start].Start:a.toks[i-1].End]
		targets = append(targets, strings.TrimSuffix(strings.TrimSuffix(t, "*"), "."))
		if i < a.end && a.toks[i].Kind == Comma {
			i++
		}
	}
	return targets, i
}

// multiDelete reads the table references of a multi-table DELETE at the
// keyword at i and its WHERE clause.
func (a *analyzer) multiDelete(targets []string, i int) {
	if i >= a.end {
		a.unsupported("FROM or USING expected in a multi-table DELETE")
		return
	}
	start := i + 1
	refs, j := a.tableRefs(start, func(k int) bool { return a.isAny(k, "WHERE", "ORDER", "LIMIT", "RETURNING") })
	a.st.From = a.span(start, j)
	if !a.written(refs, targets, "a multi-table DELETE") {
		return
	}
	a.mysqlTail(j)
}

// indexHints skips {USE | FORCE | IGNORE} {INDEX | KEY} [FOR {JOIN |
// ORDER BY | GROUP BY}] (...) hints at i.
func (a *analyzer) indexHints(i int) int {
	for a.isAny(i, "USE", "FORCE", "IGNORE") && a.isAny(i+1, "INDEX", "KEY") {
		i += 2
		if a.is(i, "FOR") {
			i++
			if a.isAny(i, "ORDER", "GROUP") && a.is(i+1, "BY") {
				i += 2
			} else if a.is(i, "JOIN") {
				i++
			}
		}
		if i >= a.end || a.toks[i].Kind != LParen {
			a.unsupported("( expected in an index hint at " + a.text(i))
			return a.end
		}
		i = a.skipParens(i)
		if i < a.end && a.toks[i].Kind == Comma && a.isAny(i+1, "USE", "FORCE", "IGNORE") {
			i++
		}
	}
	return i
}

// mysqlTail reads the WHERE, ORDER BY, LIMIT and RETURNING clauses of a
// single-table UPDATE or DELETE.
func (a *analyzer) mysqlTail(i int) {
	if i > 0 {
		a.st.WhereAt = int(a.toks[i-1].End)
	}
	if a.is(i, "WHERE") {
		j := a.next(i+1, func(k int) bool { return a.isAny(k, "ORDER", "LIMIT", "RETURNING") })
		a.st.Where = a.span(i+1, j)
		i = j
	}
	if a.isAny(i, "ORDER", "LIMIT") {
		j := a.next(i, func(k int) bool { return a.is(k, "RETURNING") })
		a.st.OrderLimit = a.span(i, j)
		i = j
	}
	if a.is(i, "RETURNING") {
		if a.st.Kind == KindUpdate {
			a.unsupported("RETURNING in UPDATE")
			return
		}
		i = a.returning(i)
	}
	if i < a.end {
		a.unsupported("unexpected " + strings.ToUpper(a.text(i)))
	}
}

// mysqlAnalyzeRuns reports whether the ANALYZE whose keyword is before i
// is MariaDB's ANALYZE [FORMAT=...] statement, which runs the statement
// (an UPDATE, a DELETE, an INSERT...) and then shows its plan, rather
// than ANALYZE [NO_WRITE_TO_BINLOG | LOCAL] TABLE, which reads a table's
// statistics.
func (a *analyzer) mysqlAnalyzeRuns(i int) bool {
	return !a.isAny(i, "TABLE", "TABLES", "NO_WRITE_TO_BINLOG", "LOCAL")
}
