package schema

import "testing"

func TestInspectIgnoresOtherKindsOfTables(t *testing.T) {
	ddl := usersSchema + `
CREATE VIRTUAL TABLE docs USING fts5(body);
CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT, x INT);
INSERT INTO seq (x) VALUES (1);
`
	s, problems := inspect(t, ddl, usersMapping)
	checkProblems(t, problems)
	if len(s.Guards) != 0 {
		t.Errorf("Guards = %v, want none", s.Guards)
	}
}
