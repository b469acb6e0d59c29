// Command quickstart plays a whole migration of a users table to an accounts
// table on a SQLite file, through dualwrite:
//
//  1. the state before the migration: users (and an unmapped orders table),
//     with rows written by the plain sqlite3 driver;
//  2. expand: the new table accounts is created;
//  3. the program opens the database through dualwrite with the write phase
//     off, so writes pass through to users only;
//  4. the operator sets DUALWRITE_WRITE_PHASE=dual, and from the next
//     statement on every write to users also lands in accounts, in the same
//     transaction;
//  5. a statement the wrapper cannot mirror with certainty is refused;
//  6. both tables are printed: the rows written before dual-writing are not
//     in accounts yet;
//  7. backfill (package backfill, as `dualwrite backfill` runs it) copies
//     them in batches, and verify (package verify, as `dualwrite verify`)
//     reports new = up(old) for every key;
//  8. DUALWRITE_READ_PHASE=compare: each query runs on both tables under one
//     snapshot, the caller gets the old rows, and the results are compared;
//  9. a row of accounts is corrupted on purpose: the caller still gets the
//     old value, and the mismatch is counted and logged;
//  10. the row is repaired by a dual write that touches it;
//  11. DUALWRITE_READ_PHASE=new: queries are served from accounts;
//  12. rollback: DUALWRITE_READ_PHASE=old, effective on the next statement;
//  13. the operator endpoint, dualwrite.Handler, shows and switches phases
//     (changes only from requests its authorization hook allows);
//  14. DUALWRITE_WRITE_PHASE=both: the release that speaks accounts is
//     deployed beside the old one; its writes to accounts are mirrored
//     back into users, the old release's writes to users forward into
//     accounts;
//  15. rollback: the new release is withdrawn, and the old release reads
//     and writes the rows the new one wrote as its own;
//  16. contract: the write phase off, users dropped, accounts alone;
//  17. the dualwrite_* metrics are printed.
//
// Run it with
//
//	go run ./examples/quickstart            # in a temporary directory
//	go run ./examples/quickstart -db q.db   # in q.db, which must not exist
//	go run ./examples/quickstart -db q.db -keep-old   # and stop before the contract
package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	_ "github.com/mattn/go-sqlite3" // registers the base driver "sqlite3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

//go:embed mapping.yaml
var mappingYAML []byte

// driverName is the name dualwrite is registered under. Like any
// database/sql driver name it is registered once per process.
const driverName = "dualwrite-sqlite3"

var (
	// registry collects dualwrite's metrics. A real program would serve it
	// with promhttp.HandlerFor(registry, promhttp.HandlerOpts{}).
	registry = prometheus.NewRegistry()
	// sw is the Switch every connection of driverName takes its phases from.
	// The environment sets them; sw's overrides, set by dualwrite.Handler
	// (step 13), take precedence while they are set.
	sw = dualwrite.NewSwitch()
	// logs collects what dualwrite logs at WARN and above (mismatches,
	// failed dual writes, invalid phases), for the program to print.
	logs         logSink
	theMapping   *mapping.Mapping
	registerOnce sync.Once
	registerErr  error
)

func main() {
	dbPath := flag.String("db", "", "SQLite file to create (it must not exist); default: a file in a temporary directory")
	keepOld := flag.Bool("keep-old", false, "stop before the contract (step 16): users stays, for a tour of the dualwrite command on the file")
	flag.Parse()
	if err := start(*dbPath, *keepOld); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// start runs the quickstart on dbPath, or on a file in a temporary directory
// that it removes afterwards.
func start(dbPath string, keepOld bool) error {
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "dualwrite-quickstart-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		dbPath = filepath.Join(dir, "quickstart.db")
	}
	return run(os.Stdout, dbPath, keepOld)
}

// register loads the embedded mapping and registers dualwrite over the
// sqlite3 driver, once per process.
func register() error {
	registerOnce.Do(func() {
		m, err := mapping.Parse(mappingYAML)
		if err != nil {
			registerErr = fmt.Errorf("mapping.yaml: %w", err)
			return
		}
		theMapping = m
		registerErr = dualwrite.Register(driverName, "sqlite3", m,
			dualwrite.WithRegisterer(registry),
			// Without WithSwitch each connector has its own Switch, which the
			// program could not reach; with it, Handler can switch phases.
			dualwrite.WithSwitch(sw),
			// Mismatches, failed dual writes and invalid phase values are
			// logged here: JSON lines without a time, so that the output is
			// the same on every run.
			dualwrite.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{
				Level: slog.LevelWarn,
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if len(groups) == 0 && a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				},
			}))),
		)
	})
	return registerErr
}

// run plays the migration on a new SQLite file at dbPath and writes what
// happens to w; with keepOld it stops before the contract.
func run(w io.Writer, dbPath string, keepOld bool) error {
	if _, err := os.Stat(dbPath); err == nil {
		return fmt.Errorf("%s exists; give the path of a new file", dbPath)
	}
	dsn := "file:" + dbPath + "?_busy_timeout=5000"

	// The operator starts with the write phase off and reads on the old
	// tables. The program sets both here so that its output does not depend
	// on the shell it runs in.
	if err := os.Setenv(dualwrite.WritePhaseEnv, "off"); err != nil {
		return err
	}
	if err := os.Setenv(dualwrite.ReadPhaseEnv, "old"); err != nil {
		return err
	}
	sw.ClearWrite()
	sw.ClearRead()
	logs.Reset()

	// 1. Before the migration: the application's table and its rows,
	// written with the plain sqlite3 driver.
	raw, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return err
	}
	defer func() { _ = raw.Close() }()
	if err := execAll(raw,
		`CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, email TEXT UNIQUE, visits INTEGER NOT NULL DEFAULT 0)`,
		`INSERT INTO users (id, full_name, email, visits) VALUES
			(1, 'Ada Lovelace', 'ada@example.com', 3),
			(2, 'Alan Turing', 'alan@example.com', 5)`,
		// A table the mapping does not name, for a join in step 8.
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER NOT NULL)`,
		`INSERT INTO orders (user_id, total) VALUES (1, 30), (1, 12), (2, 7)`,
	); err != nil {
		return err
	}
	fmt.Fprintln(w, "1. Before the migration: users has 2 rows (and orders 3), written by the plain sqlite3 driver.")

	// 2. Expand: create the new table (your own DDL, run without the wrapper).
	if err := execAll(raw,
		`CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, email_address TEXT, first_name TEXT, last_name TEXT, visits INTEGER NOT NULL DEFAULT 0)`,
	); err != nil {
		return err
	}
	fmt.Fprintln(w, "2. Expand: created the new table accounts.")

	// 3. Open the same database through dualwrite. The first connection
	// checks the mapping against the live schema.
	if err := register(); err != nil {
		return err
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if err := db.Ping(); err != nil {
		return err // a mapping that does not match the schema is reported here
	}
	fmt.Fprintf(w, "3. Opened %s with %s=off: writes reach users only.\n", driverName, dualwrite.WritePhaseEnv)
	if _, err := db.Exec(`INSERT INTO users (full_name, email) VALUES (?, ?)`, "Edsger Dijkstra", "ewd@example.com"); err != nil {
		return err
	}
	step(w, "INSERT Edsger Dijkstra", "id 3, in users only")

	// 4. The operator flips the write phase. It is read on every statement:
	// no restart, no reconnect.
	if err := os.Setenv(dualwrite.WritePhaseEnv, "dual"); err != nil {
		return err
	}
	fmt.Fprintf(w, "4. %s=dual: every write to users also lands in accounts, atomically.\n", dualwrite.WritePhaseEnv)
	if err := writes(w, db); err != nil {
		return err
	}

	// 5. A statement the wrapper cannot mirror with certainty is refused
	// before anything runs. users has a UNIQUE email besides its key, and
	// UPDATE OR REPLACE may delete a row by it without the mirror knowing.
	fmt.Fprintln(w, "5. Refused (nothing was executed):")
	_, err = db.Exec(`UPDATE OR REPLACE users SET email = 'ada@example.com' WHERE id = 4`)
	if !errors.Is(err, dualwrite.ErrUnsupported) {
		return fmt.Errorf("UPDATE OR REPLACE: got %w, want an error wrapping dualwrite.ErrUnsupported", err)
	}
	fmt.Fprintf(w, "   UPDATE OR REPLACE users ...: %v\n", err)
	_, err = db.Exec(`UPDATE accounts SET visits = 0`)
	if !errors.Is(err, dualwrite.ErrUnsupported) {
		return fmt.Errorf("UPDATE accounts: got %w, want an error wrapping dualwrite.ErrUnsupported", err)
	}
	fmt.Fprintf(w, "   UPDATE accounts ...: %v\n", err)

	// 6. Both tables, read with the plain driver.
	fmt.Fprintln(w, "6. Both tables, side by side by key (users.id = accounts.account_id):")
	if err := printTables(w, raw); err != nil {
		return err
	}
	fmt.Fprintln(w, "   Rows 1-3 were written before dual-writing began, so accounts does not have them yet.")

	if err := backfillAndVerify(w, raw); err != nil {
		return err
	}
	if err := reads(w, db, raw); err != nil {
		return err
	}
	if err := operatorEndpoint(w, db); err != nil {
		return err
	}
	if err := bothReleases(w, db, raw, dsn, keepOld); err != nil {
		return err
	}
	if logged := logs.Drain(); logged != "" {
		// Nothing else is expected; print it rather than hide it.
		fmt.Fprintln(w, "   dualwrite also logged:")
		printIndented(w, logged)
	}

	fmt.Fprintln(w, "17. Metrics (histograms: sample count only):")
	return printMetrics(w, registry)
}

// backfillAndVerify is step 7: the rows written before dual-writing began are
// copied by package backfill, in batches in key order (small ones here, to
// show them), and package verify then compares up(old) with the new row for
// every key. The command-line tool runs the same code:
//
//	dualwrite backfill --mapping examples/quickstart/mapping.yaml --dsn q.db
//	dualwrite verify --mapping examples/quickstart/mapping.yaml --dsn q.db
func backfillAndVerify(w io.Writer, raw *sql.DB) error {
	fmt.Fprintln(w, "7. Backfill: package backfill copies up(row) of every users row in key order, in batches")
	fmt.Fprintln(w, "   of 2 here (1000 by default), each batch a short transaction that records its checkpoint:")
	for _, t := range theMapping.Tables {
		p, err := backfill.Run(context.Background(), raw, rewrite.SQLite, rewrite.SQLite.Compile(t), backfill.Options{
			BatchSize: 2,
			Progress: func(p backfill.Progress) {
				fmt.Fprintf(w, "   %s: %d rows copied, %d left\n", p.Table, p.Rows, p.RowsLeft)
			},
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "   %s: done (%d rows copied, %d new rows without an old row deleted)\n", p.Table, p.Rows, p.Deleted)
	}
	// Record: the operator endpoint (step 13) moves reads off users only
	// after a recorded verify with no difference.
	rep, err := verify.Run(context.Background(), raw, rewrite.SQLite, theMapping, verify.Options{Record: true})
	if err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("verify found differences after the backfill: %+v", rep.Tables)
	}
	for _, t := range rep.Tables {
		fmt.Fprintf(w, "   verify %s -> %s: %d rows, %d matching, %d mismatched, %d missing in %s, %d extra in %s\n",
			t.Table, t.NewTable, t.RowsProcessed, t.Matching, t.Mismatched, t.MissingInNew, t.NewTable, t.ExtraInNew, t.NewTable)
	}
	fmt.Fprintln(w, "   Now accounts = up(users) for every key:")
	return printTables(w, raw)
}

// shownQuery is a query the read steps run, with its arguments.
type shownQuery struct {
	label, sql string
	args       []any
}

// queries are the reads of steps 8 and 11: a point query, a join with a
// table the mapping does not name, and an aggregate.
var queries = []shownQuery{
	{"point query", "SELECT id, full_name, email, visits FROM users WHERE id = ?", []any{1}},
	{"join", "SELECT u.full_name, count(o.id) AS orders, coalesce(sum(o.total), 0) AS spent FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id ORDER BY u.id", nil},
	{"aggregate", "SELECT count(*) AS n, sum(visits) AS visits, min(full_name) AS first FROM users", nil},
}

// reads plays steps 8 to 12: compare, a mismatch, the repair, new, and the
// rollback to old.
func reads(w io.Writer, db, raw *sql.DB) error {
	// 8. Shadow reads.
	if err := os.Setenv(dualwrite.ReadPhaseEnv, "compare"); err != nil {
		return err
	}
	fmt.Fprintf(w, "8. %s=compare: each query runs on users and, substituted, on accounts, under one snapshot;\n", dualwrite.ReadPhaseEnv)
	fmt.Fprintln(w, "   the caller gets the users rows, and the two results are compared.")
	for _, q := range queries {
		fmt.Fprintf(w, "   %s: %s\n", q.label, q.sql)
		got, outcome, err := compared(db, q)
		if err != nil {
			return err
		}
		want, err := textRows(raw, q.sql, q.args...)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("%s: the compare phase returned %q, the old table %q", q.label, got, want)
		}
		printRows(w, got)
		fmt.Fprintf(w, "     -> %s (the same rows as users read by the plain driver)\n", outcome)
	}

	// 9. A divergence the comparison must catch.
	point := queries[0]
	if err := execAll(raw, `UPDATE accounts SET last_name = 'Byron' WHERE account_id = 1`); err != nil {
		return err
	}
	fmt.Fprintln(w, "9. Corrupt accounts on purpose, with the plain driver: last_name of account 1 := 'Byron'.")
	fmt.Fprintf(w, "   %s again (compare):\n", point.label)
	got, outcome, err := compared(db, point)
	if err != nil {
		return err
	}
	printRows(w, got)
	fmt.Fprintf(w, "     -> %s; the caller still got the old value, from users\n", outcome)
	fmt.Fprintln(w, "   dualwrite logged (WARN, time dropped by the example's logger):")
	printIndented(w, logs.Drain())

	// 10. Repair: a dual write that touches the row copies up(row) again.
	if err := execAll(db, `UPDATE users SET visits = visits WHERE id = 1`); err != nil {
		return err
	}
	fmt.Fprintln(w, "10. Repair: UPDATE users SET visits = visits WHERE id = 1, through dualwrite: the mirror copies")
	fmt.Fprintln(w, "   up(row 1) into accounts again. The point query in compare:")
	got, outcome, err = compared(db, point)
	if err != nil {
		return err
	}
	printRows(w, got)
	fmt.Fprintf(w, "     -> %s\n", outcome)

	// 11. Cut reads over.
	if err := os.Setenv(dualwrite.ReadPhaseEnv, "new"); err != nil {
		return err
	}
	fmt.Fprintf(w, "11. %s=new: queries are served from accounts, through the mapping's reverse expressions.\n", dualwrite.ReadPhaseEnv)
	before := counter(registry, "dualwrite_reads_total", "phase", "new")
	for _, q := range queries {
		rows, err := textRows(db, q.sql, q.args...)
		if err != nil {
			return err
		}
		want, err := textRows(raw, q.sql, q.args...)
		if err != nil {
			return err
		}
		if !slices.Equal(rows, want) {
			return fmt.Errorf("%s: the new phase returned %q, the old table %q", q.label, rows, want)
		}
		fmt.Fprintf(w, "   %s:\n", q.label)
		printRows(w, rows)
	}
	fmt.Fprintf(w, "   The same rows as in step 8; dualwrite_reads_total{phase=\"new\"} went up by %g.\n",
		counter(registry, "dualwrite_reads_total", "phase", "new")-before)
	// Show where they come from: a change made to accounts only.
	if err := execAll(raw, `UPDATE accounts SET visits = 500 WHERE account_id = 2`); err != nil {
		return err
	}
	v, err := visitsOf(db, 2)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "   To see it, set visits of account 2 to 500 in accounts only (plain driver):")
	fmt.Fprintf(w, "   SELECT visits FROM users WHERE id = 2 -> %d (served from accounts)\n", v)

	// 12. Rollback.
	if err := os.Setenv(dualwrite.ReadPhaseEnv, "old"); err != nil {
		return err
	}
	v, err = visitsOf(db, 2)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "12. Rollback: %s=old, in force from the next statement:\n", dualwrite.ReadPhaseEnv)
	fmt.Fprintf(w, "   SELECT visits FROM users WHERE id = 2 -> %d (served from users)\n", v)
	return nil
}

// operatorToken is the token the example's operator endpoint accepts; a
// real program takes it from its secrets, or authorizes operators its own way.
const operatorToken = "example-operator-token"

// authorizeOperator allows the requests that carry operatorToken.
func authorizeOperator(r *http.Request) error {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+operatorToken)) != 1 {
		return errors.New("missing or wrong bearer token")
	}
	return nil
}

// operatorEndpoint is step 13: dualwrite.Handler on a test server, then the
// repair of account 2.
func operatorEndpoint(w io.Writer, db *sql.DB) error {
	srv := httptest.NewServer(dualwrite.Handler(sw, theMapping, registry, dualwrite.WithAuthorize(authorizeOperator), dualwrite.WithHandlerDB(db)))
	defer srv.Close()
	fmt.Fprintln(w, "13. The operator endpoint: dualwrite.Handler(sw, mapping, registry, dualwrite.WithAuthorize(...), dualwrite.WithHandlerDB(db)),")
	fmt.Fprintln(w, "    mounted on a test server; it moves reads off users only after the backfill and a recorded verify (step 7).")
	call := func(method, body, token string) error {
		req, err := http.NewRequest(method, srv.URL, strings.NewReader(body))
		if err != nil {
			return err
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		var st dualwrite.Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return err
		}
		what := method
		if body != "" {
			what += " " + body
		}
		if method == http.MethodPost && token == "" {
			what += " (no token)"
		}
		fmt.Fprintf(w, "   %-24s -> %d write_phase=%s read_phase=%s", what, resp.StatusCode, st.WritePhase, st.ReadPhase)
		if st.WriteOverride != "" {
			fmt.Fprintf(w, " write_override=%s", st.WriteOverride)
		}
		if st.ReadOverride != "" {
			fmt.Fprintf(w, " read_override=%s", st.ReadOverride)
		}
		fmt.Fprintln(w)
		if st.Error != "" {
			fmt.Fprintf(w, "     error: %s\n", st.Error)
		}
		return nil
	}
	showVisits := func(from string) error {
		v, err := visitsOf(db, 2)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "     SELECT visits FROM users WHERE id = 2 -> %d (%s)\n", v, from)
		return nil
	}
	for _, c := range []struct {
		method, body, token, from string
	}{
		{"GET", "", "", ""},
		{"POST", `{"read":"new"}`, "", ""}, // no token: refused
		{"POST", `{"read":"new"}`, operatorToken, "served from accounts"},
		{"POST", `{"write":"off"}`, operatorToken, ""},
		{"POST", `{"read":"default"}`, operatorToken, "back to the environment's old: served from users"},
	} {
		if err := call(c.method, c.body, c.token); err != nil {
			return err
		}
		if c.from != "" {
			if err := showVisits(c.from); err != nil {
				return err
			}
		}
	}
	// Repair account 2 as in step 10.
	if err := execAll(db, `UPDATE users SET visits = visits WHERE id = 2`); err != nil {
		return err
	}
	fmt.Fprintln(w, "   Repaired account 2 with UPDATE users SET visits = visits WHERE id = 2, through dualwrite.")
	return nil
}

// bothReleases plays steps 14 to 16 with oldRelease, the program's
// connection pool, which speaks users: the release that speaks accounts is
// deployed beside it in the write phase both, the old release is rolled
// back to, and finally the migration is contracted.
func bothReleases(w io.Writer, oldRelease, raw *sql.DB, dsn string, keepOld bool) error {
	if err := os.Setenv(dualwrite.WritePhaseEnv, "both"); err != nil {
		return err
	}
	// The new release: in a real deploy another build of the program, on
	// other machines, opening the database through dualwrite with the same
	// mapping file.
	newRelease, err := sql.Open(driverName, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = newRelease.Close() }()
	fmt.Fprintf(w, "14. %s=both: the release that speaks accounts is deployed beside the old one.\n", dualwrite.WritePhaseEnv)
	for _, s := range []struct {
		db             *sql.DB
		query, outcome string
	}{
		{newRelease, `INSERT INTO accounts (account_id, first_name, last_name, email_address) VALUES (70, 'Barbara', 'Liskov', 'barbara@example.com')`,
			"new release: account 70, and users row 70 as down(new)"},
		{newRelease, `UPDATE accounts SET last_name = 'Lovelace-King', visits = visits + 1 WHERE account_id = 1`,
			"new release: users row 1 follows"},
		{oldRelease, `UPDATE users SET visits = visits + 1 WHERE id = 70`,
			"old release: accounts row 70 follows"},
	} {
		if _, err := s.db.Exec(s.query); err != nil {
			return err
		}
		step(w, s.query, s.outcome)
	}
	if err := printTables(w, raw); err != nil {
		return err
	}

	// 15. Rollback: the new release goes away; the old release stays,
	// and nothing it needs is missing from users.
	if err := newRelease.Close(); err != nil {
		return err
	}
	if err := os.Setenv(dualwrite.WritePhaseEnv, "dual"); err != nil {
		return err
	}
	fmt.Fprintf(w, "15. Rollback: the new release is withdrawn and %s=dual again; the old release reads the rows it wrote as its own:\n", dualwrite.WritePhaseEnv)
	rows, err := textRows(oldRelease, `SELECT id, full_name, email, visits FROM users WHERE id IN (1, 70) ORDER BY id`)
	if err != nil {
		return err
	}
	printRows(w, rows)
	if _, err := oldRelease.Exec(`UPDATE users SET full_name = 'Barbara Jane Liskov' WHERE id = 70`); err != nil {
		return err
	}
	step(w, "old release: UPDATE users SET full_name = 'Barbara Jane Liskov' WHERE id = 70", "mirrored into accounts as before")

	if keepOld {
		fmt.Fprintln(w, "16. Contract: skipped (-keep-old): users stays.")
		return nil
	}
	// 16. Contract, once the new release runs everywhere again (both,
	// then off): nothing mirrors any more, and users is dropped with the
	// plain driver. This is the one step that cannot be undone.
	if err := os.Setenv(dualwrite.WritePhaseEnv, "off"); err != nil {
		return err
	}
	if err := execAll(raw, `DROP TABLE users`); err != nil {
		return err
	}
	fmt.Fprintf(w, "16. Contract: the new release deployed for good, %s=off, DROP TABLE users (plain driver). accounts alone:\n", dualwrite.WritePhaseEnv)
	rows, err = textRows(raw, `SELECT account_id, first_name, last_name, email_address, visits FROM accounts ORDER BY account_id`)
	if err != nil {
		return err
	}
	printRows(w, rows)
	return nil
}

// compared runs q through db in the compare phase and returns its rows and
// what the comparison found, read from dualwrite_read_compare_total.
func compared(db *sql.DB, q shownQuery) ([]string, string, error) {
	results := []string{"match", "mismatch", "error"}
	before := make([]float64, len(results))
	for i, r := range results {
		before[i] = counter(registry, "dualwrite_read_compare_total", "result", r)
	}
	rows, err := textRows(db, q.sql, q.args...)
	if err != nil {
		return nil, "", err
	}
	var found []string
	for i, r := range results {
		if d := counter(registry, "dualwrite_read_compare_total", "result", r) - before[i]; d != 0 {
			found = append(found, fmt.Sprintf("%s +%g", r, d))
		}
	}
	if len(found) == 0 {
		return rows, "not compared", nil
	}
	return rows, "dualwrite_read_compare_total: " + strings.Join(found, ", "), nil
}

func visitsOf(db *sql.DB, id int) (int64, error) {
	var v int64
	err := db.QueryRow(`SELECT visits FROM users WHERE id = ?`, id).Scan(&v)
	return v, err
}

// textRows returns a query's rows, each as its values joined by " | ".
func textRows(db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := cells(db, query, args...)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, row := range rows {
		out[i] = strings.Join(row, " | ")
	}
	return out, nil
}

// cells returns a query's rows as text, NULL as "NULL".
func cells(db *sql.DB, query string, args ...any) ([][]string, error) {
	rows, err := db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
			if !v.Valid {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func printRows(w io.Writer, rows []string) {
	for _, r := range rows {
		fmt.Fprintf(w, "     %s\n", r)
	}
}

func printIndented(w io.Writer, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(w, "   %s\n", line)
	}
}

// counter returns the sum of the series of the counter name whose label
// label has the value value.
func counter(reg prometheus.Gatherer, name, label, value string) float64 {
	families, err := reg.Gather()
	if err != nil {
		return 0
	}
	var sum float64
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// logSink is an io.Writer that keeps what dualwrite logs until the program
// prints it. It is safe for concurrent use.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// Drain returns what was logged since the last Drain and forgets it.
func (s *logSink) Drain() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.buf.String()
	s.buf.Reset()
	return out
}

// Reset forgets what was logged.
func (s *logSink) Reset() { s.Drain() }

// writes runs the dual-written statements of step 4.
func writes(w io.Writer, db *sql.DB) error {
	// An insert. The Result is the caller's statement's own.
	res, err := db.Exec(`INSERT INTO users (full_name, email) VALUES (?, ?)`, "Grace Hopper", "grace@example.com")
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	step(w, "INSERT Grace Hopper", fmt.Sprintf("id %d", id))

	// An update with expressions: the mirror reads the row after the write,
	// so it copies whatever the expressions computed.
	res, err = db.Exec(`UPDATE users SET visits = visits + 1, full_name = replace(full_name, ' ', ' Brewster ') WHERE id = ?`, id)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	step(w, "UPDATE visits = visits + 1, full_name = ...", fmt.Sprintf("%d row", n))

	// A transaction: its dual writes commit or roll back with it.
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if err := execAll(tx,
		`INSERT INTO users (full_name, email) VALUES ('Barbara Liskov', 'barbara@example.com'), ('Ken Thompson', 'ken@example.com')`,
		`UPDATE users SET visits = 10 WHERE email IN ('barbara@example.com', 'ken@example.com')`,
	); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	step(w, "BEGIN; INSERT 2 rows; UPDATE them; COMMIT", "ids 5 and 6")
	tx, err = db.Begin()
	if err != nil {
		return err
	}
	if err := execAll(tx, `INSERT INTO users (full_name) VALUES ('Rolled Back')`); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Rollback(); err != nil {
		return err
	}
	step(w, "BEGIN; INSERT Rolled Back; ROLLBACK", "in neither table")

	// A key change: the row leaves key 6 and arrives at key 60 on both sides.
	if err := execAll(db, `UPDATE users SET id = 60 WHERE email = 'ken@example.com'`); err != nil {
		return err
	}
	step(w, "UPDATE users SET id = 60 (was 6)", "key 6 gone, key 60 written")

	// A delete.
	if err := execAll(db, `DELETE FROM users WHERE id = 5`); err != nil {
		return err
	}
	step(w, "DELETE FROM users WHERE id = 5", "gone from both tables")
	return nil
}

// step prints one statement and what came of it.
func step(w io.Writer, statement, outcome string) {
	fmt.Fprintf(w, "   %-44s -> %s\n", statement, outcome)
}

type execer interface {
	Exec(query string, args ...any) (sql.Result, error)
}

func execAll(db execer, stmts ...string) error {
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(strings.Fields(q), " "), err)
		}
	}
	return nil
}

// printTables prints users and accounts joined on the key, with "-" where a
// table has no row for the key.
func printTables(w io.Writer, db *sql.DB) error {
	users, err := readRows(db, `SELECT id, full_name, email, visits FROM users`)
	if err != nil {
		return err
	}
	accounts, err := readRows(db, `SELECT account_id, first_name, last_name, email_address, visits FROM accounts`)
	if err != nil {
		return err
	}
	var keys []string
	for k := range users {
		keys = append(keys, k)
	}
	for k := range accounts {
		if _, ok := users[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) < len(keys[j])
		}
		return keys[i] < keys[j]
	})
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   users:\tid\tfull_name\temail\tvisits\t| accounts:\taccount_id\tfirst_name\tlast_name\temail_address\tvisits")
	absent := []string{"-", "", "", "", ""}
	for _, k := range keys {
		u, a := users[k], accounts[k]
		if u == nil {
			u = absent
		}
		if a == nil {
			a = absent
		}
		fmt.Fprintf(tw, "   \t%s\t|\t%s\n", strings.Join(u, "\t"), strings.Join(a, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			fmt.Fprintln(w, strings.TrimRight(line, " \n"))
		}
	}
	return nil
}

// readRows returns a query's rows as text, by the first column.
func readRows(db *sql.DB, query string) (map[string][]string, error) {
	rows, err := cells(db, query)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(rows))
	for _, row := range rows {
		out[row[0]] = row
	}
	return out, nil
}

// printMetrics prints the dualwrite_* series gathered from reg, one a line,
// in the Prometheus text format's "name{labels} value" shape. Histograms
// are printed as their sample count, since durations vary from run to run.
func printMetrics(w io.Writer, reg prometheus.Gatherer) error {
	families, err := reg.Gather()
	if err != nil {
		return err
	}
	for _, mf := range families {
		if !strings.HasPrefix(mf.GetName(), "dualwrite_") {
			continue
		}
		var lines []string
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := mf.GetName()
			var value float64
			switch {
			case m.GetCounter() != nil:
				value = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				name += "_count"
				value = float64(m.GetHistogram().GetSampleCount())
			default:
				continue
			}
			lines = append(lines, fmt.Sprintf("   %s{%s} %g", name, strings.Join(labels, ","), value))
		}
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
	return nil
}
