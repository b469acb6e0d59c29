package verify_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
	"github.com/dualwrite/dualwrite/verify"
)

func ExampleRun() {
	dir, err := os.MkdirTemp("", "verify-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "app.db")+"?_journal_mode=WAL")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	for _, s := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`,
		`CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, display_name TEXT)`,
		`INSERT INTO users VALUES (1, 'ada'), (2, 'grace'), (3, 'alan')`,
		`INSERT INTO accounts VALUES (1, 'ADA'), (2, 'GRACIE'), (4, 'KURT')`,
	} {
		if _, err := db.Exec(s); err != nil {
			fmt.Println(err)
			return
		}
	}
	m, err := mapping.Parse([]byte(`
tables:
  - old: users
    new: accounts
    key: [id]
    columns: {account_id: id, display_name: upper(name)}
    reverse: {id: account_id, name: lower(display_name)}
`))
	if err != nil {
		fmt.Println(err)
		return
	}

	rep, err := verify.Run(context.Background(), db, rewrite.SQLite, m, verify.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ok:", rep.OK)
	for _, t := range rep.Tables {
		fmt.Printf("%s -> %s: %d rows, %d matching, %d mismatched, %d missing in new, %d extra in new\n",
			t.Table, t.NewTable, t.RowsProcessed, t.Matching, t.Mismatched, t.MissingInNew, t.ExtraInNew)
		for _, s := range t.Samples.Mismatched {
			for _, c := range s.Columns {
				fmt.Printf("  mismatched %v: %s is %q, want %q\n", s.Key, c.Column, c.Actual, c.Expected)
			}
		}
		for _, s := range t.Samples.MissingInNew {
			fmt.Printf("  missing in new %v\n", s.Key)
		}
		for _, s := range t.Samples.ExtraInNew {
			fmt.Printf("  extra in new %v\n", s.Key)
		}
	}
	// Output:
	// ok: false
	// users -> accounts: 4 rows, 1 matching, 1 mismatched, 1 missing in new, 1 extra in new
	//   mismatched map[id:2]: display_name is "GRACIE", want "GRACE"
	//   missing in new map[id:3]
	//   extra in new map[id:4]
}

func ExampleRoundTrip() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one in-memory database
	for _, s := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`,
		`CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, display_name TEXT)`,
		`INSERT INTO users VALUES (1, 'ada'), (2, 'Grace'), (3, NULL)`,
	} {
		if _, err := db.Exec(s); err != nil {
			fmt.Println(err)
			return
		}
	}
	m, err := mapping.Parse([]byte(`
tables:
  - old: users
    new: accounts
    key: [id]
    columns: {account_id: id, display_name: upper(name)}
    reverse: {id: account_id, name: lower(display_name)}
`))
	if err != nil {
		fmt.Println(err)
		return
	}

	// down(up(old)) = old for every old row? The new table is not read.
	rep, err := verify.RoundTrip(context.Background(), db, rewrite.SQLite, m, verify.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range rep.Tables {
		fmt.Printf("%s: %d rows, %d change shape\n", t.Table, t.RowsProcessed, t.Mismatched)
		for _, s := range t.Samples.Mismatched {
			for _, c := range s.Columns {
				fmt.Printf("  %v: %s %q comes back as %q\n", s.Key, c.Column, c.Expected, c.Actual)
			}
		}
	}
	// Output:
	// users: 3 rows, 1 change shape
	//   map[id:2]: name "Grace" comes back as "grace"
}
