package licensing

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// OrderSnapshot is what the decision about an open order looks at. The decision is final (reject,
// fulfil, close), so the caller reads the plan, the usage and the catalog from the API server, not
// from a cache that may lag behind it.
type OrderSnapshot struct {
	// Order is the order, with any Approved condition a person added.
	Order *v1alpha1.LicenseOrder
	// Plan is the order's plan; nil when it does not exist.
	Plan *v1alpha1.CustomerLicensePlan
	// Replaced says that the order's plan does not exist but a plan of the same name does: the
	// order's plan was deleted and declared again, as another plan (BelongsTo).
	Replaced bool
	// WaitsFor names an earlier order of the plan that the plan has not applied yet and that was not
	// rejected: this order is judged once the plan holds it (WaitsForEarlier).
	WaitsFor string
	// Rules is what the validation of the order looks at.
	Rules OrderInput
	// CatalogPrice is the catalog's price per license of the order's product and payment plan.
	CatalogPrice v1alpha1.Amount
	// Currency is the BillingProfile's currency now (ChargeCurrency decides the charge's).
	Currency string
	// Now is the current time.
	Now time.Time
}

// OrderDecision is what becomes of an open order.
type OrderDecision struct {
	// Status is the order's status to write; it equals the order's when nothing changes.
	Status v1alpha1.LicenseOrderStatus
	// Wait is true when the order waits for its plan to apply an earlier order; nothing is written.
	Wait bool
	// RecheckAt is when to look at the order again: a term order is validated when it is placed
	// and fulfilled at its effective date. Zero when the order is settled or waits for an event.
	RecheckAt time.Time
}

// DecideOrder takes an open order one step: it closes it without a charge when its plan is gone or
// being deleted, or when the plan no longer needs it; it rejects it with the first rule it breaks or
// a person's denial; it leaves it awaiting a person's approval; or it approves, prices and fulfils
// it, at once or, for a term order, at its effective date. The decision is one status write, so an
// order is charged once however often it is decided.
func DecideOrder(s OrderSnapshot) (OrderDecision, error) {
	o := s.Order
	st := *o.Status.DeepCopy()
	d := OrderDecision{Status: st}
	if IsSettled(o) {
		return d, nil
	}
	closeWith := func(v Verdict) (OrderDecision, error) {
		rejectOrder(&d.Status, v, o.Generation, s.Now)
		return d, nil
	}
	cancellation := o.Spec.Change == v1alpha1.ChangeCancellation
	switch {
	case s.Plan == nil && !cancellation && s.Replaced:
		return closeWith(Verdict{Reason: v1alpha1.ReasonPlanNotFound, Message: fmt.Sprintf(
			"the plan this order was placed for (uid %s) was deleted, and plan %s is another plan declared since under its name: the order was closed without a charge, and stays in the deleted plan's history",
			o.Spec.PlanUID, o.Spec.Plan)})
	case s.Plan == nil && !cancellation:
		return closeWith(Verdict{Reason: v1alpha1.ReasonPlanNotFound, Message: fmt.Sprintf(
			"plan %s does not exist: the order was closed without a charge", o.Spec.Plan)})
	case s.Plan != nil && !s.Plan.DeletionTimestamp.IsZero() && !cancellation:
		return closeWith(Verdict{Reason: v1alpha1.ReasonPlanDeleted, Message: fmt.Sprintf(
			"plan %s was deleted before the order took effect: the order was closed without a charge, and the plan's Cancellation order records the deletion", o.Spec.Plan)})
	case s.WaitsFor != "":
		d.Wait = true
		return d, nil
	}
	var plan v1alpha1.CustomerLicensePlan
	if s.Plan != nil {
		plan = *s.Plan
		if v := Superseded(s.Plan, o.Spec, s.Now); !v.Passed() {
			return closeWith(v)
		}
	}
	assigned := s.Rules.Assigned
	d.Status.UsageAtValidation = &assigned
	if v := ValidateOrder(s.Rules); !v.Passed() {
		return closeWith(v)
	}
	SetCondition(&d.Status.Conditions, metav1.Condition{Type: v1alpha1.OrderValid, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonValid, Message: "every business rule passed"}, o.Generation, s.Now)
	if d.Status.State == "" {
		d.Status.State = v1alpha1.OrderPending
	}

	person := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.OrderApproved)
	decided, approved := PersonsDecision(person)
	if decided && !approved {
		return closeWith(Verdict{Reason: v1alpha1.ReasonDenied, Message: "the order was denied: " + person.Message})
	}
	// The price is fixed when the order is approved: an approved order bills the charge recorded
	// then (ApprovedCharge), the one a person saw or the policy let through, whatever the catalog
	// says by the time it is fulfilled. Only an order not yet approved is priced (again).
	charge, pricePerLicense, fixed := ApprovedCharge(o)
	if !fixed {
		start, err := BillingStart(plan.Spec, plan.Status, o.Spec)
		if err != nil {
			return d, err
		}
		price, err := PriceOrder(PricingInput{Order: o.Spec, Plan: plan.Status, CatalogPrice: s.CatalogPrice, Currency: s.Currency, StartDate: start})
		if err == nil {
			err = checkBillable(plan.Status, price)
		}
		if errors.Is(err, ErrCurrencyChanged) {
			return closeWith(Verdict{Reason: v1alpha1.ReasonCurrencyChanged, Message: "closed without a charge: " + err.Error()})
		}
		if errors.Is(err, ErrOverflow) {
			// Retrying cannot help: the order is refused, and its plan says why.
			return closeWith(tooLarge(o.Spec, err))
		}
		if err != nil {
			return d, err
		}
		charge = &v1alpha1.Charge{Amount: price.Charge.Amount(), Currency: price.Currency, Description: price.Description}
		pricePerLicense = price.PricePerLicense.Amount()
		if !decided {
			if needed, why := ApprovalNeeded(s.Rules.Profile, o.Spec.Change, price.Charge, price.Currency); needed {
				// The approver sees what they approve: the charge, computed as it will be billed.
				d.Status.State = v1alpha1.OrderAwaitingApproval
				d.Status.Charge, d.Status.PricePerLicense = charge, pricePerLicense
				d.Status.Message = fmt.Sprintf("waits for a person's approval, because %s: an approver sets the Approved condition", why)
				return d, nil
			}
			SetCondition(&d.Status.Conditions, metav1.Condition{Type: v1alpha1.OrderApproved, Status: metav1.ConditionTrue,
				Reason: v1alpha1.ReasonAutomatic, Message: "approved automatically by the billing profile's approval policy at " +
					string(charge.Amount) + " " + charge.Currency}, o.Generation, s.Now)
		}
		// The charge approved, and the price it locks, are recorded with the approval.
		d.Status.Charge, d.Status.PricePerLicense = charge, pricePerLicense
	}
	if due := DueAt(o.Spec); s.Now.Before(due) {
		d.Status.State = v1alpha1.OrderPending
		d.Status.Message = ""
		d.RecheckAt = due
		return d, nil
	}
	now := metav1.NewTime(s.Now)
	d.Status.Message = ""
	d.Status.PricePerLicense, d.Status.Charge = pricePerLicense, charge
	d.Status.State = v1alpha1.OrderFulfilled
	d.Status.FulfilledAt = &now
	SetCondition(&d.Status.Conditions, metav1.Condition{Type: v1alpha1.OrderFulfilledCondition, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonFulfilled, Message: "charged " + string(charge.Amount) + " " + charge.Currency}, o.Generation, s.Now)
	return d, nil
}

// ApprovedCharge is the charge an approved order bills and the price per license it locks, fixed
// when it was approved: the charge a person saw in status.charge when they set Approved to True,
// or the charge recorded with an automatic approval. It reports false when the order is not
// approved or no charge was recorded with its approval (a person approved it before it was
// priced): the order is then priced, and that charge recorded.
func ApprovedCharge(o *v1alpha1.LicenseOrder) (*v1alpha1.Charge, v1alpha1.Amount, bool) {
	decided, approved := PersonsDecision(meta.FindStatusCondition(o.Status.Conditions, v1alpha1.OrderApproved))
	c := o.Status.Charge
	if !decided || !approved || c == nil || c.Amount == "" || o.Status.PricePerLicense == "" {
		return nil, "", false
	}
	return c.DeepCopy(), o.Status.PricePerLicense, true
}

// IsSettled reports whether an order is Fulfilled or Rejected: nothing changes it any more.
func IsSettled(o *v1alpha1.LicenseOrder) bool {
	return o.Status.State == v1alpha1.OrderFulfilled || o.Status.State == v1alpha1.OrderRejected
}

// rejectOrder closes an order without a charge: a charge shown for its approval, or recorded
// with it, stays as a record of what was not billed (the history shows it "not charged").
func rejectOrder(st *v1alpha1.LicenseOrderStatus, v Verdict, generation int64, now time.Time) {
	st.State = v1alpha1.OrderRejected
	st.Reason, st.Message = v.Reason, v.Message
	SetCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.OrderValid, Status: metav1.ConditionFalse,
		Reason: v.Reason, Message: v.Message}, generation, now)
}

// SetCondition sets a condition with the observed generation, keeping its transition time unless
// its status changes.
func SetCondition(conds *[]metav1.Condition, c metav1.Condition, generation int64, now time.Time) {
	c.ObservedGeneration = generation
	c.LastTransitionTime = metav1.NewTime(now)
	meta.SetStatusCondition(conds, c)
}

// WaitsForEarlier names the first order placed before o that its plan has not applied and that was
// not rejected, or returns "" when o may be judged: the plan's status (st) then holds every earlier
// order, so that o is validated and priced against what is really in force. earlier are the plan's
// orders with a revision between st.Revision and o's, as the API server holds them.
func WaitsForEarlier(st v1alpha1.CustomerLicensePlanStatus, o *v1alpha1.LicenseOrder, earlier []v1alpha1.LicenseOrder) string {
	for i := range earlier {
		e := &earlier[i]
		if e.Spec.Revision > st.Revision && e.Spec.Revision < o.Spec.Revision && e.Status.State != v1alpha1.OrderRejected {
			return e.Name
		}
	}
	return ""
}

// Superseded tells whether an open order is no longer what its plan needs, judged on the plan as
// the API server holds it: a replica whose cache lagged may have placed it from an outdated copy
// of the plan, or a second renewal for a term that was renewed already; or a renewal placed early
// whose plan's spec asks for a change before the term ends (the change goes first, and takes
// effect at that term end). Such an order is closed without a charge and the plan orders what it
// needs now; an approval given to it goes with it. A Cancellation is never superseded.
func Superseded(plan *v1alpha1.CustomerLicensePlan, o v1alpha1.LicenseOrderSpec, now time.Time) Verdict {
	st := plan.Status
	if o.Revision <= st.Revision {
		return fail(v1alpha1.ReasonSuperseded, "the plan is at revision %d already, and this order has revision %d: it was placed from an outdated copy of the plan", st.Revision, o.Revision)
	}
	switch o.Change {
	case v1alpha1.ChangeCancellation:
		return pass()
	case v1alpha1.ChangeRenewal, v1alpha1.ChangeExpiry:
		if !HasPlanInForce(st) || st.Term == nil || st.Term.End != o.EffectiveDate {
			return fail(v1alpha1.ReasonSuperseded, "the plan's term ending on %s was renewed or ended already (the plan's current term ends on %s)", o.EffectiveDate, termEndOf(st))
		}
		if o.Change == v1alpha1.ChangeRenewal && plan.Spec.Renewal.Policy == v1alpha1.ExpireAtTermEnd {
			return fail(v1alpha1.ReasonSuperseded, "the plan's renewal policy is ExpireAtTermEnd now: it expires on %s instead of renewing", o.EffectiveDate)
		}
		// A change asked for before the term ends takes effect at that term end: the term order
		// placed before it (a renewal placed renewBefore ahead) gives way, the plan orders the
		// change first and then the term order again, with the change scheduled in it.
		if req, asked := NeededChange(plan.Spec, st, now, false); asked && !TermEnded(st, now) {
			return fail(v1alpha1.ReasonSuperseded, "the plan's spec (generation %d) asks for %s before the term ends on %s: the change is ordered first, and the %s placed again with it",
				plan.Generation, describeRequest(req), o.EffectiveDate, o.Change)
		}
		return pass()
	}
	// A product change starts from what is in force when it is an upgrade (at once), and from
	// what is scheduled otherwise (next term): the order stands if it is either, for the catalog
	// that decides which is not read here and the plan reconciler placed it from the catalog.
	req, ok := NeededChange(plan.Spec, st, now, false)
	if up, upOK := NeededChange(plan.Spec, st, now, true); upOK && up.Same(o) {
		return pass()
	}
	switch {
	case !ok:
		return fail(v1alpha1.ReasonSuperseded, "the plan's spec (generation %d) asks for no change now", plan.Generation)
	case !req.Same(o):
		return fail(v1alpha1.ReasonSuperseded, "the plan's spec (generation %d) asks for %s now", plan.Generation, describeRequest(req))
	}
	return pass()
}

func termEndOf(st v1alpha1.CustomerLicensePlanStatus) string {
	if st.Term == nil || !HasPlanInForce(st) {
		return "none: no term is in force"
	}
	return string(st.Term.End)
}

// PersonsDecision reads the Approved condition a person added to an order: decided when its status
// is True (approved) or False (denied). Anything else decides nothing; admission refuses it
// (CheckApproval), but an operator run without its webhooks may meet it.
func PersonsDecision(c *metav1.Condition) (decided, approved bool) {
	if c == nil {
		return false, false
	}
	switch c.Status {
	case metav1.ConditionTrue:
		return true, true
	case metav1.ConditionFalse:
		return true, false
	}
	return false, false
}

// CheckApproval checks the Approved condition an approver adds to an order: its status is "True"
// (approve) or "False" (deny), and its reason, when given, is Approved or Denied to match. The
// message is the approver's own words; admission prefixes it with their name.
func CheckApproval(c metav1.Condition) error {
	var want string
	switch c.Status {
	case metav1.ConditionTrue:
		want = v1alpha1.ReasonApproved
	case metav1.ConditionFalse:
		want = v1alpha1.ReasonDenied
	default:
		return fmt.Errorf(`the Approved condition's status must be "True" (approve) or "False" (deny), not %q`, c.Status)
	}
	if c.Reason != "" && c.Reason != want {
		return fmt.Errorf(`the Approved condition's reason must be %s with status %q, or empty, not %q`, want, c.Status, c.Reason)
	}
	return nil
}
