package rewrite_test

// MySQL's grammar, as TiDB's parser (github.com/pingcap/tidb/pkg/parser,
// pure Go) reads it, as the oracle of the MySQL dialect's analyzer and
// planner. The parser is imported only from _test.go files, so it is a
// test-only dependency: programs that import the rewrite package do not
// link it (internal/ormtest checks this).
//
// The parser's test_driver package supplies the value and "?" parameter
// nodes; the parser runs with MariaDB's syntax and window functions on.
// TiDB's grammar is MySQL's with TiDB's extensions, and without MariaDB's
// RETURNING: a statement with a trailing RETURNING clause is judged
// without it (mysqlOracle.parseCaller), and the clause's list is checked
// as a select list over the target.

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/internal/mytest"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// mysqlOracleCorpus names the mapped tables (users, memberships) of
// corpus.MySQLMapping wherever it can, so that the planner test below
// builds Mirror and Read plans from it; audit is not mapped.
var mysqlOracleCorpus = []string{
	// INSERT ... VALUES, VALUE, SET
	"INSERT INTO users (id, full_name, email, visits) VALUES (?, ?, ?, ?)",
	"INSERT INTO users (id, full_name) VALUES (2, 'Grace Brewster Hopper'), (3, 'Plato')",
	"INSERT INTO users (id, full_name) VALUE (?, ?)",
	"INSERT users (id, full_name) VALUES (?, ?)",
	"INSERT INTO users SET id = ?, full_name = ?, visits = 1",
	"INSERT INTO users (full_name, email) VALUES (?, ?), ('Plato', NULL)",
	"INSERT INTO users (id, full_name) VALUES (DEFAULT, ?), (NULL, 'x'), (0, 'y')",
	"INSERT INTO users (id, full_name) VALUES (-7, 'Negative')",
	"INSERT INTO users (id, full_name) VALUES ('8', 'Quoted key')",
	"INSERT INTO memberships (org_id, user_id, role) VALUES (1, 2, 'owner'), (?, ?, ?)",
	"INSERT INTO memberships SET org_id = 1, user_id = ?, role = CONCAT('a', ?)",
	// IGNORE and priorities
	"INSERT IGNORE INTO users (id, full_name) VALUES (?, ?)",
	"INSERT LOW_PRIORITY INTO users (id) VALUES (1)",
	"INSERT HIGH_PRIORITY IGNORE users (id) VALUES (1)",
	"INSERT DELAYED INTO memberships (org_id, user_id) VALUES (1, 1)",
	// ON DUPLICATE KEY UPDATE, VALUES() and the row alias
	"INSERT INTO users (id, full_name, visits) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE visits = visits + VALUES(visits), full_name = VALUES(full_name)",
	"INSERT INTO users (id, full_name) VALUES (?, ?) AS new ON DUPLICATE KEY UPDATE full_name = new.full_name",
	"INSERT INTO users (id, full_name) VALUES (?, ?) AS new (i, f) ON DUPLICATE KEY UPDATE full_name = f",
	"INSERT INTO users SET id = 1, full_name = 'x' AS new ON DUPLICATE KEY UPDATE users.full_name = new.full_name",
	"INSERT INTO memberships (org_id, user_id, role) VALUES (1, 2, 'a'), (1, 3, 'b') ON DUPLICATE KEY UPDATE role = VALUES(role)",
	"INSERT INTO users (id, email) VALUES (?, ?) ON DUPLICATE KEY UPDATE id = id + 1",
	"INSERT INTO users (id, full_name) VALUES (?, ?) ON DUPLICATE KEY UPDATE full_name = ?",
	// PARTITION
	"INSERT INTO memberships PARTITION (p0) (org_id, user_id, role) VALUES (1, 2, 'owner')",
	"INSERT INTO users PARTITION (p0, p1) SET id = ?, full_name = 'x'",
	// INSERT ... SELECT, TABLE, parenthesized
	"INSERT INTO users (id, full_name) SELECT id + 100, msg FROM audit WHERE id > ?",
	"INSERT INTO users (full_name) SELECT msg FROM audit",
	"INSERT INTO users (id, full_name) (SELECT id, msg FROM audit)",
	"INSERT INTO users (id, full_name) SELECT id, msg FROM audit ON DUPLICATE KEY UPDATE full_name = VALUES(full_name)",
	"INSERT IGNORE INTO memberships (org_id, user_id, role) SELECT 1, id, 'member' FROM users WHERE visits > ?",
	"INSERT INTO memberships TABLE memberships",
	// RETURNING (MariaDB 10.5)
	"INSERT INTO users (id, full_name) VALUES (?, ?) RETURNING id, full_name",
	"INSERT INTO users (full_name) SELECT msg FROM audit WHERE id < ? RETURNING id, UPPER(full_name) AS shout",
	"REPLACE INTO memberships (org_id, user_id, role) VALUES (?, ?, 'x') RETURNING org_id + ?, role",
	// refused INSERTs
	"INSERT INTO memberships VALUES (1, 2, 'x')",
	"INSERT INTO users (id, full_name) VALUES (1 + 1, 'x')",
	"INSERT INTO users () VALUES ()",
	"INSERT INTO memberships (org_id, role) VALUES (1, 'x')",
	"INSERT INTO test.users (id) VALUES (1)",
	"INSERT INTO users (id, full_name) WITH a AS (SELECT 1 AS i) SELECT i, 'x' FROM a",
	// names, comments and strings
	"INSERT INTO `users` (`id`, `full_name`) VALUES (?, 'Ada `Lovelace`')",
	"INSERT INTO `Users` (`ID`, `full_name`) VALUES (?, ?)",
	`INSERT INTO users (id, full_name) VALUES (1, 'it''s'), (2, 'it\'s ?'), (3, "double \" quoted ?"), (4, "it""s")`,
	"INSERT INTO users (id, full_name) VALUES (1, 'a ? b') -- a comment with ?\n",
	"INSERT /* ? */ INTO users (id, full_name) VALUES (?, # trailing ?\n ?)",
	"INSERT INTO users (id, full_name) VALUES (?, 'back\\\\slash'), (?, X'4142'), (?, _utf8mb4'x')",
	"INSERT INTO audit (id, msg) VALUES (?, 'users')",
	"INSERT INTO audit (id, msg) SELECT id, full_name FROM users WHERE id = ?",
	"INSERT INTO users (id, full_name) SELECT id, returning FROM audit",
	// REPLACE
	"REPLACE INTO users (id, full_name) VALUES (?, ?)",
	"REPLACE LOW_PRIORITY INTO memberships (org_id, user_id, role) VALUES (1, 2, 'x')",
	"REPLACE users SET id = 1, full_name = 'x'",
	"REPLACE DELAYED INTO users (id, full_name) VALUES (1, 'x')",
	"REPLACE INTO users (id, full_name) SELECT id, msg FROM audit",
	"REPLACE INTO memberships PARTITION (p0) (org_id, user_id) VALUES (?, ?)",
	// UPDATE
	"UPDATE users SET visits = visits + 1 WHERE id = ?",
	"UPDATE users SET full_name = ? WHERE id > ? ORDER BY id DESC LIMIT ?",
	"UPDATE LOW_PRIORITY IGNORE users SET visits = 0 LIMIT 10",
	"UPDATE users AS u SET u.visits = u.visits * 2 WHERE u.email LIKE ?",
	"UPDATE users u USE INDEX (PRIMARY) SET u.full_name = CONCAT(u.full_name, ' Jr') WHERE u.id = 1",
	"UPDATE users FORCE INDEX (email) SET visits = 1 WHERE email = 'a@x'",
	"UPDATE users IGNORE INDEX (email) SET visits = 1 ORDER BY id LIMIT 1",
	"UPDATE users IGNORE INDEX FOR ORDER BY (PRIMARY) USE INDEX (email) SET visits = 1 WHERE email = ? ORDER BY id LIMIT 1",
	"UPDATE memberships AS m FORCE KEY FOR JOIN (PRIMARY) SET m.role = ? WHERE m.org_id = 1",
	"UPDATE users SET users.visits = 2, test.users.full_name = 'x' WHERE users.id = ?",
	"UPDATE `users` SET `full_name` = 'x' WHERE `id` = 1",
	"UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?",
	"UPDATE users SET visits = (SELECT COUNT(*) FROM memberships m WHERE m.user_id = users.id)",
	"UPDATE users SET full_name = 'a;b' WHERE id = 1;",
	"UPDATE users SET visits = visits + 1 WHERE id = 1 ORDER BY id",
	"UPDATE users SET visits = 1 LIMIT ?",
	"UPDATE users SET visits = ?ORDER BY id LIMIT 1",
	"UPDATE users SET visits = 1.",
	"UPDATE users SET full_name = \"O\\\"Brien ?\" WHERE id = ? # ?",
	"UPDATE users SET visits = 1 WHERE id IN (SELECT id FROM audit WHERE msg = 'x') -- tail\n",
	// refused UPDATEs
	"UPDATE users SET id = id + 100 WHERE id = ?",
	"UPDATE memberships SET user_id = 3 WHERE org_id = 1",
	"UPDATE test.users SET visits = 0",
	"UPDATE users, audit SET users.full_name = audit.msg WHERE users.id = audit.id",
	"UPDATE users u JOIN memberships m ON m.user_id = u.id SET u.visits = u.visits + 1 WHERE m.role = ?",
	"UPDATE audit a JOIN users u ON u.id = a.id SET a.msg = u.full_name",
	"UPDATE audit SET msg = 'users' WHERE id = ?",
	// DELETE
	"DELETE FROM users WHERE id = ?",
	"DELETE LOW_PRIORITY QUICK IGNORE FROM users WHERE visits < ? ORDER BY visits LIMIT 10",
	"DELETE QUICK FROM users ORDER BY id LIMIT 1",
	"DELETE FROM users",
	"DELETE FROM users AS u WHERE u.id = 1",
	"DELETE FROM memberships WHERE org_id = ? AND user_id IN (?, ?)",
	"DELETE FROM memberships PARTITION (p0) WHERE org_id = 1",
	"DELETE FROM users WHERE id = ? RETURNING id, email",
	"DELETE FROM memberships WHERE org_id = ? ORDER BY user_id LIMIT ? RETURNING user_id, CONCAT(role, ?) AS r;",
	"DELETE FROM `users` WHERE `full_name` = \"O\\\"Brien\"",
	"DELETE FROM users WHERE full_name = 'x' -- comment\n AND id = 1",
	"DELETE FROM users WHERE full_name = '-- not a comment' AND id = ?",
	"DELETE FROM users WHERE visits = 1--1",
	"DELETE FROM users WHERE email = 'a' /* ? */ LIMIT 1",
	"DELETE FROM users WHERE id = ?ORDER BY id LIMIT 1",
	"DELETE FROM audit WHERE id IN (SELECT id FROM users)",
	// refused DELETEs
	"DELETE FROM test.users WHERE id = 1",
	"DELETE users FROM users JOIN audit ON audit.id = users.id",
	"DELETE u, m FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.id = ?",
	"DELETE FROM users USING users JOIN audit ON audit.id = users.id",
	"DELETE QUICK FROM u USING users AS u, audit WHERE u.id = audit.id",
	"DELETE a FROM audit a JOIN users u ON u.id = a.id",
	"DELETE FROM users, memberships USING users JOIN memberships ON memberships.user_id = users.id",
	// SELECT
	"SELECT * FROM users WHERE id = ?",
	"SELECT u.id, m.role FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = ? ORDER BY u.id LIMIT 10",
	"SELECT id FROM users UNION SELECT user_id FROM memberships",
	"(SELECT id FROM users) UNION ALL (SELECT id FROM audit) ORDER BY 1",
	"SELECT COUNT(*) FROM users WHERE full_name LIKE 'a%' ESCAPE '!'",
	"SELECT * FROM users WHERE id = ? FOR UPDATE",
	"SELECT * FROM users LOCK IN SHARE MODE",
	"SELECT `id` FROM `users` WHERE `email` = 'a\\'b'",
	"WITH a AS (SELECT id FROM users) SELECT * FROM a",
	"SELECT * FROM users WHERE id IN (SELECT user_id FROM memberships WHERE role = ?) # trailing comment",
	"SELECT id FROM users WHERE email = \"a@x\" AND full_name <> 'it\\'s'",
	"SELECT SQL_CALC_FOUND_ROWS * FROM users LIMIT 1",
	"SELECT * FROM users u STRAIGHT_JOIN memberships m ON m.user_id = u.id",
	"SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM users",
	"SELECT * FROM users WHERE id = ? LIMIT 1",
	"SELECT id, visits FROM users ORDER BY visits DESC LIMIT ?, ?",
	"SELECT DISTINCT m.org_id FROM memberships m WHERE m.user_id IN (?, ?, ?)",
	"SELECT full_name FROM users WHERE id = 1 AND email IS NULL OR visits <=> NULL",
	"TABLE users",
	"SELECT 1",
	"SELECT 'users', `users`.id FROM users",
	"SELECT @a := id FROM users WHERE id = ?",
	"SELECT * FROM audit WHERE msg = ?",
	// writes that are not INSERT, UPDATE or DELETE
	"EXPLAIN ANALYZE DELETE FROM users WHERE id = ?",
	"EXPLAIN ANALYZE UPDATE users, audit SET users.visits = 1 WHERE users.id = audit.id",
	"EXPLAIN DELETE FROM users WHERE id = ?",
	"TRUNCATE TABLE users",
	"TRUNCATE memberships",
	"LOAD DATA INFILE '/tmp/users.csv' INTO TABLE users",
	"LOAD DATA LOCAL INFILE 'm.csv' REPLACE INTO TABLE memberships FIELDS TERMINATED BY ','",
	// transactions
	"START TRANSACTION",
	"START TRANSACTION READ ONLY",
	"START TRANSACTION WITH CONSISTENT SNAPSHOT",
	"BEGIN",
	"COMMIT",
	"ROLLBACK",
	"SAVEPOINT s1",
	"RELEASE SAVEPOINT s1",
	"ROLLBACK TO SAVEPOINT s1",
	// DDL
	"CREATE TABLE audit2 (id INT PRIMARY KEY, msg TEXT)",
	"ALTER TABLE users ADD COLUMN nickname TEXT",
	"DROP TABLE IF EXISTS audit2",
	"CREATE INDEX users_email ON users (email)",
	"CREATE VIEW v AS SELECT * FROM users",
}

// mysqlOracle parses MySQL text with TiDB's grammar. A Parser is not safe
// for concurrent use: each test has its own.
type mysqlOracle struct{ p *parser.Parser }

func newMySQLOracle() *mysqlOracle {
	p := parser.New()
	p.SetMariaDB(true)
	p.EnableWindowFunc(true)
	return &mysqlOracle{p: p}
}

// parse parses src, which must be one statement. The test driver's
// decimal type panics on literals TiDB's own would take (more digits than
// it implements): such text counts as not parsed.
func (o *mysqlOracle) parse(src string) (_ ast.StmtNode, err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("the parser's test driver panicked: %v", e)
		}
	}()
	stmts, _, err := o.p.Parse(src, "", "")
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, fmt.Errorf("%d statements", len(stmts))
	}
	return stmts[0], nil
}

// parseCaller parses a caller's statement, or a statement generated
// from one, where TiDB's grammar lacks what MySQL or MariaDB have:
//
//   - MariaDB's RETURNING (on INSERT, REPLACE and DELETE): text that does
//     not parse is parsed again without a trailing RETURNING clause, and
//     judged without it when it is then an INSERT, REPLACE or DELETE and
//     the clause's list is a select list; returning is then the list;
//   - MySQL 8.0.19's row alias (INSERT ... VALUES (...) AS new [(a, b)]
//     ON DUPLICATE KEY UPDATE c = new.c): the alias clause and the
//     alias's qualifiers are blanked out, with spaces, so that the text
//     keeps its offsets and reads as the same statement, its assignments
//     naming columns without the alias.
func (o *mysqlOracle) parseCaller(src string) (stmt ast.StmtNode, returning string, err error) {
	stmt, err = o.parse(src)
	if err == nil {
		return stmt, "", nil
	}
	texts := []string{src}
	if blanked, ok := blankRowAlias(src); ok {
		texts = append(texts, blanked)
		if stmt, err2 := o.parse(blanked); err2 == nil {
			return stmt, "", nil
		}
	}
	for _, text := range texts {
		for _, cut := range cutReturning(text) {
			stmt, err2 := o.parse(cut[0])
			switch stmt.(type) {
			case *ast.InsertStmt, *ast.DeleteStmt:
				if _, err3 := o.parse("SELECT " + cut[1]); err2 == nil && err3 == nil {
					return stmt, cut[1], nil
				}
			}
		}
	}
	return nil, "", err
}

// callerParams returns the offsets of the "?" parameters of a caller's
// statement parsed by parseCaller: those of its tree and those of its
// RETURNING list, which ends the text.
func (o *mysqlOracle) callerParams(src string, n ast.StmtNode, returning string) []int {
	out := myParams(n)
	if returning == "" {
		return out
	}
	sel, err := o.parse("SELECT " + returning)
	if err != nil {
		return append(out, -1) // the list is no select list: agree with nothing
	}
	at := strings.LastIndex(src, returning) - len("SELECT ")
	for _, p := range myParams(sel) {
		out = append(out, at+p)
	}
	return out
}

// cutReturning splits src at each RETURNING keyword outside parentheses,
// found by the MySQL lexer, first to last: the statement before it, and
// the select list after it (up to a final semicolon).
func cutReturning(src string) [][2]string {
	toks, err := rewrite.MySQL.Lex(src)
	if err != nil {
		return nil
	}
	end := len(src)
	if n := len(toks); n > 0 && toks[n-1].Kind == rewrite.Semicolon {
		end = int(toks[n-1].Start)
		toks = toks[:n-1]
	}
	var out [][2]string
	depth := 0
	for i, t := range toks {
		switch t.Kind {
		case rewrite.LParen:
			depth++
		case rewrite.RParen:
			depth--
		case rewrite.Word:
			if depth == 0 && i > 0 && i+1 < len(toks) && strings.EqualFold(t.Text(src), "RETURNING") && toks[i-1].Kind != rewrite.Dot {
				out = append(out, [2]string{src[:t.Start], src[toks[i+1].Start:end]})
			}
		}
	}
	return out
}

// blankRowAlias blanks out the row alias of an INSERT ... AS alias
// [(columns)] ON DUPLICATE KEY UPDATE, and the "alias." qualifiers after
// it, with spaces; ok is false where src has none.
func blankRowAlias(src string) (string, bool) {
	toks, err := rewrite.MySQL.Lex(src)
	if err != nil || len(toks) == 0 || !strings.EqualFold(toks[0].Text(src), "INSERT") {
		return "", false
	}
	word := func(i int, w string) bool {
		return i < len(toks) && toks[i].Kind == rewrite.Word && strings.EqualFold(toks[i].Text(src), w)
	}
	depth := 0
	for i, t := range toks {
		switch t.Kind {
		case rewrite.LParen:
			depth++
			continue
		case rewrite.RParen:
			depth--
			continue
		}
		if depth != 0 || !word(i, "AS") || i+1 >= len(toks) {
			continue
		}
		name := func(k int) bool { return toks[k].Kind == rewrite.Word || toks[k].Kind == rewrite.QuotedIdent }
		if !name(i + 1) {
			continue
		}
		alias := toks[i+1].Text(src)
		j := i + 2
		if j < len(toks) && toks[j].Kind == rewrite.LParen {
			// The alias's column names, and nothing else.
			for j++; j < len(toks) && (name(j) || toks[j].Kind == rewrite.Comma); j++ {
			}
			if j >= len(toks) || toks[j].Kind != rewrite.RParen {
				continue
			}
			j++
		}
		if !word(j, "ON") || !word(j+1, "DUPLICATE") {
			continue
		}
		b := []byte(src)
		blank := func(from, to int) {
			for k := from; k < to; k++ {
				b[k] = ' '
			}
		}
		blank(int(t.Start), int(toks[j-1].End))
		for k := j; k+1 < len(toks); k++ {
			if strings.EqualFold(toks[k].Text(src), alias) && toks[k+1].Kind == rewrite.Dot {
				blank(int(toks[k].Start), int(toks[k+1].End))
			}
		}
		return string(b), true
	}
	return "", false
}

// myKind is the rewrite.Kind name of a statement node, by MySQL's grammar.
func myKind(n ast.StmtNode) string {
	switch s := n.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return "select"
	case *ast.InsertStmt:
		return "insert"
	case *ast.UpdateStmt:
		return "update"
	case *ast.DeleteStmt:
		return "delete"
	case *ast.BeginStmt, *ast.CommitStmt, *ast.RollbackStmt, *ast.SavepointStmt, *ast.ReleaseSavepointStmt:
		return "transaction"
	case *ast.ExplainStmt:
		if s.Analyze {
			return "other" // EXPLAIN ANALYZE runs the statement
		}
		return "utility"
	}
	name := strings.TrimPrefix(reflect.TypeOf(n).String(), "*ast.")
	for _, p := range []string{"Create", "Alter", "Drop"} {
		if strings.HasPrefix(name, p) {
			return "ddl"
		}
	}
	return "other"
}

// myTarget returns the table an INSERT, REPLACE, UPDATE or DELETE writes,
// and whether it writes one table named by itself (not a multi-table
// UPDATE or DELETE).
func myTarget(n ast.StmtNode) (*ast.TableName, bool) {
	var refs *ast.TableRefsClause
	switch s := n.(type) {
	case *ast.InsertStmt:
		refs = s.Table
	case *ast.UpdateStmt:
		if s.MultipleTable {
			return nil, false
		}
		refs = s.TableRefs
	case *ast.DeleteStmt:
		if s.IsMultiTable {
			return nil, false
		}
		refs = s.TableRefs
	default:
		return nil, false
	}
	if refs == nil || refs.TableRefs == nil || refs.TableRefs.Right != nil {
		return nil, false
	}
	ts, ok := refs.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil, false
	}
	tn, ok := ts.Source.(*ast.TableName)
	return tn, ok
}

// myVisitor walks a tree, calling enter on every node.
type myVisitor struct{ enter func(ast.Node) bool }

func (v myVisitor) Enter(n ast.Node) (ast.Node, bool) { return n, !v.enter(n) }
func (v myVisitor) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// walkMy calls f on every node of a tree, parents first; f returns false
// to skip a node's children.
func walkMy(n ast.Node, f func(ast.Node) bool) { n.Accept(myVisitor{f}) }

// myParams returns the byte offsets of the "?" parameters of a tree.
func myParams(n ast.Node) []int {
	out := []int{}
	walkMy(n, func(n ast.Node) bool {
		if p, ok := n.(*test_driver.ParamMarkerExpr); ok {
			out = append(out, p.Offset)
		}
		return true
	})
	slices.Sort(out)
	return out
}

// ourMyParams returns the byte offsets of the analyzer's parameters.
func ourMyParams(st *rewrite.Statement) []int {
	out := []int{}
	for _, p := range st.Params {
		out = append(out, int(p.Start))
	}
	return out
}

// myDisagreements compares the analyzer with MySQL's parse of src (or of
// its head before RETURNING, returning being the clause's list).
func myDisagreements(src string, st *rewrite.Statement, n ast.StmtNode, returning string, params []int) []string {
	var out []string
	if got, want := st.Kind.String(), myKind(n); got != want {
		out = append(out, fmt.Sprintf("kind %s, MySQL says %s (%T)", got, want, n))
	}
	if st.Multi {
		out = append(out, "Multi, but MySQL parsed one statement")
	}
	if got, want := ourMyParams(st), params; fmt.Sprint(got) != fmt.Sprint(want) {
		out = append(out, fmt.Sprintf("parameters at %v, MySQL says %v", got, want))
	}
	tn, single := myTarget(n)
	if st.Unsupported != "" {
		if strings.Contains(st.Unsupported, "multi-table") && single {
			out = append(out, fmt.Sprintf("unsupported as %s, but MySQL says it writes the one table %s", st.Unsupported, tn.Name.L))
		}
		return out // the planner refuses it when it names a mapped table
	}
	if st.Kind.IsWrite() {
		switch {
		case st.Joined:
			// A multi-table statement that writes one table: MySQL's
			// written tables, through their aliases, are that one.
			if w := myWritten(n); len(w) != 1 || w[0] != st.Target.Table {
				out = append(out, fmt.Sprintf("a multi-table %s of %q, but MySQL says it writes %v", st.Kind, st.Target.Table, w))
			}
		case !single:
			out = append(out, fmt.Sprintf("a single-table %s, but MySQL says it writes several tables", st.Kind))
		case st.Target.Table != tn.Name.L || st.Target.Schema != tn.Schema.L:
			out = append(out, fmt.Sprintf("target %q.%q, MySQL says %q.%q", st.Target.Schema, st.Target.Table, tn.Schema.L, tn.Name.L))
		}
		if got, want := st.Returning, returning != ""; got != want {
			out = append(out, fmt.Sprintf("Returning %v, MySQL (without MariaDB's RETURNING) says %v", got, want))
		}
	}
	return out
}

// TestMySQLOracle checks the analyzer's kind, target, RETURNING and
// parameters against MySQL's grammar for every corpus statement.
func TestMySQLOracle(t *testing.T) {
	o := newMySQLOracle()
	checked, seen := 0, map[int]int{}
	for _, src := range mysqlOracleCorpus {
		n, returning, err := o.parseCaller(src)
		if err != nil {
			t.Errorf("corpus statement does not parse in MySQL: %q: %v", src, err)
			continue
		}
		st, err := rewrite.MySQL.Analyze(src)
		if err != nil {
			t.Errorf("Analyze(%q): %v", src, err)
			continue
		}
		for _, d := range myDisagreements(src, st, n, returning, o.callerParams(src, n, returning)) {
			if k := mysqlKnown(src, d); k >= 0 {
				seen[k]++
				continue
			}
			t.Errorf("Analyze(%q): %s", src, d)
		}
		if st.Unsupported == "" {
			checked++
		}
	}
	checkKnownSeen(t, "TestMySQLOracle", seen)
	// An analyzer that gave up on everything would check nothing.
	if checked < len(mysqlOracleCorpus)*3/4 {
		t.Errorf("only %d of %d corpus statements were read in full; the analyzer gives up on the rest", checked, len(mysqlOracleCorpus))
	}
}

// mysqlOraclePlanners returns planners of corpus.MySQLMapping for MariaDB
// (with RETURNING) and for MySQL (without), with users.id AUTO_INCREMENT
// as in corpus.MySQLSchema.
func mysqlOraclePlanners(t testing.TB) []*rewrite.Planner {
	m, err := mapping.Parse([]byte(corpus.MySQLMapping))
	if err != nil {
		t.Fatal(err)
	}
	var out []*rewrite.Planner
	for _, d := range []*rewrite.Dialect{rewrite.MySQL, rewrite.MySQLWithoutReturning} {
		s := &rewrite.Schema{AutoIncrement: map[string]string{"users": "id"}, AutoIncrementStep: 1}
		out = append(out, rewrite.NewPlanner(d, m, s, 100))
	}
	return out
}

// myGenerated checks the statements a plan generates for a caller's
// statement: each parses in MySQL as one statement of its kind, with the
// parameters it is given. It returns failures, and which kinds of SQL it
// checked.
type myGenerated struct {
	o        *mysqlOracle
	failures []myFailure
	counts   map[string]int
	tables   map[*rewrite.Table]bool // the pairs whose statements were checked
}

// myFailure is one failure of the judge on a statement.
type myFailure struct{ src, msg string }

func (f myFailure) String() string {
	src := f.src
	if len(src) > 300 {
		src = src[:300] + "..."
	}
	return fmt.Sprintf("%q: %s", src, f.msg)
}

func newMyGenerated() *myGenerated {
	return &myGenerated{o: newMySQLOracle(), counts: map[string]int{}, tables: map[*rewrite.Table]bool{}}
}

func (g *myGenerated) fail(src, format string, args ...any) {
	g.failures = append(g.failures, myFailure{src, fmt.Sprintf(format, args...)})
}

// parses checks one generated statement: it parses as one statement of
// the kind ("" for any), with params parameters (-1: any). A trailing
// RETURNING is checked as a select list over the table.
func (g *myGenerated) parses(src, what, gen, kind string, params int, table string) ast.StmtNode {
	g.counts[what]++
	n, returning, err := g.o.parseCaller(gen)
	if err != nil {
		g.fail(src, "%s does not parse in MySQL: %v\n%s", what, err, gen)
		return nil
	}
	if kind != "" && myKind(n) != kind {
		g.fail(src, "%s is not one %s statement (%T):\n%s", what, kind, n, gen)
	}
	got := len(myParams(n))
	if returning != "" {
		sel, err := g.o.parse("SELECT " + returning + " FROM " + table)
		if err != nil {
			g.fail(src, "%s: its RETURNING list does not parse as a select list: %v\n%s", what, err, gen)
			return n
		}
		got += len(myParams(sel))
	}
	if params >= 0 && got != params {
		g.fail(src, "%s has %d parameters, want %d:\n%s", what, got, params, gen)
	}
	return n
}

// plan checks the SQL of a plan for src, whose caller's statement has
// params parameters and is of the kind.
func (g *myGenerated) plan(src string, plan *rewrite.Plan, kind string, params int) {
	if plan.Back != nil {
		g.plan(src, plan.Back, kind, params)
	}
	switch plan.Action {
	case rewrite.Mirror:
		t := plan.Table
		old := "`" + t.Map.Old + "`"
		if plan.Fused != "" {
			g.fail(src, "a fused plan in MySQL: %s", plan.Fused)
		}
		if plan.Capture != "" {
			g.parses(src, "Capture", plan.Capture, kind, params, old)
		}
		if plan.PreSelect != "" {
			g.parses(src, "PreSelect", plan.PreSelect, "select", len(plan.PreSelectParams), old)
		}
		if plan.InsertIDQuery != "" {
			g.parses(src, "InsertIDQuery", plan.InsertIDQuery, "select", 0, old)
		}
		if r := plan.Restrict; r != nil {
			args := make([]driver.NamedValue, params)
			for _, n := range []int{0, 1, 2, 3} {
				keys := make([][]driver.Value, n)
				for i := range keys {
					keys[i] = make([]driver.Value, len(t.Map.Key))
				}
				sql, out := r.SQL(t, args, keys)
				g.parses(src, fmt.Sprintf("Restrict(%d keys)", n), sql, kind, len(out), old)
			}
		}
		if plan.Capture == "" && plan.Restrict == nil {
			g.fail(src, "a Mirror plan runs neither a Capture nor a Restrict")
		}
		g.table(src, t)
	case rewrite.Read:
		if plan.Read == nil {
			return
		}
		g.parses(src, "Read.NewQuery", plan.Read.NewQuery, "select", params, "")
		if l := plan.Read.Lock; l != nil {
			g.parses(src, "Read.Lock.OldQuery", l.OldQuery, "select", params, "")
			for _, n := range []int{1, 2, 3} {
				g.parses(src, fmt.Sprintf("Read.Lock.NewQuery(%d)", n), l.NewQuery(n), "select", n*len(plan.Read.Tables[0].Map.Key), "")
			}
		}
	case rewrite.Refuse:
		var ue *rewrite.UnsupportedError
		if !errors.As(plan.Err, &ue) || ue.Construct == "" {
			g.fail(src, "refused without a named construct: %v", plan.Err)
		}
	}
}

// table checks a mapped pair's mirror statements for 1, 2 and 3 keys and
// a full batch.
func (g *myGenerated) table(src string, t *rewrite.Table) {
	if g.tables[t] {
		return
	}
	g.tables[t] = true
	w := len(t.Map.Key)
	for _, n := range []int{1, 2, 3, t.KeyBatch()} {
		g.parses(src, "UpsertSQL", t.UpsertSQL(n), "insert", n*w, "")
		g.parses(src, "DeleteSQL", t.DeleteSQL(n), "delete", n*w, "")
		g.parses(src, "DeleteKeysSQL", t.DeleteKeysSQL(n), "delete", n*w, "")
		g.parses(src, "UpsertLockedSQL", t.UpsertLockedSQL(n), "insert", n*w, "")
		g.parses(src, "CountSQL", t.CountSQL(n), "select", n*w, "")
	}
}

// TestMySQLPlansParse checks every plan of the corpus: a write to a
// mapped table is mirrored or refused, a refusal names its construct,
// and every statement the planner generates parses in MySQL.
func TestMySQLPlansParse(t *testing.T) {
	g := newMyGenerated()
	actions := map[string]int{}
	for _, p := range mysqlOraclePlanners(t) {
		for _, src := range mysqlOracleCorpus {
			n, returning, err := g.o.parseCaller(src)
			if err != nil {
				continue // reported by TestMySQLOracle
			}
			plan, _ := p.Plan(src)
			actions[[...]string{"pass", "mirror", "refuse", "read"}[plan.Action]]++
			written := myWritten(n)
			for _, table := range written {
				if (table == "users" || table == "memberships") && plan.Action != rewrite.Mirror && plan.Action != rewrite.Refuse {
					t.Errorf("%q writes the mapped table %s, but the plan is action %d", src, table, plan.Action)
				}
			}
			if plan.Action == rewrite.Mirror && (len(written) != 1 || !strings.EqualFold(plan.Table.Map.Old, written[0])) {
				t.Errorf("%q: a Mirror plan of %s, but MySQL says the statement writes %v", src, plan.Table.Map.Old, written)
			}
			g.plan(src, plan, myKind(n), len(g.o.callerParams(src, n, returning)))
		}
	}
	seen := map[int]int{}
	for _, f := range g.failures {
		if k := mysqlKnown(f.src, f.msg); k >= 0 {
			seen[k]++
			continue
		}
		t.Error(f.String())
	}
	checkKnownSeen(t, "TestMySQLPlansParse", seen)
	// A corpus that built few plans would check little.
	if actions["mirror"] < 60 || actions["refuse"] < 30 || actions["read"] < 20 || g.counts["Restrict(3 keys)"] < 30 {
		t.Errorf("the corpus exercises too few plans: %v, generated %v", actions, g.counts)
	}
	t.Logf("plans %v; generated statements checked %v", actions, g.counts)
}

// TestMySQLOracleJudge checks the judge's handling of what TiDB's
// grammar lacks: a RETURNING clause is cut at the right place, a
// statement that parses as it is keeps it, and a row alias is blanked.
func TestMySQLOracleJudge(t *testing.T) {
	o := newMySQLOracle()
	for _, c := range []struct{ src, list string }{
		{"DELETE FROM users WHERE id = 1 RETURNING id, (SELECT 1) AS returning;", "id, (SELECT 1) AS returning"},
		{"INSERT INTO users (id) SELECT returning FROM audit RETURNING id", "id"},
		{"DELETE FROM users WHERE returning = 1", ""},
		{"INSERT INTO users (id) VALUES (1) AS n (i) ON DUPLICATE KEY UPDATE id = n.i RETURNING id", "id"},
	} {
		_, list, err := o.parseCaller(c.src)
		if err != nil || list != c.list {
			t.Errorf("parseCaller(%q): list %q, %v; want %q", c.src, list, err, c.list)
		}
	}
	// RETURNING is MariaDB's on INSERT, REPLACE and DELETE only.
	if _, _, err := o.parseCaller("SELECT * FROM users RETURNING ?"); err == nil {
		t.Error("parseCaller parsed a SELECT with RETURNING")
	}
	const src = "DELETE FROM users WHERE id = ? RETURNING id + ?, ?"
	n, list, err := o.parseCaller(src)
	if err != nil {
		t.Fatal(err)
	}
	var marks []int // every "?" of src is a parameter
	for i := range src {
		if src[i] == '?' {
			marks = append(marks, i)
		}
	}
	if got := o.callerParams(src, n, list); len(marks) != 3 || fmt.Sprint(got) != fmt.Sprint(marks) {
		t.Errorf("callerParams(%q) = %v, want %v", src, got, marks)
	}
	const alias = "INSERT INTO users (id, full_name) VALUES (?, ?) AS new (i, f) ON DUPLICATE KEY UPDATE full_name = new.f"
	const want = "INSERT INTO users (id, full_name) VALUES (?, ?)               ON DUPLICATE KEY UPDATE full_name =     f"
	if got, ok := blankRowAlias(alias); !ok || got != want {
		t.Errorf("blankRowAlias(%q) = %q, %v; want %q", alias, got, ok, want)
	}
}

// FuzzMySQLOracle: for text MySQL's grammar parses as exactly one
// statement, the lexer accepts it (but for the exemptions of
// mysqlLexExempt), the analyzer's kind agrees for SELECT, INSERT, UPDATE
// and DELETE, its parameters are MySQL's, a write's target agrees where
// the analyzer reads it in full, a write to a mapped table is mirrored
// or refused, and every generated statement parses.
func FuzzMySQLOracle(f *testing.F) {
	for _, src := range mysqlOracleCorpus {
		f.Add(src)
	}
	planners := mysqlOraclePlanners(f)
	// The fuzz function runs one input at a time in each process: the
	// parsers are shared, and each pair's statements are checked once.
	o, g := newMySQLOracle(), newMyGenerated()
	four := map[string]bool{"select": true, "insert": true, "update": true, "delete": true}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 2000 || !utf8.ValidString(src) {
			// Text that is not UTF-8 is refused by a utf8mb4 connection;
			// TiDB's parser puts "?" for the bytes in names.
			return
		}
		n, returning, err := o.parseCaller(src)
		if err != nil {
			return
		}
		st, err := rewrite.MySQL.Analyze(src)
		if err != nil {
			if mysqlLexExempt(src, err) != "" {
				return
			}
			t.Fatalf("MySQL parses %q, Lex fails: %v", src, err)
		}
		got, want := st.Kind.String(), myKind(n)
		if four[got] || four[want] {
			for _, d := range myDisagreements(src, st, n, returning, o.callerParams(src, n, returning)) {
				if mysqlKnown(src, d) < 0 {
					t.Fatalf("Analyze(%q): %s", src, d)
				}
			}
		}
		g.failures = g.failures[:0]
		for _, p := range planners {
			plan, _ := p.Plan(src)
			for _, table := range myWritten(n) {
				if (table == "users" || table == "memberships") && plan.Action != rewrite.Mirror && plan.Action != rewrite.Refuse {
					g.fail(src, "writes %s (mapped as the old table), but the plan is action %d", table, plan.Action)
				}
			}
			g.plan(src, plan, myKind(n), len(o.callerParams(src, n, returning)))
		}
		for _, f := range g.failures {
			if mysqlKnown(f.src, f.msg) < 0 {
				t.Fatal(f.String())
			}
		}
	})
}

// mysqlHiddenWrites are statements that TiDB's grammar does not parse
// and that MariaDB runs as writes: its ANALYZE statement runs the
// statement it explains. Each changes the rows of users, as
// TestMySQLHiddenWrites shows on the server.
var mysqlHiddenWrites = []string{
	"ANALYZE DELETE FROM users WHERE id = 2",
	"ANALYZE FORMAT=JSON UPDATE users SET visits = 5 WHERE id = 1",
	"ANALYZE INSERT INTO users (id, full_name) VALUES (9, 'Nine')",
	"analyze replace INTO users (id, full_name) VALUES (1, 'One')",
	"ANALYZE UPDATE users u JOIN audit a ON a.id = u.id SET u.visits = 7",
}

// TestMySQLHiddenWrites: statements that the server runs as writes to
// the mapped table users are mirrored or refused, never passed; the
// server says which statements write (ANALYZE TABLE does not).
func TestMySQLHiddenWrites(t *testing.T) {
	dsn := mytest.Database(t, append(slices.Clone(corpus.MySQLSchema),
		"INSERT INTO users (id, full_name, visits) VALUES (1, 'Ada King', 1), (2, 'Grace Hopper', 2)",
		"INSERT INTO audit (id, msg) VALUES (1, 'x')")...)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	state := func() string {
		var s string
		if err := db.QueryRow("SELECT CONCAT(COUNT(*), ':', COALESCE(GROUP_CONCAT(id, full_name, visits ORDER BY id), '')) FROM users").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	run := func(src string) {
		rows, err := db.Query(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		_ = rows.Close()
	}
	planners := mysqlOraclePlanners(t)
	for _, src := range append(slices.Clone(mysqlHiddenWrites), "ANALYZE TABLE users", "ANALYZE NO_WRITE_TO_BINLOG TABLE users") {
		before := state()
		run(src)
		writes := state() != before
		if want := slices.Contains(mysqlHiddenWrites, src); writes != want {
			t.Fatalf("%q: the server changed the rows of users: %v, want %v", src, writes, want)
		}
		for _, p := range planners {
			plan, _ := p.Plan(src)
			if writes && plan.Action == rewrite.Pass {
				t.Errorf("%q: passed as written, but the server writes the mapped table users without the mirror", src)
			}
			if !writes && plan.Action != rewrite.Pass {
				t.Errorf("%q: action %d, but the statement reads statistics only and should pass", src, plan.Action)
			}
		}
	}
}

// TestMySQLMappingColumns: where a mapping's expression is a column name,
// plain or double-quoted (mapping's names), MySQL reads a column, not a
// value, in the mirror's upsert and the derived table of the new rows.
func TestMySQLMappingColumns(t *testing.T) {
	m, err := mapping.Parse([]byte(`
dialect: mysql
tables:
  - old: people
    new: persons
    key: [id]
    columns:
      id: id
      '"Full Name"': '"full name"'
      visits: visits + 0
      city: '"Town"'
    reverse:
      id: id
      '"full name"': '"Full Name"'
      visits: visits
      Town: city
`))
	if err != nil {
		t.Fatal(err)
	}
	o := newMySQLOracle()
	p := rewrite.NewPlanner(rewrite.MySQL, m, &rewrite.Schema{}, 10)
	tb := p.Table("people")
	// fields returns the select list of a generated statement.
	fields := func(what, sql string) []*ast.SelectField {
		n, err := o.parse(sql)
		if err != nil {
			t.Fatalf("%s does not parse in MySQL: %v\n%s", what, err, sql)
		}
		var sel *ast.SelectStmt
		walkMy(n, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectStmt); ok && sel == nil && s.Fields != nil {
				sel = s
			}
			return sel == nil
		})
		if sel == nil {
			t.Fatalf("%s has no select list:\n%s", what, sql)
		}
		return sel.Fields.Fields
	}
	seen := map[int]int{}
	for _, c := range []struct {
		what string
		cols []mapping.Column
		sql  string
	}{
		{"UpsertSQL", tb.Map.Columns, tb.UpsertSQL(1)},
		{"Derived", tb.Map.Reverse, tb.Derived()},
	} {
		fs := fields(c.what, c.sql)
		if len(fs) != len(c.cols) {
			t.Fatalf("%s selects %d columns, the mapping has %d:\n%s", c.what, len(fs), len(c.cols), c.sql)
		}
		checked := 0
		for i, col := range c.cols {
			if col.Expr == "visits + 0" {
				continue // an expression, not a name
			}
			checked++
			want := strings.Trim(col.Expr, `"`)
			if cn, ok := fs[i].Expr.(*ast.ColumnNameExpr); ok && cn.Name.Name.O == want {
				continue
			}
			msg := fmt.Sprintf("%s: the mapping's expression %s names the column %s, but MySQL reads %T in:\n%s", c.what, col.Expr, want, fs[i].Expr, c.sql)
			if k := mysqlKnown(col.Expr, msg); k >= 0 {
				seen[k]++
				continue
			}
			t.Error(msg)
		}
		if checked < 3 {
			t.Fatalf("%s: %d names checked, want 3 or more", c.what, checked)
		}
	}
	checkKnownSeen(t, "TestMySQLMappingColumns", seen)
}
