package faults

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
)

// replica is one operator process of a run.
type replica struct {
	name   string
	cfg    *rest.Config
	fault  *fault
	leader *leaderElection
}

// outcome is a finished run: what it recorded and its operators' figures.
type outcome struct {
	run *run
	res *result
	ops []*operator
}

// runWorkload runs the whole workload w in a fresh namespace with the given replicas.
func runWorkload(w *workload, prefix string, ref *result, replicas ...replica) (*outcome, error) {
	ctx := context.Background()
	r, err := newRun(ctx, w, prefix, ref)
	if err != nil {
		return nil, err
	}
	out := &outcome{run: r}
	r.noticeRepeats = len(replicas) > 1
	for _, rp := range replicas {
		op, err := startOperator(rp.name, r.ns, r.clock, rp.cfg, rp.fault, rp.leader)
		if err != nil {
			stopAll(out.ops)
			return nil, err
		}
		out.ops = append(out.ops, op)
	}
	start := time.Now()
	werr := r.workload(0, len(w.steps))
	out.res = r.finish(werr, start)
	if err := stopAll(out.ops); err != nil {
		out.res.err = errors.Join(out.res.err, err)
	}
	return out, nil
}

func stopAll(ops []*operator) error {
	var errs []error
	for _, op := range ops {
		errs = append(errs, op.stop())
	}
	return errors.Join(errs...)
}

// The reference run of each workload is made once, by the first spec that needs it.
type referenceOf struct {
	once   sync.Once
	res    *result
	writes []string
	err    error
}

var references sync.Map // workload name -> *referenceOf

func referenceRun(w *workload) (*result, []string) {
	v, _ := references.LoadOrStore(w.name, &referenceOf{})
	ref := v.(*referenceOf)
	ref.once.Do(func() {
		out, err := runWorkload(w, "ref-"+w.name, nil, replica{name: "reference", cfg: cfg})
		if err != nil {
			ref.err = err
			return
		}
		ref.res, ref.writes, ref.err = out.res, out.ops[0].firstLog().list(), out.res.err
		if ref.err != nil {
			ref.err = fmt.Errorf("%w\nstatuses after each step:\n  %s\norder history:\n  %s", ref.err,
				strings.Join(out.res.statuses, "\n  "), strings.Join(out.res.history, "\n  "))
		}
		summary.Lock()
		summary.workload(w.name).k, summary.workload(w.name).referenceTook = len(ref.writes), out.res.took
		summary.Unlock()
	})
	if ref.err != nil {
		Fail("the reference run of workload " + w.name + " failed: nothing can be compared with it: " + ref.err.Error())
	}
	return ref.res, ref.writes
}

// failures collects runs whose history differs from the reference's.
type failures struct {
	lines []string
	shown map[string]bool
	text  strings.Builder
}

func (f *failures) add(name string, ref, got *result) bool {
	first, full := diff(ref, got)
	if first == "" {
		return false
	}
	f.lines = append(f.lines, fmt.Sprintf("%s: %s", name, first))
	if f.shown == nil {
		f.shown = map[string]bool{}
	}
	// Each kind of difference is shown in full once (the first run that had it).
	key := first
	if i := strings.Index(key, ", got "); i > 0 {
		key = key[i:]
	}
	if !f.shown[key] && len(f.shown) < 8 {
		f.shown[key] = true
		fmt.Fprintf(&f.text, "\n── %s ──\n%s", name, full)
	}
	return true
}

// check fails the spec, with every differing run's first differing line and the side-by-side
// comparison of one run per kind of difference, if any run differed.
func (f *failures) check(what string) {
	if len(f.lines) > 0 {
		Fail(fmt.Sprintf("%d %s differ from the reference:\n  %s\n%s", len(f.lines), what, strings.Join(f.lines, "\n  "), f.text.String()))
	}
}

func verdict(equal bool) string {
	if equal {
		return "equal"
	}
	return "DIFFERS"
}

var _ = Describe("Exactly once", Ordered, ContinueOnFailure, func() {
	It("1. reference: each workload with a counting client", func() {
		for _, w := range selectedWorkloads() {
			ref, writes := referenceRun(w)
			say("reference run of %s: K = %d writes, %.1f s", w.name, len(writes), ref.took.Seconds())
			for i, wr := range writes {
				say("  write %3d  %s", i+1, wr)
			}
			say("statuses after each step:")
			for _, s := range ref.statuses {
				say("  %s", s)
			}
			say("order history:")
			for _, h := range ref.history {
				say("  %s", h)
			}
			if len(ref.notices) > 0 || w.notices {
				say("notices the webhook receiver saw (%d):", len(ref.notices))
				for _, n := range ref.notices {
					say("  %s", n)
				}
			}
		}
	})

	It("2. crash-point sweep: a fault at every write of every workload, lost and unheard", func() {
		every := envInt("FAULTS_EVERY", 1)
		start := time.Now()
		var fails failures
		for _, w := range selectedWorkloads() {
			ref, writes := referenceRun(w)
			k := len(writes)
			wstart := time.Now()
			tried, equal, notReached := 0, 0, 0
			for at := 1; at <= k; at += every {
				for _, mode := range []faultMode{lost, unheard} {
					name := fmt.Sprintf("%s k=%d/%s", w.name, at, mode)
					out, err := runWorkload(w, fmt.Sprintf("%s-k%d-%s", w.name, at, mode), ref,
						replica{name: name, cfg: cfg, fault: &fault{k: at, mode: mode}})
					Expect(err).NotTo(HaveOccurred())
					tried++
					hit := out.ops[0].firstLog().hit
					if hit == "" {
						notReached++
						n, _ := out.ops[0].writes()
						hit = fmt.Sprintf("(not reached: %d writes)", n)
					}
					differs := fails.add(name, ref, out.res)
					if !differs {
						equal++
					}
					say("crash %-40s at %-48s managers=%d %5.1fs  %s%s", name, hit, out.ops[0].managers(), out.res.took.Seconds(), verdict(!differs), noticeSummary(out.res))
				}
			}
			took := time.Since(wstart)
			summary.Lock()
			f := summary.workload(w.name)
			f.crashTried, f.crashEqual, f.crashNotReached, f.sweepTook = tried, equal, notReached, took
			summary.Unlock()
			say("crash-point sweep of %s: K = %d, every %d: crash points tried %d, histories equal %d, not reached %d; %s",
				w.name, k, every, tried, equal, notReached, took.Round(time.Second))
		}
		summary.Lock()
		summary.sweepTook = time.Since(start)
		summary.Unlock()
		fails.check("crash runs")
	})

	It("3a. two replicas without leader election", func() {
		ref, _ := referenceRun(lifecycle)
		n := envInt("FAULTS_RACES", 10)
		var fails failures
		equal := 0
		for i := 1; i <= n; i++ {
			name := fmt.Sprintf("race %d", i)
			out, err := runWorkload(lifecycle, fmt.Sprintf("race%d", i), ref,
				replica{name: "replica-a", cfg: cfg}, replica{name: "replica-b", cfg: cfg})
			Expect(err).NotTo(HaveOccurred())
			differs := fails.add(name, ref, out.res)
			if !differs {
				equal++
			}
			wa, ca := out.ops[0].writes()
			wb, cb := out.ops[1].writes()
			say("%-8s writes a=%d b=%d, conflicts a=%d b=%d %5.1fs  %s", name, wa, wb, ca, cb, out.res.took.Seconds(), verdict(!differs))
		}
		summary.Lock()
		summary.racesRun, summary.racesEqual = n, equal
		summary.Unlock()
		say("two replicas: %d of %d histories equal", equal, n)
		fails.check("race runs")
	})

	It("3b. two replicas, one of whose watch events lag 250-500 ms", func() {
		ref, _ := referenceRun(lifecycle)
		n := envInt("FAULTS_RACES", 10)
		var fails failures
		equal := 0
		for i := 1; i <= n; i++ {
			name := fmt.Sprintf("lag %d", i)
			out, err := runWorkload(lifecycle, fmt.Sprintf("lag%d", i), ref,
				replica{name: "replica", cfg: cfg}, replica{name: "lagging", cfg: laggingConfig(cfg)})
			Expect(err).NotTo(HaveOccurred())
			differs := fails.add(name, ref, out.res)
			if !differs {
				equal++
			}
			wa, ca := out.ops[0].writes()
			wb, cb := out.ops[1].writes()
			say("%-8s writes replica=%d lagging=%d, conflicts replica=%d lagging=%d %5.1fs  %s", name, wa, wb, ca, cb, out.res.took.Seconds(), verdict(!differs))
		}
		summary.Lock()
		summary.lagRun, summary.lagEqual = n, equal
		summary.Unlock()
		say("lagging replica: %d of %d histories equal", equal, n)
		fails.check("lagging runs")
	})

	It("4. leader failover: the standby takes over within 24 s and applies nothing twice", func() {
		ref, _ := referenceRun(lifecycle)
		ctx := context.Background()
		r, err := newRun(ctx, lifecycle, "failover", ref)
		Expect(err).NotTo(HaveOccurred())
		r.noticeRepeats = true // two replicas
		le := &leaderElection{id: "faults-" + r.ns}
		var ops []*operator
		for _, name := range []string{"replica-1", "replica-2"} {
			op, err := startOperator(name, r.ns, r.clock, cfg, nil, le)
			Expect(err).NotTo(HaveOccurred())
			ops = append(ops, op)
		}
		DeferCleanup(func() { _ = stopAll(ops) })

		var leader, standby *operator
		select {
		case <-ops[0].elected():
			leader, standby = ops[0], ops[1]
		case <-ops[1].elected():
			leader, standby = ops[1], ops[0]
		case <-time.After(60 * time.Second):
			Fail("no replica was elected within 60 s")
		}
		say("failover: %s is the leader, %s the standby", leader.name, standby.name)

		// The leader is killed right after the user deletes an assignment: the decrease it
		// unblocks is left to the standby. The lease is not released.
		killAfter := slices.IndexFunc(steps, func(s step) bool { return strings.HasPrefix(s.name, "unassign") })
		Expect(killAfter).To(BeNumerically(">", 0))
		failover := make(chan time.Duration, 1)
		r.timeout = 60 * time.Second
		r.afterAct = func(i int) {
			if i != killAfter {
				return
			}
			killed := time.Now()
			leader.kill()
			elected := standby.elected()
			go func() {
				<-elected
				failover <- time.Since(killed)
			}()
			say("failover: %s killed after step %d (%s)", leader.name, i+1, steps[i].name)
		}
		start := time.Now()
		werr := r.workload(0, len(lifecycle.steps))
		res := r.finish(werr, start)
		var took time.Duration
		select {
		case took = <-failover:
		default:
			Fail("the standby was never elected: " + fmt.Sprint(res.err))
		}
		Expect(stopAll(ops)).To(Succeed())

		var fails failures
		differs := fails.add("failover", ref, res)
		wl, _ := leader.writes()
		ws, _ := standby.writes()
		say("failover: standby elected %.1f s after the leader was killed; writes leader=%d standby=%d; %.1f s; %s",
			took.Seconds(), wl, ws, res.took.Seconds(), verdict(!differs))
		summary.Lock()
		summary.failoverSeconds, summary.failoverEqual, summary.failoverMeasured = took.Seconds(), verdict(!differs), true
		summary.Unlock()
		// Expected about 17 s: the lease (15 s) from when the standby last saw it renewed, and a
		// retry (2 s). client-go jitters the standby's retries (2 s to 4.4 s, JitterFactor 1.2)
		// and dates the lease from when the standby saw the last renewal, so a few runs in a
		// hundred take a little over 20 s; the worst case is about 23 s, which bounds the check.
		Expect(took).To(BeNumerically("<=", 24*time.Second), "the standby should take over after the lease (15 s) and a jittered retry (2 to 4.4 s), twice at worst")
		fails.check("failover runs")
	})
})
