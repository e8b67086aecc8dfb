package metrics_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/controller"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/metrics"
	"github.com/partnerops/license-operator/internal/samples"
	"github.com/partnerops/license-operator/internal/testenv"
)

// TestCollectorOnTheOperator (in package metrics_test, as the controllers it runs import this
// package) runs the operator's controllers and cache (cachecfg: no fulfilled
// orders) on a local control plane with the sample catalog, billing profile and customers, one
// change of them refused, and checks that a scrape says what the API server holds: each plan's licenses, usage, renewal and
// readiness, the orders not fulfilled, and, per cost center, the sum of the charges of the order
// history, the billing ledger.
func TestCollectorOnTheOperator(t *testing.T) {
	root := filepath.Join("..", "..")
	logf.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	env := testenv.Environment(root, false)
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("start the control plane: %v: run the tests with `make test`, which finds or builds kube-apiserver and etcd", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme := testenv.Scheme()
	mgr, err := ctrl.NewManager(cfg, testenv.ManagerOptions(env, scheme))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := controller.SetupWithManager(ctx, mgr, clock.RealClock{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	direct, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := samples.Read(filepath.Join(root, "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := direct.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.Obj), client.FieldOwner("metrics-test"), client.ForceOwnership); err != nil {
			t.Fatalf("apply %s %s: %v", o.Obj.GetKind(), o.Obj.GetName(), err)
		}
	}
	// A quantity the rules refuse: acme/vmr-users has 5 licenses assigned. Its order (New or
	// DecreaseQuantity, as the patch and the first order race) is rejected and stays in the cache,
	// and the plan is Ready False, OrderRejected.
	vmr := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: "vmr-users"}}
	if err := direct.Patch(ctx, vmr, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"quantity":4}}`))); err != nil {
		t.Fatal(err)
	}

	newCollector := func() prometheus.Collector { return metrics.NewCollector(mgr.GetClient(), mgr.Elected()) }
	var want []string
	var diff error
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if want, err = fromTheAPIServer(ctx, direct); err == nil {
			if diff = metrics.CompareOnce(t, newCollector, want); diff == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s, the plans have not settled (%v) or a scrape differs from the API server: %v", err, diff)
		}
	}
	if testing.Verbose() {
		reg := prometheus.NewRegistry()
		reg.MustRegister(newCollector())
		families, _ := reg.Gather()
		var b strings.Builder
		for _, f := range families {
			_, _ = expfmt.MetricFamilyToText(&b, f)
		}
		t.Logf("a scrape of the sample customers:\n%s", b.String())
	}
}

// fromTheAPIServer computes, from the API server, the sample lines a scrape should show, once
// every plan has settled: no order in flight but those waiting for a person.
func fromTheAPIServer(ctx context.Context, c client.Client) ([]string, error) {
	plans := &v1alpha1.CustomerLicensePlanList{}
	orders := &v1alpha1.LicenseOrderList{}
	profile := &v1alpha1.BillingProfile{}
	if err := c.List(ctx, plans); err != nil {
		return nil, err
	}
	if err := c.List(ctx, orders); err != nil {
		return nil, err
	}
	if err := c.Get(ctx, client.ObjectKey{Name: v1alpha1.DefaultBillingProfileName}, profile); err != nil {
		return nil, err
	}
	var want []string
	type plan struct{ currency, costCenter string }
	byPlan := map[string]plan{}
	for _, p := range plans.Items {
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
		if p.Status.ObservedGeneration != p.Generation || ready == nil || ready.Reason == v1alpha1.ReasonOrderPending {
			return nil, fmt.Errorf("plan %s/%s is not settled", p.Namespace, p.Name)
		}
		id := fmt.Sprintf(`namespace=%q,plan=%q`, p.Namespace, p.Name)
		costCenter := licensing.EffectiveCostCenter(p.Spec.CostCenter, &profile.Spec)
		currency := p.Status.Currency
		if currency == "" {
			currency = profile.Spec.Currency // never in force: the profile's currency
		}
		byPlan[p.Namespace+"/"+p.Name] = plan{currency, costCenter}
		want = append(want,
			fmt.Sprintf(`license_operator_plan_info{%s,customer=%q,product=%q,payment_plan=%q,cost_center=%q,currency=%q} 1`,
				id, p.Spec.Customer, p.Spec.Product, p.Status.PaymentPlan, costCenter, currency),
			fmt.Sprintf(`license_operator_plan_licenses{%s} %d`, id, p.Status.Licenses),
			fmt.Sprintf(`license_operator_plan_licenses_assigned{%s} %d`, id, p.Status.Usage.Assigned))
		if p.Status.RenewalDate != "" {
			want = append(want, fmt.Sprintf(`license_operator_plan_renewal_timestamp_seconds{%s,action=%q} %s`,
				id, p.Status.RenewalAction, metrics.Unix(string(p.Status.RenewalDate))))
		}
		for _, cond := range p.Status.Conditions {
			want = append(want, fmt.Sprintf(`license_operator_plan_status_condition{%s,condition=%q,status=%q,reason=%q} 1`,
				id, cond.Type, cond.Status, cond.Reason))
		}
	}
	// The orders not fulfilled, counted; and the ledger: the charges of the fulfilled orders,
	// summed in cents per currency and cost center of their plans.
	open := map[string]int{}
	ledger := map[plan]licensing.Money{}
	for _, o := range orders.Items {
		switch o.Status.State {
		case v1alpha1.OrderFulfilled:
			charge, err := licensing.ParseAmount(o.Status.Charge.Amount)
			if err != nil {
				return nil, err
			}
			ledger[byPlan[o.Namespace+"/"+o.Spec.Plan]] += charge
		case v1alpha1.OrderRejected, v1alpha1.OrderAwaitingApproval:
			open[fmt.Sprintf(`license_operator_orders{namespace=%q,change=%q,state=%q,reason=%q}`,
				o.Namespace, o.Spec.Change, o.Status.State, o.Status.Reason)]++
			if o.Status.State == v1alpha1.OrderAwaitingApproval {
				want = append(want, fmt.Sprintf(`license_operator_order_awaiting_approval_created_timestamp_seconds{namespace=%q,order=%q,plan=%q,change=%q} %d`,
					o.Namespace, o.Name, o.Spec.Plan, o.Spec.Change, o.CreationTimestamp.Unix()))
			}
		default:
			return nil, fmt.Errorf("order %s/%s is %q", o.Namespace, o.Name, o.Status.State)
		}
	}
	for series, n := range open {
		want = append(want, fmt.Sprintf("%s %d", series, n))
	}
	for p, total := range ledger {
		want = append(want, fmt.Sprintf(`license_operator_billed_amount_total{currency=%q,cost_center=%q} %s`, p.currency, p.costCenter, total))
	}
	return want, nil
}
