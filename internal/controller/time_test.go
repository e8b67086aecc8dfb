package controller

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// at is a time of day on a date, in UTC.
func at(date string, hour int) time.Time {
	d, err := licensing.ParseDate(v1alpha1.Date(date))
	Expect(err).NotTo(HaveOccurred())
	return d.Add(time.Duration(hour) * time.Hour)
}

// travel moves the fake clock and pokes the plan, as the requeue at that time would: the
// controllers' timers run on real time, the business rules on the fake clock.
func travel(to time.Time, ns, name string) {
	fakeClock.SetTime(to)
	patch := client.RawPatch(types.MergePatchType,
		[]byte(fmt.Sprintf(`{"metadata":{"annotations":{"test.licensing.partnerops.io/now":%q}}}`, to.Format(time.RFC3339))))
	Expect(k8sClient.Patch(ctx, &v1alpha1.CustomerLicensePlan{ObjectMeta: objectMeta(ns, name)}, patch)).To(Succeed())
}

// eventuallyAtRevision waits until a plan has applied its order of a revision.
func eventuallyAtRevision(ns, name string, revision int64) *v1alpha1.CustomerLicensePlan {
	var p *v1alpha1.CustomerLicensePlan
	Eventually(func(g Gomega) {
		p = getPlan(ns, name)(g)
		g.Expect(p.Status.Revision).To(Equal(revision), "plan conditions: %v", p.Status.Conditions)
	}).Should(Succeed())
	return p
}

func charges(ns, planName string) []string {
	var out []string
	for _, o := range ordersOf(ns, planName) {
		if o.Status.State == v1alpha1.OrderFulfilled {
			out = append(out, fmt.Sprintf("%s %s %s %s", o.Name, o.Spec.Change, o.Spec.EffectiveDate, o.Status.Charge.Amount))
		}
	}
	return out
}

var _ = Describe("A plan over time", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		ns = newNamespace()
	})

	It("renews a monthly plan every month for a year, anchored on the 31st, charging each term once", func() {
		fakeClock.SetTime(at("2026-01-31", 8))
		got := startPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly, "2026-01-31")
		Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: "2026-01-31", End: "2026-02-28"}))
		Expect(got.Status.Billing.NextInvoiceDate).To(Equal(v1alpha1.Date("2026-02-28")))

		By("at the renewal time (a week before the term ends) a System renewal order is placed and validated, not yet applied")
		travel(at("2026-02-21", 0), ns, "eul")
		Eventually(func(g Gomega) {
			o := getOrder(ns, "eul-2")(g)
			g.Expect(o.Spec.Change).To(Equal(v1alpha1.ChangeRenewal))
			g.Expect(o.Spec.RequestedBy).To(Equal(v1alpha1.SystemUser))
			g.Expect(o.Spec.EffectiveDate).To(Equal(v1alpha1.Date("2026-02-28")))
			g.Expect(meta.IsStatusConditionTrue(o.Status.Conditions, v1alpha1.OrderValid)).To(BeTrue())
			g.Expect(o.Status.State).To(Equal(v1alpha1.OrderPending))
			g.Expect(o.Status.FulfilledAt).To(BeNil(), "not charged before the term ends")
			g.Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("100.00")), "the charge approved, fixed with the approval")
		}).Should(Succeed())
		got = eventuallyReady(ns, "eul")
		Expect(got.Status.Revision).To(Equal(int64(1)))
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.PlanReady).Message).To(ContainSubstring("Order eul-2 (Renewal) takes effect on 2026-02-28"))

		By("each term end applies one renewal")
		ends := []string{"2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30", "2026-07-31",
			"2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31", "2027-01-31", "2027-02-28"}
		for i := 0; i < 12; i++ {
			travel(at(ends[i], 1), ns, "eul")
			got = eventuallyAtRevision(ns, "eul", int64(i+2))
			Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: v1alpha1.Date(ends[i]), End: v1alpha1.Date(ends[i+1])}))
		}
		got = eventuallyReady(ns, "eul")
		Expect(got.Status.RenewalDate).To(Equal(v1alpha1.Date("2027-02-28")))
		Expect(got.Status.Licenses).To(Equal(int32(10)))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("1300.00")))
		Expect(got.Status.Billing.BilledThrough).To(Equal(v1alpha1.Date("2027-02-27")))
		billed := charges(ns, "eul")
		Expect(billed).To(HaveLen(13))
		for i, line := range billed[1:] {
			Expect(line).To(Equal(fmt.Sprintf("eul-%d Renewal %s 100.00", i+2, ends[i])))
		}
	})

	It("charges a mid-term increase of a 3-year prepaid plan once, prorated to the cent", func() {
		fakeClock.SetTime(at("2026-03-01", 9))
		got := startPlan(ns, "ep", "t-endpoint-basic", 4, v1alpha1.Prepay3Y, "2026-03-01")
		Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: "2026-03-01", End: "2029-03-01"}))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("600.00")))

		travel(at("2027-09-15", 9), ns, "ep")
		updatePlan(ns, "ep", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 6 })
		got = eventuallyAtRevision(ns, "ep", 2)
		o := getOrder(ns, "ep-2")(Default)
		// 2 licenses x 150.00 EUR x 533 days (2027-09-15 to 2029-03-01) / 1096 days = 145.894... = 145.89
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("145.89")))
		Expect(o.Status.Charge.Description).To(ContainSubstring("2 licenses x 150.00 EUR x 533/1096 days = 145.89 EUR"))
		Expect(got.Status.Licenses).To(Equal(int32(6)))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("745.89")))
		Expect(got.Status.Billing.NextInvoiceAmount).To(Equal(v1alpha1.Amount("900.00")))
	})

	It("keeps a decrease pending until the next term and bills the new quantity from then", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		startPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly, "2026-03-01")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 6 })
		got := eventuallyAtRevision(ns, "eul", 2)
		Expect(got.Status.Licenses).To(Equal(int32(10)))
		Expect(got.Status.PendingChange.EffectiveDate).To(Equal(v1alpha1.Date("2026-04-01")))
		Expect(got.Status.Billing.NextInvoiceAmount).To(Equal(v1alpha1.Amount("60.00")))

		travel(at("2026-04-01", 0), ns, "eul")
		got = eventuallyAtRevision(ns, "eul", 3)
		Expect(got.Status.Licenses).To(Equal(int32(6)))
		Expect(got.Status.PendingChange).To(BeNil())
		Expect(charges(ns, "eul")).To(Equal([]string{
			"eul-1 New 2026-03-10 100.00", "eul-2 DecreaseQuantity 2026-04-01 0.00", "eul-3 Renewal 2026-04-01 60.00",
		}))
	})

	It("expires a plan whose renewal is refused because usage is not covered", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		startPlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly, "2026-03-01")
		for _, n := range []string{"a1", "a2", "a3"} {
			Expect(k8sClient.Create(ctx, assignment(ns, n, "eul"))).To(Succeed())
		}
		Eventually(func(g Gomega) { g.Expect(getPlan(ns, "eul")(g).Status.Usage.Assigned).To(Equal(int32(3))) }).Should(Succeed())

		travel(at("2026-03-25", 0), ns, "eul")
		Eventually(func(g Gomega) {
			o := getOrder(ns, "eul-2")(g)
			g.Expect(o.Spec.Change).To(Equal(v1alpha1.ChangeRenewal))
			g.Expect(o.Status.Reason).To(Equal(v1alpha1.ReasonUsageBelowMinimum))
			got := getPlan(ns, "eul")(g)
			g.Expect(got.Status.RenewalAction).To(Equal(v1alpha1.RenewalActionExpire))
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.PlanReady).Message).To(ContainSubstring("The renewal was refused"))
		}).Should(Succeed())

		travel(at("2026-04-01", 0), ns, "eul")
		Eventually(func(g Gomega) {
			got := getPlan(ns, "eul")(g)
			g.Expect(readyReason(got)).To(Equal(v1alpha1.ReasonExpired))
			g.Expect(got.Status.ExpiredOn).To(Equal(v1alpha1.Date("2026-04-01")))
			g.Expect(got.Status.Licenses).To(BeZero())
			a := &v1alpha1.LicenseAssignment{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a1"}, a)).To(Succeed())
			g.Expect(meta.FindStatusCondition(a.Status.Conditions, v1alpha1.AssignmentAssigned).Reason).To(Equal(v1alpha1.ReasonPlanNotActive))
		}).Should(Succeed())
		o := getOrder(ns, "eul-3")(Default)
		Expect(describe(o)).To(Equal("eul-3 Expiry Fulfilled/"))
		Expect(o.Spec.RequestedBy).To(Equal(v1alpha1.SystemUser))
		Consistently(func() int { return len(ordersOf(ns, "eul")) }, "1s", "200ms").Should(Equal(3), "an expired plan orders nothing by itself")
	})

	It("expires a plan with policy ExpireAtTermEnd without renewing it", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		p := plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly)
		p.Spec.StartDate = "2026-03-01"
		p.Spec.Renewal.Policy = v1alpha1.ExpireAtTermEnd
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		got := eventuallyReady(ns, "eul")
		Expect(got.Status.RenewalAction).To(Equal(v1alpha1.RenewalActionExpire))
		Expect(got.Status.Billing.NextInvoiceDate).To(BeEmpty())

		travel(at("2026-04-01", 3), ns, "eul")
		Eventually(func(g Gomega) { g.Expect(readyReason(getPlan(ns, "eul")(g))).To(Equal(v1alpha1.ReasonExpired)) }).Should(Succeed())
		Expect(charges(ns, "eul")).To(Equal([]string{"eul-1 New 2026-03-10 20.00", "eul-2 Expiry 2026-04-01 0.00"}))
	})

	It("catches up one renewal per missed term, in order, after the operator was away", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		startPlan(ns, "eul", "t-eul", 3, v1alpha1.Monthly, "2026-03-01")

		travel(at("2026-06-15", 9), ns, "eul")
		got := eventuallyAtRevision(ns, "eul", 4)
		Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: "2026-06-01", End: "2026-07-01"}))
		Expect(charges(ns, "eul")).To(Equal([]string{
			"eul-1 New 2026-03-10 30.00", "eul-2 Renewal 2026-04-01 30.00", "eul-3 Renewal 2026-05-01 30.00", "eul-4 Renewal 2026-06-01 30.00",
		}))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("120.00")))
		Consistently(func() int { return len(ordersOf(ns, "eul")) }, "1s", "200ms").Should(Equal(4), "the next renewal is not due before 2026-06-24")
	})

	It("moves up a family at once with the prorated price difference, and down at the next term", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		startPlan(ns, "ep", "t-endpoint-basic", 4, v1alpha1.Monthly, "2026-03-01")

		updatePlan(ns, "ep", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Product = "t-endpoint-plus" })
		got := eventuallyAtRevision(ns, "ep", 2)
		Expect(got.Status.Product).To(Equal("t-endpoint-plus"))
		Expect(got.Status.PricePerLicense).To(Equal(v1alpha1.Amount("8.00")))
		o := getOrder(ns, "ep-2")(Default)
		Expect(o.Spec.Change).To(Equal(v1alpha1.ChangeProduct))
		// 4 licenses x (8.00 - 5.00) EUR x 22/31 days = 8.516... = 8.52
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("8.52")))

		updatePlan(ns, "ep", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Product = "t-endpoint-basic" })
		got = eventuallyAtRevision(ns, "ep", 3)
		Expect(got.Status.Product).To(Equal("t-endpoint-plus"), "a move down waits for the next term")
		Expect(got.Status.PendingChange.Product).To(Equal("t-endpoint-basic"))

		travel(at("2026-04-01", 0), ns, "ep")
		got = eventuallyAtRevision(ns, "ep", 4)
		Expect(got.Status.Product).To(Equal("t-endpoint-basic"))
		Expect(got.Status.PricePerLicense).To(Equal(v1alpha1.Amount("5.00")))
		Expect(charges(ns, "ep")[3]).To(Equal("ep-4 Renewal 2026-04-01 20.00"))

		By("a product of another family is refused")
		updatePlan(ns, "ep", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Product = "t-eul" })
		Eventually(func(g Gomega) {
			g.Expect(getOrder(ns, "ep-5")(g).Status.Reason).To(Equal(v1alpha1.ReasonProductChangeNotAllowed))
		}).Should(Succeed())
	})

	It("records a Cancellation order when a plan is deleted, and keeps the orders as history", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		got := eventuallyReady(ns, "eul")
		Expect(got.Finalizers).To(ContainElement(v1alpha1.CancellationFinalizer))

		Expect(k8sClient.Delete(ctx, got)).To(Succeed())
		Eventually(func(g Gomega) {
			err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "eul"}, &v1alpha1.CustomerLicensePlan{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		}).Should(Succeed())
		Expect(charges(ns, "eul")).To(Equal([]string{"eul-1 New 2026-03-10 20.00", "eul-2 Cancellation 2026-03-10 0.00"}))
		Expect(getOrder(ns, "eul-2")(Default).Spec.RequestedBy).To(Equal(v1alpha1.SystemUser))
	})
})
