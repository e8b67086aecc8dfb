package plugin

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// pageSize is how many objects one list request asks for: histories are read page by page
// (limit and continue), never in one response.
const pageSize = 250

// fieldManager is the field manager of what the plugin writes or previews.
const fieldManager = "kubectl-license"

// scheme knows the kinds the plugin reads and writes.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(v1alpha1.AddToScheme(s))
	utilruntime.Must(eventsv1.AddToScheme(s))
	utilruntime.Must(corev1.AddToScheme(s))
	return s
}()

// restMapper maps the plugin's kinds to their resources without a discovery round trip: the
// plugin knows which resources it uses.
func restMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	gv := v1alpha1.GroupVersion
	for kind, plural := range map[string]string{
		"CustomerLicensePlan": "customerlicenseplans",
		"LicenseOrder":        "licenseorders",
		"LicenseAssignment":   "licenseassignments",
	} {
		m.AddSpecific(gv.WithKind(kind), gv.WithResource(plural), gv.WithResource(strings.ToLower(kind)), meta.RESTScopeNamespace)
	}
	for kind, plural := range map[string]string{"LicenseProduct": "licenseproducts", "BillingProfile": "billingprofiles"} {
		m.AddSpecific(gv.WithKind(kind), gv.WithResource(plural), gv.WithResource(strings.ToLower(kind)), meta.RESTScopeRoot)
	}
	core := corev1.SchemeGroupVersion
	m.AddSpecific(core.WithKind("Secret"), core.WithResource("secrets"), core.WithResource("secret"), meta.RESTScopeNamespace)
	m.AddSpecific(core.WithKind("ConfigMap"), core.WithResource("configmaps"), core.WithResource("configmap"), meta.RESTScopeNamespace)
	events := eventsv1.SchemeGroupVersion
	m.AddSpecific(events.WithKind("Event"), events.WithResource("events"), events.WithResource("event"), meta.RESTScopeNamespace)
	return m
}

// client is a client of the API server the kubectl flags point at, as the user they name (--as),
// whose admission warnings go to warnings, or, when that is nil, to stderr as kubectl prints them.
func (a *app) client(warnings rest.WarningHandler) (client.Client, error) {
	cfg, err := a.flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	if warnings == nil {
		warnings = rest.NewWarningWriter(a.ErrOut, rest.WarningWriterOptions{Deduplicate: true})
	}
	cfg.WarningHandler, cfg.WarningHandlerWithContext = warnings, nil
	if a.wrap != nil {
		cfg = a.wrap(cfg)
	}
	return client.New(cfg, client.Options{Scheme: scheme, Mapper: restMapper()})
}

// namespace is the namespace of -n, else the kubeconfig context's, else "default".
func (a *app) namespace() (string, error) {
	ns, _, err := a.flags.ToRawKubeConfigLoader().Namespace()
	return ns, err
}

// scope is where a command lists: one namespace, or every namespace with -A.
type scope struct {
	namespace string // "" with -A
}

func (s scope) all() bool { return s.namespace == "" }

func (s scope) listOptions() []client.ListOption {
	if s.all() {
		return nil
	}
	return []client.ListOption{client.InNamespace(s.namespace)}
}

// scope is the namespace the command lists in: every namespace with -A.
func (a *app) scope(allNamespaces bool) (scope, error) {
	if allNamespaces {
		return scope{}, nil
	}
	ns, err := a.namespace()
	return scope{namespace: ns}, err
}

// listPages lists into list page by page, pageSize objects at a time, and calls visit after each
// page, while list holds that page.
func listPages(ctx context.Context, c client.Reader, list client.ObjectList, visit func() error, opts ...client.ListOption) error {
	cont := ""
	for {
		page := append(append([]client.ListOption{}, opts...), client.Limit(pageSize), client.Continue(cont))
		if err := c.List(ctx, list, page...); err != nil {
			return err
		}
		if err := visit(); err != nil {
			return err
		}
		if cont = list.GetContinue(); cont == "" {
			return nil
		}
	}
}

// rbacRefusal matches the message of the API server's authorizer when it refuses a request, such
// as `User "eve" cannot list resource "licenseorders" in API group "licensing.partnerops.io" in
// the namespace "acme"`.
var rbacRefusal = regexp.MustCompile(`cannot (\S+) resource "([^"]+)"(?: in API group "[^"]*")?(?: (in the namespace "([^"]+)"|at the cluster scope))?`)

// explain turns an error of the API server into a sentence a person can act on. The authorizer's
// refusal says which verb is missing where, and how to check it; any other refusal (an admission
// webhook's, the schema's) is the API server's message as it is.
func explain(err error) error {
	if err == nil {
		return nil
	}
	if apierrors.IsForbidden(err) {
		if m := rbacRefusal.FindStringSubmatch(err.Error()); m != nil {
			return errors.New(mayNot(m[1], m[2], m[4], m[3] != "" && m[4] == ""))
		}
	}
	if meta.IsNoMatchError(err) || isResourceMissing(err) {
		return fmt.Errorf("the cluster does not serve %s: install license-operator's CRDs (make install): %w", v1alpha1.GroupVersion, err)
	}
	return err
}

// mayNot says that the user may not do verb on resource in namespace (or across the cluster),
// and how to check it with kubectl auth can-i.
func mayNot(verb, resource, namespace string, clusterWide bool) string {
	res, sub, _ := strings.Cut(resource, "/")
	check := "kubectl auth can-i " + verb + " " + res
	if sub != "" {
		check += " --subresource=" + sub
	}
	switch {
	case namespace != "":
		return fmt.Sprintf("you may not %s %s in namespace %s (%s -n %s)", verb, resource, namespace, check, namespace)
	case clusterWide:
		return fmt.Sprintf("you may not %s %s in all namespaces (%s -A)", verb, resource, check)
	}
	return fmt.Sprintf("you may not %s %s (%s)", verb, resource, check)
}

// isResourceMissing reports whether err is the API server's 404 for a resource it does not serve
// (rather than for an object it does not hold).
func isResourceMissing(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsNotFound(err) {
		return false
	}
	d := status.Status().Details
	return d == nil || d.Name == ""
}

// notFound says that the object of kind ("plan", "order") is not in namespace, for a NotFound
// error; any other error is explained.
// get reads the object named name of kind ("plan", "order") in the namespace of the command line
// into obj, and returns the client and the namespace for what the command does next.
func (a *app) get(ctx context.Context, kind, name string, obj client.Object) (client.Client, string, error) {
	ns, err := a.namespace()
	if err != nil {
		return nil, "", err
	}
	c, err := a.client(nil)
	if err != nil {
		return nil, "", err
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		return nil, "", notFound(err, kind, name, ns)
	}
	return c, ns, nil
}

func notFound(err error, kind, name, namespace string) error {
	if apierrors.IsNotFound(err) && !isResourceMissing(err) {
		return fmt.Errorf("%s %q not found in namespace %q", kind, name, namespace)
	}
	return explain(err)
}
