package licensing

import (
	"testing"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// apvProfile is a BillingProfile in EUR with the given approval policy.
func apvProfile(mode v1alpha1.ApprovalMode, manualAbove v1alpha1.Amount) *v1alpha1.BillingProfileSpec {
	return &v1alpha1.BillingProfileSpec{
		Currency:    "EUR",
		CostCenters: []v1alpha1.CostCenter{{Name: "sales"}},
		Approval:    v1alpha1.ApprovalPolicy{Mode: mode, ManualAbove: manualAbove},
	}
}

// apvEveryChange lists every kind of order change.
var apvEveryChange = []v1alpha1.OrderChange{
	v1alpha1.ChangeNew, v1alpha1.ChangeIncreaseQuantity, v1alpha1.ChangeDecreaseQuantity, v1alpha1.ChangePaymentPlan,
	v1alpha1.ChangeProduct, v1alpha1.ChangeRenewal, v1alpha1.ChangeExpiry, v1alpha1.ChangeCancellation,
}

func TestApprovalNeeded(t *testing.T) {
	tests := []struct {
		name       string
		profile    *v1alpha1.BillingProfileSpec
		change     v1alpha1.OrderChange
		charge     Money
		currency   string
		wantNeeded bool
		wantWhy    string
	}{
		{
			name:   "no profile approves automatically",
			change: v1alpha1.ChangeNew, charge: 1_000_000_00,
		},
		{
			name:    "Manual mode needs approval",
			profile: apvProfile(v1alpha1.ManualApproval, ""),
			change:  v1alpha1.ChangeNew, charge: 100_00,
			wantNeeded: true, wantWhy: "the BillingProfile's approval mode is Manual",
		},
		{
			name:    "Manual mode needs approval even for a free order",
			profile: apvProfile(v1alpha1.ManualApproval, ""),
			change:  v1alpha1.ChangeDecreaseQuantity, charge: 0,
			wantNeeded: true, wantWhy: "the BillingProfile's approval mode is Manual",
		},
		{
			name:    "Manual mode needs approval for a renewal",
			profile: apvProfile(v1alpha1.ManualApproval, ""),
			change:  v1alpha1.ChangeRenewal, charge: 100_00,
			wantNeeded: true, wantWhy: "the BillingProfile's approval mode is Manual",
		},
		{
			name:    "Manual mode ignores manualAbove",
			profile: apvProfile(v1alpha1.ManualApproval, "50.00"),
			change:  v1alpha1.ChangeNew, charge: 1,
			wantNeeded: true, wantWhy: "the BillingProfile's approval mode is Manual",
		},
		{
			name:    "Manual mode: an Expiry needs no approval",
			profile: apvProfile(v1alpha1.ManualApproval, ""),
			change:  v1alpha1.ChangeExpiry, charge: 0,
		},
		{
			name:    "Manual mode: a Cancellation needs no approval",
			profile: apvProfile(v1alpha1.ManualApproval, ""),
			change:  v1alpha1.ChangeCancellation, charge: 0,
		},
		{
			name:    "Automatic without manualAbove approves any charge",
			profile: apvProfile(v1alpha1.AutomaticApproval, ""),
			change:  v1alpha1.ChangeNew, charge: 1_000_000_00,
		},
		{
			name:    "Automatic: a charge equal to manualAbove is not above it",
			profile: apvProfile(v1alpha1.AutomaticApproval, "50.00"),
			change:  v1alpha1.ChangeNew, charge: 5000,
		},
		{
			name:    "Automatic: a charge below manualAbove is approved",
			profile: apvProfile(v1alpha1.AutomaticApproval, "50.00"),
			change:  v1alpha1.ChangeIncreaseQuantity, charge: 4999,
		},
		{
			name:    "Automatic: a charge one cent above manualAbove needs approval",
			profile: apvProfile(v1alpha1.AutomaticApproval, "50.00"),
			change:  v1alpha1.ChangeNew, charge: 5001,
			wantNeeded: true, wantWhy: "the charge 50.01 is above the BillingProfile's approval.manualAbove 50.00",
		},
		{
			name:    "Automatic: manualAbove without decimals is shown with two",
			profile: apvProfile(v1alpha1.AutomaticApproval, "50"),
			change:  v1alpha1.ChangeRenewal, charge: 12345,
			wantNeeded: true, wantWhy: "the charge 123.45 is above the BillingProfile's approval.manualAbove 50.00",
		},
		{
			name:    "Automatic: manualAbove 0 approves a free order",
			profile: apvProfile(v1alpha1.AutomaticApproval, "0"),
			change:  v1alpha1.ChangeDecreaseQuantity, charge: 0,
		},
		{
			name:    "Automatic: manualAbove 0 holds any charge",
			profile: apvProfile(v1alpha1.AutomaticApproval, "0"),
			change:  v1alpha1.ChangeIncreaseQuantity, charge: 1,
			wantNeeded: true, wantWhy: "the charge 0.01 is above the BillingProfile's approval.manualAbove 0.00",
		},
		{
			name:    "Automatic: an Expiry above manualAbove needs no approval",
			profile: apvProfile(v1alpha1.AutomaticApproval, "50.00"),
			change:  v1alpha1.ChangeExpiry, charge: 5001,
		},
		{
			name:    "Automatic: a Cancellation above manualAbove needs no approval",
			profile: apvProfile(v1alpha1.AutomaticApproval, "50.00"),
			change:  v1alpha1.ChangeCancellation, charge: 5001,
		},
		{
			name:    "Automatic: an invalid manualAbove holds the order and names the value",
			profile: apvProfile(v1alpha1.AutomaticApproval, "fifty"),
			change:  v1alpha1.ChangeNew, charge: 1,
			wantNeeded: true, wantWhy: `the BillingProfile's approval.manualAbove "fifty" is not an amount`,
		},
		{
			name:    "Automatic: an invalid manualAbove holds even a free order",
			profile: apvProfile(v1alpha1.AutomaticApproval, "50.001"),
			change:  v1alpha1.ChangeDecreaseQuantity, charge: 0,
			wantNeeded: true, wantWhy: `the BillingProfile's approval.manualAbove "50.001" is not an amount`,
		},
		{
			name:    "empty mode is Automatic: no manualAbove approves",
			profile: apvProfile("", ""),
			change:  v1alpha1.ChangeNew, charge: 1_000_000_00,
		},
		{
			name:    "empty mode is Automatic: a charge equal to manualAbove is approved",
			profile: apvProfile("", "50.00"),
			change:  v1alpha1.ChangeNew, charge: 5000,
		},
		{
			name:    "empty mode is Automatic: a charge above manualAbove needs approval",
			profile: apvProfile("", "50.00"),
			change:  v1alpha1.ChangeNew, charge: 5001,
			wantNeeded: true, wantWhy: "the charge 50.01 is above the BillingProfile's approval.manualAbove 50.00",
		},
		{
			name:    "empty mode is Automatic: an invalid manualAbove holds the order",
			profile: apvProfile("", "-1"),
			change:  v1alpha1.ChangeNew, charge: 0,
			wantNeeded: true, wantWhy: `the BillingProfile's approval.manualAbove "-1" is not an amount`,
		},
		{
			name:    "a charge in the profile's currency is compared",
			profile: apvProfile("", "50.00"),
			change:  v1alpha1.ChangeRenewal, charge: 4000, currency: "EUR",
		},
		{
			name:    "a charge in another currency cannot be compared with manualAbove: a person approves",
			profile: apvProfile("", "50.00"),
			change:  v1alpha1.ChangeRenewal, charge: 4000, currency: "USD",
			wantNeeded: true, wantWhy: "the charge 40.00 USD is in another currency than the BillingProfile's approval.manualAbove 50.00 EUR, and cannot be compared with it",
		},
		{
			name:    "nothing charged in another currency needs nobody",
			profile: apvProfile("", "50.00"),
			change:  v1alpha1.ChangeDecreaseQuantity, charge: 0, currency: "USD",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			needed, why := ApprovalNeeded(tt.profile, tt.change, tt.charge, tt.currency)
			if needed != tt.wantNeeded || why != tt.wantWhy {
				t.Errorf("ApprovalNeeded(%v, %s, %s) = (%v, %q), want (%v, %q)",
					tt.profile, tt.change, tt.charge, needed, why, tt.wantNeeded, tt.wantWhy)
			}
		})
	}
}

// TestApprovalNeededByChange checks every kind of change under each policy: only Expiry and
// Cancellation are exempt, and no reason is given when no approval is needed.
func TestApprovalNeededByChange(t *testing.T) {
	profiles := []struct {
		name    string
		profile *v1alpha1.BillingProfileSpec
		charge  Money
		want    bool // for changes other than Expiry and Cancellation
	}{
		{"no profile", nil, 1_000_00, false},
		{"Manual", apvProfile(v1alpha1.ManualApproval, ""), 0, true},
		{"Automatic above manualAbove", apvProfile(v1alpha1.AutomaticApproval, "10.00"), 1_001, true},
		{"Automatic at manualAbove", apvProfile(v1alpha1.AutomaticApproval, "10.00"), 1_000, false},
		{"Automatic with invalid manualAbove", apvProfile(v1alpha1.AutomaticApproval, "x"), 0, true},
	}
	for _, p := range profiles {
		for _, change := range apvEveryChange {
			t.Run(p.name+"/"+string(change), func(t *testing.T) {
				want := p.want && change != v1alpha1.ChangeExpiry && change != v1alpha1.ChangeCancellation
				needed, why := ApprovalNeeded(p.profile, change, p.charge, "EUR")
				if needed != want {
					t.Errorf("needed = %v, want %v (why %q)", needed, want, why)
				}
				if needed == (why == "") {
					t.Errorf("needed = %v with reason %q: a reason must be given exactly when approval is needed", needed, why)
				}
			})
		}
	}
}
