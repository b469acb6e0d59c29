package dualwrite

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/dualwrite/dualwrite/internal/rowtypes"
)

// innerConn runs statements on the wrapped connection. With a statement
// cache it runs those the cache admits prepared, from the cache; the
// others, and all without a cache, through the connection's context-aware
// interfaces when it has them and through Prepare when not.
type innerConn struct {
	driver.Conn
	cache *stmtCache
}

func (c innerConn) Exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.cache != nil && c.cache.admit(query) {
		s, done, err := c.cache.get(ctx, c.Conn, query, args)
		if err != nil {
			return nil, err
		}
		defer done()
		return stmtExec(ctx, s, args)
	}
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		r, err := e.ExecContext(ctx, query, args)
		if !errors.Is(err, driver.ErrSkip) {
			return r, err
		}
	}
	s, err := prepare(ctx, c.Conn, query)
	if err != nil {
		return nil, err
	}
	if err := enoughArgs(s, args); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	r, err := stmtExec(ctx, s, args)
	return r, errors.Join(err, s.Close())
}

func (c innerConn) Query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.cache != nil && c.cache.admit(query) {
		s, done, err := c.cache.get(ctx, c.Conn, query, args)
		if err != nil {
			return nil, err
		}
		rows, err := stmtQuery(ctx, s, args)
		if err != nil {
			done()
			return nil, err
		}
		return &doneRows{Rows: rows, Of: rowtypes.Of{Rows: rows}, done: done}, nil
	}
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		r, err := q.QueryContext(ctx, query, args)
		if !errors.Is(err, driver.ErrSkip) {
			return r, err
		}
	}
	s, err := prepare(ctx, c.Conn, query)
	if err != nil {
		return nil, err
	}
	if err := enoughArgs(s, args); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	rows, err := stmtQuery(ctx, s, args)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	return &stmtRows{Rows: rows, Of: rowtypes.Of{Rows: rows}, stmt: s}, nil
}

// doneRows gives a cached statement back when its rows close, and keeps the
// column types of the rows it wraps.
type doneRows struct {
	driver.Rows
	rowtypes.Of
	done func()
}

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*doneRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*stmtRows)(nil)
)

func (r *doneRows) Close() error {
	err := r.Rows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return err
}

// stmtRows closes the statement a fallback query prepared along with its
// rows, and keeps their column types.
type stmtRows struct {
	driver.Rows
	rowtypes.Of
	stmt driver.Stmt
}

func (r *stmtRows) Close() error {
	return errors.Join(r.Rows.Close(), r.stmt.Close())
}

func prepare(ctx context.Context, c driver.Conn, query string) (driver.Stmt, error) {
	if p, ok := c.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Prepare(query)
}

func stmtExec(ctx context.Context, s driver.Stmt, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := s.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	vals, err := values(ctx, args)
	if err != nil {
		return nil, err
	}
	return s.Exec(vals) //nolint:staticcheck // the fallback for drivers without StmtExecContext
}

func stmtQuery(ctx context.Context, s driver.Stmt, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := s.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	vals, err := values(ctx, args)
	if err != nil {
		return nil, err
	}
	return s.Query(vals) //nolint:staticcheck // the fallback for drivers without StmtQueryContext
}

// values converts arguments for drivers without the context interfaces,
// which take neither names nor cancellation.
func values(ctx context.Context, args []driver.NamedValue) ([]driver.Value, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("dualwrite: the wrapped driver does not support named arguments")
		}
		vals[i] = a.Value
	}
	return vals, nil
}
