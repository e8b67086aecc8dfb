package webhook

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// trialProduct creates t-trial, once: Monthly at 10.00, with a trial of 30 days and at most 10 licenses.
func trialProduct() {
	p := product("t-trial", "T-TRIAL", "Connect", "Monthly", "10.00")
	p.Spec.Trial = &v1alpha1.TrialOffer{Days: 30, MaxLicenses: 10}
	if err := k8sClient.Create(ctx, p); err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}

var _ = Describe("Trials at admission", func() {
	var ns string
	var alice person
	BeforeEach(func() {
		trialProduct()
		ns = newNamespace()
		alice = as("alice")
	})

	It("previews a trial and its conversion, and refuses a second trial, too many licenses and a product without one", func() {
		By("a dry run of a trial states its end and that it is charged nothing")
		alice.warnings.take()
		Expect(alice.Create(ctx, newPlan(ns, "connect", "t-trial", 5, v1alpha1.Trial), client.DryRunAll)).To(Succeed())
		Expect(alice.warnings.take()).To(ContainElements(
			"license-operator would place an order: Trial of 5 x t-trial (Trial), effective 2026-03-10",
			HavePrefix("license-operator charge: 0.00 EUR (Trial of 5 x t-trial until 2026-04-09, 0.00 EUR:"),
		))
		Expect(alice.Create(ctx, newPlan(ns, "connect", "t-trial", 5, v1alpha1.Trial))).To(Succeed())
		p := eventuallyInForce(ns, "connect")
		Expect(p.Status.PaymentPlan).To(Equal(v1alpha1.Trial))

		By("a second trial of the product for the customer, at once")
		err := alice.Create(ctx, newPlan(ns, "again", "t-trial", 5, v1alpha1.Trial))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(`spec.paymentPlan: Invalid value: "Trial": TrialUsed: paymentPlan Trial: the customer had a trial of "t-trial" already (order connect-1)`))

		By("another customer's trial counts for that customer only")
		other := newPlan(ns, "other", "t-trial", 5, v1alpha1.Trial)
		other.Spec.Customer = "Initech AB"
		Expect(alice.Create(ctx, other)).To(Succeed())

		By("more licenses than the trial allows")
		Expect(mergePatch(alice, p, `{"spec":{"quantity":11}}`)).To(MatchError(ContainSubstring(
			`spec.quantity: Invalid value: 11: TrialTooLarge: quantity 11 is more than the 10 licenses a trial of "t-trial" may hold`)))

		By("a product that offers no trial")
		err = alice.Create(ctx, newPlan(ns, "eul", "t-eul", 5, v1alpha1.Trial))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(`spec.paymentPlan: Invalid value: "Trial": TrialNotOffered: paymentPlan Trial: product "t-eul" offers no trial`))

		By("a dry run of the conversion states its charge")
		alice.warnings.take()
		Expect(mergePatch(alice, p, `{"spec":{"paymentPlan":"Monthly"}}`, client.DryRunAll)).To(Succeed())
		Expect(alice.warnings.take()).To(ContainElements(
			"license-operator would place an order: Conversion of 5 x t-trial (Monthly), effective 2026-03-10",
			"license-operator charge: 50.00 EUR (Conversion of the trial to Monthly, billed from 2026-03-10: 5 licenses x 10.00 EUR = 50.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
		))
		Expect(mergePatch(alice, p, `{"spec":{"paymentPlan":"Monthly"}}`)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getPlan(g, ns, "connect").Status.PaymentPlan).To(Equal(v1alpha1.Monthly))
		}).Should(Succeed())

		By("a paid plan set back to Trial")
		Expect(mergePatch(alice, p, `{"spec":{"paymentPlan":"Trial"}}`)).To(MatchError(ContainSubstring(
			`spec.paymentPlan: Invalid value: "Trial": TrialNotOffered: paymentPlan Trial: plan "connect" is or was on a paid plan (Monthly), and a trial only comes before a paid plan`)))
	})

	It("keeps trials out of a product's prices and within 1 to 90 days", func() {
		priced := product("t-trial-priced", "T-TRIAL-P", "Connect", "Monthly", "10.00", "Trial", "0.00")
		err := k8sClient.Create(ctx, priced)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("a trial has no price: offer it with spec.trial"))

		long := product("t-trial-long", "T-TRIAL-L", "Connect", "Monthly", "10.00")
		long.Spec.Trial = &v1alpha1.TrialOffer{Days: 91, MaxLicenses: 10}
		err = k8sClient.Create(ctx, long)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.trial.days"))
	})
})
