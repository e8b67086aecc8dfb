// Package webhook holds the admission webhooks of license-operator. They answer kubectl and GitOps
// at once, with the same business rules (internal/licensing) the controllers apply: they default
// and check plans, preview the order a change would place, record who changed a plan, keep
// LicenseOrders and the status of plans and assignments to the operator, judge what people write in
// metadata (the cancellation finalizer, requested-by, an assignment's plan label), let approvers
// approve (never their own orders under separation of duties), and refuse assignments that no
// license covers.
//
// The API server calls a webhook only for the requests it has something to say about: the
// matchConditions of the markers keep the operator's own writes of orders and of status away from
// the webhooks that would allow them at once, a plan's updates of metadata the webhooks do not
// judge away from the plan's webhooks, and an assignment's updates away from its webhook unless
// its plan label changed. The markers name the operator as config/default deploys it,
// system:serviceaccount:license-operator-system:license-operator-controller-manager; the chart
// renders its own ServiceAccount there. What a webhook held the operator to as well, that an
// order's Approved condition never changes once set, the CRD holds (x-kubernetes-validations). An
// assignment's plan label is set by a MutatingAdmissionPolicy (config/policy), not a webhook.
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
	statusValidatePath    = "/validate-licensing-partnerops-io-v1alpha1-status"
)

// SetupWithManager registers every webhook with the manager's webhook server. operator is the user
// name the operator itself acts as (OperatorUsername): only it may write LicenseOrders.
func SetupWithManager(mgr ctrl.Manager, clk clock.PassiveClock, operator string) error {
	// The webhooks judge with what the manager's cache holds, and read from the API server only
	// what the cache does not hold yet and what a refusal rests on: what was applied a moment
	// before (kubectl apply -f of a directory, GitOps) never refuses, and a correct request costs
	// no read of the API server.
	c := mgr.GetClient()
	live := mgr.GetAPIReader()
	server := mgr.GetWebhookServer()
	server.Register(planMutatePath, &webhook.Admission{Handler: &planDefaulter{client: cacheFirst{cache: c, live: live}, judge: judging(c, live), clock: clk}})
	server.Register(orderStatusMutatePath, &webhook.Admission{Handler: &approvalStamper{operator: operator, clock: clk}})
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
		WithValidator(&assignmentValidator{client: c, live: live}).Complete()
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
