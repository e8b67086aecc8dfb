package entitlement_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	issue "github.com/partnerops/license-operator/internal/entitlement"
	"github.com/partnerops/license-operator/pkg/entitlement"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func claims(iat time.Time, life time.Duration) entitlement.Claims {
	return entitlement.Claims{
		Claims:    jwt.Claims{Issuer: issue.DefaultIssuer, Subject: "acme", IssuedAt: jwt.NewNumericDate(iat), NotBefore: jwt.NewNumericDate(iat), Expiry: jwt.NewNumericDate(iat.Add(life))},
		Namespace: "acme", Customer: "Acme",
		Products: []entitlement.Product{{Plan: "connect", Name: "connect-standard-ms", Licenses: 10, Family: "Connect",
			Includes: []entitlement.Included{{Product: "domain-hosting", Quantity: 1}}, PaymentPlan: "Monthly"}},
	}
}

func mustKey(t *testing.T) issue.Key {
	k, err := issue.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSign(t *testing.T, c entitlement.Claims, k issue.Key) string {
	tok, err := issue.Sign(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tamper replaces the token's payload with one granting 1000 licenses, keeping its signature.
func tamper(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(payload), `"licenses":10`, `"licenses":1000`, 1)
	if changed == string(payload) {
		t.Fatal("the payload holds no licenses to tamper with")
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

// unsigned is a token with alg none naming kid.
func unsigned(kid string, c entitlement.Claims) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + kid + `","typ":"JWT"}`))
	p := base64.RawURLEncoding.EncodeToString(issue.Decoded(c))
	return h + "." + p + "."
}

// otherAlg is c signed with ES256 under kid.
func otherAlg(t *testing.T, kid string, c entitlement.Claims) string {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: ec, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// hmacWithPublicKey is c signed with HS256, the public key's bytes as the secret: the classic
// algorithm confusion.
func hmacWithPublicKey(t *testing.T, k issue.Key, c entitlement.Claims) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: []byte(k.Private.Public().(ed25519.PublicKey)), KeyID: k.ID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerify(t *testing.T) {
	old, current, stranger := mustKey(t), mustKey(t), mustKey(t)
	one := issue.Keys{Active: old.ID, Keys: []issue.Key{old}}
	overlap := one.Rotate(current)
	retired := overlap.Retire()
	good := claims(t0, 30*24*time.Hour)
	noKid := mustSign(t, good, issue.Key{Private: old.Private})
	for _, tc := range []struct {
		name  string
		token string
		keys  issue.Keys
		now   time.Time
		skew  time.Duration
		want  error
	}{
		{"valid", mustSign(t, good, old), one, t0.Add(time.Hour), 0, nil},
		{"tampered payload", tamper(t, mustSign(t, good, old)), one, t0.Add(time.Hour), 0, entitlement.ErrSignature},
		{"wrong key under a known kid", mustSign(t, good, issue.Key{ID: old.ID, Private: stranger.Private}), one, t0.Add(time.Hour), 0, entitlement.ErrSignature},
		{"unknown kid", mustSign(t, good, stranger), one, t0.Add(time.Hour), 0, entitlement.ErrUnknownKey},
		{"no kid", noKid, one, t0.Add(time.Hour), 0, entitlement.ErrUnknownKey},
		{"expired", mustSign(t, good, old), one, t0.Add(31 * 24 * time.Hour), 0, entitlement.ErrExpired},
		{"expired beyond the skew", mustSign(t, good, old), one, t0.Add(30*24*time.Hour + 2*time.Minute), 0, entitlement.ErrExpired},
		{"expired within the skew", mustSign(t, good, old), one, t0.Add(30*24*time.Hour + 30*time.Second), 0, nil},
		{"not yet valid", mustSign(t, good, old), one, t0.Add(-time.Hour), 0, entitlement.ErrNotYetValid},
		{"not yet valid within the skew", mustSign(t, good, old), one, t0.Add(-30 * time.Second), 0, nil},
		{"a larger skew allowed", mustSign(t, good, old), one, t0.Add(-4 * time.Minute), 5 * time.Minute, nil},
		{"alg none", unsigned(old.ID, good), one, t0.Add(time.Hour), 0, entitlement.ErrMalformed},
		{"alg ES256", otherAlg(t, old.ID, good), one, t0.Add(time.Hour), 0, entitlement.ErrMalformed},
		{"alg HS256 keyed with the public key", hmacWithPublicKey(t, old, good), one, t0.Add(time.Hour), 0, entitlement.ErrMalformed},
		{"not a token", "license", one, t0, 0, entitlement.ErrMalformed},
		{"the old key during the overlap", mustSign(t, good, old), overlap, t0.Add(time.Hour), 0, nil},
		{"the new key during the overlap", mustSign(t, good, current), overlap, t0.Add(time.Hour), 0, nil},
		{"the old key after its retirement", mustSign(t, good, old), retired, t0.Add(time.Hour), 0, entitlement.ErrUnknownKey},
		{"the new key after the retirement", mustSign(t, good, current), retired, t0.Add(time.Hour), 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := entitlement.Verifier{Keys: tc.keys.Public(), Issuer: issue.DefaultIssuer, Skew: tc.skew, Now: func() time.Time { return tc.now }}
			c, err := v.Verify(tc.token)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			if err == nil && c.Licenses("connect-standard-ms") != 10 {
				t.Errorf("licenses of connect-standard-ms: %d, want 10", c.Licenses("connect-standard-ms"))
			}
		})
	}
}

func TestVerifyRefusesAnotherIssuer(t *testing.T) {
	k := mustKey(t)
	c := claims(t0, time.Hour)
	c.Issuer = "someone-else"
	v := entitlement.Verifier{Keys: issue.Keys{Active: k.ID, Keys: []issue.Key{k}}.Public(), Issuer: issue.DefaultIssuer, Now: func() time.Time { return t0 }}
	if _, err := v.Verify(mustSign(t, c, k)); !errors.Is(err, entitlement.ErrIssuer) {
		t.Fatalf("Verify: %v, want %v", err, entitlement.ErrIssuer)
	}
}

func TestVerifyNeedsExpiry(t *testing.T) {
	k := mustKey(t)
	c := claims(t0, time.Hour)
	c.Expiry = nil
	v := entitlement.Verifier{Keys: issue.Keys{Active: k.ID, Keys: []issue.Key{k}}.Public(), Now: func() time.Time { return t0 }}
	if _, err := v.Verify(mustSign(t, c, k)); !errors.Is(err, entitlement.ErrMalformed) {
		t.Fatalf("Verify: %v, want %v", err, entitlement.ErrMalformed)
	}
}

func TestParseKeySetReadsThePublishedJWKS(t *testing.T) {
	k := mustKey(t)
	keys := issue.Keys{Active: k.ID, Keys: []issue.Key{k}}
	set, err := entitlement.ParseKeySet(keys.PublicJSON())
	if err != nil {
		t.Fatal(err)
	}
	v := entitlement.Verifier{Keys: set, Now: func() time.Time { return t0 }}
	if _, err := v.Verify(mustSign(t, claims(t0, time.Hour), k)); err != nil {
		t.Fatalf("a token signed with the published key: %v", err)
	}
	if strings.Contains(string(keys.PublicJSON()), `"d"`) {
		t.Errorf("the published key set holds a private key: %s", keys.PublicJSON())
	}
}

func TestQuestions(t *testing.T) {
	c := claims(t0, time.Hour)
	c.Products = append(c.Products, entitlement.Product{Plan: "connect-2", Name: "connect-standard-ms", Licenses: 5})
	for _, tc := range []struct {
		product string
		n       int64
		may     bool
	}{
		{"connect-standard-ms", 15, true},
		{"connect-standard-ms", 16, false},
		{"domain-hosting", 1, true},
		{"domain-hosting", 2, false},
		{"endpoint-basic", 1, false},
		{"endpoint-basic", 0, true},
	} {
		if got := c.MayUse(tc.product, tc.n); got != tc.may {
			t.Errorf("MayUse(%s, %d) = %v, want %v (licenses %d)", tc.product, tc.n, got, tc.may, c.Licenses(tc.product))
		}
	}
	if got := len(c.Product("connect-standard-ms")); got != 2 {
		t.Errorf("Product(connect-standard-ms): %d entries, want 2", got)
	}
}
