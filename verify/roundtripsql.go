package verify

import (
	"strconv"
	"strings"
)

// The queries of [RoundTrip] work on the old table alone, in three nested
// levels, so that no name of one side can capture a reference meant for
// the other:
//
//   - up: the old rows of a range, each with its key (dw_k1, ...), its old
//     columns' values (dw_e1, ...) and the new columns computed by the
//     mapping's column expressions, named as the new table names them
//     (and in PostgreSQL cast to their types);
//   - down: over up, aliased as the new table (so that a reverse
//     expression may qualify its columns by the new table's name), the
//     key, the old values, and each old column computed by the reverse
//     expressions (dw_n1, ...; in PostgreSQL cast to its type);
//   - compare: over down, dw_same: 1 where the database itself finds every
//     pair of an old value and its round trip identical ([tableSQL.same]),
//     0 where the client must compare.
//
// The old values are aliased, so an old column named like a new one (a
// column kept as it is) does not hide the new column from the reverse
// expressions.

// stored returns the expression cast to types[i], the type of the column
// it would be stored in, or as it is without types.
func stored(expr string, types []string, i int) string {
	if types == nil {
		return expr
	}
	return "CAST((" + expr + ") AS " + types[i] + ")"
}

// oldBoundSQL returns the query of the next range's upper bound in the old
// table alone: the BatchSize-th key after the last bound (parameters: the
// last bound; none when after is false). No row means that the next range
// is the last one.
func (s tableSQL) oldBoundSQL(after bool) string {
	p := 1
	cols := s.quoteAll(s.t.Key)
	q := "SELECT " + strings.Join(s.readKeys(cols), ", ") + " FROM " + s.d.Quote(s.t.Old)
	if after {
		q += " WHERE " + tuple(cols) + " > " + tuple(s.params(&p, len(cols)))
	}
	return q + " ORDER BY " + strings.Join(cols, ", ") + " LIMIT 1 OFFSET " + strconv.Itoa(s.batch-1)
}

// downSQL returns the up and down levels of the round trip of one range
// (parameters: the lower end when lower, then the upper end when upper).
func (s tableSQL) downSQL(lower, upper bool) string {
	p := 1
	up := make([]string, 0, len(s.t.Key)+len(s.t.Reverse)+len(s.t.Columns))
	down := make([]string, 0, len(s.t.Key)+2*len(s.t.Reverse))
	for i, k := range s.quoteAll(s.t.Key) {
		up = append(up, k+" AS "+keyAlias(i))
		down = append(down, s.d.AsStored(keyAlias(i))+" AS "+keyAlias(i)) // as Run's keys ([tableSQL.readKeys])
	}
	for i, c := range s.t.Reverse {
		up = append(up, s.d.Quote(c.Name)+" AS "+valueAlias(i))
	}
	for i, c := range s.t.Columns {
		up = append(up, stored(c.Expr, s.upTypes, i)+" AS "+s.d.Quote(c.Name))
	}
	for i, c := range s.t.Reverse {
		down = append(down, valueAlias(i), stored(c.Expr, s.downTypes, i)+" AS "+newAlias(i))
	}
	return "SELECT " + strings.Join(down, ", ") +
		" FROM (SELECT " + strings.Join(up, ", ") + " FROM " + s.d.Quote(s.t.Old) +
		where(s.rangeConds("", s.t.Key, lower, upper, &p)) + ") AS " + s.d.Quote(s.t.New)
}

// roundTripSQL returns the three levels of the round trip of one range,
// with downSQL's parameters. Each row is one old row: its key (dw_k1,
// ...), the pairs of its old value and its round trip (dw_eI, dw_nI), and
// dw_same. The rows come in no order.
func (s tableSQL) roundTripSQL(lower, upper bool) string {
	cols := s.aliases("c.")
	same := make([]string, 0, len(s.t.Reverse))
	for i := range s.t.Reverse {
		cols = append(cols, "c."+valueAlias(i), "c."+newAlias(i))
		same = append(same, s.same("c."+valueAlias(i), "c."+newAlias(i)))
	}
	sameCol := "0"
	if s.fast {
		sameCol = "CASE WHEN " + strings.Join(same, " AND ") + " THEN 1 ELSE 0 END"
	}
	return "SELECT " + strings.Join(cols, ", ") + ", " + sameCol + " AS dw_same FROM (" + s.downSQL(lower, upper) + ") AS c"
}

// roundTripSummarySQL returns the query of one range's counts: its old
// rows, those whose round trip the database finds identical, and whether
// the range's upper bound, passed back as parameters after roundTripSQL's,
// is a key of the old table (1 without an upper bound).
func (s tableSQL) roundTripSummarySQL(lower, upper bool) string {
	boundSeen := "1"
	if upper {
		b := 1 + len(s.t.Key)
		if lower {
			b += len(s.t.Key)
		}
		boundSeen = "(SELECT count(*) FROM " + s.d.Quote(s.t.Old) + " WHERE " + tuple(s.quoteAll(s.t.Key)) + " = " + tuple(s.params(&b, len(s.t.Key))) + ")"
	}
	return "SELECT count(*), coalesce(sum(r.dw_same), 0), " + boundSeen + " FROM (" + s.roundTripSQL(lower, upper) + ") AS r"
}

// roundTripDetailSQL returns the query of one range's old rows that the
// client compares (dw_same = 0), in key order, with roundTripSQL's columns
// but dw_same.
func (s tableSQL) roundTripDetailSQL(lower, upper bool) string {
	cols := s.aliases("r.")
	for i := range s.t.Reverse {
		cols = append(cols, "r."+valueAlias(i), "r."+newAlias(i))
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM (" + s.roundTripSQL(lower, upper) + ") AS r WHERE r.dw_same = 0 ORDER BY " +
		strings.Join(s.aliases("r."), ", ")
}
