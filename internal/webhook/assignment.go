package webhook

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// +kubebuilder:webhook:path=/validate-licensing-partnerops-io-v1alpha1-licenseassignment,mutating=false,failurePolicy=fail,sideEffects=None,groups=licensing.partnerops.io,resources=licenseassignments,verbs=create,versions=v1alpha1,name=vlicenseassignment.licensing.partnerops.io,admissionReviewVersions=v1,patch=`{"namespaceSelector":{"matchLabels":{"licensing.partnerops.io/over-licensed-assignments":"Refuse"}}}`

// assignmentValidator refuses a new assignment when every license of its plan is assigned, unless
// the plan is being increased to cover it, as the portal refuses a user or endpoint that no license
// covers. The API server calls it only in the namespaces that ask for it: those labelled
// licensing.partnerops.io/over-licensed-assignments=Refuse (the namespaceSelector above). Elsewhere
// an assignment records usage that exists whether or not a license covers it, so it is admitted,
// costs no call out of the API server, and is reported OverLicensed on its status when no license
// covers it. The label licensing.partnerops.io/plan is kept equal to spec.plan by the admission
// policies of config/policy/assignment_label.yaml, not here.
type assignmentValidator struct {
	// client is the manager's cache: the plan and its assignments are read there, and a plan it
	// does not hold yet from live.
	client client.Reader
	// live reads the plan and counts its assignments on the API server when the cache says every
	// license is assigned: a refusal rests on what the API server holds (an increase just made lets
	// its assignments in).
	live client.Reader
}

func (v *assignmentValidator) ValidateCreate(ctx context.Context, a *v1alpha1.LicenseAssignment) (admission.Warnings, error) {
	plan := &v1alpha1.CustomerLicensePlan{}
	key := client.ObjectKey{Namespace: a.Namespace, Name: a.Spec.Plan}
	if err := (cacheFirst{cache: v.client, live: v.live}).Get(ctx, key, plan); err != nil {
		return v.noPlan(a, err)
	}
	assigned, err := lookup.CountCachedAssignments(ctx, v.client, a.Namespace, a.Spec.Plan)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	room := licensing.AssignmentRoom(plan.Name, plan.Spec, plan.Status, assigned)
	if !room.Passed() {
		// Confirmed on the API server: its plan and its count of the plan's assignments.
		if err := v.live.Get(ctx, key, plan); err != nil {
			return v.noPlan(a, err)
		}
		if assigned, err = lookup.CountAssignments(ctx, v.live, a.Namespace, a.Spec.Plan); err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		room = licensing.AssignmentRoom(plan.Name, plan.Spec, plan.Status, assigned)
	}
	if !room.Passed() {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "LicenseAssignment"}, a.Name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "plan"), a.Spec.Plan, room.Message)})
	}
	return nil, nil
}

// noPlan answers an assignment whose plan could not be read: a warning when it does not exist.
func (v *assignmentValidator) noPlan(a *v1alpha1.LicenseAssignment, err error) (admission.Warnings, error) {
	if apierrors.IsNotFound(err) {
		return admission.Warnings{fmt.Sprintf("plan %q does not exist (yet): the assignment is not Assigned until it does and has a free license", a.Spec.Plan)}, nil
	}
	return nil, apierrors.NewInternalError(err)
}

func (v *assignmentValidator) ValidateUpdate(context.Context, *v1alpha1.LicenseAssignment, *v1alpha1.LicenseAssignment) (admission.Warnings, error) {
	return nil, nil
}

func (v *assignmentValidator) ValidateDelete(context.Context, *v1alpha1.LicenseAssignment) (admission.Warnings, error) {
	return nil, nil
}
