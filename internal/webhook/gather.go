package webhook

import (
	"context"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// previewInput gathers what the rules and the preview need to judge a plan's spec, as the plan
// controller gathers it; the catalog, the BillingProfile and the customer's trials come from live.
func previewInput(ctx context.Context, c, live client.Reader, p *v1alpha1.CustomerLicensePlan, clk clock.PassiveClock) (licensing.PreviewInput, error) {
	in := licensing.PreviewInput{Plan: p.Name, DueInput: licensing.DueInput{
		Spec: p.Spec, Status: p.Status, Created: p.CreationTimestamp.Time, Now: clk.Now(),
		ExpiredWithSpec: licensing.ExpiredOnSpec(p.Spec, p.Status, nil, p.Generation),
	}}
	if in.Created.IsZero() {
		in.Created = in.Now
	}
	var err error
	if in.Catalog, err = lookup.PlanCatalog(ctx, live, p); err != nil {
		return in, err
	}
	profile, err := lookup.GetProfile(ctx, live)
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
	in.Assigned, err = lookup.CountCachedAssignments(ctx, c, p.Namespace, p.Name)
	return in, err
}
