package entitlement

import (
	"bytes"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/partnerops/license-operator/pkg/entitlement"
)

// Sign signs c with key: a compact JWS of type JWT, alg EdDSA, whose header names the key (kid).
func Sign(c entitlement.Claims, key Key) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: entitlement.Algorithm, Key: jose.JSONWebKey{Key: key.Private, KeyID: key.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("signing with key %s: %w", key.ID, err)
	}
	return jwt.Signed(signer).Claims(c).Serialize()
}

// Decoded is the JSON people read in the entitlement Secret: the token's claims, indented.
func Decoded(c entitlement.Claims) []byte {
	b, _ := json.MarshalIndent(c, "", "  ")
	return append(b, '\n')
}

// Unverified reads a token's key id and claims without verifying its signature: for an issuer
// that compares what it wrote with what it would write (it verifies too), never for a decision.
func Unverified(token string) (kid string, c entitlement.Claims, err error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{entitlement.Algorithm})
	if err != nil {
		return "", c, err
	}
	if len(tok.Headers) != 1 {
		return "", c, fmt.Errorf("%d signatures", len(tok.Headers))
	}
	err = tok.UnsafeClaimsWithoutVerification(&c)
	return tok.Headers[0].KeyID, c, err
}

func equalJSON(a, b any) bool {
	x, errX := json.Marshal(a)
	y, errY := json.Marshal(b)
	return errX == nil && errY == nil && bytes.Equal(x, y)
}
