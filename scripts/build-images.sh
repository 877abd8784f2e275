#!/usr/bin/env bash
# Builds the images Granda's demo and tests use, locally, with no registry: each is FROM scratch plus a static
# busybox. Idempotent and fast when nothing changed (Docker's build cache).
#
#   scripts/build-images.sh            build every image under images/
#   scripts/build-images.sh hello      build only images/hello
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  # Not present, or dynamically linked: a FROM-scratch image needs the static build.
  if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
    busybox=/bin/busybox
  elif [ "$(id -u)" = 0 ]; then
    echo "installing busybox-static" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null 2>&1 || {
      DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null
    }
    busybox=/bin/busybox
  else
    echo "need a static busybox: run as root, or apt-get install busybox-static" >&2
    exit 1
  fi
fi

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in "$root"/images/*/; do names+=("$(basename "$d")"); done
fi

for name in "${names[@]}"; do
  dir="$root/images/$name"
  [ -f "$dir/Dockerfile" ] || { echo "no images/$name/Dockerfile" >&2; exit 1; }
  case "$name" in
    hello) tag="granda/hello:latest" ;;
    *) tag="granda-${name}:latest" ;;
  esac
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp -a "$dir"/. "$ctx"/
  cp "$busybox" "$ctx/busybox"
  # The legacy builder is what a Docker 20.10 engine without buildx offers; it needs no network for FROM scratch.
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null 2>"$ctx/err" || { cat "$ctx/err" >&2; exit 1; }
  rm -rf "$ctx"
  trap - EXIT
  echo "built $tag"
done
