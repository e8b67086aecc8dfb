package licensing

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// dpPlan is plan eul asking for 10 ep-plus licenses on Monthly, with the finalizer, its status st.
func dpPlan(st v1alpha1.CustomerLicensePlanStatus) *v1alpha1.CustomerLicensePlan {
	return &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Name: "eul", Namespace: "acme", Generation: 1, Finalizers: []string{v1alpha1.CancellationFinalizer},
			CreationTimestamp: metav1.NewTime(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))},
		Spec:   pvSpec("ep-plus", 10, v1alpha1.Monthly),
		Status: st,
	}
}

func dpSnapshot(plan *v1alpha1.CustomerLicensePlan, orders ...v1alpha1.LicenseOrder) PlanSnapshot {
	return PlanSnapshot{Plan: plan, Orders: orders, Now: pvNow,
		Catalog: map[string]*v1alpha1.LicenseProductSpec{"ep-plus": pvProduct("10.00")}}
}

func dpOrder(rev int64, change v1alpha1.OrderChange, quantity int32, state v1alpha1.OrderState, reason string) v1alpha1.LicenseOrder {
	o := v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Name: OrderName("eul", rev)},
		Spec: v1alpha1.LicenseOrderSpec{Plan: "eul", Revision: rev, Change: change, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
			Quantity: quantity, EffectiveDate: "2026-03-10", PlanGeneration: 1}}
	o.Status.State, o.Status.Reason = state, reason
	if state == v1alpha1.OrderFulfilled {
		o.Status.PricePerLicense = "10.00"
		o.Status.Charge = &v1alpha1.Charge{Amount: "100.00", Currency: "EUR"}
	}
	return o
}

func TestDecidePlan(t *testing.T) {
	inForce := pvStatus(10)
	renewalWindow := pvStatus(10)
	renewalWindow.Term = &v1alpha1.Term{Start: "2026-02-15", End: "2026-03-15"}
	deleting := func(st v1alpha1.CustomerLicensePlanStatus) *v1alpha1.CustomerLicensePlan {
		p := dpPlan(st)
		p.DeletionTimestamp = &metav1.Time{Time: pvNow}
		return p
	}
	refused := dpOrder(2, v1alpha1.ChangeIncreaseQuantity, 12, v1alpha1.OrderRejected, v1alpha1.ReasonUsageBelowMinimum)
	refused.Status.Message = "assigned 14"
	for _, tt := range []struct {
		name        string
		snap        PlanSnapshot
		place       string // "change quantity" of the order placed, "" for none
		writeStatus bool
		ready       string // Ready's reason
		release     bool
	}{
		{name: "a new plan: its New order is placed, and its status waits for that order to settle",
			snap: dpSnapshot(dpPlan(v1alpha1.CustomerLicensePlanStatus{})), place: "eul-1 New 10"},
		{name: "its New order fulfilled: applied in one status write, in force",
			snap:        dpSnapshot(dpPlan(v1alpha1.CustomerLicensePlanStatus{}), dpOrder(1, v1alpha1.ChangeNew, 10, v1alpha1.OrderFulfilled, "")),
			writeStatus: true, ready: v1alpha1.ReasonInForce},
		{name: "its New order in flight: nothing placed, and no status written while it settles in moments",
			snap:  dpSnapshot(dpPlan(v1alpha1.CustomerLicensePlanStatus{}), dpOrder(1, v1alpha1.ChangeNew, 10, v1alpha1.OrderPending, "")),
			ready: v1alpha1.ReasonOrderPending},
		{name: "its New order awaiting approval: the status says so",
			snap:        dpSnapshot(dpPlan(v1alpha1.CustomerLicensePlanStatus{}), dpOrder(1, v1alpha1.ChangeNew, 10, v1alpha1.OrderAwaitingApproval, "")),
			writeStatus: true, ready: v1alpha1.ReasonAwaitingApproval},
		{name: "in force and idle: nothing to write",
			snap: func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce))
				s.Plan.Status = DecidePlan(s).Status
				return s
			}(),
			ready: v1alpha1.ReasonInForce},
		{name: "a change asked: its order is placed",
			snap:  func() PlanSnapshot { s := dpSnapshot(dpPlan(inForce)); s.Plan.Spec.Quantity = 12; return s }(),
			place: "eul-2 IncreaseQuantity 12"},
		{name: "a change refused by a rule that still holds: not ordered again",
			snap: func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce), refused)
				s.Plan.Spec.Quantity = 12
				s.Revalidated = &Verdict{Reason: v1alpha1.ReasonUsageBelowMinimum, Message: "assigned 14"}
				return s
			}(),
			writeStatus: true, ready: v1alpha1.ReasonOrderRejected},
		{name: "a change refused by a rule that no longer holds: ordered again",
			snap: func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce), refused)
				s.Plan.Spec.Quantity = 12
				s.Revalidated = &Verdict{}
				return s
			}(),
			place: "eul-3 IncreaseQuantity 12"},
		{name: "a change denied by a person: not ordered again until the spec changes",
			snap: func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce), dpOrder(2, v1alpha1.ChangeIncreaseQuantity, 12, v1alpha1.OrderRejected, v1alpha1.ReasonDenied))
				s.Plan.Spec.Quantity = 12
				return s
			}(),
			writeStatus: true, ready: v1alpha1.ReasonOrderRejected},
		{name: "an order closed as superseded, placed for an earlier spec: the change is ordered anew",
			snap: func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce), dpOrder(2, v1alpha1.ChangeIncreaseQuantity, 12, v1alpha1.OrderRejected, v1alpha1.ReasonSuperseded))
				s.Plan.Spec.Quantity, s.Plan.Generation = 12, 2
				return s
			}(),
			place: "eul-3 IncreaseQuantity 12"},
		{name: "the very order the plan would place again was superseded: it stands, rather than loop",
			snap: func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce), dpOrder(2, v1alpha1.ChangeIncreaseQuantity, 12, v1alpha1.OrderRejected, v1alpha1.ReasonSuperseded))
				s.Plan.Spec.Quantity = 12
				return s
			}(),
			writeStatus: true, ready: v1alpha1.ReasonOrderRejected},
		{name: "inside the renewal window: the renewal is placed, and announced, for it takes effect days later",
			snap: dpSnapshot(dpPlan(renewalWindow)), place: "eul-2 Renewal 10", writeStatus: true, ready: v1alpha1.ReasonInForce},
		{name: "a required plan still being ordered: the change waits for it",
			snap: func() PlanSnapshot {
				addOn := pvProduct("10.00")
				addOn.Requires = []v1alpha1.Requirement{{AnyOf: []string{"connect"}}}
				s := dpSnapshot(dpPlan(v1alpha1.CustomerLicensePlanStatus{}))
				s.Catalog["ep-plus"] = addOn
				s.Ordering = []ActivePlan{{Name: "conn", Product: "connect", Licenses: 1}}
				return s
			}(),
			writeStatus: true, ready: v1alpha1.ReasonOrderPending},
		{name: "an unknown cost center on a plan that needs no order: InvalidSpec",
			snap: func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce))
				s.Plan.Spec.CostCenter = "nowhere"
				s.Profile = pvProfile("EUR", v1alpha1.AutomaticApproval, "")
				return s
			}(),
			writeStatus: true, ready: v1alpha1.ReasonInvalidSpec},
		{name: "expired with this spec: nothing ordered",
			snap: func() PlanSnapshot {
				st := pvStatus(0)
				st.ExpiredOn, st.LastOrder = "2026-03-01", "eul-1"
				last := dpOrder(1, v1alpha1.ChangeExpiry, 0, v1alpha1.OrderFulfilled, "")
				s := dpSnapshot(dpPlan(st))
				s.LastApplied = &last
				return s
			}(),
			writeStatus: true, ready: v1alpha1.ReasonExpired},
		{name: "deleted in force: its Cancellation is placed",
			snap: dpSnapshot(deleting(inForce)), place: "eul-2 Cancellation 0", writeStatus: true, ready: v1alpha1.ReasonCancelled},
		{name: "deleted with a renewal placed early: wait while the order reconciler closes it",
			snap:        dpSnapshot(deleting(renewalWindow), dpOrder(2, v1alpha1.ChangeRenewal, 10, v1alpha1.OrderPending, "")),
			writeStatus: true, ready: v1alpha1.ReasonCancelled},
		{name: "deleted, the renewal closed: the Cancellation follows it",
			snap:  dpSnapshot(deleting(renewalWindow), dpOrder(2, v1alpha1.ChangeRenewal, 10, v1alpha1.OrderRejected, v1alpha1.ReasonPlanDeleted)),
			place: "eul-3 Cancellation 0", writeStatus: true, ready: v1alpha1.ReasonCancelled},
		{name: "deleted, its Cancellation fulfilled: released",
			snap: dpSnapshot(deleting(inForce), dpOrder(2, v1alpha1.ChangeCancellation, 0, v1alpha1.OrderFulfilled, "")), release: true},
		{name: "deleted before it ordered anything: released",
			snap: dpSnapshot(deleting(v1alpha1.CustomerLicensePlanStatus{})), release: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := DecidePlan(tt.snap)
			place := ""
			if d.Place != nil {
				place = fmt.Sprintf("%s %s %d", OrderName("eul", d.Place.Revision), d.Place.Change, d.Place.Quantity)
			}
			if place != tt.place {
				t.Errorf("places %q, want %q", place, tt.place)
			}
			if d.WriteStatus != tt.writeStatus {
				t.Errorf("WriteStatus = %v, want %v", d.WriteStatus, tt.writeStatus)
			}
			if d.Release != tt.release {
				t.Errorf("Release = %v, want %v", d.Release, tt.release)
			}
			if tt.ready != "" {
				if c := meta.FindStatusCondition(d.Status.Conditions, v1alpha1.PlanReady); c == nil || c.Reason != tt.ready {
					t.Errorf("Ready = %+v, want reason %s", c, tt.ready)
				}
			}
		})
	}
}

func TestDecidePlanAddsTheFinalizerOnce(t *testing.T) {
	p := dpPlan(v1alpha1.CustomerLicensePlanStatus{})
	p.Finalizers = nil
	if d := DecidePlan(dpSnapshot(p)); !d.AddFinalizer {
		t.Error("a plan without the finalizer: AddFinalizer = false")
	}
	if d := DecidePlan(dpSnapshot(dpPlan(v1alpha1.CustomerLicensePlanStatus{}))); d.AddFinalizer {
		t.Error("a plan with the finalizer: AddFinalizer = true")
	}
}

func TestDecidePlanOrderCarriesWhoAndWhat(t *testing.T) {
	p := dpPlan(pvStatus(10))
	p.Spec.Quantity, p.Spec.PurchaseReference, p.Generation = 12, "PO-7", 3
	p.Annotations = map[string]string{v1alpha1.RequestedByAnnotation: "alice"}
	s := dpSnapshot(p)
	s.Profile = pvProfile("EUR", v1alpha1.AutomaticApproval, "")
	d := DecidePlan(s)
	want := v1alpha1.LicenseOrderSpec{Plan: "eul", Customer: "acme", Revision: 2, Change: v1alpha1.ChangeIncreaseQuantity, Product: "ep-plus",
		SKU: "EP", PaymentPlan: v1alpha1.Monthly, Quantity: 12, PreviousQuantity: 10, EffectiveDate: "2026-03-10",
		PurchaseReference: "PO-7", CostCenter: "sales", RequestedBy: "alice", PlanGeneration: 3}
	if d.Place == nil || *d.Place != want {
		t.Errorf("places %+v, want %+v", d.Place, want)
	}
}

// An expired plan whose purchaseReference and costCenter alone are edited orders nothing: what it
// asks for is what expired. A new quantity orders a new plan.
func TestDecidePlanExpiredPlanOrdersOnlyForWhatItAsks(t *testing.T) {
	st := pvStatus(10)
	st.Revision, st.LastOrder = 2, "eul-2"
	plan := dpPlan(st)
	expiry := dpOrder(3, v1alpha1.ChangeExpiry, 0, v1alpha1.OrderFulfilled, "")
	expiry.Spec.EffectiveDate, expiry.Spec.PreviousQuantity = "2026-04-01", 10
	expiry.Status.Charge = &v1alpha1.Charge{Amount: "0.00", Currency: "EUR"}
	snap := dpSnapshot(plan, expiry)
	snap.Now = time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC)
	d := DecidePlan(snap)
	if d.Place != nil || d.Status.ExpiredOn != "2026-04-01" {
		t.Fatalf("applying the expiry: place %+v, expiredOn %q; want nothing placed, expired on 2026-04-01", d.Place, d.Status.ExpiredOn)
	}

	expired := plan.DeepCopy()
	expired.Status = d.Status
	edited := expired.DeepCopy()
	edited.Generation++
	edited.Spec.PurchaseReference, edited.Spec.CostCenter = "PO-2", "engineering"
	later := dpSnapshot(edited)
	later.LastApplied, later.Now = &expiry, snap.Now.Add(time.Hour)
	if d := DecidePlan(later); d.Place != nil {
		t.Errorf("a new reference and cost center on an expired plan place %s of %d, want no order", d.Place.Change, d.Place.Quantity)
	} else if readyReason := meta.FindStatusCondition(d.Status.Conditions, v1alpha1.PlanReady).Reason; readyReason != v1alpha1.ReasonExpired {
		t.Errorf("Ready reason = %s, want Expired", readyReason)
	}

	more := expired.DeepCopy()
	more.Generation++
	more.Spec.Quantity = 12
	later = dpSnapshot(more)
	later.LastApplied, later.Now = &expiry, snap.Now.Add(time.Hour)
	if d := DecidePlan(later); d.Place == nil || d.Place.Change != v1alpha1.ChangeNew || d.Place.Quantity != 12 {
		t.Errorf("a new quantity on an expired plan places %+v, want a New order of 12", d.Place)
	}
}

// lifeStep runs the plan's decision and, for each open order, the order's decision, as the
// controllers do, until nothing changes at now: the orders placed, in order, and the plan.
type life struct {
	t       *testing.T
	plan    *v1alpha1.CustomerLicensePlan
	orders  []v1alpha1.LicenseOrder
	catalog map[string]*v1alpha1.LicenseProductSpec
	// assigned is the number of licenses assigned.
	assigned int32
}

func (l *life) settle(now time.Time) {
	l.t.Helper()
	for range 20 {
		changed := false
		var open []v1alpha1.LicenseOrder
		for _, o := range l.orders {
			if o.Spec.Revision > l.plan.Status.Revision {
				open = append(open, o)
			}
		}
		d := DecidePlan(PlanSnapshot{Plan: l.plan, Orders: open, Catalog: l.catalog, Assigned: l.assigned, Now: now})
		if d.NotApplied != nil {
			l.t.Fatal(d.NotApplied)
		}
		if !statusEqual(l.plan.Status, d.Status) {
			l.plan.Status, changed = d.Status, true
		}
		if d.Place != nil {
			l.orders = append(l.orders, v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Name: OrderName(l.plan.Name, d.Place.Revision)}, Spec: *d.Place})
			changed = true
		}
		for i := range l.orders {
			o := &l.orders[i]
			if IsSettled(o) {
				continue
			}
			od, err := DecideOrder(OrderSnapshot{Order: o, Plan: l.plan, WaitsFor: WaitsForEarlier(l.plan.Status, o, l.orders),
				CatalogPrice: CatalogPrice(l.catalog[o.Spec.Product], o.Spec.PaymentPlan), Currency: "EUR", Now: now,
				Rules: OrderInput{Plan: l.plan.Name, Change: o.Spec.Change, ProductName: o.Spec.Product, Product: l.catalog[o.Spec.Product],
					CurrentProduct: l.catalog[l.plan.Status.Product], PaymentPlan: o.Spec.PaymentPlan, Quantity: o.Spec.Quantity,
					HeldPaymentPlan: l.plan.Status.PaymentPlan, Assigned: l.assigned}})
			if err != nil {
				l.t.Fatal(err)
			}
			if !od.Wait && !statusEqual2(o.Status, od.Status) {
				o.Status, changed = od.Status, true
			}
		}
		if !changed {
			return
		}
	}
	l.t.Fatalf("the plan's life does not settle at %s: %v", now, l.lines())
}

func statusEqual2(a, b v1alpha1.LicenseOrderStatus) bool {
	return a.State == b.State && a.Reason == b.Reason && len(a.Conditions) == len(b.Conditions) &&
		(a.Charge == nil) == (b.Charge == nil) && (a.Charge == nil || *a.Charge == *b.Charge) && a.Message == b.Message
}

// lines describes the orders as "name Change quantity effective state/reason charge".
func (l *life) lines() []string {
	var out []string
	for _, o := range l.orders {
		charge := ""
		if o.Status.Charge != nil {
			charge = string(o.Status.Charge.Amount)
		}
		out = append(out, fmt.Sprintf("%s %s %d %s %s/%s %s", o.Name, o.Spec.Change, o.Spec.Quantity, o.Spec.EffectiveDate, o.Status.State, o.Status.Reason, charge))
	}
	return out
}

// A change made inside the renewal window, after the renewal was placed, takes effect at that
// term end: the renewal placed early gives way (Superseded), the change is ordered, and the
// renewal is placed again with it; the preview made at the change quotes exactly what is billed.
func TestChangeInsideTheRenewalWindowTakesEffectAtTheTermEnd(t *testing.T) {
	catalog := map[string]*v1alpha1.LicenseProductSpec{"ep-plus": pvProduct("10.00")}
	plan := dpPlan(pvStatus(10))
	l := &life{t: t, plan: plan, catalog: catalog}
	l.settle(time.Date(2026, 3, 26, 9, 0, 0, 0, time.UTC))
	if got := l.lines(); len(got) != 1 || got[0] != "eul-2 Renewal 10 2026-04-01 Pending/ 100.00" {
		t.Fatalf("in the renewal window: %q, want the renewal of 10 placed, approved, pending", got)
	}

	change := time.Date(2026, 3, 27, 9, 0, 0, 0, time.UTC)
	plan.Spec.Quantity, plan.Generation = 6, 2
	preview := OrdersDue(DueInput{Spec: plan.Spec, Status: plan.Status, Created: plan.CreationTimestamp.Time, Catalog: catalog,
		Currency: "EUR", Now: change}, MaxOrdersDue)
	l.settle(change)
	l.settle(time.Date(2026, 4, 1, 0, 30, 0, 0, time.UTC))
	want := []string{
		"eul-2 Renewal 10 2026-04-01 Rejected/Superseded 100.00",
		"eul-3 DecreaseQuantity 6 2026-04-01 Fulfilled/ 0.00",
		"eul-4 Renewal 6 2026-04-01 Fulfilled/ 60.00",
	}
	if got := l.lines(); !equalLines(got, want) {
		t.Errorf("orders = %q\nwant %q", got, want)
	}
	if st := plan.Status; st.Licenses != 6 || st.Term == nil || st.Term.Start != "2026-04-01" || st.Billing.TotalBilled != "60.00" {
		t.Errorf("plan after the term end: %d licenses, term %v, billed %v; want 6 from 2026-04-01, 60.00 billed", st.Licenses, st.Term, st.Billing)
	}
	var quoted []string
	for _, o := range preview.Orders {
		quoted = append(quoted, fmt.Sprintf("%s %d %s %s", o.Change, o.Quantity, FormatDate(o.EffectiveDate), o.Pricing.Charge))
	}
	if wantQuote := []string{"DecreaseQuantity 6 2026-04-01 0.00", "Renewal 6 2026-04-01 60.00"}; !equalLines(quoted, wantQuote) {
		t.Errorf("the preview at the change quotes %q, want %q: what is billed", quoted, wantQuote)
	}
}

func equalLines(a, b []string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// A change refused inside the renewal window supersedes the renewal placed early once, and never
// makes renewals be placed and superseded in a loop: the renewal is placed again at the term end,
// of what is in force.
func TestRefusedChangeInsideTheRenewalWindowDoesNotLoop(t *testing.T) {
	plan := dpPlan(pvStatus(10))
	l := &life{t: t, plan: plan, catalog: map[string]*v1alpha1.LicenseProductSpec{"ep-plus": pvProduct("10.00")}, assigned: 8}
	l.settle(time.Date(2026, 3, 26, 9, 0, 0, 0, time.UTC))
	plan.Spec.Quantity, plan.Generation = 6, 2
	l.settle(time.Date(2026, 3, 27, 9, 0, 0, 0, time.UTC))
	l.settle(time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC))
	l.settle(time.Date(2026, 4, 1, 0, 30, 0, 0, time.UTC))
	want := []string{
		"eul-2 Renewal 10 2026-04-01 Rejected/Superseded 100.00",
		"eul-3 DecreaseQuantity 6 2026-04-01 Rejected/UsageBelowMinimum ",
		"eul-4 Renewal 10 2026-04-01 Fulfilled/ 100.00",
		// the refused change is judged again once in the new term, as any refusal is
		"eul-5 DecreaseQuantity 6 2026-05-01 Rejected/UsageBelowMinimum ",
	}
	if got := l.lines(); !equalLines(got, want) {
		t.Errorf("orders = %q\nwant %q", got, want)
	}
}

// TestChargeTooLargeIsLiftedByACorrectedPrice: an increase refused because its charge could not
// be represented stands while the catalog's price makes it so, and is placed again once the price
// is corrected, without a new spec.
func TestChargeTooLargeIsLiftedByACorrectedPrice(t *testing.T) {
	plan := dpPlan(pvStatus(10))
	plan.Spec.Quantity = 12
	refused := dpOrder(2, v1alpha1.ChangeIncreaseQuantity, 12, v1alpha1.OrderRejected, v1alpha1.ReasonChargeTooLarge)
	refused.Spec.PreviousQuantity = 10
	plan.Status.PricePerLicense = "99999999999999999.00"
	s := dpSnapshot(plan, refused)
	if d := DecidePlan(s); d.Place != nil {
		t.Fatalf("with the price still too large, DecidePlan placed %+v", d.Place)
	}
	plan.Status.PricePerLicense = "10.00"
	d := DecidePlan(s)
	if d.Place == nil || d.Place.Change != v1alpha1.ChangeIncreaseQuantity || d.Place.Revision != 3 {
		t.Errorf("with the price corrected, DecidePlan placed %+v, want the increase again as revision 3", d.Place)
	}
}
