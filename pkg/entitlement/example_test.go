package entitlement_test

import (
	"fmt"
	"os"

	"github.com/partnerops/license-operator/pkg/entitlement"
)

// A service mounts the customer's Secret license-entitlement and ConfigMap
// license-entitlement-keys, and asks whether an eleventh concurrent call may be opened.
func Example() {
	token, _ := os.ReadFile("/var/run/entitlement/token")
	jwks, _ := os.ReadFile("/var/run/entitlement-keys/jwks.json")
	keys, err := entitlement.ParseKeySet(jwks)
	if err != nil {
		panic(err)
	}
	v := entitlement.Verifier{Keys: keys, Issuer: "license-operator.licensing.partnerops.io"}
	claims, err := v.Verify(string(token))
	if err != nil {
		fmt.Println("refused:", err) // tampered, unknown key, expired...: grant nothing
		return
	}
	fmt.Println(claims.MayUse("connect-standard-ms", 11))
}
