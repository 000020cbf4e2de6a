# Shared by base.sh, build.sh and test.sh: versions, the cache outside the clone, and podman configured for a
# machine without a container engine (sourced, not run).
# shellcheck shell=bash

NODE_VERSION=${TOKENWARDEN_NODE_VERSION:-20.20.2}
NPM_VERSION=${TOKENWARDEN_NPM_VERSION:-10.8.2}
DEBIAN_SUITE=bookworm
BASE_IMAGE="localhost/tokenwarden-base:node-$NODE_VERSION-npm-$NPM_VERSION-$DEBIAN_SUITE"
TOOLS_CACHE=${TOKENWARDEN_TOOLS_CACHE:-$HOME/.cache/tokenwarden-tools}
HOST_CA_BUNDLE=${TOKENWARDEN_CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}

log() { echo "${0##*/}: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 ||
      die "'$tool' is not on PATH (Debian: apt-get install podman buildah runc mmdebstrap uidmap)"
  done
}

# crun fails on this kind of host's cgroup layout, so podman runs with runc and cgroupfs. Podman asks runc for
# open-files and process limits above what may be set here: the container gets the current hard open-files limit
# and at most 32768 processes (podman 4.3 itself runs with that process limit, as /proc/<podman>/limits shows, and
# runc cannot give a container more than runc has). A private containers.conf keeps the host's own
# configuration untouched.
podman_setup() {
  need podman runc
  local conf_dir="$TOOLS_CACHE/podman"
  mkdir -p "$conf_dir"
  local nproc
  nproc=$(ulimit -Hu)
  [[ $nproc == unlimited || $nproc -gt 32768 ]] && nproc=32768
  CONTAINERS_CONF="$conf_dir/containers.conf"
  cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  export CONTAINERS_CONF
}
