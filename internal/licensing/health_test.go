package licensing

import (
	"fmt"
	"os"
	"testing"

	lua "github.com/yuin/gopher-lua"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// TestHealth computes, for each state of a plan the decision writes, the status kstatus gives it
// (what Flux and kpt wait on) and the health Argo CD's check in config/argocd gives it, run by the
// Lua interpreter Argo CD embeds.
func TestHealth(t *testing.T) {
	plans := argoHealthScripts(t)
	decided := func(s PlanSnapshot) *v1alpha1.CustomerLicensePlan {
		s.Plan.Status = DecidePlan(s).Status
		return s.Plan
	}
	inForce := pvStatus(10)
	renewalWindow := pvStatus(10)
	renewalWindow.Term = &v1alpha1.Term{Start: "2026-02-15", End: "2026-03-15"}
	for _, tt := range []struct {
		name    string
		plan    *v1alpha1.CustomerLicensePlan
		kstatus status.Status
		argo    string
	}{
		{name: "created, not yet looked at (status as the API server defaults it)",
			plan:    dpPlan(v1alpha1.CustomerLicensePlanStatus{}),
			kstatus: status.InProgressStatus, argo: "Progressing"},
		{name: "its New order awaits an approval",
			plan:    decided(dpSnapshot(dpPlan(v1alpha1.CustomerLicensePlanStatus{}), dpOrder(1, v1alpha1.ChangeNew, 10, v1alpha1.OrderAwaitingApproval, ""))),
			kstatus: status.InProgressStatus, argo: "Progressing"},
		{name: "its New order waits for a required plan",
			plan: decided(func() PlanSnapshot {
				addOn := pvProduct("10.00")
				addOn.Requires = []v1alpha1.Requirement{{AnyOf: []string{"connect"}}}
				s := dpSnapshot(dpPlan(v1alpha1.CustomerLicensePlanStatus{}))
				s.Catalog["ep-plus"] = addOn
				s.Ordering = []ActivePlan{{Name: "conn", Product: "connect", Licenses: 1}}
				return s
			}()),
			kstatus: status.InProgressStatus, argo: "Progressing"},
		{name: "in force",
			plan:    decided(dpSnapshot(dpPlan(v1alpha1.CustomerLicensePlanStatus{}), dpOrder(1, v1alpha1.ChangeNew, 10, v1alpha1.OrderFulfilled, ""))),
			kstatus: status.CurrentStatus, argo: "Healthy"},
		{name: "in force, its renewal placed",
			plan:    decided(dpSnapshot(dpPlan(renewalWindow), dpOrder(2, v1alpha1.ChangeRenewal, 10, v1alpha1.OrderPending, ""))),
			kstatus: status.CurrentStatus, argo: "Healthy"},
		{name: "in force, its spec changed and not yet acted on",
			plan: func() *v1alpha1.CustomerLicensePlan {
				p := decided(dpSnapshot(dpPlan(inForce)))
				p.Generation, p.Spec.Quantity = 2, 12
				return p
			}(),
			kstatus: status.InProgressStatus, argo: "Progressing"},
		{name: "a change refused by a rule",
			plan: decided(func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce), dpOrder(2, v1alpha1.ChangeIncreaseQuantity, 12, v1alpha1.OrderRejected, v1alpha1.ReasonUsageBelowMinimum))
				s.Plan.Spec.Quantity = 12
				s.Revalidated = &Verdict{Reason: v1alpha1.ReasonUsageBelowMinimum, Message: "14 licenses are assigned"}
				return s
			}()),
			kstatus: status.FailedStatus, argo: "Degraded"},
		{name: "a change denied by a person",
			plan: decided(func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce), dpOrder(2, v1alpha1.ChangeIncreaseQuantity, 12, v1alpha1.OrderRejected, v1alpha1.ReasonDenied))
				s.Plan.Spec.Quantity = 12
				return s
			}()),
			kstatus: status.FailedStatus, argo: "Degraded"},
		{name: "a spec that breaks a rule (an unknown cost center)",
			plan: decided(func() PlanSnapshot {
				s := dpSnapshot(dpPlan(inForce))
				s.Plan.Spec.CostCenter = "nowhere"
				s.Profile = pvProfile("EUR", v1alpha1.AutomaticApproval, "")
				return s
			}()),
			kstatus: status.FailedStatus, argo: "Degraded"},
		{name: "expired",
			plan: decided(func() PlanSnapshot {
				st := pvStatus(0)
				st.ExpiredOn, st.LastOrder = "2026-03-01", "eul-1"
				last := dpOrder(1, v1alpha1.ChangeExpiry, 0, v1alpha1.OrderFulfilled, "")
				s := dpSnapshot(dpPlan(st))
				s.LastApplied = &last
				return s
			}()),
			kstatus: status.FailedStatus, argo: "Degraded"},
		{name: "deleted, its Cancellation being recorded",
			plan: decided(func() PlanSnapshot {
				p := dpPlan(inForce)
				p.DeletionTimestamp = &metav1.Time{Time: pvNow}
				return dpSnapshot(p)
			}()),
			kstatus: status.TerminatingStatus, argo: "Progressing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := asServed(t, tt.plan)
			res, err := status.Compute(u)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.kstatus {
				t.Errorf("kstatus = %s (%s), want %s", res.Status, res.Message, tt.kstatus)
			}
			health, message := runHealth(t, plans["licensing.partnerops.io_CustomerLicensePlan"], u)
			if health != tt.argo {
				t.Errorf("Argo CD health = %s (%s), want %s", health, message, tt.argo)
			}
			if message == "" {
				t.Error("Argo CD health has no message")
			}
		})
	}
}

func TestAssignmentHealth(t *testing.T) {
	scripts := argoHealthScripts(t)
	for _, tt := range []struct {
		name string
		plan *v1alpha1.CustomerLicensePlan
		want string
	}{
		{name: "covered", plan: dpPlan(pvStatus(10)), want: "Healthy"},
		{name: "the plan has no licenses in force", plan: dpPlan(pvStatus(0)), want: "Degraded"},
		{name: "no plan", want: "Degraded"},
		{name: "not judged yet", want: "Progressing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &v1alpha1.LicenseAssignment{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "acme"}, Spec: v1alpha1.LicenseAssignmentSpec{Plan: "eul"}}
			if tt.want != "Progressing" {
				c, _ := AssignedCondition("eul", tt.plan, 0)
				a.Status.Conditions = []metav1.Condition{c}
			}
			if got, msg := runHealth(t, scripts["licensing.partnerops.io_LicenseAssignment"], asServed(t, a)); got != tt.want {
				t.Errorf("Argo CD health = %s (%s), want %s", got, msg, tt.want)
			}
		})
	}
}

// asServed is obj as a client reads it from the API server: JSON, with a plan's status defaulted
// to {observedGeneration: 0} when it has none, as the CRD's schema defaults it.
func asServed(t *testing.T, obj any) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	if _, ok := obj.(*v1alpha1.CustomerLicensePlan); ok {
		u.SetAPIVersion(v1alpha1.GroupVersion.String())
		u.SetKind("CustomerLicensePlan")
		if _, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration"); !found {
			if err := unstructured.SetNestedField(u.Object, int64(0), "status", "observedGeneration"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return u
}

// argoHealthScripts reads the health checks of config/argocd/argocd-cm.yaml, by group_Kind.
func argoHealthScripts(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../config/argocd/argocd-cm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for key, script := range cm.Data {
		const prefix = "resource.customizations.health."
		if len(key) > len(prefix) && key[:len(prefix)] == prefix {
			out[key[len(prefix):]] = script
		}
	}
	if len(out) != 2 {
		t.Fatalf("config/argocd/argocd-cm.yaml has %d health checks, want 2: %v", len(out), out)
	}
	return out
}

// runHealth runs an Argo CD health check on u the way Argo CD does: the object is the global obj,
// and the script returns a table with status and message.
func runHealth(t *testing.T, script string, u *unstructured.Unstructured) (string, string) {
	t.Helper()
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("obj", toLua(L, u.Object))
	if err := L.DoString(script); err != nil {
		t.Fatalf("the health check fails: %v", err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the health check returns %s, not a table", L.Get(-1).Type())
	}
	return lua.LVAsString(hs.RawGetString("status")), lua.LVAsString(hs.RawGetString("message"))
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case nil:
		return lua.LNil
	default:
		return lua.LString(fmt.Sprint(v))
	}
}
