package schema

import (
	"slices"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// withoutFences returns trigs without the triggers of dualwrite's fence
// (rewrite.Table.Fence): a fence reads both tables of its pair but writes
// nothing, so it is no guard. A trigger that has the fence's name on a
// mapped table but not the function this mapping's fence has (a fence
// installed for another version of the mapping) is a problem, named so.
func (c *pgCatalog) withoutFences(in *inspector, m *mapping.Mapping, trigs []pgTrigger) []pgTrigger {
	return slices.DeleteFunc(trigs, func(t pgTrigger) bool {
		if t.name != rewrite.FenceTrigger {
			return false
		}
		for _, e := range m.Tables {
			if t.table != e.Old && t.table != e.New {
				continue
			}
			f := c.fence(e)
			if f == nil || t.function != f.Function || t.source != f.Body {
				in.problem(e.Old, "", "trigger %s on %s is not the fence of the mapping entry %s -> %s as it stands (installed for another version of the mapping?): run dualwrite fence install again, or dualwrite fence remove",
					t.name, t.table, e.Old, e.New)
			}
			return true
		}
		return false
	})
}

// fence returns the fence of a mapping entry as the live new table's
// column types make it, or nil when the new table lacks a column.
func (c *pgCatalog) fence(e *mapping.Table) *rewrite.Fence {
	r, err := c.rel(e.New)
	if err != nil || r == nil || r.t == nil {
		return nil
	}
	types := make([]string, len(e.Columns))
	for i, mc := range e.Columns {
		col, ok := r.t.col(mc.Name)
		if !ok {
			return nil
		}
		types[i] = col.typ
	}
	f, err := rewrite.Postgres.Compile(e).Fence(types)
	if err != nil {
		return nil
	}
	return f
}
