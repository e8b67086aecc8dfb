package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/controller"
	"github.com/partnerops/license-operator/internal/plugin"
	"github.com/partnerops/license-operator/internal/samples"
	"github.com/partnerops/license-operator/internal/testenv"
	"github.com/partnerops/license-operator/internal/webhook"
)

// The suite runs kubectl-license's commands, as a person runs them, against a real API server with
// the operator (controllers and webhooks) running on a fake clock. The plugin reads an admin's
// kubeconfig and acts as other people with --as, as kubectl does; the API server authorizes them
// with RBAC, using the roles of config/rbac/people.
var (
	ctx        context.Context
	cancel     context.CancelFunc
	testEnv    *envtest.Environment
	k8sClient  client.Client
	cfg        *rest.Config
	fakeClock  *clocktesting.FakeClock
	kubeconfig string
	scheme     = testenv.Scheme()
	root       = filepath.Join("..", "..")
)

var suiteStart = testenv.SuiteStart

// operatorNamespace holds the signing keys of the entitlements: the namespace kubectl license keys
// rotate looks in by default.
const operatorNamespace = "license-operator-system"

func TestKubectlLicense(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kubectl-license Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	ctx, cancel = context.WithCancel(context.TODO())
	testEnv = testenv.Environment(root, true)
	var err error
	cfg, k8sClient, err = testenv.Start(testEnv)
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = writeKubeconfig(testEnv, "admin")

	operator, err := webhook.OperatorUsername(ctx, cfg)
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, testenv.ManagerOptions(testEnv, scheme))
	Expect(err).NotTo(HaveOccurred())
	fakeClock = clocktesting.NewFakeClock(suiteStart)
	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})).To(Succeed())
	Expect(controller.SetupWithManager(ctx, mgr, fakeClock, controller.EntitlementOptions{Namespace: operatorNamespace})).To(Succeed())
	Expect(webhook.SetupWithManager(mgr, fakeClock, operator)).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	Expect(testenv.WaitForWebhooks(ctx, testEnv, 30*time.Second)).To(Succeed())

	objs, err := samples.Read(filepath.Join(root, "config", "rbac", "people"))
	Expect(err).NotTo(HaveOccurred())
	for _, o := range objs {
		Expect(k8sClient.Create(ctx, o.Obj)).To(Succeed())
	}
	for _, p := range []*v1alpha1.LicenseProduct{
		product("t-eul", "T-EUL", "VMR", "Monthly", "10.00", "Prepay1Y", "100.00"),
		product("t-endpoint-plus", "T-EP-PLUS", "Endpoint", "Monthly", "120.00"),
	} {
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
	}
	Expect(k8sClient.Create(ctx, &v1alpha1.BillingProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Spec: v1alpha1.BillingProfileSpec{Currency: "EUR", CostCenters: []v1alpha1.CostCenter{{Name: "sales-emea"}, {Name: "rnd"}},
			DefaultCostCenter: "sales-emea", Approval: v1alpha1.ApprovalPolicy{ManualAbove: "500.00"}},
	})).To(Succeed())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// writeKubeconfig adds a cluster admin named user to env and writes its kubeconfig, which the
// plugin reads with --kubeconfig.
func writeKubeconfig(env *envtest.Environment, user string) string {
	u, err := env.AddUser(envtest.User{Name: user, Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	data, err := u.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	dir, err := os.MkdirTemp("", "kubectl-license-test-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	path := filepath.Join(dir, "kubeconfig")
	Expect(os.WriteFile(path, data, 0o600)).To(Succeed())
	return path
}

// result is what a run of the plugin printed, and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// kubectlLicense runs `kubectl license ARGS` with the admin's kubeconfig; its stdout is not a
// terminal.
func kubectlLicense(args ...string) result {
	return runPlugin(plugin.Options{}, kubeconfig, args...)
}

func runPlugin(o plugin.Options, kubeconfig string, args ...string) result {
	var stdout, stderr bytes.Buffer
	o.IOStreams = genericiooptions.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr}
	o.Clock = fakeClock
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	code := plugin.Run(ctx, o, append([]string{"--kubeconfig", kubeconfig}, args...))
	GinkgoWriter.Printf("$ kubectl license %s\n%s%s(exit %d)\n", strings.Join(args, " "), stdout.String(), stderr.String(), code)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// as is a client that acts as the user.
func as(user string) client.Client {
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	c.WarningHandler = rest.NoWarnings{}
	cl, err := client.New(c, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return cl
}

// newNamespace creates a namespace where alice is a purchaser and bob an approver; mallory may
// patch orders' status but does not hold the verb approve; eve has no role.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "customer-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	Expect(k8sClient.Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "status-patcher"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"licenseorders"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"licenseorders/status"}, Verbs: []string{"get", "patch", "update"}},
		},
	})).To(Succeed())
	for user, role := range map[string]string{"alice": "ClusterRole/license-purchaser", "bob": "ClusterRole/license-approver", "mallory": "Role/status-patcher"} {
		kind, name, _ := strings.Cut(role, "/")
		Expect(k8sClient.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: user},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		})).To(Succeed())
	}
	return ns.Name
}

func product(name, sku string, family v1alpha1.ProductFamily, prices ...string) *v1alpha1.LicenseProduct {
	p := &v1alpha1.LicenseProduct{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.LicenseProductSpec{SKU: sku, DisplayName: name, Family: family, Unit: "User"},
	}
	for i := 0; i+1 < len(prices); i += 2 {
		p.Spec.Prices = append(p.Spec.Prices, v1alpha1.Price{PaymentPlan: v1alpha1.PaymentPlan(prices[i]), PricePerLicense: v1alpha1.Amount(prices[i+1])})
	}
	return p
}

func plan(ns, name, product string, quantity int32, costCenter, reference string) *v1alpha1.CustomerLicensePlan {
	return &v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.CustomerLicensePlanSpec{Customer: "Acme Corporation", Product: product, Quantity: quantity,
			PaymentPlan: v1alpha1.Monthly, CostCenter: costCenter, PurchaseReference: reference},
	}
}

// orderState is the state of the order.
func orderState(ns, name string) func() v1alpha1.OrderState {
	return func() v1alpha1.OrderState {
		o := &v1alpha1.LicenseOrder{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, o); err != nil {
			return ""
		}
		return o.Status.State
	}
}
