package dualwrite

import (
	"database/sql/driver"
	"errors"
)

// tx is a caller's transaction. Each dual write in it is atomic on its own
// (a savepoint), so a failed one leaves the transaction as it was before the
// statement, as a failed statement does; Commit refuses only when a failed
// dual write could not be undone.
type tx struct {
	inner driver.Tx
	conn  *conn
}

func (t *tx) Commit() error {
	if t.conn.broken {
		return errors.Join(ErrBrokenConn, t.inner.Rollback())
	}
	return t.inner.Commit()
}

func (t *tx) Rollback() error { return t.inner.Rollback() }
