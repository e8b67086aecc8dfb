package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/metrics"
	"github.com/partnerops/license-operator/internal/notify"
)

// NotificationOptions configure the notices of orders and plans sent to NotificationSinks.
type NotificationOptions struct {
	// Namespace is the operator's namespace, which holds the Secrets the sinks name.
	Namespace string
	// Sender delivers the notices. nil: one that reads the sinks' Secrets of Namespace from the
	// API server at each send, and signs with the operator's clock; a Sender whose Secrets or Now
	// is nil gets those.
	Sender *notify.Sender
}

// The Ready condition of a NotificationSink, and its reasons.
const (
	SinkReady = "Ready"
	// ReasonSinkConfigured: the configuration is valid; nothing was delivered since it changed.
	ReasonSinkConfigured = "Configured"
	// ReasonSinkDelivered: the last delivery succeeded.
	ReasonSinkDelivered = "Delivered"
	// ReasonSinkDeliveryFailed: the last delivery failed; it is retried with backoff.
	ReasonSinkDeliveryFailed = "DeliveryFailed"
	// ReasonSinkTemplateInvalid: spec.templates does not parse or render; nothing is sent until
	// it is fixed.
	ReasonSinkTemplateInvalid = "TemplateInvalid"
	// ReasonSinkSuspended: spec.suspend is true; due notices wait.
	ReasonSinkSuspended = "Suspended"
)

// noticeWorkers is how many plans' notices are sent at once: a send waits on a remote server
// (up to its timeout), never on the CPU.
const noticeWorkers = 4

// sinkStatusEvery is how often at most a sink's lastDelivery and lastFailure are written while its
// Ready condition stays the same: a busy sink costs one status write a minute, not one per notice.
const sinkStatusEvery = time.Minute

// NoticeReconciler tells the NotificationSinks what happens to a plan and its orders: the orders
// fulfilled, awaiting approval, rejected or denied, and the plan's renewal coming, trial ending or
// expiry (internal/notify decides which notices are due). A request names a plan (namespace and
// name; the plan may be gone, its orders are still told of), or, with an empty namespace, a sink
// whose configuration changed.
//
// A notice is sent, then recorded on its order's status (status.notices), so that another pass,
// a restart or another leader does not send it again; a stop between the two sends it again with
// the same idempotency key, which receivers dedupe on. Its own work queue keeps slow or failing
// sinks away from the plans' billing. Without a sink it reads only its cache: it costs the API
// server nothing.
type NoticeReconciler struct {
	// Client reads the sinks and plans from the cache and writes the orders' and sinks' status.
	Client client.Client
	// APIReader reads a plan's orders and a notice's order from the API server: fulfilled orders
	// are not cached, and a record is written on a fresh copy.
	APIReader client.Reader
	Clock     clock.PassiveClock
	Sender    *notify.Sender
	Recorder  events.EventRecorder

	// unrecorded holds the attempts this process made that no order records yet: an attempt
	// whose record failed is recorded, not sent again, by the next pass.
	unrecorded *attempts
	// templates caches each sink generation's template check.
	templates *templateChecks
}

// newNoticeReconciler is the notice reconciler of mgr, on clock clk.
func newNoticeReconciler(mgr ctrl.Manager, clk clock.PassiveClock, o NotificationOptions) *NoticeReconciler {
	sender := &notify.Sender{}
	if o.Sender != nil {
		// A Sender is not copied (it holds its default HTTP client): its settings are.
		sender = &notify.Sender{Secrets: o.Sender.Secrets, HTTPClient: o.Sender.HTTPClient, TLSConfig: o.Sender.TLSConfig, Now: o.Sender.Now}
	}
	if sender.Secrets == nil {
		sender.Secrets = liveSecrets(mgr.GetAPIReader(), o.Namespace)
	}
	if sender.Now == nil {
		sender.Now = clk.Now
	}
	return &NoticeReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk, Sender: sender,
		Recorder: mgr.GetEventRecorder("license-operator"), unrecorded: newAttempts(), templates: newTemplateChecks()}
}

// liveSecrets reads a key of a Secret of namespace from the API server: the sinks' Secrets are not
// cached, and a rotated one takes effect at the next send.
func liveSecrets(r client.Reader, namespace string) notify.Secrets {
	return func(ctx context.Context, ref v1alpha1.SecretKeyRef) ([]byte, error) {
		if namespace == "" {
			return nil, fmt.Errorf("secret %q: the operator has no namespace to read it from (--operator-namespace)", ref.Name)
		}
		s := &corev1.Secret{}
		if err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, s); err != nil {
			return nil, fmt.Errorf("secret %s/%s: %w", namespace, ref.Name, err)
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			return nil, fmt.Errorf("secret %s/%s has no key %q", namespace, ref.Name, ref.Key)
		}
		return v, nil
	}
}

// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=notificationsinks,verbs=get;list;watch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=notificationsinks/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=licensing.partnerops.io,resources=licenseorders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reconcile sends and records the notices due for one plan and its orders, or writes a sink's
// configuration into its Ready condition, and says when to look again.
func (r *NoticeReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.Namespace == "" {
		return ctrl.Result{}, r.reconcileSink(ctx, req.Name)
	}
	list := &v1alpha1.NotificationSinkList{}
	if err := r.Client.List(ctx, list); err != nil {
		return ctrl.Result{}, err
	}
	sinks := r.active(list.Items, req.Namespace)
	if len(sinks) == 0 {
		r.unrecorded.forgetPlan(req.NamespacedName, nil)
		return ctrl.Result{}, nil // no sink hears of this namespace: no API call at all
	}
	var plan *v1alpha1.CustomerLicensePlan
	p := &v1alpha1.CustomerLicensePlan{}
	switch err := r.Client.Get(ctx, req.NamespacedName, p); {
	case err == nil:
		plan = p
	case !apierrors.IsNotFound(err):
		return ctrl.Result{}, err
	}
	orders := &v1alpha1.LicenseOrderList{}
	if err := r.APIReader.List(ctx, orders, client.InNamespace(req.Namespace), client.MatchingLabels{v1alpha1.PlanLabel: req.Name}); err != nil {
		return ctrl.Result{}, err
	}
	now := r.Clock.Now()
	due, next := notify.Due(now, sinks, plan, orders.Items)
	r.unrecorded.forgetPlan(req.NamespacedName, due)

	bySink := map[string]*v1alpha1.NotificationSink{}
	for i := range sinks {
		bySink[sinks[i].Name] = &sinks[i]
	}
	outcomes := map[string]*sinkOutcome{}
	var errs []error
	for _, pending := range due {
		sink := bySink[pending.Notice.Sink]
		at, err := r.deliver(ctx, req.NamespacedName, sink, pending, orders.Items, outcomes)
		next = notify.Earliest(next, at)
		if err != nil {
			errs = append(errs, err)
		}
	}
	for name, o := range outcomes {
		if err := r.writeSinkStatus(ctx, bySink[name], o); err != nil {
			errs = append(errs, err)
		}
	}
	result := ctrl.Result{}
	if !next.IsZero() {
		result.RequeueAfter = max(next.Sub(r.Clock.Now()), conflictRetry)
	}
	if err := errors.Join(errs...); err != nil {
		// Logged, not returned: a failed record is tried again at result's time, without the
		// controller's rapid retries of an error.
		log.FromContext(ctx).Error(err, "recording notices or a sink's status")
	}
	return result, nil
}

// active are the sinks that may be told of something in namespace now: not suspended, with valid
// templates, and a filter that lets the namespace through.
func (r *NoticeReconciler) active(sinks []v1alpha1.NotificationSink, namespace string) []v1alpha1.NotificationSink {
	var out []v1alpha1.NotificationSink
	for i := range sinks {
		s := &sinks[i]
		if s.Spec.Suspend || !s.DeletionTimestamp.IsZero() || r.templates.check(s) != nil {
			continue
		}
		if ns := s.Spec.Filter.Namespaces; len(ns) > 0 && !slices.Contains(ns, namespace) {
			continue
		}
		out = append(out, *s)
	}
	return out
}

// deliver sends a due notice, unless this process sent it already and only its record failed, and
// records it on its order. retryAt is when to look again for it: its next attempt after a failure,
// or soon after a record failed.
func (r *NoticeReconciler) deliver(ctx context.Context, plan types.NamespacedName, sink *v1alpha1.NotificationSink,
	p notify.Pending, orders []v1alpha1.LicenseOrder, outcomes map[string]*sinkOutcome) (retryAt time.Time, err error) {
	n := p.Notice
	prior, records := r.unrecorded.get(plan, n.Key)
	if prior != nil && prior.Attempts > n.Attempts {
		n = *prior
	}
	now := r.Clock.Now()
	if n.DeliveredAt == nil {
		if n.LastAttempt != nil {
			if retry := notify.RetryAt(n); retry.After(now) {
				return retry, nil // this process's last attempt failed and is not recorded: backoff holds
			}
		}
		msg, err := notify.Render(sink, p)
		if err == nil {
			err = r.Sender.Send(ctx, sink, msg)
		}
		now = r.Clock.Now()
		n = notify.Attempted(n, now, err)
		metrics.Notice(sink.Name, n.Event, err == nil)
		outcomes[sink.Name] = outcomes[sink.Name].add(now, err)
		logger := log.FromContext(ctx).WithValues("sink", sink.Name, "event", n.Event, "order", p.Order, "key", n.Key, "attempts", n.Attempts)
		if err != nil {
			logger.Info("notice not delivered", "error", err.Error())
			r.event(orders, p.Order, n, err)
			retryAt = notify.RetryAt(n)
		} else {
			logger.Info("notice delivered")
		}
	}
	if err := r.record(ctx, plan.Namespace, p.Order, n); err != nil {
		records++
		r.unrecorded.put(plan, n, records)
		return notify.Earliest(retryAt, now.Add(recordRetry(records))), fmt.Errorf("recording notice %s (%s to sink %s) on order %s/%s: %w",
			n.Key, n.Event, n.Sink, plan.Namespace, p.Order, err)
	}
	r.unrecorded.drop(plan, n.Key)
	return retryAt, nil
}

// recordRetry is how long to wait before recording again after records failed records: a record
// refused for good is not tried in a tight loop.
func recordRetry(records int) time.Duration {
	return min(conflictRetry<<min(records-1, 8), 5*time.Minute)
}

// record upserts n into the status.notices of the order name, on a fresh copy guarded by its
// resourceVersion: a conflict reads and writes again, it never sends again. A record that says
// more (delivered, or more attempts) is kept. An order that is gone records nothing.
func (r *NoticeReconciler) record(ctx context.Context, namespace, name string, n v1alpha1.Notice) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		o := &v1alpha1.LicenseOrder{}
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, o); err != nil {
			return client.IgnoreNotFound(err)
		}
		for _, cur := range o.Status.Notices {
			if cur.Key == n.Key && (cur.DeliveredAt != nil || cur.Attempts > n.Attempts) {
				return nil
			}
		}
		before := o.DeepCopy()
		o.Status.Notices = notify.Record(o.Status.Notices, n)
		err := r.Client.Status().Patch(ctx, o, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner))
		return client.IgnoreNotFound(err)
	})
}

// event tells, on the order, of a failed delivery.
func (r *NoticeReconciler) event(orders []v1alpha1.LicenseOrder, name string, n v1alpha1.Notice, err error) {
	if r.Recorder == nil {
		return
	}
	for i := range orders {
		if orders[i].Name == name {
			r.Recorder.Eventf(&orders[i], nil, corev1.EventTypeWarning, "NoticeFailed", "Deliver",
				"notice %s to sink %s failed (attempt %d), retried in %s: %v", n.Event, n.Sink, n.Attempts, notify.Backoff(n.Attempts), err)
			return
		}
	}
}

// sinkOutcome is what one pass's deliveries to a sink came to.
type sinkOutcome struct {
	delivered, failed time.Time
	err               string
	// lastFailed: the pass's last attempt failed.
	lastFailed bool
}

func (o *sinkOutcome) add(at time.Time, err error) *sinkOutcome {
	if o == nil {
		o = &sinkOutcome{}
	}
	if err == nil {
		o.delivered, o.lastFailed = at, false
	} else {
		o.failed, o.err, o.lastFailed = at, err.Error(), true
	}
	return o
}

// reconcileSink writes a sink's configuration into its status: Ready False while its templates are
// invalid or it is suspended, and True (Configured) once its spec changed and is valid.
func (r *NoticeReconciler) reconcileSink(ctx context.Context, name string) error {
	sink := &v1alpha1.NotificationSink{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: name}, sink); err != nil {
		if apierrors.IsNotFound(err) {
			r.templates.forget(name)
		}
		return client.IgnoreNotFound(err)
	}
	return r.writeSinkStatus(ctx, sink, nil)
}

// writeSinkStatus brings a sink's status up to date with its configuration and a pass's outcome
// (nil: none). It is judged first on the cached copy, which costs nothing when nothing changes; a
// write reads the sink again and is guarded by its resourceVersion.
func (r *NoticeReconciler) writeSinkStatus(ctx context.Context, cached *v1alpha1.NotificationSink, o *sinkOutcome) error {
	if st := r.sinkStatus(cached, o); equality.Semantic.DeepEqual(st, cached.Status) {
		return nil
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sink := &v1alpha1.NotificationSink{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(cached), sink); err != nil {
			return client.IgnoreNotFound(err)
		}
		st := r.sinkStatus(sink, o)
		if equality.Semantic.DeepEqual(st, sink.Status) {
			return nil
		}
		before := sink.DeepCopy()
		sink.Status = st
		err := r.Client.Status().Patch(ctx, sink, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldOwner))
		return client.IgnoreNotFound(err)
	})
}

// sinkStatus is the status of sink after outcome o (nil: none). lastDelivery and lastFailure move
// at most once per sinkStatusEvery while Ready keeps its status and reason.
func (r *NoticeReconciler) sinkStatus(sink *v1alpha1.NotificationSink, o *sinkOutcome) v1alpha1.NotificationSinkStatus {
	st := *sink.Status.DeepCopy()
	now := r.Clock.Now()
	st.ObservedGeneration = sink.Generation
	old := meta.FindStatusCondition(st.Conditions, SinkReady)
	ready := metav1.Condition{Type: SinkReady}
	switch err := r.templates.check(sink); {
	case err != nil:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, ReasonSinkTemplateInvalid,
			fmt.Sprintf("%v. Nothing is sent until spec.templates is fixed", err)
	case sink.Spec.Suspend:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, ReasonSinkSuspended,
			"spec.suspend is true: notices due wait, and are sent once it is lifted if they are less than 72 hours old"
	case o != nil && o.lastFailed:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, ReasonSinkDeliveryFailed,
			fmt.Sprintf("the last delivery failed, and is retried with backoff: %s", o.err)
	case o != nil:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, ReasonSinkDelivered, "the last delivery succeeded"
	case old == nil || old.ObservedGeneration != sink.Generation ||
		old.Reason == ReasonSinkTemplateInvalid || old.Reason == ReasonSinkSuspended:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, ReasonSinkConfigured,
			"the sink's configuration is valid; no notice was delivered since it changed"
	default:
		ready = *old
	}
	changed := old == nil || old.Status != ready.Status || old.Reason != ready.Reason || old.ObservedGeneration != sink.Generation
	if changed {
		licensing.SetCondition(&st.Conditions, ready, sink.Generation, now)
	}
	due := func(last *metav1.Time, at time.Time) bool {
		return !at.IsZero() && (changed || last == nil || at.Sub(last.Time) >= sinkStatusEvery)
	}
	if o != nil && due(st.LastDelivery, o.delivered) {
		st.LastDelivery = &metav1.Time{Time: o.delivered.UTC()}
	}
	if o != nil && due(st.LastFailure, o.failed) {
		st.LastFailure = &metav1.Time{Time: o.failed.UTC()}
		st.LastError = o.err
		if !changed { // the message follows the error it is written with
			licensing.SetCondition(&st.Conditions, ready, sink.Generation, now)
		}
	}
	return st
}

// SetupWithManager registers the notice reconciler, with its own work queue. A plan is looked at
// when it is created or deleted, when its status changes what it may be told of (its latest
// order, renewal, expiry), and when its annotations change (a person, or a test, asks for a look
// again); when one of its cached orders is created or changes state, or leaves the cache (it was
// fulfilled); and every plan a sink may hear of when a sink is created or its spec changes.
func (r *NoticeReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("notice").
		WithOptions(controller.Options{MaxConcurrentReconciles: noticeWorkers}).
		Watches(&v1alpha1.CustomerLicensePlan{}, &handler.EnqueueRequestForObject{}, builder.WithPredicates(planNoticeChanged)).
		Watches(&v1alpha1.LicenseOrder{}, handler.EnqueueRequestsFromMapFunc(planOfOrder), builder.WithPredicates(orderStateChanged)).
		Watches(&v1alpha1.NotificationSink{}, r.sinkChanged(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// planNoticeChanged lets through the plan events that may make a notice due.
var planNoticeChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		a, b := e.ObjectOld.(*v1alpha1.CustomerLicensePlan), e.ObjectNew.(*v1alpha1.CustomerLicensePlan)
		x, y := a.Status, b.Status
		return x.LastOrder != y.LastOrder || x.Revision != y.Revision || x.RenewalDate != y.RenewalDate ||
			x.ExpiredOn != y.ExpiredOn || x.CancelledOn != y.CancelledOn || x.PaymentPlan != y.PaymentPlan ||
			x.RenewalAction != y.RenewalAction || !equality.Semantic.DeepEqual(a.Annotations, b.Annotations)
	},
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// orderStateChanged lets through the order events that may make a notice due: an order created,
// changing state or reason, or leaving the cache; not the records of its notices.
var orderStateChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		a, b := e.ObjectOld.(*v1alpha1.LicenseOrder), e.ObjectNew.(*v1alpha1.LicenseOrder)
		return a.Status.State != b.Status.State || a.Status.Reason != b.Status.Reason
	},
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// planOfOrder maps an order to its plan.
func planOfOrder(_ context.Context, o client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: o.(*v1alpha1.LicenseOrder).Spec.Plan}}}
}

// sinkChanged maps a sink created or changed to itself (its Ready condition) and to every cached
// plan it may hear of (in its filter's namespaces, when it names some).
func (r *NoticeReconciler) sinkChanged() handler.EventHandler {
	enqueue := func(ctx context.Context, o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		sink := o.(*v1alpha1.NotificationSink)
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Name: sink.Name}})
		namespaces := sink.Spec.Filter.Namespaces
		if len(namespaces) == 0 {
			namespaces = []string{""}
		}
		for _, ns := range namespaces {
			plans := &v1alpha1.CustomerLicensePlanList{}
			if err := r.Client.List(ctx, plans, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
				log.FromContext(ctx).Error(err, "listing the plans of a sink", "sink", sink.Name)
				continue
			}
			for i := range plans.Items {
				q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&plans.Items[i])})
			}
		}
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.Object, q)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, e.ObjectNew, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r.templates.forget(e.Object.GetName())
		},
	}
}

// attempts remembers, per plan, the attempts this process made whose record on the order failed,
// and how many records failed.
type attempts struct {
	mu sync.Mutex
	m  map[types.NamespacedName]map[string]unrecorded
}

type unrecorded struct {
	notice  v1alpha1.Notice
	records int
}

func newAttempts() *attempts {
	return &attempts{m: map[types.NamespacedName]map[string]unrecorded{}}
}

func (a *attempts) get(plan types.NamespacedName, key string) (*v1alpha1.Notice, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.m[plan][key]
	if !ok {
		return nil, 0
	}
	return &u.notice, u.records
}

func (a *attempts) put(plan types.NamespacedName, n v1alpha1.Notice, records int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m[plan] == nil {
		a.m[plan] = map[string]unrecorded{}
	}
	a.m[plan][n.Key] = unrecorded{notice: n, records: records}
}

func (a *attempts) drop(plan types.NamespacedName, key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m[plan], key)
	if len(a.m[plan]) == 0 {
		delete(a.m, plan)
	}
}

// forgetPlan forgets the plan's attempts that are not due any more: recorded since (by this
// process or another), given up, or of a sink gone.
func (a *attempts) forgetPlan(plan types.NamespacedName, due []notify.Pending) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for key := range a.m[plan] {
		if !slices.ContainsFunc(due, func(p notify.Pending) bool { return p.Notice.Key == key }) {
			delete(a.m[plan], key)
		}
	}
	if len(a.m[plan]) == 0 {
		delete(a.m, plan)
	}
}

// templateChecks caches the check of each sink's templates, by generation.
type templateChecks struct {
	mu sync.Mutex
	m  map[string]templateCheck
}

type templateCheck struct {
	uid        types.UID
	generation int64
	err        error
}

func newTemplateChecks() *templateChecks { return &templateChecks{m: map[string]templateCheck{}} }

func (t *templateChecks) check(sink *v1alpha1.NotificationSink) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.m[sink.Name]; ok && c.uid == sink.UID && c.generation == sink.Generation {
		return c.err
	}
	err := notify.ValidateTemplates(sink.Spec.Templates)
	t.m[sink.Name] = templateCheck{uid: sink.UID, generation: sink.Generation, err: err}
	return err
}

func (t *templateChecks) forget(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, name)
}
