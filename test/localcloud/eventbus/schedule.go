package eventbus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed schedule expression.
type Schedule interface {
	// Next returns the first fire time strictly after the given instant, in
	// UTC, and false if there is none (a cron whose years have all passed).
	// A rate schedule is anchored on its previous fire (or on the instant the
	// rule was created or enabled), so Next(t) is t plus the rate.
	Next(after time.Time) (time.Time, bool)
	// String returns the expression as given.
	String() string
}

// ScheduleError explains why an expression was refused. EventBridge itself
// answers every bad expression with the same ValidationException message,
// "Parameter ScheduleExpression is not valid."; Reason is for people
// debugging a test.
type ScheduleError struct {
	Expr   string
	Reason string
}

// Error implements error.
func (e *ScheduleError) Error() string {
	return fmt.Sprintf("schedule expression %q is not valid: %s", e.Expr, e.Reason)
}

// ParseSchedule parses rate(value unit) or cron(min hour dom month dow year).
func ParseSchedule(expr string) (Schedule, error) {
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return parseRate(expr)
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return parseCron(expr)
	}
	return nil, &ScheduleError{expr, "must be rate(value unit) or cron(fields)"}
}

var rateRE = regexp.MustCompile(`^rate\(([0-9]+) +([a-z]+)\)$`)

type rateSchedule struct {
	expr   string
	period time.Duration
}

func parseRate(expr string) (Schedule, error) {
	m := rateRE.FindStringSubmatch(expr)
	if m == nil {
		return nil, &ScheduleError{expr, "a rate has a positive whole value and a unit"}
	}
	n, err := strconv.ParseInt(m[1], 10, 32)
	if err != nil || n <= 0 {
		return nil, &ScheduleError{expr, "the value must be a positive number"}
	}
	unit := m[2]
	var base time.Duration
	switch strings.TrimSuffix(unit, "s") {
	case "minute":
		base = time.Minute
	case "hour":
		base = time.Hour
	case "day":
		base = 24 * time.Hour
	default:
		return nil, &ScheduleError{expr, "the unit must be minute(s), hour(s) or day(s)"}
	}
	// AWS insists on grammatical number: rate(1 hour) but rate(5 hours).
	if plural := strings.HasSuffix(unit, "s"); plural != (n != 1) {
		return nil, &ScheduleError{expr, "the unit must be singular for 1 and plural otherwise"}
	}
	return rateSchedule{expr: expr, period: time.Duration(n) * base}, nil
}

func (r rateSchedule) Next(after time.Time) (time.Time, bool) { return after.UTC().Add(r.period), true }
func (r rateSchedule) String() string                         { return r.expr }

// Cron field ranges.
const (
	minYear = 1970
	maxYear = 2199
)

type cronSchedule struct {
	expr    string
	minutes uint64 // bit i: minute i
	hours   uint64
	months  uint64 // bit 1..12
	years   [maxYear - minYear + 1]bool

	domAny      bool // '?'
	dom         uint64
	domLast     bool // L
	domLastWeek bool // LW
	domNearest  int  // nW: weekday nearest day n, 0 if unused

	dowAny  bool
	dow     uint64 // bit 1..7, 1 = Sunday
	dowLast int    // nL: last weekday n of the month
	dowNth  int    // n#k
	dowK    int
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

var (
	dowLastRE = regexp.MustCompile(`^([1-7]|[A-Za-z]{3})L$`)
	dowNthRE  = regexp.MustCompile(`^([1-7]|[A-Za-z]{3})#([1-5])$`)
	domWRE    = regexp.MustCompile(`^([0-9]{1,2})W$`)
)

func parseCron(expr string) (Schedule, error) {
	fields := strings.Fields(expr[len("cron(") : len(expr)-1])
	bad := func(reason string, args ...any) (Schedule, error) {
		return nil, &ScheduleError{expr, fmt.Sprintf(reason, args...)}
	}
	if len(fields) != 6 {
		return bad("a cron has six fields, got %d", len(fields))
	}
	c := &cronSchedule{expr: expr}
	var err error
	if c.minutes, err = parseCronField(fields[0], 0, 59, nil, true); err != nil {
		return bad("minutes: %v", err)
	}
	if c.hours, err = parseCronField(fields[1], 0, 23, nil, true); err != nil {
		return bad("hours: %v", err)
	}
	if c.months, err = parseCronField(fields[3], 1, 12, monthNames, true); err != nil {
		return bad("month: %v", err)
	}
	years, err := parseCronYears(fields[5])
	if err != nil {
		return bad("year: %v", err)
	}
	c.years = years

	dom, dow := fields[2], fields[4]
	if (dom == "?") == (dow == "?") {
		return bad("exactly one of day-of-month and day-of-week must be ?")
	}
	if dom == "?" {
		c.domAny = true
		if err := c.parseDOW(dow); err != nil {
			return bad("day-of-week: %v", err)
		}
	} else {
		c.dowAny = true
		if err := c.parseDOM(dom); err != nil {
			return bad("day-of-month: %v", err)
		}
	}
	return c, nil
}

func (c *cronSchedule) parseDOM(f string) error {
	switch {
	case f == "L":
		c.domLast = true
		return nil
	case f == "LW":
		c.domLastWeek = true
		return nil
	case domWRE.MatchString(f):
		n, _ := strconv.Atoi(domWRE.FindStringSubmatch(f)[1])
		if n < 1 || n > 31 {
			return fmt.Errorf("%d is outside 1-31", n)
		}
		c.domNearest = n
		return nil
	}
	var err error
	c.dom, err = parseCronField(f, 1, 31, nil, true)
	return err
}

func (c *cronSchedule) parseDOW(f string) error {
	if f == "L" {
		// A bare L in day-of-week is its last day, Saturday.
		c.dow = 1 << 7
		return nil
	}
	if m := dowLastRE.FindStringSubmatch(f); m != nil {
		d, err := cronValue(m[1], 1, 7, dayNames)
		if err != nil {
			return err
		}
		c.dowLast = d
		return nil
	}
	if m := dowNthRE.FindStringSubmatch(f); m != nil {
		d, err := cronValue(m[1], 1, 7, dayNames)
		if err != nil {
			return err
		}
		c.dowNth, c.dowK = d, int(m[2][0]-'0')
		return nil
	}
	if strings.ContainsAny(f, "#L") {
		return fmt.Errorf("# and L take a single day-of-week expression")
	}
	var err error
	c.dow, err = parseCronField(f, 1, 7, dayNames, false)
	return err
}

// parseCronField parses a comma-separated list of *, a, a-b, with an
// optional /step (when allowed) into a bit set.
func parseCronField(f string, lo, hi int, names map[string]int, step bool) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(f, ",") {
		if part == "" {
			return 0, fmt.Errorf("empty list element")
		}
		rng, inc, stepped := part, 1, false
		if i := strings.IndexByte(part, '/'); i >= 0 {
			if !step {
				return 0, fmt.Errorf("/ is not allowed here")
			}
			n, err := strconv.Atoi(part[i+1:])
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("bad increment %q", part[i+1:])
			}
			rng, inc, stepped = part[:i], n, true
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = cronValue(a, lo, hi, names); err != nil {
				return 0, err
			}
			if to, err = cronValue(b, lo, hi, names); err != nil {
				return 0, err
			}
			if from > to {
				return 0, fmt.Errorf("range %s runs backwards", rng)
			}
		default:
			v, err := cronValue(rng, lo, hi, names)
			if err != nil {
				return 0, err
			}
			from = v
			if !stepped {
				to = v
			}
		}
		for v := from; v <= to; v += inc {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

func cronValue(s string, lo, hi int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("%q is not a value", s)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%d is outside %d-%d", v, lo, hi)
	}
	return v, nil
}

func parseCronYears(f string) ([maxYear - minYear + 1]bool, error) {
	var out [maxYear - minYear + 1]bool
	for _, part := range strings.Split(f, ",") {
		rng, inc, stepped := part, 1, false
		if i := strings.IndexByte(part, '/'); i >= 0 {
			n, err := strconv.Atoi(part[i+1:])
			if err != nil || n <= 0 {
				return out, fmt.Errorf("bad increment %q", part[i+1:])
			}
			rng, inc, stepped = part[:i], n, true
		}
		from, to := minYear, maxYear
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = cronValue(a, minYear, maxYear, nil); err != nil {
				return out, err
			}
			if to, err = cronValue(b, minYear, maxYear, nil); err != nil {
				return out, err
			}
			if from > to {
				return out, fmt.Errorf("range %s runs backwards", rng)
			}
		default:
			v, err := cronValue(rng, minYear, maxYear, nil)
			if err != nil {
				return out, err
			}
			from = v
			if !stepped {
				to = v
			}
		}
		for y := from; y <= to; y += inc {
			out[y-minYear] = true
		}
	}
	return out, nil
}

func (c *cronSchedule) String() string { return c.expr }

// Next walks forward field by field (year, month, day, hour, minute), jumping
// to the start of the next unit whenever a field does not match; cron
// schedules are evaluated in UTC.
func (c *cronSchedule) Next(after time.Time) (time.Time, bool) {
	t := after.UTC().Truncate(time.Minute).Add(time.Minute)
	for t.Year() <= maxYear {
		y, mo, d := t.Date()
		switch {
		case y < minYear || !c.years[y-minYear]:
			t = time.Date(y+1, time.January, 1, 0, 0, 0, 0, time.UTC)
		case c.months&(1<<uint(mo)) == 0:
			t = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(y, mo, d):
			t = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
		case c.hours&(1<<uint(t.Hour())) == 0:
			t = t.Truncate(time.Hour).Add(time.Hour)
		case c.minutes&(1<<uint(t.Minute())) == 0:
			t = t.Add(time.Minute)
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

func (c *cronSchedule) dayMatches(y int, m time.Month, d int) bool {
	dim := daysIn(y, m)
	if !c.domAny {
		switch {
		case c.domLast:
			return d == dim
		case c.domLastWeek:
			return d == nearestWeekday(y, m, dim)
		case c.domNearest > 0:
			return c.domNearest <= dim && d == nearestWeekday(y, m, c.domNearest)
		}
		return c.dom&(1<<uint(d)) != 0
	}
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()) + 1
	switch {
	case c.dowLast > 0:
		return wd == c.dowLast && d+7 > dim
	case c.dowNth > 0:
		return wd == c.dowNth && (d-1)/7+1 == c.dowK
	}
	return c.dow&(1<<uint(wd)) != 0
}

// nearestWeekday is the W rule: the weekday closest to day n of the month,
// never crossing into another month.
func nearestWeekday(y int, m time.Month, n int) int {
	dim := daysIn(y, m)
	switch time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == dim {
			return n - 2
		}
		return n + 1
	}
	return n
}
