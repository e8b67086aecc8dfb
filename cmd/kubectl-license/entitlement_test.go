package main

import (
	"encoding/json"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/entitlement"
	verify "github.com/partnerops/license-operator/pkg/entitlement"
)

var _ = Describe("kubectl license entitlement and keys", Ordered, func() {
	var ns string

	BeforeAll(func() {
		fakeClock.SetTime(suiteStart)
		ns = newNamespace()
		Expect(as("alice").Create(ctx, plan(ns, "eul", "t-eul", 10, "", "PO-9"))).To(Succeed())
		Eventually(orderState(ns, "eul-1")).Should(Equal(v1alpha1.OrderFulfilled))
		// victor reads the licensing objects of the namespace, as license-viewer.
		Expect(k8sClient.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "victor"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "license-viewer"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "victor"}},
		})).To(Succeed())
	})

	It("shows the namespace's entitlement decoded, with its expiry in words, and verifies it", func() {
		var r result
		Eventually(func(g Gomega) {
			r = kubectlLicense("entitlement", "-n", ns, "--verify", "--as", "victor")
			g.Expect(r.code).To(Equal(0), r.stderr)
			g.Expect(r.stdout).To(ContainSubstring("eul    t-eul"))
		}).Should(Succeed())
		for _, want := range []string{
			"Entitlement:  " + ns + "/license-entitlement\n",
			"Customer:     Acme Corporation\n",
			"Issuer:       license-operator.licensing.partnerops.io (key ",
			"Issued:       2026-03-10 09:30 UTC (0s ago)\n",
			"Expires:      2026-04-09 09:30 UTC (in 30d)\n",
			"Verified:     yes, against the published keys (configmap license-entitlement-keys)\n",
			"PLAN   PRODUCT   SKU     FAMILY   LICENSES   INCLUDES   PAYMENT   TERM END     ACTION   REVISION\n",
		} {
			Expect(r.stdout).To(ContainSubstring(want))
		}
		Expect(strings.Fields(strings.Split(strings.TrimSpace(r.stdout), "\n")[8])[:8]).To(Equal([]string{"eul", "t-eul", "T-EUL", "VMR", "10", "Monthly", "2026-04-10", "Renew"}))

		By("-o json prints the claims")
		r = kubectlLicense("entitlement", "-n", ns, "-o", "json")
		Expect(r.code).To(Equal(0), r.stderr)
		var c verify.Claims
		Expect(json.Unmarshal([]byte(r.stdout), &c)).To(Succeed())
		Expect(c.Licenses("t-eul")).To(Equal(int64(10)))

		By("past its expiry, --verify says so and fails")
		fakeClock.SetTime(suiteStart.Add(31 * 24 * time.Hour))
		r = kubectlLicense("entitlement", "-n", ns, "--verify")
		Expect(r.code).To(Equal(1))
		Expect(r.stdout).To(ContainSubstring("Expires:      2026-04-09 09:30 UTC (expired 24h ago)\n"))
		Expect(r.stdout).To(ContainSubstring("Verified:     NO: entitlement: expired at 2026-04-09T09:30:00Z"))
		Expect(r.stderr).To(Equal("error: the entitlement of namespace \"" + ns + "\" does not verify: entitlement: expired at 2026-04-09T09:30:00Z\n"))
		fakeClock.SetTime(suiteStart)

		By("a namespace without plans has no entitlement")
		r = kubectlLicense("entitlement", "-n", newNamespace())
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring(`entitlement Secret "license-entitlement" not found in namespace`))
	})

	It("rotates the signing key: every entitlement is re-issued with the new key, and the old one retired", func() {
		before := signingKeys()
		r := kubectlLicense("keys", "rotate")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(ContainSubstring("signing key rotation requested"))
		Expect(r.stdout).To(ContainSubstring("key " + before.Active + " verifies until then"))
		Eventually(func(g Gomega) {
			after := signingKeys()
			g.Expect(after.Active).NotTo(Equal(before.Active))
			g.Expect(after.Keys).To(HaveLen(1))
			r := kubectlLicense("entitlement", "-n", ns, "--verify")
			g.Expect(r.code).To(Equal(0), r.stderr)
			g.Expect(r.stdout).To(ContainSubstring("(key " + after.Active + ")"))
		}).Should(Succeed())

		r = kubectlLicense("keys", "rotate", "--operator-namespace", "elsewhere")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(Equal("error: secret \"license-operator-signing-keys\" not found in namespace \"elsewhere\"\n"))
	})
})

func signingKeys() entitlement.Keys {
	s := &corev1.Secret{}
	Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: operatorNamespace, Name: v1alpha1.SigningKeySecret}, s)).To(Succeed())
	keys, err := entitlement.ParseKeys(s.Data)
	Expect(err).NotTo(HaveOccurred())
	return keys
}
