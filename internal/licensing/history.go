package licensing

import (
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The rules in this file read a plan's order history: which order is in flight, which refusal
// still holds, and when an expired plan orders again.

// InFlight reports whether o, a plan's latest order, is placed and not yet settled: it comes after
// the last order applied to the plan and was not rejected. A plan has one order in flight at most.
func InFlight(st v1alpha1.CustomerLicensePlanStatus, o *v1alpha1.LicenseOrder) bool {
	return o != nil && o.Spec.Revision > st.Revision && o.Status.State != v1alpha1.OrderRejected
}

// CancelStep is what the cancellation of a deleted plan does next.
type CancelStep string

const (
	// CancelPlace places the plan's Cancellation order.
	CancelPlace CancelStep = "Place"
	// CancelWait waits for an open order of the plan: the order reconciler closes it without a
	// charge, because its plan is being deleted, or fulfils the Cancellation.
	CancelWait CancelStep = "Wait"
	// CancelRelease releases the plan: its Cancellation is recorded, or it never ordered anything.
	CancelRelease CancelStep = "Release"
)

// NextCancelStep is what the cancellation of a deleted plan does next. st is the plan's status with
// its fulfilled orders applied and latest its latest order above the revision the plan's stored
// status holds (nil when there is none). Every plan that ordered anything records a Cancellation,
// in force or not, so that its order history shows it was withdrawn; an order still open (a
// renewal placed early, an order awaiting approval) is closed first, without a charge.
func NextCancelStep(st v1alpha1.CustomerLicensePlanStatus, latest *v1alpha1.LicenseOrder) CancelStep {
	switch {
	case latest == nil && st.Revision == 0:
		return CancelRelease
	case latest == nil:
		return CancelPlace
	case latest.Spec.Change == v1alpha1.ChangeCancellation && isSettled(latest):
		return CancelRelease
	case latest.Spec.Change == v1alpha1.ChangeCancellation, InFlight(st, latest):
		return CancelWait
	}
	return CancelPlace
}

func isSettled(o *v1alpha1.LicenseOrder) bool {
	return o.Status.State == v1alpha1.OrderFulfilled || o.Status.State == v1alpha1.OrderRejected
}

// CancellationRequest is the Cancellation order of a deleted plan: the licenses in force go to 0
// today, or at the end of the term in force when that has passed unrenewed (its Renewal, or a
// change it waited for, still awaited a person, or the operator was down): the plan held nothing
// paid after it, as a plan whose renewal is denied expires at its term end. A plan never put in
// force records the product and payment plan its spec asked for.
func CancellationRequest(spec v1alpha1.CustomerLicensePlanSpec, st v1alpha1.CustomerLicensePlanStatus, now time.Time) ChangeRequest {
	product, pp := st.Product, st.PaymentPlan
	if product == "" {
		product, pp = spec.Product, spec.PaymentPlan
	}
	eff := Day(now)
	if HasPlanInForce(st) && st.Term != nil {
		if end, err := ParseDate(st.Term.End); err == nil && end.Before(eff) {
			eff = end
		}
	}
	return ChangeRequest{Change: v1alpha1.ChangeCancellation, Product: product, PaymentPlan: pp,
		PreviousQuantity: st.Licenses, EffectiveDate: eff}
}

// IsRefusal reports whether an order's rejection reason refuses the change it ordered: a business
// rule or a person did, or its charge cannot be represented (ChargeTooLarge, which stands until
// the spec changes). An order closed for another reason (superseded by its plan's newer state,
// its plan gone or deleted) refused nothing, and the plan orders what it needs anew.
func IsRefusal(reason string) bool {
	return reason == v1alpha1.ReasonDenied || reason == v1alpha1.ReasonChargeTooLarge || isRuleReason(reason)
}

func isRuleReason(reason string) bool {
	switch reason {
	case v1alpha1.ReasonUnknownProduct, v1alpha1.ReasonProductChangeNotAllowed, v1alpha1.ReasonProductNotOrderable,
		v1alpha1.ReasonPaymentPlanNotOffered, v1alpha1.ReasonUnknownCostCenter, v1alpha1.ReasonRequirementNotMet,
		v1alpha1.ReasonUsageBelowMinimum, v1alpha1.ReasonTrialNotOffered, v1alpha1.ReasonTrialUsed, v1alpha1.ReasonTrialTooLarge:
		return true
	}
	return false
}

// RefusedForSpec reports whether o refused the change req for the plan's current spec (its
// generation): the change is ordered again only once the refusal no longer holds. An order
// closed as Superseded although it is the very order the plan would place again stands too: the
// plan and the order reconciler disagree, and ordering it again would only repeat it, in a loop.
func RefusedForSpec(o *v1alpha1.LicenseOrder, generation int64, req ChangeRequest) bool {
	return o != nil && o.Status.State == v1alpha1.OrderRejected &&
		(IsRefusal(o.Status.Reason) || o.Status.Reason == v1alpha1.ReasonSuperseded) &&
		o.Spec.PlanGeneration == generation && req.Same(o.Spec)
}

// RefusedRenewal reports whether o is the refused renewal of the plan's current term: the plan
// expires at the term end unless the refusal no longer holds.
func RefusedRenewal(o *v1alpha1.LicenseOrder, st v1alpha1.CustomerLicensePlanStatus) bool {
	return o != nil && o.Status.State == v1alpha1.OrderRejected && IsRefusal(o.Status.Reason) &&
		o.Spec.Change == v1alpha1.ChangeRenewal && st.Term != nil && o.Spec.EffectiveDate == st.Term.End
}

// StandingRefusal returns the refusal of o that nothing but a new spec lifts: a person's denial.
// A rule's refusal is judged again by the rules, with what holds now.
func StandingRefusal(o *v1alpha1.LicenseOrder) (Verdict, bool) {
	if o.Status.Reason == v1alpha1.ReasonDenied {
		return Verdict{Reason: o.Status.Reason, Message: o.Status.Message}, true
	}
	return Verdict{}, false
}

// ExpiredOnSpec reports whether a plan expired with what its spec asks for now: it then orders
// nothing until its spec asks for something else. What counts is what the spec asks for (its
// product, quantity, payment plan and renewal policy, recorded in status.expiredWith when the
// Expiry is applied), not its generation: a new costCenter or purchaseReference places no order,
// on an expired plan as on any other. A plan that expired before expiredWith was recorded falls
// back on the generation its Expiry order (lastApplied) was placed for.
func ExpiredOnSpec(spec v1alpha1.CustomerLicensePlanSpec, st v1alpha1.CustomerLicensePlanStatus, lastApplied *v1alpha1.LicenseOrder, generation int64) bool {
	switch {
	case st.ExpiredOn == "":
		return false
	case st.ExpiredWith != nil:
		return *st.ExpiredWith == AskedFor(spec)
	}
	return lastApplied != nil && lastApplied.Spec.PlanGeneration >= generation
}

// AskedFor is what a spec asks for, as status.expiredWith records it: product, quantity, payment
// plan and renewal policy (an empty policy is AutoRenew, its default).
func AskedFor(spec v1alpha1.CustomerLicensePlanSpec) v1alpha1.ExpiredWith {
	policy := spec.Renewal.Policy
	if policy == "" {
		policy = v1alpha1.AutoRenew
	}
	return v1alpha1.ExpiredWith{Product: spec.Product, Quantity: spec.Quantity, PaymentPlan: spec.PaymentPlan, RenewalPolicy: policy}
}

// ExpiredWithFor is what status.expiredWith records when the Expiry order o is applied to a plan
// whose spec is spec at generation: what the spec asks for when o was placed for that generation.
// When the spec changed since, what it asked for then is unknown, and the holding that expired
// stands for it (o's product, payment plan and previous quantity, with the policy now): a change of
// what is held orders again, a new cost center or reference does not.
func ExpiredWithFor(spec v1alpha1.CustomerLicensePlanSpec, generation int64, o *v1alpha1.LicenseOrder) *v1alpha1.ExpiredWith {
	asked := AskedFor(spec)
	if o.Spec.PlanGeneration != generation {
		asked.Product, asked.Quantity, asked.PaymentPlan = o.Spec.Product, o.Spec.PreviousQuantity, o.Spec.PaymentPlan
	}
	return &asked
}
