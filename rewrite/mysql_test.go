package rewrite

import (
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/mapping"
)

func mysqlMapping(t *testing.T) *mapping.Mapping {
	t.Helper()
	m, err := mapping.Parse([]byte(`
dialect: mysql
tables:
  - old: users
    new: accounts
    key: [id]
    columns:
      id: id
      email_address: email
      display_name: name
    reverse:
      id: id
      email: email_address
      name: display_name
`))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMySQLPlans(t *testing.T) {
	m := mysqlMapping(t)
	p := NewPlanner(MySQL, m, &Schema{AutoIncrement: map[string]string{"users": "id"}, AutoIncrementStep: 1}, 100)
	for _, q := range []string{
		"INSERT INTO users (id, email, name) VALUES (?, ?, ?)",
		"INSERT INTO users (email, name) VALUES (?, ?), ('a', 'b')",
		"INSERT IGNORE INTO users SET id = 5, email = 'x', name = 'y'",
		"INSERT INTO users (id, email, name) VALUES (1, 'a', 'b') AS n ON DUPLICATE KEY UPDATE email = n.email",
		"INSERT INTO users (id, email, name) VALUES (1, 'a', 'b') ON DUPLICATE KEY UPDATE users.email = VALUES(email)",
		"INSERT INTO users (id, email, name) SELECT id + 100, email, name FROM users WHERE id < ?",
		"INSERT INTO users (email, name) SELECT email, name FROM users WHERE id < ?",
		"UPDATE users SET name = ? WHERE id = ? ORDER BY id LIMIT ?",
		"UPDATE LOW_PRIORITY IGNORE users AS u SET u.name = CONCAT(u.name, ?)",
		"DELETE FROM users WHERE email LIKE ? ORDER BY id DESC LIMIT 2 RETURNING id",
		"DELETE t1 FROM users t1 JOIN x ON x.id = t1.id",
		"UPDATE users, x SET users.name = x.name WHERE users.id = x.id",
		"UPDATE users SET id = id + 1",
		"INSERT INTO users VALUES (1, 'a', 'b')",
		"INSERT INTO users (id, email, name) VALUES (1 + 1, 'a', 'b')",
		"REPLACE INTO users (id, email, name) VALUES (?, ?, ?)",
	} {
		plan, _ := p.Plan(q)
		var b strings.Builder
		switch {
		case plan.Err != nil:
			b.WriteString("refused: " + plan.Err.Error())
		case plan.Restrict != nil:
			b.WriteString("pre-select: " + plan.PreSelect + "\n    restricted: " + plan.Restrict.Head + "<" + plan.Restrict.Keys + " IN ...>" + plan.Restrict.Tail)
		case plan.InsertKeys != nil:
			b.WriteString("insert keys: ")
			for _, r := range plan.InsertKeys {
				for _, k := range r {
					switch {
					case k.Generated:
						b.WriteString("generated ")
					case k.Arg > 0:
						b.WriteString("arg" + string(rune('0'+k.Arg)) + " ")
					default:
						b.WriteString("lit ")
					}
				}
			}
		default:
			b.WriteString("capture: " + plan.Capture + " / " + plan.InsertIDQuery)
		}
		t.Logf("%s\n    %s", q, b.String())
	}
	tb := p.Table("users")
	t.Log(tb.UpsertSQL(2))
	t.Log(tb.DeleteSQL(2))
}
