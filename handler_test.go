package dualwrite_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

func TestHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, dualwrite.WithRegisterer(reg))
	seed(t, e)
	srv := httptest.NewServer(dualwrite.Handler(e.sw, e.m, reg, dualwrite.WithAuthorize(func(*http.Request) error { return nil }),
		dualwrite.WithHandlerDB(e.raw)))
	defer srv.Close()
	post := func(body string) (int, dualwrite.Status) {
		t.Helper()
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st dualwrite.Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, st
	}
	visits := func() int64 {
		t.Helper()
		var v int64
		if err := e.db.QueryRow("SELECT visits FROM users WHERE id = 1").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Reads leave old only after a backfill and a recorded verify.
	refused := func(want string) {
		t.Helper()
		if code, st := post(`{"read": "new"}`); code != 400 || st.ReadPhase != mapping.ReadOld || !strings.Contains(st.Error, want) {
			t.Fatalf("POST read=new: %d %+v; want it refused: %s", code, st, want)
		}
	}
	refused("users backfilled and verified with no difference: it was never backfilled: run dualwrite backfill")
	ctx := context.Background()
	for _, mt := range e.m.Tables {
		if _, err := backfill.Run(ctx, e.raw, rewrite.SQLite, rewrite.SQLite.Compile(mt), backfill.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	refused("it was never verified: run dualwrite verify")
	if _, err := verify.Run(ctx, e.raw, rewrite.SQLite, e.m, verify.Options{}); err != nil {
		t.Fatal(err)
	}
	refused("it was never verified") // not recorded
	mustExec(t, e.raw, "UPDATE accounts SET visits = 100 WHERE account_id = 1")
	if _, err := verify.Run(ctx, e.raw, rewrite.SQLite, e.m, verify.Options{Record: true}); err != nil {
		t.Fatal(err)
	}
	refused("its last verify")
	mustExec(t, e.raw, "UPDATE accounts SET visits = 3 WHERE account_id = 1")
	if _, err := verify.Run(ctx, e.raw, rewrite.SQLite, e.m, verify.Options{Record: true}); err != nil {
		t.Fatal(err)
	}
	if n := counterValue(t, reg, "dualwrite_transitions_refused_total", nil); n != 4 {
		t.Errorf("dualwrite_transitions_refused_total = %v, want 4", n)
	}
	if code, st := post(`{"read": "new"}`); code != 200 || st.ReadPhase != mapping.ReadNew || st.ReadOverride != mapping.ReadNew ||
		st.ReadDecidedBy != "override" || st.WriteDecidedBy != "mapping file" {
		t.Fatalf("POST read=new: %d %+v", code, st)
	}
	mustExec(t, e.raw, "UPDATE accounts SET visits = 100 WHERE account_id = 1") // to tell the tables apart
	if v := visits(); v != 100 {
		t.Fatalf("after switching to new over HTTP: visits %d, want 100", v)
	}
	if code, st := post(`{"write": "off"}`); code != 400 || st.WritePhase != mapping.WriteDual || !strings.Contains(st.Error, "DUALWRITE_WRITE_PHASE=dual") {
		t.Fatalf("POST write=off while reading new: %d %+v", code, st)
	}
	if code, st := post(`{"write": "off", "read": "sideways"}`); code != 400 || st.WritePhase != mapping.WriteDual {
		t.Fatalf("a change with one bad field was half applied: %d %+v", code, st)
	}
	if code, st := post(`{"read": "sideways"}`); code != 400 || !strings.Contains(st.Error, "sideways") {
		t.Fatalf("POST read=sideways: %d %+v", code, st)
	}
	if code, st := post(`{"read": "new", "scope": "fleet"}`); code != 400 || !strings.Contains(st.Error, "dualwrite.WithSharedPhases") {
		t.Fatalf("POST scope=fleet without shared phases: %d %+v", code, st)
	}
	if code, st := post(`{"read": "default"}`); code != 200 || st.ReadPhase != mapping.ReadOld || st.ReadOverride != "" {
		t.Fatalf("POST read=default: %d %+v", code, st)
	}
	if v := visits(); v != 3 {
		t.Fatalf("after going back to old: visits %d, want 3", v)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st dualwrite.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Counters[`dualwrite_reads_total{phase="new",table="users"}`] != 1 || st.Counters[`dualwrite_reads_total{phase="old",table="users"}`] != 1 {
		t.Fatalf("GET counters = %v", st.Counters)
	}
	if code, _ := post(`not json`); code != 400 {
		t.Fatalf("a bad body got %d", code)
	}
}

// TestHandlerRefusesUnsafeRequests: a phase change needs an authorization
// hook that allows it, Content-Type application/json, and a body that is
// exactly one PhaseChange; anything else leaves the phases as they are.
func TestHandlerRefusesUnsafeRequests(t *testing.T) {
	e := newEnv(t)
	do := func(h http.Handler, contentType, auth, body string) (int, dualwrite.Status) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var st dualwrite.Status
		if err := json.NewDecoder(rec.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		if st.WritePhase != mapping.WriteDual || st.WriteOverride != "" {
			t.Fatalf("POST %s %q %q changed the write phase: %+v", contentType, auth, body, st)
		}
		return rec.Code, st
	}
	open := dualwrite.Handler(e.sw, e.m, nil)
	if code, st := do(open, "application/json", "", `{"write": "off"}`); code != http.StatusForbidden || !strings.Contains(st.Error, "WithAuthorize") {
		t.Fatalf("POST without an authorization hook: %d %+v", code, st)
	}
	if code, _ := do(dualwrite.Handler(e.sw, e.m, nil, dualwrite.WithAuthorize(nil)), "application/json", "", `{"write": "off"}`); code != http.StatusForbidden {
		t.Fatalf("POST with a nil authorization hook: %d", code)
	}
	rec := httptest.NewRecorder()
	open.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET without an authorization hook: %d", rec.Code)
	}

	h := dualwrite.Handler(e.sw, e.m, nil, dualwrite.WithAuthorize(func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			return errors.New("wrong token")
		}
		return nil
	}), dualwrite.WithHandlerDB(e.raw))
	const ok = "Bearer s3cret"
	for _, c := range []struct {
		contentType, auth, body string
		code                    int
	}{
		{"application/json", "", `{"write": "off"}`, http.StatusForbidden},
		{"application/json", "Bearer guess", `{"write": "off"}`, http.StatusForbidden},
		{"", ok, `{"write": "off"}`, http.StatusUnsupportedMediaType},
		{"text/plain", ok, `{"write": "off"}`, http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", ok, `{"write": "off"}`, http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", ok, `{"write": "off"}`, http.StatusUnsupportedMediaType},
		{"application/json", ok, `{"write": "off", "extra": 1}`, http.StatusBadRequest},
		{"application/json", ok, `{"WRITE": "off"}`, http.StatusBadRequest},
		{"application/json", ok, `{"write": "off"} trailing`, http.StatusBadRequest},
		{"application/json", ok, `{"write": "off"}{"write": "off"}`, http.StatusBadRequest},
		{"application/json", ok, `{"write": "dual", "write": "off"}`, http.StatusBadRequest},
		{"application/json", ok, `{"write": null, "write": "off"}`, http.StatusBadRequest},
		{"application/json", ok, `{"write": ["off"]}`, http.StatusBadRequest},
		{"application/json", ok, `["write", "off"]`, http.StatusBadRequest},
		{"application/json", ok, `{"write": "off"`, http.StatusBadRequest},
	} {
		if code, st := do(h, c.contentType, c.auth, c.body); code != c.code || st.Error == "" {
			t.Errorf("POST %s %q %q: %d %q, want %d", c.contentType, c.auth, c.body, code, st.Error, c.code)
		}
	}
	noDB := dualwrite.Handler(e.sw, e.m, nil, dualwrite.WithAuthorize(func(*http.Request) error { return nil }))
	if code, st := do(noDB, "application/json", "", `{"write": "off"}`); code != http.StatusBadRequest || !strings.Contains(st.Error, "dualwrite.WithHandlerDB") {
		t.Fatalf("POST write=off to a handler without the database: %d %+v", code, st)
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"write": "off"}`+"\n"))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", ok)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || e.sw.Write(mapping.WriteDual) != mapping.WriteOff {
		t.Fatalf("an authorized JSON change: %d %s", rec.Code, rec.Body)
	}
}
