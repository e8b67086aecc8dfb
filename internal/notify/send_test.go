package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/notify"
	"github.com/partnerops/license-operator/internal/notify/notifytest"
)

// secrets reads from a map "name/key", and counts its reads.
type secrets struct {
	mu    sync.Mutex
	data  map[string]string
	reads int
}

func (s *secrets) read(_ context.Context, ref v1alpha1.SecretKeyRef) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	v, ok := s.data[ref.Name+"/"+ref.Key]
	if !ok {
		return nil, fmt.Errorf("secret %s has no key %s", ref.Name, ref.Key)
	}
	return []byte(v), nil
}

var sendTime = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func message() notify.Message {
	d := fulfilledData()
	return notify.Message{
		Subject: "Order confirmation: IncreaseQuantity of endpoint-license-basic for Acme Corp",
		Body:    "Thank you for your order.\nNew quantity:  25\n",
		To:      []string{"ops@acme.example", "finance@acme.example"},
		Key:     "0123456789abcdef0123456789abcdef",
		Data:    d,
	}
}

func fulfilledData() notify.Data {
	return notify.Data{
		Event: v1alpha1.NoticeOrderFulfilled, Namespace: "acme", Customer: "Acme Corp", CostCenter: "CC-100",
		Plan: "endpoints", Order: "endpoints-2", Time: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC),
		User: "alice@acme.example", SKU: "EPL-B-001", Product: "endpoint-license-basic", PaymentPlan: "Monthly",
		Reference: "PO-4711", Change: "IncreaseQuantity", Quantity: 25, Charge: "21.29 EUR", RenewalDate: "2026-04-01",
	}
}

func emailSink(srv *notifytest.SMTPServer, security v1alpha1.SMTPSecurity) *v1alpha1.NotificationSink {
	return &v1alpha1.NotificationSink{
		ObjectMeta: metav1.ObjectMeta{Name: "mail"},
		Spec: v1alpha1.NotificationSinkSpec{Email: &v1alpha1.EmailSink{
			Host: srv.Host(), Port: srv.Port(), Security: security,
			From: "Licensing <licensing@partner.example>", To: []string{"ops@acme.example"},
		}},
	}
}

func TestSendEmail(t *testing.T) {
	cases := []struct {
		name     string
		server   notifytest.Options
		security v1alpha1.SMTPSecurity
		auth     bool
		tls      bool
	}{
		{name: "plain", server: notifytest.Options{Security: notifytest.None}, security: v1alpha1.SMTPNone},
		{name: "STARTTLS", server: notifytest.Options{Security: notifytest.StartTLS}, security: v1alpha1.SMTPStartTLS, tls: true},
		{name: "implicit TLS", server: notifytest.Options{Security: notifytest.TLS}, security: v1alpha1.SMTPTLS, tls: true},
		{name: "STARTTLS and AUTH PLAIN", server: notifytest.Options{Security: notifytest.StartTLS, Username: "relay", Password: "s3cret"},
			security: v1alpha1.SMTPStartTLS, auth: true, tls: true},
		{name: "implicit TLS and AUTH PLAIN", server: notifytest.Options{Security: notifytest.TLS, Username: "relay", Password: "s3cret"},
			security: v1alpha1.SMTPTLS, auth: true, tls: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := notifytest.Start(t, tc.server)
			sink := emailSink(srv, tc.security)
			sec := &secrets{data: map[string]string{"smtp/password": "s3cret"}}
			if tc.auth {
				sink.Spec.Email.Username = "relay"
				sink.Spec.Email.PasswordSecretRef = &v1alpha1.SecretKeyRef{Name: "smtp", Key: "password"}
			}
			s := &notify.Sender{Secrets: sec.read, TLSConfig: srv.ClientTLSConfig(), Now: func() time.Time { return sendTime }}
			m := message()
			if err := s.Send(context.Background(), sink, m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("received %d messages, want 1", len(got))
			}
			r := got[0]
			if r.From != "licensing@partner.example" {
				t.Errorf("MAIL FROM %q", r.From)
			}
			if strings.Join(r.To, ",") != "ops@acme.example,finance@acme.example" {
				t.Errorf("RCPT TO %q", r.To)
			}
			if r.TLS != tc.tls {
				t.Errorf("TLS %v, want %v", r.TLS, tc.tls)
			}
			wantUser := ""
			if tc.auth {
				wantUser = "relay"
				if sec.reads != 1 {
					t.Errorf("read the password %d times, want 1", sec.reads)
				}
			}
			if r.User != wantUser {
				t.Errorf("authenticated as %q, want %q", r.User, wantUser)
			}
			h := r.Header
			for name, want := range map[string]string{
				"Subject":                   m.Subject,
				"Message-Id":                "<" + m.Key + "@license-operator>",
				"X-License-Idempotency-Key": m.Key,
				"X-License-Event":           "OrderFulfilled",
				"To":                        "<ops@acme.example>, <finance@acme.example>",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}
			if from := h.Get("From"); !strings.Contains(from, "licensing@partner.example") || !strings.Contains(from, "Licensing") {
				t.Errorf("From %q", from)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
			if date, err := h.Date(); err != nil || !date.Equal(sendTime) {
				t.Errorf("Date %v (%v), want %v", date, err, sendTime)
			}
			if body := strings.ReplaceAll(r.Body, "\r\n", "\n"); !strings.Contains(body, "New quantity:  25") {
				t.Errorf("body %q", r.Body)
			}
		})
	}
}

func TestSendEmailFailures(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		srv := notifytest.Start(t, notifytest.Options{Security: notifytest.StartTLS, Username: "relay", Password: "s3cret"})
		sink := emailSink(srv, v1alpha1.SMTPStartTLS)
		sink.Spec.Email.Username = "relay"
		sink.Spec.Email.PasswordSecretRef = &v1alpha1.SecretKeyRef{Name: "smtp", Key: "password"}
		sec := &secrets{data: map[string]string{"smtp/password": "wrong"}}
		s := &notify.Sender{Secrets: sec.read, TLSConfig: srv.ClientTLSConfig()}
		err := s.Send(context.Background(), sink, message())
		if err == nil || !strings.Contains(err.Error(), "sink mail") {
			t.Fatalf("Send: %v, want an error naming the sink", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("received %d messages", n)
		}
	})
	t.Run("a missing Secret names the field", func(t *testing.T) {
		srv := notifytest.Start(t, notifytest.Options{Security: notifytest.StartTLS, Username: "relay", Password: "s3cret"})
		sink := emailSink(srv, v1alpha1.SMTPStartTLS)
		sink.Spec.Email.Username = "relay"
		sink.Spec.Email.PasswordSecretRef = &v1alpha1.SecretKeyRef{Name: "smtp", Key: "nope"}
		s := &notify.Sender{Secrets: (&secrets{}).read, TLSConfig: srv.ClientTLSConfig()}
		err := s.Send(context.Background(), sink, message())
		if err == nil || !strings.Contains(err.Error(), "spec.email.passwordSecretRef") {
			t.Fatalf("Send: %v, want an error naming spec.email.passwordSecretRef", err)
		}
	})
	t.Run("STARTTLS required but not offered", func(t *testing.T) {
		srv := notifytest.Start(t, notifytest.Options{Security: notifytest.None})
		s := &notify.Sender{}
		if err := s.Send(context.Background(), emailSink(srv, v1alpha1.SMTPStartTLS), message()); err == nil {
			t.Fatal("Send over a server without STARTTLS succeeded; StartTLS must refuse plain text")
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("received %d messages in plain text", n)
		}
	})
	t.Run("an unknown certificate is refused", func(t *testing.T) {
		srv := notifytest.Start(t, notifytest.Options{Security: notifytest.TLS})
		s := &notify.Sender{} // the system roots do not hold the test CA
		if err := s.Send(context.Background(), emailSink(srv, v1alpha1.SMTPTLS), message()); err == nil {
			t.Fatal("Send to a server of an unknown certificate succeeded")
		}
	})
	t.Run("a temporary failure, then delivered", func(t *testing.T) {
		srv := notifytest.Start(t, notifytest.Options{})
		srv.Fail(1)
		s := &notify.Sender{}
		sink := emailSink(srv, v1alpha1.SMTPNone)
		err := s.Send(context.Background(), sink, message())
		if err == nil || !strings.Contains(err.Error(), "451") {
			t.Fatalf("Send: %v, want the server's 451", err)
		}
		if err := s.Send(context.Background(), sink, message()); err != nil {
			t.Fatalf("Send again: %v", err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("received %d messages, want 1", n)
		}
	})
	t.Run("no recipient", func(t *testing.T) {
		srv := notifytest.Start(t, notifytest.Options{})
		m := message()
		m.To = nil
		err := (&notify.Sender{}).Send(context.Background(), emailSink(srv, v1alpha1.SMTPNone), m)
		if err == nil || !strings.Contains(err.Error(), "no recipient") {
			t.Fatalf("Send: %v, want no recipient", err)
		}
	})
}

// received is a request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

func receiver(t *testing.T, status int) (*httptest.Server, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{header: r.Header.Clone(), body: body})
		mu.Unlock()
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func webhookSink(url string) *v1alpha1.NotificationSink {
	return &v1alpha1.NotificationSink{
		ObjectMeta: metav1.ObjectMeta{Name: "hook"},
		Spec: v1alpha1.NotificationSinkSpec{Webhook: &v1alpha1.WebhookSink{
			URL: url, SecretRef: v1alpha1.SecretKeyRef{Name: "hook", Key: "hmac"},
		}},
	}
}

func TestSendWebhook(t *testing.T) {
	srv, got := receiver(t, http.StatusAccepted)
	sec := &secrets{data: map[string]string{"hook/hmac": "hook-secret"}}
	s := &notify.Sender{Secrets: sec.read, Now: func() time.Time { return sendTime }}
	m := message()
	if err := s.Send(context.Background(), webhookSink(srv.URL), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := got()
	if len(reqs) != 1 {
		t.Fatalf("received %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if err := notify.Verify([]byte("hook-secret"), r.header.Get(notify.HeaderTimestamp), r.header.Get(notify.HeaderSignature),
		r.body, sendTime.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := notify.Verify([]byte("other-secret"), r.header.Get(notify.HeaderTimestamp), r.header.Get(notify.HeaderSignature),
		r.body, sendTime, 5*time.Minute); err == nil {
		t.Error("Verify with another secret accepted the request")
	}
	for name, want := range map[string]string{
		"Content-Type":              "application/json",
		notify.HeaderIdempotencyKey: m.Key,
		notify.HeaderEvent:          "OrderFulfilled",
		notify.HeaderTimestamp:      "1773480600",
	} {
		if v := r.header.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
	var body struct {
		Key, Event, Subject, Text string
		Data                      map[string]any
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if body.Key != m.Key || body.Event != "OrderFulfilled" || body.Subject != m.Subject || body.Text != m.Body {
		t.Errorf("body %s", r.body)
	}
	for k, want := range map[string]any{"sku": "EPL-B-001", "quantity": 25.0, "charge": "21.29 EUR",
		"time": "2026-03-14T09:26:53Z", "user": "alice@acme.example", "renewalDate": "2026-04-01", "costCenter": "CC-100"} {
		if body.Data[k] != want {
			t.Errorf("data.%s = %v, want %v", k, body.Data[k], want)
		}
	}
}

func TestSendWebhookFailures(t *testing.T) {
	srv, _ := receiver(t, http.StatusInternalServerError)
	sec := &secrets{data: map[string]string{"hook/hmac": "k"}}
	s := &notify.Sender{Secrets: sec.read}
	err := s.Send(context.Background(), webhookSink(srv.URL), message())
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "sink hook") {
		t.Errorf("Send to a 500: %v, want an error naming the sink, the URL and 500", err)
	}
	err = (&notify.Sender{Secrets: (&secrets{}).read}).Send(context.Background(), webhookSink(srv.URL), message())
	if err == nil || !strings.Contains(err.Error(), "spec.webhook.secretRef") {
		t.Errorf("Send without the Secret: %v, want an error naming spec.webhook.secretRef", err)
	}
}

func cloudEventsSink(url, source string, auth bool) *v1alpha1.NotificationSink {
	s := &v1alpha1.NotificationSink{
		ObjectMeta: metav1.ObjectMeta{Name: "events"},
		Spec:       v1alpha1.NotificationSinkSpec{CloudEvents: &v1alpha1.CloudEventsSink{URL: url, Source: source}},
	}
	if auth {
		s.Spec.CloudEvents.AuthorizationSecretRef = &v1alpha1.SecretKeyRef{Name: "ce", Key: "authorization"}
	}
	return s
}

func TestSendCloudEvent(t *testing.T) {
	cases := []struct {
		name, source, wantSource, wantAuth string
		auth                               bool
	}{
		{name: "default source, no authorization", wantSource: "/license-operator"},
		{name: "source and authorization", source: "/partners/acme", wantSource: "/partners/acme", auth: true,
			wantAuth: "Bearer t0ken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, got := receiver(t, http.StatusOK)
			sec := &secrets{data: map[string]string{"ce/authorization": "Bearer t0ken\n"}}
			s := &notify.Sender{Secrets: sec.read}
			m := message()
			if err := s.Send(context.Background(), cloudEventsSink(srv.URL, tc.source, tc.auth), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			reqs := got()
			if len(reqs) != 1 {
				t.Fatalf("received %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/cloudevents+json") {
				t.Errorf("Content-Type %q: not structured mode", ct)
			}
			if a := r.header.Get("Authorization"); a != tc.wantAuth {
				t.Errorf("Authorization %q, want %q", a, tc.wantAuth)
			}
			// The structured envelope, as JSON.
			var env map[string]any
			if err := json.Unmarshal(r.body, &env); err != nil {
				t.Fatalf("body %s: %v", r.body, err)
			}
			for k, want := range map[string]any{
				"specversion": "1.0", "id": m.Key, "source": tc.wantSource, "type": "io.partnerops.licensing.OrderFulfilled",
				"subject": "acme/endpoints-2", "time": "2026-03-14T09:26:53Z", "datacontenttype": "application/json",
			} {
				if env[k] != want {
					t.Errorf("%s = %v, want %v", k, env[k], want)
				}
			}
			// And as the SDK reads it.
			e := cloudevents.NewEvent()
			if err := json.Unmarshal(r.body, &e); err != nil {
				t.Fatalf("the SDK cannot read the event: %v", err)
			}
			if err := e.Validate(); err != nil {
				t.Errorf("event invalid: %v", err)
			}
			var data struct {
				Key   string      `json:"key"`
				Event string      `json:"event"`
				Text  string      `json:"text"`
				Data  notify.Data `json:"data"`
			}
			if err := e.DataAs(&data); err != nil {
				t.Fatalf("data: %v", err)
			}
			if data.Key != m.Key || data.Event != "OrderFulfilled" || data.Text != m.Body || data.Data != m.Data {
				t.Errorf("data %+v, want the message's", data)
			}
		})
	}
}

func TestSendCloudEventFailures(t *testing.T) {
	srv, _ := receiver(t, http.StatusInternalServerError)
	err := (&notify.Sender{}).Send(context.Background(), cloudEventsSink(srv.URL, "", false), message())
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "sink events") {
		t.Errorf("Send to a 500: %v, want an error naming the sink and 500", err)
	}
	err = (&notify.Sender{Secrets: (&secrets{}).read}).Send(context.Background(), cloudEventsSink(srv.URL, "", true), message())
	if err == nil || !strings.Contains(err.Error(), "spec.cloudEvents.authorizationSecretRef") {
		t.Errorf("Send without the Secret: %v", err)
	}
}
