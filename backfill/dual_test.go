package backfill_test

import (
	"database/sql"
	"database/sql/driver"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/mapping"
)

// The driver imports this package (its operator endpoint reads the
// checkpoints), so the tests inside it reach the driver through this
// external test file.
func init() {
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
