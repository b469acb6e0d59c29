package dualwrite

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dualwrite/dualwrite/rewrite"
)

// The session settings of a MySQL connection, in the order of
// rewrite.MySQL.ConnSettings.
const (
	mySQLMode = 1 + iota
	mySQLCharset
	mySQLAutocommit
	mySQLStep
	_ // user
	mySQLVersion
	mySQLSelectLimit
	mySQLSafeUpdates
)

// mySQLNoLimit is sql_select_limit's default: no limit.
const mySQLNoLimit = "18446744073709551615"

// mySQLCharsets are the character sets in which a backslash or a quote
// byte is always that character: in big5, cp932, gbk and sjis it may be
// the second byte of another, and the server and dualwrite would split
// the text into different statements.
var mySQLCharsets = []string{"utf8mb4", "utf8mb3", "utf8", "latin1", "ascii", "binary"}

// checkMySQLSession checks a MySQL connection's session settings against
// what the plans need, whatever the first connection had.
func checkMySQLSession(session []string) error {
	if len(session) <= mySQLSafeUpdates {
		return nil // no check (WithoutSchemaCheck)
	}
	modes := strings.Split(strings.ToUpper(session[mySQLMode]), ",")
	for _, m := range []string{"ANSI_QUOTES", "NO_BACKSLASH_ESCAPES"} {
		if slices.Contains(modes, m) {
			return fmt.Errorf("the connection's sql_mode has %s, and dualwrite reads SQL as the server does without it: remove it from the sql_mode of the DSN (sql_mode='...') or of the server", m)
		}
	}
	if !slices.Contains(modes, "STRICT_TRANS_TABLES") && !slices.Contains(modes, "STRICT_ALL_TABLES") {
		return fmt.Errorf("the connection's sql_mode (%q) has neither STRICT_TRANS_TABLES nor STRICT_ALL_TABLES, and the mirror relies on strict mode to fail rather than write a changed value: add STRICT_TRANS_TABLES to the sql_mode of the DSN or of the server", session[mySQLMode])
	}
	if cs := strings.ToLower(session[mySQLCharset]); !slices.Contains(mySQLCharsets, cs) {
		return fmt.Errorf("the connection's character_set_client is %s, in which a backslash or quote byte may be part of another character: connect with charset=utf8mb4", cs)
	}
	if session[mySQLSelectLimit] != mySQLNoLimit {
		return fmt.Errorf("the connection's sql_select_limit is %s, which would cut the rows of the wrapper's own queries: leave it at its default", session[mySQLSelectLimit])
	}
	if session[mySQLSafeUpdates] != "0" {
		return fmt.Errorf("the connection has sql_safe_updates on, which refuses an UPDATE or DELETE as written that the wrapper's restricted statement would run: turn it off in the DSN or the server's configuration")
	}
	if session[mySQLAutocommit] != "1" {
		return fmt.Errorf("the connection has autocommit off: leave it on (remove autocommit=0 from the DSN or init_connect) and open transactions with BEGIN or db.BeginTx")
	}
	return nil
}

// mysqlPlanning returns the dialect the plans of a MySQL connector take,
// by the server's version (MariaDB 10.5 and later have RETURNING) and
// WithoutReturning, and s with the server's auto_increment_increment.
func (c *Connector) mysqlPlanning(s *rewrite.Schema) (*rewrite.Dialect, *rewrite.Schema) {
	d := rewrite.MySQLWithoutReturning
	if len(c.session) > mySQLVersion && mariaDBReturning(c.session[mySQLVersion]) && !c.cfg.noReturning {
		d = rewrite.MySQL
	}
	if len(c.session) > mySQLStep {
		cp := *s
		cp.AutoIncrementStep, _ = strconv.ParseInt(c.session[mySQLStep], 10, 64)
		cp.ZeroGenerates = !slices.Contains(strings.Split(strings.ToUpper(c.session[mySQLMode]), ","), "NO_AUTO_VALUE_ON_ZERO")
		s = &cp
	}
	return d, s
}

var mariaDBVersion = regexp.MustCompile(`^(\d+)\.(\d+)\..*MariaDB`)

// mariaDBReturning reports whether a server's VERSION() is MariaDB 10.5
// or later.
func mariaDBReturning(version string) bool {
	m := mariaDBVersion.FindStringSubmatch(version)
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major > 10 || major == 10 && minor >= 5
}
