package webhook

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

var _ = Describe("Every change of a plan's spec", func() {
	It("is validated, whether or not it places an order: a cost center alone is refused when unknown", func() {
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", DefaultCostCenter: "sales",
			CostCenters: []v1alpha1.CostCenter{{Name: "sales"}, {Name: "engineering"}}})
		ns := newNamespace()
		alice := as("alice")
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		p := eventuallyInForce(ns, "eul")

		err := mergePatch(alice, p, `{"spec":{"costCenter":"nowhere"}}`)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring(`spec.costCenter: Invalid value: "nowhere": UnknownCostCenter`)))
		Expect(getPlan(Default, ns, "eul").Spec.CostCenter).To(Equal("sales"), "the stored spec is unchanged")

		Expect(mergePatch(alice, p, `{"spec":{"costCenter":"engineering","purchaseReference":"PO-2"}}`)).To(Succeed())
		Consistently(func() int { return len(ordersOf(ns, "eul")) }, "1s", "200ms").Should(Equal(1), "a new cost center alone places no order")
	})
})

var _ = Describe("An approver's decision", func() {
	It("is True or False: any other status, or a reason that contradicts it, is refused and the order can still be approved", func() {
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", Approval: v1alpha1.ApprovalPolicy{Mode: v1alpha1.ManualApproval}})
		ns := newNamespace()
		alice, bob := as("alice"), as("bob")
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 4, v1alpha1.Monthly))).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getOrder(g, ns, "eul-1").Status.State).To(Equal(v1alpha1.OrderAwaitingApproval))
		}).Should(Succeed())

		err := approve(bob, ns, "eul-1", "Unknown")
		Expect(err).To(MatchError(ContainSubstring(`the Approved condition's status must be "True" (approve) or "False" (deny), not "Unknown"`)))
		patch := `[{"op":"add","path":"/status/conditions/-","value":{"type":"Approved","status":"True","reason":"Denied","message":"?"}}]`
		err = bob.Status().Patch(ctx, getOrder(Default, ns, "eul-1"), client.RawPatch(types.JSONPatchType, []byte(patch)))
		Expect(err).To(MatchError(ContainSubstring(`the Approved condition's reason must be Approved with status "True", or empty, not "Denied"`)))
		Expect(getOrder(Default, ns, "eul-1").Status.State).To(Equal(v1alpha1.OrderAwaitingApproval))

		Expect(approve(bob, ns, "eul-1", "True")).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getOrder(g, ns, "eul-1").Status.State).To(Equal(v1alpha1.OrderFulfilled))
		}).Should(Succeed())
	})
})

var _ = Describe("The preview of a backdated plan", func() {
	It("states every order placed at once, the catch-up renewals too, and their total, and warns about the start date", func() {
		ns := newNamespace()
		alice := as("alice")
		p := newPlan(ns, "eul", "t-eul", 9, v1alpha1.Monthly)
		p.Spec.StartDate = "2025-01-15" // the suite's clock is at 2026-03-10
		Expect(alice.Create(ctx, p.DeepCopy(), client.DryRunAll)).To(Succeed())
		warnings := alice.warnings.take()
		Expect(warnings).To(HaveLen(6), "%q", warnings)
		Expect(warnings[0]).To(Equal("license-operator would place 14 orders at once, 1260.00 EUR in all"))
		Expect(warnings[1]).To(HavePrefix("license-operator start date: spec.startDate 2025-01-15 is more than one term in the past: the 13 terms that ended since are billed at once"))
		Expect(warnings[2]).To(Equal("license-operator order 1 of 14: New of 9 x t-eul (Monthly), effective 2026-03-10"))
		Expect(warnings[5]).To(Equal("license-operator orders 2 to 14 of 14: 13 Renewal orders of 9 x t-eul (Monthly), effective 2025-02-15 to 2026-02-15, 90.00 EUR each"))

		By("what it quotes is what is billed")
		Expect(alice.Create(ctx, p)).To(Succeed())
		Eventually(func(g Gomega) {
			var charged []string
			for _, o := range ordersOf(ns, "eul") {
				if o.Status.State == v1alpha1.OrderFulfilled {
					charged = append(charged, fmt.Sprintf("%s %s", o.Spec.Change, o.Status.Charge.Amount))
				}
			}
			g.Expect(charged).To(HaveLen(14))
			g.Expect(charged).To(HaveEach(HaveSuffix(" 90.00")))
			billing := getPlan(g, ns, "eul").Status.Billing
			g.Expect(billing).NotTo(BeNil())
			g.Expect(billing.TotalBilled).To(Equal(v1alpha1.Amount("1260.00")))
		}).Should(Succeed())
	})
})
