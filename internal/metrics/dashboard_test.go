package metrics

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const dashboardFile = "../../config/grafana/license-operator-dashboard.json"

// dashboard is what the tests read of a Grafana dashboard.
type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboardPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []dashboardPanel `json:"panels"` // of a collapsed row
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// panels returns the dashboard's panels, those of collapsed rows included.
func (d dashboard) panels() []dashboardPanel {
	var all []dashboardPanel
	var walk func([]dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return all
}

// queries returns every PromQL query of the dashboard's panels, named by their panel.
func (d dashboard) queries() map[string][]string {
	q := map[string][]string{}
	for _, p := range d.panels() {
		for _, target := range p.Targets {
			q[p.Title] = append(q[p.Title], target.Expr)
		}
	}
	return q
}

var labelValues = regexp.MustCompile(`label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)`)

// TestDashboard checks the Grafana dashboard: a Prometheus data source variable and a namespace
// variable, every panel on that data source, and every query reading only series the operator's
// manager exports; and that it shows each of the topics it is for.
func TestDashboard(t *testing.T) {
	d := readDashboard(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("the dashboard needs a title and a uid")
	}
	variables := map[string]string{}
	for _, v := range d.Templating.List {
		variables[v.Name] = v.Type
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil || !known(m[1]) {
			t.Errorf("variable %s: its query %q reads no series the operator exports", v.Name, v.Definition)
		}
	}
	if variables["datasource"] != "datasource" || variables["namespace"] != "query" {
		t.Errorf("want a datasource variable named datasource and a query variable named namespace, got %v", variables)
	}
	ids := map[int]bool{}
	read := map[string]bool{}
	for _, p := range d.panels() {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d is used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: its data source should be the variable ${datasource}", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			names := seriesNames(target.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: the query %q reads no series", p.Title, target.Expr)
			}
			for _, n := range names {
				read[n] = true
				if !known(n) {
					t.Errorf("panel %q reads %s, which neither the operator (internal/metrics) nor controller-runtime exports: %s", p.Title, n, target.Expr)
				}
			}
			if strings.HasPrefix(names[0], "license_operator_plan") && !strings.Contains(target.Expr, `namespace=~"$namespace"`) {
				t.Errorf("panel %q: the query %q does not follow the namespace variable", p.Title, target.Expr)
			}
		}
	}
	// The topics of the dashboard: licenses in force and assigned, renewals, readiness, orders,
	// approvals, billing and reconcile errors.
	for _, n := range []string{PlanLicenses, PlanLicensesAssigned, PlanRenewalTimestamp, PlanStatusCondition, Orders,
		OrdersClosedTotal, OrderAwaitingApprovalSince, BilledAmountTotal, "controller_runtime_reconcile_errors_total"} {
		if !read[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}

// grafanaVariables replaces the dashboard's variables with values PromQL parses.
var grafanaVariables = strings.NewReplacer(`$__rate_interval`, `5m`, `$__interval`, `1m`, `$__range`, `1h`,
	`$namespace`, `.*`, `$job`, `license-operator-controller-manager-metrics-service`)

// TestDashboardQueriesParse has promtool parse every query of the dashboard, written as recording
// rules with Grafana's variables replaced.
func TestDashboardQueriesParse(t *testing.T) {
	promtool := promtoolPath(t)
	queries := readDashboard(t).queries()
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	titles := make([]string, 0, len(queries))
	for title := range queries {
		titles = append(titles, title)
	}
	slices.Sort(titles)
	n := 0
	for _, title := range titles {
		for _, q := range queries[title] {
			n++
			expr, _ := json.Marshal(grafanaVariables.Replace(q)) // a JSON string is a YAML string
			fmt.Fprintf(&rules, "      - record: dashboard:query%d\n        expr: %s\n", n, expr)
		}
	}
	file := filepath.Join(t.TempDir(), "dashboard.yaml")
	if err := os.WriteFile(file, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", "--lint=none", file).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s\n%s", err, out, rules.String())
	}
}
