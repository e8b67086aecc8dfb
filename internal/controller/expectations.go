package controller

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// expectationTTL is how long a write is expected to show in the cache. A cache that lags longer
// is not waited for: the reconcile goes on, and at worst a write fails with a conflict and is
// retried.
const expectationTTL = 10 * time.Second

// expectations remember what this process wrote and its cache has not shown yet, as the
// ReplicaSet controller's expectations do. A reconcile that runs on a copy older than the
// process's own last write of an object, or that does not yet see the order it placed, waits for
// the watch to bring the newer state instead of writing again: such a write would fail with a
// conflict, or repeat one already made.
type expectations struct {
	// clock measures how long a cache lags; it is the real clock even when the business rules
	// run on a fake one.
	clock clock.PassiveClock
	mu    sync.Mutex
	// from is, per object, the resourceVersion it had when this process last wrote it.
	from map[types.NamespacedName]expected
	// placed is, per plan, the name of the order this process last created for it.
	placed map[types.NamespacedName]expected
	// writes counts the writes recorded, to prune what is too old to wait for now and then.
	writes int
}

type expected struct {
	value string
	at    time.Time
}

func newExpectations() *expectations {
	return &expectations{clock: clock.RealClock{}, from: map[types.NamespacedName]expected{}, placed: map[types.NamespacedName]expected{}}
}

// wrote records that this process wrote the object key when it was at resourceVersion rv.
func (e *expectations) wrote(key types.NamespacedName, rv string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.from[key] = expected{value: rv, at: e.clock.Now()}
	if e.writes++; e.writes%1024 == 0 {
		e.prune()
	}
}

// prune forgets what is too old to wait for: the writes of objects not reconciled since, such as
// assignments that were deleted.
func (e *expectations) prune() {
	for _, m := range []map[types.NamespacedName]expected{e.from, e.placed} {
		for key, x := range m {
			if e.clock.Since(x.at) > expectationTTL {
				delete(m, key)
			}
		}
	}
}

// stale reports whether the cached copy of key, at resourceVersion rv, predates this process's
// last write of it. Once the cache shows another version, or the write is too old to wait for,
// it is forgotten.
func (e *expectations) stale(key types.NamespacedName, rv string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.from[key]
	if !ok {
		return false
	}
	if x.value != rv || e.clock.Since(x.at) > expectationTTL {
		delete(e.from, key)
		return false
	}
	return true
}

// place records that this process created the order named order for the plan key.
func (e *expectations) place(key types.NamespacedName, order string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.placed[key] = expected{value: order, at: e.clock.Now()}
}

// unseen reports whether the plan key has an order this process created that the snapshot does
// not show: neither among the plan's orders it holds, nor applied to the plan (see). An order is
// remembered until it is settled and shown, or applied, or too old to wait for: the cache drops it
// once fulfilled, before the plan reads it back from the API server.
func (e *expectations) unseen(key types.NamespacedName, see func(order string) (shown, done bool)) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.placed[key]
	if !ok {
		return false
	}
	shown, done := see(x.value)
	if done || e.clock.Since(x.at) > expectationTTL {
		delete(e.placed, key)
		return false
	}
	return !shown
}

// forget drops what is remembered of key, such as an object that is gone.
func (e *expectations) forget(key types.NamespacedName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.from, key)
	delete(e.placed, key)
}
