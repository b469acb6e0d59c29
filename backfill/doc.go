// Package backfill copies the rows that were written to a mapped old table
// before dual writing began into the new table, as up(old), so that
// new = up(old) holds for every key. It runs beside the application's writes
// through dualwrite, in batches, resumably, and at a rate the caller chooses.
//
// A mapping's tables are backfilled one call of [Run] each:
//
//	for _, mt := range m.Tables {
//		p, err := backfill.Run(ctx, db, d, d.Compile(mt), backfill.Options{})
//		...
//	}
//
// db is opened with the base driver, not through dualwrite (which refuses
// writes to the new tables), and d is the mapping's [rewrite.Dialect].
// Before Run, every instance of the application must be writing in the dual
// phase, and stay in it: a batch copies its rows once, and the dual writes
// keep them afterwards.
//
// # Batches
//
// Run walks the old table in key order. Each batch is one short
// transaction that
//
//  1. locks the table's checkpoint, and reads the key the last batch ended
//     at;
//  2. selects the key of the [Options.BatchSize]-th old row after it: the
//     end of its key range;
//  3. upserts up(old) of the range's old rows into the new table
//     ([rewrite.Table.UpsertFrom]);
//  4. deletes the new rows in its key range whose key has no old row (on
//     SQLite and MySQL only if the range had such rows before step 3:
//     otherwise there are none);
//  5. records the range's end, the rows copied and the rows deleted in the
//     checkpoint, and commits.
//
// On PostgreSQL a batch is one statement, its own transaction: steps 1 to
// 5 as data-modifying parts of one WITH. Step 1 locks the checkpoint only
// if it is as the run last left it (else the statement does nothing, and
// the run reads the checkpoint again: two runs take turns); step 2 was
// done by the statement before, which also read the next range's end (the
// first batch, one after a batch that found no next end, and one after a
// lost claim query it themselves). Step 3 locks the old rows as it reads
// them (see below); step 4 deletes only new rows still in the version the
// statement's snapshot saw: a row a dual write changed meanwhile has its
// old row now. When the new table has no row in the key range as the statement
// begins, a first run's usual case, step 3 copies by plain INSERT
// ([rewrite.Table.InsertFrom]), which writes less than an upsert; if a
// dual write inserted one of the range's new rows meanwhile, that INSERT
// fails the statement with a unique violation, and the batch is run again
// with the upsert. The statement sets its lock timeout and asynchronous
// commit for its own transaction only (set_config(..., true)): nothing
// outlives it on the connection, and the run holds no connection between
// batches. The timeout bounds the waits for row locks; the statement's
// table locks are taken before it runs (see [Options.LockTimeout]).
//
// On MySQL and MariaDB (InnoDB tables) a batch is a REPEATABLE READ
// transaction on a connection of its own: step 1 locks the checkpoint's row
// (SELECT ... FOR UPDATE), so that two runs take turns; step 3 locks the
// range's old rows as it reads them (see below). Step 4 is skipped when
// the range has no new row without an old row at the batch's snapshot
// (taken by step 2): a dual write never commits a new row without its old
// row, so a new row without one is one the new table had of its own,
// which the snapshot sees. When the range has no new row at all there, a
// first run's usual case, step 3 copies by plain INSERT, whose rows
// affected are the rows copied. If a dual write committed one of the
// range's new rows after the snapshot, the INSERT meets it and fails with
// a duplicate key error (1062), and the batch is run again with the
// upsert and step 4. After the upsert the rows copied are a count(*) of
// the range (ON DUPLICATE KEY UPDATE counts rows it updates twice and
// rows it leaves as they were not at all). The batch sets the connection's innodb_lock_wait_timeout to
// [Options.LockTimeout] (in whole seconds) and sets it back after the
// batch; a connection on which that fails is closed, not returned to the
// pool. Run refuses connections whose sql_mode is not strict (a value the
// copy computes that does not fit its column must fail it), with
// sql_safe_updates on, or with a sql_select_limit. The copy's upsert
// refuses to overwrite the row of another unique key of the new table
// (rewrite.MySQLMirrorConflict). On SQLite and MySQL a run prepares each
// statement of its batches on db once, between the first batch that runs
// it and the next, and closes them when it returns; a statement that does
// not prepare runs unprepared.
//
// A batch's key range runs from after the last batch's end to its last key,
// or has no end when it found fewer than BatchSize rows: that batch is the
// last. Ranges are bounded by row-value comparisons, (k1, k2) > (v1, v2),
// which SQLite has since 3.15, so composite keys work. The first range has
// no lower bound and the last none above: together the batches cover every
// key of both tables, and after a complete run the new table holds exactly
// up(old), even if it held rows of its own before. Step 4 is what makes that
// so; without rows of its own the new table has nothing to delete.
//
// # Beside live writes
//
// A batch excludes the application's writes to the old table, and so its
// dual writes, from its beginning to its commit: a dual write that comes
// first commits before the batch reads, one that comes second reads what
// the batch committed. Batches are kept short for that reason, and
// [Options.Pause] gives the application time between them.
//
// On PostgreSQL a batch first finds its key range, then locks the old rows
// of that range as it copies them (SELECT ... FOR NO KEY UPDATE, which
// returns each row as the lock leaves it): a dual write of one of those rows either
// committed before the lock, and the copy reads what it wrote, or waits for
// the batch and writes over the copy. Writes to other rows go on. Dual
// writes that delete rows run in steps, with the delete of the new row in
// a statement of its own, so a delete that waited for the batch sees the
// new row the batch inserted (a delete fused with its mirror into one
// statement would not). A batch waits at most [Options.LockTimeout] for a
// row lock, then gives way and is tried again; a batch the server aborts
// for a lock timeout, a deadlock or a serialization failure (SQLSTATE
// 55P03, 40P01, 40001), or whose plain INSERT met a new row (23505), is
// tried up to 5 times in all, each retry counted by reason in
// dualwrite_backfill_retries_total. A transaction at
// REPEATABLE READ or SERIALIZABLE that began before a batch and then
// deletes, or changes the key of, a row the batch copied does not see the
// batch's new row, and leaves it behind: write at READ COMMITTED
// (PostgreSQL's default) while the backfill runs, and verify afterwards.
//
// On MySQL and MariaDB a batch reads its range's old rows FOR UPDATE as it
// copies them: a dual write of one of them committed before, and the copy
// reads what it wrote, or waits for the batch and writes over the copy. At
// REPEATABLE READ the read also locks the gaps between the rows, so that
// an old row inserted in the range waits for the batch: the batch's
// deletion of orphans cannot meet a key whose old row appeared after the
// copy. The statements after the copy read the rows as committed, with
// locks (a DELETE's subquery does at REPEATABLE READ), not as the batch's
// snapshot. A batch the server aborts for a lock wait timeout or a deadlock
// (errors 1205 and 1213) is tried again, as on PostgreSQL. The caveat of
// REPEATABLE READ above does not hold there: MySQL's writes read the rows
// as committed at every isolation level.
//
// On SQLite a batch's first statement writes the checkpoint, which takes the
// database's write lock for the whole batch, as BEGIN IMMEDIATE would. The
// DSN needs a busy timeout (with github.com/mattn/go-sqlite3,
// _busy_timeout=10000) so that a batch waits for a write in progress instead
// of failing with "database is locked". It does not need _txlock=immediate.
//
// # Checkpoints
//
// Run keeps its position in a table, dualwrite_backfill by default
// ([Options.CheckpointTable]), which it creates if missing in the default
// schema (on PostgreSQL the first schema of search_path; on MySQL the DSN's
// database). It has one row per
// old table: old_table, mapping (a digest of the generated upsert),
// last_key, rows_copied, rows_deleted, done and updated_at. last_key is a
// JSON array with one object per key column that keeps the type the driver
// returned, [{"int":42},{"text":"b"}], so that the values go back as
// parameters of the same types; the kinds are int, float, text, bytes, bool
// and time.
//
// Each batch writes the checkpoint in its own transaction, so a crash or a
// cancelled context never loses a batch nor counts one twice: the next run
// resumes after the last committed batch. Two runs of the same table take
// turns batch by batch and never copy a range twice. A run finds a table
// already done and returns at once; [Reset] starts it over, and
// [ReadCheckpoint] reads where it is. A checkpoint made with another mapping
// of the table is refused ([ErrMappingChanged]) until it is reset.
//
// # Throttling
//
// After each batch but the last, Run waits [Options.Pause], or longer when
// [Options.RowsPerSecond] asks for it: after a batch of n rows that took d,
// until n/RowsPerSecond has passed since the batch began.
//
// # Progress
//
// After each batch Run reports a [Progress] to [Options.Progress]: the rows
// copied, the rate, and estimates of the rows and the time left, from a
// count(*) of the old rows after the checkpoint when the run began. It also
// records each batch in [Options.Metrics] (see [metrics.Backfill]).
package backfill
