package notify

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Message is a notice rendered for one sink.
type Message struct {
	// Subject is an email's subject, and the summary of a webhook's or an event's data.
	Subject string
	// Body is an email's body, and the text of a webhook's or an event's data.
	Body string
	// To are the addresses of an email; empty for other sinks.
	To []string
	// Key is the notice's idempotency key.
	Key string
	// Data is what the notice says.
	Data Data
}

// The names of a sink's templates, as errors name them.
const (
	subjectField = "spec.templates.subject"
	bodyField    = "spec.templates.body"
)

// funcs are the functions templates may call besides text/template's own.
var funcs = template.FuncMap{
	// datetime writes a time as "2006-01-02 15:04:05 UTC".
	"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	// date writes a time's UTC day as "2006-01-02".
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	// customer is the customer's name, or the namespace when the order names none.
	"customer": func(d Data) string {
		if d.Customer != "" {
			return d.Customer
		}
		return d.Namespace
	},
}

// Render renders a pending notice with the sink's templates, or the default ones of its event
// where the sink sets none. An error names the template (spec.templates.subject or .body) and,
// from text/template, the line and column.
func Render(sink *v1alpha1.NotificationSink, p Pending) (Message, error) {
	subjectSrc, bodySrc := defaultSubject[p.Data.Event], defaultBody[p.Data.Event]
	subjectName, bodyName := "default subject of "+string(p.Data.Event), "default body of "+string(p.Data.Event)
	if t := sink.Spec.Templates; t != nil {
		if t.Subject != "" {
			subjectSrc, subjectName = t.Subject, subjectField
		}
		if t.Body != "" {
			bodySrc, bodyName = t.Body, bodyField
		}
	}
	if subjectSrc == "" || bodySrc == "" {
		return Message{}, fmt.Errorf("sink %s: no template for event %q", sink.Name, p.Data.Event)
	}
	subject, err := execute(subjectName, subjectSrc, p.Data)
	if err != nil {
		return Message{}, fmt.Errorf("sink %s: %w", sink.Name, err)
	}
	body, err := execute(bodyName, bodySrc, p.Data)
	if err != nil {
		return Message{}, fmt.Errorf("sink %s: %w", sink.Name, err)
	}
	return Message{
		Subject: oneLine(subject),
		Body:    body,
		To:      Recipients(sink, p.Data.Customer, p.Data.CostCenter),
		Key:     p.Notice.Key,
		Data:    p.Data,
	}, nil
}

// ValidateTemplates checks that a sink's templates parse and render the data of every event, so a
// sink's Ready condition can tell a mistake before a notice is due. nil templates are valid.
func ValidateTemplates(t *v1alpha1.NoticeTemplates) error {
	if t == nil {
		return nil
	}
	var errs []error
	for _, tt := range []struct{ name, src string }{{subjectField, t.Subject}, {bodyField, t.Body}} {
		if tt.src == "" {
			continue
		}
		if _, err := parse(tt.name, tt.src); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, ev := range v1alpha1.NoticeEvents {
			if _, err := execute(tt.name, tt.src, sampleData(ev)); err != nil {
				errs = append(errs, fmt.Errorf("%w (with the data of %s)", err, ev))
				break
			}
		}
	}
	return errors.Join(errs...)
}

func parse(name, src string) (*template.Template, error) {
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

func execute(name, src string, d Data) (string, error) {
	t, err := parse(name, src)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return b.String(), nil
}

// oneLine joins the lines of a subject with spaces: a header holds one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// sampleData is data of every field set, for ValidateTemplates.
func sampleData(ev v1alpha1.NoticeEvent) Data {
	return Data{
		Event: ev, Namespace: "acme", Customer: "Acme Corp", CostCenter: "CC-100", Plan: "endpoints",
		Order: "endpoints-2", Time: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC), User: "alice@acme.example",
		SKU: "EPL-B-001", Product: "endpoint-license-basic", PaymentPlan: "Monthly", Reference: "PO-4711",
		Change: "IncreaseQuantity", Quantity: 25, Charge: "21.29 EUR", RenewalDate: "2026-04-01",
		Reason: "UsageBelowMinimum", Message: "the quantity 5 does not cover the 7 licenses assigned",
		Approve: "kubectl license approve endpoints-2 -n acme", DaysLeft: 7,
	}
}

// The fields of an order, as the portal's order history shows them.
const orderFields = `Date (UTC):    {{datetime .Time}}
User:          {{.User}}
SKU:           {{.SKU}}
Product:       {{.Product}}
Payment plan:  {{.PaymentPlan}}
Reference:     {{.Reference}}
Change:        {{.Change}}
New quantity:  {{.Quantity}}
`

const planFields = `Customer:      {{customer .}}
Plan:          {{.Plan}} (namespace {{.Namespace}})
{{- with .CostCenter}}
Cost center:   {{.}}{{end}}
`

var defaultSubject = map[v1alpha1.NoticeEvent]string{
	v1alpha1.NoticeOrderFulfilled:        `Order confirmation: {{.Change}} of {{.Product}} for {{customer .}}, plan {{.Plan}} ({{.Order}})`,
	v1alpha1.NoticeOrderAwaitingApproval: `Approval needed: {{.Change}} of {{.Product}} for {{customer .}}, plan {{.Plan}} ({{.Order}})`,
	v1alpha1.NoticeOrderRejected:         `Order rejected: {{.Change}} of {{.Product}} for {{customer .}}, plan {{.Plan}} ({{.Reason}})`,
	v1alpha1.NoticeOrderDenied:           `Order denied: {{.Change}} of {{.Product}} for {{customer .}}, plan {{.Plan}} ({{.Order}})`,
	v1alpha1.NoticeRenewalComing:         `Renewal on {{.RenewalDate}}: {{customer .}}'s plan {{.Plan}} ({{.Product}})`,
	v1alpha1.NoticeTrialEnding:           `Trial ends on {{.RenewalDate}}: {{customer .}}'s plan {{.Plan}} ({{.Product}})`,
	v1alpha1.NoticePlanExpired:           `Plan expired on {{date .Time}}: {{customer .}}'s plan {{.Plan}} ({{.Product}})`,
}

var defaultBody = map[v1alpha1.NoticeEvent]string{
	v1alpha1.NoticeOrderFulfilled: `Thank you for your order. It has been fulfilled.

` + planFields + `Order:         {{.Order}}
` + orderFields + `Charge:        {{if .Charge}}{{.Charge}}{{else}}none{{end}}
Renewal date:  {{if .RenewalDate}}{{.RenewalDate}}{{else}}none{{end}}
`,
	v1alpha1.NoticeOrderAwaitingApproval: `An order waits for your approval.

` + planFields + `Order:         {{.Order}}
` + orderFields + `
To approve it:
  {{.Approve}}
To deny it, with the reason:
  kubectl license deny {{.Order}} -n {{.Namespace}} --message "..."
`,
	v1alpha1.NoticeOrderRejected: `An order was rejected: nothing was ordered or charged.

` + planFields + `Order:         {{.Order}}
` + orderFields + `
Reason:        {{.Reason}}
{{.Message}}
`,
	v1alpha1.NoticeOrderDenied: `An order was denied by an approver: nothing was ordered or charged.

` + planFields + `Order:         {{.Order}}
` + orderFields + `
Reason:        {{.Reason}}
{{- with .Message}}
The approver said: {{.}}{{end}}
The plan orders again once its spec changes.
`,
	v1alpha1.NoticeRenewalComing: `The plan renews on {{.RenewalDate}}, in {{.DaysLeft}} day{{if ne .DaysLeft 1}}s{{end}}.

` + planFields + `SKU:           {{.SKU}}
Product:       {{.Product}}
Payment plan:  {{.PaymentPlan}}
Licenses:      {{.Quantity}}
Reference:     {{.Reference}}
Next invoice:  {{if .Charge}}{{.Charge}}{{else}}not known yet{{end}}

To change the licenses, the payment plan or the renewal policy, change the plan's spec before then.
`,
	v1alpha1.NoticeTrialEnding: `The trial ends on {{.RenewalDate}}, in {{.DaysLeft}} day{{if ne .DaysLeft 1}}s{{end}}.

` + planFields + `SKU:           {{.SKU}}
Product:       {{.Product}}
Licenses:      {{.Quantity}}

To keep the licenses, set the plan's spec.paymentPlan to a paid payment plan before then.
Otherwise the plan expires on {{.RenewalDate}}.
`,
	v1alpha1.NoticePlanExpired: `The plan expired on {{date .Time}}: no licenses are in force any more.

` + planFields + `Product:       {{.Product}}
Payment plan:  {{.PaymentPlan}}
Licenses:      {{.Quantity}}

To order again, change the plan's spec (product, quantity, payment plan or renewal policy).
`,
}
