package controller

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/metrics"
	"github.com/partnerops/license-operator/internal/notify"
	"github.com/partnerops/license-operator/internal/testenv"
)

// The notice specs run the notice reconciler in a manager of its own (startNotices), beside the
// suite's operator, which runs the plans: a spec controls the notice reconciler's clients and
// Sender, and stops and starts it as a restart would.

// startNotices starts, until the spec ends or stop is called, a manager that runs the notice
// reconciler alone, on the suite's clock, with sender (nil: the default); wrap, when given, may
// change the reconciler's clients before it starts. It returns once the manager's cache is synced.
func startNotices(sender *notify.Sender, wrap func(*NoticeReconciler)) (stop func()) {
	c, cancel := context.WithCancel(ctx)
	opts := testenv.ManagerOptions(testEnv, scheme)
	opts.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
	mgr, err := ctrl.NewManager(cfg, opts)
	Expect(err).NotTo(HaveOccurred())
	r := newNoticeReconciler(mgr, fakeClock, NotificationOptions{Namespace: operatorNamespace, Sender: sender})
	if wrap != nil {
		wrap(r)
	}
	Expect(r.SetupWithManager(mgr)).To(Succeed())
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(mgr.Start(c)).To(Succeed())
	}()
	Expect(mgr.GetCache().WaitForCacheSync(c)).To(BeTrue())
	stop = func() {
		cancel()
		<-done
	}
	DeferCleanup(stop)
	return stop
}

// received is a request a webhook receiver got.
type received struct {
	key, event, order string
	accepted          bool
	payload           notify.Payload
}

// receiver is an HTTP webhook receiver that checks each request's signature with notify.Verify,
// as a partner's receiver would, and answers 500 to the first fail requests.
type receiver struct {
	server *httptest.Server
	secret []byte
	mu     sync.Mutex
	got    []received
	errs   []error
	fail   int
}

func newReceiver(secret string, fail int) *receiver {
	r := &receiver{secret: []byte(secret), fail: fail}
	r.server = httptest.NewServer(http.HandlerFunc(r.serve))
	DeferCleanup(r.server.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		err = notify.Verify(r.secret, req.Header.Get(notify.HeaderTimestamp), req.Header.Get(notify.HeaderSignature), body, fakeClock.Now(), 5*time.Minute)
	}
	var p notify.Payload
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	if err == nil && (p.Key != req.Header.Get(notify.HeaderIdempotencyKey) || p.Event != req.Header.Get(notify.HeaderEvent)) {
		err = errors.New("the headers do not name the body's key and event")
	}
	if err != nil {
		r.errs = append(r.errs, err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	got := received{key: p.Key, event: p.Event, order: p.Data.Order, payload: p}
	if r.fail > 0 {
		r.fail--
		r.got = append(r.got, got)
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	}
	got.accepted = true
	r.got = append(r.got, got)
	w.WriteHeader(http.StatusNoContent)
}

// requests are the requests received, accepted or not.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	Expect(r.errs).To(BeEmpty(), "requests whose signature or headers are wrong")
	return slices.Clone(r.got)
}

// accepted are the keys of the requests accepted, in order, with their event and order:
// "<event> <order> <key>".
func (r *receiver) accepted() []string {
	var out []string
	for _, g := range r.requests() {
		if g.accepted {
			out = append(out, g.event+" "+g.order+" "+g.key)
		}
	}
	return out
}

// hmacSecret creates the Secret of a webhook's HMAC key in the operator's namespace.
func hmacSecret(name, value string) v1alpha1.SecretKeyRef {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: name}, StringData: map[string]string{"key": value}}
	Expect(k8sClient.Create(ctx, s)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, s))).To(Succeed()) })
	return v1alpha1.SecretKeyRef{Name: name, Key: "key"}
}

// createSink creates a sink told of every event in namespace ns, and deletes it when the spec ends.
func createSink(name, ns string, spec v1alpha1.NotificationSinkSpec) *v1alpha1.NotificationSink {
	for _, e := range v1alpha1.NoticeEvents {
		spec.Events = append(spec.Events, v1alpha1.NoticeSelector{Type: e})
	}
	spec.Filter.Namespaces = []string{ns}
	s := &v1alpha1.NotificationSink{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
	Expect(k8sClient.Create(ctx, s)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, s))).To(Succeed()) })
	return s
}

// webhookSink creates a webhook sink of namespace ns posting to rec.
func webhookSink(name, ns string, rec *receiver) *v1alpha1.NotificationSink {
	ref := hmacSecret(name+"-hmac", string(rec.secret))
	return createSink(name, ns, v1alpha1.NotificationSinkSpec{Webhook: &v1alpha1.WebhookSink{URL: rec.server.URL, SecretRef: ref}})
}

// dayAfter is 09:00 UTC on the day after t: the fake clock's time for events that happen after a
// sink was created (its creationTimestamp is the API server's real time).
func dayAfter(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour).Add(24*time.Hour + 9*time.Hour)
}

// noticePlan is a plan of its own customer starting on the fake clock's day.
func noticePlan(ns, name, productName string, quantity int32, pp v1alpha1.PaymentPlan) *v1alpha1.CustomerLicensePlan {
	p := plan(ns, name, productName, quantity, pp)
	p.Spec.Customer = "Customer of " + ns
	p.Spec.StartDate = v1alpha1.Date(licensing.Day(fakeClock.Now()).Format(time.DateOnly))
	return p
}

// notices are the notices the orders of namespace ns record for sink: "<event> <order> <key>"
// of those delivered, and every record by key.
func notices(g Gomega, ns, sink string) (delivered []string, byKey map[string]v1alpha1.Notice) {
	list := &v1alpha1.LicenseOrderList{}
	g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	byKey = map[string]v1alpha1.Notice{}
	for _, o := range list.Items {
		for _, n := range o.Status.Notices {
			if n.Sink != sink {
				continue
			}
			g.Expect(byKey).NotTo(HaveKey(n.Key), "a key recorded twice")
			byKey[n.Key] = n
			if n.DeliveredAt != nil {
				delivered = append(delivered, string(n.Event)+" "+o.Name+" "+n.Key)
			}
		}
	}
	return delivered, byKey
}

// sinkReady is the reason of a sink's Ready condition, and the sink.
func sinkReady(g Gomega, name string) (string, *v1alpha1.NotificationSink) {
	s := &v1alpha1.NotificationSink{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, s)).To(Succeed())
	c := meta.FindStatusCondition(s.Status.Conditions, SinkReady)
	if c == nil {
		return "", s
	}
	return c.Reason, s
}

// noticesCounted reads license_operator_notices_total for a sink, event and result.
func noticesCounted(sink string, event v1alpha1.NoticeEvent, result string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != metrics.NoticesTotal {
			continue
		}
		for _, m := range f.GetMetric() {
			if labels(m) == sink+" "+string(event)+" "+result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func labels(m *dto.Metric) string {
	v := map[string]string{}
	for _, l := range m.GetLabel() {
		v[l.GetName()] = l.GetValue()
	}
	return v["sink"] + " " + v["event"] + " " + v["result"]
}

var registerMetrics sync.Once

// refuseRecords fails every write of an order's status: the process stops, as it were, between
// sending a notice and recording it.
type refuseRecords struct{ client.Client }

func (c refuseRecords) Status() client.SubResourceWriter { return refusedStatus{c.Client.Status()} }

type refusedStatus struct{ client.SubResourceWriter }

func (s refusedStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if _, ok := obj.(*v1alpha1.LicenseOrder); ok {
		return errors.New("the test refuses to record the notice")
	}
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

// countingReader counts the reads of a reader (the API server's).
type countingReader struct {
	client.Reader
	calls *atomic.Int32
}

func (r countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.calls.Add(1)
	return r.Reader.Get(ctx, key, obj, opts...)
}

func (r countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	r.calls.Add(1)
	return r.Reader.List(ctx, list, opts...)
}

// countingClient counts the lists of sinks (from the cache: one per reconcile of a plan) and the
// writes of a client.
type countingClient struct {
	client.Client
	sinkLists, writes *atomic.Int32
}

func (c countingClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*v1alpha1.NotificationSinkList); ok {
		c.sinkLists.Add(1)
	}
	return c.Client.List(ctx, list, opts...)
}

func (c countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.writes.Add(1)
	return c.Client.Create(ctx, obj, opts...)
}

func (c countingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.writes.Add(1)
	return c.Client.Update(ctx, obj, opts...)
}

func (c countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.writes.Add(1)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c countingClient) Status() client.SubResourceWriter {
	c.writes.Add(1) // every use of it is a write
	return c.Client.Status()
}

var _ = Describe("Notices", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		trialCatalog()
		ns = newNamespace()
		registerMetrics.Do(func() { Expect(metrics.Register(k8sClient, make(chan struct{}))).To(Succeed()) })
	})

	It("retries a webhook that fails three times, and delivers once", func() {
		rec := newReceiver("hmac-retry", 3)
		sink := webhookSink("notice-retry-"+ns, ns, rec)
		startNotices(nil, nil)
		fakeClock.SetTime(dayAfter(sink.CreationTimestamp.Time))
		Expect(k8sClient.Create(ctx, noticePlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")

		attempts := func(g Gomega) v1alpha1.Notice {
			_, byKey := notices(g, ns, sink.Name)
			g.Expect(byKey).To(HaveLen(1))
			for _, n := range byKey {
				return n
			}
			return v1alpha1.Notice{}
		}
		for i, wait := range []time.Duration{0, 30 * time.Second, time.Minute, 2 * time.Minute} {
			if wait > 0 {
				By("no attempt before the backoff ends")
				travel(fakeClock.Now().Add(wait-time.Second), ns, "eul")
				Consistently(func() int { return len(rec.requests()) }, "1s", "100ms").Should(Equal(i))
				travel(fakeClock.Now().Add(time.Second), ns, "eul")
			}
			Eventually(func(g Gomega) {
				g.Expect(attempts(g).Attempts).To(Equal(int32(i + 1)))
			}).Should(Succeed())
			if i < 3 {
				n := attempts(Default)
				Expect(n.DeliveredAt).To(BeNil())
				Expect(n.LastError).To(ContainSubstring("answered 500 Internal Server Error: down for maintenance"))
				Eventually(func(g Gomega) {
					reason, s := sinkReady(g, sink.Name)
					g.Expect(reason).To(Equal(ReasonSinkDeliveryFailed))
					g.Expect(s.Status.LastError).To(ContainSubstring("answered 500"))
					g.Expect(s.Status.LastFailure).NotTo(BeNil())
				}).Should(Succeed())
			}
		}
		n := attempts(Default)
		Expect(n.DeliveredAt).NotTo(BeNil())
		Expect(n.LastError).To(BeEmpty())
		Expect(n.Event).To(Equal(v1alpha1.NoticeOrderFulfilled))
		got := rec.requests()
		Expect(got).To(HaveLen(4))
		for _, g := range got {
			Expect(g.key).To(Equal(n.Key), "every attempt carries the same key")
		}
		Expect(rec.accepted()).To(Equal([]string{"OrderFulfilled eul-1 " + n.Key}))
		Expect(noticesCounted(sink.Name, v1alpha1.NoticeOrderFulfilled, "Failed")).To(Equal(3.0))
		Expect(noticesCounted(sink.Name, v1alpha1.NoticeOrderFulfilled, "Delivered")).To(Equal(1.0))
		Eventually(func(g Gomega) {
			reason, s := sinkReady(g, sink.Name)
			g.Expect(reason).To(Equal(ReasonSinkDelivered))
			g.Expect(s.Status.LastDelivery).NotTo(BeNil())
			g.Expect(s.Status.LastDelivery.Time).To(BeTemporally("==", n.DeliveredAt.Time))
		}).Should(Succeed())
		Consistently(func() int { return len(rec.requests()) }, "1s", "100ms").Should(Equal(4))
	})

	It("sends again with the same key after a restart between sending and recording", func() {
		rec := newReceiver("hmac-restart", 0)
		sink := webhookSink("notice-restart-"+ns, ns, rec)
		stop := startNotices(nil, func(r *NoticeReconciler) { r.Client = refuseRecords{r.Client} })
		fakeClock.SetTime(dayAfter(sink.CreationTimestamp.Time))
		Expect(k8sClient.Create(ctx, noticePlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")
		Eventually(rec.accepted).Should(HaveLen(1))
		By("the process that sent it does not send it again while its record fails")
		Consistently(func(g Gomega) {
			g.Expect(rec.accepted()).To(HaveLen(1))
			_, byKey := notices(g, ns, sink.Name)
			g.Expect(byKey).To(BeEmpty())
		}, "2s", "200ms").Should(Succeed())

		By("a restarted operator sends it again, with the same key, and records it")
		stop()
		startNotices(nil, nil)
		var delivered []string
		Eventually(func(g Gomega) {
			delivered, _ = notices(g, ns, sink.Name)
			g.Expect(delivered).To(HaveLen(1))
		}).Should(Succeed())
		Expect(rec.accepted()).To(Equal([]string{delivered[0], delivered[0]}))
		Consistently(rec.accepted, "1s", "100ms").Should(HaveLen(2))
		_, byKey := notices(Default, ns, sink.Name)
		for _, n := range byKey {
			Expect(n.Attempts).To(Equal(int32(1)), "the record of the restarted operator's attempt")
		}
	})

	It("does not tell a new sink of the orders fulfilled before it was created", func() {
		startNotices(nil, nil)
		fakeClock.SetTime(dayAfter(time.Now()).Add(-48 * time.Hour))
		Expect(k8sClient.Create(ctx, noticePlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")

		rec := newReceiver("hmac-new-sink", 0)
		sink := webhookSink("notice-new-"+ns, ns, rec)
		Eventually(func(g Gomega) {
			reason, _ := sinkReady(g, sink.Name)
			g.Expect(reason).To(Equal(ReasonSinkConfigured))
		}).Should(Succeed())
		Consistently(rec.requests, "1s", "100ms").Should(BeEmpty())

		By("an order fulfilled after the sink was created is told")
		fakeClock.SetTime(dayAfter(sink.CreationTimestamp.Time))
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 3 })
		eventuallyAtRevision(ns, "eul", 2)
		Eventually(func(g Gomega) {
			delivered, _ := notices(g, ns, sink.Name)
			g.Expect(delivered).To(HaveLen(1))
			g.Expect(delivered[0]).To(HavePrefix("OrderFulfilled eul-2 "))
			g.Expect(rec.accepted()).To(Equal(delivered))
		}).Should(Succeed())
		Consistently(func() int { return len(rec.requests()) }, "1s", "100ms").Should(Equal(1))
	})

	It("makes no request to the API server while there is no sink", func() {
		var apiCalls, sinkLists, writes atomic.Int32
		startNotices(nil, func(r *NoticeReconciler) {
			r.APIReader = countingReader{Reader: r.APIReader, calls: &apiCalls}
			r.Client = countingClient{Client: r.Client, sinkLists: &sinkLists, writes: &writes}
		})
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 3 })
		eventuallyAtRevision(ns, "eul", 2)
		Eventually(sinkLists.Load).Should(BeNumerically(">=", 2), "the plan's events reach the reconciler")
		Consistently(func() []int32 { return []int32{apiCalls.Load(), writes.Load()} }, "1s", "100ms").Should(Equal([]int32{0, 0}))

		By("with a sink, the plan's orders are read from the API server")
		webhookSink("notice-none-"+ns, ns, newReceiver("hmac-none", 0))
		Eventually(apiCalls.Load).Should(BeNumerically(">", 0))
	})
})
