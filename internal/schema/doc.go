// Package schema checks a mapping against the live database schema when the
// dualwrite driver first connects, and learns the facts the planner needs.
//
// # What is checked
//
// [InspectSQLite] reads SQLite's catalog (sqlite_master and the
// table_xinfo, index_list, index_info and foreign_key_list pragmas) through a
// [Querier] on the wrapped driver's connection, and reports each mismatch as
// a [Problem] naming the table, the column and the fix:
//
//   - the old and the new table of every mapping entry exist, as tables;
//   - the names under columns are exactly the new table's columns, and the
//     names under reverse are exactly the old table's columns, in its order;
//   - the key is the PRIMARY KEY or a non-partial UNIQUE index of the old
//     table, and its columns are NOT NULL; the new key is the PRIMARY KEY or
//     a non-partial UNIQUE index of the new table, as the mirror's
//     INSERT ... ON CONFLICT needs;
//   - every up expression compiles over the old table and every down
//     expression over the new table, is a single expression without
//     placeholders, and does not aggregate rows;
//   - the SQLite library is 3.35 or later, for RETURNING.
//
// # What is learned
//
// The returned [rewrite.Schema] marks old tables with a unique constraint
// besides the key (REPLACE can delete rows by it) and guards the tables whose
// writes would change a mapped table behind the mirror's back: parents of
// foreign keys with cascading actions, tables with triggers that write to
// a mapped table, directly or through other guarded tables, and tables
// with a constraint declared ON CONFLICT REPLACE whose deletes are guarded
// (their inserts and updates delete the rows they conflict with).
//
// Names are compared ASCII case-insensitively, as SQLite compares
// identifiers.
//
// # PostgreSQL
//
// [InspectPostgres] makes the same checks against the catalogs of the
// current schema, comparing names exactly (PostgreSQL stores unquoted names
// in lower case). Keys must be a primary key or a valid, non-deferrable,
// non-partial unique index on NOT NULL columns, as ON CONFLICT needs. Trigger
// functions are not parsed: a trigger whose function source names a mapped
// table guards its table, and one written in C guards it too. Rules,
// updatable views, partitions and inheritance children of mapped tables are
// guarded or reported.
//
// # MySQL and MariaDB
//
// [InspectMySQL] makes the same checks against information_schema of the
// current database (DATABASE()), comparing table names as the server does
// (exactly with lower_case_table_names 0, case-insensitively otherwise)
// and column names case-insensitively. It also reports a server older than
// MariaDB 10.5 or MySQL 8.0, an sql_mode with ANSI_QUOTES or
// NO_BACKSLASH_ESCAPES or without strict mode, mapped tables that are not
// InnoDB, and a key whose unique index is on a column prefix. Triggers
// whose statement, or a routine it calls, names a guarded or mapped table
// guard their table, as PostgreSQL's trigger functions do; cascading
// foreign keys and updatable views are guarded. Stored routines and
// enabled events that may write to a mapped or guarded table are reported:
// nothing the wrapper sees tells when the server runs them. The learned
// schema also maps each mapped table's AUTO_INCREMENT column.
//
// # One set of checks
//
// Each inspection reads its catalog into the same description of a table:
// its columns (which are NOT NULL, which generated) and its unique indexes
// (which are partial, and why INSERT ... ON CONFLICT cannot use one that it
// otherwise could). The checks run over that description, so the dialects
// word a problem alike; they differ in how names compare, in the hints
// that follow a missing table or column, and in the checks PostgreSQL and
// MySQL add (valid and not deferrable key indexes, key indexes on whole
// columns, window and set-returning expressions).
package schema
