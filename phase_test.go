package dualwrite_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
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
