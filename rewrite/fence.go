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
// another client, psql), fails.
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
	q := t.d.Quote
	m := t.Map
	up := make([]string, len(m.Columns))
	stored := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		up[i] = "((" + c.Expr + ")::" + newTypes[i] + ")::text"
		stored[i] = q(c.Name) + "::text"
	}
	// check returns the condition that the rows of the key in rec
	// (OLD or NEW), whose key columns are named keys, disagree.
	check := func(rec string, keys []string) string {
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = rec + "." + q(k)
		}
		key := "(" + strings.Join(vals, ", ") + ")"
		return "(SELECT array_agg(ARRAY[" + strings.Join(up, ", ") + "]) FROM " + q(m.Old) +
			" WHERE " + t.oldKeyList + " = " + key + ") IS DISTINCT FROM (SELECT array_agg(ARRAY[" +
			strings.Join(stored, ", ") + "]) FROM " + q(m.New) + " WHERE " + t.newKeyList + " = " + key + ")"
	}
	raise := func(rec string, keys []string) string {
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = rec + "." + q(k)
		}
		return "RAISE EXCEPTION 'dualwrite fence: a write to % (key %) was not mirrored between % and %', TG_TABLE_NAME, row(" +
			strings.Join(vals, ", ") + ")::text, " + quoteLiteral(m.Old) + ", " + quoteLiteral(m.New) +
			" USING ERRCODE = 'P0001', HINT = " + quoteLiteral("write to "+m.Old+" through the dualwrite driver, or remove the fence (dualwrite fence remove) first") + ";"
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
	return f, nil
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
