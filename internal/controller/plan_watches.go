package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// SetupWithManager registers the plan reconciler. Besides its plans it watches what its
// decisions depend on: the plan's orders and assignments, the catalog, the billing profile, and
// the other plans of the namespace (a required plan may appear).
func (r *PlanReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.CustomerLicensePlan{}).
		Named("customerlicenseplan").
		Watches(&v1alpha1.LicenseOrder{}, handler.EnqueueRequestsFromMapFunc(planOfOrder)).
		Watches(&v1alpha1.LicenseAssignment{}, handler.EnqueueRequestsFromMapFunc(planOfAssignment)).
		Watches(&v1alpha1.LicenseProduct{}, handler.EnqueueRequestsFromMapFunc(r.allPlans),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.BillingProfile{}, handler.EnqueueRequestsFromMapFunc(r.allPlans),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.CustomerLicensePlan{}, handler.EnqueueRequestsFromMapFunc(r.waitingNeighbours)).
		Complete(r)
}

func planOfOrder(_ context.Context, o client.Object) []reconcile.Request {
	plan := o.(*v1alpha1.LicenseOrder).Spec.Plan
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: plan}}}
}

func planOfAssignment(_ context.Context, o client.Object) []reconcile.Request {
	plan := o.(*v1alpha1.LicenseAssignment).Spec.Plan
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: plan}}}
}

func (r *PlanReconciler) allPlans(ctx context.Context, _ client.Object) []reconcile.Request {
	return r.plans(ctx, func(*v1alpha1.CustomerLicensePlan) bool { return true })
}

// waitingNeighbours maps a plan to the other plans of its namespace that are not Ready: a change
// of one plan's licenses can meet (or break) another's requirement.
func (r *PlanReconciler) waitingNeighbours(ctx context.Context, o client.Object) []reconcile.Request {
	return r.plans(ctx, func(p *v1alpha1.CustomerLicensePlan) bool {
		return p.Namespace == o.GetNamespace() && p.Name != o.GetName() && !isReady(p)
	}, client.InNamespace(o.GetNamespace()))
}

func (r *PlanReconciler) plans(ctx context.Context, keep func(*v1alpha1.CustomerLicensePlan) bool, opts ...client.ListOption) []reconcile.Request {
	list := &v1alpha1.CustomerLicensePlanList{}
	if err := r.List(ctx, list, opts...); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if p := &list.Items[i]; keep(p) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
		}
	}
	return reqs
}

func isReady(p *v1alpha1.CustomerLicensePlan) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1alpha1.PlanReady {
			return c.Status == "True" && c.ObservedGeneration == p.Generation
		}
	}
	return false
}
