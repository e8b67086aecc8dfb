package licensing

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The plan-life model (model_test.go) checks the operator against the computations in this file.
// None of them calls the code they check: days are counted from the proleptic Gregorian calendar,
// months are added by hand, and money is parsed and multiplied here, in integer minor units.

// oDay is the UTC calendar day of t as a day number (days since 1970-01-01), from the civil
// calendar directly: no time.Time arithmetic on durations.
func oDay(t time.Time) int64 {
	u := t.UTC()
	return oDayNumber(u.Year(), int(u.Month()), u.Day())
}

// oDayNumber is the number of days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil).
func oDayNumber(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// oMonthLen is the number of days of a month of the Gregorian calendar.
func oMonthLen(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// oDate is a calendar date.
type oDate struct{ y, m, d int }

func oDateOf(t time.Time) oDate {
	u := t.UTC()
	return oDate{u.Year(), int(u.Month()), u.Day()}
}

func oParse(s v1alpha1.Date) (oDate, bool) {
	parts := strings.Split(string(s), "-")
	if len(parts) != 3 {
		return oDate{}, false
	}
	y, e1 := strconv.Atoi(parts[0])
	m, e2 := strconv.Atoi(parts[1])
	d, e3 := strconv.Atoi(parts[2])
	if e1 != nil || e2 != nil || e3 != nil || m < 1 || m > 12 || d < 1 || d > oMonthLen(y, m) {
		return oDate{}, false
	}
	return oDate{y, m, d}, true
}

func (d oDate) num() int64     { return oDayNumber(d.y, d.m, d.d) }
func (d oDate) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

// addMonths is the date n months after d's month, on the anchor day clamped to that month's length.
func (d oDate) addMonths(n, anchor int) oDate {
	idx := d.y*12 + (d.m - 1) + n
	y, m := idx/12, idx%12+1
	day := anchor
	if l := oMonthLen(y, m); day > l {
		day = l
	}
	return oDate{y, m, day}
}

// oMonths is the length of a term in months; 0 for OneTime (no term) and Trial.
func oMonths(pp v1alpha1.PaymentPlan) int {
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
	}
	return 0
}

var oAmountPattern = regexp.MustCompile(`^[0-9]{1,17}(\.[0-9]{1,2})?$`)

// oMoney reads a decimal amount into minor units, by hand; ok is false for anything else.
func oMoney(a v1alpha1.Amount) (int64, bool) {
	s := string(a)
	if s == "" {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || f < 0 {
		return 0, false
	}
	return w*100 + f, true
}

func oFormat(m int64) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d", sign, m/100, m%100)
}

// oProrate is licenses x price x days / termDays in minor units, rounded half up once.
func oProrate(licenses int64, price int64, days, termDays int64) int64 {
	if termDays <= 0 {
		return 0
	}
	if days < 0 {
		days = 0
	}
	if days > termDays {
		days = termDays
	}
	num := new(big.Int).Mul(big.NewInt(licenses), big.NewInt(price))
	num.Mul(num, big.NewInt(days))
	num.Mul(num, big.NewInt(2))
	num.Add(num, big.NewInt(termDays))
	num.Div(num, new(big.Int).Mul(big.NewInt(termDays), big.NewInt(2)))
	return num.Int64()
}

// oPrice is a product's catalog price of a payment plan in minor units, by reading its prices.
func oPrice(p *v1alpha1.LicenseProductSpec, pp v1alpha1.PaymentPlan) (int64, bool) {
	if p == nil {
		return 0, false
	}
	for _, pr := range p.Prices {
		if pr.PaymentPlan == pp {
			return oMoney(pr.PricePerLicense)
		}
	}
	return 0, false
}

// span is a run of days [from, to) as day numbers.
type span struct{ from, to int64 }

// uncovered returns the days of s that no span of cover holds, as spans.
func uncovered(s span, cover []span) []span {
	todo := []span{s}
	for _, c := range cover {
		var next []span
		for _, t := range todo {
			if c.to <= t.from || c.from >= t.to {
				next = append(next, t)
				continue
			}
			if t.from < c.from {
				next = append(next, span{t.from, c.from})
			}
			if c.to < t.to {
				next = append(next, span{c.to, t.to})
			}
		}
		todo = next
	}
	return todo
}

func dayString(n int64) string {
	return time.Unix(n*86400, 0).UTC().Format("2006-01-02")
}
