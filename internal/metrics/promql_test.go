package metrics

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// controllerRuntimeNames are the series of controller-runtime and of Prometheus itself that the
// alerts and the dashboard read beside the operator's own. TestControllerRuntimeExports checks
// that controller-runtime exports them under these names.
var controllerRuntimeNames = []string{
	"controller_runtime_reconcile_errors_total",
	"controller_runtime_reconcile_total",
	"workqueue_depth",
	"workqueue_longest_running_processor_seconds",
}

// prometheusNames are the series Prometheus records of each scrape target.
var prometheusNames = []string{"up"}

// known reports whether name is a series that the operator's manager exports or Prometheus records.
func known(name string) bool {
	return slices.Contains(allNames, name) || slices.Contains(controllerRuntimeNames, name) || slices.Contains(prometheusNames, name)
}

var (
	promqlStrings   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promqlMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promqlRanges    = regexp.MustCompile(`\[[^\]]*\]`)
	promqlLabelList = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlCalls     = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*\s*\(`)
	promqlNames     = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promqlNumbers   = regexp.MustCompile(`\b[0-9][0-9.]*(?:e[+-]?[0-9]+|[smhdwy]+)?\b`)
	promqlVariables = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
)

// promqlKeywords are the words of PromQL that are not series names.
var promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "Inf": true, "NaN": true}

// seriesNames returns the names of the series a PromQL expression (or a Grafana query, whose
// variables are dropped) selects. It is no parser: it drops strings, label matchers, ranges,
// label lists, function calls and numbers, and keeps the words left, which in the queries of
// this repository are series names. promtool parses the rules for real.
func seriesNames(expr string) []string {
	s := promqlVariables.ReplaceAllString(expr, " ")
	s = promqlStrings.ReplaceAllString(s, " ")
	s = promqlMatchers.ReplaceAllString(s, " ")
	s = promqlRanges.ReplaceAllString(s, " ")
	s = promqlLabelList.ReplaceAllString(s, " ")
	s = promqlCalls.ReplaceAllString(s, " ")
	s = promqlNumbers.ReplaceAllString(s, " ")
	var names []string
	for _, w := range promqlNames.FindAllString(s, -1) {
		if !promqlKeywords[w] && !slices.Contains(names, w) {
			names = append(names, w)
		}
	}
	sort.Strings(names)
	return names
}

func TestSeriesNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`(license_operator_plan_renewal_timestamp_seconds{action!="Renew"} - time() < 7 * 86400) and on (namespace, plan) (license_operator_plan_licenses > 0)`: {
			"license_operator_plan_licenses", "license_operator_plan_renewal_timestamp_seconds"},
		`sum by (controller) (increase(controller_runtime_reconcile_errors_total{job="x"}[5m])) > 0`:              {"controller_runtime_reconcile_errors_total"},
		`absent(up{job="license-operator"} == 1)`:                                                                 {"up"},
		`sum by (cost_center, currency) (license_operator_billed_amount_total)`:                                   {"license_operator_billed_amount_total"},
		`count by (reason) (license_operator_plan_status_condition{condition="Ready", namespace=~"$namespace"})`:  {"license_operator_plan_status_condition"},
		`(license_operator_plan_renewal_timestamp_seconds{namespace=~"${namespace}"} - time()) / 86400 < 30 >= 0`: {"license_operator_plan_renewal_timestamp_seconds"},
		`sum(increase(license_operator_orders_closed_total[$__range])) * 1e3`:                                     {"license_operator_orders_closed_total"},
		`time() - license_operator_order_awaiting_approval_created_timestamp_seconds * on(namespace, plan) group_left(customer) license_operator_plan_info`: {
			"license_operator_order_awaiting_approval_created_timestamp_seconds", "license_operator_plan_info"},
	} {
		if got := seriesNames(expr); !slices.Equal(got, want) {
			t.Errorf("seriesNames(%s) = %v, want %v", expr, got, want)
		}
	}
}

// TestControllerRuntimeExports runs a controller of controller-runtime and checks that the
// registry the manager serves holds every series of controllerRuntimeNames, so that a rename in a
// controller-runtime upgrade fails here rather than silencing an alert.
func TestControllerRuntimeExports(t *testing.T) {
	c, err := controller.NewUnmanaged("metrics-probe", controller.Options{
		Reconciler:         reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) { return reconcile.Result{}, nil }),
		SkipNameValidation: ptr.To(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	// One event through the queue, for the depth series, which appears with the first item queued.
	events := make(chan event.GenericEvent, 1)
	events <- event.GenericEvent{Object: &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: "byoc"}}}
	if err := c.Watch(source.Channel(events, &handler.EnqueueRequestForObject{})); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	var missing []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		families, err := ctrlmetrics.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		exported := map[string]bool{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "controller" && l.GetValue() == "metrics-probe" {
						exported[f.GetName()] = true
					}
				}
			}
		}
		missing = missing[:0]
		for _, name := range controllerRuntimeNames {
			if !exported[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("controller-runtime exports no %s with a controller label: the alerts of config/prometheus and the "+
				"dashboard of config/grafana read them; follow the rename there and in controllerRuntimeNames", strings.Join(missing, ", "))
		}
	}
}
