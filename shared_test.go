package dualwrite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/internal/control"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/dbtest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

// sharedEnv is a SQLite file with the corpus schema, opened through a
// connector that shares its phases, and the same file opened raw for the
// operator's side.
type sharedEnv struct {
	db, raw *sql.DB
	sw      *dualwrite.Switch
	m       *mapping.Mapping
	store   *control.Store
	reg     *prometheus.Registry
}

const sharedRefresh = 20 * time.Millisecond

func newSharedEnv(t *testing.T, yaml string) *sharedEnv {
	t.Helper()
	dsn := sqliteDSN(t)
	e := &sharedEnv{sw: dualwrite.NewSwitch(), store: control.New(rewrite.SQLite), reg: prometheus.NewRegistry()}
	var err error
	if e.raw, err = sql.Open("sqlite3", dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.raw.Close() })
	for _, s := range corpus.Schema {
		mustExec(t, e.raw, s)
	}
	if e.m, err = mapping.Parse([]byte(yaml)); err != nil {
		t.Fatal(err)
	}
	c, err := dualwrite.NewConnector(dbtest.Connector{DSN: dsn, Base: &sqlite3.SQLiteDriver{}}, e.m, dualwrite.WithSwitch(e.sw),
		dualwrite.WithRegisterer(e.reg), dualwrite.WithSharedPhases(dualwrite.SharedPhases{Fleet: "f", Refresh: sharedRefresh}))
	if err != nil {
		t.Fatal(err)
	}
	e.db = sql.OpenDB(c)
	t.Cleanup(func() { _ = e.db.Close() })
	if err := e.db.Ping(); err != nil {
		t.Fatal(err)
	}
	return e
}

// set sets the fleet's shared phases, as dualwrite phase set --force does,
// with mapping m.
func (e *sharedEnv) set(t *testing.T, m *mapping.Mapping, write mapping.WritePhase, read mapping.ReadPhase) {
	t.Helper()
	_, err := e.store.Set(context.Background(), e.raw, m, control.Change{Fleet: "f", To: mapping.Phases{Write: write, Read: read}, By: "test", Force: true})
	if err != nil {
		t.Fatal(err)
	}
}

// waitPhases waits until the Switch gives write and read.
func (e *sharedEnv) waitPhases(t *testing.T, write mapping.WritePhase, read mapping.ReadPhase) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, r := e.sw.Write(e.m.Phases.Write), e.sw.Read(e.m.Phases)
		if w == write && r == read {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("phases write %s, read %s; want write %s, read %s", w, r, write, read)
		}
		time.Sleep(sharedRefresh / 2)
	}
}

// record waits until the process's record says decided, and returns it.
func (e *sharedEnv) record(t *testing.T, decided string) control.Process {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ps, err := e.store.Fleet(context.Background(), e.raw, "f")
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 1 && ps[0].DecidedBy == decided {
			return ps[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("records %+v; want one that says %q", ps, decided)
		}
		time.Sleep(sharedRefresh / 2)
	}
}

// TestSharedPhasesPrecedence: the override comes first, then the
// environment, then the control table, then the mapping file; the
// process's record says which decided.
func TestSharedPhasesPrecedence(t *testing.T) {
	e := newSharedEnv(t, corpus.Mapping) // the file says write dual, read old
	e.waitPhases(t, mapping.WriteDual, mapping.ReadOld)
	e.record(t, "write: mapping file; read: mapping file")

	e.set(t, e.m, mapping.WriteOff, mapping.ReadOld)
	e.waitPhases(t, mapping.WriteOff, mapping.ReadOld)
	p := e.record(t, "write: control table; read: control table")
	if p.Write != "off" || p.PhasesVersion != 1 || p.Digest != e.m.Digest() || p.Version == "" {
		t.Errorf("record %+v", p)
	}

	t.Setenv(dualwrite.WritePhaseEnv, "dual")
	e.waitPhases(t, mapping.WriteDual, mapping.ReadOld)
	e.record(t, "write: environment; read: control table")

	e.set(t, e.m, mapping.WriteDual, mapping.ReadNew)
	e.waitPhases(t, mapping.WriteDual, mapping.ReadNew)
	if err := e.sw.SetWrite(mapping.WriteOff); err != nil {
		t.Fatal(err)
	}
	// The override writes off: reading the new tables is refused.
	e.waitPhases(t, mapping.WriteOff, mapping.ReadOld)
	if p := e.record(t, "write: override; read: control table"); p.Read != "old" {
		t.Errorf("record %+v, want read old", p)
	}
	if n := counterValue(t, e.reg, "dualwrite_phase", map[string]string{"kind": "write", "phase": "off"}); n != 1 {
		t.Errorf("dualwrite_phase{kind=write,phase=off} = %v, want 1", n)
	}
}

// TestSharedPhasesAnotherMapping: a process whose mapping differs from the
// one the phases were set with runs none that reads or writes the new
// tables on their own.
func TestSharedPhasesAnotherMapping(t *testing.T) {
	e := newSharedEnv(t, corpus.Mapping)
	other, err := mapping.Parse([]byte(strings.Replace(corpus.Mapping, "role_name: upper(role)", "role_name: lower(role)", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if other.Digest() == e.m.Digest() {
		t.Fatal("the two mappings have the same digest")
	}
	e.set(t, other, mapping.WriteBoth, mapping.ReadNew)
	e.waitPhases(t, mapping.WriteDual, mapping.ReadOld)
	e.record(t, "write: control table, capped: this process runs another mapping; read: control table, capped: this process runs another mapping")
	e.set(t, e.m, mapping.WriteBoth, mapping.ReadNew)
	e.waitPhases(t, mapping.WriteBoth, mapping.ReadNew)
}

// TestSharedPhasesUnreadable: while the control table cannot be read, the
// process keeps its phases and counts the failures; once it can, it takes
// the phases it finds. Close deletes the process's record.
func TestSharedPhasesUnreadable(t *testing.T) {
	e := newSharedEnv(t, corpus.Mapping)
	e.set(t, e.m, mapping.WriteDual, mapping.ReadCompare)
	e.waitPhases(t, mapping.WriteDual, mapping.ReadCompare)
	mustExec(t, e.raw, "ALTER TABLE "+control.PhasesTable+" RENAME TO moved")
	deadline := time.Now().Add(5 * time.Second)
	for counterValue(t, e.reg, "dualwrite_control_errors_total", map[string]string{"op": "read"}) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no failed read counted")
		}
		time.Sleep(sharedRefresh)
	}
	e.waitPhases(t, mapping.WriteDual, mapping.ReadCompare)
	if age := counterValue(t, e.reg, "dualwrite_phase_info_age_seconds", nil); age < 2*sharedRefresh.Seconds() {
		t.Errorf("dualwrite_phase_info_age_seconds = %v after failed reads", age)
	}
	// Statements go on meanwhile, in the phases last read.
	mustExec(t, e.db, "INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace')")
	if n := dbtest.Invariant(t, e.raw, rewrite.SQLite, e.m); n != 1 {
		t.Errorf("new = up(old) compared %d rows, want 1", n)
	}
	mustExec(t, e.raw, "ALTER TABLE moved RENAME TO "+control.PhasesTable)
	e.set(t, e.m, mapping.WriteDual, mapping.ReadOld)
	e.waitPhases(t, mapping.WriteDual, mapping.ReadOld)

	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	ps, err := e.store.Fleet(context.Background(), e.raw, "f")
	if err != nil || len(ps) != 0 {
		t.Fatalf("after Close, records %+v, %v; want none", ps, err)
	}
}

// TestSharedPhasesStartUp: a connector whose control tables cannot be
// created does not connect, and says what it needs.
func TestSharedPhasesStartUp(t *testing.T) {
	dsn := sqliteDSN(t) + "&mode=ro"
	raw, err := sql.Open("sqlite3", strings.Replace(dsn, "&mode=ro", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = raw.Close() }()
	for _, s := range corpus.Schema {
		mustExec(t, raw, s)
	}
	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	c, err := dualwrite.NewConnector(dbtest.Connector{DSN: dsn, Base: &sqlite3.SQLiteDriver{}}, m, dualwrite.WithSharedPhases(dualwrite.SharedPhases{}))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer func() { _ = db.Close() }()
	err = db.Ping()
	if err == nil || !strings.Contains(err.Error(), `shared phases of fleet "default"`) || !strings.Contains(err.Error(), control.PhasesTable) {
		t.Fatalf("Ping on a read-only database = %v, want the control tables named", err)
	}
	if _, err := dualwrite.NewConnector(dbtest.Connector{DSN: dsn, Base: &sqlite3.SQLiteDriver{}}, m,
		dualwrite.WithSharedPhases(dualwrite.SharedPhases{Refresh: time.Millisecond})); err == nil || !strings.Contains(err.Error(), "Refresh") {
		t.Fatalf("a 1ms refresh: %v", err)
	}
}

// TestSharedPhasesEndpoint: the operator endpoint changes the fleet's
// shared phases through the checks of dualwrite phase set, and says why it
// refuses.
func TestSharedPhasesEndpoint(t *testing.T) {
	e := newSharedEnv(t, corpus.Mapping)
	h := dualwrite.Handler(e.sw, e.m, e.reg, dualwrite.WithAuthorize(func(*http.Request) error { return nil }), dualwrite.WithHandlerDB(e.raw))
	post := func(body string) (int, dualwrite.Status) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var st dualwrite.Status
		if err := json.NewDecoder(rec.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return rec.Code, st
	}
	if code, st := post(`{"write": "off", "scope": "fleet"}`); code != 200 || st.Shared == nil || st.Shared.Fleet != "f" {
		t.Fatalf("POST write=off to the fleet: %d %+v", code, st)
	}
	e.waitPhases(t, mapping.WriteOff, mapping.ReadOld)
	if code, st := post(`{"write": "dual", "scope": "fleet"}`); code != 200 {
		t.Fatalf("POST write=dual to the fleet: %d %+v", code, st)
	}
	e.waitPhases(t, mapping.WriteDual, mapping.ReadOld)
	e.record(t, "write: control table; read: control table")

	// Another process of the fleet still writes off.
	ctx := context.Background()
	other := control.Process{ID: "other", Fleet: "f", Host: "elsewhere", PID: 42, Version: "v0", Digest: e.m.Digest(),
		Write: "off", Read: "old", DecidedBy: "write: environment; read: control table", Refresh: time.Minute}
	if err := e.store.Heartbeat(ctx, e.raw, other); err != nil {
		t.Fatal(err)
	}
	for _, mt := range e.m.Tables {
		if _, err := backfill.Run(ctx, e.raw, rewrite.SQLite, rewrite.SQLite.Compile(mt), backfill.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := verify.Run(ctx, e.raw, rewrite.SQLite, e.m, verify.Options{Record: true}); err != nil {
		t.Fatal(err)
	}
	code, st := post(`{"read": "compare", "scope": "fleet"}`)
	if code != 400 || !strings.Contains(st.Error, "process 42 on elsewhere (other) writes off (write: environment") {
		t.Fatalf("POST read=compare to the fleet while a process writes off: %d %+v", code, st)
	}
	// The same change for this process alone is refused for the same reason.
	if code, st := post(`{"read": "compare"}`); code != 400 || !strings.Contains(st.Error, "process 42 on elsewhere") {
		t.Fatalf("POST read=compare while a process writes off: %d %+v", code, st)
	}
	other.Write = "dual"
	if err := e.store.Heartbeat(ctx, e.raw, other); err != nil {
		t.Fatal(err)
	}
	if code, st := post(`{"read": "compare", "scope": "fleet"}`); code != 200 {
		t.Fatalf("POST read=compare to the fleet once every process mirrors: %d %+v", code, st)
	}
	e.waitPhases(t, mapping.WriteDual, mapping.ReadCompare)
	ts, err := e.store.Transitions(ctx, e.raw, "f", 1)
	if err != nil || len(ts) != 1 || !strings.HasPrefix(ts[0].ChangedBy, "operator endpoint of ") || ts[0].To.Read != mapping.ReadCompare {
		t.Fatalf("last transition %+v, %v", ts, err)
	}
	if n := counterValue(t, e.reg, "dualwrite_transitions_refused_total", nil); n != 2 {
		t.Errorf("dualwrite_transitions_refused_total = %v, want 2", n)
	}
}

// TestSharedPhasesReadShare: a process whose read share sends queries to
// the new tables says so in its record, and writes cannot go off while it
// does.
func TestSharedPhasesReadShare(t *testing.T) {
	e := newSharedEnv(t, corpus.Mapping)
	if err := e.sw.SetReadShare(mapping.ReadNew, 5); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ps, err := e.store.Fleet(context.Background(), e.raw, "f")
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 1 && ps[0].Read == "old+new:5%" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("records %+v; want read old+new:5%%", ps)
		}
		time.Sleep(sharedRefresh / 2)
	}
	_, err := e.store.Set(context.Background(), e.raw, e.m, control.Change{Fleet: "f", To: mapping.Phases{Write: mapping.WriteOff, Read: mapping.ReadOld}, By: "test"})
	var re *control.RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "reads old+new:5%") {
		t.Fatalf("write off while a process reads a share from new: %v", err)
	}
}
