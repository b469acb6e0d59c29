package dualwrite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite/internal/control"
	"github.com/dualwrite/dualwrite/mapping"
	"github.com/dualwrite/dualwrite/rewrite"
)

// Status is what [Handler] reports: the phases in force, what decided
// them, the overrides, the fleet's shared phases, and dualwrite's counters.
type Status struct {
	WritePhase    mapping.WritePhase `json:"write_phase"`
	ReadPhase     mapping.ReadPhase  `json:"read_phase"`
	WriteOverride mapping.WritePhase `json:"write_override,omitempty"`
	ReadOverride  mapping.ReadPhase  `json:"read_override,omitempty"`
	// WriteDecidedBy and ReadDecidedBy say what decided each phase:
	// "override", "environment", "control table" (the fleet's shared
	// phases; "control table, capped: ..." for a process that runs another
	// mapping than the fleet), or "mapping file".
	WriteDecidedBy string `json:"write_decided_by"`
	ReadDecidedBy  string `json:"read_decided_by"`
	// Shared is the fleet's shared phases as the process last read them,
	// when its connector shares them ([WithSharedPhases]).
	Shared *SharedStatus `json:"shared,omitempty"`
	// Counters maps each dualwrite counter series, written as
	// name{label="value",...}, to its value.
	Counters map[string]float64 `json:"counters,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// SharedStatus is a fleet's shared phases as a process last read them.
type SharedStatus struct {
	Fleet      string             `json:"fleet"`
	WritePhase mapping.WritePhase `json:"write_phase"`
	ReadPhase  mapping.ReadPhase  `json:"read_phase"`
	Version    int64              `json:"version"` // 0: the fleet has none
	ReadAt     time.Time          `json:"read_at"`
}

// PhaseChange is the body of a POST to [Handler]. With Scope "process"
// (or none), each field that is set sets that override of the Switch, for
// this process; the value "default" removes it. With Scope "fleet", the
// fields set change the fleet's shared phases ([WithSharedPhases]), as
// `dualwrite phase set` does.
type PhaseChange struct {
	Write string `json:"write,omitempty"`
	Read  string `json:"read,omitempty"`
	Scope string `json:"scope,omitempty"`
}

// HandlerOption configures [Handler].
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	authorize func(*http.Request) error
	db        *sql.DB
}

// WithHandlerDB gives [Handler] the application's database (opened
// through dualwrite or with the base driver), where it checks a phase
// change as `dualwrite phase set` does: the backfill and the recorded
// verify of every mapped table, and the fleet's processes. Without it the
// handler refuses every change that moves reads off the old tables or
// writes to both or off, since it cannot check them.
func WithHandlerDB(db *sql.DB) HandlerOption {
	return func(c *handlerConfig) { c.db = db }
}

// WithAuthorize makes [Handler] accept phase changes from the requests f
// authorizes: f returns nil to allow a POST, or an error, which the handler
// answers with 403 and the error's text. f is called before the body is
// read, by many goroutines at once. Without it, or with a nil f, every
// POST is refused with 403; GET is never passed to f.
func WithAuthorize(f func(*http.Request) error) HandlerOption {
	return func(c *handlerConfig) { c.authorize = f }
}

// maxChangeBody bounds the body of a POST to [Handler].
const maxChangeBody = 1 << 16

// Handler returns an http.Handler for operators. GET returns the [Status] as
// JSON, to anyone who reaches the handler. POST with a JSON [PhaseChange]
// sets or clears the overrides of sw (for every connector that shares it),
// or changes the fleet's shared phases, and returns the new status. A
// change is made only when it is safe, by the checks of `dualwrite phase
// set`, against the database given with [WithHandlerDB]: reads leave old,
// and writes go both, only when every live process of the fleet mirrors
// writes with this mapping and every table's last recorded verify, made
// after its backfill was done, found no difference; writes stop mirroring
// only when no live process reads the new tables or writes both. A POST is accepted only from a request that
// the function given with [WithAuthorize] authorizes (403 otherwise, and
// always without one), only with Content-Type application/json (415
// otherwise), and only with a body that is exactly one JSON object of the
// fields of PhaseChange, each at most once, given as strings (400
// otherwise, and 400 with the reasons when a value is invalid or the
// change unsafe; refusals are counted in dualwrite_transitions_refused_total):
// a browser's cross-site form cannot change a phase. m supplies the
// mapping file's default phases; g, when not nil, supplies the counters
// (the registry given to [WithRegisterer]).
func Handler(sw *Switch, m *mapping.Mapping, g prometheus.Gatherer, opts ...HandlerOption) http.Handler {
	var cfg handlerConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusOK
		var problem string
		switch r.Method {
		case http.MethodGet:
		case http.MethodPost:
			code, problem = change(w, r, cfg, sw, m)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
			return
		}
		st := status(sw, m, g)
		st.Error = problem
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(code)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	})
}

// change authorizes, reads and applies a POST; it returns the status code
// and, on refusal, why.
func change(w http.ResponseWriter, r *http.Request, cfg handlerConfig, sw *Switch, m *mapping.Mapping) (int, string) {
	if cfg.authorize == nil {
		return http.StatusForbidden, "phase changes are refused: the handler has no authorization (dualwrite.WithAuthorize)"
	}
	if err := cfg.authorize(r); err != nil {
		return http.StatusForbidden, "not authorized: " + err.Error()
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return http.StatusUnsupportedMediaType, "send the body with Content-Type: application/json"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxChangeBody))
	if err != nil {
		return http.StatusBadRequest, "body: " + err.Error()
	}
	ch, err := decodeChange(body)
	if err != nil {
		return http.StatusBadRequest, "body: " + err.Error() + `; send {"write": "off|dual|both|default", "read": "old|compare|new|default"}`
	}
	if err := applyChange(r.Context(), sw, m, cfg.db, ch); err != nil {
		var refused *control.RefusedError
		if errors.As(err, &refused) || errors.Is(err, errUnsafePhases) {
			sw.metrics.TransitionRefused()
		}
		return http.StatusBadRequest, err.Error()
	}
	return http.StatusOK, ""
}

// decodeChange decodes a PhaseChange strictly: one JSON object, nothing
// after it, only the fields "write" and "read" spelled exactly so, each at
// most once and a string.
func decodeChange(body []byte) (PhaseChange, error) {
	var ch PhaseChange
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ch, errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ch, err
		}
		key, _ := t.(string)
		var dst *string
		switch key {
		case "write":
			dst = &ch.Write
		case "read":
			dst = &ch.Read
		case "scope":
			dst = &ch.Scope
		default:
			return ch, fmt.Errorf("unknown field %q", key)
		}
		if seen[key] {
			return ch, fmt.Errorf("duplicate field %q", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return ch, err
		}
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, dst) != nil {
			return ch, fmt.Errorf("field %q is not a string", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return ch, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ch, errors.New("data after the JSON object")
	}
	// The same body through the standard decoder, as a second reading.
	strict := json.NewDecoder(bytes.NewReader(body))
	strict.DisallowUnknownFields()
	var again PhaseChange
	if err := strict.Decode(&again); err != nil {
		return ch, fmt.Errorf("not a PhaseChange: %w", err)
	}
	if again != ch {
		return ch, errors.New("not a PhaseChange")
	}
	return ch, nil
}

// applyChange checks the whole change, against db when not nil, before it
// applies any of it.
func applyChange(ctx context.Context, sw *Switch, m *mapping.Mapping, db *sql.DB, ch PhaseChange) error {
	switch ch.Scope {
	case "", "process":
	case "fleet":
		return applyFleetChange(ctx, sw, m, db, ch)
	default:
		return fmt.Errorf("scope %q: use process or fleet", ch.Scope)
	}
	write, read := sw.Write(m.Phases.Write), sw.Read(m.Phases)
	switch ch.Write {
	case "":
	case "default":
		write = sw.writeDefault(m.Phases.Write)
	default:
		p, err := mapping.ParseWritePhase(ch.Write)
		if err != nil {
			return err
		}
		write = p
	}
	switch ch.Read {
	case "":
	case "default":
		read = sw.readDefault(m.Phases)
	default:
		p, err := mapping.ParseReadPhase(ch.Read)
		if err != nil {
			return err
		}
		read = p
	}
	if write == mapping.WriteOff && read != mapping.ReadOld && ch.Read != "default" {
		return errUnsafePhases
	}
	to := mapping.Phases{Write: write, Read: read}
	if err := checkChange(ctx, sw, m, db, to); err != nil {
		return err
	}
	switch ch.Write {
	case "":
	case "default":
		sw.ClearWrite()
	default:
		if err := sw.SetWrite(write); err != nil {
			return err
		}
	}
	switch ch.Read {
	case "":
	case "default":
		sw.ClearRead()
	default:
		return sw.SetRead(read, m.Phases.Write)
	}
	return nil
}

// checkChange checks that this process may run the phases to, by the
// rules of control.Refusals, against db; this process's own record does
// not count, since the change replaces its phases.
func checkChange(ctx context.Context, sw *Switch, m *mapping.Mapping, db *sql.DB, to mapping.Phases) error {
	from := mapping.Phases{Write: sw.Write(m.Phases.Write), Read: sw.Read(m.Phases)}
	if to == from || (to.Read == mapping.ReadOld && to.Write != mapping.WriteBoth && to.Write.Mirrors()) {
		return nil // no change, or one back to reading old with writes mirrored
	}
	if db == nil {
		return &control.RefusedError{From: from, To: to, Reasons: []string{
			"the handler cannot check the change (the backfill, the verify, what the fleet's processes run) without the database: give it dualwrite.WithHandlerDB"}}
	}
	d, err := handlerDialect(db, m)
	if err != nil {
		return err
	}
	fleet, self := "", ""
	if st := sw.shared.Load(); st != nil {
		fleet, self = st.fleet, st.self
	}
	f, err := control.New(d).ReadFacts(ctx, db, m, fleet)
	if err != nil {
		return fmt.Errorf("checking the change: %w", err)
	}
	f.Processes = slices.DeleteFunc(f.Processes, func(p control.Process) bool { return p.ID == self })
	if reasons := control.Refusals(f, to); len(reasons) > 0 {
		return &control.RefusedError{From: from, To: to, Reasons: reasons}
	}
	return nil
}

// applyFleetChange changes the fleet's shared phases, as `dualwrite phase
// set` does.
func applyFleetChange(ctx context.Context, sw *Switch, m *mapping.Mapping, db *sql.DB, ch PhaseChange) error {
	st := sw.shared.Load()
	if st == nil || db == nil {
		return errors.New(`scope "fleet" needs a connector that shares its phases (dualwrite.WithSharedPhases) and the database (dualwrite.WithHandlerDB)`)
	}
	d, err := handlerDialect(db, m)
	if err != nil {
		return err
	}
	s := control.New(d)
	cur, ok, err := s.ReadPhases(ctx, db, st.fleet)
	if err != nil {
		return err
	}
	to := m.Phases
	if ok {
		to = cur.Phases
	}
	if ch.Write != "" {
		if to.Write, err = mapping.ParseWritePhase(ch.Write); err != nil {
			return err
		}
	}
	if ch.Read != "" {
		if to.Read, err = mapping.ParseReadPhase(ch.Read); err != nil {
			return err
		}
	}
	host, _ := os.Hostname()
	if _, err = s.Set(ctx, db, m, control.Change{Fleet: st.fleet, To: to, By: fmt.Sprintf("operator endpoint of %s pid %d", host, os.Getpid())}); err != nil {
		return err
	}
	if r := sw.refresher.Load(); r != nil {
		(*r)(ctx) // this process takes the change now; the others within their refresh
	}
	return nil
}

// handlerDialect is the dialect of db: the dualwrite driver's, else the
// mapping's or the one its base driver implies.
func handlerDialect(db *sql.DB, m *mapping.Mapping) (*rewrite.Dialect, error) {
	if drv, ok := db.Driver().(*Driver); ok {
		return drv.dialect, nil
	}
	return dialectFor(m, "", db.Driver())
}

func status(sw *Switch, m *mapping.Mapping, g prometheus.Gatherer) Status {
	st := Status{WritePhase: sw.Write(m.Phases.Write), ReadPhase: sw.Read(m.Phases)}
	st.WriteDecidedBy, st.ReadDecidedBy = sw.decidedBy()
	below := decidedMapping
	if sh := sw.shared.Load(); sh != nil {
		below = sh.by
		st.Shared = &SharedStatus{Fleet: sh.fleet, WritePhase: sh.phases.Write, ReadPhase: sh.phases.Read, Version: sh.version, ReadAt: sh.readAt.UTC()}
	}
	st.WriteDecidedBy, st.ReadDecidedBy = or(st.WriteDecidedBy, below), or(st.ReadDecidedBy, below)
	if p := sw.writeOverride.Load(); p != nil {
		st.WriteOverride = *p
	}
	if p := sw.readOverride.Load(); p != nil {
		st.ReadOverride = *p
	}
	if g == nil {
		return st
	}
	mfs, err := g.Gather()
	if err != nil {
		st.Error = "gathering metrics: " + err.Error()
		return st
	}
	st.Counters = map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "dualwrite_") || mf.GetType().String() != "COUNTER" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			var labels []string
			for _, lp := range mt.GetLabel() {
				labels = append(labels, lp.GetName()+`="`+lp.GetValue()+`"`)
			}
			sort.Strings(labels)
			st.Counters[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = mt.GetCounter().GetValue()
		}
	}
	return st
}
