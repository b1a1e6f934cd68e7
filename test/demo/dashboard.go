package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/phoenix-rollouts/phoenix/shared/lifecycle"
	"github.com/phoenix-rollouts/phoenix/shared/rollout"
	"github.com/phoenix-rollouts/phoenix/test/localcloud/monitoring"
)

// Dashboard is the stack's CloudWatch dashboard as the demo's run filled
// it: each metric's figure over the whole run, the alarms' states, and
// the checks of those figures against what the demo read by other means.
type Dashboard struct {
	Name    string            `json:"name"`
	Widgets []DashboardWidget `json:"widgets"`
	Alarms  []AlarmState      `json:"alarms"`
	Checks  []Fact            `json:"checks"`
}

// DashboardWidget is one metric widget's figures.
type DashboardWidget struct {
	Title   string            `json:"title"`
	Figures []DashboardFigure `json:"figures"`
}

// DashboardFigure is one metric's statistic over the run; HasData is false
// when CloudWatch has no datapoint for it (the console draws nothing).
type DashboardFigure struct {
	Label   string  `json:"label"`
	Metric  string  `json:"metric"`
	Stat    string  `json:"stat"`
	Value   float64 `json:"value"`
	HasData bool    `json:"hasData"`
}

// AlarmState is one of Phoenix's own alarms at the end of the run, and
// how many times it went into ALARM during it (an alarm on a count clears
// once the minute with the count has passed).
type AlarmState struct {
	Name  string `json:"name"`
	State string `json:"state"`
	Fired int    `json:"fired"`
}

// dashboard reads the stack's dashboard through the CloudWatch API and
// computes each of its metrics over [from, to) as a single value, as the
// console does for a widget with setPeriodToTimeRange. Every query goes
// through GetMetricData on the local cloud: the figures are those an
// operator would see.
func (d *demo) dashboard(ctx context.Context, from, to time.Time) (*Dashboard, error) {
	name, err := d.c.output("DashboardName")
	if err != nil {
		return nil, err
	}
	got, err := d.c.cw.GetDashboard(ctx, &cloudwatch.GetDashboardInput{DashboardName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("get dashboard %s: %w", name, err)
	}
	metrics, err := monitoring.DashboardMetrics(aws.ToString(got.DashboardBody))
	if err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", name, err)
	}
	start, end := oneBucket(from, to)
	period := int32(end.Sub(start) / time.Second)
	out := &Dashboard{Name: name}
	byWidget := map[int]*DashboardWidget{}
	var order []int
	// GetMetricData takes up to 500 queries a call.
	for lo := 0; lo < len(metrics); lo += 500 {
		batch := metrics[lo:min(lo+500, len(metrics))]
		queries := make([]cwtypes.MetricDataQuery, len(batch))
		for i, m := range batch {
			m.Period = period
			queries[i] = m.Query(fmt.Sprintf("m%d", lo+i))
		}
		res, err := d.c.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: queries,
		})
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: GetMetricData: %w", name, err)
		}
		values := map[string][]float64{}
		for _, r := range res.MetricDataResults {
			values[aws.ToString(r.Id)] = r.Values
		}
		for i, m := range batch {
			w, ok := byWidget[m.Widget]
			if !ok {
				w = &DashboardWidget{Title: m.Title}
				byWidget[m.Widget] = w
				order = append(order, m.Widget)
			}
			f := DashboardFigure{Label: m.Label, Metric: metricText(m), Stat: m.Stat}
			if f.Label == "" {
				f.Label = f.Metric
			}
			switch vs := values[fmt.Sprintf("m%d", lo+i)]; len(vs) {
			case 0:
			case 1:
				f.Value, f.HasData = vs[0], true
			default:
				return nil, fmt.Errorf("dashboard %s: %s gave %d values over one period", name, metricText(m), len(vs))
			}
			w.Figures = append(w.Figures, f)
		}
	}
	for _, i := range order {
		out.Widgets = append(out.Widgets, *byWidget[i])
	}
	alarms, err := d.healthAlarms(ctx)
	if err != nil {
		return nil, err
	}
	out.Alarms = alarms
	return out, nil
}

// oneBucket returns a window holding [from, to) that is one period long
// and starts on a multiple of that period since the Unix epoch. CloudWatch
// aligns a query's periods (the local cloud to the epoch, AWS to the start
// time): a window that is both aligned and one period long gives one value
// per metric whichever it does.
func oneBucket(from, to time.Time) (time.Time, time.Time) {
	period := to.Sub(from).Truncate(time.Minute) + time.Minute
	for {
		secs := int64(period / time.Second)
		start := time.Unix(from.Unix()-from.Unix()%secs, 0).UTC()
		if end := start.Add(period); !end.Before(to) {
			return start, end
		}
		period *= 2
	}
}

// metricText names a metric as namespace/name with its dimension values.
func metricText(m monitoring.DashboardMetric) string {
	var dims []string
	for k, v := range m.Dimensions {
		dims = append(dims, k+"="+v)
	}
	sort.Strings(dims)
	s := m.Namespace + "/" + m.MetricName
	if len(dims) > 0 {
		s += " " + strings.Join(dims, " ")
	}
	return s
}

// healthAlarms returns the state of every alarm the stack declares.
func (d *demo) healthAlarms(ctx context.Context) ([]AlarmState, error) {
	var names []string
	for _, id := range d.c.stack.Order {
		if r := d.c.stack.Resources[id]; r.Type == "AWS::CloudWatch::Alarm" {
			names = append(names, r.PhysicalID)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	got, err := d.c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	if err != nil {
		return nil, fmt.Errorf("describe Phoenix's alarms: %w", err)
	}
	var out []AlarmState
	for _, a := range got.MetricAlarms {
		st := AlarmState{Name: aws.ToString(a.AlarmName), State: string(a.StateValue)}
		p := cloudwatch.NewDescribeAlarmHistoryPaginator(d.c.cw, &cloudwatch.DescribeAlarmHistoryInput{
			AlarmName: a.AlarmName, HistoryItemType: cwtypes.HistoryItemTypeStateUpdate,
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", st.Name, err)
			}
			for _, it := range page.AlarmHistoryItems {
				if strings.HasSuffix(aws.ToString(it.HistorySummary), " to ALARM") {
					st.Fired++
				}
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// figure returns the value of a widget's metric by label, and whether the
// dashboard has it.
func (db *Dashboard) figure(widget, label string) (float64, bool) {
	for _, w := range db.Widgets {
		if w.Title != widget {
			continue
		}
		for _, f := range w.Figures {
			if f.Label == label {
				return f.Value, true
			}
		}
	}
	return 0, false
}

// check holds the dashboard's figures against what the demo read without
// CloudWatch: the ledger's rollouts by status, the executions it watched,
// started and by how they ended, the poll function's invocations counted
// from its log, and what the ledger's lifecycle log says the image
// lifecycle retired, with the size of the retired images' snapshots as EC2
// gave it. A figure that
// disagrees fails the demo: the dashboard would be lying to an operator.
func (d *demo) checkDashboard(ctx context.Context, db *Dashboard, since time.Time) error {
	recent, err := d.led.Recent(ctx, since, 0)
	if err != nil {
		return fmt.Errorf("ledger rollouts: %w", err)
	}
	status := map[rollout.Status]int{}
	started := 0
	for _, r := range recent {
		status[r.Status]++
		// A rolling rollout starts with its refresh, a blue/green one with
		// its idle group's scale-up; both say "Phoenix Rollout Started".
		if slices.ContainsFunc(r.Steps, func(s rollout.Step) bool { return s.Key == "start-refresh" || s.Key == "scale-up" }) {
			started++
		}
	}
	rollouts := 0
	ended := map[string]map[sfntypes.ExecutionStatus]int{d.c.machine: {}, d.c.campaign: {}}
	campaigns := 0
	for _, x := range d.watch.executions {
		switch x.Machine {
		case d.c.machine:
			rollouts++
		case d.c.campaign:
			campaigns++
		}
		ended[x.Machine][x.Status]++
	}
	polls, err := d.c.invocations(ctx, d.c.functions()["PollFunction"])
	if err != nil {
		return err
	}
	// What the image lifecycle's apply nights did, by their log.
	entries, err := d.led.LifecycleLog(ctx, region, since, 0)
	if err != nil {
		return fmt.Errorf("lifecycle log: %w", err)
	}
	var versionsDeleted, imagesDeregistered int
	var gib int64
	for _, e := range entries {
		if e.Mode != lifecycle.LogModeApply || e.Result != lifecycle.ResultDone {
			continue
		}
		switch e.Action {
		case lifecycle.ActionDeleteVersion:
			versionsDeleted++
		case lifecycle.ActionDeregister:
			imagesDeregistered++
			gib += d.imageGiB[e.Target]
		}
	}
	expect := []struct {
		widget, label string
		want          int
		from          string
	}{
		{"Rollouts by outcome", "started", started, "ledger rollouts with a start-refresh or scale-up step"},
		{"Rollouts by outcome", "finalized", status[rollout.StatusFinalized], "ledger rollouts finalized"},
		{"Rollouts by outcome", "reverted", status[rollout.StatusReverted], "ledger rollouts reverted"},
		{"Rollouts by outcome", "pinned", status[rollout.StatusPinned], "ledger rollouts pinned"},
		{"Rollouts by outcome", "refused", status[rollout.StatusRefused], "ledger rollouts refused"},
		{"Rollouts by outcome", "needs-human", status[rollout.StatusDirty], "ledger rollouts dirty"},
		{"Executions", "rollout started", rollouts, "rollout executions listed"},
		{"Executions", "rollout succeeded", ended[d.c.machine][sfntypes.ExecutionStatusSucceeded], "rollout executions listed as succeeded"},
		{"Executions", "rollout failed", ended[d.c.machine][sfntypes.ExecutionStatusFailed], "rollout executions listed as failed"},
		{"Executions", "campaign started", campaigns, "campaign executions listed"},
		{"Executions", "campaign succeeded", ended[d.c.campaign][sfntypes.ExecutionStatusSucceeded], "campaign executions listed as succeeded"},
		{"Executions", "campaign failed", ended[d.c.campaign][sfntypes.ExecutionStatusFailed], "campaign executions listed as failed"},
		{"Fallback polls and ledger throttling", "fallback polls", polls, "START lines in the poll function's log"},
		{"Image lifecycle: retired (nightly)", "versions deleted", versionsDeleted, "versions deleted in the ledger's lifecycle log"},
		{"Image lifecycle: retired (nightly)", "AMIs deregistered", imagesDeregistered, "AMIs deregistered in the ledger's lifecycle log"},
		{"Image lifecycle: retired (nightly)", "snapshot GiB reclaimed", int(gib), "the size of their snapshots, as DescribeSnapshots gave it before"},
	}
	var wrong []string
	for _, e := range expect {
		got, ok := db.figure(e.widget, e.label)
		fact := Fact{What: fmt.Sprintf("%s %s: %g on the dashboard, %d by %s", e.widget, e.label, got, e.want, e.from), OK: ok && got == float64(e.want)}
		db.Checks = append(db.Checks, fact)
		if !fact.OK {
			wrong = append(wrong, fact.What)
		}
	}
	if len(wrong) > 0 {
		return fmt.Errorf("the dashboard disagrees with what the demo read:\n%s", strings.Join(wrong, "\n"))
	}
	return nil
}

// printDashboard writes the dashboard's figures: every figure of the
// rollouts widget, and of the others those with a value, the rest counted.
func printDashboard(w io.Writer, db *Dashboard) {
	fmt.Fprintf(w, "\nDashboard %s (figures over the whole run, from the local cloud's CloudWatch)\n", db.Name)
	for _, wd := range db.Widgets {
		var shown []string
		quiet := 0
		for _, f := range wd.Figures {
			if f.Value == 0 && wd.Title != "Rollouts by outcome" {
				quiet++
				continue
			}
			shown = append(shown, fmt.Sprintf("%s %s", f.Label, figureText(f)))
		}
		line := strings.Join(shown, ", ")
		if quiet > 0 {
			if line != "" {
				line += "; "
			}
			line += fmt.Sprintf("%d more at 0", quiet)
		}
		fmt.Fprintf(w, "  %s: %s\n", wd.Title, line)
	}
	states := map[string]int{}
	for _, a := range db.Alarms {
		states[a.State]++
	}
	var parts []string
	for _, s := range []string{"OK", "ALARM", "INSUFFICIENT_DATA"} {
		if states[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", states[s], s))
		}
	}
	var fired []string
	for _, a := range db.Alarms {
		if a.Fired > 0 {
			fired = append(fired, fmt.Sprintf("%s (%d)", a.Name, a.Fired))
		}
	}
	if len(fired) == 0 {
		fired = []string{"none"}
	}
	fmt.Fprintf(w, "  Phoenix's own alarms: %s at the end; went into ALARM during the run: %s\n", strings.Join(parts, ", "), strings.Join(fired, ", "))
	ok := 0
	for _, c := range db.Checks {
		if c.OK {
			ok++
		}
	}
	fmt.Fprintf(w, "  %d of %d figures agree with the ledger, the executions and the logs\n", ok, len(db.Checks))
}

// figureText writes a value without a needless fraction.
func figureText(f DashboardFigure) string {
	if !f.HasData {
		return "0"
	}
	if f.Value == float64(int64(f.Value)) {
		return fmt.Sprintf("%d", int64(f.Value))
	}
	return fmt.Sprintf("%.1f", f.Value)
}
