package licensing

import (
	"fmt"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// MayDecide checks that approver may approve or deny an order that requestedBy asked for, under
// the billing profile's separation of duties (spec.approval.separationOfDuties): when it is on,
// nobody decides an order they requested themselves. Orders the operator placed on its own
// (requestedBy System) were requested by nobody; without a profile, or with the option off,
// anyone with the verb approve decides.
func MayDecide(profile *v1alpha1.BillingProfileSpec, requestedBy, approver string) error {
	if profile == nil || !profile.Approval.SeparationOfDuties || requestedBy == "" || requestedBy == v1alpha1.SystemUser {
		return nil
	}
	if requestedBy == approver {
		return fmt.Errorf("user %q requested this order (spec.requestedBy %q), and the BillingProfile's approval.separationOfDuties is on: another approver approves or denies it", approver, requestedBy)
	}
	return nil
}
