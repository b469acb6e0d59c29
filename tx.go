package dualwrite

import (
	"database/sql/driver"
	"errors"

	"github.com/dualwrite/dualwrite/txn"
)

// tx is a caller's transaction. Each dual write in it is atomic on its own
// (one statement, or steps in a savepoint), so a failed one leaves the
// transaction as a failed statement does: as it was before the statement on
// SQLite, aborted on PostgreSQL. Commit refuses only when a failed dual
// write could not be undone.
type tx struct {
	inner driver.Tx
	conn  *conn
}

func (t *tx) Commit() error {
	defer t.end()
	if t.conn.broken {
		return errors.Join(ErrBrokenConn, t.inner.Rollback())
	}
	return t.inner.Commit()
}

func (t *tx) Rollback() error {
	defer t.end()
	return t.inner.Rollback()
}

// end records that the transaction is over, unless SQL text may have
// changed what the connection knows.
func (t *tx) end() {
	if t.conn.txState == txn.TxOpen {
		t.conn.txState = txn.TxNone
	}
	t.conn.txEnded()
}
