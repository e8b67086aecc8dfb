package cachecfg

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestStripUnread(t *testing.T) {
	p := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{
		Name:          "eul",
		Annotations:   map[string]string{lastApplied: `{"spec":{}}`, v1alpha1.RequestedByAnnotation: "alice"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}}
	out, err := stripUnread(p)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*v1alpha1.CustomerLicensePlan)
	if len(got.ManagedFields) != 0 {
		t.Errorf("managedFields kept: %v", got.ManagedFields)
	}
	if _, ok := got.Annotations[lastApplied]; ok {
		t.Error("the last-applied-configuration annotation is kept")
	}
	if got.Annotations[v1alpha1.RequestedByAnnotation] != "alice" {
		t.Errorf("an annotation the operator reads was dropped: %v", got.Annotations)
	}
}

func TestStripAssignment(t *testing.T) {
	a := &v1alpha1.LicenseAssignment{ObjectMeta: metav1.ObjectMeta{Name: "a1", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: v1alpha1.LicenseAssignmentSpec{Plan: "eul", Assignee: v1alpha1.Assignee{Name: "room-1"}}}
	out, err := stripAssignment(a)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*v1alpha1.LicenseAssignment)
	if got.Spec.Plan != "eul" || got.Spec.Assignee != (v1alpha1.Assignee{}) || len(got.ManagedFields) != 0 {
		t.Errorf("stripAssignment kept %+v (managedFields %v), want the plan alone", got.Spec, got.ManagedFields)
	}
}

func TestOnlyTheEntitlementsSecretsAreCached(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		cached bool
	}{
		{map[string]string{v1alpha1.EntitlementLabel: v1alpha1.EntitlementLabelToken}, true},
		{map[string]string{v1alpha1.EntitlementLabel: v1alpha1.EntitlementLabelSigningKeys}, true},
		{map[string]string{"app": "billing"}, false},
		{nil, false},
	} {
		if got := entitlements.Matches(labels.Set(tc.labels)); got != tc.cached {
			t.Errorf("labels %v: cached %v, want %v", tc.labels, got, tc.cached)
		}
	}
}
