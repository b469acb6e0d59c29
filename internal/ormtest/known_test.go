package ormtest

// The library bugs the steps and reads of both ORMs hit today. Each is
// expected where it applies, so that the suite passes; when one is fixed
// the suite fails, naming it, and its entry is removed from the steps and
// reads that name it (and from here), which makes them steps that must
// succeed.
var (
	// The mirror writes the new key's row before it deletes the old key's,
	// so the new table's unique email (or slug) is violated.
	keyChangeBug = &bug{name: "key change of a row with a unique column", err: "failed at upsert; nothing was written"}
	// A point lookup by key with LIMIT 1 and no ORDER BY (GORM Take, bun
	// Limit(1).Scan) runs on the old table only in the compare phase.
	pointLookupBug = &bug{name: "point lookup WHERE id = ? LIMIT 1 not compared"}
	// GORM Clauses(clause.Locking{...}), bun For("UPDATE").
	forUpdateBug = &bug{name: "SELECT ... FOR UPDATE refused in the compare and new read phases", err: "a locking read (FOR UPDATE)", on: []string{"postgres"}}
	// bun CreateTable().IfNotExists() of a table that exists changes nothing.
	ddlBug = &bug{name: "DDL naming a mapped table refused in the dual phase", err: "a schema change naming a mapped table"}
	// GORM clause.Insert{Modifier: "OR REPLACE"}, bun Replace().
	replaceBug = &bug{name: "REPLACE on a table with a unique column besides its key refused", err: "REPLACE on a table with a unique constraint besides its key", on: []string{"sqlite"}}
	// bun's MERGE has a WITH clause of VALUES, which writes nothing.
	mergeMessageBug = &bug{name: "MERGE refused with a misleading message", err: "a data-modifying statement inside WITH", on: []string{"postgres"}}
)

// The statements the wrapper refuses by design, with the reason and what
// to write instead. docs/orm.md lists them for each ORM.
var (
	upsertKeyRefusal      = &refusal{reason: "an upsert (ON CONFLICT DO UPDATE) that assigns a key column would move a row the mirror knows by its key; change keys with UPDATE ... SET id = ..."}
	multiStatementRefusal = &refusal{reason: "several statements in one string naming a mapped table are not analyzed one by one; run them as separate statements"}
	newTableRefusal       = &refusal{reason: "a write to a new table: only the mirror writes it; write the old table"}
	alterRefusal          = &refusal{reason: "a schema change of a mapped table: the mapping lists every column of the old table; change the schema with the base driver, and the mapping with it"}
	mergeRefusal          = &refusal{reason: "MERGE naming a mapped table is not analyzed, so not mirrored; use INSERT ... ON CONFLICT DO UPDATE", on: []string{"postgres"}}
	truncateRefusal       = &refusal{reason: "TRUNCATE of a mapped table is not mirrored; use DELETE FROM the table", on: []string{"postgres"}}
)
