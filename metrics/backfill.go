package metrics

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Backfill is the set of collectors of package backfill:
//
//   - dualwrite_backfill_rows_total{table}: old rows copied into the new
//     table, counted when their batch commits.
//   - dualwrite_backfill_deleted_rows_total{table}: new rows deleted because
//     their key had no old row.
//   - dualwrite_backfill_batch_duration_seconds{table}: duration of committed
//     batches, pauses excluded.
//   - dualwrite_backfill_rows_remaining{table}: the estimate of old rows left
//     to copy; 0 once the table is done.
//   - dualwrite_backfill_retries_total{table, reason}: batches rolled back
//     and tried again, by reason: RetryLockTimeout, RetryDeadlock,
//     RetrySerialization, RetryUniqueViolation.
//
// table is the mapping's old table. Its methods are safe for concurrent use
// and do nothing on a nil *Backfill.
type Backfill struct {
	rows, deleted *prometheus.CounterVec
	batchTime     *prometheus.HistogramVec
	remaining     *prometheus.GaugeVec
	retries       *prometheus.CounterVec
}

// The reasons of dualwrite_backfill_retries_total.
const (
	// RetryLockTimeout: a batch waited longer than its lock timeout for an
	// old row that an application transaction holds.
	RetryLockTimeout = "lock_timeout"
	// RetryDeadlock: the database ended a deadlock by aborting the batch.
	RetryDeadlock = "deadlock"
	// RetrySerialization: the database aborted the batch for a
	// serialization conflict.
	RetrySerialization = "serialization_failure"
	// RetryUniqueViolation: a batch's plain INSERT met a new row that a
	// dual write had just inserted; the batch is tried again with an
	// upsert.
	RetryUniqueViolation = "unique_violation"
)

// NewBackfill creates the backfill collectors and registers them on reg. A
// collector that is already registered (a second caller on the same
// registry) is reused.
func NewBackfill(reg prometheus.Registerer) (*Backfill, error) {
	if reg == nil {
		return nil, errors.New("metrics: NewBackfill: nil Registerer")
	}
	b := &Backfill{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_backfill_rows_total",
			Help: "Old rows the backfill copied into the new table.",
		}, []string{"table"}),
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_backfill_deleted_rows_total",
			Help: "New rows the backfill deleted because their key had no old row.",
		}, []string{"table"}),
		batchTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dualwrite_backfill_batch_duration_seconds",
			Help:    "Duration of committed backfill batches, pauses excluded.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"table"}),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dualwrite_backfill_rows_remaining",
			Help: "Estimate of the old rows the backfill has left to copy.",
		}, []string{"table"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualwrite_backfill_retries_total",
			Help: "Backfill batches rolled back and tried again, by reason.",
		}, []string{"table", "reason"}),
	}
	if err := reuseRegistered(reg, &b.rows); err != nil {
		return nil, err
	}
	if err := reuseRegistered(reg, &b.deleted); err != nil {
		return nil, err
	}
	if err := reuseRegistered(reg, &b.batchTime); err != nil {
		return nil, err
	}
	if err := reuseRegistered(reg, &b.remaining); err != nil {
		return nil, err
	}
	if err := reuseRegistered(reg, &b.retries); err != nil {
		return nil, err
	}
	return b, nil
}

// reuseRegistered registers *c on reg or, when a collector of the same type
// is registered already, replaces *c with it.
func reuseRegistered[C prometheus.Collector](reg prometheus.Registerer, c *C) error {
	err := reg.Register(*c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			*c = existing
			return nil
		}
	}
	return err
}

// Batch records one committed batch of table: the old rows it copied, the
// new rows it deleted, and how long it took.
func (b *Backfill) Batch(table string, copied, deleted int64, d time.Duration) {
	if b == nil {
		return
	}
	b.rows.WithLabelValues(table).Add(float64(copied))
	b.deleted.WithLabelValues(table).Add(float64(deleted))
	b.batchTime.WithLabelValues(table).Observe(d.Seconds())
}

// Remaining records the estimate of old rows of table left to copy.
func (b *Backfill) Remaining(table string, rows int64) {
	if b != nil {
		b.remaining.WithLabelValues(table).Set(float64(rows))
	}
}

// Retry records a batch of table rolled back to be tried again, for one of
// the reasons above.
func (b *Backfill) Retry(table, reason string) {
	if b != nil {
		b.retries.WithLabelValues(table, reason).Inc()
	}
}
