package licensing

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// dtToday is "now" in the decide tests: a time of day on 2026-03-10, inside the term
// 2026-03-01..2026-04-01 of dtStatus.
var dtToday = time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC)

// dtDate parses a test date.
func dtDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := ParseDate(v1alpha1.Date(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func dtQty(n int32) *int32 { return &n }

// dtStatus is a Monthly plan of 10 ep-plus licenses in force, term 2026-03-01..2026-04-01.
func dtStatus() v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		Product: "ep-plus", SKU: "EP-PLUS", Licenses: 10, PaymentPlan: v1alpha1.Monthly,
		PricePerLicense: "10.00", Currency: "EUR", StartDate: "2026-01-01",
		Term:        &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"},
		RenewalDate: "2026-04-01", Revision: 3, LastOrder: "web-3",
	}
}

// dtOneTime is a OneTime plan of 10 ps licenses in force: no term.
func dtOneTime() v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		Product: "ps", Licenses: 10, PaymentPlan: v1alpha1.OneTime, PricePerLicense: "250.00",
		StartDate: "2026-01-01", Revision: 1, LastOrder: "web-1",
	}
}

func dtSpec(product string, quantity int32, pp v1alpha1.PaymentPlan) v1alpha1.CustomerLicensePlanSpec {
	return v1alpha1.CustomerLicensePlanSpec{Customer: "acme", Product: product, Quantity: quantity, PaymentPlan: pp}
}

func TestNeededChange(t *testing.T) {
	today := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	termEnd := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	withPending := func(pc v1alpha1.PendingChange) v1alpha1.CustomerLicensePlanStatus {
		st := dtStatus()
		pc.EffectiveDate = "2026-04-01"
		st.PendingChange = &pc
		return st
	}
	tests := []struct {
		name    string
		spec    v1alpha1.CustomerLicensePlanSpec
		status  v1alpha1.CustomerLicensePlanStatus
		upgrade bool
		want    ChangeRequest
		wantOK  bool
	}{
		{
			name:   "no plan in force orders the spec as New effective today",
			spec:   dtSpec("ep-plus", 10, v1alpha1.Monthly),
			status: v1alpha1.CustomerLicensePlanStatus{},
			want: ChangeRequest{Change: v1alpha1.ChangeNew, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:   "status with a product but revision 0 is not in force",
			spec:   dtSpec("ep-plus", 4, v1alpha1.Prepay1Y),
			status: v1alpha1.CustomerLicensePlanStatus{Product: "ep-plus", Licenses: 4},
			want: ChangeRequest{Change: v1alpha1.ChangeNew, Product: "ep-plus", PaymentPlan: v1alpha1.Prepay1Y,
				Quantity: 4, EffectiveDate: today},
			wantOK: true,
		},
		{
			name: "expired plan orders the spec as New",
			spec: dtSpec("ep-plus", 10, v1alpha1.Monthly),
			status: func() v1alpha1.CustomerLicensePlanStatus {
				st := dtStatus()
				st.Licenses, st.ExpiredOn = 0, "2026-03-01"
				return st
			}(),
			want: ChangeRequest{Change: v1alpha1.ChangeNew, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:   "spec equal to the plan in force needs nothing",
			spec:   dtSpec("ep-plus", 10, v1alpha1.Monthly),
			status: dtStatus(),
		},
		{
			name:   "increase takes effect today",
			spec:   dtSpec("ep-plus", 13, v1alpha1.Monthly),
			status: dtStatus(),
			want: ChangeRequest{Change: v1alpha1.ChangeIncreaseQuantity, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 13, PreviousQuantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:   "decrease takes effect at the term end",
			spec:   dtSpec("ep-plus", 7, v1alpha1.Monthly),
			status: dtStatus(),
			want: ChangeRequest{Change: v1alpha1.ChangeDecreaseQuantity, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 7, PreviousQuantity: 10, EffectiveDate: termEnd},
			wantOK: true,
		},
		{
			name:   "payment plan change takes effect at the term end",
			spec:   dtSpec("ep-plus", 10, v1alpha1.Prepay1Y),
			status: dtStatus(),
			want: ChangeRequest{Change: v1alpha1.ChangePaymentPlan, Product: "ep-plus", PaymentPlan: v1alpha1.Prepay1Y,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: termEnd},
			wantOK: true,
		},
		{
			name:    "product upgrade takes effect today",
			spec:    dtSpec("ep-premium", 10, v1alpha1.Monthly),
			status:  dtStatus(),
			upgrade: true,
			want: ChangeRequest{Change: v1alpha1.ChangeProduct, Product: "ep-premium", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:    "product upgrade with a pending decrease keeps the licenses in force",
			spec:    dtSpec("ep-premium", 7, v1alpha1.Monthly),
			status:  withPending(v1alpha1.PendingChange{Quantity: dtQty(7)}),
			upgrade: true,
			want: ChangeRequest{Change: v1alpha1.ChangeProduct, Product: "ep-premium", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:    "product downgrade takes effect at the term end",
			spec:    dtSpec("ep-basic", 10, v1alpha1.Monthly),
			status:  dtStatus(),
			upgrade: false,
			want: ChangeRequest{Change: v1alpha1.ChangeProduct, Product: "ep-basic", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: termEnd},
			wantOK: true,
		},
		{
			name:    "product downgrade with a pending decrease orders the scheduled quantity",
			spec:    dtSpec("ep-basic", 7, v1alpha1.Monthly),
			status:  withPending(v1alpha1.PendingChange{Quantity: dtQty(7)}),
			upgrade: false,
			want: ChangeRequest{Change: v1alpha1.ChangeProduct, Product: "ep-basic", PaymentPlan: v1alpha1.Monthly,
				Quantity: 7, PreviousQuantity: 10, EffectiveDate: termEnd},
			wantOK: true,
		},
		{
			name:    "back to the product in force while a downgrade is pending waits for the term end",
			spec:    dtSpec("ep-plus", 10, v1alpha1.Monthly),
			status:  withPending(v1alpha1.PendingChange{Product: "ep-basic"}),
			upgrade: true,
			want: ChangeRequest{Change: v1alpha1.ChangeProduct, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: termEnd},
			wantOK: true,
		},
		{
			name:   "pending downgrade equal to the spec needs nothing",
			spec:   dtSpec("ep-basic", 10, v1alpha1.Monthly),
			status: withPending(v1alpha1.PendingChange{Product: "ep-basic"}),
		},
		{
			name:   "pending decrease equal to the spec needs nothing",
			spec:   dtSpec("ep-plus", 7, v1alpha1.Monthly),
			status: withPending(v1alpha1.PendingChange{Quantity: dtQty(7)}),
		},
		{
			name:   "spec back to the quantity in force cancels the pending decrease at the term end",
			spec:   dtSpec("ep-plus", 10, v1alpha1.Monthly),
			status: withPending(v1alpha1.PendingChange{Quantity: dtQty(7)}),
			want: ChangeRequest{Change: v1alpha1.ChangeIncreaseQuantity, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: termEnd},
			wantOK: true,
		},
		{
			name:   "spec above the quantity in force while a decrease is pending increases today",
			spec:   dtSpec("ep-plus", 12, v1alpha1.Monthly),
			status: withPending(v1alpha1.PendingChange{Quantity: dtQty(7)}),
			want: ChangeRequest{Change: v1alpha1.ChangeIncreaseQuantity, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 12, PreviousQuantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:   "spec below a pending decrease decreases further at the term end",
			spec:   dtSpec("ep-plus", 5, v1alpha1.Monthly),
			status: withPending(v1alpha1.PendingChange{Quantity: dtQty(7)}),
			want: ChangeRequest{Change: v1alpha1.ChangeDecreaseQuantity, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 5, PreviousQuantity: 10, EffectiveDate: termEnd},
			wantOK: true,
		},
		{
			name:   "pending payment plan change equal to the spec needs nothing",
			spec:   dtSpec("ep-plus", 10, v1alpha1.Prepay1Y),
			status: withPending(v1alpha1.PendingChange{PaymentPlan: v1alpha1.Prepay1Y}),
		},
		{
			name:   "spec back to the payment plan in force cancels the pending change at the term end",
			spec:   dtSpec("ep-plus", 10, v1alpha1.Monthly),
			status: withPending(v1alpha1.PendingChange{PaymentPlan: v1alpha1.Prepay1Y}),
			want: ChangeRequest{Change: v1alpha1.ChangePaymentPlan, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: termEnd},
			wantOK: true,
		},
		{
			name:   "product, quantity and payment plan differ: product first",
			spec:   dtSpec("ep-basic", 13, v1alpha1.Prepay1Y),
			status: dtStatus(),
			want: ChangeRequest{Change: v1alpha1.ChangeProduct, Product: "ep-basic", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: termEnd},
			wantOK: true,
		},
		{
			name:   "quantity and payment plan differ: quantity first",
			spec:   dtSpec("ep-plus", 13, v1alpha1.Prepay1Y),
			status: dtStatus(),
			want: ChangeRequest{Change: v1alpha1.ChangeIncreaseQuantity, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 13, PreviousQuantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:   "plan without a term: decrease today",
			spec:   dtSpec("ps", 4, v1alpha1.OneTime),
			status: dtOneTime(),
			want: ChangeRequest{Change: v1alpha1.ChangeDecreaseQuantity, Product: "ps", PaymentPlan: v1alpha1.OneTime,
				Quantity: 4, PreviousQuantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:   "plan without a term: payment plan change today",
			spec:   dtSpec("ps", 10, v1alpha1.Monthly),
			status: dtOneTime(),
			want: ChangeRequest{Change: v1alpha1.ChangePaymentPlan, Product: "ps", PaymentPlan: v1alpha1.Monthly,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:   "plan without a term: product downgrade today",
			spec:   dtSpec("ps-lite", 10, v1alpha1.OneTime),
			status: dtOneTime(),
			want: ChangeRequest{Change: v1alpha1.ChangeProduct, Product: "ps-lite", PaymentPlan: v1alpha1.OneTime,
				Quantity: 10, PreviousQuantity: 10, EffectiveDate: today},
			wantOK: true,
		},
		{
			name:   "unparseable term end is treated as no term",
			spec:   dtSpec("ep-plus", 7, v1alpha1.Monthly),
			status: func() v1alpha1.CustomerLicensePlanStatus { st := dtStatus(); st.Term.End = "2026-4-1"; return st }(),
			want: ChangeRequest{Change: v1alpha1.ChangeDecreaseQuantity, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
				Quantity: 7, PreviousQuantity: 10, EffectiveDate: today},
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.status.DeepCopy()
			got, ok := NeededChange(tt.spec, tt.status, dtToday, tt.upgrade)
			if ok != tt.wantOK {
				t.Fatalf("NeededChange ok = %v, want %v (got %+v)", ok, tt.wantOK, got)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NeededChange (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.status); diff != "" {
				t.Errorf("NeededChange mutated the status (-before +after):\n%s", diff)
			}
		})
	}
}

// TestNeededChangeConverges applies each needed change (as a fulfilled order) until nothing is
// needed: several differences become one order each, product, then quantity, then payment plan.
func TestNeededChangeConverges(t *testing.T) {
	st := dtStatus()
	spec := dtSpec("ep-basic", 13, v1alpha1.Prepay1Y)
	var got []v1alpha1.OrderChange
	for range 10 {
		req, ok := NeededChange(spec, st, dtToday, false)
		if !ok {
			break
		}
		got = append(got, req.Change)
		o := &v1alpha1.LicenseOrder{
			Spec: v1alpha1.LicenseOrderSpec{Plan: "web", Revision: st.Revision + 1, Change: req.Change, Product: req.Product,
				PaymentPlan: req.PaymentPlan, Quantity: req.Quantity, PreviousQuantity: req.PreviousQuantity,
				EffectiveDate: FormatDate(req.EffectiveDate)},
			Status: v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderFulfilled, PricePerLicense: "10.00"},
		}
		o.Name = fmt.Sprintf("web-%d", o.Spec.Revision)
		next, err := ApplyOrder(st, o, dtDate(t, "2026-01-01"))
		if err != nil {
			t.Fatalf("ApplyOrder(%s): %v", req.Change, err)
		}
		st = next
	}
	want := []v1alpha1.OrderChange{v1alpha1.ChangeProduct, v1alpha1.ChangeIncreaseQuantity, v1alpha1.ChangePaymentPlan}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("orders (-want +got):\n%s", diff)
	}
	if gotH, wantH := Scheduled(st), Wanted(spec); gotH != wantH {
		t.Errorf("scheduled after the orders = %+v, want %+v", gotH, wantH)
	}
	if gotH, wantH := InForce(st), (Holding{Product: "ep-plus", Quantity: 13, PaymentPlan: v1alpha1.Monthly}); gotH != wantH {
		t.Errorf("in force after the orders = %+v, want %+v", gotH, wantH)
	}
}

func TestHoldings(t *testing.T) {
	withPending := func(pc *v1alpha1.PendingChange) v1alpha1.CustomerLicensePlanStatus {
		st := dtStatus()
		st.PendingChange = pc
		return st
	}
	inForce := Holding{Product: "ep-plus", Quantity: 10, PaymentPlan: v1alpha1.Monthly}
	tests := []struct {
		name          string
		status        v1alpha1.CustomerLicensePlanStatus
		wantScheduled Holding
	}{
		{name: "no pending change", status: dtStatus(), wantScheduled: inForce},
		{name: "empty pending change", status: withPending(&v1alpha1.PendingChange{EffectiveDate: "2026-04-01"}), wantScheduled: inForce},
		{name: "pending quantity", status: withPending(&v1alpha1.PendingChange{Quantity: dtQty(7)}),
			wantScheduled: Holding{Product: "ep-plus", Quantity: 7, PaymentPlan: v1alpha1.Monthly}},
		{name: "pending quantity of 0", status: withPending(&v1alpha1.PendingChange{Quantity: dtQty(0)}),
			wantScheduled: Holding{Product: "ep-plus", Quantity: 0, PaymentPlan: v1alpha1.Monthly}},
		{name: "pending everything", status: withPending(&v1alpha1.PendingChange{Product: "ep-basic", Quantity: dtQty(7), PaymentPlan: v1alpha1.Prepay1Y}),
			wantScheduled: Holding{Product: "ep-basic", Quantity: 7, PaymentPlan: v1alpha1.Prepay1Y}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InForce(tt.status); got != inForce {
				t.Errorf("InForce = %+v, want %+v", got, inForce)
			}
			if got := Scheduled(tt.status); got != tt.wantScheduled {
				t.Errorf("Scheduled = %+v, want %+v", got, tt.wantScheduled)
			}
		})
	}
	t.Run("wanted is the spec", func(t *testing.T) {
		spec := dtSpec("ep-basic", 3, v1alpha1.Prepay2Y)
		spec.StartDate, spec.CostCenter = "2026-01-01", "sales"
		want := Holding{Product: "ep-basic", Quantity: 3, PaymentPlan: v1alpha1.Prepay2Y}
		if got := Wanted(spec); got != want {
			t.Errorf("Wanted = %+v, want %+v", got, want)
		}
	})
}

func TestIsDeferred(t *testing.T) {
	order := func(change v1alpha1.OrderChange, eff v1alpha1.Date) v1alpha1.LicenseOrderSpec {
		return v1alpha1.LicenseOrderSpec{Change: change, EffectiveDate: eff}
	}
	tests := []struct {
		name   string
		status v1alpha1.CustomerLicensePlanStatus
		order  v1alpha1.LicenseOrderSpec
		want   bool
	}{
		{name: "increase today is immediate", status: dtStatus(), order: order(v1alpha1.ChangeIncreaseQuantity, "2026-03-10"), want: false},
		{name: "increase before the term start is immediate", status: dtStatus(), order: order(v1alpha1.ChangeIncreaseQuantity, "2026-02-10"), want: false},
		{name: "increase on the last day of the term is immediate", status: dtStatus(), order: order(v1alpha1.ChangeIncreaseQuantity, "2026-03-31"), want: false},
		{name: "increase at the term end is deferred", status: dtStatus(), order: order(v1alpha1.ChangeIncreaseQuantity, "2026-04-01"), want: true},
		{name: "decrease at the term end is deferred", status: dtStatus(), order: order(v1alpha1.ChangeDecreaseQuantity, "2026-04-01"), want: true},
		{name: "decrease after the term end is deferred", status: dtStatus(), order: order(v1alpha1.ChangeDecreaseQuantity, "2026-05-01"), want: true},
		{name: "payment plan change at the term end is deferred", status: dtStatus(), order: order(v1alpha1.ChangePaymentPlan, "2026-04-01"), want: true},
		{name: "product change at the term end is deferred", status: dtStatus(), order: order(v1alpha1.ChangeProduct, "2026-04-01"), want: true},
		{name: "product change today is immediate", status: dtStatus(), order: order(v1alpha1.ChangeProduct, "2026-03-10"), want: false},
		{name: "new is never deferred", status: dtStatus(), order: order(v1alpha1.ChangeNew, "2026-04-01"), want: false},
		{name: "renewal is never deferred", status: dtStatus(), order: order(v1alpha1.ChangeRenewal, "2026-04-01"), want: false},
		{name: "expiry is never deferred", status: dtStatus(), order: order(v1alpha1.ChangeExpiry, "2026-04-01"), want: false},
		{name: "plan without a term is never deferred", status: dtOneTime(), order: order(v1alpha1.ChangeDecreaseQuantity, "2026-04-01"), want: false},
		{name: "unparseable effective date is immediate", status: dtStatus(), order: order(v1alpha1.ChangeDecreaseQuantity, "1 April"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsDeferred(tt.status, tt.order); got != tt.want {
				t.Errorf("IsDeferred(%s on %s) = %v, want %v", tt.order.Change, tt.order.EffectiveDate, got, tt.want)
			}
		})
	}
}

func TestIsUpgrade(t *testing.T) {
	product := func(monthly v1alpha1.Amount) *v1alpha1.LicenseProductSpec {
		return &v1alpha1.LicenseProductSpec{Family: "Endpoint", Prices: []v1alpha1.Price{
			{PaymentPlan: v1alpha1.Monthly, PricePerLicense: monthly},
			{PaymentPlan: v1alpha1.Prepay1Y, PricePerLicense: "100.00"},
		}}
	}
	tests := []struct {
		name     string
		from, to *v1alpha1.LicenseProductSpec
		pp       v1alpha1.PaymentPlan
		want     bool
	}{
		{name: "higher price is an upgrade", from: product("10.00"), to: product("12.50"), pp: v1alpha1.Monthly, want: true},
		{name: "one cent more is an upgrade", from: product("10.00"), to: product("10.01"), pp: v1alpha1.Monthly, want: true},
		{name: "equal price is no upgrade", from: product("10.00"), to: product("10"), pp: v1alpha1.Monthly, want: false},
		{name: "lower price is no upgrade", from: product("12.50"), to: product("10.00"), pp: v1alpha1.Monthly, want: false},
		{name: "compares the given payment plan", from: product("10.00"), to: product("12.50"), pp: v1alpha1.Prepay1Y, want: false},
		{name: "payment plan not offered is no upgrade", from: product("10.00"), to: product("12.50"), pp: v1alpha1.Prepay3Y, want: false},
		{name: "unknown current product is no upgrade", from: nil, to: product("12.50"), pp: v1alpha1.Monthly, want: false},
		{name: "unknown new product is no upgrade", from: product("10.00"), to: nil, pp: v1alpha1.Monthly, want: false},
		{name: "invalid new price is no upgrade", from: product("10.00"), to: product("lots"), pp: v1alpha1.Monthly, want: false},
		{name: "invalid current price is no upgrade", from: product("-1"), to: product("12.50"), pp: v1alpha1.Monthly, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUpgrade(tt.from, tt.to, tt.pp); got != tt.want {
				t.Errorf("IsUpgrade = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsActive(t *testing.T) {
	zero := dtStatus()
	zero.Licenses = 0
	noRevision := dtStatus()
	noRevision.Revision = 0
	expired := dtStatus()
	expired.ExpiredOn = "2026-03-01"
	tests := []struct {
		name       string
		status     v1alpha1.CustomerLicensePlanStatus
		wantActive bool
		wantForce  bool
	}{
		{name: "empty status", status: v1alpha1.CustomerLicensePlanStatus{}, wantActive: false, wantForce: false},
		{name: "licenses in force", status: dtStatus(), wantActive: true, wantForce: true},
		{name: "in force with 0 licenses", status: zero, wantActive: false, wantForce: true},
		{name: "no order applied", status: noRevision, wantActive: false, wantForce: false},
		{name: "expired", status: expired, wantActive: false, wantForce: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsActive(tt.status); got != tt.wantActive {
				t.Errorf("IsActive = %v, want %v", got, tt.wantActive)
			}
			if got := HasPlanInForce(tt.status); got != tt.wantForce {
				t.Errorf("HasPlanInForce = %v, want %v", got, tt.wantForce)
			}
		})
	}
}

func TestBillingStart(t *testing.T) {
	newOn := func(eff string) v1alpha1.LicenseOrderSpec {
		return v1alpha1.LicenseOrderSpec{Change: v1alpha1.ChangeNew, EffectiveDate: v1alpha1.Date(eff)}
	}
	tests := []struct {
		name    string
		spec    v1alpha1.Date
		st      v1alpha1.CustomerLicensePlanStatus
		order   v1alpha1.LicenseOrderSpec
		want    string
		wantErr bool
	}{
		{name: "spec start date wins", spec: "2026-01-31", order: newOn("2026-03-10"), want: "2026-01-31"},
		{name: "no start date: the day the plan is first ordered", order: newOn("2026-03-10"), want: "2026-03-10"},
		{name: "first order refused, ordered a year later: billed from then", order: newOn("2027-03-10"), want: "2027-03-10"},
		{name: "the start date in force wins", spec: "2026-01-31", st: v1alpha1.CustomerLicensePlanStatus{StartDate: "2026-02-01"},
			order: newOn("2026-03-10"), want: "2026-02-01"},
		{name: "ordered again after it expired: the order's day", spec: "2026-01-31",
			st: v1alpha1.CustomerLicensePlanStatus{StartDate: "2026-01-31", ExpiredOn: "2026-02-28"}, order: newOn("2026-05-02"), want: "2026-05-02"},
		{name: "invalid spec start date", spec: "2026-3-1", order: newOn("2026-03-10"), wantErr: true},
		{name: "impossible spec start date", spec: "2026-02-30", order: newOn("2026-03-10"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BillingStart(v1alpha1.CustomerLicensePlanSpec{StartDate: tt.spec}, tt.st, tt.order)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("BillingStart(%q) = %v, want an error", tt.spec, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("BillingStart(%q): %v", tt.spec, err)
			}
			want := dtDate(t, tt.want)
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("BillingStart(%q, %+v, %s) = %v, want %v UTC midnight", tt.spec, tt.st, tt.order.EffectiveDate, got, want)
			}
		})
	}
}

func TestChangeRequestSame(t *testing.T) {
	req := ChangeRequest{Change: v1alpha1.ChangeDecreaseQuantity, Product: "ep-plus", PaymentPlan: v1alpha1.Monthly,
		Quantity: 7, PreviousQuantity: 10, EffectiveDate: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	base := v1alpha1.LicenseOrderSpec{Plan: "web", Revision: 4, Change: v1alpha1.ChangeDecreaseQuantity, Product: "ep-plus",
		PaymentPlan: v1alpha1.Monthly, Quantity: 7, PreviousQuantity: 10, EffectiveDate: "2026-04-01"}
	tests := []struct {
		name   string
		mutate func(*v1alpha1.LicenseOrderSpec)
		want   bool
	}{
		{name: "same order", mutate: func(*v1alpha1.LicenseOrderSpec) {}, want: true},
		{name: "other effective date, previous quantity and revision are the same order", mutate: func(o *v1alpha1.LicenseOrderSpec) {
			o.EffectiveDate, o.PreviousQuantity, o.Revision = "2026-05-01", 9, 7
		}, want: true},
		{name: "other change", mutate: func(o *v1alpha1.LicenseOrderSpec) { o.Change = v1alpha1.ChangeIncreaseQuantity }, want: false},
		{name: "other product", mutate: func(o *v1alpha1.LicenseOrderSpec) { o.Product = "ep-basic" }, want: false},
		{name: "other payment plan", mutate: func(o *v1alpha1.LicenseOrderSpec) { o.PaymentPlan = v1alpha1.Prepay1Y }, want: false},
		{name: "other quantity", mutate: func(o *v1alpha1.LicenseOrderSpec) { o.Quantity = 6 }, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.mutate(&o)
			if got := req.Same(o); got != tt.want {
				t.Errorf("Same = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestImmediateUpgradeUsesPaymentPlanInForce: an upgrade takes effect at once, in the current
// term, so it is ordered (priced, and locked on the plan) with the payment plan and licenses in
// force, even while a payment plan change waits for the next term.
func TestImmediateUpgradeUsesPaymentPlanInForce(t *testing.T) {
	st := dtStatus()
	st.PendingChange = &v1alpha1.PendingChange{PaymentPlan: v1alpha1.Prepay1Y, EffectiveDate: "2026-04-01"}
	got, ok := NeededChange(dtSpec("ep-premium", 10, v1alpha1.Prepay1Y), st, dtToday, true)
	want := ChangeRequest{Change: v1alpha1.ChangeProduct, Product: "ep-premium", PaymentPlan: v1alpha1.Monthly,
		Quantity: 10, PreviousQuantity: 10, EffectiveDate: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)}
	if !ok {
		t.Fatal("NeededChange: no change needed")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NeededChange (-want +got):\n%s", diff)
	}
}
