package notifytest_test

import (
	"net/smtp"
	"strings"
	"testing"

	"github.com/partnerops/license-operator/internal/notify/notifytest"
)

// TestSMTPServer drives the server with the standard library's client, without *testing.T.
func TestSMTPServer(t *testing.T) {
	s, err := notifytest.NewSMTPServer(notifytest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.Port() == 0 || s.Host() != "127.0.0.1" {
		t.Errorf("address %s, host %s, port %d", s.Addr(), s.Host(), s.Port())
	}
	raw := "From: a@example.org\r\nTo: b@example.org\r\nSubject: hello\r\nX-License-Event: OrderFulfilled\r\n\r\nbody line\r\n"
	s.Fail(2)
	for range 2 {
		err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"}, []byte(raw))
		if err == nil || !strings.Contains(err.Error(), "451") {
			t.Errorf("a failing server answered %v, want 451", err)
		}
	}
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org", "c@example.org"}, []byte(raw)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "a@example.org" || strings.Join(m.To, ",") != "b@example.org,c@example.org" || m.TLS || m.User != "" ||
		m.Header.Get("Subject") != "hello" || m.Header.Get("X-License-Event") != "OrderFulfilled" || m.Body != "body line\r\n" {
		t.Errorf("message %+v", m)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.org"}, []byte(raw)); err == nil {
		t.Error("a closed server took a message")
	}
}

func TestSMTPServerAuthRequired(t *testing.T) {
	s := notifytest.Start(t, notifytest.Options{Security: notifytest.StartTLS, Username: "u", Password: "p"})
	if len(s.CAPEM()) == 0 || s.ClientTLSConfig().RootCAs == nil {
		t.Fatal("no CA for a TLS server")
	}
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := c.StartTLS(s.ClientTLSConfig()); err != nil {
		t.Fatalf("STARTTLS with the server's CA: %v", err)
	}
	if err := c.Mail("a@example.org"); err == nil || !strings.Contains(err.Error(), "authenticate") {
		t.Errorf("MAIL before AUTH: %v, want an error asking to authenticate", err)
	}
	if err := c.Auth(smtp.PlainAuth("", "u", "p", "127.0.0.1")); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	if err := c.Mail("a@example.org"); err != nil {
		t.Errorf("MAIL after AUTH: %v", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages", n)
	}
}
