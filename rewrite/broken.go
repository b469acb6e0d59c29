package rewrite

// broken returns the refusal of the statements on a mapping entry that no
// longer matches the live schema, or nil.
func (p *Planner) broken(t *Table) error {
	why, ok := p.schema.Broken[p.d.FoldName(t.Map.Old)]
	if !ok {
		return nil
	}
	return &UnsupportedError{Table: t.Map.Old,
		Construct: "the mapping " + pairOf(t) + " no longer matches the live schema after a schema change: " + why,
		Fix:       "undo the change through this sql.DB, which checks the schema again after each schema change it runs, or fix the schema or the mapping and open a new sql.DB"}
}
