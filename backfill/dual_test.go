package backfill_test

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

// The driver and package verify import this package (to check and record
// a backfill's state), so the tests inside it reach them through this
// external test file.
func init() {
	backfill.RunVerify = func(ctx context.Context, db *sql.DB, d *rewrite.Dialect, m *mapping.Mapping, batch int) (*backfill.VerifyReport, error) {
		rep, err := verify.Run(ctx, db, d, m, verify.Options{BatchSize: batch})
		if err != nil {
			return nil, err
		}
		out := &backfill.VerifyReport{OK: rep.OK}
		for _, tr := range rep.Tables {
			out.Tables = append(out.Tables, backfill.VerifyTable{Table: tr.Table, RowsProcessed: tr.RowsProcessed,
				Mismatched: tr.Mismatched, MissingInNew: tr.MissingInNew, ExtraInNew: tr.ExtraInNew})
		}
		return out, nil
	}
	backfill.OpenDual = func(base driver.Connector, m *mapping.Mapping) (*sql.DB, error) {
		sw := dualwrite.NewSwitch()
		if err := sw.SetWrite(mapping.WriteDual); err != nil {
			return nil, err
		}
		c, err := dualwrite.NewConnector(base, m, dualwrite.WithSwitch(sw))
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(c), nil
	}
}
