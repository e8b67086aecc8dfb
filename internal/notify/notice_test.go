package notify_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/notify"
)

func TestKey(t *testing.T) {
	base := notify.Key("uid-1", v1alpha1.NoticeOrderFulfilled, "", "mail")
	// sha256("uid-1\nOrderFulfilled\n\nmail"), printf 'uid-1\nOrderFulfilled\n\nmail' | sha256sum
	const want = "277850d5fa5610386326b430893de928"
	if base != want {
		t.Errorf("Key = %s, want %s", base, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(base) {
		t.Errorf("Key %q is not 32 lowercase hex characters", base)
	}
	if again := notify.Key("uid-1", v1alpha1.NoticeOrderFulfilled, "", "mail"); again != base {
		t.Errorf("Key is not stable: %s then %s", base, again)
	}
	others := map[string]string{
		"uid":        notify.Key("uid-2", v1alpha1.NoticeOrderFulfilled, "", "mail"),
		"event":      notify.Key("uid-1", v1alpha1.NoticeOrderAwaitingApproval, "", "mail"),
		"occurrence": notify.Key("uid-1", v1alpha1.NoticeOrderFulfilled, "2026-04-01", "mail"),
		"sink":       notify.Key("uid-1", v1alpha1.NoticeOrderFulfilled, "", "hook"),
		// The separator keeps fields apart: "uid-1" + "OrderFulfilled" is not "uid-1O" + "rderFulfilled".
		"boundary": notify.Key(types.UID("uid-1\nOrderFulfilled"), "", "", "mail"),
	}
	seen := map[string]string{base: "base"}
	for what, k := range others {
		if prev, dup := seen[k]; dup {
			t.Errorf("another %s gives the key of %s: %s", what, prev, k)
		}
		seen[k] = what
	}
}

func TestAttempted(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	n := v1alpha1.Notice{Sink: "mail", Event: v1alpha1.NoticeOrderFulfilled, Key: "k"}
	n = notify.Attempted(n, t0, errors.New("smtp 127.0.0.1:25: 451 try again later"))
	if n.Attempts != 1 || n.DeliveredAt != nil || !n.LastAttempt.Time.Equal(t0) || !strings.Contains(n.LastError, "451") {
		t.Errorf("after a failure: %+v", n)
	}
	t1 := t0.Add(time.Minute)
	n = notify.Attempted(n, t1, errors.New(strings.Repeat("x", 2000)))
	if n.Attempts != 2 || len(n.LastError) > 512 || !n.LastAttempt.Time.Equal(t1) {
		t.Errorf("after a second failure: attempts %d, lastError of %d bytes", n.Attempts, len(n.LastError))
	}
	t2 := t1.Add(time.Minute)
	n = notify.Attempted(n, t2, nil)
	if n.Attempts != 3 || n.DeliveredAt == nil || !n.DeliveredAt.Time.Equal(t2) || n.LastError != "" ||
		!n.LastAttempt.Time.Equal(t2) || n.Key != "k" || n.Sink != "mail" {
		t.Errorf("after delivery: %+v", n)
	}
}

func TestRecord(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC))
	a := v1alpha1.Notice{Sink: "mail", Event: v1alpha1.NoticeOrderFulfilled, Key: "a", Attempts: 1, LastError: "451"}
	b := v1alpha1.Notice{Sink: "hook", Event: v1alpha1.NoticeOrderFulfilled, Key: "b", Attempts: 1, DeliveredAt: &at}
	notices := []v1alpha1.Notice{a, b}

	a2 := a
	a2.Attempts, a2.LastError, a2.DeliveredAt = 2, "", &at
	got := notify.Record(notices, a2)
	if len(got) != 2 || got[0].Attempts != 2 || got[0].DeliveredAt == nil || got[1].Key != "b" {
		t.Errorf("upsert of an existing key: %+v", got)
	}
	if notices[0].Attempts != 1 || notices[0].DeliveredAt != nil {
		t.Errorf("Record changed its argument: %+v", notices[0])
	}

	c := v1alpha1.Notice{Sink: "events", Event: v1alpha1.NoticeOrderFulfilled, Key: "c", Attempts: 1}
	got = notify.Record(notices, c)
	if len(got) != 3 || got[2].Key != "c" || got[0].Key != "a" || got[1].Key != "b" {
		t.Errorf("append of a new key: %+v", got)
	}
	if got := notify.Record(nil, c); len(got) != 1 || got[0].Key != "c" {
		t.Errorf("Record on nil: %+v", got)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{0, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for attempts, w := range want {
		if got := notify.Backoff(int32(attempts)); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", attempts, got, w)
		}
	}
	for _, attempts := range []int32{-1, 100, 1 << 30} {
		if got := notify.Backoff(attempts); got < 0 || got > time.Hour {
			t.Errorf("Backoff(%d) = %s, want within [0, 1h]", attempts, got)
		}
	}
}
