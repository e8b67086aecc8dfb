package plugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestStatusNotices(t *testing.T) {
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: march10.Add(d)} }
	// eul-3 was told to two sinks: mail delivered first, hooks is failing since, on a long error
	// over several lines.
	three := order("acme", "eul-3", march10, v1alpha1.ChangeIncreaseQuantity, "30.00", march10)
	three.Status.Notices = []v1alpha1.Notice{
		{Sink: "mail", Event: v1alpha1.NoticeOrderFulfilled, Key: "k1", DeliveredAt: at(time.Minute), Attempts: 1, LastAttempt: at(time.Minute)},
		{Sink: "hooks", Event: v1alpha1.NoticeOrderFulfilled, Key: "k2", Attempts: 3, LastAttempt: at(4 * time.Minute),
			LastError: "POST https://hooks.example/licensing: 503 Service Unavailable:\n  " + strings.Repeat("upstream down ", 12)},
	}
	// eul-2 waited for approval (told), then was fulfilled and told again, later: the confirmation
	// is its last notice, whatever the order of the list.
	two := order("acme", "eul-2", march10.Add(-48*time.Hour), v1alpha1.ChangeIncreaseQuantity, "10.00", march10.Add(-24*time.Hour))
	two.Status.Notices = []v1alpha1.Notice{
		{Sink: "mail", Event: v1alpha1.NoticeOrderFulfilled, Key: "k3", DeliveredAt: at(-24*time.Hour + time.Second), Attempts: 1, LastAttempt: at(-24*time.Hour + time.Second)},
		{Sink: "mail", Event: v1alpha1.NoticeOrderAwaitingApproval, Key: "k4", DeliveredAt: at(-48 * time.Hour), Attempts: 2, LastAttempt: at(-48 * time.Hour)},
	}
	// eul-1 was fulfilled before any sink existed: no notice, no row.
	one := order("acme", "eul-1", march10.Add(-72*time.Hour), v1alpha1.ChangeNew, "100.00", march10.Add(-72*time.Hour))

	var out bytes.Buffer
	s := &statusPrinter{w: &out, now: march10.Add(time.Hour)}
	s.notices([]v1alpha1.LicenseOrder{three, two, one})
	if s.err != nil {
		t.Fatal(s.err)
	}
	want := []string{
		"Notices:     the last of each order (all of them: kubectl get lo -n acme <order> -o jsonpath='{.status.notices}')",
		"  ORDER   NOTICES   SINK    EVENT            DELIVERED (UTC)",
		"  eul-3   2         hooks   OrderFulfilled   failing: POST https://hooks.example/licensing: 503 Service Unavailable: upstream down upstream down upstream down upstream down… (attempts 3)",
		"  eul-2   2         mail    OrderFulfilled   2026-03-09 09:30:16",
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimRight(out.String(), "\n"), "\n")); diff != "" {
		t.Errorf("the notices part (-want +got):\n%s", diff)
	}

	// In colour: delivered green, failing red.
	out.Reset()
	s = &statusPrinter{w: &out, coloured: true, now: march10}
	s.notices([]v1alpha1.LicenseOrder{three, two})
	if got := out.String(); !strings.Contains(got, string(red)+"failing: POST") || !strings.Contains(got, string(green)+"2026-03-09 09:30:16"+reset) {
		t.Errorf("want the failing notice red and the delivered one green:\n%q", got)
	}

	// Orders no sink was told of.
	out.Reset()
	s = &statusPrinter{w: &out, now: march10}
	s.notices([]v1alpha1.LicenseOrder{one})
	if got, want := out.String(), "Notices:     none told of these orders\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNoticeStateWithoutError(t *testing.T) {
	n := v1alpha1.Notice{Sink: "mail", Event: v1alpha1.NoticeRenewalComing, Key: "k", Attempts: 1}
	if got, want := noticeState(n).text, "failing: not delivered (attempts 1)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
