#!/usr/bin/env bash
# Builds the Helm CLI from its Go module (helm.sh/helm/v4) for the chart tests, once per version.
#
# The binary goes to a cache outside the clone, keyed by version:
#   ${TOKENWARDEN_TOOLS_CACHE:-$HOME/.cache/tokenwarden-tools}/helm-<version>/helm
# A cached binary that answers `helm version` is reused. Concurrent runs wait on one flock instead of compiling twice.
# Progress goes to stderr; stdout carries only the binary's path.
set -euo pipefail

version=${HELM_VERSION:-v4.3.2}
cache=${TOKENWARDEN_TOOLS_CACHE:-$HOME/.cache/tokenwarden-tools}
dir="$cache/helm-$version"
out="$dir/helm"

log() { echo "build-helm.sh: $*" >&2; }

ready() { [[ -x $out ]] && "$out" version --short >/dev/null 2>&1; }

if ready; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null 2>&1 || {
  log "ERROR: 'go' is not on PATH; the chart tests build Helm $version from helm.sh/helm/v4 with it"
  exit 1
}
mkdir -p "$dir"
exec 9>"$dir/.build.lock"
flock 9
if ready; then
  echo "$out"
  exit 0
fi
log "building helm $version from helm.sh/helm/v4 (a few minutes on a small machine) ..."
started=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# `go install module@version` builds exactly the tagged module with its own go.sum; the ldflags give
# `helm version` the release's version string, as Helm's Makefile does.
CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version" \
  "helm.sh/helm/v4/cmd/helm@$version"
"$tmp/helm" version --short >/dev/null
mv -f "$tmp/helm" "$out"
log "helm $version built in $((SECONDS - started))s -> $out"
echo "$out"
