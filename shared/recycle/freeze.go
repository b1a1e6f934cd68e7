package recycle

import (
	"fmt"
	"strings"
	"time"
)

// Freeze is a freeze as a phoenix:freeze tag or the global freeze
// parameter states it: always in force, or in force within windows.
type Freeze struct {
	// Always freezes until the tag or parameter is changed.
	Always bool
	// Windows are the freeze windows.
	Windows []Window
	// Unreadable is the parse error of a value that did not parse; such
	// a freeze is always in force (fail safe).
	Unreadable string
	// Source names where the freeze was read, for reasons.
	Source string
}

// Window is a freeze window, [From, To) in UTC.
type Window struct {
	From time.Time
	To   time.Time
}

func (w Window) String() string {
	return w.From.UTC().Format(time.RFC3339) + "/" + w.To.UTC().Format(time.RFC3339)
}

// maxWindows bounds the windows of one value: a parameter holds 4 KiB,
// about a hundred windows; more is a mistake, not a calendar.
const maxWindows = 100

// ParseFreeze reads a freeze value: "" (and "false", "off", "no", "0") is
// no freeze; "true" or "on" (and "yes", "1") freezes until changed;
// otherwise one or more windows "FROM/TO" in RFC 3339 (UTC, e.g.
// 2026-12-20T00:00:00Z/2027-01-04T00:00:00Z), separated by spaces, new
// lines or commas. A value that does not parse returns an error and a
// Freeze that is always in force: a typo in a freeze must not let a
// recycle through.
func ParseFreeze(value string) (Freeze, error) {
	v := strings.TrimSpace(value)
	if on, known := parseSwitch(v); known {
		return Freeze{Always: on}, nil
	}
	if v == "" {
		return Freeze{}, nil
	}
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	if len(fields) > maxWindows {
		return unreadable(fmt.Errorf("%d windows; at most %d", len(fields), maxWindows))
	}
	var f Freeze
	for _, field := range fields {
		from, to, ok := strings.Cut(field, "/")
		if !ok {
			return unreadable(fmt.Errorf("%q is not true, on, or a window FROM/TO in RFC 3339", field))
		}
		a, errA := time.Parse(time.RFC3339, from)
		b, errB := time.Parse(time.RFC3339, to)
		switch {
		case errA != nil || errB != nil:
			return unreadable(fmt.Errorf("window %q: FROM and TO must be RFC 3339 times like 2026-12-20T00:00:00Z", field))
		case !b.After(a):
			return unreadable(fmt.Errorf("window %q ends before it starts", field))
		}
		f.Windows = append(f.Windows, Window{From: a.UTC(), To: b.UTC()})
	}
	return f, nil
}

func unreadable(err error) (Freeze, error) {
	return Freeze{Always: true, Unreadable: err.Error()}, err
}

// In reports whether the freeze is in force at now, and why, in a
// sentence naming its source.
func (f Freeze) In(now time.Time) (bool, string) {
	src := f.Source
	if src == "" {
		src = "freeze"
	}
	switch {
	case f.Unreadable != "":
		return true, fmt.Sprintf("%s is unreadable (%s), so recycling is frozen until it is fixed", src, f.Unreadable)
	case f.Always:
		return true, fmt.Sprintf("%s freezes recycling until it is removed", src)
	}
	for _, w := range f.Windows {
		if !now.Before(w.From) && now.Before(w.To) {
			return true, fmt.Sprintf("%s freezes recycling from %s to %s", src, w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
		}
	}
	return false, ""
}
