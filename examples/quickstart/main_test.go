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
	// Restored after the test; run sets them.
	t.Setenv(dualwrite.WritePhaseEnv, "")
	t.Setenv(dualwrite.ReadPhaseEnv, "")
	dbPath := filepath.Join(t.TempDir(), "quickstart.db")
	var out bytes.Buffer
	if err := run(&out, dbPath, false); err != nil {
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

	// The old table is gone after the contract (step 16).
	if err := raw.QueryRow("SELECT 1 FROM users").Scan(new(int)); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("users after the contract: %v, want no such table", err)
	}
	// At the end the new table has every row: the dual writes wrote rows 4
	// and 60 (not the deleted row 5, not the old key 6, not the rolled-back
	// insert), the backfill copied rows 1-3, the rows corrupted on purpose
	// (1 and 2) were repaired, the new release wrote row 70 and changed row
	// 1, and the old release, rolled back to, changed row 70.
	wantAccounts := [][]string{
		{"1", "Ada", "Lovelace-King", "ada@example.com", "4"},
		{"2", "Alan", "Turing", "alan@example.com", "5"},
		{"3", "Edsger", "Dijkstra", "ewd@example.com", "0"},
		{"4", "Grace", "Brewster Hopper", "grace@example.com", "1"},
		{"60", "Ken", "Thompson", "ken@example.com", "10"},
		{"70", "Barbara", "Jane Liskov", "barbara@example.com", "1"},
	}
	if accounts := query(t, raw, "SELECT account_id, first_name, last_name, email_address, visits FROM accounts ORDER BY account_id"); !reflect.DeepEqual(accounts, wantAccounts) {
		t.Errorf("accounts = %q\nwant       %q", accounts, wantAccounts)
	}

	// The printed tables show it side by side: before the backfill rows 1-3
	// are missing from accounts (step 6), after it they are there (step 7).
	step6, rest, ok := strings.Cut(got, "7. Backfill")
	if !ok {
		t.Fatalf("the output has no step 7:\n%s", got)
	}
	step7, _, _ := strings.Cut(rest, "8. ")
	for _, c := range []struct {
		part, line string
	}{
		{step6, "1   Ada Lovelace           ada@example.com    3       |            -\n"},
		{step6, "3   Edsger Dijkstra        ewd@example.com    0       |            -\n"},
		{step6, "4   Grace Brewster Hopper  grace@example.com  1       |            4           Grace       Brewster Hopper  grace@example.com  1\n"},
		{step6, "60  Ken Thompson           ken@example.com    10      |            60          Ken         Thompson         ken@example.com    10\n"},
		{step7, "users: done (5 rows copied, 0 new rows without an old row deleted)\n"},
		{step7, "verify users -> accounts: 5 rows, 5 matching, 0 mismatched, 0 missing in accounts, 0 extra in accounts\n"},
		{step7, "1   Ada Lovelace           ada@example.com    3       |            1           Ada         Lovelace         ada@example.com    3\n"},
		{step7, "3   Edsger Dijkstra        ewd@example.com    0       |            3           Edsger      Dijkstra         ewd@example.com    0\n"},
	} {
		if !strings.Contains(c.part, c.line) {
			t.Errorf("the output lacks the row %q in its place:\n%s", c.line, got)
		}
	}
	for _, s := range []string{
		"UPDATE OR REPLACE users ...: dualwrite: refused statement on users: REPLACE on a table with a unique constraint besides its key, in an UPDATE",
		"UPDATE accounts ...: dualwrite: refused statement on accounts: a write to the new table",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("the output lacks %q:\n%s", s, got)
		}
	}

	// The read steps, in order.
	for _, s := range []string{
		// 8: three queries compared, each a match, and the caller got the old rows.
		"8. DUALWRITE_READ_PHASE=compare",
		"     1 | Ada Lovelace | ada@example.com | 3\n     -> dualwrite_read_compare_total: match +1 (",
		"     Ada Lovelace | 2 | 42\n     Alan Turing | 1 | 7\n",
		"     5 | 19 | Ada Lovelace\n     -> dualwrite_read_compare_total: match +1 (",
		// 9: the corrupted row: exactly one mismatch, the old value returned, the log line.
		"9. Corrupt accounts",
		"     1 | Ada Lovelace | ada@example.com | 3\n     -> dualwrite_read_compare_total: mismatch +1; the caller still got the old value",
		`{"level":"WARN","msg":"dualwrite: old and new tables disagree","table":"users","fingerprint":"`,
		`"old_rows":1,"new_rows":1,"ordered":false,"columns_differ":false,"sample":[{"Side":"old","Index":-1,"Row":[1,"Ada Lovelace","ada@example.com",3]},{"Side":"new","Index":-1,"Row":[1,"Ada Byron","ada@example.com",3]}]}`,
		// 10: repaired.
		"10. Repair",
		"     1 | Ada Lovelace | ada@example.com | 3\n     -> dualwrite_read_compare_total: match +1\n",
		// 11: served from accounts.
		"11. DUALWRITE_READ_PHASE=new",
		`dualwrite_reads_total{phase="new"} went up by 3.`,
		"SELECT visits FROM users WHERE id = 2 -> 500 (served from accounts)",
		// 12: rollback.
		"12. Rollback",
		"SELECT visits FROM users WHERE id = 2 -> 5 (served from users)",
		// 13: the endpoint.
		"13. The operator endpoint",
		"GET                      -> 200 write_phase=dual read_phase=old\n",
		"POST {\"read\":\"new\"} (no token) -> 403 write_phase=dual read_phase=old\n     error: not authorized: missing or wrong bearer token\n",
		"POST {\"read\":\"new\"}      -> 200 write_phase=dual read_phase=new read_override=new\n     SELECT visits FROM users WHERE id = 2 -> 500 (served from accounts)",
		"POST {\"write\":\"off\"}     -> 400 write_phase=dual read_phase=new read_override=new\n     error: ",
		"POST {\"read\":\"default\"}  -> 200 write_phase=dual read_phase=old\n     SELECT visits FROM users WHERE id = 2 -> 5 ",
		// 14: both releases; each one's writes on both sides.
		"14. DUALWRITE_WRITE_PHASE=both",
		"           1   Ada Lovelace-King      ada@example.com      4       |            1           Ada         Lovelace-King    ada@example.com      4\n",
		"           70  Barbara Liskov         barbara@example.com  1       |            70          Barbara     Liskov           barbara@example.com  1\n",
		// 15: the old release, rolled back to, reads the new release's rows.
		"15. Rollback",
		"     1 | Ada Lovelace-King | ada@example.com | 4\n     70 | Barbara Liskov | barbara@example.com | 1\n",
		// 16: contract.
		"16. Contract",
		"     70 | Barbara | Jane Liskov | barbara@example.com | 1\n",
		"17. Metrics",
	} {
		i := strings.Index(got, s)
		if i < 0 {
			t.Fatalf("the output lacks, after what came before, %q:\n%s", s, out.String())
		}
		got = got[i+len(s):]
	}
	got = out.String()
	if strings.Count(got, "mismatch +1") != 1 || strings.Count(got, "old and new tables disagree") != 1 {
		t.Errorf("want exactly one mismatch reported:\n%s", got)
	}
	if strings.Contains(got, "dualwrite also logged") {
		t.Errorf("dualwrite logged more than the one mismatch:\n%s", got)
	}

	for _, m := range []struct {
		series string
		value  int
	}{
		{`dualwrite_writes_total{direction="forward",operation="insert",outcome="mirrored",table="users"}`, 3},
		// The update of step 4, its key change, the repairs of steps 10 and
		// 13, and the old release's updates of steps 14 and 15.
		{`dualwrite_writes_total{direction="forward",operation="update",outcome="mirrored",table="users"}`, 7},
		// The new release's writes in step 14, mirrored back into users.
		{`dualwrite_writes_total{direction="reverse",operation="insert",outcome="mirrored",table="accounts"}`, 1},
		{`dualwrite_writes_total{direction="reverse",operation="update",outcome="mirrored",table="accounts"}`, 1},
		{`dualwrite_writes_total{direction="forward",operation="delete",outcome="mirrored",table="users"}`, 1},
		{`dualwrite_passthrough_writes_total{table="users"}`, 1},
		{`dualwrite_refused_total{table="users"}`, 1},
		{`dualwrite_refused_total{table="accounts"}`, 1},
		// Reads: 3 + 1 + 1 compared in steps 8-10; 3 + 1 + 1 in the new phase
		// (step 11 and the endpoint's); 1 + 1 + 1 in the old phase (steps 12,
		// 13 and 15).
		{`dualwrite_reads_total{phase="compare",table="users"}`, 5},
		{`dualwrite_reads_total{phase="new",table="users"}`, 5},
		{`dualwrite_reads_total{phase="old",table="users"}`, 3},
		{`dualwrite_read_compare_total{result="match",table="users"}`, 4},
		{`dualwrite_read_compare_total{result="mismatch",table="users"}`, 1},
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
	if err := run(&bytes.Buffer{}, dbPath, false); err == nil || !strings.Contains(err.Error(), "exists") {
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
