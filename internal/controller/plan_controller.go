package controller

import (
	"context"
	"fmt"
	"strconv"
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
)

// RequestedByAnnotation records on a plan the user who last changed its spec; the orders that
// change produces carry it in spec.requestedBy.
const RequestedByAnnotation = "licensing.partnerops.io/requested-by"

// PlanReconciler keeps a CustomerLicensePlan's status true: it applies the plan's fulfilled
// orders in revision order, places the order its spec or its term needs next, and sets its
// conditions.
type PlanReconciler struct {
	client.Client
	// APIReader reads from the API server: an order is placed only from a copy of the plan the
	// API server confirms is current, and a refusal is judged again with what holds now.
	APIReader client.Reader
	Clock     clock.PassiveClock
	Recorder  events.EventRecorder
}

// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=customerlicenseplans,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=customerlicenseplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=customerlicenseplans/finalizers,verbs=update
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseproducts;billingprofiles,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one plan's status up to date and places the order it needs next.
func (r *PlanReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	plan := &v1alpha1.CustomerLicensePlan{}
	if err := r.Get(ctx, req.NamespacedName, plan); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	orders, err := listOrders(ctx, r, plan.Namespace, plan.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !plan.DeletionTimestamp.IsZero() {
		return settle(ctx, ctrl.Result{}, r.cancel(ctx, plan, orders))
	}
	if err := r.patchFinalizer(ctx, plan, controllerutil.AddFinalizer); err != nil {
		return settle(ctx, ctrl.Result{}, err)
	}
	before := plan.DeepCopy()
	r.applyFulfilled(plan, orders)

	d, err := r.decide(ctx, plan, orders)
	if err != nil {
		return settle(ctx, ctrl.Result{}, err)
	}
	var result ctrl.Result
	if !d.nextAt.IsZero() {
		result.RequeueAfter = max(d.nextAt.Sub(r.Clock.Now()), time.Second)
	}
	return settle(ctx, result, r.writeStatus(ctx, plan, before, d))
}

// patchFinalizer adds or removes the cancellation finalizer with a patch of the finalizers alone:
// an update would send back the whole spec, re-encoded, and could change what the user wrote.
func (r *PlanReconciler) patchFinalizer(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, change func(client.Object, string) bool) error {
	before := plan.DeepCopy()
	if !change(plan, v1alpha1.CancellationFinalizer) {
		return nil
	}
	return client.IgnoreNotFound(r.Patch(ctx, plan, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner)))
}

// writeStatus sets the plan's usage, billing and conditions, and writes the status if it changed.
func (r *PlanReconciler) writeStatus(ctx context.Context, plan, before *v1alpha1.CustomerLicensePlan, d decision) error {
	assignments, err := ListAssignments(ctx, r, plan.Namespace, plan.Name)
	if err != nil {
		return err
	}
	r.setStatus(plan, d, int32(len(assignments)))
	if equality.Semantic.DeepEqual(before.Status, plan.Status) {
		return nil
	}
	// The update carries the resourceVersion that was read, so it fails if another writer (a
	// second replica, or this one with a stale cache) changed the plan since: an order is then
	// never applied twice, because the revision it raises is part of the same write.
	return client.IgnoreNotFound(r.Status().Update(ctx, plan, client.FieldOwner(FieldOwner)))
}

// applyFulfilled applies, in revision order, the fulfilled orders the plan's status does not hold yet.
func (r *PlanReconciler) applyFulfilled(plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) {
	for i := range orders {
		o := &orders[i]
		if o.Spec.Revision <= plan.Status.Revision || o.Status.State != v1alpha1.OrderFulfilled {
			continue
		}
		start, err := licensing.BillingStart(plan.Spec, plan.Status, plan.CreationTimestamp.Time, o.Spec)
		if err != nil {
			r.Recorder.Eventf(plan, o, corev1.EventTypeWarning, "InvalidStartDate", "ApplyOrder", "spec.startDate: %v", err)
			return
		}
		next, err := licensing.ApplyOrder(plan.Status, o, start)
		if err != nil {
			r.Recorder.Eventf(plan, o, corev1.EventTypeWarning, "OrderNotApplied", "ApplyOrder", "%v", err)
			return
		}
		plan.Status = next
		r.Recorder.Eventf(plan, o, corev1.EventTypeNormal, "OrderApplied", "ApplyOrder",
			"order %s (%s) applied: %d licenses of %s in force", o.Name, o.Spec.Change, plan.Status.Licenses, plan.Status.Product)
	}
}

// decision is what the plan reconciler decided: what the Ready condition is computed from, and
// when the order the plan needs next changes by time alone.
type decision struct {
	readiness licensing.Readiness
	nextAt    time.Time
	// nextPrice is the catalog price of the product and payment plan scheduled for the next term.
	nextPrice v1alpha1.Amount
}

// decide places the order the plan needs next: the first of licensing.OrdersDue, the function the
// admission preview quotes from. One order is in flight at a time. A change that was refused is not
// ordered again until the refusal no longer holds (usage dropped, a required plan appeared, the
// catalog or profile changed), so a refusal never turns into a loop.
func (r *PlanReconciler) decide(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) (decision, error) {
	profile, err := GetProfile(ctx, r)
	if err != nil {
		return decision{}, err
	}
	catalog, err := PlanCatalog(ctx, r, plan)
	if err != nil {
		return decision{}, err
	}
	d := decision{readiness: licensing.Readiness{NoProfile: profile == nil}}
	latest := lastOf(orders)
	in := licensing.DueInput{
		Spec: plan.Spec, Status: plan.Status, Created: plan.CreationTimestamp.Time, Catalog: catalog,
		Currency: licensing.Currency(profileSpec(profile)), ExpiredWithSpec: expiredWithSpec(plan, orders), Now: r.Clock.Now(),
	}
	if needed, ok := licensing.Needed(in); ok {
		d.readiness.Needed = &needed
	}
	// The renewal of the current term, when it was refused: the plan expires unless the refusal
	// no longer holds.
	if licensing.RefusedRenewal(latest, plan.Status) {
		if d.readiness.RenewalRefusal, err = r.revalidate(ctx, plan, latest); err != nil {
			return d, err
		}
		in.RenewalRefused = !d.readiness.RenewalRefusal.Passed()
	}
	plan.Status.RenewalAction = licensing.RenewalActionFor(plan.Spec.Renewal.Policy, plan.Status, catalog[plan.Status.Product], in.RenewalRefused)
	next := licensing.Scheduled(plan.Status)
	d.nextPrice = licensing.CatalogPrice(catalog[next.Product], next.PaymentPlan)
	due := licensing.OrdersDue(in, 1)
	d.nextAt = due.Next

	if licensing.InFlight(plan.Status, latest) {
		d.readiness.InFlight = latest
		return d, nil
	}
	if len(due.Orders) == 0 {
		d.readiness.SpecRefusal = licensing.ValidateSpec(licensing.OrderInput{
			CostCenter: licensing.EffectiveCostCenter(plan.Spec.CostCenter, profileSpec(profile)), Profile: profileSpec(profile)})
		return d, nil
	}
	place := due.Orders[0].ChangeRequest
	if !licensing.IsTermOrder(place.Change) {
		if licensing.RefusedForSpec(latest, plan.Generation, place) {
			d.readiness.Rejected = latest
			if d.readiness.Refusal, err = r.revalidate(ctx, plan, latest); err != nil || !d.readiness.Refusal.Passed() {
				return d, err
			}
			d.readiness.Rejected = nil
		}
		if d.readiness.AwaitedPlans, err = r.awaitedPlans(ctx, plan, place, catalog); err != nil || d.readiness.AwaitedPlans != nil {
			return d, err
		}
	}
	order, err := r.placeOrder(ctx, plan, r.orderSpec(plan, place, nextRevision(plan, latest), profile, catalog))
	if err != nil {
		return d, err
	}
	d.readiness.InFlight = order
	return d, nil
}

// expiredWithSpec reports whether the plan expired with the spec it has now: it orders nothing
// until its spec changes after the expiry.
func expiredWithSpec(plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) bool {
	for i := range orders {
		if o := &orders[i]; o.Name == plan.Status.LastOrder {
			return licensing.ExpiredOnSpec(plan.Status, o, plan.Generation)
		}
	}
	return false
}

// awaitedPlans names the customer's plans that are still being ordered and that the change
// requires: the change is ordered once they are in force, rather than refused now.
func (r *PlanReconciler) awaitedPlans(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, req licensing.ChangeRequest, catalog map[string]*v1alpha1.LicenseProductSpec) ([]string, error) {
	product := catalog[req.Product]
	if product == nil || len(product.Requires) == 0 {
		return nil, nil
	}
	active, ordering, err := CustomerPlans(ctx, r, plan)
	if err != nil {
		return nil, err
	}
	return licensing.AwaitedPlans(licensing.OrderInput{Plan: plan.Name, Change: req.Change, ProductName: req.Product,
		Product: product, Quantity: req.Quantity, OtherPlans: active}, ordering), nil
}

// revalidate tells whether a refusal still holds: a standing one (a person's denial) does, and any
// other is judged again by the business rules, with what the API server holds now, as the order
// reconciler judged it: the two never disagree because of a cache, so a refusal is not ordered
// again in a loop.
func (r *PlanReconciler) revalidate(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, refused *v1alpha1.LicenseOrder) (licensing.Verdict, error) {
	if v, ok := licensing.StandingRefusal(refused); ok {
		return v, nil
	}
	input, err := ReadOrderInput(ctx, r.APIReader, plan, refused.Spec)
	if err != nil {
		return licensing.Verdict{}, err
	}
	return licensing.ValidateOrder(input), nil
}

func lastOf(orders []v1alpha1.LicenseOrder) *v1alpha1.LicenseOrder {
	if len(orders) == 0 {
		return nil
	}
	return &orders[len(orders)-1]
}

// nextRevision is one more than the highest revision the plan or its orders used.
func nextRevision(plan *v1alpha1.CustomerLicensePlan, latest *v1alpha1.LicenseOrder) int64 {
	rev := plan.Status.Revision
	if latest != nil && latest.Spec.Revision > rev {
		rev = latest.Spec.Revision
	}
	return rev + 1
}

// orderSpec is the order of req for the plan: what it changes, who asked for it, and what it bills.
func (r *PlanReconciler) orderSpec(plan *v1alpha1.CustomerLicensePlan, req licensing.ChangeRequest, revision int64, profile *v1alpha1.BillingProfile, catalog map[string]*v1alpha1.LicenseProductSpec) v1alpha1.LicenseOrderSpec {
	spec := req.OrderSpec(revision)
	spec.Plan, spec.Customer = plan.Name, plan.Spec.Customer
	if p := catalog[req.Product]; p != nil {
		spec.SKU = p.SKU
	}
	spec.PurchaseReference = plan.Spec.PurchaseReference
	spec.CostCenter = licensing.EffectiveCostCenter(plan.Spec.CostCenter, profileSpec(profile))
	spec.RequestedBy = requestedBy(plan, req.Change)
	spec.PlanGeneration = plan.Generation
	return spec
}

// requestedBy is who an order is placed for: the user who last changed the plan's spec, or System
// for the operator's own term orders and for cancellations (the API server does not tell the
// operator who deleted a plan).
func requestedBy(plan *v1alpha1.CustomerLicensePlan, change v1alpha1.OrderChange) string {
	if licensing.IsTermOrder(change) || change == v1alpha1.ChangeCancellation {
		return v1alpha1.SystemUser
	}
	return plan.Annotations[RequestedByAnnotation]
}

// placeOrder creates the order <plan>-<revision>, once the API server confirms that the copy of the
// plan the decision was made from is current: a replica whose cache lags behind never orders from
// an outdated spec or status. The name makes a repeated create harmless: if the order exists
// already (a restart between the create and the status write, a second replica, or a cache that
// has not seen it yet), the existing order is the one in flight.
func (r *PlanReconciler) placeOrder(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, spec v1alpha1.LicenseOrderSpec) (*v1alpha1.LicenseOrder, error) {
	live := &v1alpha1.CustomerLicensePlan{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(plan), live); err != nil {
		return nil, err
	}
	if live.ResourceVersion != plan.ResourceVersion {
		return nil, apierrors.NewConflict(v1alpha1.GroupVersion.WithResource("customerlicenseplans").GroupResource(), plan.Name,
			fmt.Errorf("the cached copy of the plan (resourceVersion %s) is older than the API server's (%s): no order is placed from it", plan.ResourceVersion, live.ResourceVersion))
	}
	order := &v1alpha1.LicenseOrder{
		ObjectMeta: metav1.ObjectMeta{
			Name:      OrderName(plan.Name, spec.Revision),
			Namespace: plan.Namespace,
			Labels:    map[string]string{v1alpha1.PlanLabel: plan.Name},
		},
		Spec: spec,
	}
	if err := r.Create(ctx, order, client.FieldOwner(FieldOwner)); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("placing order %s: %w", order.Name, err)
		}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(order), order); err != nil {
			return nil, err
		}
		return order, nil
	}
	log.FromContext(ctx).Info("order placed", "order", order.Name, "change", spec.Change, "quantity", spec.Quantity)
	r.Recorder.Eventf(plan, order, corev1.EventTypeNormal, "OrderPlaced", "PlaceOrder",
		"order %s placed: %s, %d x %s, %s", order.Name, spec.Change, spec.Quantity, spec.Product, spec.PaymentPlan)
	return order, nil
}

// OrderName is the name of a plan's order of a revision.
func OrderName(plan string, revision int64) string {
	return plan + "-" + strconv.FormatInt(revision, 10)
}

// setStatus sets the plan's usage, billing summary, conditions and observedGeneration.
func (r *PlanReconciler) setStatus(plan *v1alpha1.CustomerLicensePlan, d decision, assigned int32) {
	now := metav1.NewTime(r.Clock.Now())
	readiness := d.readiness
	plan.Status.Billing = licensing.BillingSummary(plan.Status, plan.Status.RenewalAction, d.nextPrice)
	if plan.Status.Usage.Assigned != assigned || plan.Status.Usage.ObservedAt == nil {
		plan.Status.Usage = v1alpha1.Usage{Assigned: assigned, ObservedAt: &now}
	}
	readiness.Status = plan.Status
	for _, c := range []metav1.Condition{
		licensing.ReadyCondition(readiness),
		licensing.UsageCoveredCondition(plan.Status.Licenses, assigned),
	} {
		setCondition(&plan.Status.Conditions, c, plan.Generation, now)
	}
	plan.Status.ObservedGeneration = plan.Generation
}

// setCondition sets a condition with the observed generation, keeping its transition time unless
// its status changes.
func setCondition(conds *[]metav1.Condition, c metav1.Condition, generation int64, now metav1.Time) {
	c.ObservedGeneration = generation
	c.LastTransitionTime = now
	meta.SetStatusCondition(conds, c)
}
