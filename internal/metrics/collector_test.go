package metrics

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/entitlement"
	verify "github.com/partnerops/license-operator/pkg/entitlement"
)

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// entitlementSecret is a namespace's entitlement Secret whose token, granting plans products,
// expires at exp.
func entitlementSecret(t *testing.T, ns string, plans int, exp time.Time) *corev1.Secret {
	t.Helper()
	key, err := entitlement.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := verify.Claims{Claims: jwt.Claims{Issuer: entitlement.DefaultIssuer, Expiry: jwt.NewNumericDate(exp)}, Namespace: ns}
	for i := range plans {
		c.Products = append(c.Products, verify.Product{Plan: fmt.Sprintf("plan-%d", i), Name: "eul", Licenses: 1})
	}
	token, err := entitlement.Sign(c, key)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.EntitlementSecret, Labels: map[string]string{v1alpha1.EntitlementLabel: v1alpha1.EntitlementLabelToken}},
		Type:       v1alpha1.EntitlementSecretType,
		Data:       map[string][]byte{v1alpha1.EntitlementTokenKey: []byte(token)},
	}
}

var profile = &v1alpha1.BillingProfile{
	ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultBillingProfileName},
	Spec: v1alpha1.BillingProfileSpec{
		Currency:          "EUR",
		CostCenters:       []v1alpha1.CostCenter{{Name: "sales-emea"}, {Name: "sales-nordics"}},
		DefaultCostCenter: "sales-nordics",
	},
}

func condition(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason}
}

// inForce is a plan with licenses in force for the term that ends on renews.
func inForce(ns, name, customer, product string, pp v1alpha1.PaymentPlan, costCenter string,
	licenses, assigned int32, termStart, renews v1alpha1.Date, action v1alpha1.RenewalAction, billed v1alpha1.Amount) *v1alpha1.CustomerLicensePlan {
	p := &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.CustomerLicensePlanSpec{Customer: customer, Product: product, Quantity: licenses,
			PaymentPlan: pp, CostCenter: costCenter},
		Status: v1alpha1.CustomerLicensePlanStatus{
			Licenses: licenses, Product: product, PaymentPlan: pp, Currency: "EUR",
			Term: &v1alpha1.Term{Start: termStart, End: renews}, RenewalDate: renews, RenewalAction: action,
			Usage:   v1alpha1.Usage{Assigned: assigned},
			Billing: &v1alpha1.BillingStatus{TotalBilled: billed},
			Conditions: []metav1.Condition{
				condition(v1alpha1.PlanReady, metav1.ConditionTrue, v1alpha1.ReasonInForce),
				condition(v1alpha1.PlanUsageCovered, metav1.ConditionTrue, v1alpha1.ReasonCovered),
			},
		},
	}
	if assigned > licenses {
		p.Status.Conditions[1] = condition(v1alpha1.PlanUsageCovered, metav1.ConditionFalse, v1alpha1.ReasonOverAssigned)
	}
	return p
}

func order(ns, plan string, revision int64, change v1alpha1.OrderChange, effective v1alpha1.Date,
	state v1alpha1.OrderState, reason string, created time.Time) *v1alpha1.LicenseOrder {
	return &v1alpha1.LicenseOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", plan, revision),
			CreationTimestamp: metav1.NewTime(created)},
		Spec:   v1alpha1.LicenseOrderSpec{Plan: plan, Revision: revision, Change: change, EffectiveDate: effective},
		Status: v1alpha1.LicenseOrderStatus{State: state, Reason: reason},
	}
}

// unix is the Unix time of a date's 00:00 UTC, as the exposition writes it.
func unix(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		panic(err)
	}
	return fmt.Sprint(t.Unix())
}

var created = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// The sample catalog's customers: acme's plans in force (one over-assigned, one set to expire),
// one just created; globex's plan whose renewal was refused; and their open and refused orders.
var partner = []client.Object{
	profile,
	inForce("acme", "vmr-users", "Acme Corporation", "enterprise-user-license", v1alpha1.Prepay3Y, "sales-emea",
		55, 4, "2026-11-01", "2029-11-01", v1alpha1.RenewalActionRenew, "10430.93"),
	inForce("acme", "byoc", "Acme Corporation", "byoc", v1alpha1.Monthly, "",
		10, 12, "2026-11-23", "2026-12-23", v1alpha1.RenewalActionExpire, "0.10"),
	&v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: "new-plan"},
		Spec:       v1alpha1.CustomerLicensePlanSpec{Customer: "Acme Corporation", Product: "byoc", Quantity: 3, PaymentPlan: v1alpha1.Monthly},
	},
	inForce("globex", "endpoints", "Globex Inc.", "endpoint-plus", v1alpha1.Prepay1Y, "sales-nordics",
		15, 0, "2026-11-23", "2027-11-23", v1alpha1.RenewalActionExpire, "0.20"),
	// A fulfilled order, which the operator's cache never holds, is not counted as open.
	order("acme", "vmr-users", 1, v1alpha1.ChangeNew, "2026-11-01", v1alpha1.OrderFulfilled, "", created),
	order("acme", "new-plan", 1, v1alpha1.ChangeNew, "2026-11-23", "", "", created),
	order("acme", "connect", 2, v1alpha1.ChangeIncreaseQuantity, "2026-11-20", v1alpha1.OrderAwaitingApproval, "", created),
	order("acme", "vmr-users", 3, v1alpha1.ChangeDecreaseQuantity, "2029-11-01", v1alpha1.OrderRejected, v1alpha1.ReasonUsageBelowMinimum, created),
	// The refused renewal of globex/endpoints' current term, and a later one closed because it was
	// no longer needed, which is no refusal.
	order("globex", "endpoints", 2, v1alpha1.ChangeRenewal, "2027-11-23", v1alpha1.OrderRejected, v1alpha1.ReasonRequirementNotMet, created),
	order("globex", "endpoints", 3, v1alpha1.ChangeRenewal, "2027-11-23", v1alpha1.OrderRejected, v1alpha1.ReasonSuperseded, created),
	// A refused renewal of a plan that renews again: its refusal no longer holds.
	order("acme", "vmr-users", 2, v1alpha1.ChangeRenewal, "2029-11-01", v1alpha1.OrderRejected, v1alpha1.ReasonRequirementNotMet, created),
}

func TestCollector(t *testing.T) {
	closed := make(chan struct{})
	close(closed)
	failPlans := interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if _, ok := list.(*v1alpha1.CustomerLicensePlanList); ok {
			return errors.New("the cache is not started")
		}
		return c.List(ctx, list, opts...)
	}}
	for _, tc := range []struct {
		name    string
		objects []client.Object
		elected <-chan struct{}
		funcs   *interceptor.Funcs
		want    []string // sample lines of the exposition
	}{
		{
			name:    "a partner's plans and orders",
			objects: partner,
			elected: closed,
			want: []string{
				`license_operator_plan_info{namespace="acme",plan="vmr-users",customer="Acme Corporation",product="enterprise-user-license",payment_plan="Prepay3Y",cost_center="sales-emea",currency="EUR"} 1`,
				`license_operator_plan_info{namespace="acme",plan="byoc",customer="Acme Corporation",product="byoc",payment_plan="Monthly",cost_center="sales-nordics",currency="EUR"} 1`,
				`license_operator_plan_info{namespace="acme",plan="new-plan",customer="Acme Corporation",product="byoc",payment_plan="",cost_center="sales-nordics",currency="EUR"} 1`,
				`license_operator_plan_info{namespace="globex",plan="endpoints",customer="Globex Inc.",product="endpoint-plus",payment_plan="Prepay1Y",cost_center="sales-nordics",currency="EUR"} 1`,
				`license_operator_plan_licenses{namespace="acme",plan="vmr-users"} 55`,
				`license_operator_plan_licenses{namespace="acme",plan="byoc"} 10`,
				`license_operator_plan_licenses{namespace="acme",plan="new-plan"} 0`,
				`license_operator_plan_licenses{namespace="globex",plan="endpoints"} 15`,
				`license_operator_plan_licenses_assigned{namespace="acme",plan="vmr-users"} 4`,
				`license_operator_plan_licenses_assigned{namespace="acme",plan="byoc"} 12`,
				`license_operator_plan_licenses_assigned{namespace="acme",plan="new-plan"} 0`,
				`license_operator_plan_licenses_assigned{namespace="globex",plan="endpoints"} 0`,
				`license_operator_plan_renewal_timestamp_seconds{namespace="acme",plan="vmr-users",action="Renew"} ` + unix("2029-11-01"),
				`license_operator_plan_renewal_timestamp_seconds{namespace="acme",plan="byoc",action="Expire"} ` + unix("2026-12-23"),
				`license_operator_plan_renewal_timestamp_seconds{namespace="globex",plan="endpoints",action="Expire"} ` + unix("2027-11-23"),
				`license_operator_plan_status_condition{namespace="acme",plan="vmr-users",condition="Ready",status="True",reason="InForce"} 1`,
				`license_operator_plan_status_condition{namespace="acme",plan="vmr-users",condition="UsageCovered",status="True",reason="Covered"} 1`,
				`license_operator_plan_status_condition{namespace="acme",plan="byoc",condition="Ready",status="True",reason="InForce"} 1`,
				`license_operator_plan_status_condition{namespace="acme",plan="byoc",condition="UsageCovered",status="False",reason="OverAssigned"} 1`,
				`license_operator_plan_status_condition{namespace="acme",plan="new-plan",condition="Ready",status="Unknown",reason=""} 1`,
				`license_operator_plan_status_condition{namespace="globex",plan="endpoints",condition="Ready",status="True",reason="InForce"} 1`,
				`license_operator_plan_status_condition{namespace="globex",plan="endpoints",condition="UsageCovered",status="True",reason="Covered"} 1`,
				`license_operator_plan_renewal_refused{namespace="globex",plan="endpoints",order="endpoints-2",reason="RequirementNotMet"} 1`,
				`license_operator_orders{namespace="acme",change="New",state="Pending",reason=""} 1`,
				`license_operator_orders{namespace="acme",change="IncreaseQuantity",state="AwaitingApproval",reason=""} 1`,
				`license_operator_orders{namespace="acme",change="DecreaseQuantity",state="Rejected",reason="UsageBelowMinimum"} 1`,
				`license_operator_orders{namespace="acme",change="Renewal",state="Rejected",reason="RequirementNotMet"} 1`,
				`license_operator_orders{namespace="globex",change="Renewal",state="Rejected",reason="RequirementNotMet"} 1`,
				`license_operator_orders{namespace="globex",change="Renewal",state="Rejected",reason="Superseded"} 1`,
				fmt.Sprintf(`license_operator_order_awaiting_approval_created_timestamp_seconds{namespace="acme",order="connect-2",plan="connect",change="IncreaseQuantity"} %d`, created.Unix()),
				// 0.10 + 0.20 summed in cents: exactly 0.3, not 0.30000000000000004.
				`license_operator_billed_amount_total{currency="EUR",cost_center="sales-emea"} 10430.93`,
				`license_operator_billed_amount_total{currency="EUR",cost_center="sales-nordics"} 0.3`,
			},
		},
		{
			name: "without a BillingProfile, a plan naming no cost center is billed to none, in EUR",
			objects: []client.Object{
				&v1alpha1.CustomerLicensePlan{
					ObjectMeta: metav1.ObjectMeta{Namespace: "initech", Name: "pcc"},
					Spec:       v1alpha1.CustomerLicensePlanSpec{Customer: "Initech AB", Product: "pcc-user", Quantity: 3, PaymentPlan: v1alpha1.OneTime},
					Status: v1alpha1.CustomerLicensePlanStatus{Licenses: 3, PaymentPlan: v1alpha1.OneTime, RenewalAction: v1alpha1.RenewalActionNone,
						Billing:    &v1alpha1.BillingStatus{TotalBilled: "30"},
						Conditions: []metav1.Condition{condition(v1alpha1.PlanReady, metav1.ConditionTrue, v1alpha1.ReasonInForce)}},
				},
			},
			want: []string{
				`license_operator_plan_info{namespace="initech",plan="pcc",customer="Initech AB",product="pcc-user",payment_plan="OneTime",cost_center="",currency="EUR"} 1`,
				`license_operator_plan_licenses{namespace="initech",plan="pcc"} 3`,
				`license_operator_plan_licenses_assigned{namespace="initech",plan="pcc"} 0`,
				`license_operator_plan_status_condition{namespace="initech",plan="pcc",condition="Ready",status="True",reason="InForce"} 1`,
				`license_operator_billed_amount_total{currency="EUR",cost_center=""} 30`,
			},
		},
		{
			name: "a plan billed in EUR and then USD counts in each currency, never one added to the other",
			objects: func() []client.Object {
				switched := inForce("acme", "eul", "Acme", "eul", v1alpha1.Monthly, "sales-emea", 1, 0, "2026-11-01", "2026-12-01", v1alpha1.RenewalActionRenew, "")
				switched.Status.Currency = "USD"
				switched.Status.Billing.TotalsBilled = []v1alpha1.CurrencyAmount{{Currency: "EUR", Amount: "100.00"}, {Currency: "USD", Amount: "50.00"}}
				stored := inForce("acme", "old", "Acme", "eul", v1alpha1.Monthly, "sales-emea", 1, 0, "2026-11-01", "2026-12-01", v1alpha1.RenewalActionRenew, "20.00")
				return []client.Object{profile, switched, stored}
			}(),
			want: []string{
				`license_operator_plan_info{namespace="acme",plan="eul",customer="Acme",product="eul",payment_plan="Monthly",cost_center="sales-emea",currency="USD"} 1`,
				`license_operator_plan_info{namespace="acme",plan="old",customer="Acme",product="eul",payment_plan="Monthly",cost_center="sales-emea",currency="EUR"} 1`,
				`license_operator_plan_licenses{namespace="acme",plan="eul"} 1`,
				`license_operator_plan_licenses{namespace="acme",plan="old"} 1`,
				`license_operator_plan_licenses_assigned{namespace="acme",plan="eul"} 0`,
				`license_operator_plan_licenses_assigned{namespace="acme",plan="old"} 0`,
				`license_operator_plan_renewal_timestamp_seconds{namespace="acme",plan="eul",action="Renew"} ` + unix("2026-12-01"),
				`license_operator_plan_renewal_timestamp_seconds{namespace="acme",plan="old",action="Renew"} ` + unix("2026-12-01"),
				`license_operator_plan_status_condition{namespace="acme",plan="eul",condition="Ready",status="True",reason="InForce"} 1`,
				`license_operator_plan_status_condition{namespace="acme",plan="eul",condition="UsageCovered",status="True",reason="Covered"} 1`,
				`license_operator_plan_status_condition{namespace="acme",plan="old",condition="Ready",status="True",reason="InForce"} 1`,
				`license_operator_plan_status_condition{namespace="acme",plan="old",condition="UsageCovered",status="True",reason="Covered"} 1`,
				`license_operator_billed_amount_total{currency="EUR",cost_center="sales-emea"} 120`,
				`license_operator_billed_amount_total{currency="USD",cost_center="sales-emea"} 50`,
			},
		},
		{
			name: "the expiry of each namespace's entitlement",
			objects: []client.Object{
				entitlementSecret(t, "acme", 2, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)),
				entitlementSecret(t, "gone", 0, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)),
				// Another Secret of the same label and a token edited by hand export nothing.
				func() client.Object {
					s := entitlementSecret(t, "acme", 1, time.Now())
					s.Name = "other"
					return s
				}(),
				func() client.Object {
					s := entitlementSecret(t, "hooli", 1, time.Now())
					s.Data[v1alpha1.EntitlementTokenKey] = []byte("edited")
					return s
				}(),
			},
			elected: closed,
			want: []string{
				fmt.Sprintf(`license_operator_entitlement_expiry_timestamp_seconds{namespace="acme"} %d`, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Unix()),
				fmt.Sprintf(`license_operator_entitlement_expiry_timestamp_seconds{namespace="gone"} %d`, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Unix()),
			},
		},
		{
			name:    "a replica that does not lead exports nothing",
			objects: partner,
			elected: make(chan struct{}),
		},
		{
			name:    "a failed read leaves out what depends on it, and is counted",
			objects: partner,
			funcs:   &failPlans,
			want: []string{
				`license_operator_orders{namespace="acme",change="New",state="Pending",reason=""} 1`,
				`license_operator_orders{namespace="acme",change="IncreaseQuantity",state="AwaitingApproval",reason=""} 1`,
				`license_operator_orders{namespace="acme",change="DecreaseQuantity",state="Rejected",reason="UsageBelowMinimum"} 1`,
				`license_operator_orders{namespace="acme",change="Renewal",state="Rejected",reason="RequirementNotMet"} 1`,
				`license_operator_orders{namespace="globex",change="Renewal",state="Rejected",reason="RequirementNotMet"} 1`,
				`license_operator_orders{namespace="globex",change="Renewal",state="Rejected",reason="Superseded"} 1`,
				fmt.Sprintf(`license_operator_order_awaiting_approval_created_timestamp_seconds{namespace="acme",order="connect-2",plan="connect",change="IncreaseQuantity"} %d`, created.Unix()),
				`license_operator_collector_list_errors_total{resource="customerlicenseplans"} 1`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(tc.objects...)
			if tc.funcs != nil {
				b = b.WithInterceptorFuncs(*tc.funcs)
			}
			reader := b.Build()
			compare(t, func() prometheus.Collector { return NewCollector(reader, tc.elected) }, tc.want)
		})
	}
}

// compare checks that a scrape of a collector newCollector returns exposes exactly the sample
// lines want of the operator's metrics.
func compare(t *testing.T, newCollector func() prometheus.Collector, want []string) {
	t.Helper()
	if err := compareOnce(t, newCollector, want); err != nil {
		t.Error(err)
	}
}

// compareOnce returns how a scrape of a collector newCollector returns differs from want.
func compareOnce(t *testing.T, newCollector func() prometheus.Collector, want []string) error {
	t.Helper()
	expected, err := exposition(t, newCollector(), want)
	if err != nil {
		return err
	}
	return testutil.CollectAndCompare(newCollector(), strings.NewReader(expected), allNames...)
}

// exposition writes sample lines as the text exposition format, with the HELP and TYPE lines of
// their families as c describes them (c is scraped once for them). The lines may name labels in
// the collector's order (namespace, plan first); they are written sorted, as a registry writes them.
func exposition(t *testing.T, c prometheus.Collector, samples []string) (string, error) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	header := map[string]string{}
	for _, f := range families {
		header[f.GetName()] = fmt.Sprintf("# HELP %s %s\n# TYPE %s %s\n", f.GetName(), f.GetHelp(), f.GetName(), strings.ToLower(f.GetType().String()))
	}
	var text strings.Builder
	seen := map[string]bool{}
	for _, s := range samples {
		name := s[:strings.IndexAny(s, "{ ")]
		h, ok := header[name]
		if !ok {
			return "", fmt.Errorf("the collector exports no %s at all", name)
		}
		if !seen[name] {
			seen[name] = true
			text.WriteString(h)
		}
		text.WriteString(s + "\n")
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(strings.NewReader(text.String()))
	if err != nil {
		t.Fatalf("the expected samples: %v", err)
	}
	names := make([]string, 0, len(parsed))
	for n := range parsed {
		names = append(names, n)
	}
	sort.Strings(names)
	var out strings.Builder
	for _, n := range names {
		for _, m := range parsed[n].Metric {
			sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
		}
		if _, err := expfmt.MetricFamilyToText(&out, parsed[n]); err != nil {
			t.Fatal(err)
		}
	}
	return out.String(), nil
}

func TestOrderClosed(t *testing.T) {
	ordersClosed.Reset()
	t.Cleanup(ordersClosed.Reset)
	OrderClosed(order("acme", "vmr-users", 1, v1alpha1.ChangeNew, "2026-11-01", v1alpha1.OrderFulfilled, "", created))
	OrderClosed(order("acme", "vmr-users", 2, v1alpha1.ChangeIncreaseQuantity, "2026-11-02", v1alpha1.OrderFulfilled, "", created))
	OrderClosed(order("acme", "vmr-users", 3, v1alpha1.ChangeDecreaseQuantity, "2029-11-01", v1alpha1.OrderRejected, v1alpha1.ReasonUsageBelowMinimum, created))
	OrderClosed(order("acme", "vmr-users", 4, v1alpha1.ChangeDecreaseQuantity, "2029-11-01", v1alpha1.OrderAwaitingApproval, "", created))
	OrderClosed(order("acme", "vmr-users", 5, v1alpha1.ChangeDecreaseQuantity, "2029-11-01", "", "", created))
	compare(t, func() prometheus.Collector { return ordersClosed }, []string{
		`license_operator_orders_closed_total{change="New",state="Fulfilled",reason=""} 1`,
		`license_operator_orders_closed_total{change="IncreaseQuantity",state="Fulfilled",reason=""} 1`,
		`license_operator_orders_closed_total{change="DecreaseQuantity",state="Rejected",reason="UsageBelowMinimum"} 1`,
	})
}

func TestNotice(t *testing.T) {
	notices.Reset()
	t.Cleanup(notices.Reset)
	Notice("mail", v1alpha1.NoticeOrderFulfilled, false)
	Notice("mail", v1alpha1.NoticeOrderFulfilled, false)
	Notice("hooks", v1alpha1.NoticeRenewalComing, true)
	compare(t, func() prometheus.Collector { return notices }, []string{
		// The first attempt creates the series of the other result at 0: increase() sees its first count.
		`license_operator_notices_total{sink="mail",event="OrderFulfilled",result="Failed"} 2`,
		`license_operator_notices_total{sink="mail",event="OrderFulfilled",result="Delivered"} 0`,
		`license_operator_notices_total{sink="hooks",event="RenewalComing",result="Delivered"} 1`,
		`license_operator_notices_total{sink="hooks",event="RenewalComing",result="Failed"} 0`,
	})
	Notice("mail", v1alpha1.NoticeOrderFulfilled, true)
	compare(t, func() prometheus.Collector { return notices }, []string{
		`license_operator_notices_total{sink="mail",event="OrderFulfilled",result="Failed"} 2`,
		`license_operator_notices_total{sink="mail",event="OrderFulfilled",result="Delivered"} 1`,
		`license_operator_notices_total{sink="hooks",event="RenewalComing",result="Delivered"} 1`,
		`license_operator_notices_total{sink="hooks",event="RenewalComing",result="Failed"} 0`,
	})
}

func TestRegister(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reader := fake.NewClientBuilder().WithScheme(testScheme(t)).Build()
	if err := register(reg, reader, nil); err != nil {
		t.Fatalf("first registration: %v", err)
	}
	err := register(reg, reader, nil)
	if !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
		t.Errorf("a second collector on the same registry: got %v, want it refused as already registered", err)
	}
}
