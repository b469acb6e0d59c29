package rewrite

// Inheritance (PostgreSQL). The rows of a table, as a statement that names
// it without ONLY reads, updates or deletes them, include the rows of its
// partitions and inheritance children, and theirs. So a statement changes
// a mapped table's rows without the mirror when it
//
//   - makes another table inherit from the mapped table, or from one of
//     its partitions or children, or stop inheriting (ALTER TABLE child
//     [NO] INHERIT parent);
//   - drops a partition or child of the mapped table (DROP TABLE);
//   - attaches a partition to, or detaches one from, a partition of the
//     mapped table (on the mapped table itself, ATTACH and DETACH are
//     refused by alter, as every change of its shape is).
//
// The partitions and children of the mapped tables are in the schema's
// guards, marked Rows, once the schema check has seen them.

// rowsOf reports whether the rows of the table named are rows of a mapped
// table: it is mapped, or guarded as a partition or inheritance child.
func (r *ddlReader) rowsOf(name string) bool {
	tr := r.p.tables[name]
	return tr != nil && (tr.role != roleGuarded || tr.guard.Rows)
}

// inheritsMapped returns the table, mapped or a partition or child of a
// mapped table, that an ALTER TABLE of another table makes it inherit from
// or stop inheriting from ([NO] INHERIT name), or "".
func (r *ddlReader) inheritsMapped() string {
	for i := range r.toks {
		if r.word(i) != "INHERIT" {
			continue
		}
		if _, name, _, ok := r.name(i + 1); ok && r.rowsOf(name) {
			return name
		}
	}
	return ""
}

// dropsRows returns the first partition or inheritance child of a mapped
// table that a DROP names from token i on, or "".
func (r *ddlReader) dropsRows(i int) string {
	for ; i < len(r.toks); i++ {
		if tr := r.p.tables[r.p.d.Fold(r.toks[i].Text(r.q))]; tr != nil && tr.role == roleGuarded && tr.guard.Rows &&
			(r.toks[i].Kind == Word || r.toks[i].Kind == QuotedIdent) {
			return r.p.d.Fold(r.toks[i].Text(r.q))
		}
	}
	return ""
}

// refuseRows refuses a statement that changes the rows of a mapped table
// through its partitions or inheritance children.
func refuseRows(name, construct string) *Plan {
	return refuse(name, construct+", which changes the rows of a mapped table through its partitions or inheritance children without the mirror",
		"change the partitions and the inheritance of mapped tables with the write phase off")
}
