// Package faults proves, on a real API server (envtest), the promise of ../shared/design/RULES.md:
// every order is applied to its plan and charged exactly once, even when the operator is killed
// between any two of its API writes, when two replicas race, and when the leader fails over.
//
// # What is proved
//
// Fixed, deterministic workloads drive a plan through its life (workload_test.go). The lifecycle
// workload: a new Monthly plan started two months ago (New + two catch-up renewals), an increase,
// four assignments, a decrease below usage (refused, UsageBelowMinimum) that is ordered once an
// assignment is deleted, a payment plan change (next term), an upgrade within the Endpoint family
// (at once), the clock moved past the term end (a renewal), and the plan deleted (Cancellation).
// The others: a plan started three months back (New + three catch-up renewals, each placed before
// the plan's status is written); a trial converted to Monthly, renewed and deleted; a trial left
// to end (Expiry) and deleted; a plan deleted in its renewal window with its Renewal open.
// After each step the workload waits until the operator has settled and records the plan's
// status; at the end it records the order history (per order: revision, change, quantities,
// effective date, product, payment plan, state, reason, charge). Each run has its own namespace
// and its own fake clock; runs are compared with the reference run, line by line.
//
// Every run of the lifecycle workload also has a NotificationSink: a webhook, told of every order
// event of the run's namespace, whose receiver checks each request's HMAC signature
// (notices_test.go). At rest after each step, per order and event the receiver has seen exactly
// one distinct key (notify.Key of the order's UID, the event and the sink) and the order's
// status.notices records it as delivered; with one replica a key arrives twice only when the
// process died between sending it and recording it (its record write was the fault's lost write,
// or was refused after the fault, or the send was in flight when the process died). The sink is
// told only of what happened after its creation (the API server's time), and the runs' clock is a
// fake one in the past: of the lifecycle's orders only the Rejected one is told, and the fulfilled
// ones are, by that clock, from before the sink.
//
//  1. Reference: each workload once, with a client that counts the operator's writes (Create,
//     Update, Patch, Delete, DeleteAllOf, Apply and the status writes; Events are not counted):
//     K writes.
//  2. Crash-point sweep: for every workload and every k in 1..K of its reference, twice: the k-th write is "lost" (not sent, an error
//     returned) or "unheard" (sent and done, then an error returned as if the connection broke).
//     From that write on the process is dead: it writes nothing more, it is stopped (its context
//     cancelled, Start returned) and a fresh manager (new cache, new client, no fault) carries on.
//     History and statuses must equal the reference.
//  3. Two replicas without leader election run through the lifecycle workload together, FAULTS_RACES times;
//     then FAULTS_RACES times with one replica whose watch events of plans and assignments arrive
//     250-500 ms late. Each history must equal the reference.
//  4. Leader failover: two replicas with leader election (lease 15 s, renew deadline 10 s, retry
//     2 s); the leader is killed mid-workload without releasing its lease; the standby takes over
//     (asserted within 24 s, about 17 s on average) and finishes; the history must equal the reference.
//
// The operator runs in-process as internal/controller's suite runs it (ctrl.NewManager,
// controller.SetupWithManager with a fake clock, mgr.Start), with two additions: the manager's
// client is wrapped (opts.NewClient) to count and break writes, and each manager's cache watches
// only its run's namespace, so that runs (each with a clock of its own) cannot disturb each other.
//
// # Running it
//
//	make test-faults                         # the whole suite, about 20 minutes on 2 cores
//	FAULTS_EVERY=5 FAULTS_RACES=2 make test-faults   # a quick run: every 5th crash point, 2 race runs
//
// The suite is skipped unless LICENSE_FAULTS=1 (which `make test-faults` sets), so `go test ./...`
// and `make test` compile it but do not run it. Environment:
//
//	FAULTS_EVERY=n   try every n-th crash point only (default 1: all)
//	FAULTS_WORKLOADS=a,b  sweep only these workloads (default all: lifecycle, catch-up,
//	                 trial-converted, trial-ended, renewal-window-deletion)
//	FAULTS_RACES=n   runs of two racing replicas, and of a lagging replica (default 10 each)
//	FAULTS_LOG=path  where the operator's logs go (default $TMPDIR/license-operator-faults.log)
//
// Each run prints one line; the suite ends with a summary table (crash points tried, histories
// equal, race and lagging runs equal, failover seconds). A failing run prints the reference and
// its own history and statuses side by side, marking each differing line with ≠.
package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/partnerops/license-operator/internal/testenv"
)

var (
	testEnv     *envtest.Environment
	cfg         *rest.Config
	k8sClient   client.Client
	scheme      = testenv.Scheme()
	operatorLog = logf.Log // the operator's logger, set to a file in BeforeSuite
	logFile     *os.File
	suiteStart  time.Time
)

// stepTimeout is how long one step of the workload may take to settle (a restart included).
const stepTimeout = 30 * time.Second

func TestFaults(t *testing.T) {
	// An env var rather than a build tag: `go test ./...` (make test) still compiles and vets
	// this package, but only `make test-faults` runs it.
	if os.Getenv("LICENSE_FAULTS") != "1" {
		t.Skip("the fault-injection suite runs with LICENSE_FAULTS=1: make test-faults")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Fault Injection Suite")
}

var _ = BeforeSuite(func() {
	suiteStart = time.Now()
	path := os.Getenv("FAULTS_LOG")
	if path == "" {
		path = filepath.Join(os.TempDir(), "license-operator-faults.log")
	}
	var err error
	logFile, err = os.Create(path)
	Expect(err).NotTo(HaveOccurred())
	operatorLog = zap.New(zap.WriteTo(logFile), zap.UseDevMode(true), zap.Level(zapcore.InfoLevel))
	logf.SetLogger(operatorLog)
	say("the operator's logs go to %s", path)

	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)

	testEnv = testenv.Environment(filepath.Join("..", ".."), false)
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start the control plane: run the suite with `make test-faults`, which finds or builds kube-apiserver and etcd")
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	printSummary()
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
	if logFile != nil {
		_ = logFile.Close()
	}
})

// say prints one line of the suite's figures.
func say(format string, args ...any) {
	fmt.Fprintf(GinkgoWriter, format+"\n", args...)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// summary holds the figures of the suite, printed at its end.
var summary suiteFigures

type suiteFigures struct {
	sync.Mutex
	workloads        []*workloadFigures
	sweepTook        time.Duration
	racesRun         int
	racesEqual       int
	lagRun           int
	lagEqual         int
	failoverSeconds  float64
	failoverEqual    string
	failoverMeasured bool
}

// workloadFigures are the figures of one workload: its reference run and its crash-point sweep.
type workloadFigures struct {
	name            string
	k               int
	referenceTook   time.Duration
	crashTried      int
	crashEqual      int
	crashNotReached int
	sweepTook       time.Duration
}

// workload returns the figures of the named workload; the caller holds the lock.
func (s *suiteFigures) workload(name string) *workloadFigures {
	for _, f := range s.workloads {
		if f.name == name {
			return f
		}
	}
	f := &workloadFigures{name: name}
	s.workloads = append(s.workloads, f)
	return f
}

// selectedWorkloads are the workloads the sweep runs: those FAULTS_WORKLOADS names (a comma-separated
// list), or all.
func selectedWorkloads() []*workload {
	names := os.Getenv("FAULTS_WORKLOADS")
	if names == "" {
		return workloads
	}
	var out []*workload
	for _, w := range workloads {
		if slices.Contains(strings.Split(names, ","), w.name) {
			out = append(out, w)
		}
	}
	return out
}

func printSummary() {
	s := &summary
	s.Lock()
	defer s.Unlock()
	failover := "not run"
	if s.failoverMeasured {
		failover = fmt.Sprintf("%.1f s (history %s)", s.failoverSeconds, s.failoverEqual)
	}
	say("")
	say("┌──────────────────────────────────────────────┬──────────────────────────────┐")
	say("│ fault injection summary                      │                              │")
	say("├──────────────────────────────────────────────┼──────────────────────────────┤")
	row := func(k, v string) { say("│ %-44s │ %-28s │", k, v) }
	for _, f := range s.workloads {
		row("workload "+f.name, "")
		row("  writes of the reference run (K)", fmt.Sprint(f.k))
		row("  one workload run (reference)", f.referenceTook.Round(100*time.Millisecond).String())
		row("  crash points tried (lost + unheard)", fmt.Sprint(f.crashTried))
		row("    histories equal", fmt.Sprint(f.crashEqual))
		row("    fault not reached (fewer writes)", fmt.Sprint(f.crashNotReached))
		row("    sweep time", f.sweepTook.Round(time.Second).String())
	}
	row("crash-point sweep, all workloads", s.sweepTook.Round(time.Second).String())
	row("race runs (2 replicas) equal", fmt.Sprintf("%d of %d", s.racesEqual, s.racesRun))
	row("lagging-replica runs equal", fmt.Sprintf("%d of %d", s.lagEqual, s.lagRun))
	row("failover (standby elected after kill)", failover)
	row("suite time", time.Since(suiteStart).Round(time.Second).String())
	say("└──────────────────────────────────────────────┴──────────────────────────────┘")
}
