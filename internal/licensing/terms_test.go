package licensing

import (
	"fmt"
	"testing"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// everyPaymentPlan lists every payment plan of the API.
var everyPaymentPlan = []v1alpha1.PaymentPlan{
	v1alpha1.Monthly, v1alpha1.Prepay1Y, v1alpha1.Prepay2Y, v1alpha1.Prepay3Y,
	v1alpha1.Prepay4Y, v1alpha1.Prepay5Y, v1alpha1.OneTime,
}

// parseTestDate parses a YYYY-MM-DD test date.
func parseTestDate(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := ParseDate(v1alpha1.Date(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// termString writes a term as [start, end) for failure messages.
func termString(t Term) string {
	return fmt.Sprintf("[%s, %s)", FormatDate(t.Start), FormatDate(t.End))
}

func sameTerm(a, b Term) bool {
	return a.Start.Equal(b.Start) && a.End.Equal(b.End)
}

func TestTermMonthsAndRenews(t *testing.T) {
	tests := []struct {
		pp     v1alpha1.PaymentPlan
		months int
		renews bool
	}{
		{v1alpha1.Monthly, 1, true},
		{v1alpha1.Prepay1Y, 12, true},
		{v1alpha1.Prepay2Y, 24, true},
		{v1alpha1.Prepay3Y, 36, true},
		{v1alpha1.Prepay4Y, 48, true},
		{v1alpha1.Prepay5Y, 60, true},
		{v1alpha1.OneTime, 0, false},
		{"Weekly", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.pp), func(t *testing.T) {
			if got := TermMonths(tt.pp); got != tt.months {
				t.Errorf("TermMonths(%q) = %d, want %d", tt.pp, got, tt.months)
			}
			if got := Renews(tt.pp); got != tt.renews {
				t.Errorf("Renews(%q) = %t, want %t", tt.pp, got, tt.renews)
			}
		})
	}
}

// TestTermChains renews a plan term after term and checks every renewal date and term length.
func TestTermChains(t *testing.T) {
	tests := []struct {
		name  string
		start string
		pp    v1alpha1.PaymentPlan
		ends  []string
		days  []int
	}{
		{
			name:  "Monthly from 31 January through a common and a leap year",
			start: "2023-01-31", pp: v1alpha1.Monthly,
			ends: []string{
				"2023-02-28", "2023-03-31", "2023-04-30", "2023-05-31", "2023-06-30", "2023-07-31",
				"2023-08-31", "2023-09-30", "2023-10-31", "2023-11-30", "2023-12-31", "2024-01-31",
				"2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31",
			},
			days: []int{28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 29, 31, 30, 31},
		},
		{
			name:  "Monthly from 31 January in a leap year",
			start: "2024-01-31", pp: v1alpha1.Monthly,
			ends: []string{"2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"},
			days: []int{29, 31, 30, 31},
		},
		{
			name:  "Monthly from 30 January in a leap year",
			start: "2024-01-30", pp: v1alpha1.Monthly,
			ends: []string{"2024-02-29", "2024-03-30", "2024-04-30", "2024-05-30"},
			days: []int{30, 30, 31, 30},
		},
		{
			name:  "Monthly from 30 January in a common year",
			start: "2025-01-30", pp: v1alpha1.Monthly,
			ends: []string{"2025-02-28", "2025-03-30", "2025-04-30"},
			days: []int{29, 30, 31},
		},
		{
			name:  "Monthly from the 15th across a year end",
			start: "2025-11-15", pp: v1alpha1.Monthly,
			ends: []string{"2025-12-15", "2026-01-15", "2026-02-15"},
			days: []int{30, 31, 31},
		},
		{
			name:  "Monthly from 31 December",
			start: "2025-12-31", pp: v1alpha1.Monthly,
			ends: []string{"2026-01-31", "2026-02-28", "2026-03-31"},
			days: []int{31, 28, 31},
		},
		{
			name:  "Prepay1Y from 29 February",
			start: "2024-02-29", pp: v1alpha1.Prepay1Y,
			ends: []string{"2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29", "2029-02-28"},
			days: []int{365, 365, 365, 366, 365},
		},
		{
			name:  "Prepay1Y from 1 March",
			start: "2023-03-01", pp: v1alpha1.Prepay1Y,
			ends: []string{"2024-03-01", "2025-03-01"},
			days: []int{366, 365},
		},
		{
			name:  "Prepay4Y from 29 February stays on leap days",
			start: "2024-02-29", pp: v1alpha1.Prepay4Y,
			ends: []string{"2028-02-29", "2032-02-29"},
			days: []int{1461, 1461},
		},
		{
			name:  "Prepay4Y from 29 February 2096 across 2100, which has no leap day",
			start: "2096-02-29", pp: v1alpha1.Prepay4Y,
			ends: []string{"2100-02-28", "2104-02-29"},
			days: []int{1460, 1461},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := parseTestDate(t, tt.start)
			term := FirstTerm(start, tt.pp)
			if !term.Start.Equal(start) {
				t.Fatalf("FirstTerm starts on %s, want %s", FormatDate(term.Start), tt.start)
			}
			for i, end := range tt.ends {
				if i > 0 {
					term = NextTerm(term, start.Day(), tt.pp)
				}
				if got := FormatDate(term.End); string(got) != end {
					t.Fatalf("term %d %s ends on %s, want %s", i+1, termString(term), got, end)
				}
				if got := term.Days(); got != tt.days[i] {
					t.Errorf("term %d %s has %d days, want %d", i+1, termString(term), got, tt.days[i])
				}
			}
		})
	}
}

func TestTermEndEveryPrepayment(t *testing.T) {
	tests := []struct {
		start string
		pp    v1alpha1.PaymentPlan
		end   string
		days  int
	}{
		{"2026-03-15", v1alpha1.Prepay1Y, "2027-03-15", 365},
		{"2026-03-15", v1alpha1.Prepay2Y, "2028-03-15", 731},
		{"2026-03-15", v1alpha1.Prepay3Y, "2029-03-15", 1096},
		{"2026-03-15", v1alpha1.Prepay4Y, "2030-03-15", 1461},
		{"2026-03-15", v1alpha1.Prepay5Y, "2031-03-15", 1826},
		{"2024-02-29", v1alpha1.Prepay1Y, "2025-02-28", 365},
		{"2024-02-29", v1alpha1.Prepay2Y, "2026-02-28", 730},
		{"2024-02-29", v1alpha1.Prepay3Y, "2027-02-28", 1095},
		{"2024-02-29", v1alpha1.Prepay4Y, "2028-02-29", 1461},
		{"2024-02-29", v1alpha1.Prepay5Y, "2029-02-28", 1826},
		{"2027-12-15", v1alpha1.Prepay2Y, "2029-12-15", 731},
		{"2025-12-31", v1alpha1.Prepay1Y, "2026-12-31", 365},
	}
	for _, tt := range tests {
		t.Run(tt.start+" "+string(tt.pp), func(t *testing.T) {
			start := parseTestDate(t, tt.start)
			end := TermEnd(start, start.Day(), tt.pp)
			if got := FormatDate(end); string(got) != tt.end {
				t.Errorf("TermEnd(%s, %d, %s) = %s, want %s", tt.start, start.Day(), tt.pp, got, tt.end)
			}
			if got := DaysBetween(start, end); got != tt.days {
				t.Errorf("the %s term from %s has %d days, want %d", tt.pp, tt.start, got, tt.days)
			}
		})
	}
}

func TestTermEnd(t *testing.T) {
	withTime := time.Date(2026, time.May, 10, 15, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		start  time.Time
		anchor int
		pp     v1alpha1.PaymentPlan
		want   time.Time
	}{
		{"a clamped term returns to its anchor", parseTestDate(t, "2026-02-28"), 31, v1alpha1.Monthly, parseTestDate(t, "2026-03-31")},
		{"a plan anchored on the 28th stays there", parseTestDate(t, "2026-02-28"), 28, v1alpha1.Monthly, parseTestDate(t, "2026-03-28")},
		{"an anchor of 30 in February", parseTestDate(t, "2026-01-30"), 30, v1alpha1.Monthly, parseTestDate(t, "2026-02-28")},
		{"the time of day is dropped", withTime, 10, v1alpha1.Monthly, parseTestDate(t, "2026-06-10")},
		{"OneTime returns the start unchanged", withTime, 10, v1alpha1.OneTime, withTime},
		{"an unknown payment plan has no term", parseTestDate(t, "2026-05-10"), 10, "Weekly", parseTestDate(t, "2026-05-10")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TermEnd(tt.start, tt.anchor, tt.pp); !got.Equal(tt.want) {
				t.Errorf("TermEnd(%v, %d, %s) = %v, want %v", tt.start, tt.anchor, tt.pp, got, tt.want)
			}
		})
	}
}

func TestFirstTerm(t *testing.T) {
	tests := []struct {
		name      string
		start     time.Time
		pp        v1alpha1.PaymentPlan
		wantStart string
		wantEnd   string
		days      int
	}{
		{"Monthly from 31 January", parseTestDate(t, "2026-01-31"), v1alpha1.Monthly, "2026-01-31", "2026-02-28", 28},
		{"Prepay3Y from 29 February", parseTestDate(t, "2024-02-29"), v1alpha1.Prepay3Y, "2024-02-29", "2027-02-28", 1095},
		{"OneTime has a term of no days", parseTestDate(t, "2026-04-01"), v1alpha1.OneTime, "2026-04-01", "2026-04-01", 0},
		{"a start date with a time of day", time.Date(2026, time.May, 10, 15, 0, 0, 0, time.UTC), v1alpha1.Monthly, "2026-05-10", "2026-06-10", 31},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FirstTerm(tt.start, tt.pp)
			want := Term{Start: parseTestDate(t, tt.wantStart), End: parseTestDate(t, tt.wantEnd)}
			if !sameTerm(got, want) {
				t.Errorf("FirstTerm(%v, %s) = %s, want %s", tt.start, tt.pp, termString(got), termString(want))
			}
			if got.Days() != tt.days {
				t.Errorf("FirstTerm(%v, %s) has %d days, want %d", tt.start, tt.pp, got.Days(), tt.days)
			}
		})
	}
}

func TestTermContains(t *testing.T) {
	term := Term{Start: parseTestDate(t, "2026-01-31"), End: parseTestDate(t, "2026-02-28")}
	tests := []struct {
		name   string
		moment time.Time
		want   bool
	}{
		{"the first day", parseTestDate(t, "2026-01-31"), true},
		{"a day inside", parseTestDate(t, "2026-02-14"), true},
		{"the last moment of the last day", time.Date(2026, time.February, 27, 23, 59, 59, 999999999, time.UTC), true},
		{"the renewal date belongs to the next term", parseTestDate(t, "2026-02-28"), false},
		{"the day before the start", time.Date(2026, time.January, 30, 23, 59, 0, 0, time.UTC), false},
		{"a year later", parseTestDate(t, "2027-02-14"), false},
		{"counted in UTC", time.Date(2026, time.February, 28, 1, 0, 0, 0, time.FixedZone("UTC+2", 2*60*60)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := term.Contains(tt.moment); got != tt.want {
				t.Errorf("%s.Contains(%v) = %t, want %t", termString(term), tt.moment, got, tt.want)
			}
		})
	}
	t.Run("a term of no days contains nothing", func(t *testing.T) {
		empty := Term{Start: parseTestDate(t, "2026-04-01"), End: parseTestDate(t, "2026-04-01")}
		if empty.Contains(empty.Start) {
			t.Errorf("%s.Contains(%s) = true, want false", termString(empty), FormatDate(empty.Start))
		}
	})
}

func TestNextTermWithChangedPaymentPlan(t *testing.T) {
	tests := []struct {
		name  string
		start string
		plans []v1alpha1.PaymentPlan // the first term's, then each renewal's
		terms []string               // each term as "start end"
	}{
		{
			name:  "Monthly to Prepay1Y and back keeps the month-end anchor",
			start: "2026-01-31",
			plans: []v1alpha1.PaymentPlan{v1alpha1.Monthly, v1alpha1.Prepay1Y, v1alpha1.Monthly, v1alpha1.Monthly},
			terms: []string{"2026-01-31 2026-02-28", "2026-02-28 2027-02-28", "2027-02-28 2027-03-31", "2027-03-31 2027-04-30"},
		},
		{
			name:  "Monthly to Prepay1Y in the middle of the year",
			start: "2026-01-15",
			plans: []v1alpha1.PaymentPlan{v1alpha1.Monthly, v1alpha1.Monthly, v1alpha1.Prepay1Y, v1alpha1.Prepay1Y},
			terms: []string{"2026-01-15 2026-02-15", "2026-02-15 2026-03-15", "2026-03-15 2027-03-15", "2027-03-15 2028-03-15"},
		},
		{
			name:  "Prepay1Y from 29 February to Monthly",
			start: "2024-02-29",
			plans: []v1alpha1.PaymentPlan{v1alpha1.Prepay1Y, v1alpha1.Monthly, v1alpha1.Monthly},
			terms: []string{"2024-02-29 2025-02-28", "2025-02-28 2025-03-29", "2025-03-29 2025-04-29"},
		},
		{
			name:  "Prepay2Y to Prepay5Y",
			start: "2026-06-30",
			plans: []v1alpha1.PaymentPlan{v1alpha1.Prepay2Y, v1alpha1.Prepay5Y},
			terms: []string{"2026-06-30 2028-06-30", "2028-06-30 2033-06-30"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := parseTestDate(t, tt.start)
			term := FirstTerm(start, tt.plans[0])
			for i, pp := range tt.plans {
				if i > 0 {
					term = NextTerm(term, start.Day(), pp)
				}
				var wantStart, wantEnd string
				fmt.Sscan(tt.terms[i], &wantStart, &wantEnd)
				want := Term{Start: parseTestDate(t, wantStart), End: parseTestDate(t, wantEnd)}
				if !sameTerm(term, want) {
					t.Fatalf("term %d (%s) = %s, want %s", i+1, pp, termString(term), termString(want))
				}
			}
		})
	}
}

func TestTermContaining(t *testing.T) {
	tests := []struct {
		name  string
		start string
		pp    v1alpha1.PaymentPlan
		day   time.Time
		want  string // "start end"
	}{
		{"Monthly: the start date", "2024-01-31", v1alpha1.Monthly, parseTestDate(t, "2024-01-31"), "2024-01-31 2024-02-29"},
		{"Monthly: the last day of the first term", "2024-01-31", v1alpha1.Monthly, parseTestDate(t, "2024-02-28"), "2024-01-31 2024-02-29"},
		{"Monthly: the first renewal date", "2024-01-31", v1alpha1.Monthly, parseTestDate(t, "2024-02-29"), "2024-02-29 2024-03-31"},
		{"Monthly: late on the day before a renewal", "2024-01-31", v1alpha1.Monthly,
			time.Date(2024, time.March, 30, 23, 59, 0, 0, time.UTC), "2024-02-29 2024-03-31"},
		{"Monthly: a renewal date on a month end", "2024-01-31", v1alpha1.Monthly, parseTestDate(t, "2024-03-31"), "2024-03-31 2024-04-30"},
		{"Monthly: before the start date", "2024-01-31", v1alpha1.Monthly, parseTestDate(t, "2023-06-01"), "2024-01-31 2024-02-29"},
		{"Monthly: the day before the start date", "2024-01-31", v1alpha1.Monthly, parseTestDate(t, "2024-01-30"), "2024-01-31 2024-02-29"},
		{"Monthly: 100 years later in a leap February", "2024-01-31", v1alpha1.Monthly, parseTestDate(t, "2124-02-28"), "2124-01-31 2124-02-29"},
		{"Monthly: 100 years later on a leap day", "2024-01-31", v1alpha1.Monthly, parseTestDate(t, "2124-02-29"), "2124-02-29 2124-03-31"},
		{"Monthly: 101 years later in a common February", "2024-01-31", v1alpha1.Monthly, parseTestDate(t, "2125-02-28"), "2125-02-28 2125-03-31"},
		{"Monthly: across a year end", "2025-11-15", v1alpha1.Monthly, parseTestDate(t, "2026-01-03"), "2025-12-15 2026-01-15"},
		{"Prepay1Y from 29 February: the day before a leap day", "2024-02-29", v1alpha1.Prepay1Y, parseTestDate(t, "2028-02-28"), "2027-02-28 2028-02-29"},
		{"Prepay1Y from 29 February: a leap day", "2024-02-29", v1alpha1.Prepay1Y, parseTestDate(t, "2028-02-29"), "2028-02-29 2029-02-28"},
		{"Prepay1Y from 29 February: 100 years later", "2024-02-29", v1alpha1.Prepay1Y, parseTestDate(t, "2124-02-28"), "2123-02-28 2124-02-29"},
		{"Prepay1Y from 29 February: in 2100, which has no leap day", "2024-02-29", v1alpha1.Prepay1Y, parseTestDate(t, "2100-02-28"), "2100-02-28 2101-02-28"},
		{"Prepay5Y: the day before the 20th renewal", "2026-03-15", v1alpha1.Prepay5Y, parseTestDate(t, "2126-03-14"), "2121-03-15 2126-03-15"},
		{"Prepay5Y: the 20th renewal date", "2026-03-15", v1alpha1.Prepay5Y, parseTestDate(t, "2126-03-15"), "2126-03-15 2131-03-15"},
		{"Prepay3Y: before the start date", "2026-03-15", v1alpha1.Prepay3Y, parseTestDate(t, "2020-01-01"), "2026-03-15 2029-03-15"},
		{"OneTime: a later day", "2026-04-01", v1alpha1.OneTime, parseTestDate(t, "2030-01-01"), "2026-04-01 2026-04-01"},
		{"OneTime: an earlier day", "2026-04-01", v1alpha1.OneTime, parseTestDate(t, "2020-01-01"), "2026-04-01 2026-04-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wantStart, wantEnd string
			fmt.Sscan(tt.want, &wantStart, &wantEnd)
			want := Term{Start: parseTestDate(t, wantStart), End: parseTestDate(t, wantEnd)}
			got := TermContaining(parseTestDate(t, tt.start), tt.pp, tt.day)
			if !sameTerm(got, want) {
				t.Errorf("TermContaining(%s, %s, %v) = %s, want %s", tt.start, tt.pp, tt.day, termString(got), termString(want))
			}
		})
	}
}

// TestTermContainingMatchesRenewals renews plans term by term and asks TermContaining about every
// day on the way: it must name the term the renewals reached.
func TestTermContainingMatchesRenewals(t *testing.T) {
	starts := []string{"2024-01-31", "2024-02-29", "2023-01-30", "2025-03-01", "2099-12-31", "1970-01-01"}
	for _, s := range starts {
		for _, pp := range everyPaymentPlan {
			if !Renews(pp) {
				continue
			}
			t.Run(s+" "+string(pp), func(t *testing.T) {
				start := parseTestDate(t, s)
				term := FirstTerm(start, pp)
				for term.Start.Before(start.AddDate(12, 0, 0)) {
					for d := term.Start; d.Before(term.End); d = d.AddDate(0, 0, 1) {
						if got := TermContaining(start, pp, d); !sameTerm(got, term) {
							t.Fatalf("TermContaining(%s, %s, %s) = %s, want %s", s, pp, FormatDate(d), termString(got), termString(term))
						}
					}
					term = NextTerm(term, start.Day(), pp)
				}
			})
		}
	}
}

func TestRenewalTime(t *testing.T) {
	term := Term{Start: parseTestDate(t, "2026-02-01"), End: parseTestDate(t, "2026-03-01")}
	tests := []struct {
		name        string
		renewBefore time.Duration
		want        time.Time
	}{
		{"the default week", 168 * time.Hour, parseTestDate(t, "2026-02-22")},
		{"a day and a half", 36 * time.Hour, time.Date(2026, time.February, 27, 12, 0, 0, 0, time.UTC)},
		{"at the term end", 0, parseTestDate(t, "2026-03-01")},
		{"longer than the term", 60 * 24 * time.Hour, parseTestDate(t, "2025-12-31")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RenewalTime(term, tt.renewBefore); !got.Equal(tt.want) {
				t.Errorf("RenewalTime(%s, %v) = %v, want %v", termString(term), tt.renewBefore, got, tt.want)
			}
		})
	}
}
