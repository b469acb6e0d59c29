package rewrite

import "strings"

// Transaction control. A string that may open or end a transaction, in any
// of its statements, leaves the connection not knowing whether one is
// open: its plan has Kind KindTx, and the driver then asks the database
// before a dual write chooses between a savepoint of the caller's
// transaction and a transaction of its own. Were a later statement's
// BEGIN missed ("SELECT 1; BEGIN"), a dual write would open and commit a
// transaction of its own, and commit the caller's with it.

// transactionControl reports whether any statement of a string may open or
// end a transaction. A SQLite trigger's body (BEGIN ...; END) is part of
// its CREATE TRIGGER, not a statement of its own.
func (p *Planner) transactionControl(query string, toks []Token) bool {
	for len(toks) > 0 {
		end := p.statementEnd(query, toks)
		if startsTransactionControl(query, toks[:end]) {
			return true
		}
		toks = toks[min(end+1, len(toks)):]
	}
	return false
}

// startsTransactionControl reports whether one statement may open or end a
// transaction. In SQLite a SAVEPOINT outside a transaction opens one, and
// its RELEASE ends it.
func startsTransactionControl(query string, toks []Token) bool {
	if len(toks) == 0 || toks[0].Kind != Word {
		return false
	}
	switch strings.ToUpper(toks[0].Text(query)) {
	case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE",
		"XA", "LOCK", "UNLOCK": // MySQL: XA transactions; LOCK and UNLOCK TABLES commit the one open
		return true
	case "PREPARE": // PREPARE TRANSACTION; PREPARE name AS ... is harmless either way
		return len(toks) > 1 && strings.EqualFold(toks[1].Text(query), "TRANSACTION")
	}
	return false
}
