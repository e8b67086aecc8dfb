// Package charts holds the operator's Helm chart, license-operator. Its tests check the chart
// against config/, which `make deploy` builds with kustomize: the same CRDs, RBAC, webhooks and
// policy under the same names, wired together, and installable on a control plane.
package charts

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/strvals"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// The chart, rendered as `helm install license-operator charts/license-operator -n
// license-operator-system` would install it, gives its objects the names `make deploy` gives them.
const (
	chart     = "license-operator"
	release   = "license-operator"
	namespace = "license-operator-system"
	root      = ".." // the repository
)

// values turns settings such as "webhooks.enabled=false" into values, as helm's --set does.
func values(settings []string) (map[string]any, error) {
	vals := map[string]any{}
	for _, s := range settings {
		if err := strvals.ParseInto(s, vals); err != nil {
			return nil, fmt.Errorf("--set %s: %w", s, err)
		}
	}
	return vals, nil
}

// renderChart renders the chart as `helm template <release> license-operator --namespace <ns>
// --include-crds --set <settings>` does, with Helm's own packages: the values checked against the
// chart's schema, the CRDs first, then the templates but NOTES.txt in Helm's install order, then
// the hooks.
func renderChart(release, ns string, settings ...string) ([]byte, error) {
	ch, err := loader.Load(chart)
	if err != nil {
		return nil, err
	}
	vals, err := values(settings)
	if err != nil {
		return nil, err
	}
	top, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: release, Namespace: ns, Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, top)
	if err != nil {
		return nil, err
	}
	for name := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, crd := range ch.CRDObjects() {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", crd.Name, crd.File.Data)
	}
	for _, m := range manifests {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	for _, h := range hooks {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return out.Bytes(), nil
}

// lintChart lints the chart as `helm lint --strict license-operator --set <settings>` does: any
// warning fails it.
func lintChart(settings ...string) error {
	vals, err := values(settings)
	if err != nil {
		return err
	}
	var errs []error
	for _, msg := range lint.All(chart, vals, "default", false).Messages {
		if msg.Severity >= support.WarningSev {
			errs = append(errs, msg.Err)
		}
	}
	return errors.Join(errs...)
}

// render renders the chart with the CRDs, for release in ns, with values set.
func render(t *testing.T, release, ns string, settings ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := renderChart(release, ns, settings...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decode(out)
	if err != nil {
		t.Fatalf("the rendered chart: %v", err)
	}
	return objs
}

// decode decodes every object of a stream of YAML documents.
func decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return objs, nil
		} else if err != nil {
			return nil, err
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
			continue // an empty document
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
}

// readConfig decodes the objects of a manifest of config/, or of every manifest of a directory
// of config/, in the order of their names.
func readConfig(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	files := []string{filepath.Join(root, path)}
	if strings.HasSuffix(path, "bases") {
		files, _ = filepath.Glob(filepath.Join(root, path, "*.yaml"))
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		o, err := decode(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		objs = append(objs, o...)
	}
	return objs
}

// rendered is a rendered chart, looked up by kind and name.
type rendered []*unstructured.Unstructured

func (r rendered) all(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func (r rendered) find(kind, name string) *unstructured.Unstructured {
	for _, o := range r {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// get is find, failing the test when there is no such object.
func (r rendered) get(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	o := r.find(kind, name)
	if o == nil {
		t.Fatalf("no %s %s among the rendered objects: %v", kind, name, r.names())
	}
	return o
}

// one is the only object of kind, failing the test unless there is exactly one.
func (r rendered) one(t *testing.T, kind string) *unstructured.Unstructured {
	t.Helper()
	objs := r.all(kind)
	if len(objs) != 1 {
		t.Fatalf("%d objects of kind %s, want 1: %v", len(objs), kind, r.names())
	}
	return objs[0]
}

func (r rendered) names() []string {
	var names []string
	for _, o := range r {
		names = append(names, ref(o))
	}
	sort.Strings(names)
	return names
}

// ref names an object as kind/namespace/name (kind/name when cluster-scoped).
func ref(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// as converts o to a typed object.
func as[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	var typed T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &typed); err != nil {
		t.Fatalf("%s: %v", ref(o), err)
	}
	return &typed
}

// TestChartCopiesConfig checks that the chart's copies of config/ are up to date: the CRDs that
// Helm installs from crds/, and the manifests of files/ that the templates read.
func TestChartCopiesConfig(t *testing.T) {
	copies := map[string]string{ // in the chart -> in the repository (globs)
		"crds/*.yaml":                          "config/crd/bases/*.yaml",
		"files/rbac/role.yaml":                 "config/rbac/role.yaml",
		"files/rbac/leader_election_role.yaml": "config/rbac/leader_election_role.yaml",
		"files/rbac/people/*.yaml":             "config/rbac/people/license_*_role.yaml",
		"files/webhook/manifests.yaml":         "config/webhook/manifests.yaml",
		"files/policy/ledger.yaml":             "config/policy/ledger.yaml",
		"files/policy/assignment_label.yaml":   "config/policy/assignment_label.yaml",
	}
	base := func(paths []string) []string {
		var names []string
		for _, p := range paths {
			names = append(names, filepath.Base(p))
		}
		return names
	}
	for inChart, inConfig := range copies {
		chartFiles, _ := filepath.Glob(filepath.Join(chart, inChart))
		configFiles, _ := filepath.Glob(filepath.Join(root, inConfig))
		if len(configFiles) == 0 {
			t.Errorf("no %s", inConfig)
		}
		if d := cmp.Diff(base(configFiles), base(chartFiles)); d != "" {
			t.Errorf("%s/%s and %s differ (-config +chart); run `make chart`:\n%s", chart, inChart, inConfig, d)
			continue
		}
		for i := range configFiles {
			want, err := os.ReadFile(configFiles[i])
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(chartFiles[i])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; run `make chart`", chartFiles[i], configFiles[i])
			}
		}
	}
}

// variation is a set of values the chart is rendered, linted and checked with.
type variation struct {
	name   string
	values []string
}

var variations = []variation{
	{"defaults", nil},
	{"webhooks disabled", []string{"webhooks.enabled=false"}},
	{"cert-manager disabled", []string{"certManager.enabled=false", "webhooks.caBundle=" + testCABundle}},
	{"service monitor", []string{"prometheus.serviceMonitor.enabled=true"}},
	{"two replicas", []string{"replicaCount=2"}},
	{"metrics disabled", []string{"metrics.enabled=false"}},
	{"metrics certificate of a Secret", []string{"metrics.certSecretName=metrics-tls", "prometheus.serviceMonitor.enabled=true"}},
	{"insecure metrics with a service monitor", []string{"metrics.secure=false", "prometheus.serviceMonitor.enabled=true"}},
	{"no leader election", []string{"leaderElection.enabled=false"}},
	{"lease elsewhere", []string{"leaderElection.namespace=leases", "leaderElection.leaseDuration=30s"}},
}

var testCABundle = base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n"))

func TestLint(t *testing.T) {
	for _, v := range variations {
		if err := lintChart(v.values...); err != nil {
			t.Errorf("%s: %v", v.name, err)
		}
	}
}

// kustomizeObjects are the objects `kustomize build config/default` deploys (but the Namespace,
// which Helm's --create-namespace makes): the chart's defaults must deploy each of them, under the
// same name. When kustomize is at hand ($KUSTOMIZE or bin/kustomize), the test also builds
// config/default and compares.
var kustomizeObjects = []string{
	"ServiceAccount/license-operator-system/license-operator-controller-manager",
	"Role/license-operator-system/license-operator-leader-election-role",
	"RoleBinding/license-operator-system/license-operator-leader-election-rolebinding",
	"ClusterRole/license-operator-manager-role",
	"ClusterRoleBinding/license-operator-manager-rolebinding",
	"ClusterRole/license-approver",
	"ClusterRole/license-catalog-admin",
	"ClusterRole/license-purchaser",
	"ClusterRole/license-viewer",
	"Service/license-operator-system/license-operator-webhook-service",
	"Service/license-operator-system/license-operator-controller-manager-metrics-service",
	"ClusterRole/license-operator-metrics-reader",
	"Deployment/license-operator-system/license-operator-controller-manager",
	"ValidatingAdmissionPolicy/license-operator-ledger",
	"ValidatingAdmissionPolicyBinding/license-operator-ledger",
	"MutatingAdmissionPolicy/license-operator-assignment-plan-label",
	"MutatingAdmissionPolicyBinding/license-operator-assignment-plan-label",
	"ValidatingAdmissionPolicy/license-operator-assignment-plan-label",
	"ValidatingAdmissionPolicyBinding/license-operator-assignment-plan-label",
	"Issuer/license-operator-system/license-operator-selfsigned-issuer",
	"Certificate/license-operator-system/license-operator-serving-cert",
	"MutatingWebhookConfiguration/license-operator-mutating-webhook-configuration",
	"ValidatingWebhookConfiguration/license-operator-validating-webhook-configuration",
	"CustomResourceDefinition/billingprofiles.licensing.partnerops.io",
	"CustomResourceDefinition/customerlicenseplans.licensing.partnerops.io",
	"CustomResourceDefinition/licenseassignments.licensing.partnerops.io",
	"CustomResourceDefinition/licenseorders.licensing.partnerops.io",
	"CustomResourceDefinition/licenseproducts.licensing.partnerops.io",
	"CustomResourceDefinition/notificationsinks.licensing.partnerops.io",
}

// kustomizeBuild lists the objects of `kustomize build config/default` but the Namespace, or
// returns nil when there is no kustomize.
func kustomizeBuild(t *testing.T) []string {
	t.Helper()
	k := os.Getenv("KUSTOMIZE")
	if k == "" {
		k = filepath.Join(root, "bin", "kustomize")
	}
	if _, err := os.Stat(k); err != nil {
		t.Logf("no kustomize at %s (make kustomize): the objects of config/default are not built", k)
		return nil
	}
	out, err := exec.Command(k, "build", filepath.Join(root, "config", "default")).Output()
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	objs, err := decode(out)
	if err != nil {
		t.Fatalf("kustomize build config/default: %v", err)
	}
	var refs []string
	for _, o := range objs {
		if o.GetKind() != "Namespace" {
			refs = append(refs, ref(o))
		}
	}
	return refs
}

func TestDefaultsDeployWhatConfigDefaultDeploys(t *testing.T) {
	r := rendered(render(t, release, namespace))
	names := r.names()
	if built := kustomizeBuild(t); built != nil {
		if d := cmp.Diff(kustomizeObjects, built, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
			t.Errorf("config/default deploys other objects than this test knows (-test +kustomize): update the chart and kustomizeObjects:\n%s", d)
		}
	}
	for _, want := range kustomizeObjects {
		if !slices.Contains(names, want) {
			t.Errorf("no %s among the rendered objects: %v", want, names)
		}
	}
	// What the chart adds: cert-manager's certificate for the metrics server, which otherwise
	// makes a self-signed one.
	extra := "Certificate/license-operator-system/license-operator-metrics-cert"
	if !slices.Contains(names, extra) {
		t.Errorf("no %s among the rendered objects: %v", extra, names)
	}
	if got, want := len(names), len(kustomizeObjects)+1; got != want {
		t.Errorf("%d objects, want %d: %v", got, want, names)
	}

	// The rendered CRDs are config/crd/bases's.
	var crds []string
	for _, o := range readConfig(t, "config/crd/bases") {
		crds = append(crds, ref(o))
		if got := r.find(o.GetKind(), o.GetName()); got != nil && !cmp.Equal(got.Object, o.Object) {
			t.Errorf("%s differs from config/crd/bases's; run `make chart`", ref(o))
		}
	}
	var got []string
	for _, o := range r.all("CustomResourceDefinition") {
		got = append(got, ref(o))
	}
	if d := cmp.Diff(crds, got); d != "" {
		t.Errorf("the rendered CRDs are not config/crd/bases's (-config +chart); run `make chart`:\n%s", d)
	}

	args := as[appsv1.Deployment](t, r.one(t, "Deployment")).Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{
		"--health-probe-bind-address=:8081",
		"--leader-elect",
		"--leader-election-lease-duration=15s",
		"--leader-election-renew-deadline=10s",
		"--leader-election-retry-period=2s",
		"--metrics-bind-address=:8443",
		"--metrics-secure=true",
		"--webhooks=true",
		"--webhook-cert-path=/tmp/k8s-webhook-server/serving-certs",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("the manager's args %q lack %s", args, want)
		}
	}
}

// TestRBACAndPoliciesAreConfigs checks the rules, webhooks and policy the chart renders against
// those of config/: controller-gen generates the manager's ClusterRole and the webhook
// configurations from the markers, so a change there without `make chart` fails here.
func TestRBACAndPoliciesAreConfigs(t *testing.T) {
	r := rendered(render(t, release, namespace))

	rules := func(o *unstructured.Unstructured) any { return o.Object["rules"] }
	if d := cmp.Diff(rules(readConfig(t, "config/rbac/role.yaml")[0]), rules(r.get(t, "ClusterRole", release+"-manager-role"))); d != "" {
		t.Errorf("the manager's ClusterRole's rules differ from config/rbac/role.yaml's (-config +chart); run `make chart`:\n%s", d)
	}
	if d := cmp.Diff(rules(readConfig(t, "config/rbac/leader_election_role.yaml")[0]), rules(r.get(t, "Role", release+"-leader-election-role"))); d != "" {
		t.Errorf("the leader election Role's rules differ from config/rbac/leader_election_role.yaml's (-config +chart); run `make chart`:\n%s", d)
	}

	if d := cmp.Diff(rules(readConfig(t, "config/metrics/metrics_reader_role.yaml")[0]), rules(r.get(t, "ClusterRole", release+"-metrics-reader"))); d != "" {
		t.Errorf("the metrics reader ClusterRole's rules differ from config/metrics/metrics_reader_role.yaml's (-config +chart):\n%s", d)
	}

	// The roles for people: config/rbac/people's names, rules and aggregation labels.
	people, _ := filepath.Glob(filepath.Join(root, "config", "rbac", "people", "license_*_role.yaml"))
	if len(people) != 4 {
		t.Errorf("%d roles for people in config/rbac/people, want 4", len(people))
	}
	for _, path := range people {
		want := readConfig(t, strings.TrimPrefix(path, root+string(filepath.Separator)))[0]
		got := r.get(t, "ClusterRole", want.GetName())
		if d := cmp.Diff(rules(want), rules(got)); d != "" {
			t.Errorf("ClusterRole %s's rules differ from %s's (-config +chart); run `make chart`:\n%s", want.GetName(), path, d)
		}
		aggregation := func(labels map[string]string) map[string]string {
			out := map[string]string{}
			for k, v := range labels {
				if strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-") {
					out[k] = v
				}
			}
			return out
		}
		if d := cmp.Diff(aggregation(want.GetLabels()), aggregation(got.GetLabels())); d != "" {
			t.Errorf("ClusterRole %s's aggregation labels differ from %s's (-config +chart):\n%s", want.GetName(), path, d)
		}
	}

	// The webhooks: config/webhook/manifests.yaml's, pointed at the chart's webhook Service.
	svc := r.get(t, "Service", release+"-webhook-service")
	for _, want := range readConfig(t, "config/webhook/manifests.yaml") {
		got := r.get(t, want.GetKind(), release+"-"+want.GetName())
		webhooks, _, _ := unstructured.NestedSlice(want.Object, "webhooks")
		for _, w := range webhooks {
			service := w.(map[string]any)["clientConfig"].(map[string]any)["service"].(map[string]any)
			service["name"], service["namespace"] = svc.GetName(), svc.GetNamespace()
		}
		if d := cmp.Diff(webhooks, got.Object["webhooks"]); d != "" {
			t.Errorf("%s's webhooks differ from config/webhook/manifests.yaml's (-config +chart); run `make chart`:\n%s", ref(got), d)
		}
	}

	// The ledger: config/policy/ledger.yaml's policy and binding.
	for _, want := range readConfig(t, "config/policy/ledger.yaml") {
		got := r.get(t, want.GetKind(), release+"-ledger")
		if d := cmp.Diff(want.Object["spec"], got.Object["spec"]); d != "" {
			t.Errorf("%s's spec differs from config/policy/ledger.yaml's (-config +chart); run `make chart`:\n%s", ref(got), d)
		}
	}
	// The assignments' plan label: config/policy/assignment_label.yaml's policy and binding.
	for _, want := range readConfig(t, "config/policy/assignment_label.yaml") {
		got := r.get(t, want.GetKind(), release+"-assignment-plan-label")
		if want.GetKind() == "MutatingAdmissionPolicyBinding" || want.GetKind() == "ValidatingAdmissionPolicyBinding" {
			_ = unstructured.SetNestedField(want.Object, release+"-assignment-plan-label", "spec", "policyName")
		}
		if d := cmp.Diff(want.Object["spec"], got.Object["spec"]); d != "" {
			t.Errorf("%s's spec differs from config/policy/assignment_label.yaml's (-config +chart); run `make chart`:\n%s", ref(got), d)
		}
	}
}

// TestWiring renders the chart with each variation and checks that its objects refer to each other
// as they must: the bindings to the ServiceAccount the pods run as, the Services to the pods and
// their ports, the webhook configurations to the webhook Service and its Certificate, the manager's
// flags to the mounted certificates.
func TestWiring(t *testing.T) {
	for _, v := range variations {
		t.Run(v.name, func(t *testing.T) {
			values := map[string]string{}
			for _, kv := range v.values {
				k, val, _ := strings.Cut(kv, "=")
				values[k] = val
			}
			on := func(key string, byDefault bool) bool {
				if val, ok := values[key]; ok {
					return val == "true"
				}
				return byDefault
			}
			checkWiring(t, rendered(render(t, release, namespace, v.values...)), wiring{
				webhooks:       on("webhooks.enabled", true),
				certManager:    on("certManager.enabled", true),
				metrics:        on("metrics.enabled", true),
				secureMetrics:  on("metrics.secure", true),
				serviceMonitor: on("prometheus.serviceMonitor.enabled", false),
				leaderElection: on("leaderElection.enabled", true),
				leaseNamespace: values["leaderElection.namespace"],
				replicas:       values["replicaCount"],
				metricsSecret:  values["metrics.certSecretName"],
			})
		})
	}
	t.Run("another release and namespace", func(t *testing.T) {
		r := rendered(render(t, "lo", "ops"))
		checkWiring(t, r, wiring{webhooks: true, certManager: true, metrics: true, secureMetrics: true, leaderElection: true})
		r.get(t, "Deployment", "lo-license-operator-controller-manager")
		r.get(t, "ClusterRole", "license-viewer") // the roles for people keep their names
	})
	t.Run("the roles for people with a prefix", func(t *testing.T) {
		r := rendered(render(t, release, namespace, "rbac.people.namePrefix=license-operator-"))
		for _, name := range []string{"license-viewer", "license-purchaser", "license-approver", "license-catalog-admin"} {
			r.get(t, "ClusterRole", "license-operator-"+name)
		}
	})
	t.Run("webhooks without cert-manager need a CA bundle", func(t *testing.T) {
		_, err := renderChart(release, namespace, "certManager.enabled=false")
		if err == nil || !strings.Contains(err.Error(), "webhooks.caBundle") {
			t.Errorf("rendered webhooks without cert-manager and without webhooks.caBundle: %v", err)
		}
	})
}

// wiring is what a variation turns on.
type wiring struct {
	webhooks, certManager, metrics, secureMetrics, serviceMonitor, leaderElection bool
	leaseNamespace                                                                string
	replicas                                                                      string
	metricsSecret                                                                 string // the metrics server's own Secret
}

func checkWiring(t *testing.T, r rendered, w wiring) {
	t.Helper()
	dep := as[appsv1.Deployment](t, r.one(t, "Deployment"))
	ns := dep.Namespace
	pod := dep.Spec.Template
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want the manager alone", len(pod.Spec.Containers))
	}
	manager := pod.Spec.Containers[0]
	args := manager.Args
	hasArg := func(arg string) bool { return slices.Contains(args, arg) }
	argWithPrefix := func(prefix string) string {
		for _, a := range args {
			if strings.HasPrefix(a, prefix) {
				return a
			}
		}
		return ""
	}
	port := func(name string) *corev1.ContainerPort {
		for i := range manager.Ports {
			if manager.Ports[i].Name == name {
				return &manager.Ports[i]
			}
		}
		return nil
	}
	// mountedSecret is the Secret mounted at dir, "" when none is.
	mountedSecret := func(dir string) string {
		for _, m := range manager.VolumeMounts {
			if m.MountPath != dir {
				continue
			}
			for _, v := range pod.Spec.Volumes {
				if v.Name == m.Name && v.Secret != nil {
					return v.Secret.SecretName
				}
			}
		}
		return ""
	}

	// The pods: selected by the Deployment, restricted, probed on 8081.
	if !labels(dep.Spec.Selector.MatchLabels).matches(pod.Labels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", dep.Spec.Selector.MatchLabels, pod.Labels)
	}
	wantReplicas := int32(1)
	if w.replicas == "2" {
		wantReplicas = 2
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != wantReplicas {
		t.Errorf("replicas %v, want %d", dep.Spec.Replicas, wantReplicas)
	}
	psc, sc := pod.Spec.SecurityContext, manager.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("the pod's security context %+v is not restricted", psc)
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("the manager's security context %+v is not restricted", sc)
	}
	if p := port("health"); p == nil || p.ContainerPort != 8081 || !hasArg("--health-probe-bind-address=:8081") {
		t.Errorf("the health probes are not served on 8081: ports %+v, args %q", manager.Ports, args)
	}
	for probe, path := range map[*corev1.Probe]string{manager.LivenessProbe: "/healthz", manager.ReadinessProbe: "/readyz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port != intstr.FromString("health") {
			t.Errorf("no probe of %s on the health port: %+v", path, probe)
		}
	}
	if manager.Resources.Limits.Memory().IsZero() || manager.Resources.Requests.Cpu().IsZero() {
		t.Errorf("the manager has no resources: %+v", manager.Resources)
	}

	// RBAC: the bindings bind the ServiceAccount the pods run as.
	sa := pod.Spec.ServiceAccountName
	r.get(t, "ServiceAccount", sa)
	bindings := r.all("ClusterRoleBinding")
	if w.leaderElection {
		bindings = append(bindings, r.all("RoleBinding")...)
	}
	if len(bindings) == 0 {
		t.Errorf("no bindings")
	}
	for _, o := range bindings {
		b := as[rbacv1.RoleBinding](t, o) // a ClusterRoleBinding has the same fields, but the namespace
		if !slices.Contains(b.Subjects, rbacv1.Subject{Kind: "ServiceAccount", Name: sa, Namespace: ns}) {
			t.Errorf("%s binds %+v, not the ServiceAccount %s/%s", ref(o), b.Subjects, ns, sa)
		}
		r.get(t, b.RoleRef.Kind, b.RoleRef.Name)
	}

	// Leader election.
	leaseNS := ns
	if w.leaseNamespace != "" {
		leaseNS = w.leaseNamespace
	}
	if w.leaderElection {
		for _, want := range []string{"--leader-elect", "--leader-election-renew-deadline=10s", "--leader-election-retry-period=2s"} {
			if !hasArg(want) {
				t.Errorf("the manager's args %q lack %s", args, want)
			}
		}
		if got := argWithPrefix("--leader-election-lease-duration="); got == "" {
			t.Errorf("the manager's args %q lack --leader-election-lease-duration", args)
		}
		// In a cluster, the lease is in the pod's own namespace unless the flag says otherwise.
		wantFlag := ""
		if w.leaseNamespace != "" {
			wantFlag = "--leader-election-namespace=" + w.leaseNamespace
		}
		if argWithPrefix("--leader-election-namespace=") != wantFlag {
			t.Errorf("the manager's args %q: the lease's namespace should be %s", args, leaseNS)
		}
		role := r.one(t, "Role")
		if role.GetNamespace() != leaseNS {
			t.Errorf("the leader election Role is in %s, the lease in %s", role.GetNamespace(), leaseNS)
		}
		if rb := r.one(t, "RoleBinding"); rb.GetNamespace() != leaseNS {
			t.Errorf("the leader election RoleBinding is in %s, the lease in %s", rb.GetNamespace(), leaseNS)
		}
	} else {
		if argWithPrefix("--leader-elect") != "" {
			t.Errorf("leader election is off, yet the manager's args are %q", args)
		}
		if len(r.all("Role")) != 0 {
			t.Errorf("leader election is off, yet there is a Role")
		}
	}

	// The webhooks: the configurations call the webhook Service, which reaches the pods' port
	// 9443, whose server serves the Secret of the Certificate whose CA cert-manager injects.
	webhookConfigs := append(r.all("MutatingWebhookConfiguration"), r.all("ValidatingWebhookConfiguration")...)
	const webhookCertPath = "/tmp/k8s-webhook-server/serving-certs"
	if !w.webhooks {
		if len(webhookConfigs) != 0 || r.servicePort("webhook-server") != nil {
			t.Errorf("webhooks are off, yet they are rendered: %v", r.names())
		}
		if !hasArg("--webhooks=false") || argWithPrefix("--webhook-cert-path") != "" || port("webhook-server") != nil {
			t.Errorf("webhooks are off, yet the manager's args are %q and its ports %+v", args, manager.Ports)
		}
	} else {
		if len(webhookConfigs) != 2 {
			t.Errorf("%d webhook configurations, want 2", len(webhookConfigs))
		}
		if !hasArg("--webhooks=true") || !hasArg("--webhook-cert-path="+webhookCertPath) {
			t.Errorf("the manager's args %q do not serve the webhooks with the certificate at %s", args, webhookCertPath)
		}
		secret := mountedSecret(webhookCertPath)
		if secret == "" {
			t.Errorf("no Secret mounted at %s", webhookCertPath)
		}
		p := port("webhook-server")
		if p == nil || p.ContainerPort != 9443 {
			t.Errorf("the manager does not expose 9443 as webhook-server: %+v", manager.Ports)
		}
		svc := checkService(t, r, dep, "webhook-server", 443)
		for _, o := range webhookConfigs {
			webhooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
			for _, wh := range webhooks {
				cc := as[admissionregistrationv1.WebhookClientConfig](t, &unstructured.Unstructured{Object: wh.(map[string]any)["clientConfig"].(map[string]any)})
				if cc.Service == nil || cc.Service.Name != svc.Name || cc.Service.Namespace != svc.Namespace || cc.Service.Port != nil {
					t.Errorf("%s calls %+v, not the Service %s/%s", ref(o), cc.Service, svc.Namespace, svc.Name)
				}
				if w.certManager == (len(cc.CABundle) != 0) {
					t.Errorf("%s: caBundle %q with cert-manager %v", ref(o), cc.CABundle, w.certManager)
				}
				// The operator's own writes are kept away by its user name: the ServiceAccount the pods run as.
				conditions, _, _ := unstructured.NestedSlice(wh.(map[string]any), "matchConditions")
				for _, c := range conditions {
					expr := c.(map[string]any)["expression"].(string)
					if !strings.Contains(expr, "system:serviceaccount:") {
						continue
					}
					if want := "request.userInfo.username != 'system:serviceaccount:" + ns + ":" + pod.Spec.ServiceAccountName + "'"; expr != want {
						t.Errorf("%s: the matchCondition %q, want %q", ref(o), expr, want)
					}
				}
			}
		}
		if w.certManager {
			cert := as[certificate](t, r.certificateFor(t, secret))
			wantDNS := []string{svc.Name + "." + svc.Namespace + ".svc", svc.Name + "." + svc.Namespace + ".svc.cluster.local"}
			if d := cmp.Diff(wantDNS, cert.Spec.DNSNames); d != "" {
				t.Errorf("the webhook Certificate's dnsNames are not the webhook Service's (-want +got):\n%s", d)
			}
			if cert.Spec.SecretName != secret {
				t.Errorf("the webhook Certificate writes the Secret %s; the manager serves %s", cert.Spec.SecretName, secret)
			}
			r.get(t, cert.Spec.IssuerRef.Kind, cert.Spec.IssuerRef.Name)
			for _, o := range webhookConfigs {
				if got, want := o.GetAnnotations()["cert-manager.io/inject-ca-from"], cert.Namespace+"/"+cert.Name; got != want {
					t.Errorf("%s: cert-manager.io/inject-ca-from is %q, want %q", ref(o), got, want)
				}
			}
		} else {
			for _, o := range webhookConfigs {
				if _, ok := o.GetAnnotations()["cert-manager.io/inject-ca-from"]; ok {
					t.Errorf("%s asks cert-manager for its CA, yet cert-manager is off", ref(o))
				}
			}
		}
	}
	if !w.certManager && (len(r.all("Certificate")) != 0 || len(r.all("Issuer")) != 0) {
		t.Errorf("cert-manager is off, yet there are Certificates or Issuers: %v", r.names())
	}

	// Metrics: the Service's port 8443 reaches the manager's metrics server, which serves the
	// Secret of cert-manager's metrics Certificate; the ServiceMonitor scrapes that Service.
	const metricsCertPath = "/tmp/k8s-metrics-server/metrics-certs"
	scheme := map[bool]string{true: "https", false: "http"}[w.secureMetrics]
	if !w.metrics {
		if !hasArg("--metrics-bind-address=0") || r.servicePort("https") != nil || r.servicePort("http") != nil {
			t.Errorf("metrics are off, yet the manager's args are %q and the objects %v", args, r.names())
		}
	} else {
		if !hasArg("--metrics-bind-address=:8443") || !hasArg(fmt.Sprintf("--metrics-secure=%v", w.secureMetrics)) {
			t.Errorf("the manager's args %q do not serve metrics on :8443 (secure: %v)", args, w.secureMetrics)
		}
		if p := port(scheme); p == nil || p.ContainerPort != 8443 {
			t.Errorf("the manager does not expose 8443 as %s: %+v", scheme, manager.Ports)
		}
		svc := checkService(t, r, dep, scheme, 8443)
		secret := mountedSecret(metricsCertPath)
		if w.secureMetrics && w.metricsSecret != "" {
			if secret != w.metricsSecret || !hasArg("--metrics-cert-path="+metricsCertPath) {
				t.Errorf("the manager serves metrics with %q mounted at %s, not %s (args %q)", secret, metricsCertPath, w.metricsSecret, args)
			}
			if n := len(r.all("Certificate")); n != 1 {
				t.Errorf("%d Certificates, want the webhooks' alone: %v", n, r.names())
			}
		} else if w.secureMetrics && w.certManager {
			cert := as[certificate](t, r.certificateFor(t, secret))
			if cert.Spec.SecretName != secret || !hasArg("--metrics-cert-path="+metricsCertPath) {
				t.Errorf("the metrics Certificate writes the Secret %s; the manager serves %q from %s (args %q)", cert.Spec.SecretName, secret, metricsCertPath, args)
			}
			if d := cmp.Diff([]string{svc.Name + "." + svc.Namespace + ".svc", svc.Name + "." + svc.Namespace + ".svc.cluster.local"}, cert.Spec.DNSNames); d != "" {
				t.Errorf("the metrics Certificate's dnsNames are not the metrics Service's (-want +got):\n%s", d)
			}
		} else if secret != "" || argWithPrefix("--metrics-cert-path") != "" {
			t.Errorf("no metrics certificate, yet the manager's args are %q and it mounts %s", args, secret)
		}
		if w.secureMetrics && r.metricsReader(t) == nil {
			t.Errorf("no ClusterRole that may get /metrics: %v", r.names())
		}
		if w.serviceMonitor {
			sm := as[serviceMonitor](t, r.one(t, "ServiceMonitor"))
			if !labels(sm.Spec.Selector.MatchLabels).matches(svc.Labels) || sm.Namespace != svc.Namespace {
				t.Errorf("the ServiceMonitor selects %v, not the metrics Service %v", sm.Spec.Selector.MatchLabels, svc.Labels)
			}
			for _, o := range r.all("Service") {
				if o.GetName() != svc.Name && labels(sm.Spec.Selector.MatchLabels).matches(o.GetLabels()) {
					t.Errorf("the ServiceMonitor also selects %s", ref(o))
				}
			}
			if len(sm.Spec.Endpoints) != 1 {
				t.Fatalf("the ServiceMonitor has %d endpoints, want 1", len(sm.Spec.Endpoints))
			}
			e := sm.Spec.Endpoints[0]
			if e.Port != scheme || e.Scheme != scheme || e.Path != "/metrics" {
				t.Errorf("the ServiceMonitor scrapes %+v, want %s://:%s/metrics", e, scheme, scheme)
			}
			if w.secureMetrics {
				if e.BearerTokenFile == "" || e.TLSConfig == nil {
					t.Errorf("the ServiceMonitor scrapes secure metrics without a token or TLS: %+v", e)
				} else if secret != "" && (e.TLSConfig.InsecureSkipVerify || e.TLSConfig.CA.Secret.Name != secret || e.TLSConfig.ServerName != svc.Name+"."+svc.Namespace+".svc") {
					t.Errorf("the ServiceMonitor does not verify the metrics certificate of %s: %+v", secret, e.TLSConfig)
				}
			}
		}
	}
	if !(w.metrics && w.serviceMonitor) && len(r.all("ServiceMonitor")) != 0 {
		t.Errorf("a ServiceMonitor without metrics or without prometheus.serviceMonitor.enabled")
	}
}

// servicePort is the Service with a port named name, nil when there is none.
func (r rendered) servicePort(name string) *unstructured.Unstructured {
	for _, o := range r.all("Service") {
		ports, _, _ := unstructured.NestedSlice(o.Object, "spec", "ports")
		for _, p := range ports {
			if p.(map[string]any)["name"] == name {
				return o
			}
		}
	}
	return nil
}

// certificateFor is the cert-manager Certificate that writes the Secret secret.
func (r rendered) certificateFor(t *testing.T, secret string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range r.all("Certificate") {
		if s, _, _ := unstructured.NestedString(o.Object, "spec", "secretName"); s == secret {
			return o
		}
	}
	t.Fatalf("no Certificate writes the Secret %q: %v", secret, r.names())
	return nil
}

// metricsReader is the ClusterRole that may get /metrics, nil when there is none.
func (r rendered) metricsReader(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	for _, o := range r.all("ClusterRole") {
		for _, rule := range as[rbacv1.ClusterRole](t, o).Rules {
			if slices.Contains(rule.NonResourceURLs, "/metrics") && slices.Contains(rule.Verbs, "get") {
				return o
			}
		}
	}
	return nil
}

// checkService checks that the Service with a port named portName exists, selects the
// Deployment's pods and reaches the container port of that name, and returns it.
func checkService(t *testing.T, r rendered, dep *appsv1.Deployment, portName string, port int32) *corev1.Service {
	t.Helper()
	for _, o := range r.all("Service") {
		svc := as[corev1.Service](t, o)
		for _, p := range svc.Spec.Ports {
			if p.Name != portName {
				continue
			}
			if p.Port != port || p.TargetPort != intstr.FromString(portName) {
				t.Errorf("%s's port %+v, want %d to the container port %s", ref(o), p, port, portName)
			}
			if svc.Namespace != dep.Namespace || !labels(svc.Spec.Selector).matches(dep.Spec.Template.Labels) {
				t.Errorf("%s selects %v, not the manager's pods %v", ref(o), svc.Spec.Selector, dep.Spec.Template.Labels)
			}
			return svc
		}
	}
	t.Fatalf("no Service with a port %s: %v", portName, r.names())
	return nil
}

type labels map[string]string

// matches tells whether the selector l selects an object with these labels.
func (l labels) matches(of map[string]string) bool {
	if len(l) == 0 {
		return false
	}
	for k, v := range l {
		if of[k] != v {
			return false
		}
	}
	return true
}

// certificate is the part of a cert-manager Certificate the tests read.
type certificate struct {
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		DNSNames   []string `json:"dnsNames"`
		SecretName string   `json:"secretName"`
		IssuerRef  struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"issuerRef"`
	} `json:"spec"`
}

// serviceMonitor is the part of a Prometheus Operator ServiceMonitor the tests read.
type serviceMonitor struct {
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port            string `json:"port"`
			Scheme          string `json:"scheme"`
			Path            string `json:"path"`
			BearerTokenFile string `json:"bearerTokenFile"`
			TLSConfig       *struct {
				ServerName         string `json:"serverName"`
				InsecureSkipVerify bool   `json:"insecureSkipVerify"`
				CA                 struct {
					Secret struct {
						Name string `json:"name"`
					} `json:"secret"`
				} `json:"ca"`
			} `json:"tlsConfig"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// TestInstall installs the rendered chart onto a control plane (envtest): the CRDs, which must
// become Established, then every object whose kind the API server serves (all but cert-manager's
// Issuer and Certificates), and checks with SubjectAccessReviews that the manager's ServiceAccount
// holds the permissions of config/rbac/role.yaml and of leader election.
func TestInstall(t *testing.T) {
	logf.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	objs := rendered(render(t, release, namespace))

	env := &envtest.Environment{}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("start the control plane: run the tests with `make test`, which finds or builds kube-apiserver and etcd: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Helm's --create-namespace, then the CRDs, as Helm installs them before the templates.
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		t.Fatal(err)
	}
	crds := objs.all("CustomResourceDefinition")
	if len(crds) != 6 {
		t.Errorf("%d CRDs, want 6", len(crds))
	}
	for _, crd := range crds {
		if err := c.Create(ctx, crd); err != nil {
			t.Fatalf("create %s: %v", ref(crd), err)
		}
	}
	for _, crd := range crds {
		err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(crd.GroupVersionKind())
			if err := c.Get(ctx, client.ObjectKeyFromObject(crd), got); err != nil {
				return false, err
			}
			conditions, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, cond := range conditions {
				if m := cond.(map[string]any); m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("CRD %s is not Established: %v", crd.GetName(), err)
		}
	}

	// The templates.
	var created []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			continue
		}
		if _, err := c.RESTMapper().RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version); apimeta.IsNoMatchError(err) {
			if o.GroupVersionKind().Group != "cert-manager.io" {
				t.Errorf("the API server does not serve %s", ref(o))
			}
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if err := c.Create(ctx, o.DeepCopy()); err != nil {
			t.Errorf("create %s: %v", ref(o), err)
			continue
		}
		created = append(created, o)
	}
	var kinds []string
	for _, o := range created {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		if err := c.Get(ctx, client.ObjectKeyFromObject(o), got); err != nil {
			t.Errorf("get %s: %v", ref(o), err)
		}
		if !slices.Contains(kinds, o.GetKind()) {
			kinds = append(kinds, o.GetKind())
		}
	}
	sort.Strings(kinds)
	wantKinds := []string{"ClusterRole", "ClusterRoleBinding", "Deployment", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration", "Role", "RoleBinding", "Service",
		"ServiceAccount", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration"}
	if d := cmp.Diff(wantKinds, kinds); d != "" {
		t.Errorf("the kinds installed (-want +got):\n%s", d)
	}

	// The manager's ServiceAccount may do what config/rbac/role.yaml and leader election allow,
	// and not more.
	user := "system:serviceaccount:" + namespace + ":" + release + "-controller-manager"
	allowed := func(attrs authorizationv1.ResourceAttributes) bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &attrs,
		}}
		if err := c.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		return sar.Status.Allowed
	}
	for _, o := range readConfig(t, "config/rbac/role.yaml") {
		for _, rule := range as[rbacv1.ClusterRole](t, o).Rules {
			for _, group := range rule.APIGroups {
				for _, resource := range rule.Resources {
					res, sub, _ := strings.Cut(resource, "/")
					for _, verb := range rule.Verbs {
						if !allowed(authorizationv1.ResourceAttributes{Namespace: "customer", Verb: verb, Group: group, Resource: res, Subresource: sub}) {
							t.Errorf("%s may not %s %s in group %q", user, verb, resource, group)
						}
					}
				}
			}
		}
	}
	if !allowed(authorizationv1.ResourceAttributes{Namespace: namespace, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}) {
		t.Errorf("%s may not update its Lease in %s", user, namespace)
	}
	for _, attrs := range []authorizationv1.ResourceAttributes{
		{Namespace: "customer", Verb: "delete", Group: "licensing.partnerops.io", Resource: "licenseorders"},
		{Namespace: "customer", Verb: "update", Group: "licensing.partnerops.io", Resource: "customerlicenseplans"},
		// Trial claims are Leases the manager creates, reads and takes over in customer
		// namespaces; it never deletes one.
		{Namespace: "customer", Verb: "delete", Group: "coordination.k8s.io", Resource: "leases"},
		// Entitlement Secrets are written and watched in customer namespaces (only those labelled
		// licensing.partnerops.io/entitlement are cached); the manager never deletes a Secret.
		{Namespace: "customer", Verb: "delete", Resource: "secrets"},
		{Namespace: namespace, Verb: "delete", Resource: "secrets"},
	} {
		if allowed(attrs) {
			t.Errorf("%s may %s %s in %s", user, attrs.Verb, attrs.Resource, attrs.Namespace)
		}
	}
}
