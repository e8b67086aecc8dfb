// Package scale measures what the operator costs a partner with a whole book of plans, beside a
// floor: a logic-free controller (test/scale/floor) that does only the writes an operator of this
// design must do for one order (create the order, write its status, write the plan's status). Both
// run as processes of their own against an envtest control plane of their own, in one run, on the
// same workload, so that the ratios mean something on a shared machine whose absolute times do not.
//
// The workload: N plans (Monthly, 100 per customer namespace) with 5 assignments each, created by
// 16 clients at once; then edits of spec.quantity one at a time; then N more plans started a month
// and a week ago, each needing a New order and one catch-up Renewal (the catch-up storm).
//
// What is measured, per side: when every plan is Ready (the operator: Ready=True for the plan's
// generation with its usage counted; the floor: its status written for the generation); when the
// last write came; the API writes by resource and verb, and the 409s, from kube-apiserver's own
// apiserver_request_total, less the bench's own creates; kube-apiserver's CPU seconds and the
// process's peak RSS (VmHWM) from /proc; edit-to-status latency; writes while idle and after a
// restart.
//
//	make bench N=1000            # about 5 minutes on 2 cores
//	WEBHOOKS=false make bench    # the operator without its admission webhooks
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
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
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

// figures are what one side measured.
type figures struct {
	allReady, lastWrite, catchUp time.Duration
	writes                       map[string]float64 // by "verb resource[/subresource]", less the bench's creates
	conflicts                    float64
	apiserverCPU                 float64 // seconds, during the bulk create
	rssKiB                       int64
	editP50, editP99             time.Duration
	idleWrites, restartWrites    float64
}

func TestBench(t *testing.T) {
	n := plansToBench(t, "make bench")
	webhooks := os.Getenv("WEBHOOKS") != "false"
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	bin := t.TempDir()
	for _, b := range []struct{ name, pkg string }{{"manager", "../../cmd"}, {"floor", "./floor"}} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, b.name), b.pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	started := time.Now()
	floor := measure(t, n, filepath.Join(bin, "floor"), false)
	operator := measure(t, n, filepath.Join(bin, "manager"), webhooks)
	report(t, n, webhooks, operator, floor, time.Since(started))
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
	bin     string
	args    []string
	proc    *exec.Cmd
	log     *os.File
	isFloor bool
}

// newSide starts a control plane of its own with the catalog, and the process under test against
// it; close stops both.
func newSide(t *testing.T, bin string, webhooks bool) *side {
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
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		s.close()
		t.Fatal(err)
	}
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		s.close()
		t.Fatal(err)
	}
	fast := rest.CopyConfig(user.Config())
	fast.QPS, fast.Burst = 500, 1000
	if s.c, err = client.New(fast, client.Options{Scheme: testenv.Scheme()}); err != nil {
		s.close()
		t.Fatal(err)
	}
	s.args = []string{"--kubeconfig=" + kcPath}
	if !s.isFloor {
		s.args = append(s.args, "--metrics-bind-address=0", "--health-probe-bind-address=0", fmt.Sprintf("--webhooks=%t", webhooks),
			"--webhook-cert-path="+s.env.WebhookInstallOptions.LocalServingCertDir)
	}
	ctx := context.Background()
	s.catalog(ctx)
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
	_ = s.env.Stop()
}

func measure(t *testing.T, n int, bin string, webhooks bool) figures {
	s := newSide(t, bin, webhooks)
	defer s.close()
	ctx := context.Background()
	name := filepath.Base(bin)
	var f figures
	apiserver := apiserverPID(t)
	m0, cpu0 := s.metrics(ctx), cpuSeconds(t, apiserver)
	t.Logf("%s: creating %d plans and %d assignments", name, n, 5*n)
	begin := time.Now()
	s.create(ctx, n, "c", "")
	f.allReady = s.waitReady(ctx, n, "c", 1, begin)
	f.lastWrite = s.quiet(ctx, begin)
	m1, cpu1 := s.metrics(ctx), cpuSeconds(t, apiserver)
	f.apiserverCPU = cpu1 - cpu0
	f.writes, f.conflicts = writesBetween(m0, m1)
	f.writes["create customerlicenseplans"] -= float64(n)
	f.writes["create licenseassignments"] -= float64(5 * n)
	f.writes["create namespaces"] -= float64(n / 100)
	t.Logf("%s: all %d plans Ready in %s, last write at %s", name, n, f.allReady.Round(time.Millisecond), f.lastWrite.Round(time.Millisecond))

	f.editP50, f.editP99 = s.edits(ctx, min(n, 200))
	m2 := s.metrics(ctx)
	time.Sleep(30 * time.Second)
	idle, _ := writesBetween(m2, s.metrics(ctx))
	f.idleWrites = sum(idle)
	s.stop()
	s.start()
	m3 := s.metrics(ctx)
	time.Sleep(30 * time.Second)
	restart, _ := writesBetween(m3, s.metrics(ctx))
	f.restartWrites = sum(restart)
	f.rssKiB = peakRSS(t, s.proc.Process.Pid)

	t.Logf("%s: catch-up storm of %d plans", name, n)
	begin = time.Now()
	s.create(ctx, n, "u", licensing.FormatDate(time.Now().UTC().AddDate(0, -1, -7)))
	f.catchUp = s.waitReady(ctx, n, "u", 2, begin)
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
// how long after begin the last became so.
func (s *side) waitReady(ctx context.Context, n int, prefix string, rev int64, begin time.Time) time.Duration {
	deadline := time.Now().Add(30 * time.Minute)
	for {
		list := &v1alpha1.CustomerLicensePlanList{}
		if err := s.c.List(ctx, list); err != nil {
			s.t.Fatal(err)
		}
		ready := 0
		for i := range list.Items {
			if p := &list.Items[i]; strings.HasPrefix(p.Name, prefix) && s.inForce(p, rev) {
				ready++
			}
		}
		if ready == n {
			return time.Since(begin)
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%d of %d plans %s* in force after 30 minutes", ready, n, prefix)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (s *side) inForce(p *v1alpha1.CustomerLicensePlan, rev int64) bool {
	if p.Status.Revision < rev || p.Status.ObservedGeneration != p.Generation || p.Status.Licenses != p.Spec.Quantity {
		return false
	}
	c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.PlanReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == p.Generation && (s.isFloor || p.Status.Usage.Assigned == 5)
}

// quiet waits until no write has come for 3 seconds and returns when the last one came, after begin.
func (s *side) quiet(ctx context.Context, begin time.Time) time.Duration {
	last, lastAt := -1.0, time.Now()
	for time.Since(lastAt) < 3*time.Second {
		w, _ := writesBetween(nil, s.metrics(ctx))
		if total := sum(w); total != last {
			last, lastAt = total, time.Now()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return lastAt.Sub(begin)
}

// edits raises spec.quantity of n plans one at a time and returns the p50 and p99 of the time from
// the patch's answer to a status showing it in force.
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
		for !s.inForce(p, 0) {
			time.Sleep(2 * time.Millisecond)
			if err := s.c.Get(ctx, key, p); err != nil {
				s.t.Fatal(err)
			}
			if time.Since(begin) > time.Minute {
				s.t.Fatalf("plan %s: the edit is not in force after a minute", key)
			}
		}
		lat = append(lat, time.Since(begin))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[len(lat)*99/100]
}

// metrics reads kube-apiserver's apiserver_request_total: by "verb resource[/subresource] code".
func (s *side) metrics(ctx context.Context) map[string]float64 {
	rc, err := rest.RESTClientFor(withCodec(s.cfg))
	if err != nil {
		s.t.Fatal(err)
	}
	raw, err := rc.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range bytes.Split(raw, []byte("\n")) {
		l := string(line)
		if !strings.HasPrefix(l, "apiserver_request_total{") {
			continue
		}
		labels, value, _ := strings.Cut(strings.TrimPrefix(l, "apiserver_request_total{"), "} ")
		lab := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			lab[k] = strings.Trim(v, `"`)
		}
		res := lab["resource"]
		if lab["subresource"] != "" {
			res += "/" + lab["subresource"]
		}
		v, _ := strconv.ParseFloat(value, 64)
		out[strings.ToLower(lab["verb"])+" "+res+" "+lab["code"]] += v
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
func writesBetween(from, to map[string]float64) (map[string]float64, float64) {
	out, conflicts := map[string]float64{}, 0.0
	for key, v := range to {
		verb, rest, _ := strings.Cut(key, " ")
		res, code, _ := strings.Cut(rest, " ")
		switch verb { // apiserver_request_total names them by HTTP method
		case "post", "create":
			verb = "create"
		case "put", "update":
			verb = "update"
		case "patch", "delete", "apply", "deletecollection":
		default:
			continue
		}
		if res == "events" || res == "leases" || strings.HasSuffix(res, "reviews") {
			continue
		}
		d := v - from[key]
		if d == 0 {
			continue
		}
		out[verb+" "+res] += d
		if code == "409" {
			conflicts += d
		}
	}
	return out, conflicts
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}
