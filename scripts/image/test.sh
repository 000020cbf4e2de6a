#!/usr/bin/env bash
# CI's image check: lint the Dockerfile, build the image (build.sh), then run it for real with podman
# (test/image: a TokenReview through it, non-root, read-only root file system, SIGTERM drain).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=common.sh
. "$here/common.sh"

need hadolint podman
hadolint "$root/Dockerfile"
image=$("$here/build.sh")
podman_setup
cd "$root"
TOKENWARDEN_IMAGE=$image npx vitest run --config test/image/vitest.config.ts
