package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// setProduct changes a catalog entry.
func setProduct(name string, mutate func(*v1alpha1.LicenseProductSpec)) {
	Eventually(func(g Gomega) {
		p := &v1alpha1.LicenseProduct{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, p)).To(Succeed())
		mutate(&p.Spec)
		g.Expect(k8sClient.Update(ctx, p)).To(Succeed())
	}).Should(Succeed())
}

// orderCount is the number of a plan's orders.
func orderCount(ns, name string) func() int {
	return func() int { return len(ordersOf(ns, name)) }
}

// Plan lives off the happy path: each spec reproduces on a real API server a defect the pure
// rules' tests pin down, and checks what the plan and its orders show now.
var _ = Describe("A plan's life off the happy path", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		ensure(product("t-ps", "T-PS", "ProfessionalServices", "Monthly", "20.00", "OneTime", "250.00"))
		ns = newNamespace()
	})

	It("moves a Monthly plan to OneTime at the term end once, charges it once, and never renews it", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		startPlan(ns, "ps", "t-ps", 3, v1alpha1.Monthly, "2026-03-01")
		updatePlan(ns, "ps", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PaymentPlan = v1alpha1.OneTime })
		got := eventuallyAtRevision(ns, "ps", 2)
		Expect(got.Status.PendingChange.PaymentPlan).To(Equal(v1alpha1.OneTime))

		travel(at("2026-04-01", 1), ns, "ps")
		got = eventuallyAtRevision(ns, "ps", 3)
		Expect(got.Status.PaymentPlan).To(Equal(v1alpha1.OneTime))
		Expect(got.Status.Term).To(BeNil(), "a OneTime plan has no term")
		Expect(got.Status.RenewalDate).To(BeEmpty())
		got = eventuallyReady(ns, "ps")
		Expect(got.Status.RenewalAction).To(Equal(v1alpha1.RenewalActionNone))
		Consistently(orderCount(ns, "ps"), "2s", "200ms").Should(Equal(3), "a OneTime plan never renews")

		travel(at("2028-04-01", 1), ns, "ps")
		Consistently(orderCount(ns, "ps"), "1s", "200ms").Should(Equal(3), "not two years later either")
		Expect(charges(ns, "ps")).To(Equal([]string{
			"ps-1 New 2026-03-10 60.00", "ps-2 ChangePaymentPlan 2026-04-01 0.00", "ps-3 Renewal 2026-04-01 750.00",
		}))
		Expect(getPlan(ns, "ps")(Default).Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("810.00")))
	})

	It("anchors a OneTime plan moved to Monthly on the day of the change", func() {
		fakeClock.SetTime(at("2026-03-30", 9))
		startPlan(ns, "ps", "t-ps", 3, v1alpha1.OneTime, "2026-01-01")
		updatePlan(ns, "ps", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PaymentPlan = v1alpha1.Monthly })
		got := eventuallyAtRevision(ns, "ps", 2)
		Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: "2026-03-30", End: "2026-04-30"}))
		Expect(got.Status.StartDate).To(Equal(v1alpha1.Date("2026-03-30")))
		Expect(got.Status.RenewalDate).To(Equal(v1alpha1.Date("2026-04-30")))
		o := getOrder(ns, "ps-2")(Default)
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("60.00")))
		Expect(o.Status.Charge.Description).To(ContainSubstring("for the first term, 2026-03-30 to 2026-04-30"))
		Consistently(orderCount(ns, "ps"), "1s", "200ms").Should(Equal(2), "no renewal before 2026-04-23")
	})

	It("renews a plan of a retired product onto the product its deferred change moves it to", func() {
		ensure(product("t-ep-old", "T-EP-OLD", "Endpoint", "Monthly", "9.00"))
		ensure(product("t-ep-new", "T-EP-NEW", "Endpoint", "Monthly", "6.00"))
		fakeClock.SetTime(at("2026-03-10", 9))
		startPlan(ns, "ep", "t-ep-old", 4, v1alpha1.Monthly, "2026-03-01")
		updatePlan(ns, "ep", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Product = "t-ep-new" })
		got := eventuallyAtRevision(ns, "ep", 2)
		Expect(got.Status.PendingChange.Product).To(Equal("t-ep-new"), "a cheaper product waits for the term end")

		setProduct("t-ep-old", func(p *v1alpha1.LicenseProductSpec) { p.Availability = v1alpha1.Retired })
		DeferCleanup(setProduct, "t-ep-old", func(p *v1alpha1.LicenseProductSpec) { p.Availability = v1alpha1.Orderable })
		travel(at("2026-03-12", 9), ns, "ep")
		Eventually(func(g Gomega) {
			p := getPlan(ns, "ep")(g)
			g.Expect(p.Status.RenewalAction).To(Equal(v1alpha1.RenewalActionRenew))
			ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
			g.Expect(ready.Message).To(ContainSubstring("renewing on 2026-04-01"))
			g.Expect(ready.Message).NotTo(ContainSubstring("expiring"))
			g.Expect(p.Status.Billing.NextInvoiceAmount).To(Equal(v1alpha1.Amount("24.00")))
		}).Should(Succeed())

		travel(at("2026-04-01", 1), ns, "ep")
		got = eventuallyAtRevision(ns, "ep", 3)
		Expect(got.Status.Product).To(Equal("t-ep-new"))
		Expect(got.Status.ExpiredOn).To(BeEmpty())
		Expect(charges(ns, "ep")[2]).To(Equal("ep-3 Renewal 2026-04-01 24.00"))
	})

	It("takes a decrease made after the renewal was placed into effect at that term end", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		startPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly, "2026-03-01")
		travel(at("2026-03-26", 9), ns, "eul")
		Eventually(func(g Gomega) {
			g.Expect(getOrder(ns, "eul-2")(g).Status.State).To(Equal(v1alpha1.OrderPending))
		}).Should(Succeed())

		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 6 })
		Eventually(func(g Gomega) {
			g.Expect(describe(getOrder(ns, "eul-2")(g))).To(Equal("eul-2 Renewal Rejected/Superseded"))
			g.Expect(describe(getOrder(ns, "eul-3")(g))).To(Equal("eul-3 DecreaseQuantity Fulfilled/"))
			renewal := getOrder(ns, "eul-4")(g)
			g.Expect(renewal.Spec.Change).To(Equal(v1alpha1.ChangeRenewal))
			g.Expect(renewal.Spec.Quantity).To(Equal(int32(6)))
			g.Expect(renewal.Status.State).To(Equal(v1alpha1.OrderPending))
		}).Should(Succeed())
		Expect(getOrder(ns, "eul-2")(Default).Status.FulfilledAt).To(BeNil(), "closed without a charge")

		travel(at("2026-04-01", 1), ns, "eul")
		got := eventuallyAtRevision(ns, "eul", 4)
		Expect(got.Status.Licenses).To(Equal(int32(6)))
		Expect(got.Status.PendingChange).To(BeNil())
		Expect(charges(ns, "eul")).To(Equal([]string{
			"eul-1 New 2026-03-10 100.00", "eul-3 DecreaseQuantity 2026-04-01 0.00", "eul-4 Renewal 2026-04-01 60.00",
		}))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("160.00")))
	})

	It("bills a renewal the charge approved with it, after a price change before the term end", func() {
		ensure(product("t-price", "T-PRICE", "VMR", "Monthly", "10.00"))
		DeferCleanup(setProduct, "t-price", func(p *v1alpha1.LicenseProductSpec) { p.Prices[0].PricePerLicense = "10.00" })
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR",
			Approval: v1alpha1.ApprovalPolicy{Mode: v1alpha1.AutomaticApproval, ManualAbove: "500.00"}})
		fakeClock.SetTime(at("2026-03-10", 9))
		startPlan(ns, "vmr", "t-price", 10, v1alpha1.Monthly, "2026-03-01")
		travel(at("2026-03-26", 9), ns, "vmr")
		Eventually(func(g Gomega) {
			o := getOrder(ns, "vmr-2")(g)
			g.Expect(o.Status.State).To(Equal(v1alpha1.OrderPending))
			g.Expect(meta.IsStatusConditionTrue(o.Status.Conditions, v1alpha1.OrderApproved)).To(BeTrue())
			g.Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("100.00")), "the charge approved, recorded with the approval")
		}).Should(Succeed())

		setProduct("t-price", func(p *v1alpha1.LicenseProductSpec) { p.Prices[0].PricePerLicense = "100.00" })
		travel(at("2026-04-01", 1), ns, "vmr")
		got := eventuallyAtRevision(ns, "vmr", 2)
		o := getOrder(ns, "vmr-2")(Default)
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("100.00")), "the amount approved, not 1000.00 without a person")
		Expect(o.Status.PricePerLicense).To(Equal(v1alpha1.Amount("10.00")))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("200.00")))
	})

	It("orders nothing when only the reference or cost center of an expired plan changes", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		p := plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly)
		p.Spec.StartDate = "2026-03-01"
		p.Spec.Renewal.Policy = v1alpha1.ExpireAtTermEnd
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		eventuallyReady(ns, "eul")
		travel(at("2026-04-01", 3), ns, "eul")
		Eventually(func(g Gomega) { g.Expect(readyReason(getPlan(ns, "eul")(g))).To(Equal(v1alpha1.ReasonExpired)) }).Should(Succeed())

		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) {
			p.Spec.PurchaseReference, p.Spec.CostCenter = "PO-2", "marketing"
		})
		Eventually(func(g Gomega) { g.Expect(readyReason(getPlan(ns, "eul")(g))).To(Equal(v1alpha1.ReasonExpired)) }).Should(Succeed())
		Consistently(orderCount(ns, "eul"), "2s", "200ms").Should(Equal(2), "a new reference or cost center places no order")
		Expect(getPlan(ns, "eul")(Default).Status.ExpiredWith).To(Equal(&v1alpha1.ExpiredWith{
			Product: "t-eul", Quantity: 2, PaymentPlan: v1alpha1.Monthly, RenewalPolicy: v1alpha1.ExpireAtTermEnd}))

		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 3 })
		got := eventuallyReady(ns, "eul")
		Expect(got.Status.Licenses).To(Equal(int32(3)))
		Expect(got.Status.ExpiredWith).To(BeNil())
		Expect(charges(ns, "eul")).To(Equal([]string{
			"eul-1 New 2026-03-10 20.00", "eul-2 Expiry 2026-04-01 0.00", "eul-3 New 2026-04-01 30.00",
		}))
	})
})
