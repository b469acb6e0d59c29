package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/verify"
)

func TestRoundTripSQLite(t *testing.T) { testRoundTrip(t, newSQLite(t, corpus.Schema...)) }

func TestRoundTripPostgres(t *testing.T) { testRoundTrip(t, newPostgres(t)) }

func TestRoundTripMySQL(t *testing.T) { testRoundTrip(t, newMySQL(t)) }

// testRoundTrip: check and verify --round-trip name exactly the old rows
// that the corpus mapping's round trip changes (a leading and a trailing
// space in a name, a role in another case), and no row that round-trips
// (NULL included); check's sample sees only the first rows; after a
// backfill, verify --direction reverse finds the same rows, old !=
// down(new), where forward verify finds none.
func testRoundTrip(t *testing.T, b *backend) {
	b.exec(t, "INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada Lovelace', NULL, 1), (2, ' Ada', 'a@example.com', 2), (3, 'Grace Hopper ', NULL, 3), (4, 'Plato', NULL, 4)",
		"INSERT INTO memberships (org_id, user_id, role) VALUES (1, 1, 'admin'), (1, 2, 'Admin'), (2, 1, NULL), (2, 2, 'owner')")
	wantUsers, wantMembers := []string{"[2]", "[3]"}, []string{"[1 2]"}

	r := invoke(t, nil, b.flags("check")...)
	r.expect(t, 1, "OK: "+b.mapping+" matches the live schema",
		"users -> accounts: 2 of 4 rows change shape in the round trip",
		`  changes shape id=2: full_name expected " Ada", got "Ada"`,
		`  changes shape id=3: full_name expected "Grace Hopper ", got "Grace Hopper"`,
		"memberships -> members: 1 of 4 rows change shape in the round trip",
		`  changes shape org_id=1 user_id=2: role expected "Admin", got "admin"`,
		"ROUND TRIP: down(up(old)) != old for the rows above")
	if n := strings.Count(r.stdout, "changes shape "); n != 3 {
		t.Errorf("check lists %d rows that change shape, want 3:\n%s", n, r.stdout)
	}
	// The first row of each table round-trips; without a sample there is
	// no round trip at all.
	r = invoke(t, nil, b.flags("check", "--round-trip-sample", "1")...)
	r.expect(t, 0, "users -> accounts: round trip OK: 1 rows", "memberships -> members: round trip OK: 1 rows", "OK: down(up(old)) = old for the first 1 rows")
	r = invoke(t, nil, b.flags("check", "--round-trip-sample", "0")...)
	r.expect(t, 0, "OK: ")
	if strings.Contains(r.stdout, "round trip") {
		t.Errorf("check --round-trip-sample 0 checked the round trip:\n%s", r.stdout)
	}
	invoke(t, nil, b.flags("check", "--round-trip-sample", "-1")...).expect(t, 2, "--round-trip-sample must be 0 or more")

	rep := verifyReport(t, b, 1, "--round-trip")
	if got := mismatchedKeys(rep.Tables[0], "id"); !reflect.DeepEqual(got, wantUsers) {
		t.Errorf("verify --round-trip: users keys %v, want %v", got, wantUsers)
	}
	if got := mismatchedKeys(rep.Tables[1], "org_id", "user_id"); !reflect.DeepEqual(got, wantMembers) {
		t.Errorf("verify --round-trip: memberships keys %v, want %v", got, wantMembers)
	}
	if tr := rep.Tables[0]; tr.RowsProcessed != 4 || tr.Matching != 2 || tr.Mismatched != 2 {
		t.Errorf("verify --round-trip: users %+v", tr)
	}
	invoke(t, nil, b.flags("verify", "--round-trip")...).expect(t, 1,
		`changes shape id=2: full_name expected " Ada", got "Ada"`, "verify --round-trip: ROWS CHANGE SHAPE: down(up(old)) != old")

	// up(old) in the new tables: forward verify passes, reverse finds
	// the rows that do not come back.
	invoke(t, nil, b.flags("backfill")...).expect(t, 0, "users -> accounts: done: 4 rows copied")
	verifyReport(t, b, 0)
	rep = verifyReport(t, b, 1, "--direction", "reverse")
	if tr := rep.Tables[0]; tr.Table != "accounts" || tr.NewTable != "users" || tr.Mismatched != 2 || tr.MissingInNew+tr.ExtraInNew != 0 {
		t.Errorf("verify --direction reverse: %+v, want accounts -> users with 2 mismatches", tr)
	}
	if got := mismatchedKeys(rep.Tables[0], "account_id"); !reflect.DeepEqual(got, wantUsers) {
		t.Errorf("verify --direction reverse: accounts keys %v, want %v", got, wantUsers)
	}
	if got := mismatchedKeys(rep.Tables[1], "org", "usr"); !reflect.DeepEqual(got, wantMembers) {
		t.Errorf("verify --direction reverse: members keys %v, want %v", got, wantMembers)
	}
	invoke(t, nil, b.flags("verify", "--direction", "reverse", "--table", "memberships")...).expect(t, 1,
		"members -> memberships: 1 difference in 4 rows",
		`mismatched org=1 usr=2: role expected "admin", got "Admin"`, "verify: DIFFERENCES: old != down(new)")
	invoke(t, nil, b.flags("verify", "--direction", "sideways")...).expect(t, 2, `--direction must be forward or reverse, got "sideways"`)

	// Rows that round-trip: every check passes.
	b.exec(t, "UPDATE users SET full_name = trim(full_name)", "UPDATE memberships SET role = lower(role)",
		"DELETE FROM accounts", "DELETE FROM members")
	invoke(t, nil, b.flags("check")...).expect(t, 0, "OK: down(up(old)) = old for the first 1000 rows of each table")
	invoke(t, nil, b.flags("verify", "--round-trip")...).expect(t, 0, "users -> accounts: round trip OK: 4 rows", "verify --round-trip: OK: down(up(old)) = old for every row")
	invoke(t, nil, b.flags("backfill", "--reset")...).expect(t, 0, "users -> accounts: done")
	invoke(t, nil, b.flags("verify", "--direction", "reverse")...).expect(t, 0, "verify: OK: old = down(new) for every key")
	invoke(t, nil, b.flags("verify", "--direction", "reverse", "--round-trip")...).expect(t, 0, "verify --round-trip: OK: up(down(new)) = new for every row")
}

// verifyReport runs verify --json with args, expects the exit status code
// and returns the report.
func verifyReport(t *testing.T, b *backend, code int, args ...string) *verify.Report {
	t.Helper()
	r := invoke(t, nil, b.flags("verify", append([]string{"--json", "--batch-size", "3"}, args...)...)...)
	var rep verify.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify --json %v: %v\n%s%s", args, err, r.stdout, r.stderr)
	}
	if r.code != code || rep.OK != (code == 0) || len(rep.Tables) != 2 {
		t.Fatalf("verify --json %v: exit %d, ok %v, %d tables; want exit %d\n%s%s", args, r.code, rep.OK, len(rep.Tables), code, r.stdout, r.stderr)
	}
	return &rep
}

// mismatchedKeys returns the keys of a report's mismatched samples, each
// spelled as its values in the order of cols: "[1 2]".
func mismatchedKeys(tr *verify.TableReport, cols ...string) []string {
	out := []string{}
	for _, s := range tr.Samples.Mismatched {
		var k []any
		for _, c := range cols {
			k = append(k, s.Key[c])
		}
		out = append(out, fmt.Sprint(k))
	}
	slices.Sort(out)
	return out
}
