package control

import (
	"context"
	"time"
)

// Process is the record a process keeps of itself in the processes table.
type Process struct {
	ID      string // unique per connector: host, pid and a random suffix
	Fleet   string
	Host    string
	PID     int64
	Version string // the program's version, as its build info gives it
	Digest  string // the digest of its mapping
	// Write and Read are the phases it runs now (Read followed by
	// "+<phase>:<percent>%" while a read share sends that share of its
	// queries to another phase), DecidedBy what decided
	// each, as "write: X; read: Y", X and Y one of "override",
	// "environment", "control table", "mapping file" (the fleet has no
	// shared phases yet) or, for a process whose mapping is not the one
	// the shared phases were set with, "control table, capped: this
	// process runs another mapping".
	Write, Read string
	DecidedBy   string
	// PhasesVersion is the version of the shared phases it last read (0:
	// none), PhasesReadAt when it last read them, by the process's own
	// clock (the one time in the control tables that is not the
	// database's).
	PhasesVersion int64
	PhasesReadAt  time.Time
	// Refresh is how often it reads the shared phases; it writes this
	// record every HeartbeatEvery refreshes, and at once when its phases
	// change.
	Refresh  time.Duration
	Started  time.Time
	LastSeen time.Time

	// Age is how long ago it was last seen, by the database's clock, and
	// Stale whether that is longer than it promised; set by [Store.Fleet].
	Age   time.Duration
	Stale bool
}

// HeartbeatEvery is how many refreshes of the shared phases a process lets
// pass between two writes of its record.
const HeartbeatEvery = 5

// StaleAfter is how long after its last write a process's record is stale,
// given its refresh interval: three missed heartbeats and a refresh.
func StaleAfter(refresh time.Duration) time.Duration {
	return 3*HeartbeatEvery*refresh + refresh
}

// AgedOutAfter is how long after its last write a process's record is
// deleted, given its refresh interval.
func AgedOutAfter(refresh time.Duration) time.Duration {
	return agedOutRefreshes * refresh
}

// agedOutRefreshes is AgedOutAfter in refresh intervals.
const agedOutRefreshes = 30 * HeartbeatEvery

var processCols = []string{"fleet", "host", "pid", "version", "mapping_digest", "write_phase", "read_phase", "decided_by",
	"phases_version", "phases_read_at", "refresh_ms"}

// Heartbeat writes p's record (started_at only when it is new) and
// last_seen, and deletes the records of its fleet that aged out.
func (s *Store) Heartbeat(ctx context.Context, q Querier, p Process) error {
	cols := append([]string{"id"}, processCols...)
	update := []string{s.q("last_seen")}
	for _, c := range processCols {
		update = append(update, s.q(c))
	}
	now := s.sp.now
	_, err := q.ExecContext(ctx, "INSERT INTO "+s.q(ProcessesTable)+" ("+s.list(cols...)+", "+s.list("started_at", "last_seen")+") VALUES ("+
		s.params(1, len(cols))+", "+now+", "+now+")"+s.sp.upsert(s.q("id"), update),
		p.ID, p.Fleet, p.Host, p.PID, p.Version, p.Digest, p.Write, p.Read, p.DecidedBy,
		p.PhasesVersion, p.PhasesReadAt.UnixMilli(), p.Refresh.Milliseconds())
	if err != nil {
		return s.missing(ctx, q, ProcessesTable, err)
	}
	_, err = q.ExecContext(ctx, "DELETE FROM "+s.q(ProcessesTable)+" WHERE "+s.q("fleet")+" = "+s.d.Placeholder(1)+
		" AND "+s.q("last_seen")+" < "+now+" - "+s.q("refresh_ms")+" * "+s.d.Placeholder(2), p.Fleet, agedOutRefreshes)
	return err
}

// Leave deletes p's record: the process stops.
func (s *Store) Leave(ctx context.Context, q Querier, id string) error {
	_, err := q.ExecContext(ctx, "DELETE FROM "+s.q(ProcessesTable)+" WHERE "+s.q("id")+" = "+s.d.Placeholder(1), id)
	return err
}

// Fleet returns the records of fleet's processes, ordered by host and pid,
// with their age and staleness by the database's clock; none when the
// table does not exist.
func (s *Store) Fleet(ctx context.Context, q Querier, fleet string) ([]Process, error) {
	rows, err := s.query(ctx, q, ProcessesTable, "SELECT "+s.list(append([]string{"id"}, processCols...)...)+", "+s.list("started_at", "last_seen")+", "+s.sp.now+
		" FROM "+s.q(ProcessesTable)+" WHERE "+s.q("fleet")+" = "+s.d.Placeholder(1)+" ORDER BY "+s.list("host", "pid", "id"), fleet)
	if err != nil || rows == nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []Process
	for rows.Next() {
		var p Process
		var readAt, refresh, started, seen, now int64
		if err := rows.Scan(&p.ID, &p.Fleet, &p.Host, &p.PID, &p.Version, &p.Digest, &p.Write, &p.Read, &p.DecidedBy,
			&p.PhasesVersion, &readAt, &refresh, &started, &seen, &now); err != nil {
			return nil, err
		}
		p.PhasesReadAt, p.Started, p.LastSeen = millis(readAt), millis(started), millis(seen)
		p.Refresh = time.Duration(refresh) * time.Millisecond
		p.Age = time.Duration(now-seen) * time.Millisecond
		p.Stale = p.Age > StaleAfter(p.Refresh)
		out = append(out, p)
	}
	return out, rows.Err()
}
