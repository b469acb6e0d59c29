package rewrite

import "strings"

// Kind is the class of a statement.
type Kind uint8

// Statement kinds.
const (
	KindOther   Kind = iota // anything the analyzer does not classify
	KindSelect              // SELECT, VALUES, or WITH ... SELECT
	KindInsert              // INSERT, REPLACE, upserts
	KindUpdate              // UPDATE
	KindDelete              // DELETE
	KindTx                  // BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE
	KindDDL                 // CREATE, DROP, ALTER
	KindEmpty               // nothing but white space and comments
	KindUtility             // PRAGMA, EXPLAIN, ANALYZE, REINDEX, VACUUM, ATTACH, DETACH
	KindMerge               // MERGE (PostgreSQL 15 and later)
)

var kindNames = [...]string{"other", "select", "insert", "update", "delete", "transaction", "ddl", "empty", "utility", "merge"}

func (k Kind) String() string { return kindNames[k] }

// IsWrite reports whether the kind changes table rows.
func (k Kind) IsWrite() bool { return k == KindInsert || k == KindUpdate || k == KindDelete }

// Name is a table name as written: optional schema and the name, both folded.
type Name struct {
	Schema, Table string
	Start, End    int    // byte span of the whole name in the statement
	Text          string // the table part as written (quotes included)
}

// Span is a byte range of the statement text; Start == End means absent.
type Span struct{ Start, End int }

// Statement is what the analyzer learned about one SQL statement.
type Statement struct {
	Kind Kind
	// Target is the table an INSERT, UPDATE or DELETE writes.
	Target Name
	// Qualifier is how the statement's own clauses name the target's rows:
	// its alias, or the target as written.
	Qualifier string
	// Replace is set for REPLACE INTO and OR REPLACE, which delete
	// conflicting rows.
	Replace bool
	// Columns are an INSERT's column list as written (nil without one),
	// and Source its rows: the VALUES or SELECT after it, up to ON CONFLICT
	// or RETURNING (empty for DEFAULT VALUES). Upsert is set when an ON
	// CONFLICT clause follows.
	Columns []string
	Source  Span
	Upsert  bool
	// SetColumns are the columns an UPDATE's SET assigns, folded.
	SetColumns []string
	// SetValues are the values a MySQL UPDATE's SET assigns, one span per
	// column of SetColumns.
	SetValues []Span
	// UpsertSetColumns are the columns an ON CONFLICT DO UPDATE SET assigns, folded.
	UpsertSetColumns []string
	// UpsertSetValues are the values a MySQL ON DUPLICATE KEY UPDATE
	// assigns, one span per column of UpsertSetColumns.
	UpsertSetValues []Span
	// With is the WITH clause before the statement, keyword included.
	With Span
	// WithWrites is set when a common table expression of the WITH clause
	// holds a data-modifying statement (PostgreSQL), or might.
	WithWrites bool
	// From and Where are the bodies of an UPDATE's FROM clause and an
	// UPDATE's or DELETE's WHERE clause, without their keywords.
	From, Where Span
	// WhereAt is where an UPDATE's or DELETE's WHERE clause starts, or
	// would start: the offset just past the clause before it.
	WhereAt int
	// Ignore is set on MySQL's INSERT IGNORE, UPDATE IGNORE and DELETE IGNORE.
	Ignore bool
	// HasColumns is set when an INSERT names its columns (MySQL: a
	// column list or SET).
	HasColumns bool
	// Rows are the values of a MySQL INSERT ... VALUES (one row per row,
	// one span per value) or INSERT ... SET (one row); FromQuery is set
	// on an INSERT ... SELECT (or TABLE, or WITH).
	Rows      [][]Span
	FromQuery bool
	// OrderLimit is a MySQL UPDATE's or DELETE's ORDER BY and LIMIT clauses.
	OrderLimit Span
	// Joined is set on a MySQL multi-table UPDATE or DELETE that writes
	// one table, Target (named by Qualifier): From holds its table
	// references, the target's among them.
	Joined bool
	// Returning is set when the statement has a RETURNING clause.
	Returning bool
	// End is the offset just past the statement's last significant token:
	// where a clause can be appended.
	End int
	// Multi is set when more statements follow a semicolon.
	Multi bool
	// Unsupported names a construct the analyzer found and cannot handle
	// with certainty; "" when there is none.
	Unsupported string
	// Params lists the placeholders in order of appearance.
	Params []Token
}

// analyzer walks one statement's tokens.
type analyzer struct {
	d    *Dialect
	src  string
	toks []Token
	end  int // index of the first token after the statement (its ';' or len)
	st   *Statement
}

// Analyze classifies the first statement of src and finds the clauses the
// planner needs. It returns a *LexError when src cannot be tokenized.
func (d *Dialect) Analyze(src string) (*Statement, error) {
	toks, err := d.Lex(src)
	if err != nil {
		return nil, err
	}
	return d.analyzeTokens(src, toks), nil
}

func (d *Dialect) analyzeTokens(src string, toks []Token) *Statement {
	st := &Statement{}
	a := &analyzer{d: d, src: src, toks: toks, st: st, end: len(toks)}
	for i, t := range toks {
		if t.Kind == Semicolon && a.end == len(toks) {
			a.end = i
		}
		if t.Kind != Semicolon && a.end < i {
			st.Multi = true
			break
		}
	}
	for _, t := range toks[:a.end] {
		if t.Kind == Param {
			st.Params = append(st.Params, t)
		}
	}
	if a.end == 0 {
		st.Kind = KindEmpty
		return st
	}
	st.End = int(toks[a.end-1].End)
	a.statement(0)
	return st
}

// is reports whether token i is the keyword word. A word after a dot is a
// name (u.returning), never a keyword.
func (a *analyzer) is(i int, word string) bool {
	return i < a.end && a.toks[i].Kind == Word && strings.EqualFold(a.toks[i].Text(a.src), word) &&
		(i == 0 || a.toks[i-1].Kind != Dot)
}

func (a *analyzer) isAny(i int, words ...string) bool {
	for _, w := range words {
		if a.is(i, w) {
			return true
		}
	}
	return false
}

func (a *analyzer) unsupported(construct string) {
	if a.st.Unsupported == "" {
		a.st.Unsupported = construct
	}
}

// skipParens returns the index after the parenthesis group opening at i.
func (a *analyzer) skipParens(i int) int {
	depth := 0
	for ; i < a.end; i++ {
		switch a.toks[i].Kind {
		case LParen:
			depth++
		case RParen:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	a.unsupported("unbalanced parentheses")
	return a.end
}

// next returns the index of the first depth-0 token at or after i that
// satisfies stop, or a.end.
func (a *analyzer) next(i int, stop func(int) bool) int {
	for i < a.end {
		if a.toks[i].Kind == LParen {
			i = a.skipParens(i)
			continue
		}
		if a.toks[i].Kind == RParen {
			a.unsupported("unbalanced parentheses")
			return a.end
		}
		if stop(i) {
			return i
		}
		i++
	}
	return a.end
}

func (a *analyzer) statement(i int) {
	switch {
	case a.is(i, "WITH"):
		// Skip the common table expressions to the main statement.
		j := a.next(i+1, func(j int) bool {
			return a.isAny(j, "SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE", "MERGE")
		})
		if j == a.end {
			a.unsupported("WITH without a statement")
			return
		}
		a.st.With = a.span(i, j)
		for k := i + 1; k < j; k++ {
			if a.isAny(k, "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE") {
				a.st.WithWrites = true
			}
		}
		a.statement(j)
	case a.isAny(i, "SELECT", "VALUES", "TABLE"):
		a.st.Kind = KindSelect
	case a.toks[i].Kind == LParen:
		a.st.Kind = KindSelect
	case (a.is(i, "INSERT") || a.is(i, "REPLACE")) && a.d.mysql:
		a.st.Kind = KindInsert
		a.mysqlInsert(i)
	case a.is(i, "UPDATE") && a.d.mysql:
		a.st.Kind = KindUpdate
		a.mysqlUpdate(i + 1)
	case a.is(i, "DELETE") && a.d.mysql:
		a.st.Kind = KindDelete
		a.mysqlDelete(i + 1)
	case a.is(i, "INSERT"), a.is(i, "REPLACE"):
		a.st.Kind = KindInsert
		a.insert(i)
	case a.is(i, "UPDATE"):
		a.st.Kind = KindUpdate
		a.update(i + 1)
	case a.is(i, "DELETE"):
		a.st.Kind = KindDelete
		a.delete(i + 1)
	case a.is(i, "MERGE") && a.is(i+1, "INTO"):
		a.st.Kind = KindMerge
		a.tableName(i + 2)
	case a.isAny(i, "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "START", "ABORT"):
		a.st.Kind = KindTx
	case a.isAny(i, "CREATE", "DROP", "ALTER"):
		a.st.Kind = KindDDL
	case a.is(i, "EXPLAIN") && a.explainRuns(i+1):
		// PostgreSQL's EXPLAIN ANALYZE runs the statement it explains.
		a.st.Kind = KindOther
	case a.is(i, "ANALYZE") && a.d.mysql && a.mysqlAnalyzeRuns(i+1):
		// MariaDB's ANALYZE runs the statement it explains.
		a.st.Kind = KindOther
	case a.isAny(i, "PRAGMA", "EXPLAIN", "ANALYZE", "REINDEX", "VACUUM", "ATTACH", "DETACH"):
		a.st.Kind = KindUtility
	default:
		a.st.Kind = KindOther
	}
}

// explainRuns reports whether the EXPLAIN options at i say ANALYZE, which
// makes PostgreSQL run the statement.
func (a *analyzer) explainRuns(i int) bool {
	if a.is(i, "ANALYZE") || a.is(i, "ANALYSE") {
		return true
	}
	if i < a.end && a.toks[i].Kind == LParen {
		for j := i + 1; j < a.end && a.toks[j].Kind != RParen; j++ {
			if a.is(j, "ANALYZE") || a.is(j, "ANALYSE") {
				return true
			}
		}
	}
	return false
}

// conflictClause consumes "OR <resolution>" at i.
func (a *analyzer) conflictClause(i int) int {
	if !a.is(i, "OR") {
		return i
	}
	if a.is(i+1, "REPLACE") {
		a.st.Replace = true
	} else if !a.isAny(i+1, "ROLLBACK", "ABORT", "FAIL", "IGNORE") {
		a.unsupported("OR " + a.text(i+1))
	}
	return i + 2
}

func (a *analyzer) text(i int) string {
	if i >= a.end {
		return "end of statement"
	}
	return a.toks[i].Text(a.src)
}

// tableName reads [schema.]name at i, the statement's target.
func (a *analyzer) tableName(i int) int {
	n, i := a.nameAt(i)
	if n.Text != "" {
		a.st.Target = n
		a.st.Qualifier = a.src[n.Start:n.End]
	}
	return i
}

// nameAt reads [schema.]name at i.
func (a *analyzer) nameAt(i int) (Name, int) {
	isName := func(j int) bool {
		if j >= a.end {
			return false
		}
		k := a.toks[j].Kind
		return k == Word || k == QuotedIdent || k == String
	}
	if a.is(i, "ONLY") && isName(i+1) && a.d.dollarParams {
		i++ // PostgreSQL: the table without its inheritance children
	}
	if !isName(i) {
		a.unsupported("table name expected at " + a.text(i))
		return Name{}, a.end
	}
	n := Name{Table: a.d.Fold(a.text(i)), Start: int(a.toks[i].Start), End: int(a.toks[i].End), Text: a.text(i)}
	i++
	if i < a.end && a.toks[i].Kind == Dot {
		if !isName(i + 1) {
			a.unsupported("table name expected at " + a.text(i+1))
			return Name{}, a.end
		}
		n.Schema, n.Table, n.End, n.Text = n.Table, a.d.Fold(a.text(i+1)), int(a.toks[i+1].End), a.text(i+1)
		i += 2
		if i < a.end && a.toks[i].Kind == Dot {
			a.unsupported("a three-part table name")
			return Name{}, a.end
		}
	}
	return n, i
}

// alias reads [AS] alias at i, where words in notAlias end the name.
func (a *analyzer) alias(i int, notAlias ...string) int {
	if a.is(i, "AS") {
		i++
	} else if i >= a.end || a.toks[i].Kind != Word && a.toks[i].Kind != QuotedIdent || a.isAny(i, notAlias...) {
		return i
	}
	if i >= a.end || a.toks[i].Kind != Word && a.toks[i].Kind != QuotedIdent {
		a.unsupported("alias expected at " + a.text(i))
		return a.end
	}
	a.st.Qualifier = a.text(i)
	return i + 1
}

// indexHint skips INDEXED BY name and NOT INDEXED.
func (a *analyzer) indexHint(i int) int {
	switch {
	case a.is(i, "INDEXED") && a.is(i+1, "BY"):
		return i + 3
	case a.is(i, "NOT") && a.is(i+1, "INDEXED"):
		return i + 2
	}
	return i
}

func (a *analyzer) insert(i int) {
	if a.is(i, "REPLACE") {
		a.st.Replace = true
		i++
	} else {
		i = a.conflictClause(i + 1)
	}
	if !a.is(i, "INTO") {
		a.unsupported("INTO expected at " + a.text(i))
		return
	}
	i = a.tableName(i + 1)
	i = a.alias(i, "DEFAULT", "VALUES", "SELECT", "WITH")
	if i < a.end && a.toks[i].Kind == LParen {
		j := a.skipParens(i)
		for k := i + 1; k < j-1; k++ {
			if a.toks[k].Kind != Comma {
				a.st.Columns = append(a.st.Columns, a.text(k))
			}
		}
		i = j
	}
	first := true
	for i < a.end {
		j := a.next(i, func(j int) bool {
			return a.is(j, "ON") && a.is(j+1, "CONFLICT") || a.is(j, "RETURNING")
		})
		if first && !a.is(i, "DEFAULT") {
			a.st.Source = a.span(i, j)
		}
		first = false
		if j == a.end {
			return
		}
		a.st.Upsert = a.st.Upsert || a.is(j, "ON")
		if a.is(j, "RETURNING") {
			a.returning(j)
			return
		}
		i = a.upsert(j + 2)
	}
}

// upsert reads one ON CONFLICT clause body at i and returns where it ends.
func (a *analyzer) upsert(i int) int {
	do := a.next(i, func(j int) bool { return a.is(j, "DO") })
	switch {
	case a.is(do+1, "NOTHING"):
		return do + 2
	case a.is(do+1, "UPDATE") && a.is(do+2, "SET"):
		cols, j := a.assignments(do + 3)
		a.st.UpsertSetColumns = append(a.st.UpsertSetColumns, cols...)
		if a.is(j, "WHERE") {
			j = a.next(j+1, func(k int) bool {
				return a.is(k, "ON") && a.is(k+1, "CONFLICT") || a.is(k, "RETURNING")
			})
		}
		return j
	}
	a.unsupported("ON CONFLICT without DO NOTHING or DO UPDATE SET")
	return a.end
}

// assignments reads "col = expr, (c1, c2) = expr, ..." at i and returns the
// assigned columns and the index of the clause that ends the list.
func (a *analyzer) assignments(i int) ([]string, int) {
	var cols []string
	for {
		switch {
		case i < a.end && a.toks[i].Kind == LParen:
			end := a.skipParens(i)
			for j := i + 1; j < end-1; {
				var col string
				if col, j = a.setTarget(j); col == "" {
					return cols, a.end
				}
				cols = append(cols, col)
				if j < end-1 && a.toks[j].Kind == Comma {
					j++
				}
			}
			i = end
		default:
			var col string
			if col, i = a.setTarget(i); col == "" {
				return cols, a.end
			}
			cols = append(cols, col)
		}
		if i >= a.end || a.toks[i].Text(a.src) != "=" {
			a.unsupported("= expected in SET at " + a.text(i))
			return cols, a.end
		}
		j := a.next(i+1, func(k int) bool {
			return a.toks[k].Kind == Comma || a.clauseAfterSet(k)
		})
		if j == a.end || a.toks[j].Kind != Comma {
			return cols, j
		}
		i = j + 1
	}
}

// setTarget reads one target of SET at i: a column, and after it any
// fields (col.field) and subscripts (col[1], col[1:2]) of it, which
// assign the column all the same. A SET target is never qualified by its
// table (SQLite and PostgreSQL reject UPDATE t SET t.col), so the first
// name is the column. It returns the folded column, "" when none is there
// (the statement is then unsupported), and the index after the target.
func (a *analyzer) setTarget(i int) (string, int) {
	if i >= a.end || a.toks[i].Kind != Word && a.toks[i].Kind != QuotedIdent {
		a.unsupported("column expected in SET at " + a.text(i))
		return "", a.end
	}
	col := a.d.Fold(a.text(i))
	for i++; i < a.end; {
		switch {
		case a.toks[i].Kind == Dot && i+1 < a.end && (a.toks[i+1].Kind == Word || a.toks[i+1].Kind == QuotedIdent):
			i += 2
		case a.toks[i].Kind == Punct && a.text(i) == "[":
			depth := 0
			for ; i < a.end; i++ {
				if t := a.text(i); a.toks[i].Kind == Punct && t == "[" {
					depth++
				} else if a.toks[i].Kind == Punct && t == "]" {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if i >= a.end {
				a.unsupported("unbalanced [ in SET")
				return "", a.end
			}
			i++
		default:
			return col, i
		}
	}
	return col, i
}

// clauseAfterSet reports whether token k starts a clause that may follow SET.
func (a *analyzer) clauseAfterSet(k int) bool {
	if a.is(k, "FROM") {
		return !a.is(k-1, "DISTINCT") // IS [NOT] DISTINCT FROM is an operator
	}
	return a.isAny(k, "WHERE", "RETURNING", "ORDER", "LIMIT") || a.is(k, "ON") && a.is(k+1, "CONFLICT")
}

func (a *analyzer) update(i int) {
	i = a.conflictClause(i)
	i = a.tableName(i)
	i = a.alias(i, "SET", "INDEXED", "NOT")
	i = a.indexHint(i)
	if !a.is(i, "SET") {
		a.unsupported("SET expected at " + a.text(i))
		return
	}
	a.st.SetColumns, i = a.assignments(i + 1)
	if a.is(i, "FROM") {
		j := a.next(i+1, func(k int) bool { return a.isAny(k, "WHERE", "RETURNING", "ORDER", "LIMIT") })
		a.st.From = a.span(i+1, j)
		i = j
	}
	a.tail(i)
}

func (a *analyzer) delete(i int) {
	if !a.is(i, "FROM") {
		a.unsupported("FROM expected at " + a.text(i))
		return
	}
	i = a.tableName(i + 1)
	i = a.alias(i, "WHERE", "RETURNING", "INDEXED", "NOT", "ORDER", "LIMIT", "USING")
	i = a.indexHint(i)
	if a.is(i, "USING") {
		// PostgreSQL's DELETE ... USING joins like UPDATE ... FROM.
		j := a.next(i+1, func(k int) bool { return a.isAny(k, "WHERE", "RETURNING") })
		a.st.From = a.span(i+1, j)
		i = j
	}
	a.tail(i)
}

// tail reads the WHERE, RETURNING, ORDER BY and LIMIT clauses of UPDATE and DELETE.
func (a *analyzer) tail(i int) {
	if i > 0 {
		a.st.WhereAt = int(a.toks[i-1].End)
	}
	if a.is(i, "WHERE") && a.is(i+1, "CURRENT") && a.is(i+2, "OF") {
		a.unsupported("WHERE CURRENT OF a cursor")
		return
	}
	if a.is(i, "WHERE") {
		j := a.next(i+1, func(k int) bool { return a.isAny(k, "RETURNING", "ORDER", "LIMIT") })
		a.st.Where = a.span(i+1, j)
		i = j
	}
	if a.is(i, "RETURNING") {
		i = a.returning(i)
	}
	switch {
	case a.isAny(i, "ORDER", "LIMIT"):
		a.unsupported(strings.ToUpper(a.text(i)) + " in " + strings.ToUpper(a.st.Kind.String()))
	case i < a.end:
		a.unsupported("unexpected " + a.text(i))
	}
}

// returning reads a RETURNING clause at i.
func (a *analyzer) returning(i int) int {
	a.st.Returning = true
	return a.next(i+1, func(k int) bool { return a.isAny(k, "ORDER", "LIMIT") })
}

// span returns the source span from token i up to token j (exclusive).
func (a *analyzer) span(i, j int) Span {
	if i >= j {
		return Span{}
	}
	return Span{Start: int(a.toks[i].Start), End: int(a.toks[j-1].End)}
}
