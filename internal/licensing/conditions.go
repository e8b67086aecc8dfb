package licensing

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Readiness is what the Ready condition of a plan is computed from.
type Readiness struct {
	// Status is the plan's status with its fulfilled orders applied.
	Status v1alpha1.CustomerLicensePlanStatus
	// Needed is the order the spec still needs, when it needs one.
	Needed *ChangeRequest
	// InFlight is the plan's order that is placed and not yet applied, if any.
	InFlight *v1alpha1.LicenseOrder
	// Rejected is the last rejected order for the spec, when the needed change was refused.
	Rejected *v1alpha1.LicenseOrder
	// Refusal is why the needed change is not ordered again, when it was refused.
	Refusal Verdict
	// RenewalRefusal is why the plan's renewal was refused, when it was.
	RenewalRefusal Verdict
	// AwaitedPlans names the plans still being ordered that the needed change requires.
	AwaitedPlans []string
	// SpecRefusal is why the spec breaks a rule when it needs no order (ValidateSpec).
	SpecRefusal Verdict
	// Cancelling is true once the plan is deleted: its cancellation is being recorded.
	Cancelling bool
	// NoProfile is true when no BillingProfile exists.
	NoProfile bool
}

// ReadyCondition computes a plan's Ready condition.
func ReadyCondition(r Readiness) metav1.Condition {
	c := metav1.Condition{Type: v1alpha1.PlanReady, Status: metav1.ConditionFalse}
	inFlight := r.InFlight
	switch {
	case r.Cancelling:
		c.Reason = v1alpha1.ReasonCancelled
		c.Message = "the plan was deleted: its Cancellation order is being recorded; its orders stay as history (kubectl get lo -l " + v1alpha1.PlanLabel + ")"
	case inFlight != nil && inFlight.Status.State == v1alpha1.OrderAwaitingApproval:
		c.Reason = v1alpha1.ReasonAwaitingApproval
		c.Message = fmt.Sprintf("order %s (%s) waits for a person's approval: kubectl describe lo %s", inFlight.Name, describeOrder(inFlight.Spec), inFlight.Name)
	case inFlight != nil && IsTermOrder(inFlight.Spec.Change) && r.Needed == nil && HasPlanInForce(r.Status):
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonInForce
		c.Message = fmt.Sprintf("%s Order %s (%s) takes effect on %s.", inForce(r.Status), inFlight.Name, inFlight.Spec.Change, inFlight.Spec.EffectiveDate)
	case inFlight != nil && IsTermOrder(inFlight.Spec.Change) && r.Needed != nil:
		c.Reason = v1alpha1.ReasonOrderPending
		c.Message = fmt.Sprintf("the change (%s) will be ordered once order %s (%s) takes effect on %s", describeRequest(*r.Needed), inFlight.Name, inFlight.Spec.Change, inFlight.Spec.EffectiveDate)
	case inFlight != nil:
		c.Reason = v1alpha1.ReasonOrderPending
		c.Message = fmt.Sprintf("order %s (%s) is being processed", inFlight.Name, describeOrder(inFlight.Spec))
	case r.Needed != nil && !r.Refusal.Passed():
		c.Reason = v1alpha1.ReasonOrderRejected
		name := "the order"
		if r.Rejected != nil {
			name = "order " + r.Rejected.Name
		}
		c.Message = fmt.Sprintf("%s (%s) was rejected, %s: %s. %s", name, describeRequest(*r.Needed), r.Refusal.Reason, r.Refusal.Message, inForce(r.Status))
	case r.Needed != nil && len(r.AwaitedPlans) > 0:
		c.Reason = v1alpha1.ReasonOrderPending
		c.Message = fmt.Sprintf("the order (%s) waits for the required plan %s, which is being ordered", describeRequest(*r.Needed), strings.Join(r.AwaitedPlans, ", "))
	case r.Needed != nil:
		c.Reason = v1alpha1.ReasonOrderPending
		c.Message = fmt.Sprintf("an order (%s) is about to be placed", describeRequest(*r.Needed))
	case !r.SpecRefusal.Passed():
		c.Reason = v1alpha1.ReasonInvalidSpec
		c.Message = fmt.Sprintf("%s: %s. The plan's next order would be refused for it. %s", r.SpecRefusal.Reason, r.SpecRefusal.Message, inForce(r.Status))
	case r.Status.ExpiredOn != "" && r.Status.PaymentPlan == v1alpha1.Trial:
		c.Reason = v1alpha1.ReasonExpired
		c.Message = fmt.Sprintf("the trial of %s ended on %s: no licenses are in force. To keep the service, set spec.paymentPlan to Monthly or a Prepay plan the product offers: that orders it as a new plan.",
			r.Status.Product, r.Status.ExpiredOn)
	case r.Status.ExpiredOn != "":
		c.Reason = v1alpha1.ReasonExpired
		c.Message = fmt.Sprintf("the plan expired on %s: no licenses are in force. Change its product, quantity, payment plan or renewal policy to order a new plan (a new costCenter or purchaseReference alone orders nothing).", r.Status.ExpiredOn)
	default:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonInForce
		c.Message = inForce(r.Status)
		if pc := r.Status.PendingChange; pc != nil {
			c.Message += fmt.Sprintf(" A change takes effect on %s.", pc.EffectiveDate)
		}
		if !r.RenewalRefusal.Passed() {
			c.Message += fmt.Sprintf(" The renewal was refused, %s: %s. The plan expires on %s unless that is resolved.",
				r.RenewalRefusal.Reason, r.RenewalRefusal.Message, r.Status.RenewalDate)
		}
	}
	if r.NoProfile {
		c.Message += " No BillingProfile named default exists: the operator bills in EUR, checks no cost center and approves orders automatically."
	}
	return c
}

func inForce(st v1alpha1.CustomerLicensePlanStatus) string {
	if !HasPlanInForce(st) {
		return "No licenses are in force yet."
	}
	s := fmt.Sprintf("%d license%s of %s (%s) in force", st.Licenses, plural(int64(st.Licenses)), st.Product, st.PaymentPlan)
	switch {
	case st.PaymentPlan == v1alpha1.Trial:
		s += fmt.Sprintf(", free until the trial ends on %s. To keep them after that, set spec.paymentPlan to Monthly or a Prepay plan the product offers before then (a Conversion order, billed from that day)", st.RenewalDate)
	case st.RenewalDate == "":
	case st.RenewalAction == v1alpha1.RenewalActionExpire:
		s += ", expiring on " + string(st.RenewalDate)
	default:
		s += ", renewing on " + string(st.RenewalDate)
	}
	return s + "."
}

func describeOrder(o v1alpha1.LicenseOrderSpec) string {
	return describeRequest(ChangeRequest{Change: o.Change, Product: o.Product, PaymentPlan: o.PaymentPlan, Quantity: o.Quantity})
}

func describeRequest(r ChangeRequest) string {
	return fmt.Sprintf("%s: %d x %s, %s", r.Change, r.Quantity, r.Product, r.PaymentPlan)
}

// SetProgressConditions sets the Reconciling and Stalled conditions from the Ready condition, the
// abnormal-true conditions kstatus (Flux, kpt, cli-utils) reads, and removes them when they are
// not True:
//   - Reconciling while the operator puts the spec in force on its own: an order is about to be
//     placed, is being processed or waits for an approval, or the plan's Cancellation is being
//     recorded;
//   - Stalled when only a person can put the spec in force: its order was rejected or denied, the
//     spec breaks a rule, the plan expired, or the API server refused to create its order.
//
// They carry Ready's reason and message, so that every tool shows the same sentence.
func SetProgressConditions(conds *[]metav1.Condition, ready metav1.Condition, generation int64, now time.Time) {
	reconciling, stalled := false, false
	if ready.Status != metav1.ConditionTrue {
		switch ready.Reason {
		case v1alpha1.ReasonOrderPending, v1alpha1.ReasonAwaitingApproval, v1alpha1.ReasonCancelled:
			reconciling = true
		case v1alpha1.ReasonOrderRejected, v1alpha1.ReasonInvalidSpec, v1alpha1.ReasonExpired, v1alpha1.ReasonOrderNotPlaced:
			stalled = true
		}
	}
	for _, c := range []struct {
		kind string
		set  bool
	}{{v1alpha1.PlanReconciling, reconciling}, {v1alpha1.PlanStalled, stalled}} {
		if !c.set {
			meta.RemoveStatusCondition(conds, c.kind)
			continue
		}
		SetCondition(conds, metav1.Condition{Type: c.kind, Status: metav1.ConditionTrue, Reason: ready.Reason, Message: ready.Message}, generation, now)
	}
}

// UsageCoveredCondition computes a plan's UsageCovered condition.
func UsageCoveredCondition(licenses, assigned int32) metav1.Condition {
	if assigned <= licenses {
		return metav1.Condition{Type: v1alpha1.PlanUsageCovered, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonCovered,
			Message: fmt.Sprintf("%d of %d licenses in force are assigned", assigned, licenses)}
	}
	return metav1.Condition{Type: v1alpha1.PlanUsageCovered, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonOverAssigned,
		Message: fmt.Sprintf("%d licenses are assigned but only %d are in force: raise spec.quantity to at least %d or remove %d LicenseAssignment%s",
			assigned, licenses, assigned, assigned-licenses, plural(int64(assigned-licenses)))}
}

// AssignedCondition computes the Assigned condition of the assignment at position index (0 for the
// oldest) among the assignments of the plan named planName; plan is nil when it does not exist. The
// oldest assignments are covered by the licenses in force. It returns false while the plan's first
// order is being placed: the assignment waits for it, rather than being written PlanNotActive and
// then Licensed. The messages name no counts, so that a change of the licenses or of other
// assignments rewrites only the assignments whose condition really changes.
func AssignedCondition(planName string, plan *v1alpha1.CustomerLicensePlan, index int) (metav1.Condition, bool) {
	c := metav1.Condition{Type: v1alpha1.AssignmentAssigned, Status: metav1.ConditionFalse}
	licenses := int32(0)
	if plan != nil && IsActive(plan.Status) {
		licenses = plan.Status.Licenses
	}
	switch {
	case plan == nil:
		c.Reason = v1alpha1.ReasonPlanNotFound
		c.Message = fmt.Sprintf("no CustomerLicensePlan named %q exists in this namespace: create it or fix spec.plan", planName)
	case licenses <= 0 && beingOrdered(plan):
		return c, false
	case licenses <= 0:
		c.Reason = v1alpha1.ReasonPlanNotActive
		c.Message = fmt.Sprintf("plan %q has no licenses in force (kubectl describe clp %s)", planName, planName)
	case int32(index) >= licenses:
		c.Reason = v1alpha1.ReasonOverLicensed
		c.Message = fmt.Sprintf("the licenses of plan %q are taken by older assignments: raise the plan's quantity or remove an assignment", planName)
	default:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonLicensed
		c.Message = fmt.Sprintf("covered by a license of plan %q", planName)
	}
	return c, true
}

// beingOrdered reports whether a plan that never had licenses in force is still being ordered: no
// order of it was refused or awaits a person.
func beingOrdered(plan *v1alpha1.CustomerLicensePlan) bool {
	if plan.Status.Revision > 0 {
		return false
	}
	for _, c := range plan.Status.Conditions {
		if c.Type == v1alpha1.PlanReady {
			return c.Reason == v1alpha1.ReasonOrderPending
		}
	}
	return true
}
