package dualwrite

import (
	"context"
	"database/sql/driver"

	"github.com/dualwrite/dualwrite/rewrite"
)

// stmt is a prepared statement: its plan is followed at each execution, in
// the phase in force then, and made again when the schema was checked
// again since.
type stmt struct {
	inner driver.Stmt
	conn  *conn
	query string
	p     *rewrite.Planner // the planner plan is from
	plan  *rewrite.Plan
}

// current returns the statement's plan by the connection's planner.
func (s *stmt) current(ctx context.Context) (*rewrite.Plan, error) {
	p, err := s.conn.planner(ctx)
	if err != nil {
		return nil, err
	}
	if p != s.p {
		s.p = p
		s.plan, _ = p.Plan(s.query)
	}
	return s.plan, nil
}

var (
	_ driver.Stmt              = (*stmt)(nil)
	_ driver.StmtExecContext   = (*stmt)(nil)
	_ driver.StmtQueryContext  = (*stmt)(nil)
	_ driver.NamedValueChecker = (*stmt)(nil)
)

func (s *stmt) Close() error  { return s.inner.Close() }
func (s *stmt) NumInput() int { return s.inner.NumInput() }

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.conn.broken {
		return nil, driver.ErrBadConn
	}
	planned, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	plan, err := s.conn.route(planned)
	if err != nil {
		return nil, err
	}
	if plan == nil {
		res, err := stmtExec(ctx, s.inner, args)
		s.conn.ran(planned, err)
		return res, err
	}
	res, err := s.conn.write(ctx, plan, args, true)
	if err != nil {
		return nil, err
	}
	return result{res.LastInsertID, res.RowsAffected, res.NoLastInsertID}, nil
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.conn.broken {
		return nil, driver.ErrBadConn
	}
	planned, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if planned.Action == rewrite.Read {
		return s.conn.query(ctx, planned, args, func() (driver.Rows, error) { return stmtQuery(ctx, s.inner, args) })
	}
	plan, err := s.conn.route(planned)
	if err != nil {
		return nil, err
	}
	if plan == nil {
		rows, err := stmtQuery(ctx, s.inner, args)
		s.conn.ran(planned, err)
		return rows, err
	}
	res, err := s.conn.write(ctx, plan, args, false)
	if err != nil {
		return nil, err
	}
	return &bufferedRows{res: res}, nil
}

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

// CheckNamedValue defers to the base statement's checker; without one,
// database/sql moves on to the connection's.
func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.inner.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func named(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, v := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}
