package licensing

import (
	"errors"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// DefaultRenewBefore is how long before a term ends its renewal order is placed when the plan's
// spec.renewal.renewBefore is empty.
const DefaultRenewBefore = 7 * 24 * time.Hour

// MaxOrdersDue bounds the orders OrdersDue lists: a start date decades in the past still gets an
// answer, and a preview says that more would follow.
const MaxOrdersDue = 1000

// DueInput is what the orders a plan needs depend on: its spec, what is in force, the catalog and
// the time. The plan controller and the admission preview fill it alike and ask OrdersDue, so that
// what a preview quotes is what the controller places.
type DueInput struct {
	// Spec is the plan's spec.
	Spec v1alpha1.CustomerLicensePlanSpec
	// Status is what is in force: the plan's status with its fulfilled orders applied.
	Status v1alpha1.CustomerLicensePlanStatus
	// Created is when the plan was created: a New order bills from that day when spec.startDate is empty.
	Created time.Time
	// Catalog holds the catalog entries of the products the plan holds, asks for or has pending,
	// by name; a product that is not in the catalog is missing.
	Catalog map[string]*v1alpha1.LicenseProductSpec
	// Currency is the BillingProfile's currency now; ChargeCurrency decides each charge's.
	Currency string
	// ExpiredWithSpec is true when the plan expired with what its spec asks for now
	// (ExpiredOnSpec): it orders nothing until its spec asks for something else.
	ExpiredWithSpec bool
	// RenewalRefused is true when the renewal of the current term was refused: the plan expires
	// when the term ends.
	RenewalRefused bool
	// Now is the current time.
	Now time.Time
}

// DueOrder is an order a plan places: the change, when it is fulfilled and charged, and its price.
type DueOrder struct {
	ChangeRequest
	// ChargedAt is when the order is fulfilled and charged: at once (Now), or at the end of the
	// term for a renewal placed before the term ends.
	ChargedAt time.Time
	// Pricing is the order's charge as it will be billed; PriceErr says why it cannot be computed.
	Pricing  Pricing
	PriceErr error
}

// AtOnce reports whether the order is fulfilled and charged when it is placed.
func (o DueOrder) AtOnce(now time.Time) bool {
	return !o.ChargedAt.After(now)
}

// Due is the orders a plan places one after the other from a moment on, if nothing else changes.
type Due struct {
	// Orders are the orders placed, in order: every order fulfilled at once, and at most one more
	// that is placed now and fulfilled later (a renewal placed renewBefore ahead of its term end).
	Orders []DueOrder
	// Next is when the order the plan needs next changes by time alone, as things stand at Now:
	// when its next term order falls due, or, when a change of its spec goes before a due renewal,
	// when the term ends. Zero when time alone changes nothing.
	Next time.Time
}

// OrdersDue lists the orders a plan places from in.Now on, at most limit of them: the order its
// spec asks for and the term orders (Renewal, Expiry) that are due, each applied in turn as it
// would be fulfilled. A plan whose start date lies several terms in the past thus lists its New
// order and one catch-up Renewal per term that has ended since.
//
// The plan controller places the first order (limit 1); the admission preview states them all.
// Neither history (an order in flight, a refusal) nor validation is considered here: the caller
// judges those.
func OrdersDue(in DueInput, limit int) Due {
	var due Due
	st := in.Status
	expiredWithSpec, refused := in.ExpiredWithSpec, in.RenewalRefused
	for len(due.Orders) < limit {
		req, ok, next := nextOrder(in, st, expiredWithSpec, refused)
		if len(due.Orders) == 0 {
			due.Next = next
		}
		if !ok {
			break
		}
		o := priced(in, st, req)
		due.Orders = append(due.Orders, o)
		if !o.AtOnce(in.Now) || o.PriceErr != nil {
			break
		}
		start, _ := BillingStart(in.Spec, st, req.OrderSpec(0)) // priced above, so valid
		applied, err := ApplyOrder(st, fulfilledOrder(in, st, o), start)
		if err != nil {
			break
		}
		// The refused renewal was the plan's latest order: any order applied after it is the
		// latest now, and the plan judges the renewal anew, as the plan controller does.
		st, refused = applied, false
		switch o.Change {
		case v1alpha1.ChangeExpiry:
			expiredWithSpec = true
		case v1alpha1.ChangeNew, v1alpha1.ChangeTrial:
			expiredWithSpec = false
		}
	}
	return due
}

// nextOrder is the order the plan needs next at in.Now with st in force: its term's Renewal or
// Expiry when due and the term comes first (TermOrderFirst), else the change its spec asks for,
// and false when it needs none. The time is when that answer changes by time alone (Due.Next).
func nextOrder(in DueInput, st v1alpha1.CustomerLicensePlanStatus, expiredWithSpec, refused bool) (ChangeRequest, bool, time.Time) {
	if st.CancelledOn != "" {
		return ChangeRequest{}, false, time.Time{}
	}
	needed, asked := neededChange(in, st, expiredWithSpec)
	term, termDue, next := TermOrder(TermInput{
		Status: st, Action: RenewalActionFor(in.Spec.Renewal.Policy, st, in.Catalog, refused),
		RenewBefore: RenewBefore(in.Spec), Now: in.Now,
	})
	switch {
	case termDue && TermOrderFirst(st, asked, in.Now):
		return term, true, time.Time{}
	case termDue:
		// The change goes first; the term order goes first from the term end on.
		end, _ := currentTermEnd(st)
		return needed, true, end
	case asked:
		return needed, true, next
	}
	return ChangeRequest{}, false, next
}

// Needed is the change the plan's spec asks for with in.Status in force, and false when it asks
// for none: the spec is in force or scheduled, or the plan expired with this spec.
func Needed(in DueInput) (ChangeRequest, bool) {
	return neededChange(in, in.Status, in.ExpiredWithSpec)
}

func neededChange(in DueInput, st v1alpha1.CustomerLicensePlanStatus, expiredWithSpec bool) (ChangeRequest, bool) {
	if expiredWithSpec && !paidAfterTrial(in.Spec, st) || st.CancelledOn != "" {
		return ChangeRequest{}, false
	}
	// A dearer product is charged the price difference at once, which only prices of one
	// currency have: under a price locked in another currency than the profile's, the move
	// waits for the term end, like a cheaper one.
	upgrade := IsUpgrade(in.Catalog[st.Product], in.Catalog[in.Spec.Product], st.PaymentPlan) &&
		(st.Currency == "" || st.Currency == in.Currency)
	req, ok := NeededChange(in.Spec, st, in.Now, upgrade)
	if ok && req.Change == v1alpha1.ChangeTrial {
		req.TrialEnd = trialEndFor(in, st, req)
	}
	return req, ok
}

// priced is req as the order reconciler will price it, fulfilled at its due time.
func priced(in DueInput, st v1alpha1.CustomerLicensePlanStatus, req ChangeRequest) DueOrder {
	o := DueOrder{ChangeRequest: req, ChargedAt: in.Now}
	spec := req.OrderSpec(st.Revision + 1)
	if due := DueAt(spec); due.After(in.Now) {
		o.ChargedAt = due
	}
	start, err := BillingStart(in.Spec, st, spec)
	if err != nil {
		o.PriceErr = err
		return o
	}
	o.Pricing, o.PriceErr = PriceOrder(PricingInput{
		Order: spec, Plan: st, CatalogPrice: CatalogPrice(in.Catalog[req.Product], req.PaymentPlan),
		Currency: in.Currency, StartDate: start,
	})
	return o
}

// fulfilledOrder is the order o as the order reconciler fulfils it, ready to apply to st.
func fulfilledOrder(in DueInput, st v1alpha1.CustomerLicensePlanStatus, o DueOrder) *v1alpha1.LicenseOrder {
	spec := o.OrderSpec(st.Revision + 1)
	if p := in.Catalog[o.Product]; p != nil {
		spec.SKU = p.SKU
	}
	return &v1alpha1.LicenseOrder{
		Spec: spec,
		Status: v1alpha1.LicenseOrderStatus{
			State: v1alpha1.OrderFulfilled, PricePerLicense: o.Pricing.PricePerLicense.Amount(),
			Charge: &v1alpha1.Charge{Amount: o.Pricing.Charge.Amount(), Currency: o.Pricing.Currency},
		},
	}
}

// OrderSpec is the order spec of the request at a revision: what it changes, not yet who asked
// for it or what it bills.
func (r ChangeRequest) OrderSpec(revision int64) v1alpha1.LicenseOrderSpec {
	spec := v1alpha1.LicenseOrderSpec{
		Revision: revision, Change: r.Change, Product: r.Product, PaymentPlan: r.PaymentPlan,
		Quantity: r.Quantity, PreviousQuantity: r.PreviousQuantity, EffectiveDate: FormatDate(r.EffectiveDate),
	}
	if !r.TrialEnd.IsZero() {
		spec.TrialEnd = FormatDate(r.TrialEnd)
	}
	return spec
}

// CatalogPrice is a product's price per license for a payment plan, empty when the product is
// missing or does not offer it.
func CatalogPrice(p *v1alpha1.LicenseProductSpec, pp v1alpha1.PaymentPlan) v1alpha1.Amount {
	if p == nil {
		return ""
	}
	price, _ := PriceFor(p, pp)
	return price
}

// RenewBefore is how long before a term ends the plan's renewal order is placed.
func RenewBefore(spec v1alpha1.CustomerLicensePlanSpec) time.Duration {
	if rb := spec.Renewal.RenewBefore; rb != nil {
		return rb.Duration
	}
	return DefaultRenewBefore
}

// Currency is the currency of the BillingProfile, EUR without one.
func Currency(profile *v1alpha1.BillingProfileSpec) string {
	if profile == nil || profile.Currency == "" {
		return "EUR"
	}
	return profile.Currency
}

// JudgeChargeAgain judges again the refusal of o, an order refused because its charge could not be
// represented (ChargeTooLarge): the refusal holds while the order, priced at the catalog's prices
// now, or the plan's total billed with it, is beyond MaxMoney. A price corrected in the catalog
// lifts it, as a lower spec.quantity does.
func JudgeChargeAgain(in DueInput, st v1alpha1.CustomerLicensePlanStatus, o *v1alpha1.LicenseOrder) Verdict {
	start, err := BillingStart(in.Spec, st, o.Spec)
	if err != nil {
		return pass() // not a charge too large: the order placed again says what it is
	}
	p, err := PriceOrder(PricingInput{Order: o.Spec, Plan: st, CatalogPrice: CatalogPrice(in.Catalog[o.Spec.Product], o.Spec.PaymentPlan),
		Currency: in.Currency, StartDate: start})
	if err == nil {
		err = checkBillable(st, p)
	}
	if errors.Is(err, ErrOverflow) {
		return tooLarge(o.Spec, err)
	}
	return pass()
}
