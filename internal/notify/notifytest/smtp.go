// Package notifytest runs an SMTP server in the process, on 127.0.0.1, that keeps the messages it
// receives: for the tests of notices and for `make demo`. It speaks SMTP over TCP, plain, with
// STARTTLS or over TLS from the first byte, with a self-signed certificate, and may require
// AUTH PLAIN.
package notifytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security is how the server protects connections.
type Security string

const (
	// None: plain text only; STARTTLS is not offered.
	None Security = "None"
	// StartTLS: plain text, with STARTTLS offered (and required before AUTH).
	StartTLS Security = "StartTLS"
	// TLS: TLS from the first byte (SMTPS).
	TLS Security = "TLS"
)

// Options configure an SMTPServer.
type Options struct {
	// Security is None (the default), StartTLS or TLS.
	Security Security
	// Username and Password, when Username is set, are the only credentials AUTH PLAIN accepts,
	// and a message is refused before AUTH.
	Username, Password string
}

// Message is a message the server received.
type Message struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To are the envelope recipients (RCPT TO).
	To []string
	// Raw is the message as received (DATA).
	Raw []byte
	// Header is Raw's header.
	Header mail.Header
	// Body is Raw's body.
	Body string
	// TLS says whether the connection was encrypted when the message was sent.
	TLS bool
	// User is the name the client authenticated as; empty without AUTH.
	User string
}

// SMTPServer is a running SMTP server that keeps what it receives.
type SMTPServer struct {
	server   *smtp.Server
	listener net.Listener
	opts     Options
	caPEM    []byte
	roots    *x509.CertPool

	mu       sync.Mutex
	messages []Message
	failures int
	done     chan struct{}
}

// TB is the part of *testing.T (or Ginkgo's GinkgoT()) that Start needs.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Start starts a server that stops when the test ends; it fails the test if it cannot start.
func Start(t TB, o Options) *SMTPServer {
	t.Helper()
	s, err := NewSMTPServer(o)
	if err != nil {
		t.Fatalf("starting the SMTP server: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// NewSMTPServer starts a server on a free port of 127.0.0.1. Close stops it.
func NewSMTPServer(o Options) (*SMTPServer, error) {
	if o.Security == "" {
		o.Security = None
	}
	s := &SMTPServer{opts: o, done: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{server: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 100

	var ln net.Listener
	var err error
	switch o.Security {
	case None:
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	case StartTLS, TLS:
		var cfg *tls.Config
		cfg, s.caPEM, s.roots, err = selfSigned()
		if err != nil {
			return nil, err
		}
		srv.TLSConfig = cfg
		if o.Security == TLS {
			ln, err = tls.Listen("tcp", "127.0.0.1:0", cfg)
		} else {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		}
	default:
		return nil, fmt.Errorf("security %q: want None, StartTLS or TLS", o.Security)
	}
	if err != nil {
		return nil, fmt.Errorf("listening on 127.0.0.1: %w", err)
	}
	// AUTH over a plain connection only where the server offers nothing better.
	srv.AllowInsecureAuth = o.Security == None
	s.server, s.listener = srv, ln
	go func() {
		defer close(s.done)
		_ = srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the server's address, 127.0.0.1:<port>.
func (s *SMTPServer) Addr() string { return s.listener.Addr().String() }

// Host is the server's host, 127.0.0.1.
func (s *SMTPServer) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr())
	return h
}

// Port is the server's port.
func (s *SMTPServer) Port() int32 {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return int32(n)
}

// CAPEM is the PEM of the server's self-signed certificate (nil with Security None).
func (s *SMTPServer) CAPEM() []byte { return slices.Clone(s.caPEM) }

// ClientTLSConfig trusts the server's certificate, for a client that connects with TLS.
func (s *SMTPServer) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Messages are the messages received so far, in order.
func (s *SMTPServer) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Fail makes the server refuse the next n messages with 451 (a temporary failure), as a server
// that is down for a while does.
func (s *SMTPServer) Fail(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = n
}

// Close stops the server and waits until it has.
func (s *SMTPServer) Close() error {
	err := s.server.Close()
	// Serve may not have registered the listener yet: close it here too.
	_ = s.listener.Close()
	<-s.done
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// session is one client's connection.
type session struct {
	server *SMTPServer
	conn   *smtp.Conn
	user   string
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string {
	if s.server.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.server.opts.Username || password != s.server.opts.Password {
			return errors.New("invalid username or password")
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.server.opts.Username != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.server.mu.Lock()
	defer s.server.mu.Unlock()
	if s.server.failures > 0 {
		s.server.failures--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	m := Message{From: s.from, To: slices.Clone(s.to), Raw: raw, User: s.user}
	_, m.TLS = s.conn.TLSConnectionState()
	if parsed, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.Header = parsed.Header
		body, _ := io.ReadAll(parsed.Body)
		m.Body = string(body)
	}
	s.server.messages = append(s.server.messages, m)
	return nil
}

func (s *session) Reset() {
	s.from, s.to = "", nil
}

func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost that signs itself, valid for a day.
func selfSigned() (*tls.Config, []byte, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "notifytest SMTP server"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, pemBytes, roots, nil
}
