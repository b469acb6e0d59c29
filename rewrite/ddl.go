package rewrite

import (
	"slices"
	"strings"
)

// Schema changes. A statement that changes the schema is let through when
// it cannot make a mapping invalid by itself, and the driver checks the
// live schema again after it runs (Plan.ChangesSchema): what the change
// does to the guards (a new trigger, a cascading foreign key, a unique
// index) is learned from the database, not from the statement. A change
// that alters a mapped table's columns or key is refused before it runs.

// ddlPlan passes a schema change; the driver checks the schema after it.
var ddlPlan = &Plan{Action: Pass, Kind: KindDDL, ChangesSchema: true}

// tempTablePlan passes a schema change that may create a temporary table,
// and triggerPlan one that may create a trigger on a temporary table
// (Plan.TempTable, Plan.CreatesTrigger).
var (
	tempTablePlan = &Plan{Action: Pass, Kind: KindDDL, ChangesSchema: true, TempTable: true}
	triggerPlan   = &Plan{Action: Pass, Kind: KindDDL, ChangesSchema: true, CreatesTrigger: true}
)

// changesSchema reports whether a string holds a schema change: a
// statement, the first or one after a semicolon, that begins with CREATE,
// DROP or ALTER.
func changesSchema(query string, toks []Token) bool {
	first := true
	for _, t := range toks {
		if t.Kind == Semicolon {
			first = true
			continue
		}
		if first && t.Kind == Word {
			switch strings.ToUpper(t.Text(query)) {
			case "CREATE", "DROP", "ALTER":
				return true
			}
		}
		first = false
	}
	return false
}

// schemaEffects returns plan with what the schema changes of its string
// do when they run: a refusal of the dual phase runs in the off phase, and
// the schema is then checked again after it; every statement of the string
// may create a temporary table or a trigger (Plan.TempTable,
// Plan.CreatesTrigger). A schema change refused in every phase refuses the
// whole string. toks and lexErr are the string's lexing, as Plan did it.
func (p *Planner) schemaEffects(query string, toks []Token, lexErr error, plan *Plan) *Plan {
	if lexErr != nil {
		if plan.Action != Refuse || plan.ChangesSchema {
			return plan
		}
		marked := *plan
		marked.ChangesSchema = true
		return &marked
	}
	if plan.Session || !changesSchema(query, toks) {
		return plan
	}
	d := p.ddl(query, toks)
	if d.Session {
		return d
	}
	if plan.ChangesSchema && plan.TempTable == d.TempTable && plan.CreatesTrigger == d.CreatesTrigger {
		return plan
	}
	marked := *plan
	marked.ChangesSchema = true
	marked.TempTable = plan.TempTable || d.TempTable
	marked.CreatesTrigger = plan.CreatesTrigger || d.CreatesTrigger
	return &marked
}

// ddlReader reads the words of one schema change.
type ddlReader struct {
	p    *Planner
	q    string
	toks []Token // up to the statement's end
}

// ddl plans a string that holds a schema change: each of its statements
// that is one must keep every mapping valid.
func (p *Planner) ddl(query string, toks []Token) *Plan {
	var temp, trigger bool
	var refusal *Plan
	for len(toks) > 0 {
		end := p.statementEnd(query, toks)
		r := &ddlReader{p: p, q: query, toks: toks[:end]}
		var plan *Plan
		switch r.word(0) {
		case "CREATE":
			plan = r.create()
		case "DROP":
			plan = r.drop()
		case "ALTER":
			plan = r.alter()
		}
		switch {
		case plan == nil:
		case plan.Session:
			return plan
		case plan.Action == Refuse && refusal == nil:
			refusal = plan
		}
		// Every statement counts: a refusal of the dual phase runs in off.
		temp = temp || plan != nil && plan.TempTable
		trigger = trigger || plan != nil && plan.CreatesTrigger
		toks = toks[min(end+1, len(toks)):]
	}
	switch {
	case refusal != nil:
		marked := *refusal
		marked.ChangesSchema, marked.TempTable, marked.CreatesTrigger = true, temp, trigger
		return &marked
	case !temp && !trigger:
		return ddlPlan
	}
	return &Plan{Action: Pass, Kind: KindDDL, ChangesSchema: true, TempTable: temp, CreatesTrigger: trigger}
}

// word returns token i upper-cased when it is a bare word, else "".
func (r *ddlReader) word(i int) string {
	if i < len(r.toks) && r.toks[i].Kind == Word {
		return strings.ToUpper(r.toks[i].Text(r.q))
	}
	return ""
}

// words consumes the given words at i, in order, when all are there.
func (r *ddlReader) words(i *int, ws ...string) bool {
	for k, w := range ws {
		if r.word(*i+k) != w {
			return false
		}
	}
	*i += len(ws)
	return true
}

// name reads [schema.]name at i and returns both folded and the index
// after them; ok is false when no name is there.
func (r *ddlReader) name(i int) (schema, name string, next int, ok bool) {
	isName := func(j int) bool {
		return j < len(r.toks) && (r.toks[j].Kind == Word || r.toks[j].Kind == QuotedIdent || r.toks[j].Kind == String)
	}
	if !isName(i) {
		return "", "", i, false
	}
	name, i = r.p.d.Fold(r.toks[i].Text(r.q)), i+1
	if i+1 < len(r.toks) && r.toks[i].Kind == Dot && isName(i+1) {
		schema, name, i = name, r.p.d.Fold(r.toks[i+1].Text(r.q)), i+2
	}
	return schema, name, i, true
}

// mapped returns the mapped pair whose old or new table is named name, or nil.
func (r *ddlReader) mapped(name string) *Table {
	if tr := r.p.tables[name]; tr != nil && tr.role != roleGuarded {
		return tr.table
	}
	return nil
}

// namesMapped returns the first mapped table (old or new) that a name token
// of the statement from token from on names, or "". from may lie past the
// end: a statement cut short ("CREATE", "CREATE TEMP") names nothing.
func (r *ddlReader) namesMapped(from int, roles ...role) string {
	for _, t := range r.toks[min(from, len(r.toks)):] {
		if t.Kind == Word || t.Kind == QuotedIdent || t.Kind == String {
			name := r.p.d.Fold(t.Text(r.q))
			if tr := r.p.tables[name]; tr != nil && (len(roles) == 0 && tr.role != roleGuarded || slices.Contains(roles, tr.role)) {
				return name
			}
		}
	}
	return ""
}

// has reports whether the statement holds the word w anywhere.
func (r *ddlReader) has(w string) bool {
	for i := range r.toks {
		if r.word(i) == w {
			return true
		}
	}
	return false
}

// cascades reports whether the statement asks to change what depends on
// its object (CASCADE that is not a foreign key's ON DELETE or ON UPDATE
// action).
func (r *ddlReader) cascades() bool {
	for i := range r.toks {
		if r.word(i) == "CASCADE" && (i == 0 || r.word(i-1) != "DELETE" && r.word(i-1) != "UPDATE") {
			return true
		}
	}
	return false
}

// statementEnd returns the index of the token that ends the statement
// starting at toks[0]: its semicolon, or len(toks). The body of a SQLite
// trigger (CREATE TRIGGER ... BEGIN ...; ...; END) holds semicolons.
func (p *Planner) statementEnd(query string, toks []Token) int {
	r := &ddlReader{p: p, q: query, toks: toks}
	trigger := false
	for i := 0; i < len(toks) && i < 4 && !trigger; i++ {
		trigger = r.word(i) == "TRIGGER"
	}
	depth := 0
	for i, t := range toks {
		switch {
		case t.Kind == Semicolon && depth == 0:
			return i
		case !trigger:
		case r.word(i) == "BEGIN" || r.word(i) == "CASE" && depth > 0:
			depth++
		case r.word(i) == "END" && depth > 0:
			depth--
		}
	}
	return len(toks)
}

// singleStatement reports whether a string holds one statement, a SQLite
// trigger with its body included.
func (p *Planner) singleStatement(query string, toks []Token) bool {
	end := p.statementEnd(query, toks)
	for _, t := range toks[min(end, len(toks)):] {
		if t.Kind != Semicolon {
			return false
		}
	}
	return true
}

// tempSchema reports whether a schema qualifier names the connection's
// temporary schema, whose tables hide the main ones of the same name.
func tempSchema(schema string) bool {
	return schema == "temp" || schema == "pg_temp" || strings.HasPrefix(schema, "pg_temp_")
}

// pairOf names a mapping entry in messages.
func pairOf(t *Table) string { return t.Map.Old + " -> " + t.Map.New }

// fixMappedColumns is what to do instead of changing a mapped table's
// columns or key in the dual phase.
func fixMappedColumns(t *Table) string {
	return "the mapping " + pairOf(t) + " names every column of both tables and their keys: " +
		"add the change to the new table and the mapping as a migration of its own, or make it with the write phase off, then update the mapping and open a new sql.DB"
}

// create plans CREATE ...
func (r *ddlReader) create() *Plan {
	i := 1
	r.words(&i, "OR", "REPLACE")
	temp := false
	for more := true; more; {
		switch r.word(i) {
		case "TEMP", "TEMPORARY":
			temp = true
			i++
		case "UNLOGGED", "GLOBAL", "LOCAL", "UNIQUE", "VIRTUAL", "MATERIALIZED", "RECURSIVE", "CONSTRAINT", "TRUSTED", "PROCEDURAL":
			i++
		default:
			more = false
		}
	}
	obj := r.word(i)
	i++
	switch obj {
	case "INDEX":
		// New indexes keep every mapping valid; a unique one on an old
		// table is learned by the check after it (REPLACE is then refused).
		return ddlPlan
	case "TRIGGER":
		r.words(&i, "IF", "NOT", "EXISTS")
		if schema, _, _, ok := r.name(i); temp || ok && tempSchema(schema) {
			// Every one: the schema checks run on other connections would
			// miss what it writes, also to a table guarded later.
			return sessionRefusal(r.namesMapped(i, roleOld, roleNew, roleGuarded), "a temporary trigger",
				"create it without TEMP: a temporary trigger is seen by its own connection only, and the schema checks of the others would miss it")
		}
		return r.trigger(i) // the check after it learns whether it writes to a mapped table
	case "TABLE", "VIEW", "SEQUENCE":
		ifNotExists := r.words(&i, "IF", "NOT", "EXISTS")
		schema, name, _, ok := r.name(i)
		t := r.mapped(name)
		switch {
		case !ok || t == nil:
			// Another table, also one whose foreign keys reference a
			// mapped table: the check after it learns their actions.
			if temp || tempSchema(schema) {
				return tempTablePlan
			}
			return ddlPlan
		case temp || tempSchema(schema):
			return sessionRefusal(name, "a temporary "+strings.ToLower(obj)+" named like a table of the mapping "+pairOf(t),
				"it would hide the mapped table from this connection's statements, also after the write phase switched to dual: choose another name")
		case obj != "TABLE":
			return refuse(name, "CREATE "+obj+" named like a table of the mapping "+pairOf(t), "choose another name")
		case !ifNotExists:
			return refuse(name, "CREATE TABLE of a table of the mapping "+pairOf(t)+", which exists",
				"write CREATE TABLE IF NOT EXISTS, which leaves the existing table as it is")
		}
		return ddlPlan // IF NOT EXISTS of an existing table changes nothing
	case "FUNCTION", "PROCEDURE", "RULE":
		// The check after it reads rules and trigger functions' sources.
		return ddlPlan
	}
	if name := r.namesMapped(i); name != "" {
		return refuse(name, "CREATE "+obj+" naming a mapped table", "create it with the write phase off, or through a connection that does not go through dualwrite while no dual write runs")
	}
	return ddlPlan
}

// trigger plans a CREATE TRIGGER that is not temporary by its words, at
// its name i: it is one on a temporary table when its table is one, which
// only the connection knows (Plan.CreatesTrigger), unless a schema
// qualifier says otherwise (SQLite qualifies the trigger's name, and its
// table must then be in that schema; PostgreSQL qualifies the table).
func (r *ddlReader) trigger(i int) *Plan {
	if schema, _, _, ok := r.name(i); ok && schema != "" && !tempSchema(schema) {
		return ddlPlan
	}
	for j := i; j < len(r.toks); j++ {
		if r.word(j) == "ON" {
			if schema, _, _, ok := r.name(j + 1); ok && schema != "" && !tempSchema(schema) {
				return ddlPlan
			}
			break
		}
	}
	return triggerPlan
}

// selectInto finds a SELECT ... INTO [TEMP] table, which creates a table
// as CREATE TABLE ... AS does: found reports one, temp that it may be
// temporary, and refusal is set when it is temporary and named like a
// table of the mapping, which it would hide.
func (p *Planner) selectInto(query string, toks []Token) (refusal *Plan, temp, found bool) {
	if !p.d.selectInto {
		return nil, false, false
	}
	r := &ddlReader{p: p, q: query, toks: toks}
	for i := 1; i < len(toks); i++ {
		if r.word(i) != "INTO" || toks[i-1].Kind == Dot || r.word(i-1) == "INSERT" || r.word(i-1) == "MERGE" {
			continue
		}
		j, tmp := i+1, false
		for more := true; more; {
			switch r.word(j) {
			case "TEMP", "TEMPORARY":
				tmp = true
				j++
			case "UNLOGGED", "TABLE":
				j++
			default:
				more = false
			}
		}
		schema, name, _, ok := r.name(j)
		tmp = tmp || tempSchema(schema)
		if t := r.mapped(name); ok && t != nil && tmp {
			return sessionRefusal(name, "SELECT ... INTO a temporary table named like a table of the mapping "+pairOf(t),
				"it would hide the mapped table from this connection's statements, also after the write phase switched to dual: choose another name"), true, true
		}
		temp, found = temp || tmp, true
	}
	return nil, temp, found
}

// createsTable returns plan marked as a schema change that may create a
// temporary table (temp), for a string that holds a SELECT ... INTO: it
// runs as written, as CREATE TABLE ... AS does, also when it reads a
// mapped table.
func createsTable(plan *Plan, temp bool) *Plan {
	marked := *plan
	if marked.Action == Read {
		marked = Plan{Action: Pass, Kind: KindDDL}
	}
	marked.ChangesSchema = true
	marked.TempTable = marked.TempTable || temp
	return &marked
}

// drop plans DROP ...
func (r *ddlReader) drop() *Plan {
	obj := r.word(1)
	if r.cascades() {
		// PostgreSQL's CASCADE drops what depends on the object, columns of
		// mapped tables included (DROP TYPE ... CASCADE).
		return refuse(r.namesMapped(1), "DROP ... CASCADE",
			"drop without CASCADE: the database then names what depends on the object, and each dependent can be dropped on its own")
	}
	switch obj {
	case "INDEX", "TRIGGER", "RULE", "POLICY", "FUNCTION", "PROCEDURE":
		// The check after it sees a key index or a guard gone.
		return ddlPlan
	}
	if name := r.dropsRows(2); name != "" {
		return refuseRows(name, "DROP "+obj+" "+name)
	}
	if name := r.dropsDeleting(); name != "" {
		return refuse(name, "DROP TABLE "+name+", which deletes its rows first, and a delete from "+name+" changes a mapped table without the mirror ("+
			r.p.tables[name].guard.Reason+")", "drop it with the write phase off, or drop the foreign key or trigger first")
	}
	if name := r.namesMapped(2); name != "" {
		t := r.mapped(name)
		return refuse(name, "DROP "+obj+" of a table of the mapping "+pairOf(t),
			"drop it only after the migration: set the write phase to off and remove the entry from the mapping first")
	}
	return ddlPlan
}

// dropsDeleting returns the table a DROP TABLE names whose deletes are
// refused, in a dialect where dropping a table deletes its rows first,
// or "". SQLite's implicit delete fires foreign-key actions and no
// trigger, but a guard does not say which it comes from: a table guarded
// for a trigger of its own is refused too.
func (r *ddlReader) dropsDeleting() string {
	if !r.p.d.dropDeletes || r.word(1) != "TABLE" {
		return ""
	}
	i := 2
	r.words(&i, "IF", "EXISTS")
	if _, name, _, ok := r.name(i); ok {
		if tr := r.p.tables[name]; tr != nil && tr.role == roleGuarded && tr.guard.Delete {
			return name
		}
	}
	return ""
}

// alter plans ALTER ...
func (r *ddlReader) alter() *Plan {
	if r.cascades() {
		return refuse(r.namesMapped(1), "ALTER ... CASCADE",
			"alter without CASCADE: the database then names what depends on the object")
	}
	if r.word(1) != "TABLE" {
		if name := r.namesMapped(2); name != "" {
			return refuse(name, "ALTER "+r.word(1)+" naming a mapped table", "make the change with the write phase off")
		}
		return ddlPlan
	}
	i := 2
	r.words(&i, "IF", "EXISTS")
	r.words(&i, "ONLY")
	_, name, i, ok := r.name(i)
	t := r.mapped(name)
	if !ok || t == nil {
		if name := r.inheritsMapped(); name != "" {
			return refuseRows(name, "ALTER TABLE ... [NO] INHERIT "+name)
		}
		if ok && r.rowsOf(name) && (r.has("ATTACH") || r.has("DETACH")) {
			return refuseRows(name, "ALTER TABLE "+name+" ATTACH or DETACH PARTITION")
		}
		if r.has("RENAME") {
			if name := r.namesMapped(2); name != "" {
				return refuse(name, "ALTER TABLE ... RENAME naming a mapped table", "choose another name")
			}
		}
		return ddlPlan
	}
	// Every action of the statement, between commas at depth 0, must keep
	// the mapping valid.
	start, depth := i, 0
	for j := i; j <= len(r.toks); j++ {
		if j < len(r.toks) {
			switch r.toks[j].Kind {
			case LParen:
				depth++
				continue
			case RParen:
				depth--
				continue
			case Comma:
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		if !r.safeAlter(start, j) {
			action := "with no action"
			if start < j {
				action = r.q[r.toks[start].Start:r.toks[j-1].End]
			}
			return refuse(name, "ALTER TABLE "+action+" on a table of the mapping "+pairOf(t), fixMappedColumns(t))
		}
		start = j + 1
	}
	return ddlPlan
}

// safeAlter reports whether the ALTER TABLE action in tokens [i, j) keeps
// the columns and the key of its table: a new foreign key, check or unique
// constraint (the check after it learns what it changes), the validation
// of one, or a column's default.
func (r *ddlReader) safeAlter(i, j int) bool {
	if i >= j {
		return false
	}
	switch {
	case r.words(&i, "ADD"):
		if r.words(&i, "CONSTRAINT") {
			i++ // its name
		}
		return i < j && (r.word(i) == "FOREIGN" || r.word(i) == "CHECK" || r.word(i) == "UNIQUE")
	case r.words(&i, "VALIDATE", "CONSTRAINT"):
		return i < j
	case r.words(&i, "ALTER"):
		r.words(&i, "COLUMN")
		i++ // the column
		return r.words(&i, "SET", "DEFAULT") || r.words(&i, "DROP", "DEFAULT") && i == j
	}
	return false
}
