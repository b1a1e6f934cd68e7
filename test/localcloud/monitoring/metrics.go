package monitoring

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/phoenix-rollouts/phoenix/test/localcloud/api"
)

// Limits CloudWatch documents for metric data.
const (
	maxMetricDataPerPut   = 1000
	maxDimensions         = 30
	maxValuesPerDatum     = 150
	maxQueries            = 500
	defaultMaxDatapoints  = 100800
	listMetricsPageSize   = 500
	retention             = 15 * 24 * time.Hour
	maxPastTimestamp      = 14 * 24 * time.Hour
	maxFutureTimestamp    = 2 * time.Hour
	recentlyActiveHorizon = 3 * time.Hour
	// listedAfterLastPut is how long ListMetrics lists a metric after
	// its last datapoint was put: "Metrics that have not had any new data
	// points in the past two weeks do not appear" (ListMetrics).
	listedAfterLastPut = 14 * 24 * time.Hour
)

// floorTo rounds t down to a whole multiple of d since the Unix epoch, the
// alignment CloudWatch gives periods.
func floorTo(t time.Time, d time.Duration) time.Time {
	secs := int64(d / time.Second)
	if secs <= 0 {
		return t
	}
	u := t.Unix()
	m := u % secs
	if m < 0 {
		m += secs
	}
	return time.Unix(u-m, 0).UTC()
}

// valueLimit is the magnitude CloudWatch accepts for a value: 2^360.
var valueLimit = math.Pow(2, 360)

// series is one metric (namespace, name and dimension set) and its raw
// datapoints, oldest first.
type series struct {
	namespace string
	name      string
	dims      []dim
	samples   []sample
	lastPut   time.Time
}

// dim is one dimension.
type dim struct{ name, value string }

// sample is one published datapoint: a single value, raw values with their
// counts, or a statistic set. It is kept small (32 bytes) because a fleet
// publishes a datapoint per instance and metric every minute and CloudWatch
// keeps them for 15 days: a single value, by far the most common, needs
// nothing beyond v.
type sample struct {
	// sec and nsec are the datapoint's timestamp (Unix seconds, and
	// nanoseconds within the second).
	sec int64
	// v is a single value's value, or the sum of the values or set.
	v float64
	// set holds the rest of a datapoint that is not a single value; nil
	// for a single value (count 1, minimum and maximum v).
	set  *sampleSet
	nsec int32
	// unit indexes units.
	unit uint16
}

// stamp returns the sec and nsec of t.
func stamp(t time.Time) (int64, int32) { return t.Unix(), int32(t.Nanosecond()) }

// before reports whether s's timestamp is before (sec, nsec).
func (s sample) before(sec int64, nsec int32) bool {
	return s.sec < sec || (s.sec == sec && s.nsec < nsec)
}

// sampleSet is what a datapoint of several values or a statistic set holds
// beyond its sum, in one slice: a fleet's latency distributions are most of
// what a long simulation keeps.
type sampleSet struct {
	// n is the number of a distribution's values; statisticSet for a
	// statistic set, over which no percentile can be computed.
	n int
	// vals holds a distribution's n values, then their counts unless
	// every count is 1; or a statistic set's SampleCount, Minimum and
	// Maximum.
	vals []float64
}

// statisticSet is sampleSet.n for a statistic set.
const statisticSet = -1

// units interns the units datapoints carry, so that a sample holds a small
// index instead of a string: there are a few dozen CloudWatch units, and
// every datapoint names one.
var units = struct {
	sync.Mutex
	codes map[string]uint16
}{codes: map[string]uint16{"": 0}}

// unitCode returns the index of unit, adding it on first use.
func unitCode(unit string) uint16 {
	units.Lock()
	defer units.Unlock()
	if c, ok := units.codes[unit]; ok {
		return c
	}
	if len(units.codes) > math.MaxUint16 {
		// Units are checked against CloudWatch's list before they get
		// here; this is never reached.
		panic("monitoring: more than 65536 distinct units")
	}
	c := uint16(len(units.codes))
	units.codes[unit] = c
	return c
}

// knownUnit returns the index of unit and whether any datapoint carries it.
func knownUnit(unit string) (uint16, bool) {
	units.Lock()
	defer units.Unlock()
	c, ok := units.codes[unit]
	return c, ok
}

// metricKey identifies a metric within a region, whatever the order its
// dimensions were given in.
func metricKey(namespace, name string, dims []dim) string {
	n := len(namespace) + 1 + len(name)
	for _, d := range dims {
		n += 2 + len(d.name) + len(d.value)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(namespace)
	b.WriteByte(0)
	b.WriteString(name)
	for _, d := range dims {
		b.WriteByte(0)
		b.WriteString(d.name)
		b.WriteByte('=')
		b.WriteString(d.value)
	}
	return b.String()
}

// sortDims returns dims sorted by name.
func sortDims(dims []dim) []dim {
	out := append([]dim(nil), dims...)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// dimsFrom converts SDK dimensions.
func dimsFrom(in []types.Dimension) []dim {
	out := make([]dim, 0, len(in))
	for _, d := range in {
		out = append(out, dim{aws.ToString(d.Name), aws.ToString(d.Value)})
	}
	return sortDims(out)
}

// sdkDims converts dimensions back to the SDK's type.
func sdkDims(dims []dim) []types.Dimension {
	out := make([]types.Dimension, 0, len(dims))
	for _, d := range dims {
		out = append(out, types.Dimension{Name: aws.String(d.name), Value: aws.String(d.value)})
	}
	return out
}

// checkDims applies CloudWatch's dimension rules; field names the request
// member for messages.
func checkDims(in []types.Dimension, field string) error {
	if len(in) > maxDimensions {
		return invalidValue("The collection %s must not have a size greater than %d.", field, maxDimensions)
	}
	seen := map[string]bool{}
	for i, d := range in {
		n, v := aws.ToString(d.Name), aws.ToString(d.Value)
		member := fmt.Sprintf("%s.member.%d", field, i+1)
		if d.Name == nil {
			return missingParameter(member + ".Name")
		}
		if d.Value == nil {
			return missingParameter(member + ".Value")
		}
		if len(n) < 1 || len(n) > 255 {
			return invalidValue("The parameter %s.Name must be between 1 and 255 characters long.", member)
		}
		if len(v) < 1 || len(v) > 1024 {
			return invalidValue("The parameter %s.Value must be between 1 and 1024 characters long.", member)
		}
		if seen[n] {
			return invalidCombination("No Metric may specify the same dimension name twice; %s is repeated.", n)
		}
		seen[n] = true
	}
	return nil
}

// checkUnit reports whether u is a CloudWatch unit (or empty).
func checkUnit(u types.StandardUnit, field string) error {
	if u == "" {
		return nil
	}
	for _, v := range u.Values() {
		if v == u {
			return nil
		}
	}
	return invalidValue("The value %s for parameter %s is invalid.", u, field)
}

// checkValue rejects the values CloudWatch refuses: NaN, infinities and
// magnitudes beyond 2^360.
func checkValue(v float64, field string) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > valueLimit {
		return invalidValue("The value %s for parameter %s is invalid.", strconv.FormatFloat(v, 'g', -1, 64), field)
	}
	return nil
}

// PutMetricData publishes datapoints to custom metrics. It applies
// CloudWatch's documented rules: a namespace is required and may not begin
// with "AWS/", at most 1000 datums per call, at most 30 dimensions, Value,
// Values and StatisticValues are mutually exclusive, Values holds at most
// 150 entries and Counts matches it, timestamps may be at most two weeks old
// and two hours ahead, and NaN or infinite values are refused.
func (cw *CloudWatch) PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	// Not api.Begin: validation reads the clock (its own lock) before mu is taken.
	if in == nil {
		in = &cloudwatch.PutMetricDataInput{}
	}
	ns := aws.ToString(in.Namespace)
	if in.Namespace == nil {
		return nil, missingParameter("Namespace")
	}
	if len(ns) < 1 || len(ns) > 255 || strings.HasPrefix(ns, ":") || strings.TrimSpace(ns) == "" {
		return nil, invalidValue("The value %s for parameter Namespace is invalid.", ns)
	}
	if strings.HasPrefix(ns, "AWS/") {
		return nil, invalidValue("The value %s for parameter Namespace is invalid. Namespaces beginning with AWS/ are reserved for use by Amazon Web Services products.", ns)
	}
	if len(in.MetricData) == 0 {
		return nil, missingParameter("MetricData")
	}
	if len(in.MetricData) > maxMetricDataPerPut {
		return nil, invalidValue("The collection MetricData must not have a size greater than %d.", maxMetricDataPerPut)
	}
	now := cw.clk.Now()
	samples := make([]Sample, 0, len(in.MetricData))
	raws := make([]sample, 0, len(in.MetricData))
	for i, d := range in.MetricData {
		s, raw, err := checkDatum(d, i+1, now)
		if err != nil {
			return nil, err
		}
		s.Region, s.Namespace = api.Region(ctx), ns
		samples = append(samples, s)
		raws = append(raws, raw)
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	for i, s := range samples {
		cw.storeRaw(s, raws[i])
	}
	return &cloudwatch.PutMetricDataOutput{}, nil
}

// checkDatum validates one MetricDatum (member n) and converts it.
func checkDatum(d types.MetricDatum, n int, now time.Time) (Sample, sample, error) {
	m := fmt.Sprintf("MetricData.member.%d", n)
	name := aws.ToString(d.MetricName)
	if d.MetricName == nil {
		return Sample{}, sample{}, missingParameter(m + ".MetricName")
	}
	if len(name) < 1 || len(name) > 255 {
		return Sample{}, sample{}, invalidValue("The parameter %s.MetricName must be between 1 and 255 characters long.", m)
	}
	if err := checkDims(d.Dimensions, m+".Dimensions"); err != nil {
		return Sample{}, sample{}, err
	}
	if err := checkUnit(d.Unit, m+".Unit"); err != nil {
		return Sample{}, sample{}, err
	}
	if r := d.StorageResolution; r != nil && *r != 1 && *r != 60 {
		return Sample{}, sample{}, invalidValue("The value %d for parameter %s.StorageResolution is invalid. Valid values are 1 and 60.", *r, m)
	}
	at := now
	if d.Timestamp != nil {
		at = d.Timestamp.UTC()
		if at.Before(now.Add(-maxPastTimestamp)) {
			return Sample{}, sample{}, invalidValue("The parameter %s.Timestamp must specify a time no more than two weeks in the past.", m)
		}
		if at.After(now.Add(maxFutureTimestamp)) {
			return Sample{}, sample{}, invalidValue("The parameter %s.Timestamp must specify a time no more than two hours in the future.", m)
		}
	}
	given := 0
	for _, set := range []bool{d.Value != nil, len(d.Values) > 0, d.StatisticValues != nil} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return Sample{}, sample{}, missingParameter(m + ".Value")
	case given > 1:
		return Sample{}, sample{}, invalidCombination("The parameters %[1]s.Value, %[1]s.Values and %[1]s.StatisticValues are mutually exclusive and you have specified more than one.", m)
	}
	s := sample{unit: unitCode(string(d.Unit))}
	s.sec, s.nsec = stamp(at)
	switch {
	case d.Value != nil:
		if err := checkValue(*d.Value, m+".Value"); err != nil {
			return Sample{}, sample{}, err
		}
		s.v = *d.Value
	case len(d.Values) > 0:
		if len(d.Values) > maxValuesPerDatum {
			return Sample{}, sample{}, invalidValue("The collection %s.Values must not have a size greater than %d.", m, maxValuesPerDatum)
		}
		if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
			return Sample{}, sample{}, invalidCombination("The parameters %[1]s.Values and %[1]s.Counts must be arrays of the same size.", m)
		}
		for j, v := range d.Values {
			if err := checkValue(v, fmt.Sprintf("%s.Values.member.%d", m, j+1)); err != nil {
				return Sample{}, sample{}, err
			}
			if len(d.Counts) > 0 {
				if c := d.Counts[j]; math.IsNaN(c) || math.IsInf(c, 0) || c < 0 {
					return Sample{}, sample{}, invalidValue("The value %v for parameter %s.Counts.member.%d is invalid.", c, m, j+1)
				}
			}
		}
		s.v, s.set = distribution(d.Values, d.Counts)
	default:
		sv := d.StatisticValues
		if sv.SampleCount == nil || sv.Sum == nil || sv.Minimum == nil || sv.Maximum == nil {
			return Sample{}, sample{}, missingParameter(m + ".StatisticValues (SampleCount, Sum, Minimum and Maximum)")
		}
		for field, v := range map[string]float64{"SampleCount": *sv.SampleCount, "Sum": *sv.Sum, "Minimum": *sv.Minimum, "Maximum": *sv.Maximum} {
			if err := checkValue(v, m+".StatisticValues."+field); err != nil {
				return Sample{}, sample{}, err
			}
		}
		if *sv.SampleCount <= 0 {
			return Sample{}, sample{}, invalidValue("The parameter %s.StatisticValues.SampleCount must be greater than 0.", m)
		}
		if *sv.Minimum > *sv.Maximum {
			return Sample{}, sample{}, invalidValue("The parameter %s.StatisticValues.Minimum must be less than or equal to Maximum.", m)
		}
		s.v, s.set = *sv.Sum, &sampleSet{n: statisticSet, vals: []float64{*sv.SampleCount, *sv.Minimum, *sv.Maximum}}
	}
	dims := map[string]string{}
	for _, dd := range d.Dimensions {
		dims[aws.ToString(dd.Name)] = aws.ToString(dd.Value)
	}
	return Sample{MetricName: name, Dimensions: dims, Timestamp: at, Unit: string(d.Unit)}, s, nil
}

// distribution returns the sum of values weighted by counts (nil: each
// once) and the set that keeps them.
func distribution(values, counts []float64) (float64, *sampleSet) {
	ones := true
	for _, c := range counts {
		ones = ones && c == 1
	}
	set := &sampleSet{n: len(values)}
	if ones {
		set.vals = slices.Clone(values)
	} else {
		set.vals = slices.Concat(values, counts)
	}
	sum := 0.0
	for i, v := range values {
		if ones {
			sum += v
		} else {
			sum += v * counts[i]
		}
	}
	return sum, set
}

// storeSample records a built-in datapoint; mu is held.
func (cw *CloudWatch) storeSample(s Sample) {
	raw := sample{v: s.Value, unit: unitCode(s.Unit)}
	raw.sec, raw.nsec = stamp(s.Timestamp)
	if len(s.Values) > 0 {
		raw.v, raw.set = distribution(s.Values, s.Counts)
	}
	cw.storeRaw(s, raw)
}

// Record stores datapoints that AWS services publish on their own
// (AWS/Lambda, AWS/States, AWS/DynamoDB) or that CloudWatch Logs extracts
// from embedded metric format lines (see ExtractEMF). Each keeps its own
// Timestamp, to the nanosecond: like datapoints given to PutMetricData they
// are aggregated into periods only when read, so an alarm sees an event in
// the period it happened in. Samples are trusted: callers build them from
// their own records or from ExtractEMF, which has validated them.
//
// Record takes only the state lock and calls out to nothing, so a service
// may record while holding its own lock, and from work that CloudWatch's
// own events set off (an alarm's state change reaches EventBridge, which
// may invoke a function that records its metrics).
func (cw *CloudWatch) Record(samples ...Sample) {
	if len(samples) == 0 {
		return
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	for _, s := range samples {
		cw.storeSample(s)
	}
}

// storeRaw adds a datapoint to its series, keeping samples in time order;
// mu is held.
func (cw *CloudWatch) storeRaw(s Sample, raw sample) {
	dims := make([]dim, 0, len(s.Dimensions))
	for k, v := range s.Dimensions {
		dims = append(dims, dim{k, v})
	}
	// Sorted in place: built-in metrics are recorded for every
	// invocation, and sortDims would copy the slice again.
	slices.SortFunc(dims, func(a, b dim) int { return strings.Compare(a.name, b.name) })
	r := cw.region(s.Region)
	key := metricKey(s.Namespace, s.MetricName, dims)
	ser, ok := r.metrics[key]
	if !ok {
		ser = &series{namespace: s.Namespace, name: s.MetricName, dims: dims}
		r.metrics[key] = ser
	}
	ser.lastPut = cw.clk.Now()
	i := sort.Search(len(ser.samples), func(i int) bool { return raw.before(ser.samples[i].sec, ser.samples[i].nsec) })
	ser.samples = append(ser.samples, sample{})
	copy(ser.samples[i+1:], ser.samples[i:])
	ser.samples[i] = raw
}

// prune drops datapoints older than the retention period, and metrics that
// have neither datapoints nor a put in the last two weeks (ListMetrics no
// longer lists such a metric in AWS), so that the metrics of instances long
// terminated do not pile up over a long simulation.
func (r *regionState) prune(now time.Time) {
	sec, nsec := stamp(now.Add(-retention))
	quiet := now.Add(-listedAfterLastPut)
	for key, ser := range r.metrics {
		i := sort.Search(len(ser.samples), func(i int) bool { return !ser.samples[i].before(sec, nsec) })
		if i > 0 {
			// Reslice rather than copy: prune runs every hour, and
			// copying the whole series each time made long runs
			// quadratic. The dropped head is freed when append next
			// grows the slice; an emptied series lets go of it now.
			ser.samples = ser.samples[i:]
		}
		if len(ser.samples) == 0 {
			ser.samples = nil
			if ser.lastPut.Before(quiet) {
				delete(r.metrics, key)
			}
		}
	}
}

// stat is a parsed statistic: one of the five simple statistics or a
// percentile (pNN).
type stat struct {
	name       string
	percentile float64
	isPct      bool
}

var percentilePattern = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?)$`)

// parseStat parses a statistic as GetMetricData's Stat or an alarm's
// Statistic/ExtendedStatistic names it.
func parseStat(s string) (stat, bool) {
	switch s {
	case "SampleCount", "Average", "Sum", "Minimum", "Maximum":
		return stat{name: s}, true
	}
	if percentilePattern.MatchString(s) {
		p, err := strconv.ParseFloat(s[1:], 64)
		if err == nil && p >= 0 && p <= 100 {
			return stat{name: s, percentile: p, isPct: true}, true
		}
	}
	return stat{}, false
}

// bucket aggregates the samples of one period.
type bucket struct {
	start             time.Time
	count, sum        float64
	min, max          float64
	raw, counts       []float64
	percentilesUsable bool
	hasData           bool
}

// value returns the statistic's value for the bucket; false when it cannot
// be computed (no data, or a percentile over statistic sets, which
// CloudWatch does not compute either).
func (b *bucket) value(st stat) (float64, bool) {
	if !b.hasData {
		return 0, false
	}
	if st.isPct {
		if !b.percentilesUsable || b.count == 0 {
			return 0, false
		}
		return percentile(b.raw, b.counts, st.percentile), true
	}
	switch st.name {
	case "SampleCount":
		return b.count, true
	case "Sum":
		return b.sum, true
	case "Minimum":
		return b.min, true
	case "Maximum":
		return b.max, true
	}
	if b.count == 0 {
		return 0, false
	}
	return b.sum / b.count, true
}

// percentile returns the nearest-rank percentile of weighted values.
func percentile(values, counts []float64, p float64) float64 {
	idx := make([]int, len(values))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return values[idx[a]] < values[idx[b]] })
	total := 0.0
	for _, c := range counts {
		total += c
	}
	rank := math.Ceil(p / 100 * total)
	if rank < 1 {
		rank = 1
	}
	seen := 0.0
	for _, i := range idx {
		seen += counts[i]
		if seen >= rank {
			return values[i]
		}
	}
	return values[idx[len(idx)-1]]
}

// buckets aggregates the series' samples with the given unit (any if
// empty) into periods of length period starting in [start, end), keyed by
// period start. Period starts are multiples of period since the Unix epoch.
func (ser *series) buckets(start, end time.Time, period time.Duration, unit string) map[int64]*bucket {
	out := map[int64]*bucket{}
	code, known := knownUnit(unit)
	if unit != "" && !known {
		return out // no datapoint carries the unit
	}
	startSec, startNsec := stamp(start)
	endSec, endNsec := stamp(end)
	lo := sort.Search(len(ser.samples), func(i int) bool { return !ser.samples[i].before(startSec, startNsec) })
	for _, s := range ser.samples[lo:] {
		if !s.before(endSec, endNsec) {
			break
		}
		if unit != "" && s.unit != code {
			continue
		}
		ps := floorTo(time.Unix(s.sec, int64(s.nsec)), period)
		b, ok := out[ps.Unix()]
		if !ok {
			b = &bucket{start: ps, min: math.Inf(1), max: math.Inf(-1), percentilesUsable: true}
			out[ps.Unix()] = b
		}
		b.hasData = true
		b.sum += s.v
		if s.set == nil {
			b.count++
			b.min = math.Min(b.min, s.v)
			b.max = math.Max(b.max, s.v)
			b.raw = append(b.raw, s.v)
			b.counts = append(b.counts, 1)
			continue
		}
		if s.set.n == statisticSet {
			b.count += s.set.vals[0]
			b.min = math.Min(b.min, s.set.vals[1])
			b.max = math.Max(b.max, s.set.vals[2])
			b.percentilesUsable = false
			continue
		}
		values, counts := s.set.vals[:s.set.n], s.set.vals[s.set.n:]
		for i, v := range values {
			c := 1.0
			if len(counts) > 0 {
				c = counts[i]
			}
			b.counts = append(b.counts, c)
			if c == 0 {
				continue
			}
			b.count += c
			b.min = math.Min(b.min, v)
			b.max = math.Max(b.max, v)
		}
		b.raw = append(b.raw, values...)
	}
	return out
}

// validPeriod reports whether p (seconds) is a period GetMetricData
// accepts: 1, 5, 10, 20, 30 or a multiple of 60.
func validPeriod(p int32) bool {
	switch p {
	case 1, 5, 10, 20, 30:
		return true
	}
	return p > 0 && p%60 == 0
}

var queryIDPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// queryPlan is a validated MetricStat query.
type queryPlan struct {
	id, label  string
	returnData bool
	key        string
	period     time.Duration
	stat       stat
	unit       string
}

// GetMetricData returns the values of MetricStat queries between StartTime
// and EndTime, one value per period that has data, newest first unless
// ScanBy is TimestampAscending. Metric math expressions are refused with
// InvalidParameterValue: the local cloud does not evaluate them.
func (cw *CloudWatch) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	// Not api.Begin: unlocks by hand mid-way and builds the output outside mu.
	if in == nil {
		in = &cloudwatch.GetMetricDataInput{}
	}
	if len(in.MetricDataQueries) == 0 {
		return nil, missingParameter("MetricDataQueries")
	}
	if len(in.MetricDataQueries) > maxQueries {
		return nil, invalidValue("The collection MetricDataQueries must not have a size greater than %d.", maxQueries)
	}
	if in.StartTime == nil {
		return nil, missingParameter("StartTime")
	}
	if in.EndTime == nil {
		return nil, missingParameter("EndTime")
	}
	start, end := in.StartTime.UTC(), in.EndTime.UTC()
	if !start.Before(end) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	scan := in.ScanBy
	switch scan {
	case "":
		scan = types.ScanByTimestampDescending
	case types.ScanByTimestampDescending, types.ScanByTimestampAscending:
	default:
		return nil, invalidValue("The value %s for parameter ScanBy is invalid.", scan)
	}
	maxPoints := defaultMaxDatapoints
	if in.MaxDatapoints != nil {
		if *in.MaxDatapoints < 1 {
			return nil, invalidValue("The parameter MaxDatapoints must be greater than 0.")
		}
		maxPoints = int(*in.MaxDatapoints)
	}
	offset := 0
	if tok := aws.ToString(in.NextToken); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "dp-"))
		if err != nil || n < 0 || !strings.HasPrefix(tok, "dp-") {
			return nil, invalidToken(tok)
		}
		offset = n
	}
	plans, err := planQueries(in.MetricDataQueries)
	if err != nil {
		return nil, err
	}

	cw.mu.Lock()
	r := cw.region(api.Region(ctx))
	type result struct {
		times  []time.Time
		values []float64
	}
	results := make([]result, len(plans))
	for i, p := range plans {
		ser, ok := r.metrics[p.key]
		if !ok || !p.returnData {
			continue
		}
		from := floorTo(start, p.period)
		bs := ser.buckets(from, end, p.period, p.unit)
		keys := make([]int64, 0, len(bs))
		for k := range bs {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(a, b int) bool { return keys[a] < keys[b] })
		if scan == types.ScanByTimestampDescending {
			sort.Slice(keys, func(a, b int) bool { return keys[a] > keys[b] })
		}
		for _, k := range keys {
			if v, ok := bs[k].value(p.stat); ok {
				results[i].times = append(results[i].times, bs[k].start)
				results[i].values = append(results[i].values, v)
			}
		}
	}
	cw.mu.Unlock()

	out := &cloudwatch.GetMetricDataOutput{}
	seen, emitted := 0, 0
	partial := false
	for i, p := range plans {
		if !p.returnData {
			continue
		}
		res := types.MetricDataResult{Id: aws.String(p.id), Label: aws.String(p.label), StatusCode: types.StatusCodeComplete, Timestamps: []time.Time{}, Values: []float64{}}
		for j := range results[i].times {
			seen++
			if seen <= offset {
				continue
			}
			if emitted == maxPoints {
				partial = true
				break
			}
			res.Timestamps = append(res.Timestamps, results[i].times[j])
			res.Values = append(res.Values, results[i].values[j])
			emitted++
		}
		if partial {
			res.StatusCode = types.StatusCodePartialData
		}
		out.MetricDataResults = append(out.MetricDataResults, res)
	}
	if partial {
		out.NextToken = aws.String(fmt.Sprintf("dp-%d", offset+emitted))
	}
	return out, nil
}

// planQueries validates MetricDataQueries.
func planQueries(qs []types.MetricDataQuery) ([]queryPlan, error) {
	ids := map[string]bool{}
	plans := make([]queryPlan, 0, len(qs))
	for i, q := range qs {
		m := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
		id := aws.ToString(q.Id)
		if q.Id == nil {
			return nil, missingParameter(m + ".Id")
		}
		if len(id) > 255 || !queryIDPattern.MatchString(id) {
			return nil, invalidValue("The value %s for parameter %s.Id is invalid. The Id must start with a lowercase letter and contain only letters, numbers and underscores.", id, m)
		}
		if ids[id] {
			return nil, invalidValue("The value %s for parameter %s.Id is not unique.", id, m)
		}
		ids[id] = true
		if q.Expression != nil {
			if q.MetricStat != nil {
				return nil, invalidCombination("The parameters %[1]s.MetricStat and %[1]s.Expression are mutually exclusive and you have specified both.", m)
			}
			return nil, invalidValue("The parameter %s.Expression is not supported by the local cloud: metric math expressions are not evaluated; query the metrics with MetricStat instead.", m)
		}
		ms := q.MetricStat
		if ms == nil {
			return nil, missingParameter(m + ".MetricStat")
		}
		if ms.Metric == nil || ms.Metric.Namespace == nil || ms.Metric.MetricName == nil {
			return nil, missingParameter(m + ".MetricStat.Metric (Namespace and MetricName)")
		}
		if err := checkDims(ms.Metric.Dimensions, m+".MetricStat.Metric.Dimensions"); err != nil {
			return nil, err
		}
		if ms.Period == nil {
			return nil, missingParameter(m + ".MetricStat.Period")
		}
		if !validPeriod(*ms.Period) {
			return nil, invalidValue("The parameter %s.MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of 60.", m)
		}
		if ms.Stat == nil {
			return nil, missingParameter(m + ".MetricStat.Stat")
		}
		st, ok := parseStat(*ms.Stat)
		if !ok {
			return nil, invalidValue("The value %s for parameter %s.MetricStat.Stat is invalid.", *ms.Stat, m)
		}
		if err := checkUnit(ms.Unit, m+".MetricStat.Unit"); err != nil {
			return nil, err
		}
		label := aws.ToString(q.Label)
		if label == "" {
			label = aws.ToString(ms.Metric.MetricName)
		}
		plans = append(plans, queryPlan{
			id:         id,
			label:      label,
			returnData: q.ReturnData == nil || *q.ReturnData,
			key:        metricKey(*ms.Metric.Namespace, *ms.Metric.MetricName, dimsFrom(ms.Metric.Dimensions)),
			period:     time.Duration(*ms.Period) * time.Second,
			stat:       st,
			unit:       string(ms.Unit),
		})
	}
	return plans, nil
}

// ListMetrics lists the region's metrics that match Namespace, MetricName
// and Dimensions filters (a filter without a value matches any value of
// that dimension), 500 per page, sorted by namespace, name and dimensions.
// RecentlyActive PT3H keeps only metrics that received data in the past
// three hours; a metric that received none in the past two weeks is not
// listed at all, as in AWS.
func (cw *CloudWatch) ListMetrics(ctx context.Context, in *cloudwatch.ListMetricsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error) {
	// Not api.Begin: unlocks by hand instead of deferring.
	if in == nil {
		in = &cloudwatch.ListMetricsInput{}
	}
	if len(in.Dimensions) > 10 {
		return nil, invalidValue("The collection Dimensions must not have a size greater than 10.")
	}
	for i, f := range in.Dimensions {
		if f.Name == nil {
			return nil, missingParameter(fmt.Sprintf("Dimensions.member.%d.Name", i+1))
		}
	}
	switch in.RecentlyActive {
	case "", types.RecentlyActivePt3h:
	default:
		return nil, invalidValue("The value %s for parameter RecentlyActive is invalid.", in.RecentlyActive)
	}
	offset := 0
	if tok := aws.ToString(in.NextToken); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "m-"))
		if err != nil || n < 0 || !strings.HasPrefix(tok, "m-") {
			return nil, invalidToken(tok)
		}
		offset = n
	}
	cw.mu.Lock()
	r := cw.region(api.Region(ctx))
	now := cw.clk.Now()
	keys := make([]string, 0, len(r.metrics))
	for k, ser := range r.metrics {
		if in.Namespace != nil && ser.namespace != *in.Namespace {
			continue
		}
		if in.MetricName != nil && ser.name != *in.MetricName {
			continue
		}
		if in.RecentlyActive != "" && ser.lastPut.Before(now.Add(-recentlyActiveHorizon)) {
			continue
		}
		if ser.lastPut.Before(now.Add(-listedAfterLastPut)) {
			continue
		}
		if !dimsMatch(ser.dims, in.Dimensions) {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := &cloudwatch.ListMetricsOutput{Metrics: []types.Metric{}}
	if offset > len(keys) {
		offset = len(keys)
	}
	for _, k := range keys[offset:] {
		if len(out.Metrics) == listMetricsPageSize {
			out.NextToken = aws.String(fmt.Sprintf("m-%d", offset+listMetricsPageSize))
			break
		}
		ser := r.metrics[k]
		out.Metrics = append(out.Metrics, types.Metric{Namespace: aws.String(ser.namespace), MetricName: aws.String(ser.name), Dimensions: sdkDims(ser.dims)})
	}
	cw.mu.Unlock()
	return out, nil
}

// dimsMatch reports whether dims satisfy every filter.
func dimsMatch(dims []dim, filters []types.DimensionFilter) bool {
	for _, f := range filters {
		found := false
		for _, d := range dims {
			if d.name == aws.ToString(f.Name) && (f.Value == nil || d.value == *f.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
