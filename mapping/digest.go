package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Digest identifies what the mapping does: its tables, keys, and up and
// down expressions, in file order. Comments, layout, line numbers, the file's
// name and the default phases do not change it. Two processes whose
// mappings have the same digest mirror and read alike.
func (m *Mapping) Digest() string {
	var b strings.Builder
	for _, t := range m.Tables {
		t.describe(&b)
	}
	return digest(b.String())
}

// Digest identifies what the mapping does with one pair, as
// [Mapping.Digest] does for the whole mapping.
func (t *Table) Digest() string {
	var b strings.Builder
	t.describe(&b)
	return digest(b.String())
}

// describe writes t's names and expressions, each field ended by a NUL
// byte, which no name or expression holds.
func (t *Table) describe(b *strings.Builder) {
	field := func(s string) { b.WriteString(s); b.WriteByte(0) }
	field("table")
	field(t.Old)
	field(t.New)
	for i, k := range t.Key {
		field(k)
		field(t.NewKey[i])
	}
	for _, part := range [][]Column{t.Columns, t.Reverse} {
		field("columns")
		for _, c := range part {
			field(c.Name)
			field(c.Expr)
		}
	}
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}
