package txn

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dualwrite/dualwrite/internal/mysqlrun"
	"github.com/dualwrite/dualwrite/rewrite"
)

// noTransaction asks the database, with query, whether no transaction is
// open on c.
func noTransaction(ctx context.Context, c Conn, query string) (bool, error) {
	rows, err := c.Query(ctx, query, nil)
	if err != nil {
		return false, err
	}
	_, _, data, err := readAll(rows, false)
	if err != nil {
		return false, err
	}
	if len(data) != 1 || len(data[0]) != 1 {
		return false, fmt.Errorf("%s returned %d rows", query, len(data))
	}
	return fmt.Sprint(text(data[0][0])) == "0", nil
}

// text returns a driver's []byte value as a string.
func text(v driver.Value) driver.Value {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// writeRestricted runs a MySQL UPDATE or DELETE as its plan's Restrict: the
// pre-select locks the rows and returns their keys, the statement runs
// restricted to them, and the mirror sets their new rows.
func writeRestricted(ctx context.Context, c Conn, plan *rewrite.Plan, args []driver.NamedValue) (*Result, Step, error) {
	rows, err := c.Query(ctx, plan.PreSelect, plan.Params.Subset(args, plan.PreSelectParams))
	if err != nil {
		return nil, StepPreSelect, err
	}
	_, _, keys, err := readAll(rows, false)
	if err != nil {
		return nil, StepPreSelect, err
	}
	t := plan.Table
	var newKeys [][]driver.Value
	if plan.NewKeyCols > 0 {
		newKeys = make([][]driver.Value, len(keys))
		for i, r := range keys {
			keys[i], newKeys[i] = r[:len(r)-plan.NewKeyCols], r[len(r)-plan.NewKeyCols:]
		}
	}
	if len(keys) > rewrite.MaxRestrictKeys {
		return nil, StepPreSelect, fmt.Errorf("the %s would change %d rows of %s, more than the %d one dual write can name; change them in smaller statements",
			plan.Kind, len(keys), t.Map.Old, rewrite.MaxRestrictKeys)
	}
	query, qargs := plan.Restrict.SQL(t, plan.Params.Bind(args), keys)
	res := &Result{}
	if plan.CallerReturning {
		rows, err := c.Query(ctx, query, qargs)
		if err != nil {
			return nil, StepStatement, err
		}
		cols, types, data, err := readAll(rows, true)
		if err != nil {
			return nil, StepStatement, err
		}
		res.callerRows(cols, types, data, 0)
		res.RowsAffected = int64(len(data))
	} else if res, err = execResult(ctx, c, query, qargs); err != nil {
		return nil, StepStatement, err
	}
	switch {
	case plan.Kind == rewrite.KindDelete:
		return res, StepDelete, forKeys(ctx, c, t, keys, t.DeleteSQL)
	case plan.NewKeyCols > 0:
		if err := checkNewKeys(ctx, c, plan, newKeys); err != nil {
			return nil, StepUpsert, err
		}
		step, err := mirrorKeyChange(ctx, c, t, keys, newKeys)
		return res, step, err
	}
	return res, StepUpsert, upsert(ctx, c, t, keys)
}

// checkNewKeys checks that the new keys a MySQL UPDATE's pre-select
// computed name as many old rows as there are keys: a key the column
// stores otherwise than the expression computed it (a rounded number, a
// truncated string) names none, and mirroring it would miss the row.
func checkNewKeys(ctx context.Context, c Conn, plan *rewrite.Plan, keys [][]driver.Value) error {
	got, n, err := countKeys(ctx, c, plan.Table, keys)
	if err == nil && got != n {
		err = fmt.Errorf("the new keys of %s computed from the UPDATE's SET name %d rows after it, not %d: a key column stores a value otherwise than its SET expression computes it (a rounded number, a padded or converted string); compute the new key in the column's type, or move the row with DELETE and INSERT",
			plan.Table.Map.Old, got, n)
	}
	return err
}

// countKeys counts, with a locking read, the rows of t's old table that
// the distinct keys of keys name, batch by batch; it returns the counts of
// the first batch that names fewer rows than keys, or of the last one.
func countKeys(ctx context.Context, c Conn, t *rewrite.Table, keys [][]driver.Value) (got, want int64, err error) {
	seen := map[string]bool{}
	var distinct [][]driver.Value
	for _, k := range keys {
		if id := fmt.Sprintf("%#v", k); !seen[id] {
			seen[id] = true
			distinct = append(distinct, k)
		}
	}
	batch := t.KeyBatch()
	for len(distinct) > 0 {
		n := min(len(distinct), batch)
		var args []driver.NamedValue
		for _, k := range distinct[:n] {
			for _, v := range k {
				args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
			}
		}
		if got, err = insertID(ctx, c, t.CountSQL(n), args); err != nil || got != int64(n) {
			return got, int64(n), err
		}
		distinct = distinct[n:]
	}
	return got, got, nil
}

// checkInsertKeys refuses, before anything runs, a MySQL INSERT that
// gives some rows their AUTO_INCREMENT key and leaves it to the server for
// others: the ids the server generates after an explicit one do not follow
// the insert id it reports.
func checkInsertKeys(plan *rewrite.Plan, args []driver.NamedValue) error {
	bound := plan.Params.Bind(args)
	for _, row := range plan.InsertKeys {
		for i, k := range row {
			if v := k.Value(bound); k.Integer && v != nil && !integer(v) {
				// The column would store it rounded or converted, a key
				// the mirror would not find.
				return &rewrite.UnsupportedError{Table: plan.Table.Map.Old,
					Construct: fmt.Sprintf("an INSERT that gives the integer key column %s the value %v (%T), which it stores as another number", plan.Table.Map.Key[i], text(v), v),
					Fix:       "pass the key as an integer"}
			}
		}
	}
	explicit, generated := insertKeys(plan, bound)
	for _, k := range explicit {
		if generated > 0 && !zero(k[0]) {
			return &rewrite.UnsupportedError{Table: plan.Table.Map.Old,
				Construct: "an INSERT that gives some rows their AUTO_INCREMENT key and leaves it to the server for others",
				Fix:       "insert the two kinds of rows in separate statements"}
		}
	}
	return nil
}

// insertKeys returns the keys an INSERT names, and how many of its rows
// leave their key to the server. An AUTO_INCREMENT key of NULL or 0 is
// generated (0 unless sql_mode has NO_AUTO_VALUE_ON_ZERO, so 0 is named
// too: a key mirrored needlessly costs nothing).
func insertKeys(plan *rewrite.Plan, args []driver.NamedValue) (keys [][]driver.Value, generated int) {
	for _, row := range plan.InsertKeys {
		key := make([]driver.Value, len(row))
		gen := false
		for i, k := range row {
			if k.Generated {
				gen = true
				continue
			}
			key[i] = k.Value(args)
			gen = gen || k.Auto && (key[i] == nil || zero(key[i]))
		}
		if gen {
			generated++
		}
		if !gen || key[0] != nil {
			keys = append(keys, key)
		}
	}
	return keys, generated
}

// integer reports whether v is an integer, or the text of one, as an
// integer column stores it.
func integer(v driver.Value) bool {
	switch v := v.(type) {
	case int64, uint64:
		return true
	case string, []byte:
		_, err := strconv.ParseInt(strings.TrimPrefix(fmt.Sprint(text(v)), "+"), 10, 64)
		return err == nil
	}
	return false
}

// zero reports whether v is zero as a key value.
func zero(v driver.Value) bool { return fmt.Sprint(text(v)) == "0" }

// writeInsert runs a MySQL INSERT ... VALUES or SET as written and mirrors
// the keys it names and those the server generated for it: as many as it
// left to the server, consecutive from the insert id.
func writeInsert(ctx context.Context, c Conn, plan *rewrite.Plan, args []driver.NamedValue) (*Result, Step, error) {
	keys, generated := insertKeys(plan, plan.Params.Bind(args))
	res, err := execResult(ctx, c, plan.Capture, args)
	if err != nil {
		return nil, StepStatement, err
	}
	if plan.CountInsertKeys {
		// A key column that may store a value otherwise than given (a
		// DECIMAL, a DATE): every key named must name a row now.
		if got, n, err := countKeys(ctx, c, plan.Table, keys); err != nil || got != n {
			if err == nil {
				err = &rewrite.UnsupportedError{Table: plan.Table.Map.Old,
					Construct: fmt.Sprintf("an INSERT whose keys, as given, name %d rows after it, not %d: a key column stored a value otherwise than given (a DECIMAL rounded, a DATE without its time)", got, n),
					Fix:       "give each key exactly as the column stores it"}
			}
			return nil, StepUpsert, err
		}
	}
	if first := res.LastInsertID; generated > 0 && first > 0 {
		for i := range int64(generated) {
			keys = append(keys, []driver.Value{first + i*plan.InsertStep})
		}
	}
	return res, StepUpsert, upsert(ctx, c, plan.Table, keys)
}

// writePoint runs a MySQL UPDATE whose WHERE fixes the key as written,
// and sets the new row of that key from the old row, locked: whether the
// UPDATE changed the row or not, the new row is then up(old). A NULL key
// names no row.
func writePoint(ctx context.Context, c Conn, plan *rewrite.Plan, args []driver.NamedValue) (*Result, Step, error) {
	res, err := execResult(ctx, c, plan.Capture, args)
	if err != nil {
		return nil, StepStatement, err
	}
	key, ok := pointKey(plan, args)
	if !ok {
		return res, StepUpsert, nil
	}
	if plan.Table.ZeroGenerates() && zero(key[0]) {
		// The mirror fails on a row of key 0 (upsert); the UPDATE of
		// none is no error.
		args := make([]driver.NamedValue, len(key))
		for i, v := range key {
			args[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
		}
		n, err := insertID(ctx, c, plan.Table.CountSQL(1), args)
		if err != nil || n == 0 {
			return res, StepUpsert, err
		}
	}
	return res, StepUpsert, upsertBy(ctx, c, plan.Table, [][]driver.Value{key}, plan.Table.UpsertLockedSQL)
}

// execResult runs query by Exec, and returns the insert id and row count
// the driver reports.
func execResult(ctx context.Context, c Conn, query string, args []driver.NamedValue) (*Result, error) {
	r, err := c.Exec(ctx, query, args)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	res.LastInsertID, _ = r.LastInsertId()
	res.RowsAffected, _ = r.RowsAffected()
	return res, nil
}

// pointKey returns the key a point UPDATE or DELETE names with args, and false when
// it is NULL in part, which names no row.
func pointKey(plan *rewrite.Plan, args []driver.NamedValue) ([]driver.Value, bool) {
	bound := plan.Params.Bind(args)
	key := make([]driver.Value, len(plan.PointKey))
	for i, k := range plan.PointKey {
		if key[i] = k.Value(bound); key[i] == nil {
			return nil, false
		}
	}
	return key, true
}

// writeBlock runs a point UPDATE's or DELETE's dual write outside a transaction as the
// plan's compound statement (MariaDB), one round trip: the statement's
// own error comes back unchanged, the mirror's as an *Error, and the row
// count the block returns is the statement's.
func writeBlock(ctx context.Context, c Conn, plan *rewrite.Plan, args []driver.NamedValue, key []driver.Value) (*Result, error) {
	t := plan.Table
	bargs := plan.Params.Bind(args)
	for _, v := range key {
		bargs = append(bargs, driver.NamedValue{Ordinal: len(bargs) + 1, Value: v})
	}
	n, err := insertID(ctx, c, plan.Block, bargs)
	switch {
	case err == nil:
		res := &Result{RowsAffected: n}
		if plan.BlockInsertID && n > 0 {
			// The server reports the key an INSERT stored in the
			// AUTO_INCREMENT column; a block's key is never 0 (generated).
			_, err = fmt.Sscan(fmt.Sprint(text(key[0])), &res.LastInsertID)
		}
		return res, err
	case errors.Is(err, driver.ErrBadConn):
		// The block may have committed: never let database/sql retry it.
		return nil, &Error{Table: t.Map.Old, Step: StepCommit, Err: errConnLost}
	case RolledBack(err):
		return nil, err // a deadlock, at any step, as without the block
	case strings.HasPrefix(mysqlrun.Message(err), rewrite.MySQLBlockPrefix):
		return nil, &Error{Table: t.Map.Old, Step: StepUpsert, Err: safe(mirrorConflict(t, err))}
	}
	return nil, err // the UPDATE's own: rolled back whole
}

// insertID reads the one integer query returns.
func insertID(ctx context.Context, c Conn, query string, args []driver.NamedValue) (int64, error) {
	rows, err := c.Query(ctx, query, args)
	if err != nil {
		return 0, err
	}
	_, _, data, err := readAll(rows, false)
	if err != nil {
		return 0, err
	}
	if len(data) != 1 || len(data[0]) != 1 {
		return 0, fmt.Errorf("%s returned %d rows", query, len(data))
	}
	var id int64
	if _, err := fmt.Sscan(fmt.Sprint(text(data[0][0])), &id); err != nil {
		return 0, fmt.Errorf("%s returned %v: %w", query, data[0][0], err)
	}
	return id, nil
}

// ErrMirrorConflict is wrapped by the error of a MySQL dual write whose
// mirror met, through a unique key of the new table besides its key, the
// new row of another key: the server's duplicate-key error, or the
// mirror's guard where ON DUPLICATE KEY UPDATE would have updated that row
// (rewrite.MySQLMirrorConflict). Nothing was written.
var ErrMirrorConflict = errors.New("the mirror met the new row of another key through a unique key of the new table")

// mirrorConflict wraps a MySQL mirror's error in ErrMirrorConflict when it
// is the guard's (rewrite.MySQLMirrorConflict), or a duplicate key.
func mirrorConflict(t *rewrite.Table, err error) error {
	switch mysqlError(err) {
	case mysqlDuplicate, mysqlrun.SubqueryRows:
		return fmt.Errorf("%w (%s): %w", ErrMirrorConflict, t.Map.New, err)
	}
	return err
}

// MySQL's error numbers the mirror handles.
const (
	mysqlDuplicate   = mysqlrun.Duplicate
	mysqlLockWait    = mysqlrun.LockWaitTimeout
	mysqlDeadlock    = mysqlrun.Deadlock    // the whole transaction was rolled back
	mysqlNoSavepoint = mysqlrun.NoSavepoint // the savepoint went with its transaction
)

// RolledBack reports whether err is a MySQL deadlock, after which the
// server has rolled back the whole transaction: nothing of a dual write is
// left to undo, and the connection no longer knows whether a transaction
// is open (the caller's is gone). A lock wait timeout may have rolled it
// back too: TxGone says so for both.
func RolledBack(err error) bool { return mysqlError(err) == mysqlDeadlock }

// TxGone reports whether, after err, the transaction a statement ran in
// may have ended without the caller's word.
func TxGone(err error) bool {
	switch mysqlError(err) {
	case mysqlDeadlock, mysqlLockWait, mysqlNoSavepoint, mysqlrun.AutoIncRead:
		return true
	}
	return false
}

// mysqlError returns the server's error number of a MySQL error in
// err's chain, or 0.
func mysqlError(err error) uint16 { return mysqlrun.ErrorNumber(err) }
