package rewrite_test

// PostgreSQL's own grammar as the oracle of the analyzer and the planner.
//
// pg_query_go links libpg_query, PostgreSQL's parser, through cgo. It is
// imported only from this _test.go file, so it is a test-only dependency:
// programs that import the rewrite package (or dualwrite) neither build nor
// link the C library; only `go test` of this package does, and it needs a C
// compiler (cgo) to do so.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dualwrite/dualwrite/internal/corpus"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// oracleCorpus names the mapped tables (users, memberships) of
// corpus.PostgresMapping wherever it can, so that the planner test below
// builds Mirror and Read plans from it.
var oracleCorpus = []string{
	// INSERT
	"INSERT INTO users (id, full_name, email, visits) VALUES ($1, $2, $3, $4)",
	"INSERT INTO users (id, full_name) VALUES (2, 'Grace Brewster Hopper'), (3, 'Plato')",
	"INSERT INTO users (id, full_name) SELECT id + 100, msg FROM audit WHERE id > $1",
	"INSERT INTO users AS u (id, full_name, visits) VALUES (1, 'Ada King', 1) ON CONFLICT (id) DO UPDATE SET visits = u.visits + excluded.visits, full_name = excluded.full_name",
	"INSERT INTO users (id, full_name) VALUES (2, 'Nobody') ON CONFLICT DO NOTHING",
	"INSERT INTO memberships VALUES (1, 2, 'owner') ON CONFLICT ON CONSTRAINT memberships_pk DO UPDATE SET role = excluded.role",
	"INSERT INTO users (id, full_name, email) VALUES (4, 'Edsger Dijkstra', 'ewd@x') RETURNING id, upper(full_name) AS shout",
	"INSERT INTO users DEFAULT VALUES RETURNING *",
	"INSERT INTO public.users (id) VALUES ($1)",
	`INSERT INTO "Users" (id) VALUES (1)`,
	"INSERT INTO users (id, full_name) VALUES ($1, $2) ON CONFLICT (id) WHERE id > 0 DO UPDATE SET full_name = excluded.full_name WHERE users.visits IS DISTINCT FROM 3 RETURNING id",
	"INSERT INTO users (id, full_name) OVERRIDING SYSTEM VALUE VALUES (1, 'x')",
	"INSERT INTO audit (id, msg) VALUES (1, E'it\\'s'), (2, $$dollar 'quoted' $1$$)",
	"INSERT INTO users (id, full_name) VALUES ($1, $1 || $2::text)",
	"INSERT INTO users (id, full_name) VALUES ($2, $1) RETURNING (xmax = 0) AS inserted",
	// WITH ... INSERT
	"WITH x AS (SELECT 7 AS i) INSERT INTO users (id, full_name) SELECT i, 'With Clause' FROM x",
	"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) INSERT INTO memberships (org_id, user_id, role) SELECT 1, i, 'member' FROM n RETURNING org_id",
	// UPDATE
	"UPDATE users SET visits = visits * 2 + 1 WHERE id > $1",
	"UPDATE ONLY users SET full_name = audit.msg || ' Jr' FROM audit WHERE audit.id + 100 = users.id",
	"UPDATE users u SET email = 'u' || u.id || '@x' WHERE u.email IS NULL RETURNING u.*",
	"UPDATE users AS u SET (full_name, email) = ($1, $2) WHERE u.id = $3",
	"UPDATE public.users SET visits = 0",
	"UPDATE users SET visits = (SELECT count(*) FROM memberships m WHERE m.user_id = users.id) RETURNING id, visits",
	"UPDATE memberships SET role = 'guest' WHERE org_id = 1 AND user_id = 1",
	"UPDATE users SET email = NULL WHERE email IS NOT DISTINCT FROM '' AND full_name ~* '^a'",
	"WITH s AS (SELECT id FROM audit) UPDATE users SET visits = visits + 1 FROM s WHERE s.id = users.id",
	"WITH s AS (SELECT 2 AS i) UPDATE users SET id = id + 100 WHERE id IN (SELECT i FROM s)",
	"WITH s(i) AS (SELECT $1::bigint) UPDATE users AS u SET id = u.id + s.i FROM s WHERE u.id = $2 RETURNING u.id",
	`UPDATE users SET full_name = $tag$Ada; "Lovelace" $1$tag$ WHERE id = $1`,
	// DELETE
	"DELETE FROM users USING audit WHERE users.id = audit.id + 100 AND audit.id = 1",
	"DELETE FROM users WHERE id = $1 RETURNING email",
	"DELETE FROM ONLY users u WHERE u.id IN (SELECT user_id FROM memberships)",
	"DELETE FROM sales.orders WHERE placed < now() - interval '1 year'",
	"DELETE FROM users",
	"WITH gone AS (SELECT id FROM audit WHERE msg LIKE 'x%') DELETE FROM users WHERE id IN (SELECT id FROM gone) RETURNING *",
	// SELECT
	"SELECT * FROM users WHERE id = $1",
	"SELECT u.id, m.role FROM users u JOIN memberships m ON m.user_id = u.id LEFT JOIN orgs o ON o.id = m.org_id WHERE o.name IS NOT NULL ORDER BY u.id",
	"SELECT id FROM users WHERE id IN (SELECT user_id FROM memberships WHERE role = $1) AND visits > $2",
	"WITH active AS (SELECT * FROM users WHERE visits > 0) SELECT count(*) FROM active",
	"SELECT id FROM users UNION SELECT user_id FROM memberships ORDER BY 1 LIMIT 10",
	`SELECT id::text, visits::bigint, '{"a":1}'::jsonb -> 'a' FROM users`,
	"SELECT full_name FROM users WHERE email = E'a\\'b@x' OR full_name = $$O'Brien$$",
	`SELECT data->>'name', data #> '{a,b}', data @> '{"k":1}', data ? 'k' FROM audit`,
	"SELECT * FROM public.users",
	"(SELECT id FROM users) EXCEPT (SELECT user_id FROM memberships)",
	"VALUES (1, 'a'), (2, 'b')",
	"SELECT EXISTS (SELECT 1 FROM users WHERE email ILIKE $1)",
	"SELECT u.* FROM users AS u, LATERAL (SELECT count(*) AS n FROM memberships m WHERE m.user_id = u.id) c WHERE c.n > 1",
	"SELECT id FROM users WHERE id = ANY($1::int[]) AND full_name LIKE $2",
	"SELECT * FROM users WHERE id = $1 FOR UPDATE",
	"SELECT 1",
	"TABLE users",
	"SELECT * FROM users * WHERE id = 1", // users and its inheritance children
	"SELECT x.from users",                // a column x."from" named users: no FROM clause
	"DELETE FROM users u WHERE u.returning IS NULL",
	"UPDATE users u SET visits = 1 WHERE u.from = 2 RETURNING id",
	// DDL
	"CREATE TABLE audit2 (id int PRIMARY KEY, msg text)",
	"ALTER TABLE users ADD COLUMN nickname text",
	"DROP TABLE IF EXISTS audit2",
	"CREATE INDEX users_email ON users (email)",
	"CREATE VIEW v AS SELECT * FROM users",
	// transactions
	"BEGIN",
	"BEGIN ISOLATION LEVEL SERIALIZABLE",
	"COMMIT",
	"END",
	"ROLLBACK",
	"SAVEPOINT s1",
	"RELEASE SAVEPOINT s1",
	"ROLLBACK TO SAVEPOINT s1",
	"START TRANSACTION",
	"ABORT",
	// three-part names: catalog.schema.table (the catalog must be the
	// current database, which PostgreSQL then accepts)
	"INSERT INTO mydb.public.users (id) VALUES (1)",
	// a leading empty statement, which PostgreSQL drops
	";DELETE FROM users WHERE id = 1",
}

// TestPostgresLexParamJunk records the one known case where the lexer
// rejects what libpg_query 17 parses (see lexErrExempt).
func TestPostgresLexParamJunk(t *testing.T) {
	const src = "SELECT * FROM users WHERE id = $1a"
	if _, err := pg_query.Parse(src); err != nil {
		t.Skipf("the oracle rejects %q too (a PostgreSQL 18 grammar?): %v", src, err)
	}
	if _, err := rewrite.Postgres.Lex(src); err == nil || !lexErrExempt(err) {
		t.Errorf("Lex(%q) = %v; lexErrExempt documents a trailing junk error", src, err)
	}
}

// pgKind is the rewrite.Kind name of a statement node, by PostgreSQL's grammar.
func pgKind(n *pg_query.Node) string {
	switch n.Node.(type) {
	case *pg_query.Node_SelectStmt:
		return "select"
	case *pg_query.Node_InsertStmt:
		return "insert"
	case *pg_query.Node_UpdateStmt:
		return "update"
	case *pg_query.Node_DeleteStmt:
		return "delete"
	case *pg_query.Node_TransactionStmt:
		return "transaction"
	case *pg_query.Node_MergeStmt:
		return "merge"
	case *pg_query.Node_ExplainStmt, *pg_query.Node_VacuumStmt, *pg_query.Node_ReindexStmt:
		return "utility"
	}
	name := strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_")
	switch name {
	case "IndexStmt", "ViewStmt", "RenameStmt", "RuleStmt", "DefineStmt", "CompositeTypeStmt":
		return "ddl" // CREATE INDEX, CREATE VIEW, ALTER ... RENAME, CREATE RULE, CREATE TYPE ...
	}
	for _, p := range []string{"Create", "Alter", "Drop"} {
		if strings.HasPrefix(name, p) {
			return "ddl"
		}
	}
	return "other"
}

// pgWrite returns the target and whether a RETURNING list is present, for
// INSERT, UPDATE, DELETE and MERGE nodes.
func pgWrite(n *pg_query.Node) (*pg_query.RangeVar, bool) {
	switch s := n.Node.(type) {
	case *pg_query.Node_InsertStmt:
		return s.InsertStmt.Relation, len(s.InsertStmt.ReturningList) > 0
	case *pg_query.Node_UpdateStmt:
		return s.UpdateStmt.Relation, len(s.UpdateStmt.ReturningList) > 0
	case *pg_query.Node_DeleteStmt:
		return s.DeleteStmt.Relation, len(s.DeleteStmt.ReturningList) > 0
	case *pg_query.Node_MergeStmt:
		return s.MergeStmt.Relation, len(s.MergeStmt.ReturningList) > 0
	}
	return nil, false
}

// walkTree calls f on every message of a parse tree, parents first; f
// returns false to skip a message's children.
func walkTree(m protoreflect.Message, f func(protoreflect.Message) bool) {
	if !f(m) {
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
		case fd.IsList():
			if fd.Kind() == protoreflect.MessageKind {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walkTree(l.Get(i).Message(), f)
				}
			}
		case fd.Kind() == protoreflect.MessageKind:
			walkTree(v.Message(), f)
		}
		return true
	})
}

// pgParams returns the distinct $n parameter numbers in a parse tree.
func pgParams(m proto.Message) []int {
	set := map[int]bool{}
	walkTree(m.ProtoReflect(), func(m protoreflect.Message) bool {
		if p, ok := m.Interface().(*pg_query.ParamRef); ok {
			set[int(p.Number)] = true
		}
		return true
	})
	return sortedKeys(set)
}

func sortedKeys(set map[int]bool) []int {
	out := []int{}
	for k := range set {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// ourParams returns the distinct $n parameter numbers the analyzer found.
func ourParams(src string, st *rewrite.Statement) []int {
	set := map[int]bool{}
	for _, p := range st.Params {
		n, err := strconv.Atoi(strings.TrimPrefix(p.Text(src), "$"))
		if err != nil {
			n = -1
		}
		set[n] = true
	}
	return sortedKeys(set)
}

// oracleDisagreements compares the analyzer with PostgreSQL's parse of src,
// which must have parsed.
func oracleDisagreements(src string, st *rewrite.Statement, res *pg_query.ParseResult) []string {
	var out []string
	n := res.Stmts[0].Stmt
	if got, want := st.Kind.String(), pgKind(n); got != want {
		out = append(out, fmt.Sprintf("kind %s, PostgreSQL says %s (%T)", got, want, n.Node))
	}
	if got, want := st.Multi, len(res.Stmts) > 1; got != want {
		out = append(out, fmt.Sprintf("Multi %v, PostgreSQL parsed %d statements", got, len(res.Stmts)))
	}
	if rv, returning := pgWrite(n); rv != nil {
		if st.Target.Table != rv.Relname || st.Target.Schema != rv.Schemaname || rv.Catalogname != "" {
			out = append(out, fmt.Sprintf("target %q.%q, PostgreSQL says %q.%q.%q",
				st.Target.Schema, st.Target.Table, rv.Catalogname, rv.Schemaname, rv.Relname))
		}
		if st.Returning != returning {
			out = append(out, fmt.Sprintf("Returning %v, PostgreSQL says %v", st.Returning, returning))
		}
	}
	if got, want := ourParams(src, st), pgParams(res.Stmts[0]); fmt.Sprint(got) != fmt.Sprint(want) {
		out = append(out, fmt.Sprintf("parameters %v, PostgreSQL says %v", got, want))
	}
	return out
}

// TestPostgresOracle checks the analyzer's kind, target, RETURNING and
// parameters against PostgreSQL's grammar for every corpus statement.
func TestPostgresOracle(t *testing.T) {
	checked := 0
	for _, src := range oracleCorpus {
		res, err := pg_query.Parse(src)
		if err != nil {
			t.Errorf("corpus statement does not parse in PostgreSQL: %q: %v", src, err)
			continue
		}
		st, err := rewrite.Postgres.Analyze(src)
		if err != nil {
			t.Errorf("Analyze(%q): %v", src, err)
			continue
		}
		if st.Unsupported != "" || st.Multi && len(res.Stmts) == 1 {
			// The analyzer gives up, or sees more statements than there are:
			// the planner refuses such text when it names a mapped table,
			// the safe side.
			continue
		}
		for _, d := range oracleDisagreements(src, st, res) {
			t.Errorf("Analyze(%q): %s", src, d)
		}
		checked++
	}
	// An analyzer that gave up on everything would check nothing.
	if checked < len(oracleCorpus)*3/4 {
		t.Errorf("only %d of %d corpus statements were checked; the analyzer gives up on the rest", checked, len(oracleCorpus))
	}
}

func oraclePlanner(t testing.TB) *rewrite.Planner {
	m, err := mapping.Parse([]byte(corpus.PostgresMapping))
	if err != nil {
		t.Fatal(err)
	}
	return rewrite.NewPlanner(rewrite.Postgres, m, &rewrite.Schema{}, 100)
}

// checkGenerated parses the SQL a plan generates for src (which parses): it
// must be one statement, a SELECT (a fused write is WITH ... SELECT), with
// the caller's parameters and no others. It returns which kind of SQL it
// checked, or "".
func checkGenerated(t *testing.T, src string, srcTree *pg_query.ParseResult, plan *rewrite.Plan) string {
	t.Helper()
	want := pgParams(srcTree.Stmts[0])
	switch {
	case plan.Action == rewrite.Mirror && plan.Fused != "":
		checkParses(t, src, plan.Fused, "Fused", "select", want)
		return "Fused"
	case plan.Action == rewrite.Mirror:
		kind := pgKind(srcTree.Stmts[0].Stmt)
		if plan.RowIDs > 0 {
			// Restricted to the locked rows by two more parameters.
			want = append(want, len(want)+1, len(want)+2)
		}
		checkParses(t, src, plan.Capture, "Capture", kind, want)
		if plan.PreSelect != "" {
			checkParses(t, src, plan.PreSelect, "PreSelect", "select", nil)
		}
		return "Capture"
	case plan.Action == rewrite.Read && plan.Read != nil:
		checkParses(t, src, plan.Read.NewQuery, "Read.NewQuery", "select", want)
		return "Read.NewQuery"
	}
	return ""
}

// checkParses checks that a generated statement parses in PostgreSQL as
// one statement of the kind, with the parameters (nil: any).
func checkParses(t *testing.T, src, gen, what, kind string, params []int) {
	t.Helper()
	res, err := pg_query.Parse(gen)
	if err != nil {
		t.Errorf("%q: %s does not parse in PostgreSQL: %v\n%s", src, what, err, gen)
		return
	}
	if len(res.Stmts) != 1 || pgKind(res.Stmts[0].Stmt) != kind {
		t.Errorf("%q: %s is not one %s statement:\n%s", src, what, kind, gen)
	}
	if got := pgParams(res); params != nil && fmt.Sprint(got) != fmt.Sprint(params) {
		t.Errorf("%q: %s has parameters %v, want %v:\n%s", src, what, got, params, gen)
	}
}

// TestPostgresSplicedStatementsParse checks that the statements the planner
// splices together for PostgreSQL parse in PostgreSQL's grammar.
func TestPostgresSplicedStatementsParse(t *testing.T) {
	p := oraclePlanner(t)
	counts := map[string]int{}
	for _, src := range oracleCorpus {
		res, err := pg_query.Parse(src)
		if err != nil {
			continue // reported by TestPostgresOracle
		}
		plan, _ := p.Plan(src)
		counts[checkGenerated(t, src, res, plan)]++
	}
	if counts["Fused"] < 20 || counts["Read.NewQuery"] < 10 {
		t.Errorf("the corpus exercises too few plans: %v", counts)
	}
	t.Logf("checked: %v", counts)
}

// TestPostgresHiddenWrites: statements that PostgreSQL runs as writes to a
// mapped old table must not pass unmirrored. EXPLAIN ANALYZE executes the
// statement it explains; a catalog-qualified name (db.schema.table) names a
// table of the current database.
func TestPostgresHiddenWrites(t *testing.T) {
	p := oraclePlanner(t)
	for _, src := range []string{
		"EXPLAIN ANALYZE DELETE FROM users",
		"EXPLAIN (ANALYZE) UPDATE users SET visits = 0",
		"EXPLAIN (ANALYZE true, FORMAT json) INSERT INTO users (id) VALUES (9)",
		"INSERT INTO mydb.public.users (id) VALUES (1)",
		"UPDATE mydb.public.users SET visits = 0",
		"DELETE FROM mydb.public.users",
	} {
		if _, err := pg_query.Parse(src); err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if plan, _ := p.Plan(src); plan.Action == rewrite.Pass {
			t.Errorf("%q: passed as written, but PostgreSQL writes the mapped table users without the mirror", src)
		}
	}
}

// pgWritingCTE reports whether a parse tree holds a common table
// expression whose query is a data-modifying statement, and whether it
// names (in a RangeVar) a table of the oracle mapping.
func pgWritingCTE(m proto.Message) (writes, mapped bool) {
	walkTree(m.ProtoReflect(), func(m protoreflect.Message) bool {
		switch n := m.Interface().(type) {
		case *pg_query.CommonTableExpr:
			switch n.Ctequery.GetNode().(type) {
			case *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt, *pg_query.Node_DeleteStmt, *pg_query.Node_MergeStmt:
				writes = true
			}
		case *pg_query.RangeVar:
			switch n.Relname {
			case "users", "accounts", "memberships", "members":
				mapped = true
			}
		}
		return true
	})
	return writes, mapped
}

// writingCTECorpus holds data-modifying CTEs where PostgreSQL runs them.
var writingCTECorpus = []string{
	"WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d",
	"(WITH d AS (DELETE FROM users WHERE id = 1 RETURNING *) SELECT * FROM d)",
	"((WITH d AS (UPDATE memberships SET role = 'x' RETURNING *) SELECT * FROM d) ORDER BY 1)",
	"CREATE TABLE x AS WITH d AS (DELETE FROM accounts RETURNING *) SELECT * FROM d",
	"CREATE TABLE x AS WITH d AS MATERIALIZED (INSERT INTO users (id) VALUES (9) RETURNING *) SELECT * FROM d",
	"WITH d AS NOT MATERIALIZED (DELETE FROM users RETURNING *) SELECT * INTO x FROM d",
	"EXPLAIN ANALYZE WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d",
	"COPY (WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d) TO STDOUT",
	"PREPARE p AS WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d",
	"WITH d AS (DELETE FROM audit RETURNING id) INSERT INTO users (id) SELECT id FROM d",
}

// TestPostgresWritingCTEOracle: a statement that PostgreSQL parses with a
// data-modifying CTE and that names a mapped table is refused, wherever
// the CTE stands.
func TestPostgresWritingCTEOracle(t *testing.T) {
	p := oraclePlanner(t)
	for _, src := range writingCTECorpus {
		res, err := pg_query.Parse(src)
		if err != nil || len(res.Stmts) != 1 {
			t.Fatalf("%q: %v", src, err)
		}
		if writes, mapped := pgWritingCTE(res.Stmts[0]); !writes || !mapped {
			t.Fatalf("%q: PostgreSQL sees writes %v, mapped %v; the corpus wants both", src, writes, mapped)
		}
		if plan, _ := p.Plan(src); plan.Action != rewrite.Refuse {
			t.Errorf("%q: action %d, want refuse: its CTE writes without the mirror", src, plan.Action)
		}
	}
}

// lexExempt reports the inputs PostgreSQL parses that the lexer rejects by
// design: a NUL byte (libpg_query reads a C string and stops at it, while
// the server rejects the statement; the lexer refuses it).
func lexExempt(src string) bool { return strings.IndexByte(src, 0) >= 0 }

// lexErrExempt reports the lexer errors on text the oracle parses that are
// known: "$1a" is "trailing junk after parameter" to the lexer, as
// lex_postgres.go documents, but libpg_query 17 (PostgreSQL 17's scan.l)
// reads it as the parameter $1 and the alias a. Rejecting it is the safe
// side: the planner refuses text it cannot tokenize when it names a mapped
// table.
func lexErrExempt(err error) bool {
	return strings.Contains(err.Error(), "trailing junk after parameter")
}

// knownKindBug exempts from the fuzz target a leading empty statement
// (";DELETE FROM users"): PostgreSQL drops it and runs one statement; the
// analyzer reports the empty statement and Multi, and the planner refuses
// the text when it names a mapped table.
func knownKindBug(src, got, want string) bool {
	toks, _ := rewrite.Postgres.Lex(src)
	return got == "empty" && want != got && len(toks) > 0 && toks[0].Kind == rewrite.Semicolon
}

// FuzzPostgresOracle: for text PostgreSQL parses as exactly one statement,
// the lexer accepts it, the analyzer's kind agrees for SELECT, INSERT,
// UPDATE and DELETE, a Mirror plan's target and RETURNING agree, and any
// Fused or Read.NewQuery plan parses with the caller's parameters.
func FuzzPostgresOracle(f *testing.F) {
	for _, src := range append(oracleCorpus, writingCTECorpus...) {
		f.Add(src)
	}
	p := oraclePlanner(f)
	four := map[string]bool{"select": true, "insert": true, "update": true, "delete": true}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 2000 || lexExempt(src) {
			return
		}
		res, err := pg_query.Parse(src)
		if err != nil || len(res.Stmts) != 1 {
			return
		}
		st, err := rewrite.Postgres.Analyze(src)
		if err != nil {
			if lexErrExempt(err) {
				return
			}
			t.Fatalf("PostgreSQL parses %q, Lex fails: %v", src, err)
		}
		got, want := st.Kind.String(), pgKind(res.Stmts[0].Stmt)
		if (four[got] || four[want]) && got != want && !knownKindBug(src, got, want) {
			t.Fatalf("Analyze(%q): kind %s, PostgreSQL says %s", src, got, want)
		}
		plan, _ := p.Plan(src)
		if plan.Action == rewrite.Mirror {
			// What a mirror is built from must be what PostgreSQL runs.
			rv, returning := pgWrite(res.Stmts[0].Stmt)
			if rv == nil || st.Target.Table != rv.Relname || st.Target.Schema != rv.Schemaname || st.Returning != returning {
				t.Fatalf("Mirror plan for %q: target %q.%q returning %v, PostgreSQL says %v returning %v",
					src, st.Target.Schema, st.Target.Table, st.Returning, rv, returning)
			}
		}
		if writes, mapped := pgWritingCTE(res.Stmts[0]); writes && mapped && plan.Action != rewrite.Refuse {
			t.Fatalf("%q holds a data-modifying CTE and names a mapped table: action %d, want refuse", src, plan.Action)
		}
		checkGenerated(t, src, res, plan)
	})
}
