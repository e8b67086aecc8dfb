package licensing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The rules in this file are those of trials: a plan with spec.paymentPlan Trial holds a product's
// licenses for the product's trial length, charged nothing, and then expires unless it is
// converted to a paid plan first. A customer gets one trial per product, before any paid plan.

// TrialEnd is the day a trial that starts on start ends: days whole days later, at 00:00 UTC. A
// trial starts on the day its Trial order is placed (its effective date), the day its licenses
// are in force: a trial never holds them longer than its days, whatever the plan's startDate
// says (a start date ahead would otherwise add the days until then to the trial).
func TrialEnd(start time.Time, days int32) time.Time {
	return Day(start).AddDate(0, 0, int(days))
}

// IsTrial reports whether a plan holds a trial in force.
func IsTrial(st v1alpha1.CustomerLicensePlanStatus) bool {
	return HasPlanInForce(st) && st.PaymentPlan == v1alpha1.Trial
}

// paidAfterTrial reports whether a plan's trial expired and its spec asks for a paid plan: it is
// ordered as a new plan, even when the spec asked for it before the trial's Expiry was recorded (a
// conversion asked too late), since the spec never asked for the trial to end.
func paidAfterTrial(spec v1alpha1.CustomerLicensePlanSpec, st v1alpha1.CustomerLicensePlanStatus) bool {
	return st.ExpiredOn != "" && st.PaymentPlan == v1alpha1.Trial && spec.PaymentPlan != v1alpha1.Trial
}

// trialEndFor is the end of the trial req orders for the plan: the day it is placed (its
// effective date, today) plus the product's trial days. Zero when the product offers no trial: the
// order is then refused (CheckTrial).
func trialEndFor(in DueInput, _ v1alpha1.CustomerLicensePlanStatus, req ChangeRequest) time.Time {
	p := in.Catalog[req.Product]
	if p == nil || p.Trial == nil {
		return time.Time{}
	}
	return TrialEnd(req.EffectiveDate, p.Trial.Days)
}

// CheckTrial: an order that puts or keeps a plan on a trial is for a product that offers one
// (spec.trial), comes before any paid plan of the plan, keeps the trial's product, holds at most
// the trial's maxLicenses, and, for a new trial, is the customer's first of the product.
func CheckTrial(in OrderInput) Verdict {
	p := in.Product
	if in.PaymentPlan != v1alpha1.Trial || p == nil {
		return pass()
	}
	paid := strings.Join(OfferedPaymentPlans(p), ", ")
	switch {
	case in.Change == v1alpha1.ChangePaymentPlan || in.HeldPaymentPlan != "" && in.HeldPaymentPlan != v1alpha1.Trial:
		return fail(v1alpha1.ReasonTrialNotOffered,
			"paymentPlan Trial: plan %q is or was on a paid plan%s, and a trial only comes before a paid plan: set spec.paymentPlan to a paid plan (%s)",
			in.Plan, heldPaid(in), paid)
	case p.Trial == nil:
		return fail(v1alpha1.ReasonTrialNotOffered,
			"paymentPlan Trial: product %q offers no trial (its LicenseProduct has no spec.trial): set spec.paymentPlan to one of %s",
			in.ProductName, paid)
	case in.Change == v1alpha1.ChangeProduct:
		return fail(v1alpha1.ReasonTrialNotOffered,
			"product %q: a trial stays on its product: set spec.product back to the product of the trial, or convert the trial first (set spec.paymentPlan to a paid plan), or order a trial of %q as a plan of its own",
			in.ProductName, in.ProductName)
	case in.Quantity > p.Trial.MaxLicenses:
		return fail(v1alpha1.ReasonTrialTooLarge,
			"quantity %d is more than the %d licenses a trial of %q may hold (spec.trial.maxLicenses of the product): lower spec.quantity to at most %d, or set spec.paymentPlan to a paid plan (%s)",
			in.Quantity, p.Trial.MaxLicenses, in.ProductName, p.Trial.MaxLicenses, paid)
	case in.Change == v1alpha1.ChangeTrial && len(in.PriorTrials) > 0:
		return fail(v1alpha1.ReasonTrialUsed,
			"paymentPlan Trial: the customer had a trial of %q already (order %s), and a customer gets one trial per product: set spec.paymentPlan to a paid plan (%s) to order it",
			in.ProductName, strings.Join(in.PriorTrials, ", "), paid)
	}
	return pass()
}

// heldPaid names the paid plan the plan holds or held, in parentheses, when it is known.
func heldPaid(in OrderInput) string {
	if in.HeldPaymentPlan != "" && in.HeldPaymentPlan != v1alpha1.Trial {
		return " (" + string(in.HeldPaymentPlan) + ")"
	}
	return ""
}

// PriorTrials names, of the Trial orders of one customer and product in a namespace (orders holds
// only those), the ones that used up the customer's trial before the Trial order judged: every one
// fulfilled, but judged itself. Two orders in flight at once do not decide between themselves here:
// a list may lag behind the API server, and creation times tie within a second. The order
// reconciler decides between them with the trial's claim (TrialClaimName), which the API server
// lets one order create: the trial goes to the order that claims it first, and the other is
// refused naming it. judged is nil when admission judges the spec of plan before its order exists:
// every order not rejected counts then, but the plan's own orders in flight, which the new spec
// supersedes.
func PriorTrials(orders []v1alpha1.LicenseOrder, plan string, judged *v1alpha1.LicenseOrder) []string {
	var names []string
	for i := range orders {
		o := &orders[i]
		switch {
		case o.Spec.Change != v1alpha1.ChangeTrial, o.Status.State == v1alpha1.OrderRejected:
			continue
		case judged == nil && o.Spec.Plan == plan && !IsSettled(o):
			continue
		case judged != nil && (o.Name == judged.Name || !IsSettled(o)):
			continue
		}
		names = append(names, o.Name)
	}
	slices.Sort(names)
	return names
}

// TrialClaimName is the name of the claim on a customer's trial of a product, in the namespace of
// the customer's plans: a coordination.k8s.io Lease that the order reconciler creates before it
// fulfils a Trial order, naming that order as its holder. The name is derived from the customer
// and the product alone, so the API server lets exactly one order create it: one trial per
// customer and product holds however many replicas judge however many orders at once.
func TrialClaimName(customer, product string) string {
	sum := sha256.Sum256([]byte(customer + "\x00" + product))
	return "license-trial-" + hex.EncodeToString(sum[:20])
}

// TrialClaimReleased reports whether the order holding a trial's claim no longer holds the trial:
// it was rejected (denied, or closed because its plan was deleted before it took effect), or it no
// longer exists (holder is nil). Another Trial order may then take the claim over. An order in
// flight keeps its claim: after a crash between claim and fulfilment it finds its own claim again.
func TrialClaimReleased(holder *v1alpha1.LicenseOrder) bool {
	return holder == nil || holder.Status.State == v1alpha1.OrderRejected
}

// trialPricing is the charge of a Trial order: nothing, for the days from the day it is placed
// (its effective date) to the trial's end.
func trialPricing(o v1alpha1.LicenseOrderSpec, currency string) (Pricing, error) {
	end, err := ParseDate(o.TrialEnd)
	if err != nil {
		return Pricing{}, fmt.Errorf("trialEnd of the Trial order: %w", err)
	}
	start, err := ParseDate(o.EffectiveDate)
	if err != nil {
		return Pricing{}, fmt.Errorf("effectiveDate of the Trial order: %w", err)
	}
	return Pricing{Description: fmt.Sprintf(
		"Trial of %d x %s until %s, 0.00 %s: the %d days from %s are not billed, and the trial expires on %s unless spec.paymentPlan is set to a paid plan before then.",
		o.Quantity, o.Product, o.TrialEnd, currency, DaysBetween(start, end), FormatDate(start), o.TrialEnd)}, nil
}

// conversionPricing is the charge of a Conversion order, as a new plan's: the first term of the
// payment plan from the order's effective date, the day billing starts.
func conversionPricing(o v1alpha1.LicenseOrderSpec, catalogPrice v1alpha1.Amount, currency string) (Pricing, error) {
	price, err := ParseAmount(catalogPrice)
	if err != nil {
		return Pricing{}, fmt.Errorf("catalog price of product %q for %s: %w", o.Product, o.PaymentPlan, err)
	}
	eff, err := ParseDate(o.EffectiveDate)
	if err != nil {
		return Pricing{}, fmt.Errorf("effectiveDate of the Conversion order: %w", err)
	}
	charge, err := TermCharge(o.Quantity, price)
	if err != nil {
		return Pricing{}, chargeError(err)
	}
	return Pricing{PricePerLicense: price, Charge: charge, Description: fmt.Sprintf(
		"Conversion of the trial to %s, billed from %s: %s %s.", o.PaymentPlan, o.EffectiveDate,
		TermChargeDescription(o.Quantity, price, currency), periodOf(eff, o.PaymentPlan))}, nil
}
