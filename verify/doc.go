// Package verify checks the invariant of a migration, new = up(old) for
// every key of every mapped pair, and reports the differences the way
// Vitess VDiff does: rows processed, matching, mismatched, missing in the
// new table, extra in the new table, and a bounded sample of each.
//
// # Use
//
//	db, _ := sql.Open("pgx", dsn) // the base driver, not dualwrite
//	rep, err := verify.Run(ctx, db, rewrite.Postgres, m, verify.Options{})
//	if err != nil {
//		return err // the verification could not run
//	}
//	json.NewEncoder(os.Stdout).Encode(rep)
//	if !rep.OK {
//		// differences: do not cut reads over
//	}
//
// [Run] verifies every pair of a mapping, [Table] one pair. The database
// must be opened with the base driver: through dualwrite, the read phase
// could substitute the new table for the old one, and verify refuses it.
// Before reading rows, the mapping is checked against the live schema as
// the driver does when it first connects.
//
// # What is compared
//
// For each key of either table, up(old row) is computed in SQL by the
// mapping's column expressions over the old table, and the new row's
// columns are read as they are. Each old row is joined with the new row of
// its key (the mapping's key and its renamed new key) by a LEFT JOIN, and
// the new rows without an old row are added by an anti-join, so that each
// key is counted once, as matching, mismatched (both rows, some column
// differs), missing in new (an old row, no new row) or extra in new (a new
// row, no old row). The join is the database's key equality, and it looks
// rows up through the keys' unique indexes. Values compare as the compare read phase
// compares them ([readpath.Normalize]): equal data in different types is
// equal (int32 and int64, the integer 3 and the text "3", a DATETIME and
// its text), NULL equals only NULL, and "3.0" is not 3, so a PostgreSQL
// numeric 1.0 (which the driver reads as the text "1.0") differs from the
// integer 1 while a numeric 1 equals it. A mismatch sample names each
// differing column with both values.
//
// The database first sorts out the keys whose values it finds identical
// itself: in SQLite the same storage class and the same value (typeof(a) =
// typeof(b) AND a IS b), in PostgreSQL the same type and the same text
// form, in MySQL the same text form, byte for byte (CAST(a AS BINARY) <=>
// CAST(b AS BINARY): MySQL has no type of a value to compare, and a number
// and the text of its spelling are equal in the client too). Such values reach the client as the same value, so they are
// matches, and only the counts of a range travel; the other keys (both
// rows present with some pair of another type or value, or one row
// missing) are read and compared by the client as above. Values of the
// same type that the client would compare differently cannot arise, but
// for one case: go-sqlite3 decodes columns declared DATE, DATETIME,
// TIMESTAMP or BOOLEAN into time.Time and bool, so for a table where an up
// expression and its new column are decoded differently every key is
// compared by the client.
//
// # Directions and the round trip
//
// In the write phase both, writes to the new table are mirrored into the
// old one by the mapping's reverse expressions, and the other invariant,
// old = down(new), holds too: Run(ctx, db, d, m.Flip(), opts) verifies
// it, reading the mapping the other way ([mapping.Mapping.Flip]).
//
// [RoundTrip] checks that reverse undoes columns on the live data: for
// each old row it computes down(up(old row)) in SQL, over the old table
// alone (in PostgreSQL casting each value to the type of the column that
// would store it; in SQLite and MySQL the values are not converted as
// storing them would), and reports the keys whose row would change shape, with the
// columns that change (the old value as expected, the round trip's as
// actual). It walks the old table in the same ranges and snapshots, with
// the same comparison of values and the same memory bound, and its report
// has the same form (MissingInNew and ExtraInNew are always 0).
// Options.Limit makes it, or Run, a quick look at the first keys of each
// table.
//
// # Ranges and snapshots
//
// The keys are walked in the database's key order, in ranges. A range ends
// at the smaller of the BatchSize-th next key of the old table and that of
// the new table, so it holds at most Options.BatchSize keys of each table
// (exactly BatchSize while the tables agree), and keys that exist only in
// the new table, between old keys or beyond the old table's last key, fall
// in some range like every other; the last range has no upper end.
// Composite keys are compared as row values, (k1, k2) > (v1, v2). The key
// values that end a range are passed back as parameters for the next one;
// a key that does not come back as it was read stops the verification with
// an error rather than skipping or repeating keys.
//
// Each range is read in one snapshot, so that writes committed meanwhile
// cannot show up as differences: in PostgreSQL a transaction BEGIN
// ISOLATION LEVEL REPEATABLE READ, READ ONLY; in MySQL a transaction
// START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY at REPEATABLE
// READ (whatever the session's level); in SQLite a deferred read
// transaction, which is one snapshot in WAL mode (in rollback-journal mode
// it holds a shared lock, which keeps writers from committing while the
// range is read). Different ranges see different moments: run verify while
// the write phase is dual everywhere, and a key written between two ranges
// is compared in the state of its own range's snapshot.
//
// # Memory
//
// Each range is one query of its counts, then, when some keys need the
// client, one query of those keys, whose rows are streamed and compared one
// at a time. Besides counters, only the current range's bounds and at most
// Options.SampleSize samples of each kind are kept: memory does not grow
// with the tables. The database sorts one range's rows at a time.
//
// # Report
//
// [Report] and [TableReport] carry JSON tags, for a machine-readable report
// that can gate a deploy:
//
//	{"ok": false, "tables": [{"table": "users", "new_table": "accounts", "ok": false,
//	  "rows_processed": 100, "matching": 97, "mismatched": 1, "missing_in_new": 1, "extra_in_new": 1,
//	  "samples": {"mismatched": [{"key": {"id": 3}, "columns": [{"column": "last_name", "expected": "Lovelace", "actual": "X"}]}],
//	              "missing_in_new": [{"key": {"id": 10}}], "extra_in_new": [{"key": {"id": 1000}}]},
//	  "duration_seconds": 0.02}], "duration_seconds": 0.02}
//
// Options.Progress, when set, is called after each range with the rows
// processed so far, the rate and an estimate of the rows left.
//
// # Concurrency
//
// [Table], [Run] and [RoundTrip] are safe for concurrent use. Each holds
// one connection of the database while it runs and reads with plain
// SELECTs.
package verify
