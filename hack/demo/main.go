// Command demo lets a newcomer try license-operator without a cluster. It
//
//  1. starts a local control plane (kube-apiserver and etcd, through envtest) with the CRDs of
//     config/crd/bases installed,
//  2. writes a kubeconfig of an admin user (default $TMPDIR/license-operator-demo/kubeconfig),
//  3. runs the operator's controllers in this process,
//  4. server-side applies the samples (default config/samples: catalog, billing profile, customers),
//  5. waits until every CustomerLicensePlan has settled and prints the catalog, the plans, the
//     assignments and the order history as `kubectl get` shows them,
//  6. prints the confirmation emails that the NotificationSink demo-mail (created before the
//     samples) sent to an SMTP server in this process on 127.0.0.1, and each later one as it
//     arrives,
//
// and then keeps running, so that kubectl can be pointed at it, until Ctrl-C (SIGINT or SIGTERM)
// stops the operator and the control plane; it then exits 0. A second Ctrl-C during the stop kills
// kube-apiserver and etcd at once.
//
// Run it with `make demo`, which finds or builds kube-apiserver, etcd and kubectl, sets
// KUBEBUILDER_ASSETS and runs bin/demo, or with `KUBEBUILDER_ASSETS=<dir> go run ./hack/demo`.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	uberzap "go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/controller"
	licensingmetrics "github.com/partnerops/license-operator/internal/metrics"
	sampleobjects "github.com/partnerops/license-operator/internal/samples"
	"github.com/partnerops/license-operator/internal/testenv"
	licensingwebhook "github.com/partnerops/license-operator/internal/webhook"
)

// fieldOwner is the field manager of the samples the demo applies.
const fieldOwner = "license-operator-demo"

// operatorNamespace holds the signing keys of the entitlements the operator issues.
const operatorNamespace = "license-operator-system"

func main() {
	// A flag set of its own: controller-runtime registers a -kubeconfig flag of its own (the
	// kubeconfig to read) on the default one.
	fs := flag.NewFlagSet(filepath.Base(os.Args[0]), flag.ExitOnError)
	demoDir := filepath.Join(os.TempDir(), "license-operator-demo")
	kubeconfig := fs.String("kubeconfig", filepath.Join(demoDir, "kubeconfig"), "where to write the kubeconfig of the demo's admin user")
	logPath := fs.String("log", filepath.Join(demoDir, "operator.log"), "where to write the operator's logs (unless -v)")
	samples := fs.String("samples", "config/samples", "directory of sample YAML files to apply (relative to the working directory, else to the repository root)")
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait for the license plans to settle")
	verbose := fs.Bool("v", false, "print the operator's logs (info level) to stderr instead of the log file")
	metricsAddr := fs.String("metrics-bind-address", "127.0.0.1:8080", "where the operator serves its metrics, over plain HTTP; 0 turns them off")
	jwksAddr := fs.String("jwks-bind-address", "127.0.0.1:8082", "where the operator serves the public keys of the entitlements ("+controller.JWKSPath+"); 0 turns it off")
	mail := fs.Bool("mail", true, "run an SMTP server on a free port of 127.0.0.1 and the NotificationSink "+demoSink+" that emails it the confirmations, and print them; false turns both off")
	_ = fs.Parse(os.Args[1:])

	restoreTerminal := takeTerminal()
	ctx := stopOnSignals()
	err := run(ctx, *kubeconfig, *logPath, *samples, *metricsAddr, *jwksAddr, *mail, *timeout, *verbose)
	restoreTerminal()
	if err != nil {
		if ctx.Err() != nil {
			fmt.Println("Interrupted.") // while starting up; run has cleaned up
			return
		}
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, logPath, samples, metricsAddr, jwksAddr string, mail bool, timeout time.Duration, verbose bool) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: run `make demo` (it finds or builds kube-apiserver and etcd), or set KUBEBUILDER_ASSETS")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if !isExecutable(filepath.Join(assets, bin)) {
			return fmt.Errorf("KUBEBUILDER_ASSETS=%q holds no %s: run `make demo` (it finds or builds kube-apiserver and etcd), or set KUBEBUILDER_ASSETS", assets, bin)
		}
	}
	if _, err := os.Stat(samples); err != nil && !filepath.IsAbs(samples) {
		samples = filepath.Join(root, samples)
	}
	samples, _ = filepath.Abs(samples)
	objs, err := sampleobjects.Read(samples)
	if err != nil {
		return err
	}
	if err := setupLogging(logPath, verbose); err != nil {
		return err
	}
	fmt.Printf("Starting a local control plane (kube-apiserver and etcd from %s)...\n", assets)
	// The admission webhooks run in the operator below; the API server calls them locally.
	testEnv := testenv.Environment(root, true)
	cfg, err := testEnv.Start()
	if err != nil {
		_ = testEnv.Stop()
		return fmt.Errorf("start the control plane: %w", err)
	}
	wroteKubeconfig := false
	defer func() {
		fmt.Println("Stopping the control plane...")
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "demo: stop the control plane:", err)
		}
		if wroteKubeconfig && os.Remove(kubeconfig) == nil {
			fmt.Printf("Stopped. Removed %s (its control plane is gone); kept the operator log %s.\n", kubeconfig, logPath)
		}
	}()
	user, err := testEnv.AddUser(envtest.User{Name: demoUser, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add the admin user: %w", err)
	}
	if err := writeKubeconfig(kubeconfig, user); err != nil {
		return err
	}
	wroteKubeconfig = true
	fmt.Printf("Control plane is up at %s; kubeconfig written to %s\n", cfg.Host, kubeconfig)

	scheme := testenv.Scheme()
	opts := testenv.ManagerOptions(testEnv, scheme)
	opts.Metrics = metricsserver.Options{BindAddress: metricsAddr}
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return fmt.Errorf("create the manager: %w", err)
	}
	// The signing keys of the entitlements live in the operator's namespace, as in a cluster.
	if err := mgr.GetAPIReader().Get(ctx, client.ObjectKey{Name: operatorNamespace}, &corev1.Namespace{}); err != nil {
		admin, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			return err
		}
		if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}); err != nil {
			return fmt.Errorf("create namespace %s: %w", operatorNamespace, err)
		}
	}
	// The confirmations go by email to an SMTP server in this process, as to a relay of the partner.
	var box *mailbox
	if mail {
		if box, err = startMailbox(); err != nil {
			return err
		}
		defer box.stop()
	}
	if err := controller.SetupWithManager(ctx, mgr, clock.RealClock{}, controller.EntitlementOptions{Namespace: operatorNamespace},
		controller.NotificationOptions{Namespace: operatorNamespace}); err != nil {
		return fmt.Errorf("set up the controllers: %w", err)
	}
	if jwksAddr != "0" {
		if err := mgr.Add(controller.ServeJWKS(jwksAddr, mgr.GetClient(), operatorNamespace)); err != nil {
			return err
		}
	}
	if err := licensingmetrics.Register(mgr.GetClient(), mgr.Elected()); err != nil {
		return fmt.Errorf("register the metrics: %w", err)
	}
	operator, err := licensingwebhook.OperatorUsername(ctx, cfg)
	if err != nil {
		return err
	}
	if err := licensingwebhook.SetupWithManager(mgr, clock.RealClock{}, operator); err != nil {
		return fmt.Errorf("set up the webhooks: %w", err)
	}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	mgrDone := make(chan struct{})
	var mgrErr error
	go func() { mgrErr = mgr.Start(mgrCtx); close(mgrDone) }()
	defer func() { fmt.Println("Stopping the operator..."); stopMgr(); <-mgrDone }()
	if verbose {
		fmt.Println("The operator is starting; its logs go to stderr.")
	} else {
		fmt.Printf("The operator is starting; its logs go to %s (errors are shown here too; -v shows all of them here).\n", logPath)
	}

	// The samples are applied as the kubeconfig's user, so the order history shows who ordered.
	c, err := client.New(user.Config(), client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := testenv.WaitForWebhooks(ctx, testEnv, timeout); err != nil {
		return err
	}
	if err := testenv.InstallPolicies(ctx, c, root); err != nil {
		return err
	}
	// The sink exists before the samples: a sink is told only of orders fulfilled after it was created.
	if box != nil {
		if err := createDemoSink(ctx, c, box.server); err != nil {
			return err
		}
	}
	fmt.Printf("Applying %d sample objects from %s as %s...\n", len(objs), samples, demoUser)
	for _, o := range objs {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.Obj), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("apply %s %s from %s: %w", o.Obj.GetKind(), objectKey(o.Obj), o.File, err)
		}
	}
	if err := createBackdatedPlan(ctx, c); err != nil {
		return err
	}

	if err := waitForPlans(ctx, c, timeout); err != nil {
		return err
	}
	kubectl := filepath.Join(assets, "kubectl")
	if !isExecutable(kubectl) {
		kubectl = ""
	}
	for _, t := range []table{
		{"Catalog", "lprod", "licenseproducts", false, false},
		{"License plans", "clp", "customerlicenseplans", true, true},
		{"License assignments", "lasg", "licenseassignments", true, false},
		{"Order history", "lo", "licenseorders", true, false},
	} {
		fmt.Printf("\n%s (kubectl get %s)\n", t.heading, t.args())
		if err := printTable(ctx, t, kubectl, kubeconfig, cfg); err != nil {
			fmt.Fprintf(os.Stderr, "demo: list %s: %v\n", t.resource, err)
		}
	}
	if err := reportUnready(ctx, c); err != nil {
		return err
	}
	if box != nil {
		printEmails(ctx, c, box, 15*time.Second)
	}

	printUsage(kubeconfig, kubectl, metricsAddr, objs)
	fmt.Printf("\nThe operator is running (KUBECONFIG=%s). Press Ctrl-C to stop.\n", kubeconfig)
	select {
	case <-ctx.Done():
		fmt.Println("\nSignal received, shutting down.")
		return nil
	case <-mgrDone:
		return fmt.Errorf("the operator stopped unexpectedly: %v", mgrErr)
	}
}

// demoUser is the user of the kubeconfig the demo writes, and who the samples are applied as.
const demoUser = "demo-admin"

// modulePath is the module this demo belongs to; repoRoot looks for its go.mod.
const modulePath = "github.com/partnerops/license-operator"

// repoRoot returns the repository root: the directory above the working directory (else above
// this source file, for `go run` from elsewhere) whose go.mod is this module's.
func repoRoot() (string, error) {
	wd, _ := os.Getwd()
	_, source, _, _ := runtime.Caller(0)
	for _, dir := range []string{wd, filepath.Dir(source)} {
		for dir != "" && filepath.Dir(dir) != dir {
			if mod, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(mod, []byte("module "+modulePath+"\n")) {
				return dir, nil
			}
			dir = filepath.Dir(dir)
		}
	}
	return "", fmt.Errorf("found no go.mod of %s in or above the working directory: run the demo from the repository", modulePath)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// setupLogging sends the operator's logs at info level to stderr (verbose) or to the file at
// logPath, with errors also to stderr.
func setupLogging(logPath string, verbose bool) error {
	opts := []zap.Opts{zap.Level(zapcore.InfoLevel), zap.StacktraceLevel(zapcore.PanicLevel), zap.ConsoleEncoder()}
	if verbose {
		opts = append(opts, zap.WriteTo(os.Stderr))
	} else {
		if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
			return err
		}
		f, err := os.Create(logPath)
		if err != nil {
			return err
		}
		stderr := zapcore.NewCore(zapcore.NewConsoleEncoder(uberzap.NewDevelopmentEncoderConfig()), zapcore.Lock(os.Stderr), zapcore.ErrorLevel)
		opts = append(opts, zap.WriteTo(f), zap.RawZapOpts(uberzap.WrapCore(func(c zapcore.Core) zapcore.Core {
			return zapcore.NewTee(c, stderr)
		})))
	}
	ctrl.SetLogger(zap.New(opts...))
	return nil
}

// writeKubeconfig writes the user's kubeconfig to path, refusing to overwrite a file that is
// not a kubeconfig an earlier demo wrote.
func writeKubeconfig(path string, user *envtest.AuthenticatedUser) error {
	data, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("build the kubeconfig: %w", err)
	}
	if old, err := os.ReadFile(path); err == nil && !bytes.Contains(old, []byte("current-context: envtest")) {
		return fmt.Errorf("refusing to overwrite %s, which this demo did not write: choose another path with -kubeconfig", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// printUsage tells how to reach the control plane with kubectl.
func printUsage(kubeconfig, kubectl, metricsAddr string, objs []sampleobjects.Object) {
	// Suggest a plan of the sample customer Acme, else any plan.
	ns, name, qty := "acme", "<plan>", int64(0)
	for _, o := range objs {
		if o.Obj.GetKind() == "CustomerLicensePlan" && (name == "<plan>" || ns != "acme" && o.Obj.GetNamespace() == "acme") {
			ns, name = o.Obj.GetNamespace(), o.Obj.GetName()
			qty, _, _ = unstructured.NestedInt64(o.Obj.Object, "spec", "quantity")
		}
	}
	fmt.Println("\nTry it in another terminal:")
	fmt.Printf("  export KUBECONFIG=%s\n", kubeconfig)
	if kubectl != "" {
		fmt.Printf("  alias kubectl=%s\n", kubectl)
	} else {
		fmt.Println("  # any kubectl will do")
	}
	fmt.Println("  kubectl get licensing -A")
	fmt.Println("  kubectl get clp -A -o wide")
	fmt.Println("  kubectl get lo -A")
	fmt.Printf("  kubectl describe clp -n %s %s\n", ns, name)
	fmt.Println("Change a plan's quantity and watch the operator place a new order:")
	fmt.Printf("  kubectl patch clp -n %s %s --type merge -p '{\"spec\":{\"quantity\":%d}}'\n", ns, name, qty+5)
	fmt.Printf("  kubectl get lo -n %s -l %s=%s -w\n", ns, v1alpha1.PlanLabel, name)
	fmt.Printf("The notices told to the NotificationSink %s, and each order's record of them:\n", demoSink)
	fmt.Printf("  kubectl get nsink %s\n", demoSink)
	fmt.Printf("  kubectl get lo -n %s -o custom-columns=ORDER:.metadata.name,SINK:.status.notices[*].sink,EVENT:.status.notices[*].event,DELIVERED:.status.notices[*].deliveredAt\n", ns)
	if metricsAddr != "0" {
		fmt.Println("The operator's metrics (licenses, renewals, readiness, orders, amounts billed, approvals waiting):")
		fmt.Printf("  curl -s http://%s/metrics | grep '^license_operator_'\n", metricsAddr)
	}
	if bin, err := filepath.Abs("bin"); err == nil && isExecutable(filepath.Join(bin, "kubectl-license")) {
		fmt.Println("Or use the kubectl plugin, kubectl license (the partner portal's tables, spreadsheets, approvals):")
		fmt.Printf("  export PATH=%s:$PATH\n", bin)
		fmt.Println("  kubectl license plans -A                                # the License Plans table")
		fmt.Println("  kubectl license history -A                              # the Order History; -o csv or -o xlsx --output-file orders.xlsx")
		fmt.Printf("  kubectl license status -n %s %s\n", ns, name)
		fmt.Printf("  kubectl license statement -A --period %s      # this month's billing, per cost center\n", time.Now().UTC().Format("2006-01"))
		fmt.Println("Make an order wait for approval, then approve it:")
		fmt.Println(`  kubectl patch bprof default --type merge -p '{"spec":{"approval":{"manualAbove":"100.00"}}}'`)
		fmt.Printf("  kubectl patch clp -n %s %s --type merge -p '{\"spec\":{\"quantity\":%d}}'\n", ns, name, qty+5)
		fmt.Printf("  kubectl license history -n %s --state AwaitingApproval\n", ns)
		fmt.Printf("  kubectl license approve -n %s <order> --message \"PO 4711 signed\"\n", ns)
	}
}

func objectKey(o client.Object) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}
