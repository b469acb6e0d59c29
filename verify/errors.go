package verify

import "errors"

// ErrInvalidArgument is wrapped by the error [Table], [Run] and [RoundTrip]
// return when they are called wrongly: a nil database, dialect, mapping or
// table, a negative [Options] field, a mapping written for another
// dialect, or a database opened through the dualwrite driver. Nothing was
// read.
var ErrInvalidArgument = errors.New("verify: invalid argument")

// ErrSchemaMismatch is wrapped by the error [Table], [Run] and [RoundTrip]
// return when the mapping does not match the live schema (the checks the
// driver makes when it first connects), or the database cannot run the
// comparison. The message lists every problem, naming the table and column
// and the fix. Nothing was compared.
var ErrSchemaMismatch = errors.New("verify: mapping does not match the live schema")
