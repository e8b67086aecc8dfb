package licensing

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// TestPreviewOf checks the preview as data: the orders, their charges and their total, as tools
// read them.
func TestPreviewOf(t *testing.T) {
	plus := pvProduct("10.00")
	noPrice := pvProduct("10.00")
	noPrice.Prices[0].PricePerLicense = "ten"
	backdated := pvNew(pvSpec("ep-plus", 9, v1alpha1.Monthly), plus)
	backdated.Spec.StartDate = "2026-01-15"
	charge := func(amount v1alpha1.Amount) *v1alpha1.Charge {
		return &v1alpha1.Charge{Amount: amount, Currency: "EUR"}
	}
	tests := []struct {
		name  string
		in    PreviewInput
		want  PlanPreview
		notes []string
	}{{
		name: "a backdated plan: the New order and a catch-up renewal per term ended, and their total",
		in:   backdated,
		want: PlanPreview{
			Orders: []PreviewOrder{
				{Change: v1alpha1.ChangeNew, Quantity: 9, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly, EffectiveDate: "2026-03-10", Charge: charge("90.00")},
				{Change: v1alpha1.ChangeRenewal, Quantity: 9, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly, EffectiveDate: "2026-02-15",
					Charge: charge("90.00")},
			},
			Total:     []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "180.00"}},
			Backdated: &PreviewBackdated{StartDate: "2026-01-15", Renewals: 1},
		},
		notes: []string{"start date: spec.startDate 2026-01-15 is more than one term in the past: the term that ended since is billed at once, one Renewal each. If the date is a mistake, correct it now: startDate cannot change once set"},
	}, {
		name: "a rejected order: the reason, and nothing charged",
		in:   pvChange(pvSpec("ep-plus", 3, v1alpha1.Monthly), pvStatus(10), plus, plus),
		want: PlanPreview{
			Orders: []PreviewOrder{{Change: v1alpha1.ChangeDecreaseQuantity, Quantity: 3, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				EffectiveDate: "2026-04-01", Charge: charge("0.00")}},
			Total:    []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "0.00"}},
			Rejected: &PreviewRejection{Reason: v1alpha1.ReasonUsageBelowMinimum},
			Assigned: 5,
		},
	}, {
		name: "a charge that cannot be computed: no total, and why",
		in:   pvNew(pvSpec("ep-plus", 2, v1alpha1.Monthly), noPrice),
		want: PlanPreview{
			Orders:     []PreviewOrder{{Change: v1alpha1.ChangeNew, Quantity: 2, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly, EffectiveDate: "2026-03-10"}},
			TotalError: "a charge cannot be computed: ",
		},
	}, {
		name: "the spec needs no order",
		in:   pvChange(pvSpec("ep-plus", 10, v1alpha1.Monthly), pvStatus(10), plus, plus),
		want: PlanPreview{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want.Assigned != 0 {
				tt.in.Assigned = tt.want.Assigned
			}
			got := PreviewOf(tt.in)
			// What is said in words (a description, a message, an error) is checked by TestPreview.
			for _, o := range got.Orders {
				if o.Charge != nil {
					if o.Charge.Description == "" {
						t.Errorf("the charge of %s has no description", o.Change)
					}
					o.Charge.Description = ""
				}
			}
			if got.Rejected != nil {
				got.Rejected.Message = ""
			}
			if len(got.Orders) > 0 && got.Orders[0].ChargeError != "" {
				got.Orders[0].ChargeError = ""
				got.TotalError = got.TotalError[:len(tt.want.TotalError)]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PreviewOf (-want +got):\n%s", diff)
			}
			if tt.notes != nil {
				if diff := cmp.Diff(tt.notes, PreviewOf(tt.in).Notes()); diff != "" {
					t.Errorf("Notes (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestPreviewRuns: the first order stands alone, alike later orders make one run, and a rejected
// first order is all there is.
func TestPreviewRuns(t *testing.T) {
	in := pvNew(pvSpec("ep-plus", 9, v1alpha1.Monthly), pvProduct("10.00"))
	in.Spec.StartDate = "2025-01-15"
	in.Now = time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC)
	p := PreviewOf(in)
	runs := p.Runs()
	if len(p.Orders) != 14 || len(runs) != 2 {
		t.Fatalf("%d orders in %d runs, want 14 in 2", len(p.Orders), len(runs))
	}
	if runs[0].Count != 1 || runs[0].Change != v1alpha1.ChangeNew {
		t.Errorf("first run %+v, want the New order alone", runs[0])
	}
	if r := runs[1]; r.Count != 13 || r.Change != v1alpha1.ChangeRenewal || r.EffectiveDate != "2025-02-15" || r.Last != "2026-02-15" {
		t.Errorf("second run %+v, want 13 Renewals from 2025-02-15 to 2026-02-15", r)
	}
	if got := (PlanPreview{Total: p.Total}); len(got.Total) != 1 || got.Total[0].Amount != "1260.00" {
		t.Errorf("total %v, want 1260.00 EUR", p.Total)
	}
	p.Rejected = &PreviewRejection{Reason: "X"}
	if runs := p.Runs(); len(runs) != 1 {
		t.Errorf("a rejected preview has %d runs, want the first order only", len(runs))
	}
}
