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
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
	"github.com/partnerops/license-operator/internal/metrics"
)

// orderWorkers is how many orders are decided at once: a decision spends its time waiting on the
// API server's reads.
const orderWorkers = 8

// waitRecheck is how long an order that waits for its plan to apply an earlier order waits before
// it is looked at again, should no event of the plan bring it back first.
const waitRecheck = 2 * time.Second

// OrderReconciler takes a LicenseOrder from Pending to Rejected or Fulfilled: it gathers what the
// decision needs from the API server, asks internal/licensing for the decision (DecideOrder), and
// writes the order's status once. State, conditions and charge are one status write guarded by the
// order's resourceVersion, so an order is charged once however often, and by however many
// replicas, it is reconciled.
type OrderReconciler struct {
	client.Client
	// APIReader reads from the API server rather than the cache: the plan, its usage, the catalog
	// and the BillingProfile a final decision rests on, as they are now.
	APIReader client.Reader
	Clock     clock.PassiveClock
	Recorder  events.EventRecorder
	// expect holds this process's writes its cache has not shown yet.
	expect *expectations
}

// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders,verbs=get;list;watch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseassignments,verbs=get;list;watch

// Reconcile validates, approves and fulfils one order, or closes it.
func (r *OrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	order := &v1alpha1.LicenseOrder{}
	if err := r.Get(ctx, req.NamespacedName, order); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if licensing.IsSettled(order) {
		r.expect.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	if r.expect.stale(req.NamespacedName, order.ResourceVersion) {
		return ctrl.Result{RequeueAfter: conflictRetry}, nil // the watch brings this process's own last write
	}
	snap, err := r.snapshot(ctx, order)
	if err != nil {
		return settle(ctx, ctrl.Result{}, err)
	}
	d, err := licensing.DecideOrder(snap)
	if err == nil {
		d, err = r.holdTrial(ctx, snap, d) // one trial per customer and product: its claim decides
	}
	if err != nil {
		return settle(ctx, ctrl.Result{}, err)
	}
	if d.Wait {
		// The plan applies the earlier order first; its status write brings this order back.
		return ctrl.Result{RequeueAfter: waitRecheck}, nil
	}
	var result ctrl.Result
	if !d.RecheckAt.IsZero() {
		result.RequeueAfter = d.RecheckAt.Sub(snap.Now)
	}
	if equality.Semantic.DeepEqual(order.Status, d.Status) {
		return result, nil
	}
	before := order.DeepCopy()
	order.Status = d.Status
	if err := r.Status().Patch(ctx, order, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner)); err != nil {
		return settle(ctx, result, client.IgnoreNotFound(err))
	}
	r.expect.wrote(req.NamespacedName, before.ResourceVersion)
	if before.Status.State != order.Status.State && licensing.IsSettled(order) {
		metrics.OrderClosed(order)
	}
	if before.Status.State != order.Status.State && order.Status.State == v1alpha1.OrderRejected {
		r.recordRejection(order, snap.Plan)
	}
	return result, nil
}

// snapshot reads what the decision about an order rests on, from the API server: its plan and,
// unless the order is to be closed because the plan is gone or being deleted, the plan's earlier
// orders it may wait for, the rules' inputs, the catalog price and the currency.
func (r *OrderReconciler) snapshot(ctx context.Context, order *v1alpha1.LicenseOrder) (licensing.OrderSnapshot, error) {
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
// order; orders of an earlier plan of the same name are none of them. A rejection in the cache is final and is taken from there; any other is read from the API
// server, which may know it settled.
func (r *OrderReconciler) earlierOrders(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, order *v1alpha1.LicenseOrder) ([]v1alpha1.LicenseOrder, error) {
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
func (r *OrderReconciler) recordRejection(order *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan) {
	var related runtime.Object
	if plan != nil {
		related = plan
	}
	r.Recorder.Eventf(order, related, corev1.EventTypeWarning, "OrderRejected", "ValidateOrder",
		"order %s rejected, %s: %s", order.Name, order.Status.Reason, order.Status.Message)
}

// SetupWithManager registers the order reconciler. It also watches plans, to bring back the
// orders that waited for their plan's status to catch up, and those of a plan being deleted.
func (r *OrderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.LicenseOrder{}).
		Named("licenseorder").
		WithOptions(controller.Options{MaxConcurrentReconciles: orderWorkers}).
		Watches(&v1alpha1.CustomerLicensePlan{}, handler.EnqueueRequestsFromMapFunc(r.openOrdersOfPlan)).
		Complete(r)
}

func (r *OrderReconciler) openOrdersOfPlan(ctx context.Context, o client.Object) []reconcile.Request {
	orders, err := lookup.Orders(ctx, r, o.GetNamespace(), o.GetName())
	if err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range orders {
		if !licensing.IsSettled(&orders[i]) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&orders[i])})
		}
	}
	return reqs
}
