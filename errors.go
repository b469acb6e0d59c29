package dualwrite

import (
	"errors"

	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/txn"
)

// ErrUnsupported is wrapped by the error of every statement on a mapped
// table that the wrapper refuses (Exec, Query and Prepare'd statements in the
// dual write phase). The error is a [*rewrite.UnsupportedError] naming the
// table, the construct and the fix; nothing was executed.
var ErrUnsupported = rewrite.ErrUnsupported

// ErrSchemaMismatch is wrapped by the error [Connector.Connect] returns when
// the mapping does not match the live schema; the message lists every
// problem, naming the table and column.
var ErrSchemaMismatch = errors.New("dualwrite: mapping does not match the live schema")

// ErrBrokenConn is returned by a transaction's Commit when a dual write in it
// failed and could not be undone: the transaction is rolled back instead.
var ErrBrokenConn = errors.New("dualwrite: a dual write in this transaction could not be undone; the transaction was rolled back")

// ErrInvalidPhase is wrapped by the error [NewConnector], [Register] and
// sql.Open of a registered name return when DUALWRITE_WRITE_PHASE or
// DUALWRITE_READ_PHASE holds a value that is not a phase: the message names
// the variable, the value and the valid values. Once a connector runs, an
// invalid value is logged and counted instead, and the last valid phase
// stays in force.
var ErrInvalidPhase = errors.New("dualwrite: invalid phase in the environment")

// ErrMirrorConflict is wrapped by the error of a MySQL dual write whose
// mirror met, through a unique key of the new table other than its key,
// the new row of another key (where ON DUPLICATE KEY UPDATE would have
// updated that row instead): the mirror's duplicate-key error. Nothing was
// written; like a duplicate key, it may be a race lost to another writer.
var ErrMirrorConflict = txn.ErrMirrorConflict
