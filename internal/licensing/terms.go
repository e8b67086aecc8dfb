package licensing

import (
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Term is one billing period of a plan: the days from Start up to, but not including, End. Both are
// dates at 00:00 UTC. End is the renewal date: the day the next term starts. A OneTime plan has no
// term: it is charged once and never renews.
type Term struct {
	// Start is the first day of the term.
	Start time.Time
	// End is the renewal date, the first day after the term.
	End time.Time
}

// Days is the length of the term in days (28 to 31 for Monthly, 365 or more for a prepaid year).
func (t Term) Days() int {
	return DaysBetween(t.Start, t.End)
}

// Contains reports whether the day of moment falls within the term: Start <= day < End.
func (t Term) Contains(moment time.Time) bool {
	d := Day(moment)
	return !d.Before(t.Start) && d.Before(t.End)
}

// TermMonths is the length of a term of the payment plan in calendar months: 1 for Monthly, 12 x N for
// PrepayNY, and 0 for OneTime or an unknown payment plan, which do not renew.
func TermMonths(pp v1alpha1.PaymentPlan) int {
	switch pp {
	case v1alpha1.Monthly:
		return 1
	case v1alpha1.Prepay1Y:
		return 12
	case v1alpha1.Prepay2Y:
		return 24
	case v1alpha1.Prepay3Y:
		return 36
	case v1alpha1.Prepay4Y:
		return 48
	case v1alpha1.Prepay5Y:
		return 60
	default:
		return 0
	}
}

// Renews reports whether plans on the payment plan have terms that renew (every plan but OneTime).
func Renews(pp v1alpha1.PaymentPlan) bool {
	return TermMonths(pp) > 0
}

// TermEnd is the renewal date of the term of payment plan pp that starts on start: TermMonths(pp)
// calendar months later, on the anchor day clamped to the end of that month. anchorDay is the day of
// month of the plan's start date (1 to 31; values outside are clamped into that range); it keeps
// month-end plans on the month's end: from 31 January, Monthly terms end on 28 (or 29) February,
// 31 March, 30 April... and a plan started on 29 February renews on 28 February except in leap years.
// For OneTime, which has no term, TermEnd returns start.
func TermEnd(start time.Time, anchorDay int, pp v1alpha1.PaymentPlan) time.Time {
	months := TermMonths(pp)
	if months == 0 {
		return start
	}
	return anchoredDate(Day(start), anchorDay, months)
}

// anchoredDate is the date months calendar months after the month of from, on anchorDay clamped
// into that month.
func anchoredDate(from time.Time, anchorDay, months int) time.Time {
	index := from.Year()*12 + int(from.Month()) - 1 + months
	year, month := floorDiv(index, 12), time.Month(floorMod(index, 12)+1)
	day := min(max(anchorDay, 1), daysIn(year, month))
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

// floorDiv divides rounding towards minus infinity, so months before year 0 land in the right year.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// floorMod is the remainder that goes with floorDiv: always in [0, b) for b > 0.
func floorMod(a, b int) int {
	return a - floorDiv(a, b)*b
}

// FirstTerm is the first term of a plan: it starts on the plan's start date, whose day of month
// anchors every later renewal.
func FirstTerm(startDate time.Time, pp v1alpha1.PaymentPlan) Term {
	start := Day(startDate)
	return Term{Start: start, End: TermEnd(start, start.Day(), pp)}
}

// NextTerm is the term that follows t: it starts on t's renewal date and lasts one term of pp, the
// payment plan in force for that next term (it differs from t's after a payment plan change).
// anchorDay is the day of month of the plan's start date.
func NextTerm(t Term, anchorDay int, pp v1alpha1.PaymentPlan) Term {
	return Term{Start: t.End, End: TermEnd(t.End, anchorDay, pp)}
}

// RenewalTime is the moment the renewal order for term t is placed: renewBefore ahead of its end.
func RenewalTime(t Term, renewBefore time.Duration) time.Time {
	return t.End.Add(-renewBefore)
}
