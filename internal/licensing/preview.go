package licensing

import (
	"fmt"
	"slices"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// PreviewInput is what admission looks at to judge and preview a change of a plan: the plan as the
// controller would see it with the spec as it would be stored, and what the rules need.
type PreviewInput struct {
	// Plan is the plan's name.
	Plan string
	// DueInput is the plan, its catalog entries, the currency and the time: what OrdersDue needs.
	DueInput
	// Profile is the BillingProfile's spec, nil when there is none.
	Profile *v1alpha1.BillingProfileSpec
	// OtherPlans are the customer's other active plans in the namespace.
	OtherPlans []ActivePlan
	// Assigned is the number of LicenseAssignments that name the plan.
	Assigned int32
	// PriorTrials names the customer's Trial orders of the product that used up its trial, when
	// the spec asks for a trial (PriorTrials).
	PriorTrials []string
	// Latest is the plan's latest order, nil when it has none: an open one may hold the orders
	// the spec asks for until it settles (WaitsFor).
	Latest *v1alpha1.LicenseOrder
}

// WaitsFor returns the plan's open order that the orders its spec asks for wait for: one in
// flight that the spec does not supersede (Superseded: a Renewal placed early gives way to a
// change asked for before the term ends, a change no longer asked for is closed) and that is not
// itself the first order due. The plan controller places nothing more until it settles (approved
// and fulfilled, denied, or rejected); nil when nothing holds the orders due.
func WaitsFor(in PreviewInput, due Due) *v1alpha1.LicenseOrder {
	o := in.Latest
	if !InFlight(in.Status, o) || IsSettled(o) {
		return nil
	}
	if len(due.Orders) > 0 && due.Orders[0].Same(o.Spec) {
		return nil
	}
	plan := &v1alpha1.CustomerLicensePlan{Spec: in.Spec, Status: in.Status}
	if !Superseded(plan, o.Spec, in.Now).Passed() {
		return nil
	}
	return o
}

// orderInput is what the validation of the order req for the plan looks at.
func (in PreviewInput) orderInput(req ChangeRequest) OrderInput {
	return OrderInput{Plan: in.Plan, Change: req.Change, ProductName: req.Product, Product: in.Catalog[req.Product],
		CurrentProduct: in.Catalog[in.Status.Product], PaymentPlan: req.PaymentPlan, Quantity: req.Quantity,
		CostCenter: EffectiveCostCenter(in.Spec.CostCenter, in.Profile), Profile: in.Profile,
		OtherPlans: in.OtherPlans, Assigned: in.Assigned, HeldPaymentPlan: in.Status.PaymentPlan, PriorTrials: in.PriorTrials}
}

// JudgeSpec judges a plan's spec as admission does. A spec that asks for a change is judged by the
// rules an admission webhook can judge for the order it needs (ValidateAdmission); a spec that
// needs no order (a new cost center or purchase reference) by SpecRules. Every spec change is
// thus validated, whether or not it places an order.
func JudgeSpec(in PreviewInput) Verdict {
	if req, ok := Needed(in.DueInput); ok {
		if StartDateApplies(in.Status, req) {
			if v := CheckStartDate(in.Spec.StartDate, in.Now); !v.Passed() {
				return v
			}
		}
		if v := ValidateAdmission(in.orderInput(req)); !v.Passed() {
			return v
		}
		return CheckChargeRepresentable(in.DueInput)
	}
	return ValidateSpec(in.orderInput(ChangeRequest{}))
}

// PlanPreview is a preview as data: every order a plan's spec would place at once and what they
// are charged, computed exactly as the orders' will be. Admission computes it once per change and
// gives it twice: in words, as warnings for people (Sentences), and as JSON, in the
// PreviewAnnotation of the plan a server-side dry run answers with, for tools such as kubectl
// license preview. Tools read the data and never the words, which are free to change.
type PlanPreview struct {
	// orders are the orders the spec places at once (OrdersDue), in the order they are applied;
	// the first also when it is fulfilled later (a renewal placed before its term ends). Empty when
	// the spec needs no order.
	Orders []PreviewOrder `json:"orders,omitempty"`
	// total is what the orders are charged together, one amount per currency, sorted by currency;
	// empty when totalError says why it cannot be computed.
	Total []v1alpha1.CurrencyAmount `json:"total,omitempty"`
	// totalError says why the total cannot be computed: a charge cannot be, or the sum is too large.
	TotalError string `json:"totalError,omitempty"`
	// rejected is set when the first order would be rejected: then nothing is ordered or charged.
	Rejected *PreviewRejection `json:"rejected,omitempty"`
	// waitsFor is the plan's open order that the orders wait for (WaitsFor): they are placed once
	// it settles.
	WaitsFor *PreviewOrder `json:"waitsFor,omitempty"`
	// backdated is set for a new plan whose start date lies more than one term in the past: its
	// catch-up renewals are among the orders.
	Backdated *PreviewBackdated `json:"backdated,omitempty"`
	// requirement is a requirement on another plan that is not met yet: the first order waits
	// while a required plan is being ordered, and is rejected otherwise.
	Requirement string `json:"requirement,omitempty"`
	// approval is set when some of the orders will wait for a person's approval.
	Approval *PreviewApproval `json:"approval,omitempty"`
	// assigned is the number of licenses assigned: the usage the first order's quantity covers or not.
	Assigned int32 `json:"assigned"`
	// then is the order placed with a change made inside the renewal window, after the orders and
	// fulfilled later: the renewal of the current term, charged when the term ends (fulfilledOn).
	Then *PreviewOrder `json:"then,omitempty"`
	// more is true when more orders follow the first MaxOrdersDue: the start date is far in the past.
	More bool `json:"more,omitempty"`
}

// PreviewOrder is one order of a preview.
type PreviewOrder struct {
	// name and state are those of an order already placed (waitsFor); empty for an order to place.
	Name  string              `json:"name,omitempty"`
	State v1alpha1.OrderState `json:"state,omitempty"`

	Change        v1alpha1.OrderChange `json:"change"`
	Quantity      int32                `json:"quantity"`
	Product       string               `json:"product"`
	PaymentPlan   v1alpha1.PaymentPlan `json:"paymentPlan"`
	EffectiveDate v1alpha1.Date        `json:"effectiveDate,omitempty"`
	// fulfilledOn is the day an order placed now is fulfilled and charged, when that is later.
	FulfilledOn v1alpha1.Date `json:"fulfilledOn,omitempty"`
	// charge is what the order is charged and how; nil when chargeError says why it cannot be computed.
	Charge      *v1alpha1.Charge `json:"charge,omitempty"`
	ChargeError string           `json:"chargeError,omitempty"`
}

// PreviewRejection is why an order would be rejected: the reason of its Valid condition and a
// message a person can act on.
type PreviewRejection struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// PreviewBackdated is the start date of a new plan more than one term in the past, and the
// renewals of the terms that ended since, billed at once.
type PreviewBackdated struct {
	StartDate v1alpha1.Date `json:"startDate"`
	Renewals  int           `json:"renewals"`
}

// PreviewApproval says how many of the orders will wait for a person's approval, and why the first
// of them does.
type PreviewApproval struct {
	Waiting int    `json:"waiting"`
	Because string `json:"because"`
}

// Preview states, in sentences for admission warnings, the preview of a plan's spec (PreviewOf).
// It returns no sentence when the spec needs no order.
func Preview(in PreviewInput) []string {
	return PreviewOf(in).Sentences()
}

// PreviewOf previews a plan's spec: every order it would place at once (OrdersDue: the order it
// asks for, and the catch-up renewals of a start date terms in the past) and their total, what
// each is charged and why, whether a person must approve them, whether the licenses cover the
// usage, and what the orders wait for. The charges are computed exactly as the orders' will be, by
// the function the controller uses. It has no order when the spec needs none.
func PreviewOf(in PreviewInput) PlanPreview {
	if in.Currency == "" {
		in.Currency = Currency(in.Profile)
	}
	due := OrdersDue(in.DueInput, MaxOrdersDue)
	pv := PlanPreview{Assigned: in.Assigned}
	if len(due.Orders) == 0 {
		return pv
	}
	n := 0
	for n < len(due.Orders) && due.Orders[n].AtOnce(in.Now) {
		n++
	}
	atOnce := due.Orders[:max(n, 1)]
	for _, o := range atOnce {
		pv.Orders = append(pv.Orders, previewOrder(o, in.Currency, in.Now))
	}
	pv.Total, pv.TotalError = previewTotal(atOnce, in.Currency)
	if o := WaitsFor(in, due); o != nil {
		pv.WaitsFor = &PreviewOrder{Name: o.Name, State: o.Status.State, Change: o.Spec.Change, Quantity: o.Spec.Quantity,
			Product: o.Spec.Product, PaymentPlan: o.Spec.PaymentPlan}
	}
	pv.Backdated = backdated(in, atOnce)
	input := in.orderInput(due.Orders[0].ChangeRequest)
	if verdict := ValidateAdmission(input); !verdict.Passed() {
		pv.Rejected = &PreviewRejection{Reason: verdict.Reason, Message: verdict.Message}
		return pv
	}
	if verdict := CheckRequirements(input); !verdict.Passed() {
		pv.Requirement = verdict.Message
	}
	pv.Approval = approval(in.Profile, atOnce)
	if n >= 1 && n < len(due.Orders) && HasPlanInForce(in.Status) {
		then := previewOrder(due.Orders[n], in.Currency, in.Now)
		pv.Then = &then
	}
	pv.More = n == MaxOrdersDue
	return pv
}

// previewOrder is a due order as a preview states it.
func previewOrder(o DueOrder, currency string, now time.Time) PreviewOrder {
	po := PreviewOrder{Change: o.Change, Quantity: o.Quantity, Product: o.Product, PaymentPlan: o.PaymentPlan,
		EffectiveDate: FormatDate(o.EffectiveDate)}
	if !o.AtOnce(now) {
		po.FulfilledOn = FormatDate(o.ChargedAt)
	}
	if o.PriceErr != nil {
		po.ChargeError = o.PriceErr.Error()
	} else {
		po.Charge = &v1alpha1.Charge{Amount: o.Pricing.Charge.Amount(), Currency: chargeCurrencyOf(o, currency), Description: o.Pricing.Description}
	}
	return po
}

// previewTotal is what the orders are charged together. Charges in two currencies (a price locked
// in one, a catalog price in the profile's new one) are totalled apart.
func previewTotal(orders []DueOrder, currency string) ([]v1alpha1.CurrencyAmount, string) {
	totals := map[string]Money{}
	var currencies []string
	for _, o := range orders {
		if o.PriceErr != nil {
			return nil, fmt.Sprintf("a charge cannot be computed: %v", o.PriceErr)
		}
		cur := chargeCurrencyOf(o, currency)
		if _, ok := totals[cur]; !ok {
			currencies = append(currencies, cur)
		}
		sum, err := Add(totals[cur], o.Pricing.Charge)
		if err != nil {
			return nil, fmt.Sprintf("their total cannot be computed: %v", err)
		}
		totals[cur] = sum
	}
	slices.Sort(currencies)
	out := make([]v1alpha1.CurrencyAmount, len(currencies))
	for i, cur := range currencies {
		out[i] = v1alpha1.CurrencyAmount{Currency: cur, Amount: totals[cur].Amount()}
	}
	return out, ""
}

// chargeCurrencyOf is the currency of a due order's charge: its pricing's, or the profile's.
func chargeCurrencyOf(o DueOrder, profileCurrency string) string {
	if o.Pricing.Currency != "" {
		return o.Pricing.Currency
	}
	return profileCurrency
}

// backdated is the start date and catch-up renewals of a new plan whose start date is more than
// one term in the past: every term that ended since is billed at once. Nil for any other change.
func backdated(in PreviewInput, orders []DueOrder) *PreviewBackdated {
	if orders[0].Change != v1alpha1.ChangeNew {
		return nil
	}
	renewals := 0
	for _, o := range orders[1:] {
		if o.Change == v1alpha1.ChangeRenewal {
			renewals++
		}
	}
	start, err := ParseDate(in.Spec.StartDate)
	if renewals == 0 || err != nil {
		return nil
	}
	return &PreviewBackdated{StartDate: FormatDate(start), Renewals: renewals}
}

// approval says which of the orders will wait for a person's approval; nil when none will.
func approval(profile *v1alpha1.BillingProfileSpec, orders []DueOrder) *PreviewApproval {
	var a *PreviewApproval
	for _, o := range orders {
		if o.PriceErr != nil {
			continue // no charge, nothing to approve yet
		}
		if needed, why := ApprovalNeeded(profile, o.Change, o.Pricing.Charge, o.Pricing.Currency); needed {
			if a == nil {
				a = &PreviewApproval{Because: why}
			}
			a.Waiting++
		}
	}
	return a
}
