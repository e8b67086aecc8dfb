package plugin

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// How much of a plan's history status shows.
const (
	statusOrders = 5  // the most recent orders
	statusEvents = 10 // the most recent Events
)

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status PLAN",
		Short: "A plan on one screen: spec and what is in force, term, billing, usage, orders and Events",
		Long: `Everything about one CustomerLicensePlan on one screen: what is wanted (spec) and what is in
force (status), the term, renewal date and action, a change pending for the next term, the billing
figures, usage, conditions, the most recent orders and any order in flight, the last notice
each of those orders was told to a NotificationSink (delivered when, or failing and why), and
recent Events of the plan and its orders.`,
		Example: `  kubectl license status -n acme vmr-users`,
		Args:    exactlyOne("PLAN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runStatus(cmd.Context(), args[0])
		},
	}
}

// exactlyOne accepts one argument, named what in the error otherwise.
func exactlyOne(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%s needs one %s, got %d arguments (see %s --help)", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}

func (a *app) runStatus(ctx context.Context, name string) error {
	plan := &v1alpha1.CustomerLicensePlan{}
	c, ns, err := a.get(ctx, "plan", name, plan)
	if err != nil {
		return err
	}
	named, err := listOrders(ctx, c, scope{namespace: ns}, orderFilter{plan: name})
	if err != nil {
		return explain(err)
	}
	// The plan's own orders: those of an earlier plan of the same name, deleted, are its history
	// (kubectl license history --plan lists every order of the name).
	var orders []v1alpha1.LicenseOrder
	for i := range named {
		if licensing.BelongsTo(&named[i], plan) {
			orders = append(orders, named[i])
		}
	}
	sort.Slice(orders, func(i, j int) bool { return orders[i].Spec.Revision > orders[j].Spec.Revision })
	shown, inFlight := recentOrders(orders)

	names := []string{name}
	for _, o := range append(shown, inFlight...) {
		names = append(names, o.Name)
	}
	evs, evErr := recentEvents(ctx, c, ns, names)
	s := &statusPrinter{w: a.Out, coloured: a.coloured(a.Out), now: a.clock.Now()}
	s.plan(plan)
	s.orders(plan, orders, shown, inFlight)
	if len(orders) > 0 {
		s.notices(append(shown, inFlight...))
	}
	s.events(evs, evErr)
	return s.err
}

// recentOrders are the statusOrders most recent of the orders (sorted most recent first), and
// those in flight (not yet Fulfilled or Rejected) that are older.
func recentOrders(orders []v1alpha1.LicenseOrder) (shown, inFlight []v1alpha1.LicenseOrder) {
	for i, o := range orders {
		switch {
		case i < statusOrders:
			shown = append(shown, o)
		case o.Status.State != v1alpha1.OrderFulfilled && o.Status.State != v1alpha1.OrderRejected:
			inFlight = append(inFlight, o)
		}
	}
	return shown, inFlight
}

// recentEvents are the most recent Events about the named objects (events.k8s.io/v1, selected
// by regarding.name), newest first. The error is the first that stopped a list.
func recentEvents(ctx context.Context, c client.Reader, ns string, names []string) ([]eventsv1.Event, error) {
	var evs []eventsv1.Event
	for _, n := range names {
		list := &eventsv1.EventList{}
		if err := c.List(ctx, list, client.InNamespace(ns), client.MatchingFields{"regarding.name": n}, client.Limit(100)); err != nil {
			return evs, err
		}
		for _, e := range list.Items {
			if e.Regarding.Kind == "CustomerLicensePlan" || e.Regarding.Kind == "LicenseOrder" {
				evs = append(evs, e)
			}
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return eventTime(&evs[i]).After(eventTime(&evs[j])) })
	if len(evs) > statusEvents {
		evs = evs[:statusEvents]
	}
	return evs, nil
}

// eventTime is when the Event last happened.
func eventTime(e *eventsv1.Event) time.Time {
	switch {
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.DeprecatedLastTimestamp.IsZero():
		return e.DeprecatedLastTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// statusPrinter prints the status screen; the first error of a write stops nothing and is kept.
type statusPrinter struct {
	w        io.Writer
	coloured bool
	now      time.Time
	err      error
}

func (s *statusPrinter) printf(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

func (s *statusPrinter) paint(col colour, text string) string {
	if !s.coloured || col == plain || text == "" {
		return text
	}
	return string(col) + text + reset
}

func (s *statusPrinter) table(t *table) {
	if s.err == nil {
		s.err = t.write(s.w, s.coloured)
	}
}

func (s *statusPrinter) plan(p *v1alpha1.CustomerLicensePlan) {
	s.printf("Name:        %s\n", p.Name)
	s.printf("Namespace:   %s\n", p.Namespace)
	s.printf("Customer:    %s\n", p.Spec.Customer)
	s.printf("Created:     %s\n", p.CreationTimestamp.UTC().Format(time.RFC3339))
	if by := p.Annotations[v1alpha1.RequestedByAnnotation]; by != "" {
		s.printf("Changed by:  %s\n", by)
	}
	if ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady); ready != nil {
		col := green
		if ready.Status != "True" {
			col = yellow
			if ready.Reason == v1alpha1.ReasonOrderRejected || ready.Reason == v1alpha1.ReasonExpired || ready.Reason == v1alpha1.ReasonCancelled || ready.Reason == v1alpha1.ReasonInvalidSpec {
				col = red
			}
		}
		s.printf("Ready:       %s\n", s.paint(col, fmt.Sprintf("%s, %s", ready.Status, ready.Reason)))
	} else {
		s.printf("Ready:       not yet decided by the operator\n")
	}

	s.printf("Plan:\n")
	price := priceOf(p)
	t := &table{indent: "  ", header: []string{"", "WANTED (SPEC)", "IN FORCE (STATUS)"}}
	inForceProduct := p.Status.Product
	if p.Status.SKU != "" {
		inForceProduct += " (" + p.Status.SKU + ")"
	}
	t.addText("Product", p.Spec.Product, inForceProduct)
	t.addText("Licenses", fmt.Sprint(p.Spec.Quantity), fmt.Sprint(p.Status.Licenses))
	t.addText("Payment plan", string(p.Spec.PaymentPlan), string(p.Status.PaymentPlan))
	t.addText("Start date", string(p.Spec.StartDate), string(p.Status.StartDate))
	t.addText("Price per license", "", price)
	t.addText("Cost center", p.Spec.CostCenter, "")
	t.addText("Reference", p.Spec.PurchaseReference, "")
	s.table(t)

	policy := p.Spec.Renewal.Policy
	if policy == "" {
		policy = v1alpha1.AutoRenew
	}
	before := ""
	if p.Spec.Renewal.RenewBefore != nil && policy == v1alpha1.AutoRenew {
		before = fmt.Sprintf(", renewal order placed %s before", shortDuration(p.Spec.Renewal.RenewBefore.Duration))
	}
	if tm := p.Status.Term; tm != nil {
		s.printf("Term:        %s to %s\n", tm.Start, tm.End)
	}
	switch {
	case p.Status.ExpiredOn != "":
		s.printf("Renewal:     %s\n", s.paint(red, "expired on "+string(p.Status.ExpiredOn)))
	case p.Status.CancelledOn != "":
		s.printf("Renewal:     %s\n", s.paint(red, "cancelled on "+string(p.Status.CancelledOn)))
	case p.Status.RenewalAction == v1alpha1.RenewalActionRenew:
		s.printf("Renewal:     %s (policy %s%s)\n", s.paint(green, "renews on "+string(p.Status.RenewalDate)), policy, before)
	case licensing.IsTrial(p.Status):
		s.printf("Renewal:     %s (set spec.paymentPlan to a paid plan before then to keep it)\n", s.paint(red, "trial ends on "+string(p.Status.RenewalDate)))
	case p.Status.RenewalAction == v1alpha1.RenewalActionExpire:
		s.printf("Renewal:     %s (policy %s)\n", s.paint(red, "expires on "+string(p.Status.RenewalDate)), policy)
	case p.Status.RenewalAction == v1alpha1.RenewalActionNone:
		s.printf("Renewal:     none (a one-time plan)\n")
	}
	s.printf("Pending:     %s\n", pendingText(p.Status.PendingChange))
	if b := p.Status.Billing; b != nil {
		cur := " " + p.Status.Currency
		s.printf("Billing:\n")
		t := &table{indent: "  "}
		t.addText("Recurring charge", string(b.RecurringCharge)+cur+" per "+periodName(p.Status.PaymentPlan))
		if b.BilledThrough != "" {
			t.addText("Billed through", string(b.BilledThrough))
		}
		if b.NextInvoiceDate != "" {
			next := cur
			if b.NextInvoiceCurrency != "" {
				next = " " + b.NextInvoiceCurrency
			}
			t.addText("Next invoice", fmt.Sprintf("%s on %s", string(b.NextInvoiceAmount)+next, b.NextInvoiceDate))
		}
		if totals, err := licensing.BilledTotals(b, p.Status.Currency); err == nil && len(totals) > 0 {
			t.addText("Total billed", billedText(totals))
		} else {
			t.addText("Total billed", string(b.TotalBilled)+cur)
		}
		s.table(t)
	}
	usage := fmt.Sprintf("%d of %d licenses assigned", p.Status.Usage.Assigned, p.Status.Licenses)
	if p.Status.Usage.Assigned > p.Status.Licenses {
		usage = s.paint(red, usage+fmt.Sprintf(": %d over", p.Status.Usage.Assigned-p.Status.Licenses))
	}
	s.printf("Usage:       %s (kubectl get lasg -n %s --field-selector spec.plan=%s)\n", usage, p.Namespace, p.Name)
	if len(p.Status.Conditions) > 0 {
		s.printf("Conditions:\n")
		t := &table{indent: "  ", header: []string{"TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"}}
		for _, cond := range p.Status.Conditions {
			col := plain
			if cond.Status != "True" {
				col = yellow
			}
			t.add(c(cond.Type), cell{text: string(cond.Status), colour: col}, c(cond.Reason), c(s.age(cond.LastTransitionTime.Time)), c(cond.Message))
		}
		s.table(t)
	}
}

// shortDuration writes 168h as "168h" rather than "168h0m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// periodName is the billing period of a payment plan, for "per month".
func periodName(pp v1alpha1.PaymentPlan) string {
	switch pp {
	case v1alpha1.Monthly:
		return "month"
	case v1alpha1.OneTime:
		return "order"
	case v1alpha1.Trial:
		return "trial"
	case "":
		return "term"
	}
	return "term (" + string(pp) + ")"
}

// pendingText says what changes at the next term.
func pendingText(pc *v1alpha1.PendingChange) string {
	if pc == nil {
		return "none"
	}
	var parts []string
	if pc.Product != "" {
		parts = append(parts, "product "+pc.Product)
	}
	if pc.Quantity != nil {
		parts = append(parts, fmt.Sprintf("%d licenses", *pc.Quantity))
	}
	if pc.PaymentPlan != "" {
		parts = append(parts, "payment plan "+string(pc.PaymentPlan))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ") + " from " + string(pc.EffectiveDate)
}

// age is how long ago t was, as kubectl writes it ("5m", "3d").
func (s *statusPrinter) age(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return duration.HumanDuration(s.now.Sub(t))
}

func (s *statusPrinter) orders(p *v1alpha1.CustomerLicensePlan, all, shown, inFlight []v1alpha1.LicenseOrder) {
	if len(all) == 0 {
		s.printf("Orders:      none yet\n")
		return
	}
	more := ""
	if len(all) > len(shown) {
		more = fmt.Sprintf(", the %d most recent shown (kubectl license history -n %s --plan %s)", len(shown), p.Namespace, p.Name)
	}
	s.printf("Orders:      %s%s\n", plural(len(all), "order", "orders"), more)
	t := &table{indent: "  ", header: []string{"ORDER", "DATE (UTC)", "USER", "CHANGE", "NEW QTY", "EFFECTIVE", "STATE", "CHARGE", "REASON"}}
	for _, o := range append(shown, inFlight...) {
		t.add(c(o.Name), c(o.CreationTimestamp.UTC().Format(dateTimeLayout)), c(o.Spec.RequestedBy), c(string(o.Spec.Change)),
			c(fmt.Sprint(o.Spec.Quantity)), c(string(o.Spec.EffectiveDate)), cell{text: string(o.Status.State), colour: stateColour(o.Status.State)},
			c(chargeText(&o)), c(o.Status.Reason))
	}
	s.table(t)
	for _, o := range all {
		switch o.Status.State {
		case v1alpha1.OrderAwaitingApproval:
			s.printf("In flight:   %s awaits a person's approval (%s): kubectl license approve -n %s %s --message ...\n",
				o.Name, orDash(chargeText(&o)), o.Namespace, o.Name)
		case v1alpha1.OrderPending, "":
			s.printf("In flight:   %s (%s of %d) is being processed\n", o.Name, o.Spec.Change, o.Spec.Quantity)
		}
	}
}

// noticeErrorWidth is how much of a notice's last error status shows, on one line.
const noticeErrorWidth = 120

// notices prints the last notice of each of the orders that has one: its sink and event, and when
// it was delivered, or that it is failing, why and after how many attempts.
func (s *statusPrinter) notices(orders []v1alpha1.LicenseOrder) {
	t := &table{indent: "  ", header: []string{"ORDER", "NOTICES", "SINK", "EVENT", "DELIVERED (UTC)"}}
	for _, o := range orders {
		n, ok := lastNotice(o.Status.Notices)
		if !ok {
			continue
		}
		t.add(c(o.Name), c(fmt.Sprint(len(o.Status.Notices))), c(n.Sink), c(string(n.Event)), noticeState(n))
	}
	if len(t.rows) == 0 {
		s.printf("Notices:     none told of these orders\n")
		return
	}
	s.printf("Notices:     the last of each order (all of them: kubectl get lo -n %s <order> -o jsonpath='{.status.notices}')\n", orders[0].Namespace)
	s.table(t)
}

// lastNotice is the notice of an order delivered or attempted last; ok is false without any.
func lastNotice(notices []v1alpha1.Notice) (last v1alpha1.Notice, ok bool) {
	var lastAt time.Time
	for _, n := range notices {
		at := noticeTime(n)
		if !ok || at.After(lastAt) {
			last, lastAt, ok = n, at, true
		}
	}
	return last, ok
}

// noticeTime is when a notice was last delivered or attempted.
func noticeTime(n v1alpha1.Notice) time.Time {
	var at time.Time
	if n.LastAttempt != nil {
		at = n.LastAttempt.Time
	}
	if n.DeliveredAt != nil && n.DeliveredAt.After(at) {
		at = n.DeliveredAt.Time
	}
	return at
}

// noticeState is when a notice was delivered, or that it is failing: its last error on one line
// and the attempts so far.
func noticeState(n v1alpha1.Notice) cell {
	if n.DeliveredAt != nil {
		return cell{text: n.DeliveredAt.UTC().Format(dateTimeLayout), colour: green}
	}
	why := strings.Join(strings.Fields(n.LastError), " ")
	if why == "" {
		why = "not delivered"
	}
	if r := []rune(why); len(r) > noticeErrorWidth {
		why = strings.TrimSpace(string(r[:noticeErrorWidth-1])) + "…"
	}
	return cell{text: fmt.Sprintf("failing: %s (attempts %d)", why, n.Attempts), colour: red}
}

func orDash(s string) string {
	if s == "" {
		return "no charge yet"
	}
	return s
}

func (s *statusPrinter) events(evs []eventsv1.Event, err error) {
	switch {
	case err != nil && apierrors.IsForbidden(err):
		s.printf("Events:      %v\n", explain(err))
		return
	case err != nil:
		s.printf("Events:      cannot be listed: %v\n", err)
		return
	case len(evs) == 0:
		s.printf("Events:      none recent\n")
		return
	}
	s.printf("Events:\n")
	t := &table{indent: "  ", header: []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}}
	for i := range evs {
		e := &evs[i]
		col := plain
		if e.Type == "Warning" {
			col = yellow
		}
		obj := "plan/" + e.Regarding.Name
		if e.Regarding.Kind == "LicenseOrder" {
			obj = "order/" + e.Regarding.Name
		}
		t.add(c(s.age(eventTime(e))), cell{text: e.Type, colour: col}, c(e.Reason), c(obj), c(e.Note))
	}
	s.table(t)
}
