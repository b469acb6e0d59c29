package dualwrite_test

import (
	"reflect"
	"strings"
	"testing"
)

// TestKeyChangeWithUniqueColumns changes keys of rows whose unique non-key
// column (users.email, and accounts.email_address on the new side) moves
// with them: the mirror must succeed exactly when the caller's
// statement does (a raw twin decides), and keep new = up(old). The mirror
// deletes the vacated keys' new rows before it writes the new keys', and
// a key moved onto a key another row of the same statement vacated (which
// PostgreSQL allows when it meets the rows in the right order) still
// mirrors.
func TestKeyChangeWithUniqueColumns(t *testing.T) {
	steps := []writeStep{
		{query: "INSERT INTO users (id, full_name, email) VALUES (1, 'Ada Lovelace', 'ada@x'), (2, 'Alan Turing', 'alan@x'), (3, 'Grace Hopper', 'grace@x'), (5, 'Barbara Liskov', 'bl@x'), (4, 'Edsger Dijkstra', 'ewd@x')"},
		{query: "UPDATE users SET id = 10 WHERE id = 1"},
		{query: "UPDATE users SET id = id + 100 WHERE id IN (2, 3)"},
		{query: "UPDATE users SET id = id - 100 WHERE id > 100 RETURNING id, email", query2: true},
		{query: "UPDATE users SET id = ?, full_name = ?, email = ? WHERE id = ?", args: []any{4, "Edsger W. Dijkstra", "ewd@y", 4}}, // an ORM's save: the key assigned unchanged
		{query: "UPDATE users SET id = 11, email = 'ada@y' WHERE id = 10"},
		{query: "UPDATE users SET id = CASE id WHEN 2 THEN 3 ELSE 2 END WHERE id IN (2, 3)"}, // a swap: an error on both
		{query: "UPDATE users SET id = id + 1 WHERE id IN (4, 5)"},                           // 5 -> 6, then 4 -> 5 where the database meets 5 first
		{query: "UPDATE users SET id = 12 WHERE id = 11 RETURNING *", query2: true},
		{query: "UPDATE users SET id = 3, email = 'grace@x' WHERE id = 12"}, // collides: an error on both
		{query: "INSERT INTO memberships VALUES (1, 1, 'admin'), (1, 2, 'member'), (2, 1, 'member')"},
		{query: "UPDATE memberships SET user_id = 3 - user_id WHERE org_id = 1"},
	}
	forBackends(t, func(t *testing.T, b backend) {
		if !strings.Contains(strings.ToLower(strings.Join(b.schema, "\n")), "unique index accounts_email_address on accounts (email_address)") {
			t.Fatal("accounts.email_address is not unique in the test schema: the test would not see the collision")
		}
		wrapped, raw := b.open(t), b.open(t)
		succeeded := 0
		for _, s := range steps {
			s.query = b.sql(s.query)
			got, err := run(t, wrapped.db, s)
			want, rawErr := run(t, raw.raw, s)
			got.LastInsertID, want.LastInsertID = 0, 0
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:\n through dualwrite: %+v (%v)\n raw driver:        %+v (%v)", s.query, got, err, want, rawErr)
			}
			if err == nil && strings.Contains(s.query, "UPDATE") {
				succeeded++
			}
			for _, q := range oldTables {
				if g, w := rows(t, wrapped.raw, q), rows(t, raw.raw, q); !reflect.DeepEqual(g, w) {
					t.Fatalf("after %s: %s differs:\n through dualwrite: %v\n raw driver:        %v", s.query, q, g, w)
				}
			}
			wrapped.checkInvariant()
		}
		if succeeded < 6 {
			t.Fatalf("only %d key changes succeeded on the raw driver: the test exercises too little", succeeded)
		}
		if got := rows(t, wrapped.raw, "SELECT account_id, email_address FROM accounts ORDER BY account_id"); len(got) != 5 {
			t.Fatalf("accounts: %v, want 5 rows", got)
		}
	})
}
