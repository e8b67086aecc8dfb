package notify_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/notify"
)

// now is the time of every case: 2026-03-14 12:00 UTC. The plan renews on 2026-04-01.
var now = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

var sinkCreated = now.Add(-24 * time.Hour)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func mt(t time.Time) *metav1.Time { v := metav1.NewTime(t); return &v }

func sink(name string, events ...v1alpha1.NoticeEvent) v1alpha1.NotificationSink {
	s := v1alpha1.NotificationSink{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(sinkCreated)},
		Spec: v1alpha1.NotificationSinkSpec{Webhook: &v1alpha1.WebhookSink{URL: "https://hooks.example/" + name,
			SecretRef: v1alpha1.SecretKeyRef{Name: "hook", Key: "hmac"}}},
	}
	for _, e := range events {
		s.Spec.Events = append(s.Spec.Events, v1alpha1.NoticeSelector{Type: e})
	}
	return s
}

func allEvents(name string) v1alpha1.NotificationSink { return sink(name, v1alpha1.NoticeEvents...) }

func plan() *v1alpha1.CustomerLicensePlan {
	return &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: "endpoints", UID: "plan-uid"},
		Spec: v1alpha1.CustomerLicensePlanSpec{Customer: "Acme Corp", CostCenter: "CC-100", Product: "endpoint-license-basic",
			Quantity: 25, PaymentPlan: v1alpha1.Monthly, PurchaseReference: "PO-4711"},
		Status: v1alpha1.CustomerLicensePlanStatus{
			Product: "endpoint-license-basic", SKU: "EPL-B-001", Licenses: 25, PaymentPlan: v1alpha1.Monthly,
			Currency: "EUR", RenewalDate: "2026-04-01", RenewalAction: v1alpha1.RenewalActionRenew,
			LastOrder: "endpoints-2", Revision: 2,
			Billing: &v1alpha1.BillingStatus{NextInvoiceAmount: "106.25"},
		},
	}
}

// order is the plan's revision-th order, created an hour before now, in state.
func order(revision int64, state v1alpha1.OrderState) v1alpha1.LicenseOrder {
	name := fmt.Sprintf("endpoints-%d", revision)
	o := v1alpha1.LicenseOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: name, UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Spec: v1alpha1.LicenseOrderSpec{Plan: "endpoints", PlanUID: "plan-uid", Customer: "Acme Corp", Revision: revision,
			Change: v1alpha1.ChangeIncreaseQuantity, Product: "endpoint-license-basic", SKU: "EPL-B-001",
			PaymentPlan: v1alpha1.Monthly, Quantity: 25, PreviousQuantity: 20, EffectiveDate: "2026-03-14",
			PurchaseReference: "PO-4711", CostCenter: "CC-100", RequestedBy: "alice@acme.example"},
		Status: v1alpha1.LicenseOrderStatus{State: state},
	}
	switch state {
	case v1alpha1.OrderFulfilled:
		o.Status.FulfilledAt = mt(now.Add(-30 * time.Minute))
		o.Status.Charge = &v1alpha1.Charge{Amount: "21.29", Currency: "EUR"}
	case v1alpha1.OrderRejected:
		o.Status.Reason = v1alpha1.ReasonUsageBelowMinimum
		o.Status.Message = "the quantity 5 does not cover the 7 licenses assigned: raise spec.quantity"
	}
	return o
}

// history is the plan's fulfilled first order and, as the plan's last, its fulfilled second,
// both fulfilled before the sinks were created, so that they tell nothing on their own.
func history() []v1alpha1.LicenseOrder {
	o1, o2 := order(1, v1alpha1.OrderFulfilled), order(2, v1alpha1.OrderFulfilled)
	o1.Status.FulfilledAt = mt(sinkCreated.Add(-48 * time.Hour))
	o2.Status.FulfilledAt = mt(sinkCreated.Add(-time.Hour))
	for _, o := range []*v1alpha1.LicenseOrder{&o1, &o2} {
		o.CreationTimestamp = metav1.NewTime(o.Status.FulfilledAt.Add(-time.Minute))
	}
	return []v1alpha1.LicenseOrder{o1, o2}
}

func planKey(event v1alpha1.NoticeEvent, occurrence, sink string) string {
	return notify.Key("plan-uid", event, occurrence, sink)
}

func TestDue(t *testing.T) {
	type setup struct {
		now    time.Time
		sinks  []v1alpha1.NotificationSink
		plan   *v1alpha1.CustomerLicensePlan
		orders []v1alpha1.LicenseOrder
	}
	// base: one sink of every event but RenewalComing and TrialEnding (whose window to come would
	// be the next of every case), the plan, and its history that tells nothing.
	base := func() *setup {
		hook := sink("hook", v1alpha1.NoticeOrderFulfilled, v1alpha1.NoticeOrderAwaitingApproval, v1alpha1.NoticeOrderRejected,
			v1alpha1.NoticeOrderDenied, v1alpha1.NoticePlanExpired)
		return &setup{now: now, sinks: []v1alpha1.NotificationSink{hook}, plan: plan(), orders: history()}
	}
	windows := func(s *setup) {
		s.sinks[0].Spec.Events = append(s.sinks[0].Spec.Events, v1alpha1.NoticeSelector{Type: v1alpha1.NoticeRenewalComing},
			v1alpha1.NoticeSelector{Type: v1alpha1.NoticeTrialEnding})
	}
	noHistory := func(s *setup) { s.orders = nil }
	// withOrder adds an order; a fulfilled one is applied by the plan, as the plan's reconciler
	// does in the status write after its fulfilment.
	withOrder := func(o v1alpha1.LicenseOrder) func(*setup) {
		return func(s *setup) {
			s.orders = append(s.orders, o)
			if o.Status.State == v1alpha1.OrderFulfilled && s.plan != nil && o.Spec.Revision > s.plan.Status.Revision {
				s.plan.Status.LastOrder, s.plan.Status.Revision = o.Name, o.Spec.Revision
			}
		}
	}
	at := func(t time.Time) func(*setup) { return func(s *setup) { s.now = t } }
	renewal := func(action v1alpha1.RenewalAction, pp v1alpha1.PaymentPlan) func(*setup) {
		return func(s *setup) { s.plan.Status.RenewalAction, s.plan.Status.PaymentPlan = action, pp }
	}
	onlyEvents := func(sel ...v1alpha1.NoticeSelector) func(*setup) {
		return func(s *setup) { s.sinks[0].Spec.Events = sel }
	}
	fulfilled3 := func(at time.Time) v1alpha1.LicenseOrder {
		o := order(3, v1alpha1.OrderFulfilled)
		o.Status.FulfilledAt = mt(at)
		return o
	}
	rejected3 := func(reason string) v1alpha1.LicenseOrder {
		o := order(3, v1alpha1.OrderRejected)
		o.Status.Reason = reason
		return o
	}
	failed := func(key string, attempts int32, last time.Time) v1alpha1.Notice {
		return v1alpha1.Notice{Sink: "hook", Event: v1alpha1.NoticeOrderAwaitingApproval, Key: key, Attempts: attempts, LastAttempt: mt(last), LastError: "webhook answered 500"}
	}
	key3 := func(ev v1alpha1.NoticeEvent) string { return notify.Key("uid-endpoints-3", ev, "", "hook") }
	expired := func(on v1alpha1.Date) func(*setup) {
		return func(s *setup) {
			s.plan.Status.ExpiredOn, s.plan.Status.RenewalAction, s.plan.Status.RenewalDate = on, v1alpha1.RenewalActionNone, ""
			s.plan.Status.ExpiredWith = &v1alpha1.ExpiredWith{Product: "endpoint-license-basic", Quantity: 25,
				PaymentPlan: v1alpha1.Monthly}
		}
	}

	cases := []struct {
		name  string
		setup []func(*setup)
		want  []string // "order event sink"
		next  time.Time
	}{
		{name: "the history before the sink tells nothing"},

		// Order events and the sink's creation.
		{name: "fulfilled after the sink was created", setup: []func(*setup){withOrder(fulfilled3(now.Add(-time.Minute)))},
			want: []string{"endpoints-3 OrderFulfilled hook"}},
		{name: "fulfilled at the sink's creation", setup: []func(*setup){withOrder(fulfilled3(sinkCreated))},
			want: []string{"endpoints-3 OrderFulfilled hook"}},
		// Its confirmation tells the renewal date the plan's next status write brings.
		{name: "fulfilled, not applied by the plan yet", setup: []func(*setup){withOrder(fulfilled3(now.Add(-time.Minute))),
			func(s *setup) { s.plan.Status.LastOrder, s.plan.Status.Revision = "endpoints-2", 2 }}},
		{name: "fulfilled, the plan gone", setup: []func(*setup){withOrder(fulfilled3(now.Add(-time.Minute))),
			func(s *setup) { s.plan = nil }},
			want: []string{"endpoints-3 OrderFulfilled hook"}},
		// The operator's clock (fulfilledAt) and the API server's (creationTimestamps) may differ:
		// an order the API server created after the sink is the sink's to hear of.
		{name: "fulfilled before the sink by the operator's clock, ordered after it by the API server's",
			setup: []func(*setup){withOrder(fulfilled3(sinkCreated.Add(-time.Second))), func(s *setup) {
				s.orders[2].CreationTimestamp = metav1.NewTime(sinkCreated.Add(time.Hour))
			}},
			want: []string{"endpoints-3 OrderFulfilled hook"}},
		{name: "ordered and fulfilled before the sink was created",
			setup: []func(*setup){withOrder(fulfilled3(sinkCreated.Add(-time.Second))), func(s *setup) {
				s.orders[2].CreationTimestamp = metav1.NewTime(sinkCreated.Add(-time.Minute))
			}}},
		{name: "fulfilled without fulfilledAt", setup: []func(*setup){withOrder(func() v1alpha1.LicenseOrder {
			o := order(3, v1alpha1.OrderFulfilled)
			o.Status.FulfilledAt = nil
			return o
		}())}},
		{name: "pending", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderPending))}},
		{name: "awaiting approval", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderAwaitingApproval))},
			want: []string{"endpoints-3 OrderAwaitingApproval hook"}},
		{name: "awaiting approval since before the sink", setup: []func(*setup){withOrder(func() v1alpha1.LicenseOrder {
			o := order(3, v1alpha1.OrderAwaitingApproval)
			o.CreationTimestamp = metav1.NewTime(sinkCreated.Add(-time.Second))
			return o
		}())}},
		{name: "rejected", setup: []func(*setup){withOrder(rejected3(v1alpha1.ReasonUsageBelowMinimum))},
			want: []string{"endpoints-3 OrderRejected hook"}},
		{name: "denied", setup: []func(*setup){withOrder(rejected3(v1alpha1.ReasonDenied))},
			want: []string{"endpoints-3 OrderDenied hook"}},
		{name: "superseded is no rejection", setup: []func(*setup){withOrder(rejected3(v1alpha1.ReasonSuperseded))}},
		{name: "an event the sink does not select",
			setup: []func(*setup){withOrder(rejected3(v1alpha1.ReasonDenied)),
				onlyEvents(v1alpha1.NoticeSelector{Type: v1alpha1.NoticeOrderRejected})}},

		// RenewalComing: [renewalDate - daysBefore, renewalDate), 7 days unless the sink says.
		{name: "renewal: the day before the window", setup: []func(*setup){windows, at(day("2026-03-24").Add(23 * time.Hour))},
			next: day("2026-03-25")},
		{name: "renewal: the window's first day", setup: []func(*setup){windows, at(day("2026-03-25"))},
			want: []string{"endpoints-2 RenewalComing hook"}},
		{name: "renewal: the window's last day", setup: []func(*setup){windows, at(day("2026-03-31").Add(23 * time.Hour))},
			want: []string{"endpoints-2 RenewalComing hook"}},
		{name: "renewal: on the renewal date", setup: []func(*setup){windows, at(day("2026-04-01"))}},
		{name: "renewal: daysBefore 3, the day before the window",
			setup: []func(*setup){at(day("2026-03-28").Add(12 * time.Hour)),
				onlyEvents(v1alpha1.NoticeSelector{Type: v1alpha1.NoticeRenewalComing, DaysBefore: ptr.To[int32](3)})},
			next: day("2026-03-29")},
		{name: "renewal: daysBefore 3, in the window",
			setup: []func(*setup){at(day("2026-03-29")),
				onlyEvents(v1alpha1.NoticeSelector{Type: v1alpha1.NoticeRenewalComing, DaysBefore: ptr.To[int32](3)})},
			want: []string{"endpoints-2 RenewalComing hook"}},
		{name: "renewal: a plan that expires at its term end",
			setup: []func(*setup){windows, at(day("2026-03-28")), renewal(v1alpha1.RenewalActionExpire, v1alpha1.Monthly)}},
		{name: "renewal: a OneTime plan", setup: []func(*setup){windows, at(day("2026-03-28")), renewal(v1alpha1.RenewalActionNone, v1alpha1.OneTime)}},
		{name: "renewal: a sink of order events only is told nothing and waits for nothing",
			setup: []func(*setup){at(day("2026-03-20")), onlyEvents(v1alpha1.NoticeSelector{Type: v1alpha1.NoticeOrderFulfilled})}},
		{name: "renewal: delivered on an earlier order of the plan", setup: []func(*setup){windows, at(day("2026-03-28")), func(s *setup) {
			s.orders[0].Status.Notices = []v1alpha1.Notice{{Sink: "hook", Event: v1alpha1.NoticeRenewalComing,
				Key: planKey(v1alpha1.NoticeRenewalComing, "2026-04-01", "hook"), Attempts: 1, DeliveredAt: mt(day("2026-03-26"))}}
		}}},
		{name: "renewal: a later order is applied, the renewal date is the same", setup: []func(*setup){windows, at(day("2026-03-28")), func(s *setup) {
			s.orders[1].Status.Notices = []v1alpha1.Notice{{Sink: "hook", Event: v1alpha1.NoticeRenewalComing,
				Key: planKey(v1alpha1.NoticeRenewalComing, "2026-04-01", "hook"), Attempts: 1, DeliveredAt: mt(day("2026-03-26"))}}
			o3 := fulfilled3(sinkCreated.Add(-time.Minute))
			s.orders = append(s.orders, o3)
			s.plan.Status.LastOrder = o3.Name
		}}},
		{name: "renewal: delivered for the previous term", setup: []func(*setup){windows, at(day("2026-03-28")), func(s *setup) {
			s.orders[1].Status.Notices = []v1alpha1.Notice{{Sink: "hook", Event: v1alpha1.NoticeRenewalComing,
				Key: planKey(v1alpha1.NoticeRenewalComing, "2026-03-01", "hook"), Attempts: 1, DeliveredAt: mt(day("2026-02-26"))}}
		}}, want: []string{"endpoints-2 RenewalComing hook"}},
		{name: "renewal: the plan's last order is not among the orders",
			setup: []func(*setup){windows, at(day("2026-03-28")), func(s *setup) { s.plan.Status.LastOrder = "endpoints-9" }}},

		// TrialEnding.
		{name: "trial: in the window", setup: []func(*setup){windows, at(day("2026-03-25")), renewal(v1alpha1.RenewalActionExpire, v1alpha1.Trial)},
			want: []string{"endpoints-2 TrialEnding hook"}},
		{name: "trial: before the window", setup: []func(*setup){windows, at(day("2026-03-20")), renewal(v1alpha1.RenewalActionExpire, v1alpha1.Trial)},
			next: day("2026-03-25")},
		{name: "trial: on its end", setup: []func(*setup){windows, at(day("2026-04-01")), renewal(v1alpha1.RenewalActionExpire, v1alpha1.Trial)}},
		{name: "trial: a sink of renewals only", setup: []func(*setup){windows, at(day("2026-03-25")),
			renewal(v1alpha1.RenewalActionExpire, v1alpha1.Trial), onlyEvents(v1alpha1.NoticeSelector{Type: v1alpha1.NoticeRenewalComing})}},

		// PlanExpired.
		{name: "expired after the sink was created", setup: []func(*setup){expired("2026-03-14")},
			want: []string{"endpoints-2 PlanExpired hook"}},
		{name: "expired on the day the sink was created, before it", setup: []func(*setup){expired("2026-03-13"), func(s *setup) {
			s.sinks[0].CreationTimestamp = metav1.NewTime(day("2026-03-13").Add(20 * time.Hour))
		}}, want: []string{"endpoints-2 PlanExpired hook"}},
		{name: "expired before the sink was created", setup: []func(*setup){expired("2026-03-12")}},
		{name: "expired more than 72 hours ago", setup: []func(*setup){expired("2026-03-14"), at(day("2026-03-17").Add(time.Second)),
			func(s *setup) { s.sinks[0].CreationTimestamp = metav1.NewTime(day("2026-03-10")) }}},

		// Filters.
		{name: "filter: every list matches", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderAwaitingApproval)), func(s *setup) {
			s.sinks[0].Spec.Filter = v1alpha1.NoticeFilter{Namespaces: []string{"other", "acme"}, Customers: []string{"Acme Corp"},
				CostCenters: []string{"CC-100", "CC-200"}}
		}}, want: []string{"endpoints-3 OrderAwaitingApproval hook"}},
		{name: "filter: another namespace", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderAwaitingApproval)), func(s *setup) {
			s.sinks[0].Spec.Filter = v1alpha1.NoticeFilter{Namespaces: []string{"other"}}
		}}},
		{name: "filter: another customer", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderAwaitingApproval)), func(s *setup) {
			s.sinks[0].Spec.Filter = v1alpha1.NoticeFilter{Namespaces: []string{"acme"}, Customers: []string{"Globex"}}
		}}},
		{name: "filter: another cost center", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderAwaitingApproval)), func(s *setup) {
			s.sinks[0].Spec.Filter = v1alpha1.NoticeFilter{CostCenters: []string{"CC-200"}}
		}}},
		{name: "filter: a plan event of another cost center", setup: []func(*setup){expired("2026-03-14"), func(s *setup) {
			s.sinks[0].Spec.Filter = v1alpha1.NoticeFilter{CostCenters: []string{"CC-200"}}
		}}},
		{name: "email: no recipient for the customer", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderAwaitingApproval)), func(s *setup) {
			s.sinks[0].Spec.Webhook = nil
			s.sinks[0].Spec.Email = &v1alpha1.EmailSink{Host: "smtp", From: "l@p.example",
				Recipients: []v1alpha1.Recipients{{Customer: "Globex", To: []string{"ap@globex.example"}}}}
		}}},
		{name: "email: a recipient for the cost center", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderAwaitingApproval)), func(s *setup) {
			s.sinks[0].Spec.Webhook = nil
			s.sinks[0].Spec.Email = &v1alpha1.EmailSink{Host: "smtp", From: "l@p.example",
				Recipients: []v1alpha1.Recipients{{CostCenter: "CC-100", To: []string{"cc100@acme.example"}}}}
		}}, want: []string{"endpoints-3 OrderAwaitingApproval hook"}},

		// Suspension, delivery, retries, giving up.
		{name: "a suspended sink", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderAwaitingApproval)),
			func(s *setup) { s.sinks[0].Spec.Suspend = true }}},
		{name: "delivered on the order", setup: []func(*setup){withOrder(func() v1alpha1.LicenseOrder {
			o := order(3, v1alpha1.OrderAwaitingApproval)
			o.Status.Notices = []v1alpha1.Notice{{Sink: "hook", Event: v1alpha1.NoticeOrderAwaitingApproval,
				Key: key3(v1alpha1.NoticeOrderAwaitingApproval), Attempts: 2, DeliveredAt: mt(now.Add(-time.Minute))}}
			return o
		}())}},
		{name: "delivered to another sink only", setup: []func(*setup){withOrder(func() v1alpha1.LicenseOrder {
			o := order(3, v1alpha1.OrderAwaitingApproval)
			o.Status.Notices = []v1alpha1.Notice{{Sink: "mail", Event: v1alpha1.NoticeOrderAwaitingApproval,
				Key: notify.Key("uid-endpoints-3", v1alpha1.NoticeOrderAwaitingApproval, "", "mail"), Attempts: 1,
				DeliveredAt: mt(now.Add(-time.Minute))}}
			return o
		}())}, want: []string{"endpoints-3 OrderAwaitingApproval hook"}},
		{name: "a failed attempt, before its backoff", setup: []func(*setup){withOrder(func() v1alpha1.LicenseOrder {
			o := order(3, v1alpha1.OrderAwaitingApproval)
			o.Status.Notices = []v1alpha1.Notice{failed(key3(v1alpha1.NoticeOrderAwaitingApproval), 2, now.Add(-59*time.Second))}
			return o
		}())}, next: now.Add(time.Second)},
		{name: "a failed attempt, after its backoff", setup: []func(*setup){withOrder(func() v1alpha1.LicenseOrder {
			o := order(3, v1alpha1.OrderAwaitingApproval)
			o.Status.Notices = []v1alpha1.Notice{failed(key3(v1alpha1.NoticeOrderAwaitingApproval), 2, now.Add(-time.Minute))}
			return o
		}())}, want: []string{"endpoints-3 OrderAwaitingApproval hook"}},
		{name: "an event of 71 hours", setup: []func(*setup){noHistory, withOrder(fulfilled3(now.Add(-71 * time.Hour))),
			func(s *setup) { s.sinks[0].CreationTimestamp = metav1.NewTime(now.Add(-100 * time.Hour)) }},
			want: []string{"endpoints-3 OrderFulfilled hook"}},
		{name: "an event of more than 72 hours", setup: []func(*setup){noHistory, withOrder(fulfilled3(now.Add(-72*time.Hour - time.Second))),
			func(s *setup) { s.sinks[0].CreationTimestamp = metav1.NewTime(now.Add(-100 * time.Hour)) }}},
		{name: "a retry due after the event is 72 hours old is not waited for", setup: []func(*setup){noHistory, withOrder(func() v1alpha1.LicenseOrder {
			o := fulfilled3(now.Add(-71*time.Hour - 50*time.Minute))
			o.Status.Notices = []v1alpha1.Notice{failed(key3(v1alpha1.NoticeOrderFulfilled), 8, now.Add(-30*time.Minute))}
			return o
		}()), func(s *setup) { s.sinks[0].CreationTimestamp = metav1.NewTime(now.Add(-100 * time.Hour)) }}},

		// The plan gone, several sinks.
		{name: "the plan is gone: its orders' events are still due", setup: []func(*setup){windows,
			withOrder(order(3, v1alpha1.OrderAwaitingApproval)), func(s *setup) { s.plan = nil }},
			want: []string{"endpoints-3 OrderAwaitingApproval hook"}},
		{name: "two sinks", setup: []func(*setup){withOrder(order(3, v1alpha1.OrderAwaitingApproval)), func(s *setup) {
			s.sinks = append(s.sinks, sink("a-mail", v1alpha1.NoticeOrderAwaitingApproval))
		}}, want: []string{"endpoints-3 OrderAwaitingApproval a-mail", "endpoints-3 OrderAwaitingApproval hook"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			for _, f := range tc.setup {
				f(s)
			}
			due, next := notify.Due(s.now, s.sinks, s.plan, s.orders)
			var got []string
			keys := map[string]bool{}
			for _, p := range due {
				got = append(got, p.Order+" "+string(p.Notice.Event)+" "+p.Notice.Sink)
				if p.Notice.Event != p.Data.Event {
					t.Errorf("notice of %s carries data of %s", p.Notice.Event, p.Data.Event)
				}
				if keys[p.Notice.Key] {
					t.Errorf("key %s twice", p.Notice.Key)
				}
				keys[p.Notice.Key] = true
			}
			slices.Sort(got)
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("due:\n  got  %q\n  want %q", got, tc.want)
			}
			if !next.Equal(tc.next) {
				t.Errorf("next = %v, want %v", next, tc.next)
			}
		})
	}
}

// TestDueNotice checks the key, the attempts carried over, and the data of due notices.
func TestDueNotice(t *testing.T) {
	t.Run("a retried notice carries its attempts and key", func(t *testing.T) {
		o := order(3, v1alpha1.OrderAwaitingApproval)
		key := notify.Key(o.UID, v1alpha1.NoticeOrderAwaitingApproval, "", "hook")
		o.Status.Notices = []v1alpha1.Notice{{Sink: "hook", Event: v1alpha1.NoticeOrderAwaitingApproval, Key: key,
			Attempts: 3, LastAttempt: mt(now.Add(-5 * time.Minute)), LastError: "500"}}
		due, _ := notify.Due(now, []v1alpha1.NotificationSink{allEvents("hook")}, plan(), append(history(), o))
		if len(due) != 1 || due[0].Notice.Key != key || due[0].Notice.Attempts != 3 || due[0].Order != o.Name {
			t.Fatalf("due %+v", due)
		}
	})
	t.Run("order data", func(t *testing.T) {
		o := order(3, v1alpha1.OrderFulfilled)
		o.Status.FulfilledAt = mt(time.Date(2026, 3, 14, 11, 26, 53, 0, time.FixedZone("CET", 3600)))
		p := plan()
		p.Status.LastOrder, p.Status.Revision = o.Name, 3 // the plan applied it
		due, _ := notify.Due(now, []v1alpha1.NotificationSink{allEvents("hook")}, p, append(history(), o))
		if len(due) != 1 {
			t.Fatalf("due %+v", due)
		}
		want := notify.Data{Event: v1alpha1.NoticeOrderFulfilled, Namespace: "acme", Customer: "Acme Corp", CostCenter: "CC-100",
			Plan: "endpoints", Order: "endpoints-3", Time: time.Date(2026, 3, 14, 10, 26, 53, 0, time.UTC),
			User: "alice@acme.example", SKU: "EPL-B-001", Product: "endpoint-license-basic", PaymentPlan: "Monthly",
			Reference: "PO-4711", Change: "IncreaseQuantity", Quantity: 25, Charge: "21.29 EUR", RenewalDate: "2026-04-01"}
		if got := due[0].Data; got != want {
			t.Errorf("data\n  got  %+v\n  want %+v", got, want)
		}
		if due[0].Data.Time.Location() != time.UTC {
			t.Errorf("time not in UTC: %v", due[0].Data.Time)
		}
		if k := notify.Key("uid-endpoints-3", v1alpha1.NoticeOrderFulfilled, "", "hook"); due[0].Notice.Key != k {
			t.Errorf("key %s, want %s", due[0].Notice.Key, k)
		}
	})
	t.Run("a System order, awaiting approval", func(t *testing.T) {
		o := order(3, v1alpha1.OrderAwaitingApproval)
		o.Spec.RequestedBy = ""
		due, _ := notify.Due(now, []v1alpha1.NotificationSink{allEvents("hook")}, plan(), append(history(), o))
		if len(due) != 1 || due[0].Data.User != "System" || due[0].Data.Approve != "kubectl license approve endpoints-3 -n acme" {
			t.Errorf("due %+v", due)
		}
	})
	t.Run("rejected: reason and message", func(t *testing.T) {
		o := order(3, v1alpha1.OrderRejected)
		due, _ := notify.Due(now, []v1alpha1.NotificationSink{allEvents("hook")}, plan(), append(history(), o))
		if len(due) != 1 || due[0].Data.Reason != "UsageBelowMinimum" || !strings.Contains(due[0].Data.Message, "raise spec.quantity") {
			t.Errorf("due %+v", due)
		}
	})
	t.Run("renewal data and key", func(t *testing.T) {
		due, _ := notify.Due(day("2026-03-28").Add(8*time.Hour), []v1alpha1.NotificationSink{allEvents("hook")}, plan(), history())
		if len(due) != 1 {
			t.Fatalf("due %+v", due)
		}
		d := due[0].Data
		if d.DaysLeft != 4 || d.RenewalDate != "2026-04-01" || d.Charge != "106.25 EUR" || d.Quantity != 25 ||
			d.User != "System" || d.Order != "endpoints-2" || d.Customer != "Acme Corp" || !d.Time.Equal(day("2026-03-25")) {
			t.Errorf("data %+v", d)
		}
		if k := planKey(v1alpha1.NoticeRenewalComing, "2026-04-01", "hook"); due[0].Notice.Key != k {
			t.Errorf("key %s, want %s", due[0].Notice.Key, k)
		}
	})
	t.Run("two sinks: different keys", func(t *testing.T) {
		due, _ := notify.Due(now, []v1alpha1.NotificationSink{allEvents("hook"), allEvents("mail")}, plan(),
			append(history(), order(3, v1alpha1.OrderAwaitingApproval)))
		if len(due) != 2 || due[0].Notice.Key == due[1].Notice.Key || due[0].Notice.Sink == due[1].Notice.Sink {
			t.Errorf("due %+v", due)
		}
	})
	t.Run("next is the earliest of several", func(t *testing.T) {
		o := order(3, v1alpha1.OrderAwaitingApproval)
		o.Status.Notices = []v1alpha1.Notice{{Sink: "hook", Key: notify.Key(o.UID, v1alpha1.NoticeOrderAwaitingApproval, "", "hook"),
			Attempts: 4, LastAttempt: mt(now.Add(-time.Minute))}}
		at := day("2026-03-24").Add(23*time.Hour + 59*time.Minute)
		o.CreationTimestamp = metav1.NewTime(at.Add(-time.Hour))
		o.Status.Notices[0].LastAttempt = mt(at.Add(-time.Minute))
		due, next := notify.Due(at, []v1alpha1.NotificationSink{allEvents("hook")}, plan(), append(history(), o))
		if len(due) != 0 || !next.Equal(day("2026-03-25")) {
			t.Errorf("due %+v, next %v; want none, and next the window's start (before the retry at %v)", due, next,
				at.Add(3*time.Minute))
		}
	})
}

func TestRecipients(t *testing.T) {
	s := v1alpha1.NotificationSink{Spec: v1alpha1.NotificationSinkSpec{Email: &v1alpha1.EmailSink{
		To: []string{"ops@partner.example", "billing@partner.example"},
		Recipients: []v1alpha1.Recipients{
			{Customer: "Acme Corp", To: []string{"it@acme.example", "ops@partner.example"}},
			{CostCenter: "CC-100", To: []string{"cc100@acme.example", "it@acme.example"}},
			{Customer: "Globex", To: []string{"it@globex.example"}},
			{CostCenter: "CC-200", To: []string{"cc200@acme.example"}},
		},
	}}}
	cases := []struct {
		customer, costCenter string
		want                 []string
	}{
		{"Acme Corp", "CC-100", []string{"ops@partner.example", "billing@partner.example", "it@acme.example", "cc100@acme.example"}},
		{"Acme Corp", "", []string{"ops@partner.example", "billing@partner.example", "it@acme.example"}},
		{"Initech", "CC-200", []string{"ops@partner.example", "billing@partner.example", "cc200@acme.example"}},
		{"", "", []string{"ops@partner.example", "billing@partner.example"}},
	}
	for _, tc := range cases {
		if got := notify.Recipients(&s, tc.customer, tc.costCenter); !slices.Equal(got, tc.want) {
			t.Errorf("Recipients(%q, %q) = %q, want %q", tc.customer, tc.costCenter, got, tc.want)
		}
	}
	if got := notify.Recipients(&v1alpha1.NotificationSink{}, "Acme Corp", ""); got != nil {
		t.Errorf("Recipients of a webhook = %q", got)
	}
}

// TestRenewalDateOfEachConfirmation: a catch-up applies several terms in one pass; each
// confirmation names the end of its own term, not the plan's latest renewal date.
func TestRenewalDateOfEachConfirmation(t *testing.T) {
	p := plan()
	p.Status.StartDate, p.Status.RenewalDate, p.Status.LastOrder, p.Status.Revision = "2026-01-31", "2027-04-30", "endpoints-6", 6
	at := func(revision int64, change v1alpha1.OrderChange, effective v1alpha1.Date, pp v1alpha1.PaymentPlan) v1alpha1.LicenseOrder {
		o := order(revision, v1alpha1.OrderFulfilled)
		o.Spec.Change, o.Spec.EffectiveDate, o.Spec.PaymentPlan = change, effective, pp
		return o
	}
	orders := []v1alpha1.LicenseOrder{
		at(1, v1alpha1.ChangeNew, "2026-01-31", v1alpha1.Monthly),
		at(2, v1alpha1.ChangeRenewal, "2026-02-28", v1alpha1.Monthly),
		at(3, v1alpha1.ChangeIncreaseQuantity, "2026-03-10", v1alpha1.Monthly),
		at(4, v1alpha1.ChangeRenewal, "2026-03-31", v1alpha1.Monthly),
		// A move to a yearly prepay at the term end, then that term's Renewal, on the same day.
		at(5, v1alpha1.ChangePaymentPlan, "2026-04-30", v1alpha1.Prepay1Y),
		at(6, v1alpha1.ChangeRenewal, "2026-04-30", v1alpha1.Prepay1Y),
	}
	want := map[string]string{
		"endpoints-1": "2026-02-28", "endpoints-2": "2026-03-31", "endpoints-3": "2026-03-31",
		"endpoints-4": "2026-04-30", "endpoints-5": "2027-04-30", "endpoints-6": "2027-04-30",
	}
	if got := confirmedRenewalDates(p, orders); !reflect.DeepEqual(got, want) {
		t.Errorf("renewal dates %v, want %v", got, want)
	}
}

// TestRenewalDateOfABackdatedPlan: a plan started in the past is ordered today (its New's
// effective date) and billed from its start date, with catch-up renewals placed after the New.
func TestRenewalDateOfABackdatedPlan(t *testing.T) {
	p := plan()
	p.Status.StartDate, p.Status.RenewalDate, p.Status.LastOrder, p.Status.Revision = "2025-11-04", "2026-02-04", "endpoints-4", 4
	at := func(revision int64, change v1alpha1.OrderChange, effective v1alpha1.Date) v1alpha1.LicenseOrder {
		o := order(revision, v1alpha1.OrderFulfilled)
		o.Spec.Change, o.Spec.EffectiveDate = change, effective
		return o
	}
	orders := []v1alpha1.LicenseOrder{
		at(1, v1alpha1.ChangeNew, "2026-01-10"),
		at(2, v1alpha1.ChangeRenewal, "2025-12-04"),
		at(3, v1alpha1.ChangeRenewal, "2026-01-04"),
		at(4, v1alpha1.ChangeIncreaseQuantity, "2026-01-10"),
	}
	want := map[string]string{"endpoints-1": "2025-12-04", "endpoints-2": "2026-01-04", "endpoints-3": "2026-02-04", "endpoints-4": "2026-02-04"}
	if got := confirmedRenewalDates(p, orders); !reflect.DeepEqual(got, want) {
		t.Errorf("renewal dates %v, want %v", got, want)
	}
}

// confirmedRenewalDates is the renewal date each due confirmation of the plan's orders names, by order.
func confirmedRenewalDates(p *v1alpha1.CustomerLicensePlan, orders []v1alpha1.LicenseOrder) map[string]string {
	due, _ := notify.Due(now, []v1alpha1.NotificationSink{sink("hook", v1alpha1.NoticeOrderFulfilled)}, p, orders)
	got := map[string]string{}
	for _, d := range due {
		got[d.Order] = d.Data.RenewalDate
	}
	return got
}
