package dualwrite_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/mapping"
)

func TestHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, dualwrite.WithRegisterer(reg))
	seed(t, e)
	mustExec(t, e.raw, "UPDATE accounts SET visits = 100 WHERE account_id = 1")
	srv := httptest.NewServer(dualwrite.Handler(e.sw, e.m, reg))
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
	if code, st := post(`{"read": "new"}`); code != 200 || st.ReadPhase != mapping.ReadNew || st.ReadOverride != mapping.ReadNew {
		t.Fatalf("POST read=new: %d %+v", code, st)
	}
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
