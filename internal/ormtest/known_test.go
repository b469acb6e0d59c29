package ormtest

// The statements the wrapper refuses by design, with the reason and what
// to write instead. docs/orm.md lists them for each ORM.
var (
	upsertKeyRefusal      = &refusal{construct: "UPDATE that assigns key column", mysql: "ON DUPLICATE KEY UPDATE on a table with a unique key besides its key", reason: "an upsert (ON CONFLICT DO UPDATE, ON DUPLICATE KEY UPDATE) that assigns a key column would move a row the mirror knows by its key; change keys with UPDATE ... SET id = ... (on MySQL, where the ORMs write id = VALUES(id), which keeps the key where the key is the only unique key, the other unique key refuses the upsert first)"}
	multiStatementRefusal = &refusal{construct: "several statements in one string", reason: "several statements in one string naming a mapped table are not analyzed one by one; run them as separate statements"}
	newTableRefusal       = &refusal{construct: "a write to the new table", reason: "a write to a new table: only the mirror writes it; write the old table"}
	alterRefusal          = &refusal{construct: "on a table of the mapping", reason: "a schema change of a mapped table: the mapping lists every column of the old table; change the schema with the base driver, and the mapping with it"}
	mergeRefusal          = &refusal{construct: "MERGE into a table the mirror keeps", reason: "MERGE into a mapped table: before PostgreSQL 17 it cannot return the keys it wrote, so it cannot be mirrored; use INSERT ... ON CONFLICT DO UPDATE", on: []string{"postgres"}}
	mysqlUpsertRefusal    = &refusal{construct: "ON DUPLICATE KEY UPDATE on a table with a unique key besides its key", reason: "ON DUPLICATE KEY UPDATE on a table with another unique key (email, slug) may update the row of a key the statement does not name; insert, then update by the key", on: []string{"mysql"}}
	mysqlReplaceRefusal   = &refusal{construct: "REPLACE on a table with a unique key besides its key", reason: "REPLACE on a table with another unique key also deletes the rows it meets through that key, which the mirror cannot learn; use INSERT, then UPDATE by the key", on: []string{"mysql"}}
	mysqlWithRefusal      = &refusal{construct: "a write with a WITH clause", reason: "a write after WITH on MySQL (bun's bulk UPDATE); update each row by its key, or write the statement with a derived table", on: []string{"mysql"}}
	lockingReadRefusal    = &refusal{construct: "a locking read (FOR UPDATE)", reason: "a locking read of a mapped table on MySQL runs in the old read phase only: it is refused in compare and new; lock in the old read phase", on: []string{"mysql"}}
	truncateRefusal       = &refusal{construct: "a statement the analyzer cannot classify", reason: "TRUNCATE of a mapped table is not mirrored; use DELETE FROM the table", on: []string{"postgres"}}
)
