package faults

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/entitlement"
	"github.com/partnerops/license-operator/internal/licensing"
	verify "github.com/partnerops/license-operator/pkg/entitlement"
)

// entitlementAtRest says how the namespace's entitlement differs from its plans' status, or nil:
// at rest, after every crash point, the Secret license-entitlement carries one entry per plan in
// force with that plan's entitlement revision (what it holds in force), signed with a key the
// namespace's ConfigMap publishes, and its claims.json is its token's claims. The signature is
// checked at the token's issue: the run's clock may have moved past its expiry, which the
// operator's requeue (on real time) has not reached.
func (r *run) entitlementAtRest() error {
	plans := &v1alpha1.CustomerLicensePlanList{}
	if err := k8sClient.List(r.ctx, plans, client.InNamespace(r.ns)); err != nil {
		return err
	}
	var want []string
	for _, p := range plans.Items {
		if licensing.HasPlanInForce(p.Status) {
			want = append(want, p.Name+" "+licensing.EntitlementRevision(p.Status))
		}
	}
	s := &corev1.Secret{}
	switch err := k8sClient.Get(r.ctx, client.ObjectKey{Namespace: r.ns, Name: v1alpha1.EntitlementSecret}, s); {
	case apierrors.IsNotFound(err) && len(want) == 0:
		return nil // nothing was ever in force
	case err != nil:
		return fmt.Errorf("the entitlement Secret: %w (plans in force: %v)", err, want)
	}
	cm := &corev1.ConfigMap{}
	if err := k8sClient.Get(r.ctx, client.ObjectKey{Namespace: r.ns, Name: v1alpha1.EntitlementKeysConfigMap}, cm); err != nil {
		return fmt.Errorf("the ConfigMap of public keys: %w", err)
	}
	keys, err := verify.ParseKeySet([]byte(cm.Data[v1alpha1.EntitlementJWKSKey]))
	if err != nil {
		return err
	}
	token := string(s.Data[v1alpha1.EntitlementTokenKey])
	_, unverified, err := entitlement.Unverified(token)
	if err != nil || unverified.IssuedAt == nil {
		return fmt.Errorf("the entitlement token cannot be read: %v", err)
	}
	v := verify.Verifier{Keys: keys, Now: func() time.Time { return unverified.IssuedAt.Time() }}
	c, err := v.Verify(token)
	if err != nil {
		return fmt.Errorf("the entitlement does not verify with the published keys: %w", err)
	}
	if !bytes.Equal(s.Data[v1alpha1.EntitlementClaimsKey], entitlement.Decoded(*c)) {
		return fmt.Errorf("claims.json is not the token's claims")
	}
	var got []string
	for _, p := range c.Products {
		got = append(got, p.Plan+" "+p.Revision)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("the entitlement grants %v, the plans' status %v", got, want)
	}
	return nil
}
