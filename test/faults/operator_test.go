package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"

	"github.com/partnerops/license-operator/internal/controller"
	"github.com/partnerops/license-operator/internal/testenv"
)

// faultMode says what happens to the write a fault hits.
type faultMode string

const (
	// lost: the write is not sent; the operator gets an error (killed just before the write).
	lost faultMode = "lost"
	// unheard: the write is sent and succeeds, then the operator gets an error as if the
	// connection broke before the answer came (killed just after the write).
	unheard faultMode = "unheard"
)

// fault kills the operator at its k-th write (counting from 1).
type fault struct {
	k    int
	mode faultMode
}

var (
	errLost    = errors.New("fault injection: the connection to the API server broke before the request was sent")
	errUnheard = errors.New("fault injection: the connection to the API server broke before the answer arrived")
	errDead    = errors.New("fault injection: this operator process is being killed")
)

// writeLog counts the writes one manager's client makes and, with a fault, breaks the k-th one
// and refuses every later one (the process is dead from then on; the supervisor stops it).
type writeLog struct {
	mu      sync.Mutex
	n       int
	writes  []string // "Create LicenseOrder ep-4", in order
	fault   *fault
	dead    bool
	hit     string // the write the fault hit
	onFault func()
	// conflicts counts writes the API server refused as conflicting (Conflict, AlreadyExists).
	conflicts atomic.Int64
}

// do runs one write through the log.
func (w *writeLog) do(desc string, write func() error) error {
	w.mu.Lock()
	if w.dead {
		w.mu.Unlock()
		return errDead
	}
	w.n++
	w.writes = append(w.writes, desc)
	f := w.fault
	if f == nil || w.n != f.k {
		w.mu.Unlock()
		err := write()
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			w.conflicts.Add(1)
		}
		return err
	}
	w.dead, w.hit = true, desc
	w.mu.Unlock()
	defer w.onFault()
	if f.mode == lost {
		return errLost
	}
	if err := write(); err != nil {
		// The write failed on its own; what the operator sees is still a broken connection.
		return fmt.Errorf("%w (the write itself failed: %v)", errUnheard, err)
	}
	return errUnheard
}

func (w *writeLog) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func (w *writeLog) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

func kindOf(o runtime.Object) string {
	t := reflect.TypeOf(o)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

func describeWrite(verb string, o client.Object) string {
	return fmt.Sprintf("%s %s %s", verb, kindOf(o), o.GetName())
}

// newClientFunc builds the manager's default client (with the cache reader it is given) and
// sends every write through w. Events are written by the manager's event recorder, which has a
// client of its own: they are not counted.
func newClientFunc(w *writeLog) client.NewClientFunc {
	return func(cfg *rest.Config, options client.Options) (client.Client, error) {
		c, err := client.NewWithWatch(cfg, options)
		if err != nil {
			return nil, err
		}
		return interceptor.NewClient(c, interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
				return w.do(describeWrite("Create", o), func() error { return c.Create(ctx, o, opts...) })
			},
			Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
				return w.do(describeWrite("Update", o), func() error { return c.Update(ctx, o, opts...) })
			},
			Patch: func(ctx context.Context, c client.WithWatch, o client.Object, p client.Patch, opts ...client.PatchOption) error {
				return w.do(describeWrite("Patch", o), func() error { return c.Patch(ctx, o, p, opts...) })
			},
			Apply: func(ctx context.Context, c client.WithWatch, o runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				return w.do("Apply "+fmt.Sprintf("%T", o), func() error { return c.Apply(ctx, o, opts...) })
			},
			Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
				return w.do(describeWrite("Delete", o), func() error { return c.Delete(ctx, o, opts...) })
			},
			DeleteAllOf: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteAllOfOption) error {
				return w.do(describeWrite("DeleteAllOf", o), func() error { return c.DeleteAllOf(ctx, o, opts...) })
			},
			SubResourceCreate: func(ctx context.Context, c client.Client, sub string, o, subObj client.Object, opts ...client.SubResourceCreateOption) error {
				return w.do(describeWrite("Create/"+sub, o), func() error { return c.SubResource(sub).Create(ctx, o, subObj, opts...) })
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, o client.Object, opts ...client.SubResourceUpdateOption) error {
				return w.do(describeWrite("Update/"+sub, o), func() error { return c.SubResource(sub).Update(ctx, o, opts...) })
			},
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
				// A notice's record (notices_test.go): if the process dies before it is written,
				// the notice is sent again, with the same key.
				desc, keys := describeWrite("Patch/"+sub, o), noticeRecord(sub, o, p)
				if keys != nil {
					desc += " (notices)"
				}
				err := w.do(desc, func() error { return c.SubResource(sub).Patch(ctx, o, p, opts...) })
				if keys != nil && (errors.Is(err, errLost) || errors.Is(err, errDead)) {
					noticeWritten(o.GetNamespace(), keys)
				}
				return err
			},
			SubResourceApply: func(ctx context.Context, c client.Client, sub string, o runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
				return w.do(fmt.Sprintf("Apply/%s %T", sub, o), func() error { return c.SubResource(sub).Apply(ctx, o, opts...) })
			},
		}), nil
	}
}

// leaderElection are the settings of a replica that takes part in leader election.
type leaderElection struct {
	id string
}

// operator is one replica of the operator as a supervisor sees it: it runs a manager and, when a
// fault kills that manager, stops it (cancel, wait until Start returns) and starts a fresh one
// (new cache, new client, counting from zero, no fault) that carries on.
type operator struct {
	name   string
	ns     string
	clock  clock.PassiveClock
	cfg    *rest.Config
	leader *leaderElection

	mu       sync.Mutex
	cur      *instance
	all      []*instance
	stopped  bool
	restarts sync.WaitGroup
	failures []error
}

type instance struct {
	mgr    ctrl.Manager
	log    *writeLog
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// startOperator starts a replica whose manager watches only ns (so that the runs of this suite,
// each in a namespace of its own with a clock of its own, cannot disturb each other). A fault, if
// any, hits the first manager only.
func startOperator(name, ns string, clk clock.PassiveClock, restCfg *rest.Config, f *fault, le *leaderElection) (*operator, error) {
	op := &operator{name: name, ns: ns, clock: clk, cfg: restCfg, leader: le}
	op.mu.Lock()
	defer op.mu.Unlock()
	if err := op.startLocked(f); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *operator) startLocked(f *fault) error {
	w := &writeLog{fault: f}
	opts := testenv.ManagerOptions(testEnv, scheme)
	opts.Controller = config.Controller{SkipNameValidation: ptr.To(true)}
	// The cache is the operator's own (cachecfg: no fulfilled order, as in production), limited to
	// the run's namespace.
	opts.Cache.DefaultNamespaces = map[string]cache.Config{op.ns: {}}
	opts.NewClient = newClientFunc(w)
	opts.Logger = operatorLog.WithName(op.name).WithValues("instance", len(op.all)+1)
	if op.leader != nil {
		opts.LeaderElection = true
		opts.LeaderElectionNamespace = "default"
		opts.LeaderElectionID = op.leader.id
		opts.LeaseDuration = ptr.To(15 * time.Second)
		opts.RenewDeadline = ptr.To(10 * time.Second)
		opts.RetryPeriod = ptr.To(2 * time.Second)
		opts.LeaderElectionReleaseOnCancel = false
	}
	mgr, err := ctrl.NewManager(op.cfg, opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The entitlements' signing keys and the sinks' Secrets live in the run's namespace, the only
	// one the cache holds.
	if err := controller.SetupWithManager(ctx, mgr, op.clock, controller.EntitlementOptions{Namespace: op.ns},
		controller.NotificationOptions{Namespace: op.ns, Sender: noticeSender()}); err != nil {
		cancel()
		return err
	}
	in := &instance{mgr: mgr, log: w, cancel: cancel, done: make(chan struct{})}
	w.onFault = func() {
		op.mu.Lock()
		defer op.mu.Unlock()
		if op.stopped {
			return // stop cancels every manager anyway
		}
		op.restarts.Add(1)
		go op.restart(in)
	}
	op.cur = in
	op.all = append(op.all, in)
	go func() {
		defer close(in.done)
		in.err = mgr.Start(ctx)
	}()
	return nil
}

// restart kills the instance a fault hit and starts the next one.
func (op *operator) restart(dead *instance) {
	defer op.restarts.Done()
	dead.cancel()
	<-dead.done
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.stopped {
		return
	}
	if err := op.startLocked(nil); err != nil {
		op.failures = append(op.failures, fmt.Errorf("restarting %s: %w", op.name, err))
	}
}

// kill cancels the current manager without waiting (a leader that dies keeps its lease).
func (op *operator) kill() *instance {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.stopped = true
	op.cur.cancel()
	return op.cur
}

// stop stops the replica for good and waits until every manager it ran has returned.
func (op *operator) stop() error {
	op.mu.Lock()
	op.stopped = true
	op.mu.Unlock()
	op.restarts.Wait()
	op.mu.Lock()
	defer op.mu.Unlock()
	var errs []error
	errs = append(errs, op.failures...)
	for i, in := range op.all {
		in.cancel()
		select {
		case <-in.done:
		case <-time.After(2 * time.Minute):
			errs = append(errs, fmt.Errorf("%s: manager %d did not stop within 2 minutes", op.name, i+1))
			continue
		}
		if in.err != nil && !errors.Is(in.err, context.Canceled) {
			errs = append(errs, fmt.Errorf("%s: manager %d: %w", op.name, i+1, in.err))
		}
	}
	return errors.Join(errs...)
}

// elected is closed when the current manager has been elected (at once without leader election).
func (op *operator) elected() <-chan struct{} {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.cur.mgr.Elected()
}

// firstLog is the write log of the first manager (the one a fault hits).
func (op *operator) firstLog() *writeLog {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.all[0].log
}

// writes is the number of writes of every manager of the replica.
func (op *operator) writes() (writes, conflicts int) {
	op.mu.Lock()
	defer op.mu.Unlock()
	for _, in := range op.all {
		writes += in.log.count()
		conflicts += int(in.log.conflicts.Load())
	}
	return writes, conflicts
}

func (op *operator) managers() int {
	op.mu.Lock()
	defer op.mu.Unlock()
	return len(op.all)
}

// laggingConfig is cfg for a replica whose watch events of plans and assignments arrive 250-500
// ms (random, per chunk) after the API server sent them.
func laggingConfig(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return lagTransport{rt} })
	return c
}

type lagTransport struct{ next http.RoundTripper }

func (t lagTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp == nil || resp.Body == nil || !lagged(req) {
		return resp, err
	}
	resp.Body = newLaggingBody(resp.Body, func() time.Duration {
		return 250*time.Millisecond + rand.N(250*time.Millisecond)
	})
	return resp, nil
}

// lagged reports whether req watches plans or assignments.
func lagged(req *http.Request) bool {
	w := req.URL.Query().Get("watch")
	if w != "true" && w != "1" {
		return false
	}
	p := req.URL.Path
	return strings.Contains(p, "/customerlicenseplans") || strings.Contains(p, "/licenseassignments")
}

type chunk struct {
	data []byte
	at   time.Time
	err  error
}

// laggingBody delivers each chunk of a body a delay after the real body produced it: a
// goroutine reads the real body into a channel of timestamped chunks, and Read waits until
// timestamp + delay.
type laggingBody struct {
	real  io.ReadCloser
	ch    chan chunk
	done  chan struct{}
	once  sync.Once
	delay func() time.Duration
	buf   []byte
	err   error
}

func newLaggingBody(real io.ReadCloser, delay func() time.Duration) *laggingBody {
	b := &laggingBody{real: real, ch: make(chan chunk, 1024), done: make(chan struct{}), delay: delay}
	go b.pump()
	return b
}

func (b *laggingBody) pump() {
	for {
		p := make([]byte, 32<<10)
		n, err := b.real.Read(p)
		now := time.Now()
		if n > 0 {
			select {
			case b.ch <- chunk{data: p[:n], at: now}:
			case <-b.done:
				return
			}
		}
		if err != nil {
			select {
			case b.ch <- chunk{err: err, at: now}:
			case <-b.done:
			}
			return
		}
	}
}

func (b *laggingBody) Read(p []byte) (int, error) {
	if len(b.buf) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		var c chunk
		select {
		case c = <-b.ch:
		case <-b.done:
			return 0, io.ErrClosedPipe
		}
		if wait := time.Until(c.at.Add(b.delay())); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-b.done:
				t.Stop()
				return 0, io.ErrClosedPipe
			}
		}
		if c.err != nil {
			b.err = c.err
			return 0, c.err
		}
		b.buf = c.data
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (b *laggingBody) Close() error {
	b.once.Do(func() { close(b.done) })
	return b.real.Close()
}
