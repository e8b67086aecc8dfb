package plugin

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// warningPrefix starts every admission warning of license-operator's webhooks.
const warningPrefix = "license-operator "

// previewOrder is an order a preview quotes, or a run of alike orders (catch-up renewals).
type previewOrder struct {
	change      string
	count       int // alike orders in the run; 1 for one order
	quantity    string
	product     string
	paymentPlan string
	effective   string // a date, or "FROM to TO" for a run
	// charge is the charge of each order of the run; known is false when it was not stated or
	// cannot be computed.
	charge   licensing.Money
	currency string
	known    bool
	// rejected is "Reason: message" when the preview says the order would be rejected.
	rejected string
}

// total is the charge of the whole run, and false when it is beyond the largest amount.
func (o previewOrder) total() (licensing.Money, bool) {
	m, err := licensing.Mul(o.charge, int64(o.count))
	return m, err == nil
}

// parsedPreview is what the warnings of one plan's dry run say.
type parsedPreview struct {
	orders []previewOrder
	// stated is the total of the orders placed at once, when the preview states one ("14 orders
	// at once, 1260.00 EUR in all").
	stated      *amount
	description string   // how the first order's charge was computed
	notes       []string // what a person should read: approval, requirement, start date, usage not covered
	unknown     []string // lines whose format is not known, as they are
}

var (
	orderPattern   = `(\w+) of (\d+) x (\S+) \((\w+)\), effective (\d{4}-\d{2}-\d{2})`
	moneyPattern   = `([0-9]+(?:\.[0-9]{1,2})?) ([A-Z]{3})`
	oneOrderLine   = regexp.MustCompile(`^(?:would|will) place an order: ` + orderPattern + `$`)
	totalLine      = regexp.MustCompile(`^(?:would|will) place (\d+) orders at once, ` + moneyPattern + ` in all$`)
	totalUnknown   = regexp.MustCompile(`^(?:would|will) place (\d+) orders at once \((.*)\)$`)
	firstOrderLine = regexp.MustCompile(`^order 1 of (\d+): ` + orderPattern + `$`)
	laterOrderLine = regexp.MustCompile(`^order (\d+) of (\d+): ` + orderPattern + `, charge (.+)$`)
	orderRunLine   = regexp.MustCompile(`^orders (\d+) to (\d+) of (\d+): (\d+) (\w+) orders of (\d+) x (\S+) \((\w+)\), effective (\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2}), (.+) each$`)
	chargeLine     = regexp.MustCompile(`^charge: ` + moneyPattern + ` \((.*)\)$`)
	chargeUnknown  = regexp.MustCompile(`^charge: cannot be computed: (.*)$`)
	rejectedLine   = regexp.MustCompile(`^the order would be rejected, (\w+): (.*)$`)
	moneyOnly      = regexp.MustCompile(`^` + moneyPattern + `$`)
)

// parseMoney reads "90.00 EUR".
func parseMoney(s string) (licensing.Money, string, bool) {
	m := moneyOnly.FindStringSubmatch(s)
	if m == nil {
		return 0, "", false
	}
	cents, err := licensing.ParseAmount(v1alpha1.Amount(m[1]))
	return cents, m[2], err == nil
}

func newOrder(m []string) previewOrder {
	return previewOrder{change: m[0], count: 1, quantity: m[1], product: m[2], paymentPlan: m[3], effective: m[4]}
}

// parsePreview reads the warnings of one plan's dry run: the lines of license-operator (the
// others are left out), in the formats of internal/licensing/preview.go. A line of a format it
// does not know is kept as it is, in unknown.
func parsePreview(warnings []string) parsedPreview {
	var p parsedPreview
	for _, w := range warnings {
		line, ok := strings.CutPrefix(w, warningPrefix)
		if !ok {
			continue
		}
		if !p.parseLine(line) {
			p.unknown = append(p.unknown, w)
		}
	}
	return p
}

// parseLine reads one line (without the prefix) into p, and reports whether its format is known.
func (p *parsedPreview) parseLine(line string) bool {
	if m := oneOrderLine.FindStringSubmatch(line); m != nil {
		p.orders = append(p.orders, newOrder(m[1:]))
		return true
	}
	if m := totalLine.FindStringSubmatch(line); m != nil {
		cents, err := licensing.ParseAmount(v1alpha1.Amount(m[2]))
		if err != nil {
			return false
		}
		p.stated = &amount{cents: cents, currency: m[3]}
		return true
	}
	if m := totalUnknown.FindStringSubmatch(line); m != nil {
		p.notes = append(p.notes, m[1]+" orders at once: "+m[2])
		return true
	}
	if m := firstOrderLine.FindStringSubmatch(line); m != nil {
		p.orders = append(p.orders, newOrder(m[2:]))
		return true
	}
	if m := chargeLine.FindStringSubmatch(line); m != nil && len(p.orders) > 0 {
		cents, err := licensing.ParseAmount(v1alpha1.Amount(m[1]))
		if err != nil {
			return false
		}
		first := &p.orders[0]
		first.charge, first.currency, first.known = cents, m[2], true
		p.description = m[3]
		return true
	}
	if m := chargeUnknown.FindStringSubmatch(line); m != nil {
		p.notes = append(p.notes, "the charge cannot be computed: "+m[1])
		return true
	}
	if m := rejectedLine.FindStringSubmatch(line); m != nil && len(p.orders) > 0 {
		p.orders[0].rejected = m[1] + ": " + m[2]
		return true
	}
	if m := laterOrderLine.FindStringSubmatch(line); m != nil {
		o := newOrder(m[3:8])
		o.charge, o.currency, o.known = parseMoney(m[8])
		p.orders = append(p.orders, o)
		return true
	}
	if m := orderRunLine.FindStringSubmatch(line); m != nil {
		count, err := strconv.Atoi(m[4])
		if err != nil {
			return false
		}
		o := previewOrder{change: m[5], count: count, quantity: m[6], product: m[7], paymentPlan: m[8], effective: m[9] + " to " + m[10]}
		o.charge, o.currency, o.known = parseMoney(m[11])
		p.orders = append(p.orders, o)
		return true
	}
	for _, topic := range []string{"approval: ", "requirement: ", "start date: ", "more orders follow", "usage: not covered"} {
		if strings.HasPrefix(line, topic) {
			p.notes = append(p.notes, line)
			return true
		}
	}
	return strings.HasPrefix(line, "usage: covered")
}

// totals are the charges of the orders, per currency, and whether every charge is known: the
// total the preview states when it states one, else the sum of the orders' charges (in cents).
func (p parsedPreview) totals() (map[string]licensing.Money, bool) {
	out := map[string]licensing.Money{}
	complete := true
	if len(p.orders) > 0 && p.orders[0].rejected != "" {
		return out, true // nothing would be ordered
	}
	if p.stated != nil {
		out[p.stated.currency] += p.stated.cents
		return out, true
	}
	for _, o := range p.orders {
		switch {
		case o.known:
			total, ok := o.total()
			sum := out[o.currency]
			if !ok || addTo(&sum, total) != nil {
				complete = false
				continue
			}
			out[o.currency] = sum
		default:
			complete = false
		}
	}
	return out, complete
}
