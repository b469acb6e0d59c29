// Package mapping loads, validates and exposes a dualwrite mapping file: the
// YAML document that says which old table is migrating to which new table and
// how each row of one is computed from a row of the other.
//
// # Format
//
// A mapping file is one YAML document:
//
//	dialect: sqlite          # sqlite | postgres | mysql; optional
//	phases:                  # optional
//	  write: dual            # off | dual; default off
//	  read: old              # old | compare | new; default old
//	tables:
//	  - old: users
//	    new: accounts
//	    key: [id]            # unique key of the old table (one or more columns)
//	    columns:             # every new column: an SQL expression over one old row
//	      account_id: id
//	      email_address: email
//	      first_name: "substr(full_name, 1, instr(full_name || ' ', ' ') - 1)"
//	      last_name: "ltrim(substr(full_name, instr(full_name || ' ', ' ')))"
//	      visits: visits
//	    reverse:             # every old column, in the old table's order: an SQL expression over one new row
//	      id: account_id
//	      full_name: "trim(first_name || ' ' || last_name)"
//	      email: email_address
//	      visits: visits
//
// columns is the "up" projection that dual writes, backfill and verify use to
// compute a new row from an old one; reverse is the "down" projection that
// reads use to present the new table in the old table's shape. Both are YAML
// mappings whose order is kept: reverse must list the old table's columns in
// that table's order, so that SELECT * keeps its column order.
//
// An expression is any YAML scalar; its source text is used as written, so
// `visits: 0` and `active: true` are the expressions 0 and true. Quote an
// expression that contains YAML syntax, such as ": " or a leading "[" or "{".
//
// # Names
//
// Table and column names are plain identifiers (ASCII letters, digits, _ and
// $), or any name in double quotes, which this package removes: write
// '"Full Name"' in YAML for the column Full Name. Names are compared without
// regard to ASCII case everywhere, including in [Mapping.Table],
// [Table.Column] and [Table.ReverseColumn].
//
// # Keys
//
// key names a unique key of the old table, as `key: id` or `key: [a, b]`.
// Each key column must be the whole expression of exactly one entry of
// columns (a plain rename), and reverse must rename that new column back, so
// that a key identifies the same row in both tables. [Table.NewKey] holds the
// new names.
//
// # Validation
//
// [Parse] and [Load] reject a file that is not valid YAML, has unknown or
// repeated keys, misses a required field, names an unknown dialect or phase,
// has empty names or expressions, maps a table twice, or whose keys are not
// plain renames. They report every problem at once, each as an [*Error] that
// names the file, line and field, joined with [errors.Join]:
//
//	mapping.yaml:12: tables[0].columns.first_name: expression is empty; write an SQL expression over the old table's columns
//
// Checking the mapping against the live schema (that the tables and columns
// exist) happens later, when the driver connects.
package mapping
