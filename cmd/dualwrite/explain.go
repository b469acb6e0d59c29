package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/dualwrite/dualwrite/internal/schema"
	"github.com/dualwrite/dualwrite/rewrite"
)

// explanation is what explain says about one statement, printed as text or
// as JSON.
type explanation struct {
	Statement string `json:"statement"`
	Dialect   string `json:"dialect"`
	// LiveSchema is false when the plan was made from the mapping alone.
	LiveSchema bool `json:"live_schema"`
	// Action is pass, mirror, read or refuse.
	Action   string `json:"action"`
	Kind     string `json:"kind,omitempty"`
	Table    string `json:"table,omitempty"`
	NewTable string `json:"new_table,omitempty"`
	// Steps are the statements of a mirrored write, in order.
	Steps []step `json:"steps,omitempty"`
	// Read is how a query is served from the new tables.
	Read *readRoute `json:"read,omitempty"`
	// Refused says why a write is refused in the dual write phase, or why a
	// query cannot be served from the new tables (refused in the compare
	// and new read phases).
	Refused *refusal `json:"refused,omitempty"`
	// Both, for a write to a mapped new table (refused in the dual write
	// phase), is what the write phase both does with it: the write
	// mirrored back into the old table, or refused.
	Both *explanation `json:"in_write_phase_both,omitempty"`
}

// step is one statement of a mirrored write.
type step struct {
	What string `json:"what"`
	SQL  string `json:"sql"`
}

// readRoute is how the compare and new read phases serve a query.
type readRoute struct {
	// Tables are the mapped old tables the query reads.
	Tables []string `json:"tables"`
	// NewQuery is the query with each mapped old table replaced by a
	// derived table over its new table.
	NewQuery string `json:"new_query"`
	// Compared is false when the compare phase does not compare the query
	// (a LIMIT without ORDER BY that is not a point lookup, a FOR KEY SHARE
	// read); Ordered when it compares row by row.
	Compared bool `json:"compared"`
	Ordered  bool `json:"ordered"`
	// LockQuery, for a locking read (SELECT ... FOR UPDATE), is the query
	// that runs first, on the old table, and takes the caller's locks;
	// NewQuery then reads and locks the new rows of the keys it returned.
	LockQuery string `json:"lock_query,omitempty"`
}

// refusal is a [rewrite.UnsupportedError].
type refusal struct {
	Table     string `json:"table,omitempty"`
	Construct string `json:"construct"`
	Fix       string `json:"fix,omitempty"`
}

// explain prints what the driver would do with a statement, without
// running it.
func (a *app) explain(ctx context.Context, args []string) int {
	var c common
	fs := a.flagSet(&c, `--mapping FILE [--driver sqlite3|pgx|mysql] [--dsn DSN] [--json] "<sql>"`,
		"Shows what the driver does with the statement in each phase, without running it:\n"+
			"pass (runs as written), mirror (the generated statements), read (the query\n"+
			"that serves it from the new tables) or refuse (the construct and the fix).\n"+
			"With --dsn the plan uses the live schema (its triggers and foreign keys change\n"+
			"the answer); without, the mapping alone.")
	asJSON := fs.Bool("json", false, "print the explanation as JSON")
	pos, err := parse(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitError
	case len(pos) == 0:
		return a.usage(fs, "missing the statement to explain")
	case len(pos) > 1:
		return a.usage(fs, "explain takes one statement, got %d arguments: quote the statement", len(pos))
	}
	t, code := a.setup(ctx, fs, &c, false)
	if code != proceed {
		return code
	}
	defer t.close()
	s := mappingOnly(t)
	if t.db != nil {
		var problems []schema.Problem
		s, problems, err = t.inspect(ctx)
		if err != nil {
			return a.fail(err)
		}
		if len(problems) > 0 {
			printProblems(a.stdout, t, problems)
			fmt.Fprintln(a.stdout, "The driver refuses to connect until they are fixed. Without --dsn, explain plans against the mapping alone.")
			return exitFindings
		}
	}
	d := t.d
	if t.db != nil && d == rewrite.MySQL {
		if d, err = mysqlPlanning(ctx, t.db); err != nil {
			return a.fail(err)
		}
	}
	e := explainPlan(rewrite.NewPlanner(d, t.m, s, 1), pos[0])
	e.LiveSchema = t.db != nil
	if *asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(e); err != nil {
			return a.fail(err)
		}
		return exitOK
	}
	e.print(a.stdout, t)
	return exitOK
}

// mappingOnly is what the planner assumes without the live schema, as the
// driver does with WithoutSchemaCheck (rewrite.AssumedSchema).
func mappingOnly(t *target) *rewrite.Schema { return rewrite.AssumedSchema(t.d, t.m) }

// explainPlan describes the plan of query.
func explainPlan(p *rewrite.Planner, query string) *explanation {
	plan, _ := p.Plan(query)
	return describe(plan, query, p.Dialect().Name)
}

// describe explains one plan of query.
func describe(plan *rewrite.Plan, query, dialect string) *explanation {
	e := &explanation{Statement: query, Dialect: dialect}
	if plan.Back != nil {
		e.Both = describe(plan.Back, query, dialect)
	}
	var ue *rewrite.UnsupportedError
	if errors.As(plan.Err, &ue) {
		e.Refused = &refusal{Table: ue.Table, Construct: ue.Construct, Fix: ue.Fix}
	}
	switch plan.Action {
	case rewrite.Pass:
		e.Action = "pass"
	case rewrite.Refuse:
		e.Action = "refuse"
	case rewrite.Read:
		e.Action, e.Kind = "read", plan.Kind.String()
		if rp := plan.Read; rp != nil {
			r := &readRoute{NewQuery: rp.NewQuery, Compared: !rp.Limited, Ordered: rp.Ordered}
			if lp := rp.Lock; lp != nil {
				r.LockQuery, r.NewQuery, r.Compared, r.Ordered = lp.OldQuery, lp.NewQuery(1), lp.Compared, true
			}
			for _, t := range rp.Tables {
				r.Tables = append(r.Tables, t.Map.Old)
			}
			e.Read = r
		}
	case rewrite.Mirror:
		e.Action, e.Kind = "mirror", plan.Kind.String()
		e.Table, e.NewTable = plan.Table.Map.Old, plan.Table.Map.New
		e.Steps = mirrorSteps(plan)
	}
	return e
}

// mariaDBVersion matches the VERSION() of MariaDB: its major and minor
// numbers.
var mariaDBVersion = regexp.MustCompile(`^(\d+)\.(\d+)\..*MariaDB`)

// mysqlPlanning returns the dialect the driver plans with on the server
// db reaches, as it does when it connects: [rewrite.MySQL] on MariaDB
// 10.5 or later, which has INSERT ... RETURNING, and
// [rewrite.MySQLWithoutReturning] on MySQL and older MariaDB.
func mysqlPlanning(ctx context.Context, db *sql.DB) (*rewrite.Dialect, error) {
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return nil, fmt.Errorf("reading the server's version: %w", err)
	}
	if m := mariaDBVersion.FindStringSubmatch(version); m != nil {
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		if major > 10 || major == 10 && minor >= 5 {
			return rewrite.MySQL, nil
		}
	}
	return rewrite.MySQLWithoutReturning, nil
}

// mirrorSteps lists the statements of a dual write, in the order the driver
// runs them. The generated upsert and delete are shown for one key; for n
// keys their IN list has n entries.
func mirrorSteps(plan *rewrite.Plan) []step {
	t := plan.Table
	if plan.Fused != "" {
		return []step{{What: "one statement: yours in a data-modifying CTE that returns the whole row, and the mirror of " + t.Map.New + " beside it", SQL: plan.Fused}}
	}
	if steps := mysqlSteps(plan); steps != nil {
		return steps
	}
	var steps []step
	statement := "your statement, with the key columns appended to its RETURNING"
	switch {
	case plan.RowIDs > 0:
		steps = append(steps, step{What: "lock the rows your statement is about to change, and select their identities and old keys", SQL: plan.PreSelect})
		statement += ", restricted to the locked rows"
	case plan.PreSelect != "" && plan.Kind == rewrite.KindInsert:
		steps = append(steps, step{What: "select the keys of the rows your REPLACE will delete: those whose values in a unique constraint equal a row it inserts", SQL: plan.PreSelect})
	case plan.PreSelect != "":
		steps = append(steps, step{What: "select the old keys of the rows your statement is about to change", SQL: plan.PreSelect})
	}
	steps = append(steps, step{What: statement, SQL: plan.Capture})
	deleteSQL := t.DeleteSQL(1)
	if plan.Kind == rewrite.KindDelete {
		steps = append(steps, step{What: "delete from " + t.Map.New + " the returned keys that have no row in " + t.Map.Old, SQL: deleteSQL})
		if plan.Block != "" {
			steps = append(steps, step{What: "outside a transaction (MariaDB): instead of the transaction and the two statements, one compound statement that runs your statement, deletes the new row of the key your WHERE names where it deleted the old one, and returns your statement's row count", SQL: plan.Block})
		}
		return steps
	}
	projection := "up"
	if plan.Reverse {
		projection = "down" // the flipped pair's columns are the reverse expressions
	}
	upsert := step{What: "upsert " + projection + "(row of " + t.Map.Old + ") into " + t.Map.New + " for the returned keys", SQL: t.UpsertSQL(1)}
	if plan.PreSelect == "" {
		return append(steps, upsert)
	}
	upsert.What += " (where a row took a key another changed row left, in a savepoint: if it fails, it runs again after the new rows of those keys are deleted)"
	return append(steps,
		step{What: "delete from " + t.Map.New + " the old keys that no longer have a row in " + t.Map.Old, SQL: deleteSQL},
		upsert)
}

// mysqlSteps lists the statements of a MySQL dual write whose statement
// runs without RETURNING, or nil for another plan: an UPDATE or DELETE
// restricted to the keys of the rows a locking pre-select locked, an
// UPDATE whose WHERE names the key, or an INSERT that names its keys in
// its values (or leaves them to AUTO_INCREMENT).
func mysqlSteps(plan *rewrite.Plan) []step {
	t := plan.Table
	upsert := step{What: "upsert up(row of " + t.Map.Old + ") into " + t.Map.New + " for those keys", SQL: t.UpsertSQL(1)}
	if plan.Reverse {
		upsert.What = "upsert down(row of " + t.Map.Old + ") into " + t.Map.New + " for those keys"
	}
	switch {
	case plan.Restrict != nil:
		one := [][]driver.Value{make([]driver.Value, len(t.Map.Key))}
		restricted, _ := plan.Restrict.SQL(t, nil, one)
		steps := []step{
			{What: "lock the rows your statement is about to change, and select their keys", SQL: plan.PreSelect},
			{What: "your statement, restricted to the rows of those keys", SQL: restricted},
		}
		switch {
		case plan.Kind == rewrite.KindDelete:
			return append(steps, step{What: "delete from " + t.Map.New + " those keys that have no row in " + t.Map.Old, SQL: t.DeleteSQL(1)})
		case plan.NewKeyCols > 0:
			steps[0].What = "lock the rows your statement is about to change, and select their keys and the keys it gives them"
			upsert.What = strings.Replace(upsert.What, "those keys", "the new keys", 1) +
				" (where a row took a key another changed row left, in a savepoint: if it fails, it runs again after the new rows of those keys are deleted)"
			return append(steps,
				step{What: "check that the new keys name as many rows of " + t.Map.Old + " as your statement changed (a key the column stores otherwise than computed would name none)", SQL: plan.Table.CountSQL(1)},
				step{What: "delete from " + t.Map.New + " the old keys that no longer have a row in " + t.Map.Old, SQL: t.DeleteSQL(1)},
				upsert)
		}
		return append(steps, upsert)
	case plan.InsertKeys != nil:
		upsert.What = strings.Replace(upsert.What, "those keys", "the keys your statement's values name and those the server generated for it (from the insert id)", 1)
		return []step{{What: "your statement, as written", SQL: plan.Capture}, upsert}
	case plan.PointKey != nil && plan.Kind == rewrite.KindUpdate:
		upsert.What = strings.Replace(upsert.What, "for those keys", "for the key your WHERE names, reading the row locked, whether or not your statement changed it", 1)
		upsert.SQL = t.UpsertLockedSQL(1)
		steps := []step{{What: "your statement, as written", SQL: plan.Capture}, upsert}
		if plan.Block != "" {
			steps = append(steps, step{What: "outside a transaction (MariaDB): instead of the transaction and the two statements, one compound statement that runs them and returns your statement's row count", SQL: plan.Block})
		}
		return steps
	}
	return nil
}

// print writes the explanation as text.
func (e *explanation) print(w io.Writer, t *target) {
	fmt.Fprintf(w, "statement: %s\n", e.Statement)
	if e.LiveSchema {
		fmt.Fprintf(w, "planned against: the live schema (--driver %s --dsn %s)\n", t.driver, redact(t.dsn))
	} else {
		fmt.Fprintf(w, "planned against: the mapping alone (no --dsn): the live schema's triggers, cascading foreign keys and\n"+
			"  unique constraints are unknown, so writes that fire them are not refused here, and REPLACE is refused on\n"+
			"  every mapped table; pass --dsn for the driver's own answer\n")
	}
	switch e.Action {
	case "pass":
		fmt.Fprintln(w, "action: pass: it runs as written in every phase (it names no mapped table, or changes no mapped row)")
	case "mirror":
		fmt.Fprintf(w, "action: mirror: %s on %s, mirrored into %s\n", strings.ToUpper(e.Kind), e.Table, e.NewTable)
		if len(e.Steps) == 1 {
			fmt.Fprintf(w, "write phases dual and both: %s, atomic on its own:\n       %s\n", e.Steps[0].What, e.Steps[0].SQL)
		} else {
			fmt.Fprintln(w, "write phases dual and both: in one transaction (yours, or one the driver opens):")
			for i, s := range e.Steps {
				fmt.Fprintf(w, "  %d. %s:\n       %s\n", i+1, s.What, s.SQL)
			}
			fmt.Fprintln(w, "  (the generated statements are shown for one key; for n keys their IN list has n entries)")
		}
		fmt.Fprintln(w, "write phase off: it runs as written")
	case "refuse":
		fmt.Fprintln(w, "action: refuse: in the dual write phase it is refused, and nothing runs")
		e.Refused.print(w)
		fmt.Fprintln(w, "write phase off: it runs as written")
		if b := e.Both; b != nil {
			b.printBoth(w)
		}
	case "read":
		e.printRead(w)
	}
}

// printBoth writes what the write phase both does with a write to a new
// table: e is the plan of the flipped mapping.
func (e *explanation) printBoth(w io.Writer) {
	if e.Action != "mirror" {
		fmt.Fprintln(w, "write phase both: refused too, and nothing runs")
		if e.Refused != nil {
			e.Refused.print(w)
		}
		return
	}
	fmt.Fprintf(w, "write phase both: %s on %s, mirrored back into %s with the reverse expressions, in one transaction:\n", strings.ToUpper(e.Kind), e.Table, e.NewTable)
	for i, s := range e.Steps {
		fmt.Fprintf(w, "  %d. %s:\n       %s\n", i+1, s.What, s.SQL)
	}
}

func (e *explanation) printRead(w io.Writer) {
	if e.Read == nil {
		fmt.Fprintln(w, "action: read: a query of a mapped table that cannot be served from the new tables")
		e.Refused.print(w)
		fmt.Fprintln(w, "read phase old: it runs as written")
		fmt.Fprintln(w, "read phases compare and new: it is refused, and nothing runs")
		return
	}
	fmt.Fprintf(w, "action: read: a query of %s\n", strings.Join(e.Read.Tables, ", "))
	fmt.Fprintln(w, "read phase old: it runs as written")
	if e.Read.LockQuery != "" {
		fmt.Fprintf(w, "read phases compare and new: a locking read, in one transaction (yours, or one the driver opens):\n")
		fmt.Fprintf(w, "  1. your query on the old table, locking its rows, with the key columns appended:\n       %s\n", e.Read.LockQuery)
		fmt.Fprintf(w, "  2. the new rows of the returned keys, locked (shown for one key):\n       %s\n", e.Read.NewQuery)
		if e.Read.Compared {
			fmt.Fprintln(w, "read phase compare: the rows of 2 are compared with those of 1, key by key; you get the rows of 1")
		} else {
			fmt.Fprintln(w, "read phase compare: not compared (FOR KEY SHARE lets others change the rows between 1 and 2): only 1 runs")
		}
		fmt.Fprintln(w, "read phase new: you get the rows of 2, in the order of 1")
		return
	}
	fmt.Fprintf(w, "read phase new: it runs as\n       %s\n", e.Read.NewQuery)
	switch {
	case !e.Read.Compared:
		fmt.Fprintln(w, "read phase compare: not compared (a LIMIT without ORDER BY may rightly pick other rows): it runs as written")
	case e.Read.Ordered:
		fmt.Fprintln(w, "read phase compare: both queries run under one snapshot; the results are compared row by row, in order; you get the old rows")
	default:
		fmt.Fprintln(w, "read phase compare: both queries run under one snapshot; the results are compared as multisets; you get the old rows")
	}
}

func (r *refusal) print(w io.Writer) {
	if r.Table != "" {
		fmt.Fprintf(w, "  table:     %s\n", r.Table)
	}
	fmt.Fprintf(w, "  construct: %s\n", r.Construct)
	if r.Fix != "" {
		fmt.Fprintf(w, "  fix:       %s\n", r.Fix)
	}
}
