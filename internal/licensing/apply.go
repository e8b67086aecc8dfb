package licensing

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// ApplyOrder returns the plan status after a fulfilled order took effect: the order's revision
// becomes the plan's, changes that take effect at once change what is in force, and changes that
// wait for the next term go to pendingChange. The order's charge is added to totalBilled, so
// applying each order once (guarded by revision) charges it once.
//
// startDate is the plan's billing start date; it is used by New and Trial orders.
func ApplyOrder(st v1alpha1.CustomerLicensePlanStatus, o *v1alpha1.LicenseOrder, startDate time.Time) (v1alpha1.CustomerLicensePlanStatus, error) {
	if o.Status.State != v1alpha1.OrderFulfilled {
		return st, fmt.Errorf("order %s is %s, not Fulfilled", o.Name, o.Status.State)
	}
	if o.Spec.Revision <= st.Revision {
		return st, fmt.Errorf("order %s has revision %d but the plan is at revision %d already", o.Name, o.Spec.Revision, st.Revision)
	}
	out := *st.DeepCopy()
	spec := o.Spec
	deferred := IsDeferred(out, spec)
	switch spec.Change {
	case v1alpha1.ChangeNew:
		out.Product, out.SKU, out.Licenses, out.PaymentPlan = spec.Product, spec.SKU, spec.Quantity, spec.PaymentPlan
		out.PricePerLicense = o.Status.PricePerLicense
		out.StartDate = FormatDate(Day(startDate))
		out.PendingChange = nil
		out.ExpiredOn, out.ExpiredWith = "", nil
		start := Day(startDate)
		setTerm(&out, termFrom(start, start.Day(), spec.PaymentPlan))
	case v1alpha1.ChangeTrial:
		end, err := ParseDate(spec.TrialEnd)
		if err != nil {
			return st, fmt.Errorf("order %s: spec.trialEnd: %w", o.Name, err)
		}
		// A trial runs from the day it is ordered, the day its licenses are in force (TrialEnd).
		start, err := ParseDate(spec.EffectiveDate)
		if err != nil {
			return st, fmt.Errorf("order %s: spec.effectiveDate: %w", o.Name, err)
		}
		out.Product, out.SKU, out.Licenses, out.PaymentPlan = spec.Product, spec.SKU, spec.Quantity, spec.PaymentPlan
		out.PricePerLicense = o.Status.PricePerLicense
		out.StartDate = FormatDate(start)
		out.PendingChange = nil
		out.ExpiredOn, out.ExpiredWith = "", nil
		setTerm(&out, &Term{Start: start, End: end})
	case v1alpha1.ChangeConversion:
		// Billing starts on the conversion's day, which anchors every later term.
		eff, err := ParseDate(spec.EffectiveDate)
		if err != nil {
			return st, fmt.Errorf("order %s: spec.effectiveDate: %w", o.Name, err)
		}
		out.Licenses, out.PaymentPlan = spec.Quantity, spec.PaymentPlan
		out.PricePerLicense = o.Status.PricePerLicense
		out.StartDate = spec.EffectiveDate
		out.PendingChange = nil
		setTerm(&out, termFrom(eff, eff.Day(), spec.PaymentPlan))
	case v1alpha1.ChangeIncreaseQuantity, v1alpha1.ChangeDecreaseQuantity:
		if deferred {
			q := spec.Quantity
			pending(&out, spec.EffectiveDate).Quantity = &q
		} else {
			out.Licenses = spec.Quantity
			if out.PendingChange != nil {
				out.PendingChange.Quantity = nil
			}
		}
	case v1alpha1.ChangePaymentPlan:
		if deferred {
			pending(&out, spec.EffectiveDate).PaymentPlan = spec.PaymentPlan
		} else {
			// Only a plan without a term (OneTime) changes its payment plan at once: its first
			// term starts on the day of the change, which anchors every later term, as a
			// Conversion does.
			eff, err := ParseDate(spec.EffectiveDate)
			if err != nil {
				return st, fmt.Errorf("order %s: spec.effectiveDate: %w", o.Name, err)
			}
			out.PaymentPlan = spec.PaymentPlan
			out.PricePerLicense = o.Status.PricePerLicense
			out.StartDate = spec.EffectiveDate
			setTerm(&out, termFrom(eff, eff.Day(), spec.PaymentPlan))
		}
	case v1alpha1.ChangeProduct:
		if deferred {
			pending(&out, spec.EffectiveDate).Product = spec.Product
		} else {
			out.Product, out.SKU = spec.Product, spec.SKU
			out.PricePerLicense = o.Status.PricePerLicense
			if out.PendingChange != nil {
				out.PendingChange.Product = ""
			}
		}
	case v1alpha1.ChangeRenewal:
		cur, ok := currentTerm(out)
		if !ok {
			return st, fmt.Errorf("order %s: a renewal needs a plan with a term", o.Name)
		}
		out.Product, out.SKU, out.Licenses, out.PaymentPlan = spec.Product, spec.SKU, spec.Quantity, spec.PaymentPlan
		out.PricePerLicense = o.Status.PricePerLicense
		out.PendingChange = nil
		// A renewal onto OneTime charges it once and leaves the plan without a term: it never
		// renews again.
		setTerm(&out, termFrom(cur.End, anchorDay(out), spec.PaymentPlan))
	case v1alpha1.ChangeExpiry, v1alpha1.ChangeCancellation:
		out.Licenses = 0
		out.PendingChange = nil
		if spec.Change == v1alpha1.ChangeExpiry {
			out.ExpiredOn = spec.EffectiveDate
		} else {
			out.CancelledOn = spec.EffectiveDate
		}
	default:
		return st, fmt.Errorf("order %s: change %q is unknown", o.Name, spec.Change)
	}
	out.PendingChange = prunePending(out)
	out.Revision, out.LastOrder = spec.Revision, o.Name
	if c := o.Status.Charge; c != nil {
		if err := addBilled(&out, c); err != nil {
			return st, fmt.Errorf("order %s: %w", o.Name, err)
		}
	}
	return out, nil
}

// termFrom is the term of payment plan pp that starts on start, anchored on anchor; nil for a
// payment plan without terms (OneTime), so that no plan ever holds a term of zero days.
func termFrom(start time.Time, anchor int, pp v1alpha1.PaymentPlan) *Term {
	if !Renews(pp) {
		return nil
	}
	return &Term{Start: start, End: TermEnd(start, anchor, pp)}
}

func setTerm(st *v1alpha1.CustomerLicensePlanStatus, t *Term) {
	if t == nil {
		st.Term, st.RenewalDate = nil, ""
		return
	}
	st.Term = &v1alpha1.Term{Start: FormatDate(t.Start), End: FormatDate(t.End)}
	st.RenewalDate = FormatDate(t.End)
}

// anchorDay is the day of month the plan's terms are anchored on: the day of its start date.
func anchorDay(st v1alpha1.CustomerLicensePlanStatus) int {
	if d, err := ParseDate(st.StartDate); err == nil {
		return d.Day()
	}
	return 1
}

func pending(st *v1alpha1.CustomerLicensePlanStatus, eff v1alpha1.Date) *v1alpha1.PendingChange {
	if st.PendingChange == nil {
		st.PendingChange = &v1alpha1.PendingChange{}
	}
	st.PendingChange.EffectiveDate = eff
	return st.PendingChange
}

// prunePending drops pending values equal to what is in force, and the pending change when
// nothing is left of it.
func prunePending(st v1alpha1.CustomerLicensePlanStatus) *v1alpha1.PendingChange {
	pc := st.PendingChange
	if pc == nil {
		return nil
	}
	if pc.Product == st.Product {
		pc.Product = ""
	}
	if pc.Quantity != nil && *pc.Quantity == st.Licenses {
		pc.Quantity = nil
	}
	if pc.PaymentPlan == st.PaymentPlan {
		pc.PaymentPlan = ""
	}
	if pc.Product == "" && pc.Quantity == nil && pc.PaymentPlan == "" {
		return nil
	}
	return pc
}

// addBilled adds a fulfilled order's charge to the plan's total in the charge's currency, and makes
// that currency the plan's (status.currency), the currency of the price the order left in force
// (ChargeCurrency). Amounts of two currencies are never added: while the plan was charged in one
// currency, status.currency, totalBilled holds its total and totalsBilled is empty; otherwise
// totalsBilled holds one total per currency and totalBilled is empty. A plan stored before
// totalsBilled existed has its totalBilled taken as its total in its status.currency.
func addBilled(st *v1alpha1.CustomerLicensePlanStatus, c *v1alpha1.Charge) error {
	prev := st.Currency
	if c.Currency != "" {
		st.Currency = c.Currency
	}
	if c.Amount == "" {
		return nil
	}
	charge, err := ParseAmount(c.Amount)
	if err != nil {
		return fmt.Errorf("charge: %w", err)
	}
	totals, err := BilledTotals(st.Billing, prev)
	if err != nil {
		return err
	}
	cur := st.Currency
	if cur == "" {
		cur = Currency(nil)
	}
	i := slices.IndexFunc(totals, func(t v1alpha1.CurrencyAmount) bool { return t.Currency == cur })
	switch {
	case i >= 0:
		total, _ := ParseAmount(totals[i].Amount) // BilledTotals parsed it
		sum, err := Add(total, charge)
		if err != nil {
			return fmt.Errorf("totalBilled %s %s + charge %s %s: %w", total, cur, charge, cur, err)
		}
		totals[i].Amount = sum.Amount()
	case charge != 0 || len(totals) == 0:
		// A charge of nothing in a new currency adds no total of its own.
		totals = append(totals, v1alpha1.CurrencyAmount{Currency: cur, Amount: charge.Amount()})
		slices.SortFunc(totals, func(a, b v1alpha1.CurrencyAmount) int { return strings.Compare(a.Currency, b.Currency) })
	}
	// A new BillingStatus: st is often a shallow copy whose Billing its caller still holds.
	b := &v1alpha1.BillingStatus{}
	if st.Billing != nil {
		b = st.Billing.DeepCopy()
	}
	b.TotalsBilled, b.TotalBilled = totals, ""
	if len(totals) == 1 && totals[0].Currency == cur {
		// One currency, the plan's: totalBilled says it all, as on plans stored before.
		b.TotalsBilled, b.TotalBilled = nil, totals[0].Amount
	}
	st.Billing = b
	return nil
}
