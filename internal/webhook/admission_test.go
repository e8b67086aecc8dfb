package webhook

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func newPlan(ns, name, product string, quantity int32, pp v1alpha1.PaymentPlan) *v1alpha1.CustomerLicensePlan {
	return &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.CustomerLicensePlanSpec{Customer: "Acme", Product: product, Quantity: quantity, PaymentPlan: pp},
	}
}

func getPlan(g Gomega, ns, name string) *v1alpha1.CustomerLicensePlan {
	p := &v1alpha1.CustomerLicensePlan{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p)).To(Succeed())
	return p
}

func getOrder(g Gomega, ns, name string) *v1alpha1.LicenseOrder {
	o := &v1alpha1.LicenseOrder{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, o)).To(Succeed())
	return o
}

func readyReason(p *v1alpha1.CustomerLicensePlan) string {
	if c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady); c != nil && c.ObservedGeneration == p.Generation {
		return c.Reason
	}
	return ""
}

func eventuallyInForce(ns, name string) *v1alpha1.CustomerLicensePlan {
	var p *v1alpha1.CustomerLicensePlan
	Eventually(func(g Gomega) {
		p = getPlan(g, ns, name)
		g.Expect(readyReason(p)).To(Equal(v1alpha1.ReasonInForce), "conditions: %v", p.Status.Conditions)
	}).Should(Succeed())
	return p
}

// mergePatch changes a plan the way `kubectl patch --type merge` does.
func mergePatch(who person, obj client.Object, patch string, opts ...client.PatchOption) error {
	return who.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch)), opts...)
}

func approve(who person, ns, order, status string) error {
	patch := `[{"op":"add","path":"/status/conditions/-","value":{"type":"Approved","status":"` + status + `","message":"checked against the PO"}}]`
	return who.Status().Patch(ctx, &v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: order}},
		client.RawPatch(types.JSONPatchType, []byte(patch)))
}

var _ = Describe("Plans at admission", func() {
	var ns string
	var alice person
	BeforeEach(func() {
		ns = newNamespace()
		alice = as("alice")
	})

	It("records who ordered, and nobody can put another name on it", func() {
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 3, v1alpha1.Monthly))).To(Succeed())
		p := eventuallyInForce(ns, "eul")
		Expect(p.Annotations).To(HaveKeyWithValue(v1alpha1.RequestedByAnnotation, "alice"))
		Expect(getOrder(Default, ns, "eul-1").Spec.RequestedBy).To(Equal("alice"))

		By("an annotation alone does not change who ordered")
		Expect(mergePatch(alice, p, `{"metadata":{"annotations":{"licensing.partnerops.io/requested-by":"mallory"}}}`)).To(Succeed())
		Expect(getPlan(Default, ns, "eul").Annotations).To(HaveKeyWithValue(v1alpha1.RequestedByAnnotation, "alice"))

		By("a change of the spec is recorded as its author's, whatever the annotation says")
		carol := as("carol")
		Expect(k8sClient.Create(ctx, rbacBinding{ns: ns, user: "carol", role: "license-purchaser"}.object())).To(Succeed())
		Expect(mergePatch(carol, p, `{"metadata":{"annotations":{"licensing.partnerops.io/requested-by":"alice"}},"spec":{"quantity":5}}`)).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(getOrder(g, ns, "eul-2").Spec.RequestedBy).To(Equal("carol")) }).Should(Succeed())
	})

	It("defaults the start date to today and the cost center to the profile's default", func() {
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", DefaultCostCenter: "sales",
			CostCenters: []v1alpha1.CostCenter{{Name: "sales"}, {Name: "support"}}})
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 3, v1alpha1.Monthly))).To(Succeed())
		p := getPlan(Default, ns, "eul")
		Expect(p.Spec.StartDate).To(Equal(v1alpha1.Date("2026-03-10")))
		Expect(p.Spec.CostCenter).To(Equal("sales"))
		Expect(p.Spec.Renewal.RenewBefore.Duration.String()).To(Equal("168h0m0s"))
		Expect(p.Finalizers).To(Equal([]string{v1alpha1.CancellationFinalizer}), "set at admission, so the operator spends no write on it")
	})

	It("keeps what the user wrote as they wrote it", func() {
		p := newPlan(ns, "eul", "t-eul", 3, v1alpha1.Monthly)
		p.Spec.Renewal.RenewBefore = &metav1.Duration{Duration: 72 * 3600e9}
		Expect(alice.Create(ctx, p)).To(Succeed())
		Expect(mergePatch(alice, p, `{"spec":{"renewal":{"renewBefore":"72h"}}}`)).To(Succeed())
		eventuallyInForce(ns, "eul")
		raw := &metav1.PartialObjectMetadata{}
		raw.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("CustomerLicensePlan"))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(p), raw)).To(Succeed())
		Expect(raw.Generation).To(Equal(int64(2)), "two spec writes, none by the operator")
	})

	DescribeTable("refuses what the rules would reject, naming the field and the value",
		func(prepare func(ns string), plan func(ns string) *v1alpha1.CustomerLicensePlan, field, message string) {
			if prepare != nil {
				prepare(ns)
			}
			err := alice.Create(ctx, plan(ns))
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("an unknown product", nil,
			func(ns string) *v1alpha1.CustomerLicensePlan {
				return newPlan(ns, "x", "no-such-product", 1, v1alpha1.Monthly)
			},
			`spec.product: Invalid value: "no-such-product"`, "UnknownProduct"),
		Entry("a payment plan the product does not offer", nil,
			func(ns string) *v1alpha1.CustomerLicensePlan { return newPlan(ns, "x", "t-eul", 1, v1alpha1.Prepay5Y) },
			`spec.paymentPlan: Invalid value: "Prepay5Y"`, "choose one of Monthly, Prepay1Y"),
		Entry("an unknown cost center",
			func(string) {
				withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", CostCenters: []v1alpha1.CostCenter{{Name: "sales"}}})
			},
			func(ns string) *v1alpha1.CustomerLicensePlan {
				p := newPlan(ns, "x", "t-eul", 1, v1alpha1.Monthly)
				p.Spec.CostCenter = "marketing"
				return p
			},
			`spec.costCenter: Invalid value: "marketing"`, "UnknownCostCenter"),
	)

	It("refuses a product outside the family and a quantity below the assigned usage", func() {
		Expect(alice.Create(ctx, newPlan(ns, "ep", "t-endpoint-basic", 2, v1alpha1.Monthly))).To(Succeed())
		p := eventuallyInForce(ns, "ep")
		err := mergePatch(alice, p, `{"spec":{"product":"t-eul"}}`)
		Expect(err).To(MatchError(ContainSubstring(`spec.product: Invalid value: "t-eul": ProductChangeNotAllowed`)))

		for _, n := range []string{"a1", "a2"} {
			Expect(alice.Create(ctx, assignment(ns, n, "ep"))).To(Succeed())
		}
		Eventually(func(g Gomega) { g.Expect(getPlan(g, ns, "ep").Status.Usage.Assigned).To(Equal(int32(2))) }).Should(Succeed())
		err = mergePatch(alice, p, `{"spec":{"quantity":1}}`)
		Expect(err).To(MatchError(ContainSubstring("spec.quantity: Invalid value: 1: UsageBelowMinimum: quantity 1 does not cover the 2 licenses assigned")))
		Expect(getPlan(Default, ns, "ep").Spec.Quantity).To(Equal(int32(2)), "the stored spec is unchanged")
	})

	It("previews the order, its charge and the usage on a server-side dry run, storing nothing", func() {
		p := newPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly)
		p.Spec.StartDate = "2026-03-01"
		Expect(alice.Create(ctx, p)).To(Succeed())
		p = eventuallyInForce(ns, "eul")
		alice.warnings.take()

		Expect(mergePatch(alice, p, `{"spec":{"quantity":13}}`, client.DryRunAll)).To(Succeed())
		Expect(alice.warnings.take()).To(Equal([]string{
			"license-operator would place an order: IncreaseQuantity of 13 x t-eul (Monthly), effective 2026-03-10",
			"license-operator charge: 21.29 EUR (IncreaseQuantity from 10 to 13 licenses: 3 licenses x 10.00 EUR x 22/31 days = 21.29 EUR, the 22 of 31 days left from 2026-03-10 to the term end 2026-04-01.)",
			"license-operator usage: covered, 0 of the 13 licenses ordered are assigned",
		}))
		Expect(getPlan(Default, ns, "eul").Spec.Quantity).To(Equal(int32(10)))
		Consistently(func() int { return len(ordersOf(ns, "eul")) }, "1s", "200ms").Should(Equal(1), "a dry run orders nothing")

		By("the real change places that order, with that charge")
		Expect(mergePatch(alice, p, `{"spec":{"quantity":13}}`)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getOrder(g, ns, "eul-2").Status.Charge).NotTo(BeNil())
			g.Expect(getOrder(g, ns, "eul-2").Status.Charge.Amount).To(Equal(v1alpha1.Amount("21.29")))
		}).Should(Succeed())
	})
})

var _ = Describe("Orders at admission", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("are written by the operator only", func() {
		alice := as("alice")
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 1, v1alpha1.Monthly))).To(Succeed())
		eventuallyInForce(ns, "eul")

		forged := &v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eul-9", Labels: map[string]string{v1alpha1.PlanLabel: "eul"}},
			Spec: v1alpha1.LicenseOrderSpec{Plan: "eul", Revision: 9, Change: v1alpha1.ChangeNew, Product: "t-eul", PaymentPlan: v1alpha1.Monthly, Quantity: 1, EffectiveDate: "2026-03-10"}}
		admin := as("admin-without-approve")
		Expect(k8sClient.Create(ctx, rbacBinding{ns: ns, user: "admin-without-approve", role: "cluster-admin"}.object())).To(Succeed())
		err := admin.Create(ctx, forged)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("LicenseOrders are placed by the operator only"))

		err = mergePatch(admin, getOrder(Default, ns, "eul-1"), `{"metadata":{"labels":{"tampered":"yes"}}}`)
		Expect(err).To(MatchError(ContainSubstring("orders are history")))
		err = admin.Status().Patch(ctx, getOrder(Default, ns, "eul-1"), client.RawPatch(types.MergePatchType, []byte(`{"status":{"state":"Rejected"}}`)))
		Expect(err).To(MatchError(ContainSubstring("is Fulfilled, not AwaitingApproval")))
	})

	It("wait for a person's approval in Manual mode, and only an approver may give it", func() {
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", Approval: v1alpha1.ApprovalPolicy{Mode: v1alpha1.ManualApproval}})
		alice, bob, eve := as("alice"), as("bob"), as("eve")
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 4, v1alpha1.Monthly))).To(Succeed())
		Eventually(func(g Gomega) {
			o := getOrder(g, ns, "eul-1")
			g.Expect(o.Status.State).To(Equal(v1alpha1.OrderAwaitingApproval))
			g.Expect(o.Status.Charge.Amount).To(Equal(v1alpha1.Amount("40.00")), "the approver sees what they approve")
			p := getPlan(g, ns, "eul")
			g.Expect(readyReason(p)).To(Equal(v1alpha1.ReasonAwaitingApproval))
		}).Should(Succeed())

		By("RBAC stops those who may not touch an order's status")
		for _, who := range []person{eve, alice} {
			err := approve(who, ns, "eul-1", "True")
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", who.name, err)
			Expect(err.Error()).To(ContainSubstring(`cannot patch resource "licenseorders/status"`))
		}
		By("the webhook stops those who may write an order's status but lack the verb approve")
		Expect(k8sClient.Create(ctx, statusEditorRole(ns))).To(Succeed())
		Expect(k8sClient.Create(ctx, rbacBinding{ns: ns, user: "dave", role: "status-editor"}.roleObject())).To(Succeed())
		err := approve(as("dave"), ns, "eul-1", "True")
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(`user "dave" may not approve orders in namespace ` + ns))
		Expect(approve(bob, ns, "eul-1", "True")).To(Succeed())
		p := eventuallyInForce(ns, "eul")
		Expect(p.Status.Licenses).To(Equal(int32(4)))
		o := getOrder(Default, ns, "eul-1")
		Expect(o.Status.State).To(Equal(v1alpha1.OrderFulfilled))
		approved := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.OrderApproved)
		Expect(approved.Reason).To(Equal(v1alpha1.ReasonApproved))
		Expect(approved.Message).To(Equal("approved by bob: checked against the PO"))

		By("Approved never changes once set, not even by the operator")
		patch := `[{"op":"replace","path":"/status/conditions/1/status","value":"False"}]`
		Expect(meta.FindStatusCondition(o.Status.Conditions, v1alpha1.OrderApproved)).To(Equal(&o.Status.Conditions[1]))
		for _, c := range []client.Client{k8sClient, operatorClient} {
			// The operator's own writes skip the webhook (its matchConditions): the CRD refuses them.
			err = c.Status().Patch(ctx, o, client.RawPatch(types.JSONPatchType, []byte(patch)))
			Expect(err).To(MatchError(ContainSubstring("never changes once set")))
		}
		err = operatorClient.Status().Patch(ctx, o, client.RawPatch(types.JSONPatchType, []byte(patch)))
		Expect(err).To(MatchError(ContainSubstring("status.conditions: Invalid value: the Approved condition of an order is an approval (True) or a denial (False) that never changes once set, not even by the operator")))
		Expect(meta.FindStatusCondition(getOrder(Default, ns, "eul-1").Status.Conditions, v1alpha1.OrderApproved).Status).To(Equal(metav1.ConditionTrue))

		By("a denied order is rejected and nothing changes in force")
		Expect(mergePatch(alice, p, `{"spec":{"quantity":6}}`)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getOrder(g, ns, "eul-2").Status.State).To(Equal(v1alpha1.OrderAwaitingApproval))
		}).Should(Succeed())
		Expect(approve(bob, ns, "eul-2", "False")).To(Succeed())
		Eventually(func(g Gomega) {
			o := getOrder(g, ns, "eul-2")
			g.Expect(o.Status.State).To(Equal(v1alpha1.OrderRejected))
			g.Expect(o.Status.Reason).To(Equal(v1alpha1.ReasonDenied))
			g.Expect(o.Status.Message).To(ContainSubstring("denied by bob"))
			p := getPlan(g, ns, "eul")
			g.Expect(p.Status.Licenses).To(Equal(int32(4)))
			g.Expect(readyReason(p)).To(Equal(v1alpha1.ReasonOrderRejected))
		}).Should(Succeed())
	})

	It("need approval above manualAbove in Automatic mode", func() {
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", Approval: v1alpha1.ApprovalPolicy{Mode: v1alpha1.AutomaticApproval, ManualAbove: "50.00"}})
		alice := as("alice")
		Expect(alice.Create(ctx, newPlan(ns, "small", "t-eul", 5, v1alpha1.Monthly))).To(Succeed())
		Expect(alice.Create(ctx, newPlan(ns, "large", "t-eul", 6, v1alpha1.Monthly))).To(Succeed())
		eventuallyInForce(ns, "small")
		Eventually(func(g Gomega) {
			o := getOrder(g, ns, "large-1")
			g.Expect(o.Status.State).To(Equal(v1alpha1.OrderAwaitingApproval))
			g.Expect(o.Status.Message).To(ContainSubstring("the charge 60.00 is above the BillingProfile's approval.manualAbove 50.00"))
		}).Should(Succeed())
	})
})

var _ = Describe("Assignments at admission", func() {
	It("are refused when every license is assigned, unless the plan is being increased, where the namespace asks for it", func() {
		ns := newNamespace()
		Expect(k8sClient.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
			client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"licensing.partnerops.io/over-licensed-assignments":"Refuse"}}}`)))).To(Succeed())
		alice := as("alice")
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		p := eventuallyInForce(ns, "eul")
		Expect(alice.Create(ctx, assignment(ns, "a1", "eul"))).To(Succeed())
		a1 := &v1alpha1.LicenseAssignment{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a1"}, a1)).To(Succeed())
		Expect(a1.Labels).To(HaveKeyWithValue(v1alpha1.PlanLabel, "eul"), "labelled at admission")
		Expect(alice.Create(ctx, assignment(ns, "a2", "eul"))).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(getPlan(g, ns, "eul").Status.Usage.Assigned).To(Equal(int32(2))) }).Should(Succeed())
		err := alice.Create(ctx, assignment(ns, "a3", "eul"))
		Expect(err).To(MatchError(ContainSubstring(`spec.plan: Invalid value: "eul": plan "eul" has 2 licenses in force and 2 assigned`)))

		Expect(mergePatch(alice, p, `{"spec":{"quantity":3}}`)).To(Succeed())
		Expect(alice.Create(ctx, assignment(ns, "a3", "eul"))).To(Succeed())

		By("an assignment to a plan that does not exist yet is let through with a warning")
		alice.warnings.take()
		Expect(alice.Create(ctx, assignment(ns, "early", "later-plan"))).To(Succeed())
		Expect(alice.warnings.take()).To(ContainElement(ContainSubstring(`plan "later-plan" does not exist (yet)`)))
	})

	It("are admitted elsewhere, and the one no license covers is OverLicensed", func() {
		ns := newNamespace()
		alice := as("alice")
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyInForce(ns, "eul")
		for _, name := range []string{"a1", "a2", "a3"} {
			Expect(alice.Create(ctx, assignment(ns, name, "eul"))).To(Succeed())
		}
		Eventually(func(g Gomega) {
			g.Expect(getPlan(g, ns, "eul").Status.Usage.Assigned).To(Equal(int32(3)))
			over := 0
			for _, name := range []string{"a1", "a2", "a3"} {
				a := &v1alpha1.LicenseAssignment{}
				g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, a)).To(Succeed())
				c := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.AssignmentAssigned)
				g.Expect(c).NotTo(BeNil(), name)
				if c.Reason == v1alpha1.ReasonOverLicensed {
					over++
				}
			}
			g.Expect(over).To(Equal(1), "the newest of the three")
		}).Should(Succeed())
	})
})
