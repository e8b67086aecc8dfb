package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// +kubebuilder:webhook:path=/mutate-licensing-partnerops-io-v1alpha1-customerlicenseplan,mutating=true,failurePolicy=fail,sideEffects=None,groups=licensing.partnerops.io,resources=customerlicenseplans,verbs=create;update,versions=v1alpha1,name=mcustomerlicenseplan.licensing.partnerops.io,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"create-spec-or-requested-by-changed","expression":"request.operation == 'CREATE' || object.spec != oldObject.spec || (has(object.metadata.annotations) && 'licensing.partnerops.io/requested-by' in object.metadata.annotations ? object.metadata.annotations['licensing.partnerops.io/requested-by'] : '') != (has(oldObject.metadata.annotations) && 'licensing.partnerops.io/requested-by' in oldObject.metadata.annotations ? oldObject.metadata.annotations['licensing.partnerops.io/requested-by'] : '')"}]}`
// +kubebuilder:webhook:path=/validate-licensing-partnerops-io-v1alpha1-customerlicenseplan,mutating=false,failurePolicy=fail,sideEffects=None,groups=licensing.partnerops.io,resources=customerlicenseplans,verbs=create;update,versions=v1alpha1,name=vcustomerlicenseplan.licensing.partnerops.io,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"create-spec-requested-by-or-cancellation-finalizer-changed","expression":"request.operation == 'CREATE' || object.spec != oldObject.spec || (has(object.metadata.annotations) && 'licensing.partnerops.io/requested-by' in object.metadata.annotations ? object.metadata.annotations['licensing.partnerops.io/requested-by'] : '') != (has(oldObject.metadata.annotations) && 'licensing.partnerops.io/requested-by' in oldObject.metadata.annotations ? oldObject.metadata.annotations['licensing.partnerops.io/requested-by'] : '') || (has(oldObject.metadata.finalizers) && 'licensing.partnerops.io/cancellation' in oldObject.metadata.finalizers && !(has(object.metadata.finalizers) && 'licensing.partnerops.io/cancellation' in object.metadata.finalizers))"}]}`

// planDefaulter records who changed a plan's spec, fills in its defaults, and gives a new plan the
// cancellation finalizer. It edits the object
// as JSON, so that nothing else the user wrote is re-encoded: a Go round trip would rewrite
// renewBefore "168h" as "168h0m0s".
//
// The requested-by annotation is the user of the request that created the plan or last changed
// its spec; on any other update it keeps its value, so nobody can set it to someone else.
//
// The API server calls it for a create, and for an update that changes the spec or the
// requested-by annotation (the matchCondition above): another update of the metadata (a label, a
// finalizer, GitOps' own annotations) leaves both as they are.
//
// On a server-side dry run of a create or a spec change, it also writes the preview of the orders
// the change would place into the plan the dry run answers with, as data (the preview annotation,
// licensing.PlanPreview as JSON): the plan as it would be stored (its defaults, its status) judged
// with what planValidator judges it with, by the same functions, so that tools read the very
// preview the warnings state, without reading the warnings. An annotation rather than a warning
// of JSON: the API server cuts every warning to 256 characters once a request's warnings pass 4
// KiB, and a backdated plan's preview of its catch-up renewals is longer than that. A create or a
// spec change that is not a dry run has the annotation removed: a dry run's answer applied as it
// is stores no preview.
type planDefaulter struct {
	// client reads the BillingProfile: the cache, or the API server when the cache has none.
	client client.Reader
	// judge is where a dry run's preview reads, as planValidator does (judging).
	judge readers
	clock clock.PassiveClock
}

func (d *planDefaulter) Handle(ctx context.Context, req admission.Request) admission.Response {
	obj, old := map[string]any{}, map[string]any{}
	if err := json.Unmarshal(req.Object.Raw, &obj); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if req.Operation == admissionv1.Update {
		if err := json.Unmarshal(req.OldObject.Raw, &old); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
	}
	meta := mapOf(obj, "metadata")
	spec := mapOf(obj, "spec")
	annotations := mapOf(meta, "annotations")
	delete(annotations, v1alpha1.PreviewAnnotation)
	specChanged := req.Operation == admissionv1.Create || !reflect.DeepEqual(old["spec"], obj["spec"])
	if specChanged {
		annotations[v1alpha1.RequestedByAnnotation] = req.UserInfo.Username
	} else if was, ok := mapOf(mapOf(old, "metadata"), "annotations")[v1alpha1.RequestedByAnnotation]; ok {
		annotations[v1alpha1.RequestedByAnnotation] = was
	} else {
		delete(annotations, v1alpha1.RequestedByAnnotation)
	}
	if len(annotations) == 0 {
		delete(meta, "annotations")
	}

	if req.Operation == admissionv1.Create {
		if _, ok := spec["startDate"]; !ok {
			spec["startDate"] = string(licensing.FormatDate(d.clock.Now()))
		}
		// The finalizer that holds a deleted plan until its Cancellation is recorded, set here
		// rather than by a later write of the operator.
		finalizers, _ := meta["finalizers"].([]any)
		if !slices.Contains(finalizers, any(v1alpha1.CancellationFinalizer)) {
			meta["finalizers"] = append(finalizers, v1alpha1.CancellationFinalizer)
		}
	}
	if cc, _ := spec["costCenter"].(string); cc == "" {
		profile, err := lookup.GetProfile(ctx, d.client)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if profile != nil {
			if def := licensing.EffectiveCostCenter("", &profile.Spec); def != "" {
				spec["costCenter"] = def
			}
		}
	}
	if specChanged && req.DryRun != nil && *req.DryRun {
		preview, err := d.preview(ctx, obj, req)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if preview != "" {
			mapOf(meta, "annotations")[v1alpha1.PreviewAnnotation] = preview
		}
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, raw)
}

// preview is the preview of the plan obj (defaulted) as JSON, "" when its spec would be refused
// (planValidator refuses it) or the plan is being deleted (its spec no longer changes). The plan is
// judged with the status the API server keeps, whatever the request holds (it sets the status after
// the mutating webhooks, before planValidator): none for a create, the stored plan's for an update.
func (d *planDefaulter) preview(ctx context.Context, obj map[string]any, req admission.Request) (string, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	p := &v1alpha1.CustomerLicensePlan{}
	if err := json.Unmarshal(raw, p); err != nil {
		return "", err
	}
	p.Status = v1alpha1.CustomerLicensePlanStatus{}
	if req.Operation == admissionv1.Update {
		old := &v1alpha1.CustomerLicensePlan{}
		if err := json.Unmarshal(req.OldObject.Raw, old); err != nil {
			return "", err
		}
		p.Status = old.Status
	}
	if !p.DeletionTimestamp.IsZero() {
		return "", nil
	}
	in, verdict, err := judgeSpec(ctx, d.judge, p, d.clock)
	if err != nil || !verdict.Passed() {
		return "", err
	}
	data, err := json.Marshal(licensing.PreviewOf(in))
	return string(data), err
}

// mapOf returns m[key] as a map, creating it when it is missing.
func mapOf(m map[string]any, key string) map[string]any {
	if v, ok := m[key].(map[string]any); ok {
		return v
	}
	v := map[string]any{}
	m[key] = v
	return v
}

// planValidator refuses a change of a plan's spec that the business rules would reject, with a
// message naming the field and the value, and previews in admission warnings the order the change
// will place and its charge. `kubectl apply --dry-run=server` shows that preview without changing
// anything. A requirement on another plan is only warned about: plans declared together wait for
// each other.
//
// It also judges what a person writes in a plan's metadata: only the operator removes the
// cancellation finalizer (a plan deleted without it would skip its Cancellation order), the
// requested-by annotation names the user of the request that created the plan or last changed
// its spec (planDefaulter sets it: this holds it against any later mutation), and the spec of a
// plan being deleted no longer changes. The API server calls it for a create, and for an update that
// changes the spec or the requested-by annotation or removes the cancellation finalizer (the
// matchCondition above): it allows every other update of the metadata.
type planValidator struct {
	// client is the manager's cache: the spec is judged with the catalog and the BillingProfile
	// it holds (or, for what it does not hold, the API server's).
	client client.Reader
	// live reads from the API server: a refusal is judged again with the catalog and the
	// BillingProfile it holds, and stands only if that refuses too.
	live  client.Reader
	clock clock.PassiveClock
	// operator is the user name the operator acts as.
	operator string
}

func (v *planValidator) ValidateCreate(ctx context.Context, p *v1alpha1.CustomerLicensePlan) (admission.Warnings, error) {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if err := requestedByOf(p, req.UserInfo.Username); err != nil {
		return nil, err
	}
	return v.validate(ctx, p)
}

func (v *planValidator) ValidateUpdate(ctx context.Context, old, p *v1alpha1.CustomerLicensePlan) (admission.Warnings, error) {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	user := req.UserInfo.Username
	specChanged := !reflect.DeepEqual(old.Spec, p.Spec)
	if user != v.operator {
		if slices.Contains(old.Finalizers, v1alpha1.CancellationFinalizer) && !slices.Contains(p.Finalizers, v1alpha1.CancellationFinalizer) {
			return nil, apierrors.NewForbidden(planResource, p.Name, fmt.Errorf(
				"metadata.finalizers: the finalizer %s holds plan %s until its Cancellation order is recorded, and only the operator (%s) removes it: delete the plan, and the operator removes it once the Cancellation is recorded",
				v1alpha1.CancellationFinalizer, p.Name, v.operator))
		}
		if specChanged && !old.DeletionTimestamp.IsZero() {
			return nil, apierrors.NewForbidden(planResource, p.Name, fmt.Errorf(
				"spec: plan %s is being deleted and its Cancellation order is being recorded: its spec no longer changes; declare a new plan once it is gone", p.Name))
		}
	}
	if specChanged {
		if err := requestedByOf(p, user); err != nil {
			return nil, err
		}
	} else if was, now := old.Annotations[v1alpha1.RequestedByAnnotation], p.Annotations[v1alpha1.RequestedByAnnotation]; was != now {
		return nil, requestedByInvalid(p, now, fmt.Sprintf("the annotation keeps its value %q until the spec changes", was))
	}
	if !specChanged || !p.DeletionTimestamp.IsZero() {
		return nil, nil // metadata only, or the operator's write of a plan being deleted
	}
	return v.validate(ctx, p)
}

// planResource is the resource of CustomerLicensePlans, in refusals.
var planResource = v1alpha1.GroupVersion.WithResource("customerlicenseplans").GroupResource()

// requestedByOf checks that the requested-by annotation of a plan created or changed by user
// names user.
func requestedByOf(p *v1alpha1.CustomerLicensePlan, user string) error {
	if got := p.Annotations[v1alpha1.RequestedByAnnotation]; got != user {
		return requestedByInvalid(p, got, fmt.Sprintf("it names the user who created the plan or last changed its spec, %q", user))
	}
	return nil
}

func requestedByInvalid(p *v1alpha1.CustomerLicensePlan, value, why string) error {
	return apierrors.NewInvalid(schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "CustomerLicensePlan"}, p.Name,
		field.ErrorList{field.Invalid(field.NewPath("metadata", "annotations").Key(v1alpha1.RequestedByAnnotation), value,
			"set by the operator's admission only: "+why)})
}

func (v *planValidator) ValidateDelete(context.Context, *v1alpha1.CustomerLicensePlan) (admission.Warnings, error) {
	return nil, nil
}

func (v *planValidator) validate(ctx context.Context, p *v1alpha1.CustomerLicensePlan) (admission.Warnings, error) {
	in, verdict, err := judgeSpec(ctx, judging(v.client, v.live), p, v.clock)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if !verdict.Passed() {
		path, value := fieldOf(verdict.Reason, p)
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "CustomerLicensePlan"}, p.Name,
			field.ErrorList{field.Invalid(path, value, verdict.Reason+": "+verdict.Message)})
	}
	return preface(ctx, licensing.PreviewOf(in).Sentences()), nil
}

// judgeSpec gathers what the rules need to judge the plan's spec, with r, and judges it. The cache
// may be a moment behind: a refusal stands only on what the API server holds, and is judged again
// with that.
func judgeSpec(ctx context.Context, r readers, p *v1alpha1.CustomerLicensePlan, clk clock.PassiveClock) (licensing.PreviewInput, licensing.Verdict, error) {
	in, err := previewInput(ctx, r, p, clk)
	if err != nil {
		return in, licensing.Verdict{}, err
	}
	verdict := licensing.JudgeSpec(in)
	if !verdict.Passed() {
		if in, err = previewInput(ctx, r.confirming(), p, clk); err != nil {
			return in, licensing.Verdict{}, err
		}
		verdict = licensing.JudgeSpec(in)
	}
	return in, verdict, nil
}

// fieldOf names the spec field a refusal of the plan is about, and its value.
func fieldOf(reason string, plan *v1alpha1.CustomerLicensePlan) (*field.Path, any) {
	p, spec := field.NewPath("spec"), plan.Spec
	switch reason {
	case v1alpha1.ReasonTrialNotOffered:
		if licensing.IsTrial(plan.Status) && spec.Product != plan.Status.Product {
			return p.Child("product"), spec.Product // a trial stays on its product
		}
		return p.Child("paymentPlan"), spec.PaymentPlan
	case v1alpha1.ReasonPaymentPlanNotOffered, v1alpha1.ReasonTrialUsed:
		return p.Child("paymentPlan"), spec.PaymentPlan
	case v1alpha1.ReasonTrialTooLarge:
		return p.Child("quantity"), spec.Quantity
	case v1alpha1.ReasonUnknownCostCenter:
		return p.Child("costCenter"), spec.CostCenter
	case v1alpha1.ReasonStartDateOutOfRange:
		return p.Child("startDate"), spec.StartDate
	case v1alpha1.ReasonUsageBelowMinimum, v1alpha1.ReasonChargeTooLarge:
		return p.Child("quantity"), spec.Quantity
	}
	return p.Child("product"), spec.Product
}

// preface marks the preview as what would happen on a dry run, and what will happen otherwise.
func preface(ctx context.Context, lines []string) admission.Warnings {
	if len(lines) == 0 {
		return nil
	}
	verb := "will"
	if req, err := admission.RequestFromContext(ctx); err == nil && req.DryRun != nil && *req.DryRun {
		verb = "would"
	}
	out := make(admission.Warnings, len(lines))
	for i, l := range lines {
		out[i] = fmt.Sprintf("license-operator %s place %s", verb, l)
		if i > 0 {
			out[i] = "license-operator " + l
		}
	}
	return out
}
