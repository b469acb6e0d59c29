package schema

import (
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// guards fills s.Guards: the tables whose writes change a mapped table (old
// or new) behind the mirror's back, through a cascading foreign key or a
// trigger, directly or through other guarded tables. It also reports
// triggers on a new table that write to a mapped table, since the mirror's
// own writes would fire them.
func (in *inspector) guards(m *mapping.Mapping, s *rewrite.Schema) error {
	fks, err := in.cat.foreignKeys()
	if err != nil {
		return err
	}
	mapped := map[string]string{} // folded name -> "mapped table <name>"
	news := map[string]bool{}
	for _, t := range m.Tables {
		mapped[fold(t.Old)] = t.Old
		mapped[fold(t.New)] = t.New
		news[fold(t.New)] = true
	}
	type trig struct {
		object
		trigger
	}
	trigs := make([]trig, len(in.cat.triggers))
	for i, o := range in.cat.triggers {
		trigs[i] = trig{o, parseTrigger(o.sql)}
	}

	g := &guardSet{s: s, mapped: mapped, seen: map[string]bool{}}
	for changed := true; changed; {
		changed = false
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
			from := fk.child + "." + fk.from[0]
			if len(fk.from) > 1 {
				from = fk.child + "(" + strings.Join(fk.from, ", ") + ")"
			}
			changed = g.add(fk.parent, kinds, fmt.Sprintf("foreign key %s -> %s %s %s", from, fk.parent, strings.Join(actions, " "), g.effect(fk.child))) || changed
		}
		for _, t := range trigs {
			for _, w := range t.writes {
				if g.bad(w.table, w.kinds) {
					changed = g.add(t.tblName, t.event, fmt.Sprintf("trigger %s on %s writes to %s", t.name, t.tblName, g.target(w.table))) || changed
				}
			}
		}
	}
	for _, t := range trigs {
		if !news[fold(t.tblName)] {
			continue
		}
		for _, w := range t.writes {
			if _, ok := mapped[fold(w.table)]; ok {
				in.problem(t.tblName, "", "trigger %s on the new table writes to mapped table %s, and the mirror's writes would fire it: drop the trigger while dual-writing", t.name, w.table)
				break
			}
		}
	}
	return nil
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

// guardSet accumulates the guards of one inspection.
type guardSet struct {
	s      *rewrite.Schema
	mapped map[string]string
	seen   map[string]bool // table + "\x00" + reason already merged
}

// bad reports whether a write of one of the kinds to table changes a mapped
// table without the mirror: the table is mapped, or writes of that kind to
// it are guarded.
func (g *guardSet) bad(table string, kinds writeKind) bool {
	if _, ok := g.mapped[fold(table)]; ok {
		return true
	}
	gd, ok := g.s.Guards[rewrite.SQLite.FoldName(table)]
	return ok && kinds&guardKinds(gd) != 0
}

// target describes a table that bad reported.
func (g *guardSet) target(table string) string {
	if name, ok := g.mapped[fold(table)]; ok {
		return "mapped table " + name
	}
	return table + ", whose writes change a mapped table (" + g.s.Guards[rewrite.SQLite.FoldName(table)].Reason + ")"
}

// effect says what a foreign key's action does to its child table.
func (g *guardSet) effect(child string) string {
	if name, ok := g.mapped[fold(child)]; ok {
		return "changes " + name + " without the mirror"
	}
	return "changes " + child + ", whose writes change a mapped table without the mirror"
}

// add guards writes of the kinds on table, and reports whether that
// refuses more than before.
func (g *guardSet) add(table string, kinds writeKind, reason string) bool {
	key := rewrite.SQLite.FoldName(table)
	old := g.s.Guards[key]
	if guardKinds(old)&kinds == kinds {
		return false
	}
	add := rewrite.Guard{Insert: kinds&kindInsert != 0, Update: kinds&kindUpdate != 0, Delete: kinds&kindDelete != 0}
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
	return k
}
