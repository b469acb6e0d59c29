// Package readpath compares the results of the old and the new query of a
// read in the compare phase.
//
// In the compare read phase the driver runs the caller's query against the
// old table (the old query) and a rewritten query against the new table (the
// new query, with the same column names in the same order) under one
// snapshot. It returns the old rows to the caller, streamed, and this package
// compares them with the new rows on the way. The driver runs the queries
// and opens and closes the snapshot; readpath only compares.
//
// # Use
//
//	shadow, err := readpath.Collect(newRows) // reads and closes newRows
//	...
//	return readpath.Compare(oldRows, shadow, ordered, 5, func(rep *readpath.Report, err error) {
//		// oldRows is closed: end the snapshot, then count and log rep.
//	}), nil
//
// [Collect] reads the new result in full into a [Shadow]; [Compare] wraps the
// old rows so that the caller sees exactly them, compares each row as it
// passes, and reports once, through a callback, when the old rows are
// exhausted or closed.
//
// # What is equal
//
// Two values are equal when their [Normalize] keys are: NULL equals only
// NULL; numbers compare by value whatever their Go type (bool is 0 or 1, NaN
// equals NaN); a string or []byte equals a number only when it holds the
// number's canonical spelling ("3", "3.5", never "3.0" or "03"), and two
// strings compare by their bytes, except that text holding a timestamp in a
// layout github.com/mattn/go-sqlite3 reads compares as that instant, equal to
// a time.Time of the same instant. Two rows are equal when they have the
// same number of values and their values are equal one by one. Column names
// compare case-insensitively.
//
// # Multiset and ordered comparisons
//
// Without an ORDER BY a query's rows come in no defined order, so the two
// results compare as multisets: each row of the new result may match one row
// of the old result, duplicates included, so that [a a b] and [a b b]
// differ. With ordered set (the query orders its rows), rows compare
// position by position. A [Report] counts the rows of both sides and holds a
// bounded sample of the rows that differ, for logging.
//
// # Memory
//
// The new result is held in full, with one key per row, for the length of
// the comparison; the old result is streamed, and only counters, the
// unmatched counts of the new rows and the samples are kept. The driver
// decides which queries are worth the memory.
//
// # Concurrency
//
// A [Shadow] is read-only once collected. The rows Compare returns follow the
// driver.Rows rules: one goroutine at a time, except that Close may come from
// another goroutine, as database/sql does on cancellation.
package readpath
