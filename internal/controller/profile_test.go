package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// deleteProfile removes the BillingProfile, so that specs that do not create one see none.
func deleteProfile() {
	err := k8sClient.Delete(ctx, &v1alpha1.BillingProfile{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultBillingProfileName}})
	Expect(client.IgnoreNotFound(err)).To(Succeed())
	Eventually(func() bool {
		err := k8sClient.Get(ctx, client.ObjectKey{Name: v1alpha1.DefaultBillingProfileName}, &v1alpha1.BillingProfile{})
		return apierrors.IsNotFound(err)
	}).Should(BeTrue())
}

// withProfile creates the BillingProfile for one spec, and deletes it after.
func withProfile(spec v1alpha1.BillingProfileSpec) {
	Expect(k8sClient.Create(ctx, &v1alpha1.BillingProfile{
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultBillingProfileName}, Spec: spec,
	})).To(Succeed())
	DeferCleanup(deleteProfile)
}

var _ = Describe("The billing profile", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		ns = newNamespace()
	})

	It("is optional: without it plans are billed in EUR, and their Ready message says so", func() {
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 1, v1alpha1.Monthly))).To(Succeed())
		got := eventuallyReady(ns, "eul")
		Expect(got.Status.Currency).To(Equal("EUR"))
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.PlanReady).Message).
			To(ContainSubstring("No BillingProfile named default exists: the operator bills in EUR"))
	})

	It("sets the currency, defaults the cost center and refuses an unknown one", func() {
		Expect(k8sClient.Create(ctx, &v1alpha1.BillingProfile{
			ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultBillingProfileName},
			Spec: v1alpha1.BillingProfileSpec{Currency: "NOK", DefaultCostCenter: "oslo",
				CostCenters: []v1alpha1.CostCenter{{Name: "oslo"}, {Name: "bergen"}}},
		})).To(Succeed())
		DeferCleanup(deleteProfile)

		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 1, v1alpha1.Monthly))).To(Succeed())
		got := eventuallyReady(ns, "eul")
		Expect(got.Status.Currency).To(Equal("NOK"))
		o := getOrder(ns, "eul-1")(Default)
		Expect(o.Spec.CostCenter).To(Equal("oslo"), "the profile's default cost center")
		Expect(o.Status.Charge.Currency).To(Equal("NOK"))
		Expect(o.Status.Charge.Description).To(ContainSubstring("1 license x 10.00 NOK = 10.00 NOK"))

		p := plan(ns, "bad-cc", "t-eul", 1, v1alpha1.Monthly)
		p.Spec.CostCenter = "trondheim"
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		Eventually(func(g Gomega) {
			o := getOrder(ns, "bad-cc-1")(g)
			g.Expect(o.Status.Reason).To(Equal(v1alpha1.ReasonUnknownCostCenter))
			g.Expect(o.Status.Message).To(ContainSubstring(`costCenter "trondheim" is not a cost center of the BillingProfile: choose one of oslo, bergen`))
		}).Should(Succeed())

		By("adding the cost center to the profile orders the plan again")
		Eventually(func(g Gomega) {
			bp := &v1alpha1.BillingProfile{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: v1alpha1.DefaultBillingProfileName}, bp)).To(Succeed())
			bp.Spec.CostCenters = append(bp.Spec.CostCenters, v1alpha1.CostCenter{Name: "trondheim"})
			g.Expect(k8sClient.Update(ctx, bp)).To(Succeed())
		}).Should(Succeed())
		got = eventuallyReady(ns, "bad-cc")
		Expect(got.Status.LastOrder).To(Equal("bad-cc-2"))
	})
})
