package scale

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// report prints the table of both sides, and writes it to test/scale/last-run.md.
func report(t *testing.T, n int, webhooks bool, op, fl figures, took time.Duration) {
	var b strings.Builder
	perPlan := func(f figures) float64 { return sum(f.writes) / float64(n) }
	ratio := func(a, b float64) string {
		if b == 0 {
			return ""
		}
		return fmt.Sprintf("%.1fx", a/b)
	}
	secs := func(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
	fmt.Fprintf(&b, "`N=%d make bench` (operator webhooks %t), %s in all\n\n", n, webhooks, took.Round(time.Second))
	fmt.Fprintf(&b, "| N = %d plans, %d assignments | operator | floor | ratio |\n|---|---|---|---|\n", n, 5*n)
	row := func(name, a, f, r string) { fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, a, f, r) }
	row("all plans Ready after a bulk create", secs(op.allReady), secs(fl.allReady), ratio(op.allReady.Seconds(), fl.allReady.Seconds()))
	row("the last write after the bulk create", secs(op.lastWrite), secs(fl.lastWrite), ratio(op.lastWrite.Seconds(), fl.lastWrite.Seconds()))
	row("API writes per new plan (plans, orders, assignments)", fmt.Sprintf("%.2f", perPlan(op)), fmt.Sprintf("%.2f", perPlan(fl)), ratio(perPlan(op), perPlan(fl)))
	row("of which plans and orders", fmt.Sprintf("%.2f", plansAndOrders(op)/float64(n)), fmt.Sprintf("%.2f", plansAndOrders(fl)/float64(n)), "")
	row("409 conflicts", fmt.Sprintf("%.0f", op.conflicts), fmt.Sprintf("%.0f", fl.conflicts), "")
	row("catch-up storm (N plans each needing New + Renewal)", secs(op.catchUp), secs(fl.catchUp), ratio(op.catchUp.Seconds(), fl.catchUp.Seconds()))
	row("edit of spec.quantity to status, p50 / p99", fmt.Sprintf("%d / %d ms", op.editP50.Milliseconds(), op.editP99.Milliseconds()),
		fmt.Sprintf("%d / %d ms", fl.editP50.Milliseconds(), fl.editP99.Milliseconds()), "")
	row("writes in 30 s idle / in 30 s after a restart", fmt.Sprintf("%.0f / %.0f", op.idleWrites, op.restartWrites), fmt.Sprintf("%.0f / %.0f", fl.idleWrites, fl.restartWrites), "")
	row("peak RSS (per plan)", fmt.Sprintf("%d MiB (%.1f KiB)", op.rssKiB/1024, float64(op.rssKiB)/float64(n)),
		fmt.Sprintf("%d MiB (%.1f KiB)", fl.rssKiB/1024, float64(fl.rssKiB)/float64(n)), ratio(float64(op.rssKiB), float64(fl.rssKiB)))
	row("kube-apiserver CPU seconds during the bulk create", fmt.Sprintf("%.1f", op.apiserverCPU), fmt.Sprintf("%.1f", fl.apiserverCPU), ratio(op.apiserverCPU, fl.apiserverCPU))
	fmt.Fprintf(&b, "\nWrites of the bulk create by verb and resource (the bench's own creates left out):\n\n| write | operator | floor |\n|---|---|---|\n")
	keys := map[string]bool{}
	for k := range op.writes {
		keys[k] = true
	}
	for k := range fl.writes {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		if op.writes[k] != 0 || fl.writes[k] != 0 {
			sorted = append(sorted, k)
		}
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f |\n", k, op.writes[k], fl.writes[k])
	}
	fmt.Println(b.String())
	if err := os.WriteFile("last-run.md", []byte(b.String()), 0o644); err != nil {
		t.Log(err)
	}
}

func plansAndOrders(f figures) float64 {
	total := 0.0
	for k, v := range f.writes {
		if strings.Contains(k, "customerlicenseplans") || strings.Contains(k, "licenseorders") {
			total += v
		}
	}
	return total
}
