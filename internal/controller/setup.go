// Package controller holds the reconcilers of license-operator. They are thin: each gathers the
// objects a decision needs, asks internal/licensing for the decision, and writes the result.
package controller

import (
	"context"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// assignmentPlanField indexes LicenseAssignments by spec.plan in the cache, and selects them by the
// same selectable field on the API server.
const assignmentPlanField = "spec.plan"

// FieldOwner is the field manager of every write the operator makes.
const FieldOwner = "license-operator"

// SetupWithManager registers the field indexes and every reconciler of the operator with mgr.
// clk is the clock the reconcilers read "now" from: clock.RealClock{} in production, a fake in tests.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, clk clock.PassiveClock) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.LicenseAssignment{}, assignmentPlanField,
		func(o client.Object) []string { return []string{o.(*v1alpha1.LicenseAssignment).Spec.Plan} }); err != nil {
		return err
	}
	recorder := mgr.GetEventRecorder("license-operator")
	if err := (&PlanReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk, Recorder: recorder, expect: newExpectations()}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&OrderReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk, Recorder: recorder, expect: newExpectations()}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&AssignmentReconciler{Client: mgr.GetClient(), Clock: clk, expect: newExpectations()}).SetupWithManager(mgr)
}
