package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/metrics"
	"github.com/partnerops/license-operator/internal/notify"
	"github.com/partnerops/license-operator/internal/notify/notifytest"
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

// told are the notices a receiver accepted, as "<event> <order>".
func (r *receiver) told() []string {
	var out []string
	for _, g := range r.requests() {
		if g.accepted {
			out = append(out, g.event+" "+g.order)
		}
	}
	return out
}

// payloadOf is the payload of the accepted notice of event about order.
func (r *receiver) payloadOf(event v1alpha1.NoticeEvent, order string) notify.Payload {
	for _, g := range r.requests() {
		if g.accepted && g.event == string(event) && g.order == order {
			return g.payload
		}
	}
	Fail("no " + string(event) + " of " + order)
	return notify.Payload{}
}

// ceReceiver is a CloudEvents receiver (HTTP binding, structured mode) that checks each event's
// attributes against its data, and its Authorization header.
type ceReceiver struct {
	server *httptest.Server
	mu     sync.Mutex
	got    []string
	errs   []error
}

func newCEReceiver(authorization string) *ceReceiver {
	r := &ceReceiver{}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var e struct {
			SpecVersion     string          `json:"specversion"`
			ID              string          `json:"id"`
			Source          string          `json:"source"`
			Type            string          `json:"type"`
			Subject         string          `json:"subject"`
			Time            time.Time       `json:"time"`
			DataContentType string          `json:"datacontenttype"`
			Data            json.RawMessage `json:"data"`
		}
		var p notify.Payload
		err := json.NewDecoder(req.Body).Decode(&e)
		if err == nil {
			err = json.Unmarshal(e.Data, &p)
		}
		switch {
		case err != nil:
		case !strings.HasPrefix(req.Header.Get("Content-Type"), "application/cloudevents+json"):
			err = errors.New("not structured mode: Content-Type " + req.Header.Get("Content-Type"))
		case req.Header.Get("Authorization") != authorization:
			err = errors.New("Authorization " + req.Header.Get("Authorization"))
		case e.SpecVersion != "1.0" || e.Source != "/licensing-test" || e.DataContentType != "application/json":
			err = fmt.Errorf("attributes %+v", e)
		case e.ID != p.Key || e.Type != notify.EventTypePrefix+p.Event || e.Subject != p.Data.Namespace+"/"+p.Data.Order || !e.Time.Equal(p.Data.Time):
			err = fmt.Errorf("attributes %+v do not match the data %+v", e, p)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.errs = append(r.errs, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.got = append(r.got, p.Event+" "+p.Data.Order+" "+e.ID)
		w.WriteHeader(http.StatusAccepted)
	}))
	DeferCleanup(r.server.Close)
	return r
}

// accepted are the events received, as "<event> <order> <id>".
func (r *ceReceiver) accepted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	Expect(r.errs).To(BeEmpty(), "events whose attributes or headers are wrong")
	return slices.Clone(r.got)
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

// orderOf is the name of the order of namespace ns that records the notice key.
func orderOf(g Gomega, ns, key string) string {
	list := &v1alpha1.LicenseOrderList{}
	g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	for _, o := range list.Items {
		for _, n := range o.Status.Notices {
			if n.Key == key {
				return o.Name
			}
		}
	}
	return "(unrecorded)"
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

	It("tells every event once to each sink: a signed webhook, email and CloudEvents", func() {
		rec := newReceiver("hmac-all", 0)
		web := webhookSink("notice-all-"+ns, ns, rec)
		smtp := notifytest.Start(GinkgoT(), notifytest.Options{Security: notifytest.StartTLS, Username: "ops", Password: "mail-secret"})
		password := hmacSecret("notice-all-smtp", "mail-secret")
		mail := createSink("notice-mail-"+ns, ns, v1alpha1.NotificationSinkSpec{Email: &v1alpha1.EmailSink{
			Host: smtp.Host(), Port: smtp.Port(), Security: v1alpha1.SMTPStartTLS, Username: "ops", PasswordSecretRef: &password,
			From: "Licensing <licensing@partner.example>", To: []string{"billing@partner.example"},
			Recipients: []v1alpha1.Recipients{{Customer: "Customer of " + ns, To: []string{"it@customer.example"}},
				{Customer: "someone else", To: []string{"nobody@example.com"}}},
		}})
		ce := newCEReceiver("Bearer ce-token")
		token := hmacSecret("notice-all-ce", "Bearer ce-token")
		events := createSink("notice-ce-"+ns, ns, v1alpha1.NotificationSinkSpec{CloudEvents: &v1alpha1.CloudEventsSink{
			URL: ce.server.URL, Source: "/licensing-test", AuthorizationSecretRef: &token}})
		startNotices(&notify.Sender{TLSConfig: smtp.ClientTLSConfig()}, nil)
		fakeClock.SetTime(dayAfter(mail.CreationTimestamp.Time))
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", DefaultCostCenter: "sales", CostCenters: []v1alpha1.CostCenter{{Name: "sales"}},
			Approval: v1alpha1.ApprovalPolicy{ManualAbove: "50.00"}})
		told := func(want ...string) {
			GinkgoHelper()
			Eventually(rec.told).Should(ContainElements(want))
		}

		By("a new plan, then an increase, are confirmed")
		Expect(k8sClient.Create(ctx, noticePlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		told("OrderFulfilled eul-1")
		confirmation := rec.payloadOf(v1alpha1.NoticeOrderFulfilled, "eul-1")
		eul := eventuallyReady(ns, "eul")
		Expect(confirmation.Data.RenewalDate).To(Equal(string(eul.Status.RenewalDate)), "the plan's renewal date")
		Expect(confirmation.Data.Charge).To(Equal("20.00 EUR"))
		Expect(confirmation.Data.Customer).To(Equal("Customer of " + ns))
		Expect(confirmation.Subject).To(ContainSubstring("Customer of " + ns))
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 3 })
		told("OrderFulfilled eul-2")

		By("an order above the approval limit waits for a person, who denies it")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 20 })
		told("OrderAwaitingApproval eul-3")
		Expect(rec.payloadOf(v1alpha1.NoticeOrderAwaitingApproval, "eul-3").Data.Approve).To(Equal("kubectl license approve eul-3 -n " + ns))
		deny := fmt.Sprintf(`[{"op":"add","path":"/status/conditions/-","value":{"type":"Approved","status":"False","reason":"Denied","message":"over budget","lastTransitionTime":%q}}]`,
			fakeClock.Now().Format(time.RFC3339))
		Expect(k8sClient.Status().Patch(ctx, &v1alpha1.LicenseOrder{ObjectMeta: objectMeta(ns, "eul-3")}, client.RawPatch(types.JSONPatchType, []byte(deny)))).To(Succeed())
		told("OrderDenied eul-3")
		Expect(rec.payloadOf(v1alpha1.NoticeOrderDenied, "eul-3").Data.Reason).To(Equal(v1alpha1.ReasonDenied))
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 3 })
		eventuallyReady(ns, "eul")

		By("an order the rules refuse is told with its reason")
		bad := noticePlan(ns, "bad", "t-eul", 1, v1alpha1.Monthly)
		bad.Spec.CostCenter = "nowhere"
		Expect(k8sClient.Create(ctx, bad)).To(Succeed())
		told("OrderRejected bad-1")
		Expect(rec.payloadOf(v1alpha1.NoticeOrderRejected, "bad-1").Data.Reason).To(Equal(v1alpha1.ReasonUnknownCostCenter))

		By("a trial is confirmed")
		Expect(k8sClient.Create(ctx, noticePlan(ns, "connect", "t-trial", 5, v1alpha1.Trial))).To(Succeed())
		told("OrderFulfilled connect-1")
		trial := eventuallyReady(ns, "connect")

		By("a week before the renewal and the trial's end")
		renews, err := licensing.ParseDate(eventuallyReady(ns, "eul").Status.RenewalDate)
		Expect(err).NotTo(HaveOccurred())
		ends, err := licensing.ParseDate(trial.Status.RenewalDate)
		Expect(err).NotTo(HaveOccurred())
		week := time.Duration(v1alpha1.DefaultNoticeDaysBefore) * 24 * time.Hour
		window := renews.Add(-week)
		if s := ends.Add(-week); s.After(window) {
			window = s
		}
		Expect(window.Before(renews) && window.Before(ends)).To(BeTrue(), "both windows are open at %s", window)
		travel(window.Add(time.Hour), ns, "eul")
		travel(window.Add(time.Hour), ns, "connect")
		told("RenewalComing eul-2", "TrialEnding connect-1")
		Expect(rec.payloadOf(v1alpha1.NoticeRenewalComing, "eul-2").Data.RenewalDate).To(Equal(renews.Format(time.DateOnly)))

		By("the trial expires")
		travel(ends.Add(time.Hour), ns, "connect")
		Eventually(func(g Gomega) {
			g.Expect(getPlan(ns, "connect")(g).Status.ExpiredOn).To(Equal(v1alpha1.Date(ends.Format(time.DateOnly))))
		}).Should(Succeed())
		expiredWith := getPlan(ns, "connect")(Default).Status.LastOrder
		told("PlanExpired "+expiredWith, "OrderFulfilled "+expiredWith)

		By("each receiver got each key once, and each order records what was delivered")
		once := func(g Gomega) {
			g.Expect(rec.told()).To(ConsistOf("OrderFulfilled eul-1", "OrderFulfilled eul-2", "OrderAwaitingApproval eul-3", "OrderDenied eul-3",
				"OrderRejected bad-1", "OrderFulfilled connect-1", "RenewalComing eul-2", "TrialEnding connect-1",
				"PlanExpired "+expiredWith, "OrderFulfilled "+expiredWith))
			g.Expect(rec.requests()).To(HaveLen(len(rec.accepted())), "no attempt failed")
			delivered, _ := notices(g, ns, web.Name)
			g.Expect(rec.accepted()).To(ConsistOf(delivered))

			delivered, byKey := notices(g, ns, mail.Name)
			var got []string
			for _, m := range smtp.Messages() {
				key := m.Header.Get("X-License-Idempotency-Key")
				n := byKey[key]
				got = append(got, m.Header.Get(notify.HeaderEvent)+" "+orderOf(g, ns, key)+" "+key)
				g.Expect(string(n.Event)).To(Equal(m.Header.Get(notify.HeaderEvent)))
				g.Expect(m.Header.Get("Message-Id")).To(Equal("<" + key + "@license-operator>"))
				g.Expect(m.TLS).To(BeTrue(), "sent after STARTTLS")
				g.Expect(m.User).To(Equal("ops"))
				g.Expect(m.To).To(ConsistOf("billing@partner.example", "it@customer.example"))
			}
			g.Expect(got).To(ConsistOf(delivered))
			g.Expect(got).To(HaveLen(len(rec.accepted())), "the email sink is told what the webhook is")

			delivered, _ = notices(g, ns, events.Name)
			g.Expect(ce.accepted()).To(ConsistOf(delivered))
			g.Expect(delivered).To(HaveLen(len(rec.accepted())), "the CloudEvents sink is told what the webhook is")
		}
		Eventually(once).Should(Succeed())
		Consistently(once, "2s", "200ms").Should(Succeed())
		for _, m := range smtp.Messages() {
			if m.Header.Get(notify.HeaderEvent) == string(v1alpha1.NoticeOrderAwaitingApproval) {
				Expect(m.Body).To(ContainSubstring("kubectl license approve eul-3 -n " + ns))
				Expect(m.Header.Get("Subject")).To(ContainSubstring("Approval needed"))
			}
		}
		for _, name := range []string{web.Name, mail.Name, events.Name} {
			reason, _ := sinkReady(Default, name)
			Expect(reason).To(Equal(ReasonSinkDelivered), name)
		}
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

	It("holds notices while a sink's templates are invalid or it is suspended, and sends them after", func() {
		rec := newReceiver("hmac-templates", 0)
		ref := hmacSecret("notice-templates-hmac", "hmac-templates")
		sink := createSink("notice-templates-"+ns, ns, v1alpha1.NotificationSinkSpec{
			Webhook:   &v1alpha1.WebhookSink{URL: rec.server.URL, SecretRef: ref},
			Templates: &v1alpha1.NoticeTemplates{Subject: "Order {{.Order}"},
		})
		startNotices(nil, nil)
		Eventually(func(g Gomega) {
			reason, s := sinkReady(g, sink.Name)
			g.Expect(reason).To(Equal(ReasonSinkTemplateInvalid))
			g.Expect(meta.FindStatusCondition(s.Status.Conditions, SinkReady).Message).To(ContainSubstring("spec.templates.subject"))
		}).Should(Succeed())
		fakeClock.SetTime(dayAfter(sink.CreationTimestamp.Time))
		Expect(k8sClient.Create(ctx, noticePlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")
		Consistently(rec.requests, "1s", "100ms").Should(BeEmpty())

		By("fixed but suspended, it still waits")
		update := func(mutate func(*v1alpha1.NotificationSinkSpec)) {
			Eventually(func(g Gomega) {
				_, s := sinkReady(g, sink.Name)
				mutate(&s.Spec)
				g.Expect(k8sClient.Update(ctx, s)).To(Succeed())
			}).Should(Succeed())
		}
		update(func(s *v1alpha1.NotificationSinkSpec) { s.Templates.Subject, s.Suspend = "Order {{.Order}}", true })
		Eventually(func(g Gomega) {
			reason, _ := sinkReady(g, sink.Name)
			g.Expect(reason).To(Equal(ReasonSinkSuspended))
		}).Should(Succeed())
		Consistently(rec.requests, "1s", "100ms").Should(BeEmpty())

		By("resumed, it is told, with its own subject")
		update(func(s *v1alpha1.NotificationSinkSpec) { s.Suspend = false })
		Eventually(rec.told).Should(Equal([]string{"OrderFulfilled eul-1"}))
		Expect(rec.payloadOf(v1alpha1.NoticeOrderFulfilled, "eul-1").Subject).To(Equal("Order eul-1"))
		Eventually(func(g Gomega) {
			reason, _ := sinkReady(g, sink.Name)
			g.Expect(reason).To(Equal(ReasonSinkDelivered))
		}).Should(Succeed())
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

// A sink's status is written when its Ready condition changes, and its lastDelivery and
// lastFailure at most once a minute otherwise.
func TestSinkStatusWrites(t *testing.T) {
	start := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(start)
	r := &NoticeReconciler{Clock: clk, templates: newTemplateChecks()}
	sink := &v1alpha1.NotificationSink{ObjectMeta: metav1.ObjectMeta{Name: "mail", Generation: 1}}
	step := func(d time.Duration, err error) (changed bool) {
		t.Helper()
		clk.Step(d)
		st := r.sinkStatus(sink, (*sinkOutcome)(nil).add(clk.Now(), err))
		changed = !equality.Semantic.DeepEqual(st, sink.Status)
		sink.Status = st
		return changed
	}
	reason := func() string { return meta.FindStatusCondition(sink.Status.Conditions, SinkReady).Reason }

	if st := r.sinkStatus(sink, nil); meta.FindStatusCondition(st.Conditions, SinkReady).Reason != ReasonSinkConfigured {
		t.Fatalf("a new sink's Ready: %v, want %s", st.Conditions, ReasonSinkConfigured)
	}
	if !step(0, nil) || reason() != ReasonSinkDelivered || !sink.Status.LastDelivery.Time.Equal(start) {
		t.Fatalf("the first delivery is written: %+v", sink.Status)
	}
	if step(30*time.Second, nil) {
		t.Fatalf("a delivery 30s after the last one written is not written: %+v", sink.Status)
	}
	if !step(30*time.Second, nil) || !sink.Status.LastDelivery.Time.Equal(start.Add(time.Minute)) {
		t.Fatalf("a delivery a minute after the last one written is written: %+v", sink.Status)
	}
	if !step(time.Second, errors.New("connection refused")) || reason() != ReasonSinkDeliveryFailed || sink.Status.LastError != "connection refused" {
		t.Fatalf("a failure after a delivery is written at once: %+v", sink.Status)
	}
	if step(10*time.Second, errors.New("connection reset")) || sink.Status.LastError != "connection refused" {
		t.Fatalf("another failure within the minute is not written: %+v", sink.Status)
	}
	if !step(time.Second, nil) || reason() != ReasonSinkDelivered || sink.Status.LastError != "connection refused" {
		t.Fatalf("a delivery after a failure is written at once, keeping the last error: %+v", sink.Status)
	}
	if r.sinkStatus(sink, nil).Conditions[0].Reason != ReasonSinkDelivered {
		t.Fatalf("without an outcome, Ready stays as the last delivery left it")
	}
	sink.Generation = 2
	if st := r.sinkStatus(sink, nil); st.Conditions[0].Reason != ReasonSinkConfigured || st.ObservedGeneration != 2 {
		t.Fatalf("a changed spec is Configured: %+v", st)
	}
}
