// Package testenv sets up what the envtest suites and `make demo` run the operator on: a local
// kube-apiserver and etcd with the operator's CRDs (and, if asked, its webhook configurations),
// and the options of a manager that serves those webhooks locally.
package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/controller/cachecfg"
)

// Scheme knows the Kubernetes kinds and the operator's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1alpha1.AddToScheme(s))
	return s
}

// SuiteStart is the time the fake clocks of the test suites start at.
var SuiteStart = time.Date(2026, time.March, 10, 9, 30, 0, 0, time.UTC)

// Start starts env and returns its config and a client that reads and writes the API server
// directly, with the operator's kinds.
func Start(env *envtest.Environment) (*rest.Config, client.Client, error) {
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("start the control plane (run the tests with `make test`, which finds or builds kube-apiserver and etcd): %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	return cfg, c, err
}

// Environment is a control plane with the CRDs of config/crd/bases under the repository root and,
// with webhooks, the webhook configurations of config/webhook pointed at a local server.
func Environment(root string, webhooks bool) *envtest.Environment {
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	if webhooks {
		env.WebhookInstallOptions = envtest.WebhookInstallOptions{Paths: []string{filepath.Join(root, "config", "webhook", "manifests.yaml")}}
	}
	return env
}

// OperatorUsername is the user name the operator acts as when config/default deploys it: its
// ServiceAccount license-operator-controller-manager in the namespace license-operator-system. The
// matchConditions of the webhook configurations keep this user's own writes away from the webhooks
// that have nothing to say about them.
const OperatorUsername = "system:serviceaccount:license-operator-system:license-operator-controller-manager"

// OperatorConfig adds to env a cluster admin named OperatorUsername and returns its config: a
// manager run with it acts as the deployed operator, and its writes reach the webhooks as the
// deployed operator's do. Like the deployed operator's (ctrl.GetConfig), it has no client-side
// rate limit: the API server's priority and fairness is the only one.
func OperatorConfig(env *envtest.Environment) (*rest.Config, error) {
	u, err := env.AddUser(envtest.User{Name: OperatorUsername, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("add the operator's user %s: %w", OperatorUsername, err)
	}
	cfg := u.Config()
	cfg.QPS = -1
	return cfg, nil
}

// ManagerOptions are the options of a manager for env: the operator's cache (cachecfg), no metrics
// or health endpoints, and the webhook server where env's API server calls it.
func ManagerOptions(env *envtest.Environment, scheme *runtime.Scheme) ctrl.Options {
	wio := env.WebhookInstallOptions
	return ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cachecfg.Options(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer:          webhook.NewServer(webhook.Options{Host: wio.LocalServingHost, Port: wio.LocalServingPort, CertDir: wio.LocalServingCertDir}),
	}
}

// WaitForWebhooks waits until the manager's webhook server for env accepts connections: until then
// the API server refuses the objects the webhooks judge.
func WaitForWebhooks(ctx context.Context, env *envtest.Environment, timeout time.Duration) error {
	wio := env.WebhookInstallOptions
	addr := net.JoinHostPort(wio.LocalServingHost, strconv.Itoa(wio.LocalServingPort))
	deadline := time.Now().Add(timeout)
	for {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a local readiness probe
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the webhook server at %s did not start within %s: %w", addr, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
