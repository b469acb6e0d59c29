package verify

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/internal/control"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// start is what a recorded verification notes when it begins
// (Options.Record): the database's clock, and the state of each table's
// backfill checkpoint.
type start struct {
	at     time.Time
	stamps map[string]string
}

// begin reads the start of a recorded verification.
func begin(ctx context.Context, db *sql.DB, d *rewrite.Dialect, m *mapping.Mapping) (*start, error) {
	if db == nil || d == nil || m == nil {
		return nil, fmt.Errorf("%w: nil database, dialect or mapping", ErrInvalidArgument)
	}
	now, err := control.New(d).Now(ctx, db)
	if err != nil {
		return nil, err
	}
	st := &start{at: time.UnixMilli(now).UTC(), stamps: map[string]string{}}
	for _, mt := range m.Tables {
		cp, err := backfill.ReadCheckpoint(ctx, db, d, d.Compile(mt), "")
		if err != nil {
			return nil, err
		}
		st.stamps[mt.Old] = control.BackfillStamp(cp)
	}
	return st, nil
}

// record records each table's result in the control table.
func record(ctx context.Context, db *sql.DB, d *rewrite.Dialect, m *mapping.Mapping, rep *Report, st *start) error {
	s := control.New(d)
	if err := s.Ensure(ctx, db); err != nil {
		return fmt.Errorf("recording the result: %w", err)
	}
	by := control.Operator()
	for _, tr := range rep.Tables {
		mt := m.Table(tr.Table)
		err := s.RecordVerify(ctx, db, control.VerifyRecord{Table: mt.Old, Digest: mt.Digest(), Backfill: st.stamps[mt.Old],
			Compared: tr.RowsProcessed, Differences: tr.Mismatched + tr.MissingInNew + tr.ExtraInNew, Started: st.at, By: by})
		if err != nil {
			return fmt.Errorf("recording the result of %s: %w", mt.Old, err)
		}
	}
	return nil
}
