package webhook

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

type rbacBinding struct{ ns, user, role string }

func (b rbacBinding) object() *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: b.ns, Name: b.user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.role},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: b.user}},
	}
}

func (b rbacBinding) roleObject() *rbacv1.RoleBinding {
	rb := b.object()
	rb.RoleRef.Kind = "Role"
	return rb
}

// statusEditorRole may write orders' status but has no verb approve.
func statusEditorRole(ns string) *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "status-editor"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"licenseorders/status"},
			Verbs: []string{"get", "update", "patch"}}},
	}
}

// withProfile creates the BillingProfile for one spec.
func withProfile(spec v1alpha1.BillingProfileSpec) {
	bp := &v1alpha1.BillingProfile{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultBillingProfileName}, Spec: spec}
	Expect(k8sClient.Create(ctx, bp)).To(Succeed())
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, bp))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(bp), &v1alpha1.BillingProfile{}))
		}).Should(BeTrue())
	})
}

func assignment(ns, name, plan string) *v1alpha1.LicenseAssignment {
	return &v1alpha1.LicenseAssignment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.LicenseAssignmentSpec{Plan: plan, Assignee: v1alpha1.Assignee{Type: "User", Name: name + "@example.com"}},
	}
}

func ordersOf(ns, plan string) []v1alpha1.LicenseOrder {
	list := &v1alpha1.LicenseOrderList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{v1alpha1.PlanLabel: plan})).To(Succeed())
	return list.Items
}
