package licensing

import (
	"encoding/json"
	"fmt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// pvNow is the moment of the previews: 10 March 2026, in the plans' term 2026-03-01..2026-04-01
// (31 days, 22 of them left).
var pvNow = time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC)

// pvProduct is an Orderable Endpoint product offering Monthly at monthly and Prepay1Y at 100.00.
func pvProduct(monthly v1alpha1.Amount) *v1alpha1.LicenseProductSpec {
	return &v1alpha1.LicenseProductSpec{
		SKU: "EP", DisplayName: "Endpoint License", Family: "Endpoint", Unit: "Endpoint",
		Prices: []v1alpha1.Price{
			{PaymentPlan: v1alpha1.Monthly, PricePerLicense: monthly},
			{PaymentPlan: v1alpha1.Prepay1Y, PricePerLicense: "100.00"},
		},
	}
}

// pvOneTimeProduct is a ProfessionalServices product offering OneTime at 250.00 and Monthly at 20.00.
func pvOneTimeProduct() *v1alpha1.LicenseProductSpec {
	return &v1alpha1.LicenseProductSpec{
		SKU: "PS", DisplayName: "Professional Services", Family: "ProfessionalServices", Unit: "Service",
		Prices: []v1alpha1.Price{
			{PaymentPlan: v1alpha1.OneTime, PricePerLicense: "250.00"},
			{PaymentPlan: v1alpha1.Monthly, PricePerLicense: "20.00"},
		},
	}
}

// pvStatus is a Monthly ep-plus plan of licenses licenses at 10.00 in force, term
// 2026-03-01..2026-04-01.
func pvStatus(licenses int32) v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		Product: "ep-plus", SKU: "EP", Licenses: licenses, PaymentPlan: v1alpha1.Monthly, PricePerLicense: "10.00",
		Currency: "EUR", StartDate: "2026-03-01", Term: &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"},
		RenewalDate: "2026-04-01", Revision: 1, LastOrder: "eul-1",
	}
}

// pvSpec is plan eul's spec asking for quantity licenses of product on payment plan pp.
func pvSpec(product string, quantity int32, pp v1alpha1.PaymentPlan) v1alpha1.CustomerLicensePlanSpec {
	return v1alpha1.CustomerLicensePlanSpec{Customer: "acme", Product: product, Quantity: quantity, PaymentPlan: pp}
}

// pvProfile is a BillingProfile with cost centers sales (the default) and engineering.
func pvProfile(currency string, mode v1alpha1.ApprovalMode, manualAbove v1alpha1.Amount) *v1alpha1.BillingProfileSpec {
	return &v1alpha1.BillingProfileSpec{Currency: currency, DefaultCostCenter: "sales",
		CostCenters: []v1alpha1.CostCenter{{Name: "sales"}, {Name: "engineering"}},
		Approval:    v1alpha1.ApprovalPolicy{Mode: mode, ManualAbove: manualAbove}}
}

// pvNew is the preview input of plan eul created at pvNow with no order applied yet.
func pvNew(spec v1alpha1.CustomerLicensePlanSpec, product *v1alpha1.LicenseProductSpec) PreviewInput {
	return PreviewInput{Plan: "eul", DueInput: DueInput{Spec: spec, Created: pvNow, Now: pvNow,
		Catalog: map[string]*v1alpha1.LicenseProductSpec{spec.Product: product}}}
}

// pvChange is the preview input of plan eul, created on 1 March, whose spec changes to spec.
func pvChange(spec v1alpha1.CustomerLicensePlanSpec, st v1alpha1.CustomerLicensePlanStatus, product, current *v1alpha1.LicenseProductSpec) PreviewInput {
	catalog := map[string]*v1alpha1.LicenseProductSpec{st.Product: current}
	catalog[spec.Product] = product
	return PreviewInput{Plan: "eul", DueInput: DueInput{Spec: spec, Status: st, Created: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		Catalog: catalog, Now: pvNow}}
}

func pvWith(in PreviewInput, f func(*PreviewInput)) PreviewInput {
	f(&in)
	return in
}

const pvManualLine = "approval: the order will wait for a person's approval, because the BillingProfile's approval mode is Manual"

func TestPreview(t *testing.T) {
	plus, premium := pvProduct("10.00"), pvProduct("15.00")
	connect := &v1alpha1.LicenseProductSpec{SKU: "CONNECT", DisplayName: "Connect", Family: "Connect", Unit: "Organization",
		Prices: []v1alpha1.Price{{PaymentPlan: v1alpha1.Monthly, PricePerLicense: "10.00"}}}
	addOn := pvProduct("10.00")
	addOn.Requires = []v1alpha1.Requirement{{AnyOf: []string{"connect"}}}

	seven := int32(7)
	scheduled := pvStatus(10)
	scheduled.PendingChange = &v1alpha1.PendingChange{Quantity: &seven, EffectiveDate: "2026-04-01"}
	expired := pvStatus(10)
	expired.Revision, expired.ExpiredOn, expired.StartDate = 3, "2026-03-01", "2025-03-01"
	expired.Term = &v1alpha1.Term{Start: "2026-02-01", End: "2026-03-01"}
	premiumStatus := pvStatus(10)
	premiumStatus.Product, premiumStatus.PricePerLicense = "ep-premium", "15.00"
	oneTime := v1alpha1.CustomerLicensePlanStatus{Product: "ps", Licenses: 3, PaymentPlan: v1alpha1.OneTime,
		PricePerLicense: "250.00", Currency: "EUR", StartDate: "2026-01-10", Revision: 1}
	_, badPriceErr := ParseAmount("ten")
	_, badDateErr := ParseDate("2026-02-30")

	tests := []struct {
		name string
		in   PreviewInput
		want []string
	}{
		{
			name: "new Monthly plan",
			in:   pvNew(pvSpec("ep-plus", 10, v1alpha1.Monthly), plus),
			want: []string{
				"an order: New of 10 x ep-plus (Monthly), effective 2026-03-10",
				"charge: 100.00 EUR (New plan: 10 licenses x 10.00 EUR = 100.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
				"usage: covered, 0 of the 10 licenses ordered are assigned",
			},
		},
		{
			name: "new plan with a later start date is billed from it",
			in: pvWith(pvNew(pvSpec("ep-plus", 2, v1alpha1.Monthly), plus), func(in *PreviewInput) {
				in.Spec.StartDate = "2026-03-31"
			}),
			want: []string{
				"an order: New of 2 x ep-plus (Monthly), effective 2026-03-10",
				"charge: 20.00 EUR (New plan: 2 licenses x 10.00 EUR = 20.00 EUR for the first term, 2026-03-31 to 2026-04-30.)",
				"usage: covered, 0 of the 2 licenses ordered are assigned",
			},
		},
		{
			name: "new plan's day is the UTC day of now",
			in: pvWith(pvNew(pvSpec("ep-plus", 1, v1alpha1.Monthly), plus), func(in *PreviewInput) {
				in.Now = time.Date(2026, 3, 10, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
				in.Created = in.Now
			}),
			want: []string{
				"an order: New of 1 x ep-plus (Monthly), effective 2026-03-11",
				"charge: 10.00 EUR (New plan: 1 license x 10.00 EUR = 10.00 EUR for the first term, 2026-03-11 to 2026-04-11.)",
				"usage: covered, 0 of the 1 licenses ordered are assigned",
			},
		},
		{
			name: "new Prepay1Y plan is charged in the profile's currency NOK",
			in: pvWith(pvNew(pvSpec("ep-plus", 5, v1alpha1.Prepay1Y), plus), func(in *PreviewInput) {
				in.Profile = pvProfile("NOK", "", "")
			}),
			want: []string{
				"an order: New of 5 x ep-plus (Prepay1Y), effective 2026-03-10",
				"charge: 500.00 NOK (New plan: 5 licenses x 100.00 NOK = 500.00 NOK for the first term, 2026-03-10 to 2027-03-10.)",
				"usage: covered, 0 of the 5 licenses ordered are assigned",
			},
		},
		{
			name: "new OneTime plan is charged once",
			in:   pvNew(pvSpec("ps", 2, v1alpha1.OneTime), pvOneTimeProduct()),
			want: []string{
				"an order: New of 2 x ps (OneTime), effective 2026-03-10",
				"charge: 500.00 EUR (New plan: 2 licenses x 250.00 EUR = 500.00 EUR once (one-time payment plan).)",
				"usage: covered, 0 of the 2 licenses ordered are assigned",
			},
		},
		{
			name: "plan ordered again after it expired starts a new first term today",
			in:   pvChange(pvSpec("ep-plus", 4, v1alpha1.Monthly), expired, plus, plus),
			want: []string{
				"an order: New of 4 x ep-plus (Monthly), effective 2026-03-10",
				"charge: 40.00 EUR (New plan: 4 licenses x 10.00 EUR = 40.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
				"usage: covered, 0 of the 4 licenses ordered are assigned",
			},
		},
		{
			name: "increase on a plan in force is prorated",
			in: pvWith(pvChange(pvSpec("ep-plus", 13, v1alpha1.Monthly), pvStatus(10), plus, plus), func(in *PreviewInput) {
				in.Assigned = 10
			}),
			want: []string{
				"an order: IncreaseQuantity of 13 x ep-plus (Monthly), effective 2026-03-10",
				"charge: 21.29 EUR (IncreaseQuantity from 10 to 13 licenses: 3 licenses x 10.00 EUR x 22/31 days = 21.29 EUR, " +
					"the 22 of 31 days left from 2026-03-10 to the term end 2026-04-01.)",
				"usage: covered, 10 of the 13 licenses ordered are assigned",
			},
		},
		{
			name: "increase is charged at the price in force, not the catalog's",
			in:   pvChange(pvSpec("ep-plus", 11, v1alpha1.Monthly), pvStatus(10), pvProduct("12.00"), pvProduct("12.00")),
			want: []string{
				"an order: IncreaseQuantity of 11 x ep-plus (Monthly), effective 2026-03-10",
				"charge: 7.10 EUR (IncreaseQuantity from 10 to 11 licenses: 1 license x 10.00 EUR x 22/31 days = 7.10 EUR, " +
					"the 22 of 31 days left from 2026-03-10 to the term end 2026-04-01.)",
				"usage: covered, 0 of the 11 licenses ordered are assigned",
			},
		},
		{
			name: "decrease waits for the next term and costs nothing",
			in: pvWith(pvChange(pvSpec("ep-plus", 7, v1alpha1.Monthly), pvStatus(10), plus, plus), func(in *PreviewInput) {
				in.Assigned = 7
			}),
			want: []string{
				"an order: DecreaseQuantity of 7 x ep-plus (Monthly), effective 2026-04-01",
				"charge: 0.00 EUR (No charge now: the change takes effect on 2026-04-01, at the start of the next term, and is billed from then on. No refund.)",
				"usage: covered, 7 of the 7 licenses ordered are assigned",
			},
		},
		{
			name: "decrease below usage would be rejected",
			in: pvWith(pvChange(pvSpec("ep-plus", 7, v1alpha1.Monthly), pvStatus(10), plus, plus), func(in *PreviewInput) {
				in.Assigned = 8
			}),
			want: []string{
				"an order: DecreaseQuantity of 7 x ep-plus (Monthly), effective 2026-04-01",
				`the order would be rejected, UsageBelowMinimum: quantity 7 does not cover the 8 licenses assigned to plan "eul": ` +
					"remove at least 1 LicenseAssignment first (kubectl get lasg --field-selector spec.plan=eul), then order again",
			},
		},
		{
			name: "spec in force needs no order",
			in:   pvChange(pvSpec("ep-plus", 10, v1alpha1.Monthly), pvStatus(10), plus, plus),
			want: nil,
		},
		{
			name: "spec scheduled for the next term needs no order",
			in:   pvChange(pvSpec("ep-plus", 7, v1alpha1.Monthly), scheduled, plus, plus),
			want: nil,
		},
		{
			name: "spec in force under a Manual profile needs no order",
			in: pvWith(pvChange(pvSpec("ep-plus", 10, v1alpha1.Monthly), pvStatus(10), plus, plus), func(in *PreviewInput) {
				in.Profile = pvProfile("EUR", v1alpha1.ManualApproval, "")
			}),
			want: nil,
		},
		{
			name: "unknown product would be rejected",
			in:   pvNew(pvSpec("ep-gold", 3, v1alpha1.Monthly), nil),
			want: []string{
				"an order: New of 3 x ep-gold (Monthly), effective 2026-03-10",
				`the order would be rejected, UnknownProduct: product "ep-gold" is not in the catalog: ` +
					"set spec.product to the name of a LicenseProduct (kubectl get lprod)",
			},
		},
		{
			name: "payment plan not offered would be rejected",
			in:   pvNew(pvSpec("ep-plus", 3, v1alpha1.Prepay2Y), plus),
			want: []string{
				"an order: New of 3 x ep-plus (Prepay2Y), effective 2026-03-10",
				`the order would be rejected, PaymentPlanNotOffered: paymentPlan Prepay2Y is not offered for product "ep-plus": choose one of Monthly, Prepay1Y`,
			},
		},
		{
			name: "unknown cost center would be rejected",
			in: pvWith(pvNew(pvSpec("ep-plus", 3, v1alpha1.Monthly), plus), func(in *PreviewInput) {
				in.Spec.CostCenter = "marketing"
				in.Profile = pvProfile("EUR", v1alpha1.ManualApproval, "")
			}),
			want: []string{
				"an order: New of 3 x ep-plus (Monthly), effective 2026-03-10",
				`the order would be rejected, UnknownCostCenter: costCenter "marketing" is not a cost center of the BillingProfile: ` +
					"choose one of sales, engineering, or add it to the BillingProfile first",
			},
		},
		{
			name: "RenewalOnly product takes no new plan",
			in: pvNew(pvSpec("ep-plus", 3, v1alpha1.Monthly), func() *v1alpha1.LicenseProductSpec {
				p := pvProduct("10.00")
				p.Availability = v1alpha1.RenewalOnly
				return p
			}()),
			want: []string{
				"an order: New of 3 x ep-plus (Monthly), effective 2026-03-10",
				`the order would be rejected, ProductNotOrderable: product "ep-plus" (Endpoint License) is RenewalOnly: ` +
					"it takes no new plans, only renewals and changes of existing plans; choose another product",
			},
		},
		{
			// A plan declared together with the plan it requires waits for it, so an unmet
			// requirement is a note, and the charge is still previewed.
			name: "unmet requirement is noted, not previewed as a rejection",
			in:   pvNew(pvSpec("ep-addon", 3, v1alpha1.Monthly), addOn),
			want: []string{
				"an order: New of 3 x ep-addon (Monthly), effective 2026-03-10",
				`requirement: product "ep-addon" requires an active plan of "connect" for the same customer in this namespace, ` +
					"and there is none: order that plan first (the order waits while a required plan is being ordered, and is rejected otherwise)",
				"charge: 30.00 EUR (New plan: 3 licenses x 10.00 EUR = 30.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
				"usage: covered, 0 of the 3 licenses ordered are assigned",
			},
		},
		{
			name: "met requirement passes",
			in: pvWith(pvNew(pvSpec("ep-addon", 3, v1alpha1.Monthly), addOn), func(in *PreviewInput) {
				in.OtherPlans = []ActivePlan{{Name: "conn", Product: "connect", Licenses: 1}}
			}),
			want: []string{
				"an order: New of 3 x ep-addon (Monthly), effective 2026-03-10",
				"charge: 30.00 EUR (New plan: 3 licenses x 10.00 EUR = 30.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
				"usage: covered, 0 of the 3 licenses ordered are assigned",
			},
		},
		{
			name: "Manual approval is announced after the charge",
			in: pvWith(pvNew(pvSpec("ep-plus", 10, v1alpha1.Monthly), plus), func(in *PreviewInput) {
				in.Profile = pvProfile("EUR", v1alpha1.ManualApproval, "")
			}),
			want: []string{
				"an order: New of 10 x ep-plus (Monthly), effective 2026-03-10",
				"charge: 100.00 EUR (New plan: 10 licenses x 10.00 EUR = 100.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
				pvManualLine,
				"usage: covered, 0 of the 10 licenses ordered are assigned",
			},
		},
		{
			name: "Manual approval holds even a change that costs nothing",
			in: pvWith(pvChange(pvSpec("ep-plus", 7, v1alpha1.Monthly), pvStatus(10), plus, plus), func(in *PreviewInput) {
				in.Profile = pvProfile("EUR", v1alpha1.ManualApproval, "")
			}),
			want: []string{
				"an order: DecreaseQuantity of 7 x ep-plus (Monthly), effective 2026-04-01",
				"charge: 0.00 EUR (No charge now: the change takes effect on 2026-04-01, at the start of the next term, and is billed from then on. No refund.)",
				pvManualLine,
				"usage: covered, 0 of the 7 licenses ordered are assigned",
			},
		},
		{
			name: "charge above manualAbove waits for approval",
			in: pvWith(pvNew(pvSpec("ep-plus", 10, v1alpha1.Monthly), plus), func(in *PreviewInput) {
				in.Profile = pvProfile("EUR", v1alpha1.AutomaticApproval, "50.00")
			}),
			want: []string{
				"an order: New of 10 x ep-plus (Monthly), effective 2026-03-10",
				"charge: 100.00 EUR (New plan: 10 licenses x 10.00 EUR = 100.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
				"approval: the order will wait for a person's approval, because the charge 100.00 is above the BillingProfile's approval.manualAbove 50.00",
				"usage: covered, 0 of the 10 licenses ordered are assigned",
			},
		},
		{
			name: "prorated charge below manualAbove is approved automatically",
			in: pvWith(pvChange(pvSpec("ep-plus", 13, v1alpha1.Monthly), pvStatus(10), plus, plus), func(in *PreviewInput) {
				in.Profile = pvProfile("EUR", v1alpha1.AutomaticApproval, "50.00")
			}),
			want: []string{
				"an order: IncreaseQuantity of 13 x ep-plus (Monthly), effective 2026-03-10",
				"charge: 21.29 EUR (IncreaseQuantity from 10 to 13 licenses: 3 licenses x 10.00 EUR x 22/31 days = 21.29 EUR, " +
					"the 22 of 31 days left from 2026-03-10 to the term end 2026-04-01.)",
				"usage: covered, 0 of the 13 licenses ordered are assigned",
			},
		},
		{
			name: "product upgrade takes effect at once with the prorated difference",
			in:   pvChange(pvSpec("ep-premium", 10, v1alpha1.Monthly), pvStatus(10), premium, plus),
			want: []string{
				"an order: ChangeProduct of 10 x ep-premium (Monthly), effective 2026-03-10",
				// 10 x 5.00 x 22/31 = 35.483... -> 35.48
				"charge: 35.48 EUR (Change from ep-plus (10.00 EUR per license) to ep-premium (15.00 EUR): price difference 5.00 EUR per license; " +
					"10 licenses x 5.00 EUR x 22/31 days = 35.48 EUR, the 22 of 31 days left from 2026-03-10 to the term end 2026-04-01.)",
				"usage: covered, 0 of the 10 licenses ordered are assigned",
			},
		},
		{
			name: "product downgrade waits for the next term",
			in:   pvChange(pvSpec("ep-plus", 10, v1alpha1.Monthly), premiumStatus, plus, premium),
			want: []string{
				"an order: ChangeProduct of 10 x ep-plus (Monthly), effective 2026-04-01",
				"charge: 0.00 EUR (No charge now: the change takes effect on 2026-04-01, at the start of the next term, and is billed from then on. No refund.)",
				"usage: covered, 0 of the 10 licenses ordered are assigned",
			},
		},
		{
			name: "product change to another family would be rejected",
			in:   pvChange(pvSpec("connect", 10, v1alpha1.Monthly), pvStatus(10), connect, plus),
			want: []string{
				"an order: ChangeProduct of 10 x connect (Monthly), effective 2026-04-01",
				`the order would be rejected, ProductChangeNotAllowed: product "connect" is of family Connect but the plan holds ` +
					"Endpoint License of family Endpoint: a plan may only change to a product of the same family; order a new plan instead",
			},
		},
		{
			name: "payment plan change waits for the next term",
			in:   pvChange(pvSpec("ep-plus", 10, v1alpha1.Prepay1Y), pvStatus(10), plus, plus),
			want: []string{
				"an order: ChangePaymentPlan of 10 x ep-plus (Prepay1Y), effective 2026-04-01",
				"charge: 0.00 EUR (No charge now: the change takes effect on 2026-04-01, at the start of the next term, and is billed from then on. No refund.)",
				"usage: covered, 0 of the 10 licenses ordered are assigned",
			},
		},
		{
			name: "payment plan change of a plan without a term charges a term at once",
			in:   pvChange(pvSpec("ps", 3, v1alpha1.Monthly), oneTime, pvOneTimeProduct(), pvOneTimeProduct()),
			want: []string{
				"an order: ChangePaymentPlan of 3 x ps (Monthly), effective 2026-03-10",
				"charge: 60.00 EUR (Payment plan Monthly: 3 licenses x 20.00 EUR = 60.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
				"usage: covered, 0 of the 3 licenses ordered are assigned",
			},
		},
		{
			name: "invalid catalog price: the charge cannot be computed and no approval is announced",
			in: pvWith(pvNew(pvSpec("ep-plus", 3, v1alpha1.Monthly), pvProduct("ten")), func(in *PreviewInput) {
				in.Profile = pvProfile("EUR", v1alpha1.ManualApproval, "")
			}),
			want: []string{
				"an order: New of 3 x ep-plus (Monthly), effective 2026-03-10",
				fmt.Sprintf(`charge: cannot be computed: catalog price of product "ep-plus" for Monthly: %v`, badPriceErr),
				"usage: covered, 0 of the 3 licenses ordered are assigned",
			},
		},
		{
			name: "invalid start date: the charge cannot be computed",
			in: pvWith(pvNew(pvSpec("ep-plus", 3, v1alpha1.Monthly), plus), func(in *PreviewInput) {
				in.Spec.StartDate = "2026-02-30"
			}),
			want: []string{
				"an order: New of 3 x ep-plus (Monthly), effective 2026-03-10",
				"charge: cannot be computed: " + badDateErr.Error(),
				"usage: covered, 0 of the 3 licenses ordered are assigned",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Preview(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Preview (-want +got):\n%s", diff)
			}
			// The data a dry run carries says all that the sentences say.
			var decoded PlanPreview
			raw, err := json.Marshal(PreviewOf(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &decoded); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, decoded.Sentences()); diff != "" {
				t.Errorf("the sentences of the decoded preview %s (-want +got):\n%s", raw, diff)
			}
		})
	}
}

// TestPreviewChargeMatchesPriceOrder prices, with PriceOrder, the order the controller would
// place for each change and checks that the preview states the same charge and description.
func TestPreviewChargeMatchesPriceOrder(t *testing.T) {
	plus, premium := pvProduct("10.00"), pvProduct("15.00")
	tests := []struct {
		name         string
		in           PreviewInput
		order        v1alpha1.LicenseOrderSpec
		catalogPrice v1alpha1.Amount
		startDate    time.Time
		currency     string
		wantCharge   v1alpha1.Amount
	}{
		{
			name: "new plan",
			in:   pvNew(pvSpec("ep-plus", 10, v1alpha1.Monthly), plus),
			order: v1alpha1.LicenseOrderSpec{Plan: "eul", Revision: 1, Change: v1alpha1.ChangeNew, Product: "ep-plus",
				PaymentPlan: v1alpha1.Monthly, Quantity: 10, EffectiveDate: "2026-03-10"},
			catalogPrice: "10.00", startDate: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), currency: "EUR",
			wantCharge: "100.00",
		},
		{
			name: "increase",
			in: pvWith(pvChange(pvSpec("ep-plus", 13, v1alpha1.Monthly), pvStatus(10), plus, plus), func(in *PreviewInput) {
				in.Profile = pvProfile("NOK", "", "")
			}),
			order: v1alpha1.LicenseOrderSpec{Plan: "eul", Revision: 2, Change: v1alpha1.ChangeIncreaseQuantity, Product: "ep-plus",
				PaymentPlan: v1alpha1.Monthly, Quantity: 13, PreviousQuantity: 10, EffectiveDate: "2026-03-10", CostCenter: "sales"},
			catalogPrice: "10.00", startDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), currency: "NOK",
			wantCharge: "21.29",
		},
		{
			name: "product upgrade",
			in:   pvChange(pvSpec("ep-premium", 10, v1alpha1.Monthly), pvStatus(10), premium, plus),
			order: v1alpha1.LicenseOrderSpec{Plan: "eul", Revision: 2, Change: v1alpha1.ChangeProduct, Product: "ep-premium",
				PaymentPlan: v1alpha1.Monthly, Quantity: 10, PreviousQuantity: 10, EffectiveDate: "2026-03-10"},
			catalogPrice: "15.00", startDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), currency: "EUR",
			wantCharge: "35.48",
		},
		{
			name: "decrease",
			in:   pvChange(pvSpec("ep-plus", 7, v1alpha1.Monthly), pvStatus(10), plus, plus),
			order: v1alpha1.LicenseOrderSpec{Plan: "eul", Revision: 2, Change: v1alpha1.ChangeDecreaseQuantity, Product: "ep-plus",
				PaymentPlan: v1alpha1.Monthly, Quantity: 7, PreviousQuantity: 10, EffectiveDate: "2026-04-01"},
			catalogPrice: "10.00", startDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), currency: "EUR",
			wantCharge: "0.00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PriceOrder(PricingInput{Order: tt.order, Plan: tt.in.Status, CatalogPrice: tt.catalogPrice,
				Currency: tt.currency, StartDate: tt.startDate})
			if err != nil {
				t.Fatalf("PriceOrder: %v", err)
			}
			if p.Charge.Amount() != tt.wantCharge {
				t.Errorf("PriceOrder charge = %s, want %s", p.Charge, tt.wantCharge)
			}
			want := fmt.Sprintf("charge: %s %s (%s)", p.Charge, p.Currency, p.Description)
			lines := Preview(tt.in)
			var got []string
			for _, l := range lines {
				if strings.HasPrefix(l, "charge: ") {
					got = append(got, l)
				}
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("preview charge lines = %q, want [%q]\n(all lines %q)", got, want, lines)
			}
		})
	}
}

// TestPreviewNeverReportsUsageNotCovered documents that Preview's "usage: not covered" sentence
// cannot appear: the order is validated with ValidateOrder first, whose UsageMinimum rule refuses
// any quantity below the assigned licenses, so an uncovered usage is always previewed as a
// UsageBelowMinimum rejection instead (and nothing follows it).
func TestPreviewNeverReportsUsageNotCovered(t *testing.T) {
	plus := pvProduct("10.00")
	bases := []struct {
		name string
		in   PreviewInput
	}{
		{"new plan of 3", pvNew(pvSpec("ep-plus", 3, v1alpha1.Monthly), plus)},
		{"increase 10 to 13", pvChange(pvSpec("ep-plus", 13, v1alpha1.Monthly), pvStatus(10), plus, plus)},
		{"decrease 10 to 3", pvChange(pvSpec("ep-plus", 3, v1alpha1.Monthly), pvStatus(10), plus, plus)},
		{"payment plan change of 10", pvChange(pvSpec("ep-plus", 10, v1alpha1.Prepay1Y), pvStatus(10), plus, plus)},
	}
	for _, b := range bases {
		for assigned := int32(0); assigned <= 15; assigned++ {
			t.Run(fmt.Sprintf("%s/%d assigned", b.name, assigned), func(t *testing.T) {
				in := b.in
				in.Assigned = assigned
				lines := Preview(in)
				if len(lines) == 0 {
					t.Fatal("no preview")
				}
				last := lines[len(lines)-1]
				if strings.HasPrefix(last, "usage: not covered") {
					t.Fatalf("usage not covered previewed: %q", lines)
				}
				covered := assigned <= in.Spec.Quantity
				wantLast := fmt.Sprintf("usage: covered, %d of the %d licenses ordered are assigned", assigned, in.Spec.Quantity)
				if !covered {
					wantLast = "the order would be rejected, UsageBelowMinimum: "
				}
				if !strings.HasPrefix(last, wantLast) {
					t.Errorf("last line = %q, want it to start with %q", last, wantLast)
				}
			})
		}
	}
}

// A decrease made inside the renewal window is quoted as what is billed: the change, effective at
// the term end, and the renewal placed again with it, charged at the term end for the new quantity.
func TestPreviewOfAChangeInsideTheRenewalWindow(t *testing.T) {
	in := pvChange(pvSpec("ep-plus", 6, v1alpha1.Monthly), pvStatus(10), pvProduct("10.00"), pvProduct("10.00"))
	in.Now = time.Date(2026, 3, 27, 9, 0, 0, 0, time.UTC)
	lines := Preview(in)
	want := "then: Renewal of 6 x ep-plus (Monthly), effective 2026-04-01, placed now and fulfilled on 2026-04-01, charge 60.00 EUR"
	if len(lines) == 0 || lines[0] != "an order: DecreaseQuantity of 6 x ep-plus (Monthly), effective 2026-04-01" || lines[len(lines)-1] != want {
		t.Errorf("Preview = %q, want the decrease first and last %q", lines, want)
	}
}

// TestPreviewOfAPlanWhoseRenewalWasDenied: the plan expires at its term end, and a new cost
// center orders nothing: the preview quotes no Renewal.
func TestPreviewOfAPlanWhoseRenewalWasDenied(t *testing.T) {
	in := pvChange(pvSpec("ep-plus", 10, v1alpha1.Monthly), pvStatus(10), pvProduct("10.00"), pvProduct("10.00"))
	in.Now = time.Date(2026, 3, 27, 9, 0, 0, 0, time.UTC)
	if lines := Preview(in); len(lines) == 0 || !strings.Contains(lines[0], "Renewal") {
		t.Fatalf("Preview before the denial = %q, want the Renewal", lines)
	}
	in.RenewalRefused = true
	for _, l := range Preview(in) {
		if strings.Contains(l, "Renewal") {
			t.Errorf("Preview of a plan whose renewal was denied quotes %q", l)
		}
	}
}

// TestPreviewSaysWhatTheOrdersWaitFor: an order awaiting a person holds what the spec asks for
// next, and the preview says so; an order the spec no longer asks for holds nothing.
func TestPreviewSaysWhatTheOrdersWaitFor(t *testing.T) {
	in := pvChange(pvSpec("ep-plus", 12, v1alpha1.Monthly), pvStatus(10), pvProduct("10.00"), pvProduct("10.00"))
	in.Spec.CostCenter = "engineering"
	awaiting := &v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Name: "eul-2"}, Spec: v1alpha1.LicenseOrderSpec{Revision: 2,
		Change: v1alpha1.ChangeIncreaseQuantity, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly, Quantity: 11, PreviousQuantity: 10, EffectiveDate: "2026-03-10"}}
	awaiting.Status.State = v1alpha1.OrderAwaitingApproval
	// The spec asks for 12: the order for 11 is superseded, and holds nothing.
	in.Latest = awaiting
	if lines := Preview(in); len(lines) == 0 || strings.HasPrefix(lines[0], "waits:") {
		t.Errorf("Preview with a superseded order = %q, want no waits line", lines)
	}
	// The spec asks for 11, the order in flight: it is that order.
	in.Spec.Quantity = 11
	if o := WaitsFor(in, OrdersDue(in.DueInput, MaxOrdersDue)); o != nil {
		t.Errorf("WaitsFor = %s, want nil: the order in flight is the one due", o.Name)
	}
	// The increase awaits a person past the term end: the Renewal due first waits for it.
	in.Spec.Quantity, in.Now = 11, time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC)
	lines := Preview(in)
	want := "waits: order eul-2 (IncreaseQuantity: 11 x ep-plus, Monthly) is AwaitingApproval; the plan orders nothing more until it settles, and then what follows"
	if len(lines) == 0 || lines[0] != want {
		t.Errorf("Preview = %q, want first %q", lines, want)
	}
}
