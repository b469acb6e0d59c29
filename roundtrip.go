package dualwrite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dualwrite/dualwrite/verify"
)

// roundTripSample is how many rows of each old table the connector checks
// for their round trip when the write phase both first applies: one
// indexed range, quick on a table of any size.
const roundTripSample = 1000

// checkRoundTrip logs, once per connector, the rows among the first of each
// old table that do not survive a round trip (down(up(row)) != row): in
// the write phase both, a write of the new release mirrored back changes
// them. It runs on the first statement in that phase, on a connection of
// its own, and never fails the statement; dualwrite verify --round-trip
// checks every row.
func (c *Connector) checkRoundTrip() {
	c.roundTrip.Do(func() {
		if c.cfg.noCheck {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db := sql.OpenDB(c.base)
		defer func() { _ = db.Close() }()
		db.SetMaxOpenConns(1)
		rep, err := verify.RoundTrip(ctx, db, c.drv.dialect, c.drv.mapping,
			verify.Options{BatchSize: roundTripSample, Limit: roundTripSample})
		if err != nil {
			c.cfg.logger.Warn("dualwrite: the write phase is both, and the round trip of the mapping could not be checked",
				slog.String("error", err.Error()))
			return
		}
		for _, tr := range rep.Tables {
			if tr.OK {
				continue
			}
			var keys []string
			for _, s := range tr.Samples.Mismatched {
				keys = append(keys, fmt.Sprint(s.Key))
			}
			c.cfg.logger.Warn("dualwrite: the write phase is both, and rows of the table do not survive a round trip through the new table: a write of the new release mirrored back would change them (dualwrite verify --round-trip lists them all)",
				slog.String("table", tr.Table), slog.Int64("rows_checked", tr.RowsProcessed), slog.Int64("rows_changing", tr.Mismatched),
				slog.String("sample_keys", strings.Join(keys, " ")))
		}
	})
}
