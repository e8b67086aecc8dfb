package licensing

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// PlanSnapshot is what the decision about a plan looks at, gathered once per reconcile.
type PlanSnapshot struct {
	// Plan is the plan.
	Plan *v1alpha1.CustomerLicensePlan
	// Orders are the plan's orders above the revision its status holds, in revision order: those
	// in flight, refused, or fulfilled and not yet applied.
	Orders []v1alpha1.LicenseOrder
	// LastApplied is the order the plan's status holds last (status.lastOrder), when the plan
	// expired: whether it expired with its current spec depends on it. Nil otherwise.
	LastApplied *v1alpha1.LicenseOrder
	// Catalog holds the catalog entries of the products the plan holds, has pending and asks for.
	Catalog map[string]*v1alpha1.LicenseProductSpec
	// Profile is the BillingProfile's spec, nil when there is none.
	Profile *v1alpha1.BillingProfileSpec
	// Assigned is the number of LicenseAssignments that name the plan.
	Assigned int32
	// Revalidated is the refusal of the plan's latest order judged again by the rules with what
	// the API server holds now, when that order was refused by a rule; nil otherwise.
	Revalidated *Verdict
	// OtherPlans are the customer's other plans with licenses in force, and Ordering those being
	// ordered: gathered when the product the spec asks for requires another.
	OtherPlans, Ordering []ActivePlan
	// PriorRevision is the highest revision the orders of an earlier plan of the same name used,
	// when it is known (a plan deleted and declared again): the plan numbers its orders above it.
	PriorRevision int64
	// Now is the current time.
	Now time.Time
}

// PlanDecision is what to do about a plan: its finalizer, the order to place, and its status.
type PlanDecision struct {
	// AddFinalizer adds the cancellation finalizer; Release removes it, once the deleted plan's
	// Cancellation is recorded.
	AddFinalizer, Release bool
	// Place is the order to place, nil when none.
	Place *v1alpha1.LicenseOrderSpec
	// Status is the plan's status: its fulfilled orders applied, usage, billing and conditions.
	Status v1alpha1.CustomerLicensePlanStatus
	// WriteStatus is false when the status need not be written: nothing changed, or nothing was
	// applied and the plan waits only for an order that settles in moments (briefly).
	WriteStatus bool
	// RequeueAt is when the order the plan needs changes by time alone; zero when it does not.
	RequeueAt time.Time
	// NotApplied says why a fulfilled order could not be applied, for a person to look at.
	NotApplied error
}

// DecidePlan decides, from one snapshot, what a plan needs: its fulfilled orders applied in
// revision order, the next order (the first of OrdersDue, unless one is in flight, the change was
// refused and the refusal holds, or a required plan is still being ordered), or, once the plan is
// deleted, its cancellation; and the status that results.
func DecidePlan(s PlanSnapshot) PlanDecision {
	plan := s.Plan
	d := PlanDecision{Status: *plan.Status.DeepCopy()}
	d.NotApplied = applyFulfilled(plan, &d.Status, s.Orders)
	latest := lastOrder(s.Orders)
	r := Readiness{NoProfile: s.Profile == nil}
	var nextPrice v1alpha1.CurrencyAmount

	if !plan.DeletionTimestamp.IsZero() {
		if !hasFinalizer(plan) {
			return PlanDecision{}
		}
		switch NextCancelStep(d.Status, latest) {
		case CancelRelease:
			return PlanDecision{Release: true}
		case CancelPlace:
			req := CancellationRequest(plan.Spec, d.Status, s.Now)
			d.Place = orderFor(plan, req, nextRevision(d.Status, latest, s.PriorRevision), s.Profile, s.Catalog)
		}
		r.Cancelling = true
	} else {
		d.AddFinalizer = !hasFinalizer(plan)
		in := DueInput{Spec: plan.Spec, Status: d.Status, Created: plan.CreationTimestamp.Time, Catalog: s.Catalog,
			Currency: Currency(s.Profile), ExpiredWithSpec: ExpiredOnSpec(plan.Spec, d.Status, s.lastApplied(d.Status), plan.Generation), Now: s.Now}
		if needed, ok := Needed(in); ok {
			r.Needed = &needed
		}
		if latest != nil && latest.Status.State == v1alpha1.OrderRejected && latest.Status.Reason == v1alpha1.ReasonChargeTooLarge {
			// Judged again here, with the catalog of the snapshot: a corrected price lifts it.
			v := JudgeChargeAgain(in, d.Status, latest)
			s.Revalidated = &v
		}
		if v, ok := RenewalRefusal(latest, d.Status, s.Revalidated); ok {
			r.RenewalRefusal = v
			in.RenewalRefused = !v.Passed()
		}
		d.Status.RenewalAction = RenewalActionFor(plan.Spec.Renewal.Policy, d.Status, s.Catalog, in.RenewalRefused)
		next := Scheduled(d.Status)
		nextPrice = v1alpha1.CurrencyAmount{Amount: CatalogPrice(s.Catalog[next.Product], next.PaymentPlan), Currency: Currency(s.Profile)}
		due := OrdersDue(in, 1)
		d.RequeueAt = due.Next
		switch {
		case InFlight(d.Status, latest):
			r.InFlight = latest
		case len(due.Orders) == 0:
			r.SpecRefusal = ValidateSpec(OrderInput{CostCenter: EffectiveCostCenter(plan.Spec.CostCenter, s.Profile), Profile: s.Profile})
		case StartDateApplies(d.Status, due.Orders[0].ChangeRequest) && !CheckStartDate(plan.Spec.StartDate, s.Now).Passed():
			// A plan written without the webhooks: nothing is ordered, and Ready says why.
			r.Needed, r.SpecRefusal = nil, CheckStartDate(plan.Spec.StartDate, s.Now)
		default:
			if req := due.Orders[0].ChangeRequest; s.mayPlace(req, latest, &r) {
				d.Place = orderFor(plan, req, nextRevision(d.Status, latest, s.PriorRevision), s.Profile, s.Catalog)
			}
		}
	}
	if d.Place != nil {
		r.InFlight = &v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Name: OrderName(plan.Name, d.Place.Revision)}, Spec: *d.Place}
	}
	setPlanStatus(&d.Status, plan.Generation, r, nextPrice, s.Assigned, s.Now)
	d.WriteStatus = !statusEqual(plan.Status, d.Status) && !(d.Status.Revision == plan.Status.Revision && briefly(r))
	return d
}

// briefly reports whether the plan waits only for an order that settles in moments: a change of
// its spec placed and being processed. Its status is then not written: the order's settling brings
// the plan back, and its status is written once, with the order applied. A term order placed
// before its term ends, an order awaiting a person, and a cancellation are written at once.
func briefly(r Readiness) bool {
	o := r.InFlight
	return o != nil && !r.Cancelling && !IsTermOrder(o.Spec.Change) && o.Status.State != v1alpha1.OrderAwaitingApproval
}

// lastApplied is the order st holds last: one applied in this decision, or the snapshot's.
func (s PlanSnapshot) lastApplied(st v1alpha1.CustomerLicensePlanStatus) *v1alpha1.LicenseOrder {
	for i := range s.Orders {
		if s.Orders[i].Name == st.LastOrder {
			return &s.Orders[i]
		}
	}
	return s.LastApplied
}

// mayPlace reports whether the change req, the first order due, is placed now: a term order is; a
// change of the spec is not while its refusal holds (r.Rejected, r.Refusal) or while a plan it
// requires is still being ordered (r.AwaitedPlans).
func (s PlanSnapshot) mayPlace(req ChangeRequest, latest *v1alpha1.LicenseOrder, r *Readiness) bool {
	if IsTermOrder(req.Change) {
		return true
	}
	if RefusedForSpec(latest, s.Plan.Generation, req) {
		if r.Refusal = s.refusal(latest); !r.Refusal.Passed() {
			r.Rejected = latest
			return false
		}
	}
	if p := s.Catalog[req.Product]; p != nil && len(p.Requires) > 0 {
		r.AwaitedPlans = AwaitedPlans(OrderInput{Plan: s.Plan.Name, Change: req.Change, ProductName: req.Product,
			Product: p, Quantity: req.Quantity, OtherPlans: s.OtherPlans}, s.Ordering)
	}
	return len(r.AwaitedPlans) == 0
}

// refusal is whether the refusal of o, a refused order, still holds: a person's denial stands, and
// a rule's refusal is what the rules say now (Revalidated).
func (s PlanSnapshot) refusal(o *v1alpha1.LicenseOrder) Verdict {
	return refusalOf(o, s.Revalidated)
}

func refusalOf(o *v1alpha1.LicenseOrder, revalidated *Verdict) Verdict {
	if v, ok := StandingRefusal(o); ok {
		return v
	}
	if revalidated != nil {
		return *revalidated
	}
	return Verdict{Reason: o.Status.Reason, Message: o.Status.Message}
}

// RenewalRefusal is the refusal of the renewal of the term in force (RefusedRenewal), as it
// stands now: a person's denial stands, a rule's refusal is revalidated (NeedsRevalidation: the
// rules judged again, nil when it was not). ok is false when latest refused no renewal; the
// refusal is lifted when the verdict passes. The plan controller and the admission preview both
// decide with it, so that the preview quotes no Renewal the plan will not place.
func RenewalRefusal(latest *v1alpha1.LicenseOrder, st v1alpha1.CustomerLicensePlanStatus, revalidated *Verdict) (v Verdict, ok bool) {
	if !RefusedRenewal(latest, st) {
		return Verdict{}, false
	}
	return refusalOf(latest, revalidated), true
}

// NeedsRevalidation reports whether the plan's latest order is a rule's refusal, which the
// decision judges again with what holds now (PlanSnapshot.Revalidated).
func NeedsRevalidation(latest *v1alpha1.LicenseOrder) bool {
	return latest != nil && latest.Status.State == v1alpha1.OrderRejected && isRuleReason(latest.Status.Reason)
}

// applyFulfilled applies to st, in revision order, the fulfilled orders it does not hold yet. It
// stops at the first that cannot be applied and says why.
func applyFulfilled(plan *v1alpha1.CustomerLicensePlan, st *v1alpha1.CustomerLicensePlanStatus, orders []v1alpha1.LicenseOrder) error {
	for i := range orders {
		o := &orders[i]
		if o.Spec.Revision <= st.Revision || o.Status.State != v1alpha1.OrderFulfilled {
			continue
		}
		start, err := BillingStart(plan.Spec, *st, o.Spec)
		if err != nil {
			return fmt.Errorf("order %s: spec.startDate: %w", o.Name, err)
		}
		next, err := ApplyOrder(*st, o, start)
		if err != nil {
			return err
		}
		if o.Spec.Change == v1alpha1.ChangeExpiry {
			next.ExpiredWith = ExpiredWithFor(plan.Spec, plan.Generation, o)
		}
		*st = next
	}
	return nil
}

// setPlanStatus sets the plan's usage, billing summary, conditions and observedGeneration.
func setPlanStatus(st *v1alpha1.CustomerLicensePlanStatus, generation int64, r Readiness, nextPrice v1alpha1.CurrencyAmount, assigned int32, now time.Time) {
	st.Billing = BillingSummary(*st, st.RenewalAction, nextPrice)
	if st.Usage.Assigned != assigned || st.Usage.ObservedAt == nil {
		at := metav1.NewTime(now)
		st.Usage = v1alpha1.Usage{Assigned: assigned, ObservedAt: &at}
	}
	r.Status = *st
	ready := ReadyCondition(r)
	SetCondition(&st.Conditions, ready, generation, now)
	SetCondition(&st.Conditions, UsageCoveredCondition(st.Licenses, assigned), generation, now)
	SetProgressConditions(&st.Conditions, ready, generation, now)
	st.ObservedGeneration = generation
	st.EntitlementRevision = EntitlementRevision(*st)
}

// orderFor is the order of req for the plan at a revision: what it changes, who asked for it, and
// what it bills.
func orderFor(plan *v1alpha1.CustomerLicensePlan, req ChangeRequest, revision int64, profile *v1alpha1.BillingProfileSpec, catalog map[string]*v1alpha1.LicenseProductSpec) *v1alpha1.LicenseOrderSpec {
	spec := req.OrderSpec(revision)
	spec.Plan, spec.PlanUID, spec.Customer = plan.Name, plan.UID, plan.Spec.Customer
	if p := catalog[req.Product]; p != nil {
		spec.SKU = p.SKU
	}
	spec.PurchaseReference = plan.Spec.PurchaseReference
	spec.CostCenter = EffectiveCostCenter(plan.Spec.CostCenter, profile)
	spec.RequestedBy = RequestedBy(plan, req.Change)
	spec.PlanGeneration = plan.Generation
	return &spec
}

// RequestedBy is who an order is placed for: the user who last changed the plan's spec (the
// requested-by annotation admission records), or System for the operator's own term orders and
// for cancellations (the API server does not tell the operator who deleted a plan).
func RequestedBy(plan *v1alpha1.CustomerLicensePlan, change v1alpha1.OrderChange) string {
	if IsTermOrder(change) || change == v1alpha1.ChangeCancellation {
		return v1alpha1.SystemUser
	}
	return plan.Annotations[v1alpha1.RequestedByAnnotation]
}

// OrderName is the name of a plan's order of a revision: <plan>-<revision>.
func OrderName(plan string, revision int64) string {
	return fmt.Sprintf("%s-%d", plan, revision)
}

// nextRevision is one more than the highest revision the plan, its orders or an earlier plan of
// its name (prior) used.
func nextRevision(st v1alpha1.CustomerLicensePlanStatus, latest *v1alpha1.LicenseOrder, prior int64) int64 {
	rev := max(st.Revision, prior)
	if latest != nil && latest.Spec.Revision > rev {
		rev = latest.Spec.Revision
	}
	return rev + 1
}

func lastOrder(orders []v1alpha1.LicenseOrder) *v1alpha1.LicenseOrder {
	if len(orders) == 0 {
		return nil
	}
	return &orders[len(orders)-1]
}

func hasFinalizer(plan *v1alpha1.CustomerLicensePlan) bool {
	for _, f := range plan.Finalizers {
		if f == v1alpha1.CancellationFinalizer {
			return true
		}
	}
	return false
}

// statusEqual reports whether two statuses say the same.
func statusEqual(a, b v1alpha1.CustomerLicensePlanStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}
