package schema

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// writeKind is a set of the kinds of row change.
type writeKind uint8

const (
	kindInsert writeKind = 1 << iota
	kindUpdate
	kindDelete
	kindAll = kindInsert | kindUpdate | kindDelete
	// kindRows marks a table whose rows are a mapped table's rows (a
	// partition or inheritance child): see rewrite.Guard.Rows.
	kindRows writeKind = 1 << 3
)

// guardSet accumulates the guards of one inspection: the tables whose
// writes change a mapped table (old or new) behind the mirror's back,
// directly or through other guarded tables.
type guardSet struct {
	d      *dialect
	s      *rewrite.Schema
	mapped map[string]string // folded name -> name as the mapping spells it
	order  []string          // the mapped tables in mapping order, each once
	news   map[string]bool   // folded names of the new tables
	seen   map[string]bool   // guard key + "\x00" + reason already merged
}

func newGuardSet(d *dialect, m *mapping.Mapping, s *rewrite.Schema) *guardSet {
	g := &guardSet{d: d, s: s, mapped: map[string]string{}, news: map[string]bool{}, seen: map[string]bool{}}
	for _, t := range m.Tables {
		for _, name := range []string{t.Old, t.New} {
			if _, ok := g.mapped[d.fold(name)]; !ok {
				g.mapped[d.fold(name)] = name
				g.order = append(g.order, name)
			}
		}
		g.news[d.fold(t.New)] = true
	}
	return g
}

// names returns the mapped and the guarded tables, sorted.
func (g *guardSet) names() []string {
	names := slices.Clone(g.order)
	for key := range g.s.Guards {
		if _, ok := g.mapped[g.d.fold(key)]; !ok {
			names = append(names, key)
		}
	}
	slices.Sort(names)
	return names
}

// bad reports whether a write of one of the kinds to table changes a mapped
// table without the mirror: the table is mapped, or writes of that kind to
// it are guarded.
func (g *guardSet) bad(table string, kinds writeKind) bool {
	if _, ok := g.mapped[g.d.fold(table)]; ok {
		return true
	}
	gd, ok := g.s.Guards[g.d.sql.FoldName(table)]
	return ok && kinds&guardKinds(gd) != 0
}

// target describes a table that bad reported.
func (g *guardSet) target(table string) string {
	if name, ok := g.mapped[g.d.fold(table)]; ok {
		return "mapped table " + name
	}
	return table + ", whose writes change a mapped table (" + g.s.Guards[g.d.sql.FoldName(table)].Reason + ")"
}

// add guards writes of the kinds on table, and reports whether that
// refuses more than before.
func (g *guardSet) add(table string, kinds writeKind, reason string) bool {
	key := g.d.sql.FoldName(table)
	old := g.s.Guards[key]
	if guardKinds(old)&kinds == kinds {
		return false
	}
	add := rewrite.Guard{Insert: kinds&kindInsert != 0, Update: kinds&kindUpdate != 0, Delete: kinds&kindDelete != 0, Rows: kinds&kindRows != 0}
	if !g.seen[key+"\x00"+reason] {
		g.seen[key+"\x00"+reason] = true
		add.Reason = reason
	}
	g.s.Guards[key] = old.Merge(add)
	return true
}

func guardKinds(g rewrite.Guard) writeKind {
	var k writeKind
	if g.Insert {
		k |= kindInsert
	}
	if g.Update {
		k |= kindUpdate
	}
	if g.Delete {
		k |= kindDelete
	}
	if g.Rows {
		k |= kindRows
	}
	return k
}

// foreignKey is one foreign key constraint of a child table.
type foreignKey struct {
	name               string // "" where the catalog keeps no name
	child, parent      string
	cols               []string // the child's columns
	onUpdate, onDelete string   // CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION
}

// cascades guards the parents of the foreign keys whose actions change a
// mapped or guarded child table, and reports whether that refuses more
// than before.
func (g *guardSet) cascades(fks []foreignKey) bool {
	changed := false
	for _, fk := range fks {
		var kinds writeKind
		var actions []string
		if changes := cascade(fk.onDelete, kindDelete); changes != 0 && g.bad(fk.child, changes) {
			kinds |= kindDelete
			actions = append(actions, "ON DELETE "+fk.onDelete)
		}
		if changes := cascade(fk.onUpdate, kindUpdate); changes != 0 && g.bad(fk.child, changes) {
			kinds |= kindUpdate
			actions = append(actions, "ON UPDATE "+fk.onUpdate)
		}
		if kinds == 0 {
			continue
		}
		effect := "changes " + fk.child + ", whose writes change a mapped table without the mirror"
		if name, ok := g.mapped[g.d.fold(fk.child)]; ok {
			effect = "changes " + name + " without the mirror"
		}
		name := fk.name
		if name != "" {
			name += " "
		}
		reason := fmt.Sprintf("foreign key %s%s(%s) -> %s %s %s", name, fk.child, strings.Join(fk.cols, ", "), fk.parent, strings.Join(actions, " "), effect)
		changed = g.add(fk.parent, kinds, reason) || changed
	}
	return changed
}

// cascade returns the kind of change a foreign key action on a parent write
// makes to the child rows, or 0 when it changes none (NO ACTION, RESTRICT).
func cascade(action string, parentWrite writeKind) writeKind {
	switch action {
	case "CASCADE":
		return parentWrite
	case "SET NULL", "SET DEFAULT":
		return kindUpdate
	}
	return 0
}
