package plugin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func (a *app) renewalCommand() *cobra.Command {
	var auto, expire bool
	cmd := &cobra.Command{
		Use:   "renewal PLAN --auto|--expire-at-term-end",
		Short: "Renew a plan automatically, or let it expire at the end of its term",
		Long: `The portal's renewal action: set the plan's spec.renewal.policy (a merge patch) to AutoRenew
(--auto: a renewal order is placed before the term ends) or ExpireAtTermEnd (--expire-at-term-end:
the plan expires when its term ends, and an Expiry order records it).`,
		Example: `  kubectl license renewal -n acme endpoints --expire-at-term-end
  kubectl license renewal -n acme endpoints --auto`,
		Args: exactlyOne("PLAN"),
	}
	cmd.Flags().BoolVar(&auto, "auto", false, "renew the plan automatically (AutoRenew)")
	cmd.Flags().BoolVar(&expire, "expire-at-term-end", false, "let the plan expire at the end of its term (ExpireAtTermEnd)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		policy := v1alpha1.AutoRenew
		switch {
		case auto && expire:
			return fmt.Errorf("renewal takes one of --auto and --expire-at-term-end, not both")
		case expire:
			policy = v1alpha1.ExpireAtTermEnd
		case !auto:
			return fmt.Errorf("renewal needs --auto or --expire-at-term-end")
		}
		return a.runRenewal(cmd.Context(), args[0], policy)
	}
	return cmd
}

func (a *app) runRenewal(ctx context.Context, name string, policy v1alpha1.RenewalPolicy) error {
	plan := &v1alpha1.CustomerLicensePlan{}
	c, ns, err := a.get(ctx, "plan", name, plan)
	if err != nil {
		return err
	}
	if plan.Spec.Renewal.Policy == policy {
		_, err := fmt.Fprintf(a.Out, "plan %s/%s: renewal policy is %s already (%s)\n", ns, name, policy, renewalOutlook(plan, policy))
		return err
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"renewal": map[string]any{"policy": policy}}})
	if err != nil {
		return err
	}
	if err := c.Patch(ctx, plan, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(fieldManager)); err != nil {
		return notFound(err, "plan", name, ns)
	}
	_, err = fmt.Fprintf(a.Out, "plan %s/%s: renewal policy set to %s (%s)\n", ns, name, policy, renewalOutlook(plan, policy))
	return err
}

// renewalOutlook says what the policy means for the plan at its renewal date.
func renewalOutlook(p *v1alpha1.CustomerLicensePlan, policy v1alpha1.RenewalPolicy) string {
	date := p.Status.RenewalDate
	switch {
	case p.Status.RenewalAction == v1alpha1.RenewalActionNone:
		return "a one-time plan never renews"
	case date == "":
		return "from its first term"
	case policy == v1alpha1.ExpireAtTermEnd:
		return "the plan expires on " + string(date)
	}
	return "the plan renews on " + string(date)
}
