package licensing

import (
	"fmt"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// PreviewInput is what the preview of a change to a plan looks at: the spec as it would be stored,
// the plan in force, and what the rules need.
type PreviewInput struct {
	Plan   string
	Spec   v1alpha1.CustomerLicensePlanSpec
	Status v1alpha1.CustomerLicensePlanStatus
	// Created is when the plan was created (now, for a new plan).
	Created time.Time
	// Product and CurrentProduct are the catalog entries of spec.product and of the product in
	// force; nil when there is none.
	Product, CurrentProduct *v1alpha1.LicenseProductSpec
	Profile                 *v1alpha1.BillingProfileSpec
	// OtherPlans are the customer's other active plans in the namespace.
	OtherPlans []ActivePlan
	Assigned   int32
	Now        time.Time
}

// Preview states, in sentences for admission warnings, the order a plan's spec would place, what
// it would be charged, whether it would need a person's approval, and whether the licenses cover
// the usage. It returns no sentence when the spec needs no order. The charge is computed exactly
// as the order's will be, from the same price and dates.
func Preview(in PreviewInput) []string {
	upgrade := IsUpgrade(in.CurrentProduct, in.Product, in.Status.PaymentPlan)
	req, ok := NeededChange(in.Spec, in.Status, in.Now, upgrade)
	if !ok {
		return nil
	}
	order := v1alpha1.LicenseOrderSpec{Plan: in.Plan, Change: req.Change, Product: req.Product, PaymentPlan: req.PaymentPlan,
		Quantity: req.Quantity, PreviousQuantity: req.PreviousQuantity, EffectiveDate: FormatDate(req.EffectiveDate),
		CostCenter: EffectiveCostCenter(in.Spec.CostCenter, in.Profile)}
	lines := []string{fmt.Sprintf("an order: %s of %d x %s (%s), effective %s", req.Change, req.Quantity, req.Product, req.PaymentPlan, order.EffectiveDate)}

	input := OrderInput{Plan: in.Plan, Change: req.Change, ProductName: req.Product, Product: in.Product,
		CurrentProduct: in.CurrentProduct, PaymentPlan: req.PaymentPlan, Quantity: req.Quantity, CostCenter: order.CostCenter,
		Profile: in.Profile, OtherPlans: in.OtherPlans, Assigned: in.Assigned}
	if verdict := ValidateAdmission(input); !verdict.Passed() {
		return append(lines, fmt.Sprintf("the order would be rejected, %s: %s", verdict.Reason, verdict.Message))
	}
	if verdict := CheckRequirements(input); !verdict.Passed() {
		lines = append(lines, fmt.Sprintf("requirement: %s (the order waits while a required plan is being ordered, and is rejected otherwise)", verdict.Message))
	}

	currency := "EUR"
	if in.Profile != nil && in.Profile.Currency != "" {
		currency = in.Profile.Currency
	}
	var catalogPrice v1alpha1.Amount
	if in.Product != nil {
		catalogPrice, _ = PriceFor(in.Product, req.PaymentPlan)
	}
	start, err := BillingStart(in.Spec, in.Status, in.Created, order)
	if err == nil {
		p, perr := PriceOrder(PricingInput{Order: order, Plan: in.Status, CatalogPrice: catalogPrice, Currency: currency, StartDate: start})
		if err = perr; err == nil {
			lines = append(lines, fmt.Sprintf("charge: %s %s (%s)", p.Charge, currency, p.Description))
			if needed, why := ApprovalNeeded(in.Profile, req.Change, p.Charge); needed {
				lines = append(lines, "approval: the order will wait for a person's approval, because "+why)
			}
		}
	}
	if err != nil {
		lines = append(lines, "charge: cannot be computed: "+err.Error())
	}
	if in.Assigned <= req.Quantity {
		lines = append(lines, fmt.Sprintf("usage: covered, %d of the %d licenses ordered are assigned", in.Assigned, req.Quantity))
	} else {
		lines = append(lines, fmt.Sprintf("usage: not covered, %d licenses are assigned and %d ordered", in.Assigned, req.Quantity))
	}
	return lines
}
