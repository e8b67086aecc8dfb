package licensing

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// ptStatus is a Monthly plan of licenses ep-plus licenses at 10.00 in force, term
// 2026-03-01..2026-04-01 (31 days).
func ptStatus(licenses int32) v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		Product: "ep-plus", Licenses: licenses, PaymentPlan: v1alpha1.Monthly, PricePerLicense: "10.00",
		Currency: "EUR", StartDate: "2026-03-01",
		Term:        &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"},
		RenewalDate: "2026-04-01", Revision: 1,
	}
}

// ptOneTime is a OneTime plan of 3 ps licenses at 250.00 in force: no term.
func ptOneTime() v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		Product: "ps", Licenses: 3, PaymentPlan: v1alpha1.OneTime, PricePerLicense: "250.00",
		Currency: "EUR", StartDate: "2026-01-10", Revision: 1,
	}
}

func ptOrder(change v1alpha1.OrderChange, product string, pp v1alpha1.PaymentPlan, qty int32, eff v1alpha1.Date) v1alpha1.LicenseOrderSpec {
	return v1alpha1.LicenseOrderSpec{Plan: "web", Revision: 2, Change: change, Product: product, PaymentPlan: pp,
		Quantity: qty, EffectiveDate: eff}
}

func ptDay(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestPriceOrder(t *testing.T) {
	futureStart := ptStatus(10)
	futureStart.StartDate = "2026-04-01"
	futureStart.Term = &v1alpha1.Term{Start: "2026-04-01", End: "2026-05-01"}
	prepay := ptStatus(2)
	prepay.PaymentPlan, prepay.PricePerLicense = v1alpha1.Prepay1Y, "100.00"
	prepay.Term = &v1alpha1.Term{Start: "2026-03-01", End: "2027-03-01"}

	tests := []struct {
		name          string
		in            PricingInput
		wantCharge    v1alpha1.Amount
		wantPrice     v1alpha1.Amount
		wantInDesc    []string
		wantNotInDesc []string
	}{
		{
			name: "new Monthly plan charges the first term",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 10, "2026-01-31"),
				CatalogPrice: "10.00", Currency: "EUR", StartDate: ptDay(2026, 1, 31)},
			wantCharge: "100.00", wantPrice: "10.00",
			wantInDesc: []string{"New plan: 10 licenses x 10.00 EUR = 100.00 EUR", "for the first term, 2026-01-31 to 2026-02-28"},
		},
		{
			name: "new plan's first term is the UTC day of the start date",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 1, "2026-03-10"),
				CatalogPrice: "10.00", Currency: "EUR", StartDate: time.Date(2026, 3, 10, 23, 0, 0, 0, time.FixedZone("EST", -5*3600))},
			wantCharge: "10.00", wantPrice: "10.00",
			wantInDesc: []string{"1 license x 10.00 EUR = 10.00 EUR", "2026-03-11 to 2026-04-11"},
		},
		{
			name: "new Prepay1Y plan charges the whole prepaid term",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeNew, "ep-plus", v1alpha1.Prepay1Y, 5, "2026-03-01"),
				CatalogPrice: "100.00", Currency: "EUR", StartDate: ptDay(2026, 3, 1)},
			wantCharge: "500.00", wantPrice: "100.00",
			wantInDesc: []string{"5 licenses x 100.00 EUR = 500.00 EUR", "2026-03-01 to 2027-03-01"},
		},
		{
			name: "new OneTime plan is charged once",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeNew, "ps", v1alpha1.OneTime, 3, "2026-03-10"),
				CatalogPrice: "250.00", Currency: "EUR", StartDate: ptDay(2026, 3, 10)},
			wantCharge: "750.00", wantPrice: "250.00",
			wantInDesc:    []string{"3 licenses x 250.00 EUR = 750.00 EUR", "once"},
			wantNotInDesc: []string{"first term"},
		},
		{
			name: "new plan without currency shows bare amounts",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 2, "2026-03-01"),
				CatalogPrice: "9.99", StartDate: ptDay(2026, 3, 1)},
			wantCharge: "19.98", wantPrice: "9.99",
			wantInDesc: []string{"2 licenses x 9.99 = 19.98"},
		},
		{
			name: "immediate increase is prorated at the price in force",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 13, "2026-03-10"),
				Plan: ptStatus(10), CatalogPrice: "12.00", Currency: "EUR"},
			wantCharge: "21.29", wantPrice: "10.00",
			wantInDesc: []string{
				"IncreaseQuantity from 10 to 13 licenses",
				"3 licenses x 10.00 EUR x 22/31 days = 21.29 EUR",
				"the 22 of 31 days left from 2026-03-10 to the term end 2026-04-01",
			},
		},
		{
			name: "increase on the first day of the term charges the whole term",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 13, "2026-03-01"),
				Plan: ptStatus(10), CatalogPrice: "10.00", Currency: "EUR"},
			wantCharge: "30.00", wantPrice: "10.00",
			wantInDesc: []string{"x 31/31 days = 30.00 EUR"},
		},
		{
			name: "increase on the last day of the term charges one day",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 11, "2026-03-31"),
				Plan: ptStatus(10), CatalogPrice: "10.00", Currency: "EUR"},
			wantCharge: "0.32", wantPrice: "10.00",
			wantInDesc: []string{"1 license x 10.00 EUR x 1/31 days = 0.32 EUR"},
		},
		{
			name: "increase before a future start date charges the whole first term",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 13, "2026-03-10"),
				Plan: futureStart, CatalogPrice: "10.00", Currency: "EUR"},
			wantCharge: "30.00", wantPrice: "10.00",
			wantInDesc: []string{"3 licenses x 10.00 EUR x 30/30 days = 30.00 EUR", "from 2026-04-01 to the term end 2026-05-01"},
		},
		{
			name: "increase of a Prepay1Y plan is prorated over the year",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Prepay1Y, 3, "2026-09-01"),
				Plan: prepay, CatalogPrice: "100.00", Currency: "EUR"},
			// 1 x 100.00 x 181/365 = 49.589... -> 49.59
			wantCharge: "49.59", wantPrice: "100.00",
			wantInDesc: []string{"1 license x 100.00 EUR x 181/365 days = 49.59 EUR"},
		},
		{
			name: "increase of a plan without a term is charged in full",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeIncreaseQuantity, "ps", v1alpha1.OneTime, 5, "2026-03-10"),
				Plan: ptOneTime(), CatalogPrice: "300.00", Currency: "EUR"},
			wantCharge: "500.00", wantPrice: "250.00",
			wantInDesc: []string{"IncreaseQuantity from 3 to 5 licenses", "2 licenses x 250.00 EUR = 500.00 EUR", "one-time, not prorated"},
		},
		{
			name: "decrease of a plan without a term charges nothing",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeDecreaseQuantity, "ps", v1alpha1.OneTime, 1, "2026-03-10"),
				Plan: ptOneTime(), Currency: "EUR"},
			wantCharge: "0.00", wantPrice: "250.00",
			wantInDesc: []string{"DecreaseQuantity from 3 to 1 licenses"},
		},
		{
			name: "deferred decrease costs nothing and refunds nothing",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeDecreaseQuantity, "ep-plus", v1alpha1.Monthly, 7, "2026-04-01"),
				Plan: ptStatus(10), CatalogPrice: "12.00", Currency: "EUR"},
			wantCharge: "0.00", wantPrice: "10.00",
			wantInDesc: []string{"No charge now", "takes effect on 2026-04-01", "No refund"},
		},
		{
			name: "deferred increase back to the quantity in force costs nothing",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 10, "2026-04-01"),
				Plan: ptStatus(10), CatalogPrice: "10.00", Currency: "EUR"},
			wantCharge: "0.00", wantPrice: "10.00",
			wantInDesc: []string{"No charge now", "No refund"},
		},
		{
			name: "deferred payment plan change costs nothing",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangePaymentPlan, "ep-plus", v1alpha1.Prepay1Y, 10, "2026-04-01"),
				Plan: ptStatus(10), CatalogPrice: "100.00", Currency: "EUR"},
			wantCharge: "0.00", wantPrice: "10.00",
			wantInDesc: []string{"No charge now", "2026-04-01", "No refund"},
		},
		{
			name: "deferred product downgrade costs nothing",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeProduct, "ep-basic", v1alpha1.Monthly, 10, "2026-04-01"),
				Plan: ptStatus(10), CatalogPrice: "6.00", Currency: "EUR"},
			wantCharge: "0.00", wantPrice: "10.00",
			wantInDesc: []string{"No charge now", "No refund"},
		},
		{
			name: "product upgrade charges the prorated price difference for the licenses in force",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeProduct, "ep-premium", v1alpha1.Monthly, 4, "2026-03-10"),
				Plan: ptStatus(4), CatalogPrice: "15.00", Currency: "EUR"},
			// 4 x (15.00 - 10.00) x 22/31 = 14.193... -> 14.19
			wantCharge: "14.19", wantPrice: "15.00",
			wantInDesc: []string{
				"Change from ep-plus (10.00 EUR per license) to ep-premium (15.00 EUR)",
				"price difference 5.00 EUR per license",
				"4 licenses x 5.00 EUR x 22/31 days = 14.19 EUR",
			},
		},
		{
			name: "immediate change to a cheaper product charges nothing",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeProduct, "ep-basic", v1alpha1.Monthly, 4, "2026-03-10"),
				Plan: ptStatus(4), CatalogPrice: "6.00", Currency: "EUR"},
			wantCharge: "0.00", wantPrice: "6.00",
			wantInDesc: []string{"price difference 0.00 EUR per license"},
		},
		{
			name: "product upgrade of a plan without a term charges the whole difference",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeProduct, "ps-plus", v1alpha1.OneTime, 3, "2026-03-10"),
				Plan: ptOneTime(), CatalogPrice: "300.00", Currency: "EUR"},
			wantCharge: "150.00", wantPrice: "300.00",
			wantInDesc: []string{"3 licenses x 50.00 EUR = 150.00 EUR", "one-time, not prorated"},
		},
		{
			name: "immediate payment plan change of a plan without a term charges a term of the new plan",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangePaymentPlan, "ps", v1alpha1.Monthly, 3, "2026-03-10"),
				Plan: ptOneTime(), CatalogPrice: "30.00", Currency: "EUR"},
			wantCharge: "90.00", wantPrice: "30.00",
			wantInDesc: []string{"Payment plan Monthly: 3 licenses x 30.00 EUR = 90.00 EUR for the first term, 2026-03-10 to 2026-04-10"},
		},
		{
			name: "a OneTime plan moved to Monthly is charged the term that starts on the day of the change",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangePaymentPlan, "ps", v1alpha1.Monthly, 3, "2026-03-30"),
				Plan: ptOneTime(), CatalogPrice: "30.00", Currency: "EUR"},
			wantCharge: "90.00", wantPrice: "30.00",
			wantInDesc: []string{"for the first term, 2026-03-30 to 2026-04-30"},
		},
		{
			name: "renewal charges the next term at the catalog price",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeRenewal, "ep-plus", v1alpha1.Monthly, 7, "2026-04-01"),
				Plan: ptStatus(10), CatalogPrice: "11.00", Currency: "EUR"},
			wantCharge: "77.00", wantPrice: "11.00",
			wantInDesc: []string{"Renewal: 7 licenses x 11.00 EUR = 77.00 EUR", "2026-04-01 to 2026-05-01"},
		},
		{
			name: "a renewal onto OneTime charges the OneTime price once, and no term of zero days",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeRenewal, "ep-plus", v1alpha1.OneTime, 7, "2026-04-01"),
				Plan: ptStatus(10), CatalogPrice: "250.00", Currency: "EUR"},
			wantCharge: "1750.00", wantPrice: "250.00",
			wantInDesc: []string{"Renewal onto OneTime on 2026-04-01: 7 licenses x 250.00 EUR = 1750.00 EUR, once"},
		},
		{
			name: "expiry costs nothing",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeExpiry, "ep-plus", v1alpha1.Monthly, 0, "2026-04-01"),
				Plan: ptStatus(10), CatalogPrice: "10.00", Currency: "EUR"},
			wantCharge: "0.00", wantPrice: "0.00",
			wantInDesc: []string{"No charge, and no refund."},
		},
		{
			name: "cancellation costs nothing",
			in: PricingInput{Order: ptOrder(v1alpha1.ChangeCancellation, "ep-plus", v1alpha1.Monthly, 0, "2026-03-10"),
				Plan: ptStatus(10), CatalogPrice: "10.00", Currency: "EUR"},
			wantCharge: "0.00", wantPrice: "0.00",
			wantInDesc: []string{"No charge, and no refund."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.in.Plan.DeepCopy()
			got, err := PriceOrder(tt.in)
			if err != nil {
				t.Fatalf("PriceOrder: %v", err)
			}
			if got.Charge.Amount() != tt.wantCharge {
				t.Errorf("charge = %s, want %s (%s)", got.Charge, tt.wantCharge, got.Description)
			}
			if got.PricePerLicense.Amount() != tt.wantPrice {
				t.Errorf("price per license = %s, want %s", got.PricePerLicense, tt.wantPrice)
			}
			for _, s := range tt.wantInDesc {
				if !strings.Contains(got.Description, s) {
					t.Errorf("description %q does not contain %q", got.Description, s)
				}
			}
			for _, s := range tt.wantNotInDesc {
				if strings.Contains(got.Description, s) {
					t.Errorf("description %q contains %q", got.Description, s)
				}
			}
			if diff := cmp.Diff(before, tt.in.Plan); diff != "" {
				t.Errorf("PriceOrder mutated the plan (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPriceOrderRefuses(t *testing.T) {
	badPrice := ptStatus(10)
	badPrice.PricePerLicense = ""
	tests := []struct {
		name string
		in   PricingInput
	}{
		{name: "new plan with no catalog price", in: PricingInput{
			Order: ptOrder(v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 10, "2026-03-01"), CatalogPrice: "", StartDate: ptDay(2026, 3, 1)}},
		{name: "new plan with three decimals", in: PricingInput{
			Order: ptOrder(v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 10, "2026-03-01"), CatalogPrice: "10.001", StartDate: ptDay(2026, 3, 1)}},
		{name: "product upgrade with an invalid catalog price", in: PricingInput{
			Order: ptOrder(v1alpha1.ChangeProduct, "ep-premium", v1alpha1.Monthly, 10, "2026-03-10"), Plan: ptStatus(10), CatalogPrice: "15,00"}},
		{name: "immediate payment plan change with an invalid catalog price", in: PricingInput{
			Order: ptOrder(v1alpha1.ChangePaymentPlan, "ps", v1alpha1.Monthly, 3, "2026-03-10"), Plan: ptOneTime(), CatalogPrice: "-30"}},
		{name: "renewal with an invalid catalog price", in: PricingInput{
			Order: ptOrder(v1alpha1.ChangeRenewal, "ep-plus", v1alpha1.Monthly, 10, "2026-04-01"), Plan: ptStatus(10), CatalogPrice: ""}},
		{name: "renewal of a plan without a term", in: PricingInput{
			Order: ptOrder(v1alpha1.ChangeRenewal, "ps", v1alpha1.OneTime, 3, "2026-04-01"), Plan: ptOneTime(), CatalogPrice: "250.00"}},
		{name: "increase with an invalid price in force", in: PricingInput{
			Order: ptOrder(v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 13, "2026-03-10"), Plan: badPrice, CatalogPrice: "10.00"}},
		{name: "unknown change", in: PricingInput{
			Order: ptOrder("Upgrade", "ep-plus", v1alpha1.Monthly, 13, "2026-03-10"), Plan: ptStatus(10), CatalogPrice: "10.00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := PriceOrder(tt.in); err == nil {
				t.Errorf("PriceOrder = %+v, want an error", got)
			}
		})
	}
}
