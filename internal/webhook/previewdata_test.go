package webhook

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// previewOf decodes the preview a dry run answered with.
func previewOf(p *v1alpha1.CustomerLicensePlan) licensing.PlanPreview {
	raw, ok := p.Annotations[v1alpha1.PreviewAnnotation]
	ExpectWithOffset(1, ok).To(BeTrue(), "the dry run's plan has no preview annotation: %v", p.Annotations)
	var pv licensing.PlanPreview
	ExpectWithOffset(1, json.Unmarshal([]byte(raw), &pv)).To(Succeed())
	return pv
}

// spoken is how the preview's sentences come as warnings of a dry run.
func spoken(pv licensing.PlanPreview) []string {
	var out []string
	for i, s := range pv.Sentences() {
		if i == 0 {
			s = "would place " + s
		}
		out = append(out, "license-operator "+s)
	}
	return out
}

var _ = Describe("The preview as data", func() {
	var ns string
	var alice person
	BeforeEach(func() {
		ns = newNamespace()
		alice = as("alice")
	})

	It("comes with a dry run's plan: the orders, their charges and their total, as the warnings state them", func() {
		p := newPlan(ns, "eul", "t-eul", 9, v1alpha1.Monthly)
		p.Spec.StartDate = "2025-01-15" // the suite's clock is at 2026-03-10
		// A status in a create is dropped by the API server: the preview is a new plan's.
		p.Status = v1alpha1.CustomerLicensePlanStatus{Product: "t-eul", Licenses: 9, PaymentPlan: v1alpha1.Monthly, Revision: 1, StartDate: "2025-01-15"}
		alice.warnings.take()
		Expect(alice.Create(ctx, p, client.DryRunAll)).To(Succeed())
		pv := previewOf(p)
		Expect(pv.Orders).To(HaveLen(14))
		first := pv.Orders[0]
		Expect([]any{first.Change, first.Quantity, first.Product, first.PaymentPlan, first.EffectiveDate, first.Charge.Amount}).To(Equal(
			[]any{v1alpha1.ChangeNew, int32(9), "t-eul", v1alpha1.Monthly, v1alpha1.Date("2026-03-10"), v1alpha1.Amount("90.00")}))
		Expect(pv.Orders[13].EffectiveDate).To(Equal(v1alpha1.Date("2026-02-15")))
		Expect(pv.Total).To(Equal([]v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "1260.00"}}))
		Expect(pv.Backdated).To(Equal(&licensing.PreviewBackdated{StartDate: "2025-01-15", Renewals: 13}))
		Expect(alice.warnings.take()).To(Equal(spoken(pv)), "the warnings say in words what the data says")
	})

	It("previews a change with the stored plan's status, and is never stored", func() {
		p := newPlan(ns, "eul", "t-eul", 10, v1alpha1.Monthly)
		p.Spec.StartDate = "2026-03-01"
		p.Annotations = map[string]string{v1alpha1.PreviewAnnotation: `{"orders":[]}`} // a dry run's answer, applied as it is
		Expect(alice.Create(ctx, p)).To(Succeed())
		Expect(getPlan(Default, ns, "eul").Annotations).NotTo(HaveKey(v1alpha1.PreviewAnnotation))
		p = eventuallyInForce(ns, "eul")

		alice.warnings.take()
		Expect(mergePatch(alice, p, `{"spec":{"quantity":13}}`, client.DryRunAll)).To(Succeed())
		pv := previewOf(p)
		Expect(pv.Orders).To(HaveLen(1))
		Expect(pv.Orders[0].Change).To(Equal(v1alpha1.ChangeIncreaseQuantity))
		Expect(pv.Orders[0].Charge.Amount).To(Equal(v1alpha1.Amount("21.29")))
		Expect(pv.Total).To(Equal([]v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "21.29"}}))
		Expect(alice.warnings.take()).To(Equal(spoken(pv)))

		By("a change that needs no order previews no order")
		p = getPlan(Default, ns, "eul")
		Expect(mergePatch(alice, p, `{"spec":{"purchaseReference":"PO-2"}}`, client.DryRunAll)).To(Succeed())
		Expect(previewOf(p)).To(Equal(licensing.PlanPreview{}))

		By("the real change stores no preview")
		Expect(mergePatch(alice, getPlan(Default, ns, "eul"), `{"spec":{"quantity":13}}`)).To(Succeed())
		Expect(getPlan(Default, ns, "eul").Annotations).NotTo(HaveKey(v1alpha1.PreviewAnnotation))
	})
})
