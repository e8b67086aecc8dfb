package webhook

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/controller"
	"github.com/partnerops/license-operator/internal/samples"
	"github.com/partnerops/license-operator/internal/testenv"
)

// The suite runs the operator, controllers and webhooks, against a real kube-apiserver with the
// webhook configurations of config/webhook installed. Tests act as people by impersonation; the
// API server authorizes them with RBAC, using the roles of config/rbac/people.
var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	fakeClock *clocktesting.FakeClock
	operator  string
	// operatorClient acts as the operator does; cached reads the operator's cache.
	operatorClient client.Client
	cached         client.Reader
	scheme         = testenv.Scheme()
)

var suiteStart = testenv.SuiteStart

func TestWebhooks(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Webhook Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	ctx, cancel = context.WithCancel(context.TODO())
	testEnv = testenv.Environment(filepath.Join("..", ".."), true)
	var err error
	cfg, k8sClient, err = testenv.Start(testEnv)
	Expect(err).NotTo(HaveOccurred())
	Expect(testenv.InstallPolicies(ctx, k8sClient, filepath.Join("..", ".."))).To(Succeed())
	// The operator acts as its own user, as deployed (config/default's ServiceAccount), not as the
	// cluster admin the tests' k8sClient is.
	operatorCfg, err := testenv.OperatorConfig(testEnv)
	Expect(err).NotTo(HaveOccurred())
	operator, err = OperatorUsername(ctx, operatorCfg)
	Expect(err).NotTo(HaveOccurred())
	Expect(operator).To(Equal(testenv.OperatorUsername))
	operatorClient, err = client.New(operatorCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	opts := testenv.ManagerOptions(testEnv, scheme)
	opts.WebhookServer = countingServer{Server: opts.WebhookServer, calls: callouts}
	mgr, err := ctrl.NewManager(operatorCfg, opts)
	Expect(err).NotTo(HaveOccurred())
	fakeClock = clocktesting.NewFakeClock(suiteStart)
	Expect(controller.SetupWithManager(ctx, mgr, fakeClock)).To(Succeed())
	Expect(SetupWithManager(liveCounting{Manager: mgr}, fakeClock, operator)).To(Succeed())
	cached = mgr.GetClient()
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	Expect(testenv.WaitForWebhooks(ctx, testEnv, 30*time.Second)).To(Succeed())

	// The roles people are given, as shipped.
	objs, err := samples.Read(filepath.Join("..", "..", "config", "rbac", "people"))
	Expect(err).NotTo(HaveOccurred())
	for _, o := range objs {
		Expect(k8sClient.Create(ctx, o.Obj)).To(Succeed())
	}
	testCatalog()
})

var _ = AfterSuite(func() {
	cancel()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

var _ = BeforeEach(func() { fakeClock.SetTime(suiteStart) })

// person is a client that acts as a user, with the warnings the API server answered.
type person struct {
	client.Client
	name     string
	warnings *warnings
}

type warnings struct {
	sync.Mutex
	texts []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.Lock()
	defer w.Unlock()
	w.texts = append(w.texts, text)
}

// take returns the warnings received so far and forgets them.
func (w *warnings) take() []string {
	w.Lock()
	defer w.Unlock()
	out := w.texts
	w.texts = nil
	return out
}

func as(name string) person {
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{UserName: name, Groups: []string{"system:authenticated"}}
	w := &warnings{}
	c.WarningHandler = w
	cl, err := client.New(c, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return person{Client: cl, name: name, warnings: w}
}

// newNamespace creates a namespace where alice is a purchaser and bob an approver; eve has no role.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "customer-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	for user, role := range map[string]string{"alice": "license-purchaser", "bob": "license-approver"} {
		Expect(k8sClient.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: user},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		})).To(Succeed())
	}
	return ns.Name
}

func testCatalog() {
	for _, p := range []*v1alpha1.LicenseProduct{
		product("t-eul", "T-EUL", "VMR", "Monthly", "10.00", "Prepay1Y", "100.00"),
		product("t-endpoint-basic", "T-EP-BASIC", "Endpoint", "Monthly", "5.00"),
		product("t-endpoint-plus", "T-EP-PLUS", "Endpoint", "Monthly", "8.00"),
	} {
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
	}
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
