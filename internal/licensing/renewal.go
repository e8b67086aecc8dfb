package licensing

import (
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// TermInput is what the decision about a plan's term looks at.
type TermInput struct {
	// Status is the plan in force.
	Status v1alpha1.CustomerLicensePlanStatus
	// Action is what happens at the end of the term (RenewalActionFor).
	Action v1alpha1.RenewalAction
	// RenewBefore is how long before the term ends the renewal order is placed.
	RenewBefore time.Duration
	// Now is the current time.
	Now time.Time
}

// TermOrder returns the order the plan's term calls for at in.Now: a Renewal from the renewal
// time (term end minus renewBefore) on, when the plan renews; an Expiry once the term has ended,
// when it does not. When no order is due yet, it returns false and the time the next one falls
// due (zero when none will).
func TermOrder(in TermInput) (ChangeRequest, bool, time.Time) {
	st := in.Status
	end, ok := currentTermEnd(st)
	if !HasPlanInForce(st) || !ok {
		return ChangeRequest{}, false, time.Time{}
	}
	switch in.Action {
	case v1alpha1.RenewalActionRenew:
		at := RenewalTime(Term{End: end}, in.RenewBefore)
		if in.Now.Before(at) {
			return ChangeRequest{}, false, at
		}
		next := Scheduled(st)
		return ChangeRequest{Change: v1alpha1.ChangeRenewal, Product: next.Product, PaymentPlan: next.PaymentPlan,
			Quantity: next.Quantity, PreviousQuantity: st.Licenses, EffectiveDate: end}, true, time.Time{}
	case v1alpha1.RenewalActionExpire:
		if in.Now.Before(end) {
			return ChangeRequest{}, false, end
		}
		return ChangeRequest{Change: v1alpha1.ChangeExpiry, Product: st.Product, PaymentPlan: st.PaymentPlan,
			Quantity: 0, PreviousQuantity: st.Licenses, EffectiveDate: end}, true, time.Time{}
	}
	return ChangeRequest{}, false, time.Time{}
}

// TermOrderFirst reports whether a due term order (Renewal, Expiry) is placed before the change
// the spec asks for: when no change is asked for, or when the term has already ended, so that the
// change applies to the term the renewal starts. Otherwise the change goes first, and the renewal
// follows it, still before the term ends.
func TermOrderFirst(st v1alpha1.CustomerLicensePlanStatus, changeAsked bool, now time.Time) bool {
	return !changeAsked || TermEnded(st, now)
}

// TermEnded reports whether the plan's current term has ended at now.
func TermEnded(st v1alpha1.CustomerLicensePlanStatus, now time.Time) bool {
	end, ok := currentTermEnd(st)
	return ok && !now.Before(end)
}

// IsTermOrder reports whether an order is one the operator places for a plan's term.
func IsTermOrder(change v1alpha1.OrderChange) bool {
	return change == v1alpha1.ChangeRenewal || change == v1alpha1.ChangeExpiry
}

// DueAt is when an order may be fulfilled: term orders at their effective date (the end of the
// term), every other order at once.
func DueAt(o v1alpha1.LicenseOrderSpec) time.Time {
	if !IsTermOrder(o.Change) {
		return time.Time{}
	}
	eff, err := ParseDate(o.EffectiveDate)
	if err != nil {
		return time.Time{}
	}
	return eff
}

// currentTerm is the plan's current term.
func currentTerm(st v1alpha1.CustomerLicensePlanStatus) (Term, bool) {
	if st.Term == nil {
		return Term{}, false
	}
	start, err1 := ParseDate(st.Term.Start)
	end, err2 := ParseDate(st.Term.End)
	return Term{Start: start, End: end}, err1 == nil && err2 == nil
}
