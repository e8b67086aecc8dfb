package webhook

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The ledger policy of config/policy, which the suite installs as `make install` does. The API
// server enforces it by itself: these tests would pass with the operator stopped.

// clusterAdmin is a client acting as a cluster admin who is not the operator: a user of the group
// system:masters, which RBAC allows everything.
func clusterAdmin(name string) client.Client {
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{UserName: name, Groups: []string{"system:masters", "system:authenticated"}}
	cl, err := client.New(c, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return cl
}

// ordersIn lists the names of the orders of a namespace.
func ordersIn(g Gomega, ns string) []string {
	list := &v1alpha1.LicenseOrderList{}
	g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var names []string
	for _, o := range list.Items {
		names = append(names, o.Name)
	}
	return names
}

// ledgerRefusal is the error the API server answers to the deletion of an order; kubectl prints it
// after "Error from server (Forbidden): ".
func ledgerRefusal(ns, order string) string {
	return `licenseorders.licensing.partnerops.io "` + order + `" is forbidden: ValidatingAdmissionPolicy 'license-operator-ledger' ` +
		`with binding 'license-operator-ledger' denied request: LicenseOrder ` + ns + `/` + order + ` is part of the order history ` +
		`and billing ledger and cannot be deleted; orders go only with their namespace (see the README, "The order history is a ledger")`
}

var _ = Describe("The order history", func() {
	var ns string
	var root client.Client
	BeforeEach(func() {
		ns = newNamespace()
		root = clusterAdmin("root")
		alice := as("alice")
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		Expect(alice.Create(ctx, newPlan(ns, "ep", "t-endpoint-basic", 1, v1alpha1.Monthly))).To(Succeed())
		eventuallyInForce(ns, "eul")
		eventuallyInForce(ns, "ep")
		Expect(ordersIn(Default, ns)).To(ConsistOf("eul-1", "ep-1"))
	})

	It("is a ledger: nobody deletes an order, not even a cluster admin", func() {
		order := getOrder(Default, ns, "eul-1")
		for _, who := range []struct {
			name string
			c    client.Client
		}{{"a cluster admin", root}, {"the operator itself", k8sClient}} {
			c := who.c
			By(who.name + " may not delete an order, dry run or not; the refusal names the order")
			err := c.Delete(ctx, order.DeepCopy(), client.DryRunAll)
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(Equal(ledgerRefusal(ns, "eul-1")))
			err = c.Delete(ctx, order.DeepCopy())
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(Equal(ledgerRefusal(ns, "eul-1")))
		}

		By("nor every order of the namespace at once (kubectl delete lo --all): each is refused")
		err := root.DeleteAllOf(ctx, &v1alpha1.LicenseOrder{}, client.InNamespace(ns))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring(" is part of the order history and billing ledger and cannot be deleted")))
		Expect(ordersIn(Default, ns)).To(ConsistOf("eul-1", "ep-1"))
		for _, name := range []string{"eul-1", "ep-1"} {
			Expect(getOrder(Default, ns, name).DeletionTimestamp).To(BeNil())
		}
	})

	It("is guarded by the shipped policies alone: InstallPolicies removed its probe", func() {
		shipped := ConsistOf(HaveField("Name", "license-operator-ledger"), HaveField("Name", "license-operator-assignment-plan-label"))
		policies := &admissionregistrationv1.ValidatingAdmissionPolicyList{}
		Expect(k8sClient.List(ctx, policies)).To(Succeed())
		Expect(policies.Items).To(shipped)
		bindings := &admissionregistrationv1.ValidatingAdmissionPolicyBindingList{}
		Expect(k8sClient.List(ctx, bindings)).To(Succeed())
		Expect(bindings.Items).To(shipped)
	})

	It("goes with its namespace", func() {
		By("the namespace is deleted; envtest has no namespace controller, so it stays Terminating")
		namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		Expect(root.Delete(ctx, namespace)).To(Succeed())
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(namespace), namespace)).To(Succeed())
		Expect(namespace.DeletionTimestamp).NotTo(BeNil())

		By("its orders may now be deleted, as the namespace controller does: one deletecollection")
		// The API server's view of the namespace (namespaceObject) comes from its informer, which
		// may lag a moment behind the deletion.
		Eventually(func() error {
			return root.Delete(ctx, getOrder(Default, ns, "eul-1"), client.DryRunAll)
		}).Should(Succeed())
		Expect(root.DeleteAllOf(ctx, &v1alpha1.LicenseOrder{}, client.InNamespace(ns))).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(ordersIn(g, ns)).To(BeEmpty()) }).Should(Succeed())
	})
})
