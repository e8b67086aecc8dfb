package licensing

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// calendarDay is a test shorthand for a UTC calendar day.
func calendarDay(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   v1alpha1.Date
		want time.Time
	}{
		{"2026-01-01", calendarDay(2026, time.January, 1)},
		{"2026-12-31", calendarDay(2026, time.December, 31)},
		{"2024-02-29", calendarDay(2024, time.February, 29)},
		{"2000-02-29", calendarDay(2000, time.February, 29)},
		{"1970-01-01", calendarDay(1970, time.January, 1)},
		{"2400-02-29", calendarDay(2400, time.February, 29)},
		{"0001-01-01", calendarDay(1, time.January, 1)},
		{"9999-12-31", calendarDay(9999, time.December, 31)},
	}
	for _, tt := range tests {
		t.Run(string(tt.in), func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if err != nil {
				t.Fatalf("ParseDate(%q): unexpected error %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if back := FormatDate(got); back != tt.in {
				t.Errorf("FormatDate(ParseDate(%q)) = %q, want the same date back", tt.in, back)
			}
		})
	}
}

func TestParseDateRejects(t *testing.T) {
	tests := []struct {
		name string
		in   v1alpha1.Date
	}{
		{"30 February", "2026-02-30"},
		{"29 February in a common year", "2026-02-29"},
		{"29 February in 1900", "1900-02-29"},
		{"month 13", "2026-13-01"},
		{"month 0", "2026-00-10"},
		{"day 0", "2026-01-00"},
		{"day 32", "2026-01-32"},
		{"31 April", "2026-04-31"},
		{"empty", ""},
		{"two-digit year, one-digit month and day", "26-1-1"},
		{"one-digit month", "2026-1-01"},
		{"one-digit day", "2026-01-1"},
		{"signed year", "+026-01-01"},
		{"negative year", "-026-01-01"},
		{"slashes", "2026/01/01"},
		{"day first", "01-01-2026"},
		{"time of day", "2026-01-01T00:00:00Z"},
		{"trailing space", "2026-01-01 "},
		{"leading space", " 2026-01-01"},
		{"words", "tomorrow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if err == nil {
				t.Fatalf("ParseDate(%q) = %v, want an error", tt.in, got)
			}
			want := `invalid date "` + string(tt.in) + `": want YYYY-MM-DD`
			if err.Error() != want {
				t.Errorf("ParseDate(%q) error = %q, want %q", tt.in, err, want)
			}
		})
	}
}

func TestFormatDate(t *testing.T) {
	plus14 := time.FixedZone("UTC+14", 14*60*60)
	minus12 := time.FixedZone("UTC-12", -12*60*60)
	tests := []struct {
		name string
		in   time.Time
		want v1alpha1.Date
	}{
		{"midnight UTC", calendarDay(2026, time.March, 1), "2026-03-01"},
		{"last second of the day", time.Date(2026, time.March, 1, 23, 59, 59, 999999999, time.UTC), "2026-03-01"},
		{"east of UTC, still the previous UTC day", time.Date(2026, time.March, 2, 9, 0, 0, 0, plus14), "2026-03-01"},
		{"west of UTC, already the next UTC day", time.Date(2026, time.February, 28, 13, 0, 0, 0, minus12), "2026-03-01"},
		{"year end", time.Date(2025, time.December, 31, 23, 0, 0, 0, time.UTC), "2025-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatDate(tt.in); got != tt.want {
				t.Errorf("FormatDate(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDay(t *testing.T) {
	plus2 := time.FixedZone("UTC+2", 2*60*60)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"midnight stays", calendarDay(2026, time.May, 4), calendarDay(2026, time.May, 4)},
		{"afternoon", time.Date(2026, time.May, 4, 15, 30, 0, 0, time.UTC), calendarDay(2026, time.May, 4)},
		{"just before midnight", time.Date(2026, time.May, 4, 23, 59, 59, 999999999, time.UTC), calendarDay(2026, time.May, 4)},
		{"local midnight is the previous UTC day", time.Date(2026, time.May, 5, 0, 0, 0, 0, plus2), calendarDay(2026, time.May, 4)},
		{"before 1970", time.Date(1969, time.December, 31, 12, 0, 0, 0, time.UTC), calendarDay(1969, time.December, 31)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Day(tt.in)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("Day(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDaysBetween(t *testing.T) {
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"same day", calendarDay(2026, time.June, 1), calendarDay(2026, time.June, 1), 0},
		{"next day", calendarDay(2026, time.June, 1), calendarDay(2026, time.June, 2), 1},
		{"backwards", calendarDay(2026, time.June, 2), calendarDay(2026, time.June, 1), -1},
		{"across a year boundary", calendarDay(2025, time.December, 31), calendarDay(2026, time.January, 1), 1},
		{"a common year", calendarDay(2025, time.January, 1), calendarDay(2026, time.January, 1), 365},
		{"a leap year", calendarDay(2024, time.January, 1), calendarDay(2025, time.January, 1), 366},
		{"over 29 February 2024", calendarDay(2024, time.February, 28), calendarDay(2024, time.March, 1), 2},
		{"over 28 February 2025", calendarDay(2025, time.February, 28), calendarDay(2025, time.March, 1), 1},
		{"2000 is a leap year", calendarDay(2000, time.February, 28), calendarDay(2000, time.March, 1), 2},
		{"1900 is not a leap year", calendarDay(1900, time.February, 28), calendarDay(1900, time.March, 1), 1},
		{"2100 is not a leap year", calendarDay(2100, time.February, 28), calendarDay(2100, time.March, 1), 1},
		{"five years with one leap day", calendarDay(2026, time.March, 15), calendarDay(2031, time.March, 15), 5*365 + 1},
		{"five years with two leap days", calendarDay(2024, time.January, 1), calendarDay(2029, time.January, 1), 5*365 + 2},
		{"1970 to 2000", calendarDay(1970, time.January, 1), calendarDay(2000, time.January, 1), 10957},
		{"one 400-year cycle", calendarDay(2000, time.January, 1), calendarDay(2400, time.January, 1), 146097},
		{"1970 to 2400", calendarDay(1970, time.January, 1), calendarDay(2400, time.January, 1), 10957 + 146097},
		{"across 1970", calendarDay(1969, time.December, 31), calendarDay(1970, time.January, 1), 1},
		{"the time of day is ignored", time.Date(2026, time.June, 1, 23, 59, 0, 0, time.UTC), time.Date(2026, time.June, 2, 0, 1, 0, 0, time.UTC), 1},
		{"later in the day is still the same day", time.Date(2026, time.June, 1, 0, 1, 0, 0, time.UTC), time.Date(2026, time.June, 1, 23, 59, 0, 0, time.UTC), 0},
		{"other time zones count UTC days", time.Date(2026, time.June, 2, 1, 0, 0, 0, time.FixedZone("UTC+3", 3*60*60)), calendarDay(2026, time.June, 2), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DaysBetween(tt.from, tt.to); got != tt.want {
				t.Errorf("DaysBetween(%v, %v) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestDaysBetweenCountsEveryDay(t *testing.T) {
	// Step one day at a time from 1899 to 2401: the count must go up by exactly one each step.
	start := calendarDay(1899, time.January, 1)
	d := start
	for n := 0; d.Year() < 2401; n++ {
		if got := DaysBetween(start, d); got != n {
			t.Fatalf("DaysBetween(%s, %s) = %d, want %d", FormatDate(start), FormatDate(d), got, n)
		}
		d = d.AddDate(0, 0, 1)
	}
}

func TestDaysIn(t *testing.T) {
	tests := []struct {
		year  int
		month time.Month
		want  int
	}{
		{2026, time.January, 31},
		{2026, time.February, 28},
		{2024, time.February, 29},
		{2000, time.February, 29},
		{1900, time.February, 28},
		{2100, time.February, 28},
		{2400, time.February, 29},
		{2026, time.April, 30},
		{2026, time.June, 30},
		{2026, time.September, 30},
		{2026, time.November, 30},
		{2026, time.December, 31},
	}
	for _, tt := range tests {
		t.Run(tt.month.String()+" "+strconv.Itoa(tt.year), func(t *testing.T) {
			if got := daysIn(tt.year, tt.month); got != tt.want {
				t.Errorf("daysIn(%d, %s) = %d, want %d", tt.year, tt.month, got, tt.want)
			}
		})
	}
	t.Run("agrees with the calendar from 1600 to 2800", func(t *testing.T) {
		for year := 1600; year <= 2800; year++ {
			for month := time.January; month <= time.December; month++ {
				// Day 0 of the next month is the last day of this one.
				want := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
				if got := daysIn(year, month); got != want {
					t.Fatalf("daysIn(%d, %s) = %d, want %d", year, month, got, want)
				}
			}
		}
	})
}

// A plan is in force as soon as it is ordered: its start date may lie at most MaxStartLeadDays
// ahead of the day it is ordered, and at most MaxStartBackYears behind. Admission (JudgeSpec) and
// the plan controller (DecidePlan) refuse it alike, naming spec.startDate; the controller places
// no order.
func TestStartDateBounds(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC) // pvNow
	for _, tt := range []struct {
		start v1alpha1.Date
		want  string
	}{
		{"", ""},
		{"2026-03-10", ""},
		{"2026-04-10", ""}, // 31 days ahead: the first of next month ordered any day of this one
		{"2026-04-11", v1alpha1.ReasonStartDateOutOfRange},
		{"2027-03-10", v1alpha1.ReasonStartDateOutOfRange}, // a year of licenses free
		{"2021-03-10", ""}, // five years back: a contract taken over
		{"2021-03-09", v1alpha1.ReasonStartDateOutOfRange},
		{"2006-03-10", v1alpha1.ReasonStartDateOutOfRange}, // a mistyped year
		{"0001-01-01", v1alpha1.ReasonStartDateOutOfRange},
		{"9999-12-31", v1alpha1.ReasonStartDateOutOfRange},
	} {
		t.Run(string(tt.start), func(t *testing.T) {
			v := CheckStartDate(tt.start, now)
			if v.Reason != tt.want {
				t.Fatalf("CheckStartDate(%q) = %+v, want reason %q", tt.start, v, tt.want)
			}
			if tt.want != "" && !strings.Contains(v.Message, "spec.startDate "+string(tt.start)) {
				t.Errorf("the message %q does not name spec.startDate and its value", v.Message)
			}

			spec := pvSpec("ep-plus", 10, v1alpha1.Monthly)
			spec.StartDate = tt.start
			in := pvNew(spec, pvProduct("10.00"))
			if got := JudgeSpec(in); got.Reason != tt.want {
				t.Errorf("JudgeSpec = %+v, want reason %q", got, tt.want)
			}
			trial := spec
			trial.PaymentPlan = v1alpha1.Trial
			if got := JudgeSpec(pvNew(trial, pvProduct("10.00"))); tt.want != "" && got.Reason != tt.want {
				t.Errorf("JudgeSpec of a trial = %+v, want reason %q", got, tt.want)
			}

			plan := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: "eul", Namespace: "acme", Generation: 1,
				Finalizers: []string{v1alpha1.CancellationFinalizer}, CreationTimestamp: metav1.NewTime(now)}, Spec: spec}
			d := DecidePlan(PlanSnapshot{Plan: plan, Now: now, Catalog: map[string]*v1alpha1.LicenseProductSpec{"ep-plus": pvProduct("10.00")}})
			ready := meta.FindStatusCondition(d.Status.Conditions, v1alpha1.PlanReady)
			switch {
			case tt.want == "" && d.Place == nil:
				t.Errorf("no order placed; Ready %+v", ready)
			case tt.want != "" && d.Place != nil:
				t.Errorf("an order was placed: %+v", d.Place)
			case tt.want != "" && (ready.Status != metav1.ConditionFalse || ready.Reason != v1alpha1.ReasonInvalidSpec || !strings.Contains(ready.Message, tt.want)):
				t.Errorf("Ready = %s %s: %s; want False, InvalidSpec, naming %s", ready.Status, ready.Reason, ready.Message, tt.want)
			}
		})
	}

	t.Run("a plan in force keeps its start date, however far it lies", func(t *testing.T) {
		spec := pvSpec("ep-plus", 10, v1alpha1.Monthly)
		spec.StartDate = "2027-03-10"
		st := pvStatus(10)
		st.StartDate = "2027-03-10"
		if got := JudgeSpec(pvChange(spec, st, pvProduct("10.00"), pvProduct("10.00"))); !got.Passed() {
			t.Errorf("JudgeSpec = %+v: a stored plan is not refused for its start date", got)
		}
	})

	t.Run("a trial holds its licenses for its days from the day it is ordered, not from a start date ahead", func(t *testing.T) {
		product := pvProduct("10.00")
		product.Trial = &v1alpha1.TrialOffer{Days: 30, MaxLicenses: 10}
		spec := pvSpec("ep-plus", 5, v1alpha1.Trial)
		spec.StartDate = "2026-04-10"
		in := pvNew(spec, product)
		due := OrdersDue(in.DueInput, 1)
		if len(due.Orders) != 1 || due.Orders[0].Change != v1alpha1.ChangeTrial {
			t.Fatalf("orders due: %+v", due.Orders)
		}
		o := fulfilledOrder(in.DueInput, in.Status, due.Orders[0])
		st, err := ApplyOrder(in.Status, o, time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if st.Term == nil || st.Term.Start != "2026-03-10" || st.Term.End != "2026-04-09" || st.StartDate != "2026-03-10" {
			t.Errorf("the trial holds its licenses %+v from %s: want 2026-03-10 to 2026-04-09, its 30 days", st.Term, st.StartDate)
		}
	})
}
