package licensing

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// atStart is the billing start date the apply tests pass (the plan's startDate).
var atStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func atQty(n int32) *int32 { return &n }

// atOrder is a fulfilled order named web-<revision> with a price per license and, unless charge
// is empty, a charge in EUR.
func atOrder(rev int64, change v1alpha1.OrderChange, product string, pp v1alpha1.PaymentPlan, qty int32, eff v1alpha1.Date,
	price, charge v1alpha1.Amount) *v1alpha1.LicenseOrder {
	o := &v1alpha1.LicenseOrder{
		Spec: v1alpha1.LicenseOrderSpec{Plan: "web", Revision: rev, Change: change, Product: product,
			SKU: "SKU-" + product, PaymentPlan: pp, Quantity: qty, EffectiveDate: eff},
		Status: v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderFulfilled, PricePerLicense: price},
	}
	o.Name = fmt.Sprintf("web-%d", rev)
	if charge != "" {
		o.Status.Charge = &v1alpha1.Charge{Amount: charge, Currency: "EUR", Description: "test"}
	}
	return o
}

// atStatus is a Monthly plan of 10 ep-plus licenses at 10.00 in force at revision 3, term
// 2026-03-01..2026-04-01, 100.00 billed, with fields ApplyOrder must leave alone.
func atStatus() v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		ObservedGeneration: 2,
		Product:            "ep-plus", SKU: "SKU-ep-plus", Licenses: 10, PaymentPlan: v1alpha1.Monthly,
		PricePerLicense: "10.00", Currency: "EUR", StartDate: "2026-01-01",
		Term:        &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"},
		RenewalDate: "2026-04-01", RenewalAction: v1alpha1.RenewalActionRenew,
		Revision: 3, LastOrder: "web-3",
		Usage:   v1alpha1.Usage{Assigned: 5},
		Billing: &v1alpha1.BillingStatus{RecurringCharge: "100.00", TotalBilled: "100.00"},
	}
}

func TestApplyOrder(t *testing.T) {
	// with returns atStatus changed by f: the expected result of most cases.
	with := func(f func(*v1alpha1.CustomerLicensePlanStatus)) v1alpha1.CustomerLicensePlanStatus {
		st := atStatus()
		f(&st)
		return st
	}
	applied := func(st *v1alpha1.CustomerLicensePlanStatus, rev int64, total v1alpha1.Amount) {
		st.Revision, st.LastOrder = rev, fmt.Sprintf("web-%d", rev)
		st.Billing.TotalBilled = total
	}
	tests := []struct {
		name   string
		status v1alpha1.CustomerLicensePlanStatus
		order  *v1alpha1.LicenseOrder
		start  time.Time
		want   v1alpha1.CustomerLicensePlanStatus
	}{
		{
			name:   "new Monthly plan from 31 January",
			status: v1alpha1.CustomerLicensePlanStatus{ObservedGeneration: 1, Usage: v1alpha1.Usage{Assigned: 2}},
			order:  atOrder(1, v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 10, "2026-01-31", "10.00", "100.00"),
			start:  time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
			want: v1alpha1.CustomerLicensePlanStatus{
				ObservedGeneration: 1, Usage: v1alpha1.Usage{Assigned: 2},
				Product: "ep-plus", SKU: "SKU-ep-plus", Licenses: 10, PaymentPlan: v1alpha1.Monthly,
				PricePerLicense: "10.00", Currency: "EUR", StartDate: "2026-01-31",
				Term:        &v1alpha1.Term{Start: "2026-01-31", End: "2026-02-28"},
				RenewalDate: "2026-02-28", Revision: 1, LastOrder: "web-1",
				Billing: &v1alpha1.BillingStatus{TotalBilled: "100.00"},
			},
		},
		{
			name:   "new plan with a future start date",
			status: v1alpha1.CustomerLicensePlanStatus{},
			order:  atOrder(1, v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 3, "2026-03-10", "10.00", "30.00"),
			start:  time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC),
			want: v1alpha1.CustomerLicensePlanStatus{
				Product: "ep-plus", SKU: "SKU-ep-plus", Licenses: 3, PaymentPlan: v1alpha1.Monthly,
				PricePerLicense: "10.00", Currency: "EUR", StartDate: "2026-04-15",
				Term:        &v1alpha1.Term{Start: "2026-04-15", End: "2026-05-15"},
				RenewalDate: "2026-05-15", Revision: 1, LastOrder: "web-1",
				Billing: &v1alpha1.BillingStatus{TotalBilled: "30.00"},
			},
		},
		{
			name:   "new Prepay1Y plan from 29 February",
			status: v1alpha1.CustomerLicensePlanStatus{},
			order:  atOrder(1, v1alpha1.ChangeNew, "ep-plus", v1alpha1.Prepay1Y, 2, "2028-02-29", "100.00", "200.00"),
			start:  time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
			want: v1alpha1.CustomerLicensePlanStatus{
				Product: "ep-plus", SKU: "SKU-ep-plus", Licenses: 2, PaymentPlan: v1alpha1.Prepay1Y,
				PricePerLicense: "100.00", Currency: "EUR", StartDate: "2028-02-29",
				Term:        &v1alpha1.Term{Start: "2028-02-29", End: "2029-02-28"},
				RenewalDate: "2029-02-28", Revision: 1, LastOrder: "web-1",
				Billing: &v1alpha1.BillingStatus{TotalBilled: "200.00"},
			},
		},
		{
			name:   "new OneTime plan has no term and no renewal date",
			status: v1alpha1.CustomerLicensePlanStatus{},
			order:  atOrder(1, v1alpha1.ChangeNew, "ps", v1alpha1.OneTime, 3, "2026-03-10", "250.00", "750.00"),
			start:  time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
			want: v1alpha1.CustomerLicensePlanStatus{
				Product: "ps", SKU: "SKU-ps", Licenses: 3, PaymentPlan: v1alpha1.OneTime,
				PricePerLicense: "250.00", Currency: "EUR", StartDate: "2026-03-10",
				Revision: 1, LastOrder: "web-1",
				Billing: &v1alpha1.BillingStatus{TotalBilled: "750.00"},
			},
		},
		{
			name:   "immediate increase",
			status: atStatus(),
			order:  atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 13, "2026-03-10", "10.00", "21.29"),
			start:  atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses = 13
				applied(st, 4, "121.29")
			}),
		},
		{
			name:   "revisions may skip numbers",
			status: atStatus(),
			order:  atOrder(9, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 11, "2026-03-10", "10.00", "7.10"),
			start:  atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses = 11
				applied(st, 9, "107.10")
			}),
		},
		{
			name:   "deferred decrease becomes a pending change",
			status: atStatus(),
			order:  atOrder(4, v1alpha1.ChangeDecreaseQuantity, "ep-plus", v1alpha1.Monthly, 7, "2026-04-01", "10.00", "0.00"),
			start:  atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(7), EffectiveDate: "2026-04-01"}
				applied(st, 4, "100.00")
			}),
		},
		{
			name: "deferred increase back to the quantity in force drops the pending change",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(7), EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 10, "2026-04-01", "10.00", "0.00"),
			start: atStart,
			want:  with(func(st *v1alpha1.CustomerLicensePlanStatus) { applied(st, 4, "100.00") }),
		},
		{
			name: "deferred increase above a pending decrease replaces its quantity",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(5), EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 8, "2026-04-01", "10.00", "0.00"),
			start: atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(8), EffectiveDate: "2026-04-01"}
				applied(st, 4, "100.00")
			}),
		},
		{
			name: "immediate increase while a decrease is pending drops the pending change",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(7), EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 12, "2026-03-10", "10.00", "14.19"),
			start: atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses = 12
				applied(st, 4, "114.19")
			}),
		},
		{
			name: "immediate increase keeps a pending payment plan change",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(7), PaymentPlan: v1alpha1.Prepay1Y, EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Prepay1Y, 12, "2026-03-10", "10.00", "14.19"),
			start: atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses = 12
				st.PendingChange = &v1alpha1.PendingChange{PaymentPlan: v1alpha1.Prepay1Y, EffectiveDate: "2026-04-01"}
				applied(st, 4, "114.19")
			}),
		},
		{
			name:   "deferred payment plan change becomes a pending change",
			status: atStatus(),
			order:  atOrder(4, v1alpha1.ChangePaymentPlan, "ep-plus", v1alpha1.Prepay1Y, 10, "2026-04-01", "10.00", "0.00"),
			start:  atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{PaymentPlan: v1alpha1.Prepay1Y, EffectiveDate: "2026-04-01"}
				applied(st, 4, "100.00")
			}),
		},
		{
			name: "deferred payment plan change joins a pending decrease",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(7), EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangePaymentPlan, "ep-plus", v1alpha1.Prepay1Y, 7, "2026-04-01", "10.00", "0.00"),
			start: atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(7), PaymentPlan: v1alpha1.Prepay1Y, EffectiveDate: "2026-04-01"}
				applied(st, 4, "100.00")
			}),
		},
		{
			name: "payment plan back to the one in force drops the pending change",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{PaymentPlan: v1alpha1.Prepay1Y, EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangePaymentPlan, "ep-plus", v1alpha1.Monthly, 10, "2026-04-01", "10.00", "0.00"),
			start: atStart,
			want:  with(func(st *v1alpha1.CustomerLicensePlanStatus) { applied(st, 4, "100.00") }),
		},
		{
			name: "immediate payment plan change of a plan without a term starts a term",
			status: v1alpha1.CustomerLicensePlanStatus{
				Product: "ps", SKU: "SKU-ps", Licenses: 3, PaymentPlan: v1alpha1.OneTime, PricePerLicense: "250.00",
				Currency: "EUR", StartDate: "2026-01-10", Revision: 1, LastOrder: "web-1",
				Billing: &v1alpha1.BillingStatus{TotalBilled: "750.00"},
			},
			order: atOrder(2, v1alpha1.ChangePaymentPlan, "ps", v1alpha1.Monthly, 3, "2026-03-10", "30.00", "90.00"),
			start: time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC),
			want: v1alpha1.CustomerLicensePlanStatus{
				Product: "ps", SKU: "SKU-ps", Licenses: 3, PaymentPlan: v1alpha1.Monthly, PricePerLicense: "30.00",
				Currency: "EUR", StartDate: "2026-03-10",
				Term:        &v1alpha1.Term{Start: "2026-03-10", End: "2026-04-10"},
				RenewalDate: "2026-04-10", Revision: 2, LastOrder: "web-2",
				Billing: &v1alpha1.BillingStatus{TotalBilled: "840.00"},
			},
		},
		{
			name: "a OneTime plan moved to Monthly is anchored on the day of the change, not on its old start day",
			status: v1alpha1.CustomerLicensePlanStatus{
				Product: "ps", SKU: "SKU-ps", Licenses: 3, PaymentPlan: v1alpha1.OneTime, PricePerLicense: "250.00",
				Currency: "EUR", StartDate: "2026-01-01", Revision: 1, LastOrder: "web-1",
				Billing: &v1alpha1.BillingStatus{TotalBilled: "750.00"},
			},
			order: atOrder(2, v1alpha1.ChangePaymentPlan, "ps", v1alpha1.Monthly, 3, "2026-03-30", "30.00", "90.00"),
			start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			want: v1alpha1.CustomerLicensePlanStatus{
				Product: "ps", SKU: "SKU-ps", Licenses: 3, PaymentPlan: v1alpha1.Monthly, PricePerLicense: "30.00",
				Currency: "EUR", StartDate: "2026-03-30",
				Term:        &v1alpha1.Term{Start: "2026-03-30", End: "2026-04-30"},
				RenewalDate: "2026-04-30", Revision: 2, LastOrder: "web-2",
				Billing: &v1alpha1.BillingStatus{TotalBilled: "840.00"},
			},
		},
		{
			name:   "immediate product change (upgrade)",
			status: atStatus(),
			order:  atOrder(4, v1alpha1.ChangeProduct, "ep-premium", v1alpha1.Monthly, 10, "2026-03-10", "15.00", "35.48"),
			start:  atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Product, st.SKU, st.PricePerLicense = "ep-premium", "SKU-ep-premium", "15.00"
				applied(st, 4, "135.48")
			}),
		},
		{
			name: "immediate product change clears a pending downgrade and keeps a pending decrease",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Product: "ep-basic", Quantity: atQty(7), EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangeProduct, "ep-premium", v1alpha1.Monthly, 10, "2026-03-10", "15.00", "35.48"),
			start: atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Product, st.SKU, st.PricePerLicense = "ep-premium", "SKU-ep-premium", "15.00"
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(7), EffectiveDate: "2026-04-01"}
				applied(st, 4, "135.48")
			}),
		},
		{
			name:   "deferred product change (downgrade) becomes a pending change",
			status: atStatus(),
			order:  atOrder(4, v1alpha1.ChangeProduct, "ep-basic", v1alpha1.Monthly, 10, "2026-04-01", "10.00", "0.00"),
			start:  atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Product: "ep-basic", EffectiveDate: "2026-04-01"}
				applied(st, 4, "100.00")
			}),
		},
		{
			name: "product back to the one in force drops the pending change",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Product: "ep-basic", EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangeProduct, "ep-plus", v1alpha1.Monthly, 10, "2026-04-01", "10.00", "0.00"),
			start: atStart,
			want:  with(func(st *v1alpha1.CustomerLicensePlanStatus) { applied(st, 4, "100.00") }),
		},
		{
			name:   "order without a charge leaves totalBilled and currency",
			status: atStatus(),
			order:  atOrder(4, v1alpha1.ChangeDecreaseQuantity, "ep-plus", v1alpha1.Monthly, 7, "2026-04-01", "10.00", ""),
			start:  atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(7), EffectiveDate: "2026-04-01"}
				applied(st, 4, "100.00")
			}),
		},
		{
			name:   "a charge in another currency is totalled apart, never added to the total in force",
			status: atStatus(),
			order: func() *v1alpha1.LicenseOrder {
				o := atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 11, "2026-03-10", "10.00", "7.10")
				o.Status.Charge.Currency = "CHF"
				return o
			}(),
			start: atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses, st.Currency = 11, "CHF"
				applied(st, 4, "")
				st.Billing.TotalsBilled = []v1alpha1.CurrencyAmount{{Currency: "CHF", Amount: "7.10"}, {Currency: "EUR", Amount: "100.00"}}
			}),
		},
		{
			name:   "charge without a currency keeps the currency in force",
			status: atStatus(),
			order: func() *v1alpha1.LicenseOrder {
				o := atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 11, "2026-03-10", "10.00", "7.10")
				o.Status.Charge.Currency = ""
				return o
			}(),
			start: atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses = 11
				applied(st, 4, "107.10")
			}),
		},
		{
			name:   "first charge of a status without billing",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) { st.Billing = nil }),
			order:  atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 11, "2026-03-10", "10.00", "7.10"),
			start:  atStart,
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses = 11
				st.Billing = &v1alpha1.BillingStatus{}
				applied(st, 4, "7.10")
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.status.DeepCopy()
			orderBefore := tt.order.DeepCopy()
			got, err := ApplyOrder(tt.status, tt.order, tt.start)
			if err != nil {
				t.Fatalf("ApplyOrder: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ApplyOrder (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.status); diff != "" {
				t.Errorf("ApplyOrder mutated its input status (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(orderBefore, tt.order); diff != "" {
				t.Errorf("ApplyOrder mutated the order (-before +after):\n%s", diff)
			}
		})
	}
}

// TestApplyOrderSequence applies a plan's orders one after the other: totalBilled is the sum of
// their charges, and the licenses in force follow the orders in revision order.
func TestApplyOrderSequence(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		order        *v1alpha1.LicenseOrder
		wantLicenses int32
		wantPending  *v1alpha1.PendingChange
		wantTotal    v1alpha1.Amount
	}{
		{atOrder(1, v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 10, "2026-03-01", "10.00", "100.00"), 10, nil, "100.00"},
		{atOrder(2, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 13, "2026-03-10", "10.00", "21.29"), 13, nil, "121.29"},
		{atOrder(3, v1alpha1.ChangeDecreaseQuantity, "ep-plus", v1alpha1.Monthly, 8, "2026-04-01", "10.00", "0.00"), 13,
			&v1alpha1.PendingChange{Quantity: atQty(8), EffectiveDate: "2026-04-01"}, "121.29"},
		{atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 13, "2026-04-01", "10.00", "0.00"), 13, nil, "121.29"},
		{atOrder(5, v1alpha1.ChangeProduct, "ep-premium", v1alpha1.Monthly, 13, "2026-03-20", "15.00", "25.16"), 13, nil, "146.45"},
	}
	var st v1alpha1.CustomerLicensePlanStatus
	for _, s := range steps {
		next, err := ApplyOrder(st, s.order, start)
		if err != nil {
			t.Fatalf("ApplyOrder(%s): %v", s.order.Name, err)
		}
		st = next
		if st.Licenses != s.wantLicenses || st.Billing.TotalBilled != s.wantTotal || st.Revision != s.order.Spec.Revision || st.LastOrder != s.order.Name {
			t.Errorf("after %s: licenses %d, totalBilled %s, revision %d, lastOrder %s; want %d, %s, %d, %s",
				s.order.Name, st.Licenses, st.Billing.TotalBilled, st.Revision, st.LastOrder,
				s.wantLicenses, s.wantTotal, s.order.Spec.Revision, s.order.Name)
		}
		if diff := cmp.Diff(s.wantPending, st.PendingChange); diff != "" {
			t.Errorf("after %s: pendingChange (-want +got):\n%s", s.order.Name, diff)
		}
	}
	if st.Product != "ep-premium" || st.PricePerLicense != "15.00" {
		t.Errorf("product %s at %s, want ep-premium at 15.00", st.Product, st.PricePerLicense)
	}
}

func TestApplyOrderRefuses(t *testing.T) {
	inc := func() *v1alpha1.LicenseOrder {
		return atOrder(4, v1alpha1.ChangeIncreaseQuantity, "ep-plus", v1alpha1.Monthly, 13, "2026-03-10", "10.00", "21.29")
	}
	tests := []struct {
		name   string
		status v1alpha1.CustomerLicensePlanStatus
		order  *v1alpha1.LicenseOrder
	}{
		{name: "pending order", status: atStatus(), order: func() *v1alpha1.LicenseOrder {
			o := inc()
			o.Status.State = v1alpha1.OrderPending
			return o
		}()},
		{name: "order awaiting approval", status: atStatus(), order: func() *v1alpha1.LicenseOrder {
			o := inc()
			o.Status.State = v1alpha1.OrderAwaitingApproval
			return o
		}()},
		{name: "rejected order", status: atStatus(), order: func() *v1alpha1.LicenseOrder {
			o := inc()
			o.Status.State = v1alpha1.OrderRejected
			return o
		}()},
		{name: "order without a state", status: atStatus(), order: func() *v1alpha1.LicenseOrder {
			o := inc()
			o.Status.State = ""
			return o
		}()},
		{name: "revision equal to the plan's", status: atStatus(), order: func() *v1alpha1.LicenseOrder {
			o := inc()
			o.Spec.Revision = 3
			return o
		}()},
		{name: "revision below the plan's", status: atStatus(), order: func() *v1alpha1.LicenseOrder {
			o := inc()
			o.Spec.Revision = 2
			return o
		}()},
		{name: "unknown change kind", status: atStatus(), order: func() *v1alpha1.LicenseOrder {
			o := inc()
			o.Spec.Change = "Upgrade"
			return o
		}()},
		{name: "renewal of a plan without a term", status: func() v1alpha1.CustomerLicensePlanStatus {
			st := atStatus()
			st.Term, st.RenewalDate, st.PaymentPlan = nil, "", v1alpha1.OneTime
			return st
		}(), order: atOrder(4, v1alpha1.ChangeRenewal, "ep-plus", v1alpha1.OneTime, 10, "2026-04-01", "10.00", "100.00")},
		{name: "invalid charge amount", status: atStatus(), order: func() *v1alpha1.LicenseOrder {
			o := inc()
			o.Status.Charge.Amount = "21.291"
			return o
		}()},
		{name: "invalid totalBilled", status: func() v1alpha1.CustomerLicensePlanStatus {
			st := atStatus()
			st.Billing.TotalBilled = "a lot"
			return st
		}(), order: inc()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.status.DeepCopy()
			got, err := ApplyOrder(tt.status, tt.order, atStart)
			if err == nil {
				t.Fatalf("ApplyOrder = %+v, want an error", got)
			}
			if diff := cmp.Diff(before, got); diff != "" {
				t.Errorf("ApplyOrder returned a changed status with its error (-input +returned):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.status); diff != "" {
				t.Errorf("ApplyOrder mutated its input status (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("applying the same order twice is refused and charges once", func(t *testing.T) {
		once, err := ApplyOrder(atStatus(), inc(), atStart)
		if err != nil {
			t.Fatalf("first ApplyOrder: %v", err)
		}
		twice, err := ApplyOrder(once, inc(), atStart)
		if err == nil {
			t.Fatal("second ApplyOrder of the same order: no error")
		}
		if diff := cmp.Diff(once, twice); diff != "" {
			t.Errorf("second ApplyOrder changed the status (-once +twice):\n%s", diff)
		}
		if twice.Billing.TotalBilled != "121.29" || twice.Licenses != 13 {
			t.Errorf("after applying twice: totalBilled %s, licenses %d; want 121.29, 13", twice.Billing.TotalBilled, twice.Licenses)
		}
	})
}

// TestApplyOrderTermOrders covers the orders the operator places for a plan's term: a renewal
// starts the next term with the pending change applied, an expiry or a cancellation leaves no
// licenses in force.
func TestApplyOrderTermOrders(t *testing.T) {
	with := func(f func(*v1alpha1.CustomerLicensePlanStatus)) v1alpha1.CustomerLicensePlanStatus {
		st := atStatus()
		f(&st)
		return st
	}
	tests := []struct {
		name   string
		status v1alpha1.CustomerLicensePlanStatus
		order  *v1alpha1.LicenseOrder
		start  time.Time
		want   v1alpha1.CustomerLicensePlanStatus
	}{
		{
			name:   "renewal starts the next term at the order's price",
			status: atStatus(),
			order:  atOrder(4, v1alpha1.ChangeRenewal, "ep-plus", v1alpha1.Monthly, 10, "2026-04-01", "11.00", "110.00"),
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PricePerLicense = "11.00"
				st.Term = &v1alpha1.Term{Start: "2026-04-01", End: "2026-05-01"}
				st.RenewalDate = "2026-05-01"
				st.Revision, st.LastOrder, st.Billing.TotalBilled = 4, "web-4", "210.00"
			}),
		},
		{
			name: "renewal applies the pending change",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Product: "ep-basic", Quantity: atQty(7),
					PaymentPlan: v1alpha1.Prepay1Y, EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangeRenewal, "ep-basic", v1alpha1.Prepay1Y, 7, "2026-04-01", "80.00", "560.00"),
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Product, st.SKU, st.Licenses, st.PaymentPlan, st.PricePerLicense = "ep-basic", "SKU-ep-basic", 7, v1alpha1.Prepay1Y, "80.00"
				st.Term = &v1alpha1.Term{Start: "2026-04-01", End: "2027-04-01"}
				st.RenewalDate = "2027-04-01"
				st.Revision, st.LastOrder, st.Billing.TotalBilled = 4, "web-4", "660.00"
			}),
		},
		{
			name: "expiry leaves no licenses in force",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{Quantity: atQty(7), EffectiveDate: "2026-04-01"}
			}),
			order: atOrder(4, v1alpha1.ChangeExpiry, "ep-plus", v1alpha1.Monthly, 0, "2026-04-01", "10.00", "0.00"),
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses, st.ExpiredOn = 0, "2026-04-01"
				st.Revision, st.LastOrder = 4, "web-4"
			}),
		},
		{
			name:   "cancellation leaves no licenses in force, and the plan cancelled",
			status: atStatus(),
			order:  atOrder(4, v1alpha1.ChangeCancellation, "ep-plus", v1alpha1.Monthly, 0, "2026-03-10", "10.00", "0.00"),
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses, st.CancelledOn = 0, "2026-03-10"
				st.Revision, st.LastOrder = 4, "web-4"
			}),
		},
		{
			name:   "new plan after an expiry clears expiredOn and starts on the given start date",
			status: with(func(st *v1alpha1.CustomerLicensePlanStatus) { st.Licenses, st.ExpiredOn = 0, "2026-04-01" }),
			order:  atOrder(4, v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 2, "2026-05-05", "10.00", "20.00"),
			start:  time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC),
			want: with(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Licenses, st.StartDate = 2, "2026-05-05"
				st.Term = &v1alpha1.Term{Start: "2026-05-05", End: "2026-06-05"}
				st.RenewalDate = "2026-06-05"
				st.Revision, st.LastOrder, st.Billing.TotalBilled = 4, "web-4", "120.00"
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.status.DeepCopy()
			start := atStart
			if !tt.start.IsZero() {
				start = tt.start
			}
			got, err := ApplyOrder(tt.status, tt.order, start)
			if err != nil {
				t.Fatalf("ApplyOrder: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ApplyOrder (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.status); diff != "" {
				t.Errorf("ApplyOrder mutated its input status (-before +after):\n%s", diff)
			}
		})
	}
}

// TestApplyOrderNewAnchorsOnUTCDay: a New plan's start date and the anchor of its terms are the
// UTC day of the start time: 2026-01-31T20:00-05:00 is 2026-02-01 UTC, so the first term ends on
// 2026-03-01, as PriceOrder describes it.
func TestApplyOrderNewAnchorsOnUTCDay(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	start := time.Date(2026, 1, 31, 20, 0, 0, 0, est)
	got, err := ApplyOrder(v1alpha1.CustomerLicensePlanStatus{},
		atOrder(1, v1alpha1.ChangeNew, "ep-plus", v1alpha1.Monthly, 1, "2026-02-01", "10.00", "10.00"), start)
	if err != nil {
		t.Fatal(err)
	}
	want := &v1alpha1.Term{Start: "2026-02-01", End: "2026-03-01"}
	if got.StartDate != "2026-02-01" {
		t.Errorf("startDate = %s, want 2026-02-01", got.StartDate)
	}
	if diff := cmp.Diff(want, got.Term); diff != "" {
		t.Errorf("term (-want +got):\n%s", diff)
	}
}
