package controller

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/entitlement"
	verify "github.com/partnerops/license-operator/pkg/entitlement"
)

// An entitlement Secret found current is verified once per resourceVersion and signing key: a
// namespace looked at again while neither changed is not verified again, and any change to the
// Secret, the grant or the active key is judged afresh.
func TestEntitlementSecretIsVerifiedOncePerVersion(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	key, err := entitlement.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys := entitlement.Keys{Active: key.ID, Keys: []entitlement.Key{key}}
	policy := entitlement.DefaultPolicy()
	grant := verify.Claims{Namespace: "acme", Customer: "acme", Products: []verify.Product{{Plan: "eul", Revision: "1", Customer: "acme",
		Name: "enterprise-user-license", Licenses: 10, PaymentPlan: string(v1alpha1.Monthly)}}}
	grant.Issuer, grant.Subject = policy.Issuer, "acme"
	claims := entitlement.Stamp(grant, policy, now)
	token, err := entitlement.Sign(claims, key)
	if err != nil {
		t.Fatal(err)
	}
	secret := entitlementSecret("acme", token, claims)
	secret.ResourceVersion = "41"
	r := &EntitlementReconciler{Policy: policy, verified: newVerifiedTokens()}

	if keep, _ := r.current(secret, grant, keys, now); !keep {
		t.Fatal("a Secret the operator wrote, granting what its plans hold: not kept")
	}
	// The same resourceVersion is the same Secret on the API server: what it holds is not read
	// again (here it is garbage, which a fresh verification would refuse).
	same := secret.DeepCopy()
	same.Data[v1alpha1.EntitlementTokenKey] = []byte("not a token")
	if keep, _ := r.current(same, grant, keys, now); !keep {
		t.Error("the Secret verified at resourceVersion 41 was verified again")
	}
	more := grant
	more.Products = []verify.Product{grant.Products[0]}
	more.Products[0].Licenses = 11
	if keep, _ := r.current(secret, more, keys, now); keep {
		t.Error("the plans grant 11 licenses, the Secret 10: kept")
	}
	edited := same.DeepCopy()
	edited.ResourceVersion = "42"
	if keep, _ := r.current(edited, grant, keys, now); keep {
		t.Error("a Secret edited by hand (resourceVersion 42, its token garbage): kept")
	}
	next, err := entitlement.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if keep, _ := r.current(secret, grant, keys.Rotate(next), now); keep {
		t.Error("a Secret signed by a retiring key, after a rotation: kept")
	}
	if keep, _ := r.current(secret, grant, keys, claims.Expiry.Time()); keep {
		t.Error("a Secret at its expiry: kept")
	}
}
