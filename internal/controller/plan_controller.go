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

// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=customerlicenseplans,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=customerlicenseplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=customerlicenseplans/finalizers,verbs=update
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseproducts;billingprofiles,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one plan's status up to date and places the order its spec needs.
func (r *PlanReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	plan := &v1alpha1.CustomerLicensePlan{}
	if err := r.Get(ctx, req.NamespacedName, plan); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !plan.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	before := plan.DeepCopy()

	orders, err := listOrders(ctx, r, plan.Namespace, plan.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.applyFulfilled(plan, orders)

	readiness, err := r.placeNeededOrder(ctx, plan, orders)
	if err != nil {
		return ctrl.Result{}, err
	}
	assignments, err := listAssignments(ctx, r, plan.Namespace, plan.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	inForce, err := getProduct(ctx, r, plan.Status.Product)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.setStatus(plan, readiness, int32(len(assignments)), productSpec(inForce))

	if equality.Semantic.DeepEqual(before.Status, plan.Status) {
		return ctrl.Result{}, nil
	}
	// The optimistic lock makes the status write fail if another writer (a second replica, or
	// this one with a stale cache) changed the plan since it was read: an order is then never
	// applied twice, because the revision it raises is part of the same write.
	if err := r.Status().Patch(ctx, plan, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner)); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// applyFulfilled applies, in revision order, the fulfilled orders the plan's status does not hold yet.
func (r *PlanReconciler) applyFulfilled(plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) {
	start, err := licensing.StartDate(plan.Spec.StartDate, plan.CreationTimestamp.Time)
	if plan.Status.StartDate != "" {
		start, err = licensing.ParseDate(plan.Status.StartDate)
	}
	for i := range orders {
		o := &orders[i]
		if o.Spec.Revision <= plan.Status.Revision || o.Status.State != v1alpha1.OrderFulfilled {
			continue
		}
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

// placeNeededOrder places the order the plan's spec needs next, unless an order is in flight or
// the same change was rejected and nothing it depends on has changed since. It returns what the
// Ready condition is computed from.
func (r *PlanReconciler) placeNeededOrder(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) (licensing.Readiness, error) {
	profile, err := getProfile(ctx, r)
	if err != nil {
		return licensing.Readiness{}, err
	}
	readiness := licensing.Readiness{Plan: plan.Name, NoProfile: profile == nil}
	var latest *v1alpha1.LicenseOrder
	if n := len(orders); n > 0 {
		latest = &orders[n-1]
	}
	if latest != nil && latest.Spec.Revision > plan.Status.Revision && latest.Status.State != v1alpha1.OrderRejected {
		readiness.InFlight = latest
		return readiness, nil
	}

	upgrade, err := r.isUpgrade(ctx, plan)
	if err != nil {
		return readiness, err
	}
	needed, ok := licensing.NeededChange(plan.Spec, plan.Status, r.Clock.Now(), upgrade)
	if !ok {
		return readiness, nil
	}
	readiness.Needed = &needed
	spec := r.orderSpec(plan, needed, nextRevision(plan, latest), profile)

	if latest != nil && latest.Status.State == v1alpha1.OrderRejected && latest.Spec.PlanGeneration == plan.Generation && needed.Same(latest.Spec) {
		// The same change was refused already: order it again only once the refusal no longer
		// holds (usage dropped, a required plan appeared, the catalog or profile changed).
		input, _, _, err := orderInput(ctx, r, plan, spec)
		if err != nil {
			return readiness, err
		}
		readiness.Rejected = latest
		if readiness.Refusal = licensing.ValidateOrder(input); !readiness.Refusal.Passed() {
			return readiness, nil
		}
	}

	order, err := r.createOrder(ctx, plan, spec)
	if err != nil {
		return readiness, err
	}
	readiness.Rejected, readiness.Refusal, readiness.InFlight = nil, licensing.Verdict{}, order
	return readiness, nil
}

func (r *PlanReconciler) isUpgrade(ctx context.Context, plan *v1alpha1.CustomerLicensePlan) (bool, error) {
	if plan.Spec.Product == plan.Status.Product || plan.Status.Product == "" {
		return false, nil
	}
	from, err := getProduct(ctx, r, plan.Status.Product)
	if err != nil {
		return false, err
	}
	to, err := getProduct(ctx, r, plan.Spec.Product)
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
		RequestedBy:       plan.Annotations[RequestedByAnnotation],
		PlanGeneration:    plan.Generation,
	}
}

// createOrder creates the order <plan>-<revision>. The name makes a repeated create harmless: if
// the order exists already (a restart between the create and the status write, or a cache that
// has not seen it yet), the existing order is the one in flight.
func (r *PlanReconciler) createOrder(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, spec v1alpha1.LicenseOrderSpec) (*v1alpha1.LicenseOrder, error) {
	if p, err := getProduct(ctx, r, spec.Product); err != nil {
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

// setStatus sets the plan's usage, renewal action, billing summary, conditions and
// observedGeneration. inForce is the catalog entry of the product in force.
func (r *PlanReconciler) setStatus(plan *v1alpha1.CustomerLicensePlan, readiness licensing.Readiness, assigned int32, inForce *v1alpha1.LicenseProductSpec) {
	now := metav1.NewTime(r.Clock.Now())
	plan.Status.RenewalAction = licensing.RenewalActionFor(plan.Spec.Renewal.Policy, plan.Status, inForce)
	plan.Status.Billing = licensing.BillingSummary(plan.Status, plan.Status.RenewalAction)
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
