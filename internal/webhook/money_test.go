package webhook

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

var _ = Describe("Money at admission", func() {
	var ns string
	var alice person
	BeforeEach(func() {
		ns = newNamespace()
		alice = as("alice")
	})

	It("refuses a spec whose charge is beyond the largest amount, naming spec.quantity, and takes one of a billion", func() {
		absurd := product("t-wh-money-absurd", "T-WH-ABSURD", "AddOn", "Monthly", "10000000000000.00")
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, absurd))).To(Succeed())
		err := alice.Create(ctx, newPlan(ns, "absurd", "t-wh-money-absurd", 1_000_000, v1alpha1.Monthly))
		Expect(err).To(MatchError(ContainSubstring("spec.quantity: Invalid value: 1000000: ChargeTooLarge")))
		Expect(err).To(MatchError(ContainSubstring("92233720368547758.07")))

		dear := product("t-wh-money-dear", "T-WH-DEAR", "Connect", "Monthly", "2000.00")
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, dear))).To(Succeed())
		Expect(alice.Create(ctx, newPlan(ns, "dear", "t-wh-money-dear", 1_000_000, v1alpha1.Monthly))).To(Succeed())
		Expect(alice.warnings.take()).To(ContainElement(ContainSubstring("charge: 2000000000.00 EUR")))
		p := eventuallyInForce(ns, "dear")
		Expect(p.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("2000000000.00")))
	})
})
