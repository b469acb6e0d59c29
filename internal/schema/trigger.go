package schema

import (
	"strings"

	"github.com/dualwrite/dualwrite/rewrite"
)

// trigger is what a CREATE TRIGGER statement says: which writes fire it,
// and which tables its body writes with which kinds of change.
type trigger struct {
	event  writeKind
	writes []write
}

// write is one table a trigger body changes.
type write struct {
	table string // as written, unquoted
	kinds writeKind
}

// parseTrigger reads a CREATE TRIGGER statement. When the statement does
// not have the expected shape it fails closed: every event fires the
// trigger, and every name in it is written with every kind of change.
func parseTrigger(sql string) trigger {
	toks, err := rewrite.SQLite.Lex(sql)
	if err != nil {
		return trigger{event: kindAll}
	}
	p := &trigParser{src: sql, toks: toks}
	if tr, ok := p.parse(); ok {
		return tr
	}
	tr := trigger{event: kindAll}
	for _, t := range toks {
		if t.Kind == rewrite.Word || t.Kind == rewrite.QuotedIdent || t.Kind == rewrite.String {
			tr.writes = append(tr.writes, write{table: unquote(t.Text(sql)), kinds: kindAll})
		}
	}
	return tr
}

type trigParser struct {
	src  string
	toks []rewrite.Token
}

func (p *trigParser) is(i int, words ...string) bool {
	if i >= len(p.toks) || p.toks[i].Kind != rewrite.Word {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(p.toks[i].Text(p.src), w) {
			return true
		}
	}
	return false
}

func (p *trigParser) isName(i int) bool {
	if i >= len(p.toks) {
		return false
	}
	k := p.toks[i].Kind
	return k == rewrite.Word || k == rewrite.QuotedIdent || k == rewrite.String
}

// name reads [schema.]name at i and returns the name and the index after it.
func (p *trigParser) name(i int) (string, int, bool) {
	if !p.isName(i) {
		return "", i, false
	}
	if i+2 < len(p.toks) && p.toks[i+1].Kind == rewrite.Dot && p.isName(i+2) {
		i += 2
	}
	return unquote(p.toks[i].Text(p.src)), i + 1, true
}

func (p *trigParser) parse() (trigger, bool) {
	var tr trigger
	i := 0
	if !p.is(i, "CREATE") {
		return tr, false
	}
	i++
	if p.is(i, "TEMP", "TEMPORARY") {
		i++
	}
	if !p.is(i, "TRIGGER") {
		return tr, false
	}
	i++
	if p.is(i, "IF") && p.is(i+1, "NOT") && p.is(i+2, "EXISTS") {
		i += 3
	}
	_, i, ok := p.name(i)
	if !ok {
		return tr, false
	}
	switch {
	case p.is(i, "BEFORE", "AFTER"):
		i++
	case p.is(i, "INSTEAD") && p.is(i+1, "OF"):
		i += 2
	}
	switch {
	case p.is(i, "INSERT"):
		tr.event = kindInsert
	case p.is(i, "UPDATE"):
		tr.event = kindUpdate
	case p.is(i, "DELETE"):
		tr.event = kindDelete
	default:
		return tr, false
	}
	// Skip UPDATE OF columns, the ON table, FOR EACH ROW and WHEN to BEGIN.
	begin := -1
	for j, depth := i+1, 0; j < len(p.toks) && begin < 0; j++ {
		switch p.toks[j].Kind {
		case rewrite.LParen:
			depth++
		case rewrite.RParen:
			depth--
		case rewrite.Word:
			if depth == 0 && p.is(j, "BEGIN") {
				begin = j
			}
		}
	}
	if begin < 0 {
		return tr, false
	}
	for j := begin + 1; j < len(p.toks); {
		end := j
		for end < len(p.toks) && p.toks[end].Kind != rewrite.Semicolon {
			end++
		}
		if w, ok := p.statement(j, end); ok {
			tr.writes = append(tr.writes, w)
		} else if !p.is(j, "SELECT", "VALUES", "END") {
			return tr, false
		}
		j = end + 1
	}
	return tr, true
}

// statement reads the body statement toks[i:end] and returns the table it
// writes, if it writes one.
func (p *trigParser) statement(i, end int) (write, bool) {
	var w write
	switch {
	case p.is(i, "INSERT", "UPDATE"):
		w.kinds = kindUpdate
		if p.is(i, "INSERT") {
			w.kinds = kindInsert
		}
		i++
		if p.is(i, "OR") { // OR REPLACE deletes the rows in the way
			if p.is(i+1, "REPLACE") {
				w.kinds |= kindDelete
			}
			i += 2
		}
		if w.kinds&kindInsert != 0 {
			if !p.is(i, "INTO") {
				return w, false
			}
			i++
		}
	case p.is(i, "REPLACE"):
		w.kinds = kindInsert | kindDelete
		if !p.is(i+1, "INTO") {
			return w, false
		}
		i += 2
	case p.is(i, "DELETE"):
		w.kinds = kindDelete
		if !p.is(i+1, "FROM") {
			return w, false
		}
		i += 2
	default:
		return w, false
	}
	name, next, ok := p.name(i)
	if !ok || next > end {
		return w, false
	}
	w.table = name
	if w.kinds&kindInsert != 0 {
		for j := next; j+1 < end; j++ {
			if p.is(j, "DO") && p.is(j+1, "UPDATE") {
				w.kinds |= kindUpdate
			}
		}
	}
	return w, true
}

// unquote returns the name an identifier token denotes, without quotes.
func unquote(tok string) string {
	if len(tok) < 2 {
		return tok
	}
	switch q := tok[0]; q {
	case '"', '`', '\'':
		return strings.ReplaceAll(tok[1:len(tok)-1], string([]byte{q, q}), string(q))
	case '[':
		return tok[1 : len(tok)-1]
	}
	return tok
}
