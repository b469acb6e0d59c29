// Package txn executes write plans: it runs the caller's statement and its
// mirror as one atomic unit on one connection, inside the caller's
// transaction or in an implicit one, and hands back exactly the caller's
// result.
package txn

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"

	"github.com/dualwrite/dualwrite/rewrite"
)

// Conn is the connection a write runs on: the wrapped driver's connection.
type Conn interface {
	Exec(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error)
	Query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error)
}

// Step names a step of a dual write, for errors and metrics.
type Step string

// The steps of a dual write, in the order they run.
const (
	StepBegin     Step = "begin"      // open the atomic unit (a savepoint)
	StepPreSelect Step = "pre-select" // keys of rows whose key may change
	StepStatement Step = "statement"  // the caller's statement, with key capture
	StepResult    Step = "result"     // last insert id and rows affected
	StepUpsert    Step = "upsert"     // new rows of the touched keys = up(old)
	StepDelete    Step = "delete"     // new rows of touched keys with no old row
	StepCommit    Step = "commit"     // close the atomic unit
)

// Error reports a dual write that failed after the caller's statement
// succeeded, or whose undo failed. Nothing was written unless Unclean is set.
type Error struct {
	Table string // the mapped old table
	Step  Step
	Err   error
	// Unclean is set when undoing the failed write failed too: the
	// connection's state is unknown and it must not be used again.
	Unclean bool
}

func (e *Error) Error() string {
	if e.Unclean {
		return fmt.Sprintf("dualwrite: dual write on %s failed at %s and could not be undone; the connection is discarded: %v", e.Table, e.Step, e.Err)
	}
	return fmt.Sprintf("dualwrite: dual write on %s failed at %s; nothing was written: %v", e.Table, e.Step, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// errConnLost replaces driver.ErrBadConn once part of a write reached the
// database: database/sql would otherwise retry it on another connection.
var errConnLost = errors.New("connection lost during a dual write")

// Result is what the caller's statement produced.
type Result struct {
	LastInsertID, RowsAffected int64
	// Columns, Types and Rows are the caller's RETURNING rows (none when the
	// statement had no RETURNING clause).
	Columns []string
	Types   []ColumnType
	Rows    [][]driver.Value
	// NoLastInsertID is set where the database has no last insert id
	// (PostgreSQL): LastInsertId returns an error, as the driver's would.
	NoLastInsertID bool
}

// ColumnType is what the wrapped driver said about a RETURNING column.
type ColumnType struct {
	DatabaseTypeName      string
	ScanType              reflect.Type
	Nullable, HasNullable bool
}

// TxState is what a connection knows of its transaction.
type TxState uint8

// Transaction states.
const (
	TxNone    TxState = iota // no transaction is open
	TxOpen                   // the caller's transaction is open
	TxUnknown                // SQL text may have opened or ended one: ask the database
)

// Open opens the atomic unit units(outside) gives, choosing outside by the
// connection's transaction state; when that is unknown it tries the unit
// for inside a transaction first and falls back when the database says no
// transaction is open. It returns the unit it opened, whether that is the
// one for outside a transaction, and what its first statement returned.
//
// Where a savepoint outside a transaction is no error (MySQL), inTx, when
// set, is the query that asks the database instead.
func Open(ctx context.Context, c Conn, state TxState, inTx string, units func(outside bool) rewrite.Unit) (u rewrite.Unit, outside bool, r driver.Result, err error) {
	outside = state == TxNone
	if state == TxUnknown && inTx != "" {
		if outside, err = noTransaction(ctx, c, inTx); err != nil {
			return u, false, nil, err
		}
		state = TxNone // decided
	}
	u = units(outside)
	r, err = c.Exec(ctx, u.Begin, nil)
	if err != nil && state == TxUnknown && SQLState(err) == "25P01" { // no_active_sql_transaction
		outside = true
		u = units(outside)
		r, err = c.Exec(ctx, u.Begin, nil)
	}
	return u, outside, r, err
}

// SQLState returns the SQLSTATE code of a database error ("" when it has
// none), as drivers such as pgx expose it.
func SQLState(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}

// Write runs a Mirror plan's statement and its mirror atomically on c. When
// the caller's own statement fails, its error is returned unchanged and
// nothing was written. needResult says whether the caller wants a
// driver.Result (Exec) rather than rows (Query). state says whether a
// caller's transaction is open.
//
// Where a failed statement aborts the transaction (PostgreSQL), a database
// error inside the caller's transaction is left to do so: nothing of the
// dual write can commit, and the caller sees the transaction as the
// database would have left it.
func Write(ctx context.Context, c Conn, d *rewrite.Dialect, plan *rewrite.Plan, args []driver.NamedValue, needResult bool, state TxState) (*Result, error) {
	if plan.Fused != "" {
		return writeFused(ctx, c, plan, args, needResult)
	}
	table := plan.Table.Map.Old
	if plan.InsertKeys != nil {
		if err := checkInsertKeys(plan, args); err != nil {
			return nil, err
		}
	}
	if plan.Block != "" && state == TxNone && len(args) == plan.Params.Count {
		// (With another number of arguments the statement's own run gives
		// the driver's error.)
		// Key 0 may stand for a generated key: as four statements.
		if key, ok := pointKey(plan, args); ok && (!zero(key[0]) || !plan.Table.ZeroGenerates() && !plan.BlockInsertID) {
			return writeBlock(ctx, c, plan, args, key)
		}
	}
	u, outside, begun, err := Open(ctx, c, state, d.InTxQuery(), d.WriteUnit)
	if err != nil {
		return nil, err // nothing reached the table; driver.ErrBadConn may stand
	}
	var res *Result
	var step Step
	switch {
	case plan.Restrict != nil:
		res, step, err = writeRestricted(ctx, c, plan, args)
	case plan.InsertKeys != nil:
		res, step, err = writeInsert(ctx, c, plan, args)
	case plan.PointKey != nil && plan.Kind == rewrite.KindUpdate:
		res, step, err = writePoint(ctx, c, plan, args)
	default:
		res, step, err = write(ctx, c, d, plan, args, needResult, begun)
	}
	if err == nil {
		step = StepCommit
		if _, err = c.Exec(ctx, u.End, nil); err == nil {
			return res, nil
		}
	}
	aborted := d.ErrorAborts() && !outside && SQLState(err) != "" || RolledBack(err)
	if !aborted {
		// Undo even when ctx is what failed the write.
		if rbErr := execAll(context.WithoutCancel(ctx), c, u.Undo); rbErr != nil && (mysqlError(rbErr) != mysqlNoSavepoint || outside) {
			return nil, &Error{Table: table, Step: step, Err: errors.Join(safe(err), fmt.Errorf("undo: %w", safe(rbErr))), Unclean: true}
		}
	}
	if step == StepStatement && !errors.Is(err, driver.ErrBadConn) || RolledBack(err) {
		// A MySQL deadlock at any step rolled the whole transaction back,
		// as it would have without the mirror: the caller retries it.
		return nil, err
	}
	if step == StepUpsert && d.Name == rewrite.MySQL.Name {
		err = mirrorConflict(plan.Table, err)
	}
	return nil, &Error{Table: table, Step: step, Err: safe(err)}
}

// writeFused runs a dual write that is one statement: atomic on its own,
// so a failure is the statement's error, unchanged (the caller's
// transaction, if any, is aborted by it as by any failed statement).
func writeFused(ctx context.Context, c Conn, plan *rewrite.Plan, args []driver.NamedValue, needResult bool) (*Result, error) {
	lost := func(err error) error {
		if errors.Is(err, driver.ErrBadConn) {
			// The statement may have committed: never let database/sql retry it.
			return &Error{Table: plan.Table.Map.Old, Step: StepStatement, Err: errConnLost}
		}
		return err
	}
	if needResult && !plan.CallerReturning {
		r, err := c.Exec(ctx, plan.Fused, args)
		if err != nil {
			return nil, lost(err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return nil, err
		}
		return &Result{RowsAffected: n, NoLastInsertID: true}, nil
	}
	rows, err := c.Query(ctx, plan.Fused, args)
	if err != nil {
		return nil, lost(err)
	}
	cols, types, data, err := readAll(rows, plan.CallerReturning)
	if err != nil {
		return nil, lost(err)
	}
	res := &Result{RowsAffected: int64(len(data)), NoLastInsertID: true}
	if plan.CallerReturning {
		res.callerRows(cols, types, data, plan.KeyCols)
	}
	return res, nil
}

// callerRows keeps the caller's RETURNING columns of the statement's rows:
// all but the last keyCols, which the wrapper appended.
func (res *Result) callerRows(cols []string, types []ColumnType, data [][]driver.Value, keyCols int) {
	n := len(cols) - keyCols
	res.Columns, res.Types = cols[:n], types[:n]
	res.Rows = make([][]driver.Value, len(data))
	for i, r := range data {
		res.Rows[i] = r[:n]
	}
}

func write(ctx context.Context, c Conn, d *rewrite.Dialect, plan *rewrite.Plan, args []driver.NamedValue, needResult bool, begun driver.Result) (*Result, Step, error) {
	var oldKeys [][]driver.Value
	captureArgs := args
	if plan.PreSelect != "" {
		rows, err := c.Query(ctx, plan.PreSelect, plan.Params.Subset(args, plan.PreSelectParams))
		if err != nil {
			return nil, StepPreSelect, err
		}
		_, _, oldKeys, err = readAll(rows, false)
		if err != nil {
			return nil, StepPreSelect, err
		}
		if plan.RowIDs > 0 {
			captureArgs = plan.BindRows(args, oldKeys)
			for i, k := range oldKeys {
				oldKeys[i] = k[plan.RowIDs:]
			}
		}
	}
	rows, err := c.Query(ctx, plan.Capture, captureArgs)
	if err != nil {
		return nil, StepStatement, err
	}
	cols, types, data, err := readAll(rows, plan.CallerReturning)
	if err != nil {
		return nil, StepStatement, err
	}
	res := &Result{}
	if plan.CallerReturning {
		res.callerRows(cols, types, data, plan.KeyCols)
	}
	newKeys := data // the rows are the keys, unless the caller's RETURNING columns come first
	if len(cols) != plan.KeyCols {
		newKeys = make([][]driver.Value, len(data))
		for i, r := range data {
			newKeys[i] = r[len(r)-plan.KeyCols:]
		}
	}
	// The statement's RETURNING rows are the rows it changed, one each, so
	// they count what it affected. Only an INSERT moves the last insert id;
	// before any other statement it is what opening the write reported.
	res.RowsAffected = int64(len(data))
	switch {
	case plan.InsertIDQuery != "":
		// MySQL: the statement would have reported the first generated id,
		// and 0 when it inserted no row.
		if needResult && len(data) > 0 {
			if res.LastInsertID, err = insertID(ctx, c, plan.InsertIDQuery, nil); err != nil {
				return nil, StepResult, err
			}
		}
	case d.Name == rewrite.MySQL.Name:
	case d.ResultQuery() == "":
		res.NoLastInsertID = true
	case plan.Kind == rewrite.KindInsert && needResult:
		if err := result(ctx, c, d, res); err != nil {
			return nil, StepResult, err
		}
	case needResult && begun != nil:
		res.LastInsertID, _ = begun.LastInsertId()
	}
	t := plan.Table
	if plan.Kind == rewrite.KindDelete {
		if err := forKeys(ctx, c, t, newKeys, t.DeleteSQL); err != nil {
			return nil, StepDelete, err
		}
		return res, "", nil
	}
	if plan.PreSelect != "" {
		step, err := mirrorKeyChange(ctx, c, t, oldKeys, newKeys)
		if err != nil {
			return nil, step, err
		}
		return res, "", nil
	}
	if err := upsert(ctx, c, t, newKeys); err != nil {
		return nil, StepUpsert, err
	}
	return res, "", nil
}

// mirrorKeyChange mirrors an UPDATE that may have changed keys: the rows
// it changed had oldKeys before and have newKeys now. The new rows of the
// vacated keys go first, so that a row moving to a new key does not meet
// its own unique values in its former new row. Where a key was both
// vacated and taken (a row moved onto the key another row left), the
// upsert may still meet a moved row's values in the new row it is about to
// overwrite: it runs in a savepoint and, when it fails, runs again after
// the new rows of those keys are deleted.
func mirrorKeyChange(ctx context.Context, c Conn, t *rewrite.Table, oldKeys, newKeys [][]driver.Value) (Step, error) {
	if err := forKeys(ctx, c, t, oldKeys, t.DeleteSQL); err != nil {
		return StepDelete, err
	}
	moved := overlap(oldKeys, newKeys)
	if len(moved) == 0 {
		if err := upsert(ctx, c, t, newKeys); err != nil {
			return StepUpsert, err
		}
		return "", nil
	}
	u := rewrite.MirrorRetry
	if _, err := c.Exec(ctx, u.Begin, nil); err != nil {
		return StepUpsert, err
	}
	if err := upsert(ctx, c, t, newKeys); err != nil {
		if err := execAll(ctx, c, u.Undo); err != nil {
			return StepUpsert, err
		}
		if err := forKeys(ctx, c, t, moved, t.DeleteKeysSQL); err != nil {
			return StepDelete, err
		}
		if err := upsert(ctx, c, t, newKeys); err != nil {
			return StepUpsert, err
		}
	}
	if _, err := c.Exec(ctx, u.End, nil); err != nil {
		return StepUpsert, err
	}
	return "", nil
}

// overlap returns the keys of b that are also in a.
func overlap(a, b [][]driver.Value) [][]driver.Value {
	in := make(map[string]bool, len(a))
	for _, k := range a {
		in[fmt.Sprintf("%#v", k)] = true
	}
	var out [][]driver.Value
	for _, k := range b {
		if in[fmt.Sprintf("%#v", k)] {
			out = append(out, k)
		}
	}
	return out
}

func result(ctx context.Context, c Conn, d *rewrite.Dialect, res *Result) error {
	rows, err := c.Query(ctx, d.ResultQuery(), nil)
	if err != nil {
		return err
	}
	_, _, data, err := readAll(rows, false)
	if err != nil {
		return err
	}
	if len(data) != 1 || len(data[0]) != 2 {
		return fmt.Errorf("%s returned %d rows", d.ResultQuery(), len(data))
	}
	var ok1, ok2 bool
	res.LastInsertID, ok1 = data[0][0].(int64)
	res.RowsAffected, ok2 = data[0][1].(int64)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s returned %T, %T", d.ResultQuery(), data[0][0], data[0][1])
	}
	return nil
}

// upsert sets the new rows of the keys to up(old), in batches. Where
// MySQL would take a key of 0 for the AUTO_INCREMENT key of the new
// table as a request for a generated one ([rewrite.Table.ZeroGenerates]),
// it fails instead of writing the row under another key.
func upsert(ctx context.Context, c Conn, t *rewrite.Table, keys [][]driver.Value) error {
	return upsertBy(ctx, c, t, keys, t.UpsertSQL)
}

// upsertBy is upsert by the statements gen builds.
func upsertBy(ctx context.Context, c Conn, t *rewrite.Table, keys [][]driver.Value, gen func(int) string) error {
	if t.ZeroGenerates() {
		for _, k := range keys {
			if zero(k[0]) {
				return fmt.Errorf("the mirror would write key 0 into the AUTO_INCREMENT column %s.%s, where the server generates another key for 0: add NO_AUTO_VALUE_ON_ZERO to sql_mode, or keep key 0 out of %s",
					t.Map.New, t.Map.NewKey[0], t.Map.Old)
			}
		}
	}
	return forKeysIn(ctx, c, t, keys, gen, t.UpsertBatch())
}

// forKeys runs the statement gen builds for the keys, in batches.
func forKeys(ctx context.Context, c Conn, t *rewrite.Table, keys [][]driver.Value, gen func(int) string) error {
	return forKeysIn(ctx, c, t, keys, gen, t.KeyBatch())
}

// forKeysIn runs the statement gen builds for the keys, batch keys at a
// time.
func forKeysIn(ctx context.Context, c Conn, t *rewrite.Table, keys [][]driver.Value, gen func(int) string, batch int) error {
	var args []driver.NamedValue // one buffer for every batch: Exec keeps none
	for len(keys) > 0 {
		n := min(len(keys), batch)
		if args == nil {
			args = make([]driver.NamedValue, 0, n*len(keys[0]))
		}
		args = args[:0]
		for _, k := range keys[:n] {
			for j, v := range k {
				if v == nil {
					return fmt.Errorf("key column %s of %s is NULL in a written row; a NULL key cannot be mirrored: make the key NOT NULL", t.Map.Key[j], t.Map.Old)
				}
				args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
			}
		}
		if _, err := c.Exec(ctx, gen(n), args); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

func execAll(ctx context.Context, c Conn, stmts []string) error {
	for _, q := range stmts {
		if _, err := c.Exec(ctx, q, nil); err != nil {
			return err
		}
	}
	return nil
}

// readAll reads and closes rows, and what the driver says of their column
// types when withTypes is set.
func readAll(rows driver.Rows, withTypes bool) (cols []string, types []ColumnType, data [][]driver.Value, err error) {
	defer func() {
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	cols = rows.Columns()
	if withTypes {
		types = columnTypes(rows, len(cols))
	}
	// Rows are cut from blocks that double up to maxRowBlock rows, and
	// data doubles when full: the keys of a million rows cost a few
	// allocations per thousand rows rather than one or two per row, and
	// one row costs what it did.
	var block []driver.Value
	for {
		if block == nil || len(block) < len(cols) {
			block = make([]driver.Value, min(max(len(data), 1), maxRowBlock)*len(cols))
		}
		row := block[:len(cols):len(cols)]
		if err := rows.Next(row); err != nil {
			if errors.Is(err, io.EOF) {
				return cols, types, data, nil
			}
			return nil, nil, nil, err
		}
		for i, v := range row {
			if b, ok := v.([]byte); ok {
				row[i] = append([]byte(nil), b...) // the driver may reuse its buffer
			}
		}
		block = block[len(cols):]
		if len(data) == cap(data) {
			data = slices.Grow(data, max(len(data), 1))
		}
		data = append(data, row)
	}
}

// maxRowBlock is the most rows readAll allocates at once.
const maxRowBlock = 256

func columnTypes(rows driver.Rows, n int) []ColumnType {
	types := make([]ColumnType, n)
	for i := range types {
		if r, ok := rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
			types[i].DatabaseTypeName = r.ColumnTypeDatabaseTypeName(i)
		}
		if r, ok := rows.(driver.RowsColumnTypeScanType); ok {
			types[i].ScanType = r.ColumnTypeScanType(i)
		}
		if r, ok := rows.(driver.RowsColumnTypeNullable); ok {
			types[i].Nullable, types[i].HasNullable = r.ColumnTypeNullable(i)
		}
	}
	return types
}

// safe keeps database/sql from retrying a write that may have reached the database.
func safe(err error) error {
	if errors.Is(err, driver.ErrBadConn) {
		return errConnLost
	}
	return err
}
