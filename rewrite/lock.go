package rewrite

import (
	"fmt"
	"strings"
)

// LockPlan is how a locking read (SELECT ... FOR UPDATE, FOR NO KEY
// UPDATE, FOR SHARE or FOR KEY SHARE, on PostgreSQL) of one mapped table is
// served in the compare and new read phases, so that the caller holds the
// locks it relies on and no deadlock appears that the same workload would
// not have without the wrapper:
//
//  1. OldQuery, the caller's query as written with the key columns
//     appended to its select list, runs on the old table: it locks exactly
//     the rows the caller's query locks, in the same order, with the same
//     NOWAIT or SKIP LOCKED, and tells which keys they have.
//  2. NewQuery reads and locks the new rows of those keys, with the
//     caller's select list over the old shape of the new rows. A dual write
//     locks the old row before the new one, so no one holds the new row of
//     a key whose old row the caller holds: the second step never waits
//     for a dual write.
//
// A LockPlan is immutable and safe for concurrent use.
type LockPlan struct {
	// OldQuery is the caller's query with KeyCols key columns appended to
	// its select list; its parameters are the caller's.
	OldQuery string
	// KeyCols is how many columns OldQuery and NewQuery append: the key's.
	KeyCols int
	// Compared is false when the lock lets other transactions change the
	// rows' non-key columns between the two queries (FOR KEY SHARE), so
	// that their results may rightly differ.
	Compared bool

	t                *Table
	newHead, newTail string
}

// NewQuery returns the query that reads and locks the new rows of n keys,
// as the caller's select list over the new rows in the old table's shape,
// with the key columns appended. Its parameters are the n keys' column
// values, key by key, as for [Table.UpsertSQL].
func (l *LockPlan) NewQuery(n int) string { return l.newHead + l.t.keyValues(n) + l.newTail }

// KeyBatch is the most keys one NewQuery takes.
func (l *LockPlan) KeyBatch() int { return l.t.KeyBatch() }

// lockStrengths are the row lock strengths, weakest first, by the words
// after FOR.
var lockStrengths = []string{"KEY SHARE", "SHARE", "NO KEY UPDATE", "UPDATE"}

// locking is what the locking clauses of a query ask for.
type locking struct {
	strength int  // index in lockStrengths of the strongest clause
	noWait   bool // some clause says NOWAIT
}

// lockingClause reads the locking clause starting at token i (FOR) and
// returns where it ends: FOR <strength> [OF name [, ...]] [NOWAIT | SKIP
// LOCKED].
func lockingClause(query string, toks []Token, i int, l *locking) (int, error) {
	a := &analyzer{src: query, toks: toks, end: len(toks), st: &Statement{}}
	i++
	s := -1
	for n, words := range lockStrengths {
		match := true
		for k, w := range strings.Fields(words) {
			match = match && a.is(i+k, w)
		}
		if match {
			s = n
			break
		}
	}
	if s < 0 {
		return 0, fmt.Errorf("a locking clause the analyzer cannot read at FOR %s", a.text(i))
	}
	l.strength = max(l.strength, s)
	i += len(strings.Fields(lockStrengths[s]))
	if a.is(i, "OF") {
		for i++; i < a.end && (toks[i].Kind == Word || toks[i].Kind == QuotedIdent || toks[i].Kind == Dot || toks[i].Kind == Comma); i++ {
			if a.isAny(i, "NOWAIT", "SKIP", "FOR", "LIMIT", "OFFSET", "FETCH") {
				break
			}
		}
	}
	switch {
	case a.is(i, "NOWAIT"):
		l.noWait = true
		i++
	case a.is(i, "SKIP") && a.is(i+1, "LOCKED"):
		i += 2
	}
	if i < a.end && !a.isAny(i, "FOR", "LIMIT", "OFFSET", "FETCH") {
		return 0, fmt.Errorf("a locking clause the analyzer cannot read at %s", a.text(i))
	}
	return i, nil
}

// isLocking reports whether token i starts a locking clause.
func isLocking(word func(int) string, i int) bool {
	if word(i) == "LOCK" && word(i+1) == "IN" {
		return true // MySQL's LOCK IN SHARE MODE
	}
	if word(i) != "FOR" {
		return false
	}
	switch word(i + 1) {
	case "UPDATE", "SHARE", "NO", "KEY":
		return true
	}
	return false
}

// lockPlan builds the LockPlan of a locking read, or says which construct
// it cannot serve: only a SELECT that reads one mapped table alone at its
// top level, and names no other mapped table, is served.
func (p *Planner) lockPlan(query string, toks []Token, t *Table, refs int, l locking) (*LockPlan, error) {
	const fix = "lock the mapped table's rows in a query of its own (SELECT ... FROM one table WHERE ... FOR UPDATE), then read the rest"
	s, ok := p.d.findSoleTable(query, toks)
	switch {
	case !ok:
		return nil, fmt.Errorf("a locking read of anything but one mapped table alone (a join, a table list, WITH, a subquery in FROM or UNION); %s", fix)
	case refs != 1 || p.d.Fold(toks[s.name].Text(query)) != p.d.FoldName(t.Map.Old):
		return nil, fmt.Errorf("a locking read that reads a mapped table in a subquery too; %s", fix)
	}
	if s.from < 2 {
		return nil, fmt.Errorf("a locking read with an empty select list")
	}
	for _, tk := range toks[1:s.from] {
		if tk.Kind == Param {
			return nil, fmt.Errorf("a placeholder in the select list of a locking read; select the value in the application instead")
		}
	}
	keys := make([]string, len(t.Map.Key))
	for i, k := range t.Map.Key {
		keys[i] = s.qualifier + "." + p.d.Quote(k)
	}
	keyList := ", " + strings.Join(keys, ", ")
	at := toks[s.from-1].End // after the select list's last token, before any comment
	lp := &LockPlan{
		OldQuery: query[:at] + keyList + query[at:toks[len(toks)-1].End],
		KeyCols:  len(keys),
		Compared: lockStrengths[l.strength] != "KEY SHARE",
		t:        t,
	}
	selectList := query[toks[1].Start:toks[s.from-1].End]
	derived := t.derived[:len(t.derived)-1] // without its closing parenthesis
	lp.newHead = "SELECT " + selectList + keyList + " FROM " + derived + " WHERE " + t.newKeyList + " IN ("
	lp.newTail = ") FOR " + lockStrengths[l.strength]
	if l.noWait {
		lp.newTail += " NOWAIT"
	}
	lp.newTail += ") AS " + s.qualifier
	return lp, nil
}
