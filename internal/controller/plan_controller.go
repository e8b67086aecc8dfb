package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// PlanReconciler keeps a CustomerLicensePlan's status true, and is the only writer of the plan
// and its orders in a process: the workqueue never runs one plan twice at once. A pass gathers one
// snapshot of what the plan's decision needs, from the cache, and asks internal/licensing for the
// decision (DecidePlan). It places the order the decision asks for, decides that order at once
// (DecideOrder) and writes the order's status, and decides the plan again with it, until the plan
// needs nothing more that this pass can do; then it writes the plan's status once, applying every
// order fulfilled in the pass (a new plan, or up to maxPassOrders orders of a catch-up, in one write).
//
// Freshness is proved by writes, not by reads: one read of the plan from the API server before an
// order is placed; the order's resourceVersion on its status write; the plan's on the status write
// that applies and charges the order. A cached view may accept an order; a refusal, or a hold for
// a person, is decided again on what the API server holds.
type PlanReconciler struct {
	client.Client
	// APIReader reads from the API server: an order is placed only from a copy of the plan the
	// API server confirms is current, and a refusal is judged again with what holds now.
	APIReader client.Reader
	Clock     clock.PassiveClock
	Recorder  events.EventRecorder
	// expect holds this process's plan writes its cache has not shown yet.
	expect *expectations
	// probes holds the plans whose fulfilled orders are to be read from the API server.
	probes *probes
	// orders decides and writes the plans' orders.
	orders *orders
	// usage holds the bursts of assignment events the plans have not counted yet.
	usage *bursts
}

// maxPassOrders bounds the orders one pass places: a plan whose start date lies many terms back
// catches up that many orders per status write, and goes to the back of the queue for the rest,
// so that a storm of catch-ups (a BillingProfile change after an outage) does not hold the workers
// from the plans queued behind it.
const maxPassOrders = 4

// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=customerlicenseplans,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=customerlicenseplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=customerlicenseplans/finalizers,verbs=update
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseproducts;billingprofiles,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile gathers, decides and writes for one plan and its orders.
func (r *PlanReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	plan := &v1alpha1.CustomerLicensePlan{}
	if err := r.Get(ctx, req.NamespacedName, plan); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		r.expect.forget(req.NamespacedName)
		r.probes.forget(req.NamespacedName)
		// Orders left open by a plan that is gone are closed.
		return settle(ctx, ctrl.Result{}, r.closeForeign(ctx, req.Namespace, req.Name, nil))
	}
	if r.expect.stale(req.NamespacedName, plan.ResourceVersion) {
		return ctrl.Result{RequeueAfter: conflictRetry}, nil // the watch brings this process's own last write
	}
	if w := r.usage.wait(req.NamespacedName); w > 0 {
		return ctrl.Result{RequeueAfter: w}, nil // its assignments are still coming: counted once, when they settle
	}
	snap, probed, err := r.snapshot(ctx, plan)
	if err != nil {
		return settle(ctx, ctrl.Result{}, err)
	}
	if err := r.closeForeign(ctx, plan.Namespace, plan.Name, plan); err != nil {
		return settle(ctx, ctrl.Result{}, err)
	}
	if r.expect.unseen(req.NamespacedName, func(order string) (bool, bool) { return placedSeen(snap, order) }) {
		return ctrl.Result{RequeueAfter: conflictRetry}, nil // the watch brings the order this process placed
	}
	d, recheck, err := r.pass(ctx, plan, &snap)
	more := errors.Is(err, errMore)
	if more {
		err = nil
	}
	if err == nil || refusedWrite(err) {
		if d.NotApplied != nil {
			r.Recorder.Eventf(plan, nil, corev1.EventTypeWarning, "OrderNotApplied", "ApplyOrder", "%v", d.NotApplied)
		}
		if werr := r.write(ctx, plan, d, err); werr != nil || err == nil {
			err = werr
		}
	}
	if err == nil {
		// Only once what the probe read, or the pass fulfilled, is written: a write that fails (a
		// conflict, a timeout) leaves the fulfilled orders out of the cache, and the retry reads
		// them again.
		for i := range snap.Orders {
			if o := &snap.Orders[i]; o.Status.State == v1alpha1.OrderFulfilled && o.Spec.Revision <= plan.Status.Revision {
				r.probes.apply(client.ObjectKeyFromObject(o))
			}
		}
		if probed || fulfilledIn(snap) {
			r.probes.done(req.NamespacedName)
		}
	}
	var result ctrl.Result
	if more && err == nil {
		return ctrl.Result{RequeueAfter: time.Millisecond}, nil // to the back of the queue
	}
	for _, at := range []time.Time{d.RequeueAt, recheck} {
		if !at.IsZero() && (result.RequeueAfter == 0 || at.Sub(snap.Now) < result.RequeueAfter) {
			result.RequeueAfter = max(at.Sub(snap.Now), conflictRetry)
		}
	}
	return settle(ctx, result, err)
}

// pass decides the plan, and carries out the order steps of each decision at once: the order it
// places, and the decision about its open order; then decides again, until a decision asks for
// neither, or an order waits (for a person, its term end, an earlier order). The orders placed and
// settled are in s.Orders; the last decision is returned with when an order's decision changes by
// time alone. A fulfilled order leaves the cache: should the plan's status write fail, the retry
// reads it from the API server (probes).
func (r *PlanReconciler) pass(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, s *licensing.PlanSnapshot) (licensing.PlanDecision, time.Time, error) {
	key := client.ObjectKeyFromObject(plan)
	var recheck time.Time
	verified, placed := "", 0
	for {
		d := licensing.DecidePlan(*s)
		if d.Release {
			return d, recheck, nil
		}
		if d.Place != nil && placed == maxPassOrders {
			// The rest in the next pass: the plan's status is written now, and the plan requeued.
			return d, recheck, errMore
		}
		if d.AddFinalizer {
			if err := r.patchFinalizer(ctx, plan, controllerutil.AddFinalizer); err != nil {
				return d, recheck, err
			}
			continue
		}
		if d.Place != nil {
			order, err := r.placeOrder(ctx, plan, *d.Place, &verified)
			if err != nil {
				return d, recheck, err
			}
			s.Orders = append(s.Orders, *order)
			placed++
			continue
		}
		o := firstOpen(s.Orders)
		if o == nil {
			return d, recheck, nil
		}
		changed, at, err := r.orders.settle(ctx, o, view(plan, d.Status, *s, o))
		if !at.IsZero() && (recheck.IsZero() || at.Before(recheck)) {
			recheck = at
		}
		if err != nil || !changed {
			return d, recheck, err
		}
		if o.Status.State == v1alpha1.OrderFulfilled {
			r.probes.mark(key) // until the status write that applies it succeeds
		}
	}
}

// fulfilledIn reports whether the snapshot holds a fulfilled order: one the pass fulfilled, or a
// probe read.
func fulfilledIn(s licensing.PlanSnapshot) bool {
	for i := range s.Orders {
		if s.Orders[i].Status.State == v1alpha1.OrderFulfilled {
			return true
		}
	}
	return false
}

// errMore ends a pass that placed maxPassOrders orders while the plan needs more.
var errMore = errors.New("more orders are due than one pass places")

// firstOpen is the first of the plan's orders (in revision order) that is neither fulfilled nor
// rejected: the one its plan waits for.
func firstOpen(orders []v1alpha1.LicenseOrder) *v1alpha1.LicenseOrder {
	for i := range orders {
		if !licensing.IsSettled(&orders[i]) {
			return &orders[i]
		}
	}
	return nil
}

// closeForeign closes the open orders named after the plan that belong to no plan: the plan of
// that name is gone (plan is nil), or is another plan declared since under the name of a deleted
// one, whose orders these are not.
func (r *PlanReconciler) closeForeign(ctx context.Context, namespace, name string, plan *v1alpha1.CustomerLicensePlan) error {
	cached, err := lookup.Orders(ctx, r, namespace, name)
	if err != nil {
		return err
	}
	for i := range cached {
		o := &cached[i]
		if licensing.IsSettled(o) || (plan != nil && licensing.BelongsTo(o, plan)) {
			continue
		}
		if err := r.orders.closeForeign(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// snapshot gathers what the decision about a plan needs, once: its orders above the revision its
// status holds, the catalog entries and the BillingProfile, its usage, and, when the decision may
// turn on them, the refusal of its latest order judged again from the API server and the
// customer's other plans. probed says whether the plan's orders were read from the API server.
func (r *PlanReconciler) snapshot(ctx context.Context, plan *v1alpha1.CustomerLicensePlan) (s licensing.PlanSnapshot, probed bool, err error) {
	s = licensing.PlanSnapshot{Plan: plan, Now: r.Clock.Now()}
	orders, err := lookup.Orders(ctx, r, plan.Namespace, plan.Name)
	if err != nil {
		return s, false, err
	}
	// Only the plan's own orders count: those of an earlier plan of the same name are its history.
	s.Orders, _ = licensing.OwnOrders(plan, orders)
	s.PriorRevision = r.probes.priorOf(plan)
	if key := client.ObjectKeyFromObject(plan); r.probes.needed(key) || probeGap(plan, s.Orders, s.PriorRevision) {
		if s.Orders, s.PriorRevision, err = probe(ctx, r.APIReader, plan, s.Orders, s.PriorRevision); err != nil {
			return s, false, err
		}
		r.probes.setPrior(plan, s.PriorRevision)
		probed = true
	}
	if plan.Status.ExpiredOn != "" {
		// Whether the plan expired with its current spec depends on the order that expired it.
		last := &v1alpha1.LicenseOrder{}
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: plan.Namespace, Name: plan.Status.LastOrder}, last); err == nil {
			s.LastApplied = last
		} else if !apierrors.IsNotFound(err) {
			return s, probed, err
		}
	}
	if s.Catalog, err = lookup.PlanCatalog(ctx, r, plan); err != nil {
		return s, probed, err
	}
	profile, err := lookup.GetProfile(ctx, r)
	if err != nil {
		return s, probed, err
	}
	s.Profile = lookup.ProfileSpec(profile)
	if s.Assigned, err = lookup.CountCachedAssignments(ctx, r, plan.Namespace, plan.Name); err != nil {
		return s, probed, err
	}
	if latest := lastOf(s.Orders); plan.DeletionTimestamp.IsZero() && licensing.NeedsRevalidation(latest) {
		input, err := lookup.ReadOrderInput(ctx, r.APIReader, plan, latest)
		if err != nil {
			return s, probed, err
		}
		v := licensing.ValidateOrder(input)
		s.Revalidated = &v
	}
	if p := s.Catalog[plan.Spec.Product]; p != nil && len(p.Requires) > 0 {
		if s.OtherPlans, s.Ordering, err = lookup.CustomerPlans(ctx, r, plan); err != nil {
			return s, probed, err
		}
	}
	return s, probed, nil
}

// write carries out the end of a pass: the finalizer's removal, or the plan's status. The status
// write carries the resourceVersion that was read, so it fails if another writer (a second
// replica, or this one with a stale cache) changed the plan since: an order is never applied
// twice, because the revision it raises is part of the same write. placeErr is the API server's
// refusal of the order the decision placed, if it refused: the plan then says why it is not
// ordered, once, and the order is tried again with the controller's backoff, and at once when the
// spec changes.
func (r *PlanReconciler) write(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, d licensing.PlanDecision, placeErr error) error {
	if d.Release {
		return r.patchFinalizer(ctx, plan, controllerutil.RemoveFinalizer)
	}
	if placeErr != nil {
		r.setNotPlaced(plan, &d, placeErr)
	}
	if !d.WriteStatus {
		return nil
	}
	return r.writeStatus(ctx, plan, d.Status)
}

// writeStatus writes the plan's status, guarded by the resourceVersion it was read at.
func (r *PlanReconciler) writeStatus(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, st v1alpha1.CustomerLicensePlanStatus) error {
	from := plan.ResourceVersion
	plan.Status = st
	if err := r.Status().Update(ctx, plan, client.FieldOwner(FieldOwner)); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.expect.wrote(client.ObjectKeyFromObject(plan), from)
	return nil
}

// refusedWrite reports whether the API server refused a write for what it is (invalid, forbidden,
// refused by an admission policy or webhook), as opposed to a conflict with another writer, a
// rate limit, or a failure of the connection or the server, which pass.
func refusedWrite(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	code := status.Status().Code
	switch {
	case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err), apierrors.IsTooManyRequests(err),
		apierrors.IsTimeout(err), apierrors.IsServerTimeout(err), apierrors.IsNotFound(err):
		return false
	}
	return code >= 400 && code < 500
}

// setNotPlaced turns the decision's Ready condition into the refusal of the order it placed: the
// plan is not being ordered, and a person must act on what the API server said.
func (r *PlanReconciler) setNotPlaced(plan *v1alpha1.CustomerLicensePlan, d *licensing.PlanDecision, err error) {
	now := r.Clock.Now()
	name := licensing.OrderName(plan.Name, d.Place.Revision)
	answer := err.Error()
	if status := apierrors.APIStatus(nil); errors.As(err, &status) && status.Status().Message != "" {
		answer = status.Status().Message
	}
	ready := metav1.Condition{Type: v1alpha1.PlanReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonOrderNotPlaced,
		Message: fmt.Sprintf("the API server refused to create order %s (%s: %d x %s, %s): %s. Nothing was ordered; the operator tries again, and at once when the spec changes",
			name, d.Place.Change, d.Place.Quantity, d.Place.Product, d.Place.PaymentPlan, answer)}
	licensing.SetCondition(&d.Status.Conditions, ready, plan.Generation, now)
	licensing.SetProgressConditions(&d.Status.Conditions, ready, plan.Generation, now)
	// A condition whose status is what the stored status says keeps its transition time: the
	// decision set Reconciling for the order it meant to place, and this puts Stalled back.
	for i := range d.Status.Conditions {
		c := &d.Status.Conditions[i]
		if old := meta.FindStatusCondition(plan.Status.Conditions, c.Type); old != nil && old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
	}
	if d.WriteStatus = !equality.Semantic.DeepEqual(plan.Status, d.Status); d.WriteStatus {
		r.Recorder.Eventf(plan, nil, corev1.EventTypeWarning, v1alpha1.ReasonOrderNotPlaced, "PlaceOrder", "%s", ready.Message)
	}
}

// patchFinalizer adds or removes the cancellation finalizer with a patch of the finalizers alone:
// an update would send back the whole spec, re-encoded, and could change what the user wrote.
func (r *PlanReconciler) patchFinalizer(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, change func(client.Object, string) bool) error {
	before := plan.DeepCopy()
	if !change(plan, v1alpha1.CancellationFinalizer) {
		return nil
	}
	if err := r.Patch(ctx, plan, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner)); err != nil {
		return client.IgnoreNotFound(err)
	}
	r.expect.wrote(client.ObjectKeyFromObject(plan), before.ResourceVersion)
	return nil
}

// placeOrder creates the order <plan>-<revision>, once the API server confirms that the copy of the
// plan the decision was made from is current: a replica whose cache lags behind never orders from
// an outdated spec or status. The name makes a repeated create harmless: if the order exists
// already (a restart between the create and the status write, a second replica, or a cache that
// has not seen it yet), the existing order is the one in flight. verified is the plan's
// resourceVersion the API server confirmed earlier in the pass, if it did: the orders of a pass
// after the first (a catch-up) are placed from the same copy, and the plan's status write that
// applies them fails should the plan have changed since.
func (r *PlanReconciler) placeOrder(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, spec v1alpha1.LicenseOrderSpec, verified *string) (*v1alpha1.LicenseOrder, error) {
	if *verified != plan.ResourceVersion {
		live := &v1alpha1.CustomerLicensePlan{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(plan), live); err != nil {
			return nil, err
		}
		if live.ResourceVersion != plan.ResourceVersion {
			return nil, apierrors.NewConflict(v1alpha1.GroupVersion.WithResource("customerlicenseplans").GroupResource(), plan.Name,
				fmt.Errorf("the cached copy of the plan (resourceVersion %s) is older than the API server's (%s): no order is placed from it", plan.ResourceVersion, live.ResourceVersion))
		}
		*verified = plan.ResourceVersion
	}
	order := &v1alpha1.LicenseOrder{
		ObjectMeta: metav1.ObjectMeta{
			Name:      licensing.OrderName(plan.Name, spec.Revision),
			Namespace: plan.Namespace,
			Labels:    map[string]string{v1alpha1.PlanLabel: plan.Name},
		},
		Spec: spec,
	}
	if err := r.Create(ctx, order, client.FieldOwner(FieldOwner)); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// An order this process does not see: it is read from the API server next time.
			r.probes.mark(client.ObjectKeyFromObject(plan))
			return nil, apierrors.NewConflict(v1alpha1.GroupVersion.WithResource("licenseorders").GroupResource(), order.Name,
				fmt.Errorf("order %s exists already", order.Name))
		}
		return nil, fmt.Errorf("placing order %s: %w", order.Name, err)
	}
	r.expect.place(client.ObjectKeyFromObject(plan), order.Name)
	log.FromContext(ctx).Info("order placed", "order", order.Name, "change", spec.Change, "quantity", spec.Quantity)
	return order, nil
}

// placedSeen reports whether the snapshot shows the order of that name among the plan's orders,
// and whether it is done with: applied to the plan, or rejected.
func placedSeen(s licensing.PlanSnapshot, order string) (shown, done bool) {
	if order == s.Plan.Status.LastOrder {
		return true, true
	}
	for i := range s.Orders {
		if o := &s.Orders[i]; o.Name == order {
			return true, o.Status.State == v1alpha1.OrderRejected
		}
	}
	return false, false
}

func lastOf(orders []v1alpha1.LicenseOrder) *v1alpha1.LicenseOrder {
	if len(orders) == 0 {
		return nil
	}
	return &orders[len(orders)-1]
}
