package dualwrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dualwrite/dualwrite/mapping"
)

// Status is what [Handler] reports: the phases in force, the overrides,
// and dualwrite's counters.
type Status struct {
	WritePhase    mapping.WritePhase `json:"write_phase"`
	ReadPhase     mapping.ReadPhase  `json:"read_phase"`
	WriteOverride mapping.WritePhase `json:"write_override,omitempty"`
	ReadOverride  mapping.ReadPhase  `json:"read_override,omitempty"`
	// Counters maps each dualwrite counter series, written as
	// name{label="value",...}, to its value.
	Counters map[string]float64 `json:"counters,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// PhaseChange is the body of a POST to [Handler]: each field that is set
// sets that override; the value "default" removes it.
type PhaseChange struct {
	Write string `json:"write,omitempty"`
	Read  string `json:"read,omitempty"`
}

// HandlerOption configures [Handler].
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	authorize func(*http.Request) error
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
// sets or clears the overrides of sw (for every connector that shares it)
// and returns the new status. A POST is accepted only from a request that
// the function given with [WithAuthorize] authorizes (403 otherwise, and
// always without one), only with Content-Type application/json (415
// otherwise), and only with a body that is exactly one JSON object of the
// fields of PhaseChange, each at most once, given as strings (400
// otherwise, and 400 with the reason when a value is invalid or unsafe):
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
	if err := applyChange(sw, m, ch); err != nil {
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

// applyChange checks the whole change before it applies any of it.
func applyChange(sw *Switch, m *mapping.Mapping, ch PhaseChange) error {
	write, read := sw.Write(m.Phases.Write), sw.Read(m.Phases)
	if ch.Write != "" && ch.Write != "default" {
		p, err := mapping.ParseWritePhase(ch.Write)
		if err != nil {
			return err
		}
		write = p
	} else if ch.Write == "default" {
		write = m.Phases.Write
	}
	if ch.Read != "" && ch.Read != "default" {
		p, err := mapping.ParseReadPhase(ch.Read)
		if err != nil {
			return err
		}
		read = p
	}
	if write == mapping.WriteOff && read != mapping.ReadOld && ch.Read != "default" {
		return errUnsafePhases
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

func status(sw *Switch, m *mapping.Mapping, g prometheus.Gatherer) Status {
	st := Status{WritePhase: sw.Write(m.Phases.Write), ReadPhase: sw.Read(m.Phases)}
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
