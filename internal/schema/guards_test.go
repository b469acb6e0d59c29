package schema

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

// The tests of this file run on every backend: SQLite, PostgreSQL when
// DUALWRITE_TEST_POSTGRES_DSN is set, and MySQL or MariaDB when
// DUALWRITE_TEST_MYSQL_DSN is set.

func TestGuardsForeignKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		fk := func(constraint, rest string) string { return fkReason(b, constraint, rest) }
		// SQLite keeps a referenced name as written; PostgreSQL folds it;
		// MySQL's table names are case-sensitive where the test server runs.
		orgs := map[string]string{"sqlite": "Orgs", "postgres": "orgs", "mysql": "orgs"}[b.name]
		tests := []struct {
			name string
			only string // the backends the case runs on, "" for every one
			ddl  string // after orgTables
			want map[string]rewrite.Guard
		}{
			{
				name: "on delete cascade",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT REFERENCES orgs (id) ON DELETE CASCADE);",
				want: map[string]rewrite.Guard{"orgs": {Delete: true,
					Reason: fk("users_org_id_fkey", "users(org_id) -> orgs ON DELETE CASCADE changes users without the mirror")}},
			},
			{
				// InnoDB has no SET DEFAULT.
				name: "on update set null, on delete set default, named",
				only: "sqlite,postgres",
				ddl: "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT DEFAULT 0, " +
					"CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES Orgs (id) ON UPDATE SET NULL ON DELETE SET DEFAULT);",
				want: map[string]rewrite.Guard{"orgs": {Delete: true, Update: true,
					Reason: fk("users_org", "users(org_id) -> "+orgs+" ON DELETE SET DEFAULT ON UPDATE SET NULL changes users without the mirror")}},
			},
			{
				name: "on update set null, on delete cascade, named",
				ddl: "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT DEFAULT 0, " +
					"CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES " + orgs + " (id) ON UPDATE SET NULL ON DELETE CASCADE);",
				want: map[string]rewrite.Guard{"orgs": {Delete: true, Update: true,
					Reason: fk("users_org", "users(org_id) -> "+orgs+" ON DELETE CASCADE ON UPDATE SET NULL changes users without the mirror")}},
			},
			{
				name: "restrict and no action change nothing",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT REFERENCES orgs (id) ON DELETE RESTRICT ON UPDATE NO ACTION);",
				want: map[string]rewrite.Guard{},
			},
			{
				name: "cascade into a table that is not mapped",
				ddl: orgUsers +
					"CREATE TABLE invoices (id INTEGER PRIMARY KEY, org_id INT REFERENCES orgs (id) ON DELETE CASCADE);",
				want: map[string]rewrite.Guard{},
			},
			{
				name: "self reference",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT REFERENCES users (id) ON DELETE CASCADE);",
				want: map[string]rewrite.Guard{"users": {Delete: true,
					Reason: fk("users_org_id_fkey", "users(org_id) -> users ON DELETE CASCADE changes users without the mirror")}},
			},
			{
				name: "cascade through another table",
				ddl: "CREATE TABLE teams (id INTEGER PRIMARY KEY, org_id INT REFERENCES orgs (id) ON DELETE CASCADE);\n" +
					"CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT REFERENCES teams (id) ON DELETE CASCADE);",
				want: map[string]rewrite.Guard{
					"teams": {Delete: true, Reason: fk("users_org_id_fkey", "users(org_id) -> teams ON DELETE CASCADE changes users without the mirror")},
					"orgs": {Delete: true, Reason: fk("teams_org_id_fkey", "teams(org_id) -> orgs ON DELETE CASCADE changes teams, "+
						"whose writes change a mapped table without the mirror")},
				},
			},
		}
		for _, tt := range tests {
			if !b.runs(tt.only) {
				continue
			}
			t.Run(tt.name, func(t *testing.T) {
				db := b.open(t, orgTables+tt.ddl)
				s, problems := db.inspect(t, orgMapping)
				checkProblems(t, problems)
				if got := db.guards(t, s); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Guards = %#v\nwant %#v", got, tt.want)
				}
			})
		}
	})
}

func TestGuardsCompositeForeignKeyOnNewTable(t *testing.T) {
	ddl := `
CREATE TABLE orgs (id INTEGER, region VARCHAR(10), PRIMARY KEY (id, region));
CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, org INT, region VARCHAR(10), CONSTRAINT acc_org FOREIGN KEY (org, region) REFERENCES orgs (id, region) ON UPDATE CASCADE);
`
	yaml := replaced(t, orgMapping, "org: org_id\n", "org: org_id\n      region: \"'eu'\"\n")
	forEachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t, ddl)
		s, problems := db.inspect(t, yaml)
		checkProblems(t, problems)
		want := map[string]rewrite.Guard{"orgs": {Update: true,
			Reason: fkReason(b, "acc_org", "accounts(org, region) -> orgs ON UPDATE CASCADE changes accounts without the mirror")}}
		if got := db.guards(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("Guards = %#v\nwant %#v", got, want)
		}
	})
}

// fkReason is the guard reason of a foreign key; PostgreSQL's and MySQL's
// name the constraint (MySQL names an unnamed one <table>_ibfk_<n> where
// PostgreSQL names it <table>_<column>_fkey), SQLite's catalog has no
// names.
func fkReason(b backend, constraint, rest string) string {
	switch b.name {
	case "postgres":
		return "foreign key " + constraint + " " + rest
	case "mysql":
		if table, ok := strings.CutSuffix(constraint, "_org_id_fkey"); ok {
			constraint = table + "_ibfk_1"
		}
		return "foreign key " + constraint + " " + rest
	}
	return "foreign key " + rest
}
