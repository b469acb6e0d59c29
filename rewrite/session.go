package rewrite

import (
	"slices"
	"sort"
	"strings"
)

// Session state. Some statements leave something on their connection that
// outlives them, and database/sql may hand the connection out again after
// the write phase switched from off to dual. Those that would make the
// plans wrong on that connection are refused in every write phase
// (Plan.Session):
//
//   - a change of a setting the plans depend on (Dialect.settings; in
//     PostgreSQL standard_conforming_strings, client_encoding,
//     search_path and the role), by SET, SET LOCAL or set_config, also in
//     the body of a DO block or a function. RESET and RESET ALL pass: they
//     restore the value the connection began with, which the driver read
//     when it connected and found equal to the one the schema was checked
//     with (Dialect.ConnSettings);
//   - an SQL-level PREPARE of anything but a read that names no mapped or
//     guarded table: a later EXECUTE is planned as EXECUTE, not as the
//     statement it runs, and a table it writes may gain a guard after it
//     was prepared;
//   - a temporary trigger, table or view (ddl.go).

// sessionSetting is one setting the plans depend on.
type sessionSetting struct {
	name string // the setting, as messages name it
	fix  string
}

// fixSetting is what to do instead of changing a setting per connection.
const fixSetting = "set it for every connection alike, in the DSN (options=-c name=value) or with ALTER ROLE/ALTER DATABASE ... SET: the driver checks it on each new connection"

// fixSystem is what to do instead of ALTER SYSTEM of a setting the plans
// depend on.
const fixSystem = "change it in postgresql.conf or with ALTER SYSTEM from a connection that does not go through dualwrite, while no program uses dualwrite, and open new sql.DBs after the reload: a reload changes it in the sessions already open"

// postgresSettings are PostgreSQL's, by the names SET takes for them.
var postgresSettings = func() map[string]sessionSetting {
	scs := sessionSetting{"standard_conforming_strings", fixSetting + "; dualwrite needs it on"}
	enc := sessionSetting{"client_encoding", fixSetting}
	path := sessionSetting{"search_path", fixSetting}
	// The role decides which schema "$user" names and which schemas of
	// search_path it may use, so it decides which table a name resolves to.
	role := sessionSetting{"role", "connect as that role (the user of the DSN), so that the schema check sees the tables the role's statements resolve to"}
	return map[string]sessionSetting{
		"standard_conforming_strings": scs,
		"client_encoding":             enc, "names": enc,
		"search_path": path, "schema": path,
		"role": role, "authorization": role,
	}
}()

// session returns the plan that refuses a statement that would change the
// connection's session as above, or nil. named is the mapped or guarded
// table the statement names, or "".
func (p *Planner) session(query string, toks []Token, named string) *Plan {
	if p.d.mysql {
		return p.mysqlSession(query, toks)
	}
	if plan := p.settingChange(query, toks, false, 0); plan != nil {
		return plan
	}
	if !p.d.sqlPrepare {
		return nil
	}
	for i := range toks {
		if !statementStart(query, toks, i, false) || !isWord(query, toks[i], "PREPARE") ||
			i+1 < len(toks) && isWord(query, toks[i+1], "TRANSACTION") {
			continue
		}
		as := i + 1
		for as < len(toks) && !isWord(query, toks[as], "AS") && toks[as].Kind != Semicolon {
			as++
		}
		var st *Statement
		if as+1 < len(toks) {
			st = p.d.analyzeTokens(query, toks[as+1:])
		}
		if st == nil || st.Kind != KindSelect || st.WithWrites || named != "" {
			return sessionRefusal(named, "an SQL-level PREPARE of a write or of a statement naming a mapped or guarded table (its EXECUTE would run it unplanned)",
				"run the statement itself, with parameters: the driver prepares it on the connection and plans every execution")
		}
	}
	return nil
}

// settingChange returns the refusal of a change of a setting of
// p.d.settings in toks, or nil. In a function body (body) a statement
// also starts after the words that begin a block or a branch, and string
// literals are read as the SQL they may hold (EXECUTE '...').
func (p *Planner) settingChange(query string, toks []Token, body bool, depth int) *Plan {
	if len(p.d.settings) == 0 || depth > 4 {
		return nil
	}
	for i, t := range toks {
		switch {
		case t.Kind == String && (query[t.Start] == '$' || body):
			text := t.Text(query)
			if query[t.Start] == '$' {
				open := strings.IndexByte(text[1:], '$') + 2
				text = text[open : len(text)-open]
			} else {
				text = p.d.Fold(text)
			}
			inner, err := p.d.Lex(text)
			if err != nil {
				for name, s := range p.d.settings {
					if len(name) > 6 && strings.Contains(strings.ToLower(text), name) {
						return settingRefusal(s, "code that cannot be tokenized and names "+name)
					}
				}
				if strings.Contains(strings.ToLower(text), "set_config") {
					return p.anySetting("code that cannot be tokenized and calls set_config", fixSetting)
				}
				continue
			}
			if plan := p.settingChange(text, inner, true, depth+1); plan != nil {
				return plan
			}
		case (t.Kind == Word || t.Kind == QuotedIdent) && strings.EqualFold(p.d.Fold(t.Text(query)), "set_config") &&
			i+1 < len(toks) && toks[i+1].Kind == LParen:
			arg := i + 2
			if arg+1 < len(toks) && toks[arg].Kind == String && query[toks[arg].Start] == '\'' && toks[arg+1].Kind == Comma {
				name := strings.ToLower(p.d.Fold(toks[arg].Text(query)))
				if s, ok := p.d.settings[name]; ok {
					return settingRefusal(s, "set_config('"+name+"', ...)")
				}
				continue
			}
			return p.anySetting("set_config with a setting name that is not a string literal", "name the setting with a string literal")
		case statementStart(query, toks, i, body) && isWord(query, t, "ALTER") && i+2 < len(toks) && isWord(query, toks[i+1], "SYSTEM"):
			// ALTER SYSTEM, then a configuration reload, changes the
			// setting in every session that did not set it itself: on the
			// connections already checked too.
			j := i + 3
			if isWord(query, toks[i+2], "RESET") && j < len(toks) && isWord(query, toks[j], "ALL") {
				return p.anySetting("ALTER SYSTEM RESET ALL", fixSystem)
			}
			if j < len(toks) && (isWord(query, toks[i+2], "SET") || isWord(query, toks[i+2], "RESET")) {
				if s, ok := p.d.settings[strings.ToLower(p.d.Fold(toks[j].Text(query)))]; ok {
					return settingRefusal(sessionSetting{s.name, fixSystem}, query[t.Start:toks[j].End])
				}
			}
		case statementStart(query, toks, i, body) && isWord(query, t, "SET"):
			j := i + 1
			for j < len(toks) && (isWord(query, toks[j], "SESSION") || isWord(query, toks[j], "LOCAL")) {
				j++
			}
			if j >= len(toks) || toks[j].Kind != Word && toks[j].Kind != QuotedIdent || j+1 < len(toks) && toks[j+1].Kind == Dot {
				continue
			}
			if s, ok := p.d.settings[strings.ToLower(p.d.Fold(toks[j].Text(query)))]; ok {
				return settingRefusal(s, query[t.Start:toks[j].End])
			}
		}
	}
	return nil
}

// statementStart reports whether token i begins a statement: the first
// token, one after a semicolon, or, in a function body, one after a word
// that begins a block or a branch.
func statementStart(query string, toks []Token, i int, body bool) bool {
	if i == 0 || toks[i-1].Kind == Semicolon {
		return true
	}
	if !body || toks[i-1].Kind != Word {
		return false
	}
	switch strings.ToUpper(toks[i-1].Text(query)) {
	case "BEGIN", "THEN", "ELSE", "LOOP", "DO":
		return true
	}
	return false
}

func isWord(query string, t Token, w string) bool {
	return t.Kind == Word && strings.EqualFold(t.Text(query), w)
}

func settingRefusal(s sessionSetting, construct string) *Plan {
	return sessionRefusal("", construct+" (the setting "+s.name+" decides how the wrapper's plans read on this connection)", s.fix)
}

// anySetting refuses a statement that may change any of p.d.settings.
func (p *Planner) anySetting(construct, fix string) *Plan {
	var names []string
	for _, s := range p.d.settings {
		if !slices.Contains(names, s.name) {
			names = append(names, s.name)
		}
	}
	sort.Strings(names)
	return sessionRefusal("", construct+" (it may change "+strings.Join(names, ", ")+", which decide how the wrapper's plans read on this connection)", fix)
}

// sessionRefusal refuses a statement in every write phase.
func sessionRefusal(table, construct, fix string) *Plan {
	plan := refuse(table, construct, fix)
	plan.Session = true
	return plan
}
