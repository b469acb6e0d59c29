package corpus

import (
	"strconv"
	"strings"
)

// The statements below grow with a parameter (nesting depth, bytes): the
// rewrite package's benchmarks and the bench program's scale group plan
// them at several sizes to show that planning cost grows linearly.

// NestedRead returns a query of users nested depth levels deep:
// SELECT * FROM users WHERE id IN (SELECT id FROM users WHERE id IN (... (1) ...)).
func NestedRead(depth int) string {
	return nested("SELECT * FROM users WHERE id IN ", depth)
}

// NestedUpdate returns an UPDATE of users whose SET value is a scalar
// subquery nested depth levels deep.
func NestedUpdate(depth int) string {
	var b strings.Builder
	b.WriteString("UPDATE users SET visits = (")
	b.WriteString(strings.Repeat("SELECT max(id) FROM users WHERE id IN (", depth))
	b.WriteString("1")
	b.WriteString(strings.Repeat(")", depth))
	b.WriteString(") WHERE id = 1")
	return b.String()
}

// NestedDelete returns a DELETE of users whose WHERE holds an IN subquery
// nested depth levels deep.
func NestedDelete(depth int) string {
	return nested("DELETE FROM users WHERE id IN ", depth)
}

// DeepParens returns an UPDATE of users whose SET value is 1 inside depth
// pairs of parentheses.
func DeepParens(depth int) string {
	return "UPDATE users SET visits = " + strings.Repeat("(", depth) + "1" + strings.Repeat(")", depth) + " WHERE id = 1"
}

// nested returns head, then depth levels of IN subqueries of users around 1.
func nested(head string, depth int) string {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(strings.Repeat("(SELECT id FROM users WHERE id IN ", depth))
	b.WriteString("(1)")
	b.WriteString(strings.Repeat(")", depth))
	return b.String()
}

// BigInsert returns an INSERT INTO users (id, full_name, email) of as many
// literal rows as fit in size bytes (at least one), with ids from 0.
func BigInsert(size int) string {
	var b strings.Builder
	b.Grow(size + 64)
	b.WriteString("INSERT INTO users (id, full_name, email) VALUES ")
	for i := 0; i == 0 || b.Len() < size-64; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		n := strconv.Itoa(i)
		b.WriteString("(" + n + ", 'name number " + n + "', 'e" + n + "@example.com')")
	}
	return b.String()
}
