package webhook

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The plan validator judges a plan's metadata whatever a mutation before it did: only the operator
// removes the cancellation finalizer, and the requested-by annotation names the author of the spec.
func TestPlanValidatorJudgesMetadata(t *testing.T) {
	v := &planValidator{operator: "system:serviceaccount:license-operator-system:license-operator-controller-manager"}
	as := func(user string) context.Context {
		return admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			Operation: admissionv1.Update, UserInfo: authenticationv1.UserInfo{Username: user}}})
	}
	old := &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: "eul", Finalizers: []string{v1alpha1.CancellationFinalizer},
			Annotations: map[string]string{v1alpha1.RequestedByAnnotation: "alice"}},
		Spec: v1alpha1.CustomerLicensePlanSpec{Customer: "Acme", Product: "t-eul", Quantity: 3, PaymentPlan: v1alpha1.Monthly},
	}
	unfinalized := old.DeepCopy()
	unfinalized.Finalizers = nil
	deleting := old.DeepCopy()
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	deletingChanged := deleting.DeepCopy()
	deletingChanged.Spec.Quantity = 4
	forged := old.DeepCopy()
	forged.Annotations[v1alpha1.RequestedByAnnotation] = "mallory"
	labelled := old.DeepCopy()
	labelled.Labels = map[string]string{"team": "sales"}
	for _, tt := range []struct {
		name     string
		user     string
		old, new *v1alpha1.CustomerLicensePlan
		want     string
	}{
		{"a person removes the cancellation finalizer", "alice", old, unfinalized, "metadata.finalizers: the finalizer licensing.partnerops.io/cancellation holds plan eul until its Cancellation order is recorded"},
		{"a person removes it from a plan being deleted", "alice", deleting, func() *v1alpha1.CustomerLicensePlan { p := deleting.DeepCopy(); p.Finalizers = nil; return p }(), "only the operator"},
		{"the operator removes it", v.operator, deleting, func() *v1alpha1.CustomerLicensePlan { p := deleting.DeepCopy(); p.Finalizers = nil; return p }(), ""},
		{"a person changes the spec of a plan being deleted", "alice", deleting, deletingChanged, "spec: plan eul is being deleted"},
		{"requested-by changed without a change of the spec", "alice", old, forged, `metadata.annotations[licensing.partnerops.io/requested-by]: Invalid value: "mallory"`},
		{"another label", "alice", old, labelled, ""},
	} {
		_, err := v.ValidateUpdate(as(tt.user), tt.old, tt.new)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want a refusal containing %q", tt.name, err, tt.want)
		}
	}
}

var _ = Describe("What a person writes in metadata", func() {
	var ns string
	var alice person
	BeforeEach(func() {
		ns = newNamespace()
		alice = as("alice")
	})

	It("never removes a plan's cancellation finalizer, nor changes the spec of a plan being deleted", func() {
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 3, v1alpha1.Monthly))).To(Succeed())
		p := eventuallyInForce(ns, "eul")

		err := mergePatch(alice, p, `{"metadata":{"finalizers":null}}`)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring("metadata.finalizers: the finalizer licensing.partnerops.io/cancellation holds plan eul until its Cancellation order is recorded, and only the operator")))
		Expect(getPlan(Default, ns, "eul").Finalizers).To(ContainElement(v1alpha1.CancellationFinalizer))

		By("a finalizer of one's own may be added, and holds the deleted plan")
		Expect(mergePatch(alice, p, `{"metadata":{"finalizers":["`+v1alpha1.CancellationFinalizer+`","example.com/hold"]}}`)).To(Succeed())
		Expect(alice.Delete(ctx, getPlan(Default, ns, "eul"))).To(Succeed())
		err = mergePatch(alice, getPlan(Default, ns, "eul"), `{"spec":{"quantity":30}}`)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring("spec: plan eul is being deleted")))

		By("the deletion records its Cancellation, and the plan goes once its own finalizer is removed")
		Eventually(func(g Gomega) {
			var changes []v1alpha1.OrderChange
			for _, o := range ordersOf(ns, "eul") {
				changes = append(changes, o.Spec.Change)
			}
			g.Expect(changes).To(ContainElement(v1alpha1.ChangeCancellation))
			g.Expect(getPlan(g, ns, "eul").Finalizers).To(Equal([]string{"example.com/hold"}))
		}).Should(Succeed())
		Expect(mergePatch(alice, getPlan(Default, ns, "eul"), `{"metadata":{"finalizers":null}}`)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "eul"}, &v1alpha1.CustomerLicensePlan{}))
		}).Should(BeTrue())
	})

	It("never changes who requested a plan: the annotation removed comes back", func() {
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 3, v1alpha1.Monthly))).To(Succeed())
		p := eventuallyInForce(ns, "eul")
		Expect(mergePatch(alice, p, `{"metadata":{"annotations":{"licensing.partnerops.io/requested-by":null}}}`)).To(Succeed())
		Expect(getPlan(Default, ns, "eul").Annotations).To(HaveKeyWithValue(v1alpha1.RequestedByAnnotation, "alice"))
	})

	It("never edits an order: its labels, annotations and finalizers are the operator's", func() {
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 1, v1alpha1.Monthly))).To(Succeed())
		eventuallyInForce(ns, "eul")
		admin := as("namespace-admin")
		Expect(k8sClient.Create(ctx, rbacBinding{ns: ns, user: "namespace-admin", role: "cluster-admin"}.object())).To(Succeed())
		for _, patch := range []string{
			`{"metadata":{"labels":{"licensing.partnerops.io/plan":null}}}`,
			`{"metadata":{"labels":{"licensing.partnerops.io/plan":"other"}}}`,
			`{"metadata":{"annotations":{"note":"paid in cash"}}}`,
			`{"metadata":{"finalizers":["example.com/hold"]}}`,
		} {
			err := mergePatch(admin, getOrder(Default, ns, "eul-1"), patch)
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", patch, err)
			Expect(err).To(MatchError(ContainSubstring("orders are history")), patch)
		}
		o := getOrder(Default, ns, "eul-1")
		Expect(o.Labels).To(Equal(map[string]string{v1alpha1.PlanLabel: "eul"}))
		Expect(o.Annotations).To(BeEmpty())
		Expect(o.Finalizers).To(BeEmpty())
		Expect(ordersOf(ns, "eul")).To(HaveLen(1), "the plan label still finds the plan's history")
	})

	It("never writes the status of a plan or an assignment, not even as a cluster admin", func() {
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		p := eventuallyInForce(ns, "eul")
		Expect(alice.Create(ctx, assignment(ns, "a1", "eul"))).To(Succeed())
		admin := as("namespace-admin")
		Expect(k8sClient.Create(ctx, rbacBinding{ns: ns, user: "namespace-admin", role: "cluster-admin"}.object())).To(Succeed())

		err := admin.Status().Patch(ctx, p, client.RawPatch(types.MergePatchType, []byte(`{"status":{"licenses":200,"revision":9}}`)))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring("the status of CustomerLicensePlan eul is the operator's record and only the operator")))
		a := &v1alpha1.LicenseAssignment{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a1"}, a)).To(Succeed())
		err = admin.Status().Patch(ctx, a, client.RawPatch(types.MergePatchType, []byte(`{"status":{"conditions":null}}`)))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring("the status of LicenseAssignment a1 is the operator's record")))
		got := getPlan(Default, ns, "eul")
		Expect(got.Status.Licenses).To(Equal(int32(2)))
		Expect(got.Status.Revision).To(Equal(int64(1)))
	})

	It("keeps an assignment's plan label equal to its spec.plan", func() {
		Expect(alice.Create(ctx, newPlan(ns, "eul", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		Expect(alice.Create(ctx, newPlan(ns, "other", "t-eul", 2, v1alpha1.Monthly))).To(Succeed())
		eventuallyInForce(ns, "eul")
		Expect(alice.Create(ctx, assignment(ns, "a1", "eul"))).To(Succeed())
		a := &v1alpha1.LicenseAssignment{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a1"}, a)).To(Succeed())

		err := mergePatch(alice, a, `{"metadata":{"labels":{"licensing.partnerops.io/plan":"other"}}}`)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring(`metadata.labels[licensing.partnerops.io/plan]: Invalid value: "other": the label mirrors spec.plan ("eul")`)))
		err = mergePatch(alice, a, `{"metadata":{"labels":{"licensing.partnerops.io/plan":null}}}`)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err).To(MatchError(ContainSubstring(`metadata.labels[licensing.partnerops.io/plan]: Required value`)))
		Expect(mergePatch(alice, a, `{"metadata":{"labels":{"room":"berlin"}}}`)).To(Succeed(), "other labels are the user's")
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a1"}, a)).To(Succeed())
		Expect(a.Labels).To(Equal(map[string]string{v1alpha1.PlanLabel: "eul", "room": "berlin"}))

		By("a new assignment gets the label from its spec.plan, whatever it carried, and keeps its own labels")
		a2 := assignment(ns, "a2", "eul")
		a2.Labels = map[string]string{v1alpha1.PlanLabel: "other", "room": "paris"}
		Expect(alice.Create(ctx, a2)).To(Succeed())
		Expect(a2.Labels).To(Equal(map[string]string{v1alpha1.PlanLabel: "eul", "room": "paris"}))
	})
})

var _ = Describe("Separation of duties", func() {
	var ns string
	var carol, bob person
	BeforeEach(func() {
		ns = newNamespace()
		// carol is purchaser and approver in the namespace, with the shipped roles; bob is an approver.
		Expect(k8sClient.Create(ctx, rbacBinding{ns: ns, user: "carol", role: "license-purchaser"}.object())).To(Succeed())
		rb := rbacBinding{ns: ns, user: "carol", role: "license-approver"}.object()
		rb.Name = "carol-approver"
		Expect(k8sClient.Create(ctx, rb)).To(Succeed())
		carol, bob = as("carol"), as("bob")
	})

	awaiting := func(order string) {
		Eventually(func(g Gomega) {
			g.Expect(getOrder(g, ns, order).Status.State).To(Equal(v1alpha1.OrderAwaitingApproval))
		}).Should(Succeed())
	}

	It("keeps an approver from deciding an order they requested, when the BillingProfile asks for it", func() {
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", Approval: v1alpha1.ApprovalPolicy{Mode: v1alpha1.ManualApproval, SeparationOfDuties: true}})
		Expect(carol.Create(ctx, newPlan(ns, "eul", "t-eul", 4, v1alpha1.Monthly))).To(Succeed())
		awaiting("eul-1")
		Expect(getOrder(Default, ns, "eul-1").Spec.RequestedBy).To(Equal("carol"))

		for _, decision := range []string{"True", "False"} {
			err := approve(carol, ns, "eul-1", decision)
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", decision, err)
			Expect(err).To(MatchError(ContainSubstring(`user "carol" requested this order (spec.requestedBy "carol"), and the BillingProfile's approval.separationOfDuties is on: another approver approves or denies it`)))
		}
		Expect(getOrder(Default, ns, "eul-1").Status.State).To(Equal(v1alpha1.OrderAwaitingApproval))
		Expect(approve(bob, ns, "eul-1", "True")).To(Succeed())
		eventuallyInForce(ns, "eul")
		approved := meta.FindStatusCondition(getOrder(Default, ns, "eul-1").Status.Conditions, v1alpha1.OrderApproved)
		Expect(approved.Message).To(HavePrefix("approved by bob"))

		By("carol decides an order bob's change placed")
		Expect(k8sClient.Create(ctx, rbacBinding{ns: ns, user: "bob-purchaser", role: "license-purchaser"}.object())).To(Succeed())
		bobBuys := as("bob-purchaser")
		Expect(mergePatch(bobBuys, getPlan(Default, ns, "eul"), `{"spec":{"quantity":5}}`)).To(Succeed())
		awaiting("eul-2")
		Expect(approve(carol, ns, "eul-2", "True")).To(Succeed())
	})

	It("is off by default: an approver decides their own orders", func() {
		withProfile(v1alpha1.BillingProfileSpec{Currency: "EUR", Approval: v1alpha1.ApprovalPolicy{Mode: v1alpha1.ManualApproval}})
		bp := &v1alpha1.BillingProfile{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: v1alpha1.DefaultBillingProfileName}, bp)).To(Succeed())
		Expect(bp.Spec.Approval.SeparationOfDuties).To(BeFalse())
		Expect(carol.Create(ctx, newPlan(ns, "eul", "t-eul", 4, v1alpha1.Monthly))).To(Succeed())
		awaiting("eul-1")
		Expect(approve(carol, ns, "eul-1", "True")).To(Succeed())
		eventuallyInForce(ns, "eul")
	})
})
