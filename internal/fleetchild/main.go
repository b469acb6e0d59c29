// Command fleetchild is one process of a fleet, for the tests of shared
// phases: it opens a database through dualwrite with
// dualwrite.WithSharedPhases, prints the phases it runs whenever they
// change, and obeys commands read from its standard input.
//
//	fleetchild -driver sqlite3 -dsn FILE -mapping FILE [-fleet NAME] [-refresh D]
//
// Output lines: "phases write=W read=R" at start and at each change.
// Commands: "write PHASE" sets the Switch's write override, "clear" removes
// it; end of input stops the process, which closes the database (and
// deletes its record).
package main

import (
	"bufio"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/dualwrite/dualwrite"
	"github.com/dualwrite/dualwrite/mapping"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fleetchild:", err)
		os.Exit(2)
	}
}

func run() error {
	base := flag.String("driver", "sqlite3", "the base driver")
	dsn := flag.String("dsn", "", "the database")
	file := flag.String("mapping", "", "the mapping file")
	fleet := flag.String("fleet", "", "the fleet")
	refresh := flag.Duration("refresh", 50*time.Millisecond, "how often the shared phases are read")
	flag.Parse()
	m, err := mapping.Load(*file)
	if err != nil {
		return err
	}
	sw := dualwrite.NewSwitch()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err = dualwrite.Register("dualwrite-fleet", *base, m, dualwrite.WithSwitch(sw), dualwrite.WithLogger(logger),
		dualwrite.WithSharedPhases(dualwrite.SharedPhases{Fleet: *fleet, Refresh: *refresh, Version: "fleetchild"}))
	if err != nil {
		return err
	}
	db, err := sql.Open("dualwrite-fleet", *dsn)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if err := db.Ping(); err != nil {
		return err
	}
	var mu sync.Mutex // serializes the output
	last := ""
	report := func() {
		mu.Lock()
		defer mu.Unlock()
		now := fmt.Sprintf("phases write=%s read=%s", sw.Write(m.Phases.Write), sw.Read(m.Phases))
		if now != last {
			fmt.Println(now)
			last = now
		}
	}
	report()
	go func() {
		for range time.Tick(*refresh / 5) {
			report()
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch f := strings.Fields(in.Text()); {
		case len(f) == 2 && f[0] == "write":
			if err := sw.SetWrite(mapping.WritePhase(f[1])); err != nil {
				return err
			}
		case len(f) == 1 && f[0] == "clear":
			sw.ClearWrite()
		default:
			return fmt.Errorf("unknown command %q", in.Text())
		}
		report()
	}
	return in.Err()
}
