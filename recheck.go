package dualwrite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"log/slog"

	"github.com/dualwrite/dualwrite/internal/schema"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/txn"
)

// The live schema is checked again after every schema change that runs
// through a connection of the connector, before the next statement of any
// of its connections is planned:
//
//   - a statement whose plan says it may change the schema (CREATE, DROP,
//     ALTER) bumps the connector's schema generation once it has run,
//     whether it succeeded or not;
//   - every statement compares the generation of the planner it would use
//     with the connector's, two atomic loads; when they differ, the first
//     connection to notice checks the schema again (the others wait for
//     it) and replaces the planner, whose plan cache starts empty, since
//     the guards are part of the plans;
//   - a schema change inside a transaction is seen by its own connection
//     at once, through a planner of its own made from its transaction's
//     view of the catalog, and by the others when the transaction ends,
//     which bumps the generation again (after a rollback too, so that
//     nothing of the undone change stays).
//
// A check that finds problems does not close the pool: it marks the
// mapping entries the problems name as broken, and the planner refuses
// their dual writes and their reads from the new tables, naming the
// problems.

// schemaState is a planner made from one check of the live schema, and
// the schema generation it was made at.
type schemaState struct {
	p   *rewrite.Planner
	gen uint64
}

// planner returns the planner for the connection's next statement,
// checking the schema again when it changed since the planner was made.
func (c *conn) planner(ctx context.Context) (*rewrite.Planner, error) {
	gen := c.c.gen.Load()
	if c.ddlInTx {
		if c.own != nil && c.own.gen == gen {
			return c.own.p, nil
		}
		return c.recheckOwn(ctx)
	}
	return c.shared(ctx, gen)
}

// shared returns the connector's planner, checking the schema again when
// it was made before generation gen.
func (c *conn) shared(ctx context.Context, gen uint64) (*rewrite.Planner, error) {
	if st := c.c.state.Load(); st.gen == gen {
		return st.p, nil
	}
	return c.c.recheck(ctx, c)
}

// ran records what a statement that ran as written did to the schema: a
// schema change bumps the generation; the end of a transaction that
// changed the schema bumps it again, for the other connections. It also
// records that the connection may hold a temporary table, and, after a
// MySQL deadlock (err), that the caller's transaction may be gone.
func (c *conn) ran(plan *rewrite.Plan, err error) {
	if err != nil && txn.TxGone(err) {
		c.txState = txn.TxUnknown
	}
	c.tempTables = c.tempTables || plan.TempTable
	switch {
	case plan.ChangesSchema:
		// MySQL commits before a schema change: none is left in a transaction.
		if c.txState != txn.TxNone && c.c.drv.dialect.Name != rewrite.MySQL.Name {
			c.ddlInTx, c.own = true, nil
		}
		c.c.gen.Add(1)
	case plan.Kind == rewrite.KindTx && c.ddlInTx:
		c.own = nil
		c.c.gen.Add(1)
	}
}

// txEnded records the end of the caller's transaction begun with BeginTx.
func (c *conn) txEnded() {
	if !c.ddlInTx {
		return
	}
	if c.txState == txn.TxNone {
		c.ddlInTx = false
	}
	c.own = nil
	c.c.gen.Add(1)
}

// recheck checks the live schema again and replaces the shared planner.
// It reads the catalog on cn's connection when no transaction is open on
// it; otherwise on a new connection of the base connector, since a
// transaction may read an older snapshot of the catalog than the one its
// statements run against.
func (c *Connector) recheck(ctx context.Context, cn *conn) (*rewrite.Planner, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := c.gen.Load()
	if st := c.state.Load(); st.gen == gen {
		return st.p, nil
	}
	inner := cn.inner
	if cn.txState != txn.TxNone && !c.cfg.noCheck {
		fresh, err := c.base.Connect(ctx)
		if err != nil {
			return nil, fmt.Errorf("dualwrite: checking the live schema again after a schema change: connecting: %w", err)
		}
		defer func() { _ = fresh.Close() }()
		session, err := c.readSession(ctx, fresh)
		if err == nil {
			err = c.sameSession(session)
		}
		if err != nil {
			return nil, fmt.Errorf("dualwrite: checking the live schema again after a schema change: %w", err)
		}
		inner = fresh
	}
	p, err := c.replan(ctx, inner)
	if err != nil {
		return nil, err
	}
	c.state.Store(&schemaState{p: p, gen: gen})
	return p, nil
}

// recheckOwn checks the schema as the connection's transaction sees it,
// its own schema changes included, for its statements only. The check
// runs under a savepoint that is rolled back, so that a failed query of
// the check cannot abort the transaction (PostgreSQL).
func (c *conn) recheckOwn(ctx context.Context) (*rewrite.Planner, error) {
	gen := c.c.gen.Load()
	ic := innerConn{Conn: c.inner}
	if _, err := ic.Exec(ctx, "SAVEPOINT dualwrite_check", nil); err != nil {
		switch txn.SQLState(err) {
		case "25P01": // no_active_sql_transaction: the transaction is over
			c.ddlInTx, c.own = false, nil
			return c.shared(ctx, gen)
		case "25P02":
			// in_failed_sql_transaction: nothing but the transaction's end
			// runs in it, and the statement must reach the server to end it.
			return c.shared(ctx, gen)
		}
		return nil, fmt.Errorf("dualwrite: checking the live schema again after a schema change: %w", err)
	}
	p, err := c.c.replan(ctx, c.inner)
	undo := context.WithoutCancel(ctx)
	if _, uerr := ic.Exec(undo, "ROLLBACK TO SAVEPOINT dualwrite_check", nil); uerr != nil && err == nil {
		err = fmt.Errorf("dualwrite: checking the live schema again after a schema change: %w", uerr)
	}
	if _, uerr := ic.Exec(undo, "RELEASE SAVEPOINT dualwrite_check", nil); uerr != nil && err == nil {
		err = fmt.Errorf("dualwrite: checking the live schema again after a schema change: %w", uerr)
	}
	if err != nil {
		return nil, err
	}
	c.own = &schemaState{p: p, gen: gen}
	return p, nil
}

// replan inspects the schema on inner and makes a planner of it, with the
// entries the problems name marked broken.
func (c *Connector) replan(ctx context.Context, inner driver.Conn) (*rewrite.Planner, error) {
	s, problems, err := c.inspect(ctx, inner)
	if err != nil {
		return nil, fmt.Errorf("dualwrite: checking the live schema again after a schema change: %w", err)
	}
	if len(problems) > 0 {
		s.Broken = schema.Broken(c.drv.dialect, c.drv.mapping, problems)
		c.cfg.logger.Warn("dualwrite: the mapping no longer matches the live schema after a schema change; dual writes of the entries named are refused",
			slog.String("problems", schema.List(problems)))
	}
	return c.newPlanner(s), nil
}
