package licensing

import (
	"testing"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestEntitlementRevision(t *testing.T) {
	base := v1alpha1.CustomerLicensePlanStatus{Revision: 3, Product: "ep-plus", SKU: "EP-PLUS", Licenses: 10, PaymentPlan: v1alpha1.Monthly,
		Term: &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"}, RenewalAction: v1alpha1.RenewalActionRenew}
	rev := EntitlementRevision(base)
	if len(rev) != 12 {
		t.Fatalf("revision %q, want 12 hex digits", rev)
	}
	for _, tc := range []struct {
		name    string
		change  func(*v1alpha1.CustomerLicensePlanStatus)
		same    bool
		nothing bool
	}{
		{"usage counted", func(s *v1alpha1.CustomerLicensePlanStatus) { s.Usage.Assigned = 4 }, true, false},
		{"a pending change", func(s *v1alpha1.CustomerLicensePlanStatus) {
			s.PendingChange = &v1alpha1.PendingChange{Quantity: new(int32(2))}
		}, true, false},
		{"an order applied that changes nothing in force", func(s *v1alpha1.CustomerLicensePlanStatus) { s.Revision = 4 }, true, false},
		{"more licenses", func(s *v1alpha1.CustomerLicensePlanStatus) { s.Licenses = 11 }, false, false},
		{"renewed", func(s *v1alpha1.CustomerLicensePlanStatus) { s.Term.End = "2026-05-01" }, false, false},
		{"to expire", func(s *v1alpha1.CustomerLicensePlanStatus) { s.RenewalAction = v1alpha1.RenewalActionExpire }, false, false},
		{"expired", func(s *v1alpha1.CustomerLicensePlanStatus) { s.ExpiredOn = "2026-04-01" }, false, true},
		{"cancelled", func(s *v1alpha1.CustomerLicensePlanStatus) { s.CancelledOn = "2026-03-10" }, false, true},
	} {
		st := *base.DeepCopy()
		tc.change(&st)
		got := EntitlementRevision(st)
		if (got == rev) != tc.same || (got == "") != tc.nothing {
			t.Errorf("%s: revision %q (was %q)", tc.name, got, rev)
		}
	}
}
