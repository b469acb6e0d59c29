package ormtest

// The statements the wrapper refuses by design, with the reason and what
// to write instead. docs/orm.md lists them for each ORM.
var (
	upsertKeyRefusal      = &refusal{construct: "ON CONFLICT DO UPDATE that assigns key column", reason: "an upsert (ON CONFLICT DO UPDATE) that assigns a key column would move a row the mirror knows by its key; change keys with UPDATE ... SET id = ..."}
	multiStatementRefusal = &refusal{construct: "several statements in one string", reason: "several statements in one string naming a mapped table are not analyzed one by one; run them as separate statements"}
	newTableRefusal       = &refusal{construct: "a write to the new table", reason: "a write to a new table: only the mirror writes it; write the old table"}
	alterRefusal          = &refusal{construct: "on a table of the mapping", reason: "a schema change of a mapped table: the mapping lists every column of the old table; change the schema with the base driver, and the mapping with it"}
	mergeRefusal          = &refusal{construct: "MERGE into a table the mirror keeps", reason: "MERGE into a mapped table: before PostgreSQL 17 it cannot return the keys it wrote, so it cannot be mirrored; use INSERT ... ON CONFLICT DO UPDATE", on: []string{"postgres"}}
	truncateRefusal       = &refusal{construct: "a statement the analyzer cannot classify", reason: "TRUNCATE of a mapped table is not mirrored; use DELETE FROM the table", on: []string{"postgres"}}
)
