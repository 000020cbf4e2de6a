#!/usr/bin/env bash
# Builds the Dockerfile without a container engine: podman (runc, cgroupfs) on the local base image from
# base.sh, nothing pulled from a container registry. npm inside the build reaches the npm registry through the
# host network with the host's CA bundle mounted read-only (never copied into a layer).
#
# Usage: scripts/image/build.sh [IMAGE]   (default localhost/tokenwarden:<package version>)
# Prints the image name on stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=common.sh
. "$here/common.sh"

version=$(node -p "require('$root/package.json').version")
image=${1:-localhost/tokenwarden:$version}
base=$("$here/base.sh")
[[ -r $HOST_CA_BUNDLE ]] || die "no CA bundle at $HOST_CA_BUNDLE (set TOKENWARDEN_CA_BUNDLE)"
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)

log "building $image on $base ..."
started=$SECONDS
podman build --quiet --pull=never --network host --layers \
  --build-arg "BASE=$base" \
  --build-arg "VERSION=$version" \
  --build-arg "REVISION=$revision" \
  --build-arg NPM_CONFIG_CAFILE=/run/tokenwarden-build/ca.crt \
  --volume "$HOST_CA_BUNDLE:/run/tokenwarden-build/ca.crt:ro" \
  --tag "$image" \
  --file "$root/Dockerfile" "$root" >/dev/null
log "built $image in $((SECONDS - started))s ($(podman image inspect --format '{{.Size}}' "$image") bytes)"
echo "$image"
