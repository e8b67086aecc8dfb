package scale

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// TestRestartMemory measures what the entitlements and the notices cost in memory, with less noise
// than two control planes allow: on one control plane holding N plans (5 assignments each, their
// entitlements issued), the manager is restarted RESTARTS times (4 by default) with
// --operator-namespace and as often without it, alternating, and each restart's peak RSS is read
// 30 s later, as `make bench` reads it. With PROFILES=<dir>, each restart's heap and allocation
// profiles are saved there (the manager serves them on 127.0.0.1:6061).
//
//	make bench-restart N=1000    # about 6 minutes on 2 cores
func TestRestartMemory(t *testing.T) {
	n := plansToBench(t, "make bench-restart")
	restarts := 4
	if v, err := strconv.Atoi(os.Getenv("RESTARTS")); err == nil && v > 0 {
		restarts = v
	}
	profiles := os.Getenv("PROFILES")
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	bin := build(t, t.TempDir(), "manager", "../../cmd")
	s := newSide(t, bin, true, true)
	defer s.close()
	ctx := context.Background()
	begin := time.Now()
	t.Logf("creating %d plans and their assignments", n)
	s.create(ctx, n, "c", "")
	s.waitReady(n, "c", 1, begin)
	s.quiet(begin)
	sides := map[string][]string{"operator": s.args}
	for _, a := range s.args {
		if !strings.HasPrefix(a, "--operator-namespace=") {
			sides["bare"] = append(sides["bare"], a)
		}
	}
	if profiles != "" {
		for name := range sides {
			sides[name] = append(slices.Clone(sides[name]), "--pprof-bind-address=127.0.0.1:6061")
		}
	}
	rss := map[string][]float64{}
	for i := range 2 * restarts {
		name := []string{"operator", "bare"}[i%2]
		s.stop()
		s.args = sides[name]
		m0 := s.metrics(ctx)
		s.start()
		time.Sleep(30 * time.Second)
		rss[name] = append(rss[name], float64(peakRSS(t, s.proc.Process.Pid))/1024)
		if w, _ := writesBetween(m0, s.metrics(ctx)); sum(w) > 0 {
			t.Errorf("%s, restart %d: writes in 30 s after it: %v", name, i/2+1, w)
		}
		if profiles != "" {
			for _, p := range []string{"heap", "allocs"} {
				saveProfile(t, p, filepath.Join(profiles, fmt.Sprintf("%s-%s-%d.pb.gz", p, name, i/2+1)))
			}
		}
	}
	op, bare := mean(rss["operator"]), mean(rss["bare"])
	t.Logf("\n`N=%d RESTARTS=%d make bench-restart`\n\n| manager, restarted on %d plans | peak RSS, each restart | mean |\n|---|---|---|\n"+
		"| with --operator-namespace (entitlements, notices) | %s MiB | %.1f MiB |\n| without it (bare) | %s MiB | %.1f MiB |\n\nThe entitlements and the notices: %+.1f MiB (%+.1f%%).",
		n, restarts, n, joinMiB(rss["operator"]), op, joinMiB(rss["bare"]), bare, op-bare, (op-bare)/bare*100)
}

// saveProfile writes the manager's profile p (served with --pprof-bind-address) to path.
func saveProfile(t *testing.T, p, path string) {
	resp, err := http.Get("http://127.0.0.1:6061/debug/pprof/" + p)
	if err != nil {
		t.Errorf("profile %s: %v", p, err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Errorf("profile %s: %v", p, err)
	}
}

func joinMiB(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(s, ", ")
}
