package licensing

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// maxTermDays is the longest term there is: five years, with room to spare.
const maxTermDays = 1830

// referenceProration computes licenses x price x remainingDays / termDays rounded half up with
// exact rational arithmetic, independently of ProratedCharge: floor(x + 1/2).
func referenceProration(licenses int32, price Money, remainingDays, termDays int) Money {
	x := new(big.Rat).SetFrac(
		new(big.Int).Mul(big.NewInt(int64(licenses)*int64(remainingDays)), big.NewInt(int64(price))),
		big.NewInt(int64(termDays)))
	x.Add(x, big.NewRat(1, 2))
	floor := new(big.Int).Div(x.Num(), x.Denom()) // Euclidean: the floor for a positive denominator
	return Money(floor.Int64())
}

// FuzzProration checks that splitting a term into consecutive pieces and charging each piece pro
// rata adds up to the term charge within the rounding of each piece, that charges grow with the days
// left, and that the whole term costs exactly the term charge.
func FuzzProration(f *testing.F) {
	f.Add(uint32(3), uint64(12000), uint16(365), uint64(1))
	f.Add(uint32(1), uint64(1), uint16(2), uint64(2))
	f.Add(uint32(999_999), uint64(99_999_999_999), uint16(1829), uint64(3))
	f.Add(uint32(0), uint64(0), uint16(0), uint64(0))
	f.Add(uint32(7), uint64(1199), uint16(30), uint64(42))
	f.Add(uint32(1_000_000), uint64(99_999_999_998), uint16(1825), uint64(1<<63))
	f.Fuzz(func(t *testing.T, licensesIn uint32, priceIn uint64, termDaysIn uint16, seed uint64) {
		licenses := int32(1 + licensesIn%apiMaxLicenses) // 1 .. 1,000,000
		price := Money(priceIn % uint64(apiMaxPrice+1))  // 0 .. 999999999.99
		termDays := 1 + int(termDaysIn)%maxTermDays      // 1 .. 1830
		rng := rand.New(rand.NewPCG(seed, uint64(termDays)))
		termCharge := mustCharge(TermCharge(licenses, price))

		if got := mustCharge(ProratedCharge(licenses, price, termDays, termDays)); got != termCharge {
			t.Fatalf("ProratedCharge(%d, %s, %d, %d) = %s, want the term charge %s",
				licenses, price, termDays, termDays, got, termCharge)
		}

		// Cut the term into pieces at distinct days; the pieces' days add up to termDays.
		pieces := 1 + rng.IntN(min(termDays, 64))
		cuts := rng.Perm(termDays - 1)[:pieces-1]
		for i := range cuts {
			cuts[i]++ // cut after day 1 .. termDays-1
		}
		cuts = append(cuts, 0, termDays)
		slices.Sort(cuts)
		var charges []Money
		for i := 1; i < len(cuts); i++ {
			days := cuts[i] - cuts[i-1]
			charge := mustCharge(ProratedCharge(licenses, price, days, termDays))
			if charge < 0 {
				t.Fatalf("ProratedCharge(%d, %s, %d, %d) = %s, a negative charge", licenses, price, days, termDays, charge)
			}
			if want := referenceProration(licenses, price, days, termDays); charge != want {
				t.Fatalf("ProratedCharge(%d, %s, %d, %d) = %s, want %s", licenses, price, days, termDays, charge, want)
			}
			charges = append(charges, charge)
		}
		// Each piece is off by at most half a minor unit: the sum is within pieces/2 of the term charge.
		diff := int64(Sum(charges...) - termCharge)
		if 2*diff > int64(pieces) || 2*diff < -int64(pieces) {
			t.Fatalf("%d licenses x %s over %d days in %d pieces %v: the pieces cost %s, the term %s: off by more than half a cent a piece",
				licenses, price, termDays, pieces, cuts, Sum(charges...), termCharge)
		}

		// More days left never cost less, and never more than the whole term.
		check := []int{-1, 0, termDays - 1, termDays}
		for range 32 {
			check = append(check, rng.IntN(termDays))
		}
		check = append(check, cuts...)
		for _, r := range check {
			lo, hi := mustCharge(ProratedCharge(licenses, price, r, termDays)), mustCharge(ProratedCharge(licenses, price, r+1, termDays))
			if lo < 0 || lo > hi || hi > termCharge {
				t.Fatalf("%d licenses x %s: %d/%d days cost %s, %d/%d days cost %s, the term %s: want 0 <= the first <= the second <= the term",
					licenses, price, r, termDays, lo, r+1, termDays, hi, termCharge)
			}
		}
	})
}

// FuzzTerms renews plans from random start dates and checks that terms follow one another without
// gap or overlap, have the length of their payment plan, keep to the anchor day, and are found again
// by TermContaining.
func FuzzTerms(f *testing.F) {
	f.Add(uint16(54), uint16(30), uint8(0), uint8(40), uint64(1))    // 2024-01-31, Monthly
	f.Add(uint16(54), uint16(59), uint8(1), uint8(10), uint64(2))    // 2024-02-29, Prepay1Y
	f.Add(uint16(430), uint16(365), uint8(5), uint8(200), uint64(3)) // 2400-12-31, Prepay5Y
	f.Add(uint16(0), uint16(0), uint8(6), uint8(5), uint64(4))       // 1970-01-01, OneTime
	f.Add(uint16(126), uint16(59), uint8(4), uint8(30), uint64(5))   // 2096-02-29, Prepay4Y
	f.Fuzz(func(t *testing.T, yearIn, dayIn uint16, planIn, stepsIn uint8, seed uint64) {
		year := 1970 + int(yearIn)%431 // 1970 .. 2400
		daysInYear := 365
		if isLeap(year) {
			daysInYear = 366
		}
		start := calendarDay(year, time.January, 1).AddDate(0, 0, int(dayIn)%daysInYear)
		pp := everyPaymentPlan[int(planIn)%len(everyPaymentPlan)]
		steps := int(stepsIn) % 201
		rng := rand.New(rand.NewPCG(seed, uint64(start.Unix())))
		anchor := start.Day()

		first := FirstTerm(start, pp)
		if !first.Start.Equal(start) {
			t.Fatalf("FirstTerm(%s, %s) = %s, want it to start on the start date", FormatDate(start), pp, termString(first))
		}
		if !Renews(pp) {
			if !first.End.Equal(start) {
				t.Fatalf("FirstTerm(%s, %s) = %s, want a term of no days", FormatDate(start), pp, termString(first))
			}
			if got := TermContaining(start, pp, start.AddDate(0, 0, rng.IntN(20000)-10000)); !sameTerm(got, first) {
				t.Fatalf("TermContaining(%s, %s, ...) = %s, want %s", FormatDate(start), pp, termString(got), termString(first))
			}
			return
		}
		years := TermMonths(pp) / 12
		minDays, maxDays := 365*years, 366*years+1
		if pp == v1alpha1.Monthly {
			minDays, maxDays = 28, 31
		}

		if before := start.AddDate(0, 0, -1-rng.IntN(1000)); !sameTerm(TermContaining(start, pp, before), first) {
			t.Fatalf("TermContaining(%s, %s, %s) = %s, want the first term %s", FormatDate(start), pp,
				FormatDate(before), termString(TermContaining(start, pp, before)), termString(first))
		}
		term := first
		for i := 0; i <= steps; i++ {
			if !term.End.After(term.Start) {
				t.Fatalf("term %d %s does not advance", i+1, termString(term))
			}
			if days := term.Days(); days < minDays || days > maxDays {
				t.Fatalf("term %d %s of %s has %d days, want %d to %d", i+1, termString(term), pp, days, minDays, maxDays)
			}
			checkAnchor(t, term.End, anchor)
			lastDay := term.End.AddDate(0, 0, -1)
			someDay := term.Start.AddDate(0, 0, rng.IntN(term.Days()))
			for _, d := range []time.Time{term.Start, lastDay, someDay, someDay.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))} {
				if got := TermContaining(start, pp, d); !sameTerm(got, term) {
					t.Fatalf("TermContaining(%s, %s, %v) = %s, want term %d %s", FormatDate(start), pp, d, termString(got), i+1, termString(term))
				}
			}
			next := NextTerm(term, anchor, pp)
			if !next.Start.Equal(term.End) {
				t.Fatalf("term %d %s is followed by %s, want it to start on the renewal date", i+1, termString(term), termString(next))
			}
			term = next
		}

		// With a payment plan change at any renewal, terms still follow one another and keep the anchor.
		term = first
		for i := 0; i <= steps; i++ {
			nextPlan := everyPaymentPlan[rng.IntN(len(everyPaymentPlan)-1)] // every plan that renews
			next := NextTerm(term, anchor, nextPlan)
			if !next.Start.Equal(term.End) || !next.End.After(next.Start) {
				t.Fatalf("term %s renewed on %s gives %s, want a later term starting on %s",
					termString(term), nextPlan, termString(next), FormatDate(term.End))
			}
			checkAnchor(t, next.End, anchor)
			term = next
		}
	})
}

// checkAnchor fails unless renewal date end falls on the anchor day, or on the month's last day when
// the month is shorter.
func checkAnchor(t *testing.T, end time.Time, anchor int) {
	t.Helper()
	if want := min(anchor, daysIn(end.Year(), end.Month())); end.Day() != want {
		t.Fatalf("renewal date %s is on day %d, want day %d (anchor %d)", FormatDate(end), end.Day(), want, anchor)
	}
}

// amountPattern is the pattern the API enforces on amounts.
var amountPattern = regexp.MustCompile(`^[0-9]{1,17}(\.[0-9]{1,2})?$`)

// FuzzAmountRoundTrip checks that every amount the API allows survives writing and reading, and that
// ParseAmount accepts exactly the strings of the API pattern whose value int64 minor units hold, at
// their exact value, and refuses the others of the pattern with ErrOverflow.
func FuzzAmountRoundTrip(f *testing.F) {
	f.Add(int64(0), "0")
	f.Add(int64(1250), "12.5")
	f.Add(int64(99_999_999_999), "999999999.99")
	f.Add(int64(5), "0.05")
	f.Add(int64(-1), "-1")
	f.Add(int64(100), "1.234")
	f.Add(int64(7), "")
	f.Add(int64(8), "1234567890")
	f.Add(int64(9), "12.")
	f.Add(int64(10), "١٢")
	f.Add(int64(math.MaxInt64), "92233720368547758.07")
	f.Add(int64(11), "92233720368547758.08")
	f.Add(int64(12), "99999999999999999.99")
	f.Add(int64(13), "123456789012345678")
	f.Fuzz(func(t *testing.T, mIn int64, s string) {
		m := Money(uint64(mIn) % (uint64(MaxMoney) + 1)) // 0 .. MaxMoney
		if got, err := ParseAmount(m.Amount()); err != nil || got != m {
			t.Fatalf("ParseAmount(%q) = %d, %v; want %d", m.Amount(), got, err, m)
		}

		got, err := ParseAmount(v1alpha1.Amount(s))
		matches := amountPattern.MatchString(s)
		if !matches {
			if err == nil {
				t.Fatalf("ParseAmount(%q) = %d; the API pattern does not match", s, got)
			}
			return
		}
		exact, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("%q is not a decimal number", s)
		}
		exact.Mul(exact, big.NewRat(minorPerMajor, 1))
		if fits := exact.Num().IsInt64(); fits != (err == nil) || !fits && !errors.Is(err, ErrOverflow) {
			t.Fatalf("ParseAmount(%q) error = %v; %s minor units fit in int64: %t", s, err, exact.RatString(), fits)
		}
		if err != nil {
			return
		}
		if !exact.IsInt() || exact.Num().Int64() != int64(got) {
			t.Fatalf("ParseAmount(%q) = %d, want %s minor units", s, got, exact.RatString())
		}
		if again, err := ParseAmount(got.Amount()); err != nil || again != got {
			t.Fatalf("ParseAmount(%q) = %d, %v; want %d, written from %q", got.Amount(), again, err, got, s)
		}
	})
}

// FuzzCatchUp checks OrdersDue for a new plan whose start date lies up to ten years in the past:
// a New order today, then one Renewal per term that ended since, in order and each at the term
// charge, the terms contiguous from the start date, the term in force containing today, and at
// most one more renewal, placed now and charged at its term end, inside the renewal window.
func FuzzCatchUp(f *testing.F) {
	f.Add(uint16(752), uint8(0), uint32(9), uint64(1000), uint32(168))
	f.Add(uint16(0), uint8(3), uint32(1), uint64(1), uint32(0))
	f.Add(uint16(3650), uint8(1), uint32(9_999), uint64(10_000), uint32(600))
	f.Add(uint16(29), uint8(0), uint32(5), uint64(250), uint32(671))
	f.Fuzz(func(t *testing.T, daysAgo uint16, ppIn uint8, quantityIn uint32, priceIn uint64, renewBeforeHours uint32) {
		now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
		plans := []v1alpha1.PaymentPlan{v1alpha1.Monthly, v1alpha1.Prepay1Y, v1alpha1.Prepay2Y, v1alpha1.Prepay3Y, v1alpha1.Prepay5Y}
		pp := plans[int(ppIn)%len(plans)]
		start := Day(now).AddDate(0, 0, -int(daysAgo%3651))
		// Totals stay within what an API amount holds (9 digits before the point) over ten years.
		quantity := int32(1 + quantityIn%10_000)
		price := Money(priceIn % 10_001) // 0 .. 100.00
		maxHours := uint32(671)          // renewBefore is shorter than the shortest term (CRD validation)
		if pp != v1alpha1.Monthly {
			maxHours = 8759
		}
		rb := time.Duration(renewBeforeHours%(maxHours+1)) * time.Hour
		spec := v1alpha1.CustomerLicensePlanSpec{Product: "p", Quantity: quantity, PaymentPlan: pp, StartDate: FormatDate(start),
			Renewal: v1alpha1.RenewalSpec{RenewBefore: &metav1.Duration{Duration: rb}}}
		product := &v1alpha1.LicenseProductSpec{SKU: "P", Prices: []v1alpha1.Price{{PaymentPlan: pp, PricePerLicense: price.Amount()}}}
		due := OrdersDue(DueInput{Spec: spec, Created: now, Catalog: map[string]*v1alpha1.LicenseProductSpec{"p": product},
			Currency: "EUR", Now: now}, MaxOrdersDue)

		termCharge := mustCharge(TermCharge(quantity, price))
		if len(due.Orders) == 0 || due.Orders[0].Change != v1alpha1.ChangeNew || !due.Orders[0].AtOnce(now) || due.Orders[0].Pricing.Charge != termCharge {
			t.Fatalf("first order %+v, want New charged %s at once", due.Orders, termCharge)
		}
		term := FirstTerm(start, pp)
		for i, o := range due.Orders[1:] {
			if o.PriceErr != nil || o.Change != v1alpha1.ChangeRenewal || o.Quantity != quantity || o.Pricing.Charge != termCharge {
				t.Fatalf("order %d = %+v (%v), want a Renewal of %d charged %s", i+2, o.ChangeRequest, o.PriceErr, quantity, termCharge)
			}
			if !o.EffectiveDate.Equal(term.End) {
				t.Fatalf("order %d renews on %s, want the end of term %s..%s", i+2, FormatDate(o.EffectiveDate), FormatDate(term.Start), FormatDate(term.End))
			}
			atOnce := !term.End.After(now)
			if o.AtOnce(now) != atOnce || (!atOnce && i+2 != len(due.Orders)) {
				t.Fatalf("order %d renewing on %s: at once %v, and %d orders listed", i+2, FormatDate(term.End), o.AtOnce(now), len(due.Orders))
			}
			if !atOnce && now.Before(RenewalTime(term, rb)) {
				t.Fatalf("order %d placed before its renewal time %s", i+2, RenewalTime(term, rb))
			}
			if atOnce {
				term = NextTerm(term, start.Day(), pp)
			}
		}
		if !term.Contains(now) {
			t.Fatalf("after %d orders the term in force is %s..%s, which does not contain %s", len(due.Orders), FormatDate(term.Start), FormatDate(term.End), now)
		}
		if last := due.Orders[len(due.Orders)-1]; last.AtOnce(now) && !now.Before(RenewalTime(term, rb)) {
			t.Fatalf("the renewal of term %s..%s is due at %s but was not listed", FormatDate(term.Start), FormatDate(term.End), RenewalTime(term, rb))
		}
	})
}

// FuzzCheckedMoney checks the checked arithmetic on Money against exact big-integer arithmetic: Add,
// Mul, TermCharge and ProratedCharge return the exact result when it lies within +-MaxMoney and
// ErrOverflow otherwise, and never a wrapped-around amount.
func FuzzCheckedMoney(f *testing.F) {
	f.Add(int64(1), int64(2), int32(3), uint16(30), uint16(31))
	f.Add(int64(math.MaxInt64), int64(1), int32(1), uint16(1), uint16(1))
	f.Add(int64(10_000_000_000_000), int64(-1), int32(1_000_000), uint16(365), uint16(365))
	f.Add(int64(math.MinInt64), int64(-1), int32(2), uint16(1), uint16(2))
	f.Add(int64(9_223_372_036_854), int64(1_000_000), int32(1_000_000), uint16(1829), uint16(1830))
	f.Fuzz(func(t *testing.T, aIn, bIn int64, licensesIn int32, daysIn, termIn uint16) {
		a, b := Money(aIn), Money(bIn)
		limit := big.NewInt(math.MaxInt64)
		within := func(x *big.Int) bool { return x.CmpAbs(limit) <= 0 }
		check := func(what string, got Money, err error, exact *big.Int) {
			t.Helper()
			switch {
			case within(exact) && (err != nil || int64(got) != exact.Int64()):
				t.Fatalf("%s = %d, %v; want %s", what, got, err, exact)
			case !within(exact) && !errors.Is(err, ErrOverflow):
				t.Fatalf("%s = %d, %v; want ErrOverflow for %s", what, got, err, exact)
			}
		}
		if a != math.MinInt64 && b != math.MinInt64 {
			got, err := Add(a, b)
			check("Add", got, err, new(big.Int).Add(big.NewInt(aIn), big.NewInt(bIn)))
		}
		if a != math.MinInt64 && b != math.MinInt64 {
			got, err := Mul(a, bIn)
			check("Mul", got, err, new(big.Int).Mul(big.NewInt(aIn), big.NewInt(bIn)))
		}
		// Charges: non-negative prices and licenses, as the API has them.
		price := Money(uint64(aIn) % (uint64(MaxMoney) + 1))
		licenses := int32(uint32(licensesIn) % (apiMaxLicenses + 1))
		got, err := TermCharge(licenses, price)
		check("TermCharge", got, err, new(big.Int).Mul(big.NewInt(int64(licenses)), big.NewInt(int64(price))))
		termDays := 1 + int(termIn)%maxTermDays
		days := int(daysIn) % (termDays + 1)
		got, err = ProratedCharge(licenses, price, days, termDays)
		// The reference rounds half up exactly; only its range matters for overflow.
		exact := new(big.Int).Mul(big.NewInt(int64(licenses)), big.NewInt(int64(price)))
		exact.Mul(exact, big.NewInt(int64(days)))
		exact.Add(exact.Mul(exact, big.NewInt(2)), big.NewInt(int64(termDays)))
		exact.Div(exact, big.NewInt(2*int64(termDays)))
		check("ProratedCharge", got, err, exact)
		if err == nil && (got < 0 || (days == termDays && got != mustCharge(TermCharge(licenses, price)))) {
			t.Fatalf("ProratedCharge(%d, %s, %d, %d) = %s: negative, or a whole term not the term charge", licenses, price, days, termDays, got)
		}
		total, err := SumMoney(price, got)
		if err == nil && total < price {
			t.Fatalf("SumMoney(%s, %s) = %s, less than a summand", price, got, total)
		}
	})
}
