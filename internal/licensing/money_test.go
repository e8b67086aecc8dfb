package licensing

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Limits of the API: at most a million licenses; apiMaxPrice is the largest price the API took
// before amounts were widened to 17 digits (999999999.99), whose charges never overflow.
const (
	apiMaxLicenses = 1_000_000
	apiMaxPrice    = Money(99_999_999_999)
)

// mustCharge is a charge computed without overflow; it panics, failing the test, on an error.
func mustCharge(m Money, err error) Money {
	if err != nil {
		panic(err)
	}
	return m
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   v1alpha1.Amount
		want Money
	}{
		{"12", 1200},
		{"12.5", 1250},
		{"12.05", 1205},
		{"12.50", 1250},
		{"0", 0},
		{"00", 0},
		{"0.0", 0},
		{"0.00", 0},
		{"0.01", 1},
		{"0.1", 10},
		{"0.10", 10},
		{"1.00", 100},
		{"007.70", 770},
		{"999999999", 99_999_999_900},
		{"999999999.99", 99_999_999_999},
		{"000000001.10", 110},
		{"1000000000.00", 100_000_000_000},
		{"12345678901234567", 1_234_567_890_123_456_700},
		{"92233720368547758", 9_223_372_036_854_775_800},
		{"92233720368547758.07", math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(string(tt.in), func(t *testing.T) {
			got, err := ParseAmount(tt.in)
			if err != nil {
				t.Fatalf("ParseAmount(%q): unexpected error %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseAmount(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAmountRejects(t *testing.T) {
	tests := []struct {
		name   string
		in     v1alpha1.Amount
		reason string
	}{
		{"empty", "", "it is empty"},
		{"negative", "-1", "it is negative"},
		{"negative cent", "-0.01", "it is negative"},
		{"three decimals", "1.234", "more than 2 decimals"},
		{"three zero decimals", "1.000", "more than 2 decimals"},
		{"eighteen integer digits", "123456789012345678", "more than 17 digits before the decimal point"},
		{"eighteen integer digits with decimals", "100000000000000000.00", "more than 17 digits before the decimal point"},
		{"one cent beyond int64", "92233720368547758.08", "more than the largest amount, 92233720368547758.07"},
		{"largest 17 digits", "99999999999999999.99", "more than the largest amount"},
		{"whole units beyond int64", "92233720368547759", "more than the largest amount"},
		{"point without decimals", "12.", "no digits after the decimal point"},
		{"point without integer digits", ".5", "no digits before the decimal point"},
		{"lone point", ".", "no digits"},
		{"decimal comma", "1,50", `',' is not a digit`},
		{"exponent", "1e3", `'e' is not a digit`},
		{"leading space", " 1", `' ' is not a digit`},
		{"trailing space", "1 ", `' ' is not a digit`},
		{"plus sign", "+1", `'+' is not a digit`},
		{"two points", "12.3.4", `'.' is not a digit`},
		{"words", "ten", `'t' is not a digit`},
		{"hexadecimal", "0x10", `'x' is not a digit`},
		{"not a number", "NaN", `'N' is not a digit`},
		{"full-width digit", "１", `'１' is not a digit`},
		{"currency symbol", "12.50€", `'€' is not a digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAmount(tt.in)
			if err == nil {
				t.Fatalf("ParseAmount(%q) = %d, want an error", tt.in, got)
			}
			msg := err.Error()
			if prefix := `invalid amount "` + string(tt.in) + `": `; !strings.HasPrefix(msg, prefix) {
				t.Errorf("ParseAmount(%q) error = %q, want it to start with %q", tt.in, msg, prefix)
			}
			if !strings.Contains(msg, tt.reason) {
				t.Errorf("ParseAmount(%q) error = %q, want it to say %q", tt.in, msg, tt.reason)
			}
		})
	}
}

func TestMoneyAmount(t *testing.T) {
	tests := []struct {
		in   Money
		want v1alpha1.Amount
	}{
		{0, "0.00"},
		{1, "0.01"},
		{5, "0.05"},
		{10, "0.10"},
		{99, "0.99"},
		{100, "1.00"},
		{1205, "12.05"},
		{1250, "12.50"},
		{99_999_999_999, "999999999.99"},
		{99_999_999_999_000_000, "999999999990000.00"},
		{math.MaxInt64, "92233720368547758.07"},
		{-5, "-0.05"},
		{-1250, "-12.50"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		t.Run(string(tt.want), func(t *testing.T) {
			if got := tt.in.Amount(); got != tt.want {
				t.Errorf("Money(%d).Amount() = %q, want %q", int64(tt.in), got, tt.want)
			}
			if got := tt.in.String(); got != string(tt.want) {
				t.Errorf("Money(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
			}
		})
	}
}

func TestTermCharge(t *testing.T) {
	tests := []struct {
		name     string
		licenses int32
		price    Money
		want     Money
	}{
		{"one license", 1, 1200, 1200},
		{"ten licenses at 12.00", 10, 1200, 12000},
		{"no licenses", 0, 1200, 0},
		{"free product", 25, 0, 0},
		{"a cent each", 3, 1, 3},
		{"largest order the API allows", apiMaxLicenses, apiMaxPrice, 99_999_999_999_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustCharge(TermCharge(tt.licenses, tt.price)); got != tt.want {
				t.Errorf("TermCharge(%d, %s) = %d, want %d", tt.licenses, tt.price, got, tt.want)
			}
		})
	}
}

func TestProratedCharge(t *testing.T) {
	tests := []struct {
		name                    string
		licenses                int32
		price                   Money
		remainingDays, termDays int
		want                    Money
	}{
		// 3 x 12000 x 200 / 365 = 7200000 / 365 = 19726.03
		{"200 days of a year", 3, 12000, 200, 365, 19726},
		// 10 x 1200 x 15 / 31 = 180000 / 31 = 5806.45
		{"half of a 31-day month", 10, 1200, 15, 31, 5806},
		// 1 x 99999 x 1 / 365 = 273.97
		{"one day of a year", 1, 99999, 1, 365, 274},
		// 5 x 100000 x 183 / 366 = 250000 exactly
		{"half a leap year", 5, 100000, 183, 366, 250000},
		// 1 x 1 x 1 / 2 = 0.5: exactly half a cent rounds up
		{"exactly half a cent rounds up", 1, 1, 1, 2, 1},
		// 1 x 12345 x 1 / 2 = 6172.5
		{"exactly half rounds up", 1, 12345, 1, 2, 6173},
		// 1 x 100 x 1 / 3 = 33.33
		{"a third of a cent rounds down", 1, 100, 1, 3, 33},
		// 1 x 100 x 2 / 3 = 66.67
		{"two thirds of a cent round up", 1, 100, 2, 3, 67},
		// 3 x 1 x 1 / 2 = 1.5, rounded once (per license it would be 3 x 1 = 3)
		{"rounded once, not per license", 3, 1, 1, 2, 2},
		// 1 x 1 x 1 / 1830 = 0.0005
		{"less than half a cent is nothing", 1, 1, 1, 1830, 0},
		{"no days left", 7, 12000, 0, 365, 0},
		{"the whole term", 7, 12000, 365, 365, 84000},
		{"more days than the term are the whole term", 7, 12000, 400, 365, 84000},
		{"negative days are nothing", 7, 12000, -3, 365, 0},
		{"a term without days", 7, 12000, 0, 0, 0},
		{"a term with negative days", 7, 12000, 5, -5, 0},
		{"free product", 7, 0, 100, 365, 0},
		{"no licenses", 0, 12000, 100, 365, 0},
		// The product 1e6 x 99999999999 x 1830 is beyond int64.
		{"largest order for the whole of a five-year term", apiMaxLicenses, apiMaxPrice, 1830, 1830, 99_999_999_999_000_000},
		// 99999999999000000 x 1829 / 1830 = 99945355190257377.05
		{"largest order for all but one day of a five-year term", apiMaxLicenses, apiMaxPrice, 1829, 1830, 99_945_355_190_257_377},
		// 99999999999000000 x 915 / 1830 = 49999999999500000 exactly
		{"largest order for half a five-year term", apiMaxLicenses, apiMaxPrice, 915, 1830, 49_999_999_999_500_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustCharge(ProratedCharge(tt.licenses, tt.price, tt.remainingDays, tt.termDays))
			if got != tt.want {
				t.Errorf("ProratedCharge(%d, %s, %d, %d) = %d, want %d",
					tt.licenses, tt.price, tt.remainingDays, tt.termDays, got, tt.want)
			}
		})
	}
}

func TestProratedChargeWholeTermIsTermCharge(t *testing.T) {
	for _, termDays := range []int{1, 28, 29, 30, 31, 365, 366, 730, 731, 1826, 1827, 1830} {
		for _, licenses := range []int32{1, 3, 999_999, apiMaxLicenses} {
			for _, price := range []Money{0, 1, 1199, apiMaxPrice} {
				if got, want := mustCharge(ProratedCharge(licenses, price, termDays, termDays)), mustCharge(TermCharge(licenses, price)); got != want {
					t.Errorf("ProratedCharge(%d, %s, %d, %d) = %d, want the term charge %d",
						licenses, price, termDays, termDays, got, want)
				}
			}
		}
	}
}

func TestTermChargeDescription(t *testing.T) {
	tests := []struct {
		name     string
		licenses int32
		price    Money
		currency string
		want     string
	}{
		{"several licenses", 10, 1200, "EUR", "10 licenses x 12.00 EUR = 120.00 EUR"},
		{"one license", 1, 99999, "USD", "1 license x 999.99 USD = 999.99 USD"},
		{"no licenses", 0, 500, "CHF", "0 licenses x 5.00 CHF = 0.00 CHF"},
		{"cents", 3, 5, "EUR", "3 licenses x 0.05 EUR = 0.15 EUR"},
		{"largest order", apiMaxLicenses, apiMaxPrice, "EUR", "1000000 licenses x 999999999.99 EUR = 999999999990000.00 EUR"},
		{"no currency", 1, 500, "", "1 license x 5.00 = 5.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TermChargeDescription(tt.licenses, tt.price, tt.currency); got != tt.want {
				t.Errorf("TermChargeDescription(%d, %s, %q) = %q, want %q", tt.licenses, tt.price, tt.currency, got, tt.want)
			}
		})
	}
}

func TestProrationDescription(t *testing.T) {
	tests := []struct {
		name                    string
		licenses                int32
		price                   Money
		remainingDays, termDays int
		currency                string
		want                    string
	}{
		{"200 days of a year", 3, 12000, 200, 365, "EUR", "3 licenses x 120.00 EUR x 200/365 days = 197.26 EUR"},
		{"one license", 1, 1200, 15, 31, "EUR", "1 license x 12.00 EUR x 15/31 days = 5.81 EUR"},
		{"half a cent rounds up", 1, 1, 1, 2, "USD", "1 license x 0.01 USD x 1/2 days = 0.01 USD"},
		{"the whole term", 2, 1000, 30, 30, "CHF", "2 licenses x 10.00 CHF x 30/30 days = 20.00 CHF"},
		{"days beyond the term are not charged", 2, 1000, 40, 30, "CHF", "2 licenses x 10.00 CHF x 30/30 days = 20.00 CHF"},
		{"negative days are not charged", 2, 1000, -3, 30, "CHF", "2 licenses x 10.00 CHF x 0/30 days = 0.00 CHF"},
		{"largest order", apiMaxLicenses, apiMaxPrice, 1829, 1830, "EUR",
			"1000000 licenses x 999999999.99 EUR x 1829/1830 days = 999453551902573.77 EUR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ProrationDescription(tt.licenses, tt.price, tt.remainingDays, tt.termDays, tt.currency)
			if got != tt.want {
				t.Errorf("ProrationDescription(%d, %s, %d, %d, %q) = %q, want %q",
					tt.licenses, tt.price, tt.remainingDays, tt.termDays, tt.currency, got, tt.want)
			}
		})
	}
}

func TestSum(t *testing.T) {
	tests := []struct {
		name string
		in   []Money
		want Money
	}{
		{"nothing", nil, 0},
		{"one charge", []Money{1250}, 1250},
		{"several charges", []Money{1250, 19726, 0, 5}, 20981},
		{"largest orders", []Money{99_999_999_999_000_000, 99_999_999_999_000_000}, 199_999_999_998_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sum(tt.in...); got != tt.want {
				t.Errorf("Sum(%v) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// Charges beyond what int64 minor units hold are refused with ErrOverflow, never wrapped around.
func TestChargeOverflow(t *testing.T) {
	huge := Money(10_000_000_000_000) // 100,000,000,000.00 per license
	tests := []struct {
		name string
		got  func() (Money, error)
		want Money // when no overflow
		over bool
	}{
		{"a million licenses at 100,000,000,000.00", func() (Money, error) { return TermCharge(apiMaxLicenses, huge) }, 0, true},
		{"the largest price once", func() (Money, error) { return TermCharge(1, MaxMoney) }, MaxMoney, false},
		{"the largest price twice", func() (Money, error) { return TermCharge(2, MaxMoney) }, 0, true},
		{"the charge of 1,000,000,000.00 fits", func() (Money, error) { return TermCharge(1_000_000, 100_000) }, 100_000_000_000, false},
		{"a whole term prorated overflows as the term does", func() (Money, error) { return ProratedCharge(apiMaxLicenses, huge, 365, 365) }, 0, true},
		{"a day of a term that overflows whole fits", func() (Money, error) { return ProratedCharge(apiMaxLicenses, huge, 1, 1830) }, 5_464_480_874_316_940, false},
		{"no days of a huge charge", func() (Money, error) { return ProratedCharge(apiMaxLicenses, huge, 0, 365) }, 0, false},
		{"sum up to the largest", func() (Money, error) { return SumMoney(MaxMoney-1, 1) }, MaxMoney, false},
		{"sum beyond the largest", func() (Money, error) { return SumMoney(MaxMoney, 1) }, 0, true},
		{"sum of two halves beyond", func() (Money, error) { return SumMoney(MaxMoney/2+1, MaxMoney/2+1) }, 0, true},
		{"difference below the smallest", func() (Money, error) { return Add(-MaxMoney, -1) }, 0, true},
		{"multiply by minus one", func() (Money, error) { return Mul(MaxMoney, -1) }, -MaxMoney, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			switch {
			case tt.over && !errors.Is(err, ErrOverflow):
				t.Fatalf("got %s, %v; want ErrOverflow", got, err)
			case !tt.over && err != nil:
				t.Fatalf("unexpected error %v", err)
			case !tt.over && got != tt.want:
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}
