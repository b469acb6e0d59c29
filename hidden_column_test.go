package dualwrite_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/mapping"
)

// TestHiddenColumnReadRefused: the derived table a read from the new
// table substitutes has no rowid (SQLite) or ctid (PostgreSQL), so a query
// that names one would bind it to another table of the query: in the
// compare and new read phases it is refused; in old it runs as written.
func TestHiddenColumnReadRefused(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		e := b.open(t)
		mustExec(t, e.db, `INSERT INTO users (id, full_name) VALUES (5, 'Ada Lovelace')`)
		mustExec(t, e.db, `INSERT INTO audit (id, msg) VALUES (7, 'x')`)
		hidden := []string{"rowid", "_rowid_", "oid"}
		switch {
		case b.name == "postgres":
			hidden = []string{"ctid", "xmin", "tableoid"}
		case b.runs("mysql"):
			// _rowid names a one-column integer primary key, which
			// audit has too.
			hidden = []string{"_rowid", "_rowid", "_rowid"}
		}
		q := `SELECT (SELECT ` + hidden[0] + ` FROM users WHERE id = 5) FROM audit a`
		var want, got sql.NullString
		if err := e.db.QueryRow(q).Scan(&want); err != nil || !want.Valid {
			t.Fatalf("old: %v, %v", want, err)
		}
		for _, phase := range []mapping.ReadPhase{mapping.ReadCompare, mapping.ReadNew} {
			if err := e.sw.SetRead(phase, mapping.WriteDual); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{q, `SELECT ` + hidden[1] + `, full_name FROM users`, `SELECT u.` + hidden[2] + ` FROM users u`} {
				err := e.db.QueryRow(q).Scan(&got)
				if !errors.Is(err, dualwrite.ErrUnsupported) || !strings.Contains(err.Error(), "stand-in") {
					t.Fatalf("%s in %s: %v (%v); want a refusal naming the hidden column", q, phase, err, got)
				}
			}
		}
	})
}
