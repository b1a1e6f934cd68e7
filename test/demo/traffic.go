package main

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TrafficChart is story 5's requests per minute through the pair's load
// balancer, by the target group, and so the version, they were sent to, as
// CloudWatch has them: AWS/ApplicationELB RequestCount and the 5xx counts
// of each target group, read with GetMetricData. Minutes are the
// datapoints' starts, as CloudWatch stamps them.
type TrafficChart struct {
	LoadBalancer string          `json:"loadBalancer"`
	Minutes      []time.Time     `json:"minutes"`
	Series       []TrafficSeries `json:"series"`
	Layers       []string        `json:"layers"`
	Markers      []Marker        `json:"markers"`
	// SVG is the rendered chart; Alt its text alternative.
	SVG template.HTML `json:"-"`
	Alt string        `json:"alt"`
}

// TrafficSeries is one target group's minutes: the requests the load
// balancer sent it and how many were answered 5xx (by its targets, or by
// the load balancer itself when no target could take them).
type TrafficSeries struct {
	Group    string    `json:"group"`
	Version  string    `json:"version"`
	Requests []float64 `json:"requests"`
	Errors   []float64 `json:"errors"`
}

// trafficChart reads the requests per minute of the pair's two target
// groups over [from, to) from CloudWatch, the live group's (running old)
// first, and marks the moments of bg on it.
func (d *demo) trafficChart(ctx context.Context, p *pairInfo, from, to time.Time, bg *BlueGreenOutcome, old, bad string) (*TrafficChart, error) {
	start, end := from.Truncate(time.Minute), to.Truncate(time.Minute)
	c := &TrafficChart{LoadBalancer: pairName}
	for m := start; m.Before(end); m = m.Add(time.Minute) {
		c.Minutes = append(c.Minutes, m)
	}
	metrics := []string{"RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"}
	var queries []cwtypes.MetricDataQuery
	for i, g := range []*group{p.live, p.idle} {
		for j, name := range metrics {
			queries = append(queries, cwtypes.MetricDataQuery{
				Id: aws.String(fmt.Sprintf("m%d_%d", i, j)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String(name), Dimensions: targetGroupDims(g)},
					Period: aws.Int32(60), Stat: aws.String("Sum"),
				},
			})
		}
	}
	values := map[string]map[int64]float64{}
	p2 := cloudwatch.NewGetMetricDataPaginator(d.c.cw, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: queries, ScanBy: cwtypes.ScanByTimestampAscending,
	})
	for p2.HasMorePages() {
		page, err := p2.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("requests of pair %s: GetMetricData: %w", pairName, err)
		}
		for _, r := range page.MetricDataResults {
			id := aws.ToString(r.Id)
			if values[id] == nil {
				values[id] = map[int64]float64{}
			}
			for k, t := range r.Timestamps {
				values[id][t.Unix()] += r.Values[k]
			}
		}
	}
	for i, g := range []*group{p.live, p.idle} {
		s := TrafficSeries{Group: g.name, Version: old}
		if i == 1 {
			s.Version = bad
		}
		for _, m := range c.Minutes {
			k := m.Unix()
			// The 5xx counts have no datapoint in a minute without errors,
			// as ELB reports them.
			s.Requests = append(s.Requests, values[fmt.Sprintf("m%d_0", i)][k])
			s.Errors = append(s.Errors, values[fmt.Sprintf("m%d_1", i)][k]+values[fmt.Sprintf("m%d_2", i)][k])
		}
		c.Series = append(c.Series, s)
	}
	for _, s := range c.Series {
		c.Layers = append(c.Layers, s.Version+" on "+s.Group, s.Version+" on "+s.Group+": 5xx")
	}
	for _, e := range d.events {
		if e.Kind == "image" && e.Story == d.story && strings.HasPrefix(e.Text, "image "+bad+" ") {
			c.Markers = append(c.Markers, Marker{At: e.At, Text: bad + " published", Kind: e.Kind})
		}
	}
	if !bg.ShiftAt.IsZero() {
		c.Markers = append(c.Markers, Marker{At: bg.ShiftAt, Text: "shift@10", Kind: "traffic"})
	}
	if bg.Alarm != nil {
		c.Markers = append(c.Markers, Marker{At: bg.Alarm.At, Text: bg.Alarm.Name + " ALARM", Kind: "alarm"})
	}
	if !bg.SwitchBackAt.IsZero() {
		c.Markers = append(c.Markers, Marker{At: bg.SwitchBackAt, Text: "switch-back", Kind: "revert"})
	}
	return c, nil
}

// layerValues returns each layer's value per minute, bottom up: each
// series' answered requests, then its 5xx.
func (c *TrafficChart) layerValues() [][]float64 {
	var out [][]float64
	for _, s := range c.Series {
		ok, bad := make([]float64, len(c.Minutes)), make([]float64, len(c.Minutes))
		for i := range c.Minutes {
			bad[i] = min(s.Errors[i], s.Requests[i])
			ok[i] = s.Requests[i] - bad[i]
		}
		out = append(out, ok, bad)
	}
	return out
}

// trafficColour is a layer's colour: its version's, as in the instance
// charts, and vermilion for 5xx.
func (d *demo) trafficColour(c *TrafficChart, i int) string {
	if i%2 == 1 {
		return "#D55E00"
	}
	return palette[slices.Index(d.labels, c.Series[i/2].Version)%len(palette)]
}

// trafficPattern is a layer's fill: the version's texture, as in the
// instance charts, and stripes for 5xx.
func (d *demo) trafficPattern(c *TrafficChart, i int) string {
	if i%2 == 1 {
		return `<rect width="8" height="8" fill="#D55E00" fill-opacity="0.8"/><path d="M0,0 L8,8 M-2,6 L2,10 M6,-2 L10,2" stroke="#1b1b1b" stroke-width="1.2"/>`
	}
	return patternShape(slices.Index(d.labels, c.Series[i/2].Version), d.trafficColour(c, i))
}

// trafficSVG draws the chart as stacked bars, one a minute, with the
// story's moments marked.
func (d *demo) trafficSVG(c *TrafficChart) (template.HTML, string) {
	if len(c.Minutes) == 0 {
		return "", "no minutes"
	}
	t0, end := c.Minutes[0], c.Minutes[len(c.Minutes)-1].Add(time.Minute)
	layers := c.layerValues()
	top := 1.0
	for i := range c.Minutes {
		total := 0.0
		for _, l := range layers {
			total += l[i]
		}
		top = max(top, total)
	}
	step := niceStep(top, 6)
	top = math.Ceil(top/step) * step
	plotW, plotH := chartW-padLeft-padRight, chartH-padTop-padBot
	x := func(t time.Time) float64 {
		return padLeft + plotW*t.Sub(t0).Seconds()/end.Sub(t0).Seconds()
	}
	y := func(v float64) float64 { return padTop + plotH*(1-v/top) }

	var b strings.Builder
	alt := d.trafficAlt(c)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-traffic-title chart-traffic-desc" class="chart" data-chart="traffic">`, chartW, chartH)
	fmt.Fprintf(&b, `<title id="chart-traffic-title">%s: requests per minute by version over simulated time</title>`, template.HTMLEscapeString(c.LoadBalancer))
	fmt.Fprintf(&b, `<desc id="chart-traffic-desc">%s</desc>`, template.HTMLEscapeString(alt))
	b.WriteString(`<defs>`)
	for i := range layers {
		fmt.Fprintf(&b, `<pattern id="p-traffic-%d" width="8" height="8" patternUnits="userSpaceOnUse">%s</pattern>`, i, d.trafficPattern(c, i))
	}
	b.WriteString(`</defs>`)
	// A bar a minute: the counts are per minute, and the local cloud
	// counts each one by the weights at its end, so an area drawn to the
	// second would claim more than the data says.
	gap := 0.12 * plotW / float64(len(c.Minutes))
	for i, m := range c.Minutes {
		lower := 0.0
		for li, l := range layers {
			if l[i] <= 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="url(#p-traffic-%d)" stroke="%s" stroke-width="0.8" data-layer="%s" data-minute="%s" data-value="%.0f"/>`,
				x(m)+gap/2, y(lower+l[i]), x(m.Add(time.Minute))-x(m)-gap, y(lower)-y(lower+l[i]), li, d.trafficColour(c, li),
				template.HTMLEscapeString(c.Layers[li]), m.Format("15:04"), l[i])
			lower += l[i]
		}
	}
	for v := 0.0; v <= top; v += step {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`, padLeft, padLeft+plotW, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%.0f</text>`, padLeft-6, y(v)+4, v)
	}
	every := 1
	for plotW/float64(len(c.Minutes))*float64(every) < 60 {
		every++
	}
	for i, m := range append(slices.Clone(c.Minutes), end) {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`, x(m), x(m), padTop+plotH, padTop+plotH+4)
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>`, x(m), padTop+plotH+16, m.Format("15:04"))
		}
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="axis" text-anchor="middle">simulated time (UTC), %s</text>`, padLeft+plotW/2, chartH-4, t0.Format("Jan 2"))
	fmt.Fprintf(&b, `<text x="12" y="%.1f" class="axis" text-anchor="middle" transform="rotate(-90 12 %.1f)">requests a minute</text>`, padTop+plotH/2, padTop+plotH/2)
	for i, m := range c.Markers {
		mx := x(m.At)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="marker marker-%s"/>`, mx, mx, padTop, padTop+plotH, m.Kind)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="mark">%s</text>`, mx+3, padTop+12+float64(i%4)*12, template.HTMLEscapeString(m.Text))
	}
	b.WriteString(`</svg>`)
	// Safe as HTML: built here from numbers, fixed markup and escaped text.
	return template.HTML(b.String()), alt
}

// niceStep is a step of 1, 2 or 5 times a power of ten that cuts [0, top]
// into at most n parts.
func niceStep(top float64, n int) float64 {
	for p := 1.0; ; p *= 10 {
		for _, f := range []float64{1, 2, 5} {
			if top/(f*p) <= float64(n) {
				return f * p
			}
		}
	}
}

// trafficAlt says in words what the chart shows: where the requests went
// before the new version took any, each minute it took some, and after.
func (d *demo) trafficAlt(c *TrafficChart) string {
	old, bad := c.Series[0], c.Series[1]
	first, last := -1, -1
	for i := range c.Minutes {
		if bad.Requests[i] > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	oldName, badName := old.Version+" on "+old.Group, bad.Version+" on "+bad.Group
	var parts []string
	parts = append(parts, fmt.Sprintf("from %s every request went to %s (%.0f a minute)", c.Minutes[0].Format("15:04"), oldName, old.Requests[0]))
	if first >= 0 {
		for i := first; i <= last; i++ {
			total := old.Requests[i] + bad.Requests[i]
			share := 0.0
			if total > 0 {
				share = 100 * bad.Requests[i] / total
			}
			parts = append(parts, fmt.Sprintf("in the minute from %s, %.0f of %.0f (%.0f%%) went to %s, %.0f of them answered 5xx",
				c.Minutes[i].Format("15:04"), bad.Requests[i], total, share, badName, bad.Errors[i]))
		}
		if last+1 < len(c.Minutes) {
			parts = append(parts, fmt.Sprintf("from %s every request went to %s again", c.Minutes[last+1].Format("15:04"), oldName))
		}
	}
	var marks []string
	for _, m := range c.Markers {
		marks = append(marks, m.At.Format("15:04:05.0")+" "+m.Text)
	}
	text := fmt.Sprintf("Requests per minute through load balancer %s, %s to %s UTC: %s.", c.LoadBalancer,
		c.Minutes[0].Format("Jan 2 15:04"), c.Minutes[len(c.Minutes)-1].Add(time.Minute).Format("15:04"), strings.Join(parts, "; "))
	if len(marks) > 0 {
		text += " Marked: " + strings.Join(marks, "; ") + "."
	}
	return text
}
