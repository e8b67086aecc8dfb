package controller

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
	"github.com/partnerops/license-operator/internal/lookup"
)

// probes remembers the plans whose orders are to be read from the API server. The cache holds no
// fulfilled order (cachecfg), so an order the plan's status does not hold yet is read from the API
// server: when an order of the plan left the cache (it was fulfilled), when the plan is first seen
// after a start or with a status, when an order the plan would place exists already, and when the
// plan's orders in the cache skip a revision (probeGap).
//
// It also remembers, per plan, the highest revision an earlier plan of the same name used (a plan
// deleted and declared again), once a probe found it: the plan numbers its orders above it.
type probes struct {
	mu    sync.Mutex
	m     map[types.NamespacedName]struct{}
	prior map[types.NamespacedName]priorRevision
	// applied holds the orders this process fulfilled and applied to their plan: when such an
	// order leaves the cache, its plan has nothing to read back.
	applied map[types.NamespacedName]struct{}
}

type priorRevision struct {
	uid      types.UID
	revision int64
}

func newProbes() *probes {
	return &probes{m: map[types.NamespacedName]struct{}{}, prior: map[types.NamespacedName]priorRevision{},
		applied: map[types.NamespacedName]struct{}{}}
}

// apply records that this process applied the order key to its plan, in a status write that
// succeeded.
func (p *probes) apply(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applied[key] = struct{}{}
}

// leftCache reports whether the order key, which left the cache (it was fulfilled), must be read
// back by its plan: not when this process applied it.
func (p *probes) leftCache(key types.NamespacedName) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.applied[key]; ok {
		delete(p.applied, key)
		return false
	}
	return true
}

func (p *probes) mark(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[key] = struct{}{}
}

func (p *probes) needed(key types.NamespacedName) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.m[key]
	return ok
}

func (p *probes) done(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, key)
}

// priorOf is the highest revision an earlier plan of the name of plan used, as far as is known.
func (p *probes) priorOf(plan *v1alpha1.CustomerLicensePlan) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if x, ok := p.prior[client.ObjectKeyFromObject(plan)]; ok && x.uid == plan.UID {
		return x.revision
	}
	return 0
}

func (p *probes) setPrior(plan *v1alpha1.CustomerLicensePlan, revision int64) {
	if revision == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prior[client.ObjectKeyFromObject(plan)] = priorRevision{uid: plan.UID, revision: revision}
}

// forget drops what is remembered of a plan that is gone.
func (p *probes) forget(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, key)
	delete(p.prior, key)
}

// probeGap reports whether the plan's own orders in the cache (own, above its status's revision,
// in revision order) start above the next revision the plan can have: the orders in between are
// fulfilled (so out of the cache) and not applied yet, such as a New fulfilled before a restart
// that left the plan without a status. They are read from the API server.
func probeGap(plan *v1alpha1.CustomerLicensePlan, own []v1alpha1.LicenseOrder, prior int64) bool {
	return len(own) > 0 && own[0].Spec.Revision > max(plan.Status.Revision, prior)+1
}

// probe reads from the API server the plan's orders above cached, its own orders above its
// status's revision that the cache holds, in revision order: revision after revision from the
// status's (or the earlier plan's of the name, prior) up to the first that does not exist or is
// still open. Should a revision hold an order of another plan of the same name (one deleted
// before this plan was declared), it lists the name's orders from the API server instead, and
// learns the highest revision the earlier plan used. It returns the plan's own orders above its
// status's revision, and prior.
func probe(ctx context.Context, live client.Reader, plan *v1alpha1.CustomerLicensePlan, cached []v1alpha1.LicenseOrder, prior int64) ([]v1alpha1.LicenseOrder, int64, error) {
	byRevision := make(map[int64]v1alpha1.LicenseOrder, len(cached))
	for _, o := range cached {
		byRevision[o.Spec.Revision] = o
	}
	var orders []v1alpha1.LicenseOrder
	from := max(plan.Status.Revision, prior) + 1
	rev := from
	for ; ; rev++ {
		o, ok := byRevision[rev]
		if !ok {
			err := live.Get(ctx, client.ObjectKey{Namespace: plan.Namespace, Name: licensing.OrderName(plan.Name, rev)}, &o)
			if apierrors.IsNotFound(err) {
				break
			}
			if err != nil {
				return nil, prior, err
			}
			if !licensing.BelongsTo(&o, plan) {
				return probeAll(ctx, live, plan)
			}
		}
		orders = append(orders, o)
		if !licensing.IsSettled(&o) {
			break
		}
	}
	for _, o := range cached {
		if o.Spec.Revision > rev {
			orders = append(orders, o) // past a revision that does not exist: as the cache has it
		}
	}
	return orders, prior, nil
}

// probeAll lists the orders of the plan's name from the API server: the plan's own above its
// status's revision, and the highest revision the others used.
func probeAll(ctx context.Context, live client.Reader, plan *v1alpha1.CustomerLicensePlan) ([]v1alpha1.LicenseOrder, int64, error) {
	all, err := lookup.Orders(ctx, live, plan.Namespace, plan.Name)
	if err != nil {
		return nil, 0, err
	}
	own, prior := licensing.OwnOrders(plan, all)
	return own, prior, nil
}
