package mapping

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	topKeys    = []string{"dialect", "phases", "tables"}
	phaseKeys  = []string{"write", "read"}
	tableKeys  = []string{"old", "new", "key", "columns", "reverse"}
	dialects   = []string{"sqlite", "postgres", "mysql"}
	yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// parser walks a YAML node tree and collects every problem it finds.
type parser struct {
	file string
	errs []error
}

// parsedTable is a table with the lines of its fields, for cross-table checks.
type parsedTable struct {
	t                *Table
	field            string
	oldLine, newLine int
}

// pair is one key/value entry of a YAML mapping.
type pair struct {
	key, val *yaml.Node
}

func parse(data []byte, file string) (*Mapping, error) {
	p := &parser{file: file}
	m := p.document(data)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b error) int {
			return cmp.Compare(a.(*Error).Line, b.(*Error).Line) //nolint:errorlint // p.errs holds only *Error
		})
		return nil, errors.Join(p.errs...)
	}
	return m, nil
}

func (p *parser) errorf(line int, field, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// yamlError turns an error of the YAML parser into an *Error, keeping the
// line it names.
func (p *parser) yamlError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	p.errorf(line, "", "invalid YAML: %s", msg)
}

func (p *parser) document(data []byte) *Mapping {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(1, "", "the file is empty; it needs at least a tables list")
		} else {
			p.yamlError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		p.errorf(extra.Line, "", "a second YAML document starts here; put the whole mapping in one document")
	case !errors.Is(err, io.EOF):
		p.yamlError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = resolve(root.Content[0])
	}
	if isNull(root) {
		p.errorf(1, "", "the document is empty; it needs at least a tables list")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "", "the document must be a mapping with keys %s; got %s", list(topKeys), kindName(root))
		return nil
	}
	m := &Mapping{Phases: Phases{Write: WriteOff, Read: ReadOld}}
	f := p.fields(root, "", topKeys)
	if e, ok := f["dialect"]; ok {
		m.Dialect = p.dialect(e.val)
	}
	if e, ok := f["phases"]; ok {
		p.phases(e.val, &m.Phases)
	}
	e, ok := f["tables"]
	if !ok {
		p.errorf(root.Line, "tables", "missing; list the tables to migrate, each with old, new, key, columns and reverse")
		return m
	}
	m.Tables = p.tables(e.val)
	return m
}

func (p *parser) dialect(n *yaml.Node) string {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(n.Line, "dialect", "must be one of %s; got %s", list(dialects), kindName(n))
		return ""
	}
	d := strings.ToLower(strings.TrimSpace(scalarText(n)))
	if !slices.Contains(dialects, d) {
		if d == "" {
			p.errorf(n.Line, "dialect", "is empty; write one of %s, or remove the key to infer the dialect from the base driver", list(dialects))
		} else {
			p.errorf(n.Line, "dialect", "unknown dialect %q; valid values are %s", n.Value, list(dialects))
		}
		return ""
	}
	return d
}

func (p *parser) phases(n *yaml.Node, ph *Phases) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "phases", "must be a mapping with keys %s; got %s", list(phaseKeys), kindName(n))
		return
	}
	f := p.fields(n, "phases", phaseKeys)
	if e, ok := f["write"]; ok {
		if s, ok := p.scalar(e.val, "phases.write"); ok {
			w, err := ParseWritePhase(s)
			if err != nil {
				p.errorf(e.val.Line, "phases.write", "%v", err)
			} else {
				ph.Write = w
			}
		}
	}
	if e, ok := f["read"]; ok {
		if s, ok := p.scalar(e.val, "phases.read"); ok {
			r, err := ParseReadPhase(s)
			if err != nil {
				p.errorf(e.val.Line, "phases.read", "%v", err)
			} else {
				ph.Read = r
			}
		}
	}
}

func (p *parser) tables(n *yaml.Node) []*Table {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "tables", "must be a list of tables, each with old, new, key, columns and reverse; got %s", kindName(n))
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n.Line, "tables", "is empty; list at least one table")
		return nil
	}
	var parsed []parsedTable
	for i, item := range n.Content {
		field := "tables[" + strconv.Itoa(i) + "]"
		if pt, ok := p.table(item, field); ok {
			parsed = append(parsed, pt)
		}
	}
	p.crossCheck(parsed)
	tables := make([]*Table, len(parsed))
	for i, pt := range parsed {
		tables[i] = pt.t
	}
	return tables
}

// crossCheck reports tables that share an old or a new name, and tables
// whose new name is another table's old name.
func (p *parser) crossCheck(parsed []parsedTable) {
	olds := map[string]parsedTable{}
	news := map[string]parsedTable{}
	for _, pt := range parsed {
		t := pt.t
		if t.Old != "" {
			if prev, dup := olds[foldKey(t.Old)]; dup {
				p.errorf(pt.oldLine, pt.field+".old", "old table %s is already mapped by %s (line %d); map each old table once", t.Old, prev.field, prev.t.Line)
			} else {
				olds[foldKey(t.Old)] = pt
			}
		}
		if t.New != "" {
			if prev, dup := news[foldKey(t.New)]; dup {
				p.errorf(pt.newLine, pt.field+".new", "new table %s is already the new table of %s (line %d); each old table needs its own new table", t.New, prev.field, prev.t.Line)
			} else {
				news[foldKey(t.New)] = pt
			}
		}
		if t.Old != "" && equalFold(t.Old, t.New) {
			p.errorf(pt.newLine, pt.field+".new", "new table %s is the old table itself; name the table you are migrating to", t.New)
		}
	}
	for _, pt := range parsed {
		t := pt.t
		if equalFold(t.Old, t.New) {
			continue
		}
		if other, ok := olds[foldKey(t.New)]; ok {
			p.errorf(pt.newLine, pt.field+".new", "new table %s is also the old table of %s (line %d); chained migrations are not supported: finish one before starting the next", t.New, other.field, other.t.Line)
		}
	}
}

func (p *parser) table(n *yaml.Node, field string) (parsedTable, bool) {
	line := n.Line
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(line, field, "must be a mapping with keys %s; got %s", list(tableKeys), kindName(n))
		return parsedTable{}, false
	}
	t := &Table{Line: line}
	pt := parsedTable{t: t, field: field}
	f := p.fields(n, field, tableKeys)

	if e, ok := f["old"]; ok {
		t.Old = p.tableName(e.val, field+".old")
		pt.oldLine = e.val.Line
	} else {
		p.errorf(line, field+".old", "missing; name the table the application uses now, e.g. `old: users`")
	}
	if e, ok := f["new"]; ok {
		t.New = p.tableName(e.val, field+".new")
		pt.newLine = e.val.Line
	} else {
		p.errorf(line, field+".new", "missing; name the table you are migrating to, e.g. `new: accounts`")
	}
	var keys []keyCol
	if e, ok := f["key"]; ok {
		keys = p.key(e.val, field+".key")
		for _, k := range keys {
			t.Key = append(t.Key, k.name)
		}
	} else {
		p.errorf(line, field+".key", "missing; list the old table's unique key columns, e.g. `key: [id]`")
	}
	if e, ok := f["columns"]; ok {
		t.Columns = p.columns(e.val, field+".columns", "new", "old")
	} else {
		p.errorf(line, field+".columns", "missing; give every new column an SQL expression over the old table's columns")
	}
	if e, ok := f["reverse"]; ok {
		t.Reverse = p.columns(e.val, field+".reverse", "old", "new")
	} else {
		p.errorf(line, field+".reverse", "missing; give every old column, in the old table's order, an SQL expression over the new table's columns")
	}
	if keys != nil && t.Columns != nil {
		p.keys(t, field, keys, t.Reverse != nil)
	}
	return pt, true
}

// keyCol is one key column with where it was written.
type keyCol struct {
	name, field string
	line        int
}

// keys resolves each key column to the new column that renames it, and checks
// that the reverse projection renames it back.
func (p *parser) keys(t *Table, field string, keys []keyCol, checkReverse bool) {
	for _, k := range keys {
		var renames []Column
		for _, c := range t.Columns {
			if name, ok := plainIdent(c.Expr); ok && equalFold(name, k.name) {
				renames = append(renames, c)
			}
		}
		switch len(renames) {
		case 0:
			p.errorf(k.line, k.field, "key column %s is not mapped by plain rename: add `<newname>: %s` under columns", k.name, k.name)
			continue
		case 1:
		default:
			var where []string
			for _, c := range renames {
				where = append(where, fmt.Sprintf("%s (line %d)", c.Name, c.Line))
			}
			p.errorf(k.line, k.field, "key column %s is renamed to more than one new column: %s; keep one plain rename and write the others in parentheses, e.g. `%s: (%s)`", k.name, strings.Join(where, ", "), renames[1].Name, k.name)
			continue
		}
		nk := renames[0].Name
		t.NewKey = append(t.NewKey, nk)
		if !checkReverse {
			continue
		}
		rc, ok := find(t.Reverse, k.name)
		if !ok {
			p.errorf(k.line, field+".reverse", "key column %s has no reverse entry: add `%s: %s` under reverse", k.name, k.name, nk)
			continue
		}
		if name, ok := plainIdent(rc.Expr); !ok || !equalFold(name, nk) {
			p.errorf(rc.Line, field+".reverse."+rc.Name, "key column %s must be read back by plain rename from %s, so that a key names the same row in both tables: write `%s: %s`", k.name, nk, k.name, nk)
		}
	}
}

// key parses `key: id` or `key: [a, b]`. It returns the valid, distinct
// key columns.
func (p *parser) key(n *yaml.Node, field string) []keyCol {
	line := n.Line
	n = resolve(n)
	var items []*yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		if name, ok := p.name(n, field, "key column"); ok {
			return []keyCol{{name: name, field: field, line: line}}
		}
		return nil
	case n.Kind == yaml.SequenceNode:
		items = n.Content
	default:
		p.errorf(line, field, "must be a key column or a list of them, e.g. `key: [id]`; got %s", kindName(n))
		return nil
	}
	if len(items) == 0 {
		p.errorf(line, field, "is empty; list the old table's unique key columns, e.g. `key: [id]`")
		return nil
	}
	var keys []keyCol
	seen := map[string]int{}
	for i, item := range items {
		ifield := field + "[" + strconv.Itoa(i) + "]"
		name, ok := p.name(item, ifield, "key column")
		if !ok {
			continue
		}
		if prev, dup := seen[foldKey(name)]; dup {
			p.errorf(item.Line, ifield, "duplicate key column %s (also key[%d]); list each key column once", name, prev)
			continue
		}
		seen[foldKey(name)] = i
		keys = append(keys, keyCol{name: name, field: ifield, line: item.Line})
	}
	return keys
}

// columns parses a columns or reverse mapping. defined is "new" or "old": the
// table whose columns are being defined; over is the table the expressions
// read.
func (p *parser) columns(n *yaml.Node, field, defined, over string) []Column {
	line := n.Line
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(line, field, "must be a mapping from each %s column to an SQL expression over the %s table's columns; got %s", defined, over, kindName(n))
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(line, field, "is empty; give every %s column an SQL expression over the %s table's columns", defined, over)
		return nil
	}
	var cols []Column
	seen := map[string]Column{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		cfield := field
		if rk := resolve(k); rk.Kind == yaml.ScalarNode && rk.Value != "" {
			cfield = field + "." + rk.Value
		}
		name, ok := p.name(k, cfield, defined+" column")
		if !ok {
			continue
		}
		if prev, dup := seen[foldKey(name)]; dup {
			p.errorf(k.Line, cfield, "duplicate %s column %s (first at line %d); define each column once", defined, name, prev.Line)
			continue
		}
		expr, ok := p.expr(v, cfield, over)
		if !ok {
			continue
		}
		c := Column{Name: name, Expr: expr, Line: k.Line}
		seen[foldKey(name)] = c
		cols = append(cols, c)
	}
	return cols
}

func (p *parser) expr(n *yaml.Node, field, over string) (string, bool) {
	line := n.Line
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(line, field, "must be an SQL expression over the %s table's columns; got %s (quote the expression if it contains YAML syntax such as ': ' or a leading '[')", over, kindName(n))
		return "", false
	}
	expr := strings.TrimSpace(scalarText(n))
	if expr == "" {
		p.errorf(line, field, "expression is empty; write an SQL expression over the %s table's columns", over)
		return "", false
	}
	return expr, true
}

func (p *parser) tableName(n *yaml.Node, field string) string {
	name, _ := p.name(n, field, "table name")
	return name
}

// name parses a scalar table or column name, reporting problems as what.
func (p *parser) name(n *yaml.Node, field, what string) (string, bool) {
	line := n.Line
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(line, field, "%s must be a plain name; got %s", what, kindName(n))
		return "", false
	}
	name, problem := parseName(scalarText(n))
	if problem != "" {
		if strings.TrimSpace(scalarText(n)) == "" {
			p.errorf(line, field, "%s is empty", what)
		} else {
			p.errorf(line, field, "%s %s %s", what, n.Value, problem)
		}
		return "", false
	}
	return name, true
}

// scalar returns the text of a scalar node, reporting other kinds.
func (p *parser) scalar(n *yaml.Node, field string) (string, bool) {
	line := n.Line
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.errorf(line, field, "must be a single value; got %s", kindName(n))
		return "", false
	}
	return scalarText(n), true
}

// fields checks a mapping's keys: each a scalar, none repeated, all in
// allowed. It returns the entries by key.
func (p *parser) fields(n *yaml.Node, path string, allowed []string) map[string]pair {
	out := map[string]pair{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		rk := resolve(k)
		if rk.Kind != yaml.ScalarNode {
			p.errorf(k.Line, path, "keys must be plain names (%s); got %s", list(allowed), kindName(rk))
			continue
		}
		field := join(path, rk.Value)
		if !slices.Contains(allowed, rk.Value) {
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			p.errorf(k.Line, field, "unknown key %q %s; allowed keys are %s", rk.Value, where, list(allowed))
			continue
		}
		if prev, dup := out[rk.Value]; dup {
			p.errorf(k.Line, field, "duplicate key %s (first at line %d); write it once", rk.Value, prev.key.Line)
			continue
		}
		out[rk.Value] = pair{key: k, val: v}
	}
	return out
}

// resolve follows YAML aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// scalarText is a scalar's source text, with YAML's null spellings "" and
// "~" read as empty. Any other scalar, such as 0, true or null, is kept as
// written, since it is meaningful SQL.
func scalarText(n *yaml.Node) string {
	if n.ShortTag() == "!!null" && (n.Value == "" || n.Value == "~") {
		return ""
	}
	return n.Value
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && scalarText(n) == "" && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "nothing"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func list(values []string) string {
	return strings.Join(values, ", ")
}
