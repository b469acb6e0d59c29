package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/dualwrite/dualwrite/internal/schema"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// target is what a command works on: the mapping, its dialect and, when
// --dsn was given, the database opened with the base driver.
type target struct {
	m      *mapping.Mapping
	d      *rewrite.Dialect
	driver string
	dsn    string
	db     *sql.DB // nil without --dsn
}

// close closes the database, if any.
func (t *target) close() {
	if t.db != nil {
		_ = t.db.Close()
	}
}

// pingTimeout bounds the first connection to the database.
const pingTimeout = 15 * time.Second

// open opens dsn with the base driver and pings it. The error names the
// driver and the DSN with its password hidden.
func open(ctx context.Context, driverName, dsn string) (*sql.DB, error) {
	where := fmt.Sprintf("--driver %s --dsn %s", driverName, redact(dsn))
	if driverName == "sqlite3" {
		// The sqlite3 driver creates a missing file: a mistyped path
		// would look like an empty database.
		if path := sqliteFile(dsn); path != "" {
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("cannot reach the database (%s): %s: the SQLite database file does not exist; check the path", where, path)
			}
		}
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("cannot open the database (%s): %s", where, hidePassword(err.Error(), dsn))
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("cannot reach the database (%s): %s", where, hidePassword(err.Error(), dsn))
	}
	return db, nil
}

// sqliteFile returns the file a go-sqlite3 DSN opens, or "" for an
// in-memory database.
func sqliteFile(dsn string) string {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == "" || path == ":memory:" || strings.Contains(query, "mode=memory") {
		return ""
	}
	return path
}

// passwordKV matches a password in a keyword/value DSN (password=secret).
var passwordKV = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redact returns dsn with its password, if any, replaced by xxxxx.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && strings.Contains(dsn, "://") {
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			}
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if start, end, ok := mysqlPassword(dsn); ok {
		return dsn[:start] + "xxxxx" + dsn[end:]
	}
	return passwordKV.ReplaceAllString(dsn, "${1}xxxxx")
}

// mysqlPassword returns where the password is in a
// github.com/go-sql-driver/mysql DSN, user:password@tcp(host:port)/dbname,
// found as the driver finds it: the user and password are before the last
// '@' that comes before the last '/', and the password after the first
// ':' of them.
func mysqlPassword(dsn string) (start, end int, ok bool) {
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return 0, 0, false
	}
	at := strings.LastIndexByte(dsn[:slash], '@')
	if at < 0 {
		return 0, 0, false
	}
	colon := strings.IndexByte(dsn[:at], ':')
	if colon < 0 {
		return 0, 0, false
	}
	return colon + 1, at, true
}

// password returns the password in dsn, or "".
func password(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && strings.Contains(dsn, "://") {
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				return pw
			}
		}
		return u.Query().Get("password")
	}
	if start, end, ok := mysqlPassword(dsn); ok {
		return dsn[start:end]
	}
	if m := passwordKV.FindStringSubmatch(dsn); m != nil {
		return strings.Trim(m[2], "'")
	}
	return ""
}

// hidePassword removes dsn's password from msg, in case a driver's error
// repeats it.
func hidePassword(msg, dsn string) string {
	if pw := password(dsn); pw != "" {
		return strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}

// inspect checks the mapping against the live schema, as the driver does
// at its first connection, and returns what the planner needs and every
// problem found.
func (t *target) inspect(ctx context.Context) (s *rewrite.Schema, problems []schema.Problem, err error) {
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = conn.Close() }()
	s, problems, err = schema.InspectConn(ctx, conn, t.d, t.m)
	if err != nil {
		return nil, nil, fmt.Errorf("checking the mapping against the live schema: %w", err)
	}
	return s, problems, nil
}

// printProblems lists the problems of the live schema on w, one per line.
func printProblems(w io.Writer, t *target, problems []schema.Problem) {
	fmt.Fprintf(w, "%s does not match the live schema: %d %s\n", t.m.File, len(problems), plural(len(problems), "problem", "problems"))
	for _, p := range problems {
		fmt.Fprintf(w, "  - %s\n", p.Error())
	}
}

// plural returns one when n is 1, else many.
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
