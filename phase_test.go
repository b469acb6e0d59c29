package dualwrite_test

import (
	"bytes"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
)

func TestWritePhaseFromEnvironmentPerStatement(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e := newEnv(t, dualwrite.WithRegisterer(reg), dualwrite.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	t.Setenv(dualwrite.WritePhaseEnv, "off")
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Not Mirrored')")
	if n := e.count("accounts"); n != 0 {
		t.Fatalf("phase off mirrored %d rows", n)
	}
	t.Setenv(dualwrite.WritePhaseEnv, "dual")
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (2, 'Is Mirrored')")
	if n := e.count("accounts"); n != 1 {
		t.Fatalf("phase dual: accounts has %d rows, want 1", n)
	}
	t.Setenv(dualwrite.WritePhaseEnv, "bogus")
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (3, 'Still Mirrored')")
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (4, 'Still Mirrored')")
	if n := e.count("accounts"); n != 3 {
		t.Fatalf("after an invalid value: accounts has %d rows, want 3 (the last valid phase stays)", n)
	}
	if got := counterValue(t, reg, "dualwrite_invalid_phase_total", nil); got != 1 {
		t.Fatalf("invalid phase counted %v times, want once per distinct value", got)
	}
	if !strings.Contains(logs.String(), `invalid write phase \"bogus\"`) {
		t.Fatalf("log does not name the invalid value: %s", logs.String())
	}
	// The override wins over the environment.
	if err := e.sw.SetWrite(mapping.WriteOff); err != nil {
		t.Fatal(err)
	}
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (5, 'Not Mirrored')")
	e.sw.ClearWrite()
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (6, 'Is Mirrored')")
	if n := e.count("accounts"); n != 4 {
		t.Fatalf("accounts has %d rows, want 4", n)
	}
	if err := e.sw.SetWrite("sideways"); err == nil {
		t.Fatal("SetWrite accepted an invalid phase")
	}
	if got := counterValue(t, reg, "dualwrite_passthrough_writes_total", nil); got != 2 {
		t.Fatalf("passthrough writes = %v, want 2", got)
	}
}

// TestInvalidPhaseAtStartUp: an invalid phase in the environment when a
// connector is created is an error naming the variable and the valid
// values, not a silent fall back to the mapping's default.
func TestInvalidPhaseAtStartUp(t *testing.T) {
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	base := dbtest.Connector{DSN: sqliteDSN(t), Base: &sqlite3.SQLiteDriver{}}
	for _, c := range []struct{ variable, value, valid string }{
		{dualwrite.WritePhaseEnv, "duel", "off, dual, both"},
		{dualwrite.WritePhaseEnv, "dual;off", "off, dual, both"},
		{dualwrite.WritePhaseEnv, "ｄｕａｌ", "off, dual, both"},
		{dualwrite.ReadPhaseEnv, "olde", "old, compare, new"},
		{dualwrite.ReadShareEnv, "newest:5", "old, compare, new"},
		{dualwrite.ReadShareEnv, "new:101", "from 0 to 100"},
		{dualwrite.ReadShareEnv, "new", "<phase>:<percent>"},
	} {
		t.Run(c.variable+"="+c.value, func(t *testing.T) {
			t.Setenv(c.variable, c.value)
			_, err := dualwrite.NewConnector(base, m)
			if !errors.Is(err, dualwrite.ErrInvalidPhase) || !strings.Contains(err.Error(), c.variable) || !strings.Contains(err.Error(), c.valid) {
				t.Fatalf("NewConnector = %v, want ErrInvalidPhase naming %s and %s", err, c.variable, c.valid)
			}
			if err := dualwrite.Register("dualwrite-invalid-phase-"+c.value, "sqlite3", m); !errors.Is(err, dualwrite.ErrInvalidPhase) {
				t.Fatalf("Register = %v, want ErrInvalidPhase", err)
			}
		})
	}
	// A name registered before the variable turned invalid: sql.Open refuses.
	if err := dualwrite.Register("dualwrite-invalid-phase-open", "sqlite3", m); err != nil {
		t.Fatal(err)
	}
	t.Setenv(dualwrite.WritePhaseEnv, "duel")
	if db, err := sql.Open("dualwrite-invalid-phase-open", sqliteDSN(t)); !errors.Is(err, dualwrite.ErrInvalidPhase) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("sql.Open = %v, want ErrInvalidPhase", err)
	}
}

// TestValidPhaseAtStartUpStays: the phase the environment held when the
// connector was created stays in force when the variable turns invalid
// before the first statement (the mapping's default is dual; the
// environment said off).
func TestValidPhaseAtStartUpStays(t *testing.T) {
	t.Setenv(dualwrite.WritePhaseEnv, "off")
	e := newEnv(t)
	t.Setenv(dualwrite.WritePhaseEnv, "duel")
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Not Mirrored')")
	if n := e.count("accounts"); n != 0 {
		t.Fatalf("accounts has %d rows: the invalid value fell back to the mapping's default", n)
	}
}
