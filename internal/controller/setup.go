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

// The field indexes of the cache. Each is named after the selectable field of the API that the API
// server selects by, so that one name serves the cache and the API server alike.
const (
	// assignmentPlanField indexes LicenseAssignments by spec.plan.
	assignmentPlanField = "spec.plan"
	// orderPlanField indexes LicenseOrders by spec.plan.
	orderPlanField = "spec.plan"
	// planCustomerField indexes CustomerLicensePlans by spec.customer.
	planCustomerField = "spec.customer"
)

// FieldOwner is the field manager of every write the operator makes.
const FieldOwner = "license-operator"

// SetupWithManager registers the field indexes and every reconciler of the operator with mgr.
// clk is the clock the reconcilers read "now" from: clock.RealClock{} in production, a fake in tests.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, clk clock.PassiveClock) error {
	indexer := mgr.GetFieldIndexer()
	for _, index := range []struct {
		obj   client.Object
		field string
		value func(client.Object) string
	}{
		{&v1alpha1.LicenseAssignment{}, assignmentPlanField, func(o client.Object) string { return o.(*v1alpha1.LicenseAssignment).Spec.Plan }},
		{&v1alpha1.LicenseOrder{}, orderPlanField, func(o client.Object) string { return o.(*v1alpha1.LicenseOrder).Spec.Plan }},
		{&v1alpha1.CustomerLicensePlan{}, planCustomerField, func(o client.Object) string { return o.(*v1alpha1.CustomerLicensePlan).Spec.Customer }},
	} {
		if err := indexer.IndexField(ctx, index.obj, index.field, func(o client.Object) []string { return []string{index.value(o)} }); err != nil {
			return err
		}
	}
	recorder := mgr.GetEventRecorder("license-operator")
	if err := (&PlanReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk, Recorder: recorder, expect: newExpectations(), probes: newProbes()}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&OrderReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk, Recorder: recorder, expect: newExpectations()}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&AssignmentReconciler{Client: mgr.GetClient(), Clock: clk, expect: newExpectations()}).SetupWithManager(mgr)
}
