package monitoring

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Limits and defaults CloudWatch documents for dashboards: the API
// reference of the four operations and its "Dashboard Body Structure and
// Syntax".
const (
	maxDashboardNameLength = 255
	maxDeleteDashboards    = 100
	listDashboardsPage     = 1000
	maxDashboardWidgets    = 500
	maxDashboardVariables  = 25
	maxWidgetMetrics       = 500
	maxAlarmWidgetAlarms   = 100
	maxExplorerMetrics     = 100
	gridColumns            = 24
	maxWidgetHeight        = 1000
	// defaultWidgetPeriod and defaultWidgetStat are what a graph uses when
	// neither the metric nor its widget says.
	defaultWidgetPeriod = 300
	defaultWidgetStat   = "Average"
)

var (
	dashboardNamePattern   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	dashboardPrefixPattern = regexp.MustCompile(`^[A-Za-z0-9._-]*$`)
	// extendedStatPattern matches the statistics other than pNN that
	// CloudWatch accepts wherever a statistic is named: trimmed and
	// winsorized means, trimmed counts and sums, percentile ranks and the
	// interquartile mean. The local cloud's GetMetricData computes only
	// the documented dashboard set (SampleCount, Average, Sum, Minimum,
	// Maximum, pNN), but a dashboard may name the others.
	extendedStatPattern = regexp.MustCompile(`^(IQM|(tm|wm|tc|ts)\d{1,2}(\.\d+)?|(TM|WM|TC|TS|PR)\(-?[\d.]*%?:-?[\d.]*%?\))$`)
	metricIDPattern     = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)
	variableIDPattern   = regexp.MustCompile(`^[0-9A-Za-z_-]{1,32}$`)
	colorPattern        = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	timezonePattern     = regexp.MustCompile(`^[+-]\d{4}$`)
	relativeStart       = regexp.MustCompile(`^-P(\d+[YMWD])*(T(\d+[HMS])+)?$`)
	alarmARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$`)
)

// dashboard is one stored dashboard.
type dashboard struct {
	name, body string
	modified   time.Time
}

// dashboardARN is a dashboard's ARN; dashboards are global, so it names no
// region.
func (cw *CloudWatch) dashboardARN(name string) string {
	return fmt.Sprintf("arn:aws:cloudwatch::%s:dashboard/%s", cw.account, name)
}

// dashboardNotFound is the DashboardNotFoundError shape, whose query code is
// ResourceNotFound.
func dashboardNotFound(names ...string) *api.Error {
	return &api.Error{Code: "ResourceNotFound", Shape: "DashboardNotFoundError", Status: http.StatusNotFound,
		Message: fmt.Sprintf("Dashboard %s does not exist", strings.Join(names, ", "))}
}

// checkDashboardName applies PutDashboard's name rules, with the message
// and code CloudWatch answers (InvalidParameterValue, as recorded against
// AWS; the message ends in a newline there too).
func checkDashboardName(name string) error {
	if len(name) > maxDashboardNameLength {
		return invalidValue("The value for field DashboardName must not be longer than %d characters.", maxDashboardNameLength)
	}
	if !dashboardNamePattern.MatchString(name) {
		return invalidValue("The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).\n")
	}
	return nil
}

// PutDashboard creates a dashboard or replaces the whole of an existing
// one. The body must be a JSON object that follows "Dashboard Body
// Structure and Syntax"; otherwise the call fails with InvalidParameterInput
// (the DashboardInvalidInputError shape) listing every problem with its
// JSON-pointer DataPath, and nothing is stored. Problems that only keep
// part of a graph from rendering are returned as DashboardValidationMessages
// of a successful call. Tags are refused: dashboards are not taggable in
// the local cloud.
func (cw *CloudWatch) PutDashboard(ctx context.Context, in *cloudwatch.PutDashboardInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutDashboardOutput, error) {
	in, _, done := api.Begin(ctx, &cw.mu, in)
	defer done()
	if in.DashboardName == nil {
		return nil, missingParameter("DashboardName")
	}
	if err := checkDashboardName(*in.DashboardName); err != nil {
		return nil, err
	}
	if in.DashboardBody == nil {
		return nil, missingParameter("DashboardBody")
	}
	if len(in.Tags) > 0 {
		return nil, invalidValue("The parameter Tags is not supported by the local cloud: dashboards are not taggable there.")
	}
	doc, err := parseDashboardBody(*in.DashboardBody)
	if err != nil {
		var bodyErr *DashboardBodyError
		if errors.As(err, &bodyErr) {
			return nil, bodyErr.apiError()
		}
		return nil, err
	}
	if cw.dashboards == nil {
		cw.dashboards = map[string]*dashboard{}
	}
	cw.dashboards[*in.DashboardName] = &dashboard{name: *in.DashboardName, body: *in.DashboardBody, modified: cw.clk.Now()}
	return &cloudwatch.PutDashboardOutput{DashboardValidationMessages: append([]types.DashboardValidationMessage{}, doc.warnings...)}, nil
}

// GetDashboard returns a dashboard's body exactly as it was put, with its
// name and ARN; an unknown name fails with ResourceNotFound (the
// DashboardNotFoundError shape).
func (cw *CloudWatch) GetDashboard(ctx context.Context, in *cloudwatch.GetDashboardInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetDashboardOutput, error) {
	in, _, done := api.Begin(ctx, &cw.mu, in)
	defer done()
	if in.DashboardName == nil {
		return nil, missingParameter("DashboardName")
	}
	d, ok := cw.dashboards[*in.DashboardName]
	if !ok {
		return nil, dashboardNotFound(*in.DashboardName)
	}
	return &cloudwatch.GetDashboardOutput{DashboardName: aws.String(d.name), DashboardArn: aws.String(cw.dashboardARN(d.name)), DashboardBody: aws.String(d.body)}, nil
}

// ListDashboards lists the account's dashboards whose names start with
// DashboardNamePrefix (at most 255 characters of A-Z, a-z, 0-9, ".", "-"
// and "_"), sorted by name, 1000 a page as CloudWatch documents. Size is
// the body's length in bytes and LastModified the simulated time of the
// last PutDashboard. The NextToken names the last dashboard returned, so a
// dashboard deleted between pages does not shift the next page.
func (cw *CloudWatch) ListDashboards(ctx context.Context, in *cloudwatch.ListDashboardsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListDashboardsOutput, error) {
	in, _, done := api.Begin(ctx, &cw.mu, in)
	defer done()
	prefix := aws.ToString(in.DashboardNamePrefix)
	if len(prefix) > maxDashboardNameLength || !dashboardPrefixPattern.MatchString(prefix) {
		return nil, invalidValue("The value for field DashboardNamePrefix is invalid: it can have up to %d characters, which can only be alphanumerics, dot (.), dash (-) and underscore (_).", maxDashboardNameLength)
	}
	after := ""
	if tok := aws.ToString(in.NextToken); tok != "" {
		name, ok := strings.CutPrefix(tok, "after-")
		if !ok || !dashboardNamePattern.MatchString(name) {
			return nil, invalidValue("The NextToken %q is not valid.", tok)
		}
		after = name
	}
	names := make([]string, 0, len(cw.dashboards))
	for n := range cw.dashboards {
		if strings.HasPrefix(n, prefix) && n > after {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := &cloudwatch.ListDashboardsOutput{DashboardEntries: []types.DashboardEntry{}}
	if len(names) > listDashboardsPage {
		names = names[:listDashboardsPage]
		out.NextToken = aws.String("after-" + names[len(names)-1])
	}
	for _, n := range names {
		d := cw.dashboards[n]
		out.DashboardEntries = append(out.DashboardEntries, types.DashboardEntry{
			DashboardName: aws.String(n), DashboardArn: aws.String(cw.dashboardARN(n)),
			LastModified: aws.Time(d.modified), Size: aws.Int64(int64(len(d.body))),
		})
	}
	return out, nil
}

// DeleteDashboards deletes up to 100 dashboards. As the API reference
// says, if any of them does not exist none is deleted; the call then fails
// with ResourceNotFound (the DashboardNotFoundError shape) naming the
// missing ones.
func (cw *CloudWatch) DeleteDashboards(ctx context.Context, in *cloudwatch.DeleteDashboardsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DeleteDashboardsOutput, error) {
	in, _, done := api.Begin(ctx, &cw.mu, in)
	defer done()
	if len(in.DashboardNames) == 0 {
		return nil, missingParameter("DashboardNames")
	}
	if len(in.DashboardNames) > maxDeleteDashboards {
		return nil, invalidValue("The collection DashboardNames must not have a size greater than %d.", maxDeleteDashboards)
	}
	var missing []string
	for _, n := range in.DashboardNames {
		if _, ok := cw.dashboards[n]; !ok && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, dashboardNotFound(missing...)
	}
	for _, n := range in.DashboardNames {
		delete(cw.dashboards, n)
	}
	return &cloudwatch.DeleteDashboardsOutput{}, nil
}

// Dashboard returns a dashboard's body as stored and whether it exists,
// for tests and the demo, which read it without a request context.
func (cw *CloudWatch) Dashboard(name string) (body string, ok bool) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	d, ok := cw.dashboards[name]
	if !ok {
		return "", false
	}
	return d.body, true
}

// DashboardBodyError is a dashboard body PutDashboard refuses.
type DashboardBodyError struct {
	// Messages locate each problem with a JSON-pointer DataPath
	// ("/widgets/0/properties/metrics/1"), in the order they occur in the
	// body. It is empty when the body is not a JSON object at all.
	Messages []types.DashboardValidationMessage
}

// Error reads as CloudWatch's message for the same body.
func (e *DashboardBodyError) Error() string {
	if len(e.Messages) == 0 {
		return "The field DashboardBody must be a valid JSON object"
	}
	type item struct {
		DataPath string `json:"dataPath"`
		Message  string `json:"message"`
	}
	items := make([]item, 0, len(e.Messages))
	for _, m := range e.Messages {
		items = append(items, item{aws.ToString(m.DataPath), aws.ToString(m.Message)})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(items) // a slice of strings always encodes
	return fmt.Sprintf("The dashboard body is invalid, there are %d validation errors:\n%s", len(e.Messages), strings.TrimSuffix(b.String(), "\n"))
}

// apiError is the DashboardInvalidInputError CloudWatch answers: query code
// InvalidParameterInput, with the messages as dashboardValidationMessages.
func (e *DashboardBodyError) apiError() *api.Error {
	msgs := make([]any, 0, len(e.Messages))
	for _, m := range e.Messages {
		msgs = append(msgs, map[string]any{"DataPath": aws.ToString(m.DataPath), "Message": aws.ToString(m.Message)})
	}
	ae := &api.Error{Code: "InvalidParameterInput", Shape: "DashboardInvalidInputError", Status: http.StatusBadRequest, Message: e.Error()}
	if len(msgs) > 0 {
		ae.Members = map[string]any{"dashboardValidationMessages": msgs}
	}
	return ae
}

// DashboardMetric is one metric of a metric widget as its graph queries
// it, with the "." and "..." shorthands expanded and the widget's
// defaults applied.
type DashboardMetric struct {
	// Widget is the widget's index in the body's widgets array; Title is
	// its title, empty if it has none.
	Widget int
	Title  string
	// Region is the metric's own region, else the widget's.
	Region                string
	Namespace, MetricName string
	Dimensions            map[string]string
	// Stat and Period are the metric's own, else the widget's, else
	// Average and 300 seconds, the documented defaults.
	Stat   string
	Period int32
	// Label is the metric's label; empty if the body sets none (the
	// console then makes one up).
	Label string
}

// Query returns the GetMetricData query that computes the metric's graph,
// under the given query id, its dimensions sorted by name.
func (m DashboardMetric) Query(id string) types.MetricDataQuery {
	dims := make([]types.Dimension, 0, len(m.Dimensions))
	for _, k := range slices.Sorted(maps.Keys(m.Dimensions)) {
		dims = append(dims, types.Dimension{Name: aws.String(k), Value: aws.String(m.Dimensions[k])})
	}
	q := types.MetricDataQuery{
		Id: aws.String(id),
		MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String(m.Namespace), MetricName: aws.String(m.MetricName), Dimensions: dims},
			Period: aws.Int32(m.Period),
			Stat:   aws.String(m.Stat),
		},
	}
	if m.Label != "" {
		q.Label = aws.String(m.Label)
	}
	return q
}

// DashboardMetrics validates body as PutDashboard does and returns the
// metrics of its metric widgets in the order they appear; expression
// entries (metric math, search, Metrics Insights) are not metrics and are
// left out. An invalid body yields a *DashboardBodyError.
func DashboardMetrics(body string) ([]DashboardMetric, error) {
	doc, err := parseDashboardBody(body)
	if err != nil {
		return nil, err
	}
	return doc.metrics, nil
}

// dashboardDoc is what validating a body found.
type dashboardDoc struct {
	errs, warnings []types.DashboardValidationMessage
	metrics        []DashboardMetric
}

func (d *dashboardDoc) fail(path, format string, args ...any) {
	d.errs = append(d.errs, types.DashboardValidationMessage{DataPath: aws.String(path), Message: aws.String(fmt.Sprintf(format, args...))})
}

func (d *dashboardDoc) warn(path, format string, args ...any) {
	d.warnings = append(d.warnings, types.DashboardValidationMessage{DataPath: aws.String(path), Message: aws.String(fmt.Sprintf(format, args...))})
}

// parseDashboardBody decodes and validates a dashboard body. It fails with
// a *DashboardBodyError; warnings come back in the document.
func parseDashboardBody(body string) (*dashboardDoc, error) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &DashboardBodyError{}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &DashboardBodyError{}
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, &DashboardBodyError{}
	}
	d := &dashboardDoc{}
	d.check(root)
	if len(d.errs) > 0 {
		return nil, &DashboardBodyError{Messages: d.errs}
	}
	return d, nil
}

// at appends a JSON-pointer reference token to path.
func at(path string, key any) string {
	s := fmt.Sprint(key)
	s = strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
	return path + "/" + s
}

// The checks below report in the style of CloudWatch's own messages
// (JSON-schema wording: "Should have required property 'region'").

func (d *dashboardDoc) object(path string, v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(path, "Should be object")
	}
	return m, ok
}

func (d *dashboardDoc) array(path string, v any, minItems, maxItems int) ([]any, bool) {
	a, ok := v.([]any)
	switch {
	case !ok:
		d.fail(path, "Should be array")
	case len(a) < minItems:
		d.fail(path, "Should NOT have fewer than %d items", minItems)
		return a, false
	case maxItems > 0 && len(a) > maxItems:
		d.fail(path, "Should NOT have more than %d items", maxItems)
		return a, false
	}
	return a, ok
}

func (d *dashboardDoc) str(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.fail(path, "Should be string")
	}
	return s, ok
}

func (d *dashboardDoc) boolean(path string, v any) {
	if _, ok := v.(bool); !ok {
		d.fail(path, "Should be boolean")
	}
}

func (d *dashboardDoc) number(path string, v any) {
	n, ok := v.(json.Number)
	if _, err := n.Float64(); !ok || err != nil {
		d.fail(path, "Should be number")
	}
}

// integer checks an integer within [lo, hi]; hi < lo means no upper bound.
func (d *dashboardDoc) integer(path string, v any, lo, hi int64) (int64, bool) {
	n, ok := v.(json.Number)
	i, err := n.Int64()
	switch {
	case !ok || err != nil:
		d.fail(path, "Should be integer")
		return 0, false
	case i < lo:
		d.fail(path, "Should be >= %d", lo)
		return 0, false
	case hi >= lo && i > hi:
		d.fail(path, "Should be <= %d", hi)
		return 0, false
	}
	return i, true
}

func (d *dashboardDoc) enum(path string, v any, allowed ...string) (string, bool) {
	s, ok := v.(string)
	if !ok || !slices.Contains(allowed, s) {
		d.fail(path, "Should be equal to one of the allowed values: %s", strings.Join(allowed, ", "))
		return "", false
	}
	return s, true
}

func (d *dashboardDoc) pattern(path string, v any, re *regexp.Regexp, what string) {
	if s, ok := d.str(path, v); ok && !re.MatchString(s) {
		d.fail(path, "Should be %s", what)
	}
}

// stat checks a statistic name.
func (d *dashboardDoc) stat(path string, v any) (string, bool) {
	s, ok := d.str(path, v)
	if !ok {
		return "", false
	}
	if _, known := parseStat(s); !known && !extendedStatPattern.MatchString(s) {
		d.fail(path, "Should be a valid CloudWatch statistic: SampleCount, Average, Sum, Minimum, Maximum or pNN")
		return "", false
	}
	return s, true
}

// period checks a graph period in seconds: 1, 5, 10 or 30 for
// high-resolution metrics, or a multiple of 60.
func (d *dashboardDoc) period(path string, v any) (int32, bool) {
	p, ok := d.integer(path, v, 1, 1<<31-1)
	if !ok {
		return 0, false
	}
	switch {
	case p == 1 || p == 5 || p == 10 || p == 30 || p%60 == 0:
		return int32(p), true
	}
	d.fail(path, "Should be 1, 5, 10, 30 or a multiple of 60")
	return 0, false
}

// dateTime checks an ISO 8601 date and time.
func (d *dashboardDoc) dateTime(path string, v any) {
	if s, ok := d.str(path, v); ok {
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			d.fail(path, `Should match format "date-time"`)
		}
	}
}

func (d *dashboardDoc) required(path string, m map[string]any, keys ...string) bool {
	all := true
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			d.fail(path, "Should have required property '%s'", k)
			all = false
		}
	}
	return all
}

// check validates the top level of a body.
func (d *dashboardDoc) check(root map[string]any) {
	if v, ok := root["start"]; ok {
		if s, ok := d.str("/start", v); ok && (len(s) <= 2 || !relativeStart.MatchString(s)) {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				d.fail("/start", `Should be a relative time such as -PT6H or -P7D, or an ISO 8601 date-time`)
			}
		}
	}
	if v, ok := root["end"]; ok {
		d.dateTime("/end", v)
		if _, ok := root["start"]; !ok {
			d.fail("", "Should have property start when property end is present")
		}
	}
	if v, ok := root["periodOverride"]; ok {
		d.enum("/periodOverride", v, "auto", "inherit")
	}
	if v, ok := root["variables"]; ok {
		if vars, ok := d.array("/variables", v, 0, maxDashboardVariables); ok {
			for i, v := range vars {
				d.variable(at("/variables", i), v)
			}
		}
	}
	if !d.required("", root, "widgets") {
		return
	}
	widgets, ok := d.array("/widgets", root["widgets"], 0, maxDashboardWidgets)
	if !ok {
		return
	}
	for i, w := range widgets {
		d.widget(at("/widgets", i), i, w)
	}
}

// variable checks one dashboard variable.
func (d *dashboardDoc) variable(path string, v any) {
	m, ok := d.object(path, v)
	if !ok || !d.required(path, m, "type", "inputType", "id") {
		return
	}
	typ, _ := d.enum(at(path, "type"), m["type"], "property", "pattern")
	input, _ := d.enum(at(path, "inputType"), m["inputType"], "input", "select", "radio")
	d.pattern(at(path, "id"), m["id"], variableIDPattern, "at most 32 characters of 0-9, A-Z, a-z, - and _")
	if typ != "" {
		d.required(path, m, typ)
		if s, ok := m[typ]; ok {
			d.str(at(path, typ), s)
		}
	}
	if l, ok := m["label"]; ok {
		if s, ok := d.str(at(path, "label"), l); ok && len(s) > 30 {
			d.fail(at(path, "label"), "Should NOT be longer than 30 characters")
		}
	}
	if vs, ok := m["values"]; ok {
		if values, ok := d.array(at(path, "values"), vs, 1, 500); ok {
			for i, e := range values {
				if em, ok := d.object(at(at(path, "values"), i), e); ok {
					d.required(at(at(path, "values"), i), em, "value")
				}
			}
		}
	}
	if s, ok := m["search"]; ok {
		if q, ok := d.str(at(path, "search"), s); ok && len(q) > 2048 {
			d.fail(at(path, "search"), "Should NOT be longer than 2048 characters")
		}
	}
	if s, ok := m["populateFrom"]; ok {
		d.str(at(path, "populateFrom"), s)
	}
	if b, ok := m["visible"]; ok {
		d.boolean(at(path, "visible"), b)
	}
	if input == "select" || input == "radio" {
		_, values := m["values"]
		_, search := m["search"]
		switch {
		case !values && !search:
			d.fail(path, "Should have required property 'values'")
		case search:
			d.required(path, m, "populateFrom")
		}
	}
}

// widget checks one widget and, for a metric widget, collects its metrics.
func (d *dashboardDoc) widget(path string, index int, v any) {
	w, ok := d.object(path, v)
	if !ok {
		return
	}
	_, hasX := w["x"]
	_, hasY := w["y"]
	if hasX {
		d.integer(at(path, "x"), w["x"], 0, gridColumns-1)
		if !hasY {
			d.fail(path, "Should have property y when property x is present")
		}
	}
	if hasY {
		d.integer(at(path, "y"), w["y"], 0, -1)
		if !hasX {
			d.fail(path, "Should have property x when property y is present")
		}
	}
	if v, ok := w["width"]; ok {
		d.integer(at(path, "width"), v, 1, gridColumns)
	}
	if v, ok := w["height"]; ok {
		d.integer(at(path, "height"), v, 1, maxWidgetHeight)
	}
	if !d.required(path, w, "type", "properties") {
		return
	}
	typ, ok := d.enum(at(path, "type"), w["type"], "metric", "text", "log", "alarm", "explorer", "custom")
	props, isObject := d.object(at(path, "properties"), w["properties"])
	if !ok || !isObject {
		return
	}
	pp := at(path, "properties")
	if v, ok := props["title"]; ok {
		d.str(at(pp, "title"), v)
	}
	switch typ {
	case "metric":
		d.metricWidget(pp, index, props)
	case "text":
		if d.required(pp, props, "markdown") {
			d.str(at(pp, "markdown"), props["markdown"])
		}
		if v, ok := props["background"]; ok {
			d.enum(at(pp, "background"), v, "solid", "transparent")
		}
	case "log":
		if d.required(pp, props, "query", "region") {
			d.str(at(pp, "query"), props["query"])
			d.str(at(pp, "region"), props["region"])
		}
		if v, ok := props["view"]; ok {
			d.enum(at(pp, "view"), v, "table", "timeSeries", "bar", "pie")
		}
	case "alarm":
		if d.required(pp, props, "alarms") {
			d.alarmARNs(at(pp, "alarms"), props["alarms"], 1, maxAlarmWidgetAlarms)
		}
		if v, ok := props["sortBy"]; ok {
			d.enum(at(pp, "sortBy"), v, "default", "stateUpdatedTimestamp", "timestamp")
		}
		if v, ok := props["states"]; ok {
			if states, ok := d.array(at(pp, "states"), v, 0, 0); ok {
				for i, s := range states {
					d.enum(at(at(pp, "states"), i), s, "ALARM", "INSUFFICIENT_DATA", "OK")
				}
			}
		}
	case "explorer":
		d.explorerWidget(pp, props)
	}
	// A custom widget's properties belong to the Lambda function that
	// draws it; CloudWatch documents no structure for them to check.
}

// alarmARNs checks a list of alarm ARNs.
func (d *dashboardDoc) alarmARNs(path string, v any, minItems, maxItems int) []any {
	arns, ok := d.array(path, v, minItems, maxItems)
	if !ok {
		return nil
	}
	for i, a := range arns {
		d.pattern(at(path, i), a, alarmARNPattern, "a CloudWatch alarm ARN (arn:aws:cloudwatch:region:account:alarm:name)")
	}
	return arns
}

// metricWidgetDefaults are what a metric widget's metrics inherit.
type metricWidgetDefaults struct {
	index         int
	title, region string
	stat          string
	period        int32
}

// metricWidget checks a metric widget's properties and collects its
// metrics.
func (d *dashboardDoc) metricWidget(pp string, index int, props map[string]any) {
	def := metricWidgetDefaults{index: index, stat: defaultWidgetStat, period: defaultWidgetPeriod}
	def.title, _ = props["title"].(string)
	if d.required(pp, props, "region") {
		def.region, _ = d.str(at(pp, "region"), props["region"])
	}
	if v, ok := props["stat"]; ok {
		if s, ok := d.stat(at(pp, "stat"), v); ok {
			def.stat = s
		}
	}
	if v, ok := props["period"]; ok {
		if p, ok := d.period(at(pp, "period"), v); ok {
			def.period = p
		}
	}
	view := "timeSeries"
	if v, ok := props["view"]; ok {
		view, _ = d.enum(at(pp, "view"), v, "timeSeries", "singleValue", "gauge", "bar", "pie", "table")
	}
	for _, k := range []string{"stacked", "liveData", "sparkline"} {
		if v, ok := props[k]; ok {
			d.boolean(at(pp, k), v)
		}
	}
	if v, ok := props["accountId"]; ok {
		d.str(at(pp, "accountId"), v)
	}
	if v, ok := props["timezone"]; ok {
		d.pattern(at(pp, "timezone"), v, timezonePattern, "+ or - and four digits, such as +0130")
	}
	if v, ok := props["legend"]; ok {
		if m, ok := d.object(at(pp, "legend"), v); ok {
			if pos, ok := m["position"]; ok {
				d.enum(at(at(pp, "legend"), "position"), pos, "right", "bottom", "hidden")
			}
		}
	}
	var axes map[string]any
	if v, ok := props["yAxis"]; ok {
		axes = d.yAxis(at(pp, "yAxis"), v)
	}
	if v, ok := props["table"]; ok {
		d.table(at(pp, "table"), v)
	}
	alarmAnnotation := false
	if v, ok := props["annotations"]; ok {
		alarmAnnotation = d.annotations(at(pp, "annotations"), v)
	}
	metrics, hasMetrics := props["metrics"]
	switch {
	case hasMetrics && alarmAnnotation:
		d.fail(at(pp, "metrics"), "A widget with an alarm annotation cannot also have a metrics array")
	case hasMetrics:
		if rows, ok := d.array(at(pp, "metrics"), metrics, 0, maxWidgetMetrics); ok {
			d.metricRows(at(pp, "metrics"), rows, def)
		}
	case !alarmAnnotation:
		d.fail(pp, "The metric widget should have specified a region and a data source or an alarm annotation.")
	}
	if view == "gauge" {
		if left, _ := axes["left"].(map[string]any); left["min"] == nil || left["max"] == nil {
			d.warn(pp, "A gauge needs yAxis.left.min and yAxis.left.max; without them it does not render")
		}
	}
}

// yAxis checks a yAxis object and returns it (nil when invalid).
func (d *dashboardDoc) yAxis(path string, v any) map[string]any {
	m, ok := d.object(path, v)
	if !ok {
		return nil
	}
	for _, side := range []string{"left", "right"} {
		sv, ok := m[side]
		if !ok {
			continue
		}
		s, ok := d.object(at(path, side), sv)
		if !ok {
			continue
		}
		for _, k := range []string{"min", "max"} {
			if n, ok := s[k]; ok {
				d.number(at(at(path, side), k), n)
			}
		}
		if l, ok := s["label"]; ok {
			d.str(at(at(path, side), "label"), l)
		}
		if b, ok := s["showUnits"]; ok {
			d.boolean(at(at(path, side), "showUnits"), b)
		}
	}
	return m
}

// table checks a metric widget's table settings.
func (d *dashboardDoc) table(path string, v any) {
	m, ok := d.object(path, v)
	if !ok {
		return
	}
	if l, ok := m["layout"]; ok {
		d.enum(at(path, "layout"), l, "vertical", "horizontal")
	}
	for _, k := range []string{"stickySummary", "showTimeSeriesData"} {
		if b, ok := m[k]; ok {
			d.boolean(at(path, k), b)
		}
	}
	if c, ok := m["summaryColumns"]; ok {
		if cols, ok := d.array(at(path, "summaryColumns"), c, 0, 0); ok {
			for i, col := range cols {
				d.enum(at(at(path, "summaryColumns"), i), col, "MIN", "MAX", "SUM", "AVG")
			}
		}
	}
}

// annotations checks a metric widget's annotations and reports whether
// they hold an alarm.
func (d *dashboardDoc) annotations(path string, v any) bool {
	m, ok := d.object(path, v)
	if !ok {
		return false
	}
	alarm := false
	if a, ok := m["alarms"]; ok {
		alarm = len(d.alarmARNs(at(path, "alarms"), a, 0, 1)) > 0
	}
	lines := false
	for _, dir := range []string{"horizontal", "vertical"} {
		lv, ok := m[dir]
		if !ok {
			continue
		}
		list, ok := d.array(at(path, dir), lv, 0, 0)
		if !ok {
			continue
		}
		lines = lines || len(list) > 0
		for i, a := range list {
			ap := at(at(path, dir), i)
			if band, isBand := a.([]any); isBand {
				if len(band) != 2 {
					d.fail(ap, "A band annotation should have exactly 2 items")
					continue
				}
				for j, edge := range band {
					d.annotation(at(ap, j), dir, edge)
				}
				continue
			}
			d.annotation(ap, dir, a)
		}
	}
	if alarm && lines {
		d.fail(path, "A widget cannot have both an alarm annotation and horizontal or vertical annotations")
	}
	return alarm
}

// annotation checks one horizontal or vertical annotation line.
func (d *dashboardDoc) annotation(path, dir string, v any) {
	m, ok := d.object(path, v)
	if !ok || !d.required(path, m, "value") {
		return
	}
	fills := []string{"above", "below", "none"}
	if dir == "horizontal" {
		d.number(at(path, "value"), m["value"])
		if y, ok := m["yAxis"]; ok {
			d.enum(at(path, "yAxis"), y, "left", "right")
		}
	} else {
		d.dateTime(at(path, "value"), m["value"])
		fills = []string{"before", "after", "none"}
	}
	if f, ok := m["fill"]; ok {
		d.enum(at(path, "fill"), f, fills...)
	}
	if l, ok := m["label"]; ok {
		d.str(at(path, "label"), l)
	}
	if c, ok := m["color"]; ok {
		d.pattern(at(path, "color"), c, colorPattern, "a six-digit HTML hex color such as #9467bd")
	}
	if b, ok := m["visible"]; ok {
		d.boolean(at(path, "visible"), b)
	}
}

// renderingKeys are the members of a metric's rendering properties object;
// CloudWatch refuses others (a "dimensions" object there is a common
// mistake: dimensions go in the array itself).
var renderingKeys = []string{"accountId", "color", "id", "label", "period", "region", "stat", "visible", "yAxis"}

// metricRows checks a metrics array, expanding "." and "..." from the
// previous metric, and collects the metrics.
func (d *dashboardDoc) metricRows(path string, rows []any, def metricWidgetDefaults) {
	var prev []string
	for i, r := range rows {
		rp := at(path, i)
		row, ok := d.array(rp, r, 1, 0)
		if !ok {
			continue
		}
		if expr, ok := row[0].(map[string]any); ok {
			if len(row) > 1 {
				d.fail(rp, "Should NOT have more than 1 items")
				continue
			}
			if d.required(at(rp, 0), expr, "expression") {
				if s, ok := d.str(at(at(rp, 0), "expression"), expr["expression"]); ok && s == "" {
					d.fail(at(at(rp, 0), "expression"), "Should NOT be shorter than 1 characters")
				}
			}
			d.rendering(at(rp, 0), expr, true)
			continue
		}
		var fields []string
		var opts map[string]any
		valid := true
		for j, f := range row {
			switch f := f.(type) {
			case string:
				fields = append(fields, f)
				continue
			case map[string]any:
				if j == len(row)-1 {
					opts = f
					continue
				}
			}
			d.fail(at(rp, j), `Invalid metric field type, only "String" type is allowed`)
			valid = false
		}
		if !valid {
			continue
		}
		fields, msg := expandShorthand(fields, prev)
		switch {
		case msg != "":
			d.fail(rp, "%s", msg)
			continue
		case len(fields) < 2:
			d.fail(rp, "Should NOT have fewer than 2 items: a metric is a namespace and a metric name, then dimension name and value pairs")
			continue
		case len(fields)%2 != 0:
			d.fail(rp, "The dimension name %q has no value", fields[len(fields)-1])
			continue
		case fields[0] == "" || fields[1] == "":
			d.fail(rp, "The namespace and metric name should NOT be empty")
			continue
		}
		prev = fields
		if opts != nil && !d.rendering(at(rp, len(row)-1), opts, false) {
			continue
		}
		m := DashboardMetric{Widget: def.index, Title: def.title, Region: def.region,
			Namespace: fields[0], MetricName: fields[1], Dimensions: map[string]string{},
			Stat: def.stat, Period: def.period}
		for k := 2; k < len(fields); k += 2 {
			if _, dup := m.Dimensions[fields[k]]; dup {
				d.warn(rp, "The dimension %s appears twice; a CloudWatch metric has each dimension once, so the graph finds no data", fields[k])
			}
			m.Dimensions[fields[k]] = fields[k+1]
		}
		if s, ok := opts["stat"].(string); ok {
			m.Stat = s
		}
		if p, ok := opts["period"].(json.Number); ok {
			n, _ := p.Int64() // checked by rendering
			m.Period = int32(n)
		}
		if l, ok := opts["label"].(string); ok {
			m.Label = l
		}
		if r, ok := opts["region"].(string); ok {
			m.Region = r
		}
		d.metrics = append(d.metrics, m)
	}
}

// expandShorthand expands the console's shorthands against the previous
// metric's fields: "." repeats the field at the same position, and one
// "..." stands for as many of the previous metric's fields as make the
// row as long as it (["...", "i-2"] after ["AWS/EC2", "CPUUtilization",
// "InstanceId", "i-1"] is the same metric for i-2), at least one. It
// returns a message when a shorthand has nothing to repeat.
func expandShorthand(fields, prev []string) ([]string, string) {
	if i := slices.Index(fields, "..."); i >= 0 {
		before, after := fields[:i], fields[i+1:]
		if slices.Contains(after, "...") {
			return nil, `Only one "..." is allowed in a metric`
		}
		if len(before)+len(after) >= len(prev) {
			return nil, `"..." repeats fields of the previous metric in the array, which has too few to fill it`
		}
		fields = slices.Concat(before, prev[len(before):len(prev)-len(after)], after)
	}
	out := slices.Clone(fields)
	for i, f := range out {
		if f != "." {
			continue
		}
		if i >= len(prev) {
			return nil, `"." repeats the field at the same position of the previous metric in the array, which has none there`
		}
		out[i] = prev[i]
	}
	return out, ""
}

// rendering checks a metric's rendering properties, or an expression's,
// which also hold the expression itself (checked by the caller); it
// reports whether they are valid.
func (d *dashboardDoc) rendering(path string, m map[string]any, expression bool) bool {
	before := len(d.errs)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, kp := m[k], at(path, k)
		switch k {
		case "accountId", "label", "region":
			d.str(kp, v)
		case "id":
			d.pattern(kp, v, metricIDPattern, "an id that starts with a lowercase letter, then letters, digits and _")
		case "color":
			d.pattern(kp, v, colorPattern, "a six-digit HTML hex color such as #9467bd")
		case "period":
			d.period(kp, v)
		case "stat":
			d.stat(kp, v)
		case "visible":
			d.boolean(kp, v)
		case "yAxis":
			d.enum(kp, v, "left", "right")
		default:
			if k == "expression" && expression {
				continue
			}
			d.fail(kp, "%q is not a rendering property of a metric (%s); dimensions go in the array as name and value pairs", k, strings.Join(renderingKeys, ", "))
		}
	}
	return len(d.errs) == before
}

// explorerWidget checks a metrics explorer widget's properties.
func (d *dashboardDoc) explorerWidget(pp string, props map[string]any) {
	if !d.required(pp, props, "metrics", "labels") {
		return
	}
	if metrics, ok := d.array(at(pp, "metrics"), props["metrics"], 1, maxExplorerMetrics); ok {
		resourceType := ""
		for i, v := range metrics {
			mp := at(at(pp, "metrics"), i)
			m, ok := d.object(mp, v)
			if !ok || !d.required(mp, m, "metricName", "resourceType") {
				continue
			}
			d.str(at(mp, "metricName"), m["metricName"])
			if rt, ok := d.str(at(mp, "resourceType"), m["resourceType"]); ok {
				if resourceType == "" {
					resourceType = rt
				} else if rt != resourceType {
					d.fail(at(mp, "resourceType"), "All metrics of an explorer widget should have the same resourceType (%s)", resourceType)
				}
			}
			if s, ok := m["stat"]; ok {
				d.stat(at(mp, "stat"), s)
			}
		}
	}
	if labels, ok := d.array(at(pp, "labels"), props["labels"], 0, 0); ok {
		for i, v := range labels {
			lp := at(at(pp, "labels"), i)
			if m, ok := d.object(lp, v); ok && d.required(lp, m, "key") {
				d.str(at(lp, "key"), m["key"])
			}
		}
	}
	if v, ok := props["aggregateBy"]; ok {
		if m, ok := d.object(at(pp, "aggregateBy"), v); ok {
			if k, ok := m["key"]; ok {
				d.str(at(at(pp, "aggregateBy"), "key"), k)
			}
			if f, ok := m["func"]; ok {
				d.enum(at(at(pp, "aggregateBy"), "func"), f, "AVG", "MIN", "MAX", "STDDEV", "SUM")
			}
		}
	}
	if v, ok := props["period"]; ok {
		d.period(at(pp, "period"), v)
	}
	if v, ok := props["splitBy"]; ok {
		d.str(at(pp, "splitBy"), v)
	}
	if v, ok := props["widgetOptions"]; ok {
		op := at(pp, "widgetOptions")
		if m, ok := d.object(op, v); ok {
			if view, ok := m["view"]; ok {
				d.enum(at(op, "view"), view, "timeSeries", "bar", "pie")
			}
			if b, ok := m["stacked"]; ok {
				d.boolean(at(op, "stacked"), b)
			}
			for _, k := range []string{"rowsPerPage", "widgetsPerRow"} {
				if n, ok := m[k]; ok {
					d.integer(at(op, k), n, 1, -1)
				}
			}
		}
	}
}
