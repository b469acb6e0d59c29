// Command mysql plays the migration of a users table to an accounts table
// on MariaDB or MySQL, through dualwrite over github.com/go-sql-driver/mysql:
//
//  1. users and its rows, written with the plain driver;
//  2. expand: the new table accounts is created;
//  3. the program opens the database through dualwrite and sets the write
//     phase to dual: every write to users also lands in accounts, in the
//     same transaction;
//  4. statements the wrapper cannot mirror are refused;
//  5. package backfill copies the rows written before, and package verify
//     checks accounts = up(users);
//  6. reads in the compare phase, then in the new phase;
//  7. both tables, side by side.
//
// It works in a database of its own, dualwrite_example_<random>, which it
// drops at the end unless -keep is given. Run it with
//
//	go run ./examples/mysql -dsn 'root@tcp(127.0.0.1:3306)/test'
//
// or with the DSN in DUALWRITE_TEST_MYSQL_DSN.
package main

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/go-sql-driver/mysql" // also registers the base driver "mysql"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

//go:embed mapping.yaml
var mappingYAML []byte

// dsnEnv is the variable the -dsn flag defaults to, the one the
// repository's MySQL tests use.
const dsnEnv = "DUALWRITE_TEST_MYSQL_DSN"

func main() {
	dsn := flag.String("dsn", os.Getenv(dsnEnv), "DSN of a MariaDB or MySQL server to work on (default $"+dsnEnv+")")
	keep := flag.Bool("keep", false, "keep the example's database instead of dropping it")
	flag.Parse()
	if *dsn == "" {
		fmt.Fprintf(os.Stderr, "mysql: name a MariaDB or MySQL server with -dsn or %s, e.g. -dsn 'root@tcp(127.0.0.1:3306)/test'\n", dsnEnv)
		os.Exit(2)
	}
	if _, err := play(os.Stdout, *dsn, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "mysql:", err)
		os.Exit(1)
	}
}

// outcome is what a run leaves for its test to check.
type outcome struct {
	Accounts [][]string // accounts at the end, by key
	Refused  []error    // the errors of the refused statements
}

// run plays the example in a new database, which it drops at the end.
func run(w io.Writer, dsn string) (*outcome, error) { return play(w, dsn, false) }

func play(w io.Writer, dsn string, keep bool) (*outcome, error) {
	// A database of our own, named in the DSN: every connection, raw or
	// wrapped, works in it.
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("-dsn: %w", err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	defer func() { _ = admin.Close() }()
	cfg.DBName = fmt.Sprintf("dualwrite_example_%08x", rand.Uint32())
	if err := execAll(admin, "CREATE DATABASE "+cfg.DBName); err != nil {
		return nil, err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "mysql: keeping database", cfg.DBName)
	} else {
		defer func() { _, _ = admin.Exec("DROP DATABASE " + cfg.DBName) }()
	}
	base, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	raw := sql.OpenDB(base)
	defer func() { _ = raw.Close() }()

	// 1. Before the migration, with the plain driver.
	if err := execAll(raw,
		`CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, full_name VARCHAR(200) NOT NULL, email VARCHAR(200) UNIQUE, visits INT NOT NULL DEFAULT 0)`,
		`INSERT INTO users (id, full_name, email, visits) VALUES (1, 'Ada Lovelace', 'ada@example.com', 3), (2, 'Alan Turing', 'alan@example.com', 5)`,
	); err != nil {
		return nil, err
	}
	fmt.Fprintln(w, "1. Before the migration: users has 2 rows, written by the plain driver.")

	// 2. Expand: your own DDL, run without the wrapper.
	if err := execAll(raw,
		`CREATE TABLE accounts (account_id BIGINT PRIMARY KEY, email_address VARCHAR(200), first_name VARCHAR(200), last_name VARCHAR(200), visits INT NOT NULL DEFAULT 0)`,
	); err != nil {
		return nil, err
	}
	fmt.Fprintln(w, "2. Expand: created the new table accounts.")

	// 3. Open the wrapper over the driver's connector. The first
	// connection checks the mapping against the live schema and the
	// session (sql_mode, character set, autocommit).
	m, err := mapping.Parse(mappingYAML)
	if err != nil {
		return nil, fmt.Errorf("mapping.yaml: %w", err)
	}
	sw := dualwrite.NewSwitch()
	registry := prometheus.NewRegistry()
	c, err := dualwrite.NewConnector(base, m, dualwrite.WithSwitch(sw), dualwrite.WithRegisterer(registry))
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	defer func() { _ = db.Close() }()
	if err := db.Ping(); err != nil {
		return nil, err // a mapping that does not match the schema is reported here
	}
	// The Switch's overrides take precedence over DUALWRITE_WRITE_PHASE and
	// DUALWRITE_READ_PHASE, so the output does not depend on the shell.
	if err := sw.SetRead(mapping.ReadOld, m.Phases.Write); err != nil {
		return nil, err
	}
	if err := sw.SetWrite(mapping.WriteDual); err != nil {
		return nil, err
	}
	fmt.Fprintln(w, "3. Opened the wrapper and set the write phase to dual: every write to users also lands in accounts.")
	if err := writes(w, db); err != nil {
		return nil, err
	}

	// 4. Refused before anything runs.
	out := &outcome{}
	fmt.Fprintln(w, "4. Refused (nothing was executed):")
	for _, q := range []string{
		`UPDATE accounts SET visits = 0`,                          // the new table is the mirror's alone
		`UPDATE users SET id = FLOOR(RAND() * 100) WHERE id = 50`, // a new key that cannot be computed twice alike
		`REPLACE INTO users (id, full_name) VALUES (1, 'x')`,      // users.email is unique too
	} {
		_, err := db.Exec(q)
		if !errors.Is(err, dualwrite.ErrUnsupported) {
			return nil, fmt.Errorf("%s: got %w, want an error wrapping dualwrite.ErrUnsupported", q, err)
		}
		out.Refused = append(out.Refused, err)
		fmt.Fprintf(w, "   %s:\n     %v\n", q, err)
	}
	fmt.Fprintln(w, "   Both tables; rows 1 and 2 were written before dual-writing began:")
	if err := printTables(w, raw); err != nil {
		return nil, err
	}

	// 5. Backfill and verify, as `dualwrite backfill` and `dualwrite
	// verify --driver mysql` run them.
	t := m.Tables[0]
	p, err := backfill.Run(context.Background(), raw, rewrite.MySQL, rewrite.MySQL.Compile(t), backfill.Options{})
	if err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	fmt.Fprintf(w, "5. Backfill: %d rows of %s copied into %s in key order; verify:", p.Rows, t.Old, t.New)
	rep, err := verify.Run(context.Background(), raw, rewrite.MySQL, m, verify.Options{})
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if !rep.OK {
		return nil, fmt.Errorf("verify found differences after the backfill: %+v", rep.Tables)
	}
	for _, r := range rep.Tables {
		fmt.Fprintf(w, " %d rows, %d matching, %d mismatched, %d missing, %d extra\n", r.RowsProcessed, r.Matching, r.Mismatched, r.MissingInNew, r.ExtraInNew)
	}

	// 6. Reads: compare runs the query on both tables under one snapshot
	// and returns the users rows; new serves it from accounts.
	const q = `SELECT id, full_name, email, visits FROM users WHERE visits > ? ORDER BY id`
	fmt.Fprintf(w, "6. Reads through the wrapper: %s (? = 1)\n", q)
	for _, phase := range []mapping.ReadPhase{mapping.ReadCompare, mapping.ReadNew} {
		if err := sw.SetRead(phase, m.Phases.Write); err != nil {
			return nil, err
		}
		rows, err := textRows(db, q, 1)
		if err != nil {
			return nil, err
		}
		switch phase {
		case mapping.ReadCompare:
			fmt.Fprintf(w, "   read phase compare: the users rows, compared with accounts' (dualwrite_read_compare_total{result=\"match\"} = %g)\n",
				counter(registry, "dualwrite_read_compare_total", "result", "match"))
		default:
			fmt.Fprintln(w, "   read phase new: served from accounts, through the mapping's reverse expressions")
		}
		for _, r := range rows {
			fmt.Fprintf(w, "     %s\n", strings.Join(r, " | "))
		}
	}

	// 7. The end state.
	fmt.Fprintln(w, "7. Both tables, side by side by key: accounts = up(users) for every row.")
	if err := printTables(w, raw); err != nil {
		return nil, err
	}
	if out.Accounts, err = textRows(raw, `SELECT account_id, first_name, last_name, email_address, visits FROM accounts ORDER BY account_id`); err != nil {
		return nil, err
	}
	return out, nil
}

// writes runs the dual-written statements of step 3.
func writes(w io.Writer, db *sql.DB) error {
	r, err := db.Exec(`INSERT INTO users (full_name, email) VALUES ('Grace Hopper', 'grace@example.com')`)
	if err != nil {
		return err
	}
	id, err := r.LastInsertId()
	if err != nil {
		return err
	}
	step(w, "INSERT Grace Hopper (id left to AUTO_INCREMENT)", fmt.Sprintf("LastInsertId %d, mirrored by it", id))

	// The mirror copies whatever the expressions computed.
	if err := execAll(db, `UPDATE users SET visits = visits + 1, full_name = REPLACE(full_name, ' ', ' Brewster ') WHERE id = 3`); err != nil {
		return err
	}
	step(w, "UPDATE visits = visits + 1, full_name = REPLACE(...)", "Grace Brewster Hopper")

	// A transaction: its dual writes commit or roll back with it.
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if err := execAll(tx,
		`INSERT INTO users (id, full_name, email) VALUES (4, 'Barbara Liskov', 'barbara@example.com'), (5, 'Ken Thompson', 'ken@example.com')`,
		`UPDATE users SET visits = 10 WHERE id IN (4, 5) ORDER BY id LIMIT 2`,
	); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	step(w, "BEGIN; INSERT ids 4, 5; UPDATE them; COMMIT", "both tables")

	if err := execAll(db, `DELETE FROM users WHERE id = 4`); err != nil {
		return err
	}
	step(w, "DELETE FROM users WHERE id = 4", "gone from both tables")

	// A key change: the wrapper locks the row, computes its new key from
	// the SET, and moves the new row from key 5 to key 50 too.
	if err := execAll(db, `UPDATE users SET id = id * 10 WHERE id = 5`); err != nil {
		return err
	}
	step(w, "UPDATE users SET id = id * 10 WHERE id = 5", "the new row moves to key 50 too")
	return nil
}

func step(w io.Writer, statement, outcome string) {
	fmt.Fprintf(w, "   %-52s -> %s\n", statement, outcome)
}

func execAll(db interface {
	Exec(string, ...any) (sql.Result, error)
}, stmts ...string) error {
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(strings.Fields(q), " "), err)
		}
	}
	return nil
}

// textRows returns a query's rows as text, NULL as "-".
func textRows(db *sql.DB, query string, args ...any) ([][]string, error) {
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
				row[i] = "-"
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// printTables prints users and accounts joined on the key, "-" where a
// table has no row for it (MySQL has no FULL JOIN: the union of two).
func printTables(w io.Writer, raw *sql.DB) error {
	rows, err := textRows(raw, `SELECT * FROM (
		SELECT u.id AS uid, u.full_name, u.email, u.visits AS uvisits, a.account_id, a.first_name, a.last_name, a.email_address, a.visits AS avisits
		FROM users u LEFT JOIN accounts a ON a.account_id = u.id
		UNION ALL
		SELECT NULL, NULL, NULL, NULL, a.account_id, a.first_name, a.last_name, a.email_address, a.visits
		FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.account_id)) x
		ORDER BY COALESCE(uid, account_id)`)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   users:\tid\tfull_name\temail\tvisits\t| accounts:\taccount_id\tfirst_name\tlast_name\temail_address\tvisits")
	for _, r := range rows {
		fmt.Fprintf(tw, "   \t%s\t|\t%s\n", strings.Join(r[:4], "\t"), strings.Join(r[4:], "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	return nil
}

// counter returns the sum of the series of the counter name whose label has
// the value value.
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
