package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/notify"
)

// The notification step of the lifecycle workload: each of its runs has a NotificationSink, a
// webhook told of every order event of the run's namespace, and a receiver that checks each
// request's signature, as a partner's would. At rest, after every step (settle, as the
// entitlement's check), per order and event the receiver has seen exactly one distinct key, the
// one notify.Key gives, and the order's status records it as delivered; a key arrives more than
// once only when the process died between sending it and recording it: its record write (the
// status patch of a LicenseOrder that changes only status.notices) was the fault's "lost" write,
// or was refused because the process had died at another write meanwhile, or the send was in
// flight when the process died, so that the operator never had the receiver's answer (its
// transport, sendsInDoubt, tells the receiver). With two replicas (the
// race, lag and failover specs), both may send a notice before either records it: the receiver
// then sees its one key twice, which it dedupes on.

// noticeSecret is the Secret (in the run's namespace, the operator's namespace of the suite)
// holding the sink's HMAC key.
const (
	noticeSecret    = "notices-hmac"
	noticeSecretKey = "key"
	noticeHMAC      = "fault-suite-secret"
)

// noticeEvents are the events the run's sink is told of: every order event.
var noticeEvents = []v1alpha1.NoticeEvent{v1alpha1.NoticeOrderFulfilled, v1alpha1.NoticeOrderAwaitingApproval,
	v1alpha1.NoticeOrderRejected, v1alpha1.NoticeOrderDenied}

// signatureTolerance bounds how far a request's signed timestamp (the operator's clock, the run's
// fake clock) may be from the run's clock when it arrives: the run's clock jumps by a step's
// travel, at most 26 days, possibly between a send and its arrival. Replays are not what is tested.
const signatureTolerance = 60 * 24 * time.Hour

// delivery is a request the receiver accepted.
type delivery struct {
	key, event, order string
}

// receiver is a run's webhook receiver and what it saw.
type receiver struct {
	server *httptest.Server
	run    *run
	sink   *v1alpha1.NotificationSink

	mu   sync.Mutex
	got  []delivery
	errs []string
	// unrecorded are the keys whose record write was not done because the process died: lost
	// by the fault, refused after it, or never tried because the send was in flight when the
	// process died (sendsInDoubt). Only these may arrive again.
	unrecorded map[string]bool
}

// receivers are the receivers of the runs in progress, by namespace: the operator's client (the
// interceptor of operator_test.go) tells them of the record writes a fault stopped.
var receivers sync.Map // namespace -> *receiver

func (rc *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err == nil {
		err = notify.Verify([]byte(noticeHMAC), req.Header.Get(notify.HeaderTimestamp), req.Header.Get(notify.HeaderSignature), body,
			rc.run.clock.Now(), signatureTolerance)
	}
	var p notify.Payload
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	if err == nil && (p.Key == "" || p.Key != req.Header.Get(notify.HeaderIdempotencyKey) || p.Event != req.Header.Get(notify.HeaderEvent)) {
		err = fmt.Errorf("the headers (%s %q, %s %q) do not name the body's key %q and event %q", notify.HeaderIdempotencyKey,
			req.Header.Get(notify.HeaderIdempotencyKey), notify.HeaderEvent, req.Header.Get(notify.HeaderEvent), p.Key, p.Event)
	}
	if err == nil && p.Data.Namespace != rc.run.ns {
		err = fmt.Errorf("a notice of namespace %q, not the run's %q: the sink's filter was not applied", p.Data.Namespace, rc.run.ns)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err != nil {
		rc.errs = append(rc.errs, err.Error())
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.got = append(rc.got, delivery{key: p.Key, event: p.Event, order: p.Data.Order})
	w.WriteHeader(http.StatusNoContent)
}

// startNotices creates the run's receiver, its HMAC Secret and its NotificationSink, before the
// workload's first step: a sink is told only of what happens after it was created.
func (r *run) startNotices() error {
	rc := &receiver{run: r, unrecorded: map[string]bool{}}
	rc.server = httptest.NewServer(http.HandlerFunc(rc.serve))
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: noticeSecret},
		StringData: map[string]string{noticeSecretKey: noticeHMAC}}
	if err := k8sClient.Create(r.ctx, secret); err != nil {
		rc.server.Close()
		return fmt.Errorf("create the notices' Secret: %w", err)
	}
	sink := &v1alpha1.NotificationSink{
		ObjectMeta: metav1.ObjectMeta{Name: "faults-" + r.ns},
		Spec: v1alpha1.NotificationSinkSpec{
			Webhook: &v1alpha1.WebhookSink{URL: rc.server.URL + "/notices",
				SecretRef: v1alpha1.SecretKeyRef{Name: noticeSecret, Key: noticeSecretKey}},
			Filter: v1alpha1.NoticeFilter{Namespaces: []string{r.ns}},
		},
	}
	for _, e := range noticeEvents {
		sink.Spec.Events = append(sink.Spec.Events, v1alpha1.NoticeSelector{Type: e})
	}
	if err := k8sClient.Create(r.ctx, sink); err != nil {
		rc.server.Close()
		return fmt.Errorf("create the NotificationSink: %w", err)
	}
	// The runs' fake clock lies in the past, so their orders are told because the API server
	// created them after the sink; creation times have whole seconds, and only a later second is
	// surely after it. The workload's first step waits for that second.
	time.Sleep(time.Until(sink.CreationTimestamp.Add(time.Second)))
	rc.sink = sink
	r.notices = rc
	receivers.Store(r.ns, rc)
	return nil
}

// stopNotices deletes the run's sink (sinks are cluster-scoped: the next runs' operators would
// see it) and stops its receiver.
func (r *run) stopNotices() {
	rc := r.notices
	if rc == nil {
		return
	}
	_ = client.IgnoreNotFound(k8sClient.Delete(r.ctx, rc.sink))
	receivers.Delete(r.ns)
	rc.server.Close()
}

// noticeWritten tells the run of namespace ns that a record write of the notices keys (those
// delivered, of one order) was not done because the process died, or that a send's answer never
// reached the operator: those keys may arrive again.
func noticeWritten(ns string, keys []string) {
	v, ok := receivers.Load(ns)
	if !ok {
		return
	}
	rc := v.(*receiver)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, k := range keys {
		rc.unrecorded[k] = true
	}
}

// sendsInDoubt is the HTTP transport of the operator's notices in the suite. A send whose answer
// the operator did not get (an error, or its context cancelled because the process is dying) may
// still have reached the receiver: the operator records no delivery, and the next leader sends the
// notice again with the same key, which receivers dedupe on. The receiver is told that this key
// may arrive again.
type sendsInDoubt struct{ next http.RoundTripper }

func (t sendsInDoubt) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || req.Context().Err() != nil {
		key := req.Header.Get(notify.HeaderIdempotencyKey)
		receivers.Range(func(ns, v any) bool {
			if v.(*receiver).server.URL == "http://"+req.URL.Host {
				noticeWritten(ns.(string), []string{key})
				return false
			}
			return true
		})
	}
	return resp, err
}

// noticeSender is the operator's sender of notices in the suite: the production one, over
// sendsInDoubt.
func noticeSender() *notify.Sender {
	return &notify.Sender{HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: sendsInDoubt{http.DefaultTransport}}}
}

// noticeRecord returns the keys delivered that a status patch of a LicenseOrder records, if the
// patch changes nothing but status.notices (and carries the resourceVersion of its optimistic
// lock): the notice reconciler's record write. Otherwise nil.
func noticeRecord(sub string, o client.Object, p client.Patch) []string {
	order, ok := o.(*v1alpha1.LicenseOrder)
	if sub != "status" || !ok {
		return nil
	}
	data, err := p.Data(o)
	if err != nil {
		return nil
	}
	var patch map[string]json.RawMessage
	if json.Unmarshal(data, &patch) != nil {
		return nil
	}
	for field, value := range patch {
		var inner map[string]json.RawMessage
		if json.Unmarshal(value, &inner) != nil {
			return nil
		}
		for k := range inner {
			switch {
			case field == "metadata" && k == "resourceVersion":
			case field == "status" && k == "notices":
			default:
				return nil
			}
		}
	}
	if _, ok := patch["status"]; !ok {
		return nil
	}
	keys := []string{}
	for _, n := range order.Status.Notices {
		if n.DeliveredAt != nil {
			keys = append(keys, n.Key)
		}
	}
	return keys
}

// orderNoticeEvent is the event an order's state tells and when it happened, as internal/notify
// judges it: a fulfilled order at its fulfilledAt (the operator's clock), the others at their
// creation (the API server's); an order the API server created after the sink is told whatever
// the operator's clock says. ok is false for an order that tells nothing (open, or closed as
// Superseded).
func orderNoticeEvent(o *v1alpha1.LicenseOrder) (e v1alpha1.NoticeEvent, at time.Time, ok bool) {
	switch o.Status.State {
	case v1alpha1.OrderFulfilled:
		if o.Status.FulfilledAt == nil {
			return "", time.Time{}, false
		}
		return v1alpha1.NoticeOrderFulfilled, o.Status.FulfilledAt.Time, true
	case v1alpha1.OrderAwaitingApproval:
		return v1alpha1.NoticeOrderAwaitingApproval, o.CreationTimestamp.Time, true
	case v1alpha1.OrderRejected:
		switch o.Status.Reason {
		case v1alpha1.ReasonSuperseded:
			return "", time.Time{}, false
		case v1alpha1.ReasonDenied:
			return v1alpha1.NoticeOrderDenied, o.CreationTimestamp.Time, true
		}
		return v1alpha1.NoticeOrderRejected, o.CreationTimestamp.Time, true
	}
	return "", time.Time{}, false
}

// noticesAtRest says how what the receiver saw differs from what the orders of v tell, or nil.
func (r *run) noticesAtRest(v view) error {
	rc := r.notices
	if rc == nil {
		return nil
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.errs) > 0 {
		return fmt.Errorf("the receiver refused %d requests: %s", len(rc.errs), strings.Join(rc.errs, "; "))
	}
	type pair struct{ order, event string }
	keys := map[pair]map[string]int{} // distinct keys per order and event, with their deliveries
	for _, d := range rc.got {
		p := pair{d.order, d.event}
		if keys[p] == nil {
			keys[p] = map[string]int{}
		}
		keys[p][d.key]++
	}
	var errs []error
	want := map[pair]string{}
	for i := range v.orders {
		o := &v.orders[i]
		e, at, ok := orderNoticeEvent(o)
		created := rc.sink.CreationTimestamp.Time
		if !ok || at.Before(created) && !o.CreationTimestamp.Time.After(created) {
			continue
		}
		key := notify.Key(o.UID, e, "", rc.sink.Name)
		want[pair{o.Name, string(e)}] = key
		recorded := slices.IndexFunc(o.Status.Notices, func(n v1alpha1.Notice) bool { return n.Key == key && n.DeliveredAt != nil }) >= 0
		if !recorded {
			errs = append(errs, fmt.Errorf("order %s: status.notices does not record %s (key %s) as delivered: %v", o.Name, e, key, o.Status.Notices))
		}
	}
	for p, key := range want {
		if got := keys[p]; len(got) != 1 || got[key] == 0 {
			errs = append(errs, fmt.Errorf("order %s, %s: the receiver saw the keys %v, want exactly %s", p.order, p.event, got, key))
		}
	}
	for p, got := range keys {
		if _, ok := want[p]; ok {
			continue
		}
		// An order that waited for approval and was decided since: its notice may have gone out.
		if p.event == string(v1alpha1.NoticeOrderAwaitingApproval) && len(got) == 1 {
			continue
		}
		errs = append(errs, fmt.Errorf("order %s, %s: the receiver saw the keys %v, and the order tells no such event to this sink", p.order, p.event, got))
	}
	if !r.noticeRepeats {
		for p, got := range keys {
			for key, n := range got {
				if n > 1 && !rc.unrecorded[key] {
					errs = append(errs, fmt.Errorf("order %s, %s: key %s arrived %d times, but its record write was never stopped by a fault", p.order, p.event, key, n))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// noticeLines are what the receiver saw, one line per order and event: for the reference's report.
func (r *run) noticeLines() []string {
	rc := r.notices
	if rc == nil {
		return nil
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	count := map[string]int{}
	for _, d := range rc.got {
		count[fmt.Sprintf("%s %s key=%s", d.order, d.event, d.key)]++
	}
	var out []string
	for line, n := range count {
		out = append(out, fmt.Sprintf("%s deliveries=%d", line, n))
	}
	sort.Strings(out)
	return out
}

// noticeSummary is what a run's receiver saw, for its line of the report: "" without notices.
func noticeSummary(res *result) string {
	if len(res.notices) == 0 {
		return ""
	}
	deliveries := 0
	for _, line := range res.notices {
		var n int
		if _, err := fmt.Sscanf(line[strings.LastIndex(line, "deliveries="):], "deliveries=%d", &n); err == nil {
			deliveries += n
		}
	}
	return fmt.Sprintf("  notices: %d keys, %d deliveries", len(res.notices), deliveries)
}

// A send whose answer the operator never had (here its context is cancelled while the receiver
// holds the request, as when the process dies) tells the receiver that its key may arrive again;
// a send answered does not. This runs in `make test`: it needs no control plane.
func TestSendsInDoubt(t *testing.T) {
	held := make(chan struct{})
	rc := &receiver{unrecorded: map[string]bool{}}
	rc.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get(notify.HeaderIdempotencyKey) == "in-flight" {
			<-held
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.server.Close()
	defer close(held)
	receivers.Store("doubt", rc)
	defer receivers.Delete("doubt")
	c := noticeSender().HTTPClient

	send := func(ctx context.Context, key string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, rc.server.URL+"/notices", strings.NewReader("{}"))
		if err != nil {
			return err
		}
		req.Header.Set(notify.HeaderIdempotencyKey, key)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := send(context.Background(), "answered"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := send(ctx, "in-flight"); err == nil {
		t.Fatal("the send held by the receiver was answered")
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !rc.unrecorded["in-flight"] || rc.unrecorded["answered"] {
		t.Errorf("keys that may arrive again: %v, want in-flight alone", rc.unrecorded)
	}
}
