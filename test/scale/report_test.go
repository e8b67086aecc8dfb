package scale

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// report prints the table of both sides and returns it. Each cell is the mean of the runs and,
// when they differ, their spread (min..max); the ratio is of the means.
func report(n int, webhooks bool, operator string, op, fl []figures, took time.Duration) string {
	var b strings.Builder
	perPlan := func(v float64) float64 { return v / float64(n) }
	fmt.Fprintf(&b, "`N=%d make bench`: %s (webhooks %t) beside the floor, %d runs of each side alternating, %s in all\n\n",
		n, operator, webhooks, len(op), took.Round(time.Second))
	fmt.Fprintf(&b, "| N = %d plans, %d assignments | operator | floor | ratio |\n|---|---|---|---|\n", n, assignmentsPerPlan*n)
	type metric func(f figures) float64
	row := func(name, format string, m metric, withRatio bool) {
		o, f := values(op, m), values(fl, m)
		r := ""
		if withRatio && mean(f) != 0 {
			r = fmt.Sprintf("%.1fx", mean(o)/mean(f))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, cell(format, o), cell(format, f), r)
	}
	pair := func(name, format string, m1, m2 metric) {
		fmt.Fprintf(&b, "| %s | %s / %s | %s / %s | |\n", name, cell(format, values(op, m1)), cell(format, values(op, m2)),
			cell(format, values(fl, m1)), cell(format, values(fl, m2)))
	}
	secs := func(d func(f figures) time.Duration) metric { return func(f figures) float64 { return d(f).Seconds() } }
	ms := func(d func(f figures) time.Duration) metric {
		return func(f figures) float64 { return float64(d(f).Microseconds()) / 1000 }
	}
	row("all plans Ready after a bulk create", "%.1f s", secs(func(f figures) time.Duration { return f.allReady }), true)
	row("the last write after the bulk create", "%.1f s", secs(func(f figures) time.Duration { return f.lastWrite }), true)
	row("the bench's creates (16 clients, no client rate limit)", "%.1f s", secs(func(f figures) time.Duration { return f.creates }), true)
	row("API writes per new plan (plans, orders, assignments)", "%.2f", func(f figures) float64 { return perPlan(sum(f.writes)) }, true)
	row("of which plans and orders", "%.2f", func(f figures) float64 { return perPlan(writesOf(f, "customerlicenseplans", "licenseorders")) }, true)
	row("of which assignments", "%.2f", func(f figures) float64 { return perPlan(writesOf(f, "licenseassignments")) }, true)
	row("live GETs per new plan", "%.2f", func(f figures) float64 { return perPlan(byVerb(f.reads, "get")) }, true)
	row("live LISTs per new plan", "%.2f", func(f figures) float64 { return perPlan(byVerb(f.reads, "list")) }, true)
	row("admission webhook callouts per new plan", "%.2f", func(f figures) float64 { return perPlan(sum(f.callouts)) }, true)
	row("409 conflicts", "%.0f", func(f figures) float64 { return f.conflicts }, false)
	row("catch-up storm (N plans each needing New + Renewal)", "%.1f s", secs(func(f figures) time.Duration { return f.catchUp }), true)
	row("edit of spec.quantity to status, p50", "%.0f ms", ms(func(f figures) time.Duration { return f.editP50 }), true)
	row("edit of spec.quantity to status, p99", "%.0f ms", ms(func(f figures) time.Duration { return f.editP99 }), true)
	pair("writes in 30 s idle / in 30 s after a restart", "%.0f", func(f figures) float64 { return f.idleWrites }, func(f figures) float64 { return f.restartWrites })
	pair("GETs / LISTs in 30 s after a restart", "%.0f", func(f figures) float64 { return f.restartGets }, func(f figures) float64 { return f.restartLists })
	row("peak RSS after a restart", "%.0f MiB", func(f figures) float64 { return float64(f.rssKiB) / 1024 }, true)
	row("peak RSS per plan", "%.1f KiB", func(f figures) float64 { return float64(f.rssKiB) / float64(n) }, true)
	row("kube-apiserver CPU seconds during the bulk create", "%.1f", func(f figures) float64 { return f.apiserverCPU }, true)
	row("kube-apiserver CPU seconds during the catch-up storm", "%.1f", func(f figures) float64 { return f.stormCPU }, true)

	fmt.Fprintf(&b, "\nRequests of the bulk create per new plan, means of the runs (the bench's own creates left out; "+
		"reads of other API groups are mostly the API server's own loops):\n\n| request | operator | floor |\n|---|---|---|\n")
	kinds := []struct {
		prefix string
		of     func(f figures) map[string]float64
	}{
		{"", func(f figures) map[string]float64 { return f.writes }},
		{"", func(f figures) map[string]float64 { return f.reads }},
		{"", func(f figures) map[string]float64 { return f.otherReads }},
		{"webhook ", func(f figures) map[string]float64 { return f.callouts }},
	}
	for _, k := range kinds {
		keys := map[string]bool{}
		for _, f := range append(append([]figures{}, op...), fl...) {
			for key := range k.of(f) {
				keys[key] = true
			}
		}
		var sorted []string
		for key := range keys {
			sorted = append(sorted, key)
		}
		sort.Strings(sorted)
		for _, key := range sorted {
			m := func(f figures) float64 { return perPlan(k.of(f)[key]) }
			o, f := mean(values(op, m)), mean(values(fl, m))
			if math.Abs(o) < 0.005 && math.Abs(f) < 0.005 {
				continue
			}
			fmt.Fprintf(&b, "| %s%s | %.2f | %.2f |\n", k.prefix, key, o, f)
		}
	}
	fmt.Println(b.String())
	return b.String()
}

func values(runs []figures, m func(f figures) float64) []float64 {
	out := make([]float64, len(runs))
	for i, f := range runs {
		out[i] = m(f)
	}
	return out
}

func mean(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t / float64(len(v))
}

// cell is the mean of v in format and, when the runs differ as printed, their spread.
func cell(format string, v []float64) string {
	lo, hi := slices.Min(v), slices.Max(v)
	s := fmt.Sprintf(format, mean(v))
	if a, b := fmt.Sprintf(format, lo), fmt.Sprintf(format, hi); a != b {
		num := func(x float64) string { // the spread without the unit
			return strings.Fields(fmt.Sprintf(format, x))[0]
		}
		s += fmt.Sprintf(" (%s..%s)", num(lo), num(hi))
	}
	return s
}

func writesOf(f figures, resources ...string) float64 {
	total := 0.0
	for k, v := range f.writes {
		for _, r := range resources {
			if strings.Contains(k, " "+r) {
				total += v
			}
		}
	}
	return total
}
