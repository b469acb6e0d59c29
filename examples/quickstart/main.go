// Command quickstart shows dualwrite mirroring writes on a SQLite file.
//
// It plays one migration of a users table to an accounts table:
//
//  1. the state before the migration: users, with rows written by the plain
//     sqlite3 driver;
//  2. expand: the new table accounts is created;
//  3. the program opens the database through dualwrite with the write phase
//     off, so writes pass through to users only;
//  4. the operator sets DUALWRITE_WRITE_PHASE=dual, and from the next
//     statement on every write to users also lands in accounts, in the same
//     transaction;
//  5. a statement the wrapper cannot mirror with certainty is refused;
//  6. both tables and the dualwrite_* metrics are printed.
//
// Run it with
//
//	go run ./examples/quickstart            # in a temporary directory
//	go run ./examples/quickstart -db q.db   # in q.db, which must not exist
package main

import (
	"bytes"
	"database/sql"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/dualwrite/dualwrite/mapping"
)

//go:embed mapping.yaml
var mappingYAML []byte

// driverName is the name dualwrite is registered under. Like any
// database/sql driver name it is registered once per process.
const driverName = "dualwrite-sqlite3"

var (
	// registry collects dualwrite's metrics. A real program would serve it
	// with promhttp.HandlerFor(registry, promhttp.HandlerOpts{}).
	registry     = prometheus.NewRegistry()
	registerOnce sync.Once
	registerErr  error
)

func main() {
	dbPath := flag.String("db", "", "SQLite file to create (it must not exist); default: a file in a temporary directory")
	flag.Parse()
	if err := start(*dbPath); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// start runs the quickstart on dbPath, or on a file in a temporary directory
// that it removes afterwards.
func start(dbPath string) error {
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "dualwrite-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "quickstart.db")
	}
	return run(os.Stdout, dbPath)
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
		registerErr = dualwrite.Register(driverName, "sqlite3", m,
			dualwrite.WithRegisterer(registry),
			// Failed dual writes and invalid phase values are logged here.
			dualwrite.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))),
		)
	})
	return registerErr
}

// run plays the migration on a new SQLite file at dbPath and writes what
// happens to w.
func run(w io.Writer, dbPath string) error {
	if _, err := os.Stat(dbPath); err == nil {
		return fmt.Errorf("%s exists; give the path of a new file", dbPath)
	}
	dsn := "file:" + dbPath + "?_busy_timeout=5000"

	// The operator starts with the write phase off. The program sets it here
	// so that its output does not depend on the shell it runs in.
	if err := os.Setenv(dualwrite.WritePhaseEnv, "off"); err != nil {
		return err
	}

	// 1. Before the migration: the application's table and its rows,
	// written with the plain sqlite3 driver.
	raw, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return err
	}
	defer raw.Close()
	if err := execAll(raw,
		`CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, email TEXT UNIQUE, visits INTEGER NOT NULL DEFAULT 0)`,
		`INSERT INTO users (id, full_name, email, visits) VALUES
			(1, 'Ada Lovelace', 'ada@example.com', 3),
			(2, 'Alan Turing', 'alan@example.com', 5)`,
	); err != nil {
		return err
	}
	fmt.Fprintln(w, "1. Before the migration: users has 2 rows, written by the plain sqlite3 driver.")

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
	defer db.Close()
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
	// REPLACE may delete a row by it without the mirror knowing.
	fmt.Fprintln(w, "5. Refused (nothing was executed):")
	_, err = db.Exec(`REPLACE INTO users (id, full_name, email) VALUES (7, 'Grace Hopper', 'ada@example.com')`)
	if !errors.Is(err, dualwrite.ErrUnsupported) {
		return fmt.Errorf("REPLACE: got %v, want an error wrapping dualwrite.ErrUnsupported", err)
	}
	fmt.Fprintf(w, "   REPLACE INTO users ...: %v\n", err)
	_, err = db.Exec(`UPDATE accounts SET visits = 0`)
	if !errors.Is(err, dualwrite.ErrUnsupported) {
		return fmt.Errorf("UPDATE accounts: got %v, want an error wrapping dualwrite.ErrUnsupported", err)
	}
	fmt.Fprintf(w, "   UPDATE accounts ...: %v\n", err)

	// 6. Both tables, read with the plain driver.
	fmt.Fprintln(w, "6. Both tables, side by side by key (users.id = accounts.account_id):")
	if err := printTables(w, raw); err != nil {
		return err
	}
	fmt.Fprintln(w, "   Rows 1-3 were written before dual-writing began, so accounts does not have them yet:")
	fmt.Fprintln(w, "   backfill (a later release) copies them. A dual write that touches such a row mirrors it.")

	fmt.Fprintln(w, "7. Metrics (histograms: sample count only):")
	return printMetrics(w, registry)
}

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
	rows, err := db.Query(query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
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
		out[row[0]] = row
	}
	return out, rows.Err()
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
