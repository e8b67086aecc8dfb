package licensing

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestBelongsTo(t *testing.T) {
	created := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	p := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: "eul", UID: "new", CreationTimestamp: metav1.NewTime(created)}}
	order := func(plan, uid string, at time.Time) *v1alpha1.LicenseOrder {
		return &v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(at)},
			Spec: v1alpha1.LicenseOrderSpec{Plan: plan, PlanUID: types.UID(uid)}}
	}
	for _, tc := range []struct {
		name string
		o    *v1alpha1.LicenseOrder
		want bool
	}{
		{"its own UID", order("eul", "new", created.Add(time.Hour)), true},
		{"its own UID, whatever the time", order("eul", "new", created.Add(-time.Hour)), true},
		{"an earlier plan of the name", order("eul", "old", created.Add(time.Hour)), false},
		{"another name", order("eul2", "new", created), false},
		{"no UID, placed after the plan was created", order("eul", "", created.Add(time.Second)), true},
		{"no UID, placed in the second the plan was created", order("eul", "", created), true},
		{"no UID, placed before the plan was created", order("eul", "", created.Add(-time.Second)), false},
	} {
		if got := BelongsTo(tc.o, p); got != tc.want {
			t.Errorf("%s: BelongsTo = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOwnOrdersAndNextRevision(t *testing.T) {
	p := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: "eul", UID: "new"}}
	p.Status.Revision = 0
	orders := []v1alpha1.LicenseOrder{
		{Spec: v1alpha1.LicenseOrderSpec{Plan: "eul", PlanUID: "old", Revision: 1}},
		{Spec: v1alpha1.LicenseOrderSpec{Plan: "eul", PlanUID: "old", Revision: 2}},
		{Spec: v1alpha1.LicenseOrderSpec{Plan: "eul", PlanUID: "new", Revision: 3}},
	}
	own, prior := OwnOrders(p, orders)
	if len(own) != 1 || own[0].Spec.Revision != 3 || prior != 2 {
		t.Fatalf("OwnOrders = %v, prior %d; want the order of revision 3, prior 2", own, prior)
	}
	for _, tc := range []struct {
		status, latest, prior, want int64
	}{
		{0, 0, 0, 1},
		{0, 0, 2, 3}, // a plan declared again numbers its orders after the earlier plan's
		{3, 0, 2, 4},
		{3, 5, 2, 6},
		{0, 3, 2, 4},
	} {
		var latest *v1alpha1.LicenseOrder
		if tc.latest > 0 {
			latest = &v1alpha1.LicenseOrder{Spec: v1alpha1.LicenseOrderSpec{Revision: tc.latest}}
		}
		if got := nextRevision(v1alpha1.CustomerLicensePlanStatus{Revision: tc.status}, latest, tc.prior); got != tc.want {
			t.Errorf("nextRevision(status %d, latest %d, prior %d) = %d, want %d", tc.status, tc.latest, tc.prior, got, tc.want)
		}
	}
}
