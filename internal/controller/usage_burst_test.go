package controller

import (
	"context"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// A burst of assignment events is counted once it has been quiet for usageSettle, or
// usageMaxWait after it began, whichever comes first.
func TestUsageBurstSettlesAfterItsLastEvent(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	u := newBursts(usageSettle, usageMaxWait)
	u.clock = clk
	key := types.NamespacedName{Namespace: "acme", Name: "eul"}
	if w := u.wait(key); w != 0 {
		t.Fatalf("no burst: wait %v, want 0", w)
	}
	u.event(key)
	clk.Step(600 * time.Millisecond)
	u.event(key) // the burst goes on: it settles a second after this one
	if w := u.wait(key); w != usageSettle {
		t.Errorf("wait %v, want %v after the last event", w, usageSettle)
	}
	for range 8 { // a steady stream, an event every 600 ms
		clk.Step(600 * time.Millisecond)
		u.event(key)
	}
	if w := u.wait(key); w != 0 {
		t.Errorf("a stream of %v: wait %v, want 0 (counted at most usageMaxWait after it began)", 9*600*time.Millisecond, w)
	}
	if w := u.wait(key); w != 0 {
		t.Errorf("after the count: wait %v, want 0 (the burst is forgotten)", w)
	}
}

// A namespace whose plans are still changing is not issued yet: its reconcile reads nothing and
// looks again once the burst settles, entitlementMaxWait after its first change at the latest.
func TestEntitlementWaitsForItsPlansToSettle(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	r := &EntitlementReconciler{changes: newBursts(entitlementSettle, entitlementMaxWait)} // no client: a read would panic
	r.changes.clock = clk
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "acme", Name: v1alpha1.EntitlementSecret}}
	var waits []time.Duration
	for range 9 { // a plan in force every 600 ms
		r.changes.event(req.NamespacedName)
		res, err := r.Reconcile(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, res.RequeueAfter)
		clk.Step(600 * time.Millisecond)
	}
	want := []time.Duration{time.Second, time.Second, time.Second, time.Second, time.Second, time.Second, time.Second,
		800 * time.Millisecond, 200 * time.Millisecond} // the last two: 5 s after the first change
	if !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
}
