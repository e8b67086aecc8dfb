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

	It("refuses a start date more than 31 days ahead or 5 years back, naming spec.startDate", func() {
		fakeClock.SetTime(suiteStart) // 2026-03-10
		for date, says := range map[v1alpha1.Date]string{
			"2027-03-10": "is 365 days after today, 2026-03-10",
			"2006-03-10": "is more than 5 years before today, 2026-03-10",
		} {
			p := newPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly)
			p.Spec.StartDate = date
			err := alice.Create(ctx, p)
			Expect(err).To(MatchError(ContainSubstring(`spec.startDate: Invalid value: "` + string(date) + `": StartDateOutOfRange`)))
			Expect(err).To(MatchError(ContainSubstring(says)))
		}
		p := newPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly)
		p.Spec.StartDate = "2026-04-10"
		Expect(alice.Create(ctx, p)).To(Succeed(), "31 days ahead is a month of lead time")
	})
})
