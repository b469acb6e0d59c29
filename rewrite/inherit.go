package rewrite

// Inheritance (PostgreSQL). The rows of a table, as a statement that names
// it without ONLY reads, updates or deletes them, include the rows of its
// inheritance children. ALTER TABLE child INHERIT parent makes every row
// of child a row of parent at once, and NO INHERIT takes them away: for a
// mapped parent, a change of its rows that no mirror follows, as ATTACH
// and DETACH PARTITION on the mapped table itself are (refused by alter).

// inheritsMapped returns the mapped table (old or new) that an ALTER TABLE
// of another table makes it inherit from or stop inheriting from
// ([NO] INHERIT name), or "".
func (r *ddlReader) inheritsMapped() string {
	for i := range r.toks {
		if r.word(i) != "INHERIT" {
			continue
		}
		if _, name, _, ok := r.name(i + 1); ok && r.mapped(name) != nil {
			return name
		}
	}
	return ""
}
