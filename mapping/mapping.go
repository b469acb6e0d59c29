package mapping

import (
	"fmt"
	"os"
)

// Mapping is a validated mapping file. [Load] and [Parse] return it; nothing
// in this package changes it afterwards, so it is safe for concurrent use by
// any number of readers as long as nobody modifies it.
type Mapping struct {
	// File is the path given to [Load]; "" when the mapping came from [Parse].
	File string
	// Dialect is "sqlite", "postgres" or "mysql", or "" when the file does not
	// say, in which case the driver infers it from the base driver.
	Dialect string
	// Phases are the phases the file asks for. The environment variables
	// DUALWRITE_WRITE_PHASE and DUALWRITE_READ_PHASE override them.
	Phases Phases
	// Tables are the mapped table pairs, in file order. There is at least one.
	Tables []*Table
	// Flipped is set on the mapping [Mapping.Flip] returns.
	Flipped bool
}

// Phases are the default write and read phases of a mapping. When the file
// does not name them they are [WriteOff] and [ReadOld].
type Phases struct {
	Write WritePhase
	Read  ReadPhase
}

// Table maps one old table to one new table.
//
// Names are stored without the double quotes the file may put around them.
// Columns and Reverse keep the order of the file.
type Table struct {
	// Old is the table the application reads and writes.
	Old string
	// New is the table being migrated to.
	New string
	// Key are the columns of a unique key of the old table, in file order.
	Key []string
	// NewKey are the new columns that Key maps to by plain rename, in the
	// same order: Columns has an entry NewKey[i] whose expression is Key[i].
	NewKey []string
	// Columns has one entry for every column of the new table: its name and
	// an SQL expression over the columns of one old row (the "up" projection).
	Columns []Column
	// Reverse has one entry for every column of the old table, in the old
	// table's column order: its name and an SQL expression over the columns
	// of one new row (the "down" projection, used to read from the new table).
	Reverse []Column
	// Line is the line of the table's entry in the file.
	Line int
}

// Column is one entry of [Table.Columns] or [Table.Reverse].
type Column struct {
	// Name is the column being defined, without quotes.
	Name string
	// Expr is the SQL expression that computes it, as written in the file
	// with surrounding white space removed. It is never empty.
	Expr string
	// Line is the line of the entry in the file.
	Line int
}

// Load reads the mapping file at path and parses it with [Parse]. File is
// set to path in the result and in every [*Error]. When the file cannot be
// read, the error wraps the [os.ReadFile] error, which names the path.
func Load(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	m, err := parse(data, path)
	if err != nil {
		return nil, err
	}
	m.File = path
	return m, nil
}

// Parse parses and validates a mapping file's contents. It reports every
// problem it finds, not only the first: the error is an [errors.Join] of
// [*Error] values in line order. On error the returned *Mapping is nil.
func Parse(data []byte) (*Mapping, error) {
	return parse(data, "")
}

// Table returns the mapping of the old table with the given name, compared
// case-insensitively (ASCII), or nil if the table is not mapped. The name is
// given without quotes.
func (m *Mapping) Table(old string) *Table {
	for _, t := range m.Tables {
		if equalFold(t.Old, old) {
			return t
		}
	}
	return nil
}

// Column returns the entry of [Table.Columns] for the new column with the
// given name, compared case-insensitively (ASCII), and whether there is one.
func (t *Table) Column(newName string) (Column, bool) {
	return find(t.Columns, newName)
}

// ReverseColumn returns the entry of [Table.Reverse] for the old column with
// the given name, compared case-insensitively (ASCII), and whether there is
// one.
func (t *Table) ReverseColumn(oldName string) (Column, bool) {
	return find(t.Reverse, oldName)
}

// Flip returns the entry read the other way: its old table is t's new
// table, its columns are t's reverse expressions and its reverse t's
// columns. It describes the mirror of writes to t's new table back into
// the old one, in the write phase [WriteBoth]. Its Reverse keeps the
// order of t's Columns, which is not necessarily the new table's column
// order.
func (t *Table) Flip() *Table {
	return &Table{Old: t.New, New: t.Old, Key: t.NewKey, NewKey: t.Key, Columns: t.Reverse, Reverse: t.Columns, Line: t.Line}
}

// Flip returns the mapping with every entry flipped ([Table.Flip]): the
// mapping of the writes to the new tables, mirrored back.
func (m *Mapping) Flip() *Mapping {
	f := *m
	f.Flipped = !m.Flipped
	f.Tables = make([]*Table, len(m.Tables))
	for i, t := range m.Tables {
		f.Tables[i] = t.Flip()
	}
	return &f
}

func find(cols []Column, name string) (Column, bool) {
	for _, c := range cols {
		if equalFold(c.Name, name) {
			return c, true
		}
	}
	return Column{}, false
}
