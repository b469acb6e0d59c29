package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// common are the flags every command takes.
type common struct {
	driver  string
	dsn     string
	mapping string
}

// flagSet returns the command's flag set with the common flags; synopsis is
// the command's usage line after "dualwrite NAME".
func (a *app) flagSet(c *common, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("dualwrite "+a.name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.StringVar(&c.driver, "driver", "sqlite3", "the base driver: sqlite3, pgx or mysql")
	fs.StringVar(&c.dsn, "dsn", "", "the database's data source name, for the base driver")
	fs.StringVar(&c.mapping, "mapping", "", "the YAML mapping file (required)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: dualwrite %s %s\n\n%s\n\nFlags (-flag and --flag are the same):\n", a.name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parse parses args with fs, allowing flags after positional arguments (as
// in `explain "SELECT 1" --dsn x.db`), and returns the positional ones.
// Everything after "--" is positional. The error is flag.ErrHelp for -h,
// or says what is wrong (the flag package has printed the usage then).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// parseFlags parses the args of a command that takes no positional
// argument, and returns the exit status to stop with, or [proceed].
func (a *app) parseFlags(fs *flag.FlagSet, args []string) int {
	pos, code := a.parseArgs(fs, args)
	if code == proceed && len(pos) > 0 {
		return a.usage(fs, "unexpected argument %q", pos[0])
	}
	return code
}

// parseArgs parses args and returns the positional arguments among them
// and the exit status to stop with, or [proceed].
func (a *app) parseArgs(fs *flag.FlagSet, args []string) ([]string, int) {
	pos, err := parse(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK
	case err != nil:
		return nil, exitError // the flag package has printed the error and usage
	}
	return pos, proceed
}

// isSet reports whether args set the flag name of fs, once fs has parsed
// them.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// usage prints a command-line mistake and the command's usage, and returns
// [exitError].
func (a *app) usage(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(a.stderr, "dualwrite %s: %s\n", a.name, fmt.Sprintf(format, args...))
	fs.Usage()
	return exitError
}

// dialects maps the --driver values to their dialects.
var dialects = map[string]*rewrite.Dialect{"sqlite3": rewrite.SQLite, "pgx": rewrite.Postgres, "mysql": rewrite.MySQL}

// load checks the common flags, loads the mapping, and returns it with the
// dialect --driver selects. A flag mistake is a *usageError.
func (c *common) load() (*mapping.Mapping, *rewrite.Dialect, error) {
	d := dialects[c.driver]
	if d == nil {
		return nil, nil, &usageError{fmt.Sprintf("unknown --driver %q: use sqlite3, pgx or mysql", c.driver)}
	}
	if c.mapping == "" {
		return nil, nil, &usageError{"missing --mapping: give the path of the YAML mapping file"}
	}
	m, err := mapping.Load(c.mapping)
	if err != nil {
		return nil, nil, mappingError(c.mapping, err)
	}
	if m.Dialect != "" && m.Dialect != d.Name {
		want := "sqlite3"
		for name, dd := range dialects {
			if dd.Name == m.Dialect {
				want = name
			}
		}
		return nil, nil, fmt.Errorf("%s says dialect: %s, but --driver %s is for %s: pass --driver %s, or fix the mapping's dialect", c.mapping, m.Dialect, c.driver, d.Name, want)
	}
	return m, d, nil
}

// mappingError explains a failure of mapping.Load: every problem of a bad
// file, one per line with its file:line, or why the file cannot be read.
func mappingError(path string, err error) error {
	var me *mapping.Error
	if !errors.As(err, &me) {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // the os error, without Load's "mapping: " prefix
		}
		return fmt.Errorf("cannot read the mapping file (--mapping %s): %w", path, err)
	}
	return fmt.Errorf("bad mapping file %s:\n  %s", path, strings.ReplaceAll(err.Error(), "\n", "\n  "))
}

// setup loads the mapping and, when needDB is set or --dsn is given,
// opens and pings the database. It prints any error, and returns the exit
// status to stop with, or [proceed].
func (a *app) setup(ctx context.Context, fs *flag.FlagSet, c *common, needDB bool) (*target, int) {
	m, d, err := c.load()
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		return nil, a.usage(fs, "%s", ue.msg)
	case err != nil:
		return nil, a.fail(err)
	}
	t := &target{m: m, d: d, driver: c.driver, dsn: c.dsn}
	if c.dsn == "" {
		if needDB {
			return nil, a.usage(fs, "missing --dsn: give the database's data source name (for --driver %s)", c.driver)
		}
		return t, proceed
	}
	if t.db, err = open(ctx, c.driver, c.dsn); err != nil {
		return nil, a.fail(err)
	}
	return t, proceed
}
