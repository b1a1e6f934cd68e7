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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	ibtypes "github.com/aws/aws-sdk-go-v2/service/imagebuilder/types"
	"github.com/aws/smithy-go"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/eventbus"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/faults"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/imagepipeline"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/notify"
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
//	PUT    /_phoenix/alarms/{region}/{name} {"state": "OK"|"ALARM"|"INSUFFICIENT_DATA", "reason": "..."}
//	POST   /_phoenix/images                {"region", "name", "ownerId", "architecture", "tags", "available"}: an image of any account
//	POST   /_phoenix/imagebuilder/builds   {"region", "name", "version", "tags", "amiTags", "failAt", "failReason"}: publish an image build
//	GET    /_phoenix/sns/messages?topicArn=ARN     messages published to a topic
//	GET    /_phoenix/lambda/logs?function=NAME&region=R  a function's log text
//	GET    /_phoenix/eventbridge/deliveries        every delivery attempt to a target
//	PUT    /_phoenix/eventbridge/chaos     {"rule": "" (all), "drop", "duplicate", "delay", "maxDelaySeconds"}
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
	mux.HandleFunc("POST "+AdminPrefix+"images", c.adminAddImage)
	mux.HandleFunc("POST "+AdminPrefix+"imagebuilder/builds", c.adminPublishBuild)
	mux.HandleFunc("GET "+AdminPrefix+"sns/messages", c.adminMessages)
	mux.HandleFunc("GET "+AdminPrefix+"lambda/logs", c.adminLogs)
	mux.HandleFunc("GET "+AdminPrefix+"eventbridge/deliveries", c.adminDeliveries)
	mux.HandleFunc("PUT "+AdminPrefix+"eventbridge/chaos", c.adminChaos)
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
			"PUT " + AdminPrefix + "alarms/{region}/{name} {\"state\": \"ALARM\", \"reason\": \"...\"}",
			"POST " + AdminPrefix + "images {\"region\", \"name\", \"ownerId\", \"architecture\", \"tags\", \"available\"}",
			"POST " + AdminPrefix + "imagebuilder/builds {\"region\", \"name\", \"version\", \"tags\", \"amiTags\", \"failAt\", \"failReason\"}",
			"GET " + AdminPrefix + "sns/messages?topicArn=ARN",
			"GET " + AdminPrefix + "lambda/logs?function=NAME&region=REGION",
			"GET " + AdminPrefix + "eventbridge/deliveries",
			"PUT " + AdminPrefix + "eventbridge/chaos {\"rule\", \"drop\", \"duplicate\", \"delay\", \"maxDelaySeconds\"}",
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
		State  string `json:"state"`
		Reason string `json:"reason"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	region, name := r.PathValue("region"), r.PathValue("name")
	if req.Reason == "" {
		req.Reason = "Set through the local cloud admin API"
	}
	ctx := api.WithRequest(r.Context(), api.Request{Region: region, Account: c.World.Account(), Service: "monitoring", Operation: "SetAlarmState"})
	_, err := c.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(name), StateValue: cwtypes.StateValue(req.State), StateReason: aws.String(req.Reason),
	})
	if err != nil {
		adminAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"region": region, "alarm": name, "state": req.State})
}

func (c *Cloud) adminAddImage(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Region       string            `json:"region"`
		Name         string            `json:"name"`
		OwnerID      string            `json:"ownerId"`
		Architecture string            `json:"architecture"`
		Description  string            `json:"description"`
		Tags         map[string]string `json:"tags"`
		Available    bool              `json:"available"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	id, err := c.World.AddImage(orRegion(req.Region), sim.ImageSpec{Name: req.Name, OwnerID: req.OwnerID,
		Architecture: req.Architecture, Description: req.Description, Tags: req.Tags, Available: req.Available})
	if err != nil {
		adminAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"imageId": id})
}

func (c *Cloud) adminPublishBuild(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Region     string            `json:"region"`
		Name       string            `json:"name"`
		Version    string            `json:"version"`
		Tags       map[string]string `json:"tags"`
		AMITags    map[string]string `json:"amiTags"`
		FailAt     string            `json:"failAt"`
		FailReason string            `json:"failReason"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	arn, err := c.ImageBuilder.Publish(imagepipeline.BuildSpec{Region: orRegion(req.Region), Name: req.Name, Version: req.Version,
		Tags: req.Tags, AMITags: req.AMITags, FailAt: ibtypes.ImageStatus(req.FailAt), FailReason: req.FailReason})
	if err != nil {
		adminAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"imageBuildVersionArn": arn})
}

func (c *Cloud) adminMessages(w http.ResponseWriter, r *http.Request) {
	topic := r.URL.Query().Get("topicArn")
	if topic == "" {
		adminError(w, http.StatusBadRequest, "ValidationError", "topicArn is required")
		return
	}
	msgs := c.SNS.Messages(topic)
	if msgs == nil {
		msgs = []notify.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
}

func (c *Cloud) adminLogs(w http.ResponseWriter, r *http.Request) {
	fn := r.URL.Query().Get("function")
	if fn == "" {
		adminError(w, http.StatusBadRequest, "ValidationError", "function is required")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"function": fn, "log": c.Lambda.LogText(orRegion(r.URL.Query().Get("region")), fn)})
}

func (c *Cloud) adminDeliveries(w http.ResponseWriter, _ *http.Request) {
	d := c.EventBridge.Deliveries()
	if d == nil {
		d = []eventbus.Delivery{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": d})
}

func (c *Cloud) adminChaos(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Rule            string  `json:"rule"`
		Drop            float64 `json:"drop"`
		Duplicate       float64 `json:"duplicate"`
		Delay           float64 `json:"delay"`
		MaxDelaySeconds float64 `json:"maxDelaySeconds"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	err := c.EventBridge.SetChaos(req.Rule, eventbus.Chaos{Drop: req.Drop, Duplicate: req.Duplicate, Delay: req.Delay,
		MaxDelay: time.Duration(req.MaxDelaySeconds * float64(time.Second))})
	if err != nil {
		adminError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, req)
}

func orRegion(r string) string {
	if r == "" {
		return api.DefaultRegion
	}
	return r
}

// adminAPIError answers a model's error: its AWS code and status when it
// is an *api.Error, else 400 with the message.
func adminAPIError(w http.ResponseWriter, err error) {
	var ae *api.Error
	if errors.As(err, &ae) {
		adminError(w, ae.HTTPStatus(), ae.Code, ae.Message)
		return
	}
	var sa smithy.APIError
	if errors.As(err, &sa) {
		adminError(w, http.StatusBadRequest, sa.ErrorCode(), sa.ErrorMessage())
		return
	}
	adminError(w, http.StatusBadRequest, "ValidationError", err.Error())
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
