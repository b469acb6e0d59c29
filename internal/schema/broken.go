package schema

import (
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Broken attributes problems to the mapping entries they make invalid, for
// [rewrite.Schema.Broken]: a problem of an entry's old or new table makes
// that entry invalid; one of the database as a whole or of another table
// makes every entry invalid. The result maps each invalid entry's folded
// old table name to its problems, joined; it is empty when there are none.
func Broken(d *rewrite.Dialect, m *mapping.Mapping, problems []Problem) map[string]string {
	found := map[string][]string{}
	for _, p := range problems {
		hit := false
		for _, t := range m.Tables {
			if p.Table != "" && (d.FoldName(p.Table) == d.FoldName(t.Old) || d.FoldName(p.Table) == d.FoldName(t.New)) {
				found[d.FoldName(t.Old)] = append(found[d.FoldName(t.Old)], p.Error())
				hit = true
			}
		}
		if !hit {
			for _, t := range m.Tables {
				found[d.FoldName(t.Old)] = append(found[d.FoldName(t.Old)], p.Error())
			}
		}
	}
	out := make(map[string]string, len(found))
	for k, v := range found {
		out[k] = strings.Join(v, "; ")
	}
	return out
}
