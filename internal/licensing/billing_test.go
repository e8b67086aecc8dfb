package licensing

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// btStatus is a Monthly plan of 10 licenses at 10.00 in force, term 2026-03-01..2026-04-01,
// 121.29 billed so far.
func btStatus() v1alpha1.CustomerLicensePlanStatus {
	return v1alpha1.CustomerLicensePlanStatus{
		Product: "ep-plus", Licenses: 10, PaymentPlan: v1alpha1.Monthly, PricePerLicense: "10.00",
		Currency: "EUR", StartDate: "2026-01-01",
		Term:        &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"},
		RenewalDate: "2026-04-01", Revision: 3,
		Billing: &v1alpha1.BillingStatus{TotalBilled: "121.29", RecurringCharge: "1.00", NextInvoiceAmount: "1.00"},
	}
}

func btWith(f func(*v1alpha1.CustomerLicensePlanStatus)) v1alpha1.CustomerLicensePlanStatus {
	st := btStatus()
	f(&st)
	return st
}

func TestRenewalActionFor(t *testing.T) {
	product := func(a v1alpha1.Availability) *v1alpha1.LicenseProductSpec {
		return &v1alpha1.LicenseProductSpec{Availability: a}
	}
	oneTime := btWith(func(st *v1alpha1.CustomerLicensePlanStatus) {
		st.PaymentPlan, st.Term, st.RenewalDate = v1alpha1.OneTime, nil, ""
	})
	tests := []struct {
		name    string
		policy  v1alpha1.RenewalPolicy
		status  v1alpha1.CustomerLicensePlanStatus
		product *v1alpha1.LicenseProductSpec
		refused bool
		want    v1alpha1.RenewalAction
	}{
		{name: "auto renew", policy: v1alpha1.AutoRenew, status: btStatus(), product: product(v1alpha1.Orderable), want: v1alpha1.RenewalActionRenew},
		{name: "unset policy renews", policy: "", status: btStatus(), product: product(""), want: v1alpha1.RenewalActionRenew},
		{name: "RenewalOnly product renews", policy: v1alpha1.AutoRenew, status: btStatus(), product: product(v1alpha1.RenewalOnly), want: v1alpha1.RenewalActionRenew},
		{name: "unknown product renews", policy: v1alpha1.AutoRenew, status: btStatus(), product: nil, want: v1alpha1.RenewalActionRenew},
		{name: "ExpireAtTermEnd expires", policy: v1alpha1.ExpireAtTermEnd, status: btStatus(), product: product(v1alpha1.Orderable), want: v1alpha1.RenewalActionExpire},
		{name: "retired product expires", policy: v1alpha1.AutoRenew, status: btStatus(), product: product(v1alpha1.Retired), want: v1alpha1.RenewalActionExpire},
		{name: "refused renewal expires", policy: v1alpha1.AutoRenew, status: btStatus(), product: product(v1alpha1.Orderable), refused: true, want: v1alpha1.RenewalActionExpire},
		{name: "plan without a term does nothing", policy: v1alpha1.AutoRenew, status: oneTime, product: product(v1alpha1.Orderable), want: v1alpha1.RenewalActionNone},
		{name: "plan without a term of a retired product does nothing", policy: v1alpha1.ExpireAtTermEnd, status: oneTime, product: product(v1alpha1.Retired), want: v1alpha1.RenewalActionNone},
		{name: "plan not in force does nothing", policy: v1alpha1.ExpireAtTermEnd, status: v1alpha1.CustomerLicensePlanStatus{}, product: product(v1alpha1.Retired), want: v1alpha1.RenewalActionNone},
		{name: "expired plan does nothing", policy: v1alpha1.AutoRenew,
			status:  btWith(func(st *v1alpha1.CustomerLicensePlanStatus) { st.Licenses, st.ExpiredOn = 0, "2026-04-01" }),
			product: product(v1alpha1.Orderable), want: v1alpha1.RenewalActionNone},
	}
	// catalog holds the product in force (ep-plus), and ep-basic, the product a pending change
	// moves to, which is orderable.
	catalog := func(p *v1alpha1.LicenseProductSpec) map[string]*v1alpha1.LicenseProductSpec {
		return map[string]*v1alpha1.LicenseProductSpec{"ep-plus": p, "ep-basic": product(v1alpha1.Orderable)}
	}
	tests = append(tests, []struct {
		name    string
		policy  v1alpha1.RenewalPolicy
		status  v1alpha1.CustomerLicensePlanStatus
		product *v1alpha1.LicenseProductSpec
		refused bool
		want    v1alpha1.RenewalAction
	}{
		{name: "retired product moving to an orderable one at the term end renews", policy: v1alpha1.AutoRenew,
			status: btWith(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PendingChange = &v1alpha1.PendingChange{EffectiveDate: "2026-04-01", Product: "ep-basic"}
			}), product: product(v1alpha1.Retired), want: v1alpha1.RenewalActionRenew},
		{name: "orderable product moving to a retired one at the term end expires", policy: v1alpha1.AutoRenew,
			status: btWith(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.Product = "ep-basic"
				st.PendingChange = &v1alpha1.PendingChange{EffectiveDate: "2026-04-01", Product: "ep-plus"}
			}), product: product(v1alpha1.Retired), want: v1alpha1.RenewalActionExpire},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RenewalActionFor(tt.policy, tt.status, catalog(tt.product), tt.refused); got != tt.want {
				t.Errorf("RenewalActionFor = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBillingSummary(t *testing.T) {
	tests := []struct {
		name   string
		status v1alpha1.CustomerLicensePlanStatus
		action v1alpha1.RenewalAction
		want   *v1alpha1.BillingStatus
	}{
		{
			name:   "renewing plan: next invoice at the term end",
			status: btStatus(),
			action: v1alpha1.RenewalActionRenew,
			want: &v1alpha1.BillingStatus{RecurringCharge: "100.00", BilledThrough: "2026-03-31",
				NextInvoiceDate: "2026-04-01", NextInvoiceAmount: "100.00", TotalBilled: "121.29"},
		},
		{
			name: "renewing plan with a pending decrease: next invoice for the scheduled quantity",
			status: btWith(func(st *v1alpha1.CustomerLicensePlanStatus) {
				q := int32(7)
				st.PendingChange = &v1alpha1.PendingChange{Quantity: &q, EffectiveDate: "2026-04-01"}
			}),
			action: v1alpha1.RenewalActionRenew,
			want: &v1alpha1.BillingStatus{RecurringCharge: "100.00", BilledThrough: "2026-03-31",
				NextInvoiceDate: "2026-04-01", NextInvoiceAmount: "70.00", TotalBilled: "121.29"},
		},
		{
			name:   "expiring plan: no next invoice",
			status: btStatus(),
			action: v1alpha1.RenewalActionExpire,
			want:   &v1alpha1.BillingStatus{RecurringCharge: "100.00", BilledThrough: "2026-03-31", TotalBilled: "121.29"},
		},
		{
			name: "term ending on the 1st of March of a leap year is billed through 29 February",
			status: btWith(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PaymentPlan, st.PricePerLicense = v1alpha1.Prepay1Y, "100.00"
				st.Term = &v1alpha1.Term{Start: "2027-03-01", End: "2028-03-01"}
			}),
			action: v1alpha1.RenewalActionRenew,
			want: &v1alpha1.BillingStatus{RecurringCharge: "1000.00", BilledThrough: "2028-02-29",
				NextInvoiceDate: "2028-03-01", NextInvoiceAmount: "1000.00", TotalBilled: "121.29"},
		},
		{
			name: "plan without a term: only the recurring charge",
			status: btWith(func(st *v1alpha1.CustomerLicensePlanStatus) {
				st.PaymentPlan, st.PricePerLicense, st.Licenses, st.Term, st.RenewalDate = v1alpha1.OneTime, "250.00", 3, nil, ""
			}),
			action: v1alpha1.RenewalActionNone,
			want:   &v1alpha1.BillingStatus{RecurringCharge: "750.00", TotalBilled: "121.29"},
		},
		{
			name:   "nothing billed yet",
			status: btWith(func(st *v1alpha1.CustomerLicensePlanStatus) { st.Billing = nil }),
			action: v1alpha1.RenewalActionRenew,
			want: &v1alpha1.BillingStatus{RecurringCharge: "100.00", BilledThrough: "2026-03-31",
				NextInvoiceDate: "2026-04-01", NextInvoiceAmount: "100.00"},
		},
		{
			name:   "invalid price in force keeps only totalBilled",
			status: btWith(func(st *v1alpha1.CustomerLicensePlanStatus) { st.PricePerLicense = "ten" }),
			action: v1alpha1.RenewalActionRenew,
			want:   &v1alpha1.BillingStatus{TotalBilled: "121.29"},
		},
		{
			name:   "plan not in force keeps its billing",
			status: v1alpha1.CustomerLicensePlanStatus{Billing: &v1alpha1.BillingStatus{TotalBilled: "5.00"}},
			action: v1alpha1.RenewalActionNone,
			want:   &v1alpha1.BillingStatus{TotalBilled: "5.00"},
		},
		{
			name:   "plan never ordered has no billing",
			status: v1alpha1.CustomerLicensePlanStatus{},
			action: v1alpha1.RenewalActionNone,
			want:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.status.DeepCopy()
			got := BillingSummary(tt.status, tt.action, v1alpha1.CurrencyAmount{})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("BillingSummary (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.status); diff != "" {
				t.Errorf("BillingSummary mutated the status (-before +after):\n%s", diff)
			}
		})
	}
}

// TestBillingSummaryAfterExpiry: an expired plan has no licenses in force, so nothing recurring
// and no next invoice; what it was billed stays.
func TestBillingSummaryAfterExpiry(t *testing.T) {
	st := btWith(func(st *v1alpha1.CustomerLicensePlanStatus) {
		st.Licenses, st.ExpiredOn = 0, "2026-04-01"
		st.Billing = &v1alpha1.BillingStatus{RecurringCharge: "100.00", BilledThrough: "2026-03-31",
			NextInvoiceDate: "2026-04-01", NextInvoiceAmount: "100.00", TotalBilled: "121.29"}
	})
	got := BillingSummary(st, RenewalActionFor(v1alpha1.AutoRenew, st, nil, false), v1alpha1.CurrencyAmount{})
	if got == nil {
		t.Fatal("BillingSummary = nil, want totalBilled kept")
	}
	if got.TotalBilled != "121.29" {
		t.Errorf("totalBilled = %q, want 121.29", got.TotalBilled)
	}
	if got.RecurringCharge != "" && got.RecurringCharge != "0.00" {
		t.Errorf("recurringCharge = %q with no licenses in force, want empty or 0.00", got.RecurringCharge)
	}
	if got.NextInvoiceDate != "" || got.NextInvoiceAmount != "" {
		t.Errorf("next invoice %q of %q after expiry, want none", got.NextInvoiceDate, got.NextInvoiceAmount)
	}
}

// A charge int64 minor units cannot hold is refused: at admission naming the figures, and by the
// order reconciler as a refusal (ChargeTooLarge), never an error retried forever. A charge of
// 1,000,000,000.00 or more, which the API's amounts could not hold before, is charged and recorded.
func TestChargesBeyondTheLargestAmount(t *testing.T) {
	for _, tt := range []struct {
		name     string
		price    v1alpha1.Amount
		quantity int32
		billed   v1alpha1.Amount // the plan's totalBilled before
		want     string          // reason of JudgeSpec and of DecideOrder
		charge   v1alpha1.Amount // the order's charge when fulfilled
	}{
		{name: "a billion is charged", price: "1000.00", quantity: 1_000_000, charge: "1000000000.00"},
		{name: "ten billion per license for a million licenses", price: "10000000000000.00", quantity: 1_000_000, want: v1alpha1.ReasonChargeTooLarge},
		{name: "the largest amount once", price: "92233720368547758.07", quantity: 1, charge: "92233720368547758.07"},
		{name: "the largest amount twice", price: "92233720368547758.07", quantity: 2, want: v1alpha1.ReasonChargeTooLarge},
		{name: "a charge that fits, a total that does not", price: "90000000000000000.00", quantity: 1, billed: "9000000000000000.00", want: v1alpha1.ReasonChargeTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			product := pvProduct(tt.price)
			spec := pvSpec("ep-plus", tt.quantity, v1alpha1.Monthly)
			in := pvNew(spec, product)
			if tt.billed != "" {
				// A plan in force that asks for more licenses at the same price: an increase.
				st := pvStatus(0)
				st.PricePerLicense, st.Term = tt.price, &v1alpha1.Term{Start: "2026-03-10", End: "2026-04-10"}
				st.Billing = &v1alpha1.BillingStatus{TotalBilled: tt.billed}
				in = pvChange(spec, st, product, product)
			}
			got := JudgeSpec(in)
			if got.Reason != tt.want {
				t.Fatalf("JudgeSpec = %+v, want reason %q", got, tt.want)
			}
			if tt.want != "" && !strings.Contains(got.Message, "92233720368547758.07") {
				t.Errorf("JudgeSpec message %q does not name the largest amount", got.Message)
			}

			req, ok := Needed(in.DueInput)
			if !ok {
				t.Fatal("the spec needs no order")
			}
			plan := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: "eul", Generation: 1, CreationTimestamp: metav1.NewTime(in.Created)},
				Spec: spec, Status: in.Status}
			o := &v1alpha1.LicenseOrder{ObjectMeta: metav1.ObjectMeta{Name: "eul-x", Generation: 1}, Spec: req.OrderSpec(in.Status.Revision + 1)}
			o.Spec.Plan = "eul"
			d, err := DecideOrder(OrderSnapshot{Order: o, Plan: plan, CatalogPrice: tt.price, Currency: "EUR", Now: pvNow,
				Rules: OrderInput{Plan: "eul", Change: o.Spec.Change, ProductName: "ep-plus", Product: product, CurrentProduct: product,
					PaymentPlan: o.Spec.PaymentPlan, Quantity: o.Spec.Quantity}})
			if err != nil {
				t.Fatalf("DecideOrder: %v", err)
			}
			switch {
			case tt.want != "" && (d.Status.State != v1alpha1.OrderRejected || d.Status.Reason != tt.want || d.Status.Charge != nil):
				t.Errorf("order %s/%s (%s), charge %+v; want it rejected, %s, without a charge", d.Status.State, d.Status.Reason, d.Status.Message, d.Status.Charge, tt.want)
			case tt.want != "":
				o.Status = d.Status
				o.Spec.PlanGeneration = plan.Generation
				if !RefusedForSpec(o, plan.Generation, req) {
					t.Errorf("the refusal does not stand for the spec: the plan would order again, in a loop")
				}
			case tt.want == "" && (d.Status.State != v1alpha1.OrderFulfilled || d.Status.Charge == nil || d.Status.Charge.Amount != tt.charge):
				t.Errorf("order %s/%s (%s), charge %+v; want it fulfilled at %s", d.Status.State, d.Status.Reason, d.Status.Message, d.Status.Charge, tt.charge)
			}
		})
	}
}

// A plan whose price was locked in EUR, under a BillingProfile now in USD: each charge is in the
// currency of the price it is charged at, and totals are kept per currency, never added across.
func TestChargesAfterTheCurrencyChanged(t *testing.T) {
	eur := pvStatus(10) // 10 x ep-plus at 10.00 EUR, term 2026-03-01..2026-04-01
	eur.Billing = &v1alpha1.BillingStatus{TotalBilled: "100.00"}
	plus, premium := pvProduct("10.00"), pvProduct("15.00")
	for _, tt := range []struct {
		name     string
		spec     v1alpha1.CustomerLicensePlanSpec
		catalog  map[string]*v1alpha1.LicenseProductSpec
		change   v1alpha1.OrderChange
		currency string
		charge   v1alpha1.Amount
	}{
		{name: "more licenses, at the price locked in EUR, are charged in EUR",
			spec: pvSpec("ep-plus", 13, v1alpha1.Monthly), change: v1alpha1.ChangeIncreaseQuantity, currency: "EUR", charge: "21.29"},
		{name: "fewer licenses wait for the term end, in EUR, at no charge",
			spec: pvSpec("ep-plus", 8, v1alpha1.Monthly), change: v1alpha1.ChangeDecreaseQuantity, currency: "EUR", charge: "0.00"},
		{name: "a dearer product is not priced by subtracting EUR from USD: it waits for the term end",
			spec: pvSpec("ep-premium", 10, v1alpha1.Monthly), catalog: map[string]*v1alpha1.LicenseProductSpec{"ep-plus": plus, "ep-premium": premium},
			change: v1alpha1.ChangeProduct, currency: "EUR", charge: "0.00"},
		{name: "another payment plan waits for the term end: nothing charged now, in EUR",
			spec: pvSpec("ep-plus", 10, v1alpha1.Prepay1Y), change: v1alpha1.ChangePaymentPlan, currency: "EUR", charge: "0.00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			catalog := tt.catalog
			if catalog == nil {
				catalog = map[string]*v1alpha1.LicenseProductSpec{"ep-plus": plus}
			}
			due := OrdersDue(DueInput{Spec: tt.spec, Status: eur, Created: pvNow, Catalog: catalog, Currency: "USD", Now: pvNow}, 1)
			if len(due.Orders) != 1 || due.Orders[0].PriceErr != nil {
				t.Fatalf("orders due: %+v", due.Orders)
			}
			o := due.Orders[0]
			if o.Change != tt.change || o.Pricing.Currency != tt.currency || o.Pricing.Charge.Amount() != tt.charge {
				t.Errorf("%s charged %s %s (%s), want %s charged %s %s", o.Change, o.Pricing.Charge, o.Pricing.Currency, o.Pricing.Description, tt.change, tt.charge, tt.currency)
			}
			if strings.Contains(o.Pricing.Description, "USD") && tt.currency == "EUR" {
				t.Errorf("an EUR charge described in USD: %s", o.Pricing.Description)
			}
		})
	}

	t.Run("the renewal at the catalog price is charged in USD, and the totals stay apart", func(t *testing.T) {
		at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		due := OrdersDue(DueInput{Spec: pvSpec("ep-plus", 10, v1alpha1.Monthly), Status: eur, Created: pvNow,
			Catalog: map[string]*v1alpha1.LicenseProductSpec{"ep-plus": pvProduct("5.00")}, Currency: "USD", Now: at}, 1)
		if len(due.Orders) != 1 || due.Orders[0].Change != v1alpha1.ChangeRenewal || due.Orders[0].Pricing.Currency != "USD" || due.Orders[0].Pricing.Charge != 5000 {
			t.Fatalf("renewal: %+v", due.Orders)
		}
		o := fulfilledOrder(DueInput{Currency: "USD"}, eur, due.Orders[0])
		st, err := ApplyOrder(eur, o, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want := []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "100.00"}, {Currency: "USD", Amount: "50.00"}}
		if st.Currency != "USD" || st.Billing.TotalBilled != "" || !cmp.Equal(st.Billing.TotalsBilled, want) {
			t.Errorf("after the USD renewal: currency %s, totalBilled %q, totalsBilled %+v; want USD, \"\", %+v", st.Currency, st.Billing.TotalBilled, st.Billing.TotalsBilled, want)
		}
		if b := BillingSummary(st, v1alpha1.RenewalActionRenew, v1alpha1.CurrencyAmount{Amount: "5.00", Currency: "USD"}); b.TotalBilled != "" || !cmp.Equal(b.TotalsBilled, want) {
			t.Errorf("the billing summary loses the totals: %+v", b)
		}
	})
}

func TestAddBilled(t *testing.T) {
	charge := func(amount v1alpha1.Amount, cur string) *v1alpha1.Charge {
		return &v1alpha1.Charge{Amount: amount, Currency: cur}
	}
	for _, tt := range []struct {
		name      string
		currency  string
		billing   *v1alpha1.BillingStatus
		charges   []*v1alpha1.Charge
		wantCur   string
		wantTotal v1alpha1.Amount
		wantList  []v1alpha1.CurrencyAmount
	}{
		{name: "one currency: totalBilled alone", charges: []*v1alpha1.Charge{charge("100.00", "EUR"), charge("50.00", "EUR")},
			wantCur: "EUR", wantTotal: "150.00"},
		{name: "EUR then USD: two totals, never 150.00", charges: []*v1alpha1.Charge{charge("100.00", "EUR"), charge("50.00", "USD")},
			wantCur: "USD", wantList: []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "100.00"}, {Currency: "USD", Amount: "50.00"}}},
		{name: "EUR, USD, EUR again: each added to its own", charges: []*v1alpha1.Charge{charge("100.00", "EUR"), charge("50.00", "USD"), charge("10.00", "EUR")},
			wantCur: "EUR", wantList: []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "110.00"}, {Currency: "USD", Amount: "50.00"}}},
		{name: "a plan stored with totalBilled alone: taken in its currency", currency: "EUR", billing: &v1alpha1.BillingStatus{TotalBilled: "100.00"},
			charges: []*v1alpha1.Charge{charge("50.00", "USD")},
			wantCur: "USD", wantList: []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "100.00"}, {Currency: "USD", Amount: "50.00"}}},
		{name: "nothing charged in a new currency adds no total, and totalBilled is not shown in the wrong one",
			charges: []*v1alpha1.Charge{charge("100.00", "EUR"), charge("0.00", "USD")},
			wantCur: "USD", wantList: []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "100.00"}}},
		{name: "a charge without a currency is in the plan's", currency: "NOK", billing: &v1alpha1.BillingStatus{TotalBilled: "1.00"},
			charges: []*v1alpha1.Charge{charge("2.00", "")}, wantCur: "NOK", wantTotal: "3.00"},
		{name: "a trial: 0.00 in the profile's currency", charges: []*v1alpha1.Charge{charge("0.00", "CHF")}, wantCur: "CHF", wantTotal: "0.00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := v1alpha1.CustomerLicensePlanStatus{Currency: tt.currency, Billing: tt.billing}
			for _, c := range tt.charges {
				if err := addBilled(&st, c); err != nil {
					t.Fatal(err)
				}
			}
			if st.Currency != tt.wantCur || st.Billing.TotalBilled != tt.wantTotal || !cmp.Equal(st.Billing.TotalsBilled, tt.wantList) {
				t.Errorf("currency %s, totalBilled %q, totalsBilled %+v; want %s, %q, %+v", st.Currency, st.Billing.TotalBilled, st.Billing.TotalsBilled,
					tt.wantCur, tt.wantTotal, tt.wantList)
			}
			got, err := BilledTotals(st.Billing, st.Currency)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.wantList
			if want == nil {
				want = []v1alpha1.CurrencyAmount{{Currency: tt.wantCur, Amount: tt.wantTotal}}
			}
			if !cmp.Equal(got, want) {
				t.Errorf("BilledTotals = %+v, want %+v", got, want)
			}
		})
	}
}

// TestCheckChargeRepresentableLeavesTheStatusAlone: admission judges a spec on the plan's status
// as it is stored; adding the charges due to a copy must not add them to the stored total (the
// status shares its billing with its caller).
func TestCheckChargeRepresentableLeavesTheStatusAlone(t *testing.T) {
	in := pvChange(pvSpec("ep-plus", 12, v1alpha1.Monthly), pvStatus(10), pvProduct("10.00"), pvProduct("10.00"))
	in.Status.Billing = &v1alpha1.BillingStatus{TotalBilled: "100.00"}
	if v := CheckChargeRepresentable(in.DueInput); !v.Passed() {
		t.Fatalf("CheckChargeRepresentable = %+v, want a pass", v)
	}
	if got := in.Status.Billing.TotalBilled; got != "100.00" {
		t.Errorf("totalBilled after CheckChargeRepresentable = %s, want 100.00 as stored", got)
	}
	st := in.Status
	if err := addBilled(&st, &v1alpha1.Charge{Amount: "5.00", Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	if in.Status.Billing.TotalBilled != "100.00" || st.Billing.TotalBilled != "105.00" {
		t.Errorf("addBilled on a copy: original %s, copy %s; want 100.00 and 105.00", in.Status.Billing.TotalBilled, st.Billing.TotalBilled)
	}
}

// TestNextInvoiceAfterTheCurrencyChanged: a price locked in EUR renews at the catalog's price in
// the profile's new currency, and the next invoice says which.
func TestNextInvoiceAfterTheCurrencyChanged(t *testing.T) {
	st := pvStatus(10)
	for _, tt := range []struct {
		name     string
		next     v1alpha1.CurrencyAmount
		amount   v1alpha1.Amount
		currency string
	}{
		{"the profile's currency is the plan's", v1alpha1.CurrencyAmount{Amount: "12.00", Currency: "EUR"}, "120.00", ""},
		{"the profile's currency changed", v1alpha1.CurrencyAmount{Amount: "13.00", Currency: "USD"}, "130.00", "USD"},
		{"no catalog price: the price in force, in its currency", v1alpha1.CurrencyAmount{Currency: "USD"}, "100.00", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := BillingSummary(st, v1alpha1.RenewalActionRenew, tt.next)
			if b.NextInvoiceAmount != tt.amount || b.NextInvoiceCurrency != tt.currency {
				t.Errorf("next invoice %s %q, want %s %q", b.NextInvoiceAmount, b.NextInvoiceCurrency, tt.amount, tt.currency)
			}
		})
	}
}
