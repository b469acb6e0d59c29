package control

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/dualwrite/dualwrite/mapping"
)

// Phases are a fleet's shared phases, as the last transition set them.
type Phases struct {
	mapping.Phases
	// Digest is the digest of the mapping the phases were set with
	// ([mapping.Mapping.Digest]).
	Digest string
	// Version counts the transitions: the first sets version 1.
	Version int64
	// ChangedAt is when, ChangedBy who.
	ChangedAt time.Time
	ChangedBy string
}

// Transition is one change of a fleet's shared phases.
type Transition struct {
	Version   int64
	ChangedAt time.Time
	ChangedBy string
	From, To  mapping.Phases
	Digest    string
	// Forced holds the reasons the checks gave against the change, when it
	// was made despite them; "" for a change the checks allowed.
	Forced string
}

var phaseCols = []string{"write_phase", "read_phase", "mapping_digest", "version", "changed_at", "changed_by"}

// ReadPhases returns fleet's shared phases, and false when it has none
// (also when the table does not exist).
func (s *Store) ReadPhases(ctx context.Context, q Querier, fleet string) (Phases, bool, error) {
	var p Phases
	var at int64
	err := q.QueryRowContext(ctx, "SELECT "+s.list(phaseCols...)+" FROM "+s.q(PhasesTable)+" WHERE "+s.q("fleet")+" = "+s.d.Placeholder(1), fleet).
		Scan(&p.Write, &p.Read, &p.Digest, &p.Version, &at, &p.ChangedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		err = s.missing(ctx, q, PhasesTable, err)
		if errors.Is(err, ErrNoTable) {
			return p, false, nil
		}
		return p, false, err
	}
	p.ChangedAt = millis(at)
	if p.Phases, err = parsePhases(string(p.Write), string(p.Read)); err != nil {
		return p, false, fmt.Errorf("%s, fleet %q: %w", PhasesTable, fleet, err)
	}
	return p, true, nil
}

// Operator names who runs a command, as a transition or a verify records
// it: user@host.
func Operator() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// Capped returns the phases a process runs when its mapping is not the one
// the fleet's shared phases p were set with: none that reads or writes the
// new tables on their own.
func Capped(p mapping.Phases) mapping.Phases {
	if p.Write == mapping.WriteBoth {
		p.Write = mapping.WriteDual
	}
	p.Read = mapping.ReadOld
	return p
}

// parsePhases parses a pair of phases as stored.
func parsePhases(write, read string) (mapping.Phases, error) {
	w, err := mapping.ParseWritePhase(write)
	if err != nil {
		return mapping.Phases{}, err
	}
	r, err := mapping.ParseReadPhase(read)
	return mapping.Phases{Write: w, Read: r}, err
}

// millis converts milliseconds since 1970 to a time in UTC.
func millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// ErrChanged is returned, wrapped, when the shared phases changed between
// the read a transition was checked against and its write.
var ErrChanged = errors.New("the shared phases changed meanwhile; check again")

// write records the transition from prev (version 0: none) to t.To in tx,
// as version t.Version, unless another transition was recorded since prev
// was read.
func (s *Store) write(ctx context.Context, tx *sql.Tx, fleet string, prev Phases, t Transition) error {
	now := s.sp.now
	ph := s.d.Placeholder
	var res sql.Result
	var err error
	if prev.Version == 0 {
		res, err = tx.ExecContext(ctx, "INSERT INTO "+s.q(PhasesTable)+" ("+s.q("fleet")+", "+s.list(phaseCols...)+") VALUES ("+
			s.params(1, 5)+", "+now+", "+ph(6)+")"+s.sp.keep(s.q("fleet")), fleet, t.To.Write, t.To.Read, t.Digest, t.Version, t.ChangedBy)
	} else {
		res, err = tx.ExecContext(ctx, "UPDATE "+s.q(PhasesTable)+" SET "+s.q("write_phase")+" = "+ph(1)+", "+s.q("read_phase")+" = "+ph(2)+", "+
			s.q("mapping_digest")+" = "+ph(3)+", "+s.q("version")+" = "+ph(4)+", "+s.q("changed_at")+" = "+now+", "+s.q("changed_by")+" = "+ph(5)+
			" WHERE "+s.q("fleet")+" = "+ph(6)+" AND "+s.q("version")+" = "+ph(7),
			t.To.Write, t.To.Read, t.Digest, t.Version, t.ChangedBy, fleet, prev.Version)
	}
	if err != nil {
		return err
	}
	// A first transition that lost to another inserted nothing.
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w (version %d is no longer the last)", ErrChanged, prev.Version)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO "+s.q(TransitionsTable)+" ("+
		s.list("fleet", "version", "changed_at", "changed_by", "from_write", "from_read", "to_write", "to_read", "mapping_digest", "forced")+
		") VALUES ("+ph(1)+", "+ph(2)+", "+now+", "+s.params(3, 7)+")",
		fleet, t.Version, t.ChangedBy, t.From.Write, t.From.Read, t.To.Write, t.To.Read, t.Digest, t.Forced)
	return err
}

// lastVersion returns the version of fleet's last recorded transition, 0
// for none: the phases row may be gone (dropped) while the transitions
// stay.
func (s *Store) lastVersion(ctx context.Context, q Querier, fleet string) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX("+s.q("version")+"), 0) FROM "+s.q(TransitionsTable)+" WHERE "+s.q("fleet")+" = "+s.d.Placeholder(1), fleet).Scan(&v)
	return v, err
}

// resumed returns when fleet's writes last went from off to mirrored, by
// its transitions; the zero time if never.
func (s *Store) resumed(ctx context.Context, q Querier, fleet string) (time.Time, error) {
	var at sql.NullInt64
	err := q.QueryRowContext(ctx, "SELECT MAX("+s.q("changed_at")+") FROM "+s.q(TransitionsTable)+" WHERE "+s.q("fleet")+" = "+s.d.Placeholder(1)+
		" AND "+s.q("from_write")+" = "+s.d.Placeholder(2)+" AND "+s.q("to_write")+" <> "+s.d.Placeholder(3), fleet, mapping.WriteOff, mapping.WriteOff).Scan(&at)
	if err != nil {
		if err = s.missing(ctx, q, TransitionsTable, err); errors.Is(err, ErrNoTable) {
			return time.Time{}, nil
		}
		return time.Time{}, err
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return millis(at.Int64), nil
}

// Transitions returns fleet's last n transitions (all when n <= 0), the
// newest first.
func (s *Store) Transitions(ctx context.Context, q Querier, fleet string, n int) ([]Transition, error) {
	query := "SELECT " + s.list("version", "changed_at", "changed_by", "from_write", "from_read", "to_write", "to_read", "mapping_digest", "forced") +
		" FROM " + s.q(TransitionsTable) + " WHERE " + s.q("fleet") + " = " + s.d.Placeholder(1) + " ORDER BY " + s.q("version") + " DESC"
	if n > 0 {
		query += fmt.Sprintf(" LIMIT %d", n)
	}
	rows, err := s.query(ctx, q, TransitionsTable, query, fleet)
	if err != nil || rows == nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []Transition
	for rows.Next() {
		var t Transition
		var at int64
		var fw, fr, tw, tr string
		if err := rows.Scan(&t.Version, &at, &t.ChangedBy, &fw, &fr, &tw, &tr, &t.Digest, &t.Forced); err != nil {
			return nil, err
		}
		t.ChangedAt = millis(at)
		t.From = mapping.Phases{Write: mapping.WritePhase(fw), Read: mapping.ReadPhase(fr)}
		t.To = mapping.Phases{Write: mapping.WritePhase(tw), Read: mapping.ReadPhase(tr)}
		out = append(out, t)
	}
	return out, rows.Err()
}
