// Package webhook holds the admission webhooks of license-operator. They answer kubectl and GitOps
// at once, with the same business rules (internal/licensing) the controllers apply: they default
// and check plans, preview the order a change would place, record who changed a plan, keep
// LicenseOrders and the status of plans and assignments to the operator, judge what people write in
// metadata (the cancellation finalizer, requested-by, an assignment's plan label), let approvers
// approve (never their own orders under separation of duties), and refuse assignments that no
// license covers.
package webhook

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Paths of the webhooks that are not generated from a type.
const (
	planMutatePath        = "/mutate-licensing-partnerops-io-v1alpha1-customerlicenseplan"
	orderStatusMutatePath = "/mutate-licensing-partnerops-io-v1alpha1-licenseorder-status"
	assignmentMutatePath  = "/mutate-licensing-partnerops-io-v1alpha1-licenseassignment"
	statusValidatePath    = "/validate-licensing-partnerops-io-v1alpha1-status"
)

// SetupWithManager registers every webhook with the manager's webhook server. operator is the user
// name the operator itself acts as (OperatorUsername): only it may write LicenseOrders.
func SetupWithManager(mgr ctrl.Manager, clk clock.PassiveClock, operator string) error {
	c := mgr.GetClient()
	// The catalog, the BillingProfile and the plan an assignment names are read from the API
	// server, not the cache: what was applied a moment before (kubectl apply -f of a directory,
	// GitOps) counts at once.
	live := mgr.GetAPIReader()
	server := mgr.GetWebhookServer()
	server.Register(planMutatePath, &webhook.Admission{Handler: &planDefaulter{client: live, clock: clk}})
	server.Register(orderStatusMutatePath, &webhook.Admission{Handler: &approvalStamper{operator: operator, clock: clk}})
	server.Register(assignmentMutatePath, &webhook.Admission{Handler: assignmentLabeler{}})
	server.Register(statusValidatePath, &webhook.Admission{Handler: statusGuard{operator: operator}})
	if err := ctrl.NewWebhookManagedBy(mgr, &v1alpha1.CustomerLicensePlan{}).
		WithValidator(&planValidator{client: c, live: live, clock: clk, operator: operator}).Complete(); err != nil {
		return err
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &v1alpha1.LicenseOrder{}).
		WithValidator(&orderValidator{client: c, live: live, operator: operator}).Complete(); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.LicenseAssignment{}).
		WithValidator(&assignmentValidator{client: c, plans: live}).Complete()
}

// OperatorUsername asks the API server who the operator is (a SelfSubjectReview): in a cluster,
// its service account, system:serviceaccount:<namespace>:<name>.
func OperatorUsername(ctx context.Context, cfg *rest.Config) (string, error) {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return "", err
	}
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who the operator is (SelfSubjectReview): %w", err)
	}
	return review.Status.UserInfo.Username, nil
}
