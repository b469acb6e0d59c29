package ormtest

// The library bugs the steps and reads of both ORMs hit today. Each is
// expected where it applies, so that the suite passes; when one is fixed
// the suite fails, naming it, and its entry is removed from the steps and
// reads that name it (and from here), which makes them steps that must
// succeed.
var (
	// bun CreateTable().IfNotExists() of a table that exists changes nothing.
	ddlBug = &bug{name: "DDL naming a mapped table refused in the dual phase", err: "a schema change naming a mapped table"}
)

// The statements the wrapper refuses by design, with the reason and what
// to write instead. docs/orm.md lists them for each ORM.
var (
	upsertKeyRefusal      = &refusal{construct: "ON CONFLICT DO UPDATE that assigns key column", reason: "an upsert (ON CONFLICT DO UPDATE) that assigns a key column would move a row the mirror knows by its key; change keys with UPDATE ... SET id = ..."}
	multiStatementRefusal = &refusal{construct: "several statements in one string", reason: "several statements in one string naming a mapped table are not analyzed one by one; run them as separate statements"}
	newTableRefusal       = &refusal{construct: "a write to the new table", reason: "a write to a new table: only the mirror writes it; write the old table"}
	alterRefusal          = &refusal{construct: "a schema change naming a mapped table", reason: "a schema change of a mapped table: the mapping lists every column of the old table; change the schema with the base driver, and the mapping with it"}
	mergeRefusal          = &refusal{construct: "MERGE into a table the mirror keeps", reason: "MERGE into a mapped table: before PostgreSQL 17 it cannot return the keys it wrote, so it cannot be mirrored; use INSERT ... ON CONFLICT DO UPDATE", on: []string{"postgres"}}
	truncateRefusal       = &refusal{construct: "a statement the analyzer cannot classify", reason: "TRUNCATE of a mapped table is not mirrored; use DELETE FROM the table", on: []string{"postgres"}}
)
