package rewrite

import (
	"database/sql/driver"
	"strconv"
	"strings"
)

// Params numbers a statement's placeholders the way SQLite does: "?" takes
// one more than the largest number so far, "?NNN" takes NNN, and a named
// parameter takes the number of its first occurrence. In PostgreSQL "$n"
// is number n.
type Params struct {
	Count int            // the largest number
	index []int          // number of each placeholder, in order
	named map[string]int // ":name" -> number
}

func (d *Dialect) params(src string, toks []Token) *Params {
	p := &Params{}
	for _, t := range toks {
		text := t.Text(src)
		n := 0
		switch {
		case text == "?":
			n = p.Count + 1
		case text[0] == '?', d.dollarParams && text[0] == '$':
			n, _ = strconv.Atoi(text[1:])
		default:
			if p.named == nil {
				p.named = map[string]int{}
			}
			if n = p.named[text]; n == 0 {
				n = p.Count + 1
				p.named[text] = n
			}
		}
		p.index = append(p.index, n)
		p.Count = max(p.Count, n)
	}
	return p
}

// Bind returns args as positional values numbered 1..Count, resolving named
// arguments (sql.Named) the way the SQLite driver does (:name, @name, $name).
func (p *Params) Bind(args []driver.NamedValue) []driver.NamedValue {
	out := make([]driver.NamedValue, p.Count)
	for i := range out {
		out[i].Ordinal = i + 1
	}
	for _, a := range args {
		if a.Name == "" {
			if a.Ordinal >= 1 && a.Ordinal <= p.Count {
				out[a.Ordinal-1].Value = a.Value
			}
			continue
		}
		for _, prefix := range [...]string{":", "@", "$"} {
			if n := p.named[prefix+a.Name]; n > 0 {
				out[n-1].Value = a.Value
			}
		}
	}
	return out
}

// splice returns src[span] with every placeholder inside it spelled by
// number in a numbering of its own: used lists, in that numbering's order,
// the statement's parameter numbers the spliced text uses (it grows as
// splices of one statement text use more). A PostgreSQL statement cannot
// take a parameter it does not use: its type would be unknown.
func (d *Dialect) splice(src string, sp Span, st *Statement, p *Params, used *[]int) string {
	var b strings.Builder
	at := sp.Start
	// pos numbers used's entries from 1: a lookup per placeholder, not a scan.
	pos := make(map[int]int, len(*used))
	for i, n := range *used {
		pos[n] = i + 1
	}
	for i, t := range st.Params {
		if int(t.Start) < sp.Start || int(t.End) > sp.End {
			continue
		}
		n := pos[p.index[i]]
		if n == 0 {
			*used = append(*used, p.index[i])
			n = len(*used)
			pos[p.index[i]] = n
		}
		b.WriteString(src[at:t.Start])
		b.WriteString(d.Placeholder(n))
		at = int(t.End)
	}
	b.WriteString(src[at:sp.End])
	return b.String()
}

// Subset returns the arguments of the parameters numbered used, in that
// order, numbered from 1: what a text built by splice takes.
func (p *Params) Subset(args []driver.NamedValue, used []int) []driver.NamedValue {
	all := p.Bind(args)
	out := make([]driver.NamedValue, len(used))
	for i, n := range used {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: all[n-1].Value}
	}
	return out
}
