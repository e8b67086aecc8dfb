// Package entitlement verifies the entitlements license-operator issues, and answers what they
// grant. A service imports it to decide, offline, whether a customer may use a product: it needs
// the entitlement token (the Secret license-entitlement in the customer's namespace, key "token")
// and the operator's public keys (the ConfigMap license-entitlement-keys, key "jwks.json", or the
// manager's JWKS endpoint). It has no Kubernetes dependency.
//
// An entitlement is a JWS in compact form (a JWT), signed with Ed25519 (alg EdDSA), whose header
// names the key (kid). Verify checks the signature with the key of that id, the algorithm, the
// issuer, not-before and expiry with an allowed clock skew; nothing else is accepted.
package entitlement

import (
	"github.com/go-jose/go-jose/v4/jwt"
)

// Claims is what an entitlement states: who issued it, for which namespace and customer, when it
// was issued and how long it is valid, and the products in force.
type Claims struct {
	// Issuer (iss), Subject (sub: the namespace), IssuedAt (iat), NotBefore (nbf) and Expiry (exp).
	jwt.Claims
	// Namespace is the customer namespace the entitlement was issued for.
	Namespace string `json:"namespace"`
	// Customer is the customer account of the namespace's plans; empty when its plans name
	// several customers (each product then says whose it is).
	Customer string `json:"customer,omitempty"`
	// Products are the plans in force, one entry per plan, ordered by plan name. A plan that
	// expired or was cancelled has no entry: it grants nothing.
	Products []Product `json:"products"`
}

// Product is one plan in force: a product and the licenses it grants.
type Product struct {
	// Plan is the name of the CustomerLicensePlan.
	Plan string `json:"plan"`
	// Revision identifies what the plan holds in force; the plan's status.entitlementRevision
	// names the same value while this entitlement carries it.
	Revision string `json:"revision"`
	// Customer is the plan's customer account.
	Customer string `json:"customer"`
	// Name is the LicenseProduct's name, such as connect-standard-ms.
	Name string `json:"name"`
	// SKU is the product's SKU.
	SKU string `json:"sku,omitempty"`
	// Family is the product family, such as Connect or Endpoint.
	Family string `json:"family,omitempty"`
	// Licenses is the number of licenses in force.
	Licenses int32 `json:"licenses"`
	// Includes are the entitlements bundled with the plan, such as a Connect plan's Domain
	// Hosting License: per plan, not per license.
	Includes []Included `json:"includes,omitempty"`
	// PaymentPlan is the payment plan in force: Monthly, Prepay1Y..Prepay5Y, OneTime or Trial.
	PaymentPlan string `json:"paymentPlan"`
	// Trial is true while the plan is a trial.
	Trial bool `json:"trial"`
	// TermEnd is the last instant of the current term (YYYY-MM-DD, UTC: the term ends as that day
	// begins); empty for OneTime plans, which have no term.
	TermEnd string `json:"termEnd,omitempty"`
	// RenewalAction is what happens at TermEnd: Renew, Expire or None.
	RenewalAction string `json:"renewalAction,omitempty"`
}

// Included is an entitlement bundled with a plan.
type Included struct {
	// Product is the included product's name.
	Product string `json:"product"`
	// Quantity is how many are included.
	Quantity int32 `json:"quantity"`
}

// Licenses is the number of licenses of product in force: those of the plans of that product,
// and those the other plans include.
func (c *Claims) Licenses(product string) int64 {
	var n int64
	for _, p := range c.Products {
		if p.Name == product {
			n += int64(p.Licenses)
		}
		for _, in := range p.Includes {
			if in.Product == product {
				n += int64(in.Quantity)
			}
		}
	}
	return n
}

// MayUse reports whether n licenses of product may be in use at once: whether the entitlement
// grants at least n. MayUse("connect-standard-ms", 11) answers whether an eleventh concurrent call
// may be opened.
func (c *Claims) MayUse(product string, n int64) bool {
	return n <= c.Licenses(product)
}

// Product returns the entries of the plans of product.
func (c *Claims) Product(name string) []Product {
	var out []Product
	for _, p := range c.Products {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}
