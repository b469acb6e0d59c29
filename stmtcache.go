package dualwrite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
)

// stmtCacheSize bounds the statements one connection keeps prepared.
const stmtCacheSize = 64

// stmtCache keeps the statements the wrapper runs itself (the caller's
// statement with key capture, the generated mirror statements, substituted
// queries) prepared on one connection, so that the database compiles each
// text once per connection. It belongs to one conn and, like it, is used by
// one goroutine at a time.
type stmtCache struct {
	ll    *list.List // of *cachedStmt, most recently used first
	items map[string]*list.Element
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
}

func newStmtCache() *stmtCache {
	return &stmtCache{ll: list.New(), items: map[string]*list.Element{}}
}

// get returns the statement prepared for query, preparing it on c if
// needed. It refuses too few arguments, as drivers do for a statement run
// without preparing it (a prepared statement would bind the rest to NULL).
func (sc *stmtCache) get(ctx context.Context, c driver.Conn, query string, args []driver.NamedValue) (driver.Stmt, error) {
	s, err := sc.prepared(ctx, c, query)
	if err != nil {
		return nil, err
	}
	if n := s.NumInput(); n >= 0 && len(args) < n {
		return nil, fmt.Errorf("dualwrite: not enough arguments: the statement takes %d, got %d", n, len(args))
	}
	return s, nil
}

func (sc *stmtCache) prepared(ctx context.Context, c driver.Conn, query string) (driver.Stmt, error) {
	if e, ok := sc.items[query]; ok {
		sc.ll.MoveToFront(e)
		return e.Value.(*cachedStmt).stmt, nil
	}
	s, err := prepare(ctx, c, query)
	if err != nil {
		return nil, err
	}
	sc.items[query] = sc.ll.PushFront(&cachedStmt{query: query, stmt: s})
	if sc.ll.Len() > stmtCacheSize {
		last := sc.ll.Back()
		sc.ll.Remove(last)
		cs := last.Value.(*cachedStmt)
		delete(sc.items, cs.query)
		_ = cs.stmt.Close()
	}
	return s, nil
}

// close closes every cached statement.
func (sc *stmtCache) close() error {
	var first error
	for e := sc.ll.Front(); e != nil; e = e.Next() {
		if err := e.Value.(*cachedStmt).stmt.Close(); err != nil && first == nil {
			first = err
		}
	}
	sc.ll.Init()
	clear(sc.items)
	return first
}
