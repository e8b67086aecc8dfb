package entitlement

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Algorithm is the only signature algorithm an entitlement is signed with, and the only one
// Verify accepts.
const Algorithm = jose.EdDSA

// DefaultSkew is the clock skew Verify allows when a Verifier names none.
const DefaultSkew = time.Minute

// Errors Verify wraps, for callers that tell them apart with errors.Is.
var (
	ErrMalformed   = errors.New("entitlement: not a compact JWS signed with EdDSA")
	ErrUnknownKey  = errors.New("entitlement: unknown key id")
	ErrSignature   = errors.New("entitlement: signature does not verify")
	ErrIssuer      = errors.New("entitlement: unexpected issuer")
	ErrExpired     = errors.New("entitlement: expired")
	ErrNotYetValid = errors.New("entitlement: not valid yet")
)

// Verifier verifies entitlements against a set of public keys.
type Verifier struct {
	// Keys are the issuer's public keys, by key id: the JWKS it publishes.
	Keys jose.JSONWebKeySet
	// Issuer, when set, is the only issuer accepted.
	Issuer string
	// Skew is the clock difference allowed between the issuer and the verifier (DefaultSkew when 0).
	Skew time.Duration
	// Now is the verifier's clock (time.Now when nil).
	Now func() time.Time
}

// ParseKeySet reads a JWKS document such as the ConfigMap's jwks.json.
func ParseKeySet(jwks []byte) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return set, fmt.Errorf("entitlement: reading the key set: %w", err)
	}
	return set, nil
}

// Verify checks token and returns its claims: the header's algorithm is EdDSA and its key id names
// an Ed25519 key of the set, the signature verifies with that key, the issuer is the expected
// one, and the present lies between not-before and expiry, both required, give or take the skew.
func (v Verifier) Verify(token string) (*Claims, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{Algorithm})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(tok.Headers) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrMalformed, len(tok.Headers))
	}
	kid := tok.Headers[0].KeyID
	key, err := v.key(kid)
	if err != nil {
		return nil, err
	}
	c := &Claims{}
	if err := tok.Claims(key, c); err != nil {
		return nil, fmt.Errorf("%w (kid %q): %v", ErrSignature, kid, err)
	}
	if err := v.validate(c); err != nil {
		return nil, err
	}
	return c, nil
}

// key is the Ed25519 public key of id kid.
func (v Verifier) key(kid string) (ed25519.PublicKey, error) {
	if kid == "" {
		return nil, fmt.Errorf("%w: the header names no key (kid)", ErrUnknownKey)
	}
	for _, k := range v.Keys.Key(kid) {
		if k.Algorithm != "" && k.Algorithm != string(Algorithm) {
			continue
		}
		if pub, ok := k.Key.(ed25519.PublicKey); ok {
			return pub, nil
		}
	}
	return nil, fmt.Errorf("%w %q: no Ed25519 key of that id in the key set (retired, or another issuer's)", ErrUnknownKey, kid)
}

// validate checks the issuer and the validity period, with go-jose's validation: exp and nbf
// are required here, where a JWT may leave them out.
func (v Verifier) validate(c *Claims) error {
	if c.Expiry == nil || c.NotBefore == nil {
		return fmt.Errorf("%w: exp and nbf are required", ErrMalformed)
	}
	now, skew := time.Now(), v.Skew
	if v.Now != nil {
		now = v.Now()
	}
	if skew == 0 {
		skew = DefaultSkew
	}
	err := c.Claims.ValidateWithLeeway(jwt.Expected{Issuer: v.Issuer, Time: now}, skew)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return fmt.Errorf("%w: iss is %q, want %q", ErrIssuer, c.Issuer, v.Issuer)
	case errors.Is(err, jwt.ErrExpired):
		return fmt.Errorf("%w at %s", ErrExpired, c.Expiry.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return fmt.Errorf("%w: not before %s", ErrNotYetValid, c.NotBefore.Time().UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}
