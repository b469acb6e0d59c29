package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// pgForeignKey is a foreign key with a cascading action (CASCADE, SET NULL
// or SET DEFAULT) on update or on delete.
type pgForeignKey struct {
	name, child, parent string
	cols                string // the child's columns, ", "-separated
	onUpdate, onDelete  string // pg_constraint confupdtype, confdeltype
}

// pgTrigger is a user trigger (not an internal one, such as those that
// enforce foreign keys) with its function.
type pgTrigger struct {
	name      string
	tableOID  int64
	table     string
	event     writeKind
	function  string
	language  string
	source    string // pg_proc.prosrc: the body, or a C symbol
	onNewName string // the mapped new table the trigger is on, or ""
}

// pgRule is a rewrite rule: a view's _RETURN rule, or a rule on INSERT,
// UPDATE or DELETE of any relation. refs are the relations its query or
// actions use, other than its own.
type pgRule struct {
	name      string
	event     string // pg_rewrite.ev_type: 1 SELECT, 2 UPDATE, 3 INSERT, 4 DELETE
	relOID    int64
	rel, kind string
	updatable writeKind // for views: the writes PostgreSQL passes to the base table
	refs      []string
}

// guards fills s.Guards with the tables whose writes change a mapped table
// behind the mirror's back, directly or through other guarded tables, and
// reports rules on mapped tables and triggers on new tables that may write
// to a mapped table.
func (in *pgInspector) guards(m *mapping.Mapping, s *rewrite.Schema) error {
	g := &pgGuardSet{s: s, mapped: map[string]bool{}, seen: map[string]bool{}}
	mappedOIDs := map[int64]string{}
	newOIDs := map[int64]string{}
	var names []string
	for _, t := range m.Tables {
		for _, name := range []string{t.Old, t.New} {
			if !g.mapped[name] {
				g.mapped[name] = true
				names = append(names, name)
			}
			if r := in.rels[name]; r != nil && (r.kind == "r" || r.kind == "p") {
				mappedOIDs[r.oid] = name
				if name == t.New {
					newOIDs[r.oid] = name
				}
			}
		}
	}
	if err := in.inheritanceGuards(g, names); err != nil {
		return err
	}
	fks, err := in.pgForeignKeys()
	if err != nil {
		return err
	}
	trigs, err := in.pgTriggers()
	if err != nil {
		return err
	}
	rules, err := in.pgRules()
	if err != nil {
		return err
	}
	for _, r := range rules {
		if name, ok := mappedOIDs[r.relOID]; ok && r.name != "_RETURN" {
			in.problem(name, "", "rule %s rewrites writes on %s; dualwrite cannot mirror rule-rewritten writes: drop the rule while dual-writing (DROP RULE %s ON %s)",
				r.name, name, rewrite.Postgres.Quote(r.name), rewrite.Postgres.Quote(name))
		}
	}
	for i := range trigs {
		trigs[i].onNewName = newOIDs[trigs[i].tableOID]
		if t := trigs[i]; t.language == "c" && t.onNewName == "" {
			g.add(t.table, t.event, fmt.Sprintf("trigger %s on %s runs the C function %s, whose writes dualwrite cannot inspect", t.name, t.table, t.function))
		}
	}

	for changed := true; changed; {
		changed = false
		for _, fk := range fks {
			var kinds writeKind
			var actions []string
			if changes := pgCascade(fk.onDelete, kindDelete); changes != 0 && g.bad(fk.child, changes) {
				kinds |= kindDelete
				actions = append(actions, "ON DELETE "+pgAction(fk.onDelete))
			}
			if changes := pgCascade(fk.onUpdate, kindUpdate); changes != 0 && g.bad(fk.child, changes) {
				kinds |= kindUpdate
				actions = append(actions, "ON UPDATE "+pgAction(fk.onUpdate))
			}
			if kinds != 0 {
				reason := fmt.Sprintf("foreign key %s %s(%s) -> %s %s %s", fk.name, fk.child, fk.cols, fk.parent, strings.Join(actions, " "), g.effect(fk.child))
				changed = g.add(fk.parent, kinds, reason) || changed
			}
		}
		for _, t := range trigs {
			if t.language == "internal" || t.language == "c" {
				// Built-in trigger functions change only the row being
				// written; C functions are guarded above, once.
				continue
			}
			for _, name := range g.names() {
				if g.bad(name, kindAll) && mentionsWord(t.source, name) {
					reason := fmt.Sprintf("trigger %s on %s may write to %s (its function %s names it)", t.name, t.table, g.target(name), t.function)
					changed = g.add(t.table, t.event, reason) || changed
				}
			}
		}
		for _, r := range rules {
			var kinds writeKind
			switch {
			case r.name == "_RETURN":
				kinds = r.updatable
			case r.event == "2":
				kinds = kindUpdate
			case r.event == "3":
				kinds = kindInsert
			case r.event == "4":
				kinds = kindDelete
			}
			if kinds == 0 || mappedOIDs[r.relOID] != "" {
				continue
			}
			for _, ref := range r.refs {
				if !g.bad(ref, kindAll) {
					continue
				}
				reason := fmt.Sprintf("rule %s on %s may write to %s", r.name, r.rel, g.target(ref))
				if r.name == "_RETURN" {
					reason = fmt.Sprintf("view %s is updatable and writes to %s", r.rel, g.target(ref))
				}
				changed = g.add(r.rel, kinds, reason) || changed
			}
		}
	}

	for _, t := range trigs {
		if t.onNewName == "" {
			continue
		}
		if t.language == "c" {
			in.problem(t.onNewName, "", "trigger %s on the new table runs the C function %s, whose writes dualwrite cannot inspect, and the mirror's writes would fire it: drop the trigger while dual-writing", t.name, t.function)
			continue
		}
		if t.language == "internal" {
			continue
		}
		for _, name := range names {
			if mentionsWord(t.source, name) {
				in.problem(t.onNewName, "", "trigger %s on the new table may write to mapped table %s (its function %s names it), and the mirror's writes would fire it: drop the trigger while dual-writing", t.name, name, t.function)
				break
			}
		}
	}
	return nil
}

// inheritanceGuards guards the partitions and inheritance children of the
// mapped tables (a write to one changes the mapped table's rows) and their
// ancestors (UPDATE and DELETE without ONLY reach the mapped table's rows,
// and an INSERT into a partitioned ancestor may be routed to it).
func (in *pgInspector) inheritanceGuards(g *pgGuardSet, names []string) error {
	for _, name := range names {
		r := in.rels[name]
		if r == nil || r.kind != "r" && r.kind != "p" {
			continue
		}
		rows, err := queryAll(in.ctx, in.q, `WITH RECURSIVE
down(oid) AS (
	SELECT i.inhrelid FROM pg_catalog.pg_inherits AS i WHERE i.inhparent = $1
	UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits AS i JOIN down ON i.inhparent = down.oid),
up(oid) AS (
	SELECT i.inhparent FROM pg_catalog.pg_inherits AS i WHERE i.inhrelid = $1
	UNION SELECT i.inhparent FROM pg_catalog.pg_inherits AS i JOIN up ON i.inhrelid = up.oid)
SELECT 'down', c.relname, c.relkind::text FROM down JOIN pg_catalog.pg_class AS c ON c.oid = down.oid
UNION ALL
SELECT 'up', c.relname, c.relkind::text FROM up JOIN pg_catalog.pg_class AS c ON c.oid = up.oid
ORDER BY 1, 2`, r.oid)
		if err != nil {
			return fmt.Errorf("schema: reading the inheritance of %s: %w", name, err)
		}
		for _, row := range rows {
			rel := str(row[1])
			if str(row[0]) == "down" {
				g.add(rel, kindAll, fmt.Sprintf("%s is a partition or inheritance child of mapped table %s, and writes to it change %s without the mirror: write to %s", rel, name, name, name))
				continue
			}
			kinds := kindUpdate | kindDelete
			if str(row[2]) == "p" {
				kinds |= kindInsert
			}
			g.add(rel, kinds, fmt.Sprintf("mapped table %s is a partition or inheritance child of %s, and writes to %s reach its rows without the mirror", name, rel, rel))
		}
	}
	return nil
}

func (in *pgInspector) pgForeignKeys() ([]pgForeignKey, error) {
	// A partition's copy of its parent's foreign key is skipped: the
	// parent's constraint stands for it.
	rows, err := queryAll(in.ctx, in.q, `SELECT con.conname, ch.relname, pa.relname, con.confupdtype::text, con.confdeltype::text,
	(SELECT string_agg(a.attname::text, ', ' ORDER BY k.ord)
	 FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
	 JOIN pg_catalog.pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_class AS ch ON ch.oid = con.conrelid
JOIN pg_catalog.pg_class AS pa ON pa.oid = con.confrelid
WHERE con.contype = 'f' AND (con.confupdtype IN ('c', 'n', 'd') OR con.confdeltype IN ('c', 'n', 'd'))
	AND ch.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema())
	AND NOT (ch.relispartition AND con.conparentid <> 0)
ORDER BY ch.relname, con.conname, pa.relname`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading foreign keys: %w", err)
	}
	fks := make([]pgForeignKey, len(rows))
	for i, r := range rows {
		fks[i] = pgForeignKey{name: str(r[0]), child: str(r[1]), parent: str(r[2]), onUpdate: str(r[3]), onDelete: str(r[4]), cols: str(r[5])}
	}
	return fks, nil
}

func (in *pgInspector) pgTriggers() ([]pgTrigger, error) {
	rows, err := queryAll(in.ctx, in.q, `SELECT t.tgname, c.oid, c.relname, t.tgtype, p.proname, l.lanname, p.prosrc
FROM pg_catalog.pg_trigger AS t
JOIN pg_catalog.pg_class AS c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_proc AS p ON p.oid = t.tgfoid
JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
WHERE NOT t.tgisinternal AND c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.current_schema())
ORDER BY c.relname, t.tgname`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading triggers: %w", err)
	}
	trigs := make([]pgTrigger, len(rows))
	for i, r := range rows {
		trigs[i] = pgTrigger{name: str(r[0]), tableOID: num(r[1]), table: str(r[2]), event: pgTriggerEvents(num(r[3])),
			function: str(r[4]), language: str(r[5]), source: str(r[6])}
	}
	return trigs, nil
}

// pgTriggerEvents returns the writes that fire a trigger of pg_trigger
// tgtype t: INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32 (a delete).
func pgTriggerEvents(t int64) writeKind {
	var k writeKind
	if t&4 != 0 {
		k |= kindInsert
	}
	if t&8 != 0 || t&32 != 0 {
		k |= kindDelete
	}
	if t&16 != 0 {
		k |= kindUpdate
	}
	return k
}

func (in *pgInspector) pgRules() ([]pgRule, error) {
	rows, err := queryAll(in.ctx, in.q, `SELECT r.rulename, r.ev_type::text, c.oid, c.relname, c.relkind::text,
	pg_catalog.pg_relation_is_updatable(c.oid, false), coalesce(rc.relname, '')
FROM pg_catalog.pg_rewrite AS r
JOIN pg_catalog.pg_class AS c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN (
	SELECT DISTINCT d.objid, d.refobjid FROM pg_catalog.pg_depend AS d
	WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'n'
) AS d ON d.objid = r.oid AND d.refobjid <> c.oid
LEFT JOIN pg_catalog.pg_class AS rc ON rc.oid = d.refobjid
WHERE n.nspname = pg_catalog.current_schema() AND (r.rulename <> '_RETURN' OR c.relkind = 'v')
ORDER BY c.relname, r.rulename, rc.relname`)
	if err != nil {
		return nil, fmt.Errorf("schema: reading rules: %w", err)
	}
	var rules []pgRule
	for _, r := range rows {
		oid, name := num(r[2]), str(r[0])
		if n := len(rules); n > 0 && rules[n-1].relOID == oid && rules[n-1].name == name {
			if ref := str(r[6]); ref != "" {
				rules[n-1].refs = append(rules[n-1].refs, ref)
			}
			continue
		}
		rule := pgRule{name: name, event: str(r[1]), relOID: oid, rel: str(r[3]), kind: str(r[4])}
		if rule.name == "_RETURN" {
			rule.updatable = pgUpdatable(num(r[5]))
		}
		if ref := str(r[6]); ref != "" {
			rule.refs = append(rule.refs, ref)
		}
		rules = append(rules, rule)
	}
	return rules, nil
}

// pgUpdatable returns the writes of a pg_relation_is_updatable mask:
// 1 << CMD_UPDATE (4), 1 << CMD_INSERT (8), 1 << CMD_DELETE (16).
func pgUpdatable(mask int64) writeKind {
	var k writeKind
	if mask&4 != 0 {
		k |= kindUpdate
	}
	if mask&8 != 0 {
		k |= kindInsert
	}
	if mask&16 != 0 {
		k |= kindDelete
	}
	return k
}

// pgCascade returns the kind of change a foreign key action on a parent
// write makes to the child rows, or 0 when it changes none.
func pgCascade(action string, parentWrite writeKind) writeKind {
	switch action {
	case "c":
		return parentWrite
	case "n", "d":
		return kindUpdate
	}
	return 0
}

func pgAction(action string) string {
	switch action {
	case "c":
		return "CASCADE"
	case "n":
		return "SET NULL"
	case "d":
		return "SET DEFAULT"
	case "r":
		return "RESTRICT"
	}
	return "NO ACTION"
}

// mentionsWord reports whether src holds name as a whole word, comparing
// ASCII letters case-insensitively: a conservative stand-in for parsing a
// function body, which finds the name in statements, quoted identifiers,
// strings (dynamic SQL) and comments alike.
func mentionsWord(src, name string) bool {
	if name == "" {
		return false
	}
	s, n := pgLowerASCII(src), pgLowerASCII(name)
	for i := 0; ; {
		j := strings.Index(s[i:], n)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(n)
		if (start == 0 || !pgIdentByte(s[start-1])) && (end == len(s) || !pgIdentByte(s[end])) {
			return true
		}
		i = start + 1
	}
}

func pgIdentByte(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

func pgLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// pgGuardSet accumulates the guards of one PostgreSQL inspection; names
// are compared exactly. Triggers, rules and the children of foreign keys
// are read in the current schema only, the one whose tables the wrapper
// maps (statements name tables without a schema).
type pgGuardSet struct {
	s      *rewrite.Schema
	mapped map[string]bool
	seen   map[string]bool // table + "\x00" + reason already merged
}

// names returns the mapped and the guarded tables, sorted.
func (g *pgGuardSet) names() []string {
	var names []string
	for name := range g.mapped {
		names = append(names, name)
	}
	for name := range g.s.Guards {
		if !g.mapped[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// bad reports whether a write of one of the kinds to table changes a
// mapped table without the mirror.
func (g *pgGuardSet) bad(table string, kinds writeKind) bool {
	if g.mapped[table] {
		return true
	}
	gd, ok := g.s.Guards[table]
	return ok && kinds&guardKinds(gd) != 0
}

// target describes a table that bad reported.
func (g *pgGuardSet) target(table string) string {
	if g.mapped[table] {
		return "mapped table " + table
	}
	return table + ", whose writes change a mapped table (" + g.s.Guards[table].Reason + ")"
}

// effect says what a foreign key's action does to its child table.
func (g *pgGuardSet) effect(child string) string {
	if g.mapped[child] {
		return "changes " + child + " without the mirror"
	}
	return "changes " + child + ", whose writes change a mapped table without the mirror"
}

// add guards writes of the kinds on table, and reports whether that
// refuses more than before.
func (g *pgGuardSet) add(table string, kinds writeKind, reason string) bool {
	old := g.s.Guards[table]
	if kinds == 0 || guardKinds(old)&kinds == kinds {
		return false
	}
	add := rewrite.Guard{Insert: kinds&kindInsert != 0, Update: kinds&kindUpdate != 0, Delete: kinds&kindDelete != 0}
	if !g.seen[table+"\x00"+reason] {
		g.seen[table+"\x00"+reason] = true
		add.Reason = reason
	}
	g.s.Guards[table] = old.Merge(add)
	return true
}
