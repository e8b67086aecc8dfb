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
