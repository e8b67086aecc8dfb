package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The catalog of these tests: prices chosen so that charges can be checked by hand.
func testCatalog() {
	ensure(product("t-eul", "T-EUL", "VMR", "Monthly", "10.00", "Prepay1Y", "100.00"))
	ensure(product("t-endpoint-basic", "T-EP-BASIC", "Endpoint", "Monthly", "5.00", "Prepay3Y", "150.00"))
	ensure(product("t-endpoint-plus", "T-EP-PLUS", "Endpoint", "Monthly", "8.00", "Prepay3Y", "240.00"))
	erc := product("t-erc", "T-ERC", "ERCBasic", "Monthly", "8.00")
	erc.Spec.Availability = v1alpha1.RenewalOnly
	ensure(erc)
	byoc := product("t-byoc", "T-BYOC", "Domain", "Monthly", "2.00")
	byoc.Spec.Requires = []v1alpha1.Requirement{{AnyOf: []string{"t-endpoint-basic"}, Quantity: v1alpha1.RequireAtMost}}
	ensure(byoc)
}

var _ = Describe("The order loop", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		ns = newNamespace()
	})

	It("fulfils a new plan and puts it in force with its first term", func() {
		p := plan(ns, "eul", "t-eul", 10, v1alpha1.Monthly)
		p.Spec.StartDate = "2026-03-01"
		Expect(k8sClient.Create(ctx, p)).To(Succeed())

		got := eventuallyReady(ns, "eul")
		Expect(got.Status.Licenses).To(Equal(int32(10)))
		Expect(got.Status.Product).To(Equal("t-eul"))
		Expect(got.Status.SKU).To(Equal("T-EUL"))
		Expect(got.Status.PaymentPlan).To(Equal(v1alpha1.Monthly))
		Expect(got.Status.PricePerLicense).To(Equal(v1alpha1.Amount("10.00")))
		Expect(got.Status.Currency).To(Equal("EUR"))
		Expect(got.Status.StartDate).To(Equal(v1alpha1.Date("2026-03-01")))
		Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"}))
		Expect(got.Status.RenewalDate).To(Equal(v1alpha1.Date("2026-04-01")))
		Expect(got.Status.RenewalAction).To(Equal(v1alpha1.RenewalActionRenew))
		Expect(got.Status.Revision).To(Equal(int64(1)))
		Expect(got.Status.LastOrder).To(Equal("eul-1"))
		Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("100.00")))
		Expect(got.Status.Billing.RecurringCharge).To(Equal(v1alpha1.Amount("100.00")))
		Expect(meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.PlanUsageCovered)).To(BeTrue())

		o := getOrder(ns, "eul-1")(Default)
		Expect(o.Labels).To(HaveKeyWithValue(v1alpha1.PlanLabel, "eul"))
		Expect(o.Spec).To(Equal(v1alpha1.LicenseOrderSpec{
			Plan: "eul", PlanUID: got.UID, Customer: "Acme Corp", Revision: 1, Change: v1alpha1.ChangeNew, Product: "t-eul", SKU: "T-EUL",
			PaymentPlan: v1alpha1.Monthly, Quantity: 10, EffectiveDate: "2026-03-10", PurchaseReference: "PO-1", PlanGeneration: 1,
		}))
		Expect(o.Status.State).To(Equal(v1alpha1.OrderFulfilled))
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("100.00")))
		Expect(o.Status.Charge.Description).To(ContainSubstring("10 licenses x 10.00 EUR = 100.00 EUR"))
		Expect(*o.Status.UsageAtValidation).To(Equal(int32(0)))
		Expect(o.Status.FulfilledAt.Time).To(BeTemporally("==", suiteStart))
		for _, t := range []string{v1alpha1.OrderValid, v1alpha1.OrderApproved, v1alpha1.OrderFulfilledCondition} {
			Expect(meta.IsStatusConditionTrue(o.Status.Conditions, t)).To(BeTrue(), t)
		}
	})

	It("fulfils an increase at once with a prorated charge for the rest of the term", func() {
		startPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly, "2026-03-01")

		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 13 })
		got := eventuallyReady(ns, "eul")
		Expect(got.Status.Licenses).To(Equal(int32(13)))
		Expect(got.Status.Revision).To(Equal(int64(2)))

		o := getOrder(ns, "eul-2")(Default)
		Expect(o.Spec.Change).To(Equal(v1alpha1.ChangeIncreaseQuantity))
		Expect(o.Spec.PreviousQuantity).To(Equal(int32(10)))
		Expect(o.Spec.Quantity).To(Equal(int32(13)))
		// 3 added licenses x 10.00 EUR x 22 days left (10 Mar to 1 Apr) / 31 days = 21.2903... = 21.29
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("21.29")))
		Expect(o.Status.Charge.Description).To(ContainSubstring("3 licenses x 10.00 EUR x 22/31 days = 21.29 EUR"))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("121.29")))
	})

	It("rejects a decrease below the assigned usage, changes nothing in force, and orders it once assignments are removed", func() {
		p := plan(ns, "eul", "t-eul", 5, v1alpha1.Monthly)
		p.Spec.StartDate = "2026-03-01"
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		for _, n := range []string{"ann", "bob", "cid"} {
			Expect(k8sClient.Create(ctx, assignment(ns, n, "eul"))).To(Succeed())
		}
		Eventually(func(g Gomega) {
			got := getPlan(ns, "eul")(g)
			g.Expect(readyReason(got)).To(Equal(v1alpha1.ReasonInForce))
			g.Expect(got.Status.Usage.Assigned).To(Equal(int32(3)))
		}).Should(Succeed())

		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 2 })
		Eventually(func(g Gomega) {
			o := getOrder(ns, "eul-2")(g)
			g.Expect(o.Status.State).To(Equal(v1alpha1.OrderRejected))
			g.Expect(o.Status.Reason).To(Equal(v1alpha1.ReasonUsageBelowMinimum))
			g.Expect(o.Status.Message).To(ContainSubstring("does not cover the 3 licenses assigned"))
			g.Expect(*o.Status.UsageAtValidation).To(Equal(int32(3)))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			got := getPlan(ns, "eul")(g)
			g.Expect(readyReason(got)).To(Equal(v1alpha1.ReasonOrderRejected))
			ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.PlanReady)
			g.Expect(ready.Message).To(ContainSubstring("remove at least 1 LicenseAssignment"))
			g.Expect(got.Status.Licenses).To(Equal(int32(5)))
			g.Expect(got.Status.PendingChange).To(BeNil())
			g.Expect(got.Status.Revision).To(Equal(int64(1)))
			g.Expect(got.Spec.Quantity).To(Equal(int32(2)), "the spec the user wrote is kept")
		}).Should(Succeed())
		// A refused change is not ordered again while nothing it depends on changes.
		Consistently(func() int { return len(ordersOf(ns, "eul")) }, "2s", "200ms").Should(Equal(2))

		Expect(k8sClient.Delete(ctx, assignment(ns, "cid", "eul"))).To(Succeed())
		got := eventuallyReady(ns, "eul")
		o := getOrder(ns, "eul-3")(Default)
		Expect(describe(o)).To(Equal("eul-3 DecreaseQuantity Fulfilled/"))
		Expect(o.Spec.EffectiveDate).To(Equal(v1alpha1.Date("2026-04-01")), "a decrease takes effect at the end of the term")
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("0.00")))
		Expect(got.Status.Licenses).To(Equal(int32(5)), "licenses stay in force until the term ends")
		Expect(got.Status.PendingChange).To(Equal(&v1alpha1.PendingChange{Quantity: ptr.To(int32(2)), EffectiveDate: "2026-04-01"}))
		Expect(got.Status.Billing.NextInvoiceAmount).To(Equal(v1alpha1.Amount("20.00")))
	})

	It("rejects a new plan of a renewal-only product", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "erc", "t-erc", 4, v1alpha1.Monthly))).To(Succeed())
		Eventually(func(g Gomega) {
			o := getOrder(ns, "erc-1")(g)
			g.Expect(o.Status.Reason).To(Equal(v1alpha1.ReasonProductNotOrderable))
			g.Expect(o.Status.Message).To(ContainSubstring("RenewalOnly"))
			got := getPlan(ns, "erc")(g)
			g.Expect(readyReason(got)).To(Equal(v1alpha1.ReasonOrderRejected))
			g.Expect(got.Status.Licenses).To(BeZero())
		}).Should(Succeed())
	})

	It("rejects a payment plan the product does not offer, naming the ones it does", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 4, v1alpha1.Prepay3Y))).To(Succeed())
		Eventually(func(g Gomega) {
			o := getOrder(ns, "eul-1")(g)
			g.Expect(o.Status.Reason).To(Equal(v1alpha1.ReasonPaymentPlanNotOffered))
			g.Expect(o.Status.Message).To(ContainSubstring("choose one of Monthly, Prepay1Y"))
		}).Should(Succeed())

		By("fixing the payment plan, the plan is ordered again and fulfilled")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PaymentPlan = v1alpha1.Prepay1Y })
		got := eventuallyReady(ns, "eul")
		Expect(got.Status.LastOrder).To(Equal("eul-2"))
		Expect(got.Status.PaymentPlan).To(Equal(v1alpha1.Prepay1Y))
	})

	It("rejects BYOC without an Endpoint plan and fulfils it once one exists", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "byoc", "t-byoc", 3, v1alpha1.Monthly))).To(Succeed())
		Eventually(func(g Gomega) {
			o := getOrder(ns, "byoc-1")(g)
			g.Expect(o.Status.Reason).To(Equal(v1alpha1.ReasonRequirementNotMet))
			g.Expect(o.Status.Message).To(ContainSubstring(`requires an active plan of "t-endpoint-basic"`))
		}).Should(Succeed())

		Expect(k8sClient.Create(ctx, plan(ns, "endpoints", "t-endpoint-basic", 5, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "endpoints")
		got := eventuallyReady(ns, "byoc")
		Expect(got.Status.Licenses).To(Equal(int32(3)))
		Expect(got.Status.LastOrder).To(Equal("byoc-2"))

		By("BYOC may not exceed the endpoint licenses (AtMost)")
		updatePlan(ns, "byoc", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 6 })
		Eventually(func(g Gomega) {
			o := getOrder(ns, "byoc-3")(g)
			g.Expect(o.Status.Reason).To(Equal(v1alpha1.ReasonRequirementNotMet))
			g.Expect(o.Status.Message).To(ContainSubstring("quantity 6 is more than the 5 licenses"))
		}).Should(Succeed())
	})

	It("orders plans declared together in the order their requirements need, refusing none", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "endpoints", "t-endpoint-basic", 5, v1alpha1.Monthly))).To(Succeed())
		Expect(k8sClient.Create(ctx, plan(ns, "byoc", "t-byoc", 5, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "byoc")
		Expect(charges(ns, "byoc")).To(Equal([]string{"byoc-1 New 2026-03-10 10.00"}))
		Expect(ordersOf(ns, "byoc")).To(HaveLen(1), "no order was refused on the way")
	})

	It("stores a usage of zero, so that kubectl shows USED 0", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("CustomerLicensePlan"))
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "eul"}, u)).To(Succeed())
		assigned, found, err := unstructured.NestedInt64(u.Object, "status", "usage", "assigned")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeTrue())
		Expect(assigned).To(BeZero())
	})

	It("covers the oldest assignments with the licenses in force and reports the rest", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")
		// Assignments are ordered by creation time, then by name (creation times have a
		// resolution of one second), so a1 and a2 are the oldest either way.
		for _, n := range []string{"a1", "a2", "a3"} {
			Expect(k8sClient.Create(ctx, assignment(ns, n, "eul"))).To(Succeed())
		}
		Expect(k8sClient.Create(ctx, assignment(ns, "stray", "no-such-plan"))).To(Succeed())
		Eventually(func(g Gomega) {
			reasons := map[string]string{}
			list := &v1alpha1.LicenseAssignmentList{}
			g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
			for _, a := range list.Items {
				if c := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.AssignmentAssigned); c != nil {
					reasons[a.Name] = c.Reason
				}
				// The plan label is set at admission (config/policy); the controller writes the status alone.
				g.Expect(a.Labels).To(Equal(map[string]string{v1alpha1.PlanLabel: a.Spec.Plan}), a.Name)
				g.Expect(a.ManagedFields).NotTo(ContainElement(And(HaveField("Manager", FieldOwner), HaveField("Subresource", ""))), "the controller spends no write on a label")
			}
			g.Expect(reasons).To(Equal(map[string]string{
				"a1": v1alpha1.ReasonLicensed, "a2": v1alpha1.ReasonLicensed, "a3": v1alpha1.ReasonOverLicensed,
				"stray": v1alpha1.ReasonPlanNotFound,
			}))
			got := getPlan(ns, "eul")(g)
			c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.PlanUsageCovered)
			g.Expect(c.Reason).To(Equal(v1alpha1.ReasonOverAssigned))
		}).Should(Succeed())
	})

	It("writes nothing when nothing changed", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		rv := eventuallyReady(ns, "eul").ResourceVersion
		Consistently(func(g Gomega) string { return getPlan(ns, "eul")(g).ResourceVersion }, "2s", "200ms").Should(Equal(rv))
	})
})
