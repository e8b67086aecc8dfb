package licensing

import (
	"testing"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestMayDecide(t *testing.T) {
	on := &v1alpha1.BillingProfileSpec{Currency: "EUR", Approval: v1alpha1.ApprovalPolicy{Mode: v1alpha1.ManualApproval, SeparationOfDuties: true}}
	off := &v1alpha1.BillingProfileSpec{Currency: "EUR", Approval: v1alpha1.ApprovalPolicy{Mode: v1alpha1.ManualApproval}}
	tests := []struct {
		name                  string
		profile               *v1alpha1.BillingProfileSpec
		requestedBy, approver string
		refused               bool
	}{
		{"own order, separation on", on, "carol", "carol", true},
		{"another's order, separation on", on, "alice", "carol", false},
		{"own order, separation off (the default)", off, "carol", "carol", false},
		{"no profile", nil, "carol", "carol", false},
		{"an order the operator placed (renewal)", on, v1alpha1.SystemUser, v1alpha1.SystemUser, false},
		{"an order without requester", on, "", "carol", false},
		{"names differ in case: different users", on, "Carol", "carol", false},
	}
	for _, tt := range tests {
		err := MayDecide(tt.profile, tt.requestedBy, tt.approver)
		if (err != nil) != tt.refused {
			t.Errorf("%s: MayDecide = %v, want refused %v", tt.name, err, tt.refused)
		}
	}
	if err := MayDecide(on, "carol", "carol"); err == nil || err.Error() != `user "carol" requested this order (spec.requestedBy "carol"), and the BillingProfile's approval.separationOfDuties is on: another approver approves or denies it` {
		t.Errorf("message: %v", err)
	}
}
