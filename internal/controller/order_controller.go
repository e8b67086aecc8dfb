package controller

import (
	"context"
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
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// OrderReconciler takes a LicenseOrder from Pending to Rejected or Fulfilled: it validates the
// order against the business rules, approves it, and prices it. Its state, conditions and charge
// are written in one status write, so an order is charged once however often it is reconciled.
type OrderReconciler struct {
	client.Client
	// APIReader reads the BillingProfile from the API server rather than the cache: approval and
	// currency are decided by the profile as it is now.
	APIReader client.Reader
	Clock     clock.PassiveClock
	Recorder  events.EventRecorder
}

// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders,verbs=get;list;watch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseassignments,verbs=get;list;watch

// Reconcile validates, approves and fulfils one order.
func (r *OrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	order := &v1alpha1.LicenseOrder{}
	if err := r.Get(ctx, req.NamespacedName, order); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if isTerminal(order) {
		return ctrl.Result{}, nil
	}
	plan := &v1alpha1.CustomerLicensePlan{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: order.Namespace, Name: order.Spec.Plan}, plan); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		plan = nil
	}
	if plan != nil {
		ready, err := r.planCaughtUp(ctx, plan, order)
		if err != nil || !ready {
			// The plan's status in the cache predates an earlier order of it; the plan watch
			// brings this order back once the cache has caught up.
			return ctrl.Result{}, err
		}
	}

	before := order.DeepCopy()
	now := metav1.NewTime(r.Clock.Now())
	if err := r.decide(ctx, order, plan, now); err != nil {
		return ctrl.Result{}, err
	}
	var result ctrl.Result
	if due := licensing.DueAt(order.Spec); !isTerminal(order) && now.Before(&metav1.Time{Time: due}) {
		// A term order is validated when it is placed, so that a problem shows before the term
		// ends, and fulfilled (charged) when the term ends.
		result.RequeueAfter = due.Sub(now.Time)
	}
	if equality.Semantic.DeepEqual(before.Status, order.Status) {
		return result, nil
	}
	if err := r.Status().Patch(ctx, order, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner)); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if before.Status.State != order.Status.State {
		r.record(order, plan)
	}
	return result, nil
}

func isTerminal(o *v1alpha1.LicenseOrder) bool {
	return o.Status.State == v1alpha1.OrderFulfilled || o.Status.State == v1alpha1.OrderRejected
}

// planCaughtUp reports whether the plan's status holds every fulfilled order placed before this
// one, so that the order is validated and priced against what is really in force.
func (r *OrderReconciler) planCaughtUp(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, order *v1alpha1.LicenseOrder) (bool, error) {
	orders, err := listOrders(ctx, r, plan.Namespace, plan.Name)
	if err != nil {
		return false, err
	}
	for _, o := range orders {
		if o.Spec.Revision >= order.Spec.Revision {
			break
		}
		if o.Status.State == v1alpha1.OrderFulfilled && o.Spec.Revision > plan.Status.Revision {
			return false, nil
		}
	}
	return true, nil
}

// decide sets the order's status: rejected with the first rule it breaks, or approved, priced
// and fulfilled.
func (r *OrderReconciler) decide(ctx context.Context, order *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan, now metav1.Time) error {
	if plan == nil {
		reject(order, licensing.Verdict{Reason: "PlanNotFound",
			Message: "plan " + order.Spec.Plan + " does not exist: the order cannot take effect"}, now)
		return nil
	}
	input, product, _, err := GatherOrderInput(ctx, r, plan, order.Spec)
	if err != nil {
		return err
	}
	profile, err := GetProfile(ctx, r.APIReader)
	if err != nil {
		return err
	}
	input.Profile = profileSpec(profile)
	assigned := input.Assigned
	order.Status.UsageAtValidation = &assigned
	if v := licensing.ValidateOrder(input); !v.Passed() {
		reject(order, v, now)
		return nil
	}
	setCondition(&order.Status.Conditions, metav1.Condition{Type: v1alpha1.OrderValid, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonValid, Message: "every business rule passed"}, order.Generation, now)
	if order.Status.State == "" {
		order.Status.State = v1alpha1.OrderPending
	}

	price, err := r.price(order, plan, product, profile)
	if err != nil {
		return err
	}
	charge := &v1alpha1.Charge{Amount: price.Charge.Amount(), Currency: currency(profile), Description: price.Description}
	switch approved := meta.FindStatusCondition(order.Status.Conditions, v1alpha1.OrderApproved); {
	case approved != nil && approved.Status == metav1.ConditionFalse:
		reject(order, licensing.Verdict{Reason: v1alpha1.ReasonDenied, Message: "the order was denied: " + approved.Message}, now)
		return nil
	case approved != nil && approved.Status == metav1.ConditionTrue:
	default:
		if needed, why := licensing.ApprovalNeeded(profileSpec(profile), order.Spec.Change, price.Charge); needed {
			// The approver sees what they approve: the charge, computed as it will be billed.
			order.Status.State = v1alpha1.OrderAwaitingApproval
			order.Status.Charge, order.Status.PricePerLicense = charge, price.PricePerLicense.Amount()
			order.Status.Message = fmt.Sprintf("waits for a person's approval, because %s: an approver sets the Approved condition", why)
			return nil
		}
		// Approved is set once and never changed afterwards.
		setCondition(&order.Status.Conditions, metav1.Condition{Type: v1alpha1.OrderApproved, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonAutomatic, Message: "approved automatically by the billing profile's approval policy"}, order.Generation, now)
	}
	if now.Time.Before(licensing.DueAt(order.Spec)) {
		order.Status.State = v1alpha1.OrderPending
		return nil
	}
	order.Status.Message = ""
	order.Status.PricePerLicense, order.Status.Charge = price.PricePerLicense.Amount(), charge
	order.Status.State = v1alpha1.OrderFulfilled
	order.Status.FulfilledAt = &now
	setCondition(&order.Status.Conditions, metav1.Condition{Type: v1alpha1.OrderFulfilledCondition, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonFulfilled, Message: "charged " + string(charge.Amount) + " " + charge.Currency}, order.Generation, now)
	return nil
}

// price computes the order's charge against the plan in force and the catalog.
func (r *OrderReconciler) price(order *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan, product *v1alpha1.LicenseProduct, profile *v1alpha1.BillingProfile) (licensing.Pricing, error) {
	var catalogPrice v1alpha1.Amount
	if product != nil {
		catalogPrice, _ = licensing.PriceFor(&product.Spec, order.Spec.PaymentPlan)
	}
	start, err := licensing.BillingStart(plan.Spec, plan.Status, plan.CreationTimestamp.Time, order.Spec)
	if err != nil {
		return licensing.Pricing{}, err
	}
	return licensing.PriceOrder(licensing.PricingInput{
		Order: order.Spec, Plan: plan.Status, CatalogPrice: catalogPrice, Currency: currency(profile), StartDate: start,
	})
}

func reject(order *v1alpha1.LicenseOrder, v licensing.Verdict, now metav1.Time) {
	order.Status.State = v1alpha1.OrderRejected
	order.Status.Reason, order.Status.Message = v.Reason, v.Message
	setCondition(&order.Status.Conditions, metav1.Condition{Type: v1alpha1.OrderValid, Status: metav1.ConditionFalse,
		Reason: v.Reason, Message: v.Message}, order.Generation, now)
}

func (r *OrderReconciler) record(order *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan) {
	var related = plan
	switch order.Status.State {
	case v1alpha1.OrderFulfilled:
		r.Recorder.Eventf(order, related, corev1.EventTypeNormal, "OrderFulfilled", "FulfilOrder",
			"order %s fulfilled: %s, %d x %s, charge %s %s", order.Name, order.Spec.Change, order.Spec.Quantity,
			order.Spec.Product, order.Status.Charge.Amount, order.Status.Charge.Currency)
	case v1alpha1.OrderAwaitingApproval:
		r.Recorder.Eventf(order, related, corev1.EventTypeNormal, "AwaitingApproval", "ApproveOrder",
			"order %s (%s, charge %s %s) %s", order.Name, order.Spec.Change, order.Status.Charge.Amount, order.Status.Charge.Currency, order.Status.Message)
	case v1alpha1.OrderRejected:
		r.Recorder.Eventf(order, related, corev1.EventTypeWarning, "OrderRejected", "ValidateOrder",
			"order %s rejected, %s: %s", order.Name, order.Status.Reason, order.Status.Message)
	}
}

// SetupWithManager registers the order reconciler. It also watches plans, to bring back the
// orders that waited for their plan's status to catch up.
func (r *OrderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.LicenseOrder{}).
		Named("licenseorder").
		Watches(&v1alpha1.CustomerLicensePlan{}, handler.EnqueueRequestsFromMapFunc(r.openOrdersOfPlan)).
		Complete(r)
}

func (r *OrderReconciler) openOrdersOfPlan(ctx context.Context, o client.Object) []reconcile.Request {
	orders, err := listOrders(ctx, r, o.GetNamespace(), o.GetName())
	if err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range orders {
		if !isTerminal(&orders[i]) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&orders[i])})
		}
	}
	return reqs
}
