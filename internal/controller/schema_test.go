package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The API server refuses what the schema can judge, with a message naming the field.
var _ = Describe("The API schema", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		ns = newNamespace()
	})

	// rawPlan builds a plan as unstructured, so that values Go types cannot hold reach the server.
	rawPlan := func(name string, spec map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": v1alpha1.GroupVersion.String(), "kind": "CustomerLicensePlan",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec":     spec,
		}}
		return u
	}
	validSpec := func() map[string]any {
		return map[string]any{"customer": "Acme", "product": "t-eul", "quantity": int64(3), "paymentPlan": "Monthly"}
	}

	DescribeTable("refuses an invalid plan with a message naming the field",
		func(field string, value any, wantInMessage string) {
			spec := validSpec()
			spec[field] = value
			err := k8sClient.Create(ctx, rawPlan("bad", spec))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(wantInMessage))
		},
		Entry("negative quantity", "quantity", int64(-2), "spec.quantity"),
		Entry("zero quantity", "quantity", int64(0), "spec.quantity"),
		Entry("unknown payment plan", "paymentPlan", "Weekly", `spec.paymentPlan: Unsupported value: "Weekly"`),
		Entry("malformed start date", "startDate", "2026-02-30", "spec.startDate"),
		Entry("start date in another format", "startDate", "01/03/2026", "spec.startDate"),
		Entry("purchase reference too long", "purchaseReference", string(make([]byte, 65)), "spec.purchaseReference"),
		Entry("unknown renewal policy", "renewal", map[string]any{"policy": "Sometimes"}, "spec.renewal.policy"),
		Entry("malformed renewBefore", "renewal", map[string]any{"renewBefore": "a week"}, "spec.renewal.renewBefore"),
		Entry("renewBefore longer than a month", "renewal", map[string]any{"renewBefore": "700h"}, "renewal.renewBefore must be shorter than the shortest term"),
	)

	It("serves a new plan as not yet observed, so that kstatus, Flux and Argo CD wait for the operator", func() {
		u := rawPlan("unobserved", validSpec())
		Expect(k8sClient.Create(ctx, u)).To(Succeed())
		observed, found, err := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeTrue(), "the created plan has no status.observedGeneration: %v", u.Object["status"])
		Expect(observed).To(BeZero())
		res, err := kstatus.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal(kstatus.InProgressStatus))
	})

	It("fills in the renewal defaults", func() {
		Expect(k8sClient.Create(ctx, rawPlan("defaults", validSpec()))).To(Succeed())
		got := getPlan(ns, "defaults")(Default)
		Expect(got.Spec.Renewal.Policy).To(Equal(v1alpha1.AutoRenew))
		Expect(got.Spec.Renewal.RenewBefore.Duration.String()).To(Equal("168h0m0s"))
	})

	It("keeps startDate once set", func() {
		p := plan(ns, "dated", "t-eul", 1, v1alpha1.Monthly)
		p.Spec.StartDate = "2026-03-01"
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"startDate":"2026-04-01"}}`))
		Expect(k8sClient.Patch(ctx, p, patch)).To(MatchError(ContainSubstring("startDate is immutable once set")))
	})

	It("refuses an edit of an order's spec", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")
		o := getOrder(ns, "eul-1")(Default)
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"quantity":200}}`))
		Expect(k8sClient.Patch(ctx, o, patch)).To(MatchError(ContainSubstring("spec is immutable: an order is a record of history")))
		Expect(getOrder(ns, "eul-1")(Default).Spec.Quantity).To(Equal(int32(2)), "the order is unchanged")
	})

	It("lets kubectl select orders by state, change and plan (--field-selector)", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")
		list := &v1alpha1.LicenseOrderList{}
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns), client.MatchingFields{"status.state": "Fulfilled", "spec.plan": "eul"})).To(Succeed())
		Expect(list.Items).To(HaveLen(1))
		Expect(k8sClient.List(ctx, list, client.InNamespace(ns), client.MatchingFields{"status.state": "AwaitingApproval"})).To(Succeed())
		Expect(list.Items).To(BeEmpty())
	})

	It("refuses to move an assignment to another plan", func() {
		a := assignment(ns, "ann", "eul")
		Expect(k8sClient.Create(ctx, a)).To(Succeed())
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"plan":"other"}}`))
		Expect(k8sClient.Patch(ctx, a, patch)).To(MatchError(ContainSubstring("plan is immutable")))
	})

	It("refuses an assignee of an unknown type", func() {
		a := assignment(ns, "ann", "eul")
		a.Spec.Assignee.Type = "Robot"
		Expect(k8sClient.Create(ctx, a)).To(MatchError(ContainSubstring("spec.assignee.type")))
	})

	It("refuses a product with a malformed SKU or price", func() {
		p := product("t-bad", "lower-case", "VMR", "Monthly", "10.00")
		Expect(k8sClient.Create(ctx, p)).To(MatchError(ContainSubstring("spec.sku")))
		p = product("t-bad", "T-BAD", "VMR", "Monthly", "10.001")
		Expect(k8sClient.Create(ctx, p)).To(MatchError(ContainSubstring("spec.prices[0].pricePerLicense")))
		p = product("t-bad", "T-BAD", "VMR")
		Expect(k8sClient.Create(ctx, p)).To(MatchError(ContainSubstring("spec.prices")))
	})

	It("accepts only a BillingProfile named default whose default cost center is one of its own", func() {
		bp := &v1alpha1.BillingProfile{
			ObjectMeta: metav1.ObjectMeta{Name: "other"},
			Spec:       v1alpha1.BillingProfileSpec{Currency: "EUR"},
		}
		Expect(k8sClient.Create(ctx, bp)).To(MatchError(ContainSubstring("the BillingProfile must be named default")))
		bp = &v1alpha1.BillingProfile{
			ObjectMeta: metav1.ObjectMeta{Name: "default"},
			Spec: v1alpha1.BillingProfileSpec{Currency: "EUR", DefaultCostCenter: "nowhere",
				CostCenters: []v1alpha1.CostCenter{{Name: "sales"}}},
		}
		Expect(k8sClient.Create(ctx, bp)).To(MatchError(ContainSubstring("defaultCostCenter must name one of costCenters")))
		bp.Spec.Currency = "euro"
		Expect(k8sClient.Create(ctx, bp)).To(MatchError(ContainSubstring("spec.currency")))
	})
})
