// Command dualwrite is the operator's tool for a migration with the
// dualwrite driver: it checks a mapping against the live schema, explains
// what the driver would do with a statement, shows the phases and the
// progress of a migration, backfills the new tables and verifies that
// new = up(old) for every key (old = down(new), and down(up(old)) = old,
// on request).
//
// Usage:
//
//	dualwrite <command> --mapping FILE [--driver sqlite3|pgx|mysql] [--dsn DSN] [flags]
//
// The commands are check, explain, status, backfill, verify, phase and fence; `dualwrite
// help` lists them with their flags. The exit status is 0 on success, 1 when
// check finds problems or verify finds differences, and 2 on any error: bad
// flags, an unreadable mapping, an unreachable database.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/go-sql-driver/mysql" // the "mysql" driver
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "github.com/mattn/go-sqlite3"    // the "sqlite3" driver
)

// Exit statuses.
const (
	exitOK       = 0
	exitFindings = 1 // check found problems, verify found differences
	exitError    = 2 // bad usage, or the command could not do its work

	// proceed is not an exit status: the command goes on.
	proceed = -1
)

const usage = `dualwrite: check, backfill and verify a migration with the dualwrite driver.

Usage:
  dualwrite <command> --mapping FILE [--driver sqlite3|pgx|mysql] [--dsn DSN] [flags]

Commands:
  check      check the mapping against the live schema; list every problem;
             check down(up(old)) = old on the first rows of each table
             [--round-trip-sample N]
  explain    show what the driver does with a statement, without running it:
             dualwrite explain [--dsn DSN] [--json] "<sql>"
  status     the phases in force and what decides them; with --dsn the fleet's
             shared phases and processes, row counts, backfill progress and
             the last recorded verify per table [--fleet NAME]
  backfill   copy the old rows into the new tables, in batches, resumably
             [--batch-size N] [--rows-per-second R] [--pause D] [--reset] [--table T]
  verify     compare every new row with up(old row); exit 1 on any difference
             [--batch-size N] [--samples N] [--json] [--table T]
             [--direction forward|reverse] [--round-trip] [--no-record]
  phase      dualwrite phase set|history: change the fleet's shared phases
             when it is safe, or list the changes
             [--write P] [--read P] [--force] [--fleet NAME]
  fence      dualwrite fence install|remove|status: on PostgreSQL, make every
             write that does not come through dualwrite's mirror fail at COMMIT
             [--both] (install: the fence of the write phase both)
  help       show this text

Flags of every command:
  --mapping FILE   the YAML mapping file (required)
  --driver NAME    sqlite3 (default), pgx or mysql (MySQL and MariaDB); must
                   agree with the mapping's dialect
  --dsn DSN        the database, opened with the base driver (required but for
                   explain and status)

Run 'dualwrite <command> -h' for a command's flags.
Exit status: 0 success; 1 check found problems or verify found differences;
2 error (bad flags, bad mapping, unreachable database, failed command).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program name) and returns
// the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError // no command is a usage error
	}
	a := &app{stdout: stdout, stderr: stderr, name: args[0]}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "check":
		return a.check(ctx, args[1:])
	case "explain":
		return a.explain(ctx, args[1:])
	case "status":
		return a.status(ctx, args[1:])
	case "backfill":
		return a.backfill(ctx, args[1:])
	case "verify":
		return a.verify(ctx, args[1:])
	case "fence":
		return a.fence(ctx, args[1:])
	case "phase":
		return a.phase(ctx, args[1:])
	}
	fmt.Fprintf(stderr, "dualwrite: unknown command %q: use check, explain, status, backfill, verify, phase or fence (dualwrite help lists them)\n", args[0])
	return exitError
}

// app is one run of a command: where it writes, and its name for messages.
type app struct {
	stdout, stderr io.Writer
	name           string
}

// fail prints err as the command's error and returns [exitError].
func (a *app) fail(err error) int {
	fmt.Fprintf(a.stderr, "dualwrite %s: %v\n", a.name, err)
	return exitError
}
