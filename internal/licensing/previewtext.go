package licensing

import (
	"fmt"
	"strings"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Sentences states the preview in words, one sentence per admission warning: the total of several
// orders, the first order, what it is charged and why, approval, usage, the orders after it, and
// what the orders wait for. It returns no sentence when nothing is ordered.
func (p PlanPreview) Sentences() []string {
	var out []string
	for _, l := range p.lines() {
		out = append(out, l.text)
	}
	return out
}

// Notes are the sentences a person should read beside a table of the orders: what the orders wait
// for, a backdated start date, a rejection, a requirement not met, approval, usage not covered,
// a charge or total that cannot be computed, the order placed later, and more orders to follow.
func (p PlanPreview) Notes() []string {
	var out []string
	for _, l := range p.lines() {
		if l.note {
			out = append(out, l.text)
		}
	}
	return out
}

// PreviewRun is an order of a preview, or a run of alike orders (the catch-up renewals of a
// backdated plan): Count of them, effective from the order's effective date to Last.
type PreviewRun struct {
	PreviewOrder
	Count int
	Last  v1alpha1.Date
}

// Runs are the orders of the preview, the first on its own and the later ones in runs of alike
// orders; only the first when it would be rejected, since nothing is ordered then.
func (p PlanPreview) Runs() []PreviewRun {
	if len(p.Orders) == 0 {
		return nil
	}
	runs := []PreviewRun{{PreviewOrder: p.Orders[0], Count: 1, Last: p.Orders[0].EffectiveDate}}
	if p.Rejected != nil {
		return runs
	}
	later := p.Orders[1:]
	for i := 0; i < len(later); {
		j := i + 1
		for j < len(later) && alike(later[i], later[j]) {
			j++
		}
		runs = append(runs, PreviewRun{PreviewOrder: later[i], Count: j - i, Last: later[j-1].EffectiveDate})
		i = j
	}
	return runs
}

func alike(a, b PreviewOrder) bool {
	return a.Change == b.Change && a.Quantity == b.Quantity && a.Product == b.Product && a.PaymentPlan == b.PaymentPlan &&
		a.Charge != nil && b.Charge != nil && a.Charge.Amount == b.Charge.Amount
}

// previewLine is a sentence of a preview, and whether it is a note (Notes).
type previewLine struct {
	text string
	note bool
}

func (p PlanPreview) lines() []previewLine {
	if len(p.Orders) == 0 {
		return nil
	}
	var lines []previewLine
	add := func(note bool, format string, args ...any) {
		lines = append(lines, previewLine{text: fmt.Sprintf(format, args...), note: note})
	}
	n := len(p.Orders)
	if o := p.WaitsFor; o != nil {
		state := string(o.State)
		if state == "" {
			state = "placed"
		}
		add(true, "waits: order %s (%s: %d x %s, %s) is %s; the plan orders nothing more until it settles, and then what follows",
			o.Name, o.Change, o.Quantity, o.Product, o.PaymentPlan, state)
	}
	if n > 1 {
		if p.TotalError != "" {
			add(true, "%d orders at once (%s)", n, p.TotalError)
		} else {
			add(false, "%d orders at once, %s in all", n, totalText(p.Total))
		}
		if b := p.Backdated; b != nil {
			terms := fmt.Sprintf("the %d terms that ended since are", b.Renewals)
			if b.Renewals == 1 {
				terms = "the term that ended since is"
			}
			add(true, "start date: spec.startDate %s is more than one term in the past: %s billed at once, one Renewal each. If the date is a mistake, correct it now: startDate cannot change once set",
				b.StartDate, terms)
		}
	}
	first := p.Orders[0]
	head := "an order"
	if n > 1 {
		head = fmt.Sprintf("order 1 of %d", n)
	}
	add(false, "%s: %s", head, orderText(first))
	if r := p.Rejected; r != nil {
		add(true, "the order would be rejected, %s: %s", r.Reason, r.Message)
		return lines
	}
	if p.Requirement != "" {
		add(true, "requirement: %s (the order waits while a required plan is being ordered, and is rejected otherwise)", p.Requirement)
	}
	if c := first.Charge; c != nil {
		add(false, "charge: %s %s (%s)", c.Amount, c.Currency, c.Description)
	} else {
		add(true, "charge: cannot be computed: %s", first.ChargeError)
	}
	if a := p.Approval; a != nil {
		if n == 1 {
			add(true, "approval: the order will wait for a person's approval, because %s", a.Because)
		} else {
			add(true, "approval: %d of the %d orders will wait for a person's approval, one after the other, because %s", a.Waiting, n, a.Because)
		}
	}
	if p.Assigned <= first.Quantity {
		add(false, "usage: covered, %d of the %d licenses ordered are assigned", p.Assigned, first.Quantity)
	} else {
		add(true, "usage: not covered, %d licenses are assigned and %d ordered", p.Assigned, first.Quantity)
	}
	i := 2
	for _, r := range p.Runs()[1:] {
		if r.Count == 1 {
			add(false, "order %d of %d: %s, charge %s", i, n, orderText(r.PreviewOrder), chargeOrNot(r.PreviewOrder))
		} else {
			add(false, "orders %d to %d of %d: %d %s orders of %d x %s (%s), effective %s to %s, %s each",
				i, i+r.Count-1, n, r.Count, r.Change, r.Quantity, r.Product, r.PaymentPlan, r.EffectiveDate, r.Last, chargeOrNot(r.PreviewOrder))
		}
		i += r.Count
	}
	if o := p.Then; o != nil {
		charge := chargeOrNot(*o)
		if o.Charge != nil {
			charge = "charge " + charge
		}
		add(true, "then: %s, placed now and fulfilled on %s, %s", orderText(*o), o.FulfilledOn, charge)
	}
	if p.More {
		add(true, "more orders follow the first %d: check spec.startDate", MaxOrdersDue)
	}
	return lines
}

// orderText is "New of 9 x t-eul (Monthly), effective 2026-03-10".
func orderText(o PreviewOrder) string {
	return fmt.Sprintf("%s of %d x %s (%s), effective %s", o.Change, o.Quantity, o.Product, o.PaymentPlan, o.EffectiveDate)
}

// chargeOrNot is an order's charge, "90.00 EUR", or "charge cannot be computed".
func chargeOrNot(o PreviewOrder) string {
	if o.Charge == nil {
		return "charge cannot be computed"
	}
	return withCurrencyText(o.Charge.Amount, o.Charge.Currency)
}

// totalText is "1260.00 EUR", or "100.00 EUR + 50.00 USD".
func totalText(total []v1alpha1.CurrencyAmount) string {
	parts := make([]string, len(total))
	for i, t := range total {
		parts[i] = withCurrencyText(t.Amount, t.Currency)
	}
	return strings.Join(parts, " + ")
}

func withCurrencyText(a v1alpha1.Amount, currency string) string {
	if currency == "" {
		return string(a)
	}
	return string(a) + " " + currency
}
