package licensing

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The plan-life model: an in-memory cluster (plans, orders, the catalog, the BillingProfile and
// assignments, as the API server stores them) driven by the same pure functions the controllers
// and the admission webhooks call, in the order they call them, with no API server. Every action
// of a purchaser, an approver, finance or the clock is followed by reconciling to a fixpoint and
// by the invariants of model_invariants (each computed by model_oracle_test.go, never by the
// code under test).

// modelStartAheadDays is how far ahead of the day a plan is ordered its start date may lie before
// the days in between count as free licenses: a partner expects to book a plan up to a quarter
// ahead.
const modelStartAheadDays = 31

// modelMaxPasses bounds the passes of one reconcile to a fixpoint; a plan that still changes
// after them loops.
const modelMaxPasses = 300

// modelMaxWakes bounds the wake-ups of the controllers over one move of the clock.
const modelMaxWakes = 400

// reporter is what the model reports to: a rapid.T or a testing.T.
type reporter interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// mInstance is the model's own ledger of one plan instance (one UID): what was asked of it and
// what its fulfilled orders paid for, computed by the oracle.
type mInstance struct {
	uid     types.UID
	name    string
	changes int // accepted creates and edits of product, quantity or payment plan
	events  int // every other event of its life that may place or close an order
	// The oracle's state of the plan, from its fulfilled orders in turn.
	anchor    int
	startDate oDate
	hasStart  bool
	expired   bool
	paid      []span // days charged by an order
	exempt    []span // days from ordering to a start date within modelStartAheadDays
	trial     []span // days of trials, from the day each was in force
	inForce   []mInForce
	lastRenew int64 // effective day of the last fulfilled Renewal
}

// mInForce is a run of days the plan had licenses in force.
type mInForce struct {
	span
	trial bool
}

// mFulfilment is what the order reconciler saw when it fulfilled an order.
type mFulfilment struct {
	pre     v1alpha1.CustomerLicensePlanStatus
	spec    v1alpha1.CustomerLicensePlanSpec
	profile *v1alpha1.BillingProfileSpec
	price   int64
	priceOK bool
}

// mQuote is what admission previewed for a change of a plan's spec.
type mQuote struct {
	plan   string
	uid    types.UID
	due    Due
	before map[string]bool
	lines  []string
	// inFlight names an order of the plan that was open when the change was made.
	inFlight string
	// refused names the plan's latest order when a rule or a person refused it.
	refused string
	// waitsFor names the open order the preview said the orders due wait for (WaitsFor).
	waitsFor string
}

// cluster is the model's API server and controllers.
type cluster struct {
	t        reporter
	now      time.Time
	products map[string]*v1alpha1.LicenseProductSpec
	profile  *v1alpha1.BillingProfileSpec
	plans    map[string]*v1alpha1.CustomerLicensePlan
	orders   map[string]*v1alpha1.LicenseOrder
	assigned map[string]int32
	// refuseOverLicensed: the namespace asks admission to refuse an assignment no license covers
	// (licensing.partnerops.io/over-licensed-assignments=Refuse); by default it is admitted.
	refuseOverLicensed bool

	// Bookkeeping of the model, not visible to the operator.
	orderInst   map[string]types.UID
	placedPrice map[string]int64
	insts       map[types.UID]*mInstance
	instOrder   []types.UID
	uidSeq      int
	approvedAt  map[string]v1alpha1.Amount // orders a person approved, at the charge they saw
	// autoApproved holds the BillingProfile under which an order was approved automatically.
	autoApproved map[string]*v1alpha1.BillingProfileSpec
	quotedLater  map[string]int64 // charges quoted for orders fulfilled later
	log          []string

	// In-memory state of the controllers, lost on a restart.
	probes map[string]bool
	wakes  map[string]time.Time
	prior  map[string]mPrior

	// refused holds the writes the API server refuses on every retry, by plan or order.
	refused map[string]string

	// crashAfter makes the process die right after the create of the order of that name succeeds
	// ("*": of the next order placed), before the plan's status is written.
	crashAfter string
	// failStatus makes the next write of a plan's status fail once, as a conflict or a timeout does.
	failStatus bool
	// failStatusWith makes the status write of the pass that places the order of that name fail once.
	failStatusWith string

	// discard, when set, may discard a life whose failure is a known one (LICENSE_MODEL_MASK).
	discard    func(msg string)
	failPrefix string
}

func modelCatalog() map[string]*v1alpha1.LicenseProductSpec {
	price := func(pp v1alpha1.PaymentPlan, a v1alpha1.Amount) v1alpha1.Price {
		return v1alpha1.Price{PaymentPlan: pp, PricePerLicense: a}
	}
	return map[string]*v1alpha1.LicenseProductSpec{
		// A family with a cheaper and a dearer product, trials, and a RenewalOnly product.
		"ess": {SKU: "PXC-ESS", DisplayName: "Essentials", Family: "Connect", Unit: "ConcurrentCall", Availability: v1alpha1.Orderable,
			Prices: []v1alpha1.Price{price(v1alpha1.Monthly, "18.00"), price(v1alpha1.Prepay1Y, "198.00"), price(v1alpha1.Prepay3Y, "570.00")},
			Trial:  &v1alpha1.TrialOffer{Days: 30, MaxLicenses: 10}},
		"std": {SKU: "PXC-STD", DisplayName: "Standard", Family: "Connect", Unit: "ConcurrentCall", Availability: v1alpha1.Orderable,
			Prices: []v1alpha1.Price{price(v1alpha1.Monthly, "30.00"), price(v1alpha1.Prepay1Y, "330.00"), price(v1alpha1.Prepay3Y, "954.00")},
			Trial:  &v1alpha1.TrialOffer{Days: 30, MaxLicenses: 10}},
		"legacy": {SKU: "PXC-ERC", DisplayName: "Legacy", Family: "Connect", Unit: "ConcurrentCall", Availability: v1alpha1.RenewalOnly,
			Prices: []v1alpha1.Price{price(v1alpha1.Monthly, "20.00"), price(v1alpha1.Prepay1Y, "220.00")}},
		// A product with Monthly and OneTime prices, and a one-time product.
		"kit": {SKU: "PXR-KIT", DisplayName: "Room kit", Family: "Room", Unit: "Room", Availability: v1alpha1.Orderable,
			Prices: []v1alpha1.Price{price(v1alpha1.Monthly, "25.00"), price(v1alpha1.OneTime, "900.00")}},
		"install": {SKU: "PXS-INST", DisplayName: "Installation", Family: "Service", Unit: "Organization", Availability: v1alpha1.Orderable,
			Prices: []v1alpha1.Price{price(v1alpha1.OneTime, "500.00")}},
		// A product that requires another.
		"byoc": {SKU: "PXD-BYOC", DisplayName: "BYOC", Family: "Domain", Unit: "Endpoint", Availability: v1alpha1.Orderable,
			Prices:   []v1alpha1.Price{price(v1alpha1.Monthly, "3.00"), price(v1alpha1.Prepay1Y, "33.00")},
			Requires: []v1alpha1.Requirement{{AnyOf: []string{"ess", "std", "legacy"}, Quantity: v1alpha1.RequireAtMost}}},
	}
}

func modelProfile() *v1alpha1.BillingProfileSpec {
	return &v1alpha1.BillingProfileSpec{Currency: "EUR",
		CostCenters:       []v1alpha1.CostCenter{{Name: "ops"}, {Name: "sales"}},
		DefaultCostCenter: "ops",
		Approval:          v1alpha1.ApprovalPolicy{Mode: v1alpha1.AutomaticApproval, ManualAbove: "5000.00"}}
}

func newCluster(t reporter, now time.Time) *cluster {
	return &cluster{t: t, now: now, products: modelCatalog(), profile: modelProfile(),
		plans: map[string]*v1alpha1.CustomerLicensePlan{}, orders: map[string]*v1alpha1.LicenseOrder{},
		assigned: map[string]int32{}, orderInst: map[string]types.UID{}, placedPrice: map[string]int64{},
		insts: map[types.UID]*mInstance{}, approvedAt: map[string]v1alpha1.Amount{}, autoApproved: map[string]*v1alpha1.BillingProfileSpec{}, quotedLater: map[string]int64{},
		probes: map[string]bool{}, prior: map[string]mPrior{}, wakes: map[string]time.Time{}, refused: map[string]string{}}
}

func (c *cluster) fail(format string, args ...any) {
	c.t.Helper()
	msg := c.failPrefix + fmt.Sprintf(format, args...)
	for _, n := range c.planNames() {
		for _, o := range c.ordersOf(n) {
			if c.orderInst[o.Name] != c.plans[n].UID {
				msg = "(plan " + n + " was declared again under the name of a deleted plan) " + msg
				break
			}
		}
	}
	if c.discard != nil {
		c.discard(msg)
	}
	c.t.Fatalf("%s\nstate:\n%s", msg, c.dump())
}

func (c *cluster) note(format string, args ...any) {
	s := fmt.Sprintf("%s  ", c.now.Format("2006-01-02T15:04")) + fmt.Sprintf(format, args...)
	c.log = append(c.log, s)
	c.t.Logf("%s", s)
}

func (c *cluster) dump() string {
	var b strings.Builder
	for _, name := range c.planNames() {
		p := c.plans[name]
		st := p.Status
		ready := meta.FindStatusCondition(st.Conditions, v1alpha1.PlanReady)
		rs := "<no Ready>"
		if ready != nil {
			rs = fmt.Sprintf("Ready=%s %s: %s", ready.Status, ready.Reason, ready.Message)
		}
		total := ""
		if st.Billing != nil {
			total = string(st.Billing.TotalBilled)
		}
		term := ""
		if st.Term != nil {
			term = fmt.Sprintf("%s..%s", st.Term.Start, st.Term.End)
		}
		fmt.Fprintf(&b, "  plan %s uid=%s gen=%d spec={%s %d %s start=%s} status={rev=%d %s %d %s term=%s price=%s expired=%s cancelled=%s total=%s %s pending=%v} deleting=%v\n    %s\n",
			name, p.UID, p.Generation, p.Spec.Product, p.Spec.Quantity, p.Spec.PaymentPlan, p.Spec.StartDate,
			st.Revision, st.Product, st.Licenses, st.PaymentPlan, term, st.PricePerLicense, st.ExpiredOn, st.CancelledOn,
			total, st.Currency, st.PendingChange, !p.DeletionTimestamp.IsZero(), rs)
	}
	for _, name := range c.orderNames() {
		o := c.orders[name]
		ch := ""
		if o.Status.Charge != nil {
			ch = string(o.Status.Charge.Amount) + " " + o.Status.Charge.Currency
		}
		fmt.Fprintf(&b, "  order %s (%s) %s %d x %s %s eff=%s: %s %s %s\n", name, c.orderInst[name], o.Spec.Change, o.Spec.Quantity,
			o.Spec.Product, o.Spec.PaymentPlan, o.Spec.EffectiveDate, o.Status.State, ch, o.Status.Reason)
	}
	return b.String()
}

func (c *cluster) planNames() []string {
	names := make([]string, 0, len(c.plans))
	for n := range c.plans {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// orderNames lists the orders by plan and revision.
func (c *cluster) orderNames() []string {
	names := make([]string, 0, len(c.orders))
	for n := range c.orders {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := c.orders[names[i]], c.orders[names[j]]
		if a.Spec.Plan != b.Spec.Plan {
			return a.Spec.Plan < b.Spec.Plan
		}
		if a.Spec.Revision != b.Spec.Revision {
			return a.Spec.Revision < b.Spec.Revision
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
	return names
}

// ordersOf lists a plan's orders as lookup.Orders does: those naming it in spec.plan, by revision.
func (c *cluster) ordersOf(plan string) []*v1alpha1.LicenseOrder {
	var out []*v1alpha1.LicenseOrder
	for _, n := range c.orderNames() {
		if o := c.orders[n]; o.Spec.Plan == plan {
			out = append(out, o)
		}
	}
	return out
}

// ---- the controllers, as internal/controller sequences them ----

// catalogFor is lookup.Catalog: the entries of the named products that exist.
func (c *cluster) catalogFor(names ...string) map[string]*v1alpha1.LicenseProductSpec {
	out := map[string]*v1alpha1.LicenseProductSpec{}
	for _, n := range names {
		if n == "" {
			continue
		}
		if p, ok := c.products[n]; ok {
			out[n] = p.DeepCopy()
		} else {
			out[n] = nil
		}
	}
	return out
}

func (c *cluster) profileCopy() *v1alpha1.BillingProfileSpec {
	if c.profile == nil {
		return nil
	}
	return c.profile.DeepCopy()
}

// customerPlans is lookup.CustomerPlans.
func (c *cluster) customerPlans(plan *v1alpha1.CustomerLicensePlan) (active, ordering []ActivePlan) {
	for _, n := range c.planNames() {
		p := c.plans[n]
		if p.Name == plan.Name || p.Spec.Customer != plan.Spec.Customer {
			continue
		}
		if IsActive(p.Status) {
			active = append(active, ActivePlan{Name: p.Name, Product: p.Status.Product, Licenses: p.Status.Licenses})
			continue
		}
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
		if p.DeletionTimestamp.IsZero() && (ready == nil || ready.Reason == v1alpha1.ReasonOrderPending) {
			ordering = append(ordering, ActivePlan{Name: p.Name, Product: p.Spec.Product, Licenses: p.Spec.Quantity})
		}
	}
	return active, ordering
}

// trialOrders is lookup.TrialOrders.
func (c *cluster) trialOrders(customer, product string) []v1alpha1.LicenseOrder {
	var out []v1alpha1.LicenseOrder
	for _, n := range c.orderNames() {
		o := c.orders[n]
		if o.Spec.Change == v1alpha1.ChangeTrial && o.Spec.Customer == customer && o.Spec.Product == product {
			out = append(out, *o.DeepCopy())
		}
	}
	return out
}

// orderInput is lookup.ReadOrderInput.
func (c *cluster) orderInput(plan *v1alpha1.CustomerLicensePlan, order *v1alpha1.LicenseOrder) OrderInput {
	o := order.Spec
	cat := c.catalogFor(o.Product, plan.Status.Product)
	var trials []v1alpha1.LicenseOrder
	if o.Change == v1alpha1.ChangeTrial {
		trials = c.trialOrders(o.Customer, o.Product)
	}
	var others []ActivePlan
	if p := cat[o.Product]; p != nil && len(p.Requires) > 0 {
		others, _ = c.customerPlans(plan)
	}
	return OrderInput{Plan: plan.Name, Change: o.Change, ProductName: o.Product, Product: cat[o.Product],
		CurrentProduct: cat[plan.Status.Product], PaymentPlan: o.PaymentPlan, Quantity: o.Quantity, CostCenter: o.CostCenter,
		Profile: c.profileCopy(), OtherPlans: others, Assigned: c.assigned[plan.Name], HeldPaymentPlan: plan.Status.PaymentPlan,
		PriorTrials: PriorTrials(trials, plan.Name, order)}
}

// reconcilePlan is PlanReconciler.Reconcile: snapshot, DecidePlan, write (finalizer, order, status).
// A probe is done once the write that follows it succeeds.
func (c *cluster) reconcilePlan(name string) (changed bool) {
	plan := c.plans[name]
	if plan == nil {
		return false
	}
	probed, wrote := false, true
	defer func() {
		if probed && wrote {
			delete(c.probes, name)
		}
	}()
	s := PlanSnapshot{Plan: plan.DeepCopy(), Now: c.now}
	// The cache holds no fulfilled order; a probe reads them from the API server.
	var cached []v1alpha1.LicenseOrder
	for _, o := range c.ordersOf(name) {
		if o.Status.State != v1alpha1.OrderFulfilled {
			cached = append(cached, *o.DeepCopy())
		}
	}
	s.Orders, _ = OwnOrders(plan, cached)
	if p, ok := c.prior[name]; ok && p.uid == plan.UID {
		s.PriorRevision = p.rev
	}
	gap := len(s.Orders) > 0 && s.Orders[0].Spec.Revision > max(plan.Status.Revision, s.PriorRevision)+1
	if c.probes[name] || gap {
		s.Orders, s.PriorRevision = c.probe(plan, s.Orders, s.PriorRevision)
		if s.PriorRevision > 0 {
			c.prior[name] = mPrior{plan.UID, s.PriorRevision}
		}
		probed = true
	}
	if plan.Status.ExpiredOn != "" {
		if last := c.orders[plan.Status.LastOrder]; last != nil {
			s.LastApplied = last.DeepCopy()
		}
	}
	s.Catalog = c.catalogFor(plan.Status.Product, Scheduled(plan.Status).Product, plan.Spec.Product)
	s.Profile = c.profileCopy()
	s.Assigned = c.assigned[name]
	if latest := lastOrder(s.Orders); plan.DeletionTimestamp.IsZero() && NeedsRevalidation(latest) {
		v := ValidateOrder(c.orderInput(plan, latest))
		s.Revalidated = &v
	}
	if p := s.Catalog[plan.Spec.Product]; p != nil && len(p.Requires) > 0 {
		s.OtherPlans, s.Ordering = c.customerPlans(plan)
	}
	d := DecidePlan(s)
	if !d.RequeueAt.IsZero() {
		c.wakes["plan/"+name] = d.RequeueAt
	} else {
		delete(c.wakes, "plan/"+name)
	}
	switch {
	case d.Release:
		if i := slices.Index(plan.Finalizers, v1alpha1.CancellationFinalizer); i >= 0 {
			plan.Finalizers = slices.Delete(plan.Finalizers, i, i+1)
			changed = true
		}
		if !plan.DeletionTimestamp.IsZero() && len(plan.Finalizers) == 0 {
			c.remove(name)
		}
		return changed
	case d.AddFinalizer:
		plan.Finalizers = append(plan.Finalizers, v1alpha1.CancellationFinalizer)
		changed = true
	}
	if d.Place != nil {
		on := OrderName(plan.Name, d.Place.Revision)
		if len(plan.Name) > 63 {
			// The API server refuses the order: label values stop at 63 characters. The
			// reconcile fails, and fails again on every retry.
			c.refused["plan/"+name] = fmt.Sprintf("the create of order %s is refused: metadata.labels: a label value must be no more than 63 characters", on)
			wrote = false
			return changed
		}
		delete(c.refused, "plan/"+name)
		if _, exists := c.orders[on]; exists {
			// A conflict: the reconcile is retried, and reads the order from the API server.
			c.probes[name] = true
			wrote = false
			return true
		}
		c.orders[on] = &v1alpha1.LicenseOrder{
			ObjectMeta: metav1.ObjectMeta{Name: on, Namespace: "team", Labels: map[string]string{v1alpha1.PlanLabel: plan.Name},
				CreationTimestamp: metav1.NewTime(c.now.Truncate(time.Second)), Generation: 1},
			Spec: *d.Place,
		}
		c.orderInst[on] = plan.UID
		if p, ok := oPrice(c.products[d.Place.Product], d.Place.PaymentPlan); ok {
			c.placedPrice[on] = p
		}
		changed = true
		if c.crashAfter == "*" || c.crashAfter == on {
			c.crashAfter = ""
			c.note("the process dies right after creating order %s", on)
			c.restart()
			wrote = false
			return true
		}
	}
	if d.WriteStatus && !equality.Semantic.DeepEqual(plan.Status, d.Status) && d.Place != nil && OrderName(plan.Name, d.Place.Revision) == c.failStatusWith {
		c.failStatus, c.failStatusWith = true, ""
	}
	if d.WriteStatus && !equality.Semantic.DeepEqual(plan.Status, d.Status) && c.failStatus {
		// A transient error (a conflict, a timeout): the reconcile is retried.
		c.failStatus = false
		c.note("the status write of plan %s fails once", name)
		wrote = false
		return true
	}
	if d.WriteStatus && !equality.Semantic.DeepEqual(plan.Status, d.Status) {
		// The API server validates the status against the schema: amounts have at most 17 integer digits.
		amounts := []v1alpha1.Amount{d.Status.PricePerLicense}
		if b := d.Status.Billing; b != nil {
			amounts = append(amounts, b.TotalBilled, b.RecurringCharge, b.NextInvoiceAmount)
			for _, t := range b.TotalsBilled {
				amounts = append(amounts, t.Amount)
			}
		}
		for _, a := range amounts {
			if a != "" && !oAmountPattern.MatchString(string(a)) {
				c.refused["planstatus/"+name] = fmt.Sprintf("the status write of plan %s is refused: the amount %q does not match the Amount pattern", name, a)
				wrote = false
				return changed
			}
		}
		delete(c.refused, "planstatus/"+name)
		plan.Status = d.Status
		changed = true
	}
	return changed
}

// probe is controller.probe: the orders above the status's revision, read revision by revision
// from the API server up to the first missing or open one, then the rest as the cache has them.
func (c *cluster) probe(plan *v1alpha1.CustomerLicensePlan, cached []v1alpha1.LicenseOrder, prior int64) ([]v1alpha1.LicenseOrder, int64) {
	var out []v1alpha1.LicenseOrder
	rev := max(plan.Status.Revision, prior) + 1
	for ; ; rev++ {
		o, ok := c.orders[OrderName(plan.Name, rev)]
		if !ok {
			break
		}
		if !BelongsTo(o, plan) {
			var all []v1alpha1.LicenseOrder
			for _, x := range c.ordersOf(plan.Name) {
				all = append(all, *x.DeepCopy())
			}
			return OwnOrders(plan, all)
		}
		out = append(out, *o.DeepCopy())
		if !IsSettled(o) {
			break
		}
	}
	for _, o := range cached {
		if o.Spec.Revision > rev {
			out = append(out, o)
		}
	}
	return out, prior
}

type mPrior struct {
	uid types.UID
	rev int64
}

// reconcileOrder is the plan reconciler's order step (orders.settle): snapshot, DecideOrder, one status write.
func (c *cluster) reconcileOrder(name string) bool {
	o := c.orders[name]
	if o == nil || IsSettled(o) {
		return false
	}
	s := OrderSnapshot{Order: o.DeepCopy(), Now: c.now}
	plan := c.plans[o.Spec.Plan]
	if plan != nil && BelongsTo(o, plan) {
		s.Plan = plan.DeepCopy()
	} else {
		plan = nil
	}
	if o.Spec.Change == v1alpha1.ChangeCancellation || (plan != nil && plan.DeletionTimestamp.IsZero()) {
		if plan == nil {
			plan = &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: o.Spec.Plan, Namespace: "team"}}
		}
		if s.Plan != nil {
			var earlier []v1alpha1.LicenseOrder
			for rev := plan.Status.Revision + 1; rev < o.Spec.Revision; rev++ {
				if e, ok := c.orders[OrderName(plan.Name, rev)]; ok && BelongsTo(e, plan) {
					earlier = append(earlier, *e.DeepCopy())
				}
			}
			s.WaitsFor = WaitsForEarlier(plan.Status, o, earlier)
		}
		s.Rules = c.orderInput(plan, o)
		s.CatalogPrice = CatalogPrice(s.Rules.Product, o.Spec.PaymentPlan)
		s.Currency = Currency(s.Rules.Profile)
	}
	d, err := DecideOrder(s)
	if err != nil {
		c.fail("DecideOrder(%s) failed: %v: the order can never settle", name, err)
	}
	if d.Wait {
		return false
	}
	if !d.RecheckAt.IsZero() {
		c.wakes["order/"+name] = d.RecheckAt
	} else {
		delete(c.wakes, "order/"+name)
	}
	if equality.Semantic.DeepEqual(o.Status, d.Status) {
		return false
	}
	// The API server validates the status against the schema: amounts have at most 17 integer digits.
	if ch := d.Status.Charge; ch != nil && !oAmountPattern.MatchString(string(ch.Amount)) ||
		d.Status.PricePerLicense != "" && !oAmountPattern.MatchString(string(d.Status.PricePerLicense)) {
		c.refused["order/"+name] = fmt.Sprintf("the status write of order %s is refused: status.charge.amount %v, status.pricePerLicense %q do not match the Amount pattern",
			name, d.Status.Charge, d.Status.PricePerLicense)
		return false
	}
	delete(c.refused, "order/"+name)
	fulfilled := d.Status.State == v1alpha1.OrderFulfilled && o.Status.State != v1alpha1.OrderFulfilled
	if a := meta.FindStatusCondition(d.Status.Conditions, v1alpha1.OrderApproved); a != nil && a.Reason == v1alpha1.ReasonAutomatic &&
		meta.FindStatusCondition(o.Status.Conditions, v1alpha1.OrderApproved) == nil {
		c.autoApproved[name] = c.profileCopy()
	}
	o.Status = d.Status
	if fulfilled {
		c.probes[o.Spec.Plan] = true // the fulfilled order leaves the cache
		f := mFulfilment{profile: c.profileCopy()}
		if s.Plan != nil {
			f.pre, f.spec = *s.Plan.Status.DeepCopy(), s.Plan.Spec
		}
		f.price, f.priceOK = oPrice(c.products[o.Spec.Product], o.Spec.PaymentPlan)
		c.onFulfilled(o, f)
	}
	return true
}

// restart drops everything the controllers keep in memory: only the stored objects survive. A
// plan seen at start with a status is probed.
func (c *cluster) restart() {
	c.probes = map[string]bool{}
	c.wakes = map[string]time.Time{}
	c.prior = map[string]mPrior{}
	for n := range c.plans {
		c.probes[n] = true // every plan is probed on first sight after a start
	}
}

func (c *cluster) remove(name string) {
	delete(c.plans, name)
	delete(c.assigned, name)
	delete(c.wakes, "plan/"+name)
}

// settle reconciles every plan and open order until nothing changes, then checks the invariants.
func (c *cluster) settle() {
	c.t.Helper()
	for pass := 0; pass < modelMaxPasses; pass++ {
		changed := false
		for _, n := range c.planNames() {
			if c.reconcilePlan(n) {
				changed = true
			}
		}
		for _, n := range c.orderNames() {
			if c.reconcileOrder(n) {
				changed = true
			}
		}
		if !changed {
			c.checkInvariants()
			return
		}
	}
	c.fail("no fixpoint: the plans and orders still change after %d reconcile passes at the same moment (a loop)", modelMaxPasses)
}

// advance moves the clock by d. A running operator wakes at every time its decisions asked for
// (RequeueAt, RecheckAt); a stopped one (an outage) sees only the end.
func (c *cluster) advance(d time.Duration, running bool) {
	c.t.Helper()
	target := c.now.Add(d)
	for i := 0; running; i++ {
		if i == modelMaxWakes {
			c.fail("more than %d wake-ups within %v", modelMaxWakes, d)
		}
		next := time.Time{}
		for _, w := range c.wakes {
			if w.After(c.now) && !w.After(target) && (next.IsZero() || w.Before(next)) {
				next = w
			}
		}
		if next.IsZero() {
			break
		}
		c.moveTo(next)
		c.settle()
	}
	c.moveTo(target)
	c.settle()
}

// moveTo sets the clock, recording the days each plan held licenses until then.
func (c *cluster) moveTo(t time.Time) {
	from, to := oDay(c.now), oDay(t)
	for _, p := range c.plans {
		if in := c.insts[p.UID]; in != nil {
			c.recordInForce(in, p, from, to)
		}
	}
	c.now = t
}

func (c *cluster) recordInForce(in *mInstance, p *v1alpha1.CustomerLicensePlan, from, to int64) {
	st := p.Status
	if !(st.Revision > 0 && st.Product != "" && st.ExpiredOn == "" && st.CancelledOn == "" && st.Licenses > 0) {
		return
	}
	// The day the plan is seen in force counts, and every day up to the next look.
	if to <= from {
		to = from + 1
	}
	trial := st.PaymentPlan == v1alpha1.Trial
	if n := len(in.inForce); n > 0 && in.inForce[n-1].trial == trial && in.inForce[n-1].to >= from {
		in.inForce[n-1].to = max(in.inForce[n-1].to, to)
		return
	}
	in.inForce = append(in.inForce, mInForce{span: span{from, to}, trial: trial})
}

// ---- the purchaser's, approver's and finance's actions, through admission ----

// previewInput is webhook.previewInput: the plan as it would be stored.
func (c *cluster) previewInput(p *v1alpha1.CustomerLicensePlan) PreviewInput {
	in := PreviewInput{Plan: p.Name, DueInput: DueInput{Spec: p.Spec, Status: p.Status, Created: p.CreationTimestamp.Time, Now: c.now,
		ExpiredWithSpec: ExpiredOnSpec(p.Spec, p.Status, nil, p.Generation)}}
	if in.Created.IsZero() {
		in.Created = c.now
	}
	in.Catalog = c.catalogFor(p.Status.Product, Scheduled(p.Status).Product, p.Spec.Product)
	in.Profile = c.profileCopy()
	in.Currency = Currency(in.Profile)
	in.OtherPlans, _ = c.customerPlans(p)
	if p.Spec.PaymentPlan == v1alpha1.Trial {
		in.PriorTrials = PriorTrials(c.trialOrders(p.Spec.Customer, p.Spec.Product), p.Name, nil)
	}
	in.Assigned = c.assigned[p.Name]
	if _, exists := c.plans[p.Name]; exists {
		// webhook.latestOrder: the plan's latest order the cache holds, a refused renewal judged
		// as the plan controller judges it.
		var cached []v1alpha1.LicenseOrder
		for _, o := range c.ordersOf(p.Name) {
			if o.Status.State != v1alpha1.OrderFulfilled {
				cached = append(cached, *o.DeepCopy())
			}
		}
		if own, _ := OwnOrders(p, cached); len(own) > 0 {
			in.Latest = &own[len(own)-1]
			var revalidated *Verdict
			if in.Latest.Status.Reason == v1alpha1.ReasonChargeTooLarge {
				v := JudgeChargeAgain(in.DueInput, p.Status, in.Latest)
				revalidated = &v
			}
			if NeedsRevalidation(in.Latest) {
				v := ValidateOrder(c.orderInput(p, in.Latest))
				revalidated = &v
			}
			if v, ok := RenewalRefusal(in.Latest, p.Status, revalidated); ok {
				in.RenewalRefused = !v.Passed()
			}
		}
	}
	return in
}

// admit judges a plan as it would be stored (defaulted) and previews it; false when refused.
func (c *cluster) admit(p *v1alpha1.CustomerLicensePlan) (*mQuote, bool) {
	in := c.previewInput(p)
	if v := JudgeSpec(in); !v.Passed() {
		c.note("  refused by admission: %s: %s", v.Reason, v.Message)
		return nil, false
	}
	q := &mQuote{plan: p.Name, uid: p.UID, lines: Preview(in), due: OrdersDue(in.DueInput, MaxOrdersDue), before: map[string]bool{}}
	if o := WaitsFor(in, q.due); o != nil {
		q.waitsFor = o.Name
	}
	for n, o := range c.orders {
		q.before[n] = true
		if c.orderInst[n] == p.UID && !IsSettled(o) {
			q.inFlight = n
		}
		if c.orderInst[n] == p.UID && o.Status.State == v1alpha1.OrderRejected && IsRefusal(o.Status.Reason) && o.Spec.Revision > p.Status.Revision {
			q.refused = n
		}
	}
	return q, true
}

// create declares a plan (again, when one of that name was deleted).
func (c *cluster) create(name, customer, product string, pp v1alpha1.PaymentPlan, qty int32, startOffsetDays int, expire bool) {
	c.t.Helper()
	if _, ok := c.plans[name]; ok {
		c.note("create %s: refused, it exists", name)
		return
	}
	if len(name) > 63 {
		c.note("create %s: refused by the CRD, the name is longer than 63 characters", name)
		return
	}
	c.uidSeq++
	p := &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team", UID: types.UID(fmt.Sprintf("uid-%d", c.uidSeq)), Generation: 1,
			CreationTimestamp: metav1.NewTime(c.now.Truncate(time.Second)),
			Annotations:       map[string]string{v1alpha1.RequestedByAnnotation: "alice"},
			Finalizers:        []string{v1alpha1.CancellationFinalizer}},
		Spec: v1alpha1.CustomerLicensePlanSpec{Customer: customer, Product: product, Quantity: qty, PaymentPlan: pp},
	}
	today := c.now.UTC()
	if startOffsetDays != 0 {
		// A plan without a start date starts the day it is first ordered.
		p.Spec.StartDate = v1alpha1.Date(time.Date(today.Year(), today.Month(), today.Day()+startOffsetDays, 0, 0, 0, 0, time.UTC).Format("2006-01-02"))
	}
	if expire {
		p.Spec.Renewal.Policy = v1alpha1.ExpireAtTermEnd
	} else {
		p.Spec.Renewal.Policy = v1alpha1.AutoRenew
	}
	if c.profile != nil {
		p.Spec.CostCenter = c.profile.DefaultCostCenter
	}
	c.note("create %s (%s): %d x %s %s, startDate %s, policy %s", name, p.UID, qty, product, pp, p.Spec.StartDate, p.Spec.Renewal.Policy)
	q, ok := c.admit(p)
	if !ok {
		return
	}
	c.plans[name] = p
	in := &mInstance{uid: p.UID, name: name, changes: 1}
	c.insts[p.UID] = in
	c.instOrder = append(c.instOrder, p.UID)
	c.otherEvent()
	in.events = 0
	c.settle()
	c.checkQuote(q)
}

// edit changes a plan's spec through admission.
func (c *cluster) edit(name, what string, change func(*v1alpha1.CustomerLicensePlanSpec), ordering bool) {
	c.t.Helper()
	p := c.plans[name]
	if p == nil || !p.DeletionTimestamp.IsZero() {
		return
	}
	next := p.DeepCopy()
	change(&next.Spec)
	if next.Spec.CostCenter == "" && c.profile != nil {
		next.Spec.CostCenter = c.profile.DefaultCostCenter
	}
	if equality.Semantic.DeepEqual(next.Spec, p.Spec) {
		return
	}
	next.Generation++
	next.Annotations[v1alpha1.RequestedByAnnotation] = "alice"
	c.note("edit %s: %s", name, what)
	q, ok := c.admit(next)
	if !ok {
		return
	}
	c.plans[name] = next
	c.otherEvent()
	if in := c.insts[next.UID]; in != nil && ordering {
		in.changes++
	}
	c.settle()
	c.checkQuote(q)
}

// otherEvent counts an event in the life of every plan instance alive, and voids quotes of
// charges to come (something else changed in between).
func (c *cluster) otherEvent() {
	for _, p := range c.plans {
		if in := c.insts[p.UID]; in != nil {
			in.events++
		}
	}
	c.quotedLater = map[string]int64{}
}

func (c *cluster) deletePlan(name string) {
	c.t.Helper()
	p := c.plans[name]
	if p == nil || !p.DeletionTimestamp.IsZero() {
		return
	}
	c.note("delete %s", name)
	now := metav1.NewTime(c.now.Truncate(time.Second))
	p.DeletionTimestamp = &now
	c.otherEvent()
	if len(p.Finalizers) == 0 {
		c.remove(name)
	}
	c.settle()
}

func (c *cluster) decide(order string, approve bool) {
	c.t.Helper()
	o := c.orders[order]
	if o == nil || o.Status.State != v1alpha1.OrderAwaitingApproval {
		return
	}
	cond := metav1.Condition{Type: v1alpha1.OrderApproved, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonApproved, Message: "bob: approved"}
	if !approve {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, v1alpha1.ReasonDenied, "bob: denied"
	}
	if err := CheckApproval(cond); err != nil {
		c.fail("the model's approval is refused: %v", err)
	}
	amount := v1alpha1.Amount("")
	if o.Status.Charge != nil {
		amount = o.Status.Charge.Amount
	}
	c.note("%s %s at %s", map[bool]string{true: "approve", false: "deny"}[approve], order, amount)
	SetCondition(&o.Status.Conditions, cond, o.Generation, c.now)
	if approve {
		c.approvedAt[order] = amount
	}
	c.otherEvent()
	c.settle()
}

func (c *cluster) assign(name string, add bool) {
	c.t.Helper()
	p := c.plans[name]
	if p == nil {
		return
	}
	if add {
		if v := AssignmentRoom(name, p.Spec, p.Status, c.assigned[name]); c.refuseOverLicensed && !v.Passed() {
			return
		}
		c.assigned[name]++
	} else {
		if c.assigned[name] == 0 {
			return
		}
		c.assigned[name]--
	}
	c.note("assignments of %s: %d", name, c.assigned[name])
	c.otherEvent()
	c.settle()
}

func (c *cluster) setAvailability(product string, a v1alpha1.Availability) {
	c.t.Helper()
	c.note("product %s is now %s", product, a)
	c.products[product].Availability = a
	c.otherEvent()
	c.settle()
}

func (c *cluster) setPrice(product string, pp v1alpha1.PaymentPlan, price v1alpha1.Amount) {
	c.t.Helper()
	p := c.products[product]
	for i := range p.Prices {
		if p.Prices[i].PaymentPlan == pp {
			c.note("price of %s %s: %s", product, pp, price)
			p.Prices[i].PricePerLicense = price
			c.otherEvent()
			c.settle()
			return
		}
	}
}

func (c *cluster) setProfile(what string, change func(*v1alpha1.BillingProfileSpec)) {
	c.t.Helper()
	c.note("profile: %s", what)
	change(c.profile)
	c.otherEvent()
	c.settle()
}

func (c *cluster) doRestart() {
	c.t.Helper()
	c.note("restart")
	c.restart()
	c.otherEvent()
	c.settle()
}

func (c *cluster) clock(d time.Duration, running bool) {
	c.t.Helper()
	c.note("clock +%v (operator running: %v)", d, running)
	c.advance(d, running)
}
