package plugin

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

func TestStatementGroupsAndTotalsInCents(t *testing.T) {
	nov := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	with := func(o v1alpha1.LicenseOrder, costCenter, ref, customer, currency string) v1alpha1.LicenseOrder {
		o.Spec.CostCenter, o.Spec.PurchaseReference, o.Spec.Customer = costCenter, ref, customer
		if o.Status.Charge != nil {
			o.Status.Charge.Currency = currency
		}
		return o
	}
	orders := []v1alpha1.LicenseOrder{
		// 0.10 + 0.20 is 0.30 exactly in cents (in float64 it is 0.30000000000000004).
		with(order("acme", "a-1", nov, v1alpha1.ChangeNew, "0.10", nov), "sales-emea", "PO-1", "Acme", "EUR"),
		with(order("acme", "a-2", nov, v1alpha1.ChangeIncreaseQuantity, "0.20", nov.Add(time.Hour)), "sales-emea", "PO-2", "Acme", "EUR"),
		with(order("globex", "g-1", nov, v1alpha1.ChangeNew, "999999999.99", nov), "sales-emea", "GLX-1", "Globex", "EUR"),
		with(order("globex", "g-2", nov, v1alpha1.ChangeNew, "999999999.99", nov), "sales-emea", "GLX-1", "Globex", "EUR"),
		with(order("initech", "i-1", nov, v1alpha1.ChangeNew, "12.5", nov), "", "", "Initech", "EUR"),
		with(order("initech", "i-2", nov, v1alpha1.ChangeNew, "7.00", nov), "internal-it", "INI-1", "Initech", "USD"),
		with(order("acme", "a-3", nov, v1alpha1.ChangeDecreaseQuantity, "0.00", nov), "sales-emea", "PO-1", "Acme", "EUR"),
		// Left out: fulfilled in another month, not fulfilled, no charge.
		with(order("acme", "a-4", nov, v1alpha1.ChangeRenewal, "50.00", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), "sales-emea", "PO-1", "Acme", "EUR"),
		with(order("acme", "a-5", nov, v1alpha1.ChangeRenewal, "50.00", time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)), "sales-emea", "PO-1", "Acme", "EUR"),
		with(order("acme", "a-6", nov, v1alpha1.ChangeRenewal, "50.00", time.Time{}), "sales-emea", "PO-1", "Acme", "EUR"),
		with(order("acme", "a-7", nov, v1alpha1.ChangeCancellation, "", nov), "sales-emea", "PO-1", "Acme", "EUR"),
	}
	p, _ := parsePeriod("2026-11")

	st := buildStatement(orders, p, byCostCenter)
	want := []statementGroup{
		{group: "(none)", currency: "EUR", orders: 1, total: 1250, customers: []string{"Initech"}, costCenters: []string{}, references: []string{}},
		{group: "internal-it", currency: "USD", orders: 1, total: 700, costCenters: []string{"internal-it"}, references: []string{"INI-1"}, customers: []string{"Initech"}},
		{group: "sales-emea", currency: "EUR", orders: 5, total: 30 + 2*99999999999, costCenters: []string{"sales-emea"},
			references: []string{"GLX-1", "PO-1", "PO-2"}, customers: []string{"Acme", "Globex"}},
	}
	if !reflect.DeepEqual(st.groups, want) {
		t.Errorf("groups\n%+v\nwant\n%+v", st.groups, want)
	}
	if want := map[string]licensing.Money{"EUR": 1250 + 30 + 2*99999999999, "USD": 700}; !reflect.DeepEqual(st.totals, want) {
		t.Errorf("totals %v, want %v", st.totals, want)
	}
	if len(st.lines) != 7 {
		t.Errorf("%d lines, want 7", len(st.lines))
	}

	byRef := buildStatement(orders, p, byReference)
	var groups []string
	for _, g := range byRef.groups {
		groups = append(groups, g.group+" "+g.currency+" "+g.total.String())
	}
	if want := []string{"(none) EUR 12.50", "GLX-1 EUR 1999999999.98", "INI-1 USD 7.00", "PO-1 EUR 0.10", "PO-2 EUR 0.20"}; !reflect.DeepEqual(groups, want) {
		t.Errorf("by reference: %q, want %q", groups, want)
	}

	var csvOut bytes.Buffer
	if err := writeCSV(&csvOut, buildStatement(orders, p, byCustomer).summarySheet()); err != nil {
		t.Fatal(err)
	}
	wantCSV := "Customer,Currency,Orders,Total,Cost centers,References\r\n" +
		"Acme,EUR,3,0.30,sales-emea,\"PO-1, PO-2\"\r\n" +
		"Globex,EUR,2,1999999999.98,sales-emea,GLX-1\r\n" +
		"Initech,EUR,1,12.50,,\r\n" +
		"Initech,USD,1,7.00,internal-it,INI-1\r\n" +
		"Total,EUR,6,2000000012.78,,\r\n" +
		"Total,USD,1,7.00,,\r\n"
	if csvOut.String() != wantCSV {
		t.Errorf("CSV by customer:\n%s\nwant\n%s", csvOut.String(), wantCSV)
	}

	var table bytes.Buffer
	if err := st.summaryTable().write(&table, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "TOTAL         6        2000000012.78 EUR") {
		t.Errorf("summary table:\n%s", table.String())
	}
}

// Totals beyond the largest amount are refused, never wrapped around; charges in two currencies
// are totalled apart, and a plan billed in two currencies shows both, never their sum.
func TestMoneyBeyondTheLargestAmountAndAcrossCurrencies(t *testing.T) {
	nov := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	big := func(name, currency string) v1alpha1.LicenseOrder {
		o := order("acme", name, nov, v1alpha1.ChangeNew, "92233720368547758.07", nov)
		o.Status.Charge.Currency = currency
		return o
	}
	p, _ := parsePeriod("2026-11")
	if st := buildStatement([]v1alpha1.LicenseOrder{big("a-1", "EUR"), big("a-2", "USD")}, p, byCostCenter); st.overflow != nil || len(st.skipped) != 0 {
		t.Errorf("the largest amount once per currency: overflow %v, skipped %v", st.overflow, st.skipped)
	}
	if st := buildStatement([]v1alpha1.LicenseOrder{big("a-1", "EUR"), big("a-2", "EUR")}, p, byCostCenter); st.overflow == nil {
		t.Errorf("twice the largest amount in one currency was totalled: %v", st.totals)
	}

	plan := &v1alpha1.CustomerLicensePlan{Status: v1alpha1.CustomerLicensePlanStatus{Currency: "USD", Billing: &v1alpha1.BillingStatus{
		TotalsBilled: []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "100.00"}, {Currency: "USD", Amount: "50.00"}}}}}
	if got := billedOf(plan); got != "100.00 EUR + 50.00 USD" {
		t.Errorf("billedOf = %v, want 100.00 EUR + 50.00 USD", got)
	}
	stored := &v1alpha1.CustomerLicensePlan{Status: v1alpha1.CustomerLicensePlanStatus{Currency: "EUR", Billing: &v1alpha1.BillingStatus{TotalBilled: "100.00"}}}
	if got := billedOf(stored); got != (amount{cents: licensing.Money(10000), currency: "EUR"}) {
		t.Errorf("billedOf a plan stored with totalBilled = %v, want 100.00 EUR", got)
	}
}
