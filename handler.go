package dualwrite

import (
	"encoding/json"
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

// Handler returns an http.Handler for operators. GET returns the [Status] as
// JSON; POST with a JSON [PhaseChange] sets or clears the overrides of sw
// (for every connector that shares it) and returns the new status, or 400
// with the reason when a value is invalid or unsafe. m supplies the mapping
// file's default phases; g, when not nil, supplies the counters (the
// registry given to [WithRegisterer]). The handler does no authentication:
// mount it where only operators reach it.
func Handler(sw *Switch, m *mapping.Mapping, g prometheus.Gatherer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusOK
		var problem string
		switch r.Method {
		case http.MethodGet:
		case http.MethodPost:
			var ch PhaseChange
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&ch); err != nil {
				code, problem = http.StatusBadRequest, "body: "+err.Error()+`; send {"write": "off|dual|default", "read": "old|compare|new|default"}`
			} else if err := applyChange(sw, m, ch); err != nil {
				code, problem = http.StatusBadRequest, err.Error()
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
			return
		}
		st := status(sw, m, g)
		st.Error = problem
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	})
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
