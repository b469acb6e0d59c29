package schema

import (
	"slices"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// withoutFences returns trigs without the triggers of dualwrite's fence
// (rewrite.Table.Fence, or rewrite.Table.FenceBoth for the write phase
// both): a fence reads both tables of its pair but writes nothing, so it
// is no guard. A trigger that has the fence's name on a mapped table but
// not the function this mapping's fence has in either mode (a fence
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
			if !slices.ContainsFunc(c.fences(e), func(f *rewrite.Fence) bool { return t.function == f.Function && t.source == f.Body }) {
				in.problem(e.Old, "", "trigger %s on %s is not the fence of the mapping entry %s -> %s as it stands (installed for another version of the mapping?): run dualwrite fence install [--both] again, or dualwrite fence remove",
					t.name, t.table, e.Old, e.New)
			}
			return true
		}
		return false
	})
}

// fences returns the fences of a mapping entry, strict and for the write
// phase both, as the live tables' column types make them; none when a
// table lacks a column.
func (c *pgCatalog) fences(e *mapping.Table) []*rewrite.Fence {
	newTypes := c.columnTypes(e.New, e.Columns)
	oldTypes := c.columnTypes(e.Old, e.Reverse)
	if newTypes == nil || oldTypes == nil {
		return nil
	}
	ct := rewrite.Postgres.Compile(e)
	strict, err := ct.Fence(newTypes)
	if err != nil {
		return nil
	}
	both, err := ct.FenceBoth(newTypes, oldTypes)
	if err != nil {
		return nil
	}
	return []*rewrite.Fence{strict, both}
}

// columnTypes returns the live types of the columns cols of table, or nil
// when the table or one of the columns is missing.
func (c *pgCatalog) columnTypes(table string, cols []mapping.Column) []string {
	r, err := c.rel(table)
	if err != nil || r == nil || r.t == nil {
		return nil
	}
	types := make([]string, len(cols))
	for i, mc := range cols {
		col, ok := r.t.col(mc.Name)
		if !ok {
			return nil
		}
		types[i] = col.typ
	}
	return types
}
