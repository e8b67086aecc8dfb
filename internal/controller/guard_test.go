package controller

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
	"github.com/partnerops/license-operator/internal/testenv"
)

// afterListing is a reader that calls a hook after each list of LicenseOrders it serves: what
// happens in the hook happens after the list was read, as it does when a list lags behind.
type afterListing struct {
	client.Reader
	hook func()
}

func (r afterListing) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	err := r.Reader.List(ctx, list, opts...)
	if _, ok := list.(*v1alpha1.LicenseOrderList); ok && r.hook != nil {
		r.hook()
	}
	return err
}

// trialRace holds two trial plans of one customer and product, on a client that keeps names
// unique as the API server does, and the Trial order each plan would place.
type trialRace struct {
	c      client.WithWatch
	clock  *clocktesting.FakeClock
	orders map[string]*v1alpha1.LicenseOrder
}

func newTrialRace(t *testing.T) *trialRace {
	t.Helper()
	now := time.Date(2026, time.March, 10, 9, 30, 0, 0, time.UTC)
	p := &v1alpha1.LicenseProduct{ObjectMeta: metav1.ObjectMeta{Name: "t-trial"}, Spec: v1alpha1.LicenseProductSpec{
		SKU: "T-TRIAL", DisplayName: "t-trial", Family: "Connect", Unit: "User",
		Prices: []v1alpha1.Price{{PaymentPlan: v1alpha1.Monthly, PricePerLicense: "10.00"}},
		Trial:  &v1alpha1.TrialOffer{Days: 30, MaxLicenses: 10}}}
	r := &trialRace{clock: clocktesting.NewFakeClock(now), orders: map[string]*v1alpha1.LicenseOrder{}}
	objs := []client.Object{p}
	for _, name := range []string{"a", "b"} {
		plan := &v1alpha1.CustomerLicensePlan{
			ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: name, CreationTimestamp: metav1.NewTime(now),
				Finalizers: []string{v1alpha1.CancellationFinalizer}, Annotations: map[string]string{v1alpha1.RequestedByAnnotation: "alice"}},
			Spec: v1alpha1.CustomerLicensePlanSpec{Customer: "Acme Corp", Product: "t-trial", Quantity: 5, PaymentPlan: v1alpha1.Trial, StartDate: "2026-03-10"},
		}
		d := licensing.DecidePlan(licensing.PlanSnapshot{Plan: plan, Catalog: map[string]*v1alpha1.LicenseProductSpec{"t-trial": &p.Spec}, Now: now})
		if d.Place == nil || d.Place.Change != v1alpha1.ChangeTrial {
			t.Fatalf("plan %s places %+v, want a Trial order", name, d.Place)
		}
		// Both orders are placed in the same second: their creation times tie.
		r.orders[name] = &v1alpha1.LicenseOrder{
			ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: licensing.OrderName(name, d.Place.Revision),
				CreationTimestamp: metav1.NewTime(now), Labels: map[string]string{v1alpha1.PlanLabel: name}},
			Spec: *d.Place,
		}
		objs = append(objs, plan)
	}
	r.c = fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(objs...).
		WithStatusSubresource(&v1alpha1.LicenseOrder{}, &v1alpha1.CustomerLicensePlan{}).
		WithIndex(&v1alpha1.LicenseOrder{}, lookup.OrderChangeField, func(o client.Object) []string {
			return []string{string(o.(*v1alpha1.LicenseOrder).Spec.Change)}
		}).
		WithIndex(&v1alpha1.LicenseAssignment{}, lookup.AssignmentPlanField, func(o client.Object) []string {
			return []string{o.(*v1alpha1.LicenseAssignment).Spec.Plan}
		}).Build()
	return r
}

// reconciler decides orders as the plan reconciler of one replica does, reading through reader.
func (r *trialRace) reconciler(reader client.Reader) *orders {
	return &orders{Client: r.c, APIReader: reader, Clock: r.clock, Recorder: events.NewFakeRecorder(10), expect: newExpectations()}
}

func (r *trialRace) place(t *testing.T, plan string) {
	t.Helper()
	if err := r.c.Create(context.Background(), r.orders[plan].DeepCopy()); err != nil {
		t.Fatal(err)
	}
}

func (r *trialRace) decide(t *testing.T, rec *orders, plan string) {
	t.Helper()
	o := &v1alpha1.LicenseOrder{}
	if err := r.c.Get(context.Background(), client.ObjectKeyFromObject(r.orders[plan]), o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rec.settle(context.Background(), o, nil); err != nil {
		t.Errorf("deciding %s: %v", o.Name, err)
	}
}

// outcome is each order's state and reason.
func (r *trialRace) outcome(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range r.orders {
		got := &v1alpha1.LicenseOrder{}
		if err := r.c.Get(context.Background(), client.ObjectKeyFromObject(o), got); err != nil {
			t.Fatal(err)
		}
		out[o.Name] = string(got.Status.State) + "/" + got.Status.Reason + " " + got.Status.Message
	}
	return out
}

func fulfilled(out map[string]string) []string {
	var names []string
	for n, s := range out {
		if len(s) >= len(v1alpha1.OrderFulfilled) && s[:len(v1alpha1.OrderFulfilled)] == string(v1alpha1.OrderFulfilled) {
			names = append(names, n)
		}
	}
	return names
}

// Two Trial orders of one customer and product, placed in the same second by two plans, are
// judged at once by two replicas: b-1's replica lists the customer's trials before a-1 exists;
// a-1 is then placed and judged by the other replica, which sees b-1 still open; b-1's decision
// is written last. Exactly one of them is granted the trial, and the other is refused naming it.
func TestTrialClaimRace(t *testing.T) {
	r := newTrialRace(t)
	r.place(t, "b")
	other := r.reconciler(r.c)
	var once sync.Once
	first := r.reconciler(afterListing{Reader: r.c, hook: func() {
		once.Do(func() {
			r.place(t, "a")
			r.decide(t, other, "a")
		})
	}})
	r.decide(t, first, "b")

	out := r.outcome(t)
	if got := fulfilled(out); len(got) != 1 {
		t.Fatalf("%d trials granted to one customer and product, want 1: %v", len(got), out)
	}
	if want := "Rejected/TrialUsed paymentPlan Trial: the customer had a trial of \"t-trial\" already (order a-1)"; out["b-1"][:len(want)] != want {
		t.Errorf("b-1: %s, want it refused naming a-1", out["b-1"])
	}
	claim := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: "acme", Name: licensing.TrialClaimName("Acme Corp", "t-trial")}
	if err := r.c.Get(context.Background(), key, claim); err != nil {
		t.Fatalf("the trial's claim: %v", err)
	}
	if got := ptr.Deref(claim.Spec.HolderIdentity, ""); got != "a-1" {
		t.Errorf("the claim is held by %q, want a-1", got)
	}

	// Judged again, nothing changes: the holder finds its own claim, the other stays refused.
	r.decide(t, other, "a")
	r.decide(t, other, "b")
	if again := r.outcome(t); len(fulfilled(again)) != 1 || again["a-1"] != out["a-1"] {
		t.Errorf("judged again: %v", again)
	}
}

// Two replicas judge two Trial orders truly at once, each seeing the other's order open: one is
// granted, whichever claims first.
func TestTrialClaimConcurrent(t *testing.T) {
	for range 20 {
		r := newTrialRace(t)
		r.place(t, "a")
		r.place(t, "b")
		var listed sync.WaitGroup
		listed.Add(2)
		barrier := func() { listed.Done(); listed.Wait() }
		var wg sync.WaitGroup
		for _, plan := range []string{"a", "b"} {
			rec := r.reconciler(afterListing{Reader: r.c, hook: barrier})
			wg.Go(func() { r.decide(t, rec, plan) })
		}
		wg.Wait()
		if out := r.outcome(t); len(fulfilled(out)) != 1 {
			t.Fatalf("%d trials granted, want 1: %v", len(fulfilled(out)), out)
		}
	}
}

var _ = Describe("One trial per customer and product", func() {
	var ns string
	BeforeEach(func() {
		testCatalog()
		trialCatalog()
		ns = newNamespace()
		fakeClock.SetTime(at("2026-03-10", 9))
	})

	claimOf := func(g Gomega) *coordinationv1.Lease {
		l := &coordinationv1.Lease{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: licensing.TrialClaimName("Acme Corp", "t-trial")}, l)).To(Succeed())
		return l
	}

	It("is claimed by the order granted it; a claim another order holds refuses the next; a claim of an order gone is taken over", func() {
		Expect(k8sClient.Create(ctx, trialPlan(ns, "first", "t-trial", 5))).To(Succeed())
		eventuallyReady(ns, "first")
		claim := claimOf(Default)
		Expect(claim.Spec.HolderIdentity).To(Equal(ptr.To("first-1")))
		Expect(claim.Annotations).To(HaveKeyWithValue("licensing.partnerops.io/product", "t-trial"))
		Expect(claim.Annotations).To(HaveKeyWithValue("licensing.partnerops.io/customer", "Acme Corp"))

		claims := func(customer, holder string) {
			Expect(k8sClient.Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: licensing.TrialClaimName(customer, "t-trial")},
				Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder)}})).To(Succeed())
		}
		trialOf := func(name, customer string) {
			p := trialPlan(ns, name, "t-trial", 5)
			p.Spec.Customer = customer
			Expect(k8sClient.Create(ctx, p)).To(Succeed())
		}
		By("a claim another order holds, as another replica took it the moment before: refused, naming that order")
		claims("Globex", "first-1")
		trialOf("globex", "Globex")
		Eventually(func(g Gomega) {
			o := getOrder(ns, "globex-1")(g)
			g.Expect(describe(o)).To(Equal("globex-1 Trial Rejected/TrialUsed"))
			g.Expect(o.Status.Message).To(ContainSubstring("(order first-1)"))
		}).Should(Succeed())

		By("the order's own claim, taken before a crash and found again: the trial is granted")
		claims("Umbrella", "umbrella-1")
		trialOf("umbrella", "Umbrella")
		eventuallyReady(ns, "umbrella")

		By("a claim whose order is gone is taken over")
		claims("Hooli", "gone-1")
		trialOf("hooli", "Hooli")
		eventuallyReady(ns, "hooli")
		Eventually(func(g Gomega) {
			l := &coordinationv1.Lease{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: licensing.TrialClaimName("Hooli", "t-trial")}, l)).To(Succeed())
			g.Expect(l.Spec.HolderIdentity).To(Equal(ptr.To("hooli-1")))
		}).Should(Succeed())
	})

	It("is something the operator's shipped ClusterRole lets it claim", func() {
		raw, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		role := &rbacv1.ClusterRole{}
		Expect(yaml.Unmarshal(raw, role)).To(Succeed())
		role.Name = "guard-manager-role"
		ensure(role)
		ensure(&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "guard-manager-role"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "license-operator-system", Name: "controller-manager"}}})
		for _, verb := range []string{"create", "get", "update"} {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: "system:serviceaccount:license-operator-system:controller-manager",
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: coordinationv1.GroupName,
					Resource: "leases", Name: licensing.TrialClaimName("Acme Corp", "t-trial")}}}
			Eventually(func(g Gomega) {
				g.Expect(k8sClient.Create(ctx, sar)).To(Succeed())
				g.Expect(sar.Status.Allowed).To(BeTrue(), "%s leases: %s", verb, sar.Status.Reason)
			}).Should(Succeed())
		}
	})
})
