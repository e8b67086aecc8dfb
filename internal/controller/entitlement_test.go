package controller

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/entitlement"
	verify "github.com/partnerops/license-operator/pkg/entitlement"
)

// entitlementOf reads a namespace's entitlement Secret and verifies its token against the keys
// its ConfigMap publishes, at the fake clock's time.
func entitlementOf(g Gomega, ns string) (*corev1.Secret, *verify.Claims) {
	s := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: v1alpha1.EntitlementSecret}, s)).To(Succeed())
	g.Expect(string(s.Type)).To(Equal(v1alpha1.EntitlementSecretType))
	cm := &corev1.ConfigMap{}
	g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: v1alpha1.EntitlementKeysConfigMap}, cm)).To(Succeed())
	keys, err := verify.ParseKeySet([]byte(cm.Data[v1alpha1.EntitlementJWKSKey]))
	g.Expect(err).NotTo(HaveOccurred())
	v := verify.Verifier{Keys: keys, Issuer: entitlement.DefaultIssuer, Now: fakeClock.Now}
	c, err := v.Verify(string(s.Data[v1alpha1.EntitlementTokenKey]))
	g.Expect(err).NotTo(HaveOccurred())
	var decoded verify.Claims
	g.Expect(json.Unmarshal(s.Data[v1alpha1.EntitlementClaimsKey], &decoded)).To(Succeed())
	g.Expect(entitlement.SameGrant(decoded, *c)).To(BeTrue(), "claims.json is the token's claims")
	return s, c
}

// granted describes what an entitlement grants: "plan product licenses paymentPlan termEnd action".
func granted(c *verify.Claims) []string {
	var out []string
	for _, p := range c.Products {
		out = append(out, fmt.Sprintf("%s %s %d %s %s %s", p.Plan, p.Name, p.Licenses, p.PaymentPlan, p.TermEnd, p.RenewalAction))
	}
	return out
}

// eventuallyGrants waits until a namespace's entitlement grants what want says, and returns it.
func eventuallyGrants(ns string, want ...string) (*corev1.Secret, *verify.Claims) {
	var s *corev1.Secret
	var c *verify.Claims
	Eventually(func(g Gomega) {
		s, c = entitlementOf(g, ns)
		g.Expect(granted(c)).To(Equal(want))
	}).Should(Succeed())
	return s, c
}

// pokeEntitlement makes the entitlement reconciler look at a namespace, as its requeue would at
// the fake clock's time: the controllers' timers run on real time.
func pokeEntitlement(ns string) {
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"annotations":{"test.licensing.partnerops.io/now":%q}}}`, fakeClock.Now().Format(time.RFC3339Nano)))
	Expect(k8sClient.Patch(ctx, &corev1.Secret{ObjectMeta: objectMeta(ns, v1alpha1.EntitlementSecret)}, patch)).To(Succeed())
}

// unchanged asserts that a namespace's entitlement Secret is not written for a while.
func unchanged(ns, resourceVersion string) {
	Consistently(func(g Gomega) string {
		s := &corev1.Secret{}
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: v1alpha1.EntitlementSecret}, s)).To(Succeed())
		return s.ResourceVersion
	}, "1s", "100ms").Should(Equal(resourceVersion))
}

var _ = Describe("Entitlements", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		trialCatalog()
		ns = newNamespace()
		fakeClock.SetTime(at("2026-03-10", 9))
	})

	It("issues an entitlement for a new plan, re-issues it on an increase, and restores one edited by hand", func() {
		startPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly, "2026-03-01")
		s, c := eventuallyGrants(ns, "eul t-eul 10 Monthly 2026-04-01 Renew")
		Expect(c.Customer).To(Equal("Acme Corp"))
		Expect(c.Products[0].SKU).To(Equal("T-EUL"))
		Expect(c.Products[0].Family).To(Equal("VMR"))
		Expect(c.Expiry.Time()).To(BeTemporally("==", at("2026-04-08", 0)), "the term end and a week's grace")
		Expect(c.Products[0].Revision).To(Equal(getPlan(ns, "eul")(Default).Status.EntitlementRevision), "the plan's status names the revision that carries it")
		unchanged(ns, s.ResourceVersion)

		By("an increase in force is re-issued at once; the spec alone grants nothing")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 12 })
		eventuallyGrants(ns, "eul t-eul 12 Monthly 2026-04-01 Renew")

		By("a decrease waits for the term end: the entitlement keeps the licenses in force")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 4 })
		Eventually(func(g Gomega) {
			g.Expect(getPlan(ns, "eul")(g).Status.PendingChange).NotTo(BeNil())
		}).Should(Succeed())
		s, _ = eventuallyGrants(ns, "eul t-eul 12 Monthly 2026-04-01 Renew")
		unchanged(ns, s.ResourceVersion)

		By("claims edited by hand are restored")
		s.Data[v1alpha1.EntitlementClaimsKey] = []byte(`{"products":[{"name":"t-eul","licenses":1000}]}`)
		Expect(k8sClient.Update(ctx, s)).To(Succeed())
		s, _ = eventuallyGrants(ns, "eul t-eul 12 Monthly 2026-04-01 Renew")

		By("a token replaced by hand is restored")
		s.Data[v1alpha1.EntitlementTokenKey] = []byte("forged")
		Expect(k8sClient.Update(ctx, s)).To(Succeed())
		s, _ = eventuallyGrants(ns, "eul t-eul 12 Monthly 2026-04-01 Renew")

		By("a Secret stripped of its label, out of the operator's cache, is restored")
		delete(s.Labels, v1alpha1.EntitlementLabel)
		Expect(k8sClient.Update(ctx, s)).To(Succeed())
		Eventually(func(g Gomega) {
			s, _ = entitlementOf(g, ns)
			g.Expect(s.Labels).To(HaveKeyWithValue(v1alpha1.EntitlementLabel, v1alpha1.EntitlementLabelToken))
		}).Should(Succeed())

		By("a ConfigMap of keys edited by hand is restored")
		cm := &corev1.ConfigMap{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: v1alpha1.EntitlementKeysConfigMap}, cm)).To(Succeed())
		cm.Data[v1alpha1.EntitlementJWKSKey] = `{"keys":[]}`
		Expect(k8sClient.Update(ctx, cm)).To(Succeed())
		Eventually(func(g Gomega) { entitlementOf(g, ns) }).Should(Succeed())
	})

	It("re-issues at renewal, shrinks at expiry, and ends a cancelled plan's grant", func() {
		startPlan(ns, "renews", "t-eul", 3, v1alpha1.Monthly, "2026-03-01")
		p := plan(ns, "expires", "t-endpoint-basic", 2, v1alpha1.Monthly)
		p.Spec.StartDate = "2026-03-01"
		p.Spec.Renewal.Policy = v1alpha1.ExpireAtTermEnd
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		eventuallyReady(ns, "expires")
		startPlan(ns, "cancelled", "t-endpoint-plus", 1, v1alpha1.Monthly, "2026-03-01")
		eventuallyGrants(ns, "cancelled t-endpoint-plus 1 Monthly 2026-04-01 Renew",
			"expires t-endpoint-basic 2 Monthly 2026-04-01 Expire", "renews t-eul 3 Monthly 2026-04-01 Renew")

		By("a cancellation ends the plan's grant")
		Expect(k8sClient.Delete(ctx, getPlan(ns, "cancelled")(Default))).To(Succeed())
		eventuallyGrants(ns, "expires t-endpoint-basic 2 Monthly 2026-04-01 Expire", "renews t-eul 3 Monthly 2026-04-01 Renew")

		By("at the term end, one plan renews and the other expires")
		travel(at("2026-04-01", 3), ns, "renews")
		travel(at("2026-04-01", 3), ns, "expires")
		_, c := eventuallyGrants(ns, "renews t-eul 3 Monthly 2026-05-01 Renew")
		Expect(c.Expiry.Time()).To(BeTemporally("==", at("2026-05-01", 3)), "30 days at most")
	})

	It("shrinks when a trial ends", func() {
		Expect(k8sClient.Create(ctx, trialPlan(ns, "connect", "t-trial", 5))).To(Succeed())
		eventuallyReady(ns, "connect")
		_, c := eventuallyGrants(ns, "connect t-trial 5 Trial 2026-04-09 Expire")
		Expect(c.Products[0].Trial).To(BeTrue())
		travel(at("2026-04-09", 1), ns, "connect")
		_, c = eventuallyGrants(ns)
		Expect(c.Products).To(BeEmpty())
	})

	It("re-issues an entitlement after two thirds of its lifetime, and not before", func() {
		startPlan(ns, "eul", "t-eul", 10, v1alpha1.Prepay1Y, "2026-03-01")
		s, c := eventuallyGrants(ns, "eul t-eul 10 Prepay1Y 2027-03-01 Renew")
		Expect(c.Expiry.Time()).To(BeTemporally("==", at("2026-04-09", 9)), "30 days from its issue")

		fakeClock.SetTime(at("2026-03-29", 0)) // 18.6 days: before two thirds
		pokeEntitlement(ns)
		Consistently(func(g Gomega) time.Time { _, c := entitlementOf(g, ns); return c.IssuedAt.Time().UTC() }, "1s", "100ms").Should(Equal(c.IssuedAt.Time().UTC()))

		fakeClock.SetTime(at("2026-03-30", 10)) // past two thirds
		pokeEntitlement(ns)
		Eventually(func(g Gomega) {
			s2, c2 := entitlementOf(g, ns)
			g.Expect(c2.IssuedAt.Time()).To(BeTemporally("==", at("2026-03-30", 10)))
			g.Expect(c2.Expiry.Time()).To(BeTemporally("==", at("2026-04-29", 10)))
			g.Expect(s2.ResourceVersion).NotTo(Equal(s.ResourceVersion))
		}).Should(Succeed())
	})

	It("re-issues every entitlement with a new key at a rotation, then retires the old key", func() {
		other := newNamespace()
		startPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly, "2026-03-01")
		startPlan(other, "eul", "t-eul", 3, v1alpha1.Monthly, "2026-03-01")
		eventuallyGrants(ns, "eul t-eul 10 Monthly 2026-04-01 Renew")
		eventuallyGrants(other, "eul t-eul 3 Monthly 2026-04-01 Renew")
		keySecret := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: operatorNamespace, Name: v1alpha1.SigningKeySecret}, keySecret)).To(Succeed())
		old, err := entitlement.ParseKeys(keySecret.Data)
		Expect(err).NotTo(HaveOccurred())

		rotate := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.RotateAnnotation, fakeClock.Now().Format(time.RFC3339Nano))
		Expect(k8sClient.Patch(ctx, keySecret, client.RawPatch(types.MergePatchType, []byte(rotate)))).To(Succeed())

		Eventually(func(g Gomega) {
			s := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: operatorNamespace, Name: v1alpha1.SigningKeySecret}, s)).To(Succeed())
			keys, err := entitlement.ParseKeys(s.Data)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(keys.Active).NotTo(Equal(old.Active))
			g.Expect(keys.Keys).To(HaveLen(1), "the old key is retired once every entitlement is re-issued")
			for _, n := range []string{ns, other} {
				s, _ := entitlementOf(g, n)
				kid, _, err := entitlement.Unverified(string(s.Data[v1alpha1.EntitlementTokenKey]))
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(kid).To(Equal(keys.Active))
				cm := &corev1.ConfigMap{}
				g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: n, Name: v1alpha1.EntitlementKeysConfigMap}, cm)).To(Succeed())
				g.Expect(cm.Data[v1alpha1.EntitlementJWKSKey]).NotTo(ContainSubstring(old.Active), "the retired key is no longer published")
			}
		}).Should(Succeed())
	})
})

var _ = Describe("The JWKS endpoint", func() {
	It("serves the public keys that verify the entitlements, and no private key", func() {
		var rec *httptest.ResponseRecorder
		Eventually(func() int { // the keys are created as the operator starts
			rec = httptest.NewRecorder()
			JWKSHandler(k8sClient, operatorNamespace).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, JWKSPath, nil))
			return rec.Code
		}).Should(Equal(http.StatusOK))
		Expect(rec.Header().Get("Content-Type")).To(Equal("application/jwk-set+json"))
		set, err := verify.ParseKeySet(rec.Body.Bytes())
		Expect(err).NotTo(HaveOccurred())
		Expect(set.Keys).NotTo(BeEmpty())
		for _, k := range set.Keys {
			Expect(k.IsPublic()).To(BeTrue(), "key %s", k.KeyID)
			Expect(k.Algorithm).To(Equal("EdDSA"))
		}

		rec = httptest.NewRecorder()
		JWKSHandler(k8sClient, "nowhere").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, JWKSPath, nil))
		Expect(rec.Code).To(Equal(http.StatusServiceUnavailable))
	})
})

// A restarted operator (a second one, reading everything afresh) re-issues nothing: what the
// Secrets hold is what it would write.
var _ = Describe("Entitlements after a restart", func() {
	It("are not written again", func() {
		testCatalog()
		ns := newNamespace()
		fakeClock.SetTime(at("2026-03-10", 9))
		startPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly, "2026-03-01")
		s, _ := eventuallyGrants(ns, "eul t-eul 10 Monthly 2026-04-01 Renew")
		keys := &corev1.Secret{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: operatorNamespace, Name: v1alpha1.SigningKeySecret}, keys)).To(Succeed())

		startSecondOperator(EntitlementOptions{Namespace: operatorNamespace})
		Consistently(func(g Gomega) []string {
			now := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(s), now)).To(Succeed())
			k := &corev1.Secret{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(keys), k)).To(Succeed())
			return []string{now.ResourceVersion, k.ResourceVersion}
		}, "3s", "200ms").Should(Equal([]string{s.ResourceVersion, keys.ResourceVersion}))
	})
})
