package main

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"
)

// notInService is the chart's layer of instances launching or leaving.
const notInService = "launching or leaving"

// GroupChart is one group's instances by image version over time: the
// samples where anything changed, each with a count per layer (the image
// labels in publication order, then notInService).
type GroupChart struct {
	Name    string       `json:"name"`
	Layers  []string     `json:"layers"`
	Points  []ChartPoint `json:"points"`
	Markers []Marker     `json:"markers"`
	// SVG is the rendered chart; Alt its text alternative.
	SVG template.HTML `json:"-"`
	Alt string        `json:"alt"`
}

// ChartPoint is the group at one sample.
type ChartPoint struct {
	At     time.Time `json:"at"`
	Counts []int     `json:"counts"`
}

// Marker is a moment drawn across a chart.
type Marker struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
	Kind string    `json:"kind"`
}

// Okabe and Ito's palette, which stays distinct under the common colour
// vision deficiencies; each layer also has its own pattern, so that the
// chart does not rely on colour alone.
var palette = []string{"#0072B2", "#009E73", "#D55E00", "#CC79A7", "#E69F00", "#56B4E9"}

const greyLayer = "#9a9a9a"

// layerColour returns the colour of the i-th layer of layers.
func layerColour(layers []string, i int) string {
	if layers[i] == notInService {
		return greyLayer
	}
	return palette[i%len(palette)]
}

// chartData builds each group's chart from the samples. Story 5's pair
// has its own chart, of requests by version (trafficSVG): its groups live
// for minutes at the end of a run of days.
func (d *demo) chartData() []*GroupChart {
	layers := append(slices.Clone(d.labels), notInService)
	var out []*GroupChart
	for _, g := range d.groups {
		if g.pair != "" {
			continue
		}
		c := &GroupChart{Name: g.name, Layers: layers}
		var last []int
		for _, s := range d.samples {
			v, ok := s.Groups[g.name]
			if !ok {
				continue
			}
			counts := make([]int, len(layers))
			for _, m := range v.Members {
				switch {
				case m.Lifecycle != "InService":
					counts[len(layers)-1]++
				case slices.Contains(d.labels, d.label(m.Image)):
					counts[slices.Index(d.labels, d.label(m.Image))]++
				default:
					counts[len(layers)-1]++
				}
			}
			if last != nil && slices.Equal(last, counts) {
				continue
			}
			c.Points = append(c.Points, ChartPoint{At: s.At, Counts: counts})
			last = counts
		}
		for _, e := range d.events {
			switch {
			case e.Kind == "image" && e.Story > 0:
				_, rest, _ := strings.Cut(e.Text, "image ")
				label, _, _ := strings.Cut(rest, " ")
				if d.roleOf(label) == role {
					c.Markers = append(c.Markers, Marker{At: e.At, Text: label + " published", Kind: e.Kind})
				}
			case e.Group == g.name && e.Kind == "alarm" && strings.Contains(e.Text, "to ALARM"):
				c.Markers = append(c.Markers, Marker{At: e.At, Text: g.alarm + " ALARM", Kind: e.Kind})
			case e.Group == g.name && e.Kind == "recycle" && strings.HasPrefix(e.Text, "nightly schedule fired"):
				// The recycle's start (the night's drift reports, one per
				// group, say nothing was recycled).
				c.Markers = append(c.Markers, Marker{At: e.At, Text: "nightly recycle", Kind: e.Kind})
			case e.Group == g.name && e.Kind == "rollback":
				c.Markers = append(c.Markers, Marker{At: e.At, Text: "phoenix rollback", Kind: e.Kind})
			}
		}
		var end time.Time
		if len(d.samples) > 0 {
			end = d.samples[len(d.samples)-1].At
		}
		c.SVG, c.Alt = d.svg(c, end)
		out = append(out, c)
	}
	return out
}

// roleOf is the phoenix:role the demo published an image with.
func (d *demo) roleOf(label string) string {
	for _, v := range d.versions {
		if v.Label == label {
			return v.Role
		}
	}
	return ""
}

// Chart geometry, in SVG user units.
const (
	chartW   = 900.0
	chartH   = 240.0
	padLeft  = 44.0
	padRight = 12.0
	padTop   = 30.0
	padBot   = 36.0
)

// svg draws the chart as stacked steps: each layer's count holds from one
// sample to the next. Story spans are shaded behind and numbered. Time
// runs to scale where anything happens; stretches in which nothing
// changes for longer than maxQuiet (the nights of story 4) are squeezed
// to maxQuiet and marked as breaks in the axis.
func (d *demo) svg(c *GroupChart, end time.Time) (template.HTML, string) {
	if len(c.Points) == 0 || !end.After(start) {
		return "", "no samples"
	}
	t0 := d.stories[0].Started
	if len(d.stories) > 1 {
		// The chart starts a little before story 1: the setup is flat.
		t0 = d.stories[1].Started.Add(-5 * time.Minute)
	}
	maxN := 1
	for _, p := range c.Points {
		total := 0
		for _, n := range p.Counts {
			total += n
		}
		maxN = max(maxN, total)
	}
	plotW, plotH := chartW-padLeft-padRight, chartH-padTop-padBot
	busy := []time.Time{t0, end}
	for _, p := range c.Points {
		busy = append(busy, p.At)
	}
	for _, m := range c.Markers {
		busy = append(busy, m.At)
	}
	for _, st := range d.stories {
		busy = append(busy, st.Started, st.Ended)
	}
	axis := newTimeAxis(t0, end, busy, maxQuiet)
	x := func(t time.Time) float64 { return padLeft + plotW*axis.at(t) }
	y := func(n int) float64 { return padTop + plotH*(1-float64(n)/float64(maxN)) }

	var b strings.Builder
	name := template.HTMLEscapeString(c.Name)
	titleID, descID := "chart-"+name+"-title", "chart-"+name+"-desc"
	alt := d.altText(c, t0, end)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s %s" class="chart" data-group="%s">`,
		chartW, chartH, titleID, descID, name)
	fmt.Fprintf(&b, `<title id="%s">%s: instances by image version over simulated time</title>`, titleID, name)
	fmt.Fprintf(&b, `<desc id="%s">%s</desc>`, descID, template.HTMLEscapeString(alt))
	b.WriteString(`<defs>`)
	for i := range c.Layers {
		fmt.Fprintf(&b, `<pattern id="p-%s-%d" width="8" height="8" patternUnits="userSpaceOnUse">%s</pattern>`, name, i, patternShape(i, layerColour(c.Layers, i)))
	}
	b.WriteString(`</defs>`)
	// Story spans.
	for _, st := range d.stories {
		if st.N == 0 {
			continue
		}
		x0, x1 := x(st.Started), x(st.Ended)
		shade := "#f2f2f2"
		if st.N%2 == 0 {
			shade = "#fafafa"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x0, padTop, max(x1-x0, 0.5), plotH, shade)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="story">story %d</text>`, x0+3, padTop-6, st.N)
	}
	// Layers, bottom up.
	lower := make([]int, len(c.Points))
	for li := range c.Layers {
		upper := make([]int, len(c.Points))
		any := false
		for i, p := range c.Points {
			upper[i] = lower[i] + p.Counts[li]
			if p.Counts[li] > 0 {
				any = true
			}
		}
		if any {
			var pts []string
			for i, p := range c.Points {
				next := end
				if i+1 < len(c.Points) {
					next = c.Points[i+1].At
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(p.At), y(upper[i]), x(next), y(upper[i])))
			}
			for i := len(c.Points) - 1; i >= 0; i-- {
				next := end
				if i+1 < len(c.Points) {
					next = c.Points[i+1].At
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(next), y(lower[i]), x(c.Points[i].At), y(lower[i])))
			}
			fmt.Fprintf(&b, `<polygon points="%s" fill="url(#p-%s-%d)" stroke="%s" stroke-width="0.8" data-layer="%s"/>`,
				strings.Join(pts, " "), name, li, layerColour(c.Layers, li), template.HTMLEscapeString(c.Layers[li]))
		}
		lower = upper
	}
	// Axes: instance counts and hours.
	for n := 0; n <= maxN; n++ {
		if maxN > 8 && n%2 == 1 {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`, padLeft, padLeft+plotW, y(n), y(n))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%d</text>`, padLeft-6, y(n)+4, n)
	}
	// Hour ticks where time is drawn to scale, each labelled if there is
	// room, with its date when the day changed; a squeezed stretch is
	// drawn as a break in the axis with how long it lasted.
	lastX, lastDay := -100.0, t0.YearDay()
	for t := t0.Truncate(time.Hour).Add(time.Hour); t.Before(end); t = t.Add(time.Hour) {
		if axis.squeezed(t) {
			continue
		}
		tx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>`, tx, tx, padTop+plotH, padTop+plotH+4)
		label := t.Format("15:04")
		if t.YearDay() != lastDay {
			label = t.Format("Jan 2 15:04")
		}
		if tx-lastX < float64(len(label))*6+8 || axis.nearGap(t, x, 24) {
			continue
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>`, tx, padTop+plotH+16, label)
		lastX, lastDay = tx, t.YearDay()
	}
	for _, g := range axis.gaps {
		mid := (x(g.from) + x(g.to)) / 2
		fmt.Fprintf(&b, `<path d="M%.1f,%.1f l4,-8 M%.1f,%.1f l4,-8" class="break"/>`, mid-5, padTop+plotH+4, mid+1, padTop+plotH+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">+%s</text>`, mid, padTop+plotH+16, hoursText(g.to.Sub(g.from)))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="axis" text-anchor="middle">simulated time (UTC)</text>`, padLeft+plotW/2, chartH-4)
	fmt.Fprintf(&b, `<text x="12" y="%.1f" class="axis" text-anchor="middle" transform="rotate(-90 12 %.1f)">instances</text>`, padTop+plotH/2, padTop+plotH/2)
	// Markers.
	for i, m := range c.Markers {
		mx := x(m.At)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="marker marker-%s"/>`, mx, mx, padTop, padTop+plotH, m.Kind)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="mark">%s</text>`, mx+3, padTop+12+float64(i%3)*12, template.HTMLEscapeString(m.Text))
	}
	b.WriteString(`</svg>`)
	// Safe as HTML: built here from numbers, fixed markup and escaped text.
	return template.HTML(b.String()), alt
}

// patternShape is a layer's fill: a tint of its colour with its own
// texture (plain, stripes one way, the other way, dots, cross-hatch).
func patternShape(i int, colour string) string {
	bg := fmt.Sprintf(`<rect width="8" height="8" fill="%s" fill-opacity="0.55"/>`, colour)
	switch i % 5 {
	case 1:
		return bg + fmt.Sprintf(`<path d="M0,8 L8,0" stroke="%s" stroke-width="1.5"/>`, colour)
	case 2:
		return bg + fmt.Sprintf(`<path d="M0,0 L8,8" stroke="%s" stroke-width="1.5"/>`, colour)
	case 3:
		return bg + fmt.Sprintf(`<circle cx="4" cy="4" r="1.6" fill="%s"/>`, colour)
	case 4:
		return bg + fmt.Sprintf(`<path d="M0,4 L8,4 M4,0 L4,8" stroke="%s" stroke-width="1"/>`, colour)
	}
	return bg
}

// altTime is how the text alternative writes a time: the run lasts days.
const altTime = "Jan 2 15:04"

// altText says in words what the chart shows: which version the whole
// group ran from when (the moves between them are the staircases), and
// the moments marked on it.
func (d *demo) altText(c *GroupChart, t0, end time.Time) string {
	var parts []string
	last := ""
	for i, p := range c.Points {
		// A point before the chart's start counts only as the state at
		// the start (the last one before it).
		if p.At.Before(t0) && i+1 < len(c.Points) && !c.Points[i+1].At.After(t0) {
			continue
		}
		only, n := "", 0
		for li, k := range p.Counts {
			if k == 0 || c.Layers[li] == notInService {
				continue
			}
			if only != "" {
				only = "" // a mix: the group is moving
				break
			}
			only, n = c.Layers[li], k
		}
		if only == "" || only == last {
			continue
		}
		at := p.At
		if at.Before(t0) {
			at = t0
		}
		parts = append(parts, fmt.Sprintf("%s all on %s (%d in service)", at.Format(altTime), only, n))
		last = only
	}
	var marks []string
	for _, m := range c.Markers {
		marks = append(marks, m.At.Format(altTime)+" "+m.Text)
	}
	text := fmt.Sprintf("Group %s from %s to %s UTC: %s.", c.Name, t0.Format(altTime), end.Format(altTime), strings.Join(parts, "; then "))
	if len(marks) > 0 {
		text += " Marked: " + strings.Join(marks, "; ") + "."
	}
	return text
}

// maxQuiet is the longest stretch without a change that a chart draws to
// scale.
const maxQuiet = 90 * time.Minute

// timeAxis maps simulated time onto [0, 1], squeezing quiet stretches.
type timeAxis struct {
	knots []time.Time // the busy moments, sorted, from t0 to end
	pos   []float64   // each knot's drawn offset, in seconds
	total float64
	gaps  []span // the squeezed stretches
}

type span struct{ from, to time.Time }

// newTimeAxis draws [t0, end] with every stretch between two busy moments
// longer than quiet drawn as quiet.
func newTimeAxis(t0, end time.Time, busy []time.Time, quiet time.Duration) timeAxis {
	var a timeAxis
	ks := slices.SortedFunc(slices.Values(busy), func(x, y time.Time) int { return x.Compare(y) })
	for _, k := range ks {
		if k.Before(t0) || k.After(end) || (len(a.knots) > 0 && k.Equal(a.knots[len(a.knots)-1])) {
			continue
		}
		if n := len(a.knots); n > 0 {
			gap := k.Sub(a.knots[n-1])
			if gap > quiet {
				a.gaps = append(a.gaps, span{a.knots[n-1], k})
				gap = quiet
			}
			a.total += gap.Seconds()
		}
		a.knots = append(a.knots, k)
		a.pos = append(a.pos, a.total)
	}
	return a
}

// at is where t falls, from 0 (t0) to 1 (end).
func (a timeAxis) at(t time.Time) float64 {
	if len(a.knots) < 2 || a.total == 0 {
		return 0
	}
	i, _ := slices.BinarySearchFunc(a.knots, t, func(k, t time.Time) int { return k.Compare(t) })
	switch {
	case i == 0:
		return 0
	case i == len(a.knots):
		return 1
	}
	lo, hi := a.knots[i-1], a.knots[i]
	f := t.Sub(lo).Seconds() / hi.Sub(lo).Seconds()
	return (a.pos[i-1] + f*(a.pos[i]-a.pos[i-1])) / a.total
}

// squeezed reports whether t falls inside a squeezed stretch.
func (a timeAxis) squeezed(t time.Time) bool {
	for _, g := range a.gaps {
		if t.After(g.from) && t.Before(g.to) {
			return true
		}
	}
	return false
}

// nearGap reports whether t is drawn within px of a break's label.
func (a timeAxis) nearGap(t time.Time, x func(time.Time) float64, px float64) bool {
	for _, g := range a.gaps {
		if mid := (x(g.from) + x(g.to)) / 2; x(t) > mid-px && x(t) < mid+px {
			return true
		}
	}
	return false
}

// hoursText writes a squeezed stretch's length: "21h", "1h30m".
func hoursText(d time.Duration) string {
	d = d.Round(time.Minute)
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
}
