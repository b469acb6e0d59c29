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

// splice returns src[span] with every placeholder inside it spelled by number,
// so that the text keeps its meaning when taken out of the statement.
func (d *Dialect) splice(src string, sp Span, st *Statement, p *Params) string {
	var b strings.Builder
	at := sp.Start
	for i, t := range st.Params {
		if t.Start < sp.Start || t.End > sp.End {
			continue
		}
		b.WriteString(src[at:t.Start])
		b.WriteString(d.Placeholder(p.index[i]))
		at = t.End
	}
	b.WriteString(src[at:sp.End])
	return b.String()
}
