// Command floor is the design floor test/scale measures the operator against: the least an
// operator with the operator's features must do, and no logic. Per plan whose spec is not in force
// it creates one order and writes its status once (one order per missed term for a plan started
// more than a term ago, as the operator's catch-up), then writes the plan's status once, carrying
// its usage (the LicenseAssignments naming it, by spec.plan); and it writes each assignment's
// status once (its Assigned condition). Its caches are what this needs, plans and assignments,
// fed by informers alone: it reads nothing from the API server and polls nothing.
//
// A new plan's assignments come after it, so that its status would be written twice (once when
// its order is applied, once when its usage is counted): the floor, as the operator is meant to,
// lets a plan's usage settle first (--usage-settle after the plan's creation or the last of its
// assignments that came or went, at most 5 times that after the first) and then writes both in one.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
	"github.com/partnerops/license-operator/internal/testenv"
)

type floor struct {
	client.Client
	settle time.Duration
	bursts bursts
	// wrote holds, by object, the resourceVersion this process last wrote a status over: while
	// the cache still shows that version, it has not seen its own write yet.
	wrote sync.Map
}

func (f *floor) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	plan := &v1alpha1.CustomerLicensePlan{}
	if err := f.Get(ctx, req.NamespacedName, plan); err != nil {
		f.bursts.forget(req.NamespacedName)
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if wait := f.bursts.wait(req.NamespacedName, time.Now(), f.settle); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	if f.unseen(plan) {
		return ctrl.Result{RequeueAfter: 50 * time.Millisecond}, nil
	}
	assignments, err := lookup.ListAssignments(ctx, f, plan.Namespace, plan.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	due := plan.Status.ObservedGeneration != plan.Generation
	if due {
		if err := f.order(ctx, plan); err != nil {
			return ctrl.Result{}, err
		}
	}
	if assigned := int32(len(assignments)); due || plan.Status.Usage.Assigned != assigned {
		before := plan.ResourceVersion
		now := metav1.Now()
		plan.Status.Usage = v1alpha1.Usage{Assigned: assigned, ObservedAt: &now}
		if err := f.Status().Update(ctx, plan); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
		f.wrote.Store(req.NamespacedName, before)
	}
	for i := range assignments {
		a := &assignments[i]
		c := metav1.Condition{Type: v1alpha1.AssignmentAssigned, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonLicensed,
			Message: fmt.Sprintf("covered by a license of plan %q", plan.Name), ObservedGeneration: a.Generation, LastTransitionTime: metav1.Now()}
		if int32(i) >= plan.Status.Licenses {
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, v1alpha1.ReasonOverLicensed, "the licenses are taken by older assignments"
		}
		if old := meta.FindStatusCondition(a.Status.Conditions, c.Type); (old != nil && old.Status == c.Status && old.Reason == c.Reason) || f.unseen(a) {
			continue
		}
		before := a.DeepCopy()
		meta.SetStatusCondition(&a.Status.Conditions, c)
		if err := f.Status().Patch(ctx, a, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
		f.wrote.Store(client.ObjectKeyFromObject(a), before.ResourceVersion)
	}
	return ctrl.Result{}, nil
}

// order creates the plan's order (one per missed term too, for a plan never ordered), writes each
// order's status once, and sets the plan's status to what they put in force (written by the caller).
func (f *floor) order(ctx context.Context, plan *v1alpha1.CustomerLicensePlan) error {
	orders := int64(1)
	if plan.Status.Revision == 0 {
		orders += missedTerms(plan)
	}
	rev := plan.Status.Revision
	for range orders {
		rev++
		order := &v1alpha1.LicenseOrder{
			ObjectMeta: metav1.ObjectMeta{Namespace: plan.Namespace, Name: licensing.OrderName(plan.Name, rev)},
			Spec: v1alpha1.LicenseOrderSpec{Plan: plan.Name, Revision: rev, Change: v1alpha1.ChangeNew, Product: plan.Spec.Product,
				PaymentPlan: plan.Spec.PaymentPlan, Quantity: plan.Spec.Quantity, EffectiveDate: "2026-01-01"},
		}
		if err := f.Create(ctx, order); client.IgnoreAlreadyExists(err) != nil {
			return err
		}
		order.Status = v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderFulfilled, Charge: &v1alpha1.Charge{Amount: "1.00", Currency: "EUR"}}
		if err := f.Status().Update(ctx, order); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	plan.Status.Revision, plan.Status.Licenses, plan.Status.ObservedGeneration = rev, plan.Spec.Quantity, plan.Generation
	plan.Status.Conditions = []metav1.Condition{{Type: v1alpha1.PlanReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonInForce,
		Message: "in force", ObservedGeneration: plan.Generation, LastTransitionTime: metav1.Now()}}
	return nil
}

// unseen reports whether the cache does not show this process's last status write of o yet.
func (f *floor) unseen(o client.Object) bool {
	key := client.ObjectKeyFromObject(o)
	rv, ok := f.wrote.Load(key)
	if ok && rv == o.GetResourceVersion() {
		return true
	}
	f.wrote.Delete(key)
	return false
}

// missedTerms counts the Monthly terms that ended between the plan's start date and now.
func missedTerms(plan *v1alpha1.CustomerLicensePlan) int64 {
	start, err := licensing.ParseDate(plan.Spec.StartDate)
	if err != nil {
		return 0
	}
	n := int64(0)
	for t := licensing.FirstTerm(start, v1alpha1.Monthly); !t.End.After(time.Now()); t = licensing.NextTerm(t, start.Day(), v1alpha1.Monthly) {
		n++
	}
	return n
}

// bursts are the plans whose usage is settling: created, or an assignment of theirs came or went,
// less than the settle time ago.
type bursts struct {
	mu sync.Mutex
	m  map[types.NamespacedName]burst
}

type burst struct{ first, last time.Time }

func (b *bursts) note(key types.NamespacedName) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if b.m == nil {
		b.m = map[types.NamespacedName]burst{}
	}
	e, ok := b.m[key]
	if !ok {
		e.first = now
	}
	e.last = now
	b.m[key] = e
}

// wait is how long the plan's usage has yet to settle: settle after the last event, at most five
// times settle after the first.
func (b *bursts) wait(key types.NamespacedName, now time.Time, settle time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.m[key]
	if !ok {
		return 0
	}
	end := e.last.Add(settle)
	if bound := e.first.Add(5 * settle); bound.Before(end) {
		end = bound
	}
	if now.Before(end) {
		return end.Sub(now)
	}
	delete(b.m, key)
	return 0
}

func (b *bursts) forget(key types.NamespacedName) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, key)
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// plans enqueues a plan created or whose spec changed (not its own status writes); a plan created
// while the floor runs starts a burst of usage (its assignments follow it).
func (f *floor) plans() handler.EventHandler {
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q queue) {
			key := client.ObjectKeyFromObject(e.Object)
			if !e.IsInInitialList {
				f.bursts.note(key)
			}
			q.Add(reconcile.Request{NamespacedName: key})
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q queue) {
			if e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() {
				q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e.ObjectNew)})
			}
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q queue) {
			f.bursts.forget(client.ObjectKeyFromObject(e.Object))
		},
	}
}

// usage enqueues, settle later, the plan of an assignment created or deleted while the floor
// runs (the plans of those it finds at start are enqueued for themselves).
func (f *floor) usage() handler.EventHandler {
	enqueue := func(o client.Object, q queue) {
		key := types.NamespacedName{Namespace: o.GetNamespace(), Name: o.(*v1alpha1.LicenseAssignment).Spec.Plan}
		f.bursts.note(key)
		q.AddAfter(reconcile.Request{NamespacedName: key}, f.settle)
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q queue) {
			if !e.IsInInitialList {
				enqueue(e.Object, q)
			}
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q queue) { enqueue(e.Object, q) },
	}
}

func main() {
	workers := flag.Int("workers", 20, "plans reconciled at once (the operator's controllers have 20 workers together)")
	settle := flag.Duration("usage-settle", time.Second, "how long a plan's usage is left to settle after its creation or an assignment's (the operator's)")
	flag.Parse()
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme: testenv.Scheme(), Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	})
	f := &floor{settle: *settle}
	if err == nil {
		f.Client = mgr.GetClient()
		err = mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.LicenseAssignment{}, lookup.AssignmentPlanField,
			func(o client.Object) []string { return []string{o.(*v1alpha1.LicenseAssignment).Spec.Plan} })
	}
	if err == nil {
		err = ctrl.NewControllerManagedBy(mgr).Named("floor").
			WithOptions(controller.Options{MaxConcurrentReconciles: *workers}).
			Watches(&v1alpha1.CustomerLicensePlan{}, f.plans()).
			Watches(&v1alpha1.LicenseAssignment{}, f.usage()).
			Complete(f)
	}
	if err == nil {
		err = mgr.Start(ctrl.SetupSignalHandler())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
