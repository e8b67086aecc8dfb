package licensing

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// duNow is the moment of these tests: 23 November 2026, 10:00 UTC.
var duNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func duIn(spec v1alpha1.CustomerLicensePlanSpec, st v1alpha1.CustomerLicensePlanStatus) DueInput {
	return DueInput{Spec: spec, Status: st, Created: duNow, Currency: "EUR", Now: duNow,
		Catalog: map[string]*v1alpha1.LicenseProductSpec{"ep-plus": pvProduct("10.00")}}
}

// duMonthly is a Monthly plan of 9 ep-plus licenses at 10.00 in force since start, in its term
// from termStart to termEnd.
func duMonthly(start, termStart, termEnd v1alpha1.Date) v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{Product: "ep-plus", SKU: "EP", Licenses: 9, PaymentPlan: v1alpha1.Monthly,
		PricePerLicense: "10.00", Currency: "EUR", StartDate: start, Term: &v1alpha1.Term{Start: termStart, End: termEnd},
		RenewalDate: termEnd, Revision: 1, LastOrder: "p-1"}
}

// duLines describes due orders as "Change quantity effective charge [later]".
func duLines(d Due) []string {
	var out []string
	for _, o := range d.Orders {
		l := fmt.Sprintf("%s %d %s %s", o.Change, o.Quantity, FormatDate(o.EffectiveDate), o.Pricing.Charge)
		if o.PriceErr != nil {
			l = fmt.Sprintf("%s %d %s error", o.Change, o.Quantity, FormatDate(o.EffectiveDate))
		}
		if !o.AtOnce(duNow) {
			l += " charged " + string(FormatDate(o.ChargedAt))
		}
		out = append(out, l)
	}
	return out
}

func TestOrdersDue(t *testing.T) {
	spec := pvSpec("ep-plus", 9, v1alpha1.Monthly)
	backdated := spec
	backdated.StartDate = "2024-11-01"
	expire := spec
	expire.Renewal.Policy = v1alpha1.ExpireAtTermEnd
	more := spec
	more.Quantity = 12
	retired := duIn(spec, duMonthly("2026-10-01", "2026-10-01", "2026-11-01"))
	retiredProduct := pvProduct("10.00")
	retiredProduct.Availability = v1alpha1.Retired
	retired.Catalog = map[string]*v1alpha1.LicenseProductSpec{"ep-plus": retiredProduct}
	cancelled := duMonthly("2026-10-01", "2026-10-01", "2026-11-01")
	cancelled.CancelledOn = "2026-10-20"
	for _, tt := range []struct {
		name  string
		in    DueInput
		limit int
		want  []string
		next  time.Time
	}{
		{
			name: "a new plan started today: its New order, then nothing until its renewal time",
			in:   duIn(spec, v1alpha1.CustomerLicensePlanStatus{}), limit: MaxOrdersDue,
			want: []string{"New 9 2026-11-23 90.00"},
		},
		{
			name: "a plan in force: nothing until its renewal time, a week before the term ends",
			in:   duIn(spec, duMonthly("2026-11-10", "2026-11-10", "2026-12-10")), limit: MaxOrdersDue,
			next: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		},
		{
			name: "a new plan started 2024-11-01: New and one catch-up renewal per term ended since, the next renewal not yet",
			in:   duIn(backdated, v1alpha1.CustomerLicensePlanStatus{}), limit: MaxOrdersDue,
			want: append([]string{"New 9 2026-11-23 90.00"}, func() []string {
				var r []string
				for m := 0; m < 24; m++ {
					r = append(r, fmt.Sprintf("Renewal 9 %s 90.00", FormatDate(time.Date(2024, 12+time.Month(m), 1, 0, 0, 0, 0, time.UTC))))
				}
				return r
			}()...),
		},
		{
			name: "the controller asks for the first only",
			in:   duIn(backdated, v1alpha1.CustomerLicensePlanStatus{}), limit: 1,
			want: []string{"New 9 2026-11-23 90.00"},
		},
		{
			name: "the operator was away across two term ends: one renewal each",
			in:   duIn(spec, duMonthly("2026-08-25", "2026-09-25", "2026-10-25")), limit: MaxOrdersDue,
			want: []string{"Renewal 9 2026-10-25 90.00", "Renewal 9 2026-11-25 90.00 charged 2026-11-25"},
		},
		{
			name: "inside the renewal window the renewal is placed now and charged at the term end",
			in:   duIn(spec, duMonthly("2026-10-25", "2026-10-25", "2026-11-25")), limit: MaxOrdersDue,
			want: []string{"Renewal 9 2026-11-25 90.00 charged 2026-11-25"},
		},
		{
			name: "a change asked inside the renewal window goes first; the renewal follows it",
			in:   duIn(more, duMonthly("2026-10-25", "2026-10-25", "2026-11-25")), limit: MaxOrdersDue,
			// 3 licenses x 10.00 x 2/31 days = 1.935... = 1.94
			want: []string{"IncreaseQuantity 12 2026-11-23 1.94", "Renewal 12 2026-11-25 120.00 charged 2026-11-25"},
			next: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
		},
		{
			name: "policy ExpireAtTermEnd: an Expiry once the term has ended, then nothing",
			in:   duIn(expire, duMonthly("2026-10-01", "2026-10-01", "2026-11-01")), limit: MaxOrdersDue,
			want: []string{"Expiry 0 2026-11-01 0.00"},
		},
		{
			name: "a retired product expires at its term end",
			in:   retired, limit: MaxOrdersDue,
			want: []string{"Expiry 0 2026-11-01 0.00"},
		},
		{
			name: "a refused renewal lets the plan expire",
			in: func() DueInput {
				in := duIn(spec, duMonthly("2026-10-01", "2026-10-01", "2026-11-01"))
				in.RenewalRefused = true
				return in
			}(), limit: MaxOrdersDue,
			want: []string{"Expiry 0 2026-11-01 0.00"},
		},
		{
			name: "a plan that expired with its spec orders nothing",
			in: func() DueInput {
				st := duMonthly("2026-10-01", "2026-10-01", "2026-11-01")
				st.ExpiredOn, st.Licenses = "2026-11-01", 0
				in := duIn(spec, st)
				in.ExpiredWithSpec = true
				return in
			}(), limit: MaxOrdersDue,
		},
		{
			name: "a cancelled plan orders nothing",
			in:   duIn(more, cancelled), limit: MaxOrdersDue,
		},
		{
			name: "a product missing from the catalog cannot be priced, and nothing is listed after it",
			in:   duIn(pvSpec("ep-gold", 9, v1alpha1.Monthly), v1alpha1.CustomerLicensePlanStatus{}), limit: MaxOrdersDue,
			want: []string{"New 9 2026-11-23 error"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := OrdersDue(tt.in, tt.limit)
			if diff := cmp.Diff(tt.want, duLines(got)); diff != "" {
				t.Errorf("OrdersDue (-want +got):\n%s", diff)
			}
			if !got.Next.Equal(tt.next) {
				t.Errorf("Next = %v, want %v", got.Next, tt.next)
			}
		})
	}
}

func TestPreviewOfABackdatedPlan(t *testing.T) {
	spec := pvSpec("ep-plus", 9, v1alpha1.Monthly)
	spec.StartDate = "2024-11-01" // a typo of the year
	in := PreviewInput{Plan: "p", DueInput: duIn(spec, v1alpha1.CustomerLicensePlanStatus{})}
	want := []string{
		"25 orders at once, 2250.00 EUR in all",
		"start date: spec.startDate 2024-11-01 is more than one term in the past: the 24 terms that ended since are billed at once, " +
			"one Renewal each. If the date is a mistake, correct it now: startDate cannot change once set",
		"order 1 of 25: New of 9 x ep-plus (Monthly), effective 2026-11-23",
		"charge: 90.00 EUR (New plan: 9 licenses x 10.00 EUR = 90.00 EUR for the first term, 2024-11-01 to 2024-12-01.)",
		"usage: covered, 0 of the 9 licenses ordered are assigned",
		"orders 2 to 25 of 25: 24 Renewal orders of 9 x ep-plus (Monthly), effective 2024-12-01 to 2026-11-01, 90.00 EUR each",
	}
	if diff := cmp.Diff(want, Preview(in)); diff != "" {
		t.Errorf("Preview (-want +got):\n%s", diff)
	}

	in.Profile = pvProfile("EUR", v1alpha1.AutomaticApproval, "100.00")
	in.Spec.Quantity = 11 // 110.00 a term: every order waits
	if got := Preview(in); !contains(got, "approval: 25 of the 25 orders will wait for a person's approval, one after the other, because the charge 110.00 is above the BillingProfile's approval.manualAbove 100.00") {
		t.Errorf("Preview with manualAbove: no approval line for every order in %q", got)
	}

	in.Spec.StartDate = "2026-11-01" // within the first term: no warning, one order
	if got := Preview(in); len(got) == 0 || got[0] != "an order: New of 11 x ep-plus (Monthly), effective 2026-11-23" {
		t.Errorf("Preview of a start date within the first term: %q", got)
	}
}

func contains(lines []string, line string) bool {
	for _, l := range lines {
		if l == line {
			return true
		}
	}
	return false
}

func TestJudgeSpec(t *testing.T) {
	plus := pvProduct("10.00")
	profile := pvProfile("EUR", v1alpha1.AutomaticApproval, "")
	for _, tt := range []struct {
		name       string
		costCenter string
		quantity   int32
		assigned   int32
		want       string
	}{
		{"a new cost center alone is judged, though it places no order", "nowhere", 10, 0, v1alpha1.ReasonUnknownCostCenter},
		{"a known cost center alone passes", "engineering", 10, 0, ""},
		{"the profile's default passes", "", 10, 0, ""},
		{"a change is judged by the order it places", "sales", 4, 6, v1alpha1.ReasonUsageBelowMinimum},
		{"a change with a bad cost center", "nowhere", 12, 0, v1alpha1.ReasonUnknownCostCenter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := pvSpec("ep-plus", tt.quantity, v1alpha1.Monthly)
			spec.CostCenter = tt.costCenter
			in := pvChange(spec, pvStatus(10), plus, plus)
			in.Profile, in.Assigned = profile, tt.assigned
			if got := JudgeSpec(in); got.Reason != tt.want {
				t.Errorf("JudgeSpec = %+v, want reason %q", got, tt.want)
			}
		})
	}
}

func TestCheckApprovalAndPersonsDecision(t *testing.T) {
	for _, tt := range []struct {
		status   metav1.ConditionStatus
		reason   string
		ok       bool
		decided  bool
		approved bool
	}{
		{metav1.ConditionTrue, "", true, true, true},
		{metav1.ConditionTrue, v1alpha1.ReasonApproved, true, true, true},
		{metav1.ConditionFalse, "", true, true, false},
		{metav1.ConditionFalse, v1alpha1.ReasonDenied, true, true, false},
		{metav1.ConditionUnknown, "", false, false, false},
		{"Maybe", "", false, false, false},
		{metav1.ConditionTrue, v1alpha1.ReasonDenied, false, true, true},
		{metav1.ConditionFalse, "LooksFine", false, true, false},
	} {
		t.Run(fmt.Sprintf("%s/%s", tt.status, tt.reason), func(t *testing.T) {
			c := metav1.Condition{Type: v1alpha1.OrderApproved, Status: tt.status, Reason: tt.reason}
			if err := CheckApproval(c); (err == nil) != tt.ok {
				t.Errorf("CheckApproval = %v, want ok %v", err, tt.ok)
			}
			if decided, approved := PersonsDecision(&c); decided != tt.decided || approved != tt.approved {
				t.Errorf("PersonsDecision = %v, %v; want %v, %v", decided, approved, tt.decided, tt.approved)
			}
		})
	}
	if decided, _ := PersonsDecision(nil); decided {
		t.Error("PersonsDecision(nil) decided")
	}
}

// A Monthly plan moved to OneTime at its term end (a deferred ChangePaymentPlan) is renewed onto
// OneTime once, charged the OneTime price once, and then has no term and orders nothing more: no
// term of zero days, no renewal after it.
func TestOrdersDueMonthlyToOneTimeRenewsOnce(t *testing.T) {
	spec := pvSpec("ps", 3, v1alpha1.OneTime)
	st := v1alpha1.CustomerLicensePlanStatus{Product: "ps", SKU: "PS", Licenses: 3, PaymentPlan: v1alpha1.Monthly,
		PricePerLicense: "20.00", Currency: "EUR", StartDate: "2026-10-01", Term: &v1alpha1.Term{Start: "2026-10-01", End: "2026-11-01"},
		RenewalDate: "2026-11-01", Revision: 2, LastOrder: "p-2",
		PendingChange: &v1alpha1.PendingChange{EffectiveDate: "2026-11-01", PaymentPlan: v1alpha1.OneTime}}
	for _, now := range []time.Time{time.Date(2026, 10, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), duNow} {
		in := DueInput{Spec: spec, Status: st, Created: duNow, Currency: "EUR", Now: now,
			Catalog: map[string]*v1alpha1.LicenseProductSpec{"ps": pvOneTimeProduct()}}
		due := OrdersDue(in, 10)
		if len(due.Orders) != 1 || due.Orders[0].Change != v1alpha1.ChangeRenewal || due.Orders[0].Pricing.Charge != 75000 {
			t.Fatalf("at %s: OrdersDue = %v, want one Renewal onto OneTime of 750.00", now, duLines(due))
		}
		o := fulfilledOrder(in, st, due.Orders[0])
		after, err := ApplyOrder(st, o, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if after.Term != nil || after.RenewalDate != "" || after.PaymentPlan != v1alpha1.OneTime || after.Licenses != 3 {
			t.Fatalf("after the renewal onto OneTime: term %v, renewalDate %q, %s x %d; want no term, OneTime x 3",
				after.Term, after.RenewalDate, after.PaymentPlan, after.Licenses)
		}
		if a := RenewalActionFor("", after, in.Catalog, false); a != v1alpha1.RenewalActionNone {
			t.Errorf("renewal action after OneTime = %s, want None", a)
		}
		in.Status, in.Now = after, now.AddDate(2, 0, 0)
		if more := OrdersDue(in, 10); len(more.Orders) != 0 || !more.Next.IsZero() {
			t.Errorf("a OneTime plan in force orders %v (next %s), want nothing ever", duLines(more), more.Next)
		}
		b := BillingSummary(after, v1alpha1.RenewalActionNone, v1alpha1.CurrencyAmount{Amount: "250.00", Currency: "EUR"})
		if b.NextInvoiceDate != "" || b.BilledThrough != "" {
			t.Errorf("billing of a OneTime plan = %+v, want no next invoice and no billed-through date", b)
		}
	}
}

// A plan of a retired product with a deferred move to an orderable product of its family renews
// onto the scheduled product at the term end: the product the next term holds decides, in the
// orders due and in the plan's decision alike, and the Ready message says it renews.
func TestRetiredProductMovingToAnOrderableOneRenews(t *testing.T) {
	retired := pvProduct("10.00")
	retired.Availability = v1alpha1.Retired
	st := duMonthly("2026-10-01", "2026-11-01", "2026-12-01")
	st.PendingChange = &v1alpha1.PendingChange{EffectiveDate: "2026-12-01", Product: "ep-basic"}
	catalog := map[string]*v1alpha1.LicenseProductSpec{"ep-plus": retired, "ep-basic": pvProduct("8.00")}
	spec := pvSpec("ep-basic", 9, v1alpha1.Monthly)
	at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	in := DueInput{Spec: spec, Status: st, Created: duNow, Currency: "EUR", Now: at, Catalog: catalog}
	due := OrdersDue(in, 10)
	if got, want := duLines(due), []string{"Renewal 9 2026-12-01 72.00 charged 2026-12-01"}; !cmp.Equal(got, want) {
		t.Fatalf("OrdersDue = %q, want %q", got, want)
	}
	if due.Orders[0].Product != "ep-basic" {
		t.Errorf("the renewal is of %s, want ep-basic", due.Orders[0].Product)
	}
	plan := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: "eul", Namespace: "acme", Generation: 2,
		Finalizers: []string{v1alpha1.CancellationFinalizer}}, Spec: spec, Status: st}
	d := DecidePlan(PlanSnapshot{Plan: plan, Catalog: catalog, Now: at.Add(-72 * time.Hour)})
	if d.Status.RenewalAction != v1alpha1.RenewalActionRenew {
		t.Errorf("renewalAction = %s, want Renew", d.Status.RenewalAction)
	}
	ready := meta.FindStatusCondition(d.Status.Conditions, v1alpha1.PlanReady)
	if ready == nil || strings.Contains(ready.Message, "expiring") || !strings.Contains(ready.Message, "renewing on 2026-12-01") {
		t.Errorf("Ready = %+v, want it to say the plan renews on 2026-12-01", ready)
	}
	if d.Status.Billing == nil || d.Status.Billing.NextInvoiceAmount != "72.00" {
		t.Errorf("billing = %+v, want the next invoice at 9 x 8.00", d.Status.Billing)
	}
}

// TestOrdersDueAfterARefusedRenewal: a renewal refused because its product was retired stands
// until another order is applied; a move to an orderable product, ordered for the term end, is
// then followed by the Renewal, as the plan controller places them.
func TestOrdersDueAfterARefusedRenewal(t *testing.T) {
	retired := pvProduct("10.00")
	retired.Availability = v1alpha1.Retired
	in := pvChange(pvSpec("ep-basic", 10, v1alpha1.Monthly), pvStatus(10), pvProduct("5.00"), retired).DueInput
	in.Now, in.RenewalRefused = time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC), true
	due := OrdersDue(in, MaxOrdersDue)
	if len(due.Orders) != 2 || due.Orders[0].Change != v1alpha1.ChangeProduct || due.Orders[1].Change != v1alpha1.ChangeRenewal ||
		due.Orders[1].Product != "ep-basic" {
		t.Errorf("OrdersDue = %+v, want the ChangeProduct, then the Renewal onto ep-basic", due.Orders)
	}
}
