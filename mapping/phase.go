package mapping

import (
	"fmt"
	"strings"
)

// WritePhase says what the driver does with writes to a mapped old table.
// The zero value is not a valid phase; [Parse] and [Load] fill in [WriteOff]
// when the mapping file does not name one.
type WritePhase string

// The write phases, in the order a migration moves through them.
const (
	// WriteOff passes writes through to the old table only.
	WriteOff WritePhase = "off"
	// WriteDual mirrors every write to the new table in the same transaction.
	WriteDual WritePhase = "dual"
	// WriteBoth is dual, and also mirrors every write to a new table back
	// into its old table with the reverse expressions, in the same
	// transaction: the phase of a rolling deploy, when releases that speak
	// the old schema and releases that speak the new one run side by side.
	WriteBoth WritePhase = "both"
)

// Mirrors reports whether writes to the old tables are mirrored in phase p.
func (p WritePhase) Mirrors() bool { return p == WriteDual || p == WriteBoth }

// ReadPhase says where the driver sends reads of a mapped old table.
// The zero value is not a valid phase; [Parse] and [Load] fill in [ReadOld]
// when the mapping file does not name one.
type ReadPhase string

// The read phases, in the order a migration moves through them.
const (
	// ReadOld runs queries as written, against the old table.
	ReadOld ReadPhase = "old"
	// ReadCompare runs queries against both tables, compares the results and
	// returns the old table's result.
	ReadCompare ReadPhase = "compare"
	// ReadNew runs queries against the new table, seen through the reverse
	// projection so that it has the old table's shape.
	ReadNew ReadPhase = "new"
)

// ParseWritePhase parses a write phase as written in the mapping file or in
// the DUALWRITE_WRITE_PHASE environment variable. Surrounding spaces are
// ignored and case does not matter. The error for any other value names the
// value and lists the valid ones.
func ParseWritePhase(s string) (WritePhase, error) {
	switch p := WritePhase(strings.ToLower(strings.TrimSpace(s))); p {
	case WriteOff, WriteDual, WriteBoth:
		return p, nil
	}
	return "", fmt.Errorf("invalid write phase %q: valid values are %s, %s, %s", s, WriteOff, WriteDual, WriteBoth)
}

// ParseReadPhase parses a read phase as written in the mapping file or in
// the DUALWRITE_READ_PHASE environment variable. Surrounding spaces are
// ignored and case does not matter. The error for any other value names the
// value and lists the valid ones.
func ParseReadPhase(s string) (ReadPhase, error) {
	switch p := ReadPhase(strings.ToLower(strings.TrimSpace(s))); p {
	case ReadOld, ReadCompare, ReadNew:
		return p, nil
	}
	return "", fmt.Errorf("invalid read phase %q: valid values are %s, %s, %s", s, ReadOld, ReadCompare, ReadNew)
}
