package controller

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// reconcilePanics is the number of panics the controllers recovered from, as controller-runtime
// counts them: the suite fails any spec after which it grew.
func reconcilePanics() float64 {
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() == "controller_runtime_reconcile_panics_total" {
			for _, m := range f.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// Every spec of the suite runs with panics surfaced as failures: controller-runtime recovers a
// panic in a reconcile and counts it, and a spec after which the count grew fails.
var panicsBefore float64

var _ = BeforeEach(func() { panicsBefore = reconcilePanics() })

var _ = AfterEach(func() {
	Expect(reconcilePanics()).To(Equal(panicsBefore), "a reconcile panicked (controller_runtime_reconcile_panics_total grew): see the log")
})

var _ = Describe("Panics", func() {
	It("do not happen when an order is settled after its plan is gone", func() {
		testCatalog()
		ns := newNamespace()
		ghost := &v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ghost-1", Labels: map[string]string{v1alpha1.PlanLabel: "ghost"}},
			Spec: v1alpha1.LicenseOrderSpec{Plan: "ghost", Revision: 1, Change: v1alpha1.ChangeNew, Product: "t-eul",
				PaymentPlan: v1alpha1.Monthly, Quantity: 1, EffectiveDate: "2026-03-10"}}
		Expect(k8sClient.Create(ctx, ghost)).To(Succeed())
		Eventually(func(g Gomega) {
			o := getOrder(ns, "ghost-1")(g)
			g.Expect(describe(o)).To(Equal("ghost-1 New Rejected/PlanNotFound"))
			g.Expect(o.Status.Charge).To(BeNil())
		}).Should(Succeed())
	})
})

var _ = Describe("Deleting a plan", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		ns = newNamespace()
	})

	// deleted waits, seconds at most, until the plan is gone.
	deleted := func(name string) {
		Eventually(func(g Gomega) {
			err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &v1alpha1.CustomerLicensePlan{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the plan is still there: %v", err)
		}).WithTimeout(10 * time.Second).Should(Succeed())
	}

	It("inside its renewal window records the Cancellation promptly and closes the renewal without charging it", func() {
		// Today is 2026-03-10: a Monthly plan started on 2026-02-13 renews on 2026-03-13, and its
		// renewal order is placed a week before, so it is placed at once.
		startPlan(ns, "eul", "t-eul", 3, v1alpha1.Monthly, "2026-02-13")
		Eventually(func(g Gomega) {
			o := getOrder(ns, "eul-2")(g)
			g.Expect(describe(o)).To(Equal("eul-2 Renewal Pending/"))
			g.Expect(meta.IsStatusConditionTrue(o.Status.Conditions, v1alpha1.OrderValid)).To(BeTrue())
		}).Should(Succeed())

		Expect(k8sClient.Delete(ctx, &v1alpha1.CustomerLicensePlan{ObjectMeta: objectMeta(ns, "eul")})).To(Succeed())
		deleted("eul")
		orders := ordersOf(ns, "eul")
		Expect(orders).To(HaveLen(3))
		Expect(describe(&orders[1])).To(Equal("eul-2 Renewal Rejected/PlanDeleted"))
		Expect(orders[1].Status.FulfilledAt).To(BeNil(), "the renewal is not charged (the charge approved with it stays as a record)")
		Expect(orders[1].Status.Message).To(ContainSubstring("closed without a charge"))
		Expect(charges(ns, "eul")).To(Equal([]string{"eul-1 New 2026-03-10 30.00", "eul-3 Cancellation 2026-03-10 0.00"}))
	})

	It("never put in force records its Cancellation, so that its history shows it was withdrawn", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "erc", "t-erc", 4, v1alpha1.Monthly))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(describe(getOrder(ns, "erc-1")(g))).To(Equal("erc-1 New Rejected/ProductNotOrderable"))
		}).Should(Succeed())

		Expect(k8sClient.Delete(ctx, &v1alpha1.CustomerLicensePlan{ObjectMeta: objectMeta(ns, "erc")})).To(Succeed())
		deleted("erc")
		o := getOrder(ns, "erc-2")(Default)
		Expect(describe(o)).To(Equal("erc-2 Cancellation Fulfilled/"))
		Expect(o.Spec.Product).To(Equal("t-erc"))
		Expect(o.Spec.Quantity).To(BeZero())
		Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("0.00")))
	})

	It("while its order awaits approval closes the order and records the Cancellation", func() {
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", Approval: v1alpha1.ApprovalPolicy{Mode: v1alpha1.ManualApproval}})
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(describe(getOrder(ns, "eul-1")(g))).To(Equal("eul-1 New AwaitingApproval/"))
		}).Should(Succeed())

		Expect(k8sClient.Delete(ctx, &v1alpha1.CustomerLicensePlan{ObjectMeta: objectMeta(ns, "eul")})).To(Succeed())
		deleted("eul")
		Expect(describe(getOrder(ns, "eul-1")(Default))).To(Equal("eul-1 New Rejected/PlanDeleted"))
		Expect(describe(getOrder(ns, "eul-2")(Default))).To(Equal("eul-2 Cancellation Fulfilled/"))
	})

	It("before it ordered anything releases it at once", func() {
		p := plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly)
		p.Finalizers = []string{v1alpha1.CancellationFinalizer}
		p.Spec.Product = "no-such-product-yet"
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(ordersOf(ns, "eul")).To(HaveLen(1)) }).Should(Succeed())
		Expect(k8sClient.Delete(ctx, p)).To(Succeed())
		deleted("eul")
		Expect(describe(getOrder(ns, "eul-2")(Default))).To(Equal("eul-2 Cancellation Fulfilled/"), "its refused order is history, so it is withdrawn")
	})
})

var _ = Describe("A spec change that places no order", func() {
	It("is judged by the controller too, and a new cost center or reference reaches billing from the next order on", func() {
		testCatalog()
		ns := newNamespace()
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", DefaultCostCenter: "sales",
			CostCenters: []v1alpha1.CostCenter{{Name: "sales"}, {Name: "engineering"}}})
		startPlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly, "2026-03-01")

		By("without the webhooks, an unknown cost center is stored, and the plan says at once what is wrong")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.CostCenter = "nowhere" })
		Eventually(func(g Gomega) {
			got := getPlan(ns, "eul")(g)
			g.Expect(readyReason(got)).To(Equal(v1alpha1.ReasonInvalidSpec))
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.PlanReady).Message).To(ContainSubstring(`costCenter "nowhere" is not a cost center`))
		}).Should(Succeed())
		Expect(ordersOf(ns, "eul")).To(HaveLen(1))

		By("a known one is in order; the next order, the renewal, carries it and the new reference")
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) {
			p.Spec.CostCenter, p.Spec.PurchaseReference = "engineering", "PO-2"
		})
		eventuallyReady(ns, "eul")
		Expect(ordersOf(ns, "eul")).To(HaveLen(1), "a cost center or reference alone places no order")
		travel(at("2026-03-25", 0), ns, "eul")
		Eventually(func(g Gomega) {
			o := getOrder(ns, "eul-2")(g)
			g.Expect(o.Spec.Change).To(Equal(v1alpha1.ChangeRenewal))
			g.Expect(o.Spec.CostCenter).To(Equal("engineering"))
			g.Expect(o.Spec.PurchaseReference).To(Equal("PO-2"))
			g.Expect(o.Status.Reason).To(BeEmpty())
		}).Should(Succeed())
	})
})

var _ = Describe("A backdated plan", func() {
	It("places exactly the orders licensing.OrdersDue lists, the function the admission preview quotes from", func() {
		testCatalog()
		ns := newNamespace()
		p := plan(ns, "eul", "t-eul", 9, v1alpha1.Monthly)
		p.Spec.StartDate = "2025-01-15"
		product := &v1alpha1.LicenseProduct{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "t-eul"}, product)).To(Succeed())
		due := licensing.OrdersDue(licensing.DueInput{Spec: p.Spec, Created: fakeClock.Now(), Currency: "EUR", Now: fakeClock.Now(),
			Catalog: map[string]*v1alpha1.LicenseProductSpec{"t-eul": &product.Spec}}, licensing.MaxOrdersDue)
		var want []string
		for i, o := range due.Orders {
			state, charge := v1alpha1.OrderFulfilled, string(o.Pricing.Charge.Amount())
			if !o.AtOnce(fakeClock.Now()) {
				state, charge = v1alpha1.OrderPending, ""
			}
			want = append(want, fmt.Sprintf("eul-%d %s %s %s %s", i+1, o.Change, licensing.FormatDate(o.EffectiveDate), state, charge))
		}
		Expect(want).To(HaveLen(15), "New, 13 catch-up renewals, and the renewal of the term in force placed a week ahead")

		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		Eventually(func(g Gomega) {
			var got []string
			for _, o := range ordersOf(ns, "eul") {
				charge := ""
				if o.Status.Charge != nil && o.Status.State == v1alpha1.OrderFulfilled {
					charge = string(o.Status.Charge.Amount)
				}
				got = append(got, fmt.Sprintf("%s %s %s %s %s", o.Name, o.Spec.Change, o.Spec.EffectiveDate, o.Status.State, charge))
			}
			g.Expect(got).To(Equal(want))
		}).Should(Succeed())
	})
})

// TestSettle: a conflict is retried quietly; any other error is the reconcile's error.
func TestSettle(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "customerlicenseplans"}, "eul", errors.New("the object has been modified"))
	if res, err := settle(context.Background(), ctrl.Result{}, conflict); err != nil || res.RequeueAfter != conflictRetry {
		t.Errorf("settle(conflict) = %+v, %v; want a retry after %s and no error", res, err, conflictRetry)
	}
	other := errors.New("connection refused")
	if _, err := settle(context.Background(), ctrl.Result{}, other); !errors.Is(err, other) {
		t.Errorf("settle(other) = %v, want it returned", err)
	}
	want := ctrl.Result{RequeueAfter: time.Minute}
	if res, err := settle(context.Background(), want, nil); err != nil || res != want {
		t.Errorf("settle(nil) = %+v, %v; want %+v", res, err, want)
	}
}

var _ = Describe("The order history", func() {
	It("is a ledger: no one deletes an order, not even a cluster admin, but a namespace goes with its orders", func() {
		testCatalog()
		ns := newNamespace()
		startPlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly, "2026-03-01")
		order := getOrder(ns, "eul-1")(Default)

		By("the API server refuses it, dry run or not, and the refusal names the order")
		refused := ContainSubstring("LicenseOrder " + ns + "/eul-1 is part of the order history and billing ledger and cannot be deleted")
		Eventually(func() error { return k8sClient.Delete(ctx, order.DeepCopy(), client.DryRunAll) }).Should(MatchError(refused))
		Expect(k8sClient.Delete(ctx, order.DeepCopy())).To(MatchError(refused))
		err := k8sClient.DeleteAllOf(ctx, &v1alpha1.LicenseOrder{}, client.InNamespace(ns))
		Expect(err).To(MatchError(ContainSubstring("cannot be deleted")))
		Expect(ordersOf(ns, "eul")).To(HaveLen(1))

		By("deleting the namespace deletes its orders (envtest has no namespace controller: the namespace stays Terminating)")
		Expect(k8sClient.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Eventually(func() error { return k8sClient.Delete(ctx, order.DeepCopy(), client.DryRunAll) }).Should(Succeed())
		Expect(k8sClient.Delete(ctx, order.DeepCopy())).To(Succeed())
	})
})

var _ = Describe("An upgrade while a change waits for the next term", func() {
	It("takes effect at once, without being closed as superseded", func() {
		testCatalog()
		ns := newNamespace()
		startPlan(ns, "ep", "t-endpoint-basic", 6, v1alpha1.Monthly, "2026-03-01")
		updatePlan(ns, "ep", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 4 })
		eventuallyAtRevision(ns, "ep", 2)
		updatePlan(ns, "ep", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Product = "t-endpoint-plus" })
		got := eventuallyAtRevision(ns, "ep", 3)
		Expect(got.Status.Product).To(Equal("t-endpoint-plus"))
		Expect(got.Status.PendingChange.Quantity).To(HaveValue(Equal(int32(4))))
		Consistently(func() int { return len(ordersOf(ns, "ep")) }, "1s", "200ms").Should(Equal(3), "no order closed and placed again")
		for _, o := range ordersOf(ns, "ep") {
			Expect(o.Status.State).To(Equal(v1alpha1.OrderFulfilled), describe(&o))
		}
	})
})
