package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

func (a *app) plansCommand() *cobra.Command {
	var all bool
	var outputFile, trialsEnding string
	cmd := &cobra.Command{
		Use:   "plans",
		Short: "The License Plans table: licenses, price, payment plan, renewal or expiry, and the next action",
		Long: `The License Plans table of the partner portal, from the CustomerLicensePlans: plan type
(product), licenses in force and used, price per license, payment plan, start date, renewal or
expiry date (green: renews, red: expires, on a terminal), cost center, reference, and the next
action: the renewal action, and why the plan is not in force when it is not. A trial shows
PAYMENT Trial, the day it ends under RENEWS/EXPIRES, and the days it has left under ACTION;
--trials-ending lists only the trials that end within a time, soonest first.`,
		Example: `  kubectl license plans -n acme
  kubectl license plans -A -o csv > plans.csv
  kubectl license plans -A --trials-ending 7d     # the trials to convert this week`,
		Args: cobra.NoArgs,
	}
	format := addOutputFlag(cmd, "table", "json", "csv", "xlsx")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the plans of every namespace")
	cmd.Flags().StringVar(&outputFile, "output-file", "", "write to this file instead of stdout")
	cmd.Flags().StringVar(&trialsEnding, "trials-ending", "", "list only the trials that end within this time from now, soonest first, such as 7d or 72h")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return a.runPlans(cmd.Context(), all, format.value, outputFile, trialsEnding)
	}
	return cmd
}

// runPlans lists the plans; with trialsEnding (such as 7d), only the trials that end within it.
func (a *app) runPlans(ctx context.Context, all bool, format, outputFile, trialsEnding string) error {
	var within time.Duration
	if trialsEnding != "" {
		var err error
		if within, err = parseWithin("--trials-ending", trialsEnding); err != nil {
			return err
		}
	}
	sc, err := a.scope(all)
	if err != nil {
		return err
	}
	now := a.clock.Now()
	c, err := a.client(nil)
	if err != nil {
		return err
	}
	var plans []v1alpha1.CustomerLicensePlan
	list := &v1alpha1.CustomerLicensePlanList{}
	if err := listPages(ctx, c, list, func() error { plans = append(plans, list.Items...); return nil }, sc.listOptions()...); err != nil {
		return explain(err)
	}
	sort.Slice(plans, func(i, j int) bool {
		if plans[i].Namespace != plans[j].Namespace {
			return plans[i].Namespace < plans[j].Namespace
		}
		return plans[i].Name < plans[j].Name
	})
	kind := "license plans"
	if within > 0 {
		plans = trialsEndingWithin(plans, now, within)
		kind = "trials ending within " + trialsEnding
	}
	return a.writeListing(outputFile, format, listing{
		count: len(plans), kind: kind, one: "plan", sc: sc,
		objects: func() []client.Object { return plansAsObjects(plans) },
		sheet:   func() sheet { return plansSheet(plans) },
		table:   func() *table { return plansTable(plans, sc.all(), now) },
	})
}

var daysPattern = regexp.MustCompile(`^([0-9]{1,4})d$`)

// parseWithin reads a flag's span of time: whole days such as 7d, or a Go duration such as 72h.
func parseWithin(flag, s string) (time.Duration, error) {
	if m := daysPattern.FindStringSubmatch(s); m != nil {
		days, _ := strconv.Atoi(m[1])
		if days > 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%s %s: want a time to come, such as 7d or 72h", flag, s)
}

// trialsEndingWithin keeps the plans on a trial in force that end within within from now (or have ended
// and wait for their Expiry), soonest first.
func trialsEndingWithin(plans []v1alpha1.CustomerLicensePlan, now time.Time, within time.Duration) []v1alpha1.CustomerLicensePlan {
	var out []v1alpha1.CustomerLicensePlan
	for _, p := range plans {
		end, err := licensing.ParseDate(p.Status.RenewalDate)
		if licensing.IsTrial(p.Status) && err == nil && !end.After(now.Add(within)) {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Status.RenewalDate < out[j].Status.RenewalDate })
	return out
}

// listing is what plans and history write, in each output format.
type listing struct {
	count     int
	kind, one string // "license plans", "plan"
	sc        scope
	objects   func() []client.Object
	sheet     func() sheet
	table     func() *table
}

// writeListing writes a listing as JSON, CSV, XLSX or a table to outputFile (stdout when empty).
func (a *app) writeListing(outputFile, format string, l listing) error {
	out, err := a.openOutput(outputFile, format)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		err = writeJSONList(out, l.objects())
	case "csv":
		err = writeCSV(out, l.sheet())
	case "xlsx":
		err = writeXLSX(out, l.sheet())
	default:
		if l.count == 0 {
			_, err = fmt.Fprintln(a.ErrOut, noneFound(l.kind, l.sc))
			break
		}
		err = l.table().write(out, a.coloured(out))
	}
	if err != nil {
		return err
	}
	return out.close(a, plural(l.count, l.one, l.one+"s"))
}

// noneFound says that no object was found where the command looked, as kubectl does.
func noneFound(what string, sc scope) string {
	if sc.all() {
		return fmt.Sprintf("No %s found.", what)
	}
	return fmt.Sprintf("No %s found in namespace %s.", what, sc.namespace)
}

// plansTable is the License Plans table at now.
func plansTable(plans []v1alpha1.CustomerLicensePlan, withNamespace bool, now time.Time) *table {
	t := &table{header: []string{"NAME", "PLAN TYPE", "LICENSES", "USED", "PRICE", "PAYMENT", "START", "RENEWS/EXPIRES", "COST CENTER", "REFERENCE", "ACTION"}}
	if withNamespace {
		t.header = append([]string{"NAMESPACE"}, t.header...)
	}
	for i := range plans {
		p := &plans[i]
		col := renewalColour(p)
		row := []cell{
			c(p.Name), c(productOf(p)), c(fmt.Sprint(p.Status.Licenses)), c(fmt.Sprint(p.Status.Usage.Assigned)),
			c(priceOf(p)), c(string(paymentPlanOf(p))), c(string(p.Status.StartDate)),
			{text: string(p.Status.RenewalDate), colour: col}, c(p.Spec.CostCenter), c(p.Spec.PurchaseReference),
			{text: nextAction(p, now), colour: col},
		}
		if withNamespace {
			row = append([]cell{c(p.Namespace)}, row...)
		}
		t.add(row...)
	}
	return t
}

// productOf is the product in force, else the one wanted.
func productOf(p *v1alpha1.CustomerLicensePlan) string {
	if p.Status.Product != "" {
		return p.Status.Product
	}
	return p.Spec.Product
}

// paymentPlanOf is the payment plan in force, else the one wanted.
func paymentPlanOf(p *v1alpha1.CustomerLicensePlan) v1alpha1.PaymentPlan {
	if p.Status.PaymentPlan != "" {
		return p.Status.PaymentPlan
	}
	return p.Spec.PaymentPlan
}

// priceOf is the price per license in force with its currency, such as "10.00 EUR".
func priceOf(p *v1alpha1.CustomerLicensePlan) string {
	if p.Status.PricePerLicense == "" {
		return ""
	}
	return string(p.Status.PricePerLicense) + " " + p.Status.Currency
}

// readyReason is the reason of the plan's Ready condition, "" when it has none.
func readyReason(p *v1alpha1.CustomerLicensePlan) string {
	if cond := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady); cond != nil {
		return cond.Reason
	}
	return ""
}

// nextAction is what happens next to the plan at now: its renewal action (Renew, Expire, None),
// and, when the plan is not in force as wanted, the reason (such as "Renew (AwaitingApproval)"). A
// trial says how long it has left: "Expire (trial, 5 days left)".
func nextAction(p *v1alpha1.CustomerLicensePlan, now time.Time) string {
	action, reason := string(p.Status.RenewalAction), readyReason(p)
	switch {
	case licensing.IsTrial(p.Status) && (reason == "" || reason == v1alpha1.ReasonInForce):
		return action + " (trial, " + trialLeft(p.Status.RenewalDate, now) + ")"
	case reason == "" || reason == v1alpha1.ReasonInForce:
		return action
	case action == "" || p.Status.Term == nil:
		return reason // not in force yet: no term to renew
	}
	return action + " (" + reason + ")"
}

// trialLeft says how long a trial that ends on end has left at now, in whole days.
func trialLeft(end v1alpha1.Date, now time.Time) string {
	day, err := licensing.ParseDate(end)
	if err != nil {
		return "ends " + string(end)
	}
	switch left := licensing.DaysBetween(now, day); {
	case left <= 0:
		return "ends today"
	case left == 1:
		return "1 day left"
	default:
		return strconv.Itoa(left) + " days left"
	}
}

// renewalColour is green for a plan that renews and red for one that expires or has ended, as the
// portal shows its Renewal/Expiry date.
func renewalColour(p *v1alpha1.CustomerLicensePlan) colour {
	switch reason := readyReason(p); {
	case reason == v1alpha1.ReasonExpired || reason == v1alpha1.ReasonCancelled:
		return red
	case p.Status.RenewalAction == v1alpha1.RenewalActionExpire:
		return red
	case p.Status.RenewalAction == v1alpha1.RenewalActionRenew:
		return green
	}
	return plain
}

// plansSheet is the License Plans table for a spreadsheet, with every column.
func plansSheet(plans []v1alpha1.CustomerLicensePlan) sheet {
	s := sheet{name: "License Plans", columns: []string{"Namespace", "Plan", "Customer", "Plan type", "SKU", "Licenses", "Used",
		"Price per license", "Currency", "Payment plan", "Start date", "Renewal/Expiry", "Action", "Status", "Cost center", "Reference",
		"Quantity wanted", "Recurring charge", "Total billed"}}
	for i := range plans {
		p := &plans[i]
		var recurring, total any
		if b := p.Status.Billing; b != nil {
			recurring, total = amountOf(b.RecurringCharge, p.Status.Currency), billedOf(p)
		}
		s.rows = append(s.rows, []any{p.Namespace, p.Name, p.Spec.Customer, productOf(p), p.Status.SKU, p.Status.Licenses,
			p.Status.Usage.Assigned, amountOf(p.Status.PricePerLicense, p.Status.Currency), p.Status.Currency, string(paymentPlanOf(p)),
			dayOf(p.Status.StartDate), dayOf(p.Status.RenewalDate), string(p.Status.RenewalAction), readyReason(p),
			p.Spec.CostCenter, p.Spec.PurchaseReference, p.Spec.Quantity, recurring, total})
	}
	return s
}

// amountOf is an API amount as a sheet value: nil when empty, the text as it is when it is not an
// amount.
func amountOf(a v1alpha1.Amount, currency string) any {
	if a == "" {
		return nil
	}
	m, err := licensing.ParseAmount(a)
	if err != nil {
		return string(a)
	}
	return amount{cents: m, currency: currency}
}

func plansAsObjects(plans []v1alpha1.CustomerLicensePlan) []client.Object {
	objs := make([]client.Object, len(plans))
	for i := range plans {
		plans[i].SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("CustomerLicensePlan"))
		plans[i].ManagedFields = nil // as kubectl hides them
		objs[i] = &plans[i]
	}
	return objs
}

// writeJSONList writes the objects as kubectl -o json writes a list: a v1 List.
func writeJSONList(w io.Writer, objs []client.Object) error {
	list := map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{}, "items": objs}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	return enc.Encode(list)
}

// billedOf is what a plan was billed as a sheet value: one amount while it was billed in one
// currency, else the text of its totals per currency ("100.00 EUR + 50.00 USD"), never a sum of
// two currencies.
func billedOf(p *v1alpha1.CustomerLicensePlan) any {
	totals, err := licensing.BilledTotals(p.Status.Billing, p.Status.Currency)
	switch {
	case err != nil:
		return string(p.Status.Billing.TotalBilled)
	case len(totals) == 0:
		return nil
	case len(totals) == 1:
		return amountOf(totals[0].Amount, totals[0].Currency)
	}
	return billedText(totals)
}

// billedText writes totals per currency: "100.00 EUR + 50.00 USD".
func billedText(totals []v1alpha1.CurrencyAmount) string {
	parts := make([]string, len(totals))
	for i, t := range totals {
		parts[i] = string(t.Amount) + " " + t.Currency
	}
	return strings.Join(parts, " + ")
}
