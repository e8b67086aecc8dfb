package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// trialCatalog adds t-trial: Monthly at 10.00 and Prepay1Y at 100.00, with a trial of 30 days and
// at most 10 licenses.
func trialCatalog() {
	p := product("t-trial", "T-TRIAL", "Connect", "Monthly", "10.00", "Prepay1Y", "100.00")
	p.Spec.Trial = &v1alpha1.TrialOffer{Days: 30, MaxLicenses: 10}
	ensure(p)
}

// trialPlan is a plan asking for a trial of quantity licenses of product from startDate.
func trialPlan(ns, name, productName string, quantity int32) *v1alpha1.CustomerLicensePlan {
	p := plan(ns, name, productName, quantity, v1alpha1.Trial)
	p.Spec.StartDate = "2026-03-10"
	return p
}

// assignedReasons are the reasons of the Assigned conditions of a namespace's assignments.
func assignedReasons(g Gomega, ns string) []string {
	list := &v1alpha1.LicenseAssignmentList{}
	g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var reasons []string
	for _, a := range list.Items {
		c := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.AssignmentAssigned)
		g.Expect(c).NotTo(BeNil(), "assignment %s has no Assigned condition", a.Name)
		reasons = append(reasons, c.Reason)
	}
	return reasons
}

var _ = Describe("Trials", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		trialCatalog()
		ns = newNamespace()
		fakeClock.SetTime(at("2026-03-10", 9))
	})

	It("orders a trial free of charge, then converts it to Monthly on its tenth day, billed from that day", func() {
		Expect(k8sClient.Create(ctx, trialPlan(ns, "connect", "t-trial", 5))).To(Succeed())
		for _, n := range []string{"room-1", "room-2", "room-3"} {
			Expect(k8sClient.Create(ctx, assignment(ns, n, "connect"))).To(Succeed())
		}
		got := eventuallyReady(ns, "connect")
		Expect(got.Status.PaymentPlan).To(Equal(v1alpha1.Trial))
		Expect(got.Status.Licenses).To(Equal(int32(5)))
		Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: "2026-03-10", End: "2026-04-09"}))
		Expect(got.Status.RenewalDate).To(Equal(v1alpha1.Date("2026-04-09")))
		Expect(got.Status.RenewalAction).To(Equal(v1alpha1.RenewalActionExpire), "a trial expires whatever spec.renewal.policy says")
		Expect(got.Status.Billing).To(Equal(&v1alpha1.BillingStatus{RecurringCharge: "0.00", TotalBilled: "0.00"}))
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.PlanReady).Message).To(ContainSubstring("free until the trial ends on 2026-04-09"))
		o := getOrder(ns, "connect-1")(Default)
		Expect(describe(o)).To(Equal("connect-1 Trial Fulfilled/"))
		Expect(o.Spec.TrialEnd).To(Equal(v1alpha1.Date("2026-04-09")))
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("0.00")))
		Expect(o.Status.Charge.Description).To(HavePrefix("Trial of 5 x t-trial until 2026-04-09, 0.00 EUR"))
		Eventually(func(g Gomega) {
			g.Expect(assignedReasons(g, ns)).To(ConsistOf(v1alpha1.ReasonLicensed, v1alpha1.ReasonLicensed, v1alpha1.ReasonLicensed))
		}).Should(Succeed())

		By("the trial listed by the selectable field spec.change")
		trials := &v1alpha1.LicenseOrderList{}
		Expect(k8sClient.List(ctx, trials, client.InNamespace(ns), client.MatchingFields{"spec.change": "Trial"})).To(Succeed())
		Expect(trials.Items).To(HaveLen(1))

		By("a paid payment plan on the trial's tenth day places a Conversion, charged like a New order from that day")
		travel(at("2026-03-20", 11), ns, "connect")
		updatePlan(ns, "connect", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PaymentPlan = v1alpha1.Monthly })
		got = eventuallyAtRevision(ns, "connect", 2)
		o = getOrder(ns, "connect-2")(Default)
		Expect(describe(o)).To(Equal("connect-2 Conversion Fulfilled/"))
		Expect(o.Spec.EffectiveDate).To(Equal(v1alpha1.Date("2026-03-20")))
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("50.00")))
		Expect(o.Status.Charge.Description).To(ContainSubstring("5 licenses x 10.00 EUR = 50.00 EUR for the first term, 2026-03-20 to 2026-04-20"))
		Expect(got.Status.PaymentPlan).To(Equal(v1alpha1.Monthly))
		Expect(got.Status.StartDate).To(Equal(v1alpha1.Date("2026-03-20")))
		Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: "2026-03-20", End: "2026-04-20"}))
		Expect(got.Status.RenewalAction).To(Equal(v1alpha1.RenewalActionRenew))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("50.00")))
		Expect(got.Status.Usage.Assigned).To(Equal(int32(3)), "the usage carries over")
		Eventually(func(g Gomega) {
			g.Expect(assignedReasons(g, ns)).To(ConsistOf(v1alpha1.ReasonLicensed, v1alpha1.ReasonLicensed, v1alpha1.ReasonLicensed))
		}).Should(Succeed())

		By("the trial's end passes without an Expiry: the plan renews on its own term")
		travel(at("2026-04-09", 1), ns, "connect")
		Consistently(func() int { return len(ordersOf(ns, "connect")) }, "1s", "200ms").Should(Equal(2))
		travel(at("2026-04-20", 1), ns, "connect")
		eventuallyAtRevision(ns, "connect", 3)
		Expect(charges(ns, "connect")).To(Equal([]string{
			"connect-1 Trial 2026-03-10 0.00", "connect-2 Conversion 2026-03-20 50.00", "connect-3 Renewal 2026-04-20 50.00",
		}))
	})

	It("ends a trial left alone with an Expiry: its assignments lose their licenses and Ready says how to keep the service", func() {
		Expect(k8sClient.Create(ctx, trialPlan(ns, "otj", "t-trial", 5))).To(Succeed())
		Expect(k8sClient.Create(ctx, assignment(ns, "room-1", "otj"))).To(Succeed())
		eventuallyReady(ns, "otj")

		travel(at("2026-04-09", 1), ns, "otj")
		var got *v1alpha1.CustomerLicensePlan
		Eventually(func(g Gomega) {
			got = getPlan(ns, "otj")(g)
			g.Expect(readyReason(got)).To(Equal(v1alpha1.ReasonExpired))
			g.Expect(assignedReasons(g, ns)).To(ConsistOf(v1alpha1.ReasonPlanNotActive))
		}).Should(Succeed())
		ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.PlanReady)
		Expect(ready.Message).To(ContainSubstring("the trial of t-trial ended on 2026-04-09"))
		Expect(ready.Message).To(ContainSubstring("set spec.paymentPlan to Monthly or a Prepay plan"))
		Expect(meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.PlanStalled)).To(BeTrue())
		Expect(got.Status.Licenses).To(BeZero())
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("0.00")))
		o := getOrder(ns, "otj-2")(Default)
		Expect(describe(o)).To(Equal("otj-2 Expiry Fulfilled/"))
		Expect(o.Spec.RequestedBy).To(Equal(v1alpha1.SystemUser))
		Consistently(func() int { return len(ordersOf(ns, "otj")) }, "1s", "200ms").Should(Equal(2), "an ended trial orders nothing by itself")

		By("a paid plan after the trial ended is a New order")
		updatePlan(ns, "otj", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PaymentPlan = v1alpha1.Monthly })
		got = eventuallyAtRevision(ns, "otj", 3)
		Expect(describe(getOrder(ns, "otj-3")(Default))).To(Equal("otj-3 New Fulfilled/"))
		Expect(got.Status.StartDate).To(Equal(v1alpha1.Date("2026-04-09")))
		Eventually(func(g Gomega) { g.Expect(assignedReasons(g, ns)).To(ConsistOf(v1alpha1.ReasonLicensed)) }).Should(Succeed())
	})

	It("gives a customer one trial per product, within its maxLicenses, and only of products that offer one", func() {
		Expect(k8sClient.Create(ctx, trialPlan(ns, "first", "t-trial", 5))).To(Succeed())
		eventuallyReady(ns, "first")

		// One at a time: an open trial placed before another counts against it until it is settled.
		other := trialPlan(ns, "other-customer", "t-trial", 5)
		other.Spec.Customer = "Initech AB"
		for _, p := range []struct {
			plan *v1alpha1.CustomerLicensePlan
			want string
		}{
			{trialPlan(ns, "second", "t-trial", 5), "TrialUsed: paymentPlan Trial: the customer had a trial of \"t-trial\" already (order first-1), and a customer gets one trial per product"},
			{trialPlan(ns, "large", "t-trial", 11), "TrialTooLarge: quantity 11 is more than the 10 licenses a trial of \"t-trial\" may hold"},
			{trialPlan(ns, "none", "t-eul", 5), "TrialNotOffered: paymentPlan Trial: product \"t-eul\" offers no trial"},
		} {
			name, want := p.plan.Name, p.want
			Expect(k8sClient.Create(ctx, p.plan)).To(Succeed())
			Eventually(func(g Gomega) {
				o := getOrder(ns, name+"-1")(g)
				g.Expect(o.Status.State).To(Equal(v1alpha1.OrderRejected))
				g.Expect(o.Status.Reason + ": " + o.Status.Message).To(HavePrefix(want))
				p := getPlan(ns, name)(g)
				g.Expect(readyReason(p)).To(Equal(v1alpha1.ReasonOrderRejected))
			}).Should(Succeed(), name)
		}
		Expect(k8sClient.Create(ctx, other)).To(Succeed())
		eventuallyReady(ns, "other-customer")
		Consistently(func() int { return len(ordersOf(ns, "second")) }, "1s", "200ms").Should(Equal(1), "a refused trial is not ordered again")

		By("the refused second trial is ordered as a paid plan once its spec says so")
		updatePlan(ns, "second", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PaymentPlan = v1alpha1.Monthly })
		eventuallyReady(ns, "second")
		Expect(describe(getOrder(ns, "second-2")(Default))).To(Equal("second-2 New Fulfilled/"))

		By("a paid plan set back to Trial is refused")
		updatePlan(ns, "second", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PaymentPlan = v1alpha1.Trial })
		Eventually(func(g Gomega) {
			o := getOrder(ns, "second-3")(g)
			g.Expect(describe(o)).To(Equal("second-3 ChangePaymentPlan Rejected/TrialNotOffered"))
			g.Expect(o.Status.Message).To(ContainSubstring("a trial only comes before a paid plan"))
		}).Should(Succeed())
	})
})
