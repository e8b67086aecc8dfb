package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/wneessen/go-mail"
	"k8s.io/utils/clock"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Secrets reads a key of a Secret in the operator's namespace. The operator reads it live at
// each send, so a rotated secret takes effect at once.
type Secrets func(ctx context.Context, ref v1alpha1.SecretKeyRef) ([]byte, error)

// Sender delivers notices to sinks of any kind.
type Sender struct {
	// Secrets reads the sinks' passwords, HMAC keys and authorization headers.
	Secrets Secrets
	// HTTPClient posts webhooks and CloudEvents; nil: a client with a 30s timeout (and TLSConfig).
	HTTPClient *http.Client
	// TLSConfig verifies SMTP servers (and HTTPS receivers when HTTPClient is nil); nil: the
	// system roots. Tests pass their CA.
	TLSConfig *tls.Config
	// Now is the clock of the webhook signature's timestamp; nil: the real clock.
	Now func() time.Time
}

// defaultTimeout bounds one delivery.
const defaultTimeout = 30 * time.Second

// DefaultSMTPPort is the port of an email sink that names none (submission, with STARTTLS).
const DefaultSMTPPort = 587

// DefaultCloudEventsSource is the source attribute of a CloudEvents sink that names none.
const DefaultCloudEventsSource = "/license-operator"

// Send delivers m to sink. An error says which sink failed and why; the caller records it and
// tries again after Backoff.
func (s *Sender) Send(ctx context.Context, sink *v1alpha1.NotificationSink, m Message) error {
	var err error
	switch {
	case sink.Spec.Email != nil:
		err = s.sendEmail(ctx, sink.Spec.Email, m)
	case sink.Spec.Webhook != nil:
		err = s.sendWebhook(ctx, sink.Spec.Webhook, m)
	case sink.Spec.CloudEvents != nil:
		err = s.sendCloudEvent(ctx, sink.Spec.CloudEvents, m)
	default:
		err = errors.New("the sink has none of spec.email, spec.webhook, spec.cloudEvents")
	}
	if err != nil {
		return fmt.Errorf("sink %s: %w", sink.Name, err)
	}
	return nil
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return clock.RealClock{}.Now()
}

func (s *Sender) httpClient() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	if s.TLSConfig != nil {
		t.TLSClientConfig = s.TLSConfig.Clone()
	}
	return &http.Client{Timeout: defaultTimeout, Transport: t}
}

func (s *Sender) secret(ctx context.Context, field string, ref v1alpha1.SecretKeyRef) ([]byte, error) {
	if s.Secrets == nil {
		return nil, fmt.Errorf("%s: no reader of Secrets configured", field)
	}
	v, err := s.Secrets(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%s (Secret %s, key %s): %w", field, ref.Name, ref.Key, err)
	}
	return v, nil
}

// Payload is the JSON body of a webhook and the data of a CloudEvent.
type Payload struct {
	Key     string `json:"key"`
	Event   string `json:"event"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	Data    Data   `json:"data"`
}

func payload(m Message) Payload {
	return Payload{Key: m.Key, Event: string(m.Data.Event), Subject: m.Subject, Text: m.Body, Data: m.Data}
}

func (s *Sender) sendWebhook(ctx context.Context, w *v1alpha1.WebhookSink, m Message) error {
	secret, err := s.secret(ctx, "spec.webhook.secretRef", w.SecretRef)
	if err != nil {
		return err
	}
	body, err := json.Marshal(payload(m))
	if err != nil {
		return fmt.Errorf("webhook body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("spec.webhook.url %q: %w", w.URL, err)
	}
	ts := s.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderIdempotencyKey, m.Key)
	req.Header.Set(HeaderEvent, string(m.Data.Event))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %s answered %d %s%s", w.URL, resp.StatusCode, http.StatusText(resp.StatusCode),
			excerpt(resp.Body))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return nil
}

// excerpt is the start of an answer's body, for an error: ": <text>", or "".
func excerpt(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 200))
	t := strings.Join(strings.Fields(string(b)), " ")
	if t == "" {
		return ""
	}
	return ": " + t
}

func (s *Sender) sendCloudEvent(ctx context.Context, c *v1alpha1.CloudEventsSink, m Message) error {
	opts := []cehttp.Option{cehttp.WithTarget(c.URL), cehttp.WithClient(*s.httpClient())}
	if c.AuthorizationSecretRef != nil {
		auth, err := s.secret(ctx, "spec.cloudEvents.authorizationSecretRef", *c.AuthorizationSecretRef)
		if err != nil {
			return err
		}
		opts = append(opts, cehttp.WithHeader("Authorization", strings.TrimSpace(string(auth))))
	}
	client, err := cloudevents.NewClientHTTP(opts...)
	if err != nil {
		return fmt.Errorf("spec.cloudEvents.url %q: %w", c.URL, err)
	}
	source := c.Source
	if source == "" {
		source = DefaultCloudEventsSource
	}
	e := cloudevents.NewEvent(cloudevents.VersionV1)
	e.SetID(m.Key)
	e.SetSource(source)
	e.SetType(EventTypePrefix + string(m.Data.Event))
	e.SetSubject(m.Data.Namespace + "/" + m.Data.Order)
	e.SetTime(m.Data.Time)
	if err := e.SetData(cloudevents.ApplicationJSON, payload(m)); err != nil {
		return fmt.Errorf("cloudevent data: %w", err)
	}
	res := client.Send(cloudevents.WithEncodingStructured(ctx), e)
	if cloudevents.IsACK(res) {
		return nil
	}
	var hr *cehttp.Result
	if cloudevents.ResultAs(res, &hr) {
		return fmt.Errorf("cloudevents receiver %s answered %d %s", c.URL, hr.StatusCode, http.StatusText(hr.StatusCode))
	}
	return fmt.Errorf("cloudevents receiver %s: %w", c.URL, res)
}

func (s *Sender) sendEmail(ctx context.Context, e *v1alpha1.EmailSink, m Message) error {
	if len(m.To) == 0 {
		return errors.New("no recipient: spec.email.to and spec.email.recipients name none for this customer and cost center")
	}
	port := int(e.Port)
	if port == 0 {
		port = DefaultSMTPPort
	}
	tlsConfig := &tls.Config{ServerName: e.Host, MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tlsConfig = s.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = e.Host
		}
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(defaultTimeout), mail.WithTLSConfig(tlsConfig),
		mail.WithHELO("license-operator")}
	switch e.Security {
	case v1alpha1.SMTPTLS:
		opts = append(opts, mail.WithSSL())
	case v1alpha1.SMTPNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case v1alpha1.SMTPStartTLS, "":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		return fmt.Errorf("spec.email.security %q: want StartTLS, TLS or None", e.Security)
	}
	if e.Username != "" || e.PasswordSecretRef != nil {
		var password []byte
		if e.PasswordSecretRef != nil {
			p, err := s.secret(ctx, "spec.email.passwordSecretRef", *e.PasswordSecretRef)
			if err != nil {
				return err
			}
			password = p
		}
		opts = append(opts, mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(e.Username), mail.WithPassword(string(password)))
	}
	client, err := mail.NewClient(e.Host, opts...)
	if err != nil {
		return fmt.Errorf("spec.email (host %q, port %d): %w", e.Host, port, err)
	}
	msg := mail.NewMsg()
	if err := msg.From(e.From); err != nil {
		return fmt.Errorf("spec.email.from %q: %w", e.From, err)
	}
	if err := msg.To(m.To...); err != nil {
		return fmt.Errorf("recipients %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.Key + "@license-operator")
	msg.SetDateWithValue(s.now())
	msg.SetGenHeader(mail.Header("X-License-Idempotency-Key"), m.Key)
	msg.SetGenHeader(mail.Header(HeaderEvent), string(m.Data.Event))
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s:%d: %w", e.Host, port, err)
	}
	return nil
}
