package rewrite

import (
	"errors"
	"strings"
)

// FenceTrigger is the name of the fence's trigger on both tables of a
// mapped pair.
const FenceTrigger = "dualwrite_fence"

// ErrNoFence is returned by the fence generators for a dialect without a
// fence (SQLite: a trigger cannot wait for the end of the transaction).
var ErrNoFence = errors.New("dualwrite: the fence needs PostgreSQL's deferred constraint triggers")

// Fence is the SQL of one mapped pair's fence on PostgreSQL: a deferred
// constraint trigger on the old and on the new table that, at COMMIT,
// checks for every key a row change touched that the new row equals
// up(old row) or both rows are absent, and fails the transaction with an
// error naming the table and the key when not. A dual write passes it,
// since it changes both tables in the same transaction; any other write
// to either table, whoever makes it (a function, a procedure, a trigger,
// another client, psql), fails. The fence of the write phase both
// ([Table.FenceBoth]) also lets a key pass whose old row equals down(new
// row).
type Fence struct {
	Function string   // the trigger function's name
	Body     string   // the function's body, as pg_proc.prosrc holds it
	Install  []string // the statements that install the fence, in order
}

// Fence returns the fence of the pair; newTypes are the types of the new
// table's columns in mapping order (t.Map.Columns), as format_type spells
// them: up(old) is cast to them, and both sides compared as text, so that
// the check sees the values the mirror stored.
func (t *Table) Fence(newTypes []string) (*Fence, error) {
	if !t.d.dollarParams {
		return nil, ErrNoFence
	}
	return t.fence("write to "+t.Map.Old+" through the dualwrite driver, or remove the fence (dualwrite fence remove) first",
		projection{t, newTypes}), nil
}

// FenceBoth returns the fence of the pair for the write phase both, where
// a write to the new table is mirrored back into the old one: a key passes
// when the new row equals up(old row), when the old row equals down(new
// row) (the mapping's reverse expressions, which need not invert columns
// on every row), or when both rows are absent. newTypes are as for
// [Table.Fence]; oldTypes are the types of the old table's columns in the
// order of t.Map.Reverse, to which down(new) is cast in the same way.
//
// It is weaker than [Table.Fence]: a write that bypasses dualwrite and
// leaves old = down(new) passes it, which is the invariant of the write
// phase both but not of dual.
func (t *Table) FenceBoth(newTypes, oldTypes []string) (*Fence, error) {
	if !t.d.dollarParams {
		return nil, ErrNoFence
	}
	return t.fence("write to "+t.Map.Old+" or "+t.Map.New+" through the dualwrite driver in the write phase both, or remove the fence (dualwrite fence remove) first",
		projection{t, newTypes}, projection{t.d.Compile(t.Map.Flip()), oldTypes}), nil
}

// projection is one way a pair's rows may agree: the rows of t.Map.New
// equal t's expressions over the rows of t.Map.Old, each cast to the type
// in types (t.Map.Columns' order) and compared as text. For the fence of
// the write phase both, the second projection is the flipped pair's.
type projection struct {
	t     *Table
	types []string
}

// differs returns the condition that the rows of the key in rec (OLD or
// NEW) do not agree by p: keys name rec's key columns, in the order of
// the pair's key, which p.t's old and new key lists follow in either
// direction.
func (p projection) differs(rec string, keys []string) string {
	q := p.t.d.Quote
	m := p.t.Map
	up := make([]string, len(m.Columns))
	stored := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		up[i] = "((" + c.Expr + ")::" + p.types[i] + ")::text"
		stored[i] = q(c.Name) + "::text"
	}
	key := "(" + recordKey(q, rec, keys) + ")"
	return "(SELECT array_agg(ARRAY[" + strings.Join(up, ", ") + "]) FROM " + q(m.Old) +
		" WHERE " + p.t.oldKeyList + " = " + key + ") IS DISTINCT FROM (SELECT array_agg(ARRAY[" +
		strings.Join(stored, ", ") + "]) FROM " + q(m.New) + " WHERE " + p.t.newKeyList + " = " + key + ")"
}

// fence returns the fence that fails a transaction when a key it touched
// agrees by none of ps (the first of which is t's own); hint is the
// error's hint.
func (t *Table) fence(hint string, ps ...projection) *Fence {
	q := t.d.Quote
	m := t.Map
	check := func(rec string, keys []string) string {
		conds := make([]string, len(ps))
		for i, p := range ps {
			conds[i] = p.differs(rec, keys)
		}
		return strings.Join(conds, " AND ")
	}
	raise := func(rec string, keys []string) string {
		return "RAISE EXCEPTION 'dualwrite fence: a write to % (key %) was not mirrored between % and %', TG_TABLE_NAME, row(" +
			recordKey(q, rec, keys) + ")::text, " + quoteLiteral(m.Old) + ", " + quoteLiteral(m.New) +
			" USING ERRCODE = 'P0001', HINT = " + quoteLiteral(hint) + ";"
	}
	side := func(keys []string) string {
		return "    IF TG_OP <> 'INSERT' AND " + check("OLD", keys) + " THEN\n      " + raise("OLD", keys) + "\n    END IF;\n" +
			"    IF TG_OP <> 'DELETE' AND " + check("NEW", keys) + " THEN\n      " + raise("NEW", keys) + "\n    END IF;\n"
	}
	f := &Fence{Function: fenceFunction(m.Old)}
	f.Body = "\n#variable_conflict use_column\nBEGIN\n  IF TG_TABLE_NAME = " + quoteLiteral(m.Old) + " THEN\n" +
		side(m.Key) + "  ELSE\n" + side(m.NewKey) + "  END IF;\n  RETURN NULL;\nEND\n"
	fn := q(f.Function)
	f.Install = []string{
		"CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $dualwrite_fence$" + f.Body + "$dualwrite_fence$",
	}
	for _, table := range []string{m.Old, m.New} {
		f.Install = append(f.Install,
			"DROP TRIGGER IF EXISTS "+FenceTrigger+" ON "+q(table),
			"CREATE CONSTRAINT TRIGGER "+FenceTrigger+" AFTER INSERT OR UPDATE OR DELETE ON "+q(table)+
				" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "+fn+"()")
	}
	return f
}

// recordKey returns the fields keys of the trigger record rec, separated
// by commas: OLD."id", ...
func recordKey(q func(string) string, rec string, keys []string) string {
	vals := make([]string, len(keys))
	for i, k := range keys {
		vals[i] = rec + "." + q(k)
	}
	return strings.Join(vals, ", ")
}

// FenceRemove returns the statements that remove the pair's fence, if
// there is one.
func (t *Table) FenceRemove() []string {
	q := t.d.Quote
	return []string{
		"DROP TRIGGER IF EXISTS " + FenceTrigger + " ON " + q(t.Map.Old),
		"DROP TRIGGER IF EXISTS " + FenceTrigger + " ON " + q(t.Map.New),
		"DROP FUNCTION IF EXISTS " + q(fenceFunction(t.Map.Old)) + "()",
	}
}

// fenceFunction is the name of the fence's function of an old table.
func fenceFunction(old string) string { return "dualwrite_fence_" + old }

// quoteLiteral returns s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
