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
// orders in revision order, places the order its spec needs next, and sets its conditions.
type PlanReconciler struct {
	client.Client
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
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
		return ctrl.Result{}, r.cancel(ctx, plan, orders)
	}
	if err := r.patchFinalizer(ctx, plan, controllerutil.AddFinalizer); err != nil {
		return ctrl.Result{}, err
	}
	before := plan.DeepCopy()
	r.applyFulfilled(plan, orders)

	d, err := r.decide(ctx, plan, orders)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.writeStatus(ctx, plan, before, d); err != nil {
		if apierrors.IsConflict(err) {
			// Another writer was first; the watch brings the plan back with its latest state.
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, err
	}
	if d.nextAt.IsZero() {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: max(d.nextAt.Sub(r.Clock.Now()), time.Second)}, nil
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
// when the plan's next term order falls due.
type decision struct {
	readiness licensing.Readiness
	nextAt    time.Time
	// nextPrice is the catalog price of the product and payment plan scheduled for the next term.
	nextPrice v1alpha1.Amount
}

// decide places the order the plan needs next: its term's Renewal or Expiry when due, or the
// change its spec asks for. One order is in flight at a time. A change that was refused is not
// ordered again until the refusal no longer holds (usage dropped, a required plan appeared, the
// catalog or profile changed), so a refusal never turns into a loop.
func (r *PlanReconciler) decide(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) (decision, error) {
	profile, err := GetProfile(ctx, r)
	if err != nil {
		return decision{}, err
	}
	inForce, err := GetProduct(ctx, r, plan.Status.Product)
	if err != nil {
		return decision{}, err
	}
	d := decision{readiness: licensing.Readiness{NoProfile: profile == nil}}
	latest := lastOf(orders)
	now := r.Clock.Now()

	needed, err := r.neededChange(ctx, plan, orders)
	if err != nil {
		return d, err
	}
	d.readiness.Needed = needed

	// The renewal of the current term, when it was refused: the plan expires unless the refusal
	// no longer holds.
	if licensing.RefusedRenewal(latest, plan.Status) {
		if d.readiness.RenewalRefusal, err = r.revalidate(ctx, plan, latest); err != nil {
			return d, err
		}
	}
	plan.Status.RenewalAction = licensing.RenewalActionFor(plan.Spec.Renewal.Policy, plan.Status, productSpec(inForce), !d.readiness.RenewalRefusal.Passed())
	termReq, termDue, nextAt := licensing.TermOrder(licensing.TermInput{
		Status: plan.Status, Action: plan.Status.RenewalAction, RenewBefore: renewBefore(plan), Now: now,
	})
	d.nextAt = nextAt
	if d.nextPrice, err = r.scheduledPrice(ctx, plan.Status); err != nil {
		return d, err
	}

	if licensing.InFlight(plan.Status, latest) {
		d.readiness.InFlight = latest
		return d, nil
	}
	var place *licensing.ChangeRequest
	switch {
	case termDue && licensing.TermOrderFirst(plan.Status, needed != nil, now):
		place = &termReq
	case needed != nil:
		if licensing.RefusedForSpec(latest, plan.Generation, *needed) {
			d.readiness.Rejected = latest
			if d.readiness.Refusal, err = r.revalidate(ctx, plan, latest); err != nil || !d.readiness.Refusal.Passed() {
				return d, err
			}
			d.readiness.Rejected = nil
		}
		if d.readiness.AwaitedPlans, err = r.awaitedPlans(ctx, plan, *needed); err != nil || d.readiness.AwaitedPlans != nil {
			return d, err
		}
		place = needed
	default:
		return d, nil
	}
	order, err := r.createOrder(ctx, plan, r.orderSpec(plan, *place, nextRevision(plan, latest), profile))
	if err != nil {
		return d, err
	}
	d.readiness.InFlight = order
	return d, nil
}

// neededChange is the change the plan's spec asks for, nil when it is in force. An expired plan
// needs nothing until its spec changes after the expiry.
func (r *PlanReconciler) neededChange(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) (*licensing.ChangeRequest, error) {
	for i := range orders {
		if o := &orders[i]; o.Name == plan.Status.LastOrder && licensing.ExpiredOnSpec(plan.Status, o, plan.Generation) {
			return nil, nil
		}
	}
	upgrade, err := r.isUpgrade(ctx, plan)
	if err != nil {
		return nil, err
	}
	needed, ok := licensing.NeededChange(plan.Spec, plan.Status, r.Clock.Now(), upgrade)
	if !ok {
		return nil, nil
	}
	return &needed, nil
}

// scheduledPrice is the catalog price of the product and payment plan scheduled for the next term.
func (r *PlanReconciler) scheduledPrice(ctx context.Context, st v1alpha1.CustomerLicensePlanStatus) (v1alpha1.Amount, error) {
	next := licensing.Scheduled(st)
	p, err := GetProduct(ctx, r, next.Product)
	if err != nil || p == nil {
		return "", err
	}
	price, _ := licensing.PriceFor(&p.Spec, next.PaymentPlan)
	return price, nil
}

// awaitedPlans names the customer's plans that are still being ordered and that the change
// requires: the change is ordered once they are in force, rather than refused now.
func (r *PlanReconciler) awaitedPlans(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, req licensing.ChangeRequest) ([]string, error) {
	spec := r.orderSpec(plan, req, 0, nil)
	input, _, _, err := GatherOrderInput(ctx, r, plan, spec)
	if err != nil {
		return nil, err
	}
	_, ordering, err := CustomerPlans(ctx, r, plan)
	if err != nil {
		return nil, err
	}
	return licensing.AwaitedPlans(input, ordering), nil
}

// revalidate tells whether a refusal still holds: a standing one (a person's denial) does, and any
// other is judged again by the business rules, with what holds now.
func (r *PlanReconciler) revalidate(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, refused *v1alpha1.LicenseOrder) (licensing.Verdict, error) {
	if v, ok := licensing.StandingRefusal(refused); ok {
		return v, nil
	}
	input, _, _, err := GatherOrderInput(ctx, r, plan, refused.Spec)
	if err != nil {
		return licensing.Verdict{}, err
	}
	return licensing.ValidateOrder(input), nil
}

func renewBefore(plan *v1alpha1.CustomerLicensePlan) time.Duration {
	if rb := plan.Spec.Renewal.RenewBefore; rb != nil {
		return rb.Duration
	}
	return 7 * 24 * time.Hour
}

func lastOf(orders []v1alpha1.LicenseOrder) *v1alpha1.LicenseOrder {
	if len(orders) == 0 {
		return nil
	}
	return &orders[len(orders)-1]
}

func (r *PlanReconciler) isUpgrade(ctx context.Context, plan *v1alpha1.CustomerLicensePlan) (bool, error) {
	if plan.Spec.Product == plan.Status.Product || plan.Status.Product == "" {
		return false, nil
	}
	from, err := GetProduct(ctx, r, plan.Status.Product)
	if err != nil {
		return false, err
	}
	to, err := GetProduct(ctx, r, plan.Spec.Product)
	if err != nil {
		return false, err
	}
	return licensing.IsUpgrade(productSpec(from), productSpec(to), plan.Status.PaymentPlan), nil
}

// nextRevision is one more than the highest revision the plan or its orders used.
func nextRevision(plan *v1alpha1.CustomerLicensePlan, latest *v1alpha1.LicenseOrder) int64 {
	rev := plan.Status.Revision
	if latest != nil && latest.Spec.Revision > rev {
		rev = latest.Spec.Revision
	}
	return rev + 1
}

func (r *PlanReconciler) orderSpec(plan *v1alpha1.CustomerLicensePlan, req licensing.ChangeRequest, revision int64, profile *v1alpha1.BillingProfile) v1alpha1.LicenseOrderSpec {
	return v1alpha1.LicenseOrderSpec{
		Plan:              plan.Name,
		Customer:          plan.Spec.Customer,
		Revision:          revision,
		Change:            req.Change,
		Product:           req.Product,
		PaymentPlan:       req.PaymentPlan,
		Quantity:          req.Quantity,
		PreviousQuantity:  req.PreviousQuantity,
		EffectiveDate:     licensing.FormatDate(req.EffectiveDate),
		PurchaseReference: plan.Spec.PurchaseReference,
		CostCenter:        licensing.EffectiveCostCenter(plan.Spec.CostCenter, profileSpec(profile)),
		RequestedBy:       requestedBy(plan, req.Change),
		PlanGeneration:    plan.Generation,
	}
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

// createOrder creates the order <plan>-<revision>. The name makes a repeated create harmless: if
// the order exists already (a restart between the create and the status write, or a cache that
// has not seen it yet), the existing order is the one in flight.
func (r *PlanReconciler) createOrder(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, spec v1alpha1.LicenseOrderSpec) (*v1alpha1.LicenseOrder, error) {
	if p, err := GetProduct(ctx, r, spec.Product); err != nil {
		return nil, err
	} else if p != nil {
		spec.SKU = p.Spec.SKU
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
		if err := r.Get(ctx, client.ObjectKeyFromObject(order), order); err != nil {
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
