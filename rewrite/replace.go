package rewrite

import (
	"slices"
	"strconv"
	"strings"
)

// ReplaceTargets is what the planner needs to find, before an INSERT OR
// REPLACE runs, the rows that the unique constraints of its table would
// make it delete.
type ReplaceTargets struct {
	// Columns are the columns an INSERT without a column list writes, in
	// table order.
	Columns []string
	// Unique are the table's unique constraints, its key's included.
	Unique [][]UniqueColumn
	// Refuse says why such rows cannot be found (a partial unique index,
	// one on an expression), "" when they can.
	Refuse string
}

// UniqueColumn is one column of a unique constraint.
type UniqueColumn struct {
	Name    string
	Collate string // the collation the constraint compares it by
	// Default is the SQL of the value a row that omits the column gets:
	// its DEFAULT when that is a literal, NULL when it has none; "" when
	// the DEFAULT is an expression, whose value cannot be known before.
	Default string
	// NotNull: REPLACE writes the DEFAULT where a row gives NULL.
	NotNull bool
}

// replacePlan plans an INSERT OR REPLACE (REPLACE INTO) on a mapped old
// table with unique constraints besides its key, by any of which it may
// delete rows. Before the statement, in the same atomic unit (under
// SQLite's write lock), a pre-select finds the keys of every row whose
// values in some unique constraint, the key's included, equal those of a
// row the statement inserts; the mirror then deletes the new rows of
// those keys that are gone and upserts the keys the statement returned,
// as for a key change.
func (p *Planner) replacePlan(query string, st *Statement, t *Table) *Plan {
	m := t.Map
	no := func(why string) *Plan {
		return refuse(m.Old, "REPLACE on a table with a unique constraint besides its key, "+why,
			"REPLACE may delete rows by that constraint without the mirror knowing; use INSERT ... ON CONFLICT DO UPDATE")
	}
	rt := p.schema.Replace[p.d.FoldName(m.Old)]
	switch {
	case st.Kind != KindInsert:
		return no("in an UPDATE")
	case rt == nil:
		return no("while the live schema is unknown")
	case rt.Refuse != "":
		return no("where " + rt.Refuse)
	case st.With.End > st.With.Start:
		return no("with a WITH clause")
	case st.Upsert:
		return no("with an ON CONFLICT clause")
	case st.Source.End <= st.Source.Start:
		return no("with DEFAULT VALUES")
	}
	if why := p.unstableSource(query, st); why != "" {
		return no(why)
	}
	cols := rt.Columns
	if st.Columns != nil {
		cols = make([]string, len(st.Columns))
		for i, c := range st.Columns {
			cols[i] = p.d.Fold(c)
		}
	}
	names := make([]string, len(cols))
	for i := range cols {
		names[i] = "dw_c" + strconv.Itoa(i+1)
	}
	keys := make([]string, len(m.Key))
	for i, k := range m.Key {
		keys[i] = p.d.Quote(k)
	}
	head := "SELECT " + strings.Join(keys, ", ") + " FROM " + p.d.Quote(m.Old) + " WHERE ("
	var selects []string
	for _, u := range rt.Unique {
		lhs, rhs := make([]string, len(u)), make([]string, len(u))
		never := false // a NULL in a unique constraint conflicts with nothing
		for i, c := range u {
			lhs[i] = p.d.Quote(c.Name) + " COLLATE " + p.d.Quote(c.Collate)
			at := slices.IndexFunc(cols, func(name string) bool { return p.d.FoldName(name) == p.d.FoldName(c.Name) })
			switch {
			case at >= 0 && c.NotNull && c.Default != "":
				rhs[i] = "coalesce(" + names[at] + ", " + c.Default + ")"
			case at >= 0 && !c.NotNull:
				rhs[i] = names[at]
			case at >= 0, c.Default == "":
				return no("whose column " + c.Name + " may take a DEFAULT that is an expression")
			case c.Default == "NULL":
				never = true
			default:
				rhs[i] = c.Default
			}
		}
		if !never {
			selects = append(selects, head+strings.Join(lhs, ", ")+") IN (SELECT "+strings.Join(rhs, ", ")+" FROM dw_src)")
		}
	}
	plan, _ := p.capturePlan(query, st, t)
	if len(selects) == 0 {
		return plan // every unique constraint gets a NULL: nothing conflicts
	}
	plan.Params = p.d.params(query, st.Params)
	source := p.d.splice(query, st.Source, st, plan.Params, &plan.PreSelectParams)
	plan.PreSelect = "WITH dw_src(" + strings.Join(names, ", ") + ") AS (" + source + ") " + strings.Join(selects, " UNION ")
	return plan
}

// volatile are the SQLite functions and keywords whose value may differ
// between the pre-select and the statement.
var volatile = map[string]bool{
	"random": true, "randomblob": true, "changes": true, "total_changes": true, "last_insert_rowid": true,
	"current_timestamp": true, "current_date": true, "current_time": true,
}

// unstableSource says why the rows an INSERT OR REPLACE inserts may not
// be the rows its pre-select computes, or "": a value that changes from
// one evaluation to the next (random(), the time 'now'), or a VALUES row
// that reads the table it writes, which sees the rows the statement
// inserted before it (a SELECT source is read whole before the first
// insert).
func (p *Planner) unstableSource(query string, st *Statement) string {
	toks, err := p.d.Lex(query[st.Source.Start:st.Source.End])
	if err != nil {
		return "whose rows cannot be read"
	}
	src := query[st.Source.Start:st.Source.End]
	values := len(toks) > 0 && strings.EqualFold(toks[0].Text(src), "VALUES")
	for _, t := range toks {
		text := t.Text(src)
		switch {
		case t.Kind == Word && volatile[strings.ToLower(text)]:
			return "whose rows hold " + text + ", which may change between the rows the wrapper looks for and the rows inserted"
		case t.Kind == String && strings.EqualFold(text, "'now'"):
			return "whose rows hold the time 'now', which may change between the rows the wrapper looks for and the rows inserted"
		case values && (t.Kind == Word || t.Kind == QuotedIdent) && p.d.Fold(text) == st.Target.Table:
			return "whose VALUES read the table it writes"
		}
	}
	return ""
}
