package licensing

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/google/go-cmp/cmp"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

const ctNoProfileNote = " No BillingProfile named default exists: the operator bills in EUR, checks no cost center and approves orders automatically."

// ctStatus is a renewing Monthly plan of 10 ep-plus licenses in force until 2026-04-01.
func ctStatus() v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		Product: "ep-plus", Licenses: 10, PaymentPlan: v1alpha1.Monthly, PricePerLicense: "10.00",
		StartDate: "2026-01-01", Term: &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"},
		RenewalDate: "2026-04-01", RenewalAction: v1alpha1.RenewalActionRenew, Revision: 3, LastOrder: "web-3",
	}
}

func ctWith(f func(*v1alpha1.CustomerLicensePlanStatus)) v1alpha1.CustomerLicensePlanStatus {
	st := ctStatus()
	f(&st)
	return st
}

// ctOrder is order web-4 in the given state.
func ctOrder(change v1alpha1.OrderChange, qty int32, state v1alpha1.OrderState) *v1alpha1.LicenseOrder {
	o := &v1alpha1.LicenseOrder{
		Spec: v1alpha1.LicenseOrderSpec{Plan: "web", Revision: 4, Change: change, Product: "ep-plus",
			PaymentPlan: v1alpha1.Monthly, Quantity: qty, EffectiveDate: "2026-04-01"},
		Status: v1alpha1.LicenseOrderStatus{State: state},
	}
	o.Name = "web-4"
	return o
}

func ctRequest(change v1alpha1.OrderChange, qty int32) *ChangeRequest {
	return &ChangeRequest{Change: change, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly, Quantity: qty,
		PreviousQuantity: 10, EffectiveDate: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)}
}

func TestReadyCondition(t *testing.T) {
	usage := Verdict{Reason: v1alpha1.ReasonUsageBelowMinimum, Message: "quantity 3 does not cover the 5 licenses assigned"}
	retired := Verdict{Reason: v1alpha1.ReasonProductNotOrderable, Message: "product is Retired"}
	expired := ctWith(func(st *v1alpha1.CustomerLicensePlanStatus) { st.Licenses, st.ExpiredOn = 0, "2026-04-01" })
	tests := []struct {
		name        string
		r           Readiness
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage string
	}{
		{
			name:        "order in flight is pending",
			r:           Readiness{Status: ctStatus(), InFlight: ctOrder(v1alpha1.ChangeIncreaseQuantity, 13, v1alpha1.OrderPending)},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonOrderPending,
			wantMessage: "order web-4 (IncreaseQuantity: 13 x ep-plus, Monthly) is being processed",
		},
		{
			name:        "order in flight without a state yet is pending",
			r:           Readiness{Status: ctStatus(), InFlight: ctOrder(v1alpha1.ChangeIncreaseQuantity, 13, "")},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonOrderPending,
			wantMessage: "order web-4 (IncreaseQuantity: 13 x ep-plus, Monthly) is being processed",
		},
		{
			name:        "order in flight awaits approval",
			r:           Readiness{Status: ctStatus(), InFlight: ctOrder(v1alpha1.ChangeIncreaseQuantity, 13, v1alpha1.OrderAwaitingApproval)},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonAwaitingApproval,
			wantMessage: "order web-4 (IncreaseQuantity: 13 x ep-plus, Monthly) waits for a person's approval: kubectl describe lo web-4",
		},
		{
			name: "order in flight wins over a refusal",
			r: Readiness{Status: ctStatus(), InFlight: ctOrder(v1alpha1.ChangeDecreaseQuantity, 3, v1alpha1.OrderPending),
				Needed: ctRequest(v1alpha1.ChangeDecreaseQuantity, 3), Refusal: usage},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonOrderPending,
			wantMessage: "order web-4 (DecreaseQuantity: 3 x ep-plus, Monthly) is being processed",
		},
		{
			name: "cancelling wins over everything",
			r: Readiness{Status: ctStatus(), Cancelling: true, InFlight: ctOrder(v1alpha1.ChangeIncreaseQuantity, 13, v1alpha1.OrderAwaitingApproval),
				Needed: ctRequest(v1alpha1.ChangeDecreaseQuantity, 3), Refusal: usage},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonCancelled,
			wantMessage: "the plan was deleted: its Cancellation order is being recorded; its orders stay as history (kubectl get lo -l licensing.partnerops.io/plan)",
		},
		{
			name:        "renewal in flight with nothing needed is in force",
			r:           Readiness{Status: ctStatus(), InFlight: ctOrder(v1alpha1.ChangeRenewal, 10, v1alpha1.OrderPending)},
			wantStatus:  metav1.ConditionTrue,
			wantReason:  v1alpha1.ReasonInForce,
			wantMessage: "10 licenses of ep-plus (Monthly) in force, renewing on 2026-04-01. Order web-4 (Renewal) takes effect on 2026-04-01.",
		},
		{
			name: "expiry in flight with nothing needed is in force until it takes effect",
			r: Readiness{Status: ctWith(func(st *v1alpha1.CustomerLicensePlanStatus) { st.RenewalAction = v1alpha1.RenewalActionExpire }),
				InFlight: ctOrder(v1alpha1.ChangeExpiry, 0, v1alpha1.OrderPending)},
			wantStatus:  metav1.ConditionTrue,
			wantReason:  v1alpha1.ReasonInForce,
			wantMessage: "10 licenses of ep-plus (Monthly) in force, expiring on 2026-04-01. Order web-4 (Expiry) takes effect on 2026-04-01.",
		},
		{
			name:        "renewal in flight with a change needed: the change waits",
			r:           Readiness{Status: ctStatus(), InFlight: ctOrder(v1alpha1.ChangeRenewal, 10, v1alpha1.OrderPending), Needed: ctRequest(v1alpha1.ChangeIncreaseQuantity, 13)},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonOrderPending,
			wantMessage: "the change (IncreaseQuantity: 13 x ep-plus, Monthly) will be ordered once order web-4 (Renewal) takes effect on 2026-04-01",
		},
		{
			name:        "renewal awaiting approval",
			r:           Readiness{Status: ctStatus(), InFlight: ctOrder(v1alpha1.ChangeRenewal, 10, v1alpha1.OrderAwaitingApproval)},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonAwaitingApproval,
			wantMessage: "order web-4 (Renewal: 10 x ep-plus, Monthly) waits for a person's approval: kubectl describe lo web-4",
		},
		{
			name: "needed change refused: rejected with the reason and what is in force",
			r: Readiness{Status: ctStatus(), Needed: ctRequest(v1alpha1.ChangeDecreaseQuantity, 3),
				Rejected: ctOrder(v1alpha1.ChangeDecreaseQuantity, 3, v1alpha1.OrderRejected), Refusal: usage},
			wantStatus: metav1.ConditionFalse,
			wantReason: v1alpha1.ReasonOrderRejected,
			wantMessage: "order web-4 (DecreaseQuantity: 3 x ep-plus, Monthly) was rejected, UsageBelowMinimum: " +
				"quantity 3 does not cover the 5 licenses assigned. 10 licenses of ep-plus (Monthly) in force, renewing on 2026-04-01.",
		},
		{
			name: "needed new plan refused without a rejected order",
			r: Readiness{Status: v1alpha1.CustomerLicensePlanStatus{}, Needed: ctRequest(v1alpha1.ChangeNew, 10),
				Refusal: Verdict{Reason: v1alpha1.ReasonUnknownProduct, Message: `product "ep-plus" is not in the catalog`}},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonOrderRejected,
			wantMessage: `the order (New: 10 x ep-plus, Monthly) was rejected, UnknownProduct: product "ep-plus" is not in the catalog. No licenses are in force yet.`,
		},
		{
			name:        "needed change without refusal is about to be ordered",
			r:           Readiness{Status: v1alpha1.CustomerLicensePlanStatus{}, Needed: ctRequest(v1alpha1.ChangeNew, 10)},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonOrderPending,
			wantMessage: "an order (New: 10 x ep-plus, Monthly) is about to be placed",
		},
		{
			name:        "expired plan with a new plan needed is pending",
			r:           Readiness{Status: expired, Needed: ctRequest(v1alpha1.ChangeNew, 10)},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonOrderPending,
			wantMessage: "an order (New: 10 x ep-plus, Monthly) is about to be placed",
		},
		{
			name:        "expired plan",
			r:           Readiness{Status: expired},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonExpired,
			wantMessage: "the plan expired on 2026-04-01: no licenses are in force. Change its product, quantity, payment plan or renewal policy to order a new plan (a new costCenter or purchaseReference alone orders nothing).",
		},
		{
			name:        "nothing needed: in force",
			r:           Readiness{Status: ctStatus()},
			wantStatus:  metav1.ConditionTrue,
			wantReason:  v1alpha1.ReasonInForce,
			wantMessage: "10 licenses of ep-plus (Monthly) in force, renewing on 2026-04-01.",
		},
		{
			name:        "in force and expiring",
			r:           Readiness{Status: ctWith(func(st *v1alpha1.CustomerLicensePlanStatus) { st.RenewalAction = v1alpha1.RenewalActionExpire })},
			wantStatus:  metav1.ConditionTrue,
			wantReason:  v1alpha1.ReasonInForce,
			wantMessage: "10 licenses of ep-plus (Monthly) in force, expiring on 2026-04-01.",
		},
		{
			name: "in force with a pending change mentions its date",
			r: Readiness{Status: ctWith(func(st *v1alpha1.CustomerLicensePlanStatus) {
				q := int32(7)
				st.PendingChange = &v1alpha1.PendingChange{Quantity: &q, EffectiveDate: "2026-04-01"}
			})},
			wantStatus:  metav1.ConditionTrue,
			wantReason:  v1alpha1.ReasonInForce,
			wantMessage: "10 licenses of ep-plus (Monthly) in force, renewing on 2026-04-01. A change takes effect on 2026-04-01.",
		},
		{
			name: "one license of a plan without a term",
			r: Readiness{Status: ctWith(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses, st.PaymentPlan, st.Term, st.RenewalDate = 1, v1alpha1.OneTime, nil, ""
			})},
			wantStatus:  metav1.ConditionTrue,
			wantReason:  v1alpha1.ReasonInForce,
			wantMessage: "1 license of ep-plus (OneTime) in force.",
		},
		{
			name:       "in force with a refused renewal says when it expires",
			r:          Readiness{Status: ctStatus(), RenewalRefusal: retired},
			wantStatus: metav1.ConditionTrue,
			wantReason: v1alpha1.ReasonInForce,
			wantMessage: "10 licenses of ep-plus (Monthly) in force, renewing on 2026-04-01. " +
				"The renewal was refused, ProductNotOrderable: product is Retired. The plan expires on 2026-04-01 unless that is resolved.",
		},
		{
			name:        "no profile: in force with the note",
			r:           Readiness{Status: ctStatus(), NoProfile: true},
			wantStatus:  metav1.ConditionTrue,
			wantReason:  v1alpha1.ReasonInForce,
			wantMessage: "10 licenses of ep-plus (Monthly) in force, renewing on 2026-04-01." + ctNoProfileNote,
		},
		{
			name:        "no profile: pending with the note",
			r:           Readiness{Status: v1alpha1.CustomerLicensePlanStatus{}, Needed: ctRequest(v1alpha1.ChangeNew, 10), NoProfile: true},
			wantStatus:  metav1.ConditionFalse,
			wantReason:  v1alpha1.ReasonOrderPending,
			wantMessage: "an order (New: 10 x ep-plus, Monthly) is about to be placed" + ctNoProfileNote,
		},
		{
			name: "no profile: rejected with the note",
			r: Readiness{Status: ctStatus(), Needed: ctRequest(v1alpha1.ChangeDecreaseQuantity, 3), Refusal: usage, NoProfile: true,
				Rejected: ctOrder(v1alpha1.ChangeDecreaseQuantity, 3, v1alpha1.OrderRejected)},
			wantStatus: metav1.ConditionFalse,
			wantReason: v1alpha1.ReasonOrderRejected,
			wantMessage: "order web-4 (DecreaseQuantity: 3 x ep-plus, Monthly) was rejected, UsageBelowMinimum: " +
				"quantity 3 does not cover the 5 licenses assigned. 10 licenses of ep-plus (Monthly) in force, renewing on 2026-04-01." + ctNoProfileNote,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReadyCondition(tt.r)
			want := metav1.Condition{Type: v1alpha1.PlanReady, Status: tt.wantStatus, Reason: tt.wantReason, Message: tt.wantMessage}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadyCondition (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsageCoveredCondition(t *testing.T) {
	tests := []struct {
		name        string
		licenses    int32
		assigned    int32
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage string
	}{
		{name: "some assigned", licenses: 10, assigned: 7, wantStatus: metav1.ConditionTrue, wantReason: v1alpha1.ReasonCovered,
			wantMessage: "7 of 10 licenses in force are assigned"},
		{name: "all assigned", licenses: 10, assigned: 10, wantStatus: metav1.ConditionTrue, wantReason: v1alpha1.ReasonCovered,
			wantMessage: "10 of 10 licenses in force are assigned"},
		{name: "nothing in force, nothing assigned", licenses: 0, assigned: 0, wantStatus: metav1.ConditionTrue, wantReason: v1alpha1.ReasonCovered,
			wantMessage: "0 of 0 licenses in force are assigned"},
		{name: "two over", licenses: 5, assigned: 7, wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonOverAssigned,
			wantMessage: "7 licenses are assigned but only 5 are in force: raise spec.quantity to at least 7 or remove 2 LicenseAssignments"},
		{name: "one over", licenses: 5, assigned: 6, wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonOverAssigned,
			wantMessage: "6 licenses are assigned but only 5 are in force: raise spec.quantity to at least 6 or remove 1 LicenseAssignment"},
		{name: "assigned to an expired plan", licenses: 0, assigned: 3, wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonOverAssigned,
			wantMessage: "3 licenses are assigned but only 0 are in force: raise spec.quantity to at least 3 or remove 3 LicenseAssignments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UsageCoveredCondition(tt.licenses, tt.assigned)
			want := metav1.Condition{Type: v1alpha1.PlanUsageCovered, Status: tt.wantStatus, Reason: tt.wantReason, Message: tt.wantMessage}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("UsageCoveredCondition(%d, %d) (-want +got):\n%s", tt.licenses, tt.assigned, diff)
			}
		})
	}
}

func TestAssignedCondition(t *testing.T) {
	active := func(licenses int32) *v1alpha1.CustomerLicensePlan {
		return &v1alpha1.CustomerLicensePlan{Status: v1alpha1.CustomerLicensePlanStatus{Product: "p", Revision: 1, Licenses: licenses}}
	}
	ordering := &v1alpha1.CustomerLicensePlan{}
	refused := &v1alpha1.CustomerLicensePlan{Status: v1alpha1.CustomerLicensePlanStatus{
		Conditions: []metav1.Condition{{Type: v1alpha1.PlanReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonOrderRejected}}}}
	expired := active(0)
	expired.Status.ExpiredOn = "2026-03-01"
	tests := []struct {
		name          string
		plan          *v1alpha1.CustomerLicensePlan
		index         int
		wantNone      bool
		wantStatus    metav1.ConditionStatus
		wantReason    string
		wantInMessage []string
	}{
		{name: "plan not found", plan: nil, index: 0, wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonPlanNotFound,
			wantInMessage: []string{`no CustomerLicensePlan named "web"`, "spec.plan"}},
		{name: "plan whose first order is being placed: no condition yet", plan: ordering, index: 0, wantNone: true},
		{name: "plan whose first order was refused", plan: refused, index: 0, wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonPlanNotActive,
			wantInMessage: []string{`plan "web" has no licenses in force`, "kubectl describe clp web"}},
		{name: "plan expired", plan: expired, index: 0, wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonPlanNotActive},
		{name: "first of three", plan: active(3), index: 0, wantStatus: metav1.ConditionTrue, wantReason: v1alpha1.ReasonLicensed,
			wantInMessage: []string{`covered by a license of plan "web"`}},
		{name: "last of three", plan: active(3), index: 2, wantStatus: metav1.ConditionTrue, wantReason: v1alpha1.ReasonLicensed},
		{name: "fourth of three is over-licensed", plan: active(3), index: 3, wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonOverLicensed,
			wantInMessage: []string{`the licenses of plan "web" are taken by older assignments`}},
		{name: "far beyond the licenses is over-licensed", plan: active(3), index: 100, wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonOverLicensed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := AssignedCondition("web", tt.plan, tt.index)
			if ok == tt.wantNone {
				t.Fatalf("AssignedCondition ok = %v, want %v", ok, !tt.wantNone)
			}
			if tt.wantNone {
				return
			}
			if got.Type != v1alpha1.AssignmentAssigned || got.Status != tt.wantStatus || got.Reason != tt.wantReason {
				t.Errorf("AssignedCondition = %s/%s/%s, want %s/%s/%s (%s)", got.Type, got.Status, got.Reason,
					v1alpha1.AssignmentAssigned, tt.wantStatus, tt.wantReason, got.Message)
			}
			for _, s := range tt.wantInMessage {
				if !strings.Contains(got.Message, s) {
					t.Errorf("message %q does not contain %q", got.Message, s)
				}
			}
		})
	}
	// The message of a licensed assignment does not change with the licenses or its position.
	a, _ := AssignedCondition("web", active(3), 0)
	b, _ := AssignedCondition("web", active(30), 7)
	if a != b {
		t.Errorf("a licensed assignment's condition changes with the plan's licenses: %+v, %+v", a, b)
	}
}
