package licensing

import (
	"testing"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func htOrder(rev int64, change v1alpha1.OrderChange, state v1alpha1.OrderState, gen int64) *v1alpha1.LicenseOrder {
	o := &v1alpha1.LicenseOrder{Spec: v1alpha1.LicenseOrderSpec{Revision: rev, Change: change, Product: "p",
		PaymentPlan: v1alpha1.Monthly, Quantity: 5, EffectiveDate: "2026-04-01", PlanGeneration: gen}}
	o.Status.State = state
	if state == v1alpha1.OrderRejected {
		o.Status.Reason = v1alpha1.ReasonUsageBelowMinimum
	}
	return o
}

// htClosed is a rejected order closed for reason, which no rule gave.
func htClosed(rev int64, change v1alpha1.OrderChange, reason string) *v1alpha1.LicenseOrder {
	o := htOrder(rev, change, v1alpha1.OrderRejected, 1)
	o.Status.Reason = reason
	return o
}

func TestInFlightAndNextCancelStep(t *testing.T) {
	st := v1alpha1.CustomerLicensePlanStatus{Revision: 3}
	for _, tt := range []struct {
		name     string
		o        *v1alpha1.LicenseOrder
		inFlight bool
		cancel   CancelStep
	}{
		{"no order above the status's revision, which holds some", nil, false, CancelPlace},
		{"the last order applied", htOrder(3, v1alpha1.ChangeNew, v1alpha1.OrderFulfilled, 1), false, CancelPlace},
		{"a pending order after it", htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderPending, 2), true, CancelWait},
		{"a renewal placed before the term ends", htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderPending, 1), true, CancelWait},
		{"a fulfilled order not yet applied", htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderFulfilled, 2), true, CancelWait},
		{"a rejected order, such as a plan never put in force", htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderRejected, 2), false, CancelPlace},
		{"an order awaiting approval: closed first", htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderAwaitingApproval, 2), true, CancelWait},
		{"the cancellation placed", htOrder(4, v1alpha1.ChangeCancellation, v1alpha1.OrderPending, 2), true, CancelWait},
		{"the cancellation fulfilled", htOrder(4, v1alpha1.ChangeCancellation, v1alpha1.OrderFulfilled, 2), true, CancelRelease},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := InFlight(st, tt.o); got != tt.inFlight {
				t.Errorf("InFlight = %v, want %v", got, tt.inFlight)
			}
			if got := NextCancelStep(st, tt.o); got != tt.cancel {
				t.Errorf("NextCancelStep = %v, want %v", got, tt.cancel)
			}
		})
	}
}

func TestNextCancelStepOfAPlanThatNeverOrdered(t *testing.T) {
	if got := NextCancelStep(v1alpha1.CustomerLicensePlanStatus{}, nil); got != CancelRelease {
		t.Errorf("NextCancelStep = %v, want %v: nothing to withdraw", got, CancelRelease)
	}
}

func TestCancellationRequest(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	spec := v1alpha1.CustomerLicensePlanSpec{Product: "wanted", Quantity: 4, PaymentPlan: v1alpha1.Prepay1Y}
	inForce := v1alpha1.CustomerLicensePlanStatus{Product: "held", Licenses: 7, PaymentPlan: v1alpha1.Monthly, Revision: 2}
	if got, want := CancellationRequest(spec, inForce, now), (ChangeRequest{Change: v1alpha1.ChangeCancellation, Product: "held",
		PaymentPlan: v1alpha1.Monthly, PreviousQuantity: 7, EffectiveDate: Day(now)}); got != want {
		t.Errorf("in force: got %+v, want %+v", got, want)
	}
	if got, want := CancellationRequest(spec, v1alpha1.CustomerLicensePlanStatus{}, now), (ChangeRequest{Change: v1alpha1.ChangeCancellation,
		Product: "wanted", PaymentPlan: v1alpha1.Prepay1Y, EffectiveDate: Day(now)}); got != want {
		t.Errorf("never in force: got %+v, want %+v", got, want)
	}
	// A term that ended unrenewed (its Renewal, or a change, awaited a person; the operator was
	// down): the plan is cancelled at that term end, not on the day it is deleted.
	ended := inForce
	ended.Term = &v1alpha1.Term{Start: "2026-02-01", End: "2026-03-01"}
	if got, want := CancellationRequest(spec, ended, now), (ChangeRequest{Change: v1alpha1.ChangeCancellation, Product: "held",
		PaymentPlan: v1alpha1.Monthly, PreviousQuantity: 7, EffectiveDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}); got != want {
		t.Errorf("term ended unrenewed: got %+v, want %+v", got, want)
	}
	running := inForce
	running.Term = &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"}
	if got := CancellationRequest(spec, running, now); !got.EffectiveDate.Equal(Day(now)) {
		t.Errorf("term running: effective %v, want today %v", got.EffectiveDate, Day(now))
	}
}

func TestRenewalRefusal(t *testing.T) {
	st := v1alpha1.CustomerLicensePlanStatus{Term: &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"}}
	lifted, holds := pass(), fail(v1alpha1.ReasonProductNotOrderable, "retired")
	for _, tt := range []struct {
		name        string
		o           *v1alpha1.LicenseOrder
		revalidated *Verdict
		refused, ok bool
	}{
		{"a person's denial stands", denied(htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderRejected, 1)), &lifted, true, true},
		{"a rule's refusal that still holds", htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderRejected, 1), &holds, true, true},
		{"a rule's refusal that no longer holds", htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderRejected, 1), &lifted, false, true},
		{"a rule's refusal not judged again", htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderRejected, 1), nil, true, true},
		{"no refused renewal", htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderPending, 1), nil, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := RenewalRefusal(tt.o, st, tt.revalidated)
			if ok != tt.ok || (ok && v.Passed() == tt.refused) {
				t.Errorf("RenewalRefusal = %+v, %v; want refused %v, ok %v", v, ok, tt.refused, tt.ok)
			}
		})
	}
}

func denied(o *v1alpha1.LicenseOrder) *v1alpha1.LicenseOrder {
	o.Status.Reason = v1alpha1.ReasonDenied
	return o
}

func gen2(o *v1alpha1.LicenseOrder) *v1alpha1.LicenseOrder {
	o.Spec.PlanGeneration = 2
	return o
}

func TestRefusedForSpec(t *testing.T) {
	req := ChangeRequest{Change: v1alpha1.ChangeIncreaseQuantity, Product: "p", PaymentPlan: v1alpha1.Monthly, Quantity: 5}
	for _, tt := range []struct {
		name string
		o    *v1alpha1.LicenseOrder
		want bool
	}{
		{"the same change refused for this spec", htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderRejected, 2), true},
		{"refused for an earlier spec", htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderRejected, 1), false},
		{"another change refused", htOrder(4, v1alpha1.ChangeDecreaseQuantity, v1alpha1.OrderRejected, 2), false},
		{"not refused", htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderFulfilled, 2), false},
		{"denied by a person for this spec", denied(htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderRejected, 2)), true},
		{"superseded, and the very order the plan would place again: it stands, rather than loop", gen2(htClosed(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.ReasonSuperseded)), true},
		{"superseded for an earlier spec: ordered anew", htClosed(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.ReasonSuperseded), false},
		{"closed because its plan was not found", gen2(htClosed(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.ReasonPlanNotFound)), false},
		{"no order", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := RefusedForSpec(tt.o, 2, req); got != tt.want {
				t.Errorf("RefusedForSpec = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRefusedRenewal(t *testing.T) {
	st := v1alpha1.CustomerLicensePlanStatus{Term: &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"}}
	earlier := htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderRejected, 1)
	earlier.Spec.EffectiveDate = "2026-03-01"
	for _, tt := range []struct {
		name string
		o    *v1alpha1.LicenseOrder
		st   v1alpha1.CustomerLicensePlanStatus
		want bool
	}{
		{"the renewal of the current term, refused", htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderRejected, 1), st, true},
		{"the renewal of an earlier term", earlier, st, false},
		{"a renewal not refused", htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderPending, 1), st, false},
		{"a refused change that is no renewal", htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderRejected, 1), st, false},
		{"a plan without a term", htOrder(4, v1alpha1.ChangeRenewal, v1alpha1.OrderRejected, 1), v1alpha1.CustomerLicensePlanStatus{}, false},
		{"a renewal superseded, not refused", htClosed(4, v1alpha1.ChangeRenewal, v1alpha1.ReasonSuperseded), st, false},
		{"no order", nil, st, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := RefusedRenewal(tt.o, tt.st); got != tt.want {
				t.Errorf("RefusedRenewal = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStandingRefusal(t *testing.T) {
	denied := htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderRejected, 1)
	denied.Status.Reason, denied.Status.Message = v1alpha1.ReasonDenied, "the order was denied: denied by bob"
	if v, ok := StandingRefusal(denied); !ok || v.Reason != v1alpha1.ReasonDenied || v.Message != denied.Status.Message {
		t.Errorf("StandingRefusal(denied) = %+v, %v; want the denial, true", v, ok)
	}
	usage := htOrder(4, v1alpha1.ChangeIncreaseQuantity, v1alpha1.OrderRejected, 1)
	usage.Status.Reason = v1alpha1.ReasonUsageBelowMinimum
	if v, ok := StandingRefusal(usage); ok {
		t.Errorf("StandingRefusal(usage) = %+v, true; want a refusal the rules judge again", v)
	}
}

func TestExpiredOnSpec(t *testing.T) {
	spec := pvSpec("ep-plus", 10, v1alpha1.Monthly)
	expired := v1alpha1.CustomerLicensePlanStatus{ExpiredOn: "2026-04-01"}
	recorded := v1alpha1.CustomerLicensePlanStatus{ExpiredOn: "2026-04-01", ExpiredWith: &v1alpha1.ExpiredWith{
		Product: "ep-plus", Quantity: 10, PaymentPlan: v1alpha1.Monthly, RenewalPolicy: v1alpha1.AutoRenew}}
	expiry := htOrder(4, v1alpha1.ChangeExpiry, v1alpha1.OrderFulfilled, 2)
	edit := func(f func(*v1alpha1.CustomerLicensePlanSpec)) v1alpha1.CustomerLicensePlanSpec {
		s := spec
		f(&s)
		return s
	}
	for _, tt := range []struct {
		name string
		spec v1alpha1.CustomerLicensePlanSpec
		st   v1alpha1.CustomerLicensePlanStatus
		o    *v1alpha1.LicenseOrder
		gen  int64
		want bool
	}{
		{"expired with this spec: orders nothing", spec, recorded, expiry, 2, true},
		{"a new purchase reference and cost center order nothing", edit(func(s *v1alpha1.CustomerLicensePlanSpec) {
			s.PurchaseReference, s.CostCenter = "PO-2", "engineering"
		}), recorded, expiry, 3, true},
		{"a new quantity orders again", edit(func(s *v1alpha1.CustomerLicensePlanSpec) { s.Quantity = 11 }), recorded, expiry, 3, false},
		{"a new product orders again", edit(func(s *v1alpha1.CustomerLicensePlanSpec) { s.Product = "ep-basic" }), recorded, expiry, 3, false},
		{"a new payment plan orders again", edit(func(s *v1alpha1.CustomerLicensePlanSpec) { s.PaymentPlan = v1alpha1.Prepay1Y }), recorded, expiry, 3, false},
		{"a new renewal policy orders again", edit(func(s *v1alpha1.CustomerLicensePlanSpec) { s.Renewal.Policy = v1alpha1.ExpireAtTermEnd }), recorded, expiry, 3, false},
		{"an empty policy is AutoRenew", edit(func(s *v1alpha1.CustomerLicensePlanSpec) { s.Renewal.Policy = v1alpha1.AutoRenew }), recorded, expiry, 3, true},
		{"without expiredWith, the generation of the expiry decides: same", spec, expired, expiry, 2, true},
		{"without expiredWith, the generation of the expiry decides: changed", spec, expired, expiry, 3, false},
		{"not expired", spec, v1alpha1.CustomerLicensePlanStatus{}, expiry, 2, false},
		{"the expiry order is unknown", spec, expired, nil, 2, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExpiredOnSpec(tt.spec, tt.st, tt.o, tt.gen); got != tt.want {
				t.Errorf("ExpiredOnSpec = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExpiredWithFor(t *testing.T) {
	spec := pvSpec("ep-plus", 12, v1alpha1.Monthly)
	expiry := htOrder(4, v1alpha1.ChangeExpiry, v1alpha1.OrderFulfilled, 2)
	expiry.Spec.PreviousQuantity = 10
	if got, want := *ExpiredWithFor(spec, 2, expiry), (v1alpha1.ExpiredWith{Product: "ep-plus", Quantity: 12,
		PaymentPlan: v1alpha1.Monthly, RenewalPolicy: v1alpha1.AutoRenew}); got != want {
		t.Errorf("ExpiredWithFor, spec unchanged since the expiry was placed = %+v, want what the spec asks for, %+v", got, want)
	}
	if got, want := *ExpiredWithFor(spec, 3, expiry), (v1alpha1.ExpiredWith{Product: expiry.Spec.Product, Quantity: 10,
		PaymentPlan: expiry.Spec.PaymentPlan, RenewalPolicy: v1alpha1.AutoRenew}); got != want {
		t.Errorf("ExpiredWithFor, spec changed since = %+v, want the holding that expired, %+v", got, want)
	}
}
