package samples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/notify"
	"github.com/partnerops/license-operator/internal/testenv"
)

const root = "../.."

// readmeSection is the text of the README's section (## title) up to the next section.
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", "## "+title)
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// yamlBlocks are the ```yaml blocks of text.
func yamlBlocks(text string) []string {
	var blocks []string
	for {
		_, after, ok := strings.Cut(text, "```yaml\n")
		if !ok {
			return blocks
		}
		block, rest, _ := strings.Cut(after, "```")
		blocks = append(blocks, block)
		text = rest
	}
}

// readmeSinks are the NotificationSinks of the README's Notifications section, as written there.
func readmeSinks(t *testing.T) []*v1alpha1.NotificationSink {
	t.Helper()
	var sinks []*v1alpha1.NotificationSink
	for _, block := range yamlBlocks(readmeSection(t, "Notifications")) {
		dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(block), 4096)
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("a yaml block of the README's Notifications: %v\n%s", err, block)
			}
			var meta struct{ Kind string }
			if err := json.Unmarshal(raw, &meta); err != nil || meta.Kind != "NotificationSink" {
				continue
			}
			s := &v1alpha1.NotificationSink{}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(s); err != nil {
				t.Errorf("NotificationSink of the README: a field the API does not have: %v\n%s", err, block)
				continue
			}
			sinks = append(sinks, s)
		}
	}
	return sinks
}

// TestREADMENotificationSinks checks that every NotificationSink of the README's Notifications
// section is accepted by the API server, with the CRD's schema and rules (a server-side dry run),
// and that the section shows each kind of sink and a template.
func TestREADMENotificationSinks(t *testing.T) {
	sinks := readmeSinks(t)
	kinds := map[string]bool{}
	for _, s := range sinks {
		if err := notify.ValidateTemplates(s.Spec.Templates); err != nil {
			t.Errorf("NotificationSink %s of the README: %v", s.Name, err)
		}
		switch {
		case s.Spec.Email != nil:
			kinds["email"] = true
		case s.Spec.Webhook != nil:
			kinds["webhook"] = true
		case s.Spec.CloudEvents != nil:
			kinds["cloudEvents"] = true
		}
		if s.Spec.Templates != nil {
			kinds["templates"] = true
		}
	}
	for _, want := range []string{"email", "webhook", "cloudEvents", "templates"} {
		if !kinds[want] {
			t.Errorf("the README's Notifications show no NotificationSink with %s (found %d sinks)", want, len(sinks))
		}
	}

	env := testenv.Environment(root, false)
	_, c, err := testenv.Start(env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range sinks {
		if err := c.Create(ctx, s.DeepCopy(), client.DryRunAll); err != nil {
			t.Errorf("NotificationSink %s of the README is refused: %v", s.Name, err)
		}
	}
	// The dry run judges: a sink that is both email and webhook is refused.
	if len(sinks) > 0 {
		both := sinks[0].DeepCopy()
		both.Spec.Webhook = &v1alpha1.WebhookSink{URL: "https://hooks.example", SecretRef: v1alpha1.SecretKeyRef{Name: "s", Key: "k"}}
		both.Spec.Email = &v1alpha1.EmailSink{Host: "smtp.example", From: "a@example.com", To: []string{"b@example.com"}}
		if err := c.Create(ctx, both, client.DryRunAll); !apierrors.IsInvalid(err) {
			t.Errorf("a sink with email and webhook: got %v, want it refused as invalid", err)
		}
	}
}

// TestREADMEDefaultEmail checks that the README's example of the default confirmation is what the
// default templates render for its order.
func TestREADMEDefaultEmail(t *testing.T) {
	section := readmeSection(t, "Notifications")
	_, after, ok := strings.Cut(section, "```\nSubject: ")
	if !ok {
		t.Fatal("the README's Notifications have no example email (a ``` block starting with Subject:)")
	}
	example, _, _ := strings.Cut("Subject: "+after, "```")
	sink := &v1alpha1.NotificationSink{}
	sink.Name = "purchasing-mail"
	m, err := notify.Render(sink, notify.Pending{Order: "vmr-users-2", Data: notify.Data{
		Event: v1alpha1.NoticeOrderFulfilled, Namespace: "acme", Customer: "Acme Corporation", CostCenter: "sales-emea",
		Plan: "vmr-users", Order: "vmr-users-2", Time: time.Date(2026, 11, 23, 6, 42, 41, 0, time.UTC), User: "demo-admin",
		SKU: "PXV-EUL", Product: "enterprise-user-license", PaymentPlan: "Prepay3Y", Reference: "PO-2026-0151",
		Change: "IncreaseQuantity", Quantity: 55, Charge: "930.93 EUR", RenewalDate: "2029-11-01",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := "Subject: " + m.Subject + "\n\n" + m.Body; got != example {
		t.Errorf("the README's example confirmation is not what the default templates write:\n--- README\n%s\n--- rendered\n%s", example, got)
	}
}
