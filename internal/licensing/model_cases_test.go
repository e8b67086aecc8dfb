package licensing

import (
	"strings"
	"testing"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

const modelDay = 24 * time.Hour

// modelCase is a fixed plan life replayed through the model's harness: the defects found off the
// happy path, so that each stays fixed.
type modelCase struct {
	name  string
	start time.Time
	life  func(c *cluster)
}

func editQuantity(q int32) func(*v1alpha1.CustomerLicensePlanSpec) {
	return func(s *v1alpha1.CustomerLicensePlanSpec) { s.Quantity = q }
}

func editPaymentPlan(pp v1alpha1.PaymentPlan) func(*v1alpha1.CustomerLicensePlanSpec) {
	return func(s *v1alpha1.CustomerLicensePlanSpec) { s.PaymentPlan = pp }
}

var modelCases = []modelCase{{
	name: "01 Monthly to OneTime renews once and never again", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "kit", v1alpha1.Monthly, 2, 0, false)
		c.edit("eul", "paymentPlan OneTime", editPaymentPlan(v1alpha1.OneTime), true)
		c.clock(40*modelDay, true)
		c.clock(400*modelDay, true)
	},
}, {
	name: "02 a plan declared again under a deleted plan's name orders its own licenses", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "std", v1alpha1.Monthly, 3, 0, false)
		c.clock(5*modelDay, true)
		c.deletePlan("eul")
		c.create("eul", "acme", "std", v1alpha1.Monthly, 3, 0, false)
		c.clock(modelDay, true)
	},
}, {
	name: "03 a decrease inside the renewal window takes effect at that term end", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "std", v1alpha1.Prepay1Y, 10, 0, false)
		c.clock(362*modelDay, true)
		c.edit("eul", "quantity 5", editQuantity(5), true)
		c.clock(10*modelDay, true)
	},
}, {
	name: "04 a renewal approved automatically is not billed at a new price above the threshold", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.setProfile("manualAbove 500.00", func(p *v1alpha1.BillingProfileSpec) { p.Approval.ManualAbove = "500.00" })
		c.create("eul", "acme", "std", v1alpha1.Monthly, 1, 0, false)
		c.clock(27*modelDay, true)
		c.setPrice("std", v1alpha1.Monthly, "1000.00")
		c.clock(10*modelDay, true)
	},
}, {
	name: "05 a plan moving to an orderable product renews although its product retired", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "std", v1alpha1.Prepay1Y, 5, 0, false)
		c.clock(30*modelDay, true)
		c.edit("eul", "product ess", func(s *v1alpha1.CustomerLicensePlanSpec) { s.Product = "ess" }, true)
		c.setAvailability("std", v1alpha1.Retired)
		c.clock(400*modelDay, true)
	},
}, {
	name: "06 a plan with a 64-character name is ordered or refused at admission", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create(strings.Repeat("x", 60)+"-abc", "acme", "std", v1alpha1.Monthly, 2, 0, false)
		c.clock(modelDay, true)
	},
}, {
	name: "07a a start date a year ahead gives no free licenses", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "std", v1alpha1.Monthly, 2, 365, false)
		c.clock(100*modelDay, true)
	},
}, {
	name: "07b a trial with a start date ahead never exceeds its days", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "std", v1alpha1.Trial, 2, 365, false)
		c.clock(60*modelDay, true)
	},
}, {
	name: "08 one trial per customer and product (sequential)", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "std", v1alpha1.Trial, 2, 0, false)
		c.create("acme-prod", "acme", "std", v1alpha1.Trial, 2, 0, false)
		if p := c.plans["acme-prod"]; p != nil && IsActive(p.Status) && p.Status.PaymentPlan == v1alpha1.Trial {
			c.fail("trial: a second trial of std was granted to customer acme")
		}
		c.clock(40*modelDay, true)
	},
}, {
	name: "09 OneTime to Monthly anchors the first term on the day of the change", start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "kit", v1alpha1.OneTime, 1, 0, false)
		c.clock(88*modelDay, true) // 2026-03-30
		c.edit("eul", "paymentPlan Monthly", editPaymentPlan(v1alpha1.Monthly), true)
		c.clock(40*modelDay, true)
	},
}, {
	name: "10 editing only purchaseReference of an expired plan orders nothing", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "std", v1alpha1.Monthly, 2, 0, true)
		c.clock(40*modelDay, true)
		c.edit("eul", "purchaseReference PO-7", func(s *v1alpha1.CustomerLicensePlanSpec) { s.PurchaseReference = "PO-7" }, false)
		c.edit("eul", "costCenter sales", func(s *v1alpha1.CustomerLicensePlanSpec) { s.CostCenter = "sales" }, false)
	},
}, {
	name: "11 totalBilled never adds two currencies", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "std", v1alpha1.Monthly, 2, 0, false)
		c.clock(5*modelDay, true)
		c.setProfile("currency USD", func(p *v1alpha1.BillingProfileSpec) { p.Currency = "USD" })
		c.clock(30*modelDay, true)
	},
}, {
	name: "13 a charge of a billion is recorded or refused at admission", start: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.setPrice("std", v1alpha1.Monthly, "999999999.99")
		c.setProfile("manualAbove none", func(p *v1alpha1.BillingProfileSpec) { p.Approval.ManualAbove = "" })
		c.create("eul", "acme", "std", v1alpha1.Monthly, 2, 0, false)
		c.clock(modelDay, true)
	},
}, {
	name: "14 a crash right after placing the first catch-up renewal does not wedge the plan", start: time.Date(2026, 4, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.crashAfter = "eul-2"
		c.create("eul", "acme", "std", v1alpha1.Monthly, 2, -92, false)
		c.clock(time.Minute, true)
	},
}, {
	// Found by the model: an order awaiting a person holds the renewal back past the term end;
	// the licenses stay in force, and a deletion records the Cancellation on its own day.
	name: "N1 a plan deleted while a change awaits approval past its term end pays for the days it held", start: time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.setProfile("approval mode Manual", func(p *v1alpha1.BillingProfileSpec) { p.Approval.Mode = v1alpha1.ManualApproval })
		c.create("eul", "acme", "std", v1alpha1.Monthly, 1, 0, false)
		c.decide("eul-1", true)
		c.edit("eul", "product legacy", func(s *v1alpha1.CustomerLicensePlanSpec) { s.Product = "legacy" }, true)
		c.clock(29*modelDay, true)
		c.deletePlan("eul")
	},
}, {
	// Found by the model: the same with a trial, whose Conversion awaits a person past the trial's end.
	name: "N1b a trial deleted while its conversion awaits approval holds no more than its days", start: time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.setProfile("approval mode Manual", func(p *v1alpha1.BillingProfileSpec) { p.Approval.Mode = v1alpha1.ManualApproval })
		c.create("eul", "acme", "ess", v1alpha1.Trial, 2, 0, false)
		c.decide("eul-1", true)
		c.edit("eul", "convert to Monthly", editPaymentPlan(v1alpha1.Monthly), true)
		c.clock(40*modelDay, true)
		c.deletePlan("eul")
	},
}, {
	// Found by the model: admission previews a plan without its refused renewal, and quotes a
	// Renewal the plan will not place.
	name: "N2 the preview of a plan whose renewal was denied quotes no renewal", start: time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.setProfile("manualAbove 50.00", func(p *v1alpha1.BillingProfileSpec) { p.Approval.ManualAbove = "50.00" })
		c.create("eul", "acme", "ess", v1alpha1.Monthly, 5, 0, false)
		c.decide("eul-1", true)
		c.clock(21*modelDay, true)
		c.decide("eul-2", false)
		c.edit("eul", "costCenter sales", func(s *v1alpha1.CustomerLicensePlanSpec) { s.CostCenter = "sales" }, false)
	},
}, {
	// Found by the model: a plan whose first order was denied keeps the start date admission
	// defaulted to its creation day; ordered again years later, it is billed a catch-up Renewal
	// for every term since, for licenses it never held.
	name: "N3 a plan first ordered long after its defaulted start date is not billed for the terms before", start: time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.setProfile("manualAbove 50.00", func(p *v1alpha1.BillingProfileSpec) { p.Approval.ManualAbove = "50.00" })
		c.create("eul", "acme", "ess", v1alpha1.Monthly, 3, 0, false)
		c.decide("eul-1", false)
		c.clock(365*modelDay, true)
		c.setProfile("manualAbove none", func(p *v1alpha1.BillingProfileSpec) { p.Approval.ManualAbove = "" })
		c.edit("eul", "quantity 4", editQuantity(4), true)
		for _, o := range c.ordersOf("eul") {
			if o.Spec.Change == v1alpha1.ChangeRenewal && o.Status.State == v1alpha1.OrderFulfilled && o.Spec.EffectiveDate < FormatDate(c.now) {
				c.fail("no charge without licenses: renewal %s (effective %s, %s) bills a term before the plan's first order was placed on %s",
					o.Name, o.Spec.EffectiveDate, o.Status.Charge.Amount, FormatDate(c.now))
			}
		}
	},
}, {
	// Found by the model: the probe that finds a plan's fulfilled order is spent before the
	// status write that applies it; when that write fails once (a conflict, a timeout) in the pass
	// that also placed the next order, the fulfilled order is never read again and the next order
	// waits for it for good, as after the crash of defect 14.
	name: "N4 a status write that fails once after a probe does not wedge the plan", start: time.Date(2026, 4, 10, 10, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.failStatus = true
		c.create("eul", "acme", "std", v1alpha1.Monthly, 2, -40, false)
		c.clock(time.Minute, true)
	},
}, {
	// The same, with a superseded order below the fulfilled one: the plan's orders in the cache
	// then skip no revision that a gap check would see.
	name: "N4b a status write that fails once after a superseded renewal does not wedge the plan", start: time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC),
	life: func(c *cluster) {
		c.create("eul", "acme", "ess", v1alpha1.Monthly, 2, 0, false)
		c.clock(21*modelDay, true)
		c.failStatusWith = "eul-4"
		c.edit("eul", "paymentPlan Prepay1Y", editPaymentPlan(v1alpha1.Prepay1Y), true)
		c.clock(10*modelDay, true)
	},
}}

// TestModelCases replays the fixed plan lives. Defect 8 (two trials decided at once) needs two
// order decisions interleaved below the model's granularity, and defect 12 is the kubectl
// plugin's: their tests live with the controller and the plugin.
func TestModelCases(t *testing.T) {
	for _, tc := range modelCases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, tc.start)
			tc.life(c)
		})
	}
}
