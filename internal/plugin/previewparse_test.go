package plugin

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/partnerops/license-operator/internal/licensing"
)

func TestParsePreview(t *testing.T) {
	tests := []struct {
		name     string
		warnings []string
		orders   []previewOrder
		totals   map[string]licensing.Money
		complete bool
		notes    []string
		unknown  []string
	}{{
		name: "one order",
		warnings: []string{
			"license-operator would place an order: IncreaseQuantity of 13 x t-eul (Monthly), effective 2026-03-10",
			"license-operator charge: 21.29 EUR (IncreaseQuantity from 10 to 13 licenses: 3 licenses x 10.00 EUR x 22/31 days = 21.29 EUR, the 22 of 31 days left from 2026-03-10 to the term end 2026-04-01.)",
			"license-operator usage: covered, 0 of the 13 licenses ordered are assigned",
		},
		orders: []previewOrder{{change: "IncreaseQuantity", count: 1, quantity: "13", product: "t-eul", paymentPlan: "Monthly",
			effective: "2026-03-10", charge: 2129, currency: "EUR", known: true}},
		totals: map[string]licensing.Money{"EUR": 2129}, complete: true,
	}, {
		name: "a real change (will place), with approval and usage not covered",
		warnings: []string{
			"license-operator will place an order: New of 5 x t-endpoint-plus (Monthly), effective 2026-03-10",
			"license-operator charge: 600.00 EUR (New plan: 5 licenses x 120.00 EUR = 600.00 EUR for the first term, 2026-03-10 to 2026-04-10.)",
			"license-operator approval: the order will wait for a person's approval, because its charge 600.00 EUR is above 500.00 EUR",
			"license-operator usage: not covered, 7 licenses are assigned and 5 ordered",
		},
		orders: []previewOrder{{change: "New", count: 1, quantity: "5", product: "t-endpoint-plus", paymentPlan: "Monthly",
			effective: "2026-03-10", charge: 60000, currency: "EUR", known: true}},
		totals: map[string]licensing.Money{"EUR": 60000}, complete: true,
		notes: []string{
			"approval: the order will wait for a person's approval, because its charge 600.00 EUR is above 500.00 EUR",
			"usage: not covered, 7 licenses are assigned and 5 ordered",
		},
	}, {
		name: "a backdated plan: several orders at once, the later ones in a run",
		warnings: []string{
			"license-operator would place 14 orders at once, 1260.00 EUR in all",
			"license-operator start date: spec.startDate 2025-01-15 is more than one term in the past: the 13 terms that ended since are billed at once, one Renewal each. If the date is a mistake, correct it now: startDate cannot change once set",
			"license-operator order 1 of 14: New of 9 x t-eul (Monthly), effective 2026-03-10",
			"license-operator charge: 90.00 EUR (New plan: 9 licenses x 10.00 EUR = 90.00 EUR for the first term, 2025-01-15 to 2025-02-15.)",
			"license-operator usage: covered, 0 of the 9 licenses ordered are assigned",
			"license-operator orders 2 to 14 of 14: 13 Renewal orders of 9 x t-eul (Monthly), effective 2025-02-15 to 2026-02-15, 90.00 EUR each",
		},
		orders: []previewOrder{
			{change: "New", count: 1, quantity: "9", product: "t-eul", paymentPlan: "Monthly", effective: "2026-03-10", charge: 9000, currency: "EUR", known: true},
			{change: "Renewal", count: 13, quantity: "9", product: "t-eul", paymentPlan: "Monthly", effective: "2025-02-15 to 2026-02-15", charge: 9000, currency: "EUR", known: true},
		},
		totals: map[string]licensing.Money{"EUR": 126000}, complete: true,
		notes: []string{"start date: spec.startDate 2025-01-15 is more than one term in the past: the 13 terms that ended since are billed at once, one Renewal each. If the date is a mistake, correct it now: startDate cannot change once set"},
	}, {
		name: "a later order on a line of its own, and one whose charge cannot be computed",
		warnings: []string{
			"license-operator would place 3 orders at once (a charge cannot be computed: no price for Prepay2Y)",
			"license-operator order 1 of 3: New of 2 x t-eul (Monthly), effective 2026-03-10",
			"license-operator charge: 20.00 EUR (New plan: 2 licenses x 10.00 EUR = 20.00 EUR for the first term, 2026-01-10 to 2026-02-10.)",
			"license-operator order 2 of 3: Renewal of 2 x t-eul (Monthly), effective 2026-02-10, charge 20.00 EUR",
			"license-operator order 3 of 3: Renewal of 2 x t-eul (Prepay2Y), effective 2026-03-10, charge charge cannot be computed",
		},
		orders: []previewOrder{
			{change: "New", count: 1, quantity: "2", product: "t-eul", paymentPlan: "Monthly", effective: "2026-03-10", charge: 2000, currency: "EUR", known: true},
			{change: "Renewal", count: 1, quantity: "2", product: "t-eul", paymentPlan: "Monthly", effective: "2026-02-10", charge: 2000, currency: "EUR", known: true},
			{change: "Renewal", count: 1, quantity: "2", product: "t-eul", paymentPlan: "Prepay2Y", effective: "2026-03-10"},
		},
		totals: map[string]licensing.Money{"EUR": 4000}, complete: false,
		notes: []string{"3 orders at once: a charge cannot be computed: no price for Prepay2Y"},
	}, {
		name: "the order would be rejected: nothing is charged",
		warnings: []string{
			"license-operator would place an order: New of 2 x t-byoc (Monthly), effective 2026-03-10",
			"license-operator the order would be rejected, RequirementNotMet: plan needs an active plan of t-endpoint-basic",
		},
		orders: []previewOrder{{change: "New", count: 1, quantity: "2", product: "t-byoc", paymentPlan: "Monthly", effective: "2026-03-10",
			rejected: "RequirementNotMet: plan needs an active plan of t-endpoint-basic"}},
		totals: map[string]licensing.Money{}, complete: true,
	}, {
		name: "a line of a format not known is kept as it is; others' warnings are left out",
		warnings: []string{
			"license-operator would place an order: Renewal of 1 x t-eul (OneTime), effective 2026-03-10",
			"license-operator charge: 1,000.00 EUR (a format not known)",
			"license-operator something new: 42",
			"metadata.finalizers: \"x\": prefer a domain-qualified finalizer name",
		},
		orders: []previewOrder{{change: "Renewal", count: 1, quantity: "1", product: "t-eul", paymentPlan: "OneTime", effective: "2026-03-10"}},
		totals: map[string]licensing.Money{}, complete: false,
		unknown: []string{"license-operator charge: 1,000.00 EUR (a format not known)", "license-operator something new: 42"},
	}, {
		name:     "no warnings: no order",
		totals:   map[string]licensing.Money{},
		complete: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parsePreview(tt.warnings)
			if !reflect.DeepEqual(p.orders, tt.orders) {
				t.Errorf("orders\n%+v\nwant\n%+v", p.orders, tt.orders)
			}
			totals, complete := p.totals()
			if !reflect.DeepEqual(totals, tt.totals) || complete != tt.complete {
				t.Errorf("totals %v (complete %v), want %v (%v)", totals, complete, tt.totals, tt.complete)
			}
			if !reflect.DeepEqual(p.notes, tt.notes) {
				t.Errorf("notes %q, want %q", p.notes, tt.notes)
			}
			if !reflect.DeepEqual(p.unknown, tt.unknown) {
				t.Errorf("unknown %q, want %q", p.unknown, tt.unknown)
			}
		})
	}
}

func TestPreviewMarkdown(t *testing.T) {
	previews := []*planPreview{
		{namespace: "acme", name: "eul", warnings: []string{
			"license-operator would place 14 orders at once, 1260.00 EUR in all",
			"license-operator order 1 of 14: New of 9 x t-eul (Monthly), effective 2026-03-10",
			"license-operator charge: 90.00 EUR (New plan)",
			"license-operator orders 2 to 14 of 14: 13 Renewal orders of 9 x t-eul (Monthly), effective 2025-02-15 to 2026-02-15, 90.00 EUR each",
		}},
		{namespace: "acme", name: "byoc"},
		{namespace: "acme", name: "bad|name", refused: `The CustomerLicensePlan "x" is invalid: spec.paymentPlan: Invalid value: "Prepay5Y"`},
	}
	for _, p := range previews {
		p.parsed = parsePreview(p.warnings)
	}
	var buf bytes.Buffer
	if err := writePreviewMarkdown(&buf, previews); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Plan | Change | Quantity | Product | Payment plan | Effective | Charge |\n|---|---|---:|---|---|---|---:|\n",
		"| acme/eul | New | 9 | t-eul | Monthly | 2026-03-10 | 90.00 EUR |\n",
		"| acme/eul | 13 x Renewal | 9 | t-eul | Monthly | 2025-02-15 to 2026-02-15 | 1170.00 EUR (90.00 EUR each) |\n",
		"| acme/byoc | no order |  |  |  |  |  |\n",
		"| acme/bad\\|name | **refused** |",
		"| **Total** | | | | | | **1260.00 EUR** |\n",
		"- **acme/bad\\|name**: refused: The CustomerLicensePlan \"x\" is invalid",
		"<details><summary>What license-operator answered</summary>",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the Markdown does not hold %q:\n%s", want, buf.String())
		}
	}
}
