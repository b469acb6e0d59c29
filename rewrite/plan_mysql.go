package rewrite

import (
	"database/sql/driver"
	"slices"
	"strconv"
	"strings"
)

// MySQL's dual writes. The caller's statement runs by Exec, as written or
// restricted to the rows it locked, so that its result (LastInsertId and
// RowsAffected, with or without clientFoundRows) is the server's own: a
// statement with RETURNING ends in a result set, whose counts the driver
// does not report. The keys it touched are learned without RETURNING:
//
//   - an INSERT ... VALUES or INSERT ... SET names them, as parameters
//     or literals, or leaves a single AUTO_INCREMENT key to the server,
//     whose generated ids are consecutive (by auto_increment_increment)
//     from the insert id the server reports;
//   - an UPDATE or DELETE first locks the rows it is about to change with
//     SELECT ... FOR UPDATE under its own WHERE, ORDER BY and LIMIT, and
//     then runs restricted to those rows' keys, so that a row committed in
//     between (READ COMMITTED) cannot slip in;
//   - an INSERT ... SELECT, which names no keys, returns them with
//     RETURNING where the server has it (MariaDB 10.5); so does a
//     statement with a RETURNING clause of the caller's.
//
// The mirror then sets the new rows of those keys to up(old), which is
// exact for any superset of the touched keys.

// InsertKey is where one key column's value of one inserted row comes
// from: the caller's argument Arg (1-based), the literal Lit, or the
// server (Generated: an AUTO_INCREMENT column left out, NULL or DEFAULT).
type InsertKey struct {
	Arg       int
	Lit       driver.Value
	Generated bool
	// Auto is set on the AUTO_INCREMENT column: an argument of NULL or 0
	// leaves its value to the server too.
	Auto bool
	// Integer is set on a column of an integer type: a value it would
	// store as another number is refused.
	Integer bool
}

// Value returns the key value with the caller's arguments bound by
// number (Params.Bind): the argument's, or the literal (nil where the
// server generates it).
func (k InsertKey) Value(args []driver.NamedValue) driver.Value {
	if k.Arg > 0 && k.Arg <= len(args) {
		return args[k.Arg-1].Value
	}
	return k.Lit
}

// Restrict is an UPDATE or DELETE restricted to the keys of the rows its
// pre-select locked: Head, the key condition for them, and Tail. Args of
// the caller's arguments go before the condition's, the rest after it.
type Restrict struct {
	Head, Keys, Tail string
	Args             int
}

// SQL returns the restricted statement for n keys, and its arguments:
// the caller's, with the keys' values at the condition.
func (r *Restrict) SQL(t *Table, args []driver.NamedValue, keys [][]driver.Value) (string, []driver.NamedValue) {
	var cond string
	if len(keys) == 0 {
		cond = "FALSE"
	} else {
		cond = r.Keys + " IN (" + t.keyValues(len(keys)) + ")"
	}
	out := make([]driver.NamedValue, 0, len(args)+len(keys)*len(t.Map.Key))
	add := func(v driver.Value) { out = append(out, driver.NamedValue{Ordinal: len(out) + 1, Value: v}) }
	for _, a := range args[:min(r.Args, len(args))] {
		add(a.Value)
	}
	for _, k := range keys {
		for _, v := range k {
			add(v)
		}
	}
	for _, a := range args[min(r.Args, len(args)):] {
		add(a.Value)
	}
	tail := r.Tail
	if tail != "" && tail[0] > ' ' {
		tail = " " + tail // WHERE(x)ORDER BY ...: the condition needs a space after it
	}
	return r.Head + cond + tail, out
}

// MaxRestrictKeys is the most rows a MySQL UPDATE or DELETE on a mapped
// table may change: the restricted statement names each row's key as
// parameters, and a statement takes at most 65,535.
const MaxRestrictKeys = 60000

// mysqlMirror plans a write to a mapped old table in MySQL.
func (p *Planner) mysqlMirror(query string, st *Statement, t *Table) *Plan {
	m := t.Map
	old := p.d.FoldName(m.Old)
	if st.With.End > st.With.Start {
		return refuse(m.Old, "a write with a WITH clause", "write the statement without WITH (use a derived table)")
	}
	if st.Replace && p.schema.OtherUnique[old] {
		return refuse(m.Old, "REPLACE on a table with a unique key besides its key",
			"REPLACE also deletes the rows it meets through that key, which the mirror cannot learn; insert the row, or update it by its key")
	}
	for j, c := range st.UpsertSetColumns {
		if changesKey(m, c) && !p.keepsKey(query, st, j) {
			return refuse(m.Old, "ON DUPLICATE KEY UPDATE that assigns key column "+c,
				"change keys with UPDATE ... SET "+c+" = ... instead")
		}
	}
	if st.Upsert && p.schema.OtherUnique[old] {
		return refuse(m.Old, "ON DUPLICATE KEY UPDATE on a table with a unique key besides its key",
			"such an upsert may update the row of another key, which the statement does not name; update by the key with UPDATE, or drop the other unique key while dual-writing")
	}
	switch st.Kind {
	case KindInsert:
		return p.mysqlInsert(query, st, t)
	case KindUpdate:
		if trigger := p.schema.RowTriggers[old]; trigger != "" {
			return refuse(m.Old, "UPDATE on a table with "+trigger+", which may change the key of the row it updates", "drop the trigger while dual-writing")
		}
		for _, c := range st.SetColumns {
			if changesKey(m, c) && st.Joined {
				return refuse(m.Old, "a multi-table UPDATE that assigns key column "+c,
					"MySQL assigns a multi-table UPDATE's columns in no set order, so its new keys cannot be computed; change keys with a single-table UPDATE")
			}
			if changesKey(m, c) {
				return p.mysqlKeyChange(p.lockedWrite(query, st, t), query, st)
			}
		}
		if plan := p.pointUpdate(query, st, t); plan != nil {
			return plan
		}
		return p.lockedWrite(query, st, t)
	case KindDelete:
		if p.d.returning && !st.Joined {
			// MariaDB's single-table DELETE ... RETURNING returns the
			// keys of exactly the rows it deleted.
			plan, _ := p.capturePlan(query, st, t)
			plan.Params = p.d.params(query, st.Params)
			if plan.PointKey = p.pointKey(query, st, t, plan.Params); plan.PointKey != nil && !st.Returning {
				plan.Block = p.mariaDBBlock(query[:st.End], t, KindDelete)
			}
			return plan
		}
	}
	return p.lockedWrite(query, st, t)
}

// pointUpdate plans a single-table UPDATE that keeps keys and whose WHERE
// fixes the whole key (id = ? AND ...), or returns nil: the statement
// runs as written and the mirror sets the new row of that key. It changes
// no other row, so no pre-select needs to learn which it changed.
func (p *Planner) pointUpdate(query string, st *Statement, t *Table) *Plan {
	params := p.d.params(query, st.Params)
	key := p.pointKey(query, st, t, params)
	if key == nil {
		return nil
	}
	return &Plan{Action: Mirror, Kind: KindUpdate, Table: t, KeyCols: len(t.Map.Key), Capture: query[:st.End],
		Params: params, PointKey: key, Block: p.mariaDBBlock(query[:st.End], t, KindUpdate)}
}

// pointKey returns where each key column's value comes from in a
// single-table UPDATE or DELETE whose WHERE fixes the whole key with
// top-level AND conjuncts, or nil.
func (p *Planner) pointKey(query string, st *Statement, t *Table, params *Params) []InsertKey {
	if st.Joined || st.Where.End <= st.Where.Start {
		return nil
	}
	where := query[st.Where.Start:st.Where.End]
	toks, err := p.d.Lex(where)
	if err != nil {
		return nil
	}
	vals := p.fixedKey(where, toks, 0, len(toks), soleTable{qualifier: st.Qualifier}, t)
	if vals == nil {
		return nil
	}
	var key []InsertKey
	for _, v := range vals {
		sp := Span{Start: st.Where.Start + int(v[0].Start), End: st.Where.Start + int(v[len(v)-1].End)}
		k, ok := p.insertKey(query, st, params, sp)
		if !ok || k.Generated {
			return nil
		}
		key = append(key, k)
	}
	return key
}

// MySQLBlockPrefix begins the message of an error a compound statement's
// mirror raised (mariaDBBlock); the server's number and SQLSTATE are
// kept.
const MySQLBlockPrefix = "dualwrite mirror: "

// mariaDBBlock returns a point UPDATE's, DELETE's or one-row INSERT's
// dual write as one MariaDB compound statement, one round trip where the
// statements of a transaction are four: it opens the transaction, runs the
// statement as written, keeps its row count, runs the mirror (an UPDATE's
// or INSERT's upsert; a DELETE's delete of the new row, where it deleted
// the old one, whose lock it then holds), commits and returns the count.
// On an error
// it rolls back and raises the error again, the mirror's with
// MySQLBlockPrefix before its message. It returns "" where that cannot be
// done alike: on MySQL, which has no compound statement outside stored
// programs; and for a statement that reads what the block would change
// (the insert id, the row count) or names one of its variables, which
// take precedence over columns inside it.
func (p *Planner) mariaDBBlock(stmt string, t *Table, kind Kind) string {
	if !p.d.returning {
		return ""
	}
	upper := strings.ToUpper(stmt)
	for _, w := range []string{"LAST_INSERT_ID", "ROW_COUNT", "FOUND_ROWS", "DUALWRITE_"} {
		if strings.Contains(upper, w) {
			return ""
		}
	}
	mirror := t.UpsertLockedSQL(1) + ";"
	switch kind {
	case KindInsert:
		mirror = t.UpsertSQL(1) + ";"
	case KindDelete:
		mirror = "IF dualwrite_rows > 0 THEN " + t.DeleteKeysSQL(1) + "; END IF;"
	}
	return "BEGIN NOT ATOMIC\n" +
		"DECLARE dualwrite_rows BIGINT;\n" +
		"DECLARE dualwrite_step INT DEFAULT 0;\n" +
		"DECLARE dualwrite_message VARCHAR(512);\n" +
		"DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN\n" +
		"  GET DIAGNOSTICS CONDITION 1 dualwrite_message = MESSAGE_TEXT;\n" +
		"  ROLLBACK;\n" +
		"  IF dualwrite_step = 1 THEN RESIGNAL; END IF;\n" +
		"  SET dualwrite_message = CONCAT('" + MySQLBlockPrefix + "', dualwrite_message);\n" +
		"  RESIGNAL SET MESSAGE_TEXT = dualwrite_message;\n" +
		"END;\n" +
		"START TRANSACTION;\n" +
		"SET dualwrite_step = 1;\n" +
		stmt + "\n;\n" +
		"SET dualwrite_rows = ROW_COUNT(), dualwrite_step = 2;\n" +
		mirror + "\n" +
		"COMMIT;\n" +
		"SELECT dualwrite_rows;\n" +
		"END"
}

// mysqlKeyChange plans an UPDATE that assigns key columns: its pre-select
// also computes each locked row's new key, by the SET expressions of the
// key columns, which must be pure functions of the row's values before
// the UPDATE and of the caller's arguments (keyExpr). After the UPDATE the
// new keys are checked to name rows (Table.CountSQL): a value the column
// stores otherwise than the expression computes (a rounded number) fails
// the write rather than mirror the wrong key.
func (p *Planner) mysqlKeyChange(plan *Plan, query string, st *Statement) *Plan {
	m := plan.Table.Map
	if len(st.SetValues) != len(st.SetColumns) {
		return refuse(m.Old, "an UPDATE whose SET could not be read", "")
	}
	var used []int
	var exprs []string
	for _, k := range m.Key {
		fk := p.d.FoldName(k)
		expr := st.Qualifier + "." + p.d.Quote(k)
		for j, c := range st.SetColumns {
			if c != fk {
				continue
			}
			if why := p.keyExpr(query, st.SetValues[j], st.SetColumns[:j]); why != "" {
				return refuse(m.Old, "an UPDATE that sets key column "+k+" to "+why,
					"compute the new key from the row's columns, parameters, literals, operators and deterministic functions, in a SET that assigns the key before the columns it reads, or move the row with DELETE and INSERT in one transaction")
			}
			expr = "(" + p.d.splice(query, st.SetValues[j], st, plan.Params, &used) + ")"
		}
		exprs = append(exprs, expr)
	}
	// The new keys go first in the text, so their parameters come first.
	pre := plan.PreSelect
	from := strings.Index(pre, " FROM ")
	plan.PreSelect = pre[:from] + ", " + strings.Join(exprs, ", ") + pre[from:]
	plan.PreSelectParams = append(used, plan.PreSelectParams...)
	plan.NewKeyCols = len(m.Key)
	return plan
}

// mysqlPure are the functions whose value depends on their arguments
// alone.
var mysqlPure = map[string]bool{
	"ABS": true, "CEIL": true, "CEILING": true, "FLOOR": true, "ROUND": true, "TRUNCATE": true, "MOD": true, "SIGN": true,
	"GREATEST": true, "LEAST": true, "COALESCE": true, "IFNULL": true, "NULLIF": true, "IF": true,
	"CONCAT": true, "CONCAT_WS": true, "LOWER": true, "UPPER": true, "LCASE": true, "UCASE": true,
	"SUBSTRING": true, "SUBSTR": true, "LEFT": true, "RIGHT": true, "TRIM": true, "LTRIM": true, "RTRIM": true,
	"REPLACE": true, "LPAD": true, "RPAD": true, "REVERSE": true, "CHAR_LENGTH": true, "LENGTH": true,
	"CAST": true, "CONVERT": true, "HEX": true, "UNHEX": true, "MD5": true, "SHA1": true, "SHA2": true, "CRC32": true,
}

// mysqlImpure are words that read something besides the row and the
// arguments, without parentheses.
var mysqlImpure = map[string]bool{
	"CURRENT_TIMESTAMP": true, "CURRENT_DATE": true, "CURRENT_TIME": true, "LOCALTIME": true, "LOCALTIMESTAMP": true,
	"UTC_TIMESTAMP": true, "UTC_DATE": true, "UTC_TIME": true, "CURRENT_USER": true, "SELECT": true, "DEFAULT": true, "VALUES": true,
}

// keyExpr returns "" when the SET expression at sp is a pure function of
// the row's values before the UPDATE and of the caller's arguments, and
// otherwise what it is instead. assigned are the columns the SET assigns
// before it: MySQL evaluates a SET left to right, and an expression that
// reads one of them reads its new value.
func (p *Planner) keyExpr(query string, sp Span, assigned []string) string {
	text := query[sp.Start:sp.End]
	toks, err := p.d.Lex(text)
	if err != nil || len(toks) == 0 {
		return "an expression that cannot be read"
	}
	for i, t := range toks {
		w := t.Text(text)
		switch t.Kind {
		case Word, QuotedIdent:
			if strings.HasPrefix(w, "@") {
				return "an expression with a variable (" + w + ")"
			}
			up := strings.ToUpper(w)
			if t.Kind == Word && i+1 < len(toks) && toks[i+1].Kind == LParen {
				if !mysqlPure[up] {
					return "an expression calling " + up + ", which may not give the same value twice"
				}
				continue
			}
			if t.Kind == Word && mysqlImpure[up] {
				return "an expression reading " + up
			}
			if i+1 < len(toks) && toks[i+1].Kind == Dot {
				continue // a qualifier: the column follows
			}
			if slices.Contains(assigned, p.d.Fold(w)) {
				return "an expression reading " + w + ", which the SET assigns before it"
			}
		case Semicolon:
			return "an expression that cannot be read"
		}
	}
	return ""
}

// lockedWrite plans a single-table UPDATE or DELETE: a locking pre-select
// of the keys under the statement's clauses, and the statement restricted
// to them.
func (p *Planner) lockedWrite(query string, st *Statement, t *Table) *Plan {
	plan := &Plan{Action: Mirror, Kind: st.Kind, Table: t, KeyCols: len(t.Map.Key), CallerReturning: st.Returning}
	plan.Params = p.d.params(query, st.Params)
	keys := make([]string, len(t.Map.Key))
	for i, k := range t.Map.Key {
		keys[i] = st.Qualifier + "." + p.d.Quote(k)
	}
	var pre string
	if st.Joined {
		pre = "SELECT " + strings.Join(keys, ", ") + " FROM " + p.d.splice(query, st.From, st, plan.Params, &plan.PreSelectParams)
		if st.Where.End > st.Where.Start {
			pre += " WHERE " + p.d.splice(query, st.Where, st, plan.Params, &plan.PreSelectParams)
		}
	} else {
		pre = p.preSelect(query, st, keys, plan.Params, &plan.PreSelectParams)
	}
	if st.OrderLimit.End > st.OrderLimit.Start {
		pre += " " + p.d.splice(query, st.OrderLimit, st, plan.Params, &plan.PreSelectParams)
	}
	plan.PreSelect = pre + " FOR UPDATE"
	r := &Restrict{Keys: keyList(keys)}
	at := st.WhereAt
	if st.Where.End > st.Where.Start {
		at = st.Where.End
		r.Head = query[:st.Where.Start] + "(" + query[st.Where.Start:st.Where.End] + ") AND "
	} else {
		r.Head = query[:st.WhereAt] + " WHERE "
	}
	r.Tail = query[at:st.End]
	for _, tok := range st.Params {
		if int(tok.Start) < at {
			r.Args++
		}
	}
	plan.Restrict = r
	return plan
}

// mysqlInsert plans an INSERT or REPLACE.
func (p *Planner) mysqlInsert(query string, st *Statement, t *Table) *Plan {
	m := t.Map
	if st.Returning || st.FromQuery {
		if !p.d.returning {
			return refuse(m.Old, "an INSERT ... SELECT or INSERT ... RETURNING on a server without RETURNING",
				"insert the rows with INSERT ... VALUES, naming their keys")
		}
		if st.FromQuery && st.Upsert {
			return refuse(m.Old, "INSERT ... SELECT ... ON DUPLICATE KEY UPDATE",
				"the rows it updated are not told apart from those it inserted; run the upsert as INSERT ... VALUES ... ON DUPLICATE KEY UPDATE")
		}
		ai := p.schema.AutoIncrement[p.d.FoldName(m.Old)]
		if st.FromQuery && ai != "" && (!st.HasColumns || containsFold(st.Columns, ai)) {
			return refuse(m.Old, "INSERT ... SELECT that writes the AUTO_INCREMENT column "+ai,
				"leave "+ai+" out of the column list, so that the server generates it, or insert the rows with INSERT ... VALUES")
		}
		plan, _ := p.capturePlan(query, st, t)
		if st.FromQuery && ai != "" {
			plan.InsertIDQuery = "SELECT LAST_INSERT_ID()"
		}
		return plan
	}
	if trigger := p.schema.InsertTriggers[p.d.FoldName(m.Old)]; trigger != "" {
		return refuse(m.Old, "INSERT on a table with "+trigger+", which may change the keys the statement names",
			"drop the trigger while dual-writing")
	}
	if inexact := p.schema.InexactKeys[p.d.FoldName(m.Old)]; inexact != nil && p.d.returning && !st.Upsert && !st.Replace {
		// The keys as stored, from the server (an upsert's are counted
		// below: its RETURNING does not tell the rows it updated).
		plan, _ := p.capturePlan(query, st, t)
		return plan
	}
	if !st.HasColumns {
		cols, ok := p.schema.Columns[p.d.FoldName(m.Old)]
		if !ok {
			return refuse(m.Old, "an INSERT without a column list, on a table whose columns are not known", "name the columns: INSERT INTO "+m.Old+" (...) VALUES (...)")
		}
		st.Columns = cols
	}
	ai := p.schema.AutoIncrement[p.d.FoldName(m.Old)]
	pos := make([]int, len(m.Key))
	for i, k := range m.Key {
		pos[i] = -1
		for j, c := range st.Columns {
			if c == p.d.FoldName(k) {
				pos[i] = j
			}
		}
		if pos[i] < 0 && !strings.EqualFold(k, ai) {
			return refuse(m.Old, "an INSERT that leaves key column "+k+" to its default", "give "+k+" a value in every row")
		}
	}
	params := p.d.params(query, st.Params)
	ints := p.schema.IntegerKeys[p.d.FoldName(m.Old)]
	plan := &Plan{Action: Mirror, Kind: KindInsert, Table: t, KeyCols: len(m.Key), Params: params,
		Capture: query[:st.End], InsertStep: max(p.schema.AutoIncrementStep, 1)}
	for _, row := range st.Rows {
		if len(row) != len(st.Columns) {
			return refuse(m.Old, "an INSERT whose rows do not have one value per column", "")
		}
		keys := make([]InsertKey, len(m.Key))
		for i, k := range m.Key {
			if pos[i] < 0 {
				keys[i].Generated = true
				continue
			}
			v, ok := p.insertKey(query, st, params, row[pos[i]])
			if !ok {
				return refuse(m.Old, "an INSERT whose key column "+k+" is given by an expression",
					"pass the key as a parameter or a literal, or leave an AUTO_INCREMENT key out")
			}
			if v.Generated && !strings.EqualFold(k, ai) {
				return refuse(m.Old, "an INSERT that sets key column "+k+" to NULL or DEFAULT", "give "+k+" a value in every row")
			}
			v.Auto = strings.EqualFold(k, ai)
			v.Integer = v.Auto || i < len(ints) && ints[i]
			keys[i] = v
		}
		if len(m.Key) > 1 && slicesGenerated(keys) {
			return refuse(m.Old, "an INSERT that leaves part of a composite key to the server", "give every key column a value")
		}
		plan.InsertKeys = append(plan.InsertKeys, keys)
	}
	if inexact := p.schema.InexactKeys[p.d.FoldName(m.Old)]; inexact != nil {
		if st.Ignore {
			return refuse(m.Old, "INSERT IGNORE into a table whose key column "+m.Key[slices.Index(inexact, true)]+
				" may store a value as another one (its type is not an integer, VARCHAR, TEXT or BLOB): a row it skips cannot be told from a key stored otherwise",
				"insert without IGNORE, or give the table an integer or VARCHAR key")
		}
		plan.CountInsertKeys = true
		return plan // no Block: it would mirror the key as given
	}
	// A plain INSERT of one row whose key it names: outside a transaction,
	// one compound statement. Its insert id is then 0, or the key where
	// the key is the AUTO_INCREMENT column (the server reports the value
	// the statement stored there); another AUTO_INCREMENT column may take
	// a generated value, which the block cannot report.
	if len(plan.InsertKeys) == 1 && !st.Ignore && !st.Upsert && !st.Replace && !slicesGenerated(plan.InsertKeys[0]) &&
		(ai == "" || len(m.Key) == 1 && strings.EqualFold(m.Key[0], ai)) {
		plan.PointKey = plan.InsertKeys[0]
		plan.BlockInsertID = ai != ""
		plan.Block = p.mariaDBBlock(query[:st.End], t, KindInsert)
	}
	return plan
}

func slicesGenerated(keys []InsertKey) bool {
	for _, k := range keys {
		if k.Generated {
			return true
		}
	}
	return false
}

// insertKey reads one inserted key value: a parameter, a number, a plain
// string, NULL or DEFAULT.
func (p *Planner) insertKey(query string, st *Statement, params *Params, sp Span) (InsertKey, bool) {
	toks, err := p.d.Lex(query[sp.Start:sp.End])
	if err != nil || len(toks) == 0 || len(toks) > 2 {
		return InsertKey{}, false
	}
	text := query[sp.Start:sp.End]
	neg := false
	if len(toks) == 2 {
		if toks[0].Text(text) != "-" || toks[1].Kind != Number {
			return InsertKey{}, false
		}
		neg, toks = true, toks[1:]
	}
	tok := toks[0]
	s := tok.Text(text)
	switch tok.Kind {
	case Param:
		for i, pt := range st.Params {
			if int(pt.Start) == sp.Start+int(tok.Start) {
				return InsertKey{Arg: params.index[i]}, true
			}
		}
	case Number:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if neg {
				n = -n
			}
			return InsertKey{Lit: n}, true
		}
	case String:
		if q := s[0]; (q == '\'' || q == '"') && !strings.ContainsRune(s, '\\') {
			return InsertKey{Lit: strings.ReplaceAll(s[1:len(s)-1], string([]byte{q, q}), string(q))}, true
		}
	case Word:
		if strings.EqualFold(s, "NULL") || strings.EqualFold(s, "DEFAULT") {
			return InsertKey{Generated: true}, true
		}
	}
	return InsertKey{}, false
}

// CountSQL returns the count of the old rows of n keys: for a MySQL
// key-changing UPDATE's check of the new keys it computed, and a point
// UPDATE's of key 0. It reads them FOR UPDATE, the latest committed rows:
// a plain read at REPEATABLE READ would read the transaction's snapshot,
// which lacks a row committed after it that the UPDATE locked but left
// unchanged (SET id = id + 0).
func (t *Table) CountSQL(n int) string {
	return "SELECT COUNT(*) FROM " + t.d.Quote(t.Map.Old) + " WHERE " + t.oldKeyList + " IN (" + t.keyValues(n) + ") FOR UPDATE"
}

// keepsKey reports whether the j-th assignment of an ON DUPLICATE KEY
// UPDATE sets its key column to the row's own value or the inserted one
// (GORM's "do nothing": id = id), which, where the key is the table's only
// unique key (another refuses the upsert), are one value: the key stays.
func (p *Planner) keepsKey(query string, st *Statement, j int) bool {
	if j >= len(st.UpsertSetValues) {
		return false
	}
	sp := st.UpsertSetValues[j]
	toks, err := p.d.Lex(query[sp.Start:sp.End])
	if err != nil {
		return false
	}
	text := query[sp.Start:sp.End]
	col := st.UpsertSetColumns[j]
	name := func(ts []Token) bool { // [table.]col
		last := ts[len(ts)-1]
		return (last.Kind == Word || last.Kind == QuotedIdent) && p.d.Fold(last.Text(text)) == col &&
			(len(ts) == 1 || len(ts) == 3 && ts[1].Kind == Dot)
	}
	switch {
	case len(toks) == 1 || len(toks) == 3:
		return name(toks)
	case len(toks) >= 4 && toks[0].Kind == Word && strings.EqualFold(toks[0].Text(text), "VALUES") &&
		toks[1].Kind == LParen && toks[len(toks)-1].Kind == RParen:
		return name(toks[2 : len(toks)-1])
	}
	return false
}
