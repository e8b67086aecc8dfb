package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/entitlement"
	"github.com/partnerops/license-operator/internal/licensing"
)

// listTimeout bounds the cache reads of one scrape. Reads from a synced cache return at once; the
// bound matters only while the cache is starting, when a scrape should answer without these series
// rather than hang.
const listTimeout = 5 * time.Second

// Collector computes the operator's plan and order series at each scrape, from a client.Reader:
// the manager's cached client, so that a scrape reads the informer cache and costs the API server
// nothing.
type Collector struct {
	reader client.Reader
	// elected is closed once this replica leads (at once when leader election is off); until then
	// the collector exports nothing, so that sums over replicas count every plan once.
	elected <-chan struct{}
	// listErrors counts the cache reads that failed; their series are left out of that scrape.
	listErrors *prometheus.CounterVec
}

// NewCollector returns a Collector that reads plans, orders and the BillingProfile through reader
// and exports them once elected is closed; a nil elected exports at once.
func NewCollector(reader client.Reader, elected <-chan struct{}) *Collector {
	return &Collector{
		reader:  reader,
		elected: elected,
		listErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: CollectorListErrorsTotal,
			Help: "Reads of the informer cache that failed during a scrape, by resource; the series computed from that resource are missing from that scrape.",
		}, []string{"resource"}),
	}
}

// Describe sends the descriptors of every series the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{planInfoDesc, planLicensesDesc, planAssignedDesc, planRenewalDesc,
		planConditionDesc, planRenewalRefusedDesc, ordersDesc, orderAwaitingDesc, billedDesc, entitlementExpiryDesc} {
		ch <- d
	}
	c.listErrors.Describe(ch)
}

// Collect reads the cache and sends the series of every plan and open order, and the aggregates.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	defer c.listErrors.Collect(ch)
	if !c.leading() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	c.read(ctx).collect(ch)
}

// leading reports whether this replica is the elected leader.
func (c *Collector) leading() bool {
	if c.elected == nil {
		return true
	}
	select {
	case <-c.elected:
		return true
	default:
		return false
	}
}

// snapshot is what one scrape read from the cache. A resource whose read failed is marked unread,
// and the series that depend on it are left out.
type snapshot struct {
	plans       []v1alpha1.CustomerLicensePlan
	orders      []v1alpha1.LicenseOrder
	profile     *v1alpha1.BillingProfileSpec
	secrets     []corev1.Secret
	plansRead   bool
	ordersRead  bool
	profileRead bool
}

// read lists plans and orders and gets the BillingProfile. The lists share the cache's objects
// rather than copying them (UnsafeDisableDeepCopy), so that a scrape allocates little however many
// plans there are: nothing here may change them.
func (c *Collector) read(ctx context.Context) snapshot {
	var s snapshot
	plans := &v1alpha1.CustomerLicensePlanList{}
	if err := c.reader.List(ctx, plans, client.UnsafeDisableDeepCopy); err != nil {
		c.listErrors.WithLabelValues("customerlicenseplans").Inc()
	} else {
		s.plans, s.plansRead = plans.Items, true
	}
	orders := &v1alpha1.LicenseOrderList{}
	if err := c.reader.List(ctx, orders, client.UnsafeDisableDeepCopy); err != nil {
		c.listErrors.WithLabelValues("licenseorders").Inc()
	} else {
		s.orders, s.ordersRead = orders.Items, true
	}
	secrets := &corev1.SecretList{}
	if err := c.reader.List(ctx, secrets, client.MatchingLabels{v1alpha1.EntitlementLabel: v1alpha1.EntitlementLabelToken}, client.UnsafeDisableDeepCopy); err != nil {
		c.listErrors.WithLabelValues("secrets").Inc()
	} else {
		s.secrets = secrets.Items
	}
	profile := &v1alpha1.BillingProfile{}
	switch err := c.reader.Get(ctx, client.ObjectKey{Name: v1alpha1.DefaultBillingProfileName}, profile); {
	case apierrors.IsNotFound(err):
		s.profileRead = true // the operator works without a profile: no default cost center
	case err != nil:
		c.listErrors.WithLabelValues("billingprofiles").Inc()
	default:
		s.profile, s.profileRead = &profile.Spec, true
	}
	return s
}

// collect sends the series of the snapshot.
func (s snapshot) collect(ch chan<- prometheus.Metric) {
	if s.plansRead {
		for i := range s.plans {
			s.collectPlan(ch, &s.plans[i])
		}
		if s.profileRead {
			s.collectBilled(ch)
		}
	}
	s.collectEntitlements(ch)
	if s.ordersRead {
		s.collectOrders(ch)
		if s.plansRead {
			s.collectRefusedRenewals(ch)
		}
	}
}

// collectPlan sends the series of one plan.
func (s snapshot) collectPlan(ch chan<- prometheus.Metric, p *v1alpha1.CustomerLicensePlan) {
	ns, name, st := p.Namespace, p.Name, &p.Status
	if s.profileRead {
		ch <- gauge(planInfoDesc, 1, ns, name, p.Spec.Customer, p.Spec.Product, string(st.PaymentPlan),
			s.costCenter(p), s.currency(p))
	}
	ch <- gauge(planLicensesDesc, float64(st.Licenses), ns, name)
	ch <- gauge(planAssignedDesc, float64(st.Usage.Assigned), ns, name)
	if day, err := licensing.ParseDate(st.RenewalDate); err == nil {
		action := st.RenewalAction
		if action == "" {
			action = v1alpha1.RenewalActionNone
		}
		ch <- gauge(planRenewalDesc, float64(day.Unix()), ns, name, string(action))
	}
	ready := false
	for _, c := range st.Conditions {
		ready = ready || c.Type == v1alpha1.PlanReady
		ch <- gauge(planConditionDesc, 1, ns, name, c.Type, string(c.Status), c.Reason)
	}
	if !ready {
		ch <- gauge(planConditionDesc, 1, ns, name, v1alpha1.PlanReady, "Unknown", "")
	}
	// A trial's end is its renewal date, and its payment plan in force (plan_info) is Trial: the
	// rule LicensePlanTrialEndingSoon joins the two.
}

// collectBilled sends the amounts billed, summed per currency and cost center in minor units and
// converted to units of currency only when sent.
func (s snapshot) collectBilled(ch chan<- prometheus.Metric) {
	type key struct{ currency, costCenter string }
	totals := map[key]licensing.Money{}
	overflow := map[key]struct{}{}
	for i := range s.plans {
		p := &s.plans[i]
		billed, err := licensing.BilledTotals(p.Status.Billing, s.currency(p))
		if err != nil {
			continue // the API's pattern admits no such amount
		}
		// One total per currency the plan was billed in: amounts of two currencies are never added.
		for _, t := range billed {
			m, _ := licensing.ParseAmount(t.Amount) // BilledTotals parsed it
			k := key{t.Currency, s.costCenter(p)}
			if _, gone := overflow[k]; gone {
				continue
			}
			sum, err := licensing.Add(totals[k], m)
			if err != nil {
				// Beyond the largest amount: the series is left out rather than exported wrong.
				overflow[k] = struct{}{}
				delete(totals, k)
				continue
			}
			totals[k] = sum
		}
	}
	for k, total := range totals {
		ch <- prometheus.MustNewConstMetric(billedDesc, prometheus.CounterValue, units(total), k.currency, k.costCenter)
	}
}

// units converts an amount in minor units to units of currency, for export only.
func units(m licensing.Money) float64 {
	return float64(m) / 100
}

// collectOrders sends the count of orders by namespace, change, state and reason, and one series
// per order that waits for approval.
func (s snapshot) collectOrders(ch chan<- prometheus.Metric) {
	type key struct{ namespace, change, state, reason string }
	counts := map[key]int{}
	for i := range s.orders {
		o := &s.orders[i]
		state := o.Status.State
		if state == "" {
			state = v1alpha1.OrderPending // placed, its status not written yet
		}
		if state == v1alpha1.OrderFulfilled {
			continue // the cache holds none; a reader that does must not count them as open
		}
		counts[key{o.Namespace, string(o.Spec.Change), string(state), o.Status.Reason}]++
		if state == v1alpha1.OrderAwaitingApproval {
			ch <- gauge(orderAwaitingDesc, float64(o.CreationTimestamp.Unix()), o.Namespace, o.Name, o.Spec.Plan, string(o.Spec.Change))
		}
	}
	for k, n := range counts {
		ch <- gauge(ordersDesc, float64(n), k.namespace, k.change, k.state, k.reason)
	}
}

// collectRefusedRenewals sends, for each plan whose current term's renewal was refused and which
// therefore expires at the term end, the latest refused Renewal order.
func (s snapshot) collectRefusedRenewals(ch chan<- prometheus.Metric) {
	plans := make(map[types.NamespacedName]*v1alpha1.CustomerLicensePlan, len(s.plans))
	for i := range s.plans {
		plans[types.NamespacedName{Namespace: s.plans[i].Namespace, Name: s.plans[i].Name}] = &s.plans[i]
	}
	refused := map[types.NamespacedName]*v1alpha1.LicenseOrder{}
	for i := range s.orders {
		o := &s.orders[i]
		key := types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.Plan}
		p := plans[key]
		if p == nil || p.Status.RenewalAction != v1alpha1.RenewalActionExpire || !licensing.RefusedRenewal(o, p.Status) {
			continue
		}
		if prev := refused[key]; prev == nil || prev.Spec.Revision < o.Spec.Revision {
			refused[key] = o
		}
	}
	for key, o := range refused {
		ch <- gauge(planRenewalRefusedDesc, 1, key.Namespace, key.Name, o.Name, o.Status.Reason)
	}
}

// collectEntitlements sends the expiry of each namespace's entitlement; a token that cannot be
// read (edited by hand, and about to be restored) sends none.
func (s snapshot) collectEntitlements(ch chan<- prometheus.Metric) {
	for i := range s.secrets {
		sec := &s.secrets[i]
		if sec.Name != v1alpha1.EntitlementSecret {
			continue
		}
		_, c, err := entitlement.Unverified(string(sec.Data[v1alpha1.EntitlementTokenKey]))
		if err != nil || c.Expiry == nil {
			continue
		}
		ch <- gauge(entitlementExpiryDesc, float64(c.Expiry.Time().Unix()), sec.Namespace)
	}
}

// costCenter is the cost center the plan is billed to: its own, or the profile's default.
func (s snapshot) costCenter(p *v1alpha1.CustomerLicensePlan) string {
	return licensing.EffectiveCostCenter(p.Spec.CostCenter, s.profile)
}

// currency is the currency of the plan's amounts: the one in force, or, before any, the profile's.
func (s snapshot) currency(p *v1alpha1.CustomerLicensePlan) string {
	if p.Status.Currency != "" {
		return p.Status.Currency
	}
	return licensing.Currency(s.profile)
}

func gauge(desc *prometheus.Desc, value float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, value, labels...)
}
