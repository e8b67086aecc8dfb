package licensing

import (
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Holding is what a plan holds: a product, a number of licenses and a payment plan.
type Holding struct {
	Product     string
	Quantity    int32
	PaymentPlan v1alpha1.PaymentPlan
}

// InForce is what the plan holds now.
func InForce(st v1alpha1.CustomerLicensePlanStatus) Holding {
	return Holding{Product: st.Product, Quantity: st.Licenses, PaymentPlan: st.PaymentPlan}
}

// Scheduled is what the plan will hold from the next term on: the holding in force with the
// pending change applied.
func Scheduled(st v1alpha1.CustomerLicensePlanStatus) Holding {
	h := InForce(st)
	if pc := st.PendingChange; pc != nil {
		if pc.Product != "" {
			h.Product = pc.Product
		}
		if pc.Quantity != nil {
			h.Quantity = *pc.Quantity
		}
		if pc.PaymentPlan != "" {
			h.PaymentPlan = pc.PaymentPlan
		}
	}
	return h
}

// Wanted is what the spec asks for.
func Wanted(spec v1alpha1.CustomerLicensePlanSpec) Holding {
	return Holding{Product: spec.Product, Quantity: spec.Quantity, PaymentPlan: spec.PaymentPlan}
}

// ChangeRequest is an order a plan needs: one kind of change and what the plan holds after it.
type ChangeRequest struct {
	Change           v1alpha1.OrderChange
	Product          string
	PaymentPlan      v1alpha1.PaymentPlan
	Quantity         int32
	PreviousQuantity int32
	EffectiveDate    time.Time
	// TrialEnd is the day a Trial ends; zero for every other change.
	TrialEnd time.Time
}

// Same reports whether two requests order the same thing.
func (r ChangeRequest) Same(o v1alpha1.LicenseOrderSpec) bool {
	return r.Change == o.Change && r.Product == o.Product && r.PaymentPlan == o.PaymentPlan && r.Quantity == o.Quantity
}

// NeededChange returns the next order the plan needs for its spec to be in force, and false when
// the spec is in force (or scheduled for the next term) already. A plan with several differences
// gets one order per difference, in this order: product, quantity, payment plan.
//
// A plan with nothing in force gets a New order, or a Trial when its spec asks for one (its end,
// TrialEnd, depends on the catalog and is filled in by the caller). A trial in force whose spec asks
// for a paid plan gets a Conversion of spec.quantity, effective today; the trial's other changes
// take effect at once, as there is no next term to wait for.
//
// upgrade says whether spec.product costs more per license than the product in force; a product
// change then takes effect at once, otherwise at the next term. today is the current UTC day.
func NeededChange(spec v1alpha1.CustomerLicensePlanSpec, st v1alpha1.CustomerLicensePlanStatus, today time.Time, upgrade bool) (ChangeRequest, bool) {
	want := Wanted(spec)
	if !HasPlanInForce(st) {
		change := v1alpha1.ChangeNew
		if want.PaymentPlan == v1alpha1.Trial {
			change = v1alpha1.ChangeTrial
		}
		return ChangeRequest{Change: change, Product: want.Product, PaymentPlan: want.PaymentPlan,
			Quantity: want.Quantity, EffectiveDate: Day(today)}, true
	}
	now, next := InForce(st), Scheduled(st)
	trial := now.PaymentPlan == v1alpha1.Trial
	if trial && want.PaymentPlan != v1alpha1.Trial {
		return ChangeRequest{Change: v1alpha1.ChangeConversion, Product: now.Product, PaymentPlan: want.PaymentPlan,
			Quantity: want.Quantity, PreviousQuantity: now.Quantity, EffectiveDate: Day(today)}, true
	}
	termEnd, hasTerm := currentTermEnd(st)
	// A change that takes effect at once starts from what is in force; one that waits for the
	// next term starts from what is scheduled for it.
	at := func(immediate bool) ChangeRequest {
		if immediate || !hasTerm || trial {
			return ChangeRequest{Product: now.Product, PaymentPlan: now.PaymentPlan, Quantity: now.Quantity,
				PreviousQuantity: now.Quantity, EffectiveDate: Day(today)}
		}
		return ChangeRequest{Product: next.Product, PaymentPlan: next.PaymentPlan, Quantity: next.Quantity,
			PreviousQuantity: now.Quantity, EffectiveDate: termEnd}
	}
	var req ChangeRequest
	switch {
	case want.Product != next.Product:
		req = at(upgrade && want.Product != now.Product)
		req.Change, req.Product = v1alpha1.ChangeProduct, want.Product
	case want.Quantity != next.Quantity:
		req = at(want.Quantity > now.Quantity)
		req.Change = v1alpha1.ChangeDecreaseQuantity
		if want.Quantity > next.Quantity {
			req.Change = v1alpha1.ChangeIncreaseQuantity
		}
		req.Quantity = want.Quantity
	case want.PaymentPlan != next.PaymentPlan:
		req = at(false)
		req.Change, req.PaymentPlan = v1alpha1.ChangePaymentPlan, want.PaymentPlan
	default:
		return ChangeRequest{}, false
	}
	return req, true
}

// HasPlanInForce reports whether an order has put the plan in force and it has neither expired
// nor been cancelled.
func HasPlanInForce(st v1alpha1.CustomerLicensePlanStatus) bool {
	return st.Revision > 0 && st.Product != "" && st.ExpiredOn == "" && st.CancelledOn == ""
}

func currentTermEnd(st v1alpha1.CustomerLicensePlanStatus) (time.Time, bool) {
	if st.Term == nil {
		return time.Time{}, false
	}
	end, err := ParseDate(st.Term.End)
	return end, err == nil
}

// IsDeferred reports whether an order takes effect at the end of the plan's current term rather
// than at once.
func IsDeferred(st v1alpha1.CustomerLicensePlanStatus, o v1alpha1.LicenseOrderSpec) bool {
	switch o.Change {
	case v1alpha1.ChangeIncreaseQuantity, v1alpha1.ChangeDecreaseQuantity, v1alpha1.ChangePaymentPlan, v1alpha1.ChangeProduct:
	default:
		return false
	}
	end, ok := currentTermEnd(st)
	if !ok {
		return false
	}
	eff, err := ParseDate(o.EffectiveDate)
	return err == nil && !eff.Before(end)
}

// IsUpgrade reports whether moving a plan from one product to another raises the price per
// license of the payment plan; unknown prices are no upgrade.
func IsUpgrade(from, to *v1alpha1.LicenseProductSpec, pp v1alpha1.PaymentPlan) bool {
	if from == nil || to == nil {
		return false
	}
	a, okA := PriceFor(from, pp)
	b, okB := PriceFor(to, pp)
	if !okA || !okB {
		return false
	}
	pa, errA := ParseAmount(a)
	pb, errB := ParseAmount(b)
	return errA == nil && errB == nil && pb > pa
}

// IsActive reports whether a plan has licenses in force that can be used.
func IsActive(st v1alpha1.CustomerLicensePlanStatus) bool {
	return HasPlanInForce(st) && st.Licenses > 0
}

// BillingStart is the billing start date a New order o gives a plan: the start date it has
// already; for a plan ordered for the first time, spec.startDate, or the day it is ordered (o's
// effective date) when the spec names none, so that a plan whose first order was refused and that
// is ordered months later is billed from then, not from the day it was created; for a plan
// ordered again after it expired, o's effective date.
func BillingStart(spec v1alpha1.CustomerLicensePlanSpec, st v1alpha1.CustomerLicensePlanStatus, o v1alpha1.LicenseOrderSpec) (time.Time, error) {
	switch {
	case st.ExpiredOn != "", st.StartDate == "" && spec.StartDate == "":
		return ParseDate(o.EffectiveDate)
	case st.StartDate != "":
		return ParseDate(st.StartDate)
	}
	return ParseDate(spec.StartDate)
}
