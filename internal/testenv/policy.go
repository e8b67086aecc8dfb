package testenv

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/internal/samples"
)

// PolicyTimeout bounds how long InstallPolicies waits for the API server to enforce the policies.
const PolicyTimeout = 30 * time.Second

// InstallPolicies creates the admission policies of config/policy under root (the ledger's
// ValidatingAdmissionPolicy and its binding, the MutatingAdmissionPolicy that labels assignments
// with their plan and its binding: every YAML manifest there but kustomization.yaml) on the API
// server c talks to, and returns once the API server enforces them. c must be a cluster admin.
//
// The API server loads policies from its informers and compiles them about once a second, so a
// policy is not in force the moment it is created. Nor does its status tell: status.typeChecking is
// written by kube-controller-manager, which envtest does not run. And the ledger policy cannot be
// tried directly without a LicenseOrder to delete, which only the operator may create. So
// InstallPolicies then creates a probe policy and binding, which refuse one ConfigMap name, and
// tries a dry-run create of that ConfigMap until it is refused. The API server compiles every
// policy and binding its informers hold at once, and its informers receive objects in the order
// they were created: when the probe is refused, the policies created before it are in force too.
// The probe is then deleted. MutatingAdmissionPolicies are loaded by informers of their own: a
// probe MutatingAdmissionPolicy, which labels one ConfigMap name, is tried the same way.
func InstallPolicies(ctx context.Context, c client.Client, root string) error {
	dir := filepath.Join(root, "config", "policy")
	objs, err := samples.Read(dir)
	if err != nil {
		return fmt.Errorf("the policies of %s: %w", dir, err)
	}
	mutating := false
	for _, o := range objs {
		if err := c.Create(ctx, o.Obj); err != nil {
			return fmt.Errorf("create %s %s from %s: %w", o.Obj.GetKind(), o.Obj.GetName(), o.File, err)
		}
		mutating = mutating || o.Obj.GetKind() == "MutatingAdmissionPolicy"
	}
	if err := waitForPolicies(ctx, c); err != nil || !mutating {
		return err
	}
	if err := waitForMutatingPolicies(ctx, c); err != nil {
		return err
	}
	return waitForAssignmentLabel(ctx, c)
}

// waitForAssignmentLabel returns once the API server labels a new LicenseAssignment with its plan.
// A MutatingAdmissionPolicy applies its patch with the schema of the resource, which the API
// server loads for a custom resource a while after the CRD is served; until then it refuses the
// create ("There can be a delay between when CustomResourceDefinitions are created and when they
// are available"), whatever the probe of waitForMutatingPolicies said.
func waitForAssignmentLabel(ctx context.Context, c client.Client) error {
	const plan = "license-operator-policy-probe"
	newAssignment := func() client.Object {
		a := &unstructured.Unstructured{}
		a.SetAPIVersion("licensing.partnerops.io/v1alpha1")
		a.SetKind("LicenseAssignment")
		a.SetNamespace(metav1.NamespaceDefault)
		a.SetName(plan)
		_ = unstructured.SetNestedField(a.Object, plan, "spec", "plan")
		_ = unstructured.SetNestedMap(a.Object, map[string]any{"type": "Other", "name": plan}, "spec", "assignee")
		return a
	}
	return untilDryRun(ctx, c, newAssignment, "label a LicenseAssignment with its plan", func(o client.Object, err error) bool {
		return err == nil && o.GetLabels()["licensing.partnerops.io/plan"] == plan
	})
}

// waitForMutatingPolicies returns once the API server applies the MutatingAdmissionPolicies created
// before it was called, using a probe policy that labels one ConfigMap name (see InstallPolicies).
func waitForMutatingPolicies(ctx context.Context, c client.Client) error {
	probe := "license-operator-policy-probe-" + utilrand.String(5)
	fail := admissionregistrationv1.Fail
	policy := &admissionregistrationv1.MutatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: probe},
		Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
			FailurePolicy:      &fail,
			ReinvocationPolicy: admissionregistrationv1.NeverReinvocationPolicy,
			MatchConstraints:   probeMatch(),
			MatchConditions:    probeCondition(probe),
			Mutations: []admissionregistrationv1.Mutation{{
				PatchType:          admissionregistrationv1.PatchTypeApplyConfiguration,
				ApplyConfiguration: &admissionregistrationv1.ApplyConfiguration{Expression: `Object{metadata: Object.metadata{labels: {"probe": "in-force"}}}`},
			}},
		},
	}
	binding := &admissionregistrationv1.MutatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: probe},
		Spec:       admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{PolicyName: probe},
	}
	return runProbe(ctx, c, policy, binding, func() error { return waitForLabel(ctx, c, probe) })
}

// probeMatch matches the creates of ConfigMaps, and probeCondition the probe's own among them.
func probeMatch() *admissionregistrationv1.MatchResources {
	return &admissionregistrationv1.MatchResources{
		ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
			RuleWithOperations: admissionregistrationv1.RuleWithOperations{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
			},
		}},
	}
}

func probeCondition(probe string) []admissionregistrationv1.MatchCondition {
	return []admissionregistrationv1.MatchCondition{{Name: "probe", Expression: fmt.Sprintf("object.metadata.name == %q", probe)}}
}

// runProbe creates a probe policy and its binding, waits until the API server acts on it, and
// deletes both whether or not it did: the binding first, so that no binding ever names a missing
// policy.
func runProbe(ctx context.Context, c client.Client, policy, binding client.Object, wait func() error) error {
	if err := c.Create(ctx, policy); err != nil {
		return fmt.Errorf("create the probe policy %s: %w", policy.GetName(), err)
	}
	err := c.Create(ctx, binding)
	if err == nil {
		err = wait()
	} else {
		err = fmt.Errorf("create the probe binding %s: %w", binding.GetName(), err)
	}
	for _, o := range []client.Object{binding, policy} {
		if derr := c.Delete(context.WithoutCancel(ctx), o); client.IgnoreNotFound(derr) != nil && err == nil {
			err = fmt.Errorf("delete the policy probe %s: %w", o.GetName(), derr)
		}
	}
	return err
}

// waitForLabel tries a dry-run create of the ConfigMap the probe mutating policy labels until it
// comes back labelled.
func waitForLabel(ctx context.Context, c client.Client, probe string) error {
	return untilDryRun(ctx, c, probeConfigMap(probe), "apply the mutating admission policies", func(cm client.Object, err error) bool {
		return err == nil && cm.GetLabels()["probe"] == "in-force"
	})
}

// probeConfigMap makes the ConfigMap a probe policy acts on, in the namespace default, which
// always exists.
func probeConfigMap(probe string) func() client.Object {
	return func() client.Object {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: probe}}
	}
}

// untilDryRun tries a dry-run create of a new object every 100 ms until done says the API server
// answered as a policy in force makes it, for at most PolicyTimeout. A dry run stores nothing.
func untilDryRun(ctx context.Context, c client.Client, newObj func() client.Object, what string, done func(client.Object, error) bool) error {
	deadline := time.Now().Add(PolicyTimeout)
	for {
		o := newObj()
		err := c.Create(ctx, o, client.DryRunAll)
		if done(o, err) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the API server did not %s within %s (the probe's dry run answered: %v, labels %v)", what, PolicyTimeout, err, o.GetLabels())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitForPolicies returns once the API server enforces the policies created before it was called,
// using a probe policy (see InstallPolicies).
func waitForPolicies(ctx context.Context, c client.Client) error {
	probe := "license-operator-policy-probe-" + utilrand.String(5)
	fail := admissionregistrationv1.Fail
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: probe},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy:    &fail,
			MatchConstraints: probeMatch(),
			MatchConditions:  probeCondition(probe),
			Validations:      []admissionregistrationv1.Validation{{Expression: "false", Message: "the policy probe " + probe + " is in force"}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: probe},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        probe,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	return runProbe(ctx, c, policy, binding, func() error { return waitForRefusal(ctx, c, probe) })
}

// waitForRefusal tries a dry-run create of the ConfigMap the probe policy refuses until it is
// refused.
func waitForRefusal(ctx context.Context, c client.Client, probe string) error {
	return untilDryRun(ctx, c, probeConfigMap(probe), "enforce the admission policies", func(_ client.Object, err error) bool {
		return err != nil && strings.Contains(err.Error(), "ValidatingAdmissionPolicy '"+probe+"'")
	})
}
