package licensing

import (
	"fmt"
	"slices"
	"strings"

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

// Preview states, in sentences for admission warnings, every order a plan's spec would place at
// once (OrdersDue: the order it asks for, and the catch-up renewals of a start date terms in the
// past) and their total, what the first is charged and why, whether a person must approve them,
// and whether the licenses cover the usage. It returns no sentence when the spec needs no order.
// The charges are computed exactly as the orders' will be, by the function the controller uses.
func Preview(in PreviewInput) []string {
	if in.Currency == "" {
		in.Currency = Currency(in.Profile)
	}
	due := OrdersDue(in.DueInput, MaxOrdersDue)
	n := 0
	for n < len(due.Orders) && due.Orders[n].AtOnce(in.Now) {
		n++
	}
	if len(due.Orders) == 0 {
		return nil
	}
	first := due.Orders[0]
	var lines []string
	if o := WaitsFor(in, due); o != nil {
		state := o.Status.State
		if state == "" {
			state = "placed"
		}
		lines = append(lines, fmt.Sprintf("waits: order %s (%s: %d x %s, %s) is %s; the plan orders nothing more until it settles, and then what follows",
			o.Name, o.Spec.Change, o.Spec.Quantity, o.Spec.Product, o.Spec.PaymentPlan, state))
	}
	if n > 1 {
		lines = append(lines, totalLine(due.Orders[:n], in.Currency))
		if w := backdatedLine(in, due.Orders[:n]); w != "" {
			lines = append(lines, w)
		}
	}
	head := "an order"
	if n > 1 {
		head = fmt.Sprintf("order 1 of %d", n)
	}
	lines = append(lines, fmt.Sprintf("%s: %s of %d x %s (%s), effective %s", head, first.Change, first.Quantity, first.Product,
		first.PaymentPlan, FormatDate(first.EffectiveDate)))

	input := in.orderInput(first.ChangeRequest)
	if verdict := ValidateAdmission(input); !verdict.Passed() {
		return append(lines, fmt.Sprintf("the order would be rejected, %s: %s", verdict.Reason, verdict.Message))
	}
	if verdict := CheckRequirements(input); !verdict.Passed() {
		lines = append(lines, fmt.Sprintf("requirement: %s (the order waits while a required plan is being ordered, and is rejected otherwise)", verdict.Message))
	}
	if first.PriceErr != nil {
		lines = append(lines, "charge: cannot be computed: "+first.PriceErr.Error())
	} else {
		lines = append(lines, fmt.Sprintf("charge: %s %s (%s)", first.Pricing.Charge, chargeCurrencyOf(first, in.Currency), first.Pricing.Description))
	}
	lines = append(lines, approvalLines(in.Profile, due.Orders[:max(n, 1)])...)
	if in.Assigned <= first.Quantity {
		lines = append(lines, fmt.Sprintf("usage: covered, %d of the %d licenses ordered are assigned", in.Assigned, first.Quantity))
	} else {
		lines = append(lines, fmt.Sprintf("usage: not covered, %d licenses are assigned and %d ordered", in.Assigned, first.Quantity))
	}
	if n > 1 {
		lines = append(lines, laterOrderLines(due.Orders[1:n], n, in.Currency)...)
	}
	if n >= 1 && n < len(due.Orders) && HasPlanInForce(in.Status) {
		lines = append(lines, placedLaterLine(due.Orders[n], in.Currency))
	}
	if n == MaxOrdersDue {
		lines = append(lines, fmt.Sprintf("more orders follow the first %d: check spec.startDate", MaxOrdersDue))
	}
	return lines
}

// totalLine states how many orders are placed at once and what they are charged together.
// Charges in two currencies (a price locked in one, a catalog price in the profile's new one) are
// totalled apart: "100.00 EUR + 50.00 USD".
func totalLine(orders []DueOrder, currency string) string {
	totals := map[string]Money{}
	var currencies []string
	for _, o := range orders {
		if o.PriceErr != nil {
			return fmt.Sprintf("%d orders at once (a charge cannot be computed: %v)", len(orders), o.PriceErr)
		}
		cur := chargeCurrencyOf(o, currency)
		if _, ok := totals[cur]; !ok {
			currencies = append(currencies, cur)
		}
		sum, err := Add(totals[cur], o.Pricing.Charge)
		if err != nil {
			return fmt.Sprintf("%d orders at once (their total cannot be computed: %v)", len(orders), err)
		}
		totals[cur] = sum
	}
	slices.Sort(currencies)
	parts := make([]string, len(currencies))
	for i, cur := range currencies {
		parts[i] = withCurrency(totals[cur], cur)
	}
	return fmt.Sprintf("%d orders at once, %s in all", len(orders), strings.Join(parts, " + "))
}

// chargeCurrencyOf is the currency of a due order's charge: its pricing's, or the profile's.
func chargeCurrencyOf(o DueOrder, profileCurrency string) string {
	if o.Pricing.Currency != "" {
		return o.Pricing.Currency
	}
	return profileCurrency
}

// backdatedLine warns about a new plan whose start date is more than one term in the past: every
// term that ended since is billed at once. It returns "" for any other change.
func backdatedLine(in PreviewInput, orders []DueOrder) string {
	if orders[0].Change != v1alpha1.ChangeNew {
		return ""
	}
	renewals := 0
	for _, o := range orders[1:] {
		if o.Change == v1alpha1.ChangeRenewal {
			renewals++
		}
	}
	if renewals == 0 {
		return ""
	}
	start, err := ParseDate(in.Spec.StartDate)
	if err != nil {
		return ""
	}
	terms := fmt.Sprintf("the %d terms that ended since are", renewals)
	if renewals == 1 {
		terms = "the term that ended since is"
	}
	return fmt.Sprintf("start date: spec.startDate %s is more than one term in the past: %s billed at once, one Renewal each. If the date is a mistake, correct it now: startDate cannot change once set",
		FormatDate(start), terms)
}

// approvalLines says which of the orders will wait for a person's approval.
func approvalLines(profile *v1alpha1.BillingProfileSpec, orders []DueOrder) []string {
	waiting, why := 0, ""
	for _, o := range orders {
		if o.PriceErr != nil {
			continue // no charge, nothing to approve yet
		}
		if needed, w := ApprovalNeeded(profile, o.Change, o.Pricing.Charge, o.Pricing.Currency); needed {
			if waiting == 0 {
				why = w
			}
			waiting++
		}
	}
	switch {
	case waiting == 0:
		return nil
	case len(orders) == 1:
		return []string{"approval: the order will wait for a person's approval, because " + why}
	}
	return []string{fmt.Sprintf("approval: %d of the %d orders will wait for a person's approval, one after the other, because %s", waiting, len(orders), why)}
}

// laterOrderLines states the orders after the first, numbered from 2 of n; a run of alike orders
// (the catch-up renewals of a backdated plan) takes one line.
func laterOrderLines(orders []DueOrder, n int, currency string) []string {
	var lines []string
	for i := 0; i < len(orders); {
		j := i + 1
		for j < len(orders) && alike(orders[i], orders[j]) {
			j++
		}
		o, last := orders[i], orders[j-1]
		charge := "charge cannot be computed"
		if o.PriceErr == nil {
			charge = fmt.Sprintf("%s %s", o.Pricing.Charge, chargeCurrencyOf(o, currency))
		}
		if j-i == 1 {
			lines = append(lines, fmt.Sprintf("order %d of %d: %s of %d x %s (%s), effective %s, charge %s",
				i+2, n, o.Change, o.Quantity, o.Product, o.PaymentPlan, FormatDate(o.EffectiveDate), charge))
		} else {
			lines = append(lines, fmt.Sprintf("orders %d to %d of %d: %d %s orders of %d x %s (%s), effective %s to %s, %s each",
				i+2, j+1, n, j-i, o.Change, o.Quantity, o.Product, o.PaymentPlan, FormatDate(o.EffectiveDate), FormatDate(last.EffectiveDate), charge))
		}
		i = j
	}
	return lines
}

func alike(a, b DueOrder) bool {
	return a.Change == b.Change && a.Quantity == b.Quantity && a.Product == b.Product && a.PaymentPlan == b.PaymentPlan &&
		a.PriceErr == nil && b.PriceErr == nil && a.Pricing.Charge == b.Pricing.Charge
}

// placedLaterLine states, for a change of a plan in force made inside the renewal window, the
// order placed after those fulfilled at once and charged later: the renewal of the current term,
// placed with the change in it (a renewal placed before the change gives way to it), charged at
// the term end.
func placedLaterLine(o DueOrder, currency string) string {
	charge := "charge cannot be computed"
	if o.PriceErr == nil {
		charge = fmt.Sprintf("charge %s %s", o.Pricing.Charge, currency)
	}
	return fmt.Sprintf("then: %s of %d x %s (%s), effective %s, placed now and fulfilled on %s, %s",
		o.Change, o.Quantity, o.Product, o.PaymentPlan, FormatDate(o.EffectiveDate), FormatDate(o.ChargedAt), charge)
}
