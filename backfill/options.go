package backfill

import (
	"fmt"
	"math"
	"time"

	"github.com/dualwrite/dualwrite/metrics"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Defaults of [Options].
const (
	DefaultBatchSize = 1000
	// DefaultMySQLBatchSize is DefaultBatchSize on MySQL and MariaDB,
	// where a batch is a transaction of several statements, a round trip
	// each, whose COMMIT waits for the flush of the redo log: about 2.5 ms
	// a batch besides its rows, where a PostgreSQL batch, one statement
	// that commits asynchronously, spends about 0.7 ms. Three times the
	// rows give each row about the share it has on PostgreSQL, for a batch
	// that holds its rows' locks longer (13-20 ms on the benchmark's
	// machine, a PostgreSQL batch of 1000 rows 3 ms).
	DefaultMySQLBatchSize  = 3000
	DefaultLockTimeout     = 2 * time.Second
	DefaultCheckpointTable = "dualwrite_backfill"
)

// Options configure [Run]. The zero value is valid: batches of
// DefaultBatchSize rows (DefaultMySQLBatchSize on MySQL and MariaDB), no
// throttling, a lock timeout of DefaultLockTimeout, checkpoints in
// DefaultCheckpointTable, no progress reports and no metrics.
type Options struct {
	// BatchSize is the number of old rows each batch copies, in one
	// transaction. 0 means DefaultBatchSize, and DefaultMySQLBatchSize on
	// MySQL and MariaDB.
	BatchSize int
	// RowsPerSecond, when positive, caps the copy rate: after a batch of n
	// rows that took d, Run waits n/RowsPerSecond - d before the next one.
	RowsPerSecond float64
	// Pause is the least time Run waits between two batches, which leaves
	// the database time for the application's work. With RowsPerSecond, Run
	// waits the longer of the two.
	Pause time.Duration
	// LockTimeout is, on PostgreSQL and MySQL, the longest a batch waits
	// for a lock on one of its old rows (held by an application
	// transaction) or on the checkpoint's row (held by another run's
	// batch); the batch then gives way and is tried again. Table locks are
	// taken as the batch's statement is parsed, before it sets its
	// timeout: a batch waits for DDL on its tables as any statement does.
	// MySQL counts it in whole seconds, rounded up. 0 means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// CheckpointTable names the table that holds the checkpoints, a plain
	// (unqualified) table name. "" means DefaultCheckpointTable.
	CheckpointTable string
	// Progress, when not nil, is called after each committed batch, on the
	// goroutine that called Run. It may cancel Run's context to stop the
	// backfill after that batch.
	Progress func(Progress)
	// Metrics, when not nil, records every committed batch.
	Metrics *metrics.Backfill
}

// withDefaults checks o and returns it with the defaults of dialect d
// filled in.
func (o Options) withDefaults(d *rewrite.Dialect) (Options, error) {
	switch {
	case o.BatchSize < 0:
		return o, fmt.Errorf("backfill: Options.BatchSize is %d: give a positive number of rows, or 0 for %d", o.BatchSize, defaultBatchSize(d))
	case o.RowsPerSecond < 0 || math.IsNaN(o.RowsPerSecond) || math.IsInf(o.RowsPerSecond, 0):
		return o, fmt.Errorf("backfill: Options.RowsPerSecond is %v: give a positive rate, or 0 for none", o.RowsPerSecond)
	case o.Pause < 0:
		return o, fmt.Errorf("backfill: Options.Pause is %v: give a positive duration, or 0 for none", o.Pause)
	case o.LockTimeout < 0:
		return o, fmt.Errorf("backfill: Options.LockTimeout is %v: give a positive duration, or 0 for %v", o.LockTimeout, DefaultLockTimeout)
	}
	if o.BatchSize == 0 {
		o.BatchSize = defaultBatchSize(d)
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.CheckpointTable == "" {
		o.CheckpointTable = DefaultCheckpointTable
	}
	return o, nil
}

// defaultBatchSize returns the batch size that Options.BatchSize 0 means
// in d.
func defaultBatchSize(d *rewrite.Dialect) int {
	if d.Name == rewrite.MySQL.Name {
		return DefaultMySQLBatchSize
	}
	return DefaultBatchSize
}

// wait returns how long to wait after a batch that copied rows in took.
func (o Options) wait(rows int64, took time.Duration) time.Duration {
	w := o.Pause
	if o.RowsPerSecond > 0 {
		if r := time.Duration(float64(rows)*float64(time.Second)/o.RowsPerSecond) - took; r > w {
			w = r
		}
	}
	return w
}
