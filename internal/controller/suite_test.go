package controller

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/partnerops/license-operator/internal/testenv"
)

// The suite runs the operator's controllers against a real kube-apiserver and etcd (envtest),
// with a fake clock the tests move, and asserts through a direct (uncached) client.
var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	fakeClock *clocktesting.FakeClock
	scheme    = testenv.Scheme()
)

// operatorNamespace holds the signing keys of the entitlements.
const operatorNamespace = "license-operator-system"

// suiteStart is the fake clock's time when the suite starts.
var suiteStart = testenv.SuiteStart

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	// The control plane shares two cores with the compiler and other suites: allow time.
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	ctx, cancel = context.WithCancel(context.TODO())

	testEnv = testenv.Environment(filepath.Join("..", ".."), false)
	var err error
	cfg, k8sClient, err = testenv.Start(testEnv)
	Expect(err).NotTo(HaveOccurred())
	Expect(testenv.InstallPolicies(ctx, k8sClient, filepath.Join("..", ".."))).To(Succeed())

	fakeClock = clocktesting.NewFakeClock(suiteStart)
	mgr, err := ctrl.NewManager(cfg, testenv.ManagerOptions(testEnv, scheme))
	Expect(err).NotTo(HaveOccurred())
	Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})).To(Succeed())
	Expect(SetupWithManager(ctx, mgr, fakeClock, EntitlementOptions{Namespace: operatorNamespace})).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	cancel()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// newNamespace creates a namespace of its own for one test.
func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "customer-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// Every spec starts at suiteStart; specs that travel in time set the clock themselves.
var _ = BeforeEach(func() { fakeClock.SetTime(suiteStart) })
