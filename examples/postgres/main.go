// Command postgres plays the migration of a users table to an accounts
// table on PostgreSQL, through dualwrite over pgx's database/sql driver:
//
//  1. users and its rows, written with the plain pgx driver;
//  2. expand: the new table accounts is created;
//  3. the program opens the database through dualwrite and sets the write
//     phase to dual: every write to users also lands in accounts, in one
//     statement;
//  4. a statement the wrapper cannot mirror yet is refused;
//  5. a stand-in for `dualwrite backfill` copies the rows written before;
//  6. reads in the compare phase, then in the new phase;
//  7. both tables, side by side.
//
// It works in a schema of its own, dualwrite_example_<random>, which it
// drops at the end unless -keep is given. Run it with
//
//	go run ./examples/postgres -dsn 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// or with the DSN in DUALWRITE_TEST_POSTGRES_DSN.
package main

import (
	"bytes"
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

	"github.com/jackc/pgx/v5/stdlib" // also registers the base driver "pgx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/mapping"
)

//go:embed mapping.yaml
var mappingYAML []byte

// dsnEnv is the variable the -dsn flag defaults to, the one the
// repository's PostgreSQL tests use.
const dsnEnv = "DUALWRITE_TEST_POSTGRES_DSN"

func main() {
	dsn := flag.String("dsn", os.Getenv(dsnEnv), "PostgreSQL URL of a database to work in (default $"+dsnEnv+")")
	keep := flag.Bool("keep", false, "keep the example's schema instead of dropping it")
	flag.Parse()
	if *dsn == "" {
		fmt.Fprintf(os.Stderr, "postgres: name a PostgreSQL server with -dsn or %s, e.g. -dsn 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'\n", dsnEnv)
		os.Exit(2)
	}
	if _, err := play(os.Stdout, *dsn, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		os.Exit(1)
	}
}

// outcome is what a run leaves for its test to check.
type outcome struct {
	Accounts [][]string // accounts at the end, by key
	Refused  error      // the error of the refused statement
}

// run plays the example in a new schema, which it drops at the end.
func run(w io.Writer, dsn string) (*outcome, error) { return play(w, dsn, false) }

func play(w io.Writer, dsn string, keep bool) (*outcome, error) {
	// A schema of our own, named in the DSN's search_path: every connection,
	// raw or wrapped, works in it.
	schema := fmt.Sprintf("dualwrite_example_%08x", rand.Uint32())
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += sep + "search_path=" + schema
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	defer func() { _ = raw.Close() }()
	if err := execAll(raw, "CREATE SCHEMA "+schema); err != nil {
		return nil, err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "postgres: keeping schema", schema)
	} else {
		defer func() { _, _ = raw.Exec("DROP SCHEMA " + schema + " CASCADE") }()
	}

	// 1. Before the migration, with the plain pgx driver.
	if err := execAll(raw,
		`CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE, visits int NOT NULL DEFAULT 0)`,
		`INSERT INTO users VALUES (1, 'Ada Lovelace', 'ada@example.com', 3), (2, 'Alan Turing', 'alan@example.com', 5)`,
	); err != nil {
		return nil, err
	}
	fmt.Fprintln(w, "1. Before the migration: users has 2 rows, written by the plain pgx driver.")

	// 2. Expand: your own DDL, run without the wrapper.
	if err := execAll(raw,
		`CREATE TABLE accounts (account_id bigint PRIMARY KEY, email_address text, first_name text, last_name text, visits int NOT NULL DEFAULT 0)`,
	); err != nil {
		return nil, err
	}
	fmt.Fprintln(w, "2. Expand: created the new table accounts.")

	// 3. Open the wrapper over a connector of pgx's stdlib package. The first
	// connection checks the mapping against the live schema.
	m, err := mapping.Parse(mappingYAML)
	if err != nil {
		return nil, fmt.Errorf("mapping.yaml: %w", err)
	}
	sw := dualwrite.NewSwitch()
	registry := prometheus.NewRegistry()
	base, err := (&stdlib.Driver{}).OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
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

	// 4. A key change: the wrapper locks the row, updates it, and moves the
	// new row from key 5 to key 50 in the same transaction.
	if _, err := db.Exec(`UPDATE users SET id = 50 WHERE id = 5`); err != nil {
		return nil, fmt.Errorf("UPDATE users SET id: %w", err)
	}
	fmt.Fprintln(w, "4. UPDATE users SET id = 50 WHERE id = 5                -> the new row moves to key 50 too")

	// Refused before anything runs: the new table is the mirror's alone.
	out := &outcome{}
	_, out.Refused = db.Exec(`UPDATE accounts SET visits = 0`)
	if !errors.Is(out.Refused, dualwrite.ErrUnsupported) {
		return nil, fmt.Errorf("UPDATE accounts: got %w, want an error wrapping dualwrite.ErrUnsupported", out.Refused)
	}
	fmt.Fprintln(w, "   Refused (nothing was executed):")
	fmt.Fprintf(w, "   UPDATE accounts SET visits = 0: %v\n", out.Refused)
	fmt.Fprintln(w, "   Both tables; rows 1 and 2 were written before dual-writing began:")
	if err := printTables(w, raw); err != nil {
		return nil, err
	}

	// 5. A stand-in for `dualwrite backfill` (a later release): one
	// INSERT ... SELECT of the mapping's expressions, neither batched nor
	// resumable, safe here only because nothing else writes meanwhile.
	t := m.Tables[0]
	var cols, exprs []string
	for _, col := range t.Columns {
		cols = append(cols, col.Name)
		exprs = append(exprs, col.Expr)
	}
	res, err := raw.Exec(fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE %s NOT IN (SELECT %s FROM %s)",
		t.New, strings.Join(cols, ", "), strings.Join(exprs, ", "), t.Old, t.Key[0], t.NewKey[0], t.New))
	if err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "5. Backfill stand-in (`dualwrite backfill` comes later): INSERT INTO %s (%s)\n", t.New, strings.Join(cols, ", "))
	fmt.Fprintf(w, "   SELECT <the mapping's expressions> FROM %s WHERE %s NOT IN (SELECT %s FROM %s) -> %d rows\n", t.Old, t.Key[0], t.NewKey[0], t.New, n)

	// 6. Reads: compare runs the query on both tables under one snapshot and
	// returns the users rows; new serves it from accounts.
	const q = `SELECT id, full_name, email, visits FROM users WHERE visits > $1 ORDER BY id`
	fmt.Fprintf(w, "6. Reads through the wrapper: %s ($1 = 1)\n", q)
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
	if err := execAll(db, `INSERT INTO users (id, full_name, email) VALUES (3, 'Grace Hopper', 'grace@example.com')`); err != nil {
		return err
	}
	step(w, "INSERT Grace Hopper", "id 3")

	// The mirror copies whatever the expressions computed.
	if err := execAll(db, `UPDATE users SET visits = visits + 1, full_name = replace(full_name, ' ', ' Brewster ') WHERE id = 3`); err != nil {
		return err
	}
	step(w, "UPDATE visits = visits + 1, full_name = replace(...)", "Grace Brewster Hopper")

	// A transaction: its dual writes commit or roll back with it.
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if err := execAll(tx,
		`INSERT INTO users (id, full_name, email) VALUES (4, 'Barbara Liskov', 'barbara@example.com'), (5, 'Ken Thompson', 'ken@example.com')`,
		`UPDATE users SET visits = 10 WHERE id IN (4, 5)`,
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

	// The caller gets exactly the rows of its own RETURNING.
	var id, visits int64
	if err := db.QueryRow(`INSERT INTO users AS u (id, full_name, email, visits) VALUES (5, 'Ken Thompson', 'ken@example.com', 1)
		ON CONFLICT (id) DO UPDATE SET visits = u.visits + excluded.visits RETURNING id, visits`).Scan(&id, &visits); err != nil {
		return err
	}
	step(w, "INSERT id 5 ON CONFLICT DO UPDATE ... RETURNING", fmt.Sprintf("RETURNING id %d, visits %d", id, visits))
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
// table has no row for it.
func printTables(w io.Writer, raw *sql.DB) error {
	rows, err := textRows(raw, `SELECT u.id, u.full_name, u.email, u.visits, a.account_id, a.first_name, a.last_name, a.email_address, a.visits
		FROM users u FULL JOIN accounts a ON a.account_id = u.id ORDER BY coalesce(u.id, a.account_id)`)
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
