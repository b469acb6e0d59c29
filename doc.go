// Package dualwrite is a database/sql driver wrapper for zero-downtime schema
// migrations (expand, migrate, contract). The application keeps speaking the
// old schema; a YAML mapping (package mapping) says how each mapped old table
// projects onto its new table, and the wrapper keeps
//
//	new[k] = up(old[k])   for every key k, or both rows absent
//
// by mirroring every write on a mapped old table into the new table inside
// the same transaction.
//
// # Opening
//
// Register a driver name over an already registered base driver and open it
// as usual:
//
//	m, err := mapping.Load("mapping.yaml")
//	err = dualwrite.Register("dualwrite-sqlite3", "sqlite3", m, dualwrite.WithRegisterer(reg))
//	db, err := sql.Open("dualwrite-sqlite3", "file:app.db")
//
// or wrap a driver.Connector with [NewConnector] for sql.OpenDB. Each sql.DB
// checks the mapping against the live schema when it first connects and
// refuses to connect, listing every problem, while they do not match
// ([ErrSchemaMismatch]). It checks the schema again after each schema change
// (CREATE, DROP, ALTER) run through any of its connections, before the next
// statement of any of them; a change of a mapped table's columns or key is
// refused before it runs.
//
// # Writes
//
// In the dual write phase, each INSERT, UPDATE or DELETE on a mapped old
// table runs verbatim, with the key columns appended to its RETURNING clause;
// then the touched keys are mirrored with statements generated from the
// mapping: an upsert of up(old) for keys that exist, a delete for keys that
// no longer do. The whole is atomic: one statement on PostgreSQL (data-
// modifying CTEs) but for a key change or a DELETE, otherwise steps in a
// savepoint of the caller's transaction or in a transaction of its own, so
// that a failure anywhere leaves both tables as they were and returns an
// error. The caller receives exactly its own result:
// its RETURNING rows, LastInsertId and RowsAffected. Statements that name no
// mapped table pass through untouched; a statement on a mapped table that the
// analyzer cannot handle with certainty is refused with an error wrapping
// [ErrUnsupported], and nothing runs.
//
// # Phases
//
// The write phase is "off" (writes pass through), "dual" (writes to the old
// tables are mirrored into the new ones) or "both" (as dual, and writes to
// the new tables are mirrored back into the old ones with the mapping's
// reverse expressions: the phase of a rolling deploy of a release that
// speaks the new schema). The mapping file gives the default; the environment variable
// DUALWRITE_WRITE_PHASE overrides it and is read on every statement; a
// [Switch] overrides both from the program. An invalid value in the
// environment when a connector is created ([NewConnector], sql.Open) is an
// error wrapping [ErrInvalidPhase]; one that appears while the program runs
// is logged and counted, and the last valid phase stays in force.
//
// # Concurrency
//
// Connectors, Switches and registered drivers are safe for concurrent use;
// connections follow database/sql's rules (one goroutine at a time).
package dualwrite
