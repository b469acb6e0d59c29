package dualwrite

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"time"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/metrics"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/txn"
)

// conn wraps one connection of the base driver. database/sql uses a
// connection from one goroutine at a time, and so does conn.
type conn struct {
	inner driver.Conn
	c     *Connector
	// ddlInTx is set when a schema change ran while a transaction may have
	// been open: the connection's statements follow own, a planner made
	// from its transaction's view of the schema (recheck.go).
	ddlInTx bool
	own     *schemaState
	// broken is set when a dual write could not be undone: the connection's
	// transaction state is unknown, so it refuses further use and database/sql
	// discards it.
	broken bool
	stmts  *stmtCache
	// tempTables is set once a statement that may create a temporary
	// table ran: a trigger created on the connection may then be a
	// temporary one (rewrite.Plan.CreatesTrigger).
	tempTables bool
	// txState is whether a transaction is open, as far as the connection
	// knows: it tracks BeginTx and the transaction's end, and gives up when
	// SQL text may open or end one.
	txState txn.TxState
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
)

// run returns the base connection with the statement cache, for the
// statements the wrapper runs itself.
func (c *conn) run() innerConn {
	if c.stmts == nil {
		c.stmts = newStmtCache()
	}
	return innerConn{Conn: c.inner, cache: c.stmts}
}

// Unwrap returns the base driver's connection, for sql.Conn.Raw users.
func (c *conn) Unwrap() driver.Conn { return c.inner }

// route returns the plan to follow for query in the phase in force, or nil
// when the statement runs as written. A refusal of a statement that would
// change the connection's session (rewrite.Plan.Session) holds in the off
// phase too: the connection may serve dual writes later.
func (c *conn) route(plan *rewrite.Plan) (*rewrite.Plan, error) {
	if plan.CreatesTrigger && (c.tempTables || plan.TempTable) {
		c.c.metrics.Refused("")
		return nil, errTempTrigger
	}
	if plan.Action == rewrite.Pass || plan.Action == rewrite.Read {
		return nil, nil // reads are routed by query
	}
	phase := c.c.writePhase()
	if phase == mapping.WriteBoth {
		c.c.checkRoundTrip()
		if plan.Back != nil {
			plan = plan.Back // a write to a new table, mirrored back
		}
	}
	if !phase.Mirrors() && !plan.Session {
		if plan.Action == rewrite.Mirror {
			c.c.metrics.Passthrough(plan.Table.Map.Old)
		}
		return nil, nil
	}
	if plan.Action == rewrite.Refuse {
		var ue *rewrite.UnsupportedError
		if errors.As(plan.Err, &ue) {
			c.c.metrics.Refused(c.c.mappedName(ue.Table))
		}
		return nil, plan.Err
	}
	return plan, nil
}

// errTempTrigger refuses, in every write phase, a trigger that may be
// created on a temporary table.
var errTempTrigger = &rewrite.UnsupportedError{
	Construct: "CREATE TRIGGER on a connection that created a temporary table (a trigger on a temporary table is temporary: the schema checks, which run on other connections too, would miss what it writes)",
	Fix:       "create the trigger on another connection, or name its schema: CREATE TRIGGER main.name ... (SQLite), ON public.table ... (PostgreSQL)",
}

func (c *conn) plan(ctx context.Context, query string) (*rewrite.Plan, error) {
	_, plan, err := c.planBy(ctx, query)
	return plan, err
}

// planBy returns the plan for query and the planner it is from.
func (c *conn) planBy(ctx context.Context, query string) (*rewrite.Planner, *rewrite.Plan, error) {
	p, err := c.planner(ctx)
	if err != nil {
		return nil, nil, err
	}
	plan, src := p.Plan(query)
	return p, c.planned(p, plan, src), nil
}

// planned counts where plan, p's plan of a statement, came from, records
// what it says of the connection's transaction, and returns it.
func (c *conn) planned(p *rewrite.Planner, plan *rewrite.Plan, src rewrite.Source) *rewrite.Plan {
	if src == rewrite.Prescanned {
		c.c.metrics.Prescanned()
	} else {
		c.c.metrics.PlanCache(src == rewrite.Cached)
	}
	// MySQL commits the open transaction before a schema change.
	if plan.Kind == rewrite.KindTx || plan.ChangesSchema && p.Dialect().Name == rewrite.MySQL.Name {
		c.txState = txn.TxUnknown
	}
	return plan
}

// write runs a dual write and records its outcome.
func (c *conn) write(ctx context.Context, plan *rewrite.Plan, args []driver.NamedValue, needResult bool) (*txn.Result, error) {
	start := time.Now()
	res, err := txn.Write(ctx, c.run(), c.c.drv.dialect, plan, args, needResult, c.txState)
	if err != nil && txn.TxGone(err) {
		c.txState = txn.TxUnknown // MySQL: a deadlock rolled back the caller's transaction
	}
	outcome := metrics.Mirrored
	var te *txn.Error
	switch {
	case errors.As(err, &te):
		outcome = metrics.MirrorError
		c.broken = c.broken || te.Unclean
		c.c.cfg.logger.Error("dualwrite: dual write failed; nothing was written",
			slog.String("table", te.Table), slog.String("step", string(te.Step)),
			slog.Bool("unclean", te.Unclean), slog.String("error", te.Err.Error()))
	case err != nil:
		outcome = metrics.StatementError
	}
	direction := metrics.Forward
	if plan.Reverse {
		direction = metrics.Reverse
	}
	c.c.metrics.Write(plan.Table.Map.Old, direction, plan.Kind.String(), outcome, time.Since(start))
	return res, err
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.broken {
		return nil, driver.ErrBadConn
	}
	planned, err := c.plan(ctx, query)
	if err != nil {
		return nil, err
	}
	plan, err := c.route(planned)
	if err != nil {
		return nil, err
	}
	if plan == nil {
		e, ok := c.inner.(driver.ExecerContext)
		if !ok {
			return nil, driver.ErrSkip // database/sql prepares it: the statement's execution records it
		}
		res, err := e.ExecContext(ctx, query, args)
		c.ran(planned, err)
		return res, err
	}
	res, err := c.write(ctx, plan, args, true)
	if err != nil {
		return nil, err
	}
	return result{res.LastInsertID, res.RowsAffected, res.NoLastInsertID}, nil
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.broken {
		return nil, driver.ErrBadConn
	}
	// The query runs here, prepared if the driver asks for it
	// (driver.ErrSkip: go-sql-driver/mysql with arguments), rather than
	// handed back to database/sql to prepare: it would then run and be
	// counted a second time, through the statement.
	asWritten := func() (driver.Rows, error) { return innerConn{Conn: c.inner}.Query(ctx, query, args) }
	p, err := c.planner(ctx)
	if err != nil {
		return nil, err
	}
	var phase mapping.ReadPhase
	var by string
	planned, src, table := p.Prescan(query)
	if table != "" {
		// A plain read of one mapped table runs as written in the read
		// phase old: it is not planned.
		if phase, by = c.c.cfg.sw.readFor(ctx, c.c.drv.mapping.Phases); phase == mapping.ReadOld {
			c.c.metrics.Prescanned()
			return c.queryIn(ctx, phase, by, table, nil, args, asWritten)
		}
		planned, src = p.Plan(query)
	}
	planned = c.planned(p, planned, src)
	if planned.Action == rewrite.Read {
		if phase == "" {
			phase, by = c.c.cfg.sw.readFor(ctx, c.c.drv.mapping.Phases)
		}
		return c.queryIn(ctx, phase, by, readTable(planned), planned, args, asWritten)
	}
	plan, err := c.route(planned)
	if err != nil {
		return nil, err
	}
	if plan == nil {
		rows, err := c.queryInner(ctx, query, args)
		if !errors.Is(err, driver.ErrSkip) {
			c.ran(planned, err)
		}
		return rows, err
	}
	res, err := c.write(ctx, plan, args, false)
	if err != nil {
		return nil, err
	}
	return &bufferedRows{res: res}, nil
}

// queryInner runs query as written on the base connection.
func (c *conn) queryInner(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.inner.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// PrepareContext prepares query on the base connection. A statement that
// names no mapped table is the base driver's own statement, unwrapped.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if c.broken {
		return nil, driver.ErrBadConn
	}
	p, plan, err := c.planBy(ctx, query)
	if err != nil {
		return nil, err
	}
	s, err := prepare(ctx, c.inner, query)
	if err != nil {
		return nil, err
	}
	// Every statement is wrapped, also one that names no mapped table: a
	// schema change may guard its table later (a new trigger), and a
	// schema change it makes must be recorded.
	return &stmt{inner: s, conn: c, query: query, p: p, plan: plan}, nil
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.broken {
		return nil, driver.ErrBadConn
	}
	var t driver.Tx
	var err error
	if b, ok := c.inner.(driver.ConnBeginTx); ok {
		t, err = b.BeginTx(ctx, opts)
	} else {
		if opts.Isolation != driver.IsolationLevel(0) || opts.ReadOnly {
			return nil, errors.New("dualwrite: the wrapped driver supports neither isolation levels nor read-only transactions")
		}
		t, err = c.inner.Begin() //nolint:staticcheck // the fallback for drivers without ConnBeginTx
	}
	if err != nil {
		return nil, err
	}
	if c.txState == txn.TxNone {
		c.txState = txn.TxOpen
	}
	return &tx{inner: t, conn: c}, nil
}

func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) Close() error {
	var err error
	if c.stmts != nil {
		err = c.stmts.close()
	}
	return errors.Join(err, c.inner.Close())
}

func (c *conn) Ping(ctx context.Context) error {
	if c.broken {
		return driver.ErrBadConn
	}
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// CheckNamedValue defers to the base connection's checker, or to
// database/sql's default conversion when it has none.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.inner.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// ResetSession defers to the base connection; without one, it does what
// database/sql does for a driver without SessionResetter, unless the
// connection is broken.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.broken {
		return driver.ErrBadConn
	}
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid reports false for a broken connection, and otherwise what the
// base connection says (true for one without Validator, as database/sql assumes).
func (c *conn) IsValid() bool {
	if c.broken {
		return false
	}
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}
