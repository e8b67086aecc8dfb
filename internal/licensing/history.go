package licensing

import (
	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The rules in this file read a plan's order history: which order is in flight, which refusal
// still holds, and when an expired plan orders again.

// InFlight reports whether o, a plan's latest order, is placed and not yet settled: it comes after
// the last order applied to the plan and was not rejected. A plan has one order in flight at most.
func InFlight(st v1alpha1.CustomerLicensePlanStatus, o *v1alpha1.LicenseOrder) bool {
	return o != nil && o.Spec.Revision > st.Revision && o.Status.State != v1alpha1.OrderRejected
}

// CancellationWaits reports whether the cancellation of a deleted plan waits for its latest order:
// for an order in flight, but not for one awaiting a person's approval, which may never come.
func CancellationWaits(st v1alpha1.CustomerLicensePlanStatus, latest *v1alpha1.LicenseOrder) bool {
	return InFlight(st, latest) && latest.Status.State != v1alpha1.OrderAwaitingApproval
}

// RefusedForSpec reports whether o refused the change req for the plan's current spec (its
// generation): the change is ordered again only once the refusal no longer holds.
func RefusedForSpec(o *v1alpha1.LicenseOrder, generation int64, req ChangeRequest) bool {
	return o != nil && o.Status.State == v1alpha1.OrderRejected && o.Spec.PlanGeneration == generation && req.Same(o.Spec)
}

// RefusedRenewal reports whether o is the refused renewal of the plan's current term: the plan
// expires at the term end unless the refusal no longer holds.
func RefusedRenewal(o *v1alpha1.LicenseOrder, st v1alpha1.CustomerLicensePlanStatus) bool {
	return o != nil && o.Status.State == v1alpha1.OrderRejected && o.Spec.Change == v1alpha1.ChangeRenewal &&
		st.Term != nil && o.Spec.EffectiveDate == st.Term.End
}

// StandingRefusal returns the refusal of o that nothing but a new spec lifts: a person's denial.
// Any other refusal is judged again by the rules, with what holds now.
func StandingRefusal(o *v1alpha1.LicenseOrder) (Verdict, bool) {
	if o.Status.Reason == v1alpha1.ReasonDenied {
		return Verdict{Reason: o.Status.Reason, Message: o.Status.Message}, true
	}
	return Verdict{}, false
}

// ExpiredOnSpec reports whether a plan expired with the spec it has now (lastApplied is the order
// that put it out of force): it orders nothing until its spec changes.
func ExpiredOnSpec(st v1alpha1.CustomerLicensePlanStatus, lastApplied *v1alpha1.LicenseOrder, generation int64) bool {
	return st.ExpiredOn != "" && lastApplied != nil && lastApplied.Spec.PlanGeneration >= generation
}
