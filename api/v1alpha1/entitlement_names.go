package v1alpha1

// The objects of the entitlements the operator issues: in each customer namespace with plans,
// the Secret EntitlementSecret (of type EntitlementSecretType) holds the signed entitlement and
// the ConfigMap EntitlementKeysConfigMap the public keys that verify it; in the operator's
// namespace, the Secret SigningKeySecret holds the signing keys. The operator caches only the
// Secrets and ConfigMaps labelled EntitlementLabel.
const (
	// EntitlementSecret is the name of a customer namespace's entitlement Secret.
	EntitlementSecret = "license-entitlement"
	// EntitlementSecretType is the type of the entitlement Secret.
	EntitlementSecretType = "licensing.partnerops.io/entitlement"
	// EntitlementTokenKey is the entitlement Secret's key of the signed entitlement (a JWS).
	EntitlementTokenKey = "token"
	// EntitlementClaimsKey is the entitlement Secret's key of the token's claims, decoded, for people.
	EntitlementClaimsKey = "claims.json"
	// EntitlementKeysConfigMap is the name of the ConfigMap of public keys in a customer namespace.
	EntitlementKeysConfigMap = "license-entitlement-keys"
	// EntitlementJWKSKey is that ConfigMap's key of the JWKS document.
	EntitlementJWKSKey = "jwks.json"
	// SigningKeySecret is the name of the Secret of the signing keys, in the operator's namespace.
	SigningKeySecret = "license-operator-signing-keys"

	// EntitlementLabel marks the Secrets and ConfigMaps of entitlements, with what each holds.
	EntitlementLabel = "licensing.partnerops.io/entitlement"
	// EntitlementLabelToken, EntitlementLabelKeys and EntitlementLabelSigningKeys are its values.
	EntitlementLabelToken       = "token"
	EntitlementLabelKeys        = "keys"
	EntitlementLabelSigningKeys = "signing-keys"

	// RotateAnnotation on the signing key Secret asks for a new signing key: a new value (such
	// as the time of the request) rotates once; RotatedAnnotation records the value last done.
	RotateAnnotation  = "licensing.partnerops.io/rotate"
	RotatedAnnotation = "licensing.partnerops.io/rotated"
)
