package webhook

import (
	"context"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/lookup"
	"github.com/partnerops/license-operator/internal/testenv"
)

// reads counts the reads of a reader.
type reads struct {
	sync.Mutex
	client.Reader
	gets, lists int
}

func (r *reads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.Lock()
	r.gets++
	r.Unlock()
	return r.Reader.Get(ctx, key, obj, opts...)
}

func (r *reads) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	r.Lock()
	r.lists++
	r.Unlock()
	return r.Reader.List(ctx, list, opts...)
}

func (r *reads) count() int {
	r.Lock()
	defer r.Unlock()
	return r.gets + r.lists
}

// store is a cache or an API server holding objs, with the operator's field indexes.
func store(objs ...client.Object) client.Reader {
	return fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(objs...).
		WithIndex(&v1alpha1.LicenseAssignment{}, lookup.AssignmentPlanField, func(o client.Object) []string {
			if a, ok := o.(*v1alpha1.LicenseAssignment); ok {
				return []string{a.Spec.Plan}
			}
			return []string{o.GetLabels()[v1alpha1.PlanLabel]} // a list of metadata only
		}).
		WithIndex(&v1alpha1.LicenseOrder{}, lookup.OrderPlanField, func(o client.Object) []string {
			return []string{o.(*v1alpha1.LicenseOrder).Spec.Plan}
		}).
		WithIndex(&v1alpha1.CustomerLicensePlan{}, lookup.PlanCustomerField, func(o client.Object) []string {
			return []string{o.(*v1alpha1.CustomerLicensePlan).Spec.Customer}
		}).Build()
}

func planOf(quantity int32) *v1alpha1.CustomerLicensePlan {
	return &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: "eul"},
		Spec:       v1alpha1.CustomerLicensePlanSpec{Customer: "Acme", Product: "t-eul", Quantity: quantity, PaymentPlan: v1alpha1.Monthly},
	}
}

func assigned(names ...string) []client.Object {
	var objs []client.Object
	for _, n := range names {
		a := assignment("acme", n, "eul")
		a.Labels = map[string]string{v1alpha1.PlanLabel: "eul"}
		objs = append(objs, a)
	}
	return objs
}

// The assignment webhook judges with the cache: a correct request reads nothing from the API
// server; a plan the cache does not hold yet is read there, and so is a refusal, which stands only
// if the API server's plan and count refuse too.
func TestAssignmentRoomIsJudgedOnTheCacheAndRefusedOnTheAPIServer(t *testing.T) {
	for _, tt := range []struct {
		name        string
		cache, live []client.Object
		refused     string // a refusal containing this, "" to admit
		warning     string
		liveReads   int
	}{
		{"a license is free in the cache", append(assigned("a1"), planOf(2)), append(assigned("a1"), planOf(2)), "", "", 0},
		{"a plan the cache does not hold yet", nil, []client.Object{planOf(2)}, "", "", 1},
		{"a plan that does not exist", nil, nil, "", `plan "eul" does not exist (yet)`, 1},
		{"full in the cache, increased on the API server", append(assigned("a1"), planOf(1)), append(assigned("a1"), planOf(2)), "", "", 2},
		{"full in the cache, an assignment deleted on the API server", append(assigned("a1", "a2"), planOf(2)), append(assigned("a1"), planOf(2)), "", "", 2},
		{"full in both", append(assigned("a1", "a2"), planOf(2)), append(assigned("a1", "a2"), planOf(2)), `plan "eul" has 0 licenses in force and 2 assigned, and its spec.quantity is 2`, "", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			live := &reads{Reader: store(tt.live...)}
			v := &assignmentValidator{client: store(tt.cache...), live: live}
			a := assignment("acme", "new", "eul")
			a.Labels = map[string]string{v1alpha1.PlanLabel: "eul"}
			warnings, err := v.ValidateCreate(context.Background(), a)
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refused != "" && (err == nil || !strings.Contains(err.Error(), tt.refused)):
				t.Errorf("%v, want a refusal containing %q", err, tt.refused)
			}
			if tt.warning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tt.warning)) {
				t.Errorf("warnings %q, want one containing %q", warnings, tt.warning)
			}
			if got := live.gets + live.lists; got != tt.liveReads {
				t.Errorf("%d reads of the API server (%d gets, %d lists), want %d", got, live.gets, live.lists, tt.liveReads)
			}
		})
	}
}

// The plan webhooks judge a spec with the catalog and the BillingProfile the cache holds: a correct
// plan reads nothing from the API server, and a refusal stands only on the API server's catalog.
func TestPlanSpecIsJudgedOnTheCacheAndRefusedOnTheAPIServer(t *testing.T) {
	clk := clocktesting.NewFakeClock(testenv.SuiteStart)
	monthly := product("t-eul", "T-EUL", "VMR", "Monthly", "10.00")
	prepaid := product("t-eul", "T-EUL", "VMR", "Monthly", "10.00", "Prepay1Y", "100.00")
	profile := &v1alpha1.BillingProfile{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultBillingProfileName},
		Spec: v1alpha1.BillingProfileSpec{Currency: "EUR", DefaultCostCenter: "sales", CostCenters: []v1alpha1.CostCenter{{Name: "sales"}}}}
	prepay := func() *v1alpha1.CustomerLicensePlan {
		p := planOf(3)
		p.Spec.PaymentPlan = v1alpha1.Prepay1Y
		p.Spec.StartDate = "2026-03-10"
		return p
	}
	for _, tt := range []struct {
		name        string
		cache, live []client.Object
		plan        *v1alpha1.CustomerLicensePlan
		refused     string
		liveReads   int
	}{
		{"a correct plan", []client.Object{prepaid, profile}, []client.Object{prepaid, profile}, prepay(), "", 0},
		{"a price the cache does not hold yet", []client.Object{monthly, profile}, []client.Object{prepaid, profile}, prepay(), "", 2},
		{"a price nobody offers", []client.Object{monthly, profile}, []client.Object{monthly, profile}, prepay(), "PaymentPlanNotOffered", 2},
		{"a product the cache does not hold yet", []client.Object{profile}, []client.Object{prepaid, profile}, prepay(), "", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			live := &reads{Reader: store(tt.live...)}
			v := &planValidator{client: store(tt.cache...), live: live, clock: clk}
			_, err := v.validate(context.Background(), tt.plan)
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refused != "" && (err == nil || !strings.Contains(err.Error(), tt.refused)):
				t.Errorf("%v, want a refusal containing %q", err, tt.refused)
			}
			if got := live.gets + live.lists; got != tt.liveReads {
				t.Errorf("%d reads of the API server (%d gets, %d lists), want %d", got, live.gets, live.lists, tt.liveReads)
			}
		})
	}
}
