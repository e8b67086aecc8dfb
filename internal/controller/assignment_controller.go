package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// AssignmentReconciler sets the Assigned condition of every LicenseAssignment of a plan: the
// oldest assignments are covered by the plan's licenses in force, the rest are OverLicensed. It
// works per plan (the request names the plan), because one assignment's condition depends on
// the others, and writes an assignment's status only when its condition really changes.
type AssignmentReconciler struct {
	client.Client
	Clock clock.PassiveClock
	// expect holds this process's writes its cache has not shown yet.
	expect *expectations
}

// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseassignments,verbs=get;list;watch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseassignments/status,verbs=get;update;patch

// Reconcile sets the Assigned conditions of one plan's assignments.
func (r *AssignmentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	assignments, err := lookup.ListAssignments(ctx, r, req.Namespace, req.Name)
	if err != nil || len(assignments) == 0 {
		return ctrl.Result{}, err
	}
	plan := &v1alpha1.CustomerLicensePlan{}
	if err := r.Get(ctx, req.NamespacedName, plan); apierrors.IsNotFound(err) {
		plan = nil
	} else if err != nil {
		return ctrl.Result{}, err
	}
	now := r.Clock.Now()
	var result ctrl.Result
	for i := range assignments {
		a := &assignments[i]
		c, ok := licensing.AssignedCondition(req.Name, plan, i)
		if !ok {
			continue
		}
		if r.expect.stale(client.ObjectKeyFromObject(a), a.ResourceVersion) {
			result.RequeueAfter = conflictRetry // the watch brings this process's own last write
			continue
		}
		before := a.DeepCopy()
		licensing.SetCondition(&a.Status.Conditions, c, a.Generation, now)
		if equality.Semantic.DeepEqual(before.Status, a.Status) {
			continue
		}
		if err := r.Status().Patch(ctx, a, client.MergeFrom(before), client.FieldOwner(FieldOwner)); err != nil {
			return settle(ctx, ctrl.Result{}, client.IgnoreNotFound(err))
		}
		r.expect.wrote(client.ObjectKeyFromObject(a), before.ResourceVersion)
	}
	return result, nil
}

// assignmentWorkers is how many plans' assignments are reconciled at once.
const assignmentWorkers = 4

// SetupWithManager registers the assignment reconciler: its requests name plans, and come from
// assignments created or deleted (their plan), and from plans whose licenses in force, or whether
// they are being ordered, change.
func (r *AssignmentReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("licenseassignment").
		WithOptions(controller.Options{MaxConcurrentReconciles: assignmentWorkers}).
		Watches(&v1alpha1.LicenseAssignment{}, handler.EnqueueRequestsFromMapFunc(planOfAssignment), builder.WithPredicates(createdOrDeleted)).
		Watches(&v1alpha1.CustomerLicensePlan{}, &handler.EnqueueRequestForObject{}, builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(e event.UpdateEvent) bool {
				return holdingOf(e.ObjectOld.(*v1alpha1.CustomerLicensePlan)) != holdingOf(e.ObjectNew.(*v1alpha1.CustomerLicensePlan))
			},
		})).
		Complete(r)
}

// createdOrDeleted passes the events of assignments created or deleted: what an assignment's
// condition and a plan's usage depend on. Updates are the operator's own status writes, or
// changes of the assignee, which change neither.
var createdOrDeleted = predicate.Funcs{UpdateFunc: func(event.UpdateEvent) bool { return false }}
