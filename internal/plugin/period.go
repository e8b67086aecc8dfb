package plugin

import (
	"fmt"
	"regexp"
	"time"
)

// period is a calendar month in UTC: from its first day (inclusive) to the first day of the next
// month (exclusive).
type period struct {
	start, end time.Time
}

func (p period) String() string { return p.start.Format("2006-01") }

// lastDay is the month's last day, for people: "2026-11-30".
func (p period) lastDay() time.Time { return p.end.AddDate(0, 0, -1) }

func (p period) contains(t time.Time) bool { return !t.Before(p.start) && t.Before(p.end) }

var periodPattern = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})$`)

// parsePeriod reads --period YYYY-MM.
func parsePeriod(s string) (period, error) {
	m := periodPattern.FindStringSubmatch(s)
	var year, month int
	if m != nil {
		fmt.Sscan(m[1], &year)
		fmt.Sscan(m[2], &month)
	}
	if m == nil || month < 1 || month > 12 {
		return period{}, fmt.Errorf("--period %s: want YYYY-MM", s)
	}
	start := time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC)
	return period{start: start, end: start.AddDate(0, 1, 0)}, nil
}

// parseSince reads --since: a date YYYY-MM-DD (from the start of that day, UTC) or a time in
// RFC 3339. "" is no bound (the zero time).
func parseSince(s string) (time.Time, error) {
	t, _, err := parseBound("--since", s)
	return t, err
}

// parseUntil reads --until: a date YYYY-MM-DD (through the end of that day, UTC) or a time in
// RFC 3339 (up to and including it). It returns the first moment after the bound; the zero time
// when s is "".
func parseUntil(s string) (time.Time, error) {
	t, isDay, err := parseBound("--until", s)
	switch {
	case err != nil || t.IsZero():
		return t, err
	case isDay:
		return t.AddDate(0, 0, 1), nil
	}
	return t.Add(time.Nanosecond), nil
}

func parseBound(flag, s string) (t time.Time, isDay bool, err error) {
	if s == "" {
		return time.Time{}, false, nil
	}
	if t, err := time.Parse(dayLayout, s); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), false, nil
	}
	return time.Time{}, false, fmt.Errorf("%s %s: want a date YYYY-MM-DD or a time in RFC 3339, such as 2026-11-22T15:04:05Z", flag, s)
}
