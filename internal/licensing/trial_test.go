package licensing

import (
	"fmt"
	"k8s.io/apimachinery/pkg/api/equality"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// trProduct is pvProduct (Monthly at 10.00, Prepay1Y at 100.00) offering a trial of 30 days and at
// most 10 licenses.
func trProduct() *v1alpha1.LicenseProductSpec {
	p := pvProduct("10.00")
	p.Trial = &v1alpha1.TrialOffer{Days: 30, MaxLicenses: 10}
	return p
}

// trStatus is a trial of 5 ep-plus licenses that started on 2026-03-10 and ends on 2026-04-09.
func trStatus() v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		Product: "ep-plus", SKU: "EP", Licenses: 5, PaymentPlan: v1alpha1.Trial, PricePerLicense: "0.00", Currency: "EUR",
		StartDate: "2026-03-10", Term: &v1alpha1.Term{Start: "2026-03-10", End: "2026-04-09"}, RenewalDate: "2026-04-09",
		Revision: 1, LastOrder: "eul-1", Billing: &v1alpha1.BillingStatus{TotalBilled: "0.00"},
	}
}

// trIn is the DueInput of plan eul, created on 2026-03-10, at now.
func trIn(spec v1alpha1.CustomerLicensePlanSpec, st v1alpha1.CustomerLicensePlanStatus, now time.Time) DueInput {
	return DueInput{Spec: spec, Status: st, Created: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), Currency: "EUR", Now: now,
		Catalog: map[string]*v1alpha1.LicenseProductSpec{"ep-plus": trProduct()}}
}

func trDay(s string) time.Time {
	d, err := ParseDate(v1alpha1.Date(s))
	if err != nil {
		panic(err)
	}
	return d
}

func TestTrialEnd(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	for _, tt := range []struct {
		start time.Time
		days  int32
		want  string
	}{
		{trDay("2026-03-10"), 30, "2026-04-09"},
		{trDay("2026-03-10"), 1, "2026-03-11"},
		{trDay("2026-01-31"), 30, "2026-03-02"},
		{trDay("2028-02-15"), 30, "2028-03-16"}, // across 29 February
		{trDay("2026-12-15"), 30, "2027-01-14"},
		{trDay("2026-11-01"), 90, "2027-01-30"},
		{time.Date(2026, 3, 10, 23, 59, 59, 0, time.UTC), 30, "2026-04-09"},
		{time.Date(2026, 3, 11, 0, 30, 0, 0, cet), 30, "2026-04-09"}, // 2026-03-10 23:30 UTC
	} {
		if got := FormatDate(TrialEnd(tt.start, tt.days)); got != v1alpha1.Date(tt.want) {
			t.Errorf("TrialEnd(%s, %d) = %s, want %s", tt.start.Format(time.RFC3339), tt.days, got, tt.want)
		}
	}
}

// FuzzTrialEnd checks that a trial lasts exactly its days, whatever the start, and ends at 00:00 UTC.
func FuzzTrialEnd(f *testing.F) {
	f.Add(int64(1773100800), uint8(30)) // 2026-03-10
	f.Add(int64(1835395200), uint8(30)) // 2028-02-29
	f.Add(int64(1798675199), uint8(90)) // 2026-12-31 23:59:59
	f.Add(int64(0), uint8(1))
	f.Fuzz(func(t *testing.T, unix int64, daysIn uint8) {
		start := time.Unix(unix%(400*366*secondsPerDay), 0).UTC()
		days := int32(daysIn)%90 + 1
		end := TrialEnd(start, days)
		if !end.Equal(Day(end)) || end.Location() != time.UTC {
			t.Fatalf("TrialEnd(%s, %d) = %s, want a day at 00:00 UTC", start, days, end)
		}
		if got := DaysBetween(start, end); got != int(days) {
			t.Fatalf("TrialEnd(%s, %d) = %s: %d days, want %d", start, days, end, got, days)
		}
		if term := (Term{Start: Day(start), End: end}); term.Days() != int(days) || !term.Contains(start) || term.Contains(end) {
			t.Fatalf("the trial term %s to %s does not hold its %d days", FormatDate(start), FormatDate(end), days)
		}
	})
}

// trInput is the validation input of a Trial order of 5 ep-plus licenses for plan eul.
func trInput() OrderInput {
	return OrderInput{Plan: "eul", Change: v1alpha1.ChangeTrial, ProductName: "ep-plus", Product: trProduct(),
		PaymentPlan: v1alpha1.Trial, Quantity: 5, CostCenter: "sales", Profile: vtProfile()}
}

func TestCheckTrial(t *testing.T) {
	for _, tt := range []struct {
		name          string
		mutate        func(*OrderInput)
		wantReason    string
		wantInMessage []string
	}{
		{name: "a first trial within the product's limits", mutate: func(*OrderInput) {}},
		{name: "a trial of exactly maxLicenses", mutate: func(in *OrderInput) { in.Quantity = 10 }},
		{name: "a paid order is no trial", mutate: func(in *OrderInput) { in.PaymentPlan, in.Product.Trial = v1alpha1.Monthly, nil }},
		{name: "a product without spec.trial", mutate: func(in *OrderInput) { in.Product.Trial = nil },
			wantReason:    v1alpha1.ReasonTrialNotOffered,
			wantInMessage: []string{`product "ep-plus" offers no trial`, "spec.trial", "set spec.paymentPlan to one of Monthly, Prepay1Y"}},
		{name: "a quantity above maxLicenses", mutate: func(in *OrderInput) { in.Quantity = 11 },
			wantReason:    v1alpha1.ReasonTrialTooLarge,
			wantInMessage: []string{"quantity 11 is more than the 10 licenses", "lower spec.quantity to at most 10"}},
		{name: "an increase of a trial above maxLicenses", mutate: func(in *OrderInput) {
			in.Change, in.Quantity, in.HeldPaymentPlan = v1alpha1.ChangeIncreaseQuantity, 12, v1alpha1.Trial
		}, wantReason: v1alpha1.ReasonTrialTooLarge},
		{name: "an increase of a trial within maxLicenses", mutate: func(in *OrderInput) {
			in.Change, in.Quantity, in.HeldPaymentPlan = v1alpha1.ChangeIncreaseQuantity, 8, v1alpha1.Trial
		}},
		{name: "a second trial of the product for the customer", mutate: func(in *OrderInput) { in.PriorTrials = []string{"otj-trial-1"} },
			wantReason:    v1alpha1.ReasonTrialUsed,
			wantInMessage: []string{`had a trial of "ep-plus" already (order otj-trial-1)`, "one trial per product", "Monthly, Prepay1Y"}},
		{name: "an earlier trial does not refuse a change of the trial in force", mutate: func(in *OrderInput) {
			in.Change, in.Quantity, in.HeldPaymentPlan, in.PriorTrials = v1alpha1.ChangeIncreaseQuantity, 8, v1alpha1.Trial, []string{"eul-1"}
		}},
		{name: "a paid plan in force set back to Trial", mutate: func(in *OrderInput) {
			in.Change, in.HeldPaymentPlan = v1alpha1.ChangePaymentPlan, v1alpha1.Monthly
		}, wantReason: v1alpha1.ReasonTrialNotOffered,
			wantInMessage: []string{`plan "eul" is or was on a paid plan (Monthly)`, "a trial only comes before a paid plan"}},
		{name: "a paid plan that expired, ordered again as a trial", mutate: func(in *OrderInput) { in.HeldPaymentPlan = v1alpha1.Prepay1Y },
			wantReason: v1alpha1.ReasonTrialNotOffered, wantInMessage: []string{"(Prepay1Y)"}},
		{name: "a trial moved to another product", mutate: func(in *OrderInput) {
			in.Change, in.HeldPaymentPlan, in.ProductName = v1alpha1.ChangeProduct, v1alpha1.Trial, "ep-premium"
		}, wantReason: v1alpha1.ReasonTrialNotOffered, wantInMessage: []string{"a trial stays on its product"}},
		{name: "an unknown product is left to ProductExists", mutate: func(in *OrderInput) { in.Product = nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := trInput()
			tt.mutate(&in)
			vtCheck(t, CheckTrial(in), tt.wantReason, tt.wantInMessage...)
		})
	}
}

func TestValidateOrderOfTrials(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(*OrderInput)
		want   string
	}{
		{"a valid trial", func(*OrderInput) {}, ""},
		{"an unknown product is refused as unknown, not as offering no trial", func(in *OrderInput) { in.Product = nil }, v1alpha1.ReasonUnknownProduct},
		{"a RenewalOnly product takes no trial, as it takes no new plan", func(in *OrderInput) { in.Product.Availability = v1alpha1.RenewalOnly },
			v1alpha1.ReasonProductNotOrderable},
		{"nor a conversion", func(in *OrderInput) {
			in.Change, in.PaymentPlan, in.Product.Availability = v1alpha1.ChangeConversion, v1alpha1.Monthly, v1alpha1.Retired
		}, v1alpha1.ReasonProductNotOrderable},
		{"a conversion to a payment plan the product does not offer", func(in *OrderInput) {
			in.Change, in.PaymentPlan = v1alpha1.ChangeConversion, v1alpha1.Prepay3Y
		}, v1alpha1.ReasonPaymentPlanNotOffered},
		{"a conversion may exceed the trial's maxLicenses", func(in *OrderInput) {
			in.Change, in.PaymentPlan, in.Quantity = v1alpha1.ChangeConversion, v1alpha1.Monthly, 50
		}, ""},
		{"a trial must cover the usage like any order", func(in *OrderInput) { in.Assigned = 6 }, v1alpha1.ReasonUsageBelowMinimum},
		{"the trial rules come before the cost center", func(in *OrderInput) { in.Quantity, in.CostCenter = 11, "nowhere" }, v1alpha1.ReasonTrialTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := trInput()
			tt.mutate(&in)
			vtCheck(t, ValidateOrder(in), tt.want)
		})
	}
}

func TestTrialReasonsAreRefusals(t *testing.T) {
	for _, r := range []string{v1alpha1.ReasonTrialNotOffered, v1alpha1.ReasonTrialUsed, v1alpha1.ReasonTrialTooLarge} {
		if !IsRefusal(r) || !NeedsRevalidation(&v1alpha1.LicenseOrder{Status: v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderRejected, Reason: r}}) {
			t.Errorf("%s is not a rule's refusal: a refused trial would be ordered again in a loop, or never judged again", r)
		}
	}
}

func TestPriorTrials(t *testing.T) {
	at := func(sec int) metav1.Time { return metav1.NewTime(time.Date(2026, 3, 10, 9, 0, sec, 0, time.UTC)) }
	order := func(name, plan string, created int, state v1alpha1.OrderState) v1alpha1.LicenseOrder {
		return v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: at(created)},
			Spec:   v1alpha1.LicenseOrderSpec{Plan: plan, Change: v1alpha1.ChangeTrial, Customer: "acme", Product: "ep-plus"},
			Status: v1alpha1.LicenseOrderStatus{State: state}}
	}
	judged := order("b-1", "b", 10, v1alpha1.OrderPending)
	renewal := order("c-2", "c", 1, v1alpha1.OrderFulfilled)
	renewal.Spec.Change = v1alpha1.ChangeRenewal
	for _, tt := range []struct {
		name   string
		orders []v1alpha1.LicenseOrder
		plan   string
		judged *v1alpha1.LicenseOrder
		want   []string
	}{
		{name: "none", judged: &judged},
		{name: "the order judged is not its own prior trial", orders: []v1alpha1.LicenseOrder{judged}, judged: &judged},
		{name: "a fulfilled trial counts, placed before or after",
			orders: []v1alpha1.LicenseOrder{order("a-1", "a", 5, v1alpha1.OrderFulfilled), order("z-1", "z", 20, v1alpha1.OrderFulfilled)},
			judged: &judged, want: []string{"a-1", "z-1"}},
		{name: "a rejected trial does not count",
			orders: []v1alpha1.LicenseOrder{order("a-1", "a", 5, v1alpha1.OrderRejected)}, judged: &judged},
		{name: "an open trial does not count, placed before, after or in the same second: the trial's claim decides between orders in flight",
			orders: []v1alpha1.LicenseOrder{order("a-1", "a", 5, v1alpha1.OrderPending), order("z-1", "z", 20, v1alpha1.OrderAwaitingApproval),
				order("a-2", "a", 10, v1alpha1.OrderPending), order("c-1", "c", 10, v1alpha1.OrderPending)},
			judged: &judged},
		{name: "only Trial orders count", orders: []v1alpha1.LicenseOrder{renewal}, judged: &judged},
		{name: "admission: every trial not rejected counts, even one in flight",
			orders: []v1alpha1.LicenseOrder{order("a-1", "a", 5, v1alpha1.OrderPending), order("z-1", "z", 20, v1alpha1.OrderRejected)},
			plan:   "b", want: []string{"a-1"}},
		{name: "admission: the plan's own trial in flight is superseded by its new spec",
			orders: []v1alpha1.LicenseOrder{order("b-1", "b", 5, v1alpha1.OrderPending)}, plan: "b"},
		{name: "admission: the plan's own trial that was fulfilled counts (it expired and asks for a trial again)",
			orders: []v1alpha1.LicenseOrder{order("b-1", "b", 5, v1alpha1.OrderFulfilled)}, plan: "b", want: []string{"b-1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, PriorTrials(tt.orders, tt.plan, tt.judged)); diff != "" {
				t.Errorf("PriorTrials (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTrialOrdersDue(t *testing.T) {
	trial := pvSpec("ep-plus", 5, v1alpha1.Trial)
	with := func(spec v1alpha1.CustomerLicensePlanSpec, f func(*v1alpha1.CustomerLicensePlanSpec)) v1alpha1.CustomerLicensePlanSpec {
		f(&spec)
		return spec
	}
	day10 := time.Date(2026, 3, 20, 11, 0, 0, 0, time.UTC)
	ended := time.Date(2026, 4, 9, 0, 5, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		in       DueInput
		want     []string
		trialEnd v1alpha1.Date
		next     time.Time // when the first order due changes by time alone, as things stand before it
	}{
		{name: "a new plan asking for a trial: a Trial order charged nothing, expiring 30 days after the start date",
			in: trIn(trial, v1alpha1.CustomerLicensePlanStatus{}, pvNow), want: []string{"Trial 5 2026-03-10 0.00"},
			trialEnd: "2026-04-09"},
		// The licenses are in force from the day the Trial order is placed: the 30 days run from
		// then, so a start date ahead adds no free days, and one behind takes none away.
		{name: "a trial with a start date ahead: its 30 days run from the day it is ordered, not from the start date",
			in:   trIn(with(trial, func(s *v1alpha1.CustomerLicensePlanSpec) { s.StartDate = "2026-03-31" }), v1alpha1.CustomerLicensePlanStatus{}, pvNow),
			want: []string{"Trial 5 2026-03-10 0.00"}, trialEnd: "2026-04-09"},
		{name: "a trial with a start date behind: its 30 days run from the day it is ordered too",
			in:   trIn(with(trial, func(s *v1alpha1.CustomerLicensePlanSpec) { s.StartDate = "2026-01-01" }), v1alpha1.CustomerLicensePlanStatus{}, pvNow),
			want: []string{"Trial 5 2026-03-10 0.00"}, trialEnd: "2026-04-09"},
		{name: "a trial in force: nothing until it ends, whatever the renewal policy",
			in: trIn(trial, trStatus(), day10), next: trDay("2026-04-09")},
		{name: "a trial in force asked for Monthly: a Conversion today, billed like a new plan",
			in:   trIn(with(trial, func(s *v1alpha1.CustomerLicensePlanSpec) { s.PaymentPlan = v1alpha1.Monthly }), trStatus(), day10),
			want: []string{"Conversion 5 2026-03-20 50.00"}, next: trDay("2026-04-09")},
		{name: "a trial converted to Prepay1Y with more licenses",
			in: trIn(with(trial, func(s *v1alpha1.CustomerLicensePlanSpec) {
				s.PaymentPlan, s.Quantity = v1alpha1.Prepay1Y, 40
			}), trStatus(), day10),
			want: []string{"Conversion 40 2026-03-20 4000.00"}, next: trDay("2026-04-09")},
		{name: "more licenses on the trial: at once, free",
			in:   trIn(with(trial, func(s *v1alpha1.CustomerLicensePlanSpec) { s.Quantity = 8 }), trStatus(), day10),
			want: []string{"IncreaseQuantity 8 2026-03-20 0.00"}, next: trDay("2026-04-09")},
		{name: "fewer licenses on the trial: at once too, since there is no next term to wait for",
			in:   trIn(with(trial, func(s *v1alpha1.CustomerLicensePlanSpec) { s.Quantity = 3 }), trStatus(), day10),
			want: []string{"DecreaseQuantity 3 2026-03-20 0.00"}, next: trDay("2026-04-09")},
		{name: "the trial's end: an Expiry",
			in: trIn(trial, trStatus(), ended), want: []string{"Expiry 0 2026-04-09 0.00"}},
		{name: "a conversion asked once the trial ended: the Expiry, then a New order of the paid plan",
			in:   trIn(with(trial, func(s *v1alpha1.CustomerLicensePlanSpec) { s.PaymentPlan = v1alpha1.Monthly }), trStatus(), ended),
			want: []string{"Expiry 0 2026-04-09 0.00", "New 5 2026-04-09 50.00"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			due := OrdersDue(tt.in, MaxOrdersDue)
			if diff := cmp.Diff(tt.want, trLines(due)); diff != "" {
				t.Errorf("OrdersDue (-want +got):\n%s", diff)
			}
			if len(due.Orders) > 0 && due.Orders[0].Change == v1alpha1.ChangeTrial {
				if got := due.Orders[0].OrderSpec(1).TrialEnd; got != tt.trialEnd {
					t.Errorf("trialEnd = %s, want %s", got, tt.trialEnd)
				}
			}
			if !due.Next.Equal(tt.next) {
				t.Errorf("Next = %s, want %s", due.Next, tt.next)
			}
		})
	}
}

// trLines describes due orders as "Change quantity effective charge".
func trLines(d Due) []string {
	var out []string
	for _, o := range d.Orders {
		if o.PriceErr != nil {
			out = append(out, string(o.Change)+" error: "+o.PriceErr.Error())
			continue
		}
		out = append(out, fmt.Sprintf("%s %d %s %s", o.Change, o.Quantity, FormatDate(o.EffectiveDate), o.Pricing.Charge))
	}
	return out
}

// TestTrialLife applies a plan's orders one by one, as the controllers do: a trial, a conversion on
// its tenth day, and, for a second plan, the trial's end; and checks what the plan says at each step.
func TestTrialLife(t *testing.T) {
	spec := pvSpec("ep-plus", 5, v1alpha1.Trial)
	spec.Renewal.Policy = v1alpha1.AutoRenew
	created := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	plan := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: "eul", Generation: 1, CreationTimestamp: metav1.NewTime(created),
		Finalizers: []string{v1alpha1.CancellationFinalizer}}, Spec: spec}
	catalog := map[string]*v1alpha1.LicenseProductSpec{"ep-plus": trProduct()}

	// step decides the plan at now, fulfils the order it places, and applies it.
	step := func(now time.Time, wantChange v1alpha1.OrderChange) PlanDecision {
		t.Helper()
		d := DecidePlan(PlanSnapshot{Plan: plan, Catalog: catalog, Now: now})
		if d.Place == nil || d.Place.Change != wantChange {
			t.Fatalf("at %s the plan placed %+v, want a %s order", now, d.Place, wantChange)
		}
		o := &v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Name: OrderName("eul", d.Place.Revision), CreationTimestamp: metav1.NewTime(now)}, Spec: *d.Place}
		od, err := DecideOrder(OrderSnapshot{Order: o, Plan: plan, Rules: OrderInput{Plan: "eul", Change: o.Spec.Change, ProductName: "ep-plus",
			Product: catalog["ep-plus"], PaymentPlan: o.Spec.PaymentPlan, Quantity: o.Spec.Quantity, HeldPaymentPlan: plan.Status.PaymentPlan},
			CatalogPrice: CatalogPrice(catalog["ep-plus"], o.Spec.PaymentPlan), Currency: "EUR", Now: now})
		if err != nil || od.Status.State != v1alpha1.OrderFulfilled {
			t.Fatalf("order %s: %v, state %s %s", o.Name, err, od.Status.State, od.Status.Message)
		}
		o.Status = od.Status
		d = DecidePlan(PlanSnapshot{Plan: plan, Catalog: catalog, Orders: []v1alpha1.LicenseOrder{*o}, Now: now})
		if d.NotApplied != nil {
			t.Fatal(d.NotApplied)
		}
		plan.Status = d.Status
		return d
	}

	step(pvNow, v1alpha1.ChangeTrial)
	st := plan.Status
	if st.PaymentPlan != v1alpha1.Trial || st.Licenses != 5 || st.RenewalDate != "2026-04-09" || st.RenewalAction != v1alpha1.RenewalActionExpire ||
		st.PricePerLicense != "0.00" || *st.Term != (v1alpha1.Term{Start: "2026-03-10", End: "2026-04-09"}) {
		t.Fatalf("after the Trial order: %+v", st)
	}
	if b := st.Billing; !equality.Semantic.DeepEqual(*b, v1alpha1.BillingStatus{RecurringCharge: "0.00", TotalBilled: "0.00"}) {
		t.Errorf("a trial bills nothing: billing %+v", b)
	}
	ready := meta.FindStatusCondition(st.Conditions, v1alpha1.PlanReady)
	if ready.Reason != v1alpha1.ReasonInForce || !strings.Contains(ready.Message, "free until the trial ends on 2026-04-09") {
		t.Errorf("Ready on a trial = %s: %s", ready.Reason, ready.Message)
	}

	expiring := plan.DeepCopy()

	plan.Spec.PaymentPlan, plan.Generation = v1alpha1.Monthly, 2
	step(time.Date(2026, 3, 20, 11, 0, 0, 0, time.UTC), v1alpha1.ChangeConversion)
	st = plan.Status
	if st.PaymentPlan != v1alpha1.Monthly || st.StartDate != "2026-03-20" || *st.Term != (v1alpha1.Term{Start: "2026-03-20", End: "2026-04-20"}) ||
		st.RenewalAction != v1alpha1.RenewalActionRenew || st.PricePerLicense != "10.00" || st.Licenses != 5 {
		t.Fatalf("after the Conversion: %+v", st)
	}
	if b := st.Billing; !equality.Semantic.DeepEqual(*b, v1alpha1.BillingStatus{RecurringCharge: "50.00", BilledThrough: "2026-04-19", NextInvoiceDate: "2026-04-20",
		NextInvoiceAmount: "50.00", TotalBilled: "50.00"}) {
		t.Errorf("after the Conversion: billing %+v", b)
	}
	if r := meta.FindStatusCondition(st.Conditions, v1alpha1.PlanReady); r.Reason != v1alpha1.ReasonInForce {
		t.Errorf("Ready after the Conversion = %s: %s", r.Reason, r.Message)
	}

	plan = expiring
	step(time.Date(2026, 4, 9, 0, 0, 1, 0, time.UTC), v1alpha1.ChangeExpiry)
	st = plan.Status
	if st.Licenses != 0 || st.ExpiredOn != "2026-04-09" || IsActive(st) {
		t.Fatalf("after the Expiry: %+v", st)
	}
	ready = meta.FindStatusCondition(st.Conditions, v1alpha1.PlanReady)
	stalled := meta.FindStatusCondition(st.Conditions, v1alpha1.PlanStalled)
	if ready.Reason != v1alpha1.ReasonExpired || !strings.Contains(ready.Message, "the trial of ep-plus ended on 2026-04-09") ||
		!strings.Contains(ready.Message, "set spec.paymentPlan to Monthly or a Prepay plan") {
		t.Errorf("Ready after the trial ended = %s: %s", ready.Reason, ready.Message)
	}
	if stalled == nil || stalled.Status != metav1.ConditionTrue || stalled.Message != ready.Message {
		t.Errorf("Stalled after the trial ended = %+v, want True with Ready's message", stalled)
	}
	if st.Billing.TotalBilled != "0.00" || st.Billing.NextInvoiceDate != "" {
		t.Errorf("an ended trial billed %+v", st.Billing)
	}
	if d := DecidePlan(PlanSnapshot{Plan: plan, Catalog: catalog, Now: time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC),
		LastApplied: &v1alpha1.LicenseOrder{Spec: v1alpha1.LicenseOrderSpec{PlanGeneration: 1}}}); d.Place != nil {
		t.Errorf("an ended trial ordered %+v by itself", d.Place)
	}
	plan.Spec.PaymentPlan, plan.Generation = v1alpha1.Prepay1Y, 2
	d := step(time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC), v1alpha1.ChangeNew)
	if d.Status.StartDate != "2026-04-20" || d.Status.Billing.TotalBilled != "500.00" {
		t.Errorf("ordered after the trial ended: %+v", d.Status)
	}
}

func TestTrialPricing(t *testing.T) {
	order := v1alpha1.LicenseOrderSpec{Change: v1alpha1.ChangeTrial, Product: "ep-plus", PaymentPlan: v1alpha1.Trial, Quantity: 5,
		EffectiveDate: "2026-03-10", TrialEnd: "2026-04-09"}
	p, err := PriceOrder(PricingInput{Order: order, Currency: "EUR", StartDate: trDay("2026-03-10")})
	if err != nil || p.Charge != 0 || p.PricePerLicense != 0 {
		t.Fatalf("Trial priced %+v, %v", p, err)
	}
	if want := "Trial of 5 x ep-plus until 2026-04-09, 0.00 EUR: the 30 days from 2026-03-10 are not billed"; !strings.HasPrefix(p.Description, want) {
		t.Errorf("description %q, want it to start with %q", p.Description, want)
	}
	order.TrialEnd = ""
	if _, err := PriceOrder(PricingInput{Order: order, Currency: "EUR", StartDate: trDay("2026-03-10")}); err == nil {
		t.Error("a Trial order without trialEnd was priced")
	}

	// A conversion is charged exactly as a New order of the same licenses and payment plan that starts that day.
	for _, pp := range []v1alpha1.PaymentPlan{v1alpha1.Monthly, v1alpha1.Prepay1Y} {
		conv := v1alpha1.LicenseOrderSpec{Change: v1alpha1.ChangeConversion, Product: "ep-plus", PaymentPlan: pp, Quantity: 7,
			PreviousQuantity: 5, EffectiveDate: "2026-03-20"}
		newOrder := conv
		newOrder.Change, newOrder.PreviousQuantity = v1alpha1.ChangeNew, 0
		price := CatalogPrice(trProduct(), pp)
		c, err1 := PriceOrder(PricingInput{Order: conv, Plan: trStatus(), CatalogPrice: price, Currency: "EUR"})
		n, err2 := PriceOrder(PricingInput{Order: newOrder, CatalogPrice: price, Currency: "EUR", StartDate: trDay("2026-03-20")})
		if err1 != nil || err2 != nil || c.Charge != n.Charge || c.PricePerLicense != n.PricePerLicense {
			t.Errorf("%s: Conversion %+v (%v), New %+v (%v)", pp, c, err1, n, err2)
		}
		if !strings.Contains(c.Description, "Conversion of the trial to "+string(pp)+", billed from 2026-03-20") {
			t.Errorf("%s: description %q", pp, c.Description)
		}
	}
}

func TestTrialPreviewAndJudgeSpec(t *testing.T) {
	product := trProduct()
	trial := pvNew(pvSpec("ep-plus", 5, v1alpha1.Trial), product)
	lines := Preview(trial)
	for _, want := range []string{
		"an order: Trial of 5 x ep-plus (Trial), effective 2026-03-10",
		"charge: 0.00 EUR (Trial of 5 x ep-plus until 2026-04-09, 0.00 EUR:",
		"usage: covered, 0 of the 5 licenses ordered are assigned",
	} {
		if !hasPrefix(lines, want) {
			t.Errorf("preview of a trial lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	converting := pvChange(pvSpec("ep-plus", 5, v1alpha1.Monthly), trStatus(), product, product)
	lines = Preview(converting)
	for _, want := range []string{
		"an order: Conversion of 5 x ep-plus (Monthly), effective 2026-03-10",
		"charge: 50.00 EUR (Conversion of the trial to Monthly, billed from 2026-03-10: 5 licenses x 10.00 EUR = 50.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
	} {
		if !hasPrefix(lines, want) {
			t.Errorf("preview of a conversion lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}

	for _, tt := range []struct {
		name string
		in   PreviewInput
		want string
	}{
		{"a first trial", trial, ""},
		{"a second trial", pvWith(trial, func(in *PreviewInput) { in.PriorTrials = []string{"old-1"} }), v1alpha1.ReasonTrialUsed},
		{"too many licenses", pvNew(pvSpec("ep-plus", 11, v1alpha1.Trial), product), v1alpha1.ReasonTrialTooLarge},
		{"no trial offered", pvNew(pvSpec("ep-plus", 5, v1alpha1.Trial), pvProduct("10.00")), v1alpha1.ReasonTrialNotOffered},
		{"a paid plan set back to Trial", pvChange(pvSpec("ep-plus", 10, v1alpha1.Trial), pvStatus(10), product, product), v1alpha1.ReasonTrialNotOffered},
		{"a conversion", converting, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := JudgeSpec(tt.in); got.Reason != tt.want {
				t.Errorf("JudgeSpec = %+v, want reason %q", got, tt.want)
			}
		})
	}
}

func hasPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func TestTrialClaimName(t *testing.T) {
	name := TrialClaimName("Acme Corp", "ep-plus")
	if name != TrialClaimName("Acme Corp", "ep-plus") {
		t.Error("the claim's name is not derived from customer and product alone")
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 || len(name) > 63 {
		t.Errorf("claim name %q is not a valid object name: %v", name, errs)
	}
	for _, other := range [][2]string{{"Acme Corp", "ep-basic"}, {"Initech", "ep-plus"}, {"Acme Corpep", "-plus"}, {"Acme Corpep-", "plus"}} {
		if TrialClaimName(other[0], other[1]) == name {
			t.Errorf("customer %q and product %q share the claim of Acme Corp's trial of ep-plus", other[0], other[1])
		}
	}
}

func TestTrialClaimReleased(t *testing.T) {
	for _, tt := range []struct {
		holder *v1alpha1.LicenseOrder
		want   bool
	}{
		{nil, true},
		{&v1alpha1.LicenseOrder{Status: v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderRejected}}, true},
		{&v1alpha1.LicenseOrder{}, false},
		{&v1alpha1.LicenseOrder{Status: v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderPending}}, false},
		{&v1alpha1.LicenseOrder{Status: v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderAwaitingApproval}}, false},
		{&v1alpha1.LicenseOrder{Status: v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderFulfilled}}, false},
	} {
		state := "none"
		if tt.holder != nil {
			state = string(tt.holder.Status.State)
		}
		if got := TrialClaimReleased(tt.holder); got != tt.want {
			t.Errorf("holder %s: released %v, want %v", state, got, tt.want)
		}
	}
}
