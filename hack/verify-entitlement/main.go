// Command verify-entitlement verifies an entitlement of license-operator as a service does,
// outside the cluster and with no Kubernetes client: with the library pkg/entitlement, the token
// (the Secret license-entitlement's data.token) and the published public keys (the manager's JWKS
// endpoint, or the ConfigMap license-entitlement-keys' jwks.json saved to a file).
//
//	verify-entitlement -token token.jws -jwks http://license-operator:8082/.well-known/jwks.json -product connect-standard-ms -use 11
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/partnerops/license-operator/pkg/entitlement"
)

func main() {
	tokenFile := flag.String("token", "", "file of the entitlement token (- for stdin)")
	jwks := flag.String("jwks", "", "URL or file of the issuer's public keys (JWKS)")
	issuer := flag.String("issuer", "license-operator.licensing.partnerops.io", "the issuer to accept")
	product := flag.String("product", "", "a product to ask about")
	use := flag.Int64("use", 1, "how many licenses of -product are to be used at once")
	flag.Parse()
	if err := run(*tokenFile, *jwks, *issuer, *product, *use); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(tokenFile, jwks, issuer, product string, use int64) error {
	token, err := read(tokenFile)
	if err != nil {
		return err
	}
	set, err := read(jwks)
	if err != nil {
		return err
	}
	keys, err := entitlement.ParseKeySet(set)
	if err != nil {
		return err
	}
	v := entitlement.Verifier{Keys: keys, Issuer: issuer}
	c, err := v.Verify(strings.TrimSpace(string(token)))
	if err != nil {
		return err
	}
	fmt.Printf("verified: namespace %s, customer %q, issued %s, expires %s\n", c.Namespace, c.Customer,
		c.IssuedAt.Time().UTC().Format(time.RFC3339), c.Expiry.Time().UTC().Format(time.RFC3339))
	for _, p := range c.Products {
		fmt.Printf("  %s: %d x %s (%s, %s), term end %s, %s\n", p.Plan, p.Licenses, p.Name, p.SKU, p.PaymentPlan, p.TermEnd, p.RenewalAction)
	}
	if product != "" {
		fmt.Printf("may use %d of %s: %v (%d in force)\n", use, product, c.MayUse(product, use), c.Licenses(product))
	}
	return nil
}

// read reads a file, stdin (-) or an http(s) URL.
func read(from string) ([]byte, error) {
	switch {
	case from == "":
		return nil, fmt.Errorf("-token and -jwks are required")
	case from == "-":
		return io.ReadAll(os.Stdin)
	case strings.HasPrefix(from, "http://"), strings.HasPrefix(from, "https://"):
		resp, err := http.Get(from) //nolint:gosec // the URL is the caller's
		if err != nil {
			return nil, err
		}
		defer func() { _ = resp.Body.Close() }()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s", from, resp.Status)
		}
		return io.ReadAll(resp.Body)
	}
	return os.ReadFile(from)
}
