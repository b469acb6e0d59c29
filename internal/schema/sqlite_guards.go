package schema

import (
	"fmt"
	"slices"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// guards fills s.Guards: the tables whose writes change a mapped table
// behind the mirror's back, through a cascading foreign key or a trigger,
// directly or through other guarded tables. A table with a constraint
// declared ON CONFLICT REPLACE whose deletes are guarded has its inserts
// and updates guarded too: they delete the rows they conflict with, and
// SQLite runs the foreign-key actions of those deletes. It also reports
// triggers on a new table that write to a mapped table, since the
// mirror's own writes would fire them.
func (c *sqliteCatalog) guards(in *inspector, m *mapping.Mapping, s *rewrite.Schema) error {
	fks, err := c.foreignKeys()
	if err != nil {
		return err
	}
	type trig struct {
		object
		trigger
	}
	trigs := make([]trig, len(c.triggers))
	for i, o := range c.triggers {
		trigs[i] = trig{o, parseTrigger(o.sql)}
	}

	var replacing []string
	for _, o := range c.objects {
		if o.typ == "table" && replaceOnConflict(o.sql) {
			replacing = append(replacing, o.name)
		}
	}
	slices.Sort(replacing)

	g := newGuardSet(in.d, m, s)
	for changed := true; changed; {
		changed = g.cascades(fks)
		for _, name := range replacing {
			if gd, ok := s.Guards[in.d.sql.FoldName(name)]; ok && gd.Delete {
				changed = g.add(name, kindInsert|kindUpdate, "a constraint of "+name+" declared ON CONFLICT REPLACE makes its inserts and updates delete the rows they conflict with") || changed
			}
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
		if !g.news[fold(t.tblName)] {
			continue
		}
		for _, w := range t.writes {
			if _, ok := g.mapped[fold(w.table)]; ok {
				in.problem(t.tblName, "", "trigger %s on the new table writes to mapped table %s, and the mirror's writes would fire it: drop the trigger while dual-writing", t.name, w.table)
				break
			}
		}
	}
	return nil
}
