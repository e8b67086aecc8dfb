package faults

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// planName is the plan the lifecycle workload drives, each run in a namespace of its own.
const planName = "ep"

// workload is a fixed, deterministic sequence of steps that drives one plan (plan) through a part
// of its life. Every workload is run once as the reference, then with a crash at each of its
// writes (faults_test.go): together they make every kind of write the operator makes in every
// state it makes it from.
type workload struct {
	name  string
	plan  string
	steps []step
	// notices: each run has a NotificationSink and a webhook receiver (notices_test.go).
	notices bool
}

// lifecycle is the workload the race, lag and failover specs run too: a plan's whole life, told
// to a NotificationSink.
var lifecycle = &workload{name: "lifecycle", plan: planName, steps: steps, notices: true}

// workloads are the workloads of the crash-point sweep.
var workloads = []*workload{lifecycle, catchUp, trialConverted, trialEnded, renewalWindowDeletion}

// runStart is the fake clock's time when a run starts: the plan's start date lies two months
// before, so its New order is followed by two catch-up renewals.
var runStart = time.Date(2026, time.March, 10, 9, 30, 0, 0, time.UTC)

// The catalog: prices chosen so that charges can be checked by hand (as in internal/controller's
// testCatalog). The workload's plan moves within the Endpoint family, basic to plus; t-eul is a
// product of another family that no run touches and that must stay so.
func catalog() []*v1alpha1.LicenseProduct {
	trial := product("t-trial", "T-TRIAL", "Connect", "Monthly", "10.00")
	trial.Spec.Trial = &v1alpha1.TrialOffer{Days: 30, MaxLicenses: 10}
	return []*v1alpha1.LicenseProduct{
		product("t-eul", "T-EUL", "VMR", "Monthly", "10.00", "Prepay1Y", "100.00"),
		product("t-endpoint-basic", "T-EP-BASIC", "Endpoint", "Monthly", "5.00", "Prepay3Y", "150.00"),
		product("t-endpoint-plus", "T-EP-PLUS", "Endpoint", "Monthly", "8.00", "Prepay3Y", "240.00"),
		trial,
	}
}

// createCatalog creates the catalog's products that do not exist yet (they are cluster-scoped,
// shared by every run).
func createCatalog(r *run) error {
	for _, p := range catalog() {
		if err := k8sClient.Create(r.ctx, p); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

func product(name, sku string, family v1alpha1.ProductFamily, prices ...string) *v1alpha1.LicenseProduct {
	p := &v1alpha1.LicenseProduct{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.LicenseProductSpec{SKU: sku, DisplayName: name, Family: family, Unit: v1alpha1.LicenseUnit("User")},
	}
	for i := 0; i+1 < len(prices); i += 2 {
		p.Spec.Prices = append(p.Spec.Prices, v1alpha1.Price{PaymentPlan: v1alpha1.PaymentPlan(prices[i]), PricePerLicense: v1alpha1.Amount(prices[i+1])})
	}
	return p
}

// The steps of the workload. What each should come to, checked by hand (all in EUR):
//
//	ep-1  New 4 x basic Monthly (term 2026-01-05..02-05)           4 x 5.00            = 20.00
//	ep-2  Renewal (catch-up) 2026-02-05                                                = 20.00
//	ep-3  Renewal (catch-up) 2026-03-05                                                = 20.00
//	ep-4  IncreaseQuantity 4 -> 6 on 2026-03-10    2 x 5.00 x 26/31 days               =  8.39
//	ep-5  ChangeProduct basic -> plus at once      6 x (8.00 - 5.00) x 26/31 days      = 15.10
//	ep-6  DecreaseQuantity 6 -> 3: Rejected UsageBelowMinimum (4 assigned)
//	ep-7  DecreaseQuantity 6 -> 3 after one assignment is deleted, from 2026-04-05     =  0.00
//	ep-8  ChangePaymentPlan Prepay3Y, from 2026-04-05                                  =  0.00
//	ep-9  Renewal 2026-04-05: 3 x plus Prepay3Y    3 x 240.00                          = 720.00
//	ep-10 Cancellation                                                                 =  0.00
//
// totalBilled at the end: 803.49.
//
// The upgrade comes before the decrease and the payment plan change: with a change pending, the
// current operator closes every upgrade order as Superseded and orders it again, without end
// (licensing.Superseded judges the order with upgrade=false, as if it were deferred).
var steps = []step{
	{name: "new plan, 2 catch-up renewals", act: func(r *run) error {
		if err := createCatalog(r); err != nil {
			return err
		}
		p := &v1alpha1.CustomerLicensePlan{
			ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: planName},
			Spec: v1alpha1.CustomerLicensePlanSpec{Customer: "Acme Corp", Product: "t-endpoint-basic", Quantity: 4,
				PaymentPlan: v1alpha1.Monthly, StartDate: "2026-01-05", PurchaseReference: "PO-1"},
		}
		return k8sClient.Create(r.ctx, p)
	}, done: inForceAt(3)},
	{name: "increase 4 -> 6", act: func(r *run) error {
		return r.updatePlan(func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 6 })
	}, done: inForceAt(4)},
	{name: "upgrade basic -> plus (at once)", act: func(r *run) error {
		return r.updatePlan(func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Product = "t-endpoint-plus" })
	}, done: inForceAt(5)},
	{name: "assign 4 licenses", act: func(r *run) error {
		for _, n := range []string{"a1", "a2", "a3", "a4"} {
			a := &v1alpha1.LicenseAssignment{
				ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: n},
				Spec:       v1alpha1.LicenseAssignmentSpec{Plan: planName, Assignee: v1alpha1.Assignee{Type: "User", Name: n + "@example.com"}},
			}
			if err := k8sClient.Create(r.ctx, a); err != nil {
				return err
			}
		}
		return nil
	}, done: func(v view) error {
		if err := inForceAt(5)(v); err != nil {
			return err
		}
		if v.plan.Status.Usage.Assigned != 4 {
			return fmt.Errorf("usage.assigned is %d, not 4", v.plan.Status.Usage.Assigned)
		}
		return nil
	}},
	{name: "decrease 6 -> 3 below usage (refused)", act: func(r *run) error {
		return r.updatePlan(func(p *v1alpha1.CustomerLicensePlan) { p.Spec.Quantity = 3 })
	}, done: func(v view) error {
		if v.plan == nil {
			return errors.New("the plan is gone")
		}
		last := lastOrder(v)
		if last == nil || last.Spec.Change != v1alpha1.ChangeDecreaseQuantity || last.Status.State != v1alpha1.OrderRejected {
			return fmt.Errorf("the latest order is not a rejected DecreaseQuantity: %s", describeOrder(last))
		}
		if r := readyReason(v.plan); r != v1alpha1.ReasonOrderRejected {
			return fmt.Errorf("Ready reason is %q, not OrderRejected", r)
		}
		return nil
	}},
	{name: "unassign one: the decrease is ordered", act: func(r *run) error {
		a := &v1alpha1.LicenseAssignment{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: "a4"}}
		return k8sClient.Delete(r.ctx, a)
	}, done: inForceAt(7)},
	{name: "payment plan -> Prepay3Y (next term)", act: func(r *run) error {
		return r.updatePlan(func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PaymentPlan = v1alpha1.Prepay3Y })
	}, done: inForceAt(8)},
	{name: "clock past the term end: renewal", act: func(r *run) error {
		return r.travel(time.Date(2026, time.April, 5, 1, 0, 0, 0, time.UTC))
	}, done: inForceAt(9)},
	deletion,
}

// deletion deletes the plan; its Cancellation is recorded and the plan goes.
var deletion = step{name: "delete the plan: cancellation", act: func(r *run) error {
	p := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.w.plan}}
	return k8sClient.Delete(r.ctx, p)
}, done: func(v view) error {
	if v.plan != nil {
		return fmt.Errorf("the plan is still there (deletionTimestamp %v, finalizers %v)", v.plan.DeletionTimestamp, v.plan.Finalizers)
	}
	last := lastOrder(v)
	if last == nil || last.Spec.Change != v1alpha1.ChangeCancellation || last.Status.State != v1alpha1.OrderFulfilled {
		return fmt.Errorf("the latest order is not a fulfilled Cancellation: %s", describeOrder(last))
	}
	return nil
}}

// createPlan is a step's action that creates the workload's plan (and the catalog).
func createPlan(product string, quantity int32, pp v1alpha1.PaymentPlan, startDate v1alpha1.Date) func(r *run) error {
	return func(r *run) error {
		if err := createCatalog(r); err != nil {
			return err
		}
		p := &v1alpha1.CustomerLicensePlan{
			ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.w.plan},
			Spec: v1alpha1.CustomerLicensePlanSpec{Customer: "Acme Corp", Product: product, Quantity: quantity,
				PaymentPlan: pp, StartDate: startDate, PurchaseReference: "PO-1"},
		}
		return k8sClient.Create(r.ctx, p)
	}
}

// travelTo is a step's action that moves the run's clock.
func travelTo(to time.Time) func(r *run) error {
	return func(r *run) error { return r.travel(to) }
}

// inForceFor checks that the plan is in force on payment plan pp, in a term that started on start.
func inForceFor(pp v1alpha1.PaymentPlan, start v1alpha1.Date) func(v view) error {
	return func(v view) error {
		if v.plan == nil {
			return errors.New("the plan is gone")
		}
		if r := readyReason(v.plan); r != v1alpha1.ReasonInForce {
			return fmt.Errorf("Ready reason is %q, not InForce", r)
		}
		st := v.plan.Status
		if st.PaymentPlan != pp || st.Term == nil || st.Term.Start != start {
			return fmt.Errorf("in force: %s, term %v; want %s from %s", st.PaymentPlan, st.Term, pp, start)
		}
		return nil
	}
}

// catchUp is the plan of a crash that once wedged a plan for good: a Monthly plan started three
// months back, whose New is followed by three catch-up renewals, each placed by the reconcile
// that applies the order before it, before the plan's status is written.
//
//	cu-1 New 3 x t-eul Monthly, term 2025-12-10..2026-01-10        3 x 10.00 = 30.00
//	cu-2..4 Renewals (catch-up) 2026-01-10, 02-10, 03-10                       = 30.00 each
//	cu-5 Renewal 2026-04-10 (the clock moved)                                   = 30.00
//	cu-6 Cancellation                                                           =  0.00
var catchUp = &workload{name: "catch-up", plan: "cu", steps: []step{
	{name: "new plan started 3 months back: 3 catch-up renewals", act: createPlan("t-eul", 3, v1alpha1.Monthly, "2025-12-10"),
		done: inForceFor(v1alpha1.Monthly, "2026-03-10")},
	{name: "clock past the term end: renewal", act: travelTo(time.Date(2026, time.April, 10, 1, 0, 0, 0, time.UTC)),
		done: inForceFor(v1alpha1.Monthly, "2026-04-10")},
	deletion,
}}

// trialConverted is a trial ordered, converted to a paid plan ten days later, renewed, deleted.
var trialConverted = &workload{name: "trial-converted", plan: "tc", steps: []step{
	{name: "trial of 2 licenses", act: createPlan("t-trial", 2, v1alpha1.Trial, "2026-03-10"),
		done: inForceFor(v1alpha1.Trial, "2026-03-10")},
	{name: "ten days later", act: travelTo(time.Date(2026, time.March, 20, 9, 30, 0, 0, time.UTC)),
		done: inForceFor(v1alpha1.Trial, "2026-03-10")},
	{name: "converted to Monthly", act: func(r *run) error {
		return r.updatePlan(func(p *v1alpha1.CustomerLicensePlan) { p.Spec.PaymentPlan = v1alpha1.Monthly })
	}, done: inForceFor(v1alpha1.Monthly, "2026-03-20")},
	{name: "clock past the term end: renewal", act: travelTo(time.Date(2026, time.April, 20, 1, 0, 0, 0, time.UTC)),
		done: inForceFor(v1alpha1.Monthly, "2026-04-20")},
	deletion,
}}

// trialEnded is a trial left to end: its last week, its end (Expiry), and the deletion of the
// expired plan.
var trialEnded = &workload{name: "trial-ended", plan: "te", steps: []step{
	{name: "trial of 2 licenses", act: createPlan("t-trial", 2, v1alpha1.Trial, "2026-03-10"),
		done: inForceFor(v1alpha1.Trial, "2026-03-10")},
	{name: "the trial's last week", act: travelTo(time.Date(2026, time.April, 3, 9, 30, 0, 0, time.UTC)),
		done: inForceFor(v1alpha1.Trial, "2026-03-10")},
	{name: "clock past the trial's end: expiry", act: travelTo(time.Date(2026, time.April, 9, 1, 0, 0, 0, time.UTC)),
		done: func(v view) error {
			if v.plan == nil {
				return errors.New("the plan is gone")
			}
			if r := readyReason(v.plan); r != v1alpha1.ReasonExpired {
				return fmt.Errorf("Ready reason is %q, not Expired", r)
			}
			return nil
		}},
	deletion,
}}

// renewalWindowDeletion is a plan deleted inside its renewal window, with its Renewal placed and
// open: the Renewal is closed without a charge and the Cancellation recorded.
var renewalWindowDeletion = &workload{name: "renewal-window-deletion", plan: "rw", steps: []step{
	{name: "new plan of 4", act: createPlan("t-eul", 4, v1alpha1.Monthly, "2026-03-10"),
		done: inForceFor(v1alpha1.Monthly, "2026-03-10")},
	{name: "the renewal window: renewal placed", act: travelTo(time.Date(2026, time.April, 5, 9, 30, 0, 0, time.UTC)),
		done: func(v view) error {
			if err := inForceFor(v1alpha1.Monthly, "2026-03-10")(v); err != nil {
				return err
			}
			if last := lastOrder(v); last == nil || last.Spec.Change != v1alpha1.ChangeRenewal {
				return fmt.Errorf("the latest order is not the Renewal: %s", describeOrder(last))
			}
			return nil
		}},
	deletion,
}}

// step is one thing a user does, and (for the reference run) what shows the operator has done it.
// Other runs wait instead until the plan shows what it showed in the reference run at that step.
type step struct {
	name string
	act  func(r *run) error
	done func(v view) error
}

func inForceAt(revision int64) func(v view) error {
	return func(v view) error {
		if v.plan == nil {
			return errors.New("the plan is gone")
		}
		if v.plan.Status.Revision != revision {
			return fmt.Errorf("status.revision is %d, not %d", v.plan.Status.Revision, revision)
		}
		if r := readyReason(v.plan); r != v1alpha1.ReasonInForce {
			return fmt.Errorf("Ready reason is %q, not InForce", r)
		}
		return nil
	}
}

// view is what the workload sees of its plan, through the direct (uncached) client.
type view struct {
	plan        *v1alpha1.CustomerLicensePlan // nil when the plan is gone
	orders      []v1alpha1.LicenseOrder       // in revision order
	assignments []v1alpha1.LicenseAssignment  // naming the plan
	today       string
}

func lastOrder(v view) *v1alpha1.LicenseOrder {
	if len(v.orders) == 0 {
		return nil
	}
	return &v.orders[len(v.orders)-1]
}

func readyReason(p *v1alpha1.CustomerLicensePlan) string {
	c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
	if c == nil || c.ObservedGeneration != p.Generation {
		return ""
	}
	return c.Reason
}

// run is one run of the workload: a namespace, a fake clock, and what it recorded.
type run struct {
	name  string
	w     *workload
	ns    string
	ctx   context.Context
	clock *clocktesting.FakeClock
	ref   *result // nil for the reference run
	// timeout is how long a step may take to settle.
	timeout time.Duration
	// afterAct, if set, is called after step i's action, before its wait.
	afterAct func(i int)

	statuses []string
	keys     []stepKey

	// notices is the run's webhook receiver, if its workload has notices.
	notices *receiver
	// noticeRepeats: a notice's key may arrive more than once without a fault (two replicas).
	noticeRepeats bool
}

// result is what a run recorded.
type result struct {
	statuses []string
	keys     []stepKey
	history  []string
	notices  []string // what the run's webhook receiver saw
	err      error    // the run stopped early: a step did not settle
	took     time.Duration
}

// stepKey is what other runs wait for at a step: what the reference run's plan showed, and how
// many orders it had (a step whose order is placed ahead of its term, such as a renewal in the
// renewal window, changes nothing else of the plan).
type stepKey struct {
	gone     bool
	revision int64
	ready    string
	assigned int32
	orders   int
}

func (k stepKey) String() string {
	if k.gone {
		return fmt.Sprintf("plan gone, orders=%d", k.orders)
	}
	return fmt.Sprintf("revision=%d ready=%s assigned=%d orders=%d", k.revision, k.ready, k.assigned, k.orders)
}

func keyOf(v view) stepKey {
	if v.plan == nil {
		return stepKey{gone: true, orders: len(v.orders)}
	}
	return stepKey{revision: v.plan.Status.Revision, ready: readyReason(v.plan), assigned: v.plan.Status.Usage.Assigned, orders: len(v.orders)}
}

// newRun makes a run of w with a namespace of its own (generated from prefix) and a fake clock at
// runStart.
func newRun(ctx context.Context, w *workload, prefix string, ref *result) (*run, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := k8sClient.Create(ctx, ns); err != nil {
		return nil, err
	}
	r := &run{name: ns.Name, w: w, ns: ns.Name, ctx: ctx, clock: clocktesting.NewFakeClock(runStart), ref: ref, timeout: stepTimeout}
	if w.notices {
		if err := r.startNotices(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// workload runs the workload's steps[from:to] and records the plan's status after each.
func (r *run) workload(from, to int) error {
	for i := from; i < to; i++ {
		s := r.w.steps[i]
		if err := s.act(r); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.name, err)
		}
		if r.afterAct != nil {
			r.afterAct(i)
		}
		if err := r.settle(i); err != nil {
			return fmt.Errorf("step %d (%s) did not settle within %s: %w", i+1, s.name, r.timeout, err)
		}
	}
	return nil
}

// finish records the history and what the run came to.
func (r *run) finish(err error, start time.Time) *result {
	res := &result{statuses: r.statuses, keys: r.keys, err: err, took: time.Since(start)}
	if v, lerr := r.look(); lerr == nil {
		res.history = history(v)
	} else {
		res.history = []string{"(the history could not be read: " + lerr.Error() + ")"}
	}
	res.notices = r.noticeLines()
	r.stopNotices()
	return res
}

// settle waits until the operator has done step i and the plan has settled, and records its status.
//
// Settled: the plan's status is for its generation (observedGeneration and the Ready condition),
// its usage counts its assignments, it has applied every fulfilled order, no order is open except
// a term order (Renewal, Expiry) whose effective date is still to come, and nothing of the plan,
// its orders or its assignments changes for 300 ms. The reference run waits for what step.done
// says; every other run waits until the plan shows what the reference run's plan showed at that
// step (revision, Ready reason, usage, or gone; and the number of orders), and then up to 5 s
// more for the whole recorded status to equal the reference's.
func (r *run) settle(i int) error {
	var failure string
	g := NewGomega(func(message string, _ ...int) { failure = message })
	var v view
	check := func(strict bool) func(g Gomega) {
		return func(g Gomega) {
			var err error
			v, err = r.look()
			g.Expect(err).NotTo(HaveOccurred())
			if r.ref == nil {
				g.Expect(r.w.steps[i].done(v)).To(Succeed())
			} else {
				g.Expect(keyOf(v)).To(Equal(r.ref.keys[i]), "what the reference run's plan showed at this step")
			}
			g.Expect(settled(v)).To(Succeed())
			g.Expect(r.entitlementAtRest()).To(Succeed())
			g.Expect(r.noticesAtRest(v)).To(Succeed())
			if strict {
				g.Expect(r.statusLine(i, v)).To(Equal(r.ref.statuses[i]))
			}
			fp := fingerprint(v)
			g.Consistently(func() (string, error) {
				v2, err := r.look()
				return fingerprint(v2), err
			}).WithTimeout(300 * time.Millisecond).WithPolling(50 * time.Millisecond).Should(Equal(fp))
		}
	}
	if !g.Eventually(check(false)).WithTimeout(r.timeout).WithPolling(50 * time.Millisecond).Should(Succeed()) {
		r.statuses = append(r.statuses, r.statusLine(i, v)+"   (NOT SETTLED)")
		r.keys = append(r.keys, keyOf(v))
		return errors.New(failure)
	}
	if r.ref != nil && r.statusLine(i, v) != r.ref.statuses[i] {
		quiet := NewGomega(func(string, ...int) {})
		quiet.Eventually(check(true)).WithTimeout(5 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	}
	r.statuses = append(r.statuses, r.statusLine(i, v))
	r.keys = append(r.keys, keyOf(v))
	return nil
}

// settled says why the plan has not settled, or nil.
func settled(v view) error {
	for i := range v.orders {
		o := &v.orders[i]
		switch {
		case o.Status.State == v1alpha1.OrderFulfilled || o.Status.State == v1alpha1.OrderRejected:
		case (o.Spec.Change == v1alpha1.ChangeRenewal || o.Spec.Change == v1alpha1.ChangeExpiry) && string(o.Spec.EffectiveDate) > v.today:
		default:
			return fmt.Errorf("order %s is open", describeOrder(o))
		}
	}
	if v.plan == nil {
		return nil
	}
	p := v.plan
	if !p.DeletionTimestamp.IsZero() {
		return errors.New("the plan is being deleted")
	}
	if p.Status.ObservedGeneration != p.Generation || readyReason(p) == "" {
		return fmt.Errorf("the status is not for generation %d (observedGeneration %d, Ready %v)", p.Generation, p.Status.ObservedGeneration, meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady))
	}
	if int(p.Status.Usage.Assigned) != len(v.assignments) {
		return fmt.Errorf("usage.assigned is %d, %d assignments name the plan", p.Status.Usage.Assigned, len(v.assignments))
	}
	for i := range v.orders {
		if o := &v.orders[i]; o.Status.State == v1alpha1.OrderFulfilled && o.Spec.Revision > p.Status.Revision {
			return fmt.Errorf("order %s is fulfilled but the plan is at revision %d", describeOrder(o), p.Status.Revision)
		}
	}
	return nil
}

// fingerprint changes whenever the plan, one of its orders or assignments changes.
func fingerprint(v view) string {
	var b strings.Builder
	if v.plan == nil {
		b.WriteString("gone")
	} else {
		b.WriteString(v.plan.ResourceVersion)
	}
	for _, o := range v.orders {
		fmt.Fprintf(&b, " %s:%s", o.Name, o.ResourceVersion)
	}
	for _, a := range v.assignments {
		fmt.Fprintf(&b, " %s:%s", a.Name, a.ResourceVersion)
	}
	return b.String()
}

// look reads the plan, its orders and its assignments from the API server.
func (r *run) look() (view, error) {
	v := view{today: r.clock.Now().UTC().Format("2006-01-02")}
	p := &v1alpha1.CustomerLicensePlan{}
	switch err := k8sClient.Get(r.ctx, client.ObjectKey{Namespace: r.ns, Name: r.w.plan}, p); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return v, err
	default:
		v.plan = p
	}
	orders := &v1alpha1.LicenseOrderList{}
	if err := k8sClient.List(r.ctx, orders, client.InNamespace(r.ns), client.MatchingLabels{v1alpha1.PlanLabel: r.w.plan}); err != nil {
		return v, err
	}
	v.orders = orders.Items
	slices.SortFunc(v.orders, func(a, b v1alpha1.LicenseOrder) int {
		if c := a.Spec.Revision - b.Spec.Revision; c != 0 {
			return int(c)
		}
		return strings.Compare(a.Name, b.Name)
	})
	assignments := &v1alpha1.LicenseAssignmentList{}
	if err := k8sClient.List(r.ctx, assignments, client.InNamespace(r.ns)); err != nil {
		return v, err
	}
	for _, a := range assignments.Items {
		if a.Spec.Plan == r.w.plan {
			v.assignments = append(v.assignments, a)
		}
	}
	return v, nil
}

// statusLine is what is compared of the plan's status after step i.
func (r *run) statusLine(i int, v view) string {
	head := fmt.Sprintf("%d %s:", i+1, r.w.steps[i].name)
	p := v.plan
	if p == nil {
		return head + " plan gone"
	}
	st := p.Status
	term, pending, total := "-", "-", "-"
	if st.Term != nil {
		term = fmt.Sprintf("%s..%s", st.Term.Start, st.Term.End)
	}
	if pc := st.PendingChange; pc != nil {
		q := "-"
		if pc.Quantity != nil {
			q = fmt.Sprint(*pc.Quantity)
		}
		pending = fmt.Sprintf("{product=%s quantity=%s paymentPlan=%s from=%s}", pc.Product, q, pc.PaymentPlan, pc.EffectiveDate)
	}
	if st.Billing != nil {
		total = string(st.Billing.TotalBilled)
	}
	return fmt.Sprintf("%s licenses=%d product=%s paymentPlan=%s price=%s term=%s revision=%d pending=%s totalBilled=%s ready=%s assigned=%d",
		head, st.Licenses, st.Product, st.PaymentPlan, st.PricePerLicense, term, st.Revision, pending, total, readyReason(p), st.Usage.Assigned)
}

// history is the plan's order history: one line per order, in revision order.
func history(v view) []string {
	var out []string
	for i := range v.orders {
		out = append(out, historyLine(&v.orders[i]))
	}
	return out
}

func historyLine(o *v1alpha1.LicenseOrder) string {
	charge := "-"
	if o.Status.Charge != nil {
		charge = string(o.Status.Charge.Amount)
	}
	state := string(o.Status.State)
	if o.Status.Reason != "" {
		state += "/" + o.Status.Reason
	}
	return fmt.Sprintf("%-3s %-17s qty=%d prev=%d eff=%s %s %s %s charge=%s",
		strings.TrimPrefix(o.Name, o.Spec.Plan+"-"), o.Spec.Change, o.Spec.Quantity, o.Spec.PreviousQuantity,
		o.Spec.EffectiveDate, o.Spec.Product, o.Spec.PaymentPlan, state, charge)
}

func describeOrder(o *v1alpha1.LicenseOrder) string {
	if o == nil {
		return "(none)"
	}
	return fmt.Sprintf("%s %s %s/%s", o.Name, o.Spec.Change, o.Status.State, o.Status.Reason)
}

// updatePlan changes the plan's spec as a user does, again on a conflict (the operator writes the
// plan's finalizers and status).
func (r *run) updatePlan(mutate func(*v1alpha1.CustomerLicensePlan)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p := &v1alpha1.CustomerLicensePlan{}
		if err := k8sClient.Get(r.ctx, client.ObjectKey{Namespace: r.ns, Name: r.w.plan}, p); err != nil {
			return err
		}
		mutate(p)
		return k8sClient.Update(r.ctx, p)
	})
}

// travel moves the run's fake clock and pokes the plan, as the requeue at that time would (the
// controllers' timers run on real time, the business rules on the fake clock), like
// internal/controller's travel.
func (r *run) travel(to time.Time) error {
	r.clock.SetTime(to)
	patch := client.RawPatch(types.MergePatchType,
		fmt.Appendf(nil, `{"metadata":{"annotations":{"test.licensing.partnerops.io/now":%q}}}`, to.Format(time.RFC3339)))
	return k8sClient.Patch(r.ctx, &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.w.plan}}, patch)
}
