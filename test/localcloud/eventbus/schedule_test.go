package eventbus

import (
	"errors"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestScheduleNextFireTimesFollowTheUserGuide(t *testing.T) {
	t.Parallel()
	// 2026-01-05 is a Monday; 2026-01-09 a Friday.
	cases := []struct {
		name  string
		expr  string
		after string
		want  string
	}{
		{"rate of one minute fires a minute later", "rate(1 minute)", "2026-01-05 09:00", "2026-01-05 09:01"},
		{"rate of five minutes fires five minutes later", "rate(5 minutes)", "2026-01-05 09:00", "2026-01-05 09:05"},
		{"rate of one hour fires an hour later", "rate(1 hour)", "2026-01-05 09:30", "2026-01-05 10:30"},
		{"rate of two days fires two days later", "rate(2 days)", "2026-01-05 09:00", "2026-01-07 09:00"},
		{"daily at 10:00 UTC fires the same day", "cron(0 10 * * ? *)", "2026-01-05 09:00", "2026-01-05 10:00"},
		{"a cron fires strictly after the instant", "cron(0 10 * * ? *)", "2026-01-05 10:00", "2026-01-06 10:00"},
		{"daily at 12:15 UTC", "cron(15 12 * * ? *)", "2026-01-05 13:00", "2026-01-06 12:15"},
		{"6 PM Monday to Friday skips the weekend", "cron(0 18 ? * MON-FRI *)", "2026-01-09 18:00", "2026-01-12 18:00"},
		{"day names are case insensitive", "cron(0 18 ? * mon-fri *)", "2026-01-09 18:00", "2026-01-12 18:00"},
		{"8 AM on the first day of every month", "cron(0 8 1 * ? *)", "2026-01-05 09:00", "2026-02-01 08:00"},
		{"every 15 minutes from minute 0", "cron(0/15 * * * ? *)", "2026-01-05 09:07", "2026-01-05 09:15"},
		{"1/10 starts at minute 1", "cron(1/10 * * * ? *)", "2026-01-05 09:02", "2026-01-05 09:11"},
		{"every 10 minutes on weekdays skips the weekend", "cron(0/10 * ? * MON-FRI *)", "2026-01-09 23:55", "2026-01-12 00:00"},
		{"every 5 minutes from 8 to 17:55 on weekdays", "cron(0/5 8-17 ? * MON-FRI *)", "2026-01-09 17:55", "2026-01-12 08:00"},
		{"9 AM on the first Monday of the month", "cron(0 9 ? * 2#1 *)", "2026-01-05 09:00", "2026-02-02 09:00"},
		{"L in day-of-month is the month's last day", "cron(0 0 L * ? *)", "2026-02-01 00:00", "2026-02-28 00:00"},
		{"L in February of a leap year is the 29th", "cron(0 0 L 2 ? 2028)", "2026-01-05 09:00", "2028-02-29 00:00"},
		{"LW is the month's last weekday", "cron(0 0 LW * ? *)", "2026-01-05 09:00", "2026-01-30 00:00"},
		{"W moves a Sunday to the Monday after", "cron(0 0 15W * ? *)", "2026-02-01 00:00", "2026-02-16 00:00"},
		{"W never leaves the month", "cron(0 0 1W * ? *)", "2026-07-05 00:00", "2026-08-03 00:00"},
		{"nL in day-of-week is the month's last such day", "cron(0 0 ? * 6L *)", "2026-01-05 09:00", "2026-01-30 00:00"},
		{"L alone in day-of-week is Saturday", "cron(0 0 ? * L *)", "2026-01-05 09:00", "2026-01-10 00:00"},
		{"month names and lists work", "cron(0 0 1 JAN,JUL ? *)", "2026-01-05 09:00", "2026-07-01 00:00"},
		{"the year field restricts years", "cron(0 12 * * ? 2027)", "2026-01-05 09:00", "2027-01-01 12:00"},
		{"February 29th waits for a leap year", "cron(0 0 29 2 ? *)", "2026-01-05 09:00", "2028-02-29 00:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSchedule(tc.expr)
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tc.expr, err)
			}
			got, ok := s.Next(at(tc.after))
			if !ok || !got.Equal(at(tc.want)) {
				t.Errorf("Next(%s) = %v, %v; want %s", tc.after, got, ok, tc.want)
			}
		})
	}
}

func TestCronWithNoFutureFireTimeReportsNone(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{"cron(0 0 30 2 ? *)", "cron(0 0 1 1 ? 1970)"} {
		s, err := ParseSchedule(expr)
		if err != nil {
			t.Fatalf("ParseSchedule(%q): %v", expr, err)
		}
		if got, ok := s.Next(at("2026-01-05 09:00")); ok {
			t.Errorf("%s: Next = %v, want none", expr, got)
		}
	}
}

func TestInvalidScheduleExpressionsAreRefused(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, expr string }{
		{"a value of 1 needs a singular unit", "rate(1 minutes)"},
		{"a value above 1 needs a plural unit", "rate(5 minute)"},
		{"a rate of zero is not positive", "rate(0 minutes)"},
		{"a negative rate is refused", "rate(-1 minutes)"},
		{"a fractional rate is refused", "rate(1.5 hours)"},
		{"seconds are not a rate unit", "rate(30 seconds)"},
		{"units are lower case", "rate(5 Minutes)"},
		{"value and unit are separated by a space", "rate(5minutes)"},
		{"an expression names rate or cron", "every 5 minutes"},
		{"a cron has six fields, not five", "cron(0 10 * * *)"},
		{"a cron needs ? in day-of-month or day-of-week", "cron(7 20 * * 1-7 *)"},
		{"a cron cannot have ? in both day fields", "cron(0 10 ? * ? *)"},
		{"minutes stop at 59", "cron(60 * * * ? *)"},
		{"hours stop at 23", "cron(0 24 * * ? *)"},
		{"days of the month stop at 31", "cron(0 0 32 * ? *)"},
		{"months stop at 12", "cron(0 0 * 13 ? *)"},
		{"days of the week stop at 7", "cron(0 0 ? * 8 *)"},
		{"years stop at 2199", "cron(0 0 * * ? 2200)"},
		{"negative days of the week are refused", "cron(15 12 ? * -1 *)"},
		{"# allows a single day-of-week expression", "cron(0 0 ? * 3#1,6#3 *)"},
		{"day-of-week takes no increments", "cron(0 0 ? * 1/2 *)"},
		{"ranges do not run backwards", "cron(0 0 ? * FRI-MON *)"},
		{"unknown names are refused", "cron(0 0 1 JANUARY ? *)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSchedule(tc.expr)
			var se *ScheduleError
			if !errors.As(err, &se) {
				t.Errorf("ParseSchedule(%q) error = %v, want a *ScheduleError", tc.expr, err)
			}
		})
	}
}
