package localcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/sim"
)

// The admin API, under AdminPrefix. Every answer is JSON; errors are
// {"error": code, "message": text} with a 4xx status.
//
//	GET    /_phoenix/                      index of these endpoints
//	GET    /_phoenix/clock                 now, mode, speed, the next pending events
//	POST   /_phoenix/clock/advance         {"seconds": N} or {"until": RFC 3339}; stepped mode only
//	GET    /_phoenix/state                 every region's groups, instances, refreshes, images, templates, target groups
//	GET    /_phoenix/events?since=N        service events from index N on, and the next index
//	GET    /_phoenix/faults                active fault rules with their counters
//	POST   /_phoenix/faults                add a rule (faults.Rule as JSON); answers its id
//	DELETE /_phoenix/faults                remove every rule
//	DELETE /_phoenix/faults/{id}           remove one rule
//	PUT    /_phoenix/alarms/{region}/{name} {"state": "OK"|"ALARM"|"INSUFFICIENT_DATA"}
func (c *Cloud) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+AdminPrefix+"{$}", c.adminIndex)
	mux.HandleFunc("GET "+AdminPrefix+"clock", c.adminClock)
	mux.HandleFunc("POST "+AdminPrefix+"clock/advance", c.adminAdvance)
	mux.HandleFunc("GET "+AdminPrefix+"state", c.adminState)
	mux.HandleFunc("GET "+AdminPrefix+"events", c.adminEvents)
	mux.HandleFunc("GET "+AdminPrefix+"faults", c.adminFaults)
	mux.HandleFunc("POST "+AdminPrefix+"faults", c.adminAddFault)
	mux.HandleFunc("DELETE "+AdminPrefix+"faults", c.adminClearFaults)
	mux.HandleFunc("DELETE "+AdminPrefix+"faults/{id}", c.adminRemoveFault)
	mux.HandleFunc("PUT "+AdminPrefix+"alarms/{region}/{name}", c.adminSetAlarm)
	mux.HandleFunc(AdminPrefix, func(w http.ResponseWriter, r *http.Request) {
		adminError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no admin endpoint %s %s; GET %s lists them", r.Method, r.URL.Path, AdminPrefix))
	})
	return mux
}

func (c *Cloud) adminIndex(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"service": "phoenix local cloud",
		"endpoints": []string{
			"GET " + AdminPrefix + "clock",
			"POST " + AdminPrefix + "clock/advance {\"seconds\": N} | {\"until\": \"RFC3339\"}",
			"GET " + AdminPrefix + "state",
			"GET " + AdminPrefix + "events?since=N",
			"GET|POST|DELETE " + AdminPrefix + "faults",
			"DELETE " + AdminPrefix + "faults/{id}",
			"PUT " + AdminPrefix + "alarms/{region}/{name} {\"state\": \"ALARM\"}",
		},
	})
}

type clockView struct {
	Now     time.Time      `json:"now"`
	Mode    string         `json:"mode"`
	Speed   float64        `json:"speed,omitempty"`
	Pending []clockPending `json:"pending"`
	Total   int            `json:"pendingTotal"`
}

type clockPending struct {
	At   time.Time `json:"at"`
	Name string    `json:"name"`
}

func (c *Cloud) clockView() clockView {
	v := clockView{Now: c.Clock.Now(), Mode: "stepped"}
	if !c.Clock.Stepped() {
		v.Mode, v.Speed = "realtime", c.opts.Speed
	}
	pending := c.Clock.Pending()
	v.Total = len(pending)
	for i, p := range pending {
		if i == 50 {
			break
		}
		v.Pending = append(v.Pending, clockPending(p))
	}
	return v
}

func (c *Cloud) adminClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, c.clockView())
}

func (c *Cloud) adminAdvance(w http.ResponseWriter, r *http.Request) {
	if !c.Clock.Stepped() {
		adminError(w, http.StatusConflict, "RealtimeMode", "the clock runs in real time; start the local cloud with -stepped to advance it by hand")
		return
	}
	var req struct {
		Seconds *float64 `json:"seconds"`
		Until   string   `json:"until"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	now := c.Clock.Now()
	var target time.Time
	switch {
	case req.Seconds != nil && req.Until != "":
		adminError(w, http.StatusBadRequest, "ValidationError", "give seconds or until, not both")
		return
	case req.Seconds != nil:
		if *req.Seconds < 0 || *req.Seconds > 366*24*3600 {
			adminError(w, http.StatusBadRequest, "ValidationError", "seconds must be within 0..31622400")
			return
		}
		target = now.Add(time.Duration(*req.Seconds * float64(time.Second)))
	case req.Until != "":
		t, err := time.Parse(time.RFC3339, req.Until)
		if err != nil {
			adminError(w, http.StatusBadRequest, "ValidationError", "until must be an RFC 3339 instant: "+err.Error())
			return
		}
		if t.Before(now) {
			adminError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("until %s is before now %s; the clock never goes back", t.Format(time.RFC3339), now.Format(time.RFC3339)))
			return
		}
		target = t
	default:
		adminError(w, http.StatusBadRequest, "ValidationError", "give seconds or until")
		return
	}
	n := c.Clock.AdvanceTo(target)
	writeJSON(w, http.StatusOK, map[string]any{"now": c.Clock.Now(), "eventsRun": n})
}

func (c *Cloud) adminState(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"clock":   c.clockView(),
		"regions": c.World.Snapshot(),
	})
}

func (c *Cloud) adminEvents(w http.ResponseWriter, r *http.Request) {
	since := 0
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			adminError(w, http.StatusBadRequest, "ValidationError", "since must be a non-negative integer")
			return
		}
		since = n
	}
	all := c.World.Events()
	if since > len(all) {
		since = len(all)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": nonNil(all[since:]), "next": len(all)})
}

func nonNil(evs []sim.Event) []sim.Event {
	if evs == nil {
		return []sim.Event{}
	}
	return evs
}

func (c *Cloud) adminFaults(w http.ResponseWriter, _ *http.Request) {
	rules := c.Faults.Rules()
	if rules == nil {
		rules = []faults.Rule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"faults": rules})
}

func (c *Cloud) adminAddFault(w http.ResponseWriter, r *http.Request) {
	var rule faults.Rule
	if !readJSON(w, r, &rule) {
		return
	}
	id, err := c.Faults.Add(rule)
	if err != nil {
		adminError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": id})
}

func (c *Cloud) adminClearFaults(w http.ResponseWriter, _ *http.Request) {
	c.Faults.Clear()
	writeJSON(w, http.StatusOK, map[string]any{"faults": []faults.Rule{}})
}

func (c *Cloud) adminRemoveFault(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !c.Faults.Remove(id) {
		adminError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no fault with id %q", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"removed": id})
}

func (c *Cloud) adminSetAlarm(w http.ResponseWriter, r *http.Request) {
	var req struct {
		State string `json:"state"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	switch req.State {
	case sim.AlarmOK, sim.AlarmAlarm, sim.AlarmInsufficientData:
	default:
		adminError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("state must be OK, ALARM or INSUFFICIENT_DATA, got %q", req.State))
		return
	}
	table, ok := c.World.Alarms.(*sim.AlarmTable)
	if !ok {
		adminError(w, http.StatusConflict, "NotSupported", "alarms are evaluated by the CloudWatch model; use cloudwatch set-alarm-state")
		return
	}
	region, name := r.PathValue("region"), r.PathValue("name")
	table.Set(region, name, req.State)
	writeJSON(w, http.StatusOK, map[string]any{"region": region, "alarm": name, "state": req.State})
}

// readJSON decodes a small JSON request body, answering 400 on failure.
func readJSON(w http.ResponseWriter, r *http.Request, into any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		msg := err.Error()
		if errors.Is(err, io.EOF) {
			msg = "the request needs a JSON body"
		}
		adminError(w, http.StatusBadRequest, "ValidationError", "bad JSON body: "+strings.TrimPrefix(msg, "json: "))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func adminError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}
