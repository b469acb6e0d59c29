package schema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// checkExpr checks that the expression of entry c of a mapping section
// compiles over table src, on its own: SELECT (<expr>) FROM "src" WHERE 0.
// defined is the table whose column c defines. Before running anything it
// makes sure the text is one expression without placeholders, so that the
// query it builds is exactly one read-only SELECT.
func (in *inspector) checkExpr(defined string, c mapping.Column, section, src string) error {
	where := fmt.Sprintf("expression `%s` (%s, mapping line %d)", c.Expr, section, c.Line)
	head := "SELECT ("
	query := head + c.Expr + "\n) FROM " + rewrite.SQLite.Quote(src) + " WHERE 0"
	if msg := singleExpr(rewrite.SQLite, query, len(head), len(head)+len(c.Expr)+1); msg != "" {
		in.problem(defined, c.Name, "%s %s", where, msg)
		return nil
	}
	rows, err := queryAll(in.ctx, in.q, query)
	if err != nil {
		if cerr := in.ctx.Err(); cerr != nil {
			return fmt.Errorf("schema: checking %s.%s: %w", defined, c.Name, cerr)
		}
		in.problem(defined, c.Name, "%s is not valid over %s: %v; fix it under %s", where, src, err, section)
		return nil
	}
	if len(rows) > 0 {
		in.problem(defined, c.Name, "%s aggregates rows: it must compute one value from one row of %s; fix it under %s", where, src, section)
	}
	return nil
}

// singleExpr checks the query built around an expression whose text runs
// from offset start to the offset of the closing parenthesis at close. It
// returns what is wrong, or "" when the parenthesized expression is
// balanced, has no placeholder and no semicolon, and comments inside it do
// not swallow the rest of the query.
func singleExpr(d *rewrite.Dialect, query string, start, close int) string {
	toks, err := d.Lex(query)
	if err != nil {
		var le *rewrite.LexError
		if !errors.As(err, &le) {
			return "cannot be read as SQL (" + err.Error() + "); fix it"
		}
		if strings.HasPrefix(le.Msg, "unterminated") {
			return "is not a single expression (" + le.Msg + ": a comment or quote in it runs past its end); fix it"
		}
		return fmt.Sprintf("cannot be read as SQL (%s at byte %d of the expression); fix it", le.Msg, le.Offset-start+1)
	}
	depth := 0
	closed := false
	for _, t := range toks {
		if t.Start < start || closed {
			continue
		}
		if t.Start == close {
			if depth != 0 {
				return "has unbalanced parentheses; fix them"
			}
			closed = true
			continue
		}
		switch t.Kind {
		case rewrite.Param:
			return "contains the placeholder " + t.Text(query) + ": mapping expressions take no arguments; write a constant"
		case rewrite.Semicolon:
			return "contains a semicolon: write one expression, not statements"
		case rewrite.LParen:
			depth++
		case rewrite.RParen:
			depth--
			if depth < 0 {
				return "has unbalanced parentheses; fix them"
			}
		}
	}
	if !closed {
		return "is not a single expression (a comment or quote in it runs past its end); fix it"
	}
	if len(toks) < 5 || !strings.EqualFold(toks[len(toks)-2].Text(query), "WHERE") {
		return "is not a single expression; fix it"
	}
	return ""
}
