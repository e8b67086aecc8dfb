// Package cachecfg says what the operator's informer cache holds, for every manager that runs the
// operator's controllers (cmd, the test suites, make demo): memory is paid per object cached.
package cachecfg

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Options are the cache options of the operator's manager:
//   - no object keeps its managedFields or kubectl's last-applied-configuration annotation, which
//     the operator never reads;
//   - of the LicenseOrders, only those not Fulfilled: the orders in flight and the refused ones.
//     Fulfilled orders are the order history, which grows every term; a plan reads the few it has
//     not applied yet from the API server. Memory thus stays flat as history grows;
//   - of the LicenseAssignments, the most numerous objects (several per plan), no assignee: the
//     operator counts them per plan and writes their Assigned condition, and reads nothing else;
//   - of the Secrets and ConfigMaps, only the operator's own: those of the entitlements (labelled
//     licensing.partnerops.io/entitlement). Nobody else's Secret is read, nor held in memory.
func Options() cache.Options {
	return cache.Options{
		DefaultTransform: stripUnread,
		ByObject: map[client.Object]cache.ByObject{
			&v1alpha1.LicenseOrder{}:      {Field: fields.OneTermNotEqualSelector("status.state", string(v1alpha1.OrderFulfilled))},
			&v1alpha1.LicenseAssignment{}: {Transform: stripAssignment},
			&corev1.Secret{}:              {Label: entitlements},
			&corev1.ConfigMap{}:           {Label: entitlements},
		},
	}
}

// entitlements selects the operator's Secrets and ConfigMaps.
var entitlements = labels.SelectorFromSet(nil).Add(must(labels.NewRequirement(v1alpha1.EntitlementLabel, selection.Exists, nil)))

func must(r *labels.Requirement, err error) labels.Requirement {
	if err != nil {
		panic(err)
	}
	return *r
}

// stripAssignment drops what the operator never reads from an assignment: stripUnread, and its
// assignee.
func stripAssignment(in any) (any, error) {
	out, err := stripUnread(in)
	if a, ok := out.(*v1alpha1.LicenseAssignment); ok && err == nil {
		a.Spec.Assignee = v1alpha1.Assignee{}
	}
	return out, err
}

// lastApplied is the annotation `kubectl apply` keeps a copy of the whole object in.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

var stripManagedFields = cache.TransformStripManagedFields()

// stripUnread drops what the operator never reads from an object before it is cached.
func stripUnread(in any) (any, error) {
	out, err := stripManagedFields(in)
	if o, ok := out.(client.Object); ok && err == nil {
		if a := o.GetAnnotations(); a[lastApplied] != "" {
			delete(a, lastApplied)
			o.SetAnnotations(a)
		}
	}
	return out, err
}
