package mytest

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a MySQL or MariaDB server's version, read from VERSION().
// It imports no driver, so that the MySQL dialect can take it over as is.
type Version struct {
	MariaDB             bool
	Major, Minor, Patch int
}

// ParseVersion reads VERSION()'s text: "10.11.19-MariaDB-0+deb12u1" for
// MariaDB, "8.0.36" or "8.4.0-log" for MySQL. MariaDB names itself in the
// suffix; a "5.5.5-" prefix (what MariaDB before 11 sends in the
// handshake, for old clients) is skipped.
func ParseVersion(s string) (Version, error) {
	v := Version{MariaDB: strings.Contains(s, "MariaDB")}
	text := s
	if v.MariaDB {
		text = strings.TrimPrefix(text, "5.5.5-")
	}
	if i := strings.IndexAny(text, "-+ "); i >= 0 {
		text = text[:i]
	}
	parts := strings.Split(text, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("server version %q: want major.minor.patch", s)
	}
	for i, dst := range []*int{&v.Major, &v.Minor, &v.Patch} {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return Version{}, fmt.Errorf("server version %q: %w", s, err)
		}
		*dst = n
	}
	return v, nil
}

// atLeast reports whether v is at least major.minor.patch.
func (v Version) atLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

// InsertReturning reports whether the server has INSERT ... RETURNING
// (and REPLACE ... RETURNING): MariaDB 10.5 and later; no MySQL.
func (v Version) InsertReturning() bool { return v.MariaDB && v.atLeast(10, 5, 0) }

// DeleteReturning reports whether the server has single-table
// DELETE ... RETURNING: MariaDB 10.0.5 and later; no MySQL.
func (v Version) DeleteReturning() bool { return v.MariaDB && v.atLeast(10, 0, 5) }

// String spells v as "MariaDB 10.11.19" or "MySQL 8.0.36".
func (v Version) String() string {
	name := "MySQL"
	if v.MariaDB {
		name = "MariaDB"
	}
	return fmt.Sprintf("%s %d.%d.%d", name, v.Major, v.Minor, v.Patch)
}
