package backfill

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dualwrite/dualwrite/rewrite"
)

// Checkpoint is the state of one old table's backfill as its last committed
// batch left it.
type Checkpoint struct {
	// Table is the mapping's old table.
	Table string
	// LastKey is the key at which the last batch's key range ended, one
	// value per key column, as the driver returned it; nil before the first
	// batch. Run resumes after it.
	LastKey []any
	// Rows is the number of old rows copied since the checkpoint was
	// created or reset.
	Rows int64
	// Deleted is the number of new rows deleted because their key had no
	// old row, likewise.
	Deleted int64
	// Done reports that a run went through the whole table.
	Done bool
	// MappingChanged reports that the checkpoint was made with another
	// mapping of the table; Run refuses to resume it until it is reset.
	MappingChanged bool
	// Updated is when the checkpoint was last written, in UTC: when it was
	// created or a batch committed. It is the zero time when the table has
	// no checkpoint.
	Updated time.Time
}

// ReadCheckpoint returns the checkpoint of t's old table in the table named
// checkpointTable ("" for DefaultCheckpointTable). A table with no
// checkpoint, also when the checkpoint table does not exist, has the zero
// Checkpoint but for Table. It only reads.
func ReadCheckpoint(ctx context.Context, db *sql.DB, d *rewrite.Dialect, t *rewrite.Table, checkpointTable string) (Checkpoint, error) {
	if err := checkArgs(db, d, t); err != nil {
		return Checkpoint{}, err
	}
	c := newCheckpoints(d, t, checkpointTable)
	ok, err := c.exists(ctx, db)
	if err != nil || !ok {
		return Checkpoint{Table: t.Map.Old}, c.wrap(err)
	}
	cp, err := c.read(ctx, db)
	return cp, c.wrap(err)
}

// Reset deletes the checkpoint of t's old table, so that the next [Run]
// copies every row again. The rows already copied stay; copying them again
// rewrites them with the same values.
func Reset(ctx context.Context, db *sql.DB, d *rewrite.Dialect, t *rewrite.Table, checkpointTable string) error {
	if err := checkArgs(db, d, t); err != nil {
		return err
	}
	c := newCheckpoints(d, t, checkpointTable)
	ok, err := c.exists(ctx, db)
	if err == nil && ok {
		_, err = db.ExecContext(ctx, "DELETE FROM "+c.quoted+" WHERE "+d.Quote("old_table")+" = "+d.Placeholder(1), c.table)
	}
	return c.wrap(err)
}

// querier is what a run's statements go through: its *sql.DB, or a
// batch's transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkpoints is the checkpoint of one mapped pair in a checkpoint table:
// one row per old table, keyed by its name as the mapping spells it.
type checkpoints struct {
	d       *rewrite.Dialect
	name    string // the checkpoint table
	quoted  string // its quoted name
	table   string // the old table
	mapping string // a digest of the pair's generated upsert
	columns string // the quoted columns of a checkpoint, in the order scan reads them
}

func newCheckpoints(d *rewrite.Dialect, t *rewrite.Table, name string) *checkpoints {
	if name == "" {
		name = DefaultCheckpointTable
	}
	sum := sha256.Sum256([]byte(t.UpsertSQL(1)))
	var cols []string
	for _, col := range []string{"mapping", "last_key", "rows_copied", "rows_deleted", "done", "updated_at"} {
		cols = append(cols, d.Quote(col))
	}
	if d.Name == rewrite.MySQL.Name {
		// As text, whatever the DSN's parseTime and loc.
		cols[len(cols)-1] = "DATE_FORMAT(" + cols[len(cols)-1] + ", '" + mysqlTimeFormat + "')"
	}
	return &checkpoints{d: d, name: name, quoted: d.Quote(name), table: t.Map.Old,
		mapping: hex.EncodeToString(sum[:8]), columns: strings.Join(cols, ", ")}
}

// wrap returns err, if any, prefixed with the table and the checkpoint
// table.
func (c *checkpoints) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("backfill %s: checkpoint table %s: %w", c.table, c.name, err)
}

// create creates the checkpoint table if it is missing, and the table's
// checkpoint if it has none. Two runs may race to create the table on
// PostgreSQL, where one of them then fails: that one finds it created.
func (c *checkpoints) create(ctx context.Context, db querier, now time.Time) error {
	q := c.d.Quote
	// MySQL: a TEXT column cannot be a key, and a TIMESTAMP column is
	// converted by the session's time zone (and ends in 2038).
	keyType, timeType := "TEXT", "TIMESTAMP"
	if c.mysql() {
		keyType, timeType = "VARCHAR(255)", "DATETIME(6)"
	}
	ddl := "CREATE TABLE IF NOT EXISTS " + c.quoted + " (" + q("old_table") + " " + keyType + " PRIMARY KEY, " +
		q("mapping") + " TEXT NOT NULL, " + q("last_key") + " TEXT, " +
		q("rows_copied") + " BIGINT NOT NULL DEFAULT 0, " + q("rows_deleted") + " BIGINT NOT NULL DEFAULT 0, " +
		q("done") + " BOOLEAN NOT NULL DEFAULT FALSE, " + q("updated_at") + " " + timeType + " NOT NULL)"
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		if ok, _ := c.exists(ctx, db); !ok {
			return err
		}
	}
	p := c.d.Placeholder
	ignore := " ON CONFLICT (" + q("old_table") + ") DO NOTHING"
	if c.mysql() {
		ignore = " ON DUPLICATE KEY UPDATE " + q("old_table") + " = " + q("old_table")
	}
	_, err := db.ExecContext(ctx, "INSERT INTO "+c.quoted+" ("+q("old_table")+", "+q("mapping")+", "+q("updated_at")+
		") VALUES ("+p(1)+", "+p(2)+", "+p(3)+")"+ignore, c.table, c.mapping, c.timeArg(now))
	return err
}

// mysql reports whether the checkpoint table is in MySQL or MariaDB.
func (c *checkpoints) mysql() bool { return c.d.Name == rewrite.MySQL.Name }

// mysqlTimeFormat is how updated_at is read in MySQL (DATE_FORMAT), and
// mysqlTimeLayout how it is written and parsed: in UTC, to the
// microsecond.
const (
	mysqlTimeFormat = "%Y-%m-%d %H:%i:%s.%f"
	mysqlTimeLayout = "2006-01-02 15:04:05.000000"
)

// timeArg returns the parameter that writes t into updated_at: in MySQL
// its text in UTC, which the server stores as it is, whatever the DSN's
// loc; elsewhere t.
func (c *checkpoints) timeArg(t time.Time) any {
	if c.mysql() {
		return t.UTC().Format(mysqlTimeLayout)
	}
	return t
}

// exists reports whether the checkpoint table exists.
func (c *checkpoints) exists(ctx context.Context, db querier) (bool, error) {
	query, arg := "SELECT to_regclass($1) IS NOT NULL", c.quoted
	switch c.d.Name {
	case rewrite.SQLite.Name:
		query, arg = "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE", c.name
	case rewrite.MySQL.Name:
		query, arg = "SELECT count(*) > 0 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", c.name
	}
	var ok bool
	err := db.QueryRowContext(ctx, query, arg).Scan(&ok)
	return ok, err
}

// read returns the table's checkpoint, or the zero Checkpoint but for Table
// when it has none.
func (c *checkpoints) read(ctx context.Context, db querier) (Checkpoint, error) {
	cp, _, err := c.readStored(ctx, db)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{Table: c.table}, nil
	}
	return cp, err
}

// readStored returns the table's checkpoint and its last_key as stored, or
// sql.ErrNoRows when it has none.
func (c *checkpoints) readStored(ctx context.Context, db querier) (Checkpoint, sql.NullString, error) {
	return c.scan(db.QueryRowContext(ctx, "SELECT "+c.columns+" FROM "+c.quoted+" WHERE "+c.d.Quote("old_table")+" = "+c.d.Placeholder(1), c.table))
}

// claim reads the table's checkpoint in tx with a write that changes
// nothing, so that tx holds the database's write lock (SQLite) until it
// ends, or with a lock on its row (MySQL, SELECT ... FOR UPDATE): batches
// take turns. A PostgreSQL batch claims the checkpoint in its one
// statement instead (claimIf).
func (c *checkpoints) claim(ctx context.Context, tx querier) (Checkpoint, error) {
	q := c.d.Quote
	query := "UPDATE " + c.quoted + " SET " + q("updated_at") + " = " + q("updated_at") +
		" WHERE " + q("old_table") + " = " + c.d.Placeholder(1) + " RETURNING " + c.columns
	if c.mysql() {
		query = "SELECT " + c.columns + " FROM " + c.quoted + " WHERE " + q("old_table") + " = " + c.d.Placeholder(1) + " FOR UPDATE"
	}
	cp, _, err := c.scan(tx.QueryRowContext(ctx, query, c.table))
	return cp, resetMeanwhile(err)
}

// resetMeanwhile names the checkpoint's deletion in an sql.ErrNoRows from
// reading it during a run.
func resetMeanwhile(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("the checkpoint was deleted (Reset) while the backfill ran: %w", err)
	}
	return err
}

// claimIf returns, for the one statement of a PostgreSQL batch, the query
// that locks the table's checkpoint if it is still as the run last saw it:
// its mapping, not done, and last_key as stored (NULL before the first
// batch), and the condition first, which is evaluated before the row is
// read. Its parameters, from p on: the old table, the mapping digest and
// the stored last_key. It returns no row when another run changed the
// checkpoint meanwhile, or Reset deleted it.
func (c *checkpoints) claimIf(p int, first string) string {
	q, ph := c.d.Quote, c.d.Placeholder
	return "SELECT 1 FROM " + c.quoted + " WHERE " + first + " AND " + q("old_table") + " = " + ph(p) + " AND " + q("mapping") + " = " + ph(p+1) +
		" AND NOT " + q("done") + " AND " + q("last_key") + " IS NOT DISTINCT FROM " + ph(p+2) + " FOR UPDATE"
}

// saveIf returns, for the one statement of a PostgreSQL batch, the UPDATE
// that writes the checkpoint when the CTE claim returned a row: last_key,
// done and updated_at from parameters p to p+2, the counts increased by
// the expressions copied and deleted; the old table is parameter table. It
// returns the new counts.
func (c *checkpoints) saveIf(p, table int, claim, copied, deleted string) string {
	q, ph := c.d.Quote, c.d.Placeholder
	return "UPDATE " + c.quoted + " SET " + q("last_key") + " = " + ph(p) + ", " + q("done") + " = " + ph(p+1) + ", " +
		q("updated_at") + " = " + ph(p+2) + ", " + q("rows_copied") + " = " + q("rows_copied") + " + " + copied + ", " +
		q("rows_deleted") + " = " + q("rows_deleted") + " + " + deleted + " WHERE " + q("old_table") + " = " + ph(table) +
		" AND EXISTS (SELECT 1 FROM " + claim + ") RETURNING " + q("rows_copied") + ", " + q("rows_deleted")
}

// save writes cp in tx.
func (c *checkpoints) save(ctx context.Context, tx querier, cp Checkpoint) error {
	key, err := encodeKey(cp.LastKey)
	if err != nil {
		return err
	}
	q, p := c.d.Quote, c.d.Placeholder
	_, err = tx.ExecContext(ctx, "UPDATE "+c.quoted+" SET "+q("last_key")+" = "+p(1)+", "+q("rows_copied")+" = "+p(2)+", "+
		q("rows_deleted")+" = "+p(3)+", "+q("done")+" = "+p(4)+", "+q("updated_at")+" = "+p(5)+" WHERE "+q("old_table")+" = "+p(6),
		key, cp.Rows, cp.Deleted, cp.Done, c.timeArg(cp.Updated), c.table)
	return err
}

// scan reads a checkpoint from the columns of a checkpoint row; it also
// returns last_key as stored.
func (c *checkpoints) scan(row *sql.Row) (Checkpoint, sql.NullString, error) {
	cp := Checkpoint{Table: c.table}
	var mapping string
	var key sql.NullString
	var updated stamp
	if err := row.Scan(&mapping, &key, &cp.Rows, &cp.Deleted, &cp.Done, &updated); err != nil {
		return cp, key, err
	}
	cp.MappingChanged = mapping != c.mapping
	cp.Updated = time.Time(updated).UTC()
	if key.Valid {
		var err error
		if cp.LastKey, err = decodeKey(key.String); err != nil {
			return cp, key, fmt.Errorf("the last key %s cannot be read (%w): reset the checkpoint", key.String, err)
		}
	}
	return cp, key, nil
}

// stamp scans updated_at: a time.Time, or MySQL's text of it in UTC
// (mysqlTimeLayout).
type stamp time.Time

// Scan implements sql.Scanner.
func (s *stamp) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*s = stamp(v)
		return nil
	case []byte:
		return s.Scan(string(v))
	case string:
		t, err := time.ParseInLocation(mysqlTimeLayout, v, time.UTC)
		*s = stamp(t)
		return err
	}
	return fmt.Errorf("updated_at: unexpected %T", v)
}

// keyValue is one value of a key in a checkpoint, as JSON that keeps its
// driver value type: {"int":42}, {"text":"a"}, and so on.
type keyValue struct {
	Int   *int64     `json:"int,omitempty"`
	Uint  *uint64    `json:"uint,omitempty"`
	Float *float64   `json:"float,omitempty"`
	Text  *string    `json:"text,omitempty"`
	Bytes *[]byte    `json:"bytes,omitempty"`
	Bool  *bool      `json:"bool,omitempty"`
	Time  *time.Time `json:"time,omitempty"`
}

// encodeKey returns the JSON array of a key's values, or nil for no key.
func encodeKey(key []any) (any, error) {
	if key == nil {
		return nil, nil
	}
	vals := make([]keyValue, len(key))
	for i, v := range key {
		switch v := v.(type) {
		case int64:
			vals[i].Int = &v
		case uint64:
			vals[i].Uint = &v
		case float64:
			vals[i].Float = &v
		case string:
			vals[i].Text = &v
		case []byte:
			vals[i].Bytes = &v
		case bool:
			vals[i].Bool = &v
		case time.Time:
			vals[i].Time = &v
		default:
			return nil, fmt.Errorf("key value %v of type %T cannot be kept in a checkpoint", v, v)
		}
	}
	b, err := json.Marshal(vals)
	if err != nil {
		return nil, fmt.Errorf("key %v cannot be kept in a checkpoint: %w", key, err)
	}
	return string(b), nil
}

// decodeKey returns the values of a key that encodeKey encoded.
func decodeKey(s string) ([]any, error) {
	var vals []keyValue
	if err := json.Unmarshal([]byte(s), &vals); err != nil {
		return nil, err
	}
	key := make([]any, len(vals))
	for i, v := range vals {
		switch {
		case v.Int != nil:
			key[i] = *v.Int
		case v.Uint != nil:
			key[i] = *v.Uint
		case v.Float != nil:
			key[i] = *v.Float
		case v.Text != nil:
			key[i] = *v.Text
		case v.Bytes != nil:
			key[i] = *v.Bytes
		case v.Bool != nil:
			key[i] = *v.Bool
		case v.Time != nil:
			key[i] = *v.Time
		default:
			return nil, fmt.Errorf("value %d has no known type", i+1)
		}
	}
	return key, nil
}
