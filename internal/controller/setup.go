// Package controller holds the reconcilers of license-operator. They are thin: each gathers the
// objects a decision needs, asks internal/licensing for the decision, and writes the result.
package controller

import (
	"context"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/lookup"
)

// FieldOwner is the field manager of every write the operator makes.
const FieldOwner = "license-operator"

// Option is a part of the operator that runs only when asked for: EntitlementOptions (the customer
// namespaces' signed entitlements) or NotificationOptions (notices to NotificationSinks).
type Option interface{ option() }

func (EntitlementOptions) option()  {}
func (NotificationOptions) option() {}

// SetupWithManager registers the field indexes and every reconciler of the operator with mgr.
// clk is the clock the reconcilers read "now" from: clock.RealClock{} in production, a fake in tests.
// With EntitlementOptions, the operator also issues the customer namespaces' signed entitlements;
// with NotificationOptions, it sends the notices of orders and plans to the NotificationSinks.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, clk clock.PassiveClock, opts ...Option) error {
	indexer := mgr.GetFieldIndexer()
	for _, index := range []struct {
		obj   client.Object
		field string
		value func(client.Object) string
	}{
		{&v1alpha1.LicenseAssignment{}, lookup.AssignmentPlanField, func(o client.Object) string { return o.(*v1alpha1.LicenseAssignment).Spec.Plan }},
		{&v1alpha1.LicenseOrder{}, lookup.OrderPlanField, func(o client.Object) string { return o.(*v1alpha1.LicenseOrder).Spec.Plan }},
		{&v1alpha1.CustomerLicensePlan{}, lookup.PlanCustomerField, func(o client.Object) string { return o.(*v1alpha1.CustomerLicensePlan).Spec.Customer }},
	} {
		if err := indexer.IndexField(ctx, index.obj, index.field, func(o client.Object) []string { return []string{index.value(o)} }); err != nil {
			return err
		}
	}
	recorder := mgr.GetEventRecorder("license-operator")
	orders := &orders{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk, Recorder: recorder, expect: newExpectations()}
	if err := (&PlanReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk, Recorder: recorder,
		expect: newExpectations(), probes: newProbes(), orders: orders, usage: newBursts(usageSettle, usageMaxWait)}).SetupWithManager(mgr); err != nil {
		return err
	}
	for _, o := range opts {
		var err error
		switch o := o.(type) {
		case EntitlementOptions:
			err = setupEntitlements(mgr, clk, o)
		case NotificationOptions:
			err = newNoticeReconciler(mgr, clk, o).SetupWithManager(mgr)
		}
		if err != nil {
			return err
		}
	}
	return (&AssignmentReconciler{Client: mgr.GetClient(), Clock: clk, expect: newExpectations()}).SetupWithManager(mgr)
}
