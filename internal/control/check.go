package control

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/dualwrite/dualwrite/backfill"
	"github.com/dualwrite/dualwrite/mapping"
)

// VerifyRecord is the result of the last complete verify of one table.
type VerifyRecord struct {
	Table string
	// Digest is the digest of the table's mapping ([mapping.Table.Digest]).
	Digest string
	// Backfill is the table's backfill checkpoint as the verify found it
	// when it started ([BackfillStamp]): a later batch makes the record
	// stale.
	Backfill    string
	Compared    int64
	Differences int64
	// Started is when the verification began, by the database's clock
	// ([Store.Now]); Finished when it was recorded.
	Started  time.Time
	Finished time.Time
	By       string
}

// BackfillStamp identifies the state of a backfill checkpoint.
func BackfillStamp(cp backfill.Checkpoint) string {
	return fmt.Sprintf("done=%t rows=%d deleted=%d updated=%s", cp.Done, cp.Rows, cp.Deleted, cp.Updated.UTC().Format(time.RFC3339Nano))
}

var verifyCols = []string{"old_table", "mapping_digest", "backfill", "compared", "differences", "started_at", "verified_by"}

// RecordVerify records r as the last verify of its table; Finished is the
// database's clock.
func (s *Store) RecordVerify(ctx context.Context, q Querier, r VerifyRecord) error {
	var update []string
	for _, c := range append(verifyCols[1:len(verifyCols):len(verifyCols)], "finished_at") {
		update = append(update, s.q(c))
	}
	_, err := q.ExecContext(ctx, "INSERT INTO "+s.q(VerifyTable)+" ("+s.list(verifyCols...)+", "+s.q("finished_at")+") VALUES ("+
		s.params(1, len(verifyCols))+", "+s.sp.now+")"+s.sp.upsert(s.q("old_table"), update),
		r.Table, r.Digest, r.Backfill, r.Compared, r.Differences, r.Started.UnixMilli(), r.By)
	return err
}

// Verifies returns the last verify of each table that has one.
func (s *Store) Verifies(ctx context.Context, q Querier) (map[string]VerifyRecord, error) {
	rows, err := s.query(ctx, q, VerifyTable, "SELECT "+s.list(verifyCols...)+", "+s.q("finished_at")+" FROM "+s.q(VerifyTable))
	if err != nil || rows == nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := map[string]VerifyRecord{}
	for rows.Next() {
		var r VerifyRecord
		var started, at int64
		if err := rows.Scan(&r.Table, &r.Digest, &r.Backfill, &r.Compared, &r.Differences, &started, &r.By, &at); err != nil {
			return nil, err
		}
		r.Started, r.Finished = millis(started), millis(at)
		out[r.Table] = r
	}
	return out, rows.Err()
}

// Facts are what a transition of a fleet's phases is checked against.
type Facts struct {
	// Digest is the digest of the mapping the transition is made with.
	Digest string
	// Processes are the fleet's records.
	Processes []Process
	// Tables are the mapped pairs, in mapping order.
	Tables []TableFacts
	// Resumed is when the fleet's writes last went from off to mirrored
	// (its transitions); zero if never. Writes made while they were off
	// are in no new table: a verify must have begun after it.
	Resumed time.Time
}

// TableFacts are one mapped pair's backfill and verify.
type TableFacts struct {
	Map        *mapping.Table
	Checkpoint backfill.Checkpoint
	Verify     *VerifyRecord // nil: never verified
}

// ReadFacts reads the facts of fleet, whose mapping is m, in db.
func (s *Store) ReadFacts(ctx context.Context, db *sql.DB, m *mapping.Mapping, fleet string) (Facts, error) {
	f := Facts{Digest: m.Digest()}
	var err error
	if fleet != "" {
		if f.Processes, err = s.Fleet(ctx, db, fleet); err != nil {
			return f, err
		}
	}
	if fleet != "" {
		if f.Resumed, err = s.resumed(ctx, db, fleet); err != nil {
			return f, err
		}
	}
	verifies, err := s.Verifies(ctx, db)
	if err != nil {
		return f, err
	}
	for _, t := range m.Tables {
		cp, err := backfill.ReadCheckpoint(ctx, db, s.d, s.d.Compile(t), "")
		if err != nil {
			return f, err
		}
		tf := TableFacts{Map: t, Checkpoint: cp}
		if r, ok := verifies[t.Old]; ok {
			tf.Verify = &r
		}
		f.Tables = append(f.Tables, tf)
	}
	return f, nil
}

// Refusals returns why moving to the phases to is unsafe, none when it is
// safe:
//   - reads leave old, or writes go both (a release that reads and writes
//     the new tables), only when every live process mirrors writes with the
//     same mapping, and each table's last verify, begun after its
//     backfill's last batch and after the fleet's writes last went from
//     off to mirrored, with the same mapping, found no difference;
//   - writes stop mirroring only when no live process reads the new tables
//     or writes them (both).
//
// A stale process is not live: it has not written its record for three
// heartbeats.
func Refusals(f Facts, to mapping.Phases) []string {
	var out []string
	if to.Read != mapping.ReadOld && !to.Write.Mirrors() {
		out = append(out, fmt.Sprintf("read phase %s with write phase %s: the new tables do not follow the old ones while writes are not mirrored", to.Read, to.Write))
	}
	var live []Process
	for _, p := range f.Processes {
		if !p.Stale {
			live = append(live, p)
		}
	}
	if to.Read != mapping.ReadOld || to.Write == mapping.WriteBoth {
		why := fmt.Sprintf("read phase %s", to.Read)
		if to.Read == mapping.ReadOld {
			why = "write phase both"
		}
		for _, p := range live {
			if !mapping.WritePhase(p.Write).Mirrors() {
				out = append(out, fmt.Sprintf("%s needs every live process to mirror writes: %s writes %s (%s)", why, describe(p), p.Write, p.DecidedBy))
			}
			if p.Digest != f.Digest {
				out = append(out, fmt.Sprintf("%s needs every live process to run this mapping: %s runs another (digest %s, this one %s)", why, describe(p), p.Digest, f.Digest))
			}
		}
		for _, t := range f.Tables {
			if r := verified(t, f.Resumed); r != "" {
				out = append(out, why+" needs "+t.Map.Old+" backfilled and verified with no difference: "+r)
			}
		}
	}
	if !to.Write.Mirrors() {
		for _, p := range live {
			if p.Read != string(mapping.ReadOld) || p.Write == string(mapping.WriteBoth) {
				out = append(out, fmt.Sprintf("write phase %s needs every live process to read old and write old tables only: %s reads %s and writes %s (%s)",
					to.Write, describe(p), p.Read, p.Write, p.DecidedBy))
			}
		}
	}
	return out
}

// verified says what is missing for t to count as backfilled and verified,
// "" when nothing is; resumed is when the fleet's writes last went from off
// to mirrored.
func verified(t TableFacts, resumed time.Time) string {
	cp, r := t.Checkpoint, t.Verify
	switch {
	case cp.Updated.IsZero():
		return "it was never backfilled: run dualwrite backfill"
	case cp.MappingChanged:
		return "its backfill was made with another mapping: run dualwrite backfill --reset --table " + t.Map.Old
	case !cp.Done:
		return "its backfill is not done: run dualwrite backfill"
	case r == nil:
		return "it was never verified: run dualwrite verify"
	case r.Digest != t.Map.Digest():
		return "its last verify was made with another mapping: run dualwrite verify"
	case r.Backfill != BackfillStamp(cp):
		return "its last verify ran before its backfill's last batch: run dualwrite verify"
	case r.Started.Before(resumed):
		return fmt.Sprintf("its last verify began before the fleet's writes went from off to mirrored again (%s), and writes made while they were off are not in %s: run dualwrite backfill --reset --table %s, then dualwrite verify",
			resumed.Format(time.RFC3339), t.Map.New, t.Map.Old)
	case r.Differences > 0:
		return fmt.Sprintf("its last verify (%s) found %d %s: backfill again and verify", r.Finished.Format(time.RFC3339), r.Differences, plural(r.Differences, "difference", "differences"))
	}
	return ""
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describe names a process.
func describe(p Process) string {
	return fmt.Sprintf("process %d on %s (%s)", p.PID, p.Host, p.ID)
}

// Change is a transition asked for.
type Change struct {
	Fleet string
	To    mapping.Phases
	By    string
	// Force makes the change despite the checks; the reasons are recorded.
	Force bool
}

// RefusedError is a transition the checks refused.
type RefusedError struct {
	From, To mapping.Phases
	Reasons  []string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("moving from write %s, read %s to write %s, read %s is refused:\n  - %s",
		e.From.Write, e.From.Read, e.To.Write, e.To.Read, strings.Join(e.Reasons, "\n  - "))
}

// Set checks ch against the facts of its fleet in db, whose mapping is m,
// and records it: the fleet's shared phases, and the transition. It
// creates the control tables that are missing. A refused change returns a
// *RefusedError.
func (s *Store) Set(ctx context.Context, db *sql.DB, m *mapping.Mapping, ch Change) (Transition, error) {
	if err := s.Ensure(ctx, db); err != nil {
		return Transition{}, err
	}
	prev, ok, err := s.ReadPhases(ctx, db, ch.Fleet)
	if err != nil {
		return Transition{}, err
	}
	if !ok {
		prev.Phases = m.Phases
	}
	f, err := s.ReadFacts(ctx, db, m, ch.Fleet)
	if err != nil {
		return Transition{}, err
	}
	t := Transition{Version: prev.Version + 1, ChangedBy: ch.By, From: prev.Phases, To: ch.To, Digest: f.Digest}
	if !ok {
		last, err := s.lastVersion(ctx, db, ch.Fleet)
		if err != nil {
			return t, err
		}
		t.Version = last + 1
	}
	if reasons := Refusals(f, ch.To); len(reasons) > 0 {
		if !ch.Force {
			return t, &RefusedError{From: prev.Phases, To: ch.To, Reasons: reasons}
		}
		t.Forced = strings.Join(reasons, "; ")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return t, err
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.write(ctx, tx, ch.Fleet, prev, t); err != nil {
		return t, err
	}
	if err := tx.Commit(); err != nil {
		return t, err
	}
	return t, nil
}
