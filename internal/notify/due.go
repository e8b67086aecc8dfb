package notify

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// Due returns the notices due at now to sinks about one plan and all its orders, and when to look
// again (zero: only when something changes). orders are all the plan's orders, of any instance of
// its name (a live list by the plan label): keys carry UIDs, so orders of a deleted plan of the same
// name keep their own notices. plan is nil when the plan is gone; its orders' events are still due.
//
// A notice is due when its sink selects the event, is not suspended, and its filter matches; the
// event happened at or after the sink's creation (order events, PlanExpired), or the API server
// created its order in a later second than the sink (the operator's clock and the API server's may
// differ); a fulfilled order's plan applies it in its status (the confirmation tells the renewal
// date that status write brings); no order of the plan records its key as delivered; it is not
// older than GiveUpAfter; and its last failed attempt, if any, is at least Backoff(attempts) ago.
// An email sink with no recipient for the customer and cost center (Recipients) is told nothing.
// RenewalComing and TrialEnding are due from the first day of their window, renewalDate minus
// daysBefore, until the renewal date: the window, not GiveUpAfter, bounds them, so a sink created
// or resumed within the window is still told. next is the earliest retry or window to come; it is
// zero when nothing waits for a time. Due reads no clock: now is the only time it knows.
func Due(now time.Time, sinks []v1alpha1.NotificationSink, plan *v1alpha1.CustomerLicensePlan,
	orders []v1alpha1.LicenseOrder) (due []Pending, next time.Time) {
	now = now.UTC()
	records := recordsByKey(orders)
	sorted := slices.Clone(sinks)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })

	var events []event
	for i := range orders {
		if e, ok := orderEvent(&orders[i], plan, orders); ok {
			events = append(events, e)
		}
	}
	for i := range sorted {
		sink := &sorted[i]
		if sink.Spec.Suspend {
			continue
		}
		sinkEvents := append(slices.Clone(events), planEvents(now, sink, plan, orders)...)
		for _, e := range sinkEvents {
			if _, selected := selects(sink, e.data.Event); !selected || !e.forSink(sink) || !matches(sink, e.data.Namespace, e.data.Customer, e.data.CostCenter) {
				continue
			}
			if sink.Spec.Email != nil && len(Recipients(sink, e.data.Customer, e.data.CostCenter)) == 0 {
				continue
			}
			if e.notBefore.After(now) {
				next = Earliest(next, e.notBefore)
				continue
			}
			if e.giveUp && now.Sub(e.data.Time) > GiveUpAfter {
				continue
			}
			key := Key(types.UID(e.uid), e.data.Event, e.occurrence, sink.Name)
			rec := records[key]
			if rec.delivered {
				continue
			}
			n := v1alpha1.Notice{Sink: sink.Name, Event: e.data.Event, Key: key}
			if rec.last != nil {
				n = *rec.last.DeepCopy()
				if n.LastAttempt != nil {
					retry := RetryAt(n)
					if retry.After(now) {
						if !e.giveUp || retry.Sub(e.data.Time) <= GiveUpAfter {
							next = Earliest(next, retry)
						}
						continue
					}
				}
			}
			due = append(due, Pending{Order: e.order, Notice: n, Data: e.data})
		}
	}
	return due, next
}

// event is something that happened to an order or a plan, before sinks are considered.
type event struct {
	data       Data
	order      string // the order the notice is recorded on
	uid        string // the order's or the plan's UID
	occurrence string
	// giveUp: GiveUpAfter applies, counted from data.Time.
	giveUp bool
	// notBefore: the event is not due before then (a window to come).
	notBefore time.Time
	// forSink says whether a sink is told of the event (one created after it happened is not).
	forSink func(sink *v1alpha1.NotificationSink) bool
}

// record is what the plan's orders record of one key.
type record struct {
	delivered bool
	last      *v1alpha1.Notice // the entry with the most attempts
}

func recordsByKey(orders []v1alpha1.LicenseOrder) map[string]record {
	out := map[string]record{}
	for i := range orders {
		for j := range orders[i].Status.Notices {
			n := &orders[i].Status.Notices[j]
			r := out[n.Key]
			if n.DeliveredAt != nil {
				r.delivered = true
			}
			if r.last == nil || n.Attempts > r.last.Attempts {
				r.last = n
			}
			out[n.Key] = r
		}
	}
	return out
}

// orderEvent is the event an order's state tells, if any.
func orderEvent(o *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) (event, bool) {
	d := orderData(o, plan)
	switch o.Status.State {
	case v1alpha1.OrderFulfilled:
		if o.Status.FulfilledAt == nil {
			return event{}, false
		}
		if plan != nil && o.Spec.Revision > plan.Status.Revision && licensing.BelongsTo(o, plan) {
			// Not applied by the plan yet: its confirmation tells the plan's new renewal date,
			// which the plan's next status write brings, and with it the next look.
			return event{}, false
		}
		d.Event = v1alpha1.NoticeOrderFulfilled
		d.Time = o.Status.FulfilledAt.Time.UTC()
		d.RenewalDate = renewalDate(o, plan, orders)
	case v1alpha1.OrderAwaitingApproval:
		d.Event = v1alpha1.NoticeOrderAwaitingApproval
		d.Approve = fmt.Sprintf("kubectl license approve %s -n %s", o.Name, o.Namespace)
	case v1alpha1.OrderRejected:
		switch o.Status.Reason {
		case v1alpha1.ReasonSuperseded:
			return event{}, false
		case v1alpha1.ReasonDenied:
			d.Event = v1alpha1.NoticeOrderDenied
		default:
			d.Event = v1alpha1.NoticeOrderRejected
		}
		d.Reason = o.Status.Reason
		d.Message = o.Status.Message
	default:
		return event{}, false
	}
	happened, created := d.Time, o.CreationTimestamp.Time
	return event{
		data: d, order: o.Name, uid: string(o.UID), giveUp: true,
		forSink: func(sink *v1alpha1.NotificationSink) bool {
			// Creation times have whole seconds: only a later second is surely after the sink.
			return !happened.Before(sink.CreationTimestamp.Time) || created.After(sink.CreationTimestamp.Time)
		},
	}, true
}

func orderData(o *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan) Data {
	d := Data{
		Namespace:   o.Namespace,
		Customer:    o.Spec.Customer,
		CostCenter:  o.Spec.CostCenter,
		Plan:        o.Spec.Plan,
		Order:       o.Name,
		Time:        o.CreationTimestamp.Time.UTC(),
		User:        o.Spec.RequestedBy,
		SKU:         o.Spec.SKU,
		Product:     o.Spec.Product,
		PaymentPlan: string(o.Spec.PaymentPlan),
		Reference:   o.Spec.PurchaseReference,
		Change:      string(o.Spec.Change),
		Quantity:    o.Spec.Quantity,
	}
	if d.User == "" {
		d.User = v1alpha1.SystemUser
	}
	if c := o.Status.Charge; c != nil && c.Amount != "" {
		d.Charge = money(string(c.Amount), c.Currency)
	}
	return d
}

// renewalDate is the renewal date a fulfilled order gave its plan: a trial's end, or the end of
// the term the order falls in. That term is the one begun by the latest order of the same plan
// that starts a term (New, Renewal, Conversion, ChangePaymentPlan) effective on or before the
// order's effective date, so that each confirmation of a catch-up (several terms applied in one
// pass) names its own term's end, not the plan's latest. It is empty when the plan is gone, is
// another instance of the name, or holds no term (OneTime, expired, cancelled).
func renewalDate(o *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) string {
	if o.Spec.Change == v1alpha1.ChangeTrial && o.Spec.TrialEnd != "" {
		return string(o.Spec.TrialEnd)
	}
	if plan == nil || !sameInstance(o, plan) {
		return ""
	}
	switch o.Spec.Change {
	case v1alpha1.ChangeExpiry, v1alpha1.ChangeCancellation:
		return ""
	}
	at, ok := termPoint(o, plan, orders)
	if !ok {
		return string(plan.Status.RenewalDate)
	}
	var begin *v1alpha1.LicenseOrder
	var beginStart time.Time
	for i := range orders {
		t := &orders[i]
		if t.Status.State != v1alpha1.OrderFulfilled || !startsTerm(t.Spec.Change) || !sameInstance(t, plan) {
			continue
		}
		start, ok := termPoint(t, plan, orders)
		if !ok || start.After(at) {
			continue
		}
		if begin == nil || start.After(beginStart) || start.Equal(beginStart) && t.Spec.Revision > begin.Spec.Revision {
			begin, beginStart = t, start
		}
	}
	if begin == nil || !licensing.Renews(begin.Spec.PaymentPlan) {
		return string(plan.Status.RenewalDate)
	}
	anchor := beginStart.Day()
	if first, err := licensing.ParseDate(plan.Status.StartDate); err == nil && !first.After(beginStart) {
		anchor = first.Day()
	}
	return string(licensing.FormatDate(licensing.TermEnd(beginStart, anchor, begin.Spec.PaymentPlan)))
}

// termPoint is the day an order takes its place in its plan's terms: its effective date, but for
// a New order the plan's billing start date, which may lie before the day it was ordered (a plan
// started in the past, whose catch-up renewals follow) or after it, unless a later order moved the
// plan's start date (a Conversion, a OneTime plan moved to terms).
func termPoint(o *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) (time.Time, bool) {
	eff, err := licensing.ParseDate(o.Spec.EffectiveDate)
	if err != nil {
		return time.Time{}, false
	}
	if o.Spec.Change != v1alpha1.ChangeNew {
		return eff, true
	}
	start, err := licensing.ParseDate(plan.Status.StartDate)
	if err != nil {
		return eff, true
	}
	for i := range orders {
		t := &orders[i]
		if t.Spec.Revision > o.Spec.Revision && sameInstance(t, plan) &&
			(t.Spec.Change == v1alpha1.ChangeConversion || t.Spec.Change == v1alpha1.ChangePaymentPlan) &&
			t.Spec.EffectiveDate == plan.Status.StartDate {
			return eff, true // the start date is that later order's
		}
	}
	return start, true
}

// startsTerm tells whether an order of change begins a term of its plan.
func startsTerm(change v1alpha1.OrderChange) bool {
	switch change {
	case v1alpha1.ChangeNew, v1alpha1.ChangeRenewal, v1alpha1.ChangeConversion, v1alpha1.ChangePaymentPlan:
		return true
	}
	return false
}

// sameInstance tells whether o is an order of this plan and not of an earlier plan of its name.
func sameInstance(o *v1alpha1.LicenseOrder, plan *v1alpha1.CustomerLicensePlan) bool {
	return o.Spec.PlanUID == "" || o.Spec.PlanUID == plan.UID
}

func money(amount, currency string) string {
	if currency == "" {
		return amount
	}
	return amount + " " + currency
}

// planEvents are the events of the plan a sink may be told of: RenewalComing, TrialEnding,
// PlanExpired. They are recorded on the plan's latest applied order, which must be among orders.
func planEvents(now time.Time, sink *v1alpha1.NotificationSink, plan *v1alpha1.CustomerLicensePlan,
	orders []v1alpha1.LicenseOrder) []event {
	if plan == nil || plan.Status.LastOrder == "" || !hasOrder(orders, plan.Status.LastOrder) {
		return nil
	}
	base := planData(plan)
	today := licensing.Day(now)
	var lastCreated time.Time
	for i := range orders {
		if orders[i].Name == plan.Status.LastOrder {
			lastCreated = orders[i].CreationTimestamp.Time
		}
	}
	var out []event

	st := plan.Status
	if st.ExpiredOn != "" {
		if expired, err := licensing.ParseDate(st.ExpiredOn); err == nil {
			d := base
			d.Event = v1alpha1.NoticePlanExpired
			d.Time = expired
			d.RenewalDate = ""
			if w := st.ExpiredWith; w != nil {
				if w.Product != "" {
					d.Product = w.Product
				}
				if w.PaymentPlan != "" {
					d.PaymentPlan = string(w.PaymentPlan)
				}
				d.Quantity = w.Quantity
			}
			out = append(out, event{
				data: d, order: st.LastOrder, uid: string(plan.UID), occurrence: string(st.ExpiredOn), giveUp: true,
				forSink: func(sink *v1alpha1.NotificationSink) bool {
					// The day it expired, or the order that ended it, came after the sink.
					return !expired.Before(licensing.Day(sink.CreationTimestamp.Time)) ||
						lastCreated.After(sink.CreationTimestamp.Time)
				},
			})
		}
		return out
	}
	if st.RenewalDate == "" || st.CancelledOn != "" {
		return out
	}
	renewal, err := licensing.ParseDate(st.RenewalDate)
	if err != nil {
		return out
	}
	var ev v1alpha1.NoticeEvent
	switch {
	case st.PaymentPlan == v1alpha1.Trial:
		ev = v1alpha1.NoticeTrialEnding
	case st.RenewalAction == v1alpha1.RenewalActionRenew:
		ev = v1alpha1.NoticeRenewalComing
	default:
		return out
	}
	days, selected := selects(sink, ev)
	if !selected {
		return out
	}
	start := renewal.AddDate(0, 0, -days)
	if !today.Before(renewal) {
		return out
	}
	d := base
	d.Event = ev
	d.Time = start
	d.DaysLeft = int(renewal.Sub(today).Hours() / 24)
	e := event{
		data: d, order: st.LastOrder, uid: string(plan.UID), occurrence: string(st.RenewalDate),
		forSink: func(*v1alpha1.NotificationSink) bool { return true },
	}
	if today.Before(start) {
		e.notBefore = start
	}
	return append(out, e)
}

func planData(plan *v1alpha1.CustomerLicensePlan) Data {
	st := plan.Status
	d := Data{
		Namespace:   plan.Namespace,
		Customer:    plan.Spec.Customer,
		CostCenter:  plan.Spec.CostCenter,
		Plan:        plan.Name,
		Order:       st.LastOrder,
		User:        v1alpha1.SystemUser,
		SKU:         st.SKU,
		Product:     st.Product,
		PaymentPlan: string(st.PaymentPlan),
		Reference:   plan.Spec.PurchaseReference,
		Quantity:    st.Licenses,
		RenewalDate: string(st.RenewalDate),
	}
	if b := st.Billing; b != nil && b.NextInvoiceAmount != "" {
		currency := st.Currency
		if b.NextInvoiceCurrency != "" {
			currency = b.NextInvoiceCurrency
		}
		d.Charge = money(string(b.NextInvoiceAmount), currency)
	}
	return d
}

func hasOrder(orders []v1alpha1.LicenseOrder, name string) bool {
	for i := range orders {
		if orders[i].Name == name {
			return true
		}
	}
	return false
}

// selects says whether a sink selects an event, and with how many days before.
func selects(sink *v1alpha1.NotificationSink, ev v1alpha1.NoticeEvent) (daysBefore int, ok bool) {
	for _, s := range sink.Spec.Events {
		if s.Type == ev {
			days := v1alpha1.DefaultNoticeDaysBefore
			if s.DaysBefore != nil {
				days = int(*s.DaysBefore)
			}
			return days, true
		}
	}
	return 0, false
}

// matches says whether a sink's filter lets through a plan or order of namespace, customer and
// cost center: every list that is set must hold the value.
func matches(sink *v1alpha1.NotificationSink, namespace, customer, costCenter string) bool {
	f := sink.Spec.Filter
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return in(f.Namespaces, namespace) && in(f.Customers, customer) && in(f.CostCenters, costCenter)
}

// Recipients are the addresses an email sink sends a notice about customer and costCenter to:
// spec.email.to, then the to of every recipients entry naming the customer or the cost center,
// without repeats, in that order. Nil for a sink that is not email.
func Recipients(sink *v1alpha1.NotificationSink, customer, costCenter string) []string {
	e := sink.Spec.Email
	if e == nil {
		return nil
	}
	var out []string
	add := func(list []string) {
		for _, a := range list {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	add(e.To)
	for _, r := range e.Recipients {
		if (r.Customer != "" && r.Customer == customer) || (r.CostCenter != "" && r.CostCenter == costCenter) {
			add(r.To)
		}
	}
	return out
}

// RetryAt is when a notice whose last attempt failed may be sent again: Backoff(attempts) after
// that attempt; zero for a notice never attempted.
func RetryAt(n v1alpha1.Notice) time.Time {
	if n.LastAttempt == nil {
		return time.Time{}
	}
	return n.LastAttempt.Time.Add(Backoff(n.Attempts)).UTC()
}

// Earliest is the earlier of two times, a zero time standing for none.
func Earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
