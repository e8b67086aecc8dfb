package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/notify/notifytest"
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

// mailbox is the demo's SMTP server (notifytest's, on 127.0.0.1) and what the demo printed of it.
type mailbox struct {
	server  *notifytest.SMTPServer
	printed int // how many of its messages were printed
}

// startMailbox starts the SMTP server, plain text on a free port of 127.0.0.1.
func startMailbox() (*mailbox, error) {
	s, err := notifytest.NewSMTPServer(notifytest.Options{Security: notifytest.None})
	if err != nil {
		return nil, fmt.Errorf("the demo's SMTP server: %w", err)
	}
	return &mailbox{server: s}, nil
}

func (m *mailbox) stop() { _ = m.server.Close() }

// received are the emails received so far, decoded.
func (m *mailbox) received() []email {
	var out []email
	for _, msg := range m.server.Messages() {
		e, err := parseEmail(bytes.NewReader(msg.Raw))
		if err != nil {
			e = email{subject: "(unreadable: " + err.Error() + ")"}
		}
		e.to = msg.To
		out = append(out, e)
	}
	return out
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

// printNew prints the emails received since the last call.
func (m *mailbox) printNew(heading bool) {
	all := m.received()
	if heading {
		fmt.Printf("\nEmails received by the demo's SMTP server (%s, NotificationSink %s): %d\n", m.server.Addr(), demoSink, len(all))
	}
	for _, e := range all[m.printed:] {
		if !heading {
			fmt.Printf("\nEmail received by the demo's SMTP server:\n")
		}
		fmt.Print(e.summary())
	}
	m.printed = len(all)
}

// follow prints each new email as it arrives, until ctx ends. The server keeps its messages in
// the process; a look four times a second costs nothing.
func (m *mailbox) follow(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.printNew(false)
		}
	}
}

// waitFor waits until the mailbox holds at least n emails of event, or timeout passes.
func (m *mailbox) waitFor(ctx context.Context, event v1alpha1.NoticeEvent, n int, timeout time.Duration) {
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		got := 0
		for _, e := range m.received() {
			if e.event == string(event) {
				got++
			}
		}
		return got >= n, nil
	})
}

// createDemoSink creates the NotificationSink demo-mail: the confirmations and the orders awaiting
// approval and renewals coming, as email to the demo's SMTP server, in plain text (a relay on the
// same host).
func createDemoSink(ctx context.Context, c client.Client, server *notifytest.SMTPServer) error {
	s := &v1alpha1.NotificationSink{
		ObjectMeta: metav1.ObjectMeta{Name: demoSink},
		Spec: v1alpha1.NotificationSinkSpec{
			Email: &v1alpha1.EmailSink{Host: server.Host(), Port: server.Port(), Security: v1alpha1.SMTPNone,
				From: "Licensing <licensing@partner.example>", To: []string{"purchasing@customer.example"}},
			Events: []v1alpha1.NoticeSelector{{Type: v1alpha1.NoticeOrderFulfilled}, {Type: v1alpha1.NoticeOrderAwaitingApproval},
				{Type: v1alpha1.NoticeRenewalComing}},
		},
	}
	if err := c.Create(ctx, s); err != nil {
		return fmt.Errorf("create the NotificationSink %s: %w", demoSink, err)
	}
	fmt.Printf("Created the NotificationSink %s: confirmations by email to the demo's SMTP server on %s.\n", demoSink, server.Addr())
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
// emails received, and then each later one as it arrives, until ctx ends.
func printEmails(ctx context.Context, c client.Client, m *mailbox, timeout time.Duration) {
	n, err := fulfilledOrders(ctx, c)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Printf("demo: list the orders: %v\n", err)
	}
	m.waitFor(ctx, v1alpha1.NoticeOrderFulfilled, n, timeout)
	m.printNew(true)
	go m.follow(ctx)
}
