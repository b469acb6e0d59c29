package dualwrite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"hash/maphash"
)

// stmtCacheSize bounds the statements one connection keeps prepared.
const stmtCacheSize = 64

// stmtCacheMaxText is the longest text a connection keeps prepared: a
// longer one (the capture of a long INSERT) is prepared for each use and
// closed, so that a connection does not keep many long texts, and their
// server-side statements, alive.
const stmtCacheMaxText = 64 << 10

// stmtSeenSize bounds the texts a connection remembers as used once: past
// it, it forgets them all and starts again.
const stmtSeenSize = 4 * stmtCacheSize

// stmtCache keeps the statements the wrapper runs itself (the caller's
// statement with key capture, the generated mirror statements, substituted
// queries) prepared on one connection, so that the database compiles each
// text once per connection. A text is prepared and kept on its second use
// since the connection last forgot the texts it saw (admit): one used once,
// such as the capture of a statement whose values are inlined as literals,
// runs without preparing, as the caller's statement would, and neither
// costs a prepare and a close nor displaces the statements that repeat
// (the mirror's). It belongs to one conn and, like it, is used by one
// goroutine at a time.
type stmtCache struct {
	ll    *list.List // of *cachedStmt, most recently used first
	items map[string]*list.Element
	seen  map[uint64]struct{} // digests of texts used once, at most stmtSeenSize
	seed  maphash.Seed
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	// busy is set while rows of the statement are open: running it again
	// would reset them, so another statement is prepared meanwhile.
	busy bool
}

func newStmtCache() *stmtCache {
	return &stmtCache{ll: list.New(), items: map[string]*list.Element{}, seen: map[uint64]struct{}{}, seed: maphash.MakeSeed()}
}

// admit reports whether query runs prepared, from the cache: it is cached,
// or it was used before. Otherwise it remembers query as used once. Two
// texts with the same digest only make the second be prepared at once.
func (sc *stmtCache) admit(query string) bool {
	if _, ok := sc.items[query]; ok {
		return true
	}
	if len(query) > stmtCacheMaxText {
		return false
	}
	h := maphash.String(sc.seed, query)
	if _, ok := sc.seen[h]; ok {
		delete(sc.seen, h)
		return true
	}
	if len(sc.seen) >= stmtSeenSize {
		clear(sc.seen)
	}
	sc.seen[h] = struct{}{}
	return false
}

// get returns a statement prepared for query, from the cache when the
// cached one is not busy, and the function that gives it back: done closes
// a statement prepared for this use only. get refuses too few arguments, as
// drivers do for a statement run without preparing it (a prepared
// statement would bind the rest to NULL).
func (sc *stmtCache) get(ctx context.Context, c driver.Conn, query string, args []driver.NamedValue) (s driver.Stmt, done func(), err error) {
	e, ok := sc.items[query]
	switch {
	case ok && !e.Value.(*cachedStmt).busy:
		sc.ll.MoveToFront(e)
	case ok || len(query) > stmtCacheMaxText:
		// In use by open rows, or too long to keep: a statement for this
		// use only.
		if s, err = prepare(ctx, c, query); err != nil {
			return nil, nil, err
		}
		done = func() { _ = s.Close() }
	default:
		if s, err = prepare(ctx, c, query); err != nil {
			return nil, nil, err
		}
		e = sc.ll.PushFront(&cachedStmt{query: query, stmt: s})
		sc.items[query] = e
		sc.evict()
	}
	if done == nil {
		cs := e.Value.(*cachedStmt)
		s, cs.busy = cs.stmt, true
		done = func() {
			cs.busy = false
			if _, cached := sc.items[cs.query]; !cached {
				_ = cs.stmt.Close() // evicted while busy
			}
		}
	}
	if err := enoughArgs(s, args); err != nil {
		done()
		return nil, nil, err
	}
	return s, done, nil
}

// enoughArgs refuses too few arguments for a prepared statement, as
// drivers do for a statement run without preparing it (a prepared
// statement would bind the rest to NULL).
func enoughArgs(s driver.Stmt, args []driver.NamedValue) error {
	if n := s.NumInput(); n >= 0 && len(args) < n {
		return fmt.Errorf("dualwrite: not enough arguments: the statement takes %d, got %d", n, len(args))
	}
	return nil
}

// evict closes the least recently used statements over the bound, except
// busy ones, which close when their rows do.
func (sc *stmtCache) evict() {
	for sc.ll.Len() > stmtCacheSize {
		last := sc.ll.Back()
		sc.ll.Remove(last)
		cs := last.Value.(*cachedStmt)
		delete(sc.items, cs.query)
		if !cs.busy {
			_ = cs.stmt.Close()
		}
	}
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
