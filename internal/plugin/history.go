package plugin

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// historyFlags are the search flags of history.
type historyFlags struct {
	since, until                                      string
	user, sku, product, change, customer, state, plan string
}

// orderFilter selects orders: the API server selects by plan, change and state (selectable
// fields of LicenseOrder); the rest is matched here.
type orderFilter struct {
	since, until                 time.Time // until is exclusive; zero: no bound
	user, sku, product, customer string
	change                       v1alpha1.OrderChange
	state                        v1alpha1.OrderState
	plan                         string
}

// The choices of --change and --state are the API's own lists (v1alpha1.OrderChanges,
// v1alpha1.OrderStates), which a test holds equal to the CRD's enums.
var (
	orderChanges = v1alpha1.OrderChanges
	orderStates  = v1alpha1.OrderStates
)

// choices lists the names of choices, comma-separated, for a flag's help.
func choices[T ~string](cs []T) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// oneOf returns the choice that s names, in any case, or an error that lists the choices.
func oneOf[T ~string](flag, s string, choices []T) (T, error) {
	if s == "" {
		return "", nil
	}
	names := make([]string, len(choices))
	for i, c := range choices {
		if strings.EqualFold(s, string(c)) {
			return c, nil
		}
		names[i] = string(c)
	}
	return "", fmt.Errorf("%s %s: want one of %s", flag, s, strings.Join(names, ", "))
}

func (f historyFlags) filter() (orderFilter, error) {
	of := orderFilter{user: f.user, sku: f.sku, product: f.product, customer: f.customer, plan: f.plan}
	var err error
	if of.since, err = parseSince(f.since); err != nil {
		return of, err
	}
	if of.until, err = parseUntil(f.until); err != nil {
		return of, err
	}
	if !of.since.IsZero() && !of.until.IsZero() && !of.since.Before(of.until) {
		return of, fmt.Errorf("--since %s is not before --until %s", f.since, f.until)
	}
	if of.change, err = oneOf("--change", f.change, orderChanges); err != nil {
		return of, err
	}
	if of.state, err = oneOf("--state", f.state, orderStates); err != nil {
		return of, err
	}
	return of, nil
}

// listOptions ask the API server for the orders of the plan, change and state searched for.
func (f orderFilter) listOptions() []client.ListOption {
	fields := client.MatchingFields{}
	if f.plan != "" {
		fields["spec.plan"] = f.plan
	}
	if f.change != "" {
		fields["spec.change"] = string(f.change)
	}
	if f.state != "" {
		fields["status.state"] = string(f.state)
	}
	if len(fields) == 0 {
		return nil
	}
	return []client.ListOption{fields}
}

// matches reports whether the order is one searched for: placed within [since, until), by the
// user, of the SKU and product (names in any case), of a customer whose name contains the one
// searched for (in any case), and of the plan, change and state.
func (f orderFilter) matches(o *v1alpha1.LicenseOrder) bool {
	created := o.CreationTimestamp.Time
	return (f.since.IsZero() || !created.Before(f.since)) && (f.until.IsZero() || created.Before(f.until)) &&
		(f.user == "" || strings.EqualFold(o.Spec.RequestedBy, f.user)) &&
		(f.sku == "" || strings.EqualFold(o.Spec.SKU, f.sku)) &&
		(f.product == "" || strings.EqualFold(o.Spec.Product, f.product)) &&
		(f.customer == "" || strings.Contains(strings.ToLower(o.Spec.Customer), strings.ToLower(f.customer))) &&
		(f.plan == "" || o.Spec.Plan == f.plan) && (f.change == "" || o.Spec.Change == f.change) &&
		(f.state == "" || o.Status.State == f.state)
}

func (a *app) historyCommand() *cobra.Command {
	var hf historyFlags
	var all bool
	var outputFile string
	cmd := &cobra.Command{
		Use:   "history",
		Short: "The Order History: search the orders, and download them as CSV or XLSX",
		Long: `The Order History of the partner portal, from the LicenseOrders: date and time (UTC) the order
was placed, the user who placed it (System for the operator's own), SKU, product, payment plan,
reference, change, new quantity, state and charge, sorted by date and then order name.

Search with --since and --until (dates YYYY-MM-DD, whole days in UTC, or times in RFC 3339),
--user, --sku, --product, --change, --customer (part of the name), --state and --plan. Download
with -o csv (RFC 4180, with a header row) or -o xlsx (a workbook; with --output-file, or stdout
redirected to a file). Orders are read 250 at a time, so a long history takes a few requests,
never one huge one.`,
		Example: `  kubectl license history -n acme
  kubectl license history -A --since 2026-11-01 --until 2026-11-30 --state Fulfilled
  kubectl license history -n acme --plan vmr-users --change IncreaseQuantity -o csv
  kubectl license history -A -o xlsx --output-file orders.xlsx`,
		Args: cobra.NoArgs,
	}
	format := addOutputFlag(cmd, "table", "csv", "xlsx", "json")
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all-namespaces", "A", false, "search the orders of every namespace")
	fl.StringVar(&outputFile, "output-file", "", "write to this file instead of stdout (needed for xlsx on a terminal)")
	fl.StringVar(&hf.since, "since", "", "orders placed on or after this date (YYYY-MM-DD, UTC) or time (RFC 3339)")
	fl.StringVar(&hf.until, "until", "", "orders placed on or before this date (YYYY-MM-DD, the whole day, UTC) or time (RFC 3339)")
	fl.StringVar(&hf.user, "user", "", "orders placed by this user (System: the operator's own)")
	fl.StringVar(&hf.sku, "sku", "", "orders of this SKU")
	fl.StringVar(&hf.product, "product", "", "orders of this product (LicenseProduct name)")
	fl.StringVar(&hf.change, "change", "", "orders of this change: "+choices(orderChanges))
	fl.StringVar(&hf.customer, "customer", "", "orders of customers whose name contains this")
	fl.StringVar(&hf.state, "state", "", "orders in this state: "+choices(orderStates))
	fl.StringVar(&hf.plan, "plan", "", "orders of plans of this name, also of a deleted plan declared again (the ledger keeps both; kubectl license status shows the plan's own)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		f, err := hf.filter()
		if err != nil {
			return err
		}
		return a.runHistory(cmd.Context(), all, f, format.value, outputFile)
	}
	return cmd
}

func (a *app) runHistory(ctx context.Context, all bool, f orderFilter, format, outputFile string) error {
	sc, err := a.scope(all)
	if err != nil {
		return err
	}
	c, err := a.client(nil)
	if err != nil {
		return err
	}
	orders, err := listOrders(ctx, c, sc, f)
	if err != nil {
		return explain(err)
	}
	sortOrders(orders)
	return a.writeListing(outputFile, format, listing{
		count: len(orders), kind: "orders", one: "order", sc: sc,
		objects: func() []client.Object { return ordersAsObjects(orders) },
		sheet:   func() sheet { return historySheet(orders) },
		table:   func() *table { return historyTable(orders, sc.all()) },
	})
}

// listOrders reads, page by page, the orders in scope that the filter selects.
func listOrders(ctx context.Context, c client.Reader, sc scope, f orderFilter) ([]v1alpha1.LicenseOrder, error) {
	var orders []v1alpha1.LicenseOrder
	list := &v1alpha1.LicenseOrderList{}
	err := listPages(ctx, c, list, func() error {
		for i := range list.Items {
			if f.matches(&list.Items[i]) {
				orders = append(orders, list.Items[i])
			}
		}
		return nil
	}, append(sc.listOptions(), f.listOptions()...)...)
	return orders, err
}

// sortOrders sorts orders by the time they were placed, then by name: by namespace, plan and
// revision, so that plan-2 comes before plan-10.
func sortOrders(orders []v1alpha1.LicenseOrder) {
	sort.SliceStable(orders, func(i, j int) bool {
		a, b := &orders[i], &orders[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Spec.Plan != b.Spec.Plan {
			return a.Spec.Plan < b.Spec.Plan
		}
		if a.Spec.Revision != b.Spec.Revision {
			return a.Spec.Revision < b.Spec.Revision
		}
		return a.Name < b.Name
	})
}

// chargeOf is an order's charge as a sheet value, nil when it has none.
func chargeOf(o *v1alpha1.LicenseOrder) any {
	if o.Status.Charge == nil {
		return nil
	}
	return amountOf(o.Status.Charge.Amount, o.Status.Charge.Currency)
}

// chargeText is an order's charge with its currency, such as "21.29 EUR", "" when it has none. A
// rejected order keeps the charge it was quoted, which is never billed: it says so.
func chargeText(o *v1alpha1.LicenseOrder) string {
	if o.Status.Charge == nil || o.Status.Charge.Amount == "" {
		return ""
	}
	s := strings.TrimSpace(string(o.Status.Charge.Amount) + " " + o.Status.Charge.Currency)
	if o.Status.State == v1alpha1.OrderRejected {
		s += " (not charged)"
	}
	return s
}

// stateColour is red for a rejected order and yellow for one that waits for a person.
func stateColour(s v1alpha1.OrderState) colour {
	switch s {
	case v1alpha1.OrderRejected:
		return red
	case v1alpha1.OrderAwaitingApproval:
		return yellow
	}
	return plain
}

// historyTable is the Order History table.
func historyTable(orders []v1alpha1.LicenseOrder, withNamespace bool) *table {
	t := &table{header: []string{"DATE (UTC)", "ORDER", "USER", "SKU", "PRODUCT", "PAYMENT", "REFERENCE", "CHANGE", "NEW QTY", "STATE", "CHARGE"}}
	if withNamespace {
		t.header = append([]string{"NAMESPACE"}, t.header...)
	}
	for i := range orders {
		o := &orders[i]
		row := []cell{c(o.CreationTimestamp.UTC().Format(dateTimeLayout)), c(o.Name), c(o.Spec.RequestedBy), c(o.Spec.SKU), c(o.Spec.Product),
			c(string(o.Spec.PaymentPlan)), c(o.Spec.PurchaseReference), c(string(o.Spec.Change)), c(fmt.Sprint(o.Spec.Quantity)),
			{text: string(o.Status.State), colour: stateColour(o.Status.State)}, c(chargeText(o))}
		if withNamespace {
			row = append([]cell{c(o.Namespace)}, row...)
		}
		t.add(row...)
	}
	return t
}

// historySheet is the Order History for a spreadsheet: the portal's columns, then what finance
// reconciles with (customer, cost center, effective date, fulfilment, rejection reason).
func historySheet(orders []v1alpha1.LicenseOrder) sheet {
	s := sheet{name: "Order History", columns: []string{"Date/Time (UTC)", "User", "SKU", "Product", "Payment plan", "Reference",
		"Change", "New qty", "State", "Charge", "Currency", "Namespace", "Order", "Plan", "Customer", "Cost center", "Previous qty",
		"Effective date", "Fulfilled at (UTC)", "Reason"}}
	for i := range orders {
		o := &orders[i]
		var currency string
		var fulfilled any
		if o.Status.Charge != nil {
			currency = o.Status.Charge.Currency
		}
		if o.Status.FulfilledAt != nil {
			fulfilled = dateTime(o.Status.FulfilledAt.Time)
		}
		s.rows = append(s.rows, []any{dateTime(o.CreationTimestamp.Time), o.Spec.RequestedBy, o.Spec.SKU, o.Spec.Product,
			string(o.Spec.PaymentPlan), o.Spec.PurchaseReference, string(o.Spec.Change), o.Spec.Quantity, string(o.Status.State),
			chargeOf(o), currency, o.Namespace, o.Name, o.Spec.Plan, o.Spec.Customer, o.Spec.CostCenter, o.Spec.PreviousQuantity,
			dayOf(o.Spec.EffectiveDate), fulfilled, o.Status.Reason})
	}
	return s
}

func ordersAsObjects(orders []v1alpha1.LicenseOrder) []client.Object {
	objs := make([]client.Object, len(orders))
	for i := range orders {
		orders[i].SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("LicenseOrder"))
		orders[i].ManagedFields = nil
		objs[i] = &orders[i]
	}
	return objs
}

// parseCharge is an order's charge in cents, and whether it has one that parses.
func parseCharge(o *v1alpha1.LicenseOrder) (licensing.Money, bool) {
	if o.Status.Charge == nil || o.Status.Charge.Amount == "" {
		return 0, false
	}
	m, err := licensing.ParseAmount(o.Status.Charge.Amount)
	return m, err == nil
}
