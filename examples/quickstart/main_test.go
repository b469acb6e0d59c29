package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite"
)

// runs counts the calls of run in this process: dualwrite is registered once
// per process, so its counters add up across runs (go test -count=N).
var runs int

func TestRun(t *testing.T) {
	t.Setenv(dualwrite.WritePhaseEnv, "") // restored after the test; run sets it
	dbPath := filepath.Join(t.TempDir(), "quickstart.db")
	var out bytes.Buffer
	if err := run(&out, dbPath); err != nil {
		t.Fatalf("run: %v\noutput so far:\n%s", err, out.String())
	}
	runs++
	got := out.String()
	if strings.Contains(got, dbPath) || strings.Contains(got, t.TempDir()) {
		t.Errorf("the output names the temporary path:\n%s", got)
	}

	raw, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	// The old table has every committed write, dual-written or not.
	wantUsers := [][]string{
		{"1", "Ada Lovelace", "ada@example.com", "3"},
		{"2", "Alan Turing", "alan@example.com", "5"},
		{"3", "Edsger Dijkstra", "ewd@example.com", "0"},
		{"4", "Grace Brewster Hopper", "grace@example.com", "1"},
		{"60", "Ken Thompson", "ken@example.com", "10"},
	}
	if users := query(t, raw, "SELECT id, full_name, email, visits FROM users ORDER BY id"); !reflect.DeepEqual(users, wantUsers) {
		t.Errorf("users = %q\nwant    %q", users, wantUsers)
	}
	// The new table has up(row) for exactly the rows written while the
	// phase was dual: not rows 1-3, not the deleted row 5, not the old key
	// 6, not the rolled-back insert.
	wantAccounts := [][]string{
		{"4", "Grace", "Brewster Hopper", "grace@example.com", "1"},
		{"60", "Ken", "Thompson", "ken@example.com", "10"},
	}
	if accounts := query(t, raw, "SELECT account_id, first_name, last_name, email_address, visits FROM accounts ORDER BY account_id"); !reflect.DeepEqual(accounts, wantAccounts) {
		t.Errorf("accounts = %q\nwant       %q", accounts, wantAccounts)
	}

	// The printed tables show the same thing side by side.
	for _, line := range []string{
		"1   Ada Lovelace           ada@example.com    3       |            -\n",
		"3   Edsger Dijkstra        ewd@example.com    0       |            -\n",
		"4   Grace Brewster Hopper  grace@example.com  1       |            4           Grace       Brewster Hopper  grace@example.com  1\n",
		"60  Ken Thompson           ken@example.com    10      |            60          Ken         Thompson         ken@example.com    10\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("the output lacks the row %q:\n%s", line, got)
		}
	}
	for _, s := range []string{
		"REPLACE INTO users ...: dualwrite: refused statement on users: REPLACE on a table with a unique constraint besides its key",
		"UPDATE accounts ...: dualwrite: refused statement on accounts: a write to the new table",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("the output lacks %q:\n%s", s, got)
		}
	}
	for _, m := range []struct {
		series string
		value  int
	}{
		{`dualwrite_writes_total{operation="insert",outcome="mirrored",table="users"}`, 3},
		{`dualwrite_writes_total{operation="update",outcome="mirrored",table="users"}`, 3},
		{`dualwrite_writes_total{operation="delete",outcome="mirrored",table="users"}`, 1},
		{`dualwrite_passthrough_writes_total{table="users"}`, 1},
		{`dualwrite_refused_total{table="users"}`, 1},
		{`dualwrite_refused_total{table="accounts"}`, 1},
	} {
		if line := fmt.Sprintf("   %s %d\n", m.series, m.value*runs); !strings.Contains(got, line) {
			t.Errorf("the output lacks the metric line %q:\n%s", line, got)
		}
	}
}

func TestRunRefusesExistingFile(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "quickstart.db")
	raw, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("CREATE TABLE keep (x)"); err != nil {
		t.Fatal(err)
	}
	if err := run(&bytes.Buffer{}, dbPath); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("run on an existing file = %v, want an error saying it exists", err)
	}
}

// query returns a query's rows as text.
func query(t *testing.T, db *sql.DB, q string) [][]string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rows.Next() {
		row := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
