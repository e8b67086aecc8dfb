package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

var _ = Describe("Money on a real API server", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		ns = newNamespace()
	})

	It("records a charge of a billion or more, and refuses, with its figures, one beyond the largest amount", func() {
		ensure(product("t-money-dear", "T-MONEY-DEAR", "Connect", "Monthly", "2000.00"))
		ensure(product("t-money-absurd", "T-MONEY-ABSURD", "AddOn", "Monthly", "10000000000000.00"))

		By("1,000,000 licenses at 2000.00: a charge of 2,000,000,000.00 is fulfilled and the plan settles")
		p := startPlan(ns, "dear", "t-money-dear", 1_000_000, v1alpha1.Monthly, v1alpha1.Date(suiteStart.Format("2006-01-02")))
		Expect(p.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("2000000000.00")))
		o := getOrder(ns, "dear-1")(Default)
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("2000000000.00")))

		By("1,000,000 licenses at 10,000,000,000,000.00: the order is refused as ChargeTooLarge, the plan says why")
		Expect(k8sClient.Create(ctx, plan(ns, "absurd", "t-money-absurd", 1_000_000, v1alpha1.Monthly))).To(Succeed())
		Eventually(func(g Gomega) {
			o := getOrder(ns, "absurd-1")(g)
			g.Expect(o.Status.State).To(Equal(v1alpha1.OrderRejected))
			g.Expect(o.Status.Reason).To(Equal(v1alpha1.ReasonChargeTooLarge))
			g.Expect(o.Status.Charge).To(BeNil())
			p := getPlan(ns, "absurd")(g)
			g.Expect(readyReason(p)).To(Equal(v1alpha1.ReasonOrderRejected))
			ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
			g.Expect(ready.Message).To(ContainSubstring("ChargeTooLarge"))
			g.Expect(ready.Message).To(ContainSubstring("92233720368547758.07"))
		}).Should(Succeed())
		Consistently(func() int { return len(ordersOf(ns, "absurd")) }, "2s").Should(Equal(1), "the refusal stands: no order is placed again")
	})
})
