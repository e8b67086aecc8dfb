package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The files of config/prometheus, from this package's directory.
const (
	alertsFile     = "../../config/prometheus/alerts.yaml"
	alertTestsGlob = "../../config/prometheus/tests/*.yaml"
	promtoolFile   = "../../bin/promtool"
)

// prometheusRule is what the tests read of a PrometheusRule.
type prometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Groups []struct {
			Name  string      `json:"name"`
			Rules []alertRule `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

type alertRule struct {
	Alert       string            `json:"alert"`
	Record      string            `json:"record"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// wantAlerts are the alerts the README lists, with their severities.
var wantAlerts = map[string]string{
	"LicensePlanExpiringSoon":          "warning",
	"LicensePlanRenewalRefused":        "critical",
	"LicensePlanOrderRejected":         "warning",
	"LicensePlanUsageExceedsLicenses":  "warning",
	"LicensePlanRenewalOverdue":        "warning",
	"LicensePlanTrialEndingSoon":       "warning",
	"LicenseOrderAwaitingApproval":     "warning",
	"LicenseOperatorDown":              "critical",
	"LicenseOperatorReconcileErrors":   "warning",
	"LicenseOperatorNotReconciling":    "critical",
	"LicenseOperatorMetricsIncomplete": "warning",
	"LicenseEntitlementExpiringSoon":   "critical",
	"LicenseNotificationSinkFailing":   "warning",
}

func readAlerts(t *testing.T) ([]byte, prometheusRule) {
	t.Helper()
	data, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rule prometheusRule
	if err := yaml.UnmarshalStrict(data, &rule, yaml.DisallowUnknownFields); err != nil {
		// Unknown fields of metadata are fine; read it again leniently for the rest.
		if err := yaml.Unmarshal(data, &rule); err != nil {
			t.Fatalf("%s: %v", alertsFile, err)
		}
	}
	return data, rule
}

// TestAlerts checks the structure of the PrometheusRule: every alert the README lists, each with
// its severity, a summary and a description that name the namespace and the plan or order it is
// about, and an expression that reads only series the operator's manager exports.
func TestAlerts(t *testing.T) {
	_, rule := readAlerts(t)
	if rule.APIVersion != "monitoring.coreos.com/v1" || rule.Kind != "PrometheusRule" {
		t.Fatalf("%s is a %s %s, want a monitoring.coreos.com/v1 PrometheusRule", alertsFile, rule.APIVersion, rule.Kind)
	}
	seen := map[string]bool{}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			if name == "" {
				t.Errorf("group %s: a rule that is no alert (record %q): the file holds alerts only", g.Name, r.Record)
				continue
			}
			if seen[name] {
				t.Errorf("alert %s is defined twice", name)
			}
			seen[name] = true
			want, listed := wantAlerts[name]
			switch {
			case !listed:
				t.Errorf("alert %s is not in the README's list (wantAlerts)", name)
			case r.Labels["severity"] != want:
				t.Errorf("alert %s: severity %q, want %q", name, r.Labels["severity"], want)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: want the annotations summary and description", name)
			}
			names := seriesNames(r.Expr)
			if len(names) == 0 {
				t.Errorf("alert %s reads no series: %s", name, r.Expr)
			}
			for _, s := range names {
				if !known(s) {
					t.Errorf("alert %s reads %s, which neither the operator (internal/metrics) nor controller-runtime exports", name, s)
				}
			}
			// An alert about plans or orders names the namespace and the plan or order it is about.
			if strings.HasPrefix(g.Name, "license-operator.plans") || strings.HasPrefix(g.Name, "license-operator.orders") {
				object := "{{ $labels.plan }}"
				if strings.Contains(g.Name, "orders") {
					object = "{{ $labels.order }}"
				}
				for _, a := range []string{"summary", "description"} {
					text := r.Annotations[a]
					if !strings.Contains(text, "{{ $labels.namespace }}") || !strings.Contains(text, object) {
						t.Errorf("alert %s: its %s does not name {{ $labels.namespace }} and %s: %q", name, a, object, text)
					}
				}
			}
		}
	}
	for name := range wantAlerts {
		if !seen[name] {
			t.Errorf("alert %s is missing from %s", name, alertsFile)
		}
	}
}

// promtoolPath returns the absolute path of promtool: bin/promtool, or the one $PROMTOOL names.
// Without it the test fails, saying how to get it: the alerts and the dashboard are tested with it.
func promtoolPath(t *testing.T) string {
	t.Helper()
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		promtool = promtoolFile
	}
	if _, err := os.Stat(promtool); err != nil {
		t.Fatalf("promtool is needed to test config/prometheus and config/grafana, and %s is missing: run `make promtool` "+
			"(it builds bin/promtool from the Prometheus module through the Go module proxy), or set PROMTOOL to a promtool binary", promtool)
	}
	abs, err := filepath.Abs(promtool)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// promtoolTests is what the tests read of a promtool test file.
type promtoolTests struct {
	RuleFiles []string `json:"rule_files"`
	Tests     []struct {
		Name          string `json:"name"`
		AlertRuleTest []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// TestAlertTestsCoverEveryAlert checks that the promtool tests see every alert both firing and
// not firing.
func TestAlertTestsCoverEveryAlert(t *testing.T) {
	files, err := filepath.Glob(alertTestsGlob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool tests in %s", alertTestsGlob)
	}
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var pt promtoolTests
		if err := yaml.Unmarshal(data, &pt); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !slices.Equal(pt.RuleFiles, []string{"rules.yaml"}) {
			t.Errorf("%s: rule_files is %v, want [rules.yaml], the file the test writes from %s", f, pt.RuleFiles, alertsFile)
		}
		for _, tc := range pt.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	for name := range wantAlerts {
		if !firing[name] || !quiet[name] {
			t.Errorf("alert %s: the promtool tests should see it firing (%v) and not firing (%v)", name, firing[name], quiet[name])
		}
	}
}

// TestAlertsWithPromtool checks the rules and runs the unit tests of config/prometheus/tests with
// promtool: bin/promtool, or the one $PROMTOOL names. promtool reads rule groups, not a
// PrometheusRule, so the test writes the PrometheusRule's spec to rules.yaml beside copies of the
// test files.
func TestAlertsWithPromtool(t *testing.T) {
	promtool := promtoolPath(t)
	data, _ := readAlerts(t)
	var rule struct {
		Spec any `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		t.Fatal(err)
	}
	groups, err := yaml.Marshal(rule.Spec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), groups, 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(alertTestsGlob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool tests in %s", alertTestsGlob)
	}
	var tests []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, filepath.Base(f))
	}
	for _, args := range [][]string{
		{"check", "rules", "rules.yaml"},
		append([]string{"test", "rules"}, tests...),
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
