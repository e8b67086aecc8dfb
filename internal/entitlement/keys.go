package entitlement

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/partnerops/license-operator/pkg/entitlement"
)

// Key is an Ed25519 signing key and its id.
type Key struct {
	// ID is the key id (kid): the key's JWK thumbprint (RFC 7638), base64url.
	ID      string
	Private ed25519.PrivateKey
}

// Keys are the operator's signing keys: the active one signs; the others, retiring, still verify
// until every entitlement is signed with the active one.
type Keys struct {
	Active string
	Keys   []Key
}

// Keys of the signing key Secret's data.
const (
	KeysData   = "keys.json"
	ActiveData = "active"
)

// NewKey makes an Ed25519 key from rand.
func NewKey(rand io.Reader) (Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return Key{}, err
	}
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return Key{}, err
	}
	return Key{ID: base64.RawURLEncoding.EncodeToString(tp), Private: priv}, nil
}

// Signer is the active key.
func (k Keys) Signer() (Key, bool) {
	for _, key := range k.Keys {
		if key.ID == k.Active {
			return key, true
		}
	}
	return Key{}, false
}

// Rotate makes next the active key; the others keep verifying until Retire.
func (k Keys) Rotate(next Key) Keys {
	return Keys{Active: next.ID, Keys: append(slices.Clone(k.Keys), next)}
}

// Retire keeps the active key alone.
func (k Keys) Retire() Keys {
	signer, ok := k.Signer()
	if !ok {
		return k
	}
	return Keys{Active: k.Active, Keys: []Key{signer}}
}

// Public is the JWKS verifiers use: the public key of every key, the active one first.
func (k Keys) Public() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, key := range k.Keys {
		jwk := jose.JSONWebKey{Key: key.Private.Public(), KeyID: key.ID, Algorithm: string(entitlement.Algorithm), Use: "sig"}
		if key.ID == k.Active {
			set.Keys = append([]jose.JSONWebKey{jwk}, set.Keys...)
		} else {
			set.Keys = append(set.Keys, jwk)
		}
	}
	return set
}

// PublicJSON is Public as the JWKS document published.
func (k Keys) PublicJSON() []byte {
	b, _ := json.MarshalIndent(k.Public(), "", "  ")
	return append(b, '\n')
}

// Data is the signing key Secret's data.
func (k Keys) Data() (map[string][]byte, error) {
	set := jose.JSONWebKeySet{}
	for _, key := range k.Keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: key.Private, KeyID: key.ID, Algorithm: string(entitlement.Algorithm), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{KeysData: b, ActiveData: []byte(k.Active)}, nil
}

// ParseKeys reads the signing key Secret's data.
func ParseKeys(data map[string][]byte) (Keys, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data[KeysData], &set); err != nil {
		return Keys{}, fmt.Errorf("data.%s of the signing key Secret: %w", KeysData, err)
	}
	k := Keys{Active: string(data[ActiveData])}
	for _, jwk := range set.Keys {
		priv, ok := jwk.Key.(ed25519.PrivateKey)
		if !ok {
			return Keys{}, fmt.Errorf("data.%s of the signing key Secret: key %q is not an Ed25519 private key", KeysData, jwk.KeyID)
		}
		k.Keys = append(k.Keys, Key{ID: jwk.KeyID, Private: priv})
	}
	if _, ok := k.Signer(); !ok {
		return Keys{}, fmt.Errorf("data.%s of the signing key Secret is %q: no key of that id in data.%s", ActiveData, k.Active, KeysData)
	}
	return k, nil
}
