package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

func (a *app) plansCommand() *cobra.Command {
	var all bool
	var outputFile string
	cmd := &cobra.Command{
		Use:   "plans",
		Short: "The License Plans table: licenses, price, payment plan, renewal or expiry, and the next action",
		Long: `The License Plans table of the partner portal, from the CustomerLicensePlans: plan type
(product), licenses in force and used, price per license, payment plan, start date, renewal or
expiry date (green: renews, red: expires, on a terminal), cost center, reference, and the next
action: the renewal action, and why the plan is not in force when it is not.`,
		Example: `  kubectl license plans -n acme
  kubectl license plans -A -o csv > plans.csv`,
		Args: cobra.NoArgs,
	}
	format := addOutputFlag(cmd, "table", "json", "csv", "xlsx")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the plans of every namespace")
	cmd.Flags().StringVar(&outputFile, "output-file", "", "write to this file instead of stdout")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return a.runPlans(cmd.Context(), all, format.value, outputFile)
	}
	return cmd
}

func (a *app) runPlans(ctx context.Context, all bool, format, outputFile string) error {
	sc, err := a.scope(all)
	if err != nil {
		return err
	}
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
	return a.writeListing(outputFile, format, listing{
		count: len(plans), kind: "license plans", one: "plan", sc: sc,
		objects: func() []client.Object { return plansAsObjects(plans) },
		sheet:   func() sheet { return plansSheet(plans) },
		table:   func() *table { return plansTable(plans, sc.all()) },
	})
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

// plansTable is the License Plans table.
func plansTable(plans []v1alpha1.CustomerLicensePlan, withNamespace bool) *table {
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
			{text: nextAction(p), colour: col},
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

// nextAction is what happens next to the plan: its renewal action (Renew, Expire, None), and,
// when the plan is not in force as wanted, the reason (such as "Renew (AwaitingApproval)").
func nextAction(p *v1alpha1.CustomerLicensePlan) string {
	action, reason := string(p.Status.RenewalAction), readyReason(p)
	switch {
	case reason == "" || reason == v1alpha1.ReasonInForce:
		return action
	case action == "" || p.Status.Term == nil:
		return reason // not in force yet: no term to renew
	}
	return action + " (" + reason + ")"
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
			recurring, total = amountOf(b.RecurringCharge, p.Status.Currency), amountOf(b.TotalBilled, p.Status.Currency)
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
