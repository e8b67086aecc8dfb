package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

// A burst of assignment events is counted once it has been quiet for usageSettle, or
// usageMaxWait after it began, whichever comes first.
func TestUsageBurstSettlesAfterItsLastEvent(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	u := newUsageBursts()
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
