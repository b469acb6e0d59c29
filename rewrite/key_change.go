package rewrite

import (
	"fmt"
	"strings"
)

// Key changes. An UPDATE that may change key values cannot learn the old
// keys from its RETURNING, which shows the new ones: a pre-select of the
// keys of the rows it is about to change runs first, built by splicing the
// statement's own WITH, FROM and WHERE clauses, with the same arguments.

// keyChange adds the pre-select of a key-changing UPDATE to its plan, and
// where the dialect locks rows (lockRows) restricts the statement to the
// rows the pre-select locked.
func (p *Planner) keyChange(plan *Plan, query string, st *Statement, returning string) {
	var cols []string
	if p.d.lockRows {
		cols = append(cols, st.Qualifier+".tableoid::text", st.Qualifier+".ctid::text")
	}
	for _, k := range plan.Table.Map.Key {
		cols = append(cols, st.Qualifier+"."+p.d.Quote(k))
	}
	plan.PreSelect = p.preSelect(query, st, cols, plan.Params, &plan.PreSelectParams)
	if p.d.lockRows {
		p.lockRows(plan, query, st, returning)
	}
}

// lockRows makes a key-changing UPDATE safe under READ COMMITTED, where a
// statement sees rows committed after an earlier one: the pre-select locks
// the rows and returns their identity (table oid and ctid, which a lock
// keeps stable; keyChange selects them first), and the statement is
// restricted to those rows, so every row it changes had its old key
// selected.
func (p *Planner) lockRows(plan *Plan, query string, st *Statement, returning string) {
	q := st.Qualifier
	plan.RowIDs = 2
	plan.PreSelect += " FOR UPDATE OF " + lockName(q)
	n := plan.Params.Count
	cond := fmt.Sprintf("%s.ctid = ANY(%s::tid[]) AND (%s.tableoid::text || ',' || %s.ctid::text) = ANY(%s::text[])",
		q, p.d.Placeholder(n+1), q, q, p.d.Placeholder(n+2))
	if st.Where.End > st.Where.Start {
		plan.Capture = query[:st.Where.Start] + "(" + query[st.Where.Start:st.Where.End] + ") AND " + cond + query[st.Where.End:st.End] + returning
	} else {
		plan.Capture = query[:st.WhereAt] + " WHERE " + cond + query[st.WhereAt:st.End] + returning
	}
}

// lockName is the name FOR UPDATE OF takes for a qualifier: its last part.
func lockName(q string) string {
	if i := strings.LastIndexByte(q, '.'); i >= 0 && !strings.HasSuffix(q, `"`) {
		return q[i+1:]
	}
	return q
}

// preSelect selects cols of the rows an UPDATE is about to change, under
// the UPDATE's own WITH clause.
func (p *Planner) preSelect(query string, st *Statement, cols []string, params *Params, used *[]int) string {
	var b strings.Builder
	if st.With.End > st.With.Start {
		b.WriteString(p.d.splice(query, st.With, st, params, used) + " ")
	}
	b.WriteString("SELECT " + strings.Join(cols, ", ") + " FROM " + query[st.Target.Start:st.Target.End])
	if st.Qualifier != query[st.Target.Start:st.Target.End] {
		b.WriteString(" AS " + st.Qualifier)
	}
	if st.From.End > st.From.Start {
		b.WriteString(", " + p.d.splice(query, st.From, st, params, used))
	}
	if st.Where.End > st.Where.Start {
		b.WriteString(" WHERE " + p.d.splice(query, st.Where, st, params, used))
	}
	return b.String()
}
