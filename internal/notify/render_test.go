package notify_test

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/notify"
)

func pending(d notify.Data) notify.Pending {
	return notify.Pending{Order: d.Order, Notice: v1alpha1.Notice{Sink: "hook", Event: d.Event, Key: "k-123"}, Data: d}
}

func TestRenderDefaults(t *testing.T) {
	fulfilled := fulfilledData()
	awaiting := fulfilledData()
	awaiting.Event, awaiting.Approve, awaiting.Charge = v1alpha1.NoticeOrderAwaitingApproval,
		"kubectl license approve endpoints-2 -n acme", ""
	rejected := fulfilledData()
	rejected.Event, rejected.Reason, rejected.Message, rejected.Charge = v1alpha1.NoticeOrderRejected,
		"UsageBelowMinimum", "the quantity 5 does not cover the 7 licenses assigned: raise spec.quantity", ""
	denied := rejected
	denied.Event, denied.Reason, denied.Message = v1alpha1.NoticeOrderDenied, "Denied", "over budget this quarter"
	system := fulfilledData()
	system.User, system.Change, system.Charge = "System", "Renewal", "0.00 EUR"
	renewal := notify.Data{Event: v1alpha1.NoticeRenewalComing, Namespace: "acme", Customer: "Acme Corp", Plan: "endpoints",
		Order: "endpoints-2", Time: day("2026-03-25"), User: "System", SKU: "EPL-B-001", Product: "endpoint-license-basic",
		PaymentPlan: "Monthly", Quantity: 25, Charge: "106.25 EUR", RenewalDate: "2026-04-01", DaysLeft: 4}
	trial := renewal
	trial.Event, trial.PaymentPlan, trial.Charge, trial.DaysLeft = v1alpha1.NoticeTrialEnding, "Trial", "", 1
	expired := renewal
	expired.Event, expired.Time, expired.RenewalDate, expired.Charge, expired.DaysLeft = v1alpha1.NoticePlanExpired,
		day("2026-04-01"), "", "", 0
	noCustomer := fulfilledData()
	noCustomer.Customer = ""

	cases := []struct {
		name        string
		data        notify.Data
		subject     []string
		body        []string
		bodyMissing []string
	}{
		{name: "OrderFulfilled", data: fulfilled,
			subject: []string{"Order confirmation", "IncreaseQuantity", "endpoint-license-basic", "Acme Corp", "endpoints"},
			body: []string{"Date (UTC):    2026-03-14 09:26:53 UTC", "User:          alice@acme.example", "SKU:           EPL-B-001",
				"Product:       endpoint-license-basic", "Payment plan:  Monthly", "Reference:     PO-4711",
				"Change:        IncreaseQuantity", "New quantity:  25", "Charge:        21.29 EUR", "Renewal date:  2026-04-01",
				"Customer:      Acme Corp", "Cost center:   CC-100", "Order:         endpoints-2"}},
		{name: "OrderFulfilled by the operator", data: system,
			subject: []string{"Renewal"}, body: []string{"User:          System", "Change:        Renewal", "Charge:        0.00 EUR"}},
		{name: "a customer's name missing: the namespace", data: noCustomer,
			subject: []string{"for acme"}, body: []string{"Customer:      acme"}},
		{name: "OrderAwaitingApproval", data: awaiting,
			subject: []string{"Approval needed", "Acme Corp", "endpoints-2"},
			body: []string{"kubectl license approve endpoints-2 -n acme", "kubectl license deny endpoints-2 -n acme",
				"New quantity:  25", "User:          alice@acme.example"}},
		{name: "OrderRejected", data: rejected,
			subject: []string{"Order rejected", "Acme Corp", "UsageBelowMinimum"},
			body:    []string{"Reason:        UsageBelowMinimum", "raise spec.quantity", "nothing was ordered or charged"}},
		{name: "OrderDenied", data: denied,
			subject: []string{"Order denied", "Acme Corp"},
			body:    []string{"Reason:        Denied", "The approver said: over budget this quarter"}},
		{name: "RenewalComing", data: renewal,
			subject: []string{"Renewal on 2026-04-01", "Acme Corp", "endpoints"},
			body:    []string{"renews on 2026-04-01, in 4 days", "Next invoice:  106.25 EUR", "Licenses:      25"}},
		{name: "TrialEnding", data: trial,
			subject: []string{"Trial ends on 2026-04-01", "Acme Corp"},
			body:    []string{"in 1 day.", "spec.paymentPlan"}, bodyMissing: []string{"1 days"}},
		{name: "PlanExpired", data: expired,
			subject: []string{"Plan expired on 2026-04-01", "Acme Corp", "endpoints"},
			body:    []string{"expired on 2026-04-01", "Licenses:      25"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := &v1alpha1.NotificationSink{ObjectMeta: metav1.ObjectMeta{Name: "hook"}}
			m, err := notify.Render(sink, pending(tc.data))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if m.Key != "k-123" || m.Data != tc.data || m.To != nil {
				t.Errorf("message %+v", m)
			}
			if strings.Contains(m.Subject, "\n") || strings.Contains(m.Subject, "<no value>") {
				t.Errorf("subject %q", m.Subject)
			}
			for _, w := range tc.subject {
				if !strings.Contains(m.Subject, w) {
					t.Errorf("subject %q lacks %q", m.Subject, w)
				}
			}
			for _, w := range tc.body {
				if !strings.Contains(m.Body, w) {
					t.Errorf("body lacks %q:\n%s", w, m.Body)
				}
			}
			for _, w := range append(tc.bodyMissing, "<no value>") {
				if strings.Contains(m.Body, w) {
					t.Errorf("body has %q:\n%s", w, m.Body)
				}
			}
		})
	}
}

func TestRenderTemplates(t *testing.T) {
	sink := func(subject, body string) *v1alpha1.NotificationSink {
		return &v1alpha1.NotificationSink{
			ObjectMeta: metav1.ObjectMeta{Name: "mail"},
			Spec: v1alpha1.NotificationSinkSpec{
				Email: &v1alpha1.EmailSink{Host: "smtp", From: "l@p.example", To: []string{"ops@p.example"},
					Recipients: []v1alpha1.Recipients{{CostCenter: "CC-100", To: []string{"cc100@acme.example"}}}},
				Templates: &v1alpha1.NoticeTemplates{Subject: subject, Body: body},
			},
		}
	}
	t.Run("custom subject and body", func(t *testing.T) {
		m, err := notify.Render(sink("[{{.Customer}}] {{.Event}}\n{{.Order}}",
			`{{.Product}} x{{.Quantity}} on {{datetime .Time}} ({{date .Time}}){{if eq .Event "OrderFulfilled"}} for {{.Charge}}{{end}}`),
			pending(fulfilledData()))
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if m.Subject != "[Acme Corp] OrderFulfilled endpoints-2" {
			t.Errorf("subject %q", m.Subject)
		}
		if m.Body != "endpoint-license-basic x25 on 2026-03-14 09:26:53 UTC (2026-03-14) for 21.29 EUR" {
			t.Errorf("body %q", m.Body)
		}
		if strings.Join(m.To, ",") != "ops@p.example,cc100@acme.example" {
			t.Errorf("to %q", m.To)
		}
	})
	t.Run("a custom subject keeps the default body", func(t *testing.T) {
		m, err := notify.Render(sink("{{.Event}}", ""), pending(fulfilledData()))
		if err != nil || m.Subject != "OrderFulfilled" || !strings.Contains(m.Body, "New quantity:  25") {
			t.Errorf("Render: %+v, %v", m, err)
		}
	})
	errCases := []struct {
		name, subject, body string
		want                []string
	}{
		{name: "a subject that does not parse", subject: "{{.Customer", want: []string{"sink mail", "spec.templates.subject", ":1:"}},
		{name: "an unknown field in the body", body: "line one\n{{.Custmer}}",
			want: []string{"sink mail", "spec.templates.body", ":2:", "Custmer"}},
		{name: "an unknown function", body: "{{upper .Customer}}", want: []string{"spec.templates.body", "upper"}},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notify.Render(sink(tc.subject, tc.body), pending(fulfilledData()))
			if err == nil {
				t.Fatal("Render succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			verr := notify.ValidateTemplates(&v1alpha1.NoticeTemplates{Subject: tc.subject, Body: tc.body})
			if verr == nil {
				t.Fatal("ValidateTemplates accepted the templates")
			}
			for _, w := range tc.want[1:] {
				if !strings.Contains(verr.Error(), w) {
					t.Errorf("ValidateTemplates error %q lacks %q", verr, w)
				}
			}
		})
	}
}

func TestValidateTemplates(t *testing.T) {
	for _, tt := range []*v1alpha1.NoticeTemplates{
		nil, {}, {Subject: "{{.Event}} of {{customer .}}"},
		{Body: `{{if .Approve}}{{.Approve}}{{end}} {{.DaysLeft}} {{datetime .Time}}`},
	} {
		if err := notify.ValidateTemplates(tt); err != nil {
			t.Errorf("ValidateTemplates(%+v): %v", tt, err)
		}
	}
	err := notify.ValidateTemplates(&v1alpha1.NoticeTemplates{Subject: "{{.Nope}}", Body: "{{end}}"})
	if err == nil || !strings.Contains(err.Error(), "spec.templates.subject") || !strings.Contains(err.Error(), "spec.templates.body") {
		t.Errorf("ValidateTemplates of two broken templates: %v, want both named", err)
	}
}
