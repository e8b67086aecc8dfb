package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// cancel records the cancellation of a deleted plan (licensing.NextCancelStep). An order still
// open, such as a renewal placed before its term ends or an order awaiting approval, is closed
// without a charge by the order reconciler, which sees the plan being deleted; then a Cancellation
// order is placed and fulfilled like any order, and the finalizer released. A plan that ordered
// anything records its Cancellation, in force or not. No refund is made, and the orders stay as
// history.
func (r *PlanReconciler) cancel(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) error {
	if !controllerutil.ContainsFinalizer(plan, v1alpha1.CancellationFinalizer) {
		return nil
	}
	before := plan.DeepCopy()
	r.applyFulfilled(plan, orders)
	latest := lastOf(orders)
	cancelling := decision{readiness: licensing.Readiness{Cancelling: true}}
	switch licensing.NextCancelStep(plan.Status, latest) {
	case licensing.CancelRelease:
		return r.patchFinalizer(ctx, plan, controllerutil.RemoveFinalizer)
	case licensing.CancelPlace:
		profile, err := GetProfile(ctx, r)
		if err != nil {
			return err
		}
		req := licensing.CancellationRequest(plan.Spec, plan.Status, r.Clock.Now())
		catalog, err := Catalog(ctx, r, req.Product)
		if err != nil {
			return err
		}
		order, err := r.placeOrder(ctx, plan, r.orderSpec(plan, req, nextRevision(plan, latest), profile, catalog))
		if err != nil {
			return err
		}
		cancelling.readiness.InFlight = order
	}
	return r.writeStatus(ctx, plan, before, cancelling)
}
