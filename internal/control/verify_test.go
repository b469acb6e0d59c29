package control_test

import (
	"context"
	"database/sql"

	"github.com/dualwrite/dualwrite/internal/control"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

// Package verify records its results with this package, so the tests
// inside it reach verify through this external test file.
func init() {
	control.RunVerify = func(ctx context.Context, db *sql.DB, d *rewrite.Dialect, m *mapping.Mapping) ([]control.VerifyRecord, error) {
		rep, err := verify.Run(ctx, db, d, m, verify.Options{})
		if err != nil {
			return nil, err
		}
		var out []control.VerifyRecord
		for _, tr := range rep.Tables {
			out = append(out, control.VerifyRecord{Table: tr.Table, Compared: tr.RowsProcessed,
				Differences: tr.Mismatched + tr.MissingInNew + tr.ExtraInNew})
		}
		return out, nil
	}
}
