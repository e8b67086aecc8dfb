package webhook

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// +kubebuilder:webhook:path=/validate-licensing-partnerops-io-v1alpha1-status,mutating=false,failurePolicy=fail,sideEffects=None,groups=licensing.partnerops.io,resources=customerlicenseplans/status;licenseassignments/status,verbs=update,versions=v1alpha1,name=vstatus.licensing.partnerops.io,admissionReviewVersions=v1,patch=`{"matchConditions":[{"name":"not-the-operator","expression":"request.userInfo.username != 'system:serviceaccount:license-operator-system:license-operator-controller-manager'"}]}`

// statusGuard keeps the status of plans and assignments to the operator: a plan's status is its
// record of the orders applied (revision, licenses in force, what was billed), and an assignment's
// says whether a license covers it. Nobody else writes them, not even a cluster admin: a status
// written by hand would skip orders or show licenses nobody bought. (An order's status is judged by
// orderValidator: an approver adds the Approved condition there.)
type statusGuard struct {
	operator string
}

func (g statusGuard) Handle(_ context.Context, req admission.Request) admission.Response {
	if req.UserInfo.Username == g.operator {
		return admission.Allowed("")
	}
	return admission.Denied(fmt.Sprintf("the status of %s %s is the operator's record and only the operator (%s) writes it: change the spec, and the operator brings the status along",
		req.Kind.Kind, req.Name, g.operator))
}
