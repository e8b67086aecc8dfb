package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Two operators reconcile the same plans, as two replicas do before leader election settles:
// every order is still applied once and charged once.
var _ = Describe("Two operators at once", func() {
	It("apply and charge every order once", func() {
		testCatalog()
		ns := newNamespace()
		startSecondOperator()

		startPlan(ns, "eul", "t-eul", 3, v1alpha1.Monthly, "2026-03-01")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 5 })
		eventuallyAtRevision(ns, "eul", 2)
		travel(at("2026-06-15", 9), ns, "eul")
		got := eventuallyAtRevision(ns, "eul", 5)

		Expect(charges(ns, "eul")).To(Equal([]string{
			"eul-1 New 2026-03-10 30.00",
			"eul-2 IncreaseQuantity 2026-03-10 14.19", // 2 x 10.00 x 22/31
			"eul-3 Renewal 2026-04-01 50.00", "eul-4 Renewal 2026-05-01 50.00", "eul-5 Renewal 2026-06-01 50.00",
		}))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("194.19")))
		Expect(got.Status.Licenses).To(Equal(int32(5)))
		Consistently(func() int { return len(ordersOf(ns, "eul")) }, "1s", "200ms").Should(Equal(5))
	})
})
