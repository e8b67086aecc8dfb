package plugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// trialPlan is a plan on a trial of 5 licenses that ends on end.
func trialPlan(ns, name string, end v1alpha1.Date) v1alpha1.CustomerLicensePlan {
	p := v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	p.Spec = v1alpha1.CustomerLicensePlanSpec{Product: "t-connect", Quantity: 5, PaymentPlan: v1alpha1.Trial}
	p.Status = v1alpha1.CustomerLicensePlanStatus{Product: "t-connect", Licenses: 5, PaymentPlan: v1alpha1.Trial, PricePerLicense: "0.00",
		Currency: "EUR", StartDate: "2026-03-01", Term: &v1alpha1.Term{Start: "2026-03-01", End: end}, RenewalDate: end,
		RenewalAction: v1alpha1.RenewalActionExpire, Revision: 1,
		Conditions: []metav1.Condition{{Type: v1alpha1.PlanReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonInForce}}}
	return p
}

func TestTrialsEndingWithin(t *testing.T) {
	paid := trialPlan("acme", "paid", "2026-03-12")
	paid.Status.PaymentPlan = v1alpha1.Monthly
	ended := trialPlan("acme", "ended", "2026-03-09")
	ended.Status.Licenses, ended.Status.ExpiredOn = 0, "2026-03-09"
	plans := []v1alpha1.CustomerLicensePlan{
		trialPlan("acme", "later", "2026-03-30"),
		trialPlan("globex", "soon", "2026-03-12"),
		trialPlan("acme", "week", "2026-03-17"), // 2026-03-17 00:00 is within 7 days of 2026-03-10 09:30
		trialPlan("acme", "due", "2026-03-10"),  // ended this morning, its Expiry not yet recorded
		paid, ended,
	}
	var got []string
	for _, p := range trialsEndingWithin(plans, march10, 7*24*time.Hour) {
		got = append(got, p.Namespace+"/"+p.Name)
	}
	if diff := cmp.Diff([]string{"acme/due", "globex/soon", "acme/week"}, got); diff != "" {
		t.Errorf("trials ending within 7 days, soonest first (-want +got):\n%s", diff)
	}
}

func TestParseWithin(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1d": 24 * time.Hour, "72h": 72 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := parseWithin("--trials-ending", in); err != nil || got != want {
			t.Errorf("parseWithin(%q) = %s, %v, want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"0d", "-3h", "7", "a week", "7days"} {
		if _, err := parseWithin("--trials-ending", in); err == nil || !strings.Contains(err.Error(), "--trials-ending "+in+": want a time to come, such as 7d or 72h") {
			t.Errorf("parseWithin(%q): %v", in, err)
		}
	}
}

func TestPlansTableShowsTrials(t *testing.T) {
	expired := trialPlan("acme", "ended", "2026-03-09")
	expired.Status.Licenses, expired.Status.ExpiredOn, expired.Status.RenewalAction = 0, "2026-03-09", v1alpha1.RenewalActionNone
	expired.Status.Conditions[0] = metav1.Condition{Type: v1alpha1.PlanReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonExpired}
	plans := []v1alpha1.CustomerLicensePlan{
		trialPlan("acme", "connect", "2026-03-15"), trialPlan("acme", "tomorrow", "2026-03-11"), trialPlan("acme", "today", "2026-03-10"), expired,
	}
	var out bytes.Buffer
	if err := plansTable(plans, false, march10).write(&out, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for i, want := range [][]string{
		{"connect", "t-connect", "5", "0", "0.00", "EUR", "Trial", "2026-03-01", "2026-03-15", "Expire", "(trial,", "5", "days", "left)"},
		{"tomorrow", "t-connect", "5", "0", "0.00", "EUR", "Trial", "2026-03-01", "2026-03-11", "Expire", "(trial,", "1", "day", "left)"},
		{"today", "t-connect", "5", "0", "0.00", "EUR", "Trial", "2026-03-01", "2026-03-10", "Expire", "(trial,", "ends", "today)"},
		{"ended", "t-connect", "0", "0", "0.00", "EUR", "Trial", "2026-03-01", "2026-03-09", "None", "(Expired)"},
	} {
		if diff := cmp.Diff(want, strings.Fields(lines[i+1])); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i+1, diff)
		}
	}
}
