package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// +kubebuilder:webhook:path=/mutate-licensing-partnerops-io-v1alpha1-licenseorder-status,mutating=true,failurePolicy=fail,sideEffects=None,groups=licensing.partnerops.io,resources=licenseorders/status,verbs=update,versions=v1alpha1,name=mlicenseorder-status.licensing.partnerops.io,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"not-the-operator","expression":"request.userInfo.username != 'system:serviceaccount:license-operator-system:license-operator-controller-manager'"}]}`
// +kubebuilder:webhook:path=/validate-licensing-partnerops-io-v1alpha1-licenseorder,mutating=false,failurePolicy=fail,sideEffects=None,groups=licensing.partnerops.io,resources=licenseorders;licenseorders/status,verbs=create;update,versions=v1alpha1,name=vlicenseorder.licensing.partnerops.io,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"not-the-operator","expression":"request.userInfo.username != 'system:serviceaccount:license-operator-system:license-operator-controller-manager'"}]}`

// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// approvalStamper completes the Approved condition an approver adds to an order: the reason
// (Approved or Denied) when it is empty, the approver's name in the message, and the time, so that
// approving takes one kubectl command and the order says who approved it.
type approvalStamper struct {
	operator string
	clock    clock.PassiveClock
}

func (s *approvalStamper) Handle(_ context.Context, req admission.Request) admission.Response {
	if req.UserInfo.Username == s.operator {
		return admission.Allowed("")
	}
	obj, old := &v1alpha1.LicenseOrder{}, &v1alpha1.LicenseOrder{}
	if err := json.Unmarshal(req.Object.Raw, obj); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	added := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.OrderApproved)
	if decided, _ := licensing.PersonsDecision(meta.FindStatusCondition(old.Status.Conditions, v1alpha1.OrderApproved)); added == nil || decided {
		return admission.Allowed("")
	}
	if err := licensing.CheckApproval(*added); err != nil {
		// Refused here, before the schema would ask for the reason it leaves empty.
		return admission.Denied(fmt.Sprintf("order %s: %v", obj.Name, err))
	}
	if added.Reason == "" {
		added.Reason = v1alpha1.ReasonApproved
		if added.Status == metav1.ConditionFalse {
			added.Reason = v1alpha1.ReasonDenied
		}
	}
	by := "approved by "
	if added.Status == metav1.ConditionFalse {
		by = "denied by "
	}
	added.Message = by + req.UserInfo.Username + suffix(added.Message)
	added.LastTransitionTime = metav1.NewTime(s.clock.Now().Truncate(time.Second))
	added.ObservedGeneration = obj.Generation
	raw, err := json.Marshal(obj)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, raw)
}

func suffix(message string) string {
	if message == "" {
		return ""
	}
	return ": " + message
}

// orderValidator keeps LicenseOrders to the operator: nobody else may create or change one, spec
// and metadata alike (labels, annotations, finalizers: the plan label is how a plan's history is
// found, and orders are a ledger), except that a person with the verb approve on licenseorders may
// add the Approved condition (True to approve, False to deny) to an order awaiting approval, unless
// the BillingProfile's separation of duties keeps them from deciding an order they requested.
// Approved never changes once set, not even by the operator.
type orderValidator struct {
	// client is the manager's client: the BillingProfile is read from its cache.
	client client.Client
	// live reads the BillingProfile from the API server, to confirm a refusal.
	live     client.Reader
	operator string
}

func (v *orderValidator) ValidateCreate(ctx context.Context, o *v1alpha1.LicenseOrder) (admission.Warnings, error) {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if req.UserInfo.Username == v.operator {
		return nil, nil
	}
	return nil, apierrors.NewForbidden(v1alpha1.GroupVersion.WithResource("licenseorders").GroupResource(), o.Name,
		fmt.Errorf("LicenseOrders are placed by the operator only (%s): change the CustomerLicensePlan's spec to order", v.operator))
}

func (v *orderValidator) ValidateUpdate(ctx context.Context, old, o *v1alpha1.LicenseOrder) (admission.Warnings, error) {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	gr := v1alpha1.GroupVersion.WithResource("licenseorders").GroupResource()
	was := meta.FindStatusCondition(old.Status.Conditions, v1alpha1.OrderApproved)
	if decided, _ := licensing.PersonsDecision(was); decided {
		if now := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.OrderApproved); now == nil || now.Status != was.Status {
			return nil, apierrors.NewForbidden(gr, o.Name, fmt.Errorf("the Approved condition of order %s is %s and never changes once set", o.Name, was.Status))
		}
	}
	if req.UserInfo.Username == v.operator {
		return nil, nil
	}
	if req.SubResource != "status" {
		return nil, apierrors.NewForbidden(gr, o.Name, fmt.Errorf("orders are history: only the operator (%s) changes them; to approve or deny, add the Approved condition through the status subresource", v.operator))
	}
	if err := approvalOnly(old, o); err != nil {
		return nil, apierrors.NewForbidden(gr, o.Name, err)
	}
	allowed, err := v.mayApprove(ctx, req, o)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if !allowed {
		return nil, apierrors.NewForbidden(gr, o.Name, fmt.Errorf("user %q may not approve orders in namespace %s: approving needs the verb approve on licenseorders (the license-approver role)", req.UserInfo.Username, o.Namespace))
	}
	// The separation of duties, as the cached BillingProfile says, and as the API server's says
	// when that refuses.
	profile, err := lookup.GetProfile(ctx, cacheFirst{cache: v.client, live: v.live})
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if licensing.MayDecide(lookup.ProfileSpec(profile), o.Spec.RequestedBy, req.UserInfo.Username) == nil {
		return nil, nil
	}
	if profile, err = lookup.GetProfile(ctx, v.live); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if err := licensing.MayDecide(lookup.ProfileSpec(profile), o.Spec.RequestedBy, req.UserInfo.Username); err != nil {
		return nil, apierrors.NewForbidden(gr, o.Name, err)
	}
	return nil, nil
}

func (v *orderValidator) ValidateDelete(context.Context, *v1alpha1.LicenseOrder) (admission.Warnings, error) {
	return nil, nil
}

// approvalOnly checks that a person's change of an order's status is an approval or a denial of an
// order awaiting approval, and nothing else.
func approvalOnly(old, o *v1alpha1.LicenseOrder) error {
	if old.Status.State != v1alpha1.OrderAwaitingApproval {
		return fmt.Errorf("order %s is %s, not AwaitingApproval: there is nothing to approve", o.Name, old.Status.State)
	}
	added := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.OrderApproved)
	if added == nil {
		return fmt.Errorf("only the operator changes an order's status; an approver adds the Approved condition")
	}
	if err := licensing.CheckApproval(*added); err != nil {
		return fmt.Errorf("order %s: %w", o.Name, err)
	}
	rest, was := o.Status.DeepCopy(), old.Status.DeepCopy()
	meta.RemoveStatusCondition(&rest.Conditions, v1alpha1.OrderApproved)
	meta.RemoveStatusCondition(&was.Conditions, v1alpha1.OrderApproved)
	if !reflect.DeepEqual(*rest, *was) {
		return fmt.Errorf("an approver may add the Approved condition and change nothing else of order %s's status", o.Name)
	}
	return nil
}

// mayApprove asks the API server (a SubjectAccessReview) whether the requesting user has the verb
// approve on the order.
func (v *orderValidator) mayApprove(ctx context.Context, req admission.Request, o *v1alpha1.LicenseOrder) (bool, error) {
	extra := map[string]authorizationv1.ExtraValue{}
	for k, vals := range req.UserInfo.Extra {
		extra[k] = authorizationv1.ExtraValue(vals)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: req.UserInfo.Username, Groups: req.UserInfo.Groups, UID: req.UserInfo.UID, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: o.Namespace, Verb: "approve", Group: v1alpha1.GroupVersion.Group,
			Version: v1alpha1.GroupVersion.Version, Resource: "licenseorders", Name: o.Name,
		},
	}}
	if err := v.client.Create(ctx, sar); err != nil {
		return false, fmt.Errorf("checking the approve permission (SubjectAccessReview): %w", err)
	}
	return sar.Status.Allowed, nil
}
