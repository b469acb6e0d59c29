package mapping_test

import (
	"fmt"

	"github.com/dualwrite/dualwrite/mapping"
)

func Example() {
	src := `
phases:
  write: dual
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      account_id: id
      full_name: "first || ' ' || last"
    reverse:
      id: account_id
      first: "substr(full_name, 1, instr(full_name, ' ') - 1)"
      last: "substr(full_name, instr(full_name, ' ') + 1)"
`
	m, err := mapping.Parse([]byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("write:", m.Phases.Write, "read:", m.Phases.Read)
	t := m.Table("Users")
	fmt.Println(t.Old, "->", t.New, "key", t.Key, "->", t.NewKey)
	for _, c := range t.Columns {
		fmt.Printf("  %s = %s\n", c.Name, c.Expr)
	}

	_, err = mapping.Parse([]byte("tables:\n  - old: users\n    new: users\n"))
	fmt.Println(err)
	// Output:
	// write: dual read: old
	// users -> accounts key [id] -> [account_id]
	//   account_id = id
	//   full_name = first || ' ' || last
	// line 2: tables[0].key: missing; list the old table's unique key columns, e.g. `key: [id]`
	// line 2: tables[0].columns: missing; give every new column an SQL expression over the old table's columns
	// line 2: tables[0].reverse: missing; give every old column, in the old table's order, an SQL expression over the new table's columns
	// line 3: tables[0].new: new table users is the old table itself; name the table you are migrating to
}
