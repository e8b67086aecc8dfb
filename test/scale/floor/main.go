// Command floor is the logic-free controller test/scale measures the operator against: for each
// plan whose spec is not yet in force, it does only the writes an operator of this design must do
// for one order (create the order, write its status once, write the plan's status once), and no
// reads but its cache of plans. For a plan started more than a term ago it does the same for each
// missed term, as the operator's catch-up does.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/testenv"
)

type floor struct{ client.Client }

func (f *floor) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	plan := &v1alpha1.CustomerLicensePlan{}
	if err := f.Get(ctx, req.NamespacedName, plan); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if plan.Status.ObservedGeneration == plan.Generation {
		return ctrl.Result{}, nil
	}
	orders := int64(1)
	if plan.Status.Revision == 0 {
		orders += missedTerms(plan)
	}
	rev := plan.Status.Revision
	for i := int64(0); i < orders; i++ {
		rev++
		order := &v1alpha1.LicenseOrder{
			ObjectMeta: metav1.ObjectMeta{Namespace: plan.Namespace, Name: licensing.OrderName(plan.Name, rev)},
			Spec: v1alpha1.LicenseOrderSpec{Plan: plan.Name, Revision: rev, Change: v1alpha1.ChangeNew, Product: plan.Spec.Product,
				PaymentPlan: plan.Spec.PaymentPlan, Quantity: plan.Spec.Quantity, EffectiveDate: "2026-01-01"},
		}
		if err := f.Create(ctx, order); client.IgnoreAlreadyExists(err) != nil {
			return ctrl.Result{}, err
		}
		order.Status = v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderFulfilled, Charge: &v1alpha1.Charge{Amount: "1.00", Currency: "EUR"}}
		if err := f.Status().Update(ctx, order); err != nil {
			return ctrl.Result{}, err
		}
	}
	plan.Status.Revision, plan.Status.Licenses, plan.Status.ObservedGeneration = rev, plan.Spec.Quantity, plan.Generation
	meta := metav1.Condition{Type: v1alpha1.PlanReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonInForce,
		Message: "in force", ObservedGeneration: plan.Generation, LastTransitionTime: metav1.Now()}
	plan.Status.Conditions = []metav1.Condition{meta}
	return ctrl.Result{}, client.IgnoreNotFound(f.Status().Update(ctx, plan))
}

// missedTerms counts the Monthly terms that ended between the plan's start date and now.
func missedTerms(plan *v1alpha1.CustomerLicensePlan) int64 {
	start, err := licensing.ParseDate(plan.Spec.StartDate)
	if err != nil {
		return 0
	}
	n := int64(0)
	for t := licensing.FirstTerm(start, v1alpha1.Monthly); !t.End.After(metav1.Now().Time); t = licensing.NextTerm(t, start.Day(), v1alpha1.Monthly) {
		n++
	}
	return n
}

func main() {
	workers := flag.Int("workers", 8, "plans reconciled at once")
	flag.Parse()
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme: testenv.Scheme(), Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	})
	if err == nil {
		err = ctrl.NewControllerManagedBy(mgr).For(&v1alpha1.CustomerLicensePlan{}).Named("floor").
			WithOptions(controller.Options{MaxConcurrentReconciles: *workers}).Complete(&floor{mgr.GetClient()})
	}
	if err == nil {
		err = mgr.Start(ctrl.SetupSignalHandler())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
