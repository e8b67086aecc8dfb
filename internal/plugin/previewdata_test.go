package plugin

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// answer is the annotations of a dry run's plan that carries pv.
func answer(t *testing.T, pv licensing.PlanPreview) map[string]string {
	t.Helper()
	raw, err := json.Marshal(pv)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{v1alpha1.RequestedByAnnotation: "alice", v1alpha1.PreviewAnnotation: string(raw)}
}

// spoken is the warnings admission gives with pv: its sentences.
func spoken(pv licensing.PlanPreview) []string {
	var out []string
	for i, s := range pv.Sentences() {
		if i == 0 {
			s = "would place " + s
		}
		out = append(out, warningPrefix+s)
	}
	return out
}

func eur(a v1alpha1.Amount) *v1alpha1.Charge {
	return &v1alpha1.Charge{Amount: a, Currency: "EUR", Description: "how " + string(a) + " was computed"}
}

func quoted(change v1alpha1.OrderChange, effective v1alpha1.Date, charge *v1alpha1.Charge) licensing.PreviewOrder {
	return licensing.PreviewOrder{Change: change, Quantity: 9, Product: "t-eul", PaymentPlan: v1alpha1.Monthly, EffectiveDate: effective, Charge: charge}
}

// TestPreviewFromData reads the orders, their charges and the totals from the data a dry run
// answers with.
func TestPreviewFromData(t *testing.T) {
	backdated := licensing.PlanPreview{
		Orders:    []licensing.PreviewOrder{quoted(v1alpha1.ChangeNew, "2026-03-10", eur("90.00"))},
		Total:     []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "270.00"}},
		Backdated: &licensing.PreviewBackdated{StartDate: "2026-01-01", Renewals: 2},
	}
	for _, d := range []v1alpha1.Date{"2026-02-01", "2026-03-01"} {
		backdated.Orders = append(backdated.Orders, quoted(v1alpha1.ChangeRenewal, d, eur("90.00")))
	}
	unknown := licensing.PlanPreview{
		Orders: []licensing.PreviewOrder{
			quoted(v1alpha1.ChangeNew, "2026-03-10", eur("20.00")),
			{Change: v1alpha1.ChangeRenewal, Quantity: 9, Product: "t-eul", PaymentPlan: v1alpha1.Prepay2Y, EffectiveDate: "2026-03-10", ChargeError: "no price"},
		},
		TotalError: "a charge cannot be computed: no price",
	}
	rejected := licensing.PlanPreview{
		Orders:   []licensing.PreviewOrder{quoted(v1alpha1.ChangeNew, "2026-03-10", eur("90.00")), quoted(v1alpha1.ChangeRenewal, "2026-03-01", eur("90.00"))},
		Total:    []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "180.00"}},
		Rejected: &licensing.PreviewRejection{Reason: "RequirementNotMet", Message: "plan needs an active plan of t-endpoint-basic"},
	}
	tests := []struct {
		name        string
		annotations map[string]string
		warnings    []string
		rows        [][]string
		totals      map[string]licensing.Money
		complete    bool
		failed      bool
		note        string
	}{{
		name:        "one order",
		annotations: answer(t, licensing.PlanPreview{Orders: []licensing.PreviewOrder{quoted(v1alpha1.ChangeIncreaseQuantity, "2026-03-10", eur("21.29"))}, Total: []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "21.29"}}}),
		rows:        [][]string{{"IncreaseQuantity", "9", "t-eul", "Monthly", "2026-03-10", "21.29 EUR"}},
		totals:      map[string]licensing.Money{"EUR": 2129}, complete: true,
	}, {
		name:        "a backdated plan: the New order, then its catch-up renewals in a run",
		annotations: answer(t, backdated),
		rows: [][]string{
			{"New", "9", "t-eul", "Monthly", "2026-03-10", "90.00 EUR"},
			{"2 x Renewal", "9", "t-eul", "Monthly", "2026-02-01 to 2026-03-01", "180.00 EUR (90.00 EUR each)"},
		},
		totals: map[string]licensing.Money{"EUR": 27000}, complete: true,
		note: "start date: spec.startDate 2026-01-01 is more than one term in the past",
	}, {
		name:        "a charge that cannot be computed: the known ones, and a total that says so",
		annotations: answer(t, unknown),
		rows: [][]string{
			{"New", "9", "t-eul", "Monthly", "2026-03-10", "20.00 EUR"},
			{"Renewal", "9", "t-eul", "Prepay2Y", "2026-03-10", "unknown"},
		},
		totals: map[string]licensing.Money{"EUR": 2000}, complete: false,
		note: "2 orders at once (a charge cannot be computed: no price)",
	}, {
		name:        "a rejected order: the first order alone, nothing charged",
		annotations: answer(t, rejected),
		rows:        [][]string{{"New", "9", "t-eul", "Monthly", "2026-03-10", "rejected, RequirementNotMet"}},
		totals:      map[string]licensing.Money{}, complete: true, failed: true,
		note: "the order would be rejected, RequirementNotMet: plan needs an active plan of t-endpoint-basic",
	}, {
		name:        "the spec needs no order",
		annotations: answer(t, licensing.PlanPreview{}),
		rows:        [][]string{{"no order"}},
		totals:      map[string]licensing.Money{}, complete: true,
	}, {
		name:        "the webhooks did not change the plan, nor need to: the spec is unchanged",
		annotations: map[string]string{v1alpha1.RequestedByAnnotation: "alice"},
		rows:        [][]string{{"no order"}},
		totals:      map[string]licensing.Money{}, complete: true,
	}, {
		name:   "the webhooks did not see the plan",
		rows:   [][]string{{"not previewed"}},
		totals: map[string]licensing.Money{}, complete: true,
		note: "license-operator's admission webhooks did not answer",
	}, {
		name:        "words without data: an older operator, nothing previewed rather than prose read",
		annotations: map[string]string{v1alpha1.RequestedByAnnotation: "alice"},
		warnings:    []string{"license-operator would place an order: New of 9 x t-eul (Monthly), effective 2026-03-10"},
		rows:        [][]string{{"not previewed"}},
		totals:      map[string]licensing.Money{}, complete: true,
		note: "license-operator answered in words only",
	}, {
		name:        "data that cannot be read",
		annotations: map[string]string{v1alpha1.RequestedByAnnotation: "alice", v1alpha1.PreviewAnnotation: `{"orders":"two"}`},
		rows:        [][]string{{"not previewed"}},
		totals:      map[string]licensing.Money{}, complete: true,
		note: "cannot be read",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &planPreview{namespace: "acme", name: "eul", warnings: tt.warnings}
			p.readAnswer(tt.annotations)
			var rows [][]string
			for _, r := range previewRows(p) {
				row := []string{r.change}
				if r.quantity != "" {
					row = append(row, r.quantity, r.product, r.paymentPlan, r.effective, r.charge)
				}
				rows = append(rows, row)
			}
			if !reflect.DeepEqual(rows, tt.rows) {
				t.Errorf("rows\n%q\nwant\n%q", rows, tt.rows)
			}
			totals, complete := previewTotals([]*planPreview{p})
			if !reflect.DeepEqual(totals, tt.totals) || complete != tt.complete {
				t.Errorf("totals %v (complete %v), want %v (%v)", totals, complete, tt.totals, tt.complete)
			}
			if p.failed() != tt.failed {
				t.Errorf("failed %v, want %v", p.failed(), tt.failed)
			}
			notes := strings.Join(previewNotes([]*planPreview{p}), "\n")
			if tt.note == "" && notes != "" || !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q, want %q in them", notes, tt.note)
			}
		})
	}
}

// TestPreviewReadsNoSentence: the plugin shows what the data says, whatever the warnings say. A
// preview computed by internal/licensing, as admission computes it, is shown the same with its
// warnings as they are, reworded, or missing.
func TestPreviewReadsNoSentence(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC)
	spec := v1alpha1.CustomerLicensePlanSpec{Customer: "acme", Product: "t-eul", Quantity: 9, PaymentPlan: v1alpha1.Monthly, StartDate: "2025-01-15"}
	catalog := map[string]*v1alpha1.LicenseProductSpec{"t-eul": {SKU: "T-EUL", DisplayName: "EUL", Family: "VMR", Unit: "User",
		Prices: []v1alpha1.Price{{PaymentPlan: v1alpha1.Monthly, PricePerLicense: "10.00"}}}}
	pv := licensing.PreviewOf(licensing.PreviewInput{Plan: "old", DueInput: licensing.DueInput{Spec: spec, Created: now, Now: now, Catalog: catalog},
		Profile: &v1alpha1.BillingProfileSpec{Currency: "EUR", Approval: v1alpha1.ApprovalPolicy{ManualAbove: "50.00"}}})
	words := spoken(pv)
	reworded := make([]string, len(words))
	for i, w := range words {
		// Every number and word changed: a parser of these would read other orders and totals.
		reworded[i] = warningPrefix + strings.NewReplacer("New", "Neu", "Renewal", "Erneuerung", "90.00", "12.34", "14", "7", "1260.00", "1.00").Replace(strings.TrimPrefix(w, warningPrefix))
	}
	show := func(warnings []string) (string, string) {
		p := &planPreview{namespace: "acme", name: "old", warnings: warnings}
		p.readAnswer(answer(t, pv))
		var table, md bytes.Buffer
		if err := writePreviewTable(&table, []*planPreview{p}, false); err != nil {
			t.Fatal(err)
		}
		if err := writePreviewMarkdown(&md, []*planPreview{p}); err != nil {
			t.Fatal(err)
		}
		// The Markdown comment quotes the warnings for people, after the table and the notes.
		shown, _, _ := strings.Cut(md.String(), "<details>")
		return table.String(), strings.TrimSpace(shown)
	}
	table, md := show(words)
	lines := strings.Split(table, "\n")
	if got, want := strings.Join(strings.Fields(lines[1]), " "), "acme/old New 9 t-eul Monthly 2026-03-10 90.00 EUR"; got != want {
		t.Errorf("first row %q, want %q", got, want)
	}
	if got, want := strings.Join(strings.Fields(lines[2]), " "), "acme/old 13 x Renewal 9 t-eul Monthly 2025-02-15 to 2026-02-15 1170.00 EUR (90.00 EUR each)"; got != want {
		t.Errorf("second row %q, want %q", got, want)
	}
	for _, want := range []string{"\nTotal: 1260.00 EUR\n", "acme/old: approval: 14 of the 14 orders will wait for a person's approval"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table does not hold %q:\n%s", want, table)
		}
	}
	if !strings.Contains(md, "| **Total** | | | | | | **1260.00 EUR** |\n") {
		t.Errorf("the Markdown does not hold the total:\n%s", md)
	}
	for name, warnings := range map[string][]string{"reworded": reworded, "missing": nil} {
		if gotTable, gotMD := show(warnings); gotTable != table || gotMD != md {
			t.Errorf("with the warnings %s, preview shows\n%s\n%s\nwant\n%s\n%s", name, gotTable, gotMD, table, md)
		}
	}
}

func TestPreviewMarkdown(t *testing.T) {
	eul := &planPreview{namespace: "acme", name: "eul", warnings: []string{"license-operator would place 2 orders at once, 180.00 EUR in all"}}
	eul.readAnswer(answer(t, licensing.PlanPreview{
		Orders: []licensing.PreviewOrder{quoted(v1alpha1.ChangeNew, "2026-03-10", eur("90.00")), quoted(v1alpha1.ChangeRenewal, "2026-02-15", eur("90.00"))},
		Total:  []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "180.00"}},
	}))
	byoc := &planPreview{namespace: "acme", name: "byoc"}
	byoc.readAnswer(answer(t, licensing.PlanPreview{}))
	bad := &planPreview{namespace: "acme", name: "bad|name", refused: `The CustomerLicensePlan "x" is invalid: spec.paymentPlan: Invalid value: "Prepay5Y"`}
	var buf bytes.Buffer
	if err := writePreviewMarkdown(&buf, []*planPreview{eul, byoc, bad}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Plan | Change | Quantity | Product | Payment plan | Effective | Charge |\n|---|---|---:|---|---|---|---:|\n",
		"| acme/eul | New | 9 | t-eul | Monthly | 2026-03-10 | 90.00 EUR |\n",
		"| acme/eul | Renewal | 9 | t-eul | Monthly | 2026-02-15 | 90.00 EUR |\n",
		"| acme/byoc | no order |  |  |  |  |  |\n",
		"| acme/bad\\|name | **refused** |",
		"| **Total** | | | | | | **180.00 EUR** |\n",
		"- **acme/bad\\|name**: refused: The CustomerLicensePlan \"x\" is invalid",
		"<details><summary>What license-operator answered</summary>",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the Markdown does not hold %q:\n%s", want, buf.String())
		}
	}
}
