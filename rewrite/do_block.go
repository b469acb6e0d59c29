package rewrite

import "strings"

// DO blocks (PostgreSQL). A DO block runs procedural code on the server,
// where the wrapper cannot see which rows it writes. The rule is
// conservative, since the body is code and not a statement the analyzer
// reads: a DO block is refused, whatever its quoting ($$...$$, '...',
// E'...', U&'...', string parts joined across lines), when its body
//
//   - names a mapped (old or new) or guarded table anywhere, in a statement,
//     a string or a comment, case-insensitively, even inside a longer name;
//   - uses EXECUTE at all: dynamic SQL can build a table's name from parts
//     ('DELETE FROM us' || 'ers'), which no reading of the text can follow;
//   - holds a U&"..." identifier, whose escapes can spell any name;
//   - is a string whose escapes (E'...', U&'...' with a backslash) could
//     spell a name the text does not show;
//
// and a DO block in another language than plpgsql is refused whatever its
// body, since its code reaches the database by its own means.

// doBlocks returns the refusal of the first DO block among a string's
// statements that the rule above refuses, or nil.
func (p *Planner) doBlocks(query string, toks []Token) *Plan {
	if !p.d.doBlocks {
		return nil
	}
	for len(toks) > 0 {
		end := p.statementEnd(query, toks)
		if plan := p.doBlock(query, toks[:end]); plan != nil {
			return plan
		}
		toks = toks[min(end+1, len(toks)):]
	}
	return nil
}

// fixDoBlock is what to do instead of a refused DO block.
const fixDoBlock = "run its statements as statements of their own, which the wrapper mirrors, or run the block with the write phase off"

// doBlock plans one statement when it is a DO block that must be refused.
func (p *Planner) doBlock(query string, toks []Token) *Plan {
	if len(toks) == 0 || toks[0].Kind != Word || !strings.EqualFold(toks[0].Text(query), "DO") {
		return nil
	}
	var body strings.Builder
	lang, mode := "", -1
	for i := 1; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.Kind == Word && strings.EqualFold(t.Text(query), "LANGUAGE") && i+1 < len(toks):
			i++
			lang = p.d.Fold(toks[i].Text(query))
		case t.Kind == Word && strings.EqualFold(t.Text(query), "UESCAPE"):
			return refuse("", "a DO block whose body is a U&'...' string with UESCAPE", fixDoBlock)
		case t.Kind == String:
			text, m, ok := doBodyPart(t.Text(query), mode)
			if !ok {
				return refuse(p.mentioned(query, roleOld, roleNew, roleGuarded), "a DO block whose body is a string with escapes (E'...' or U&'...' with a backslash)",
					"write the body as a dollar-quoted string ($$...$$) without escapes, or "+fixDoBlock)
			}
			mode = m
			body.WriteString(text)
		}
	}
	code := body.String()
	named := p.mentioned(code, roleOld, roleNew, roleGuarded)
	lower := strings.ToLower(code)
	switch {
	case lang != "" && lang != "plpgsql":
		return refuse(named, "a DO block in language "+lang+", whose writes the wrapper cannot read", fixDoBlock)
	case named != "":
		return refuse(named, "a DO block whose body names "+named+" (code run on the server is not mirrored)", fixDoBlock)
	case strings.Contains(lower, "execute"):
		return refuse("", "a DO block with EXECUTE (dynamic SQL may write any table, a mapped one included)", fixDoBlock)
	case strings.Contains(lower, "u&"):
		return refuse("", `a DO block with a U&"..." identifier (its escapes may spell a mapped table)`, fixDoBlock)
	}
	return nil
}

// doBodyPart returns the text of one part of a DO block's body string and
// the escape mode the parts after it follow (PostgreSQL reads a continued
// literal by the rules of its first part; mode is -1 before it). ok is
// false when escapes could spell what the text does not show.
func doBodyPart(tok string, mode int) (text string, next int, ok bool) {
	switch {
	case tok[0] == '$':
		tag := tok[:strings.IndexByte(tok[1:], '$')+2]
		return tok[len(tag) : len(tok)-len(tag)], mode, true
	case mode < 0 && (tok[0] == 'e' || tok[0] == 'E'):
		mode, tok = pgEscape, tok[1:]
	case mode < 0 && (tok[0] == 'u' || tok[0] == 'U'):
		mode, tok = pgUnicode, tok[2:]
	case mode < 0 && tok[0] == '\'':
		mode = pgPlain
	case tok[0] != '\'':
		return "", mode, false // B'...' or X'...', which the server rejects anyway
	}
	if mode != pgPlain && strings.Contains(tok, `\`) {
		return "", mode, false
	}
	return strings.ReplaceAll(tok[1:len(tok)-1], "''", "'"), mode, true
}
