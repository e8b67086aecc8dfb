package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// demoSink is the NotificationSink the demo creates: email to its own SMTP server.
const demoSink = "demo-mail"

// email is a message the demo's SMTP server received.
type email struct {
	to      []string
	subject string
	event   string
	body    string
}

// mailbox is an SMTP server on 127.0.0.1 that keeps what it receives. Until printing starts it
// only keeps the messages; from then on it prints each one as it arrives.
type mailbox struct {
	server *smtp.Server
	addr   *net.TCPAddr

	mu       sync.Mutex
	received []email
	printing bool
	changed  chan struct{} // closed and replaced at each message
}

// startMailbox listens on addr (host:port, port 0 for any) and serves SMTP until stop.
func startMailbox(addr string) (*mailbox, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("the demo's SMTP server on %s: %w", addr, err)
	}
	m := &mailbox{addr: l.Addr().(*net.TCPAddr), changed: make(chan struct{})}
	m.server = smtp.NewServer(m)
	m.server.Domain = "localhost"
	m.server.ReadTimeout, m.server.WriteTimeout = time.Minute, time.Minute
	m.server.MaxMessageBytes = 1 << 20
	go func() { _ = m.server.Serve(l) }()
	return m, nil
}

func (m *mailbox) stop() { _ = m.server.Close() }

// NewSession is go-smtp's Backend: one session per connection.
func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: m}, nil }

type mailSession struct {
	box *mailbox
	to  []string
}

func (s *mailSession) Reset()                                    { s.to = nil }
func (s *mailSession) Logout() error                             { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *mailSession) Data(r io.Reader) error {
	e, err := parseEmail(r)
	if err != nil {
		return err
	}
	e.to = s.to
	s.box.add(e)
	return nil
}

func (m *mailbox) add(e email) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.received = append(m.received, e)
	if m.printing {
		fmt.Printf("\nEmail received by the demo's SMTP server:\n%s", e.summary())
	}
	close(m.changed)
	m.changed = make(chan struct{})
}

// parseEmail reads a message as go-mail writes it: a text/plain body, perhaps quoted-printable
// or base64, and a subject perhaps encoded (RFC 2047).
func parseEmail(r io.Reader) (email, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return email{}, fmt.Errorf("read the message: %w", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	body := msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // it skips the line breaks
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return email{}, fmt.Errorf("read the body: %w", err)
	}
	return email{subject: subject, event: msg.Header.Get("X-License-Event"), body: string(text)}, nil
}

// summaryFields are the lines of a notice's body the demo prints: the order history's fields.
var summaryFields = []string{"Date (UTC)", "User", "SKU", "Payment plan", "Reference", "Change", "New quantity", "Charge", "Renewal date"}

// summary is an email in a few lines: to whom, the subject, and the order-history fields of its
// body on one line, or the command that approves the order.
func (e email) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  To %s: %s\n", strings.Join(e.to, ", "), e.subject)
	var fields []string
	sc := bufio.NewScanner(strings.NewReader(e.body))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "kubectl license approve ") {
			fields = append(fields, "approve: "+line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if ok {
			for _, f := range summaryFields {
				if name == f {
					fields = append(fields, name+": "+strings.TrimSpace(value))
				}
			}
		}
	}
	if len(fields) > 0 {
		fmt.Fprintf(&b, "    %s\n", strings.Join(fields, ", "))
	}
	return b.String()
}

// printReceived prints the emails received so far and, from then on, each one as it arrives.
func (m *mailbox) printReceived() {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Printf("\nEmails received by the demo's SMTP server (%s, NotificationSink %s): %d\n", m.addr, demoSink, len(m.received))
	for _, e := range m.received {
		fmt.Print(e.summary())
	}
	m.printing = true
}

// waitFor waits until the mailbox holds at least n emails of event, or timeout passes.
func (m *mailbox) waitFor(ctx context.Context, event v1alpha1.NoticeEvent, n int, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		m.mu.Lock()
		got, changed := 0, m.changed
		for _, e := range m.received {
			if e.event == string(event) {
				got++
			}
		}
		m.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// createDemoSink creates the NotificationSink demo-mail: the confirmations and the orders awaiting
// approval and renewals coming, as email to the demo's SMTP server, in plain text (a relay on the
// same host).
func createDemoSink(ctx context.Context, c client.Client, addr *net.TCPAddr) error {
	s := &v1alpha1.NotificationSink{
		ObjectMeta: metav1.ObjectMeta{Name: demoSink},
		Spec: v1alpha1.NotificationSinkSpec{
			Email: &v1alpha1.EmailSink{Host: addr.IP.String(), Port: int32(addr.Port), Security: v1alpha1.SMTPNone,
				From: "Licensing <licensing@partner.example>", To: []string{"purchasing@customer.example"}},
			Events: []v1alpha1.NoticeSelector{{Type: v1alpha1.NoticeOrderFulfilled}, {Type: v1alpha1.NoticeOrderAwaitingApproval},
				{Type: v1alpha1.NoticeRenewalComing}},
		},
	}
	if err := c.Create(ctx, s); err != nil {
		return fmt.Errorf("create the NotificationSink %s: %w", demoSink, err)
	}
	fmt.Printf("Created the NotificationSink %s: confirmations by email to the demo's SMTP server on %s.\n", demoSink, addr)
	return nil
}

// fulfilledOrders counts the orders fulfilled, each of which the demo's sink confirms.
func fulfilledOrders(ctx context.Context, c client.Client) (int, error) {
	orders := &v1alpha1.LicenseOrderList{}
	if err := c.List(ctx, orders); err != nil {
		return 0, err
	}
	n := 0
	for _, o := range orders.Items {
		if o.Status.State == v1alpha1.OrderFulfilled {
			n++
		}
	}
	return n, nil
}

// printEmails waits (up to timeout) for the confirmation of every order fulfilled, prints the
// emails received, and has the mailbox print each later one as it arrives.
func printEmails(ctx context.Context, c client.Client, m *mailbox, timeout time.Duration) {
	n, err := fulfilledOrders(ctx, c)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Printf("demo: list the orders: %v\n", err)
	}
	m.waitFor(ctx, v1alpha1.NoticeOrderFulfilled, n, timeout)
	m.printReceived()
}
