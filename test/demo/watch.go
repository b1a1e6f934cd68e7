package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/rollout"
)

// watcher turns what Phoenix and AWS record into timeline lines: the
// executions of both state machines (Step Functions), each rollout's own
// timeline (the ledger, through DynamoDB), the alarms' state changes
// (CloudWatch alarm history) and the image lifecycle's nights (their
// summaries on the topic and the ledger's lifecycle log). Every line carries the time the record
// says, not the time the demo looked.
type watcher struct {
	d *demo
	// executions by ARN, as last seen.
	executions map[string]*execution
	// steps seen, by rollout id and step key.
	steps map[string]bool
	// alarm history items seen.
	alarmItems map[string]bool
	// rollouts as last read from the ledger, by id.
	rollouts map[string]rollout.Rollout
	// signals seen, by rollout id: the highest sequence number.
	signalSeq map[string]int64
	// alarmed holds when each alarm went into ALARM, by name.
	alarmed map[string][]time.Time
}

// execution is one execution of either state machine.
type execution struct {
	ARN, Name, Machine string
	Status             sfntypes.ExecutionStatus
	Start, Stop        time.Time
	Input              string
	// settled: ended and read from the ledger once more since.
	settled bool
}

func newWatcher(d *demo) *watcher {
	return &watcher{
		d: d, executions: map[string]*execution{}, steps: map[string]bool{},
		alarmItems: map[string]bool{}, rollouts: map[string]rollout.Rollout{}, signalSeq: map[string]int64{},
		alarmed: map[string][]time.Time{},
	}
}

// poll reads what changed since the last poll and returns it as timeline
// lines.
func (w *watcher) poll(ctx context.Context) ([]Event, error) {
	var evs, ends []Event
	for _, m := range []string{w.d.c.campaign, w.d.c.machine} {
		started, ended, err := w.pollExecutions(ctx, m)
		if err != nil {
			return nil, err
		}
		evs = append(evs, started...)
		ends = append(ends, ended...)
	}
	// The alarms before the rollouts: a switch-back is measured from the
	// alarm that caused it.
	got, err := w.pollAlarms(ctx)
	if err != nil {
		return nil, err
	}
	evs = append(evs, got...)
	got, err = w.pollRollouts(ctx)
	if err != nil {
		return nil, err
	}
	evs = append(evs, got...)
	// A campaign may end at the very instant its rollout does (the local
	// cloud runs functions in no simulated time): told after it.
	evs = append(evs, ends...)
	got, err = w.d.pollNights(ctx)
	if err != nil {
		return nil, err
	}
	return append(evs, got...), nil
}

// pollExecutions lists a state machine's executions and reports campaigns,
// revert rollouts and recycles as they start, and campaigns as they end.
func (w *watcher) pollExecutions(ctx context.Context, machine string) (started, ended []Event, err error) {
	p := sfn.NewListExecutionsPaginator(w.d.c.sfn, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list executions: %w", err)
		}
		for _, it := range page.Executions {
			arn := str(it.ExecutionArn)
			x, seen := w.executions[arn]
			if seen && x.Status == it.Status {
				continue
			}
			if !seen {
				x = &execution{ARN: arn, Name: str(it.Name), Machine: machine, Start: aws.ToTime(it.StartDate)}
				out, err := w.d.c.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: it.ExecutionArn})
				if err != nil {
					return nil, nil, fmt.Errorf("describe execution %s: %w", x.Name, err)
				}
				x.Input = str(out.Input)
				w.executions[arn] = x
				started = append(started, w.started(x)...)
			}
			x.Status, x.Stop = it.Status, aws.ToTime(it.StopDate)
			if x.Status != sfntypes.ExecutionStatusRunning && machine == w.d.c.campaign {
				ended = append(ended, w.campaignEnded(ctx, x))
			}
		}
	}
	return started, ended, nil
}

// campaignInput is what the demo reads of a campaign's input (docs/publish.md).
type campaignInput struct {
	Campaign struct {
		ImageID string `json:"imageId"`
		Waves   []struct {
			Wave    int                `json:"wave"`
			Targets []rollout.GroupKey `json:"targets"`
		} `json:"waves"`
	} `json:"campaign"`
}

// rolloutInput is what the demo reads of a rollout's input.
type rolloutInput struct {
	Request struct {
		RolloutID string           `json:"rolloutId"`
		Target    rollout.GroupKey `json:"target"`
		Mode      string           `json:"mode"`
		ImageID   string           `json:"imageId"`
		Version   int64            `json:"version"`
		StartAt   time.Time        `json:"startAt"`
		Trigger   struct {
			Kind   string `json:"kind"`
			Source string `json:"source"`
		} `json:"trigger"`
	} `json:"request"`
}

func (w *watcher) started(x *execution) []Event {
	if x.Machine == w.d.c.campaign {
		var in campaignInput
		if err := json.Unmarshal([]byte(x.Input), &in); err != nil {
			return []Event{{At: x.Start, Kind: "campaign", Text: "campaign " + x.Name + " started (input unreadable: " + err.Error() + ")"}}
		}
		var waves []string
		for _, wv := range in.Campaign.Waves {
			var gs []string
			for _, t := range wv.Targets {
				gs = append(gs, t.Name)
			}
			waves = append(waves, fmt.Sprintf("wave %d: %s", wv.Wave, strings.Join(gs, ", ")))
		}
		return []Event{{At: x.Start, Kind: "campaign", Text: fmt.Sprintf("image-published started campaign %s for %s (%s)",
			x.Name, w.d.label(in.Campaign.ImageID), strings.Join(waves, "; "))}}
	}
	var in rolloutInput
	if err := json.Unmarshal([]byte(x.Input), &in); err != nil {
		return nil
	}
	r := in.Request
	switch r.Trigger.Kind {
	case "alarm":
		_, alarm, _ := strings.Cut(r.Trigger.Source, ":alarm:")
		return []Event{{At: x.Start, Group: r.Target.Name, Kind: "revert", Text: fmt.Sprintf("alarm-events started revert rollout %s to version %d (alarm %s)", x.Name, r.Version, alarm)}}
	case "schedule":
		text := fmt.Sprintf("nightly schedule fired; recycle-scheduler started recycle %s", x.Name)
		if !r.StartAt.IsZero() {
			text += fmt.Sprintf(", starting at %s (jitter)", r.StartAt.Format("15:04:05"))
		}
		return []Event{{At: x.Start, Group: r.Target.Name, Kind: "recycle", Text: text}}
	case "manual":
		return []Event{{At: x.Start, Group: r.Target.Name, Kind: "rollback", Text: fmt.Sprintf("the operator's %s rollout %s started, to version %d", r.Mode, x.Name, r.Version)}}
	}
	return nil
}

func (w *watcher) campaignEnded(ctx context.Context, x *execution) Event {
	e := Event{At: x.Stop, Kind: "campaign"}
	if x.Status == sfntypes.ExecutionStatusSucceeded {
		e.Text = "campaign " + x.Name + " succeeded: every wave finalized"
		return e
	}
	e.Text = fmt.Sprintf("campaign %s ended %s", x.Name, x.Status)
	out, err := w.d.c.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(x.ARN)})
	if err != nil || (out.Error == nil && out.Cause == nil) {
		return e
	}
	// The cause is a sentence and then the batch's outcomes as JSON
	// (docs/publish.md); the sentence says it.
	cause, _, _ := strings.Cut(str(out.Cause), ": [")
	e.Text += fmt.Sprintf(" (%s): %s", str(out.Error), cause)
	return e
}

// pollRollouts reads the ledger record of every rollout execution not yet
// settled and reports the steps it has not reported yet.
func (w *watcher) pollRollouts(ctx context.Context) ([]Event, error) {
	var evs []Event
	for _, arn := range sortedKeys(w.executions) {
		x := w.executions[arn]
		if x.Machine != w.d.c.machine || x.settled {
			continue
		}
		r, err := w.d.led.GetRollout(ctx, x.Name)
		var nf *rollout.NotFoundError
		if errors.As(err, &nf) {
			// Not prepared yet (or waiting out its jitter).
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read rollout %s: %w", x.Name, err)
		}
		w.rollouts[r.ID] = r
		for _, s := range r.Steps {
			k := r.ID + "/" + s.Key
			if w.steps[k] {
				continue
			}
			w.steps[k] = true
			quiet := w.d.quietRecycles && r.Mode == rollout.ModeRecycle && s.Key != "finalize"
			evs = append(evs, Event{At: s.At, Group: r.Group.Name, Kind: stepKind(s.Key), Text: w.d.stepText(r, s), Minor: quiet})
			if s.Key == "switch-back" {
				if e, ok := w.switchBackMeasure(r, s.At); ok {
					evs = append(evs, e)
				}
			}
		}
		sigs, err := w.d.signals(ctx, r.ID, w.signalSeq[r.ID])
		if err != nil {
			return nil, err
		}
		for _, s := range sigs {
			w.signalSeq[r.ID] = max(w.signalSeq[r.ID], s.Seq)
			if text := w.d.signalText(r, s); text != "" {
				kind := "signal"
				if s.Kind == rollout.SignalAlarm {
					kind = "alarm"
				}
				evs = append(evs, Event{At: s.At, Group: r.Group.Name, Kind: kind, Text: text, Minor: w.d.quietRecycles && r.Mode == rollout.ModeRecycle})
			}
		}
		if x.Status != sfntypes.ExecutionStatusRunning {
			x.settled = true
		}
	}
	return evs, nil
}

// stepKind classifies a ledger step for the report's styling.
func stepKind(key string) string {
	switch {
	case strings.HasPrefix(key, "validate@"):
		return "validate"
	case strings.HasPrefix(key, "revert"), key == "switch-back", key == "dirty", key == "refused":
		return "revert"
	case strings.HasPrefix(key, "shift@"):
		return "traffic"
	case key == "finalize":
		return "finalize"
	}
	return "rollout"
}

// pollAlarms reports the state changes of the demo's alarms.
func (w *watcher) pollAlarms(ctx context.Context) ([]Event, error) {
	var evs []Event
	for _, g := range w.d.groups {
		p := cloudwatch.NewDescribeAlarmHistoryPaginator(w.d.c.cw, &cloudwatch.DescribeAlarmHistoryInput{
			AlarmName: aws.String(g.alarm), HistoryItemType: cwtypes.HistoryItemTypeStateUpdate,
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("alarm history of %s: %w", g.alarm, err)
			}
			for _, it := range page.AlarmHistoryItems {
				at := aws.ToTime(it.Timestamp)
				k := g.alarm + "/" + at.Format(time.RFC3339Nano) + "/" + str(it.HistorySummary)
				if w.alarmItems[k] {
					continue
				}
				w.alarmItems[k] = true
				// The first evaluation (INSUFFICIENT_DATA to OK) says nothing.
				if strings.Contains(str(it.HistorySummary), "INSUFFICIENT_DATA to OK") {
					continue
				}
				if strings.HasSuffix(str(it.HistorySummary), " to ALARM") {
					w.alarmed[g.alarm] = append(w.alarmed[g.alarm], at)
				}
				evs = append(evs, Event{At: at, Group: g.name, Kind: "alarm", Text: alarmText(g.alarm, it)})
			}
		}
	}
	return evs, nil
}

// alarmText says what an alarm history item says, with the reason
// CloudWatch gave when it went into ALARM.
func alarmText(name string, it cwtypes.AlarmHistoryItem) string {
	text := "alarm " + name + ": " + str(it.HistorySummary)
	var data struct {
		NewState struct {
			StateValue  string `json:"stateValue"`
			StateReason string `json:"stateReason"`
		} `json:"newState"`
	}
	if json.Unmarshal([]byte(str(it.HistoryData)), &data) == nil && data.NewState.StateValue == "ALARM" && data.NewState.StateReason != "" {
		text += " (" + data.NewState.StateReason + ")"
	}
	return text
}

// switchBackMeasure tells how long a blue/green rollout took from the
// guard alarm its switch-back names going into ALARM (CloudWatch's alarm
// history) to all the traffic back on the old group (the switch-back's
// step, recorded once its one ModifyListener or ModifyRule returned). No
// line when no alarm of the pair caused it.
func (w *watcher) switchBackMeasure(r rollout.Rollout, back time.Time) (Event, bool) {
	if r.Pair == nil {
		return Event{}, false
	}
	var name string
	var at time.Time
	for _, g := range w.d.groups {
		if g.pair != r.Pair.Name || !strings.Contains(r.Reason, g.alarm) {
			continue
		}
		for _, t := range w.alarmed[g.alarm] {
			if !t.Before(r.StartedAt) && !t.After(back) && t.After(at) {
				name, at = g.alarm, t
			}
		}
	}
	if name == "" {
		return Event{}, false
	}
	return Event{At: back, Group: r.Pair.Live, Kind: "measure", Text: fmt.Sprintf(
		"alarm to 100%% back on %s: %s of simulated time (%s into ALARM %s, by its history; the switch-back's one call %s, by the ledger)",
		r.Pair.Live, secondsText(back.Sub(at)), name, at.Format("15:04:05.0"), back.Format("15:04:05.0"))}, true
}
