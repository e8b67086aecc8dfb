package licensing

import (
	"fmt"
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

// maxIntegerDigits is the number of digits an API amount may have before the decimal point.
const maxIntegerDigits = 9

// ParseAmount reads an API amount such as "12", "12.5" or "12.05" into minor units (1200, 1250,
// 1205). It accepts what the API pattern accepts: 1 to 9 digits, optionally followed by a point and
// 1 or 2 decimals. Anything else, including an empty or negative amount, is refused with an error
// that names the value.
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
	units, _ := strconv.ParseInt(whole, 10, 64) // at most 9 digits: cannot fail or overflow
	cents := int64(0)
	if frac != "" {
		cents, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			cents *= 10 // "12.5" is 12.50
		}
	}
	return Money(units*minorPerMajor + cents), nil
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

// TermCharge is the charge for a whole term: licenses x price per license. Within the API's limits
// (at most 1,000,000 licenses, prices below 10^11 minor units) it cannot overflow.
func TermCharge(licenses int32, price Money) Money {
	return Money(licenses) * price
}

// ProratedCharge is the charge for licenses added with remainingDays of a termDays-long term left:
// licenses x price x remainingDays / termDays, rounded half up to the minor unit once, at the end.
// remainingDays is clamped into [0, termDays], so a whole term costs exactly TermCharge; a term of
// no days (termDays <= 0) costs nothing. The computation is exact for every value the API allows.
func ProratedCharge(licenses int32, price Money, remainingDays, termDays int) Money {
	if termDays <= 0 {
		return 0
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
	return Money(q.Int64())
}

// clampDays limits remainingDays to the days of the term, [0, termDays].
func clampDays(remainingDays, termDays int) int {
	return max(0, min(remainingDays, termDays))
}

// ProrationDescription explains a prorated charge so that a person can check it by hand, such as
// "3 licenses x 120.00 EUR x 200/365 days = 197.26 EUR". The days shown are the ones charged:
// remainingDays clamped into [0, termDays].
func ProrationDescription(licenses int32, price Money, remainingDays, termDays int, currency string) string {
	charged := clampDays(remainingDays, max(termDays, 0))
	return fmt.Sprintf("%s x %s x %d/%d days = %s",
		licenseCount(licenses), withCurrency(price, currency), charged, termDays,
		withCurrency(ProratedCharge(licenses, price, remainingDays, termDays), currency))
}

// TermChargeDescription explains a term charge so that a person can check it by hand, such as
// "10 licenses x 12.00 EUR = 120.00 EUR".
func TermChargeDescription(licenses int32, price Money, currency string) string {
	return fmt.Sprintf("%s x %s = %s",
		licenseCount(licenses), withCurrency(price, currency), withCurrency(TermCharge(licenses, price), currency))
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
