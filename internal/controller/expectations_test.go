package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestExpectations(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	e := newExpectations()
	e.clock = clk
	key := types.NamespacedName{Namespace: "acme", Name: "eul"}

	if e.stale(key, "10") {
		t.Error("nothing written: stale")
	}
	e.wrote(key, "10")
	if !e.stale(key, "10") {
		t.Error("the cache still shows the version written from: not stale")
	}
	if e.stale(key, "11") {
		t.Error("the cache shows a newer version: stale")
	}
	if e.stale(key, "10") {
		t.Error("the write was forgotten once the cache moved on, yet stale")
	}

	e.wrote(key, "12")
	clk.SetTime(clk.Now().Add(expectationTTL + time.Second))
	if e.stale(key, "12") {
		t.Error("a cache lagging longer than the TTL is not waited for")
	}

	hidden := func(string) (bool, bool) { return false, false }
	e.place(key, "eul-2")
	if !e.unseen(key, hidden) {
		t.Error("an order placed and not shown: seen")
	}
	if e.unseen(key, func(string) (bool, bool) { return true, false }) {
		t.Error("an order placed and shown in flight: unseen")
	}
	if !e.unseen(key, hidden) {
		t.Error("an order in flight that left the cache, not yet applied: seen")
	}
	if e.unseen(key, func(string) (bool, bool) { return true, true }) {
		t.Error("an order applied: unseen")
	}
	if e.unseen(key, hidden) {
		t.Error("forgotten once applied, yet unseen")
	}

	e.place(key, "eul-3")
	e.wrote(key, "13")
	e.forget(key)
	if e.stale(key, "13") || e.unseen(key, hidden) {
		t.Error("forgotten, yet expected")
	}
}
