package schema

import "testing"

func TestInspectIgnoresOtherKindsOfTables(t *testing.T) {
	// A virtual table whose module this build lacks, as when the database
	// was created by a program built with other SQLite options.
	ddl := usersSchema + `
PRAGMA writable_schema = ON;
INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', 'docs', 'docs', 0, 'CREATE VIRTUAL TABLE docs USING fts5(body)');
PRAGMA writable_schema = OFF;
CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT, x INT);
INSERT INTO seq (x) VALUES (1);
`
	s, problems := inspect(t, ddl, usersMapping)
	checkProblems(t, problems)
	if len(s.Guards) != 0 {
		t.Errorf("Guards = %v, want none", s.Guards)
	}
}
