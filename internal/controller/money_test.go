package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

	It("never adds two currencies: a price locked in EUR is charged in EUR after the profile moves to USD, and totals stay apart", func() {
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR"})
		fakeClock.SetTime(at("2026-03-10", 9))
		p := startPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly, "2026-03-10")
		Expect(p.Status.Currency).To(Equal("EUR"))
		Expect(p.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("100.00")))

		By("the BillingProfile's currency changes to USD")
		Eventually(func(g Gomega) {
			bp := &v1alpha1.BillingProfile{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: v1alpha1.DefaultBillingProfileName}, bp)).To(Succeed())
			bp.Spec.Currency = "USD"
			g.Expect(k8sClient.Update(ctx, bp)).To(Succeed())
		}).Should(Succeed())

		By("more licenses at the price locked in EUR are charged in EUR")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 15 })
		p = eventuallyAtRevision(ns, "eul", 2)
		o := getOrder(ns, "eul-2")(Default)
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("50.00")))
		Expect(o.Status.Charge.Currency).To(Equal("EUR"))
		Expect(p.Status.Currency).To(Equal("EUR"))
		Expect(p.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("150.00")))

		By("the renewal at the catalog price is charged in USD, and the totals are kept per currency")
		travel(at("2026-04-10", 1), ns, "eul")
		p = eventuallyAtRevision(ns, "eul", 3)
		o = getOrder(ns, "eul-3")(Default)
		Expect(o.Spec.Change).To(Equal(v1alpha1.ChangeRenewal))
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("150.00")))
		Expect(o.Status.Charge.Currency).To(Equal("USD"))
		Expect(p.Status.Currency).To(Equal("USD"))
		Expect(p.Status.Billing.TotalBilled).To(BeEmpty(), "150.00 EUR + 150.00 USD is not 300.00 of anything")
		Expect(p.Status.Billing.TotalsBilled).To(Equal([]v1alpha1.CurrencyAmount{
			{Currency: "EUR", Amount: "150.00"}, {Currency: "USD", Amount: "150.00"}}))
	})

	It("refuses, without ordering, a start date a year ahead on a plan written without the webhooks, and a trial holds its days from the day it is ordered", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		By("a Monthly plan to start a year from now: Ready False, InvalidSpec naming spec.startDate, no order")
		p := plan(ns, "ahead", "t-eul", 10, v1alpha1.Monthly)
		p.Spec.StartDate = "2027-03-10"
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		Eventually(func(g Gomega) {
			p := getPlan(ns, "ahead")(g)
			g.Expect(readyReason(p)).To(Equal(v1alpha1.ReasonInvalidSpec))
			ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Message).To(ContainSubstring("StartDateOutOfRange: spec.startDate 2027-03-10 is 365 days after today, 2026-03-10"))
			g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, v1alpha1.PlanStalled)).To(BeTrue())
		}).Should(Succeed())
		Consistently(func() int { return len(ordersOf(ns, "ahead")) }, "2s").Should(BeZero(), "nothing is ordered")

		By("a start date 20 days ahead is within the bound: ordered now, billed from its start date")
		startPlan(ns, "soon", "t-eul", 10, v1alpha1.Monthly, "2026-03-30")

		By("a trial of 30 days with a start date 20 days ahead holds its licenses 30 days from today, not 50")
		trialCatalog()
		tp := plan(ns, "try", "t-trial", 5, v1alpha1.Trial)
		tp.Spec.StartDate = "2026-03-30"
		Expect(k8sClient.Create(ctx, tp)).To(Succeed())
		got := eventuallyReady(ns, "try")
		Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: "2026-03-10", End: "2026-04-09"}))
		Expect(got.Status.RenewalDate).To(Equal(v1alpha1.Date("2026-04-09")))
		Expect(getOrder(ns, "try-1")(Default).Spec.TrialEnd).To(Equal(v1alpha1.Date("2026-04-09")))
	})
})
