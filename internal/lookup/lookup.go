// Package lookup holds the reads the controllers and the admission webhooks share: a product, the
// BillingProfile, a plan's orders and assignments, the customer's plans, and what the validation of
// an order needs. A reader is either the manager's cache or the API server, as the caller decides:
// every list here selects by a field that is both a cache index and a selectable field of the API.
package lookup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// GetProduct returns the catalog entry of a product, nil when it does not exist.
func GetProduct(ctx context.Context, c client.Reader, name string) (*v1alpha1.LicenseProduct, error) {
	if name == "" {
		return nil, nil
	}
	p := &v1alpha1.LicenseProduct{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, p); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return p, nil
}

// ProductSpec is a product's spec, nil for no product.
func ProductSpec(p *v1alpha1.LicenseProduct) *v1alpha1.LicenseProductSpec {
	if p == nil {
		return nil
	}
	return &p.Spec
}

// GetProfile returns the BillingProfile named default, nil when it does not exist.
func GetProfile(ctx context.Context, c client.Reader) (*v1alpha1.BillingProfile, error) {
	p := &v1alpha1.BillingProfile{}
	if err := c.Get(ctx, client.ObjectKey{Name: v1alpha1.DefaultBillingProfileName}, p); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return p, nil
}

// ProfileSpec is a BillingProfile's spec, nil for no profile.
func ProfileSpec(p *v1alpha1.BillingProfile) *v1alpha1.BillingProfileSpec {
	if p == nil {
		return nil
	}
	return &p.Spec
}

// ListAssignments returns the LicenseAssignments that name a plan, oldest first.
func ListAssignments(ctx context.Context, c client.Reader, namespace, plan string) ([]v1alpha1.LicenseAssignment, error) {
	list := &v1alpha1.LicenseAssignmentList{}
	if err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{AssignmentPlanField: plan}); err != nil {
		return nil, err
	}
	items := list.Items
	slices.SortFunc(items, func(a, b v1alpha1.LicenseAssignment) int {
		if d := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); d != 0 {
			return d
		}
		return cmpString(a.Name, b.Name)
	})
	return items, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Orders returns a plan's orders in revision order: from the cache, those not fulfilled
// (cachecfg); from the API server, all of them.
func Orders(ctx context.Context, c client.Reader, namespace, plan string) ([]v1alpha1.LicenseOrder, error) {
	list := &v1alpha1.LicenseOrderList{}
	if err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{OrderPlanField: plan}); err != nil {
		return nil, err
	}
	items := list.Items
	slices.SortFunc(items, func(a, b v1alpha1.LicenseOrder) int {
		switch {
		case a.Spec.Revision < b.Spec.Revision:
			return -1
		case a.Spec.Revision > b.Spec.Revision:
			return 1
		}
		return 0
	})
	return items, nil
}

// CustomerPlans returns the customer's other plans in the namespace: those with licenses in
// force (active), and those with none yet whose order is not refused (ordering, counted as what
// they ask for).
func CustomerPlans(ctx context.Context, c client.Reader, plan *v1alpha1.CustomerLicensePlan) (active, ordering []licensing.ActivePlan, err error) {
	list := &v1alpha1.CustomerLicensePlanList{}
	if err := c.List(ctx, list, client.InNamespace(plan.Namespace), client.MatchingFields{PlanCustomerField: plan.Spec.Customer}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, nil, err
	}
	for _, p := range list.Items {
		if p.Name == plan.Name || p.Spec.Customer != plan.Spec.Customer {
			continue
		}
		if licensing.IsActive(p.Status) {
			active = append(active, licensing.ActivePlan{Name: p.Name, Product: p.Status.Product, Licenses: p.Status.Licenses})
			continue
		}
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
		if p.DeletionTimestamp.IsZero() && (ready == nil || ready.Reason == v1alpha1.ReasonOrderPending) {
			ordering = append(ordering, licensing.ActivePlan{Name: p.Name, Product: p.Spec.Product, Licenses: p.Spec.Quantity})
		}
	}
	return active, ordering, nil
}

// The field indexes of the cache. Each is named after the selectable field of the API that the API
// server selects by, so that one name serves the cache and the API server alike.
const (
	// AssignmentPlanField indexes LicenseAssignments by spec.plan.
	AssignmentPlanField = "spec.plan"
	// OrderPlanField indexes LicenseOrders by spec.plan.
	OrderPlanField = "spec.plan"
	// PlanCustomerField indexes CustomerLicensePlans by spec.customer.
	PlanCustomerField = "spec.customer"
	// OrderChangeField is the selectable field spec.change of LicenseOrders; the API server selects
	// by it (it is not a cache index).
	OrderChangeField = "spec.change"
)

// ReadOrderInput reads what the validation of order, an order for plan, needs from live, the API
// server: the decision it serves is final, so it rests on what the API server holds now, not on a
// cache that may lag. The customer's other plans are read only when the product requires one, and
// the customer's trials only for a Trial order.
func ReadOrderInput(ctx context.Context, live client.Reader, plan *v1alpha1.CustomerLicensePlan, order *v1alpha1.LicenseOrder) (licensing.OrderInput, error) {
	o := order.Spec
	// The reads are independent: they go to the API server at once.
	var product, current *v1alpha1.LicenseProduct
	var profile *v1alpha1.BillingProfile
	var assigned int32
	var trials []v1alpha1.LicenseOrder
	errs := make([]error, 5)
	var wg sync.WaitGroup
	wg.Go(func() { product, errs[0] = GetProduct(ctx, live, o.Product) })
	if plan.Status.Product != o.Product {
		wg.Go(func() { current, errs[1] = GetProduct(ctx, live, plan.Status.Product) })
	}
	wg.Go(func() { profile, errs[2] = GetProfile(ctx, live) })
	wg.Go(func() { assigned, errs[3] = CountAssignments(ctx, live, plan.Namespace, plan.Name) })
	if o.Change == v1alpha1.ChangeTrial {
		wg.Go(func() { trials, errs[4] = TrialOrders(ctx, live, plan.Namespace, o.Customer, o.Product) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return licensing.OrderInput{}, err
	}
	if plan.Status.Product == o.Product {
		current = product
	}
	var others []licensing.ActivePlan
	if product != nil && len(product.Spec.Requires) > 0 {
		var err error
		if others, _, err = CustomerPlans(ctx, live, plan); err != nil {
			return licensing.OrderInput{}, err
		}
	}
	return licensing.OrderInput{
		Plan:            plan.Name,
		Change:          o.Change,
		ProductName:     o.Product,
		Product:         ProductSpec(product),
		CurrentProduct:  ProductSpec(current),
		PaymentPlan:     o.PaymentPlan,
		Quantity:        o.Quantity,
		CostCenter:      o.CostCenter,
		Profile:         ProfileSpec(profile),
		OtherPlans:      others,
		Assigned:        assigned,
		HeldPaymentPlan: plan.Status.PaymentPlan,
		PriorTrials:     licensing.PriorTrials(trials, plan.Name, order),
	}, nil
}

// TrialOrders returns the Trial orders of a customer's trials of a product in a namespace, as the
// API server holds them: a list selected by the selectable field spec.change, served from the
// API server's watch cache (as CountAssignments), so that a trial placed by any replica counts.
func TrialOrders(ctx context.Context, live client.Reader, namespace, customer, product string) ([]v1alpha1.LicenseOrder, error) {
	list := &v1alpha1.LicenseOrderList{}
	if err := live.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{OrderChangeField: string(v1alpha1.ChangeTrial)}, fromWatchCache()); err != nil {
		return nil, fmt.Errorf("listing the Trial orders of namespace %s: %w", namespace, err)
	}
	var out []v1alpha1.LicenseOrder
	for _, o := range list.Items {
		if o.Spec.Customer == customer && o.Spec.Product == product {
			out = append(out, o)
		}
	}
	return out, nil
}

// CountCachedAssignments counts the LicenseAssignments that name a plan in the cache, without
// copying them.
func CountCachedAssignments(ctx context.Context, cache client.Reader, namespace, plan string) (int32, error) {
	list := &v1alpha1.LicenseAssignmentList{}
	if err := cache.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{AssignmentPlanField: plan}, client.UnsafeDisableDeepCopy); err != nil {
		return 0, err
	}
	return int32(len(list.Items)), nil
}

// CountAssignments counts the LicenseAssignments that name a plan, as the API server holds them:
// a list of their metadata alone, selected by the selectable field spec.plan, served from the API
// server's watch cache, which trails etcd by the watch's own delay (milliseconds), not by the
// operator's informers.
func CountAssignments(ctx context.Context, live client.Reader, namespace, plan string) (int32, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("LicenseAssignmentList"))
	if err := live.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{AssignmentPlanField: plan}, fromWatchCache()); err != nil {
		return 0, fmt.Errorf("counting the assignments of plan %s: %w", plan, err)
	}
	return int32(len(list.Items)), nil
}

// fromWatchCache serves a list from the API server's watch cache (resourceVersion 0), without
// the wait for that cache to prove itself current which a list at the latest resourceVersion
// costs (30 to 70 ms a call on the bench). A list mutates its options' Raw field: each list has
// its own.
func fromWatchCache() client.ListOption {
	return &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: "0"}}
}

// Catalog returns the catalog entries of the named products that exist, by name.
func Catalog(ctx context.Context, c client.Reader, names ...string) (map[string]*v1alpha1.LicenseProductSpec, error) {
	catalog := make(map[string]*v1alpha1.LicenseProductSpec, len(names))
	for _, name := range names {
		if _, done := catalog[name]; done || name == "" {
			continue
		}
		p, err := GetProduct(ctx, c, name)
		if err != nil {
			return nil, err
		}
		catalog[name] = ProductSpec(p)
	}
	return catalog, nil
}

// PlanCatalog returns the catalog entries a plan's orders are priced from: the products it holds,
// has pending for its next term, and asks for.
func PlanCatalog(ctx context.Context, c client.Reader, plan *v1alpha1.CustomerLicensePlan) (map[string]*v1alpha1.LicenseProductSpec, error) {
	return Catalog(ctx, c, plan.Status.Product, licensing.Scheduled(plan.Status).Product, plan.Spec.Product)
}
