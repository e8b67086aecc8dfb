package controller

import (
	"context"
	"fmt"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;create;update

// Annotations of a trial's claim, for those who read it: whose trial of which product it is.
const (
	claimCustomerAnnotation = "licensing.partnerops.io/customer"
	claimProductAnnotation  = "licensing.partnerops.io/product"
)

// holdTrial makes sure that a Trial order the decision fulfils holds the customer's trial of the
// product: it claims the trial (claimTrial) before the fulfilment is written, and when another
// order holds the claim, decides the order again with that order as the trial used, which refuses
// it (TrialUsed, naming the holder). Every other decision is returned as it is.
func (r *orders) holdTrial(ctx context.Context, snap licensing.OrderSnapshot, d licensing.OrderDecision) (licensing.OrderDecision, error) {
	o := snap.Order
	if o.Spec.Change != v1alpha1.ChangeTrial || d.Status.State != v1alpha1.OrderFulfilled || o.Status.State == v1alpha1.OrderFulfilled {
		return d, nil
	}
	holder, err := r.claimTrial(ctx, o)
	if err != nil || holder == o.Name {
		return d, err
	}
	snap.Rules.PriorTrials = append(snap.Rules.PriorTrials, holder)
	return licensing.DecideOrder(snap)
}

// claimTrial claims the customer's trial of the product for order o and returns the name of the
// order that holds it: o, or another. The claim is a Lease named by licensing.TrialClaimName in
// the order's namespace, whose holderIdentity names the order holding the trial: the API server
// lets one create succeed, whichever replica and worker tries, so two orders judged at once
// cannot both hold it. An order finds its own claim again after a crash between the claim and the
// fulfilment; a claim whose holder was rejected or is gone is taken over, guarded by the Lease's
// resourceVersion. The claim stays when the trial ends or its plan is deleted: it records that the
// customer had the trial.
func (r *orders) claimTrial(ctx context.Context, o *v1alpha1.LicenseOrder) (string, error) {
	claim := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: o.Namespace,
			Name:      licensing.TrialClaimName(o.Spec.Customer, o.Spec.Product),
			Labels:    map[string]string{"app.kubernetes.io/managed-by": "license-operator"},
			Annotations: map[string]string{
				claimCustomerAnnotation: o.Spec.Customer,
				claimProductAnnotation:  o.Spec.Product,
			},
		},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(o.Name)},
	}
	err := r.Create(ctx, claim, client.FieldOwner(FieldOwner))
	if err == nil || !apierrors.IsAlreadyExists(err) {
		if err != nil {
			return "", fmt.Errorf("claiming the trial of %q for customer %q (Lease %s): %w", o.Spec.Product, o.Spec.Customer, claim.Name, err)
		}
		return o.Name, nil
	}
	// Leases are read from the API server: the operator caches none.
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(claim), claim); err != nil {
		return "", fmt.Errorf("reading the claim on the trial of %q for customer %q (Lease %s): %w", o.Spec.Product, o.Spec.Customer, claim.Name, err)
	}
	holder := ptr.Deref(claim.Spec.HolderIdentity, "")
	if holder == o.Name {
		return holder, nil
	}
	if holder != "" {
		h := &v1alpha1.LicenseOrder{}
		switch err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: o.Namespace, Name: holder}, h); {
		case apierrors.IsNotFound(err):
			h = nil
		case err != nil:
			return "", err
		}
		if !licensing.TrialClaimReleased(h) {
			return holder, nil
		}
	}
	claim.Spec.HolderIdentity = ptr.To(o.Name)
	if err := r.Update(ctx, claim, client.FieldOwner(FieldOwner)); err != nil {
		// A conflict: another order took the claim over first; the next try reads who.
		return "", fmt.Errorf("taking over the claim on the trial of %q for customer %q (Lease %s) from order %s: %w", o.Spec.Product, o.Spec.Customer, claim.Name, holder, err)
	}
	return o.Name, nil
}
