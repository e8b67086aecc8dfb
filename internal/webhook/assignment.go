package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// +kubebuilder:webhook:path=/validate-licensing-partnerops-io-v1alpha1-licenseassignment,mutating=false,failurePolicy=fail,sideEffects=None,groups=licensing.partnerops.io,resources=licenseassignments,verbs=create;update,versions=v1alpha1,name=vlicenseassignment.licensing.partnerops.io,admissionReviewVersions=v1

// assignmentValidator refuses a new assignment when every license of its plan is assigned, unless
// the plan is being increased to cover it, as the portal refuses a user or endpoint that no
// license covers. It holds the label licensing.partnerops.io/plan equal to spec.plan, on create and
// on every update: the label is how a plan's assignments are found.
type assignmentValidator struct {
	client client.Reader
	// plans reads the plan from the API server: an increase just made lets its assignments in.
	plans client.Reader
}

func (v *assignmentValidator) ValidateCreate(ctx context.Context, a *v1alpha1.LicenseAssignment) (admission.Warnings, error) {
	if err := planLabelMirrors(a); err != nil {
		return nil, err
	}
	plan := &v1alpha1.CustomerLicensePlan{}
	if err := v.plans.Get(ctx, client.ObjectKey{Namespace: a.Namespace, Name: a.Spec.Plan}, plan); err != nil {
		if apierrors.IsNotFound(err) {
			return admission.Warnings{fmt.Sprintf("plan %q does not exist (yet): the assignment is not Assigned until it does and has a free license", a.Spec.Plan)}, nil
		}
		return nil, apierrors.NewInternalError(err)
	}
	assigned, err := lookup.CountCachedAssignments(ctx, v.client, a.Namespace, a.Spec.Plan)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if v := licensing.AssignmentRoom(plan.Name, plan.Spec, plan.Status, assigned); !v.Passed() {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "LicenseAssignment"}, a.Name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "plan"), a.Spec.Plan, v.Message)})
	}
	return nil, nil
}

func (v *assignmentValidator) ValidateUpdate(_ context.Context, _, a *v1alpha1.LicenseAssignment) (admission.Warnings, error) {
	return nil, planLabelMirrors(a)
}

// planLabelMirrors checks that an assignment's label licensing.partnerops.io/plan is its spec.plan.
func planLabelMirrors(a *v1alpha1.LicenseAssignment) error {
	got, ok := a.Labels[v1alpha1.PlanLabel]
	if ok && got == a.Spec.Plan {
		return nil
	}
	path := field.NewPath("metadata", "labels").Key(v1alpha1.PlanLabel)
	if !ok {
		return apierrors.NewInvalid(schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "LicenseAssignment"}, a.Name,
			field.ErrorList{field.Required(path, fmt.Sprintf("the label mirrors spec.plan (%q), by which a plan's assignments are found: keep it", a.Spec.Plan))})
	}
	return apierrors.NewInvalid(schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "LicenseAssignment"}, a.Name,
		field.ErrorList{field.Invalid(path, got, fmt.Sprintf("the label mirrors spec.plan (%q), by which a plan's assignments are found, and changes with it only: to move the assignment, delete it and create another", a.Spec.Plan))})
}

func (v *assignmentValidator) ValidateDelete(context.Context, *v1alpha1.LicenseAssignment) (admission.Warnings, error) {
	return nil, nil
}

// +kubebuilder:webhook:path=/mutate-licensing-partnerops-io-v1alpha1-licenseassignment,mutating=true,failurePolicy=fail,sideEffects=None,groups=licensing.partnerops.io,resources=licenseassignments,verbs=create,versions=v1alpha1,name=mlicenseassignment.licensing.partnerops.io,admissionReviewVersions=v1

// assignmentLabeler gives a new assignment the label licensing.partnerops.io/plan with its
// spec.plan, so that `kubectl get lasg -l licensing.partnerops.io/plan=<plan>` lists a plan's
// assignments; spec.plan never changes, so neither does the label, and no controller writes it.
type assignmentLabeler struct{}

func (assignmentLabeler) Handle(_ context.Context, req admission.Request) admission.Response {
	obj := map[string]any{}
	if err := json.Unmarshal(req.Object.Raw, &obj); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	plan, _ := mapOf(obj, "spec")["plan"].(string)
	labels := mapOf(mapOf(obj, "metadata"), "labels")
	if plan == "" || labels[v1alpha1.PlanLabel] == plan {
		return admission.Allowed("")
	}
	labels[v1alpha1.PlanLabel] = plan
	raw, err := json.Marshal(obj)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, raw)
}
