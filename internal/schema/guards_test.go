package schema

import (
	"reflect"
	"testing"

	"github.com/dualwrite/dualwrite/rewrite"
)

// The tests of this file run on every backend: SQLite, and PostgreSQL when
// DUALWRITE_TEST_POSTGRES_DSN is set.

func TestGuardsForeignKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		fk := func(constraint, rest string) string { return fkReason(b, constraint, rest) }
		// SQLite keeps a referenced name as written; PostgreSQL folds it.
		orgs := map[string]string{"sqlite": "Orgs", "postgres": "orgs"}[b.name]
		tests := []struct {
			name string
			ddl  string // after orgTables
			want map[string]rewrite.Guard
		}{
			{
				name: "on delete cascade",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT REFERENCES orgs ON DELETE CASCADE);",
				want: map[string]rewrite.Guard{"orgs": {Delete: true,
					Reason: fk("users_org_id_fkey", "users(org_id) -> orgs ON DELETE CASCADE changes users without the mirror")}},
			},
			{
				name: "on update set null, on delete set default, named",
				ddl: "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT DEFAULT 0, " +
					"CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES Orgs (id) ON UPDATE SET NULL ON DELETE SET DEFAULT);",
				want: map[string]rewrite.Guard{"orgs": {Delete: true, Update: true,
					Reason: fk("users_org", "users(org_id) -> "+orgs+" ON DELETE SET DEFAULT ON UPDATE SET NULL changes users without the mirror")}},
			},
			{
				name: "restrict and no action change nothing",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT REFERENCES orgs ON DELETE RESTRICT ON UPDATE NO ACTION);",
				want: map[string]rewrite.Guard{},
			},
			{
				name: "cascade into a table that is not mapped",
				ddl: orgUsers +
					"CREATE TABLE invoices (id INTEGER PRIMARY KEY, org_id INT REFERENCES orgs ON DELETE CASCADE);",
				want: map[string]rewrite.Guard{},
			},
			{
				name: "self reference",
				ddl:  "CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT REFERENCES users ON DELETE CASCADE);",
				want: map[string]rewrite.Guard{"users": {Delete: true,
					Reason: fk("users_org_id_fkey", "users(org_id) -> users ON DELETE CASCADE changes users without the mirror")}},
			},
			{
				name: "cascade through another table",
				ddl: "CREATE TABLE teams (id INTEGER PRIMARY KEY, org_id INT REFERENCES orgs ON DELETE CASCADE);\n" +
					"CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT REFERENCES teams ON DELETE CASCADE);",
				want: map[string]rewrite.Guard{
					"teams": {Delete: true, Reason: fk("users_org_id_fkey", "users(org_id) -> teams ON DELETE CASCADE changes users without the mirror")},
					"orgs": {Delete: true, Reason: fk("teams_org_id_fkey", "teams(org_id) -> orgs ON DELETE CASCADE changes teams, "+
						"whose writes change a mapped table without the mirror")},
				},
			},
		}
		for _, tt := range tests {
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
CREATE TABLE orgs (id INTEGER, region TEXT, PRIMARY KEY (id, region));
CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INT);
CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, org INT, region TEXT, CONSTRAINT acc_org FOREIGN KEY (org, region) REFERENCES orgs ON UPDATE CASCADE);
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

// fkReason is the guard reason of a foreign key; PostgreSQL's names the
// constraint, SQLite's catalog has no names.
func fkReason(b backend, constraint, rest string) string {
	if b.name == "postgres" {
		return "foreign key " + constraint + " " + rest
	}
	return "foreign key " + rest
}
