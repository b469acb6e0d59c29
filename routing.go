package dualwrite

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/dualwrite/dualwrite/mapping"
)

// ReadShareEnv is the environment variable that sends a share of queries to
// another read phase than the one in force: "<phase>:<percent>", such as
// "new:1" or "compare:12.5"; empty or unset for none. Like the phase
// variables it is read on every query.
const ReadShareEnv = "DUALWRITE_READ_SHARE"

// How a query's read phase was chosen, as dualwrite_read_routes_total
// counts it.
const (
	routeDefault = "default" // the Switch, the environment or the mapping file
	routeContext = "context" // WithReadPhase
	routeShare   = "share"   // a read share took the query
)

type ctxKey int

const (
	readPhaseKey ctxKey = iota
	routingKeyKey
)

// WithReadPhase returns a context whose queries through dualwrite run in
// read phase p, whatever the Switch, the environment and the mapping file
// say: a canary of the new tables on one request, or on one tenant's
// requests. As everywhere, compare and new are refused while the write
// phase is off, and such a query reads the old tables. A value that is not
// a read phase is an error naming the valid ones.
func WithReadPhase(ctx context.Context, p mapping.ReadPhase) (context.Context, error) {
	parsed, err := mapping.ParseReadPhase(string(p))
	if err != nil {
		return ctx, fmt.Errorf("dualwrite.WithReadPhase: %w", err)
	}
	return context.WithValue(ctx, readPhaseKey, parsed), nil
}

// WithRoutingKey returns a context whose queries take the same side of a
// read share ([Switch.SetReadShare], [ReadShareEnv]) whenever they carry
// the same key, in every process: a tenant's or a user's id. Without a key
// each query takes its side at random.
func WithRoutingKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, routingKeyKey, key)
}

// readShare sends percent of queries to phase.
type readShare struct {
	phase   mapping.ReadPhase
	percent float64
	text    string // as parsed, for the environment's cache
}

// parseReadShare parses "<phase>:<percent>".
func parseReadShare(raw string) (*readShare, error) {
	phase, pct, ok := strings.Cut(strings.TrimSpace(raw), ":")
	if !ok {
		return nil, fmt.Errorf("invalid read share %q: write <phase>:<percent>, such as new:1 or compare:12.5", raw)
	}
	p, err := mapping.ParseReadPhase(phase)
	if err != nil {
		return nil, fmt.Errorf("invalid read share %q: %w", raw, err)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if err != nil || !(f >= 0 && f <= 100) { // NaN too
		return nil, fmt.Errorf("invalid read share %q: the percent must be a number from 0 to 100", raw)
	}
	return &readShare{phase: p, percent: f, text: string(p) + ":" + strconv.FormatFloat(f, 'g', -1, 64)}, nil
}

// parseShareText parses a read share into its normal text.
func parseShareText(raw string) (string, error) {
	r, err := parseReadShare(raw)
	if err != nil {
		return "", err
	}
	return r.text, nil
}

// takes reports whether the share takes a query run with ctx: by the hash
// of its routing key, the same in every process, or at random.
func (r *readShare) takes(ctx context.Context) bool {
	if r.percent <= 0 {
		return false
	}
	if key, ok := ctx.Value(routingKeyKey).(string); ok {
		h := fnv.New64a()
		_, _ = h.Write([]byte(key))
		return float64(h.Sum64()%10000) < r.percent*100
	}
	return rand.Float64()*100 < r.percent
}

// SetReadShare sends percent (0 to 100) of the queries to read phase p and
// the rest to the read phase in force, for every connection of the
// connectors that share this Switch, until [Switch.ClearReadShare]; it
// takes precedence over [ReadShareEnv]. Queries that carry the same
// routing key ([WithRoutingKey]) take the same side.
func (s *Switch) SetReadShare(p mapping.ReadPhase, percent float64) error {
	r, err := parseReadShare(string(p) + ":" + strconv.FormatFloat(percent, 'g', -1, 64))
	if err != nil {
		return fmt.Errorf("dualwrite: Switch.SetReadShare: %w", err)
	}
	s.shareOverride.Store(r)
	return nil
}

// ClearReadShare removes the share SetReadShare set: the environment
// decides again.
func (s *Switch) ClearReadShare() { s.shareOverride.Store(nil) }

// share returns the read share in force, or nil.
func (s *Switch) share() *readShare {
	if r := s.shareOverride.Load(); r != nil {
		return r
	}
	text := s.env(&s.shareEnv, ReadShareEnv, parseShareText)
	if text == "" {
		return nil
	}
	if r := s.shareParsed.Load(); r != nil && r.text == text {
		return r
	}
	r, _ := parseReadShare(text) // valid: env parsed it
	s.shareParsed.Store(r)
	return r
}

// readFor returns the read phase of a query run with ctx, given the
// mapping file's defaults, and how it was chosen: the context's phase
// ([WithReadPhase]), else a read share that takes the query, else the
// phase in force ([Switch.Read]). Compare and new are refused while the
// write phase is off.
func (s *Switch) readFor(ctx context.Context, def mapping.Phases) (mapping.ReadPhase, string) {
	p, by := mapping.ReadPhase(""), routeDefault
	if cp, ok := ctx.Value(readPhaseKey).(mapping.ReadPhase); ok {
		p, by = cp, routeContext
	} else if r := s.share(); r != nil && r.takes(ctx) {
		p, by = r.phase, routeShare
	}
	if p == "" {
		return s.Read(def), by
	}
	return s.safeRead(p, def.Write), by
}
