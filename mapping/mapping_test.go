package mapping

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// exampleYAML is the mapping from the package documentation.
const exampleYAML = `dialect: sqlite          # sqlite | postgres | mysql; optional
phases:                  # optional
  write: dual            # off | dual
  read: old              # old | compare | new
tables:
  - old: users
    new: accounts
    key: [id]            # unique key of the old table (one or more columns)
    columns:             # every new column: an SQL expression over one old row
      account_id: id
      email_address: email
      first_name: "substr(full_name, 1, instr(full_name || ' ', ' ') - 1)"
      last_name: "ltrim(substr(full_name, instr(full_name || ' ', ' ')))"
      visits: visits
    reverse:             # every old column, in the old table's order: an SQL expression over one new row
      id: account_id
      full_name: "trim(first_name || ' ' || last_name)"
      email: email_address
      visits: visits
`

func TestParseExample(t *testing.T) {
	m, err := Parse([]byte(exampleYAML))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Mapping{
		File:    "",
		Dialect: "sqlite",
		Phases:  Phases{Write: WriteDual, Read: ReadOld},
		Tables: []*Table{{
			Old:    "users",
			New:    "accounts",
			Key:    []string{"id"},
			NewKey: []string{"account_id"},
			Columns: []Column{
				{Name: "account_id", Expr: "id", Line: 10},
				{Name: "email_address", Expr: "email", Line: 11},
				{Name: "first_name", Expr: "substr(full_name, 1, instr(full_name || ' ', ' ') - 1)", Line: 12},
				{Name: "last_name", Expr: "ltrim(substr(full_name, instr(full_name || ' ', ' ')))", Line: 13},
				{Name: "visits", Expr: "visits", Line: 14},
			},
			Reverse: []Column{
				{Name: "id", Expr: "account_id", Line: 16},
				{Name: "full_name", Expr: "trim(first_name || ' ' || last_name)", Line: 17},
				{Name: "email", Expr: "email_address", Line: 18},
				{Name: "visits", Expr: "visits", Line: 19},
			},
			Line: 6,
		}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Parse:\n got %s\nwant %s", dump(m), dump(want))
	}

	tbl := m.Table("USERS")
	if tbl != m.Tables[0] {
		t.Fatalf("Table(USERS) = %v, want the users table", tbl)
	}
	if m.Table("accounts") != nil {
		t.Errorf("Table(accounts) found a table; lookup must be by old name")
	}
	if c, ok := tbl.Column("Email_Address"); !ok || c.Expr != "email" || c.Line != 11 {
		t.Errorf("Column(Email_Address) = %+v, %v", c, ok)
	}
	if _, ok := tbl.Column("email"); ok {
		t.Errorf("Column(email) found an old column")
	}
	if c, ok := tbl.ReverseColumn("FULL_NAME"); !ok || c.Expr != "trim(first_name || ' ' || last_name)" {
		t.Errorf("ReverseColumn(FULL_NAME) = %+v, %v", c, ok)
	}
	if _, ok := tbl.ReverseColumn("first_name"); ok {
		t.Errorf("ReverseColumn(first_name) found a new column")
	}
}

func dump(m *Mapping) string {
	s := fmt.Sprintf("{File:%q Dialect:%q Phases:%+v", m.File, m.Dialect, m.Phases)
	for _, t := range m.Tables {
		s += fmt.Sprintf("\n  %+v", *t)
	}
	return s + "}"
}

func TestParseDefaultsAndMultipleTables(t *testing.T) {
	const src = `tables:
  - old: users
    new: accounts
    key: id
    columns:
      account_id: id
      visits: 0
      active: true
      note: null
      nick: |
        coalesce(nick, '')
      tag: &t "'x'"
      tag2: *t
    reverse:
      id: account_id
  - old: '"Order Items"'
    new: order_lines
    key: [order_id, "line"]
    columns:
      '"Line No"': '"line"'
      order_ref: order_id
      '"Quoted""Name"': 1
    reverse:
      order_id: order_ref
      line: '"Line No"'
`
	m, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if m.Dialect != "" || m.Phases != (Phases{Write: WriteOff, Read: ReadOld}) {
		t.Errorf("defaults: dialect %q, phases %+v; want \"\", off/old", m.Dialect, m.Phases)
	}
	if len(m.Tables) != 2 {
		t.Fatalf("got %d tables, want 2", len(m.Tables))
	}
	u := m.Tables[0]
	if !reflect.DeepEqual(u.Key, []string{"id"}) || !reflect.DeepEqual(u.NewKey, []string{"account_id"}) {
		t.Errorf("scalar key: Key %q NewKey %q", u.Key, u.NewKey)
	}
	wantExprs := []string{"id", "0", "true", "null", "coalesce(nick, '')", "'x'", "'x'"}
	var gotExprs []string
	for _, c := range u.Columns {
		gotExprs = append(gotExprs, c.Expr)
	}
	if !reflect.DeepEqual(gotExprs, wantExprs) {
		t.Errorf("expressions = %q, want %q", gotExprs, wantExprs)
	}

	o := m.Table("order items")
	if o == nil || o != m.Tables[1] {
		t.Fatalf("Table(order items) = %v", o)
	}
	if o.Old != "Order Items" || o.New != "order_lines" || o.Line != 16 {
		t.Errorf("second table: Old %q New %q Line %d", o.Old, o.New, o.Line)
	}
	if !reflect.DeepEqual(o.Key, []string{"order_id", "line"}) || !reflect.DeepEqual(o.NewKey, []string{"order_ref", "Line No"}) {
		t.Errorf("composite key: Key %q NewKey %q", o.Key, o.NewKey)
	}
	if c, ok := o.Column("line no"); !ok || c.Name != "Line No" || c.Expr != `"line"` || c.Line != 20 {
		t.Errorf(`Column("line no") = %+v, %v`, c, ok)
	}
	if _, ok := o.Column(`Quoted"Name`); !ok {
		t.Errorf(`Column(Quoted"Name) not found; "" inside quotes must unescape to "`)
	}
	if m.Table("users") != u || m.Table("nope") != nil {
		t.Errorf("Table lookup by old name failed")
	}
}

// base is a valid one-table mapping; error cases edit it.
const base = `tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      email_address: email
    reverse:
      id: account_id
      email: email_address
`

func edit(old, new string) string {
	if !strings.Contains(base, old) {
		panic("edit: " + old + " not in base")
	}
	return strings.Replace(base, old, new, 1)
}

const twoTables = base + `  - old: orders
    new: purchases
    key: id
    columns: {purchase_id: id}
    reverse: {id: purchase_id}
`

func TestParseErrors(t *testing.T) {
	type want struct {
		line  int
		field string
		msg   string
	}
	tests := []struct {
		name string
		src  string
		want []want // every error, in order
	}{
		// Document shape.
		{"syntax", "tables: [\n", []want{{1, "", "invalid YAML: did not find expected node content"}}},
		{"syntax line", base + "  - old: users: x\n", []want{{11, "", "invalid YAML: mapping values are not allowed in this context"}}},
		{"unknown anchor", edit("email: email_address", "email: *nope"), []want{{0, "", "invalid YAML: unknown anchor 'nope' referenced"}}},
		{"empty file", "", []want{{1, "", "the file is empty"}}},
		{"only comments", "# nothing\n", []want{{1, "", "the file is empty"}}},
		{"empty document", "---\n", []want{{1, "", "the document is empty"}}},
		{"not a mapping", "- users\n", []want{{1, "", "the document must be a mapping with keys dialect, phases, tables; got a list"}}},
		{"scalar document", "users\n", []want{{1, "", `got the value "users"`}}},
		{"two documents", base + "---\ndialect: mysql\n", []want{{11, "", "a second YAML document"}}},

		// Unknown and repeated keys.
		{"unknown top key", base + "colour: red\n", []want{{11, "colour", `unknown key "colour" at the top level; allowed keys are dialect, phases, tables`}}},
		{"unknown phases key", base + "phases:\n  wirte: dual\n", []want{{12, "phases.wirte", `unknown key "wirte" in phases; allowed keys are write, read`}}},
		{"unknown table key", edit("    key: [id]\n", "    key: [id]\n    kee: id\n"), []want{{5, "tables[0].kee", `unknown key "kee" in tables[0]; allowed keys are old, new, key, columns, reverse`}}},
		{"keys are case-sensitive", base + "Dialect: mysql\n", []want{{11, "Dialect", `unknown key "Dialect"`}}},
		{"repeated top key", base + "dialect: sqlite\ndialect: mysql\n", []want{{12, "dialect", "duplicate key dialect (first at line 11)"}}},
		{"repeated table key", edit("    new: accounts\n", "    new: accounts\n    new: accounts2\n"), []want{{4, "tables[0].new", "duplicate key new (first at line 3)"}}},
		{"non-scalar key", base + "[a]: 1\n", []want{{11, "", "keys must be plain names (dialect, phases, tables); got a list"}}},

		// Dialect and phases.
		{"unknown dialect", base + "dialect: oracle\n", []want{{11, "dialect", `unknown dialect "oracle"; valid values are sqlite, postgres, mysql`}}},
		{"empty dialect", base + "dialect:\n", []want{{11, "dialect", "is empty; write one of sqlite, postgres, mysql, or remove the key"}}},
		{"dialect list", base + "dialect: [sqlite]\n", []want{{11, "dialect", "must be one of sqlite, postgres, mysql; got a list"}}},
		{"bad write phase", base + "phases:\n  write: duel\n", []want{{12, "phases.write", `invalid write phase "duel": valid values are off, dual, both`}}},
		{"bad read phase", base + "phases:\n  read: newest\n", []want{{12, "phases.read", `invalid read phase "newest": valid values are old, compare, new`}}},
		{"empty read phase", base + "phases:\n  read:\n", []want{{12, "phases.read", `invalid read phase ""`}}},
		{"phase list", base + "phases:\n  write: [dual]\n", []want{{12, "phases.write", "must be a single value; got a list"}}},
		{"phases scalar", base + "phases: dual\n", []want{{11, "phases", "must be a mapping with keys write, read"}}},

		// Tables.
		{"missing tables", "dialect: mysql\n", []want{{1, "tables", "missing; list the tables"}}},
		{"tables scalar", "tables: users\n", []want{{1, "tables", `must be a list of tables`}}},
		{"tables empty", "tables: []\n", []want{{1, "tables", "is empty; list at least one table"}}},
		{"tables null", "tables:\n", []want{{1, "tables", "must be a list of tables, each with old, new, key, columns and reverse; got nothing"}}},
		{"table scalar", "tables:\n  - users\n", []want{{2, "tables[0]", "must be a mapping with keys old, new, key, columns, reverse"}}},

		// Required fields.
		{"missing old", edit("  - old: users\n    new: accounts\n", "  - new: accounts\n"), []want{{2, "tables[0].old", "missing; name the table the application uses now"}}},
		{"empty old", edit("old: users", "old: ''"), []want{{2, "tables[0].old", "table name is empty"}}},
		{"null old", edit("old: users", "old:"), []want{{2, "tables[0].old", "table name is empty"}}},
		{"quoted empty old", edit("old: users", `old: '""'`), []want{{2, "tables[0].old", `table name "" is empty`}}},
		{"old not identifier", edit("old: users", "old: public.users"), []want{{2, "tables[0].old", "table name public.users is not a plain identifier"}}},
		{"old unterminated quote", edit("old: users", `old: '"users'`), []want{{2, "tables[0].old", "has an opening double quote but no closing one"}}},
		{"old lone quote inside", edit("old: users", `old: '"us"ers"'`), []want{{2, "tables[0].old", `write it twice ("")`}}},
		{"old list", edit("old: users", "old: [users]"), []want{{2, "tables[0].old", "table name must be a plain name; got a list"}}},
		{"missing new", edit("    new: accounts\n", ""), []want{{2, "tables[0].new", "missing; name the table you are migrating to"}}},
		{"empty new", edit("new: accounts", "new: ' '"), []want{{3, "tables[0].new", "table name is empty"}}},
		{"missing key", edit("    key: [id]\n", ""), []want{{2, "tables[0].key", "missing; list the old table's unique key columns"}}},
		{"empty key", edit("key: [id]", "key: []"), []want{{4, "tables[0].key", "is empty; list the old table's unique key columns"}}},
		{"null key", edit("key: [id]", "key:"), []want{{4, "tables[0].key", "must be a key column or a list of them, e.g. `key: [id]`; got nothing"}}},
		{"key mapping", edit("key: [id]", "key: {id: 1}"), []want{{4, "tables[0].key", "must be a key column or a list of them"}}},
		{"empty key column", edit("key: [id]", `key: [id, ""]`), []want{{4, "tables[0].key[1]", "key column is empty"}}},
		{"key column list", edit("key: [id]", "key: [[id]]"), []want{{4, "tables[0].key[0]", "key column must be a plain name; got a list"}}},
		{"duplicate key column", edit("key: [id]", "key: [id, ID]"), []want{{4, "tables[0].key[1]", "duplicate key column ID (also key[0])"}}},
		{"missing columns", edit("    columns:\n      account_id: id\n      email_address: email\n", ""), []want{{2, "tables[0].columns", "missing; give every new column an SQL expression"}}},
		{"empty columns", edit("    columns:\n      account_id: id\n      email_address: email\n", "    columns: {}\n"), []want{{5, "tables[0].columns", "is empty; give every new column an SQL expression over the old table's columns"}}},
		{"columns list", edit("    columns:\n      account_id: id\n      email_address: email\n", "    columns: [account_id, email_address]\n"), []want{{5, "tables[0].columns", "must be a mapping from each new column to an SQL expression over the old table's columns; got a list"}}},
		{"missing reverse", edit("    reverse:\n      id: account_id\n      email: email_address\n", ""), []want{{2, "tables[0].reverse", "missing; give every old column, in the old table's order"}}},
		{"empty reverse", edit("    reverse:\n      id: account_id\n      email: email_address\n", "    reverse:\n"), []want{{8, "tables[0].reverse", "must be a mapping from each old column to an SQL expression over the new table's columns; got nothing"}}},

		// Column names and expressions.
		{"empty column name", edit("      email_address: email\n", "      email_address: email\n      '': email\n"), []want{{8, "tables[0].columns", "new column is empty"}}},
		{"column name not identifier", edit("email_address: email", "email address: email"), []want{{7, "tables[0].columns.email address", "new column email address is not a plain identifier: use ASCII letters, digits, _ and $, or put the name in double quotes"}}},
		{"reverse name not identifier", edit("email: email_address", "e-mail: email_address"), []want{{10, "tables[0].reverse.e-mail", "old column e-mail is not a plain identifier"}}},
		{"duplicate column", edit("      email_address: email\n", "      email_address: email\n      Email_Address: lower(email)\n"), []want{{8, "tables[0].columns.Email_Address", "duplicate new column Email_Address (first at line 7)"}}},
		{"duplicate quoted column", edit("      email_address: email\n", "      email_address: email\n      '\"EMAIL_ADDRESS\"': email\n"), []want{{8, `tables[0].columns."EMAIL_ADDRESS"`, "duplicate new column EMAIL_ADDRESS (first at line 7)"}}},
		{"duplicate reverse column", base + "      EMAIL: email_address\n", []want{{11, "tables[0].reverse.EMAIL", "duplicate old column EMAIL (first at line 10)"}}},
		{"empty expression", edit("email_address: email", `email_address: "  "`), []want{{7, "tables[0].columns.email_address", "expression is empty; write an SQL expression over the old table's columns"}}},
		{"null expression", edit("email_address: email", "email_address:"), []want{{7, "tables[0].columns.email_address", "expression is empty"}}},
		{"tilde expression", edit("email_address: email", "email_address: ~"), []want{{7, "tables[0].columns.email_address", "expression is empty"}}},
		{"empty reverse expression", edit("email: email_address", "email: ''"), []want{{10, "tables[0].reverse.email", "expression is empty; write an SQL expression over the new table's columns"}}},
		{"list expression", edit("email_address: email", "email_address: [email]"), []want{{7, "tables[0].columns.email_address", "must be an SQL expression over the old table's columns; got a list (quote the expression"}}},

		// Keys.
		{"key not renamed", edit("account_id: id", "account_id: id + 0"), []want{{4, "tables[0].key[0]", "key column id is not mapped by plain rename: add `<newname>: id` under columns"}}},
		{"scalar key not renamed", edit("key: [id]", "key: email_address"), []want{{4, "tables[0].key", "key column email_address is not mapped by plain rename: add `<newname>: email_address` under columns"}}},
		{"key renamed twice", edit("      email_address: email\n", "      email_address: email\n      legacy_id: '\"ID\"'\n"), []want{{4, "tables[0].key[0]", "key column id is renamed to more than one new column: account_id (line 6), legacy_id (line 8); keep one plain rename and write the others in parentheses, e.g. `legacy_id: (id)`"}}},
		{"key not in reverse", edit("      id: account_id\n", ""), []want{{4, "tables[0].reverse", "key column id has no reverse entry: add `id: account_id` under reverse"}}},
		{"key reverse not renamed", edit("id: account_id", "id: account_id + 0"), []want{{9, "tables[0].reverse.id", "key column id must be read back by plain rename from account_id, so that a key names the same row in both tables: write `id: account_id`"}}},
		{"key reverse wrong column", edit("id: account_id", "id: email_address"), []want{{9, "tables[0].reverse.id", "write `id: account_id`"}}},

		// Across tables.
		{"old equals new", edit("new: accounts", "new: Users"), []want{{3, "tables[0].new", "new table Users is the old table itself"}}},
		{"duplicate old", replace(twoTables, "old: orders", `old: '"USERS"'`), []want{{11, "tables[1].old", "old table USERS is already mapped by tables[0] (line 2); map each old table once"}}},
		{"duplicate new", replace(twoTables, "new: purchases", "new: ACCOUNTS"), []want{{12, "tables[1].new", "new table ACCOUNTS is already the new table of tables[0] (line 2)"}}},
		{"chained", replace(twoTables, "new: purchases", "new: users"), []want{{12, "tables[1].new", "new table users is also the old table of tables[0] (line 2); chained migrations are not supported"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want errors; source:\n%s", tt.src)
			}
			if m != nil {
				t.Errorf("Parse returned a mapping together with an error")
			}
			got := allErrors(t, err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Line != w.line || g.Field != w.field || !strings.Contains(g.Msg, w.msg) || g.File != "" {
					t.Errorf("error %d = {Line:%d Field:%q Msg:%q File:%q}\nwant Line:%d Field:%q Msg containing %q", i, g.Line, g.Field, g.Msg, g.File, w.line, w.field, w.msg)
				}
			}
			var e *Error
			if !errors.As(err, &e) || e != got[0] {
				t.Errorf("errors.As did not find the first *Error")
			}
		})
	}
}

func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("replace: " + old + " not found")
	}
	return strings.Replace(s, old, new, 1)
}

// allErrors unpacks a joined error into its *Error values, failing the test
// if any is of another type.
func allErrors(t *testing.T, err error) []*Error {
	t.Helper()
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is a %T, want *Error", err, err)
		}
		out = append(out, e)
	}
	walk(err)
	return out
}

func TestParseReportsAllErrorsInLineOrder(t *testing.T) {
	src := `tables:
  - old: users
    new: accounts
    kee: [id]
    columns:
      account_id: id
      email_address: ""
    reverse:
      id: account_id
phases:
  read: sideways
dialect: oracle
`
	_, err := Parse([]byte(src))
	got := allErrors(t, err)
	want := []string{
		"line 2: tables[0].key: missing; list the old table's unique key columns, e.g. `key: [id]`",
		`line 4: tables[0].kee: unknown key "kee" in tables[0]; allowed keys are old, new, key, columns, reverse`,
		"line 7: tables[0].columns.email_address: expression is empty; write an SQL expression over the old table's columns",
		`line 11: phases.read: invalid read phase "sideways": valid values are old, compare, new`,
		`line 12: dialect: unknown dialect "oracle"; valid values are sqlite, postgres, mysql`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i := range want {
		if got[i].Error() != want[i] {
			t.Errorf("error %d:\n got %s\nwant %s", i, got[i].Error(), want[i])
		}
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Errorf("joined message:\n%s", err)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "mapping.yaml", Line: 12, Field: "tables[0].columns.first_name", Msg: "expression is empty"}, "mapping.yaml:12: tables[0].columns.first_name: expression is empty"},
		{Error{Line: 12, Field: "dialect", Msg: "bad"}, "line 12: dialect: bad"},
		{Error{File: "m.yaml", Line: 3, Msg: "invalid YAML"}, "m.yaml:3: invalid YAML"},
		{Error{File: "m.yaml", Msg: "bad"}, "m.yaml: bad"},
		{Error{Field: "tables", Msg: "bad"}, "tables: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestParsePhases(t *testing.T) {
	for in, want := range map[string]WritePhase{"off": WriteOff, " DUAL\t": WriteDual, "Dual": WriteDual} {
		if got, err := ParseWritePhase(in); err != nil || got != want {
			t.Errorf("ParseWritePhase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]ReadPhase{"old": ReadOld, " Compare ": ReadCompare, "NEW": ReadNew} {
		if got, err := ParseReadPhase(in); err != nil || got != want {
			t.Errorf("ParseReadPhase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseWritePhase("on"); err == nil || err.Error() != `invalid write phase "on": valid values are off, dual, both` {
		t.Errorf("ParseWritePhase(on) error = %v", err)
	}
	if _, err := ParseReadPhase(""); err == nil || err.Error() != `invalid read phase "": valid values are old, compare, new` {
		t.Errorf("ParseReadPhase(\"\") error = %v", err)
	}
	m, err := Parse([]byte(base + "dialect: ' PostgreS '\nphases:\n  write: ' Dual'\n  read: COMPARE\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Dialect != "postgres" || m.Phases != (Phases{Write: WriteDual, Read: ReadCompare}) {
		t.Errorf("dialect %q phases %+v", m.Dialect, m.Phases)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(exampleYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(good)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if m.File != good || len(m.Tables) != 1 || m.Tables[0].New != "accounts" {
		t.Errorf("Load: File %q, %d tables", m.File, len(m.Tables))
	}

	bad := filepath.Join(dir, "bad.yaml")
	src := replace(exampleYAML, "email_address: email", "email_address: ''")
	if err := os.WriteFile(bad, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err = Load(bad)
	if err == nil || m != nil {
		t.Fatalf("Load(bad) = %v, %v; want an error", m, err)
	}
	want := bad + ":11: tables[0].columns.email_address: expression is empty; write an SQL expression over the old table's columns"
	if err.Error() != want {
		t.Errorf("Load(bad) error:\n got %s\nwant %s", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.File != bad || e.Line != 11 {
		t.Errorf("errors.As: %+v", e)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	m, err := Load(path)
	if err == nil || m != nil {
		t.Fatalf("Load(missing) = %v, %v; want an error", m, err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}
