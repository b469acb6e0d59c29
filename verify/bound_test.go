package verify

import (
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// TestBoundNotAmongKeys: a range whose upper bound is none of its keys, as
// happens when key values change between reading them and passing them back,
// is an error, not a range compared as if nothing were wrong.
func TestBoundNotAmongKeys(t *testing.T) {
	db, conn := memDB(t, append(corpus.Schema,
		"INSERT INTO users (id, full_name) VALUES (1, 'A B'), (2, 'C D'), (6, 'E F')",
		"INSERT INTO accounts (account_id, first_name, last_name) VALUES (1, 'A', 'B'), (2, 'C', 'D'), (6, 'E', 'F')")...)
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	v := &verifier{db: db, d: rewrite.SQLite, opts: Options{BatchSize: 2, SampleSize: 1}}
	s := tableSQL{d: rewrite.SQLite, t: m.Tables[0], batch: 2}
	rep := newTableReport(m.Tables[0])
	if err := v.compare(t.Context(), conn, s, rep, nil, []any{int64(2)}); err != nil {
		t.Fatalf("bound 2: %v", err)
	}
	err = v.compare(t.Context(), conn, s, rep, []any{int64(2)}, []any{int64(5)})
	if err == nil || !strings.Contains(err.Error(), "upper bound (id) = (5) is not among its keys") {
		t.Fatalf("bound 5, which no table holds: got %v", err)
	}
}
