package backfill

import (
	"context"
	"database/sql"
)

// prepared holds a run's batch statements prepared on its pool, so that a
// batch runs each as one round trip: github.com/go-sql-driver/mysql
// otherwise prepares a statement with parameters, runs it and closes it at
// each use, and the server parses it each time. A statement is prepared
// after the first batch that runs it, between batches, when the pool has
// a connection free (a batch holds its own: one pool of one connection
// would wait for itself); [database/sql] prepares it again on each other
// connection it meets. A statement that fails to prepare runs as before.
// It is used by one run's goroutine only.
type prepared struct {
	db     *sql.DB
	stmts  map[string]*sql.Stmt // by text; nil for one not prepared (yet, or ever: preparing it failed)
	wanted []string             // run unprepared since the last prepare
}

func newPrepared(db *sql.DB) *prepared {
	return &prepared{db: db, stmts: map[string]*sql.Stmt{}}
}

// in returns tx, whose statements run prepared where p has them.
func (p *prepared) in(tx *sql.Tx) batchTx { return batchTx{tx, p} }

// stmt returns q prepared for tx (closed with it), or nil when p has not
// prepared it, and then marks it for the next prepare.
func (p *prepared) stmt(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	s, ok := p.stmts[q]
	if !ok {
		p.stmts[q] = nil
		p.wanted = append(p.wanted, q)
	}
	if s == nil {
		return nil
	}
	return tx.StmtContext(ctx, s)
}

// prepare prepares the statements marked since it last ran. A failure
// leaves the statement to run unprepared: a statement that cannot be
// prepared fails as it runs, with the error of its batch.
func (p *prepared) prepare(ctx context.Context) {
	for _, q := range p.wanted {
		if s, err := p.db.PrepareContext(ctx, q); err == nil { //nolint:sqlclosecheck // closed by close, at the run's end
			p.stmts[q] = s
		}
	}
	p.wanted = p.wanted[:0]
}

// close closes the statements on every connection.
func (p *prepared) close() {
	for _, s := range p.stmts {
		if s != nil {
			_ = s.Close()
		}
	}
}

// batchTx is a batch's transaction, whose statements run prepared where
// its run has them.
type batchTx struct {
	*sql.Tx
	p *prepared
}

func (t batchTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s := t.p.stmt(ctx, t.Tx, q); s != nil { //nolint:sqlclosecheck // the transaction's, closed with it
		return s.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

func (t batchTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := t.p.stmt(ctx, t.Tx, q); s != nil { //nolint:sqlclosecheck // the transaction's, closed with it
		return s.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t batchTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if s := t.p.stmt(ctx, t.Tx, q); s != nil { //nolint:sqlclosecheck // the transaction's, closed with it
		return s.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}
