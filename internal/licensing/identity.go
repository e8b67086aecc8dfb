package licensing

import (
	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The rules in this file tell one plan from another of the same name. A plan deleted and declared
// again under its name is another plan (another metadata.uid): the orders of the deleted plan are
// its history and stay as they were; the new plan never reads or applies them, orders its own
// licenses, and numbers its orders after the highest revision the name used, so that no order
// name is taken twice.

// BelongsTo reports whether o is an order of plan, this very instance of the plan's name: its
// spec.planUID is the plan's UID. An order placed before orders recorded their plan's UID has
// none; it belongs to the plan of its name created no later than the order (the plan of a name
// is deleted, its Cancellation recorded, before the name can be declared again).
func BelongsTo(o *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan) bool {
	if o.Spec.Plan != plan.Name {
		return false
	}
	if o.Spec.PlanUID != "" {
		return o.Spec.PlanUID == plan.UID
	}
	return !o.CreationTimestamp.Before(&plan.CreationTimestamp)
}

// OwnOrders returns the orders of orders that belong to plan (BelongsTo) and have a revision above
// its status's, in their order, and the highest revision the others (orders of an earlier plan of
// the same name) used.
func OwnOrders(plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) (own []v1alpha1.LicenseOrder, prior int64) {
	for i := range orders {
		o := &orders[i]
		switch {
		case !BelongsTo(o, plan):
			prior = max(prior, o.Spec.Revision)
		case o.Spec.Revision > plan.Status.Revision:
			own = append(own, *o)
		}
	}
	return own, prior
}
