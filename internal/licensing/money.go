package licensing

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Money is an amount of money in minor units (cents): 1250 is 12.50. Prices, charges and totals are
// always whole minor units; amounts are never held as floating-point numbers.
type Money int64

// minorPerMajor is the number of minor units in one unit of currency.
const minorPerMajor = 100

// maxIntegerDigits is the number of digits an API amount may have before the decimal point: as many
// as the largest amount, MaxMoney, has (17). The API's Amount pattern allows the same.
const maxIntegerDigits = 17

// MaxMoney is the largest amount there is: the largest int64 number of minor units,
// 92233720368547758.07. Every charge, price and total holds at most this much; an amount beyond it
// is refused rather than wrapped around.
const MaxMoney = Money(math.MaxInt64)

// ErrOverflow is the error of an amount, or of arithmetic on amounts, beyond MaxMoney (or, for a
// difference, below -MaxMoney). Test for it with errors.Is.
var ErrOverflow = errors.New("the amount is beyond the largest amount, " + string(MaxMoney.Amount()))

// ParseAmount reads an API amount such as "12", "12.5" or "12.05" into minor units (1200, 1250,
// 1205). It accepts what the API pattern accepts, 1 to 17 digits optionally followed by a point and
// 1 or 2 decimals, up to MaxMoney (92233720368547758.07). Anything else, including an empty or
// negative amount and one beyond MaxMoney (which wraps ErrOverflow), is refused with an error that
// names the value.
func ParseAmount(a v1alpha1.Amount) (Money, error) {
	s := string(a)
	refuse := func(reason string) (Money, error) {
		return 0, fmt.Errorf("invalid amount %q: %s; want 1 to %d digits and at most 2 decimals, such as \"12.50\"",
			s, reason, maxIntegerDigits)
	}
	if s == "" {
		return refuse("it is empty")
	}
	if s[0] == '-' {
		return refuse("it is negative")
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if err := checkDigits(whole); err != "" {
		return refuse(err)
	}
	if hasPoint {
		if frac == "" {
			return refuse("it has no digits after the decimal point")
		}
		if err := checkDigits(frac); err != "" {
			return refuse(err)
		}
	}
	switch {
	case whole == "":
		return refuse("it has no digits before the decimal point")
	case len(whole) > maxIntegerDigits:
		return refuse(fmt.Sprintf("it has more than %d digits before the decimal point", maxIntegerDigits))
	case len(frac) > 2:
		return refuse("it has more than 2 decimals")
	}
	units, _ := strconv.ParseInt(whole, 10, 64) // at most 17 digits: cannot fail or overflow
	cents := int64(0)
	if frac != "" {
		cents, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			cents *= 10 // "12.5" is 12.50
		}
	}
	m, err := Mul(Money(units), minorPerMajor)
	if err == nil {
		m, err = Add(m, Money(cents))
	}
	if err != nil {
		return 0, fmt.Errorf("invalid amount %q: it is more than the largest amount, %s: %w", s, MaxMoney.Amount(), ErrOverflow)
	}
	return m, nil
}

// Add returns a + b, or ErrOverflow when the sum lies beyond MaxMoney or below -MaxMoney.
func Add(a, b Money) (Money, error) {
	sum := a + b
	if (b > 0 && sum < a) || (b < 0 && sum > a) || sum == math.MinInt64 {
		return 0, fmt.Errorf("%s + %s: %w", a, b, ErrOverflow)
	}
	return sum, nil
}

// Mul returns m x k, or ErrOverflow when the product lies beyond MaxMoney or below -MaxMoney.
func Mul(m Money, k int64) (Money, error) {
	if m == 0 || k == 0 {
		return 0, nil
	}
	p := int64(m) * k
	if p/k != int64(m) || p == math.MinInt64 {
		return 0, fmt.Errorf("%s x %d: %w", m, k, ErrOverflow)
	}
	return Money(p), nil
}

// SumMoney adds amounts, or returns ErrOverflow as soon as a partial sum lies beyond MaxMoney.
func SumMoney(ms ...Money) (Money, error) {
	var total Money
	for _, m := range ms {
		var err error
		if total, err = Add(total, m); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// checkDigits returns why s is not a run of decimal digits, or "" when it is.
func checkDigits(s string) string {
	for _, r := range s {
		if r < '0' || r > '9' {
			return fmt.Sprintf("%q is not a digit", r)
		}
	}
	return ""
}

// Amount writes m as an API amount with exactly two decimals: 1250 is "12.50", 5 is "0.05" and 0 is
// "0.00". Charges are never negative; should one be, it is written with a leading "-" so the mistake
// shows.
func (m Money) Amount() v1alpha1.Amount {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign = "-"
		u = -u // two's complement magnitude, correct even for the most negative value
	}
	return v1alpha1.Amount(fmt.Sprintf("%s%d.%02d", sign, u/minorPerMajor, u%minorPerMajor))
}

// String writes m as Amount does, such as "12.50".
func (m Money) String() string {
	return string(m.Amount())
}

// TermCharge is the charge for a whole term: licenses x price per license, or ErrOverflow (naming
// the figures) when that lies beyond MaxMoney, as a million licenses at 100,000,000,000.00 would.
func TermCharge(licenses int32, price Money) (Money, error) {
	m, err := Mul(price, int64(licenses))
	if err != nil {
		return 0, fmt.Errorf("%s x %s: %w", licenseCount(licenses), price, ErrOverflow)
	}
	return m, nil
}

// ProratedCharge is the charge for licenses added with remainingDays of a termDays-long term left:
// licenses x price x remainingDays / termDays, rounded half up to the minor unit once, at the end.
// remainingDays is clamped into [0, termDays], so a whole term costs exactly TermCharge; a term of
// no days (termDays <= 0) costs nothing. The computation is exact (the product is formed in
// arbitrary precision); a charge beyond MaxMoney is ErrOverflow.
func ProratedCharge(licenses int32, price Money, remainingDays, termDays int) (Money, error) {
	if termDays <= 0 {
		return 0, nil
	}
	remainingDays = clampDays(remainingDays, termDays)
	// licenses x price x remainingDays can reach 1e6 x 1e11 x 1830, beyond int64: compute exactly.
	num := new(big.Int).Mul(big.NewInt(int64(licenses)), big.NewInt(int64(price)))
	num.Mul(num, big.NewInt(int64(remainingDays)))
	den := big.NewInt(int64(termDays))
	q, r := new(big.Int).DivMod(num, den, new(big.Int)) // 0 <= r < den
	if r.Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1)) // half a minor unit or more rounds up
	}
	if !q.IsInt64() || q.Int64() == math.MinInt64 {
		return 0, fmt.Errorf("%s x %s x %d/%d days: %w", licenseCount(licenses), price, remainingDays, termDays, ErrOverflow)
	}
	return Money(q.Int64()), nil
}

// clampDays limits remainingDays to the days of the term, [0, termDays].
func clampDays(remainingDays, termDays int) int {
	return max(0, min(remainingDays, termDays))
}

// ProrationDescription explains a prorated charge so that a person can check it by hand, such as
// "3 licenses x 120.00 EUR x 200/365 days = 197.26 EUR". The days shown are the ones charged:
// remainingDays clamped into [0, termDays]. A charge beyond MaxMoney reads "more than <MaxMoney>".
func ProrationDescription(licenses int32, price Money, remainingDays, termDays int, currency string) string {
	charged := clampDays(remainingDays, max(termDays, 0))
	charge, err := ProratedCharge(licenses, price, remainingDays, termDays)
	return fmt.Sprintf("%s x %s x %d/%d days = %s",
		licenseCount(licenses), withCurrency(price, currency), charged, termDays, chargeText(charge, err, currency))
}

// TermChargeDescription explains a term charge so that a person can check it by hand, such as
// "10 licenses x 12.00 EUR = 120.00 EUR". A charge beyond MaxMoney reads "more than <MaxMoney>".
func TermChargeDescription(licenses int32, price Money, currency string) string {
	charge, err := TermCharge(licenses, price)
	return fmt.Sprintf("%s x %s = %s",
		licenseCount(licenses), withCurrency(price, currency), chargeText(charge, err, currency))
}

// chargeText writes a computed charge with its currency, or says that it is beyond MaxMoney.
func chargeText(m Money, err error, currency string) string {
	if err != nil {
		return "more than " + withCurrency(MaxMoney, currency)
	}
	return withCurrency(m, currency)
}

// licenseCount writes a number of licenses: "1 license", "3 licenses".
func licenseCount(n int32) string {
	if n == 1 {
		return "1 license"
	}
	return fmt.Sprintf("%d licenses", n)
}

// withCurrency writes an amount followed by its currency code, such as "12.00 EUR".
func withCurrency(m Money, currency string) string {
	if currency == "" {
		return m.String()
	}
	return m.String() + " " + currency
}
