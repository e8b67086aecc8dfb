package controller

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
	"github.com/partnerops/license-operator/internal/metrics"
)

// orders takes a plan's LicenseOrders from Pending to Rejected or Fulfilled, for the plan
// reconciler, which is their only writer in a process: it asks internal/licensing for the decision
// (DecideOrder) and writes the order's status once. State, conditions and charge are one status
// write guarded by the order's resourceVersion, so an order is charged once however often, and by
// however many replicas, it is decided.
//
// A decision that accepts an order (fulfils it, or leaves it to take effect at its term end) may
// rest on the plan reconciler's cached view; one that refuses the order, or holds it for a
// person, rests on what the API server holds now: the plan, the catalog, the BillingProfile and
// the usage are read again and the order is decided again on them.
type orders struct {
	client.Client
	// APIReader reads from the API server rather than the cache.
	APIReader client.Reader
	Clock     clock.PassiveClock
	Recorder  events.EventRecorder
	// expect holds this process's order writes its cache has not shown yet.
	expect *expectations
}

// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders,verbs=get;list;watch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseassignments,verbs=get;list;watch

// settle decides the open order o and writes its status when it changes; o is updated in place.
// view is the decision's input as the plan reconciler's cache shows it, nil when the cache cannot
// show it all. changed says whether the order's status was written; recheck is when the decision
// changes by time alone (a renewal placed early takes effect at its term end).
func (r *orders) settle(ctx context.Context, o *v1alpha1.LicenseOrder, view *licensing.OrderSnapshot) (changed bool, recheck time.Time, err error) {
	if licensing.IsSettled(o) {
		return false, time.Time{}, nil
	}
	if r.expect.stale(client.ObjectKeyFromObject(o), o.ResourceVersion) {
		// The cache has not shown this process's own last write of the order yet.
		return false, r.Clock.Now().Add(conflictRetry), nil
	}
	var d licensing.OrderDecision
	snap := view
	if snap != nil {
		if d, err = licensing.DecideOrder(*snap); err != nil || !accepts(o, d) {
			snap = nil // a refusal, a hold for a person or an error: judged again on the API server's objects
		}
	}
	if snap == nil {
		s, err := r.snapshot(ctx, o)
		if err != nil {
			return false, time.Time{}, err
		}
		snap = &s
		if d, err = licensing.DecideOrder(s); err != nil {
			return false, time.Time{}, err
		}
	}
	if d, err = r.holdTrial(ctx, *snap, d); err != nil { // one trial per customer and product: its claim decides
		return false, time.Time{}, err
	}
	if d.Wait {
		// The plan applies the earlier order first.
		return false, time.Time{}, nil
	}
	if equality.Semantic.DeepEqual(o.Status, d.Status) {
		return false, d.RecheckAt, nil
	}
	before := o.DeepCopy()
	o.Status = d.Status
	if err := r.Status().Patch(ctx, o, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner)); err != nil {
		o.Status = before.Status
		return false, time.Time{}, client.IgnoreNotFound(err)
	}
	r.expect.wrote(client.ObjectKeyFromObject(o), before.ResourceVersion)
	if before.Status.State != o.Status.State && licensing.IsSettled(o) {
		metrics.OrderClosed(o)
	}
	if before.Status.State != o.Status.State && o.Status.State == v1alpha1.OrderRejected {
		r.recordRejection(o, snap.Plan)
	}
	return true, d.RecheckAt, nil
}

// accepts reports whether the decision d about o may rest on a cached view: it fulfils the order,
// or keeps it open without asking a person, and it gives no reason to refuse.
func accepts(o *v1alpha1.LicenseOrder, d licensing.OrderDecision) bool {
	switch d.Status.State {
	case v1alpha1.OrderFulfilled:
		return true
	case v1alpha1.OrderRejected, v1alpha1.OrderAwaitingApproval:
		return false
	}
	return d.Status.Reason == "" || d.Status.Reason == o.Status.Reason
}

// closeForeign closes an open order whose plan is gone, or whose name is now another plan's (a
// plan deleted and declared again): there is no plan of its own to take effect on.
func (r *orders) closeForeign(ctx context.Context, o *v1alpha1.LicenseOrder) error {
	_, _, err := r.settle(ctx, o, nil)
	return err
}

// snapshot reads what the decision about an order rests on, from the API server: its plan and,
// unless the order is to be closed because the plan is gone or being deleted, the plan's earlier
// orders it may wait for, the rules' inputs, the catalog price and the currency.
func (r *orders) snapshot(ctx context.Context, order *v1alpha1.LicenseOrder) (licensing.OrderSnapshot, error) {
	s := licensing.OrderSnapshot{Order: order, Now: r.Clock.Now()}
	plan := &v1alpha1.CustomerLicensePlan{}
	switch err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: order.Namespace, Name: order.Spec.Plan}, plan); {
	case err == nil && licensing.BelongsTo(order, plan):
		s.Plan = plan
	case err == nil, apierrors.IsNotFound(err):
		// The order's plan is gone; a plan of the same name may have been declared since, and is
		// another plan (another metadata.uid), whose status is no concern of this order.
		s.Replaced = err == nil
		plan = &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Namespace: order.Namespace, Name: order.Spec.Plan}}
	default:
		return s, err
	}
	if order.Spec.Change != v1alpha1.ChangeCancellation && (s.Plan == nil || !plan.DeletionTimestamp.IsZero()) {
		return s, nil
	}
	if s.Plan != nil {
		// The plan applies its earlier orders first. A Cancellation whose plan is gone has no
		// plan to wait for: it records its own plan's end.
		earlier, err := r.earlierOrders(ctx, plan, order)
		if err != nil {
			return s, err
		}
		s.WaitsFor = licensing.WaitsForEarlier(plan.Status, order, earlier)
	}
	var err error
	if s.Rules, err = lookup.ReadOrderInput(ctx, r.APIReader, plan, order); err != nil {
		return s, err
	}
	s.CatalogPrice = licensing.CatalogPrice(s.Rules.Product, order.Spec.PaymentPlan)
	s.Currency = licensing.Currency(s.Rules.Profile)
	return s, nil
}

// earlierOrders returns the plan's orders placed after the last one its status holds and before
// order; orders of an earlier plan of the same name are none of them. A rejection in the cache is
// final and is taken from there; any other is read from the API server, which may know it
// settled.
func (r *orders) earlierOrders(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, order *v1alpha1.LicenseOrder) ([]v1alpha1.LicenseOrder, error) {
	var earlier []v1alpha1.LicenseOrder
	for rev := plan.Status.Revision + 1; rev < order.Spec.Revision; rev++ {
		key := client.ObjectKey{Namespace: order.Namespace, Name: licensing.OrderName(plan.Name, rev)}
		o := &v1alpha1.LicenseOrder{}
		if err := r.Get(ctx, key, o); err == nil && o.Status.State == v1alpha1.OrderRejected {
			if licensing.BelongsTo(o, plan) {
				earlier = append(earlier, *o)
			}
			continue
		}
		if err := r.APIReader.Get(ctx, key, o); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		if licensing.BelongsTo(o, plan) { // not an order of an earlier plan of the same name
			earlier = append(earlier, *o)
		}
	}
	return earlier, nil
}

// recordRejection emits a Warning Event for a rejected order, related to its plan when the plan
// exists, for those who watch Events. The order's status says the rest of its life; no Event
// repeats it.
func (r *orders) recordRejection(order *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan) {
	var related runtime.Object
	if plan != nil {
		related = plan
	}
	r.Recorder.Eventf(order, related, corev1.EventTypeWarning, "OrderRejected", "ValidateOrder",
		"order %s rejected, %s: %s", order.Name, order.Status.Reason, order.Status.Message)
}

// view is the decision's input about the open order o of plan, whose status would be st (the
// plan's fulfilled orders applied), as the plan's snapshot s shows it from the cache; nil when
// the snapshot does not hold all it needs: a product it did not gather, a Trial (the customer's
// trials are read from the API server), or another plan required that it did not look at.
func view(plan *v1alpha1.CustomerLicensePlan, st v1alpha1.CustomerLicensePlanStatus, s licensing.PlanSnapshot, o *v1alpha1.LicenseOrder) *licensing.OrderSnapshot {
	product, ok := s.Catalog[o.Spec.Product]
	if !ok || o.Spec.Change == v1alpha1.ChangeTrial {
		return nil
	}
	current, ok := s.Catalog[st.Product]
	if st.Product != "" && !ok {
		return nil
	}
	if product != nil && len(product.Requires) > 0 && o.Spec.Product != plan.Spec.Product {
		return nil
	}
	p := plan.DeepCopy()
	p.Status = st
	var earlier []v1alpha1.LicenseOrder
	for _, e := range s.Orders {
		if e.Spec.Revision > st.Revision && e.Spec.Revision < o.Spec.Revision {
			earlier = append(earlier, e)
		}
	}
	return &licensing.OrderSnapshot{Order: o, Plan: p, WaitsFor: licensing.WaitsForEarlier(st, o, earlier), Now: s.Now,
		CatalogPrice: licensing.CatalogPrice(product, o.Spec.PaymentPlan), Currency: licensing.Currency(s.Profile),
		Rules: licensing.OrderInput{Plan: plan.Name, Change: o.Spec.Change, ProductName: o.Spec.Product, Product: product,
			CurrentProduct: current, PaymentPlan: o.Spec.PaymentPlan, Quantity: o.Spec.Quantity, CostCenter: o.Spec.CostCenter,
			Profile: s.Profile, OtherPlans: s.OtherPlans, Assigned: s.Assigned, HeldPaymentPlan: st.PaymentPlan}}
}
