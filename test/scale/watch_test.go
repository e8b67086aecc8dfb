package scale

import (
	"context"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/testenv"
)

// assignmentsPerPlan is how many LicenseAssignments the workload creates for each plan.
const assignmentsPerPlan = 5

// watcher follows the side's control plane through informers, so that the bench waits without
// asking the API server anything: each plan's state (in force, and since when), and when the last
// change came to a plan, an order, an assignment or an entitlement. It holds a trimmed copy of each plan and the
// bare metadata of orders and assignments.
type watcher struct {
	stop  context.CancelFunc
	mu    sync.Mutex
	plans map[types.NamespacedName]planState
	last  time.Time
}

// planState is what the bench knows of a plan: whether its spec (generation) is in force with its
// usage counted, at which revision, and since when it was seen so.
type planState struct {
	generation, revision int64
	inForce              bool
	since                time.Time
}

func watch(ctx context.Context, cfg *rest.Config) (*watcher, error) {
	entitlements := labels.SelectorFromSet(nil).Add(mustRequirement(v1alpha1.EntitlementLabel, selection.Exists))
	byObject := map[client.Object]cache.ByObject{&v1alpha1.CustomerLicensePlan{}: {Transform: trimPlan}}
	for _, kind := range entitlementKinds {
		byObject[metadataOf(corev1.SchemeGroupVersion.WithKind(kind))] = cache.ByObject{Label: entitlements}
	}
	c, err := cache.New(cfg, cache.Options{
		Scheme:           testenv.Scheme(),
		DefaultTransform: bareMetadata,
		ByObject:         byObject,
	})
	if err != nil {
		return nil, err
	}
	w := &watcher{plans: map[types.NamespacedName]planState{}}
	ctx, w.stop = context.WithCancel(ctx)
	plans, err := c.GetInformer(ctx, &v1alpha1.CustomerLicensePlan{})
	if err == nil {
		_, err = plans.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    w.plan,
			UpdateFunc: func(_, o any) { w.plan(o) },
			DeleteFunc: func(any) { w.changed() },
		})
	}
	// The operator's writes the bench waits for: orders, assignments' status, and the entitlements
	// (Secret and ConfigMap) it issues once their plans are in force.
	kinds := []schema.GroupVersionKind{v1alpha1.GroupVersion.WithKind("LicenseOrder"), v1alpha1.GroupVersion.WithKind("LicenseAssignment")}
	for _, kind := range entitlementKinds {
		kinds = append(kinds, corev1.SchemeGroupVersion.WithKind(kind))
	}
	for _, kind := range kinds {
		if err != nil {
			break
		}
		var inf cache.Informer
		if inf, err = c.GetInformer(ctx, metadataOf(kind)); err == nil {
			_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
				AddFunc:    func(any) { w.changed() },
				UpdateFunc: func(any, any) { w.changed() },
				DeleteFunc: func(any) { w.changed() },
			})
		}
	}
	if err != nil {
		w.stop()
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		w.stop()
		return nil, ctx.Err()
	}
	return w, nil
}

// entitlementKinds are the core kinds of the entitlements the operator writes.
var entitlementKinds = []string{"Secret", "ConfigMap"}

func metadataOf(gvk schema.GroupVersionKind) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	return m
}

func mustRequirement(key string, op selection.Operator) labels.Requirement {
	r, err := labels.NewRequirement(key, op, nil)
	if err != nil {
		panic(err)
	}
	return *r
}

func (w *watcher) changed() {
	w.mu.Lock()
	w.last = time.Now()
	w.mu.Unlock()
}

func (w *watcher) plan(o any) {
	p, ok := o.(*v1alpha1.CustomerLicensePlan)
	if !ok {
		return
	}
	now := time.Now()
	key := client.ObjectKeyFromObject(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = now
	s := planState{generation: p.Generation, revision: p.Status.Revision, inForce: inForce(p), since: now}
	if old := w.plans[key]; old.inForce && s.inForce && old.generation == s.generation && old.revision == s.revision {
		s.since = old.since
	}
	w.plans[key] = s
}

// inForce tells whether a plan's spec is in force: Ready for its generation, with its licenses
// and its usage counted.
func inForce(p *v1alpha1.CustomerLicensePlan) bool {
	if p.Status.ObservedGeneration != p.Generation || p.Status.Licenses != p.Spec.Quantity || p.Status.Usage.Assigned != assignmentsPerPlan {
		return false
	}
	c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == p.Generation
}

// ready counts the plans named prefix* in force at revision rev or later, and tells when the last
// of them was seen so.
func (w *watcher) ready(prefix string, rev int64) (int, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, last := 0, time.Time{}
	for key, s := range w.plans {
		if strings.HasPrefix(key.Name, prefix) && s.inForce && s.revision >= rev {
			n++
			if s.since.After(last) {
				last = s.since
			}
		}
	}
	return n, last
}

// inForceSince tells since when the plan's generation gen (or a later one) is seen in force.
func (w *watcher) inForceSince(key types.NamespacedName, gen int64) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.plans[key]
	return s.since, s.inForce && s.generation >= gen
}

func (w *watcher) lastChange() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// trimPlan keeps of a plan what inForce reads.
func trimPlan(o any) (any, error) {
	p, ok := o.(*v1alpha1.CustomerLicensePlan)
	if !ok {
		return o, nil
	}
	t := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name,
		ResourceVersion: p.ResourceVersion, Generation: p.Generation}}
	t.Spec.Quantity = p.Spec.Quantity
	s := &t.Status
	s.Revision, s.ObservedGeneration, s.Licenses, s.Usage.Assigned = p.Status.Revision, p.Status.ObservedGeneration, p.Status.Licenses, p.Status.Usage.Assigned
	if c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady); c != nil {
		s.Conditions = []metav1.Condition{{Type: c.Type, Status: c.Status, ObservedGeneration: c.ObservedGeneration}}
	}
	return t, nil
}

// bareMetadata keeps of an object its name and resourceVersion.
func bareMetadata(o any) (any, error) {
	m, ok := o.(*metav1.PartialObjectMetadata)
	if !ok {
		return o, nil
	}
	return &metav1.PartialObjectMetadata{TypeMeta: m.TypeMeta, ObjectMeta: metav1.ObjectMeta{Namespace: m.Namespace, Name: m.Name,
		ResourceVersion: m.ResourceVersion}}, nil
}
