package licensing

import (
	"maps"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The invariants of the plan-life model. Each expectation is computed by the oracle
// (model_oracle_test.go) from the stored objects and the model's own ledger.

const oForever = int64(1) << 40

func isChangeOrder(ch v1alpha1.OrderChange) bool {
	switch ch {
	case v1alpha1.ChangeNew, v1alpha1.ChangeTrial, v1alpha1.ChangeConversion, v1alpha1.ChangeIncreaseQuantity,
		v1alpha1.ChangeDecreaseQuantity, v1alpha1.ChangePaymentPlan, v1alpha1.ChangeProduct:
		return true
	}
	return false
}

// oDeferred reports whether a change order waits for the end of the term in force before it.
func oDeferred(pre v1alpha1.CustomerLicensePlanStatus, o v1alpha1.LicenseOrderSpec) bool {
	switch o.Change {
	case v1alpha1.ChangeIncreaseQuantity, v1alpha1.ChangeDecreaseQuantity, v1alpha1.ChangePaymentPlan, v1alpha1.ChangeProduct:
	default:
		return false
	}
	if pre.Term == nil {
		return false
	}
	end, ok1 := oParse(pre.Term.End)
	eff, ok2 := oParse(o.EffectiveDate)
	return ok1 && ok2 && eff.num() >= end.num()
}

// termSpan is the days a term of pp starting on start pays for, anchored on anchor.
func termSpan(start oDate, anchor int, pp v1alpha1.PaymentPlan) span {
	m := oMonths(pp)
	if m == 0 {
		return span{start.num(), oForever}
	}
	return span{start.num(), start.addMonths(m, anchor).num()}
}

// expectedCharges are the charges an order may carry: licenses x price x days, by the oracle.
// The price of a term is the catalog's when the order was placed or when it was fulfilled.
func (c *cluster) expectedCharges(o *v1alpha1.LicenseOrder, f mFulfilment) []int64 {
	spec, pre := o.Spec, f.pre
	prices := []int64{}
	if p, ok := c.placedPrice[o.Name]; ok {
		prices = append(prices, p)
	}
	if f.priceOK {
		prices = append(prices, f.price)
	}
	q := int64(spec.Quantity)
	var out []int64
	switch {
	case spec.Change == v1alpha1.ChangeExpiry, spec.Change == v1alpha1.ChangeCancellation, spec.Change == v1alpha1.ChangeTrial:
		return []int64{0}
	case pre.PaymentPlan == v1alpha1.Trial && spec.PaymentPlan == v1alpha1.Trial && spec.Change != v1alpha1.ChangeConversion:
		return []int64{0}
	case oDeferred(pre, spec):
		return []int64{0}
	}
	switch spec.Change {
	case v1alpha1.ChangeNew, v1alpha1.ChangeRenewal, v1alpha1.ChangeConversion, v1alpha1.ChangePaymentPlan:
		for _, p := range prices {
			out = append(out, q*p)
		}
	case v1alpha1.ChangeIncreaseQuantity, v1alpha1.ChangeDecreaseQuantity:
		price, _ := oMoney(pre.PricePerLicense)
		added := max(q-int64(pre.Licenses), 0)
		out = append(out, c.prorated(pre, spec, added, price))
	case v1alpha1.ChangeProduct:
		old, _ := oMoney(pre.PricePerLicense)
		for _, p := range prices {
			out = append(out, c.prorated(pre, spec, int64(pre.Licenses), max(p-old, 0)))
		}
	}
	return out
}

func (c *cluster) prorated(pre v1alpha1.CustomerLicensePlanStatus, spec v1alpha1.LicenseOrderSpec, licenses, price int64) int64 {
	if pre.Term == nil {
		return licenses * price
	}
	start, _ := oParse(pre.Term.Start)
	end, _ := oParse(pre.Term.End)
	eff, _ := oParse(spec.EffectiveDate)
	from := max(eff.num(), start.num())
	return oProrate(licenses, price, end.num()-from, end.num()-start.num())
}

// onFulfilled checks an order as it is fulfilled (its charge, its approval, why it expires a
// plan) and records what it paid for in its instance's ledger.
func (c *cluster) onFulfilled(o *v1alpha1.LicenseOrder, f mFulfilment) {
	c.t.Helper()
	in := c.insts[c.orderInst[o.Name]]
	spec := o.Spec
	charge := int64(0)
	if o.Status.Charge != nil && o.Status.Charge.Amount != "" {
		var ok bool
		if charge, ok = oMoney(o.Status.Charge.Amount); !ok {
			c.fail("money: order %s has charge %q, not an amount", o.Name, o.Status.Charge.Amount)
		}
	}
	// money: every charge is licenses x price x days.
	want := c.expectedCharges(o, f)
	if len(want) > 0 && !containsInt(want, charge) {
		ws := []string{}
		for _, w := range want {
			ws = append(ws, oFormat(w))
		}
		c.fail("money: order %s (%s of %d x %s %s, effective %s) charged %s, the oracle computes %s",
			o.Name, spec.Change, spec.Quantity, spec.Product, spec.PaymentPlan, spec.EffectiveDate, oFormat(charge), strings.Join(ws, " or "))
	}
	// quote = bill, for a charge quoted when the order was placed ahead of its term.
	if q, ok := c.quotedLater[o.Name]; ok && q != charge {
		c.fail("quote = bill: order %s was quoted %s when it was placed and is charged %s, nothing else having changed", o.Name, oFormat(q), oFormat(charge))
	}
	// approval: a charge above the threshold was approved by a person at that very amount. The
	// threshold is the BillingProfile's when the order was approved: automatically, the charge
	// is within it; by a person, at the amount they saw.
	if spec.Change != v1alpha1.ChangeExpiry && spec.Change != v1alpha1.ChangeCancellation {
		if got, ok := c.approvedAt[o.Name]; ok {
			if amt, _ := oMoney(got); amt != charge {
				c.fail("approval: order %s was approved by a person at %q and charged %s", o.Name, got, oFormat(charge))
			}
		} else if p := c.autoApproved[o.Name]; p != nil {
			limit, limited := oMoney(p.Approval.ManualAbove)
			if p.Approval.Mode == v1alpha1.ManualApproval || limited && charge > limit {
				c.fail("approval: order %s was approved automatically under manualAbove %q (mode %s) and charged %s, above it, without a person",
					o.Name, p.Approval.ManualAbove, p.Approval.Mode, oFormat(charge))
			}
		} else if p := f.profile; p != nil {
			c.fail("approval: order %s was fulfilled with no approval, by a person or the BillingProfile's policy", o.Name)
		}
	}
	if in == nil {
		return
	}
	eff, _ := oParse(spec.EffectiveDate)
	placed := oDay(o.CreationTimestamp.Time)
	switch spec.Change {
	case v1alpha1.ChangeNew:
		start := eff
		switch {
		case in.expired:
		case in.hasStart:
			start = in.startDate
		default:
			if s, ok := oParse(f.spec.StartDate); ok {
				start = s
			}
		}
		in.startDate, in.hasStart, in.expired, in.anchor = start, true, false, start.d
		in.paid = append(in.paid, termSpan(start, start.d, spec.PaymentPlan))
		if start.num() > placed && start.num()-placed <= modelStartAheadDays {
			in.exempt = append(in.exempt, span{placed, start.num()})
		}
	case v1alpha1.ChangeTrial:
		days := int64(0)
		if p := c.products[spec.Product]; p != nil && p.Trial != nil {
			days = int64(p.Trial.Days)
		}
		today := oDay(c.now)
		in.trial = append(in.trial, span{today, today + days})
		in.expired = false
		if !in.hasStart {
			if s, ok := oParse(f.spec.StartDate); ok {
				in.startDate, in.hasStart = s, true
			}
		}
	case v1alpha1.ChangeConversion:
		in.startDate, in.hasStart, in.anchor = eff, true, eff.d
		in.paid = append(in.paid, termSpan(eff, eff.d, spec.PaymentPlan))
	case v1alpha1.ChangePaymentPlan:
		if !oDeferred(f.pre, spec) {
			// A plan without a term (OneTime) starts its first term on the day of the change.
			in.anchor = eff.d
			in.paid = append(in.paid, termSpan(eff, eff.d, spec.PaymentPlan))
		}
	case v1alpha1.ChangeRenewal:
		if f.pre.Term != nil && string(f.pre.Term.End) != string(spec.EffectiveDate) {
			c.fail("bounded orders: renewal %s is effective %s but the term in force ends %s", o.Name, spec.EffectiveDate, f.pre.Term.End)
		}
		if eff.num() <= in.lastRenew {
			c.fail("bounded orders: renewal %s is effective %s, not after the previous renewal (%s): one renewal per term", o.Name, spec.EffectiveDate, dayString(in.lastRenew))
		}
		in.lastRenew = eff.num()
		in.paid = append(in.paid, termSpan(eff, in.anchor, spec.PaymentPlan))
	case v1alpha1.ChangeExpiry:
		c.checkExpiry(o, f)
		in.expired = true
	}
	if spec.Change == v1alpha1.ChangeCancellation && f.pre.Licenses > 0 && f.pre.ExpiredOn == "" && f.pre.PaymentPlan != v1alpha1.Trial {
		paidTo := int64(0)
		for _, p := range in.paid {
			paidTo = max(paidTo, p.to)
		}
		for _, p := range in.exempt {
			paidTo = max(paidTo, p.to)
		}
		if paidTo > 0 && eff.num() > paidTo {
			c.fail("no free days: order %s cancels plan %s on %s, but its last charged day is %s: the days in between were held and never charged",
				o.Name, o.Spec.Plan, spec.EffectiveDate, dayString(paidTo-1))
		}
	}
	if spec.Change == v1alpha1.ChangeExpiry || spec.Change == v1alpha1.ChangeCancellation {
		// The licenses end on the effective date, also when the order is recorded later (an
		// operator that was down): the days after it were not held.
		kept := in.inForce[:0]
		for _, f := range in.inForce {
			f.to = min(f.to, max(f.from, eff.num()))
			if f.to > f.from {
				kept = append(kept, f)
			}
		}
		in.inForce = kept
	}
}

// checkExpiry: a plan expires at its term end only when it must: a trial, the ExpireAtTermEnd
// policy, a renewal refused, or the product scheduled for the next term not renewable.
func (c *cluster) checkExpiry(o *v1alpha1.LicenseOrder, f mFulfilment) {
	c.t.Helper()
	pre := f.pre
	if pre.PaymentPlan == v1alpha1.Trial || f.spec.Renewal.Policy == v1alpha1.ExpireAtTermEnd {
		return
	}
	product, pp := pre.Product, pre.PaymentPlan
	if pc := pre.PendingChange; pc != nil {
		if pc.Product != "" {
			product = pc.Product
		}
		if pc.PaymentPlan != "" {
			pp = pc.PaymentPlan
		}
	}
	p := c.products[product]
	if p == nil || p.Availability == v1alpha1.Retired {
		return
	}
	if _, ok := oPrice(p, pp); !ok {
		return
	}
	for _, other := range c.ordersOf(o.Spec.Plan) {
		if other.Spec.Change == v1alpha1.ChangeRenewal && other.Spec.EffectiveDate == o.Spec.EffectiveDate && other.Status.State == v1alpha1.OrderRejected {
			return // the renewal was refused
		}
	}
	c.fail("renewal: order %s expires plan %s on %s, but the product scheduled for the next term, %s (%s), is %s and offers %s",
		o.Name, o.Spec.Plan, o.Spec.EffectiveDate, product, p.DisplayName, availabilityOf(p), pp)
}

func availabilityOf(p *v1alpha1.LicenseProductSpec) v1alpha1.Availability {
	if p.Availability == "" {
		return v1alpha1.Orderable
	}
	return p.Availability
}

func containsInt(xs []int64, x int64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// checkInvariants checks, after a fixpoint, every plan and instance.
func (c *cluster) checkInvariants() {
	c.t.Helper()
	today := oDay(c.now)
	for _, k := range sortedKeys(c.refused) {
		c.fail("progress: %s: the controller retries it forever", c.refused[k])
	}
	live := map[string]bool{}
	for _, name := range c.planNames() {
		p := c.plans[name]
		live[string(p.UID)] = true
		st := p.Status
		in := c.insts[p.UID]
		ready := meta.FindStatusCondition(st.Conditions, v1alpha1.PlanReady)
		inForce := st.Revision > 0 && st.Product != "" && st.ExpiredOn == "" && st.CancelledOn == "" && st.Licenses > 0
		// honest status
		if p.DeletionTimestamp.IsZero() {
			if ready == nil {
				c.fail("honest status: plan %s has no Ready condition after its reconcile", name)
			}
			if ready.Status == metav1.ConditionTrue && !inForce {
				c.fail("honest status: plan %s is Ready=True (%s) without licenses in force", name, ready.Message)
			}
			if ready.Reason == v1alpha1.ReasonOrderPending && !strings.Contains(ready.Message, "waits for the required plan") && !c.hasOpenOrder(name) {
				c.fail("progress: plan %s says %q but no order of it is open and nothing more happens", name, ready.Message)
			}
		}
		// every term has at least one day, and is anchored as the oracle says
		if st.Term != nil && inForce {
			s, ok1 := oParse(st.Term.Start)
			e, ok2 := oParse(st.Term.End)
			if !ok1 || !ok2 || e.num() <= s.num() {
				c.fail("bounded orders: plan %s has a term %s..%s of less than one day", name, st.Term.Start, st.Term.End)
			}
			if in != nil && st.PaymentPlan != v1alpha1.Trial && in.anchor > 0 {
				if want := termSpan(s, in.anchor, st.PaymentPlan); want.to != e.num() {
					c.fail("terms: plan %s has the term %s..%s; a %s term from %s anchored on day %d ends %s",
						name, st.Term.Start, st.Term.End, st.PaymentPlan, s, in.anchor, dayString(want.to))
				}
			}
		}
		if in == nil {
			continue
		}
		// another instance's orders
		if st.LastOrder != "" {
			if uid := c.orderInst[st.LastOrder]; uid != p.UID {
				c.fail("identity: plan %s (%s) holds order %s of another plan instance (%s)", name, p.UID, st.LastOrder, uid)
			}
		}
		// money conserved: the totals billed, one per currency, are the sums of this instance's
		// applied charges in each currency; two currencies are never added.
		sums := map[string]int64{}
		for _, o := range c.ordersOf(name) {
			if c.orderInst[o.Name] != p.UID || o.Status.State != v1alpha1.OrderFulfilled || o.Spec.Revision > st.Revision || o.Status.Charge == nil {
				continue
			}
			m, _ := oMoney(o.Status.Charge.Amount)
			if m != 0 {
				sums[o.Status.Charge.Currency] += m
			}
		}
		totals := map[string]int64{}
		if b := st.Billing; b != nil {
			for _, t := range b.TotalsBilled {
				m, _ := oMoney(t.Amount)
				if m != 0 {
					totals[t.Currency] += m
				}
			}
			if b.TotalBilled != "" {
				if len(b.TotalsBilled) > 0 {
					c.fail("money: plan %s shows both totalBilled %s and totalsBilled %v", name, b.TotalBilled, b.TotalsBilled)
				}
				if m, _ := oMoney(b.TotalBilled); m != 0 {
					totals[st.Currency] += m
				}
			}
		}
		if !maps.Equal(totals, sums) {
			c.fail("money: plan %s shows totals billed %v (status.currency %s); its own fulfilled, applied orders charged %v", name, totals, st.Currency, sums)
		}
	}
	// Per instance, alive or deleted.
	for _, uid := range c.instOrder {
		in := c.insts[uid]
		var changeOrders, total, termOrders, cancellations int
		open := false
		for n, o := range c.orders {
			if c.orderInst[n] != uid {
				continue
			}
			total++
			switch {
			case o.Status.State == v1alpha1.OrderFulfilled && isChangeOrder(o.Spec.Change):
				changeOrders++
			case IsTermOrder(o.Spec.Change) && o.Status.State == v1alpha1.OrderFulfilled:
				termOrders++
			case o.Spec.Change == v1alpha1.ChangeCancellation:
				cancellations++
			}
			if !IsSettled(o) {
				open = true
				if o.Status.State != v1alpha1.OrderAwaitingApproval {
					due, ok := oParse(o.Spec.EffectiveDate)
					if !IsTermOrder(o.Spec.Change) || !ok || due.num() <= today {
						c.fail("progress: order %s (%s) is %q and never settles", n, o.Spec.Change, o.Status.State)
					}
				}
			}
		}
		if changeOrders > in.changes {
			c.fail("bounded orders: plan %s (%s) has %d fulfilled change orders for %d changes of its product, quantity or payment plan", in.name, uid, changeOrders, in.changes)
		}
		if cancellations > 1 {
			c.fail("bounded orders: plan %s (%s) has %d Cancellation orders", in.name, uid, cancellations)
		}
		// A change of the spec that the rules refuse is ordered again, and refused again, after
		// each term order: the plan judges a refusal on its latest order, which the term order
		// replaces. So each term order may bring one refused order with it.
		if limit := 2*(in.changes+in.events) + 2*termOrders + 2; total > limit {
			c.fail("bounded orders: plan %s (%s) has %d orders for %d changes, %d other events and %d terms ended", in.name, uid, total, in.changes, in.events, termOrders)
		}
		// no free days
		if open && c.hasAwaiting(uid) {
			continue // a person decides: the days in between are judged once they have
		}
		paid := append(append([]span{}, in.paid...), in.exempt...)
		for _, f := range in.inForce {
			cover := paid
			if f.trial {
				// A trial held past its days while its Conversion awaited a person is paid
				// once the Conversion is approved: it is charged from the day it was asked for.
				cover = append(append([]span{}, in.trial...), paid...)
			}
			s := f.span
			if s.to > today+1 {
				s.to = today + 1
			}
			if gaps := uncovered(s, cover); len(gaps) > 0 {
				kind := "paid"
				if f.trial {
					kind = "trial"
				}
				if in.hasStart && gaps[0].to <= in.startDate.num() {
					kind += " licenses before the start date " + in.startDate.String() + ", that is"
				}
				c.fail("no free days: plan %s (%s) held %s licenses from %s to %s, which no order charged (trial days allowed: %v)",
					in.name, uid, kind, dayString(gaps[0].from), dayString(gaps[0].to-1), spansString(in.trial))
			}
		}
	}
}

func (c *cluster) hasOpenOrder(plan string) bool {
	for _, o := range c.ordersOf(plan) {
		if !IsSettled(o) {
			return true
		}
	}
	return false
}

func (c *cluster) hasAwaiting(uid types.UID) bool {
	for n, o := range c.orders {
		if c.orderInst[n] == uid && o.Status.State == v1alpha1.OrderAwaitingApproval {
			return true
		}
	}
	return false
}

func spansString(ss []span) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, dayString(s.from)+".."+dayString(s.to))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// checkQuote: the orders placed at a change are the ones admission previewed, at the charges it
// quoted; one placed ahead of its term is checked when it is fulfilled.
func (c *cluster) checkQuote(q *mQuote) {
	c.t.Helper()
	if q == nil {
		return
	}
	var placed []*v1alpha1.LicenseOrder
	for _, n := range c.orderNames() {
		if !q.before[n] && c.orderInst[n] == q.uid && c.orders[n].Spec.Change != v1alpha1.ChangeCancellation {
			placed = append(placed, c.orders[n])
		}
	}
	quoted := q.due.Orders
	if o := c.orders[q.waitsFor]; o != nil && !IsSettled(o) {
		// The preview said the plan waits for this order, and it does: nothing is placed until
		// it settles, and what is placed then is judged by the other invariants.
		if len(placed) > 0 {
			c.fail("quote = bill: admission said the orders due wait for %s, and %s (%s) was placed while it is open: %q",
				q.waitsFor, placed[0].Name, placed[0].Spec.Change, q.lines)
		}
		return
	}
	if o := c.orders[q.inFlight]; o != nil && len(quoted) > 0 && quoted[0].Same(o.Spec) {
		// The order the spec asks for is the one in flight: it is not placed again, and those
		// after it wait for it to settle.
		if !IsSettled(o) {
			return
		}
		quoted = quoted[1:]
	}
	switch {
	case q.inFlight != "":
		// Say so: admission's preview does not look at an order in flight.
		c.failPrefix = "(order " + q.inFlight + " was in flight at the change) "
	case q.refused != "":
		c.failPrefix = "(order " + q.refused + " was refused before the change) "
	}
	defer func() { c.failPrefix = "" }()
	for i, o := range placed {
		if i >= len(quoted) {
			c.fail("quote = bill: order %s (%s of %d x %s %s effective %s) was placed at the change, but admission quoted %d orders: %q",
				o.Name, o.Spec.Change, o.Spec.Quantity, o.Spec.Product, o.Spec.PaymentPlan, o.Spec.EffectiveDate, len(quoted), q.lines)
		}
		w := quoted[i]
		if w.Change != o.Spec.Change || w.Quantity != o.Spec.Quantity || w.Product != o.Spec.Product || w.PaymentPlan != o.Spec.PaymentPlan ||
			FormatDate(w.EffectiveDate) != o.Spec.EffectiveDate {
			c.fail("quote = bill: admission quoted %s of %d x %s %s effective %s as order %d, and %s (%s of %d x %s %s effective %s) was placed: %q",
				w.Change, w.Quantity, w.Product, w.PaymentPlan, w.EffectiveDate.Format("2006-01-02"), i+1,
				o.Name, o.Spec.Change, o.Spec.Quantity, o.Spec.Product, o.Spec.PaymentPlan, o.Spec.EffectiveDate, q.lines)
		}
		switch o.Status.State {
		case v1alpha1.OrderFulfilled:
			got, _ := oMoney(o.Status.Charge.Amount)
			if w.PriceErr != nil || int64(w.Pricing.Charge) != got {
				c.fail("quote = bill: order %s (%s) was quoted %s (%v) and charged %s", o.Name, o.Spec.Change, w.Pricing.Charge, w.PriceErr, o.Status.Charge.Amount)
			}
		case v1alpha1.OrderRejected, v1alpha1.OrderAwaitingApproval:
			return
		default:
			if w.PriceErr == nil {
				c.quotedLater[o.Name] = int64(w.Pricing.Charge)
			}
			return
		}
	}
	if len(placed) < len(quoted) {
		if p := c.plans[q.plan]; p != nil {
			if r := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady); r != nil && strings.Contains(r.Message, "waits for the required plan") {
				return
			}
		}
		w := quoted[len(placed)]
		c.fail("quote = bill: admission quoted %d orders (%q), the plan placed %d at the change: %s of %d x %s %s effective %s was quoted and not placed",
			len(quoted), q.lines, len(placed), w.Change, w.Quantity, w.Product, w.PaymentPlan, w.EffectiveDate.Format("2006-01-02"))
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
