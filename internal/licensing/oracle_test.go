package licensing

import (
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The tests check the operator's arithmetic against these independent computations.

// Sum adds up charges.
func Sum(ms ...Money) Money {
	var total Money
	for _, m := range ms {
		total += m
	}
	return total
}

// TermContaining is the term of a plan that started on startDate with payment plan pp which contains
// day: the term reached by renewing from FirstTerm until day falls within it. A day before the start
// date gives the first term; a OneTime plan always gives {startDate, startDate}. The term is found
// by arithmetic on months, so a day a century after the start costs no more than the next day.
func TermContaining(startDate time.Time, pp v1alpha1.PaymentPlan, day time.Time) Term {
	first := FirstTerm(startDate, pp)
	months := TermMonths(pp)
	d := Day(day)
	if months == 0 || d.Before(first.End) {
		return first
	}
	anchor := first.Start.Day()
	// Term k starts k x months calendar months after the start date. Guess k from the months elapsed,
	// then correct it: the guess is off by at most one term either way.
	elapsed := (d.Year()-first.Start.Year())*12 + int(d.Month()) - int(first.Start.Month())
	k := max(elapsed/months, 0)
	term := func(k int) Term {
		return Term{
			Start: anchoredDate(first.Start, anchor, k*months),
			End:   anchoredDate(first.Start, anchor, (k+1)*months),
		}
	}
	t := term(k)
	for k > 0 && d.Before(t.Start) {
		k--
		t = term(k)
	}
	for !d.Before(t.End) {
		k++
		t = term(k)
	}
	return t
}
