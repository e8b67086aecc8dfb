package licensing

import (
	"fmt"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// ApprovalNeeded reports whether an order needs a person's approval under the billing profile,
// and why: every order in Manual mode, and orders whose charge is above manualAbove in Automatic
// mode. manualAbove is an amount in the profile's currency: a charge in another currency (a price
// locked before the profile's currency changed) cannot be compared with it, and any such charge
// above nothing waits for a person. Expiry and Cancellation orders record what happened and need
// no approval; without a profile every order is approved automatically.
func ApprovalNeeded(profile *v1alpha1.BillingProfileSpec, change v1alpha1.OrderChange, charge Money, currency string) (bool, string) {
	if profile == nil || change == v1alpha1.ChangeExpiry || change == v1alpha1.ChangeCancellation {
		return false, ""
	}
	if profile.Approval.Mode == v1alpha1.ManualApproval {
		return true, "the BillingProfile's approval mode is Manual"
	}
	if profile.Approval.ManualAbove == "" {
		return false, ""
	}
	limit, err := ParseAmount(profile.Approval.ManualAbove)
	if err != nil {
		return true, fmt.Sprintf("the BillingProfile's approval.manualAbove %q is not an amount", profile.Approval.ManualAbove)
	}
	if own := Currency(profile); currency != "" && currency != own && charge > 0 {
		return true, fmt.Sprintf("the charge %s %s is in another currency than the BillingProfile's approval.manualAbove %s %s, and cannot be compared with it",
			charge, currency, limit, own)
	}
	if charge > limit {
		return true, fmt.Sprintf("the charge %s is above the BillingProfile's approval.manualAbove %s", charge, limit)
	}
	return false, ""
}
