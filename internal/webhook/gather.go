package webhook

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// readers are where admission reads: cache is the manager's cache, live the API server, and
// objects what the catalog and the BillingProfile are read from, either cacheFirst (to judge) or
// live (to confirm a refusal).
type readers struct {
	cache, live, objects client.Reader
}

// judging reads the catalog and the BillingProfile from the cache, and from the API server what the
// cache does not hold.
func judging(cache, live client.Reader) readers {
	return readers{cache: cache, live: live, objects: cacheFirst{cache: cache, live: live}}
}

// confirming reads the catalog and the BillingProfile from the API server: a refusal rests on what
// the API server holds, so that a cache a moment behind (a product or a cost center applied just
// before, with kubectl apply -f of a directory or GitOps) never refuses.
func (r readers) confirming() readers {
	return readers{cache: r.cache, live: r.live, objects: r.live}
}

// cacheFirst reads an object from the manager's cache and, when the cache does not hold it, from
// the API server: an object created a moment before counts at once, and a correct request costs
// no read of the API server. Lists come from the cache.
type cacheFirst struct {
	cache, live client.Reader
}

func (r cacheFirst) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := r.cache.Get(ctx, key, obj, opts...)
	if apierrors.IsNotFound(err) {
		return r.live.Get(ctx, key, obj, opts...)
	}
	return err
}

func (r cacheFirst) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return r.cache.List(ctx, list, opts...)
}

// previewInput gathers what the rules and the preview need to judge a plan's spec, as the plan
// controller gathers it: the catalog and the BillingProfile from r.objects, the customer's plans,
// the plan's orders and assignments from the cache, and the customer's trials from the API server.
func previewInput(ctx context.Context, r readers, p *v1alpha1.CustomerLicensePlan, clk clock.PassiveClock) (licensing.PreviewInput, error) {
	c, live := r.cache, r.live
	in := licensing.PreviewInput{Plan: p.Name, DueInput: licensing.DueInput{
		Spec: p.Spec, Status: p.Status, Created: p.CreationTimestamp.Time, Now: clk.Now(),
		ExpiredWithSpec: licensing.ExpiredOnSpec(p.Spec, p.Status, nil, p.Generation),
	}}
	if in.Created.IsZero() {
		in.Created = in.Now
	}
	var err error
	if in.Catalog, err = lookup.PlanCatalog(ctx, r.objects, p); err != nil {
		return in, err
	}
	profile, err := lookup.GetProfile(ctx, r.objects)
	if err != nil {
		return in, err
	}
	if profile != nil {
		in.Profile = &profile.Spec
	}
	in.Currency = licensing.Currency(in.Profile)
	if in.OtherPlans, _, err = lookup.CustomerPlans(ctx, c, p); err != nil {
		return in, err
	}
	if p.Spec.PaymentPlan == v1alpha1.Trial {
		trials, err := lookup.TrialOrders(ctx, live, p.Namespace, p.Spec.Customer, p.Spec.Product)
		if err != nil {
			return in, err
		}
		in.PriorTrials = licensing.PriorTrials(trials, p.Name, nil)
	}
	if in.Latest, in.RenewalRefused, err = latestOrder(ctx, c, live, p, in.DueInput); err != nil {
		return in, err
	}
	in.Assigned, err = lookup.CountCachedAssignments(ctx, c, p.Namespace, p.Name)
	return in, err
}

// latestOrder returns the plan's latest order, from the cache (which holds every order not
// fulfilled), and whether it refused the renewal of the plan's term with a refusal that stands,
// as the plan controller judges it (licensing.RenewalRefusal): the preview then quotes the Expiry
// the plan will record rather than a Renewal it will not place, and says when an open order holds
// what the spec asks for (licensing.WaitsFor). A plan being created has no orders of its own; a
// rule's refusal is judged again with what the API server holds, a charge too large at the
// catalog's prices now (due).
func latestOrder(ctx context.Context, c, live client.Reader, p *v1alpha1.CustomerLicensePlan, due licensing.DueInput) (*v1alpha1.LicenseOrder, bool, error) {
	if p.UID == "" {
		return nil, false, nil
	}
	orders, err := lookup.Orders(ctx, c, p.Namespace, p.Name)
	if err != nil {
		return nil, false, err
	}
	own, _ := licensing.OwnOrders(p, orders)
	if len(own) == 0 {
		return nil, false, nil
	}
	latest := &own[len(own)-1]
	if !licensing.RefusedRenewal(latest, p.Status) {
		return latest, false, nil
	}
	var revalidated *licensing.Verdict
	if latest.Status.Reason == v1alpha1.ReasonChargeTooLarge {
		v := licensing.JudgeChargeAgain(due, p.Status, latest)
		revalidated = &v
	}
	if licensing.NeedsRevalidation(latest) {
		rules, err := lookup.ReadOrderInput(ctx, live, p, latest)
		if err != nil {
			return nil, false, err
		}
		v := licensing.ValidateOrder(rules)
		revalidated = &v
	}
	v, _ := licensing.RenewalRefusal(latest, p.Status, revalidated)
	return latest, !v.Passed(), nil
}
