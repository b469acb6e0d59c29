package schema

import (
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

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
	beforeRow bool   // BEFORE ... FOR EACH ROW: it may change the row written
}

// pgRule is a rewrite rule: a view's _RETURN rule, or a rule on INSERT,
// UPDATE or DELETE of any relation. refs are the relations its query or
// actions use, other than its own.
type pgRule struct {
	name      string
	event     string // pg_rewrite.ev_type: 1 SELECT, 2 UPDATE, 3 INSERT, 4 DELETE
	relOID    int64
	rel       string
	updatable writeKind // for views: the writes PostgreSQL passes to the base table
	refs      []string
}

// guards fills s.Guards with the tables whose writes change a mapped table
// behind the mirror's back, directly or through other guarded tables, and
// reports rules on mapped tables and triggers on new tables that may write
// to a mapped table. Triggers, rules and the children of foreign keys are
// read in the current schema only, the one whose tables the wrapper maps
// (statements name tables without a schema).
func (c *pgCatalog) guards(in *inspector, m *mapping.Mapping, s *rewrite.Schema) error {
	g := newGuardSet(in.d, m, s)
	mappedOIDs := map[int64]string{}
	for _, name := range g.order {
		if r := c.rels[name]; r != nil && r.t != nil {
			mappedOIDs[r.oid] = name
		}
	}
	if err := c.inheritanceGuards(g); err != nil {
		return err
	}
	fks, err := c.foreignKeys()
	if err != nil {
		return err
	}
	trigs, err := c.triggers()
	if err != nil {
		return err
	}
	trigs = c.withoutFences(in, m, trigs)
	if err := c.withCallees(trigs); err != nil {
		return err
	}
	rules, err := c.rules()
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
		if name := mappedOIDs[trigs[i].tableOID]; g.news[g.d.fold(name)] {
			trigs[i].onNewName = name
		}
		if t := trigs[i]; t.beforeRow && t.event&kindUpdate != 0 && t.language != "internal" {
			for _, e := range m.Tables {
				// The new tables too: in the write phase both, their
				// updates are mirrored back, and may change keys the same way.
				for _, name := range []string{e.Old, e.New} {
					if name == t.table {
						s.RowTriggers[in.d.sql.FoldName(name)] = fmt.Sprintf("trigger %s (BEFORE UPDATE FOR EACH ROW, function %s)", t.name, t.function)
					}
				}
			}
		}
		if t := trigs[i]; t.language == "c" && t.onNewName == "" {
			g.add(t.table, t.event, fmt.Sprintf("trigger %s on %s runs the C function %s, whose writes dualwrite cannot inspect", t.name, t.table, t.function))
		}
	}

	for changed := true; changed; {
		changed = g.cascades(fks)
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
		for _, name := range g.order {
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
func (c *pgCatalog) inheritanceGuards(g *guardSet) error {
	for _, name := range g.order {
		r := c.rels[name]
		if r == nil || r.t == nil {
			continue
		}
		rows, err := queryAll(c.ctx, c.q, `WITH RECURSIVE
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
				g.add(rel, kindAll|kindRows, fmt.Sprintf("%s is a partition or inheritance child of mapped table %s, and writes to it change %s without the mirror: write to %s", rel, name, name, name))
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

func (c *pgCatalog) foreignKeys() ([]foreignKey, error) {
	// A partition's copy of its parent's foreign key is skipped: the
	// parent's constraint stands for it.
	rows, err := queryAll(c.ctx, c.q, `SELECT con.conname, ch.relname, pa.relname, con.confupdtype::text, con.confdeltype::text,
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
	fks := make([]foreignKey, len(rows))
	for i, r := range rows {
		fks[i] = foreignKey{name: str(r[0]), child: str(r[1]), parent: str(r[2]), onUpdate: pgAction(str(r[3])), onDelete: pgAction(str(r[4])),
			cols: strings.Split(str(r[5]), ", ")}
	}
	return fks, nil
}

func (c *pgCatalog) triggers() ([]pgTrigger, error) {
	rows, err := queryAll(c.ctx, c.q, `SELECT t.tgname, c.oid, c.relname, t.tgtype, p.proname, l.lanname, p.prosrc
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
			function: str(r[4]), language: str(r[5]), source: str(r[6]),
			beforeRow: num(r[3])&1 != 0 && num(r[3])&2 != 0} // tgtype: 1 ROW, 2 BEFORE
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

func (c *pgCatalog) rules() ([]pgRule, error) {
	rows, err := queryAll(c.ctx, c.q, `SELECT r.rulename, r.ev_type::text, c.oid, c.relname,
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
			if ref := str(r[5]); ref != "" {
				rules[n-1].refs = append(rules[n-1].refs, ref)
			}
			continue
		}
		rule := pgRule{name: name, event: str(r[1]), relOID: oid, rel: str(r[3])}
		if rule.name == "_RETURN" {
			rule.updatable = pgUpdatable(num(r[4]))
		}
		if ref := str(r[5]); ref != "" {
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

// pgAction names a foreign key action of pg_constraint confupdtype or
// confdeltype.
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
	s, n := fold(src), fold(name)
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

// withCallees adds to each trigger's source the sources of the functions
// and procedures it may call, transitively: a trigger function that calls
// add_user() writes what add_user writes. A function is taken to be
// called when its name appears as a word in a source already taken, so a
// name shared by functions of several schemas, or a word that only looks
// like a call, takes in more than is called: the guard errs on the side
// of refusing.
func (c *pgCatalog) withCallees(trigs []pgTrigger) error {
	rows, err := queryAll(c.ctx, c.q, `SELECT p.proname::text, p.prosrc
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%' AND l.lanname NOT IN ('internal', 'c')
ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("schema: reading functions: %w", err)
	}
	for i := range trigs {
		if trigs[i].language == "internal" || trigs[i].language == "c" {
			continue
		}
		src := trigs[i].source
		taken := map[int]bool{}
		for grew := true; grew; {
			grew = false
			for j, r := range rows {
				if !taken[j] && mentionsWord(src, str(r[0])) {
					taken[j], grew = true, true
					src += "\n" + str(r[1])
				}
			}
		}
		trigs[i].source = src
	}
	return nil
}
