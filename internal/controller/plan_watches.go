package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// planWorkers is how many plans are reconciled at once: a reconcile spends its time waiting on
// the API server, not on the CPU.
const planWorkers = 8

// SetupWithManager registers the plan reconciler. Besides its plans it watches what its
// decisions depend on: the plan's orders and assignments, the catalog, the billing profile, and
// the customer's other plans (a required plan may come into force).
func (r *PlanReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.CustomerLicensePlan{}).
		Named("customerlicenseplan").
		WithOptions(controller.Options{MaxConcurrentReconciles: planWorkers}).
		Watches(&v1alpha1.LicenseOrder{}, r.ordersOfPlan()).
		Watches(&v1alpha1.LicenseAssignment{}, r.usageOfPlan(), builder.WithPredicates(createdOrDeleted)).
		Watches(&v1alpha1.LicenseProduct{}, handler.EnqueueRequestsFromMapFunc(r.allPlans),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.BillingProfile{}, handler.EnqueueRequestsFromMapFunc(r.allPlans),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.CustomerLicensePlan{}, r.neighbours()).
		Complete(r)
}

// ordersOfPlan maps an order to its plan. An order that leaves the cache was fulfilled (the cache
// holds no fulfilled order): its plan reads it from the API server, unless this process applied
// it to the plan.
func (r *PlanReconciler) ordersOfPlan() handler.EventHandler {
	enqueue := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: o.(*v1alpha1.LicenseOrder).Spec.Plan}})
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.ObjectNew, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			o := e.Object.(*v1alpha1.LicenseOrder)
			if !r.probes.leftCache(client.ObjectKeyFromObject(o)) {
				return // this process applied it: the plan holds it already
			}
			r.probes.mark(types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.Plan})
			enqueue(o, q)
		},
	}
}

// usageSettle is how long a plan's usage is left to settle after the last assignment of a burst
// comes or goes before the plan counts it: assignments come in bursts (a team onboarded at once,
// a GitOps sync), and the plan then writes its usage once for the whole burst instead of once per
// assignment. usageMaxWait bounds the wait from the burst's first event: a steady stream of
// assignments is counted at least that often.
const (
	usageSettle  = time.Second
	usageMaxWait = 5 * time.Second
)

// bursts remembers, per key, the events a reconciler has not acted on yet: when the burst began
// and when its last event came. The plans use it for their assignments' events (usageSettle,
// usageMaxWait), the entitlements for their plans' (entitlementSettle, entitlementMaxWait). It
// measures real time, even when the business rules run on a fake clock.
type bursts struct {
	clock           clock.PassiveClock
	settle, maxWait time.Duration
	mu              sync.Mutex
	m               map[types.NamespacedName]burst
}

type burst struct{ first, last time.Time }

// newBursts are bursts that settle after settle without an event, or maxWait after their first.
func newBursts(settle, maxWait time.Duration) *bursts {
	return &bursts{clock: clock.RealClock{}, settle: settle, maxWait: maxWait, m: map[types.NamespacedName]burst{}}
}

// event records an event of key: for the plans, an assignment of the plan key created or deleted.
func (u *bursts) event(key types.NamespacedName) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.clock.Now()
	b, ok := u.m[key]
	if !ok {
		b.first = now
	}
	b.last = now
	u.m[key] = b
}

// wait is how long key's burst of events has yet to settle: 0 once settle has passed since its
// last event or maxWait since its first, when the burst is forgotten (the reconciler acts now:
// the plan counts its usage).
func (u *bursts) wait(key types.NamespacedName) time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	b, ok := u.m[key]
	if !ok {
		return 0
	}
	now := u.clock.Now()
	w := min(b.last.Add(u.settle).Sub(now), b.first.Add(u.maxWait).Sub(now))
	if w <= 0 {
		delete(u.m, key)
		return 0
	}
	return w
}

// usageOfPlan maps an assignment created or deleted to its plan, usageSettle later: the plan's
// usage is all it can change. The queue holds a plan waiting once, however many of its assignments
// come meanwhile, and the plan waits until the burst settles (bursts).
func (r *PlanReconciler) usageOfPlan() handler.EventHandler {
	enqueue := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		key := types.NamespacedName{Namespace: o.GetNamespace(), Name: o.(*v1alpha1.LicenseAssignment).Spec.Plan}
		r.usage.event(key)
		q.AddAfter(reconcile.Request{NamespacedName: key}, usageSettle)
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
	}
}

func (r *PlanReconciler) allPlans(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &v1alpha1.CustomerLicensePlanList{}
	if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// neighbours watches plans for the sake of the customer's other plans: when a plan's licenses in
// force change, or whether it is being ordered, a plan of a product that requires another may now
// meet (or break) its requirement. A plan seen for the first time after a start (the cache's
// initial list), or with a status, may have a fulfilled order its status does not hold yet (a
// restart, another replica), even when it has no status at all (a process that died between
// placing an order and writing the plan's first status): its orders are read from the API server.
// A plan created while the process runs is not: it has ordered nothing yet.
func (r *PlanReconciler) neighbours() handler.EventHandler {
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.CreateEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if p := e.Object.(*v1alpha1.CustomerLicensePlan); e.IsInInitialList || p.Status.Revision > 0 || len(p.Status.Conditions) > 0 {
				r.probes.mark(client.ObjectKeyFromObject(p))
			}
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			old, p := e.ObjectOld.(*v1alpha1.CustomerLicensePlan), e.ObjectNew.(*v1alpha1.CustomerLicensePlan)
			if holdingOf(old) != holdingOf(p) {
				r.enqueueRequiring(ctx, p, q)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.enqueueRequiring(ctx, e.Object.(*v1alpha1.CustomerLicensePlan), q)
		},
	}
}

// holding is what of a plan its customer's other plans' requirements look at: its licenses in
// force, and whether it is being ordered (Ready's reason).
type holding struct {
	product  string
	licenses int32
	active   bool
	ready    string
}

func holdingOf(p *v1alpha1.CustomerLicensePlan) holding {
	h := holding{product: p.Status.Product, licenses: p.Status.Licenses, active: licensing.IsActive(p.Status)}
	if c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady); c != nil {
		h.ready = c.Reason
	}
	return h
}

// enqueueRequiring enqueues the customer's other plans that are not Ready and whose product
// requires another.
func (r *PlanReconciler) enqueueRequiring(ctx context.Context, p *v1alpha1.CustomerLicensePlan, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	products := &v1alpha1.LicenseProductList{}
	if err := r.List(ctx, products, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	requiring := map[string]bool{}
	for _, prod := range products.Items {
		requiring[prod.Name] = len(prod.Spec.Requires) > 0
	}
	plans := &v1alpha1.CustomerLicensePlanList{}
	if err := r.List(ctx, plans, client.InNamespace(p.Namespace), client.MatchingFields{lookup.PlanCustomerField: p.Spec.Customer}, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	for i := range plans.Items {
		other := &plans.Items[i]
		if other.Name != p.Name && requiring[other.Spec.Product] && !isReady(other) {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(other)})
		}
	}
}

func isReady(p *v1alpha1.CustomerLicensePlan) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1alpha1.PlanReady {
			return c.Status == "True" && c.ObservedGeneration == p.Generation
		}
	}
	return false
}

func planOfAssignment(_ context.Context, o client.Object) []reconcile.Request {
	plan := o.(*v1alpha1.LicenseAssignment).Spec.Plan
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: plan}}}
}
