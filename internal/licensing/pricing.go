package licensing

import (
	"errors"
	"fmt"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// PricingInput is what pricing an order looks at.
type PricingInput struct {
	// Order is the order to price.
	Order v1alpha1.LicenseOrderSpec
	// Plan is the plan in force before the order.
	Plan v1alpha1.CustomerLicensePlanStatus
	// CatalogPrice is the catalog's price per license of the order's product and payment plan.
	CatalogPrice v1alpha1.Amount
	// Currency is the BillingProfile's currency now: the currency of a charge at a catalog price.
	Currency string
	// StartDate is the plan's billing start date, used by New and Trial orders.
	StartDate time.Time
}

// Pricing is what an order costs and the price per license it locks on the plan.
type Pricing struct {
	PricePerLicense Money
	Charge          Money
	// Currency is the currency of Charge and PricePerLicense (ChargeCurrency).
	Currency    string
	Description string
}

// PriceOrder computes an order's charge: a term charge for a new plan or the conversion of a
// trial, a prorated charge for an increase or an upgrade that takes effect at once, and nothing
// for a trial, its changes, and changes that wait for the next term (no refund is ever made).
func PriceOrder(in PricingInput) (Pricing, error) {
	p, err := priceOrder(in)
	p.Currency = ChargeCurrency(in.Order, in.Plan, in.Currency)
	return p, err
}

// ChargeCurrency is the currency of an order's charge: the currency the plan's price was locked in
// (status.currency) for an order charged at that price or not charged at all (more or fewer
// licenses, a change that waits for the next term, a change of a trial, an expiry or
// cancellation); profileCurrency, the BillingProfile's currency now, for an order charged at a
// catalog price, which locks that price and currency on the plan (a new plan, a trial, a
// conversion, a renewal, a new payment plan or a dearer product that takes effect at once). So a
// price locked in EUR is charged in EUR, also after the profile's currency changed, and a charge
// is never the figure of one currency labelled with another.
func ChargeCurrency(o v1alpha1.LicenseOrderSpec, st v1alpha1.CustomerLicensePlanStatus, profileCurrency string) string {
	locked := st.Currency
	if locked == "" || !HasPlanInForce(st) {
		return profileCurrency
	}
	switch {
	case isNewPlan(o.Change), o.Change == v1alpha1.ChangeRenewal:
		return profileCurrency
	case IsTrial(st) && o.PaymentPlan == v1alpha1.Trial, IsDeferred(st, o):
		return locked
	case o.Change == v1alpha1.ChangePaymentPlan, o.Change == v1alpha1.ChangeProduct:
		return profileCurrency
	}
	return locked
}

func priceOrder(in PricingInput) (Pricing, error) {
	o, st := in.Order, in.Plan
	cur := ChargeCurrency(o, st, in.Currency)
	switch {
	case o.Change == v1alpha1.ChangeExpiry, o.Change == v1alpha1.ChangeCancellation:
		return Pricing{Description: "No charge, and no refund."}, nil
	case o.Change == v1alpha1.ChangeTrial:
		return trialPricing(o, cur)
	case o.Change == v1alpha1.ChangeConversion:
		return conversionPricing(o, in.CatalogPrice, cur)
	case IsTrial(st) && o.PaymentPlan == v1alpha1.Trial:
		return Pricing{Description: fmt.Sprintf("%s from %d to %d licenses of the trial, which ends on %s: no charge.",
			o.Change, st.Licenses, o.Quantity, st.RenewalDate)}, nil
	}
	if IsDeferred(st, o) {
		price, _ := ParseAmount(st.PricePerLicense)
		return Pricing{PricePerLicense: price, Description: fmt.Sprintf(
			"No charge now: the change takes effect on %s, at the start of the next term, and is billed from then on. No refund.", o.EffectiveDate)}, nil
	}
	switch o.Change {
	case v1alpha1.ChangeNew:
		price, err := ParseAmount(in.CatalogPrice)
		if err != nil {
			return Pricing{}, fmt.Errorf("catalog price of product %q for %s: %w", o.Product, o.PaymentPlan, err)
		}
		charge, err := TermCharge(o.Quantity, price)
		if err != nil {
			return Pricing{}, chargeError(err)
		}
		return Pricing{PricePerLicense: price, Charge: charge, Description: fmt.Sprintf("New plan: %s %s.",
			TermChargeDescription(o.Quantity, price, cur), periodOf(in.StartDate, o.PaymentPlan))}, nil
	case v1alpha1.ChangeIncreaseQuantity, v1alpha1.ChangeDecreaseQuantity:
		price, err := ParseAmount(st.PricePerLicense)
		if err != nil {
			return Pricing{}, fmt.Errorf("price in force %q: %w", st.PricePerLicense, err)
		}
		added := max(o.Quantity-st.Licenses, 0)
		p, err := prorate(st, o, added, price, cur)
		if err != nil {
			return Pricing{}, err
		}
		p.PricePerLicense = price
		p.Description = fmt.Sprintf("%s from %d to %d licenses: %s", o.Change, st.Licenses, o.Quantity, p.Description)
		return p, nil
	case v1alpha1.ChangeProduct:
		newPrice, err := ParseAmount(in.CatalogPrice)
		if err != nil {
			return Pricing{}, fmt.Errorf("catalog price of product %q for %s: %w", o.Product, o.PaymentPlan, err)
		}
		oldPrice, _ := ParseAmount(st.PricePerLicense)
		if st.Currency != "" && st.Currency != cur {
			// The difference of prices in two currencies means nothing. neededChange defers such a
			// move to the term end; an order placed before the currency changed is refused here.
			return Pricing{}, fmt.Errorf("%w: the price in force, %s %s, and the price of %s, %s %s, are in two currencies: the move takes effect at the term end once ordered again",
				ErrCurrencyChanged, oldPrice, st.Currency, o.Product, newPrice, cur)
		}
		diff := max(newPrice-oldPrice, 0)
		p, err := prorate(st, o, st.Licenses, diff, cur)
		if err != nil {
			return Pricing{}, err
		}
		p.PricePerLicense = newPrice
		p.Description = fmt.Sprintf("Change from %s (%s %s per license) to %s (%s %s): price difference %s %s per license; %s",
			st.Product, oldPrice, cur, o.Product, newPrice, cur, diff, cur, p.Description)
		return p, nil
	case v1alpha1.ChangeRenewal:
		price, err := ParseAmount(in.CatalogPrice)
		if err != nil {
			return Pricing{}, fmt.Errorf("catalog price of product %q for %s: %w", o.Product, o.PaymentPlan, err)
		}
		term, ok := currentTerm(st)
		if !ok {
			return Pricing{}, fmt.Errorf("a renewal needs a plan with a term")
		}
		charge, err := TermCharge(o.Quantity, price)
		if err != nil {
			return Pricing{}, chargeError(err)
		}
		if !Renews(o.PaymentPlan) {
			return Pricing{PricePerLicense: price, Charge: charge, Description: fmt.Sprintf(
				"Renewal onto %s on %s: %s, once; the plan has no term after it and does not renew (catalog price of %s).",
				o.PaymentPlan, FormatDate(term.End), TermChargeDescription(o.Quantity, price, cur), o.Product)}, nil
		}
		next := NextTerm(term, anchorDay(st), o.PaymentPlan)
		return Pricing{PricePerLicense: price, Charge: charge, Description: fmt.Sprintf(
			"Renewal: %s for the term %s to %s (catalog price of %s, %s).", TermChargeDescription(o.Quantity, price, cur),
			FormatDate(next.Start), FormatDate(next.End), o.Product, o.PaymentPlan)}, nil
	case v1alpha1.ChangePaymentPlan:
		price, err := ParseAmount(in.CatalogPrice)
		if err != nil {
			return Pricing{}, fmt.Errorf("catalog price of product %q for %s: %w", o.Product, o.PaymentPlan, err)
		}
		eff, err := ParseDate(o.EffectiveDate)
		if err != nil {
			return Pricing{}, fmt.Errorf("effectiveDate: %w", err)
		}
		charge, err := TermCharge(o.Quantity, price)
		if err != nil {
			return Pricing{}, chargeError(err)
		}
		return Pricing{PricePerLicense: price, Charge: charge, Description: fmt.Sprintf("Payment plan %s: %s %s.",
			o.PaymentPlan, TermChargeDescription(o.Quantity, price, cur), periodOf(eff, o.PaymentPlan))}, nil
	}
	return Pricing{}, fmt.Errorf("orders of change %q are not priced here", o.Change)
}

// ErrCurrencyChanged is the error of a product change that takes effect at once, charged the price
// difference, when the plan's price is locked in another currency than the BillingProfile's.
var ErrCurrencyChanged = errors.New("the BillingProfile's currency is not the currency of the price in force")

// chargeError says that an order's charge cannot be represented; it wraps ErrOverflow, which
// DecideOrder refuses the order for and admission refuses the spec for.
func chargeError(err error) error {
	return fmt.Errorf("the charge cannot be represented: %w", err)
}

// prorate charges licenses x price for the rest of the current term from the order's effective
// date; a plan without a term (OneTime) is charged in full.
func prorate(st v1alpha1.CustomerLicensePlanStatus, o v1alpha1.LicenseOrderSpec, licenses int32, price Money, cur string) (Pricing, error) {
	if st.Term == nil {
		charge, err := TermCharge(licenses, price)
		if err != nil {
			return Pricing{}, chargeError(err)
		}
		return Pricing{Charge: charge, Description: TermChargeDescription(licenses, price, cur) + " (one-time, not prorated)."}, nil
	}
	term, _ := currentTerm(st)
	eff, _ := ParseDate(o.EffectiveDate)
	if eff.Before(term.Start) {
		eff = term.Start
	}
	remaining := DaysBetween(eff, term.End)
	charge, err := ProratedCharge(licenses, price, remaining, term.Days())
	if err != nil {
		return Pricing{}, chargeError(err)
	}
	return Pricing{Charge: charge, Description: fmt.Sprintf("%s, the %d of %d days left from %s to the term end %s.",
		ProrationDescription(licenses, price, remaining, term.Days(), cur), max(remaining, 0), term.Days(), FormatDate(eff), st.Term.End)}, nil
}

func periodOf(start time.Time, pp v1alpha1.PaymentPlan) string {
	if !Renews(pp) {
		return "once (one-time payment plan)"
	}
	t := FirstTerm(Day(start), pp)
	return fmt.Sprintf("for the first term, %s to %s", FormatDate(t.Start), FormatDate(t.End))
}
