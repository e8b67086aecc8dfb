package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// settled reports whether the operator has decided on the plan's current spec: its Ready
// condition is of the current generation and either True or not waiting on an order.
func settled(p *v1alpha1.CustomerLicensePlan) bool {
	c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
	return c != nil && c.ObservedGeneration == p.Generation &&
		(c.Status == "True" || c.Reason != v1alpha1.ReasonOrderPending)
}

// waitForPlans polls until every CustomerLicensePlan has settled, or warns after timeout.
func waitForPlans(ctx context.Context, c client.Client, timeout time.Duration) error {
	start := time.Now()
	var pending []string
	var total int
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		plans := &v1alpha1.CustomerLicensePlanList{}
		if err := c.List(ctx, plans); err != nil {
			return false, err
		}
		total, pending = len(plans.Items), nil
		for i := range plans.Items {
			if !settled(&plans.Items[i]) {
				pending = append(pending, objectKey(&plans.Items[i]))
			}
		}
		return len(pending) == 0, nil
	})
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case wait.Interrupted(err):
		fmt.Fprintf(os.Stderr, "demo: WARNING: after %s, %d of %d license plans have not settled: %v\n", timeout, len(pending), total, pending)
		return nil
	case err != nil:
		return fmt.Errorf("list the license plans: %w", err)
	}
	fmt.Printf("All %d license plans settled in %.1fs.\n", total, time.Since(start).Seconds())
	return nil
}

// reportUnready prints why each plan that is not Ready is not.
func reportUnready(ctx context.Context, c client.Client) error {
	plans := &v1alpha1.CustomerLicensePlanList{}
	if err := c.List(ctx, plans); err != nil {
		return fmt.Errorf("list the license plans: %w", err)
	}
	header := false
	for i := range plans.Items {
		p := &plans.Items[i]
		cond := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
		if cond != nil && cond.Status == "True" {
			continue
		}
		if !header {
			fmt.Println("\nPlans not Ready:")
			header = true
		}
		if cond == nil {
			fmt.Printf("  %s: no Ready condition yet\n", objectKey(p))
			continue
		}
		fmt.Printf("  %s: %s: %s\n", objectKey(p), cond.Reason, cond.Message)
	}
	return nil
}

// createBackdatedPlan creates globex/pcc-users, started 13 months ago, so that the order history has
// catch-up renewals and every month a statement has something to show.
func createBackdatedPlan(ctx context.Context, c client.Client) error {
	start := licensing.FormatDate(time.Now().UTC().AddDate(-1, -1, 0))
	p := &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: "globex", Name: "pcc-users"},
		Spec: v1alpha1.CustomerLicensePlanSpec{Customer: "Globex Inc.", Product: "pcc-user", Quantity: 3,
			PaymentPlan: v1alpha1.Monthly, StartDate: start, PurchaseReference: "GLX-PO-7702"},
	}
	if err := c.Create(ctx, p); err != nil {
		return fmt.Errorf("create the plan globex/pcc-users: %w", err)
	}
	fmt.Printf("Created globex/pcc-users, started on %s: a New order and one catch-up Renewal per month since.\n", start)
	return nil
}
