package licensing

import (
	"errors"
	"fmt"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// RenewalActionFor is what happens at a plan's renewal date: nothing for plans without a term
// (OneTime) or not in force; expiry for a trial, whatever the policy, and when the policy says
// so, the product the next term would hold is retired, or the renewal order for the term was
// refused; renewal otherwise. The product that decides is the one scheduled for the next term
// (Scheduled: a pending product change applied), looked up in catalog: a plan of a retired product
// that moves to an orderable one at the term end renews onto it.
func RenewalActionFor(policy v1alpha1.RenewalPolicy, st v1alpha1.CustomerLicensePlanStatus, catalog map[string]*v1alpha1.LicenseProductSpec, renewalRefused bool) v1alpha1.RenewalAction {
	product := catalog[Scheduled(st).Product]
	switch {
	case !HasPlanInForce(st) || st.Term == nil:
		return v1alpha1.RenewalActionNone
	case st.PaymentPlan == v1alpha1.Trial, policy == v1alpha1.ExpireAtTermEnd, product != nil && availability(product) == v1alpha1.Retired, renewalRefused:
		return v1alpha1.RenewalActionExpire
	}
	return v1alpha1.RenewalActionRenew
}

// BillingSummary fills the plan's billing status from what is in force: the recurring charge of
// one period, the last day billed, and the date and amount of the next invoice: the next term,
// with any pending change applied, at nextPrice (the catalog's price of the product and payment
// plan scheduled for that term, in the BillingProfile's currency, which a Renewal is charged in;
// the price in force, in status.currency, when it has no amount). nextInvoiceCurrency names the
// next invoice's currency when it is not status.currency. totalBilled is kept as ApplyOrder left
// it. A plan with nothing in force has nothing recurring and no next invoice; a trial has a
// recurring charge of 0.00 and nothing billed.
func BillingSummary(st v1alpha1.CustomerLicensePlanStatus, action v1alpha1.RenewalAction, nextPrice v1alpha1.CurrencyAmount) *v1alpha1.BillingStatus {
	if st.Billing == nil && !HasPlanInForce(st) {
		return nil
	}
	b := &v1alpha1.BillingStatus{}
	if st.Billing != nil {
		b.TotalBilled, b.TotalsBilled = st.Billing.TotalBilled, st.Billing.TotalsBilled
	}
	price, err := ParseAmount(st.PricePerLicense)
	if !HasPlanInForce(st) || err != nil {
		return b
	}
	if recurring, err := TermCharge(st.Licenses, price); err == nil {
		b.RecurringCharge = recurring.Amount()
	}
	if st.Term == nil || st.PaymentPlan == v1alpha1.Trial {
		return b
	}
	if end, err := ParseDate(st.Term.End); err == nil {
		b.BilledThrough = FormatDate(end.AddDate(0, 0, -1))
	}
	if action == v1alpha1.RenewalActionRenew {
		if p, err := ParseAmount(nextPrice.Amount); err == nil {
			price = p
			if nextPrice.Currency != "" && nextPrice.Currency != st.Currency {
				b.NextInvoiceCurrency = nextPrice.Currency
			}
		}
		b.NextInvoiceDate = st.Term.End
		if next, err := TermCharge(Scheduled(st).Quantity, price); err == nil {
			b.NextInvoiceAmount = next.Amount()
		}
	}
	return b
}

// BilledTotals is what a plan was billed, one total per currency, sorted by currency: its
// billing status's totalsBilled, or, for a plan stored before that field, its totalBilled in
// currency (its status.currency; the operator's default, EUR, when empty). The list is a copy.
func BilledTotals(b *v1alpha1.BillingStatus, currency string) ([]v1alpha1.CurrencyAmount, error) {
	if b == nil {
		return nil, nil
	}
	if len(b.TotalsBilled) == 0 {
		if b.TotalBilled == "" {
			return nil, nil
		}
		if currency == "" {
			currency = Currency(nil)
		}
		if _, err := ParseAmount(b.TotalBilled); err != nil {
			return nil, fmt.Errorf("totalBilled: %w", err)
		}
		return []v1alpha1.CurrencyAmount{{Currency: currency, Amount: b.TotalBilled}}, nil
	}
	out := make([]v1alpha1.CurrencyAmount, len(b.TotalsBilled))
	copy(out, b.TotalsBilled)
	for _, t := range out {
		if _, err := ParseAmount(t.Amount); err != nil {
			return nil, fmt.Errorf("totalsBilled[%s]: %w", t.Currency, err)
		}
	}
	return out, nil
}

// checkBillable returns ErrOverflow when an order priced p cannot be recorded on the plan: its
// total billed with the charge added would be beyond MaxMoney.
func checkBillable(st v1alpha1.CustomerLicensePlanStatus, p Pricing) error {
	probe := *st.DeepCopy()
	return addBilled(&probe, &v1alpha1.Charge{Amount: p.Charge.Amount(), Currency: p.Currency})
}

// tooLarge is the refusal of an order (or of the spec that asks for it) whose charge cannot be
// represented: err says which figures overflow.
func tooLarge(o v1alpha1.LicenseOrderSpec, err error) Verdict {
	return fail(v1alpha1.ReasonChargeTooLarge,
		"the %s order of quantity %d x %s (%s) cannot be charged: %v; amounts stop at %s: lower spec.quantity",
		o.Change, o.Quantity, o.Product, o.PaymentPlan, err, MaxMoney.Amount())
}

// CheckChargeRepresentable refuses a spec whose orders due now (OrdersDue) cannot be charged
// because a charge, or the plan's total billed with it, is beyond MaxMoney. Admission runs it
// (JudgeSpec), so that such a spec is refused with its figures rather than accepted and then
// refused by the order reconciler.
func CheckChargeRepresentable(in DueInput) Verdict {
	st := *in.Status.DeepCopy()
	for _, o := range OrdersDue(in, MaxOrdersDue).Orders {
		err := o.PriceErr
		if err == nil {
			err = addBilled(&st, &v1alpha1.Charge{Amount: o.Pricing.Charge.Amount(), Currency: o.Pricing.Currency})
		}
		if errors.Is(err, ErrOverflow) {
			return tooLarge(o.OrderSpec(0), err)
		}
		if err != nil {
			return pass()
		}
	}
	return pass()
}
