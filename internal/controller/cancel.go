package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// cancel records the cancellation of a deleted plan: a Cancellation order, placed once the
// order in flight (if any) is settled, and fulfilled like any order. The finalizer holds the
// plan until that order is fulfilled; a plan that never had licenses in force has nothing to
// cancel. No refund is made, and the orders stay as history.
func (r *PlanReconciler) cancel(ctx context.Context, plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) error {
	if !controllerutil.ContainsFinalizer(plan, v1alpha1.CancellationFinalizer) {
		return nil
	}
	before := plan.DeepCopy()
	r.applyFulfilled(plan, orders)
	if licensing.HasPlanInForce(plan.Status) || plan.Status.Licenses > 0 {
		latest := lastOf(orders)
		if latest == nil || latest.Spec.Change != v1alpha1.ChangeCancellation {
			if !licensing.CancellationWaits(plan.Status, latest) {
				req := licensing.ChangeRequest{Change: v1alpha1.ChangeCancellation, Product: plan.Status.Product,
					PaymentPlan: plan.Status.PaymentPlan, PreviousQuantity: plan.Status.Licenses, EffectiveDate: licensing.Day(r.Clock.Now())}
				profile, err := GetProfile(ctx, r)
				if err != nil {
					return err
				}
				if _, err := r.createOrder(ctx, plan, r.orderSpec(plan, req, nextRevision(plan, latest), profile)); err != nil {
					return err
				}
			}
			return r.writeStatus(ctx, plan, before, decision{readiness: licensing.Readiness{Cancelling: true}})
		}
		if latest.Status.State != v1alpha1.OrderFulfilled {
			return r.writeStatus(ctx, plan, before, decision{readiness: licensing.Readiness{Cancelling: true}})
		}
	}
	return r.patchFinalizer(ctx, plan, controllerutil.RemoveFinalizer)
}
