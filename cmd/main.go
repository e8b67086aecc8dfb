// Command manager runs the license-operator controllers.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	memlimit "github.com/KimMachineGun/automemlimit/memlimit"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/controller"
	"github.com/partnerops/license-operator/internal/controller/cachecfg"
	"github.com/partnerops/license-operator/internal/entitlement"
	licensingmetrics "github.com/partnerops/license-operator/internal/metrics"
	licensingwebhook "github.com/partnerops/license-operator/internal/webhook"
)

var scheme = runtime.NewScheme()

// The metrics endpoint asks the API server who is calling and whether they may read metrics.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
}

func main() {
	var metricsAddr, probeAddr string
	var leaderElect, secureMetrics, webhooks bool
	var operatorUsername, leaderElectionNamespace string
	var leaseDuration, renewDeadline, retryPeriod time.Duration
	var operatorNamespace, jwksAddr, pprofAddr string
	policy := entitlement.DefaultPolicy()
	var webhookCertPath, webhookCertName, webhookCertKey, metricsCertPath, metricsCertName, metricsCertKey string
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to, such as :8443; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the health probe endpoint binds to.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader, so that only one replica reconciles at a time.")
	flag.StringVar(&leaderElectionNamespace, "leader-election-namespace", "", "The namespace of the leader election Lease; in a cluster, the pod's own namespace by default. Required outside a cluster.")
	flag.DurationVar(&leaseDuration, "leader-election-lease-duration", 15*time.Second, "How long a standby waits before it takes over a leader that stopped renewing its lease.")
	flag.DurationVar(&renewDeadline, "leader-election-renew-deadline", 10*time.Second, "How long the leader keeps trying to renew its lease before it gives up leading.")
	flag.DurationVar(&retryPeriod, "leader-election-retry-period", 2*time.Second, "How often replicas try to acquire or renew the lease.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization.")
	flag.StringVar(&metricsCertPath, "metrics-cert-path", "", "The directory of the metrics server's certificate and key; without it, a self-signed certificate is generated when metrics are secure.")
	flag.StringVar(&metricsCertName, "metrics-cert-name", "tls.crt", "The file name of the metrics server's certificate, in --metrics-cert-path.")
	flag.StringVar(&metricsCertKey, "metrics-cert-key", "tls.key", "The file name of the metrics server's key, in --metrics-cert-path.")
	flag.BoolVar(&webhooks, "webhooks", true, "Serve the admission webhooks (they need a serving certificate: see --webhook-cert-path).")
	flag.StringVar(&webhookCertPath, "webhook-cert-path", "", "The directory of the webhook server's certificate and key, such as cert-manager's Secret mounted in the pod (default: controller-runtime's /tmp/k8s-webhook-server/serving-certs).")
	flag.StringVar(&webhookCertName, "webhook-cert-name", "tls.crt", "The file name of the webhook server's certificate, in --webhook-cert-path.")
	flag.StringVar(&webhookCertKey, "webhook-cert-key", "tls.key", "The file name of the webhook server's key, in --webhook-cert-path.")
	flag.StringVar(&operatorUsername, "operator-username", "", "The user name the operator acts as, the only one allowed to write LicenseOrders; by default the API server is asked (SelfSubjectReview).")
	flag.StringVar(&operatorNamespace, "operator-namespace", "", "The namespace of the signing key Secret of the entitlements and of the Secrets NotificationSinks name; in a cluster, the pod's own namespace by default. Without it, no entitlement is issued and no notice is sent.")
	flag.StringVar(&policy.Issuer, "entitlement-issuer", policy.Issuer, "The issuer (iss) of the entitlements.")
	flag.DurationVar(&policy.MaxLifetime, "entitlement-max-lifetime", policy.MaxLifetime, "How long an entitlement is valid at most; it is re-issued after two thirds of it.")
	flag.DurationVar(&policy.Grace, "entitlement-grace", policy.Grace, "How long after a plan's term end its entitlement stays valid, should the plan not be renewed in time.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "The address Go's profiles are served on, at /debug/pprof/, such as 127.0.0.1:6060 (unauthenticated: keep it on localhost); 0 disables it.")
	flag.StringVar(&jwksAddr, "jwks-bind-address", ":8082", "The address the public keys of the entitlements are served on, at "+controller.JWKSPath+"; 0 disables it.")
	opts := zap.Options{Development: true}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	// The Go runtime's soft memory limit: 90% of the container's memory limit (its cgroup), so that
	// the garbage collector works harder before the container is killed; GOMEMLIMIT, when set, wins.
	if limit, err := memlimit.Set(memlimit.WithRatio(0.9), memlimit.WithProvider(memlimit.FromCgroup)); err == nil && limit > 0 {
		log.Info("memory limit", "GOMEMLIMIT", limit)
	}

	if leaderElect && leaderElectionNamespace == "" && !inCluster() {
		fail("outside a cluster, --leader-elect needs the namespace of its Lease: pass --leader-election-namespace, such as --leader-election-namespace=default")
	}
	disableHTTP2 := func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }
	metrics := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics, TLSOpts: []func(*tls.Config){disableHTTP2}}
	if secureMetrics {
		// Only callers the API server authenticates and allows to get /metrics may read them.
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	// Certificates are read from files and read again when they change (cert-manager renews them).
	var watchers []*certwatcher.CertWatcher
	webhookOpts := webhook.Options{TLSOpts: []func(*tls.Config){disableHTTP2}}
	if webhooks {
		dir := webhookCertPath
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs")
		}
		w, err := watchCert(dir, webhookCertName, webhookCertKey)
		if err != nil {
			fail(fmt.Sprintf("the webhook server's certificate: %v. Pass --webhook-cert-path with the directory of %s and %s "+
				"(config/default mounts cert-manager's Secret there), or --webhooks=false to run without the admission webhooks", err, webhookCertName, webhookCertKey))
		}
		watchers = append(watchers, w)
		webhookOpts.TLSOpts = append(webhookOpts.TLSOpts, func(c *tls.Config) { c.GetCertificate = w.GetCertificate })
	}
	if metricsCertPath != "" && metricsAddr != "0" {
		w, err := watchCert(metricsCertPath, metricsCertName, metricsCertKey)
		if err != nil {
			fail(fmt.Sprintf("the metrics server's certificate: %v. Fix --metrics-cert-path, or leave it out for a self-signed certificate", err))
		}
		watchers = append(watchers, w)
		metrics.TLSOpts = append(metrics.TLSOpts, func(c *tls.Config) { c.GetCertificate = w.GetCertificate })
	}
	cfg := ctrl.GetConfigOrDie()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   cachecfg.Options(),
		Metrics:                 metrics,
		WebhookServer:           webhook.NewServer(webhookOpts),
		HealthProbeBindAddress:  probeAddr,
		PprofBindAddress:        pprofAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "license-operator.licensing.partnerops.io",
		LeaderElectionNamespace: leaderElectionNamespace,
		LeaseDuration:           &leaseDuration,
		RenewDeadline:           &renewDeadline,
		RetryPeriod:             &retryPeriod,
	})
	if err != nil {
		log.Error(err, "unable to create the manager")
		os.Exit(1)
	}
	for _, w := range watchers {
		if err := mgr.Add(w); err != nil {
			log.Error(err, "unable to watch a certificate")
			os.Exit(1)
		}
	}
	ctx := ctrl.SetupSignalHandler()
	if operatorNamespace == "" {
		operatorNamespace = podNamespace()
	}
	var options []controller.Option
	if operatorNamespace != "" {
		// The sinks' Secrets are read, live, from the operator's namespace.
		options = append(options, controller.EntitlementOptions{Namespace: operatorNamespace, Policy: policy},
			controller.NotificationOptions{Namespace: operatorNamespace})
	} else {
		log.Info("no entitlement is issued and no notice is sent: pass --operator-namespace, the namespace of the signing keys and of the notification sinks' Secrets")
	}
	if err := controller.SetupWithManager(ctx, mgr, clock.RealClock{}, options...); err != nil {
		log.Error(err, "unable to set up the controllers")
		os.Exit(1)
	}
	if jwksAddr != "0" && operatorNamespace != "" {
		if err := mgr.Add(controller.ServeJWKS(jwksAddr, mgr.GetClient(), operatorNamespace)); err != nil {
			log.Error(err, "unable to serve the entitlements' public keys")
			os.Exit(1)
		}
	}
	// The plan and order series, computed from the cache at each scrape, by the leader only.
	if err := licensingmetrics.Register(mgr.GetClient(), mgr.Elected()); err != nil {
		log.Error(err, "unable to register the metrics")
		os.Exit(1)
	}
	if webhooks {
		if operatorUsername == "" {
			if operatorUsername, err = licensingwebhook.OperatorUsername(ctx, cfg); err != nil {
				log.Error(err, "unable to learn the operator's user name; set --operator-username")
				os.Exit(1)
			}
		}
		log.Info("serving the admission webhooks", "operator", operatorUsername)
		if err := licensingwebhook.SetupWithManager(mgr, clock.RealClock{}, operatorUsername); err != nil {
			log.Error(err, "unable to set up the webhooks")
			os.Exit(1)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the ready check")
		os.Exit(1)
	}
	log.Info("starting the manager")
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "the manager stopped with an error")
		os.Exit(1)
	}
}

// watchCert loads the certificate and key named in dir, and reloads them when they change.
func watchCert(dir, cert, key string) (*certwatcher.CertWatcher, error) {
	for _, f := range []string{cert, key} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("%s is missing", filepath.Join(dir, f))
		}
	}
	return certwatcher.New(filepath.Join(dir, cert), filepath.Join(dir, key))
}

// fail ends the manager before it starts, with one line a person can act on.
func fail(msg string) {
	fmt.Fprintln(os.Stderr, "error: "+msg)
	os.Exit(1)
}

// podNamespace is the namespace of the manager's pod, or "" outside a cluster.
func podNamespace() string {
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return string(b)
}

// inCluster reports whether the manager runs in a pod, where the leader election Lease defaults
// to the pod's namespace.
func inCluster() bool {
	_, err := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	return err == nil
}
