// Package scale measures what the operator costs a partner with a whole book of plans, beside the
// design floor (test/scale/floor): the least an operator with these features must do, with no
// logic: per plan one order created, its status written once, the plan's status written once with
// its usage, and each assignment's status written once, from caches of plans and assignments fed
// by informers. Both run as processes of their own, each run against an envtest control plane of
// its own, on the same workload, the sides alternating (floor, operator, floor, operator), so that
// the ratios mean something on a shared machine whose absolute times do not.
//
// The workload: N plans (Monthly, 100 per customer namespace) with 5 assignments each, created by
// 16 clients at once, with no client-side rate limit; then edits of spec.quantity one at a time;
// then N more plans started a month and a week ago, each needing a New order and one catch-up
// Renewal (the catch-up storm).
//
// What is measured, per run: when every plan is in force (Ready=True for its generation, its
// licenses and its usage counted) and when the last change to a plan, an order or an assignment
// came, both seen through a watch of the bench's own (informers: it polls nothing); from
// kube-apiserver's own metrics, the API writes by resource and verb and the 409s
// (apiserver_request_total, less the bench's own creates), the GETs and LISTs, and the admission
// webhook calls (apiserver_admission_webhook_admission_duration_seconds_count); kube-apiserver's
// CPU seconds and the process's peak RSS (VmHWM) from /proc; edit-to-status latency; writes while
// idle and after a restart, and reads after a restart.
//
//	make bench N=1000            # about 12 minutes on 2 cores
//	WEBHOOKS=false make bench    # the operator without its admission webhooks
//	RUNS=1 make bench N=10000    # one run of each side instead of two
//	BARE=1 make bench            # a third side: the operator without --operator-namespace
//
// The third side of BARE=1 issues no entitlements and sends no notices, so that what those two
// cost shows beside the rest in one run.
//
// The suite is skipped unless LICENSE_BENCH=1 (which `make bench` sets).
package scale

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/testenv"
)

// figures are what one run of one side measured.
type figures struct {
	allReady, lastWrite, creates, catchUp time.Duration
	writes                                map[string]float64 // by "verb resource[/subresource]", less the bench's creates
	reads                                 map[string]float64 // GETs and LISTs of the operator's API group, by "verb resource"
	otherReads                            map[string]float64 // GETs and LISTs of other groups, by "verb group/resource"
	callouts                              map[string]float64 // admission webhook calls, by "webhook operation"
	conflicts                             float64
	apiserverCPU, stormCPU                float64 // seconds, during the bulk create and the catch-up storm
	rssKiB                                int64
	editP50, editP99                      time.Duration
	idleWrites, restartWrites             float64
	restartGets, restartLists             float64 // of the operator's API group
}

func TestBench(t *testing.T) {
	n := plansToBench(t, "make bench")
	webhooks := os.Getenv("WEBHOOKS") != "false"
	bare := os.Getenv("BARE") == "1"
	runs := 2
	if v, err := strconv.Atoi(os.Getenv("RUNS")); err == nil && v > 0 {
		runs = v
	}
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	bin := t.TempDir()
	manager, floorBin := build(t, bin, "manager", "../../cmd"), build(t, bin, "floor", "./floor")
	started := time.Now()
	var floor, operator, bareOperator []figures
	for run := 1; run <= runs; run++ { // alternating, so that a slow spell of the machine hits every side
		t.Logf("run %d of %d", run, runs)
		floor = append(floor, measure(t, n, floorBin, false, false))
		operator = append(operator, measure(t, n, manager, webhooks, true))
		if bare {
			bareOperator = append(bareOperator, measure(t, n, manager, webhooks, false))
		}
	}
	took := time.Since(started)
	tables := report(n, webhooks, "the operator", operator, floor, took)
	if bare {
		tables += "\n" + report(n, webhooks, "the operator without --operator-namespace (no entitlements, no notices)", bareOperator, floor, took)
	}
	// Every table of the run, for the README.
	if err := os.WriteFile("last-run.md", []byte(tables), 0o644); err != nil {
		t.Log(err)
	}
}

// plansToBench is N, the number of plans of a benchmark (1000 by default); it skips the test
// unless LICENSE_BENCH=1, which the make target sets.
func plansToBench(t *testing.T, target string) int {
	if os.Getenv("LICENSE_BENCH") != "1" {
		t.Skipf("the benchmark runs with `%s` (LICENSE_BENCH=1)", target)
	}
	if v, err := strconv.Atoi(os.Getenv("N")); err == nil && v > 0 {
		return v
	}
	return 1000
}

// side is one control plane and the process under test.
type side struct {
	t       *testing.T
	env     *envtest.Environment
	cfg     *rest.Config
	c       client.Client
	w       *watcher
	bin     string
	args    []string
	proc    *exec.Cmd
	log     *os.File
	isFloor bool
}

// newSide starts a control plane of its own with the catalog (and, for the operator, its
// admission policies), the bench's watch of it, and the process under test against it; close
// stops them all. issuer runs the operator with its namespace, as in a cluster: it issues the
// entitlements and runs the notices' controller.
func newSide(t *testing.T, bin string, webhooks, issuer bool) *side {
	s := &side{t: t, bin: bin, isFloor: filepath.Base(bin) == "floor"}
	s.env = testenv.Environment(filepath.Join("..", ".."), webhooks)
	if webhooks {
		wio := &s.env.WebhookInstallOptions
		wio.LocalServingHost, wio.LocalServingPort = "127.0.0.1", 9443
	}
	var err error
	if s.cfg, err = s.env.Start(); err != nil {
		t.Fatal(err)
	}
	user, err := s.env.AddUser(envtest.User{Name: "bench-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		s.close()
		t.Fatal(err)
	}
	// The process under measure acts as the deployed operator does (its ServiceAccount's user):
	// the webhooks' matchConditions keep its own writes away from them, as in a cluster.
	process, err := s.env.AddUser(envtest.User{Name: testenv.OperatorUsername, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		s.close()
		t.Fatal(err)
	}
	kubeconfig, err := process.KubeConfig()
	if err != nil {
		s.close()
		t.Fatal(err)
	}
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		s.close()
		t.Fatal(err)
	}
	// The bench's own client has no rate limit of its own: the API server's admission and
	// priority and fairness bound its creates, as they would a partner's.
	fast := rest.CopyConfig(user.Config())
	fast.QPS, fast.Burst = -1, 0
	if s.c, err = client.New(fast, client.Options{Scheme: testenv.Scheme()}); err != nil {
		s.close()
		t.Fatal(err)
	}
	s.args = []string{"--kubeconfig=" + kcPath}
	if !s.isFloor {
		s.args = append(s.args, "--metrics-bind-address=0", "--health-probe-bind-address=0", fmt.Sprintf("--webhooks=%t", webhooks),
			"--webhook-cert-path="+s.env.WebhookInstallOptions.LocalServingCertDir, "--jwks-bind-address=0")
		if issuer {
			// The entitlements are issued as in a cluster: their signing keys in the operator's namespace.
			s.args = append(s.args, "--operator-namespace="+operatorNamespace)
		}
	}
	ctx := context.Background()
	if !s.isFloor {
		if err := s.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}); err != nil {
			s.close()
			t.Fatal(err)
		}
		if err := testenv.InstallPolicies(ctx, s.c, filepath.Join("..", "..")); err != nil {
			s.close()
			t.Fatal(err)
		}
	}
	s.catalog(ctx)
	if s.w, err = watch(ctx, fast); err != nil {
		s.close()
		t.Fatal(err)
	}
	s.start()
	if webhooks {
		if err := testenv.WaitForWebhooks(ctx, s.env, time.Minute); err != nil {
			s.close()
			t.Fatal(err)
		}
	}
	return s
}

func (s *side) close() {
	s.stop()
	if s.w != nil {
		s.w.stop()
	}
	_ = s.env.Stop()
}

// operatorNamespace holds the signing keys of the entitlements the operator issues.
const operatorNamespace = "license-operator-system"

func measure(t *testing.T, n int, bin string, webhooks, issuer bool) figures {
	s := newSide(t, bin, webhooks, issuer)
	defer s.close()
	ctx := context.Background()
	name := filepath.Base(bin)
	if !issuer && !s.isFloor {
		name += " (bare)"
	}
	var f figures
	apiserver := apiserverPID(t)
	m0, cpu0 := s.metrics(ctx), cpuSeconds(t, apiserver)
	t.Logf("%s: creating %d plans and %d assignments", name, n, assignmentsPerPlan*n)
	begin := time.Now()
	s.create(ctx, n, "c", "")
	f.creates = time.Since(begin)
	f.allReady = s.waitReady(n, "c", 1, begin)
	f.lastWrite = s.quiet(begin)
	m1, cpu1 := s.metrics(ctx), cpuSeconds(t, apiserver)
	f.apiserverCPU = cpu1 - cpu0
	f.writes, f.conflicts = writesBetween(m0, m1)
	f.writes["create customerlicenseplans"] -= float64(n)
	f.writes["create licenseassignments"] -= float64(assignmentsPerPlan * n)
	f.writes["create namespaces"] -= float64((n + 99) / 100)
	f.reads, f.otherReads = readsBetween(m0, m1)
	f.callouts = calloutsBetween(m0, m1)
	t.Logf("%s: all %d plans Ready in %s (the creates took %s), last write at %s", name, n, f.allReady.Round(time.Millisecond),
		f.creates.Round(time.Millisecond), f.lastWrite.Round(time.Millisecond))

	f.editP50, f.editP99 = s.edits(ctx, min(n, 200))
	// Idle begins once the edits' own writes are done: the last plan in force is followed, within
	// a second, by its namespace's entitlement.
	s.quiet(time.Now())
	m2 := s.metrics(ctx)
	time.Sleep(30 * time.Second)
	idle, _ := writesBetween(m2, s.metrics(ctx))
	f.idleWrites = sum(idle)
	if f.idleWrites > 0 {
		t.Logf("%s: writes in 30 s idle: %v", name, idle)
	}
	s.stop()
	m3 := s.metrics(ctx)
	s.start()
	time.Sleep(30 * time.Second)
	m4 := s.metrics(ctx)
	restart, _ := writesBetween(m3, m4)
	f.restartWrites = sum(restart)
	if f.restartWrites > 0 {
		t.Logf("%s: writes in 30 s after a restart: %v", name, restart)
	}
	reads, _ := readsBetween(m3, m4)
	f.restartGets, f.restartLists = byVerb(reads, "get"), byVerb(reads, "list")
	f.rssKiB = peakRSS(t, s.proc.Process.Pid)

	t.Logf("%s: catch-up storm of %d plans", name, n)
	cpu0 = cpuSeconds(t, apiserver)
	begin = time.Now()
	s.create(ctx, n, "u", licensing.FormatDate(time.Now().UTC().AddDate(0, -1, -7)))
	f.catchUp = s.waitReady(n, "u", 2, begin)
	s.quiet(begin)
	f.stormCPU = cpuSeconds(t, apiserver) - cpu0
	return f
}

func (s *side) start() {
	log, err := os.CreateTemp("", "bench-"+filepath.Base(s.bin)+"-*.log")
	if err != nil {
		s.t.Fatal(err)
	}
	s.log = log
	s.proc = exec.Command(s.bin, s.args...)
	s.proc.Stdout, s.proc.Stderr = log, log
	if err := s.proc.Start(); err != nil {
		s.t.Fatal(err)
	}
}

func (s *side) stop() {
	if s.proc == nil || s.proc.ProcessState != nil {
		return
	}
	_ = s.proc.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.proc.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.proc.Process.Kill()
		<-done
	}
}

func (s *side) catalog(ctx context.Context) {
	for _, o := range []client.Object{
		&v1alpha1.LicenseProduct{ObjectMeta: metav1.ObjectMeta{Name: "enterprise-user-license"}, Spec: v1alpha1.LicenseProductSpec{
			SKU: "PXV-EUL", DisplayName: "Enterprise User License", Family: "VMR", Unit: "User",
			Prices: []v1alpha1.Price{{PaymentPlan: v1alpha1.Monthly, PricePerLicense: "6.00"}}}},
		&v1alpha1.BillingProfile{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultBillingProfileName}, Spec: v1alpha1.BillingProfileSpec{
			Currency: "EUR", DefaultCostCenter: "sales", CostCenters: []v1alpha1.CostCenter{{Name: "sales"}}}},
	} {
		if err := s.c.Create(ctx, o); err != nil {
			s.t.Fatal(err)
		}
	}
}

// create creates n plans named <prefix><i> in namespaces <prefix>-<i/100>, with 5 assignments each.
func (s *side) create(ctx context.Context, n int, prefix string, startDate v1alpha1.Date) {
	for ns := 0; ns < (n+99)/100; ns++ {
		if err := s.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, ns)}}); err != nil {
			s.t.Fatal(err)
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ns, name := fmt.Sprintf("%s-%d", prefix, i/100), fmt.Sprintf("%s%d", prefix, i)
				p := &v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
					Spec: v1alpha1.CustomerLicensePlanSpec{Customer: ns, Product: "enterprise-user-license", Quantity: int32(5 + i%6),
						PaymentPlan: v1alpha1.Monthly, StartDate: startDate}}
				if err := s.c.Create(ctx, p); err != nil {
					s.t.Error(err)
				}
				for a := range 5 {
					if err := s.c.Create(ctx, &v1alpha1.LicenseAssignment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", name, a)},
						Spec: v1alpha1.LicenseAssignmentSpec{Plan: name, Assignee: v1alpha1.Assignee{Type: "User", Name: fmt.Sprintf("u%d@%s.example", a, name)}}}); err != nil {
						s.t.Error(err)
					}
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// waitReady waits until the n plans of prefix are in force at revision at least rev, and returns
// how long after begin the last became so, as the bench's watch saw it.
func (s *side) waitReady(n int, prefix string, rev int64, begin time.Time) time.Duration {
	deadline := time.Now().Add(30*time.Minute + time.Duration(n)*200*time.Millisecond)
	for {
		ready, last := s.w.ready(prefix, rev)
		if ready == n {
			return last.Sub(begin)
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%d of %d plans %s* in force after %s", ready, n, prefix, time.Since(begin).Round(time.Second))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// quiet waits until the bench's watch has seen no change to a plan, an order or an assignment
// for 3 seconds, and returns how long after begin the last came.
func (s *side) quiet(begin time.Time) time.Duration {
	for time.Since(s.w.lastChange()) < 3*time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	return s.w.lastChange().Sub(begin)
}

// edits raises spec.quantity of n plans one at a time and returns the p50 and p99 of the time from
// the patch's answer to the bench's watch seeing the plan in force.
func (s *side) edits(ctx context.Context, n int) (time.Duration, time.Duration) {
	var lat []time.Duration
	for i := range n {
		key := types.NamespacedName{Namespace: fmt.Sprintf("c-%d", i/100), Name: fmt.Sprintf("c%d", i)}
		p := &v1alpha1.CustomerLicensePlan{}
		if err := s.c.Get(ctx, key, p); err != nil {
			s.t.Fatal(err)
		}
		patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"quantity":%d}}`, p.Spec.Quantity+1)))
		if err := s.c.Patch(ctx, p, patch); err != nil {
			s.t.Fatal(err)
		}
		begin := time.Now()
		for {
			if since, ok := s.w.inForceSince(key, p.Generation); ok {
				lat = append(lat, max(0, since.Sub(begin)))
				break
			}
			if time.Since(begin) > time.Minute {
				s.t.Fatalf("plan %s: the edit is not in force after a minute", key)
			}
			time.Sleep(time.Millisecond)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[len(lat)*99/100]
}

// reading is what kube-apiserver's /metrics said at one moment: apiserver_request_total by
// verb, group, resource[/subresource] and code, and
// apiserver_admission_webhook_admission_duration_seconds_count (the webhook calls) by
// "webhook operation".
type reading struct {
	requests map[request]float64
	callouts map[string]float64
}

type request struct{ verb, group, resource, code string }

var labelRE = regexp.MustCompile(`(\w+)="([^"]*)"`)

func (s *side) metrics(ctx context.Context) reading {
	rc, err := rest.RESTClientFor(withCodec(s.cfg))
	if err != nil {
		s.t.Fatal(err)
	}
	raw, err := rc.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	out := reading{requests: map[request]float64{}, callouts: map[string]float64{}}
	for _, line := range bytes.Split(raw, []byte("\n")) {
		name, rest, ok := strings.Cut(string(line), "{")
		if !ok || (name != "apiserver_request_total" && name != "apiserver_admission_webhook_admission_duration_seconds_count") {
			continue
		}
		labels, value, _ := strings.Cut(rest, "} ")
		lab := map[string]string{}
		for _, m := range labelRE.FindAllStringSubmatch(labels, -1) {
			lab[m[1]] = m[2]
		}
		v, _ := strconv.ParseFloat(value, 64)
		if name == "apiserver_request_total" {
			res := lab["resource"]
			if lab["subresource"] != "" {
				res += "/" + lab["subresource"]
			}
			out.requests[request{strings.ToLower(lab["verb"]), lab["group"], res, lab["code"]}] += v
			continue
		}
		out.callouts[lab["name"]+" "+lab["operation"]] += v
	}
	return out
}

func withCodec(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.APIPath = "/api"
	c.NegotiatedSerializer = clientNegotiator
	return c
}

// writesBetween sums the write requests that came between two readings, by "verb resource", and
// the 409s among them. Events and leader election leases are not counted.
func writesBetween(from, to reading) (map[string]float64, float64) {
	out, conflicts := map[string]float64{}, 0.0
	for key, v := range to.requests {
		verb := key.verb
		switch verb { // apiserver_request_total names them by HTTP method
		case "post", "create":
			verb = "create"
		case "put", "update":
			verb = "update"
		case "patch", "delete", "apply", "deletecollection":
		default:
			continue
		}
		if key.resource == "events" || key.resource == "leases" || strings.HasSuffix(key.resource, "reviews") {
			continue
		}
		d := v - from.requests[key]
		if d == 0 {
			continue
		}
		out[verb+" "+key.resource] += d
		if key.code == "409" {
			conflicts += d
		}
	}
	return out, conflicts
}

// readsBetween sums the GETs and LISTs that came between two readings: of the operator's API group
// by "verb resource", of the others by "verb group/resource" (the API server's own loops among
// them). Watches and paths that are no resource (discovery) are not counted.
func readsBetween(from, to reading) (ours, others map[string]float64) {
	ours, others = map[string]float64{}, map[string]float64{}
	for key, v := range to.requests {
		if key.verb != "get" && key.verb != "list" || strings.HasPrefix(key.resource, "/") || key.resource == "leases" {
			continue
		}
		d := v - from.requests[key]
		switch {
		case d == 0:
		case key.group == v1alpha1.GroupVersion.Group:
			ours[key.verb+" "+key.resource] += d
		default:
			group := key.group
			if group == "" {
				group = "core"
			}
			others[key.verb+" "+group+"/"+key.resource] += d
		}
	}
	return ours, others
}

// calloutsBetween counts the admission webhook calls that came between two readings, by
// "webhook operation".
func calloutsBetween(from, to reading) map[string]float64 {
	out := map[string]float64{}
	for key, v := range to.callouts {
		if d := v - from.callouts[key]; d != 0 {
			out[key] = d
		}
	}
	return out
}

// byVerb sums the entries of m keyed "verb ...".
func byVerb(m map[string]float64, verb string) float64 {
	t := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, verb+" ") {
			t += v
		}
	}
	return t
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}
