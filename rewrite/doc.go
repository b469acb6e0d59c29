// Package rewrite understands SQL text well enough to keep new = up(old):
// a dialect-aware lexer, a clause-level statement analyzer, write plans, and
// the statements generated from a mapping.
//
// # Splicing, not printing
//
// The caller's statement is never re-printed. The analyzer finds token
// offsets (the target table, the SET columns, the WHERE and FROM bodies, the
// end of the statement) and the planner splices at them: it appends the key
// columns to RETURNING, and takes the WHERE of a key-changing UPDATE into a
// pre-select with its placeholders spelled by number. Everything else the
// wrapper runs is generated from the mapping ([Table.UpsertSQL],
// [Table.DeleteSQL]), the same statements for mirror, backfill and verify.
//
// # Fail closed
//
// A statement that names a mapped table and that the analyzer cannot
// classify with certainty gets a [Refuse] plan whose error is an
// [*UnsupportedError] naming the table, the construct and the fix.
//
// # Plans
//
// [Planner.Plan] caches plans per statement text in a bounded, scan-resistant
// cache (W-TinyLFU), so a statement is analyzed once; a statement that
// certainly names no tracked table, as one pass over its bytes tells, is
// passed before lexing, without a cache lookup ([Prescanned]).
package rewrite
