#!/usr/bin/env bash
# Makes kube-apiserver and etcd available for envtest, and kubectl too with the argument
# `kubectl` (`make demo` prints its tables with it; no test needs it), and prints the directory
# that holds them (use it as KUBEBUILDER_ASSETS).
#
# Order of preference:
#   1. KUBEBUILDER_ASSETS, when it is set and holds kube-apiserver and etcd;
#   2. setup-envtest's store, $ENVTEST_STORE (default ~/.local/share/kubebuilder-envtest), in
#      k8s/<version>-<os>-<arch>, filled by setup-envtest or by an earlier run of this script;
#   3. a download into that store by setup-envtest (sigs.k8s.io/controller-runtime/tools/setup-envtest)
#      from its index of envtest releases, $ENVTEST_INDEX, if the index answers within 10 seconds
#      (ENVTEST_DOWNLOAD=false skips this);
#   4. a build from source through the Go module proxy, installed into that store.
#
# The build needs nothing but Go and the module proxy: a throwaway module requires
# k8s.io/kubernetes and replaces each staging module with its published version, and another
# requires go.etcd.io/etcd/server/v3 likewise. The two build side by side, sharing the module and
# build caches; kube-apiserver and kubectl build in one `go build`, which compiles what they share once.
set -euo pipefail

K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ENVTEST_ETCD_VERSION:-3.6.16}"
SETUP_ENVTEST_VERSION="${SETUP_ENVTEST_VERSION:-v0.25.1}"
INDEX="${ENVTEST_INDEX:-https://raw.githubusercontent.com/kubernetes-sigs/controller-tools/HEAD/envtest-releases.yaml}"
STAGING_VERSION="0.${K8S_VERSION#1.}"          # 1.37.2 -> 0.37.2
GOOS="$(go env GOOS)"
GOARCH="$(go env GOARCH)"
GO_LINE="$(go env GOVERSION | sed 's/^go\([0-9]*\.[0-9]*\).*/\1/')"
STORE_ROOT="${ENVTEST_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest}"
DEST="$STORE_ROOT/k8s/${K8S_VERSION}-${GOOS}-${GOARCH}"
# shellcheck source=hack/tool.sh
. "$(dirname "$0")/tool.sh"

want_kubectl=false
case "${1:-}" in
  "") ;;
  kubectl) want_kubectl=true ;;
  *) echo "usage: $0 [kubectl]" >&2; exit 2 ;;
esac

log() { printf 'envtest-binaries: %s\n' "$*" >&2; }

has_binaries() { [ -x "$1/kube-apiserver" ] && [ -x "$1/etcd" ]; }
complete() { has_binaries "$1" && { ! $want_kubectl || [ -x "$1/kubectl" ]; }; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  if has_binaries "$KUBEBUILDER_ASSETS"; then
    echo "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no kube-apiserver and etcd; using $DEST"
fi
if complete "$DEST"; then
  echo "$DEST"
  exit 0
fi

# download fetches the release of kube-apiserver, etcd and kubectl with setup-envtest, when its
# index can be reached (without curl, setup-envtest finds out itself, within a minute).
download() {
  [ "${ENVTEST_DOWNLOAD:-true}" != false ] || return 1
  if command -v curl >/dev/null && ! curl -fsSL --max-time 10 -o /dev/null "$INDEX" 2>/dev/null; then
    log "cannot read $INDEX; building from source instead"
    return 1
  fi
  log "downloading kube-apiserver, etcd and kubectl v$K8S_VERSION with setup-envtest from $INDEX"
  local start=$SECONDS
  if ! timeout 600 go run "sigs.k8s.io/controller-runtime/tools/setup-envtest@$SETUP_ENVTEST_VERSION" \
      use "$K8S_VERSION" --bin-dir "$STORE_ROOT" --index "$INDEX" --os "$GOOS" --arch "$GOARCH" -p path >/dev/null; then
    log "the download failed after $((SECONDS - start))s; building from source instead"
    return 1
  fi
  log "downloaded in $((SECONDS - start))s"
}

# build_kube builds the given commands of k8s.io/kubernetes (kube-apiserver, kubectl) into $1.
build_kube() {
  local out="$1" dir="$2" mod replaces ld pkgs=()
  shift 2
  mkdir -p "$dir"
  mod="$(cd "$dir" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  # Every staging module k8s.io/kubernetes replaces with ./staging/src/k8s.io/<name>.
  replaces="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$mod")"
  {
    echo "module envtest.local/kubernetes"
    echo
    echo "go $GO_LINE"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    echo "replace ("
    for m in $replaces; do echo "	$m => $m v$STAGING_VERSION"; done
    echo ")"
  } >"$dir/go.mod"
  ld="-s -w"
  for kv in "gitVersion=v$K8S_VERSION" "gitMajor=${K8S_VERSION%%.*}" \
            "gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)" "gitTreeState=clean"; do
    ld="$ld -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
  done
  for c in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "$ld" -o "$out/" "${pkgs[@]}")
}

# build_etcd builds etcd into $1.
build_etcd() {
  local out="$1" dir="$2"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<MOD
module envtest.local/etcd

go $GO_LINE

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 v$ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 v$ETCD_VERSION
)
MOD
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

mkdir -p "$STORE_ROOT/k8s"
if ! has_binaries "$DEST" && download && complete "$DEST"; then
  echo "$DEST"
  exit 0
fi

# Build what is missing into a temporary directory next to the store, and move each binary into
# place when it is done, so that an interrupted build never leaves a half-written one behind.
tmp="$(mktemp -d "$STORE_ROOT/k8s/.build-XXXXXX")"
pids=()
# Each build runs in a process group of its own (job control), so that an interrupt can stop it
# with all its compilers.
set -m
trap 'for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
kube=()
[ -x "$DEST/kube-apiserver" ] || kube+=(kube-apiserver)
if $want_kubectl && [ ! -x "$DEST/kubectl" ]; then kube+=(kubectl); fi
if [ ${#kube[@]} -gt 0 ]; then
  estimate="~10 min on 2 cores"
  [ "${kube[*]}" = kubectl ] && estimate="~4 min on 2 cores"
  build_tool "$(echo "${kube[*]}" | sed 's/ / and /')" "v$K8S_VERSION" "$estimate" \
    build_kube "$tmp" "$tmp/kubernetes-module" "${kube[@]}" &
  pids+=($!)
fi
if [ ! -x "$DEST/etcd" ]; then
  build_tool etcd "v$ETCD_VERSION" "~2 min on 2 cores" build_etcd "$tmp" "$tmp/etcd-module" &
  pids+=($!)
fi
failed=false
for pid in "${pids[@]}"; do wait "$pid" || failed=true; done
pids=()
mkdir -p "$DEST"
for b in kube-apiserver kubectl etcd; do
  if [ -f "$tmp/$b" ]; then mv -f "$tmp/$b" "$DEST/$b"; fi
done
if $failed || ! complete "$DEST"; then
  log "could not build everything; see the errors above"
  exit 1
fi
log "installed into $DEST"
echo "$DEST"
