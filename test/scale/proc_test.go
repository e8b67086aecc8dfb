package scale

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

var clientNegotiator = clientgoscheme.Codecs.WithoutConversion()

// apiserverPID finds the kube-apiserver this test process started last.
func apiserverPID(t *testing.T) int {
	self, best := os.Getpid(), 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if !strings.Contains(string(cmd), "kube-apiserver") || ppid(pid) != self {
			continue
		}
		best = max(best, pid)
	}
	if best == 0 {
		t.Fatal("no kube-apiserver started by this process")
	}
	return best
}

func ppid(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// statFields are the fields of /proc/<pid>/stat after the command name: state is [0], ppid [1],
// utime [11] and stime [12].
func statFields(pid int) []string {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	s := string(raw)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// cpuSeconds is the CPU time a process used so far (user and system), at 100 ticks a second.
func cpuSeconds(t *testing.T, pid int) float64 {
	f := statFields(pid)
	if len(f) < 13 {
		t.Fatalf("no /proc/%d/stat", pid)
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// peakRSS is a process's peak resident set size (VmHWM), in KiB.
func peakRSS(t *testing.T, pid int) int64 {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// build builds the command of package pkg into dir/name and returns its path.
func build(t *testing.T, dir, name, pkg string) string {
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
