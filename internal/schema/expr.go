package schema

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// checkExpr checks that the expression of entry c of a mapping section
// computes one value from one row of table src, on its own: it runs
// SELECT (<expr>) FROM src WHERE <false>, which reads no row but returns one
// when the expression aggregates rows; where the dialect has
// aggregateStates or aggregateError, it also runs
// SELECT 1 FROM src WHERE <false> AND (<expr>) IS NULL, which the server
// rejects when the expression aggregates rows or holds a window or
// set-returning function. defined is
// the table whose column c defines. Before running anything it makes sure,
// with the expression inline as the generated statements have it,
// with the dialect's lexer, that the text is one balanced expression
// without placeholders or semicolons, so that each query is exactly one
// read-only SELECT (a PostgreSQL connection configured for the simple
// protocol would run several statements). A failure leaves nothing behind.
func (in *inspector) checkExpr(defined string, c mapping.Column, section, src string) error {
	where := fmt.Sprintf("expression `%s` (%s, mapping line %d)", c.Expr, section, c.Line)
	from := in.d.qualifier + in.d.sql.Quote(src)
	head := "SELECT ("
	// The expression is followed by what follows it in the statements the
	// wrapper generates, which put it inline: a -- comment at its end would
	// swallow the rest of them, and must swallow the rest of this query too.
	query := head + c.Expr + ") FROM " + from + " WHERE " + in.d.falseLit
	if msg := singleExpr(in.d.sql, query, len(head), len(head)+len(c.Expr)); msg != "" {
		in.problem(defined, c.Name, "%s %s", where, msg)
		return nil
	}
	invalid := func(err error) error {
		if cerr := in.ctx.Err(); cerr != nil {
			return fmt.Errorf("schema: checking %s.%s: %w", defined, c.Name, cerr)
		}
		in.problem(defined, c.Name, "%s is not valid over %s: %v; fix it under %s", where, src, err, section)
		return nil
	}
	rows, err := queryAll(in.ctx, in.q, query)
	if err != nil {
		return invalid(err)
	}
	if len(rows) > 0 {
		in.problem(defined, c.Name, "%s aggregates rows: it must compute one value from one row of %s; fix it under %s", where, src, section)
		return nil
	}
	if in.d.aggregateStates == nil && in.d.aggregateError == nil {
		return nil
	}
	if _, err := queryAll(in.ctx, in.q, "SELECT 1 FROM "+from+" WHERE "+in.d.falseLit+" AND ((\n"+c.Expr+"\n) IS NULL)"); err != nil {
		if in.ctx.Err() == nil && in.d.aggregate(err) {
			in.problem(defined, c.Name, "%s is an aggregate, window or set-returning computation (%v): it must compute one value from one row of %s; fix it under %s", where, err, src, section)
			return nil
		}
		return invalid(err)
	}
	return nil
}

// sqlState is implemented by the errors of pgx (*pgconn.PgError).
type sqlState interface{ SQLState() string }

// aggregate reports whether err is the server's refusal of an aggregate,
// window or set-returning expression in WHERE.
func (d *dialect) aggregate(err error) bool {
	if d.aggregateError != nil {
		return d.aggregateError(err)
	}
	var st sqlState
	return errors.As(err, &st) && slices.Contains(d.aggregateStates, st.SQLState())
}

// singleExpr checks the query built around an expression whose text runs
// from offset start to the offset of the closing parenthesis at close. It
// returns what is wrong, or "" when the parenthesized expression is
// balanced, has no placeholder and no semicolon, and comments inside it do
// not swallow the rest of the query. The query must hold the expression as
// the generated statements do, inline, with nothing after it on its line.
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
		if int(t.Start) < start || closed {
			continue
		}
		if int(t.Start) == close {
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
	if !closed && strings.Contains(query[start:close], "--") {
		// The text was read, so nothing is unterminated: a -- comment ran
		// past the expression's end.
		return "ends in a -- comment, which would swallow the rest of every statement generated around the expression; remove the comment, or write it as /* ... */"
	}
	if !closed {
		return "is not a single expression (a comment or quote in it runs past its end); fix it"
	}
	if len(toks) < 5 || !strings.EqualFold(toks[len(toks)-2].Text(query), "WHERE") {
		return "is not a single expression; fix it"
	}
	return ""
}
