package controller

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// policyProbePlan is the plan name whose order creates a test's admission policy (refuse) always
// refuses in its namespace: a dry-run create of such an order shows when the policy is in force.
const policyProbePlan = "policy-probe"

// refuse installs, for the namespace ns alone, a ValidatingAdmissionPolicy that refuses the
// creates of LicenseOrders and the updates of CustomerLicensePlans' status for which the CEL
// expression deny is true, and returns once the API server enforces it. The returned function
// removes it. It stands for what refuses a write in a real cluster: an admission policy, a
// quota, a crash between two writes.
func refuse(ns, deny string) (remove func()) {
	name := "test-refuse-" + ns
	fail := admissionregistrationv1.Fail
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionregistrationv1.MatchResources{
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{
					{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
						Rule:       admissionregistrationv1.Rule{APIGroups: []string{v1alpha1.GroupVersion.Group}, APIVersions: []string{"*"}, Resources: []string{"licenseorders"}},
					}},
					{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
						Rule:       admissionregistrationv1.Rule{APIGroups: []string{v1alpha1.GroupVersion.Group}, APIVersions: []string{"*"}, Resources: []string{"customerlicenseplans/status"}},
					}},
				},
			},
			MatchConditions: []admissionregistrationv1.MatchCondition{{Name: "namespace", Expression: fmt.Sprintf("object.metadata.namespace == %q", ns)}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: fmt.Sprintf("!((request.resource.resource == 'licenseorders' && object.spec.plan == %q) || (%s))", policyProbePlan, deny),
				Message:    "refused by the test's admission policy " + name,
				Reason:     ptrTo(metav1.StatusReasonForbidden),
			}},
		},
	}
	Expect(k8sClient.Create(ctx, policy)).To(Succeed())
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	Expect(k8sClient.Create(ctx, binding)).To(Succeed())
	probe := &v1alpha1.LicenseOrder{
		ObjectMeta: objectMeta(ns, policyProbePlan+"-1"),
		Spec: v1alpha1.LicenseOrderSpec{Plan: policyProbePlan, Revision: 1, Change: v1alpha1.ChangeNew, Product: "t-eul",
			PaymentPlan: v1alpha1.Monthly, Quantity: 1, EffectiveDate: "2026-03-10"},
	}
	Eventually(func() error {
		return k8sClient.Create(ctx, probe.DeepCopy(), client.DryRunAll)
	}).Should(MatchError(ContainSubstring(name)), "the API server enforces the test's admission policy")
	return func() {
		Expect(k8sClient.Delete(ctx, binding)).To(Succeed())
		Expect(k8sClient.Delete(ctx, policy)).To(Succeed())
		Eventually(func() error {
			return k8sClient.Create(ctx, probe.DeepCopy(), client.DryRunAll)
		}).Should(Succeed(), "the API server no longer enforces the test's admission policy")
	}
}

func ptrTo[T any](v T) *T { return &v }

var _ = Describe("A plan's identity", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		ns = newNamespace()
	})

	It("orders its own licenses when declared again under a deleted plan's name, and leaves the deleted plan's orders as they were", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		first := eventuallyReady(ns, "eul")
		Expect(k8sClient.Delete(ctx, first)).To(Succeed())
		Eventually(func(g Gomega) {
			err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "eul"}, &v1alpha1.CustomerLicensePlan{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		}).Should(Succeed())
		old := ordersOf(ns, "eul")
		Expect(charges(ns, "eul")).To(Equal([]string{"eul-1 New 2026-03-10 20.00", "eul-2 Cancellation 2026-03-10 0.00"}))

		By("the name declared again, with 5 licenses")
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 5, v1alpha1.Monthly))).To(Succeed())
		got := eventuallyReady(ns, "eul")
		Expect(got.UID).NotTo(Equal(first.UID))
		Expect(got.Status.Licenses).To(Equal(int32(5)))
		Expect(got.Status.CancelledOn).To(BeEmpty())
		Expect(got.Status.Revision).To(Equal(int64(3)), "the new plan's first order is numbered after the deleted plan's")
		Expect(got.Status.LastOrder).To(Equal("eul-3"))
		Expect(got.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("50.00")), "only the new plan's charges")
		third := getOrder(ns, "eul-3")(Default)
		Expect(third.Spec.Change).To(Equal(v1alpha1.ChangeNew))
		Expect(third.Spec.Quantity).To(Equal(int32(5)))
		Expect(third.Spec.PlanUID).To(Equal(got.UID))

		By("the deleted plan's orders are as they were")
		for _, o := range old {
			now := getOrder(ns, o.Name)(Default)
			Expect(now.ResourceVersion).To(Equal(o.ResourceVersion), "order %s was not written", o.Name)
		}
		Expect(charges(ns, "eul")).To(Equal([]string{"eul-1 New 2026-03-10 20.00", "eul-2 Cancellation 2026-03-10 0.00", "eul-3 New 2026-03-10 50.00"}))

		for _, o := range old {
			Expect(o.Spec.PlanUID).To(Equal(first.UID), "order %s records the plan it belongs to", o.Name)
		}

		By("deleting the new plan records its own Cancellation")
		Expect(k8sClient.Delete(ctx, got)).To(Succeed())
		Eventually(func(g Gomega) {
			err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "eul"}, &v1alpha1.CustomerLicensePlan{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		}).Should(Succeed())
		last := getOrder(ns, "eul-4")(Default)
		Expect(last.Spec.Change).To(Equal(v1alpha1.ChangeCancellation))
		Expect(last.Spec.PreviousQuantity).To(Equal(int32(5)))
		Expect(last.Spec.PlanUID).To(Equal(got.UID))
	})

	It("refuses a plan name longer than 63 characters at admission, naming the limit", func() {
		long := strings.Repeat("a", 64)
		err := k8sClient.Create(ctx, plan(ns, long, "t-eul", 1, v1alpha1.Monthly))
		Expect(err).To(HaveOccurred())
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("metadata.name: a plan's name is at most 63 characters"))

		By("63 characters are ordered")
		Expect(k8sClient.Create(ctx, plan(ns, long[:63], "t-eul", 1, v1alpha1.Monthly))).To(Succeed())
		Expect(eventuallyReady(ns, long[:63]).Status.Licenses).To(Equal(int32(1)))
	})

	It("says so in its Ready condition when the API server refuses its order, without writing its status again and again", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		allow := refuse(ns, "request.resource.resource == 'licenseorders' && object.spec.plan == 'eul'")
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		var p *v1alpha1.CustomerLicensePlan
		Eventually(func(g Gomega) {
			p = getPlan(ns, "eul")(g)
			c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(v1alpha1.ReasonOrderNotPlaced))
			g.Expect(c.Message).To(ContainSubstring("the API server refused to create order eul-1 (New: 2 x t-eul, Monthly)"))
			g.Expect(c.Message).To(ContainSubstring("refused by the test's admission policy"))
			g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, v1alpha1.PlanStalled)).To(BeTrue())
		}).Should(Succeed())
		Expect(ordersOf(ns, "eul")).To(BeEmpty())
		Consistently(func(g Gomega) string {
			return getPlan(ns, "eul")(g).ResourceVersion
		}).WithTimeout(3*time.Second).WithPolling(200*time.Millisecond).Should(Equal(p.ResourceVersion), "the status is written once")

		By("once the API server takes the order, the plan is ordered")
		allow()
		updatePlan(ns, "eul", func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PurchaseReference = "PO-2" })
		got := eventuallyReady(ns, "eul")
		Expect(got.Status.Licenses).To(Equal(int32(2)))
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.PlanStalled)).To(BeNil())
	})

	It("recovers a plan whose first status write was lost after it placed a catch-up Renewal", func() {
		fakeClock.SetTime(at("2026-03-10", 9))
		// A process that places eul-2 and dies before the plan's status write leaves this behind:
		// eul-1 (New) fulfilled and out of the cache, eul-2 (Renewal) open, a plan with no status.
		// The policy refuses the plan's status writes, as the dead process never made them.
		allow := refuse(ns, "request.subResource == 'status' && object.metadata.name == 'eul'")
		p := plan(ns, "eul", "t-eul", 3, v1alpha1.Monthly)
		p.Spec.StartDate = "2025-12-10"
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getOrder(ns, "eul-1")(g).Status.State).To(Equal(v1alpha1.OrderFulfilled))
			g.Expect(getOrder(ns, "eul-2")(g).Spec.Change).To(Equal(v1alpha1.ChangeRenewal))
		}).Should(Succeed())
		Expect(getPlan(ns, "eul")(Default).Status.Revision).To(BeZero(), "the plan has no status")

		By("the status writes are taken again: the plan applies its fulfilled New and renews")
		allow()
		Eventually(func(g Gomega) {
			got := getPlan(ns, "eul")(g)
			g.Expect(readyReason(got)).To(Equal(v1alpha1.ReasonInForce), "plan conditions: %v", got.Status.Conditions)
			g.Expect(got.Status.Term).To(Equal(&v1alpha1.Term{Start: "2026-03-10", End: "2026-04-10"}))
		}).Should(Succeed())
		Expect(charges(ns, "eul")).To(Equal([]string{
			"eul-1 New 2026-03-10 30.00",
			"eul-2 Renewal 2026-01-10 30.00",
			"eul-3 Renewal 2026-02-10 30.00",
			"eul-4 Renewal 2026-03-10 30.00",
		}))
	})
})
