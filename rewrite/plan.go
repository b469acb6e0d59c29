package rewrite

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
)

// ErrUnsupported is wrapped by every *UnsupportedError: a statement on a
// mapped table that the wrapper refuses because it cannot keep new = up(old)
// for it with certainty.
var ErrUnsupported = errors.New("dualwrite: unsupported statement on a mapped table")

// UnsupportedError says which table and which construct made a statement
// be refused, and what to do instead. Nothing was executed.
type UnsupportedError struct {
	Table     string // the mapped (or guarded) table the statement names
	Construct string // what the analyzer could not handle
	Fix       string // what to do instead
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("dualwrite: refused statement on %s: %s", e.Table, e.Construct)
	if e.Table == "" {
		msg = "dualwrite: refused statement: " + e.Construct
	}
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg + " (nothing was executed)"
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// Action says what the wrapper does with a statement in the dual write phase.
type Action uint8

// Plan actions.
const (
	Pass   Action = iota // run as written: it names no mapped table, or writes none
	Mirror               // run it, then mirror the rows it touched
	Refuse               // refuse it with Plan.Err
	Read                 // a query of mapped tables: route it by the read phase
)

// Plan is what the wrapper does with one statement text. Plans are immutable
// and shared by every execution of the same text.
type Plan struct {
	Action Action
	Kind   Kind
	Err    error // Refuse: why; Read: why the query cannot be served from the new tables
	// ChangesSchema is set on a statement that may change the schema
	// (CREATE, DROP, ALTER): once it has run, the driver checks the live
	// schema again before its next statement.
	ChangesSchema bool
	// Session is set on a refusal that holds in every write phase: the
	// statement would leave something on its connection (a setting, an
	// SQL-level prepared statement, a temporary object) that outlives a
	// switch to the dual phase and that no check of the schema sees
	// (session.go).
	Session bool
	// TempTable is set on a schema change that may create a temporary
	// table, and CreatesTrigger on one that may create a trigger on a
	// temporary table: such a trigger is temporary too, seen by its own
	// connection only, so a connection that ran the first refuses the
	// second.
	TempTable, CreatesTrigger bool

	// Fused, for dialects where a dual write is one statement, is that
	// statement: the caller's in a data-modifying CTE with the whole row
	// appended to its RETURNING, the mirror in another CTE, and a final
	// SELECT of the caller's RETURNING columns and, last, the row (KeyCols
	// is 1: one column to drop before the caller sees the rows).
	Fused string

	// Read plans (Err == nil):
	Read *ReadPlan

	// Back is set on the refusal of a write to a mapped new table (refused
	// in the dual phase: only the mirror writes new tables then): the plan
	// of the write phase both, the write mirrored back into the old table
	// with the mapping's reverse expressions, or refused.
	Back *Plan
	// Reverse is set on the plans of Back: Table is then a flipped pair,
	// from a new table to its old one; and on the Read plan of a query of
	// new tables only, whose Read.NewQuery then reads up(old) in their
	// place, for the read phase compare.
	Reverse bool

	// Mirror plans:
	Table *Table
	// Capture is the caller's statement with the key columns appended to its
	// RETURNING clause; KeyCols of them, after the caller's own.
	Capture string
	KeyCols int
	// CallerReturning is set when the caller's statement had RETURNING.
	CallerReturning bool
	// PreSelect, when set, selects the keys of the rows the statement is about
	// to change; it runs before the statement, with the caller's arguments
	// of the parameters PreSelectParams numbers (Params.Subset). Used where
	// the statement may change key values.
	PreSelect       string
	PreSelectParams []int
	Params          *Params
	// Restrict, in MySQL, is the UPDATE or DELETE restricted to the
	// keys PreSelect locked; it runs instead of the statement (plan_mysql.go).
	Restrict *Restrict
	// InsertKeys, in MySQL, are the keys of an INSERT ... VALUES or SET,
	// row by row, which runs as written; InsertStep is the server's
	// auto_increment_increment, by which generated ids follow the
	// insert id. InsertIDQuery, for an INSERT ... SELECT with RETURNING
	// into a table with an AUTO_INCREMENT column, reads the insert id the
	// statement would have reported (0 when it inserted no row).
	InsertKeys [][]InsertKey
	// CountInsertKeys, with InsertKeys, asks for the keys the INSERT names
	// to be counted after it: each must name a row, or one was stored as
	// another value and the dual write fails (InexactKeys, without
	// RETURNING).
	CountInsertKeys bool
	// PointKey, in MySQL, is the key an UPDATE's or DELETE's WHERE fixes
	// with top-level AND conjuncts (id = ? AND ...), or a one-row INSERT's
	// key, for its Block. An UPDATE then runs
	// as written, and the mirror sets the new row of that key from the old
	// row, which it locks (Table.UpsertLockedSQL), whether or not the
	// UPDATE changed it.
	PointKey []InsertKey
	// Block, on MariaDB, is such an UPDATE's or DELETE's whole dual write
	// outside a transaction as one compound statement (mariaDBBlock): its
	// arguments are the caller's, then the key's; it returns one row, the
	// statement's row count. BlockInsertID is set on an INSERT's block
	// whose key is the AUTO_INCREMENT column: its insert id is the key.
	Block         string
	BlockInsertID bool
	// NewKeyCols, on a MySQL UPDATE that assigns key columns, is how many
	// columns of PreSelect's rows, after the old keys, hold the new keys,
	// which must all name old rows after it ([Table.CountSQL]).
	NewKeyCols    int
	InsertStep    int64
	InsertIDQuery string
	// RowIDs, when set, is how many leading columns of PreSelect identify
	// the rows it locked; their keys follow. Capture is then restricted to
	// those rows and takes its arguments from BindRows.
	RowIDs int
}

var (
	passPlan = &Plan{Action: Pass}
	// txPlan passes a statement that may open or end a transaction.
	txPlan = &Plan{Action: Pass, Kind: KindTx}
)

// Schema is what the live database says about the mapped tables, as far as
// the planner needs it. Names are folded.
type Schema struct {
	// OtherUnique marks the mapped old tables that have a unique constraint
	// besides the key, which REPLACE can delete rows by.
	OtherUnique map[string]bool
	// ReplaceOnConflict marks the mapped old tables with a constraint
	// declared ON CONFLICT REPLACE: every INSERT and UPDATE on them may
	// delete conflicting rows, as REPLACE does.
	ReplaceOnConflict map[string]bool
	// Guards maps tables (mapped or not) to the writes on them that are
	// refused: a trigger or a cascading foreign key would change a mapped
	// table behind the mirror's back.
	Guards map[string]Guard
	// RowTriggers maps the mapped old tables that have a BEFORE ... FOR
	// EACH ROW trigger on UPDATE to what it is: such a trigger may change
	// the row's key whatever the statement assigns, so every UPDATE of the
	// table is planned as a key change, and an ON CONFLICT DO UPDATE on it
	// is refused.
	RowTriggers map[string]string
	// Replace describes, for the mapped old tables of OtherUnique, the
	// unique constraints by which an INSERT OR REPLACE deletes rows
	// (SQLite).
	Replace map[string]*ReplaceTargets
	// Broken maps the mapped old tables whose entry no longer matches the
	// live schema, as a check after a schema change found, to the problems
	// found: writes to them and reads served from their new tables are
	// refused until the schema matches again.
	Broken map[string]string
	// KeyTypes maps the mapped tables (the old ones, and the new ones for
	// the write phase both) whose key values must be cast where the
	// generated statements bind them, to the casts' types, one per key
	// column ("" for none): PostgreSQL types a parameter compared with a
	// column of a composite type as an anonymous record, which it cannot
	// read from a parameter.
	KeyTypes map[string][]string
	// AutoIncrement maps the mapped tables (old and new, folded) that
	// have an AUTO_INCREMENT column (MySQL) to that column, folded: an
	// INSERT that leaves it to the server learns the generated keys from
	// the insert id the server reports.
	AutoIncrement map[string]string
	// IntegerKeys maps the mapped tables (MySQL, folded) whose key has
	// columns of an integer type to which ones: an INSERT that gives one
	// a value the column stores as another number (7.5, '9.5') is refused,
	// since the mirror would look for the row under the value given.
	IntegerKeys map[string][]bool
	// InexactKeys maps the mapped tables (MySQL, folded) whose key has
	// columns that may store a value given for them as another value (a
	// DECIMAL rounds, a DATE drops a time) to which ones: an INSERT ...
	// VALUES names such a key as given, so its keys are read back with
	// RETURNING where the server has it, and counted after it elsewhere.
	InexactKeys map[string][]bool
	// InsertTriggers maps the mapped tables (old and new, folded) with a
	// BEFORE INSERT ... FOR EACH ROW trigger (MySQL) to what it is: it may
	// change the key of a row the statement names, so an INSERT whose
	// keys are read from its values is refused on them.
	InsertTriggers map[string]string
	// Columns maps the mapped tables (old and new, folded) to the columns,
	// folded and in order, that an INSERT without a column list gives
	// values to.
	Columns map[string][]string
	// ZeroGenerates is set where sql_mode lacks NO_AUTO_VALUE_ON_ZERO
	// (MySQL): an insert of 0 into an AUTO_INCREMENT column stores a
	// generated value instead.
	ZeroGenerates bool
	// AutoIncrementStep is MySQL's auto_increment_increment on every
	// connection: the distance between the ids one INSERT generates.
	AutoIncrementStep int64
}

// AssumedSchema is what the planner assumes of a schema it cannot read
// (a driver without one, a mapping explained without a database): any
// mapped table, old or new, may have a unique constraint besides its key,
// so REPLACE is refused on all of them, in either direction; no trigger or
// foreign key is known.
func AssumedSchema(d *Dialect, m *mapping.Mapping) *Schema {
	s := &Schema{OtherUnique: map[string]bool{}}
	for _, t := range m.Tables {
		s.OtherUnique[d.FoldName(t.Old)] = true
		s.OtherUnique[d.FoldName(t.New)] = true
	}
	return s
}

// flip returns the schema as the planner of the flipped mapping m.Flip()
// sees it: the maps keyed by table name hold the new tables too, but
// Broken is keyed by the old tables, and a flipped entry is broken where
// its entry is.
func (s *Schema) flip(d *Dialect, m *mapping.Mapping) *Schema {
	if s == nil || len(s.Broken) == 0 {
		return s
	}
	f := *s
	f.Broken = map[string]string{}
	for _, t := range m.Tables {
		if why, ok := s.Broken[d.FoldName(t.Old)]; ok {
			f.Broken[d.FoldName(t.New)] = why
		}
	}
	return &f
}

// Guard says which writes on a table are refused, and why.
type Guard struct {
	Reason                 string
	Insert, Update, Delete bool
	// Rows is set on a partition or inheritance child of a mapped table:
	// its rows are rows of the mapped table, so that dropping it, or
	// attaching, detaching or (dis)inheriting tables of its own, changes
	// the mapped table's rows too (inherit.go).
	Rows bool
}

// Merge returns g with o's writes and reason added.
func (g Guard) Merge(o Guard) Guard {
	if g.Reason != "" && o.Reason != "" {
		o.Reason = g.Reason + "; " + o.Reason
	} else if o.Reason == "" {
		o.Reason = g.Reason
	}
	o.Insert, o.Update, o.Delete = g.Insert || o.Insert, g.Update || o.Update, g.Delete || o.Delete
	o.Rows = g.Rows || o.Rows
	return o
}

// refuses reports whether the guard refuses the statement.
func (g Guard) refuses(st *Statement) bool {
	switch st.Kind {
	case KindInsert:
		return g.Insert || len(st.UpsertSetColumns) > 0 && g.Update || st.Replace && (g.Delete || g.Update)
	case KindUpdate:
		return g.Update || st.Replace && g.Delete
	case KindDelete:
		return g.Delete
	}
	return false
}

type role uint8

const (
	roleOld role = iota + 1
	roleNew
	roleGuarded
)

type tracked struct {
	role  role
	table *Table // roleOld: the pair; roleNew: the pair it belongs to
	guard Guard
}

// Planner turns statement texts into plans for one mapping. It is safe for
// concurrent use; plans are cached per statement text, in a cache bounded
// by entries and by bytes.
type Planner struct {
	d      *Dialect
	tables map[string]*tracked
	schema Schema
	names  []string // the keys of tables, sorted
	pre    *prescan // passes what certainly names none of them (prescan.go)
	cache  *planCache
	// back plans writes to the new tables, by the flipped mapping
	// (mapping.Mapping.Flip): its plans are the Back of this planner's.
	back *Planner
}

// NewPlanner compiles the mapping for dialect d. schema may be nil when the
// live schema is unknown (only in tests of the generated SQL). Its plan
// cache keeps the plans of up to cacheSize statement texts, in at most
// [DefaultPlanCacheBytes].
func NewPlanner(d *Dialect, m *mapping.Mapping, schema *Schema, cacheSize int) *Planner {
	return NewPlannerBounded(d, m, schema, cacheSize, DefaultPlanCacheBytes)
}

// NewPlannerBounded is [NewPlanner] with a plan cache of at most cacheBytes
// (approximately: the plans' own texts, the keys and a fixed overhead per
// entry). A text longer than a few hundred bytes is kept in the cache as
// its length and SHA-256 digest, so that a statement the wrapper passes as
// written costs the cache a fixed amount however long it is; a plan that
// would take more than an eighth of cacheBytes is not cached.
func NewPlannerBounded(d *Dialect, m *mapping.Mapping, schema *Schema, cacheSize int, cacheBytes int64) *Planner {
	p := newPlanner(d, m, schema)
	p.pre = newPrescan(p.names)
	p.cache = newPlanCache(cacheSize, cacheBytes)
	p.back = newPlanner(d, m.Flip(), schema.flip(d, m))
	return p
}

// newPlanner is a planner without a cache or a back planner.
func newPlanner(d *Dialect, m *mapping.Mapping, schema *Schema) *Planner {
	p := &Planner{d: d, tables: map[string]*tracked{}}
	if schema != nil {
		p.schema = *schema
	}
	for _, t := range m.Tables {
		ct := d.CompileKeyTypes(t, p.schema.KeyTypes[d.FoldName(t.Old)])
		ct.zeroGenerates = p.schema.ZeroGenerates && len(t.NewKey) == 1 && p.schema.AutoIncrement[d.FoldName(t.New)] == d.FoldName(t.NewKey[0])
		ct.autoIncrement = d.mysql && p.schema.AutoIncrement[d.FoldName(t.New)] != ""
		p.tables[d.FoldName(t.Old)] = &tracked{role: roleOld, table: ct}
		p.tables[d.FoldName(t.New)] = &tracked{role: roleNew, table: ct}
	}
	defer func() {
		for name := range p.tables {
			p.names = append(p.names, name)
		}
		sort.Strings(p.names)
	}()
	for name, g := range p.schema.Guards {
		if tr := p.tables[name]; tr != nil {
			tr.guard = g
		} else {
			p.tables[name] = &tracked{role: roleGuarded, guard: g}
		}
	}
	return p
}

// Dialect returns the planner's dialect.
func (p *Planner) Dialect() *Dialect { return p.d }

// Table returns the compiled pair whose old table is named old, or nil.
func (p *Planner) Table(old string) *Table {
	if tr := p.tables[p.d.FoldName(old)]; tr != nil && tr.role == roleOld {
		return tr.table
	}
	return nil
}

// Source says where a plan returned by [Planner.Plan] came from.
type Source uint8

// Plan sources.
const (
	Planned    Source = iota // planned now: the text was not in the cache
	Cached                   // from the plan cache
	Prescanned               // the plain pass-through, from the prescan (prescan.go): no lookup
)

// Plan returns the plan for a statement text, from the cache when it has been
// seen before. A text that certainly names no tracked table, as a scan of
// its bytes tells, is passed without planning or a cache lookup.
func (p *Planner) Plan(query string) (*Plan, Source) {
	if p.pre.passes(query) {
		return passPlan, Prescanned
	}
	return p.lookup(query)
}

// lookup returns the plan for query from the cache, or plans and caches
// it: Plan without the prescan.
func (p *Planner) lookup(query string) (*Plan, Source) {
	k := keyOf(query)
	if plan := p.cache.get(k); plan != nil {
		return plan, Cached
	}
	plan := p.planText(query)
	p.cache.put(k, plan)
	return plan, Planned
}

// Prescan is Plan for a query the driver may run as written in the read
// phase old without a plan: when one scan of its bytes, before lexing
// (prescan.go), finds it certainly a query of one mapped old table that
// writes nothing, and its plan is not in the cache, it returns no plan and
// read, the table's name as the mapping gives it. Such a query's plan is
// a read (or the plain pass-through): in the read phase old it runs as
// written. Recognizing one costs the scan and a lexing, a fraction of
// planning; a plan in the cache costs less to find, and is returned.
// Every other text gets what Plan returns, from the same scan.
func (p *Planner) Prescan(query string) (plan *Plan, src Source, read string) {
	r, ok := p.pre.scan(query)
	switch {
	case !ok:
		plan, src = p.lookup(query)
		return plan, src, ""
	case r.name == "":
		return passPlan, Prescanned, ""
	}
	k := keyOf(query)
	if plan := p.cache.get(k); plan != nil {
		return plan, Cached, ""
	}
	if tr := p.tables[r.name]; r.first == "select" && !r.writes && !r.several &&
		tr != nil && tr.role == roleOld && tr.guard == (Guard{}) {
		// Text the lexer cannot split naming a mapped table is refused.
		if _, err := p.d.Lex(query); err == nil {
			return nil, 0, tr.table.Map.Old
		}
	}
	plan = p.planText(query)
	p.cache.put(k, plan)
	return plan, Planned, ""
}

// planText plans a statement text, without the prescan or the cache.
func (p *Planner) planText(query string) *Plan {
	toks, err := p.d.Lex(query)
	return p.schemaEffects(query, toks, err, p.plan(query, toks, err)).detach()
}

// plan plans a statement text, lexed into toks (lexErr when it cannot be).
func (p *Planner) plan(query string, toks []Token, lexErr error) (plan *Plan) {
	if err := lexErr; err != nil {
		if name := p.mentioned(query, roleOld, roleNew, roleGuarded); name != "" {
			return refuse(name, "SQL text that cannot be tokenized ("+err.Error()+")", "check the statement's quotes and comments")
		}
		return passPlan
	}
	var named string
	for _, t := range toks {
		// String tokens count: SQLite accepts 'users' where a table name goes.
		if t.Kind == Word || t.Kind == QuotedIdent || t.Kind == String {
			if _, ok := p.tables[p.d.Fold(t.Text(query))]; ok {
				named = p.d.Fold(t.Text(query))
				break
			}
		}
		// A dollar-quoted body (DO $$ ... $$) is code PostgreSQL may run:
		// one that mentions a mapped table names it, and the statement is
		// then refused unless the analyzer knows it for a plain literal.
		if t.Kind == String && query[t.Start] == '$' && p.d.dollarParams {
			if name := p.mentioned(t.Text(query), roleOld, roleNew, roleGuarded); name != "" {
				named = name
				break
			}
		}
	}
	for _, t := range toks {
		// A U&"..." identifier may spell a mapped table with escapes.
		if t.Kind == QuotedIdent && strings.EqualFold(query[t.Start:t.Start+1], "u") {
			return refuse(named, `a U&"..." identifier`, "write the identifier without escapes")
		}
	}
	if plan := p.session(query, toks, named); plan != nil {
		return plan // before the DO rule: a session refusal holds in every phase
	}
	if plan := p.doBlocks(query, toks); plan != nil {
		return plan
	}
	if refusal, temp, found := p.selectInto(query, toks); refusal != nil {
		return refusal
	} else if found {
		defer func() { plan = createsTable(plan, temp) }()
	}
	if named == "" {
		ddl := changesSchema(query, toks)
		switch {
		case p.transactionControl(query, toks) && ddl:
			plan := p.ddl(query, toks)
			if plan.Action == Refuse {
				return plan
			}
			tx := *plan
			tx.Kind = KindTx
			return &tx
		case p.transactionControl(query, toks):
			return txPlan
		case ddl:
			return p.ddl(query, toks)
		}
		if truncateCascade(query, toks) {
			// TRUNCATE ... CASCADE empties every table that references the
			// truncated ones, whatever their foreign keys' actions.
			return refuse("", "TRUNCATE ... CASCADE", "truncate the tables one by one, without CASCADE")
		}
		return passPlan
	}
	st := p.d.analyzeTokens(query, toks)
	if st.Multi && (st.Kind != KindDDL || !p.singleStatement(query, toks)) {
		return refuse(named, "several statements in one string", "send them as separate statements")
	}
	if st.WithWrites || writingCTE(query, toks) {
		return refuse(named, "a data-modifying statement inside WITH", "run the write as a statement of its own")
	}

	switch st.Kind {
	case KindSelect:
		return p.readPlan(query, toks, st)
	case KindTx, KindEmpty, KindUtility:
		// EXPLAIN shows a write without running it; the rest change no rows.
		if p.transactionControl(query, toks) {
			return txPlan
		}
		return passPlan
	case KindDDL:
		return p.ddl(query, toks)
	case KindOther:
		return refuse(named, "a statement the analyzer cannot classify", "")
	case KindMerge:
		return p.merge(st, named)
	}
	target := p.tables[st.Target.Table]
	if st.Unsupported != "" {
		return refuse(orName(st.Target.Table, named), st.Unsupported, "")
	}
	if target == nil {
		return passPlan // a write to another table that only reads mapped ones
	}
	if target.guard.refuses(st) {
		return refuse(st.Target.Table, target.guard.Reason, "drop the trigger or make the foreign key ON DELETE/UPDATE RESTRICT while dual-writing")
	}
	if target.role == roleGuarded {
		return passPlan
	}
	if st.Target.Schema != "" && st.Target.Schema != "main" {
		return refuse(st.Target.Table, "a table in schema "+st.Target.Schema, "dualwrite maps the tables of the default schema, named without a schema")
	}
	if target.role == roleNew {
		plan := refuse(st.Target.Table, "a write to the new table of the mapping "+target.table.Map.Old+" -> "+target.table.Map.New,
			"in the dual write phase the new table is written only by the mirror, backfill and verify: write to "+target.table.Map.Old+", or set the write phase to both to mirror writes to "+target.table.Map.New+" back")
		if p.back != nil {
			back := *p.back.plan(query, toks, nil)
			back.Reverse = true
			plan.Back = &back
		}
		return plan
	}
	if st.Replace && namesRowid(query, toks) {
		// The rowid is unique on its own: REPLACE may delete the row that
		// holds it, whatever its key, without the mirror knowing.
		return refuse(st.Target.Table, "REPLACE that writes the rowid",
			"write the key columns and not the rowid, or use INSERT ... ON CONFLICT DO UPDATE")
	}
	return p.mirror(query, st, target.table)
}

// merge plans a MERGE: one into a table the mirror does not track, that
// only reads mapped tables (in USING), passes; one into a mapped or
// guarded table is refused, since PostgreSQL before 17 cannot return the
// keys a MERGE wrote, and without them the mirror cannot know them.
func (p *Planner) merge(st *Statement, named string) *Plan {
	if st.Unsupported != "" {
		return refuse(orName(st.Target.Table, named), "MERGE: "+st.Unsupported, "")
	}
	tr := p.tables[st.Target.Table]
	if tr == nil {
		return passPlan
	}
	return refuse(st.Target.Table, "MERGE into a table the mirror keeps (it cannot learn which keys a MERGE wrote)",
		"write the rows with INSERT ... ON CONFLICT DO UPDATE (bun: NewInsert().On(\"CONFLICT (key) DO UPDATE\"); GORM: clause.OnConflict), and DELETE for the rows to remove")
}

// namesRowid reports whether a statement names SQLite's rowid.
func namesRowid(query string, toks []Token) bool {
	for _, t := range toks {
		if t.Kind == Word {
			switch strings.ToLower(t.Text(query)) {
			case "rowid", "_rowid_", "oid":
				return true
			}
		}
	}
	return false
}

func (p *Planner) readPlan(query string, toks []Token, st *Statement) *Plan {
	rp, err := p.read(query, toks, st)
	switch {
	case err != nil:
		var table string
		if tr := p.tables[p.mentioned(query, roleOld)]; tr != nil {
			table = tr.table.Map.Old
		}
		return &Plan{Action: Read, Kind: KindSelect, Err: &UnsupportedError{Table: table, Construct: err.Error(),
			Fix: "the query runs against the old tables while the read phase is old"}}
	case rp == nil:
		return p.backRead(query, toks, st)
	}
	for _, t := range rp.Tables {
		if err := p.broken(t); err != nil {
			return &Plan{Action: Read, Kind: KindSelect, Err: err}
		}
	}
	return &Plan{Action: Read, Kind: KindSelect, Read: rp}
}

// backRead plans a query of new tables only, the new release's in the
// write phase both: in the read phase compare it is compared with the same
// query over up(old), as the old release's queries are with down(new). A
// query that cannot be served so, or a locking one, runs as written.
func (p *Planner) backRead(query string, toks []Token, st *Statement) *Plan {
	if p.back == nil {
		return passPlan
	}
	rp, err := p.back.read(query, toks, st)
	if err != nil || rp == nil || rp.Lock != nil {
		return passPlan
	}
	for _, t := range rp.Tables {
		if p.back.broken(t) != nil {
			return passPlan
		}
	}
	return &Plan{Action: Read, Kind: KindSelect, Read: rp, Reverse: true}
}

// mentioned returns the first table of the given roles whose name the
// text holds anywhere, case-insensitively (in a string, a comment, a longer
// name), or "": for refusing text the analyzer cannot read, which may name
// a table.
func (p *Planner) mentioned(text string, roles ...role) string {
	lower := strings.ToLower(text)
	for _, name := range p.names {
		if tr := p.tables[name]; slices.Contains(roles, tr.role) && strings.Contains(lower, strings.ToLower(name)) {
			return name
		}
	}
	return ""
}

func truncateCascade(query string, toks []Token) bool {
	if len(toks) == 0 || toks[0].Kind != Word || !strings.EqualFold(toks[0].Text(query), "TRUNCATE") {
		return false
	}
	for _, t := range toks {
		if t.Kind == Word && strings.EqualFold(t.Text(query), "CASCADE") {
			return true
		}
	}
	return false
}

func orName(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func refuse(table, construct, fix string) *Plan {
	return &Plan{Action: Refuse, Err: &UnsupportedError{Table: table, Construct: construct, Fix: fix}}
}

func (p *Planner) mirror(query string, st *Statement, t *Table) *Plan {
	m := t.Map
	if err := p.broken(t); err != nil {
		return &Plan{Action: Refuse, Err: err}
	}
	if p.d.mysql {
		return p.mysqlMirror(query, st, t)
	}
	if p.schema.ReplaceOnConflict[p.d.FoldName(m.Old)] && p.schema.OtherUnique[p.d.FoldName(m.Old)] {
		return refuse(m.Old, "a write to a table with an ON CONFLICT REPLACE constraint besides its key",
			"such a write may delete rows by that constraint without the mirror knowing; drop the ON CONFLICT REPLACE clause while dual-writing")
	}
	if st.Replace && p.schema.OtherUnique[p.d.FoldName(m.Old)] {
		return p.replacePlan(query, st, t)
	}
	for _, c := range st.UpsertSetColumns {
		if changesKey(m, c) {
			return refuse(m.Old, "ON CONFLICT DO UPDATE that assigns key column "+c,
				"change keys with UPDATE ... SET "+c+" = ... instead")
		}
	}
	trigger := p.schema.RowTriggers[p.d.FoldName(m.Old)]
	if trigger != "" && len(st.UpsertSetColumns) > 0 {
		return refuse(m.Old, "ON CONFLICT DO UPDATE on a table with "+trigger+", which may change the key of the row it updates",
			"write the upsert as an INSERT ... ON CONFLICT DO NOTHING and an UPDATE, or drop the trigger while dual-writing")
	}
	// A BEFORE UPDATE row trigger may change the key of any row it updates.
	keyChange := st.Kind == KindUpdate && trigger != ""
	for _, c := range st.SetColumns {
		keyChange = keyChange || st.Kind == KindUpdate && changesKey(m, c)
	}
	// A DELETE's mirror cannot be fused: a DELETE in the statement would see
	// only new rows committed before the statement began, and miss one that
	// a write it waited for (an UPDATE mirroring a row the new table did not
	// have yet) inserted.
	if p.d.fused && !keyChange && st.Kind != KindDelete {
		return p.fusedPlan(query, st, t)
	}
	plan, returning := p.capturePlan(query, st, t)
	if !keyChange {
		return plan
	}
	plan.Params = p.d.params(query, st.Params)
	if plan.Params.Count > maxParams {
		return refuse(m.Old, fmt.Sprintf("parameter number %d", plan.Params.Count), fmt.Sprintf("SQLite numbers parameters up to %d", maxParams))
	}
	p.keyChange(plan, query, st, returning)
	return plan
}

// capturePlan returns the Mirror plan that runs the caller's statement with
// the key columns appended to its RETURNING, and what it appended.
func (p *Planner) capturePlan(query string, st *Statement, t *Table) (*Plan, string) {
	m := t.Map
	plan := &Plan{Action: Mirror, Kind: st.Kind, Table: t, KeyCols: len(m.Key), CallerReturning: st.Returning}
	returned := make([]string, len(m.Key))
	for i, k := range m.Key {
		returned[i] = p.d.Quote(k)
		if p.d.lockRows {
			// PostgreSQL finds an unqualified RETURNING column in the FROM
			// list too, where it may be ambiguous.
			returned[i] = st.Qualifier + "." + returned[i]
		}
	}
	returning := " RETURNING " + strings.Join(returned, ", ")
	if st.Returning {
		returning = ", " + strings.Join(returned, ", ")
	}
	// Nothing after the statement is kept: the driver could return the rows of
	// what follows a semicolon instead of the RETURNING rows.
	plan.Capture = query[:st.End] + returning
	return plan, returning
}

// BindRows returns the arguments of a Capture restricted by RowIDs: the
// caller's, by number, and the identities of the rows the pre-select
// returned, as arrays.
func (p *Plan) BindRows(args []driver.NamedValue, rows [][]driver.Value) []driver.NamedValue {
	out := p.Params.Bind(args)
	var ctids, ids []string
	seen := map[string]bool{}
	for _, r := range rows {
		oid, ctid := fmt.Sprint(r[0]), fmt.Sprint(r[1])
		if id := oid + "," + ctid; !seen[id] {
			seen[id] = true
			ctids = append(ctids, `"`+ctid+`"`)
			ids = append(ids, `"`+id+`"`)
		}
	}
	return append(out,
		driver.NamedValue{Ordinal: len(out) + 1, Value: "{" + strings.Join(ctids, ",") + "}"},
		driver.NamedValue{Ordinal: len(out) + 2, Value: "{" + strings.Join(ids, ",") + "}"})
}

// fusedPlan builds the single-statement dual write of a fused dialect.
func (p *Planner) fusedPlan(query string, st *Statement, t *Table) *Plan {
	// The whole-row reference is the alias, or the bare table name.
	row := st.Target.Text
	if st.Qualifier != query[st.Target.Start:st.Target.End] {
		row = st.Qualifier
	}
	sep := " RETURNING "
	if st.Returning {
		sep = ", "
	}
	fused := "WITH dw_w AS (" + query[:st.End] + sep + row + " AS dw_row), " + t.fusedMirror() + " SELECT * FROM dw_w"
	return &Plan{Action: Mirror, Kind: st.Kind, Table: t, KeyCols: 1, CallerReturning: st.Returning, Fused: fused}
}

// maxParams is SQLite's default SQLITE_MAX_VARIABLE_NUMBER.
const maxParams = 32766

// changesKey reports whether assigning column c may change a row's key: a
// key column, or the rowid, which an INTEGER PRIMARY KEY key is.
func changesKey(m *mapping.Table, c string) bool {
	return containsFold(m.Key, c) || c == "rowid" || c == "_rowid_" || c == "oid"
}
