#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager for the end-to-end suite.
#
# Versions come from the go.mod files beside this script, so bumping a pin there is the whole upgrade. Binaries go
# to a cache outside the clone, one directory per component and version:
#   ${TOKENWARDEN_E2E_CACHE:-$HOME/.cache/tokenwarden-e2e}/<component>-<version>/<component>
# A binary already there that answers --version is reused. Builds are sequential under one flock, so parallel
# runs (two checkouts, two CI jobs) wait for each other instead of compiling kube twice on a small machine.
#
# Progress goes to stderr; stdout carries only `<component>=<path>` lines for the harness to read.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TOKENWARDEN_E2E_CACHE:-$HOME/.cache/tokenwarden-e2e}
lock_wait_seconds=${TOKENWARDEN_E2E_LOCK_WAIT:-3600}

log() { echo "build.sh: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

command -v go >/dev/null 2>&1 ||
  die "'go' is not on PATH. The e2e suite builds kube-apiserver, kube-controller-manager and etcd from Go modules; install Go (the version named in $here/*/go.mod or newer) and retry."
command -v flock >/dev/null 2>&1 || die "'flock' (util-linux) is not on PATH; it serialises concurrent builds."

module_version() { # <module dir> <module path>
  (cd "$here/$1" && go list -m -f '{{.Version}}' "$2") || die "cannot read the version of $2 from $here/$1/go.mod"
}

build() { # <component> <version> <module dir> <package> <ldflags>
  local component=$1 version=$2 module_dir=$3 package=$4 ldflags=$5
  local dir="$cache/$component-$version"
  local out="$dir/$component"
  if [[ -x $out ]] && "$out" --version >/dev/null 2>&1; then
    log "$component $version: cached at $out"
    echo "$component=$out"
    return
  fi
  mkdir -p "$dir"
  # Build to a temporary name and rename, so an interrupted build never leaves a half-written binary behind.
  local tmp="$out.partial"
  local started=$SECONDS
  log "$component $version: building $package (minutes on a small machine) ..."
  if ! (cd "$here/$module_dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp" "$package"); then
    rm -f "$tmp"
    die "building $component $version failed (go build output above)"
  fi
  "$tmp" --version >/dev/null 2>&1 || {
    rm -f "$tmp"
    die "the freshly built $component does not run '$component --version'"
  }
  mv -f "$tmp" "$out"
  log "$component $version: built in $((SECONDS - started))s -> $out"
  echo "$component=$out"
}

mkdir -p "$cache"
exec 9>"$cache/.build.lock"
if ! flock -n 9; then
  log "another build holds $cache/.build.lock; waiting up to ${lock_wait_seconds}s"
  flock -w "$lock_wait_seconds" 9 || die "timed out after ${lock_wait_seconds}s waiting for $cache/.build.lock"
fi

kube_ldflags() { # <k8s.io/kubernetes version>
  [[ $1 =~ ^v([0-9]+)\.([0-9]+)\. ]] || die "unexpected k8s.io/kubernetes version '$1'"
  # Without these the binaries report v0.0.0, which kubectl and version-gated code paths would see.
  echo "-s -w -X k8s.io/component-base/version.gitVersion=$1 -X k8s.io/component-base/version.gitMajor=${BASH_REMATCH[1]}" \
    "-X k8s.io/component-base/version.gitMinor=${BASH_REMATCH[2]} -X k8s.io/component-base/version.gitTreeState=clean"
}

apiserver_version=$(module_version apiserver k8s.io/kubernetes)
apiserver_ldflags=$(kube_ldflags "$apiserver_version")
controller_manager_version=$(module_version controller-manager k8s.io/kubernetes)
controller_manager_ldflags=$(kube_ldflags "$controller_manager_version")
etcd_version=$(module_version etcd go.etcd.io/etcd/server/v3)

# The slowest first, so a broken toolchain or module graph shows up before the quick builds.
build kube-apiserver "$apiserver_version" apiserver k8s.io/kubernetes/cmd/kube-apiserver "$apiserver_ldflags"
build kube-controller-manager "$controller_manager_version" controller-manager \
  k8s.io/kubernetes/cmd/kube-controller-manager "$controller_manager_ldflags"
build etcd "$etcd_version" etcd go.etcd.io/etcd/server/v3 "-s -w"
