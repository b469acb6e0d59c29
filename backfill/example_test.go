package backfill_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver

	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Backfill every table of a mapping, with rows that were written before
// dual writing began.
func Example() {
	dir, err := os.MkdirTemp("", "backfill-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// The base driver, not dualwrite; a busy timeout so that batches wait
	// for the application's writes.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "app.db")+"?_busy_timeout=10000")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	for _, s := range append(corpus.Schema,
		"INSERT INTO users (id, full_name) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing'), (3, 'Grace Hopper')",
		"INSERT INTO memberships VALUES (1, 1, 'admin'), (1, 2, 'member')") {
		if _, err := db.Exec(s); err != nil {
			log.Fatal(err)
		}
	}

	m, err := mapping.Parse([]byte(corpus.Mapping))
	if err != nil {
		log.Fatal(err)
	}
	d := rewrite.DialectByName(m.Dialect)
	for _, mt := range m.Tables {
		p, err := backfill.Run(context.Background(), db, d, d.Compile(mt), backfill.Options{BatchSize: 2})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s -> %s: %d rows copied, done: %v\n", mt.Old, mt.New, p.Rows, p.Done)
	}
	var first, last string
	if err := db.QueryRow("SELECT first_name, last_name FROM accounts WHERE account_id = 3").Scan(&first, &last); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("account 3: %q %q\n", first, last)
	// Output:
	// users -> accounts: 3 rows copied, done: true
	// memberships -> members: 2 rows copied, done: true
	// account 3: "Grace" "Hopper"
}
