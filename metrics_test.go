package dualwrite_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
)

// counterValue returns the sum of the series of a counter or a gauge (or
// the sample counts of a histogram) whose labels include the given ones.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			if h := m.GetHistogram(); h != nil {
				sum += float64(h.GetSampleCount())
			} else if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			} else {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	fc := &faultyConnector{base: dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}}}
	e := newEnvWith(t, corpus.Schema, corpus.Mapping, fc, dualwrite.WithRegisterer(reg))
	mustExec(t, e.db, "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'a@x')")
	mustExec(t, e.db, "UPDATE users SET visits = 2 WHERE id = 1")
	if _, err := e.db.Exec("INSERT INTO users (id, full_name, email) VALUES (2, 'Dup Mail', 'a@x')"); err == nil {
		t.Fatal("duplicate email accepted")
	}
	fc.set(`INSERT INTO "accounts"`)
	if _, err := e.db.Exec("INSERT INTO users (id, full_name) VALUES (3, 'Mirror Fails')"); err == nil {
		t.Fatal("no error from a failing mirror")
	}
	if _, err := e.db.Exec("INSERT INTO accounts (account_id) VALUES (9)"); err == nil {
		t.Fatal("write to the new table accepted")
	}
	mustExec(t, e.db, "INSERT INTO audit (msg) VALUES ('x')")
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"dualwrite_writes_total", map[string]string{"table": "users", "direction": "forward", "operation": "insert", "outcome": "mirrored"}, 1},
		{"dualwrite_writes_total", map[string]string{"table": "users", "direction": "forward", "operation": "update", "outcome": "mirrored"}, 1},
		{"dualwrite_writes_total", map[string]string{"table": "users", "direction": "forward", "operation": "insert", "outcome": "statement_error"}, 1},
		{"dualwrite_writes_total", map[string]string{"table": "users", "direction": "forward", "operation": "insert", "outcome": "mirror_error"}, 1},
		{"dualwrite_mirror_duration_seconds", map[string]string{"table": "users", "direction": "forward", "operation": "insert"}, 1},
		{"dualwrite_refused_total", map[string]string{"table": "accounts"}, 1},
		{"dualwrite_plan_cache_total", map[string]string{"result": "miss"}, 5},
		{"dualwrite_plan_cache_total", map[string]string{"result": "prescan"}, 1}, // INSERT INTO audit
	} {
		if got := counterValue(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	e.checkInvariant()
}

// TestRefusedLabelsAreBounded: a refused statement whose target the mapping
// does not name, even one whose name is not valid UTF-8, is counted under
// table "other": it neither panics in the client library nor adds a series.
func TestRefusedLabelsAreBounded(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		reg := prometheus.NewRegistry()
		e := b.open(t, dualwrite.WithRegisterer(reg))
		const n = 200
		for i := range n {
			name := fmt.Sprintf("t%d", i)
			if i == 0 {
				name = "t\xff"
			}
			q := `UPDATE "` + name + `" SET x = (SELECT count(*) FROM users) WHERE CURRENT OF c`
			if b.runs("mysql") {
				// MySQL has no WHERE CURRENT OF; it refuses a multi-table
				// UPDATE that writes several tables, on the first table.
				q = "UPDATE `" + name + "`, users SET users.visits = 1, `" + name + "`.x = 2"
			}
			if _, err := e.db.Exec(q); !errors.Is(err, dualwrite.ErrUnsupported) {
				t.Fatalf("%q: got %v, want ErrUnsupported", q, err)
			}
		}
		onUsers := "UPDATE users SET visits = 1 WHERE CURRENT OF c"
		if b.runs("mysql") {
			onUsers = "UPDATE users SET visits = 1 RETURNING id"
		}
		if _, err := e.db.Exec(onUsers); !errors.Is(err, dualwrite.ErrUnsupported) {
			t.Fatalf("%s: got %v, want ErrUnsupported", onUsers, err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		series := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "table" {
						series[mf.GetName()+" "+lp.GetValue()] += m.GetCounter().GetValue()
					}
				}
			}
		}
		want := map[string]float64{"dualwrite_refused_total other": n, "dualwrite_refused_total users": 1}
		if !maps.Equal(series, want) {
			if len(series) > 5 {
				t.Fatalf("%d table series, want %v", len(series), want)
			}
			t.Fatalf("table series = %v, want %v", series, want)
		}
	})
}

// TestHostileTextDoesNotPanic: statements with names that are not valid
// UTF-8, NUL bytes or odd quoting, on mapped tables and others, run through
// Exec and Query in every phase with metrics and logging on: each returns
// an error or a result, and none panics in the caller.
func TestHostileTextDoesNotPanic(t *testing.T) {
	statements := []string{
		`UPDATE "t` + "\xff" + `" SET x = (SELECT count(*) FROM users) WHERE CURRENT OF c`,
		`DELETE FROM "` + "\xfe\xff" + `" WHERE id IN (SELECT id FROM users) AND CURRENT OF c`,
		`INSERT INTO "` + "\xc3" + `" SELECT * FROM users; DELETE FROM users`,
		`UPDATE users SET full_name = '` + "\xff" + `' WHERE CURRENT OF c`,
		`SELECT "` + "\xff" + `" FROM users`,
		`SELECT * FROM users, "` + "\xff" + `" WHERE users.id = 1 FOR UPDATE`,
		`SELECT * FROM "users` + "\xff" + `"`,
		`MERGE INTO "` + "\xff" + `" t USING users u ON t.id = u.id WHEN MATCHED THEN DELETE`,
		"UPDATE users SET full_name = 'a\x00b' WHERE id = 1",
		`UPDATE U&"\0075sers" SET visits = 1`,
		`WITH w AS (DELETE FROM users RETURNING id) SELECT * FROM "` + "\xff" + `"`,
	}
	forBackends(t, func(t *testing.T, b backend) {
		reg := prometheus.NewRegistry()
		e := b.open(t, dualwrite.WithRegisterer(reg), dualwrite.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		for _, write := range []mapping.WritePhase{mapping.WriteDual, mapping.WriteOff} {
			for _, read := range []mapping.ReadPhase{mapping.ReadOld, mapping.ReadCompare, mapping.ReadNew} {
				if err := e.sw.SetWrite(write); err != nil {
					t.Fatal(err)
				}
				if err := e.sw.SetRead(read, write); err != nil {
					continue // unsafe: reading the new tables while writes are off
				}
				for _, q := range statements {
					if _, err := e.db.Exec(q); err == nil && write == mapping.WriteDual && strings.Contains(q, "CURRENT OF") {
						t.Errorf("%s/%s: %q ran", write, read, q)
					}
					if rows, err := e.db.Query(q); err == nil {
						for rows.Next() {
						}
						_ = rows.Err() // an error is a fine answer; a panic is not
						_ = rows.Close()
					}
				}
				e.sw.ClearRead()
			}
		}
		if _, err := reg.Gather(); err != nil {
			t.Fatal(err)
		}
	})
}
