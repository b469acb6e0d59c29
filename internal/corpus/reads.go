// Package corpus holds what the tests and the benchmark program share: the
// test mapping and schema, and the queries of the read-path tests (the
// rewrite package's golden test of their substitution, and the driver's
// test that runs each one against the old and the new tables of a real
// database).
package corpus

// Read is one query of the test schema (users -> accounts, memberships ->
// members, audit unmapped) with arguments to run it.
type Read struct {
	Name  string
	SQL   string
	Args  []any // sql.Named values are written as Named
	Named map[string]any
	// Refused is set for a query that cannot be served from the new tables.
	Refused bool
	// SQLiteOnly is set for a query in SQLite's own syntax (named
	// parameters, the main schema, INDEXED BY, case-insensitive quoted
	// names); the others also run on PostgreSQL with "?" spelled "$n".
	SQLiteOnly bool
}

// Reads is the corpus.
var Reads = []Read{
	{Name: "star", SQL: "SELECT * FROM users"},
	{Name: "columns where", SQL: "SELECT id, full_name FROM users WHERE id = ?", Args: []any{2}},
	{Name: "alias", SQL: "SELECT u.id, u.email FROM users u ORDER BY u.id"},
	{Name: "alias as", SQL: "SELECT u.id FROM users AS u WHERE u.visits > ?", Args: []any{0}},
	{Name: "qualified by table", SQL: "SELECT users.full_name FROM users WHERE users.id = ?1", Args: []any{1}},
	{Name: "join unmapped", SQL: "SELECT u.full_name, a.msg FROM users u LEFT JOIN audit a ON a.id = u.id ORDER BY u.id"},
	{Name: "join mapped", SQL: "SELECT u.full_name, m.role FROM users u JOIN memberships m ON m.user_id = u.id ORDER BY u.id, m.org_id"},
	{Name: "join mapped by table names", SQL: "SELECT count(*) FROM memberships JOIN users ON users.id = memberships.user_id"},
	{Name: "self join", SQL: "SELECT a.id, b.id FROM users a, users b WHERE a.id < b.id ORDER BY 1, 2"},
	{Name: "natural join", SQL: "SELECT * FROM users NATURAL JOIN audit ORDER BY id"},
	{Name: "subquery in from", SQL: "SELECT * FROM (SELECT id, visits FROM users WHERE visits > 0) AS t ORDER BY id"},
	{Name: "parenthesized table", SQL: "SELECT * FROM (users) WHERE id > 1", SQLiteOnly: true},
	{Name: "subquery in where", SQL: "SELECT id FROM users WHERE id IN (SELECT user_id FROM memberships) ORDER BY id"},
	{Name: "exists", SQL: "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)", Args: []any{3}},
	{Name: "subquery in select list", SQL: "SELECT id, (SELECT count(*) FROM memberships m WHERE m.user_id = users.id) AS n FROM users ORDER BY id"},
	{Name: "cte", SQL: "WITH top AS (SELECT id FROM users WHERE visits > 1) SELECT count(*) FROM top"},
	{Name: "cte shadowing", SQL: "WITH users AS (SELECT 1 AS id) SELECT * FROM users"},
	{Name: "two ctes", SQL: "WITH a AS (SELECT id FROM users), b AS (SELECT user_id FROM memberships) SELECT count(*) FROM a JOIN b ON a.id = b.user_id"},
	{Name: "union", SQL: "SELECT id FROM users UNION SELECT user_id FROM memberships ORDER BY 1"},
	{Name: "intersect", SQL: "SELECT id FROM users INTERSECT SELECT id FROM audit"},
	{Name: "except", SQL: "SELECT id FROM audit EXCEPT SELECT id FROM users"},
	{Name: "group by", SQL: "SELECT visits, count(*) FROM users GROUP BY visits ORDER BY visits"},
	{Name: "limit offset", SQL: "SELECT * FROM users ORDER BY id LIMIT 2 OFFSET 1"},
	{Name: "distinct", SQL: "SELECT DISTINCT visits FROM users ORDER BY visits"},
	{Name: "null filter", SQL: "SELECT full_name FROM users WHERE email IS NULL"},
	{Name: "quoted identifiers", SQL: `SELECT "id", "Full_Name" FROM "Users" WHERE "ID" = :id`, Named: map[string]any{"id": 1}, SQLiteOnly: true},
	{Name: "upper case", SQL: "SELECT * FROM USERS WHERE id = @id", Named: map[string]any{"id": 2}, SQLiteOnly: true},
	{Name: "schema qualified", SQL: "SELECT * FROM main.users WHERE id = $id", Named: map[string]any{"id": 3}, SQLiteOnly: true},
	{Name: "composite key", SQL: "SELECT org_id, user_id, role FROM memberships WHERE org_id = ? ORDER BY user_id", Args: []any{1}},
	{Name: "column named like the table", SQL: "SELECT users FROM audit", Refused: true},
	{Name: "indexed by", SQL: "SELECT * FROM users INDEXED BY users_email", Refused: true, SQLiteOnly: true},
	{Name: "in table", SQL: "SELECT 1 WHERE 2 IN users", Refused: true, SQLiteOnly: true},
}
