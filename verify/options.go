package verify

import (
	"fmt"
	"time"
)

// Defaults of [Options].
const (
	// DefaultBatchSize is the most keys of each table one range holds
	// when Options.BatchSize is 0.
	DefaultBatchSize = 5000
	// DefaultSampleSize is the most samples kept per kind of difference and
	// table when Options.SampleSize is 0.
	DefaultSampleSize = 10
)

// Options tune a verification. The zero value is ready to use.
type Options struct {
	// BatchSize is the most keys of each table compared in one range,
	// under one snapshot; 0 means [DefaultBatchSize]. Larger ranges make
	// fewer round trips and hold each snapshot longer.
	BatchSize int
	// SampleSize is the most samples a [TableReport] keeps of each kind of
	// difference (the first ones in key order); 0 means
	// [DefaultSampleSize]. The counts are always exact.
	SampleSize int
	// Limit, when positive, ends each table's verification with the range
	// that brings its keys processed to Limit or more: the first keys in
	// key order, for a quick look, rather than the whole table (a range
	// holds up to BatchSize keys of each table, so set BatchSize to Limit
	// for exactly Limit keys of the old table). 0 means every key.
	Limit int64
	// Progress, when not nil, is called after each range with the table's
	// progress so far, on the goroutine running the verification: a slow
	// callback slows the verification. Setting it costs one count(*) of
	// each old table before its first range, for the estimate of rows left.
	Progress func(Progress)
	// Record makes [Run] record each table's result in the control table
	// dualwrite_verify (created if missing), with the state its backfill's
	// checkpoint had when the verification began: `dualwrite phase set`
	// and the operator endpoint move reads off the old tables only after
	// a recorded verification with no difference, made with the same
	// mapping after the backfill's last batch. Not with Limit, nor with a
	// flipped mapping.
	Record bool
}

// Progress is a table's verification so far, given to Options.Progress
// after each range.
type Progress struct {
	// Table and NewTable name the mapped pair.
	Table, NewTable string
	// RowsProcessed counts the keys compared so far: keys of the old table,
	// the new table or both.
	RowsProcessed int64
	// RowsPerSecond is RowsProcessed divided by Elapsed.
	RowsPerSecond float64
	// RowsLeft estimates the keys still to compare: the old table's row
	// count, taken before the first range, less RowsProcessed, and never
	// below 0. Rows written since the count and extra rows in the new table
	// make it an estimate; it is 0 after the last range.
	RowsLeft int64
	// Elapsed is the time since the table's verification began.
	Elapsed time.Duration
}

// withDefaults returns o with its zero fields set to their defaults, or an
// error wrapping [ErrInvalidArgument] for a negative field.
func (o Options) withDefaults() (Options, error) {
	if o.BatchSize < 0 {
		return o, fmt.Errorf("%w: Options.BatchSize is %d; give the number of keys per range, or 0 for %d", ErrInvalidArgument, o.BatchSize, DefaultBatchSize)
	}
	if o.SampleSize < 0 {
		return o, fmt.Errorf("%w: Options.SampleSize is %d; give the number of samples per kind of difference, or 0 for %d", ErrInvalidArgument, o.SampleSize, DefaultSampleSize)
	}
	if o.Limit < 0 {
		return o, fmt.Errorf("%w: Options.Limit is %d; give the number of keys to verify per table, or 0 for all", ErrInvalidArgument, o.Limit)
	}
	if o.Record && o.Limit > 0 {
		return o, fmt.Errorf("%w: Options.Record with Options.Limit: only a verification of every key is recorded", ErrInvalidArgument)
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.SampleSize == 0 {
		o.SampleSize = DefaultSampleSize
	}
	return o, nil
}
