// Package entitlement issues the entitlements of customer namespaces: which claims a namespace's
// plans give (from what is in force, their status, alone), how long an entitlement is valid and
// when it is re-issued, the signing keys and their rotation, and the signature. It is pure: no
// client, no clock read; pkg/entitlement verifies what it signs.
package entitlement

import (
	"sort"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/pkg/entitlement"
)

// Policy says who issues entitlements and how long they are valid.
type Policy struct {
	// Issuer is the iss claim.
	Issuer string
	// MaxLifetime bounds an entitlement's validity from its issue.
	MaxLifetime time.Duration
	// Grace is how long after a plan's term end its entitlement stays valid: a plan that renews
	// is re-issued with its new term well before.
	Grace time.Duration
}

// Defaults of Policy.
const (
	DefaultIssuer      = "license-operator.licensing.partnerops.io"
	DefaultMaxLifetime = 30 * 24 * time.Hour
	DefaultGrace       = 7 * 24 * time.Hour
)

// DefaultPolicy is the policy of the operator unless told otherwise.
func DefaultPolicy() Policy {
	return Policy{Issuer: DefaultIssuer, MaxLifetime: DefaultMaxLifetime, Grace: DefaultGrace}
}

// Grant is what a namespace's plans grant now: the claims of an entitlement, without its times.
// Each plan in force (licensing.HasPlanInForce: neither expired nor cancelled) gives one product,
// from its status, with the family and inclusions of the product in force from the catalog; a
// plan whose term ended more than the grace period before now grants nothing, even if its status
// was not written since (the operator was down). Nothing comes from a spec or an open order: a
// change not in force grants nothing.
func Grant(namespace string, plans []v1alpha1.CustomerLicensePlan, catalog map[string]*v1alpha1.LicenseProductSpec, p Policy, now time.Time) entitlement.Claims {
	c := entitlement.Claims{Claims: jwt.Claims{Issuer: p.Issuer, Subject: namespace}, Namespace: namespace, Products: []entitlement.Product{}}
	customers := map[string]bool{}
	for i := range plans {
		plan := &plans[i]
		st := plan.Status
		if !licensing.HasPlanInForce(st) {
			continue
		}
		e := entitlement.Product{Plan: plan.Name, Revision: licensing.EntitlementRevision(st), Customer: plan.Spec.Customer,
			Name: st.Product, SKU: st.SKU, Licenses: st.Licenses, PaymentPlan: string(st.PaymentPlan),
			Trial: st.PaymentPlan == v1alpha1.Trial, RenewalAction: string(st.RenewalAction)}
		if st.Term != nil {
			e.TermEnd = string(st.Term.End)
		}
		if end, ok := termEnd(e); ok && !now.Before(end.Add(p.Grace)) {
			continue
		}
		if prod := catalog[st.Product]; prod != nil {
			e.Family = string(prod.Family)
			for _, in := range prod.Includes {
				e.Includes = append(e.Includes, entitlement.Included{Product: in.Product, Quantity: in.Quantity})
			}
		}
		c.Products = append(c.Products, e)
		customers[plan.Spec.Customer] = true
	}
	sort.Slice(c.Products, func(i, j int) bool { return c.Products[i].Plan < c.Products[j].Plan })
	if len(customers) == 1 {
		for name := range customers {
			c.Customer = name
		}
	}
	return c
}

// termEnd is the instant a product's term ends: the start of its TermEnd day, UTC.
func termEnd(p entitlement.Product) (time.Time, bool) {
	if p.TermEnd == "" {
		return time.Time{}, false
	}
	t, err := licensing.ParseDate(v1alpha1.Date(p.TermEnd))
	return t, err == nil
}

// Expiry is when an entitlement of c issued at issuedAt expires: at the earliest term end plus the
// grace period, and at most MaxLifetime after its issue.
func Expiry(c entitlement.Claims, p Policy, issuedAt time.Time) time.Time {
	exp := issuedAt.Add(p.MaxLifetime)
	for _, prod := range c.Products {
		if end, ok := termEnd(prod); ok && end.Add(p.Grace).Before(exp) {
			exp = end.Add(p.Grace)
		}
	}
	return exp
}

// Stamp gives c its times: issued and valid from issuedAt (whole seconds), until Expiry.
func Stamp(c entitlement.Claims, p Policy, issuedAt time.Time) entitlement.Claims {
	at := issuedAt.Truncate(time.Second)
	c.IssuedAt, c.NotBefore = jwt.NewNumericDate(at), jwt.NewNumericDate(at)
	c.Expiry = jwt.NewNumericDate(Expiry(c, p, at))
	return c
}

// Renewal says whether an entitlement valid from issuedAt until expiry is to be re-issued now
// (with the same claims), and otherwise when to look again. It is re-issued once two thirds of its
// lifetime have passed, if a new one would expire later; one bound by a term end (which a new one
// would share) is left until it expires, when its plan's term has ended and the claims change.
func Renewal(p Policy, c entitlement.Claims, issuedAt, expiry, now time.Time) (reissue bool, next time.Time) {
	at := issuedAt.Add(expiry.Sub(issuedAt) * 2 / 3)
	later := Expiry(c, p, now.Truncate(time.Second)).After(expiry)
	switch {
	case !now.Before(expiry):
		return true, time.Time{}
	case now.Before(at):
		return false, at
	case later:
		return true, time.Time{}
	}
	return false, expiry
}

// SameGrant reports whether two entitlements grant the same: their claims without their times.
func SameGrant(a, b entitlement.Claims) bool {
	a.IssuedAt, a.NotBefore, a.Expiry, a.ID = nil, nil, nil, ""
	b.IssuedAt, b.NotBefore, b.Expiry, b.ID = nil, nil, nil, ""
	return equalJSON(a, b)
}
