package controller

import (
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/lookup"
	"github.com/partnerops/license-operator/internal/testenv"
)

// product builds a catalog entry for tests.
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

// ensure creates an object unless it exists (products are cluster-scoped and shared by tests).
func ensure(o client.Object) {
	if err := k8sClient.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}

func plan(ns, name, productName string, quantity int32, pp v1alpha1.PaymentPlan) *v1alpha1.CustomerLicensePlan {
	return &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.CustomerLicensePlanSpec{
			Customer: "Acme Corp", Product: productName, Quantity: quantity, PaymentPlan: pp, PurchaseReference: "PO-1",
		},
	}
}

func assignment(ns, name, planName string) *v1alpha1.LicenseAssignment {
	return &v1alpha1.LicenseAssignment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.LicenseAssignmentSpec{Plan: planName,
			Assignee: v1alpha1.Assignee{Type: "User", Name: name + "@example.com"}},
	}
}

// getPlan reads a plan through the direct client.
func getPlan(ns, name string) func(Gomega) *v1alpha1.CustomerLicensePlan {
	return func(g Gomega) *v1alpha1.CustomerLicensePlan {
		p := &v1alpha1.CustomerLicensePlan{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p)).To(Succeed())
		return p
	}
}

func getOrder(ns, name string) func(Gomega) *v1alpha1.LicenseOrder {
	return func(g Gomega) *v1alpha1.LicenseOrder {
		o := &v1alpha1.LicenseOrder{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, o)).To(Succeed())
		return o
	}
}

// ordersOf lists a plan's orders in revision order.
func ordersOf(ns, planName string) []v1alpha1.LicenseOrder {
	orders, err := lookup.Orders(ctx, k8sClient, ns, planName)
	Expect(err).NotTo(HaveOccurred())
	return orders
}

// readyReason is the reason of a plan's Ready condition for its current generation.
func readyReason(p *v1alpha1.CustomerLicensePlan) string {
	c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
	if c == nil || c.ObservedGeneration != p.Generation {
		return ""
	}
	return c.Reason
}

// eventuallyReady waits until a plan's spec is in force.
func eventuallyReady(ns, name string) *v1alpha1.CustomerLicensePlan {
	var p *v1alpha1.CustomerLicensePlan
	Eventually(func(g Gomega) {
		p = getPlan(ns, name)(g)
		g.Expect(readyReason(p)).To(Equal(v1alpha1.ReasonInForce), "plan conditions: %v", p.Status.Conditions)
	}).Should(Succeed())
	return p
}

func updatePlan(ns, name string, mutate func(*v1alpha1.CustomerLicensePlan)) {
	Eventually(func(g Gomega) {
		p := getPlan(ns, name)(g)
		mutate(p)
		g.Expect(k8sClient.Update(ctx, p)).To(Succeed())
	}).Should(Succeed())
}

func describe(o *v1alpha1.LicenseOrder) string {
	return fmt.Sprintf("%s %s %s/%s", o.Name, o.Spec.Change, o.Status.State, o.Status.Reason)
}

func objectMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name}
}

// startPlan creates a plan billed from startDate and waits until it is in force.
func startPlan(ns, name, productName string, quantity int32, pp v1alpha1.PaymentPlan, startDate v1alpha1.Date) *v1alpha1.CustomerLicensePlan {
	p := plan(ns, name, productName, quantity, pp)
	p.Spec.StartDate = startDate
	Expect(k8sClient.Create(ctx, p)).To(Succeed())
	return eventuallyReady(ns, name)
}

// startSecondOperator starts a second operator beside the suite's, on the same control plane and
// clock, until the spec ends, and returns once its cache is synced.
func startSecondOperator(options ...Option) {
	second, stop := context.WithCancel(ctx)
	DeferCleanup(stop)
	opts := testenv.ManagerOptions(testEnv, scheme)
	opts.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
	mgr, err := ctrl.NewManager(cfg, opts)
	Expect(err).NotTo(HaveOccurred())
	Expect(SetupWithManager(second, mgr, fakeClock, options...)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(second)).To(Succeed())
	}()
	Expect(mgr.GetCache().WaitForCacheSync(second)).To(BeTrue())
}
