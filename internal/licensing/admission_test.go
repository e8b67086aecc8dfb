package licensing

import (
	"strings"
	"testing"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestValidateAdmission(t *testing.T) {
	tests := []struct {
		name          string
		edit          func(*OrderInput)
		wantReason    string
		wantInMessage []string
		// wantOrderReason is what ValidateOrder says of the same input, when it differs.
		wantOrderReason string
	}{
		{name: "valid order passes", edit: func(*OrderInput) {}},
		{
			name:            "required plan missing passes",
			edit:            func(in *OrderInput) { in.OtherPlans = nil },
			wantOrderReason: v1alpha1.ReasonRequirementNotMet,
		},
		{
			name:            "required plan without licenses passes",
			edit:            func(in *OrderInput) { in.OtherPlans[0].Licenses = 0 },
			wantOrderReason: v1alpha1.ReasonRequirementNotMet,
		},
		{
			name:            "quantity above an AtMost requirement passes",
			edit:            func(in *OrderInput) { in.Quantity = 11 },
			wantOrderReason: v1alpha1.ReasonRequirementNotMet,
		},
		{
			name: "quantity different from an Equal requirement passes",
			edit: func(in *OrderInput) {
				in.Product.Requires[0].Quantity = v1alpha1.RequireEqual
			},
			wantOrderReason: v1alpha1.ReasonRequirementNotMet,
		},
		{
			name:       "unknown product fails",
			edit:       func(in *OrderInput) { in.ProductName, in.Product = "ep-gold", nil },
			wantReason: v1alpha1.ReasonUnknownProduct, wantInMessage: []string{`product "ep-gold" is not in the catalog`},
		},
		{
			name: "product change to another family fails",
			edit: func(in *OrderInput) {
				in.Change = v1alpha1.ChangeProduct
				in.CurrentProduct = &v1alpha1.LicenseProductSpec{DisplayName: "Connect", Family: "Connect"}
			},
			wantReason: v1alpha1.ReasonProductChangeNotAllowed, wantInMessage: []string{"family Endpoint", "Connect of family Connect"},
		},
		{
			name:       "RenewalOnly product takes no new plan",
			edit:       func(in *OrderInput) { in.Product.Availability = v1alpha1.RenewalOnly },
			wantReason: v1alpha1.ReasonProductNotOrderable, wantInMessage: []string{"RenewalOnly"},
		},
		{
			name: "Retired product takes no increase",
			edit: func(in *OrderInput) {
				in.Change, in.Product.Availability = v1alpha1.ChangeIncreaseQuantity, v1alpha1.Retired
			},
			wantReason: v1alpha1.ReasonProductNotOrderable, wantInMessage: []string{"Retired"},
		},
		{
			name:       "payment plan not offered fails",
			edit:       func(in *OrderInput) { in.PaymentPlan = v1alpha1.Prepay3Y },
			wantReason: v1alpha1.ReasonPaymentPlanNotOffered, wantInMessage: []string{"paymentPlan Prepay3Y", "choose one of Monthly, Prepay1Y"},
		},
		{
			name:       "unknown cost center fails",
			edit:       func(in *OrderInput) { in.CostCenter = "marketing" },
			wantReason: v1alpha1.ReasonUnknownCostCenter, wantInMessage: []string{`costCenter "marketing"`, "choose one of sales, engineering"},
		},
		{
			name:       "usage below minimum fails",
			edit:       func(in *OrderInput) { in.Assigned = 7 },
			wantReason: v1alpha1.ReasonUsageBelowMinimum, wantInMessage: []string{"quantity 5 does not cover the 7 licenses assigned", "remove at least 2 LicenseAssignments"},
		},
		{
			name: "usage below minimum is reported even with a requirement unmet",
			edit: func(in *OrderInput) {
				in.OtherPlans, in.Assigned = nil, 6
			},
			wantReason: v1alpha1.ReasonUsageBelowMinimum, wantInMessage: []string{"remove at least 1 LicenseAssignment first"},
			// ValidateOrder stops at the requirement, which runs before the usage minimum.
			wantOrderReason: v1alpha1.ReasonRequirementNotMet,
		},
		{
			name: "unknown cost center is reported before the usage minimum",
			edit: func(in *OrderInput) {
				in.CostCenter, in.Assigned = "marketing", 6
			},
			wantReason: v1alpha1.ReasonUnknownCostCenter,
		},
		{
			name: "payment plan is checked before the cost center",
			edit: func(in *OrderInput) {
				in.PaymentPlan, in.CostCenter = v1alpha1.OneTime, "marketing"
			},
			wantReason: v1alpha1.ReasonPaymentPlanNotOffered,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := vtValidInput()
			tt.edit(&in)
			vtCheck(t, ValidateAdmission(in), tt.wantReason, tt.wantInMessage...)

			wantOrder := tt.wantReason
			if tt.wantOrderReason != "" {
				wantOrder = tt.wantOrderReason
			}
			if got := ValidateOrder(in); got.Reason != wantOrder {
				t.Errorf("ValidateOrder reason = %q, want %q", got.Reason, wantOrder)
			}
		})
	}
}

// TestValidateAdmissionOrder breaks every combination of the rules admission judges, with the
// requirement met and unmet, and checks that ValidateAdmission reports the first broken rule in
// the order of OrderRules, as ValidateOrder does for the same input with the requirement met.
func TestValidateAdmissionOrder(t *testing.T) {
	// breaks lists, in the order of OrderRules, how to break each rule admission judges.
	breaks := []struct {
		rule   string
		reason string
		apply  func(*OrderInput)
	}{
		{"ProductExists", v1alpha1.ReasonUnknownProduct, func(in *OrderInput) { in.ProductName, in.Product = "ep-gold", nil }},
		{"ProductFamily", v1alpha1.ReasonProductChangeNotAllowed, func(in *OrderInput) {
			in.CurrentProduct = &v1alpha1.LicenseProductSpec{DisplayName: "Connect", Family: "Connect"}
		}},
		{"Availability", v1alpha1.ReasonProductNotOrderable, func(in *OrderInput) {
			if in.Product != nil {
				in.Product.Availability = v1alpha1.Retired
			}
		}},
		{"PaymentPlanOffered", v1alpha1.ReasonPaymentPlanNotOffered, func(in *OrderInput) { in.PaymentPlan = v1alpha1.OneTime }},
		// A trial of a product that offers none; with the payment plan broken already, there is no trial to judge.
		{"Trial", v1alpha1.ReasonTrialNotOffered, func(in *OrderInput) {
			if in.PaymentPlan != v1alpha1.OneTime {
				in.PaymentPlan = v1alpha1.Trial
			}
		}},
		{"CostCenter", v1alpha1.ReasonUnknownCostCenter, func(in *OrderInput) { in.CostCenter = "marketing" }},
		{"UsageMinimum", v1alpha1.ReasonUsageBelowMinimum, func(in *OrderInput) { in.Assigned = 6 }},
	}
	var ruleOrder []string
	for _, r := range OrderRules {
		if r.Name != "Requirements" {
			ruleOrder = append(ruleOrder, r.Name)
		}
	}
	for i, b := range breaks {
		if i >= len(ruleOrder) || ruleOrder[i] != b.rule {
			t.Fatalf("OrderRules without Requirements = %v: the test breaks rules in another order", ruleOrder)
		}
	}

	for mask := 0; mask < 1<<len(breaks); mask++ {
		for _, requirementMet := range []bool{true, false} {
			var names []string
			base := vtValidInput()
			// A product change within the family, so that the family rule can be broken alone.
			base.Change = v1alpha1.ChangeProduct
			base.CurrentProduct = &v1alpha1.LicenseProductSpec{DisplayName: "Endpoint License Basic", Family: "Endpoint"}
			wantReason := ""
			for i, b := range breaks {
				if mask&(1<<i) != 0 {
					b.apply(&base)
					names = append(names, b.rule)
					if wantReason == "" {
						wantReason = b.reason
					}
				}
			}
			if len(names) == 0 {
				names = []string{"none"}
			}
			name := strings.Join(names, "+")
			if requirementMet {
				name += "/requirement met"
			} else {
				name += "/requirement unmet"
			}
			t.Run(name, func(t *testing.T) {
				in := base
				if !requirementMet {
					in.OtherPlans = nil
				}
				got := ValidateAdmission(in)
				vtCheck(t, got, wantReason)
				if want := ValidateOrder(base); got != want {
					t.Errorf("ValidateAdmission = %+v, ValidateOrder with the requirement met = %+v", got, want)
				}
			})
		}
	}
}

// admStatus is a Monthly plan with licenses licenses in force.
func admStatus(licenses int32) v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		Product: "ep-plus", Licenses: licenses, PaymentPlan: v1alpha1.Monthly, PricePerLicense: "10.00", Currency: "EUR",
		StartDate: "2026-03-01", Term: &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"}, RenewalDate: "2026-04-01",
		Revision: 1, LastOrder: "eul-1",
	}
}

// admSpec is the spec of plan eul asking for quantity licenses.
func admSpec(quantity int32) v1alpha1.CustomerLicensePlanSpec {
	return v1alpha1.CustomerLicensePlanSpec{Customer: "acme", Product: "ep-plus", Quantity: quantity, PaymentPlan: v1alpha1.Monthly}
}

// admScheduled is admStatus(licenses) with a decrease to scheduled pending for the next term.
func admScheduled(licenses, scheduled int32) v1alpha1.CustomerLicensePlanStatus {
	st := admStatus(licenses)
	st.PendingChange = &v1alpha1.PendingChange{Quantity: &scheduled, EffectiveDate: "2026-04-01"}
	return st
}

func TestAssignmentRoom(t *testing.T) {
	notOrdered := v1alpha1.CustomerLicensePlanStatus{} // revision 0: no order applied yet
	expired := admStatus(2)
	expired.ExpiredOn = "2026-04-01"
	noLicenses := admStatus(0)

	tests := []struct {
		name          string
		spec          v1alpha1.CustomerLicensePlanSpec
		status        v1alpha1.CustomerLicensePlanStatus
		assigned      int32
		wantReason    string
		wantInMessage []string
	}{
		{name: "2 licenses, none assigned", spec: admSpec(2), status: admStatus(2), assigned: 0},
		{name: "2 licenses, 1 assigned", spec: admSpec(2), status: admStatus(2), assigned: 1},
		{
			name: "2 licenses, 2 assigned", spec: admSpec(2), status: admStatus(2), assigned: 2,
			wantReason: v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{
				`plan "eul" has 2 licenses in force and 2 assigned`,
				"raise the plan's spec.quantity first",
				`kubectl patch clp eul --type merge -p '{"spec":{"quantity":3}}'`,
			},
		},
		{
			name: "2 licenses, already over-assigned", spec: admSpec(2), status: admStatus(2), assigned: 5,
			wantReason:    v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{`has 2 licenses in force and 5 assigned`, `{"quantity":6}`},
		},
		{name: "increase to 3 on its way, 2 assigned", spec: admSpec(3), status: admStatus(2), assigned: 2},
		{
			name: "increase to 3 on its way, 3 assigned", spec: admSpec(3), status: admStatus(2), assigned: 3,
			wantReason:    v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{`plan "eul" has 2 licenses in force and 3 assigned`, `{"quantity":4}`},
		},
		{
			name: "1 license, 1 assigned: singular", spec: admSpec(1), status: admStatus(1), assigned: 1,
			wantReason:    v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{`plan "eul" has 1 license in force and 1 assigned`, `{"quantity":2}`},
		},
		{name: "decrease to 3 scheduled, 2 of 5 assigned", spec: admSpec(3), status: admScheduled(5, 3), assigned: 2},
		{
			name: "decrease to 3 scheduled, 5 of 5 assigned", spec: admSpec(3), status: admScheduled(5, 3), assigned: 5,
			wantReason:    v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{`plan "eul" has 5 licenses in force and 5 assigned`, `{"quantity":6}`},
		},
		{name: "not ordered yet, spec 2, none assigned", spec: admSpec(2), status: notOrdered, assigned: 0},
		{name: "not ordered yet, spec 2, 1 assigned", spec: admSpec(2), status: notOrdered, assigned: 1},
		{
			name: "not ordered yet, spec 2, 2 assigned", spec: admSpec(2), status: notOrdered, assigned: 2,
			wantReason:    v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{`plan "eul" has 0 licenses in force and 2 assigned`, `{"quantity":3}`},
		},
		{name: "expired, spec 2, 1 assigned", spec: admSpec(2), status: expired, assigned: 1},
		{
			name: "expired plan's licenses are not in force", spec: admSpec(2), status: expired, assigned: 2,
			wantReason:    v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{`plan "eul" has 0 licenses in force and 2 assigned`, `{"quantity":3}`},
		},
		{
			name: "expired, spec 1 below the licenses it held", spec: admSpec(1), status: expired, assigned: 1,
			wantReason:    v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{`has 0 licenses in force and 1 assigned`},
		},
		{name: "in force with 0 licenses, spec 1, none assigned", spec: admSpec(1), status: noLicenses, assigned: 0},
		{
			name: "in force with 0 licenses, spec 1, 1 assigned", spec: admSpec(1), status: noLicenses, assigned: 1,
			wantReason:    v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{`has 0 licenses in force and 1 assigned`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vtCheck(t, AssignmentRoom("eul", tt.spec, tt.status, tt.assigned), tt.wantReason, tt.wantInMessage...)
		})
	}
}

func TestAssignmentRoomMessage(t *testing.T) {
	got := AssignmentRoom("eul", admSpec(2), admStatus(2), 2)
	want := Verdict{Reason: v1alpha1.ReasonOverLicensed, Message: `plan "eul" has 2 licenses in force and 2 assigned, and its spec.quantity is 2: ` +
		`raise the plan's spec.quantity first (kubectl patch clp eul --type merge -p '{"spec":{"quantity":3}}')`}
	if got != want {
		t.Errorf("AssignmentRoom =\n%+v\nwant\n%+v", got, want)
	}
}

// TestAssignmentRoomBeyondScheduledDecrease: with 5 licenses in force and a decrease to 3
// scheduled, a fourth assignment is refused: the renewal at 3 would fail the usage minimum and the
// plan would expire at the term end.
func TestAssignmentRoomBeyondScheduledDecrease(t *testing.T) {
	st := admScheduled(5, 3)
	vtCheck(t, AssignmentRoom("eul", admSpec(3), st, 3), v1alpha1.ReasonOverLicensed, `{"quantity":4}`)
	vtCheck(t, AssignmentRoom("eul", admSpec(3), st, 4), v1alpha1.ReasonOverLicensed, `{"quantity":5}`)
}
