#!/usr/bin/env bash
# Makes kube-apiserver, etcd and kubectl available for envtest and `make demo`, and prints
# the directory that holds them (use it as KUBEBUILDER_ASSETS).
#
# Order of preference:
#   1. KUBEBUILDER_ASSETS, when it is set and holds kube-apiserver and etcd;
#   2. setup-envtest's store (~/.local/share/kubebuilder-envtest/k8s/<version>-<os>-<arch>),
#      filled either by `setup-envtest use` or by an earlier run of this script;
#   3. a build from source through the Go module proxy, installed into that store.
#
# The build needs nothing but Go and the module proxy: a throwaway module requires
# k8s.io/kubernetes and replaces each staging module with its published version, and another
# requires go.etcd.io/etcd/server/v3 likewise. It takes about 8 minutes on 2 cores, once.
set -euo pipefail

K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ENVTEST_ETCD_VERSION:-3.6.16}"
STAGING_VERSION="0.${K8S_VERSION#1.}"          # 1.37.2 -> 0.37.2
GOOS="$(go env GOOS)"
GOARCH="$(go env GOARCH)"
STORE_ROOT="${ENVTEST_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest}"
DEST="$STORE_ROOT/k8s/${K8S_VERSION}-${GOOS}-${GOARCH}"
BUILD_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/license-operator/envtest-build"

log() { printf 'envtest-binaries: %s\n' "$*" >&2; }

has_binaries() { [ -x "$1/kube-apiserver" ] && [ -x "$1/etcd" ]; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  if has_binaries "$KUBEBUILDER_ASSETS"; then
    echo "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no kube-apiserver and etcd; using $DEST"
fi

build_kube() {
  local dir="$BUILD_ROOT/kubernetes-$K8S_VERSION" mod replaces
  mkdir -p "$dir"
  mod="$(cd "$dir" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  # Every staging module k8s.io/kubernetes replaces with ./staging/src/k8s.io/<name>.
  replaces="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$mod")"
  {
    echo "module envtest.local/kube-apiserver"
    echo
    echo "go $(go env GOVERSION | sed 's/^go\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    echo "replace ("
    for m in $replaces; do echo "	$m => $m v$STAGING_VERSION"; done
    echo ")"
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  local ld="-s -w"
  for kv in "gitVersion=v$K8S_VERSION" "gitMajor=${K8S_VERSION%%.*}" \
            "gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)" "gitTreeState=clean"; do
    ld="$ld -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
  done
  log "building kube-apiserver and kubectl v$K8S_VERSION from source (several minutes, once)"
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
   cd "$dir" && GOFLAGS=-mod=mod go build -tags tools -trimpath -ldflags "$ld" -o "$1/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
   cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "$ld" -o "$1/kubectl" k8s.io/kubernetes/cmd/kubectl)
}

build_etcd() {
  local dir="$BUILD_ROOT/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<MOD
module envtest.local/etcd

go $(go env GOVERSION | sed 's/^go\([0-9]*\.[0-9]*\).*/\1/')

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 v$ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 v$ETCD_VERSION
)
MOD
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  log "building etcd v$ETCD_VERSION from source (about a minute, once)"
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
   cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$1/etcd" go.etcd.io/etcd/server/v3)
}

if ! has_binaries "$DEST"; then
  mkdir -p "$STORE_ROOT/k8s" "$BUILD_ROOT"
  # Build into a temporary directory next to the store and move it into place at the end, so an
  # interrupted build never leaves a half-filled store behind.
  tmp="$(mktemp -d "$STORE_ROOT/k8s/.build-XXXXXX")"
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  [ -x "$DEST/etcd" ] && cp "$DEST/etcd" "$tmp/etcd" || build_etcd "$tmp"
  [ -x "$DEST/kube-apiserver" ] && cp "$DEST/kube-apiserver" "$DEST/kubectl" "$tmp/" 2>/dev/null || build_kube "$tmp"
  rm -rf "$DEST"
  mv "$tmp" "$DEST"
  trap - EXIT
  log "installed into $DEST"
fi

echo "$DEST"
