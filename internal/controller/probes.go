package controller

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// probes remembers the plans that may have a fulfilled order their status does not hold yet. The
// cache holds no fulfilled order (cachecfg), so such an order is read from the API server: when an
// order of the plan left the cache (it was fulfilled), when the plan is first seen with a status,
// and when an order the plan would place exists already.
type probes struct {
	mu sync.Mutex
	m  map[types.NamespacedName]struct{}
}

func newProbes() *probes {
	return &probes{m: map[types.NamespacedName]struct{}{}}
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

// probe reads from the API server the plan's orders above cached, its orders above its status's
// revision that the cache holds, in revision order: revision after revision, up to the first that
// does not exist or is still open. It returns every order above the status's revision.
func probe(ctx context.Context, live client.Reader, plan *v1alpha1.CustomerLicensePlan, cached []v1alpha1.LicenseOrder) ([]v1alpha1.LicenseOrder, error) {
	byRevision := make(map[int64]v1alpha1.LicenseOrder, len(cached))
	for _, o := range cached {
		byRevision[o.Spec.Revision] = o
	}
	var orders []v1alpha1.LicenseOrder
	for rev := plan.Status.Revision + 1; ; rev++ {
		o, ok := byRevision[rev]
		if !ok {
			err := live.Get(ctx, client.ObjectKey{Namespace: plan.Namespace, Name: licensing.OrderName(plan.Name, rev)}, &o)
			if apierrors.IsNotFound(err) {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		orders = append(orders, o)
		if !licensing.IsSettled(&o) {
			break
		}
	}
	for _, o := range cached {
		if o.Spec.Revision > plan.Status.Revision+int64(len(orders)) {
			orders = append(orders, o) // past a revision that does not exist: as the cache has it
		}
	}
	return orders, nil
}
