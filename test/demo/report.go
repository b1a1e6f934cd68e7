package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is what the demo shows: the run, the stories' outcomes and
// figures, the timeline and the fleet over time. It is rendered as one
// self-contained HTML file whose data is also embedded as JSON
// (summaryID), so that a test can check what the page says.
type Report struct {
	Mode              string            `json:"mode"`
	Seed              uint64            `json:"seed"`
	Start             time.Time         `json:"start"`
	End               time.Time         `json:"end"`
	Endpoint          string            `json:"endpoint"`
	Region            string            `json:"region"`
	Deployed          string            `json:"deployed"`
	InstancesPerGroup int               `json:"instancesPerGroup"`
	Policy            map[string]string `json:"policy"`
	// Parameters are the stack parameters deployed other than the
	// template's defaults.
	Parameters map[string]string `json:"parameters"`
	// WallSetup is the wall time to start the cloud and deploy; WallSeconds
	// the whole run's (0 when not measured).
	WallSetup   float64       `json:"wallSetupSeconds"`
	WallSeconds float64       `json:"wallSeconds"`
	Versions    []Version     `json:"versions"`
	Stories     []*Story      `json:"stories"`
	Events      []Event       `json:"events"`
	Groups      []*GroupChart `json:"groups"`
	// Traffic is story 5's requests per minute by version, PairPolicy its
	// pair's phoenix:* tags besides enabled, role, pair, wave and alarms
	// (nil if the story was not told).
	Traffic    *TrafficChart     `json:"traffic,omitempty"`
	PairPolicy map[string]string `json:"pairPolicy,omitempty"`
	// Dashboard is the stack's dashboard filled by the run (nil if the
	// stories could not all be told).
	Dashboard *Dashboard `json:"dashboard,omitempty"`
}

// Version is an image the demo published.
type Version struct {
	Label    string `json:"label"`
	ImageID  string `json:"imageId"`
	Role     string `json:"role,omitempty"`
	Behavior string `json:"behavior"`
	What     string `json:"what"`
}

// Story is one story as it happened.
type Story struct {
	N       int       `json:"n"`
	Title   string    `json:"title"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Outcome says in words what happened, from what was read.
	Outcome string `json:"outcome"`
	// AsTold is true when every fact matches the story's claim.
	AsTold  bool     `json:"asTold"`
	Facts   []Fact   `json:"facts"`
	Result  *Outcome `json:"result,omitempty"`
	Figures Figures  `json:"figures"`
	// Commands are the operator's CLI runs during the story.
	Commands []OperatorView `json:"commands,omitempty"`
	// Operator is what `phoenix status` showed at the story's end.
	Operator *OperatorView `json:"operator,omitempty"`
}

// Fact is one thing read at a story's end, and whether it is what the
// story claims.
type Fact struct {
	What string `json:"what"`
	OK   bool   `json:"ok"`
}

func (s *Story) fact(ok bool, format string, args ...any) {
	s.Facts = append(s.Facts, Fact{What: fmt.Sprintf(format, args...), OK: ok})
}

func (s *Story) allOK() bool {
	for _, f := range s.Facts {
		if !f.OK {
			return false
		}
	}
	return len(s.Facts) > 0
}

// Figures are what a story cost.
type Figures struct {
	SimulatedSeconds float64        `json:"simulatedSeconds"`
	Transitions      int            `json:"stateTransitions"`
	Invocations      int            `json:"lambdaInvocations"`
	ByFunction       map[string]int `json:"lambdaInvocationsByFunction"`
	WallSeconds      float64        `json:"wallSeconds"`
}

// Outcome is what a story left behind, as read from AWS and the ledger.
type Outcome struct {
	// Campaign is the campaign execution's status.
	Campaign string           `json:"campaign,omitempty"`
	Rollouts []RolloutOutcome `json:"rollouts,omitempty"`
	// Fleet is each group's in-service instances by image label.
	Fleet map[string]map[string]int `json:"fleet"`
	// LastKnownGood is each group's last-known-good image label.
	LastKnownGood map[string]string `json:"lastKnownGood"`
	Alarm         *AlarmOutcome     `json:"alarm,omitempty"`
	Replaced      *ReplacedOutcome  `json:"replaced,omitempty"`
	Lifecycle     *LifecycleOutcome `json:"lifecycle,omitempty"`
	BlueGreen     *BlueGreenOutcome `json:"blueGreen,omitempty"`
}

func (o *Outcome) rollout(group string) *RolloutOutcome {
	for i := range o.Rollouts {
		if o.Rollouts[i].Group == group {
			return &o.Rollouts[i]
		}
	}
	return nil
}

// RolloutOutcome is one rollout as the ledger recorded it.
type RolloutOutcome struct {
	ID          string    `json:"id"`
	Group       string    `json:"group"`
	Mode        string    `json:"mode"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason,omitempty"`
	Trigger     string    `json:"trigger"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	FromVersion int64     `json:"fromVersion"`
	ToVersion   int64     `json:"toVersion"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
	RevertAt    time.Time `json:"revertAt,omitzero"`
	Signals     []string  `json:"signals"`
	// Strategy is "blue-green" for a pair's rollout; Steps are the keys
	// of its timeline, in order.
	Strategy string   `json:"strategy,omitempty"`
	Steps    []string `json:"steps"`
}

// AlarmOutcome is an alarm's change into ALARM.
type AlarmOutcome struct {
	Name   string    `json:"name"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// BlueGreenOutcome is what story 5 read of the pair: when the new group
// took its first step of traffic, when the guard alarm fired and when the
// switch-back put all the traffic back (the ledger's steps and the alarm's
// history), the listener's weights at the end (DescribeListeners), and what
// the new version was sent and answered (CloudWatch).
type BlueGreenOutcome struct {
	Pair         string        `json:"pair"`
	Live         string        `json:"live"`
	Idle         string        `json:"idle"`
	ShiftAt      time.Time     `json:"shiftAt,omitzero"`
	Alarm        *AlarmOutcome `json:"alarm,omitempty"`
	SwitchBackAt time.Time     `json:"switchBackAt,omitzero"`
	// AlarmToBackSeconds is the simulated time from the alarm's change
	// into ALARM to the switch-back.
	AlarmToBackSeconds float64        `json:"alarmToBackSeconds"`
	Weights            map[string]int `json:"weights"`
	// NewRequests and NewErrors are what the new group's target group was
	// sent and answered 5xx over the story; MaxNewShare the highest
	// percentage of a minute's requests it was sent.
	NewRequests float64 `json:"newRequests"`
	NewErrors   float64 `json:"newErrors"`
	MaxNewShare float64 `json:"maxNewShare"`
}

// ReplacedOutcome is a recycled group's instances before and after.
type ReplacedOutcome struct {
	Group        string   `json:"group"`
	Before       []string `json:"before"`
	After        []string `json:"after"`
	Survivors    int      `json:"survivors"`
	Version      string   `json:"version"`
	VersionAfter string   `json:"versionAfter"`
	Images       []string `json:"images"`
}

// versionList is the published images in order.
func (d *demo) versionList() []Version { return d.versions }

// summaryID is the id of the script element holding the report as JSON.
const summaryID = "phoenix-demo-summary"

//go:embed report.html.tmpl
var reportTemplate string

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"clock": func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") },
	"dur":   func(s float64) string { return clockText(time.Duration(s * float64(time.Second))) },
	"wall": func(s float64) string {
		if s == 0 {
			return "not measured"
		}
		return fmt.Sprintf("%.1f s", s)
	},
	"since":  func(t time.Time) string { return "T+" + clockText(t.Sub(start)) },
	"lower":  strings.ToLower,
	"colour": layerColour,
	"keys":   sortedKeys[int],
	"sub":    func(a, b int) int { return a - b },
	"count":  func(v float64) string { return fmt.Sprintf("%.0f", v) },
}).Parse(reportTemplate))

// write renders the report to path, making its folder.
func (r *Report) write(path string) error {
	var b bytes.Buffer
	if err := reportPage.Execute(&b, struct {
		*Report
		SummaryID string
	}{r, summaryID}); err != nil {
		return fmt.Errorf("render the report: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
