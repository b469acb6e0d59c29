package dualwrite_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/txn"
)

// faultyConnector opens connections of a base connector whose Exec and
// Query fail once for each armed statement prefix, as a driver or a server
// would.
type faultyConnector struct {
	base driver.Connector
	mu   sync.Mutex
	arm  map[string]int // statement prefix -> matches to let through before failing (-1 = disarmed)
	hit  []string
}

var errInjected = errors.New("injected fault")

func (c *faultyConnector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &faultyConn{Conn: inner, c: c}, nil
}

func (c *faultyConnector) Driver() driver.Driver { return c.base.Driver() }

func (c *faultyConnector) set(prefixes ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.arm = map[string]int{}
	for _, p := range prefixes {
		c.arm[p] = 0
	}
	c.hit = nil
}

func (c *faultyConnector) fail(query string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p, n := range c.arm {
		if strings.HasPrefix(query, p) && n == 0 {
			c.arm[p] = -1
			c.hit = append(c.hit, p)
			return errInjected
		}
	}
	return nil
}

type faultyConn struct {
	driver.Conn
	c *faultyConnector
}

func (f *faultyConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if err := f.c.fail(q); err != nil {
		return nil, err
	}
	return f.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (f *faultyConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if err := f.c.fail(q); err != nil {
		return nil, err
	}
	return f.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

// PrepareContext returns statements that fail like ExecContext and
// QueryContext when they run: the wrapper runs its own statements prepared.
func (f *faultyConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := f.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &faultyStmt{Stmt: s, q: q, c: f.c}, nil
}

type faultyStmt struct {
	driver.Stmt
	q string
	c *faultyConnector
}

func (s *faultyStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.c.fail(s.q); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *faultyStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.c.fail(s.q); err != nil {
		return nil, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (f *faultyConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return f.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

// faults are the steps of a dual write by backend: the statement prefix that
// fails it, and a statement that runs it.
var faults = map[string][]fault{
	"sqlite": {
		{txn.StepBegin, "BEGIN IMMEDIATE", "UPDATE users SET visits = visits + 1 WHERE id = 1", ""},
		{txn.StepPreSelect, "SELECT users.", "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepStatement, "UPDATE users SET visits", "UPDATE users SET visits = visits + 1 WHERE id = 1", ""},
		{txn.StepResult, "SELECT last_insert_rowid()", "INSERT INTO users (id, full_name) VALUES (5, 'New Person')", ""},
		{txn.StepUpsert, `INSERT INTO "accounts"`, "INSERT INTO users (id, full_name) VALUES (5, 'New Person')", ""},
		{txn.StepDelete, `DELETE FROM "accounts"`, "DELETE FROM users WHERE id = 2", ""},
		{txn.StepDelete, `DELETE FROM "accounts"`, "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepCommit, "COMMIT", "INSERT INTO users (id, full_name) VALUES (5, 'New Person')", ""},
	},
	// A PostgreSQL dual write is one statement, but for a key change and a DELETE.
	"postgres": {
		{txn.StepStatement, "WITH dw_w AS (INSERT", "INSERT INTO users (id, full_name) VALUES (5, 'New Person')", ""},
		{txn.StepStatement, "WITH dw_w AS (UPDATE", "UPDATE users SET visits = visits + 1 WHERE id = 1", ""},
		{txn.StepStatement, "DELETE FROM users", "DELETE FROM users WHERE id = 2", ""},
		{txn.StepDelete, `DELETE FROM "accounts"`, "DELETE FROM users WHERE id = 2", ""},
		{txn.StepCommit, "COMMIT", "DELETE FROM users WHERE id = 2", ""},
		{txn.StepBegin, "BEGIN", "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepPreSelect, "SELECT users.tableoid", "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepStatement, "UPDATE users SET id", "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepUpsert, `INSERT INTO "accounts"`, "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepDelete, `DELETE FROM "accounts"`, "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepCommit, "COMMIT", "UPDATE users SET id = 10 WHERE id = 1", ""},
	},
	// A MySQL INSERT is mirrored by the keys it names or the insert id, an
	// UPDATE whose WHERE names the key by that key, a DELETE by the keys
	// its RETURNING (MariaDB) or locking pre-select returned, and any other
	// UPDATE by those of its pre-select; a key change checks that the new
	// keys name its rows before mirroring them.
	"mysql": {
		{txn.StepBegin, "START TRANSACTION", "UPDATE users SET visits = visits + 1 WHERE id = 1", "tx"},
		{txn.StepBegin, "START TRANSACTION", "UPDATE users SET visits = visits + 1 WHERE id IN (1)", ""},
		{txn.StepStatement, "BEGIN NOT ATOMIC", "UPDATE users SET visits = visits + 1 WHERE id = 1", "autocommit"},
		{txn.StepPreSelect, "SELECT users.`id`", "UPDATE users SET visits = visits + 1 WHERE id IN (1)", ""},
		{txn.StepPreSelect, "SELECT users.`id`", "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepStatement, "UPDATE users SET visits", "UPDATE users SET visits = visits + 1 WHERE id = 1", "tx"},
		{txn.StepStatement, "INSERT INTO users", "INSERT INTO users (full_name) VALUES ('New Person')", ""},
		{txn.StepUpsert, "INSERT INTO `accounts`", "INSERT INTO users (id, full_name) VALUES (5, 'New Person')", "tx"},
		{txn.StepUpsert, "INSERT INTO `accounts`", "INSERT INTO users (full_name) VALUES ('New Person')", ""},
		{txn.StepUpsert, "INSERT INTO `accounts`", "UPDATE users SET visits = visits + 1 WHERE id = 1", "tx"},
		{txn.StepUpsert, "INSERT INTO `accounts`", "UPDATE users SET visits = visits + 1 WHERE id IN (1)", ""},
		{txn.StepUpsert, "SELECT COUNT(*) FROM `users`", "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepDelete, "DELETE FROM `accounts`", "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepUpsert, "INSERT INTO `accounts`", "UPDATE users SET id = 10 WHERE id = 1", ""},
		{txn.StepStatement, "DELETE FROM users", "DELETE FROM users WHERE id = 2", "tx"},
		{txn.StepDelete, "DELETE FROM `accounts`", "DELETE FROM users WHERE id = 2", "tx"},
		{txn.StepStatement, "DELETE FROM users", "DELETE FROM users WHERE id >= 2", ""},
		{txn.StepDelete, "DELETE FROM `accounts`", "DELETE FROM users WHERE id >= 2", ""},
		{txn.StepStatement, "BEGIN NOT ATOMIC", "DELETE FROM users WHERE id = 2", "autocommit"},
		{txn.StepCommit, "COMMIT", "INSERT INTO users (id, full_name) VALUES (5, 'New Person')", "tx"},
		{txn.StepStatement, "BEGIN NOT ATOMIC", "INSERT INTO users (id, full_name) VALUES (5, 'New Person')", "autocommit"},
		{txn.StepCommit, "COMMIT", "UPDATE users SET id = 10 WHERE id = 1", ""},
	},
}

// reverseFaults are faults for the dual writes of the write phase both on
// the new tables, mirrored back into the old ones.
var reverseFaults = map[string][]fault{
	"sqlite": {
		{txn.StepBegin, "BEGIN IMMEDIATE", "UPDATE accounts SET visits = visits + 1 WHERE account_id = 1", ""},
		{txn.StepPreSelect, "SELECT accounts.", "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepStatement, "UPDATE accounts SET visits", "UPDATE accounts SET visits = visits + 1 WHERE account_id = 1", ""},
		{txn.StepResult, "SELECT last_insert_rowid()", "INSERT INTO accounts (account_id, first_name, last_name) VALUES (5, 'New', 'Person')", ""},
		{txn.StepUpsert, `INSERT INTO "users"`, "INSERT INTO accounts (account_id, first_name, last_name) VALUES (5, 'New', 'Person')", ""},
		{txn.StepDelete, `DELETE FROM "users"`, "DELETE FROM accounts WHERE account_id = 2", ""},
		{txn.StepDelete, `DELETE FROM "users"`, "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepCommit, "COMMIT", "INSERT INTO accounts (account_id, first_name, last_name) VALUES (5, 'New', 'Person')", ""},
	},
	"postgres": {
		{txn.StepStatement, "WITH dw_w AS (INSERT", "INSERT INTO accounts (account_id, first_name, last_name) VALUES (5, 'New', 'Person')", ""},
		{txn.StepStatement, "WITH dw_w AS (UPDATE", "UPDATE accounts SET visits = visits + 1 WHERE account_id = 1", ""},
		{txn.StepStatement, "DELETE FROM accounts", "DELETE FROM accounts WHERE account_id = 2", ""},
		{txn.StepDelete, `DELETE FROM "users"`, "DELETE FROM accounts WHERE account_id = 2", ""},
		{txn.StepCommit, "COMMIT", "DELETE FROM accounts WHERE account_id = 2", ""},
		{txn.StepBegin, "BEGIN", "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepPreSelect, "SELECT accounts.tableoid", "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepStatement, "UPDATE accounts SET account_id", "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepUpsert, `INSERT INTO "users"`, "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepDelete, `DELETE FROM "users"`, "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepCommit, "COMMIT", "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
	},
	"mysql": {
		{txn.StepBegin, "START TRANSACTION", "UPDATE accounts SET visits = visits + 1 WHERE account_id = 1", "tx"},
		{txn.StepStatement, "BEGIN NOT ATOMIC", "UPDATE accounts SET visits = visits + 1 WHERE account_id = 1", "autocommit"},
		{txn.StepPreSelect, "SELECT accounts.`account_id`", "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepStatement, "UPDATE accounts SET visits", "UPDATE accounts SET visits = visits + 1 WHERE account_id = 1", "tx"},
		{txn.StepStatement, "INSERT INTO accounts", "INSERT INTO accounts (account_id, first_name, last_name) VALUES (5, 'New', 'Person')", "tx"},
		{txn.StepUpsert, "INSERT INTO `users`", "INSERT INTO accounts (account_id, first_name, last_name) VALUES (5, 'New', 'Person')", "tx"},
		{txn.StepUpsert, "INSERT INTO `users`", "UPDATE accounts SET visits = visits + 1 WHERE account_id = 1", "tx"},
		{txn.StepUpsert, "SELECT COUNT(*) FROM `accounts`", "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepDelete, "DELETE FROM `users`", "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepUpsert, "INSERT INTO `users`", "UPDATE accounts SET account_id = 10 WHERE account_id = 1", ""},
		{txn.StepDelete, "DELETE FROM `users`", "DELETE FROM accounts WHERE account_id = 2", "tx"},
		{txn.StepDelete, "DELETE FROM `users`", "DELETE FROM accounts WHERE account_id >= 2", ""},
		{txn.StepCommit, "COMMIT", "INSERT INTO accounts (account_id, first_name, last_name) VALUES (5, 'New', 'Person')", "tx"},
		{txn.StepCommit, "COMMIT", "DELETE FROM accounts WHERE account_id = 2", "tx"},
		{txn.StepCommit, "COMMIT", "DELETE FROM accounts WHERE account_id >= 2", ""},
	},
}

// fault is a step of a dual write, the prefix of the statement that fails
// it, and a statement that runs it.
type fault struct {
	step   txn.Step
	prefix string
	stmt   string
	// only, when set, limits where the fault is injected: "autocommit" to
	// a MariaDB point UPDATE outside a transaction, one compound statement
	// there (rewrite.Plan.Block), and "tx" to everything else.
	only string
}

// inTxUnit spells the unit of a dual write of steps inside a caller's
// transaction for each backend: a savepoint.
var inTxUnit = map[string]*strings.Replacer{
	"sqlite":   strings.NewReplacer("BEGIN IMMEDIATE", "SAVEPOINT dualwrite", "COMMIT", "RELEASE dualwrite"),
	"postgres": strings.NewReplacer("BEGIN", "SAVEPOINT dualwrite", "COMMIT", "RELEASE SAVEPOINT dualwrite"),
	"mysql":    strings.NewReplacer("START TRANSACTION", "SAVEPOINT dualwrite", "COMMIT", "RELEASE SAVEPOINT dualwrite"),
}

// TestFaultInjection fails each step of a dual write in turn, in autocommit
// and in a caller's transaction, forward in the write phase dual and
// reverse (a write to a new table) in the phase both: the caller gets an
// error and neither table changes; the transaction goes on, since the
// fault never reached the database.
func TestFaultInjection(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		for _, reverse := range []bool{false, true} {
			cases, open := faults[b.engine()], b.openWith
			if reverse {
				cases = reverseFaults[b.engine()]
				open = func(t testing.TB, base driver.Connector, opts ...dualwrite.Option) *env {
					e := b.openWith(t, base, opts...)
					if err := e.sw.SetWrite(mapping.WriteBoth); err != nil {
						t.Fatal(err)
					}
					return e
				}
			}
			testFaults(t, b, cases, open, reverse)
		}
	})
}

func testFaults(t *testing.T, b backend, cases []fault, open func(testing.TB, driver.Connector, ...dualwrite.Option) *env, reverse bool) {
	if len(cases) == 0 {
		t.Fatalf("no faults to inject on %s", b.name)
	}
	for _, inTx := range []bool{false, true} {
		for _, s := range cases {
			prefix := s.prefix
			if inTx {
				// Inside a caller's transaction a dual write of steps is a savepoint.
				prefix = inTxUnit[b.engine()].Replace(prefix)
			}
			block := !inTx && b.engine() == "mysql" && b.name != mysqlNoReturningBackend.name
			if s.only == "tx" && block || s.only == "autocommit" && !block {
				continue
			}
			name := string(s.step) + "/" + prefix
			if inTx {
				name += "/in-tx"
			}
			if reverse {
				name = "reverse/" + name
			}
			t.Run(name, func(t *testing.T) {
				fc := &faultyConnector{base: dbtest.Connector{DSN: b.dsn(t), Base: b.driver}}
				e := open(t, fc)
				mustExec(t, e.db, "INSERT INTO users (id, full_name, visits) VALUES (1, 'Ada Lovelace', 1), (2, 'Alan Turing', 2)")
				before := rows(t, e.raw, "SELECT * FROM users ORDER BY id")
				beforeNew := rows(t, e.raw, "SELECT * FROM accounts ORDER BY account_id")
				fc.set(prefix)
				var err error
				if inTx {
					tx, terr := e.db.Begin()
					if terr != nil {
						t.Fatal(terr)
					}
					_, err = tx.Exec(s.stmt)
					// The transaction goes on: a later write lands on both sides.
					mustExec(t, tx, "UPDATE users SET visits = 100 WHERE id = 2")
					if cerr := tx.Commit(); cerr != nil {
						t.Fatal(cerr)
					}
					mustExec(t, e.raw, "UPDATE users SET visits = 2 WHERE id = 2")
					mustExec(t, e.raw, "UPDATE accounts SET visits = 2 WHERE account_id = 2")
				} else {
					_, err = e.db.Exec(s.stmt)
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("got %v, want the injected fault", err)
				}
				var te *txn.Error
				if s.step != txn.StepBegin && s.step != txn.StepStatement && (!errors.As(err, &te) || te.Step != s.step) {
					t.Fatalf("got %v, want a *txn.Error at step %s", err, s.step)
				}
				if len(fc.hit) != 1 {
					t.Fatalf("fault at %q never fired", prefix)
				}
				if got := rows(t, e.raw, "SELECT * FROM users ORDER BY id"); !reflect.DeepEqual(got, before) {
					t.Fatalf("users changed: %v, was %v", got, before)
				}
				if got := rows(t, e.raw, "SELECT * FROM accounts ORDER BY account_id"); !reflect.DeepEqual(got, beforeNew) {
					t.Fatalf("accounts changed: %v, was %v", got, beforeNew)
				}
				e.checkInvariant()
			})
		}
	}
}

// undo is how a backend undoes a key change that failed, outside and inside
// a caller's transaction.
var undo = map[string][2]string{
	"sqlite":   {"ROLLBACK", "ROLLBACK TO dualwrite"},
	"postgres": {"ROLLBACK", "ROLLBACK TO SAVEPOINT dualwrite"},
	"mysql":    {"ROLLBACK", "ROLLBACK TO SAVEPOINT dualwrite"},
}

// TestFailedUndoDiscardsConnection fails the mirror and then its undo: the
// caller gets an error, the connection is discarded (so the open unit dies
// with it), and neither table changes.
func TestFailedUndoDiscardsConnection(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		fc := &faultyConnector{base: dbtest.Connector{DSN: b.dsn(t), Base: b.driver}}
		e := b.openWith(t, fc)
		e.db.SetMaxOpenConns(1)
		mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing')")
		fc.set("INSERT INTO "+b.quote("accounts"), undo[b.engine()][0])
		_, err := e.db.Exec("UPDATE users SET id = 5 WHERE id = 2")
		var te *txn.Error
		if !errors.As(err, &te) || !te.Unclean {
			t.Fatalf("got %v, want an unclean *txn.Error", err)
		}
		if errors.Is(err, driver.ErrBadConn) {
			t.Fatal("the error wraps driver.ErrBadConn: database/sql would retry the write")
		}
		// The next statement gets a fresh connection.
		mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (3, 'Grace Hopper')")
		if got := rows(t, e.raw, "SELECT id FROM users ORDER BY id"); !reflect.DeepEqual(got, [][]any{{int64(1)}, {int64(2)}, {int64(3)}}) {
			t.Fatalf("users = %v", got)
		}
		e.checkInvariant()
	})
}

// TestFailedUndoInTransactionRefusesCommit: a dual write whose undo failed
// inside a caller's transaction makes Commit roll back and say so.
func TestFailedUndoInTransactionRefusesCommit(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		fc := &faultyConnector{base: dbtest.Connector{DSN: b.dsn(t), Base: b.driver}}
		e := b.openWith(t, fc)
		tx, err := e.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
		fc.set("INSERT INTO "+b.quote("accounts"), undo[b.engine()][1])
		if _, err := tx.Exec("UPDATE users SET id = 2 WHERE id = 1"); err == nil {
			t.Fatal("no error")
		}
		if err := tx.Commit(); !errors.Is(err, dualwrite.ErrBrokenConn) {
			t.Fatalf("Commit = %v, want ErrBrokenConn", err)
		}
		if n := e.count("users"); n != 0 {
			t.Fatalf("users has %d rows after a refused commit", n)
		}
		e.checkInvariant()
	})
}

// countingConnector counts the statements of long texts its connections
// have prepared and not closed.
type countingConnector struct {
	base driver.Connector
	open atomic.Int64
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: inner, c: c}, nil
}

func (c *countingConnector) Driver() driver.Driver { return c.base.Driver() }

type countingConn struct {
	driver.Conn
	c *countingConnector
}

func (c *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil || len(q) < 64<<10 {
		return s, err
	}
	c.c.open.Add(1)
	return &countingStmt{Stmt: s, c: c.c}, nil
}

type countingStmt struct {
	driver.Stmt
	c *countingConnector
}

func (s *countingStmt) Close() error {
	s.c.open.Add(-1)
	return s.Stmt.Close()
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

// TestLongStatementsAreNotKeptPrepared: the statements the wrapper runs
// for long writes are closed after use, not kept prepared on the
// connection with their texts.
func TestLongStatementsAreNotKeptPrepared(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		cc := &countingConnector{base: dbtest.Connector{DSN: b.dsn(t), Base: b.driver}}
		e := b.openWith(t, cc)
		e.db.SetMaxOpenConns(1)
		pad := strings.Repeat("x", 100<<10)
		// MySQL's full_name is a VARCHAR(200): the long text is cut there.
		name := "'%s %d'"
		if b.runs("mysql") {
			name = "CONCAT(LEFT('%s', 100), ' %d')"
		}
		for i := range 8 {
			mustExec(t, e.db, fmt.Sprintf("INSERT INTO users (id, full_name) VALUES (%d, "+name+")", i+1, pad, i))
		}
		if n := cc.open.Load(); n != 0 {
			t.Fatalf("%d statements of long texts stay prepared after the writes", n)
		}
		if n := e.count("accounts"); n != 8 {
			t.Fatalf("accounts has %d rows, want 8", n)
		}
		e.checkInvariant()
	})
}
