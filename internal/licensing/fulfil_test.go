package licensing

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// foPlan is plan eul: 10 ep-plus licenses on Monthly in force (pvStatus), its spec asking for quantity.
func foPlan(quantity int32) *v1alpha1.CustomerLicensePlan {
	return &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Name: "eul", Namespace: "acme", Generation: 2,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))},
		Spec:   pvSpec("ep-plus", quantity, v1alpha1.Monthly),
		Status: pvStatus(10),
	}
}

func foOrder(rev int64, change v1alpha1.OrderChange, quantity int32, effective v1alpha1.Date) *v1alpha1.LicenseOrder {
	return &v1alpha1.LicenseOrder{
		ObjectMeta: metav1.ObjectMeta{Name: "eul-x", Namespace: "acme", Generation: 1},
		Spec: v1alpha1.LicenseOrderSpec{Plan: "eul", Revision: rev, Change: change, Product: "ep-plus",
			PaymentPlan: v1alpha1.Monthly, Quantity: quantity, PreviousQuantity: 10, EffectiveDate: effective},
	}
}

func foSnapshot(plan *v1alpha1.CustomerLicensePlan, o *v1alpha1.LicenseOrder) OrderSnapshot {
	return OrderSnapshot{Order: o, Plan: plan, CatalogPrice: "10.00", Currency: "EUR", Now: pvNow,
		Rules: OrderInput{Plan: "eul", Change: o.Spec.Change, ProductName: "ep-plus", Product: pvProduct("10.00"),
			CurrentProduct: pvProduct("10.00"), PaymentPlan: o.Spec.PaymentPlan, Quantity: o.Spec.Quantity}}
}

func withApproval(o *v1alpha1.LicenseOrder, status metav1.ConditionStatus) *v1alpha1.LicenseOrder {
	o.Status.State = v1alpha1.OrderAwaitingApproval
	o.Status.Conditions = []metav1.Condition{{Type: v1alpha1.OrderApproved, Status: status, Reason: "ByHand", Message: "by bob"}}
	return o
}

func TestDecideOrder(t *testing.T) {
	deleting := foPlan(13)
	deleting.DeletionTimestamp = &metav1.Time{Time: pvNow}
	for _, tt := range []struct {
		name      string
		snap      OrderSnapshot
		state     v1alpha1.OrderState
		reason    string
		charge    v1alpha1.Amount
		wait      bool
		recheckAt time.Time
	}{
		{name: "an increase the plan asks for is fulfilled with its prorated charge",
			snap:  foSnapshot(foPlan(13), foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")),
			state: v1alpha1.OrderFulfilled, charge: "21.29"},
		{name: "its plan is gone: closed",
			snap:  foSnapshot(nil, foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")),
			state: v1alpha1.OrderRejected, reason: v1alpha1.ReasonPlanNotFound},
		{name: "its plan is being deleted: closed without a charge",
			snap:  foSnapshot(deleting, foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")),
			state: v1alpha1.OrderRejected, reason: v1alpha1.ReasonPlanDeleted},
		{name: "a renewal placed early, its plan being deleted: closed without a charge",
			snap:  foSnapshot(deleting, foOrder(2, v1alpha1.ChangeRenewal, 10, "2026-04-01")),
			state: v1alpha1.OrderRejected, reason: v1alpha1.ReasonPlanDeleted},
		{name: "an order awaiting approval, its plan being deleted: closed",
			snap:  foSnapshot(deleting, withApproval(foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10"), "")),
			state: v1alpha1.OrderRejected, reason: v1alpha1.ReasonPlanDeleted},
		{name: "the Cancellation of a plan being deleted is fulfilled, no charge",
			snap:  foSnapshot(deleting, foOrder(2, v1alpha1.ChangeCancellation, 0, "2026-03-10")),
			state: v1alpha1.OrderFulfilled, charge: "0.00"},
		{name: "the Cancellation of a plan gone is fulfilled too",
			snap:  foSnapshot(nil, foOrder(2, v1alpha1.ChangeCancellation, 0, "2026-03-10")),
			state: v1alpha1.OrderFulfilled, charge: "0.00"},
		{name: "an earlier order is not applied yet: wait",
			snap: func() OrderSnapshot {
				s := foSnapshot(foPlan(13), foOrder(3, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10"))
				s.WaitsFor = "eul-2"
				return s
			}(),
			wait: true},
		{name: "placed from an outdated spec: superseded",
			snap:  foSnapshot(foPlan(15), foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")),
			state: v1alpha1.OrderRejected, reason: v1alpha1.ReasonSuperseded},
		{name: "a revision the plan holds already: superseded",
			snap:  foSnapshot(foPlan(13), foOrder(1, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")),
			state: v1alpha1.OrderRejected, reason: v1alpha1.ReasonSuperseded},
		{name: "a second renewal of a term renewed already: superseded",
			snap:  foSnapshot(foPlan(10), foOrder(2, v1alpha1.ChangeRenewal, 10, "2026-03-01")),
			state: v1alpha1.OrderRejected, reason: v1alpha1.ReasonSuperseded},
		{name: "the renewal of the current term, placed early: validated, charged at the term end",
			snap:  foSnapshot(foPlan(10), foOrder(2, v1alpha1.ChangeRenewal, 10, "2026-04-01")),
			state: v1alpha1.OrderPending, recheckAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{name: "a rule refuses it",
			snap: func() OrderSnapshot {
				s := foSnapshot(foPlan(13), foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10"))
				s.Rules.Assigned = 14
				return s
			}(),
			state: v1alpha1.OrderRejected, reason: v1alpha1.ReasonUsageBelowMinimum},
		{name: "a person approved it: fulfilled",
			snap:  foSnapshot(foPlan(13), withApproval(foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10"), metav1.ConditionTrue)),
			state: v1alpha1.OrderFulfilled, charge: "21.29"},
		{name: "a person denied it: rejected",
			snap:  foSnapshot(foPlan(13), withApproval(foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10"), metav1.ConditionFalse)),
			state: v1alpha1.OrderRejected, reason: v1alpha1.ReasonDenied},
		{name: "an Approved condition of status Unknown decides nothing: it still awaits approval",
			snap: func() OrderSnapshot {
				s := foSnapshot(foPlan(13), withApproval(foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10"), metav1.ConditionUnknown))
				s.Rules.Profile = pvProfile("EUR", v1alpha1.ManualApproval, "")
				return s
			}(),
			state: v1alpha1.OrderAwaitingApproval, charge: "21.29"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DecideOrder(tt.snap)
			if err != nil {
				t.Fatalf("DecideOrder: %v", err)
			}
			if d.Wait != tt.wait {
				t.Fatalf("Wait = %v, want %v", d.Wait, tt.wait)
			}
			if tt.wait {
				return
			}
			if d.Status.State != tt.state || d.Status.Reason != tt.reason {
				t.Errorf("state/reason = %s/%s (%s), want %s/%s", d.Status.State, d.Status.Reason, d.Status.Message, tt.state, tt.reason)
			}
			var charge v1alpha1.Amount
			if d.Status.Charge != nil {
				charge = d.Status.Charge.Amount
			}
			if tt.state == v1alpha1.OrderRejected && charge != "" {
				t.Errorf("a closed order was charged %s", charge)
			}
			if tt.charge != "" && charge != tt.charge {
				t.Errorf("charge = %q, want %q", charge, tt.charge)
			}
			if !d.RecheckAt.Equal(tt.recheckAt) {
				t.Errorf("RecheckAt = %v, want %v", d.RecheckAt, tt.recheckAt)
			}
		})
	}
}

func TestDecideOrderLeavesASettledOrder(t *testing.T) {
	o := foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")
	o.Status.State = v1alpha1.OrderFulfilled
	d, err := DecideOrder(foSnapshot(nil, o))
	if err != nil || d.Status.State != v1alpha1.OrderFulfilled || d.Status.Reason != "" {
		t.Errorf("DecideOrder of a fulfilled order = %+v, %v; want it unchanged", d.Status, err)
	}
}

func TestWaitsForEarlier(t *testing.T) {
	st := v1alpha1.CustomerLicensePlanStatus{Revision: 2}
	o := foOrder(5, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")
	rejected := *foOrder(3, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")
	rejected.Name, rejected.Status.State = "eul-3", v1alpha1.OrderRejected
	fulfilled := *foOrder(4, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")
	fulfilled.Name, fulfilled.Status.State = "eul-4", v1alpha1.OrderFulfilled
	if got := WaitsForEarlier(st, o, []v1alpha1.LicenseOrder{rejected}); got != "" {
		t.Errorf("with a rejected order between: waits for %q", got)
	}
	if got := WaitsForEarlier(st, o, []v1alpha1.LicenseOrder{rejected, fulfilled}); got != "eul-4" {
		t.Errorf("with a fulfilled order not applied: waits for %q, want eul-4", got)
	}
	if got := WaitsForEarlier(v1alpha1.CustomerLicensePlanStatus{Revision: 4}, o, []v1alpha1.LicenseOrder{fulfilled}); got != "" {
		t.Errorf("with the fulfilled order applied: waits for %q", got)
	}
}

func TestSupersededUpgradeWhileADecreaseIsPending(t *testing.T) {
	// 10 in force, 7 pending from the next term; the spec moves to a dearer product: the
	// upgrade takes effect at once from what is in force (10), and is no outdated order.
	plan := foPlan(7)
	seven := int32(7)
	plan.Status.PendingChange = &v1alpha1.PendingChange{Quantity: &seven, EffectiveDate: "2026-04-01"}
	plan.Spec.Product = "ep-premium"
	upgrade := foOrder(2, v1alpha1.ChangeProduct, 10, "2026-03-10").Spec
	upgrade.Product = "ep-premium"
	if v := Superseded(plan, upgrade, pvNow); !v.Passed() {
		t.Errorf("an upgrade placed from what is in force: %+v, want it to stand", v)
	}
	deferred := upgrade
	deferred.Quantity, deferred.EffectiveDate = 7, "2026-04-01"
	if v := Superseded(plan, deferred, pvNow); !v.Passed() {
		t.Errorf("a move down placed from what is scheduled: %+v, want it to stand", v)
	}
	stale := upgrade
	stale.Quantity = 12
	if v := Superseded(plan, stale, pvNow); v.Reason != v1alpha1.ReasonSuperseded {
		t.Errorf("an order the spec asks for neither way: %+v, want Superseded", v)
	}
}

func TestSupersededRenewalUnderExpirePolicy(t *testing.T) {
	plan := foPlan(10)
	plan.Spec.Renewal.Policy = v1alpha1.ExpireAtTermEnd
	if v := Superseded(plan, foOrder(2, v1alpha1.ChangeRenewal, 10, "2026-04-01").Spec, pvNow); v.Reason != v1alpha1.ReasonSuperseded {
		t.Errorf("a renewal of a plan set to expire: %+v, want Superseded", v)
	}
	if v := Superseded(plan, foOrder(2, v1alpha1.ChangeCancellation, 0, "2026-03-10").Spec, pvNow); !v.Passed() {
		t.Errorf("a Cancellation is never superseded: %+v", v)
	}
}

// An approval covers an amount: the charge is fixed when the order is approved, and the order
// bills exactly that charge, whatever the catalog says when it is fulfilled. A renewal placed
// early is approved automatically under manualAbove at 100.00; the catalog price then rises
// tenfold, above the threshold: the renewal still bills the 100.00 approved, and never 1000.00
// without a person. A renewal a person approved bills the charge the person saw.
func TestDecideOrderBillsTheChargeApproved(t *testing.T) {
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	profile := pvProfile("EUR", v1alpha1.AutomaticApproval, "500.00")
	renewal := foOrder(2, v1alpha1.ChangeRenewal, 10, "2026-04-01")
	placed := foSnapshot(foPlan(10), renewal)
	placed.Rules.Profile = profile
	d, err := DecideOrder(placed)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.State != v1alpha1.OrderPending || d.Status.Charge == nil || d.Status.Charge.Amount != "100.00" ||
		!meta.IsStatusConditionTrue(d.Status.Conditions, v1alpha1.OrderApproved) {
		t.Fatalf("the renewal placed early = %s, charge %+v, want Pending, approved automatically at 100.00", d.Status.State, d.Status.Charge)
	}

	approved := renewal.DeepCopy()
	approved.Status = d.Status
	atEnd := foSnapshot(foPlan(10), approved)
	atEnd.Rules.Profile, atEnd.CatalogPrice, atEnd.Now = profile, "100.00", end.Add(time.Hour)
	d, err = DecideOrder(atEnd)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.State != v1alpha1.OrderFulfilled || d.Status.Charge.Amount != "100.00" || d.Status.PricePerLicense != "10.00" {
		t.Errorf("at the term end, after a price rise: %s, charge %s at %s per license; want Fulfilled at the 100.00 approved, 10.00 per license",
			d.Status.State, d.Status.Charge.Amount, d.Status.PricePerLicense)
	}

	byHand := foOrder(2, v1alpha1.ChangeRenewal, 10, "2026-04-01")
	byHand.Status = v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderAwaitingApproval, PricePerLicense: "10.00",
		Charge:     &v1alpha1.Charge{Amount: "100.00", Currency: "EUR", Description: "Renewal: 10 licenses x 10.00 EUR"},
		Conditions: []metav1.Condition{{Type: v1alpha1.OrderApproved, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonApproved, Message: "approved by bob"}}}
	seen := foSnapshot(foPlan(10), byHand)
	seen.Rules.Profile = pvProfile("EUR", v1alpha1.ManualApproval, "")
	seen.CatalogPrice, seen.Now = "12.00", end.Add(time.Hour)
	if d, err = DecideOrder(seen); err != nil {
		t.Fatal(err)
	}
	if d.Status.State != v1alpha1.OrderFulfilled || d.Status.Charge.Amount != "100.00" {
		t.Errorf("a renewal a person approved at 100.00, priced 120.00 now: %s, charge %s; want Fulfilled at 100.00", d.Status.State, d.Status.Charge.Amount)
	}
}

// TestDecideOrderOfAPlanDeclaredAgain: the order of a deleted plan whose name was declared again
// is closed, saying so, not that the plan does not exist.
func TestDecideOrderOfAPlanDeclaredAgain(t *testing.T) {
	o := foOrder(2, v1alpha1.ChangeIncreaseQuantity, 13, "2026-03-10")
	o.Spec.PlanUID = "uid-old"
	s := foSnapshot(nil, o)
	s.Replaced = true
	d, err := DecideOrder(s)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.State != v1alpha1.OrderRejected || d.Status.Reason != v1alpha1.ReasonPlanNotFound ||
		!strings.Contains(d.Status.Message, "declared since under its name") || strings.Contains(d.Status.Message, "does not exist") {
		t.Errorf("DecideOrder = %s %s: %q; want closed, saying the plan was declared again", d.Status.State, d.Status.Reason, d.Status.Message)
	}
}
