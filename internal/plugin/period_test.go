package plugin

import (
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in         string
		start, end string
		err        string
	}{
		{in: "2026-11", start: "2026-11-01", end: "2026-12-01"},
		{in: "2026-12", start: "2026-12-01", end: "2027-01-01"},
		{in: "2028-02", start: "2028-02-01", end: "2028-03-01"},
		{in: "2026-13", err: "--period 2026-13: want YYYY-MM"},
		{in: "2026-00", err: "--period 2026-00: want YYYY-MM"},
		{in: "2026-1", err: "--period 2026-1: want YYYY-MM"},
		{in: "26-11", err: "--period 26-11: want YYYY-MM"},
		{in: "2026-11-01", err: "--period 2026-11-01: want YYYY-MM"},
		{in: "", err: "--period : want YYYY-MM"},
	}
	for _, tt := range tests {
		p, err := parsePeriod(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parsePeriod(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || p.start.Format(dayLayout) != tt.start || p.end.Format(dayLayout) != tt.end {
			t.Errorf("parsePeriod(%q) = %s..%s, %v; want %s..%s", tt.in, p.start, p.end, err, tt.start, tt.end)
		}
	}
	p, _ := parsePeriod("2026-11")
	for at, want := range map[time.Time]bool{
		time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC):                  true,
		time.Date(2026, 11, 30, 23, 59, 59, 0, time.UTC):              true,
		time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC):                  false,
		time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC):              false,
		time.Date(2026, 12, 1, 0, 30, 0, 0, time.FixedZone("", 3600)): true, // 2026-11-30 23:30 UTC
	} {
		if got := p.contains(at.UTC()); got != want {
			t.Errorf("2026-11 contains %s: %v, want %v", at, got, want)
		}
	}
}

func TestParseSinceUntil(t *testing.T) {
	utc := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	tests := []struct {
		since, until string
		from, to     time.Time
		err          string
	}{
		{since: "2026-11-01", until: "2026-11-30", from: utc("2026-11-01T00:00:00Z"), to: utc("2026-12-01T00:00:00Z")},
		{since: "2026-11-22T15:04:05+01:00", until: "2026-11-22T16:00:00Z", from: utc("2026-11-22T14:04:05Z"), to: utc("2026-11-22T16:00:00.000000001Z")},
		{},
		{since: "2026-02-30", err: "--since 2026-02-30: want a date YYYY-MM-DD or a time in RFC 3339, such as 2026-11-22T15:04:05Z"},
		{until: "yesterday", err: "--until yesterday: want a date YYYY-MM-DD or a time in RFC 3339, such as 2026-11-22T15:04:05Z"},
	}
	for _, tt := range tests {
		from, err1 := parseSince(tt.since)
		to, err2 := parseUntil(tt.until)
		err := err1
		if err == nil {
			err = err2
		}
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("since %q until %q: error %v, want %q", tt.since, tt.until, err, tt.err)
			}
			continue
		}
		if err != nil || !from.Equal(tt.from) || !to.Equal(tt.to) {
			t.Errorf("since %q until %q = [%s, %s), %v; want [%s, %s)", tt.since, tt.until, from, to, err, tt.from, tt.to)
		}
	}
}
