package licensing

import (
	"fmt"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// dateLayout is the layout of every date in the API: start dates, term boundaries, renewal dates.
const dateLayout = "2006-01-02"

// secondsPerDay is the length of a calendar day in UTC.
const secondsPerDay = 24 * 60 * 60

// ParseDate reads a plan date written as YYYY-MM-DD and returns the start of that day, 00:00 UTC.
// Dates that do not exist (2026-02-30, 2026-13-01) and any other spelling ("2026-1-01") are refused
// with an error that names the value.
func ParseDate(s v1alpha1.Date) (time.Time, error) {
	t, err := time.Parse(dateLayout, string(s))
	// The round trip refuses spellings that time.Parse tolerates but the API does not, such as a
	// signed year ("+026-01-01").
	if err != nil || t.Format(dateLayout) != string(s) {
		return time.Time{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD", string(s))
	}
	return t, nil
}

// FormatDate writes the UTC calendar day of t as a plan date, YYYY-MM-DD.
func FormatDate(t time.Time) v1alpha1.Date {
	return v1alpha1.Date(t.UTC().Format(dateLayout))
}

// Day returns the UTC calendar day that contains t, at 00:00 UTC. Terms, renewals and prorations
// count whole days, so every moment is reduced to its day first.
func Day(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// DaysBetween counts the whole days from the day of from to the day of to: 1 from one day to the
// next, 365 or 366 across a year, negative when to is before from. It is exact over any span of years.
func DaysBetween(from, to time.Time) int {
	return int(dayNumber(to) - dayNumber(from))
}

// dayNumber numbers the UTC calendar day of t, counting from 1970-01-01 (day 0). UTC days have no
// leap seconds in Unix time, so the start of every day is an exact multiple of secondsPerDay.
func dayNumber(t time.Time) int64 {
	return Day(t).Unix() / secondsPerDay
}

// daysIn returns the number of days of month in year in the Gregorian calendar (28 to 31).
func daysIn(year int, month time.Month) int {
	switch month {
	case time.February:
		if isLeap(year) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	default:
		return 31
	}
}

// isLeap reports whether year has a 29 February.
func isLeap(year int) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}

// MaxStartLeadDays is how many days after the day a plan is ordered (its first order is placed)
// its spec.startDate may lie.
// A plan is in force as soon as it is ordered and billed from its start date, so the days before
// the start date are licenses not billed: a month of lead time is what a partner expects (a plan
// ordered in the last days of a month to start on the first of the next, a contract signed ahead
// of a go-live), and 31 days is the longest month. Further ahead would give months of licenses
// free; a plan wanted later is created later.
const MaxStartLeadDays = 31

// MaxStartBackYears is how many years before the day a plan is ordered its spec.startDate may
// lie: the longest term there is (Prepay5Y). A plan backdated to take over an existing contract
// is billed every term that ended since, at once; a start date further back is almost surely a
// mistyped year (2006 for 2026), which would bill decades.
const MaxStartBackYears = 5

// StartDateBounds are the first and the last day a plan ordered at now may start on.
func StartDateBounds(now time.Time) (earliest, latest time.Time) {
	day := Day(now)
	return day.AddDate(-MaxStartBackYears, 0, 0), day.AddDate(0, 0, MaxStartLeadDays)
}

// CheckStartDate judges spec.startDate of a plan ordered at now (admission judges it when the plan
// is created, the plan controller before it places the plan's first order): an empty one (the day
// the plan is created) passes; a date that does not parse, or lies outside StartDateBounds, is
// refused naming the field, the value and the bounds. The bound moves with now, towards passing: a
// plan stored without the webhooks and refused for a start date too far ahead is ordered once the
// date lies within MaxStartLeadDays, never with more days unbilled.
func CheckStartDate(start v1alpha1.Date, now time.Time) Verdict {
	if start == "" {
		return pass()
	}
	earliest, latest := StartDateBounds(now)
	d, err := ParseDate(start)
	switch {
	case err != nil:
		return fail(v1alpha1.ReasonStartDateOutOfRange, "spec.startDate: %v", err)
	case d.After(latest):
		return fail(v1alpha1.ReasonStartDateOutOfRange,
			"spec.startDate %s is %d days after today, %s: a plan is in force as soon as it is ordered and billed from its start date, so the start date may lie at most %d days ahead (until %s); create the plan closer to its start",
			start, DaysBetween(now, d), FormatDate(now), MaxStartLeadDays, FormatDate(latest))
	case d.Before(earliest):
		return fail(v1alpha1.ReasonStartDateOutOfRange,
			"spec.startDate %s is more than %d years before today, %s, and every term since would be billed at once: set a start date on or after %s",
			start, MaxStartBackYears, FormatDate(now), FormatDate(earliest))
	}
	return pass()
}

// StartDateApplies reports whether the plan's first order, req, starts billing from
// spec.startDate (a New or Trial order of a plan never in force), so that CheckStartDate judges it.
func StartDateApplies(st v1alpha1.CustomerLicensePlanStatus, req ChangeRequest) bool {
	return (req.Change == v1alpha1.ChangeNew || req.Change == v1alpha1.ChangeTrial) && st.StartDate == "" && st.ExpiredOn == ""
}
