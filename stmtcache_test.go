package dualwrite_test

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dualwrite/dualwrite/internal/dbtest"
)

// prepareCounter counts, by text, the statements its connections prepare.
type prepareCounter struct {
	base driver.Connector
	mu   sync.Mutex
	n    map[string]int
}

func (c *prepareCounter) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &prepareCountingConn{Conn: inner, c: c}, nil
}

func (c *prepareCounter) Driver() driver.Driver { return c.base.Driver() }

// prepared returns how many times texts holding part were prepared.
func (c *prepareCounter) prepared(part string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for q, k := range c.n {
		if strings.Contains(q, part) {
			n += k
		}
	}
	return n
}

type prepareCountingConn struct {
	driver.Conn
	c *prepareCounter
}

func (c *prepareCountingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.c.mu.Lock()
	c.c.n[q]++
	c.c.mu.Unlock()
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (c *prepareCountingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *prepareCountingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

// TestOneOffStatementsAreNotPrepared: dual writes whose values are
// inlined as literals, each a new text, run their captures without
// preparing them, and the statements that repeat stay prepared: each is
// prepared once on the connection however many one-off texts go by.
func TestOneOffStatementsAreNotPrepared(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		if b.runs("mysql") {
			t.Skip("go-sql-driver/mysql prepares every statement with arguments itself (without interpolateParams), and a MariaDB dual UPDATE by key is one block, its text the caller's")
		}
		pc := &prepareCounter{base: dbtest.Connector{DSN: b.dsn(t), Base: b.driver}, n: map[string]int{}}
		e := b.openWith(t, pc)
		e.db.SetMaxOpenConns(1)
		mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
		const writes = 300 // several times the connection's statement cache
		for i := range writes {
			mustExec(t, e.db, fmt.Sprintf("UPDATE users SET visits = %d WHERE id = 1", i+1))
		}
		if n := pc.prepared("SET visits ="); n != 0 {
			t.Errorf("%d statements of the %d one-off UPDATE texts were prepared, want 0", n, writes)
		}
		// On SQLite the upsert into accounts repeats; on PostgreSQL the
		// write is one statement, the caller's text with the mirror.
		if n := pc.prepared("accounts"); n > 4 {
			t.Errorf("the statements that write accounts were prepared %d times in %d dual writes, want at most once each", n, writes)
		}
		e.checkInvariant()
	})
}
