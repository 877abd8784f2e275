#!/usr/bin/env bash
# Builds the images Granda's demo and tests use, locally, with no registry: each is FROM scratch plus a static
# busybox, or plus static binaries compiled here from the image directory's *.c files (each foo.c becomes ./foo in the
# build context). Idempotent and fast when nothing changed (Docker's build cache).
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

# Compiles an image directory's C sources into its build context, statically: the image is FROM scratch.
compile_sources() {
  local dir=$1 ctx=$2 src
  if ! command -v gcc >/dev/null || [ ! -e /usr/include/stdio.h ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing gcc" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc libc6-dev >/dev/null 2>&1 || {
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc libc6-dev >/dev/null
      }
    else
      echo "need gcc and libc6-dev to compile $dir: run as root, or apt-get install gcc libc6-dev" >&2
      exit 1
    fi
  fi
  for src in "$dir"/*.c; do
    gcc -std=c11 -static -O2 -Wall -Wextra -Werror -pthread -o "$ctx/$(basename "$src" .c)" "$src"
  done
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in "$root"/images/*/; do [ -f "$d/Dockerfile" ] && names+=("$(basename "$d")"); done
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
  if compgen -G "$dir/*.c" >/dev/null; then compile_sources "$dir" "$ctx"; fi
  # The legacy builder is what a Docker 20.10 engine without buildx offers; it needs no network for FROM scratch.
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null 2>"$ctx/err" || { cat "$ctx/err" >&2; exit 1; }
  rm -rf "$ctx"
  trap - EXIT
  echo "built $tag"
done
