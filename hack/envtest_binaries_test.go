// Package hack holds the scripts of the Makefile; this test checks hack/envtest-binaries.sh.
package hack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

const k8sVersion = "1.37.2"

// envtestBinaries runs hack/envtest-binaries.sh with a store of its own and the index at index,
// and returns the directory it prints and what it logs.
func envtestBinaries(t *testing.T, store, index string, path []string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command("./envtest-binaries.sh", args...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "KUBEBUILDER_ASSETS=") || strings.HasPrefix(kv, "PATH=")
	}), "ENVTEST_STORE="+store, "ENVTEST_INDEX="+index, "ENVTEST_K8S_VERSION="+k8sVersion,
		"PATH="+strings.Join(append(path, os.Getenv("PATH")), string(os.PathListSeparator)))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("envtest-binaries.sh %s:\n%s", strings.Join(args, " "), stderr.String())
	if err != nil {
		t.Fatalf("envtest-binaries.sh %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(stdout.String()), stderr.String()
}

func platformDir(store string) string {
	return filepath.Join(store, "k8s", k8sVersion+"-"+runtime.GOOS+"-"+runtime.GOARCH)
}

func executables(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestDownload serves an index of envtest releases as setup-envtest reads it, with an archive of
// stand-ins for the binaries: the script downloads them into the store, and the next time finds
// them there without asking the index again.
func TestDownload(t *testing.T) {
	var archive bytes.Buffer
	gz := gzip.NewWriter(&archive)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"etcd", "kube-apiserver", "kubectl"} {
		body := []byte("#!/bin/sh\necho " + name + "\n")
		if err := tw.WriteHeader(&tar.Header{Name: "controller-tools/envtest/" + name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(archive.Bytes())
	name := fmt.Sprintf("envtest-v%s-%s-%s.tar.gz", k8sVersion, runtime.GOOS, runtime.GOARCH)

	var requests atomic.Int32
	mux := http.NewServeMux()
	server := httptest.NewServer(mux)
	defer server.Close()
	mux.HandleFunc("/envtest-releases.yaml", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprintf(w, "releases:\n  v%s:\n    %s:\n      hash: %s\n      selfLink: %s/%s\n", k8sVersion, name, hex.EncodeToString(sum[:]), server.URL, name)
	})
	mux.HandleFunc("/"+name, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(archive.Bytes()) })

	store := t.TempDir()
	dir, log := envtestBinaries(t, store, server.URL+"/envtest-releases.yaml", nil)
	if dir != platformDir(store) {
		t.Errorf("printed %q, want %q", dir, platformDir(store))
	}
	if got := executables(t, dir); !slices.Equal(got, []string{"etcd", "kube-apiserver", "kubectl"}) {
		t.Errorf("the store holds %v, want etcd, kube-apiserver and kubectl", got)
	}
	if !strings.Contains(log, "downloaded in") || strings.Contains(log, "building") {
		t.Errorf("want a download and no build; the script logged:\n%s", log)
	}

	seen := requests.Load()
	if again, _ := envtestBinaries(t, store, server.URL+"/envtest-releases.yaml", nil, "kubectl"); again != dir {
		t.Errorf("printed %q the second time, want %q", again, dir)
	}
	if requests.Load() != seen {
		t.Error("the second run asked the index again, though the store holds everything")
	}
}

// fakeGo stands in for the go command of the build from source: it answers `go mod download`
// with a go.mod of k8s.io/kubernetes and `go build` with stand-ins for the binaries, and logs
// when each build starts and ends. Everything else goes to the real go.
const fakeGo = `#!/usr/bin/env bash
set -euo pipefail
case "$1" in
mod)
  printf '{\n\t"GoMod": "%s",\n}\n' "$FAKE_GOMOD" ;;
build)
  echo "start $*" >>"$FAKE_GO_LOG"
  out="" pkgs=()
  while [ $# -gt 0 ]; do
    case "$1" in
      -o) out="$2"; shift ;;
      -ldflags) shift ;;
      -*|build) ;;
      *) pkgs+=("$1") ;;
    esac
    shift
  done
  sleep 1
  for p in "${pkgs[@]}"; do
    f="$out"; [ "${out%/}" != "$out" ] && f="$out$(basename "$p")"
    printf '#!/bin/sh\necho %s\n' "$p" >"$f" && chmod +x "$f"
  done
  echo "end ${pkgs[*]}" >>"$FAKE_GO_LOG" ;;
*)
  exec "$REAL_GO" "$@" ;;
esac
`

// TestBuildFromSource lets the download fail (the index answers 404) and checks the build from
// source with a stand-in for go: kube-apiserver and etcd build side by side (kubectl only when
// asked for), each announced with its version and timed, and land in the store.
func TestBuildFromSource(t *testing.T) {
	realGo, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	gomod := filepath.Join(bin, "kubernetes.mod")
	if err := os.WriteFile(gomod, []byte("module k8s.io/kubernetes\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/client-go => ./staging/src/k8s.io/client-go\n)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	goLog := filepath.Join(bin, "go.log")
	t.Setenv("REAL_GO", realGo)
	t.Setenv("FAKE_GOMOD", gomod)
	t.Setenv("FAKE_GO_LOG", goLog)
	server := httptest.NewServer(http.NotFoundHandler())
	defer server.Close()

	store := t.TempDir()
	dir, log := envtestBinaries(t, store, server.URL+"/envtest-releases.yaml", []string{bin})
	if dir != platformDir(store) {
		t.Errorf("printed %q, want %q", dir, platformDir(store))
	}
	if got := executables(t, dir); !slices.Equal(got, []string{"etcd", "kube-apiserver"}) {
		t.Errorf("the store holds %v, want etcd and kube-apiserver (kubectl only for the demo)", got)
	}
	for _, want := range []string{
		"building from source instead",
		"building kube-apiserver v" + k8sVersion + " from source (first time only, ~",
		"building etcd v3.6.16 from source (first time only, ~",
		"built kube-apiserver in ",
		"built etcd in ",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the script did not log %q", want)
		}
	}
	builds, err := os.ReadFile(goLog)
	if err != nil {
		t.Fatal(err)
	}
	// Side by side: both builds start before either ends.
	lines := strings.Split(strings.TrimSpace(string(builds)), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "start ") || !strings.HasPrefix(lines[1], "start ") {
		t.Errorf("want two builds side by side, got:\n%s", builds)
	}
	module, err := os.ReadFile(filepath.Join(bin, "go.log"))
	if err != nil || !strings.Contains(string(module), "k8s.io/kubernetes/cmd/kube-apiserver") {
		t.Errorf("want a build of k8s.io/kubernetes/cmd/kube-apiserver, got:\n%s", module)
	}

	// The demo asks for kubectl too: only kubectl is built.
	if err := os.Remove(goLog); err != nil {
		t.Fatal(err)
	}
	if again, log := envtestBinaries(t, store, server.URL+"/envtest-releases.yaml", []string{bin}, "kubectl"); again != dir || !strings.Contains(log, "building kubectl v"+k8sVersion) {
		t.Errorf("printed %q and logged\n%s\nwant %q and a build of kubectl", again, log, dir)
	}
	if got := executables(t, dir); !slices.Equal(got, []string{"etcd", "kube-apiserver", "kubectl"}) {
		t.Errorf("the store holds %v, want etcd, kube-apiserver and kubectl", got)
	}
	if builds, _ := os.ReadFile(goLog); strings.Count(string(builds), "start ") != 1 || !strings.Contains(string(builds), "cmd/kubectl") {
		t.Errorf("want one build, of kubectl, got:\n%s", builds)
	}
}
