package schema

import (
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// myTrigger is a trigger of the current database. MySQL's triggers are
// all FOR EACH ROW; one fires on one kind of write.
type myTrigger struct {
	name, table string
	event       writeKind
	before      bool
	body        *myBody // ACTION_STATEMENT, and the routines it calls
}

// myRoutine is a stored procedure or function, or an event, of the
// current database.
type myRoutine struct {
	kind string // "procedure", "function" or "event"
	name string
	body *myBody
}

// myBody is the text of a trigger, routine or event with the bodies of
// the routines it may call, transitively. A routine is taken to be called
// when its name appears as a word in the text already taken (a name that
// only looks like a call takes in more than is called: the checks err on
// the side of refusing). Where the connection's user may not read a text
// (information_schema shows NULL for routines the user did not define,
// without the privilege to see them), the body is taken to name every
// table: hidden says so for its own text, unread names the routines
// taken whose text is hidden.
type myBody struct {
	src    string
	hidden bool
	unread []string
}

// names reports whether the body names table as a whole word, or may.
func (b *myBody) names(table string) bool {
	return b.hidden || len(b.unread) > 0 || mentionsWord(b.src, table)
}

// why says how the body names a table, after "its statement" or "its
// body".
func (b *myBody) why() string {
	switch {
	case b.hidden:
		return "is hidden from this user, who may not read it"
	case len(b.unread) > 0:
		return "runs " + strings.Join(b.unread, ", ") + ", whose text this user may not read"
	}
	return "names it"
}

// writeWords are the words of the statements that write to a table,
// directly (INSERT, UPDATE, DELETE, REPLACE, LOAD DATA, TRUNCATE, and the
// DDL that changes one) or as dynamic SQL (EXECUTE of a prepared
// statement).
var writeWords = []string{"INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD", "TRUNCATE", "ALTER", "DROP", "RENAME", "EXECUTE"}

// writes reports whether the body may write to some table.
func (b *myBody) writes() bool {
	if b.hidden || len(b.unread) > 0 {
		return true
	}
	for _, w := range writeWords {
		if mentionsWord(b.src, w) {
			return true
		}
	}
	return false
}

// guards fills s.Guards with the tables whose writes change a mapped table
// behind the mirror's back, directly or through other guarded tables:
// parents of cascading foreign keys, tables with triggers whose statement
// names a guarded or mapped table, and updatable views over one. It
// reports the mapped tables that are not InnoDB, triggers on new tables
// that name a mapped table, and enabled events and stored routines that
// may write to a mapped or guarded table: they run on the server, where
// the wrapper cannot mirror their writes. Everything is read in the
// current database, the one whose tables the wrapper maps.
func (c *myCatalog) guards(in *inspector, m *mapping.Mapping, s *rewrite.Schema) error {
	c.engines(in, m)
	fks, err := c.foreignKeys()
	if err != nil {
		return err
	}
	routines, rows, err := c.routines()
	if err != nil {
		return err
	}
	trigs, err := c.triggers(rows)
	if err != nil {
		return err
	}
	events, err := c.events(rows)
	if err != nil {
		return err
	}
	views, err := queryAll(c.ctx, c.q, `SELECT TABLE_NAME, IS_UPDATABLE, VIEW_DEFINITION FROM information_schema.VIEWS
WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`)
	if err != nil {
		return fmt.Errorf("schema: reading views: %w", err)
	}

	g := newGuardSet(in.d, m, s)
	for _, t := range trigs {
		if !t.before || t.event&kindInsert == 0 {
			continue
		}
		for _, e := range m.Tables {
			for _, name := range []string{e.Old, e.New} {
				if in.d.fold(name) == in.d.fold(t.table) {
					s.InsertTriggers[in.d.sql.FoldName(name)] = fmt.Sprintf("trigger %s (BEFORE INSERT FOR EACH ROW)", t.name)
				}
			}
		}
	}
	for _, t := range trigs {
		if !t.before || t.event&kindUpdate == 0 {
			continue
		}
		for _, e := range m.Tables {
			// The new tables too: in the write phase both their updates
			// are mirrored back, and may change keys the same way.
			for _, name := range []string{e.Old, e.New} {
				if in.d.fold(name) == in.d.fold(t.table) {
					s.RowTriggers[in.d.sql.FoldName(name)] = fmt.Sprintf("trigger %s (BEFORE UPDATE FOR EACH ROW)", t.name)
				}
			}
		}
	}
	for changed := true; changed; {
		changed = g.cascades(fks)
		for _, t := range trigs {
			for _, name := range g.names() {
				if g.bad(name, kindAll) && t.body.names(name) {
					reason := fmt.Sprintf("trigger %s on %s may write to %s (its statement %s)", t.name, t.table, g.target(name), t.body.why())
					changed = g.add(t.table, t.event, reason) || changed
				}
			}
		}
		for _, v := range views {
			view, def := str(v[0]), str(v[2])
			if str(v[1]) != "YES" {
				continue
			}
			for _, name := range g.names() {
				if in.d.fold(name) != in.d.fold(view) && g.bad(name, kindAll) && mentionsWord(def, name) {
					changed = g.add(view, kindAll, fmt.Sprintf("view %s is updatable and writes to %s", view, g.target(name))) || changed
				}
			}
		}
	}

	for _, t := range trigs {
		if !g.news[in.d.fold(t.table)] {
			continue
		}
		for _, name := range g.order {
			if t.body.names(name) {
				in.problem(t.table, "", "trigger %s on the new table may write to mapped table %s (its statement %s), and the mirror's writes would fire it: drop the trigger while dual-writing (DROP TRIGGER %s)",
					t.name, name, t.body.why(), rewrite.MySQL.Quote(t.name))
				break
			}
		}
	}
	for _, r := range append(routines, events...) {
		c.serverCode(in, g, r)
	}
	return nil
}

// serverCode reports a routine or an enabled event that may write to a
// mapped or guarded table: its writes happen on the server, out of the
// wrapper's sight, whoever calls it (an event on its schedule).
func (c *myCatalog) serverCode(in *inspector, g *guardSet, r myRoutine) {
	if !r.body.writes() {
		return
	}
	for _, name := range g.names() {
		if !g.bad(name, kindAll) || !r.body.names(name) {
			continue
		}
		fix := fmt.Sprintf("drop it while dual-writing (DROP %s %s)", strings.ToUpper(r.kind), rewrite.MySQL.Quote(r.name))
		when := "when it is called (CALL, or a statement that uses the function), the server runs its writes where dualwrite cannot mirror them"
		if r.kind == "event" {
			fix = fmt.Sprintf("disable it while dual-writing (ALTER EVENT %s DISABLE)", rewrite.MySQL.Quote(r.name))
			when = "the server runs it on its schedule, where dualwrite cannot mirror its writes"
		}
		table := ""
		if mapped, ok := g.mapped[g.d.fold(name)]; ok {
			table = mapped
		}
		in.problem(table, "", "%s %s may write to %s (its body %s): %s; %s", r.kind, r.name, g.target(name), r.body.why(), when, fix)
		return
	}
}

// foreignKeys returns the foreign keys of the tables of the current
// database, with their actions. A parent in another database is named
// without its database, as a statement's table is looked up in the guards.
func (c *myCatalog) foreignKeys() ([]foreignKey, error) {
	rows, err := queryAll(c.ctx, c.q, `SELECT rc.CONSTRAINT_NAME, rc.TABLE_NAME, rc.REFERENCED_TABLE_NAME, rc.UPDATE_RULE, rc.DELETE_RULE, k.COLUMN_NAME
FROM information_schema.REFERENTIAL_CONSTRAINTS AS rc
JOIN information_schema.KEY_COLUMN_USAGE AS k
	ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA AND k.TABLE_NAME = rc.TABLE_NAME AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME
WHERE rc.CONSTRAINT_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.ORDINAL_POSITION`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading foreign keys: %w", err)
	}
	var fks []foreignKey
	for i, r := range rows {
		if i > 0 && str(r[1]) == str(rows[i-1][1]) && str(r[0]) == str(rows[i-1][0]) {
			last := &fks[len(fks)-1]
			last.cols = append(last.cols, str(r[5]))
			continue
		}
		fks = append(fks, foreignKey{name: str(r[0]), child: str(r[1]), parent: str(r[2]), onUpdate: str(r[3]), onDelete: str(r[4]),
			cols: []string{str(r[5])}})
	}
	return fks, nil
}

// routines returns the stored procedures and functions of the current
// database, each body with those of the routines it calls, and the
// catalog's rows of them, for withCallees.
func (c *myCatalog) routines() ([]myRoutine, [][]driver.Value, error) {
	rows, err := queryAll(c.ctx, c.q, `SELECT ROUTINE_TYPE, ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES
WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME, ROUTINE_TYPE`)
	if err != nil {
		return nil, nil, fmt.Errorf("schema: reading stored routines: %w", err)
	}
	rs := make([]myRoutine, len(rows))
	for i, r := range rows {
		rs[i] = myRoutine{kind: strings.ToLower(str(r[0])), name: str(r[1])}
		rs[i].body = withCallees(rows, r[2])
	}
	return rs, rows, nil
}

// withCallees returns the body of the code whose text is src (nil where
// the user may not read it), with the bodies of the routines it may call.
// routines are the rows of routines.
func withCallees(routines [][]driver.Value, src driver.Value) *myBody {
	b := &myBody{src: str(src), hidden: src == nil}
	taken := map[int]bool{}
	for grew := true; grew; {
		grew = false
		for j, r := range routines {
			if taken[j] || !mentionsWord(b.src, str(r[1])) {
				continue
			}
			taken[j], grew = true, true
			if r[2] == nil {
				b.unread = append(b.unread, strings.ToLower(str(r[0]))+" "+str(r[1]))
				continue
			}
			b.src += "\n" + str(r[2])
		}
	}
	return b
}

// triggers returns the triggers on the tables of the current database.
func (c *myCatalog) triggers(routines [][]driver.Value) ([]myTrigger, error) {
	rows, err := queryAll(c.ctx, c.q, `SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_STATEMENT
FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, TRIGGER_NAME`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading triggers: %w", err)
	}
	trigs := make([]myTrigger, len(rows))
	for i, r := range rows {
		trigs[i] = myTrigger{name: str(r[0]), table: str(r[1]), event: myTriggerEvents(str(r[2])), before: strings.EqualFold(str(r[3]), "BEFORE"),
			body: withCallees(routines, r[4])}
	}
	return trigs, nil
}

// events returns the enabled events of the current database.
func (c *myCatalog) events(routines [][]driver.Value) ([]myRoutine, error) {
	rows, err := queryAll(c.ctx, c.q, `SELECT EVENT_NAME, EVENT_DEFINITION FROM information_schema.EVENTS
WHERE EVENT_SCHEMA = DATABASE() AND STATUS = 'ENABLED' ORDER BY EVENT_NAME`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading events: %w", err)
	}
	evs := make([]myRoutine, len(rows))
	for i, r := range rows {
		evs[i] = myRoutine{kind: "event", name: str(r[0]), body: withCallees(routines, r[1])}
	}
	return evs, nil
}

// myTriggerEvents returns the writes that fire a trigger of
// EVENT_MANIPULATION event: INSERT, UPDATE or DELETE (a list of them
// where a server allows several).
func myTriggerEvents(event string) writeKind {
	var k writeKind
	for _, e := range strings.FieldsFunc(strings.ToUpper(event), func(r rune) bool { return r == ',' || r == ' ' }) {
		switch e {
		case "INSERT":
			k |= kindInsert
		case "UPDATE":
			k |= kindUpdate
		case "DELETE":
			k |= kindDelete
		}
	}
	if k == 0 {
		return kindAll // unknown: fail closed
	}
	return k
}
