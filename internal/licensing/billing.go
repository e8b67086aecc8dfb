package licensing

import (
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
// plan scheduled for that term; the price in force when it is empty). totalBilled is kept as
// ApplyOrder left it. A plan with nothing in force has nothing recurring and no next invoice; a
// trial has a recurring charge of 0.00 and nothing billed.
func BillingSummary(st v1alpha1.CustomerLicensePlanStatus, action v1alpha1.RenewalAction, nextPrice v1alpha1.Amount) *v1alpha1.BillingStatus {
	if st.Billing == nil && !HasPlanInForce(st) {
		return nil
	}
	b := &v1alpha1.BillingStatus{}
	if st.Billing != nil {
		b.TotalBilled = st.Billing.TotalBilled
	}
	price, err := ParseAmount(st.PricePerLicense)
	if !HasPlanInForce(st) || err != nil {
		return b
	}
	b.RecurringCharge = TermCharge(st.Licenses, price).Amount()
	if st.Term == nil || st.PaymentPlan == v1alpha1.Trial {
		return b
	}
	if end, err := ParseDate(st.Term.End); err == nil {
		b.BilledThrough = FormatDate(end.AddDate(0, 0, -1))
	}
	if action == v1alpha1.RenewalActionRenew {
		if p, err := ParseAmount(nextPrice); err == nil {
			price = p
		}
		b.NextInvoiceDate = st.Term.End
		b.NextInvoiceAmount = TermCharge(Scheduled(st).Quantity, price).Amount()
	}
	return b
}
