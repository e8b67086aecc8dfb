package scale

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/partnerops/license-operator/internal/licensing"
)

// TestHistory measures whether the manager's memory stays flat as the order history grows: N
// Monthly plans (5 assignments each) started a month ago, so with 2 orders each (New and one
// Renewal), beside N plans started 24 months ago, with 25 orders each (New and 24 Renewals), each
// on a control plane of its own, in one run. The figure is the manager's peak RSS once restarted
// on the whole book: what its cache keeps, with the history in place.
//
//	make bench-history N=1000    # about 10 minutes on 2 cores
func TestHistory(t *testing.T) {
	n := plansToBench(t, "make bench-history")
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	bin := build(t, t.TempDir(), "manager", "../../cmd")
	type result struct {
		months, orders int
		catchUp        time.Duration
		rssKiB         int64
		restartWrites  float64
	}
	var results []result
	for _, months := range []int{1, 24} {
		s := newSide(t, bin, false, true)
		ctx := context.Background()
		begin := time.Now()
		t.Logf("%d months: creating %d plans started %d months ago", months, n, months)
		s.create(ctx, n, "h", licensing.FormatDate(time.Now().UTC().AddDate(0, -months, -1)))
		catchUp := s.waitReady(n, "h", int64(months+1), begin)
		s.quiet(begin)
		s.stop()
		// The restarted manager lists what it caches and finds nothing to do.
		m0 := s.metrics(ctx)
		s.start()
		time.Sleep(30 * time.Second)
		restart, _ := writesBetween(m0, s.metrics(ctx))
		results = append(results, result{months: months, orders: months + 1, catchUp: catchUp,
			rssKiB: peakRSS(t, s.proc.Process.Pid), restartWrites: sum(restart)})
		s.close()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "`N=%d make bench-history`\n\n| N = %d Monthly plans, 5 assignments each | orders per plan | all caught up | manager peak RSS after a restart | per plan | writes in 30 s after the restart |\n|---|---|---|---|---|---|\n", n, n)
	for _, r := range results {
		fmt.Fprintf(&b, "| %d month(s) of history | %d | %.1f s | %d MiB | %.1f KiB | %.0f |\n", r.months, r.orders, r.catchUp.Seconds(), r.rssKiB/1024, float64(r.rssKiB)/float64(n), r.restartWrites)
	}
	growth := float64(results[1].rssKiB-results[0].rssKiB) / float64(results[0].rssKiB) * 100
	fmt.Fprintf(&b, "\nRSS per plan with 24 months of history: %+.1f%% against one month.\n", growth)
	t.Log("\n" + b.String())
	if err := os.WriteFile("last-history-run.md", []byte(b.String()), 0o644); err != nil {
		t.Log(err)
	}
}
