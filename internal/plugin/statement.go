package plugin

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// groupBy is what a statement totals by.
type groupBy string

const (
	byCostCenter groupBy = "cost-center"
	byCustomer   groupBy = "customer"
	byReference  groupBy = "reference"
)

// title is the column title of the group.
func (g groupBy) title() string {
	switch g {
	case byCustomer:
		return "Customer"
	case byReference:
		return "Reference"
	}
	return "Cost center"
}

// key is the order's group.
func (g groupBy) key(o *v1alpha1.LicenseOrder) string {
	k := o.Spec.CostCenter
	switch g {
	case byCustomer:
		k = o.Spec.Customer
		if k == "" {
			k = o.Namespace
		}
	case byReference:
		k = o.Spec.PurchaseReference
	}
	if k == "" {
		return "(none)"
	}
	return k
}

// statementLine is one charge of a statement: a fulfilled order.
type statementLine struct {
	order  *v1alpha1.LicenseOrder
	group  string
	charge licensing.Money
}

// statementGroup is the total of a group in one currency.
type statementGroup struct {
	group, currency                    string
	orders                             int
	total                              licensing.Money
	costCenters, references, customers []string
}

// statement is the billing data of a month: the charges of the orders fulfilled in it, totalled
// per group and currency, in cents.
type statement struct {
	period  period
	by      groupBy
	lines   []statementLine
	groups  []statementGroup
	totals  map[string]licensing.Money // per currency
	counts  map[string]int             // orders per currency
	skipped []string                   // orders whose charge does not parse
	// overflow names the first total that went beyond the largest amount (licensing.MaxMoney):
	// the statement is refused rather than printed wrong.
	overflow error
}

// buildStatement totals the charges of the orders fulfilled within the period (fulfilledAt, UTC).
// Orders that were not fulfilled in it, or have no charge, are left out.
func buildStatement(orders []v1alpha1.LicenseOrder, p period, by groupBy) *statement {
	st := &statement{period: p, by: by, totals: map[string]licensing.Money{}, counts: map[string]int{}}
	type key struct{ group, currency string }
	groups := map[key]*statementGroup{}
	sets := map[key][3]map[string]bool{}
	for i := range orders {
		o := &orders[i]
		if o.Status.State != v1alpha1.OrderFulfilled || o.Status.FulfilledAt == nil || !p.contains(o.Status.FulfilledAt.UTC()) || o.Status.Charge == nil {
			continue
		}
		charge, ok := parseCharge(o)
		if !ok {
			st.skipped = append(st.skipped, fmt.Sprintf("%s/%s (charge %q)", o.Namespace, o.Name, o.Status.Charge.Amount))
			continue
		}
		cur := o.Status.Charge.Currency
		k := key{by.key(o), cur}
		g := groups[k]
		if g == nil {
			g = &statementGroup{group: k.group, currency: cur}
			groups[k] = g
			sets[k] = [3]map[string]bool{{}, {}, {}}
		}
		g.orders++
		if err := addTo(&g.total, charge); err != nil && st.overflow == nil {
			st.overflow = fmt.Errorf("the total of %s in %s: %w", k.group, cur, err)
		}
		for j, v := range []string{o.Spec.CostCenter, o.Spec.PurchaseReference, o.Spec.Customer} {
			if v != "" {
				sets[k][j][v] = true
			}
		}
		total := st.totals[cur]
		if err := addTo(&total, charge); err != nil && st.overflow == nil {
			st.overflow = fmt.Errorf("the total in %s: %w", cur, err)
		}
		st.totals[cur] = total
		st.counts[cur]++
		st.lines = append(st.lines, statementLine{order: o, group: k.group, charge: charge})
	}
	for k, g := range groups {
		s := sets[k]
		g.costCenters, g.references, g.customers = sortedKeys(s[0]), sortedKeys(s[1]), sortedKeys(s[2])
		st.groups = append(st.groups, *g)
	}
	sort.Slice(st.groups, func(i, j int) bool {
		if st.groups[i].group != st.groups[j].group {
			return st.groups[i].group < st.groups[j].group
		}
		return st.groups[i].currency < st.groups[j].currency
	})
	sort.SliceStable(st.lines, func(i, j int) bool {
		a, b := st.lines[i], st.lines[j]
		if a.group != b.group {
			return a.group < b.group
		}
		return a.order.Status.FulfilledAt.Before(b.order.Status.FulfilledAt)
	})
	return st
}

// addTo adds charge to *total, checked: on overflow *total is left as it was.
func addTo(total *licensing.Money, charge licensing.Money) error {
	sum, err := licensing.Add(*total, charge)
	if err == nil {
		*total = sum
	}
	return err
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// currencies are the statement's currencies, sorted.
func (st *statement) currencies() []string {
	out := make([]string, 0, len(st.totals))
	for c := range st.totals {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// otherColumns are the two dimensions listed beside the group: the references and cost centers
// the portal shows on billing data, and the customers.
func (st *statement) otherColumns() []string {
	switch st.by {
	case byCustomer:
		return []string{"Cost centers", "References"}
	case byReference:
		return []string{"Cost centers", "Customers"}
	}
	return []string{"References", "Customers"}
}

func (st *statement) others(g statementGroup) [2]string {
	switch st.by {
	case byCustomer:
		return [2]string{strings.Join(g.costCenters, ", "), strings.Join(g.references, ", ")}
	case byReference:
		return [2]string{strings.Join(g.costCenters, ", "), strings.Join(g.customers, ", ")}
	}
	return [2]string{strings.Join(g.references, ", "), strings.Join(g.customers, ", ")}
}

// summarySheet is a row per group and currency, then a total per currency.
func (st *statement) summarySheet() sheet {
	o := st.otherColumns()
	s := sheet{name: "Statement " + st.period.String(), columns: []string{st.by.title(), "Currency", "Orders", "Total", o[0], o[1]}}
	for _, g := range st.groups {
		others := st.others(g)
		s.rows = append(s.rows, []any{g.group, g.currency, g.orders, amount{cents: g.total, currency: g.currency}, others[0], others[1]})
	}
	for _, cur := range st.currencies() {
		s.rows = append(s.rows, []any{"Total", cur, st.counts[cur], amount{cents: st.totals[cur], currency: cur}, nil, nil})
	}
	return s
}

// linesSheet is a row per charge.
func (st *statement) linesSheet() sheet {
	s := sheet{name: "Charges " + st.period.String(), columns: []string{st.by.title(), "Fulfilled at (UTC)", "Namespace", "Order", "Customer",
		"Cost center", "Reference", "SKU", "Product", "Payment plan", "Change", "New qty", "Effective date", "Charge", "Currency", "Description"}}
	for _, l := range st.lines {
		o := l.order
		s.rows = append(s.rows, []any{l.group, dateTime(o.Status.FulfilledAt.Time), o.Namespace, o.Name, o.Spec.Customer, o.Spec.CostCenter,
			o.Spec.PurchaseReference, o.Spec.SKU, o.Spec.Product, string(o.Spec.PaymentPlan), string(o.Spec.Change), o.Spec.Quantity,
			dayOf(o.Spec.EffectiveDate), amount{cents: l.charge, currency: o.Status.Charge.Currency}, o.Status.Charge.Currency, o.Status.Charge.Description})
	}
	return s
}

// summaryTable is the statement for a terminal.
func (st *statement) summaryTable() *table {
	o := st.otherColumns()
	t := &table{header: []string{st.by.title(), "Orders", "Total", o[0], o[1]}}
	for _, g := range st.groups {
		others := st.others(g)
		t.addText(g.group, fmt.Sprint(g.orders), amount{cents: g.total, currency: g.currency}.String(), others[0], others[1])
	}
	for _, cur := range st.currencies() {
		t.add(cell{text: "TOTAL", colour: bold}, c(fmt.Sprint(st.counts[cur])), cell{text: amount{cents: st.totals[cur], currency: cur}.String(), colour: bold})
	}
	return t
}

// linesTable is a row per charge, for --detail; the group's own column is not repeated.
func (st *statement) linesTable() *table {
	t := &table{header: []string{st.by.title(), "Fulfilled (UTC)", "Order", "Product", "Change", "New qty"}}
	for _, title := range []string{"Customer", "Reference", "Cost center"} {
		if title != st.by.title() {
			t.header = append(t.header, title)
		}
	}
	t.header = append(t.header, "Charge")
	for _, l := range st.lines {
		o := l.order
		row := []string{l.group, o.Status.FulfilledAt.UTC().Format(dateTimeLayout), o.Namespace + "/" + o.Name, o.Spec.Product,
			string(o.Spec.Change), fmt.Sprint(o.Spec.Quantity)}
		if st.by != byCustomer {
			row = append(row, o.Spec.Customer)
		}
		if st.by != byReference {
			row = append(row, o.Spec.PurchaseReference)
		}
		if st.by != byCostCenter {
			row = append(row, o.Spec.CostCenter)
		}
		t.addText(append(row, amount{cents: l.charge, currency: o.Status.Charge.Currency}.String())...)
	}
	return t
}

func (a *app) statementCommand() *cobra.Command {
	var periodFlag, by, outputFile string
	var all, detail bool
	cmd := &cobra.Command{
		Use:   "statement --period YYYY-MM",
		Short: "The billing data of a month: charges of the orders fulfilled in it, totalled per cost center, customer or reference",
		Long: `The billing data of a month: the charges of the orders fulfilled in it (status.fulfilledAt within
the month, UTC), grouped by cost center (the default), customer or purchase reference, and
totalled per group and currency, with the references and cost centers each group was billed to.
Totals are exact: amounts are summed in cents.

-o csv writes the totals (with --detail, a row per charge); -o xlsx writes a workbook with both,
a sheet of totals and a sheet of charges.`,
		Example: `  kubectl license statement -A --period 2026-11
  kubectl license statement -n acme --period 2026-11 --by reference --detail
  kubectl license statement -A --period 2026-11 -o xlsx --output-file statement-2026-11.xlsx`,
		Args: cobra.NoArgs,
	}
	format := addOutputFlag(cmd, "table", "csv", "xlsx")
	fl := cmd.Flags()
	fl.StringVar(&periodFlag, "period", "", "the month, YYYY-MM (UTC)")
	fl.StringVar(&by, "by", string(byCostCenter), "group the charges by cost-center, customer or reference")
	fl.BoolVarP(&all, "all-namespaces", "A", false, "the charges of every namespace")
	fl.BoolVar(&detail, "detail", false, "list every charge (table and csv)")
	fl.StringVar(&outputFile, "output-file", "", "write to this file instead of stdout (needed for xlsx on a terminal)")
	_ = cmd.MarkFlagRequired("period")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := parsePeriod(periodFlag)
		if err != nil {
			return err
		}
		g, err := oneOf("--by", by, []groupBy{byCostCenter, byCustomer, byReference})
		if err != nil {
			return err
		}
		return a.runStatement(cmd.Context(), all, p, g, detail, format.value, outputFile)
	}
	return cmd
}

func (a *app) runStatement(ctx context.Context, all bool, p period, by groupBy, detail bool, format, outputFile string) error {
	sc, err := a.scope(all)
	if err != nil {
		return err
	}
	c, err := a.client(nil)
	if err != nil {
		return err
	}
	orders, err := listOrders(ctx, c, sc, orderFilter{state: v1alpha1.OrderFulfilled})
	if err != nil {
		return explain(err)
	}
	st := buildStatement(orders, p, by)
	for _, s := range st.skipped {
		fmt.Fprintf(a.ErrOut, "warning: left out order %s: not an amount\n", s)
	}
	if st.overflow != nil {
		return fmt.Errorf("the statement cannot be totalled: %w", st.overflow)
	}
	out, err := a.openOutput(outputFile, format)
	if err != nil {
		return err
	}
	switch {
	case format == "xlsx":
		err = writeXLSX(out, st.summarySheet(), st.linesSheet())
	case format == "csv" && detail:
		err = writeCSV(out, st.linesSheet())
	case format == "csv":
		err = writeCSV(out, st.summarySheet())
	default:
		where := "namespace " + sc.namespace
		if sc.all() {
			where = "all namespaces"
		}
		fmt.Fprintf(out, "Statement %s: orders fulfilled from %s to %s (UTC) in %s, by %s\n\n", p, p.start.Format(dayLayout),
			p.lastDay().Format(dayLayout), where, strings.ToLower(by.title()))
		if len(st.lines) == 0 {
			_, err = fmt.Fprintln(out, "No charges.")
			break
		}
		coloured := a.coloured(out)
		if err = st.summaryTable().write(out, coloured); err == nil && detail {
			fmt.Fprintln(out)
			err = st.linesTable().write(out, coloured)
		}
	}
	if err != nil {
		return err
	}
	return out.close(a, plural(len(st.lines), "charge", "charges"))
}
