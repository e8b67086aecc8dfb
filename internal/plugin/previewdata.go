package plugin

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// warningPrefix starts every admission warning of license-operator's webhooks.
const warningPrefix = "license-operator "

// readAnswer reads the preview from the annotations of the plan the dry run answered with: the
// preview annotation, licensing.PlanPreview as JSON, that admission writes from the same value its
// warnings are written from. The warnings are for people: preview keeps them for the Markdown
// comment and reads nothing in them, so that no rewording of a sentence changes an order or a total.
//
// Why the dry run's data rather than a preview of the plugin's own (reading the catalog, the
// profile and the plan's orders and calling licensing.PreviewOf here): the dry run's plan is the
// plan as the API server would admit it, with its defaults, its status and the live checks of the
// webhooks that judge it, previewed on the operator's clock; so what preview shows is what
// admission decided, and it costs the plugin no read of its own.
func (p *planPreview) readAnswer(annotations map[string]string) {
	raw, ok := annotations[v1alpha1.PreviewAnnotation]
	switch {
	case ok:
		var data licensing.PlanPreview
		if err := json.Unmarshal([]byte(raw), &data); err != nil {
			p.unread = fmt.Sprintf("the preview annotation %s of the dry run's answer cannot be read (%v): is the plugin older than the operator?", v1alpha1.PreviewAnnotation, err)
			return
		}
		p.data = &data
	case len(p.warnings) > 0:
		p.unread = fmt.Sprintf("license-operator answered in words only, without the preview annotation %s: the operator is older than the plugin; upgrade it, or read its warnings with kubectl apply --dry-run=server", v1alpha1.PreviewAnnotation)
	default:
		// The mutating webhook records who changed every plan it sees: without that annotation,
		// it did not see this one, and no preview was made. With it, the spec did not change.
		p.unjudged = annotations[v1alpha1.RequestedByAnnotation] == ""
	}
}

// orders are the plan's orders, or nil when nothing would be ordered.
func (p *planPreview) orders() *licensing.PlanPreview {
	if p.refused != "" || p.unjudged || p.unread != "" || p.data == nil || len(p.data.Orders) == 0 {
		return nil
	}
	return p.data
}

// runRow is the row of a run of alike orders (one order, mostly) of a preview.
func runRow(key string, data *licensing.PlanPreview, i int, r licensing.PreviewRun) previewRow {
	row := previewRow{plan: key, change: string(r.Change), quantity: strconv.Itoa(int(r.Quantity)), product: r.Product,
		paymentPlan: string(r.PaymentPlan), effective: string(r.EffectiveDate)}
	if r.Count > 1 {
		row.change = fmt.Sprintf("%d x %s", r.Count, r.Change)
		row.effective = fmt.Sprintf("%s to %s", r.EffectiveDate, r.Last)
	}
	each, known := quotedCharge(r.PreviewOrder)
	switch {
	case i == 0 && data.Rejected != nil:
		row.charge, row.bad = "rejected, "+data.Rejected.Reason, true
	case !known:
		row.charge = "unknown"
	case r.Count > 1:
		total, err := licensing.Mul(each.cents, int64(r.Count))
		if err != nil {
			row.charge = fmt.Sprintf("more than %s (%s each)", amount{licensing.MaxMoney, each.currency}, each)
			break
		}
		row.charge = fmt.Sprintf("%s (%s each)", amount{total, each.currency}, each)
	default:
		row.charge = each.String()
	}
	return row
}

// quotedCharge is an order's charge, and false when it is not known.
func quotedCharge(o licensing.PreviewOrder) (amount, bool) {
	if o.Charge == nil {
		return amount{}, false
	}
	cents, err := licensing.ParseAmount(o.Charge.Amount)
	return amount{cents, o.Charge.Currency}, err == nil
}

// planTotals are what the plan's orders are charged together, per currency, in cents, and whether
// every charge is known: the preview's total, or, when it has none, the sum of the charges known.
// A rejected order orders nothing.
func planTotals(data *licensing.PlanPreview) (map[string]licensing.Money, bool) {
	out := map[string]licensing.Money{}
	if data == nil || data.Rejected != nil {
		return out, true
	}
	if data.TotalError == "" {
		for _, t := range data.Total {
			cents, err := licensing.ParseAmount(t.Amount)
			if err != nil {
				return out, false
			}
			out[t.Currency] = cents
		}
		return out, true
	}
	for _, o := range data.Orders {
		if a, ok := quotedCharge(o); ok {
			sum := out[a.currency]
			if addTo(&sum, a.cents) == nil {
				out[a.currency] = sum
			}
		}
	}
	return out, false
}
