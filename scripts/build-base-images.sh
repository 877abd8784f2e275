#!/usr/bin/env bash
# Builds Granda's runtime base images locally from Debian packages, for machines that reach Debian's apt mirrors but no
# container registry. Each stands in for an official image a function would otherwise build FROM:
#
#   granda-base/debian:bookworm         debian:bookworm-slim   debootstrap --variant=minbase, docker import (shell runtime)
#   granda-base/python:3.11-bookworm    python:3.12-slim       python3, venv, pip, requests      images/base/python
#   granda-base/node:18-bookworm        node:20-slim           nodejs, npm                       images/base/node
#   granda-base/golang:1.19-bookworm    golang:1.22            golang-go, git; offline builds    images/base/golang
#   granda-base/openjdk:17-bookworm     eclipse-temurin:21     openjdk-17-jdk-headless           images/base/openjdk
#
#   scripts/build-base-images.sh                 build every image that is missing or out of date, then check it
#   scripts/build-base-images.sh python node     only those (and the debian base they are built on, when needed)
#   --force     rebuild the named images (all by default) even if up to date, without Docker's build cache
#   --refresh   run debootstrap again instead of importing the cached root filesystem, for Debian's latest updates
#               (the .debs it already has are not downloaded again); the images built on the base follow
#   --verify    check the named images even if nothing was built
#
# An image is up to date when its io.granda.base.recipe label matches its recipe: for the debian base, the rootfs and
# import steps of this script; for the others, their images/base/<name> directory and the debian base they are built on
# (so rebuilding the base rebuilds them). The debian root filesystem is cached as a tarball in data/cache/base-images
# (with the .debs debootstrap downloaded), so importing it again downloads nothing. Every image is checked in a
# container with no network. Needs root (debootstrap) and a Docker engine; installs debootstrap with apt when missing.
# Environment: GRANDA_DEBIAN_MIRROR (http://deb.debian.org/debian), GRANDA_DEBIAN_SECURITY_MIRROR
# (http://deb.debian.org/debian-security), GRANDA_EXTRA_CA_DIR (/usr/local/share/ca-certificates): this machine's own
# certificate authorities (*.crt), copied into the root filesystem so that builds behind a TLS-inspecting proxy (npm,
# pip, go) trust what the host trusts; the ca-certificates package adds them to the images' bundle when installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

log() { printf '[base-images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

suite=bookworm
mirror=${GRANDA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${GRANDA_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
cache=$root/data/cache/base-images
logs=$cache/logs
rootfs_tarball=$cache/debian-$suite-rootfs.tar.gz
extra_ca_dir=${GRANDA_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}
all_names=(debian python node golang openjdk)

tag_of() {
  case $1 in
    debian) echo "granda-base/debian:$suite" ;;
    python) echo "granda-base/python:3.11-$suite" ;;
    node) echo "granda-base/node:18-$suite" ;;
    golang) echo "granda-base/golang:1.19-$suite" ;;
    openjdk) echo "granda-base/openjdk:17-$suite" ;;
  esac
}

# What `docker import` sets on the debian base: the official image's PATH and command, and Granda's labels.
import_changes=(
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'CMD ["/bin/bash"]'
  'LABEL io.granda.image=base'
  "LABEL io.granda.base.equivalent-of=debian:$suite-slim"
)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }

force=0 refresh=0 verify_all=0 requested=()
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    --refresh) refresh=1 ;;
    --verify) verify_all=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage; die "unknown option $arg" ;;
    shell | bash) requested+=(debian) ;;
    go) requested+=(golang) ;;
    java | jdk) requested+=(openjdk) ;;
    nodejs) requested+=(node) ;;
    debian | python | node | golang | openjdk) requested+=("$arg") ;;
    *) die "no base image '$arg' (known: ${all_names[*]})" ;;
  esac
done
[ ${#requested[@]} -gt 0 ] || requested=("${all_names[@]}")
is_requested() { local n; for n in "${requested[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }

now_ms() { date +%s%3N; }
since() { # elapsed time since a now_ms reading, e.g. 4.2s or 3m07s
  local ms=$(($(now_ms) - $1))
  if [ $ms -lt 60000 ]; then printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); else printf '%dm%02ds' $((ms / 60000)) $((ms % 60000 / 1000)); fi
}

# ---- preconditions ---------------------------------------------------------------------------------------------------

command -v docker >/dev/null || die "no docker client: install docker.io, or run ./granda docker"
timeout 20 docker info >/dev/null 2>&1 </dev/null ||
  die "no Docker engine is reachable${DOCKER_HOST:+ at $DOCKER_HOST}: start one (./granda docker) and try again"

mkdir -p "$logs"
exec 9>"$cache/.lock"
flock -w 3600 9 || die "another build-base-images.sh holds $cache/.lock"

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null </dev/null || true; }
image_recipe() { docker image inspect -f '{{index .Config.Labels "io.granda.base.recipe"}}' "$1" 2>/dev/null </dev/null || true; }
hash16() { sha256sum | cut -c1-16; }

# Recipes: what an image is built from. The rootfs recipe is the text of make_rootfs and what it reads.
extra_cas() { [ -d "$extra_ca_dir" ] || return 0; find "$extra_ca_dir" -maxdepth 1 -type f -name '*.crt' | LC_ALL=C sort; }
rootfs_recipe() {
  { declare -f make_rootfs; echo "$suite $mirror $security_mirror"; extra_cas | xargs -r sha256sum; } | hash16
}
debian_recipe() { { rootfs_recipe; printf '%s\n' "${import_changes[@]}"; } | hash16; }
context_recipe() { # $1 = name, $2 = id of the debian base it is built on
  (cd "$root/images/base/$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; echo "$2") | hash16
}

# ---- the debian base -------------------------------------------------------------------------------------------------

# Unmounts whatever is mounted at or under $1, deepest first (debootstrap mounts /proc and /sys in its target, and
# leaves them there when it dies), so that nothing outside the tree can be removed with it.
umount_under() {
  local dir mnt
  dir=$(realpath -m "$1")
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done
}

work=""
cleanup() {
  if [ -n "$work" ] && [ -d "$work" ]; then
    umount_under "$work"
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

ensure_debootstrap() {
  command -v debootstrap >/dev/null && [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] && return
  command -v apt-get >/dev/null || die "need debootstrap and debian-archive-keyring, and this machine has no apt-get"
  log "installing debootstrap (apt)"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)
  "${apt[@]}" install --no-install-recommends debootstrap debian-archive-keyring >"$logs/apt-debootstrap.log" 2>&1 </dev/null || {
    "${apt[@]}" update >>"$logs/apt-debootstrap.log" 2>&1 </dev/null &&
      "${apt[@]}" install --no-install-recommends debootstrap debian-archive-keyring >>"$logs/apt-debootstrap.log" 2>&1 </dev/null
  } || { tail -20 "$logs/apt-debootstrap.log" >&2; die "could not install debootstrap (log: $logs/apt-debootstrap.log)"; }
}

# Makes the minimal root filesystem in $1: debootstrap's minbase, then what the official images add for containers.
make_rootfs() {
  local dir=$1
  mkdir -p "$cache/debs"
  debootstrap --variant=minbase --cache-dir="$cache/debs" --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    "$suite" "$dir" "$mirror" >"$logs/debootstrap.log" 2>&1 </dev/null || {
    tail -20 "$logs/debootstrap.log" >&2
    die "debootstrap failed; is $mirror reachable? (log: $logs/debootstrap.log)"
  }
  umount_under "$dir"
  ! awk -v d="$(realpath "$dir")" 'index($5, d "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo ||
    die "something is still mounted under $dir"
  # apt inside the image: the release, its updates and its security updates.
  cat >"$dir/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
EOF
  # As in the official images: no services started by package scripts, no fsync per file, no .debs or package caches
  # kept after an install, no translations, compressed indexes, suggested packages not kept by autoremove.
  printf '#!/bin/sh\n# no services in a container image\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  echo force-unsafe-io >"$dir/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$dir/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$dir/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$dir/etc/apt/apt.conf.d/docker-autoremove-suggests"
  # Slim, as debian:bookworm-slim: no documentation (but the copyright files), man pages or translations, now or in
  # packages installed later.
  cat >"$dir/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  find "$dir/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
  local d
  for d in man groff info lintian linda locale; do
    [ -d "$dir/usr/share/$d" ] || continue
    find "$dir/usr/share/$d" -mindepth 1 ! -type d ! -path "$dir/usr/share/locale/locale.alias" -delete
    find "$dir/usr/share/$d" -mindepth 1 -type d -empty -delete
  done
  # Nothing of this machine or of the bootstrap: Docker provides /dev, hosts, hostname and resolv.conf per container.
  find "$dir/dev" -xdev -mindepth 1 -delete
  : >"$dir/etc/resolv.conf"
  chmod 644 "$dir/etc/resolv.conf"
  rm -f "$dir/etc/hostname" "$dir/var/lib/dbus/machine-id"
  [ ! -e "$dir/etc/machine-id" ] || : >"$dir/etc/machine-id"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$dir/etc/hosts"
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/var/cache/debconf/*-old "$dir"/var/lib/dpkg/*-old \
    "$dir"/tmp/* "$dir"/var/tmp/* "$dir"/root/.bash_history
  find "$dir/var/log" -type f -delete
  mkdir -p "$dir/var/lib/apt/lists/partial" "$dir/var/cache/apt/archives/partial"
  # The host's own certificate authorities, where update-ca-certificates (run when ca-certificates is installed) looks.
  local ca
  mkdir -p "$dir/usr/local/share/ca-certificates"
  extra_cas | while read -r ca; do install -m 644 "$ca" "$dir/usr/local/share/ca-certificates/"; done
}

build_rootfs_tarball() {
  [ "$(id -u)" = 0 ] || die "building the debian base needs root (debootstrap): run this as root"
  ensure_debootstrap
  local t0 recipe
  t0=$(now_ms)
  recipe=$(rootfs_recipe)
  work=$(mktemp -d "$cache/work.XXXXXX")
  log "debootstrap --variant=minbase $suite from $mirror (log: $logs/debootstrap.log)"
  make_rootfs "$work/rootfs"
  tar --numeric-owner --one-file-system -C "$work/rootfs" -czf "$work/rootfs.tar.gz" .
  mv "$work/rootfs.tar.gz" "$rootfs_tarball"
  echo "$recipe" >"$rootfs_tarball.recipe"
  cleanup
  work=""
  log "root filesystem: $(du -h "$rootfs_tarball" | cut -f1) compressed, in $(since "$t0")"
}

build_debian() {
  local tag t0 recipe
  tag=$(tag_of debian)
  recipe=$(debian_recipe)
  if [ $refresh = 1 ] || [ ! -s "$rootfs_tarball" ] || [ "$(cat "$rootfs_tarball.recipe" 2>/dev/null)" != "$(rootfs_recipe)" ]; then
    build_rootfs_tarball
  else
    log "using the cached root filesystem $rootfs_tarball"
  fi
  t0=$(now_ms)
  local changes=() c
  for c in "${import_changes[@]}" "LABEL io.granda.base.recipe=$recipe"; do changes+=(--change "$c"); done
  docker import "${changes[@]}" --message "debootstrap --variant=minbase $suite, scripts/build-base-images.sh" \
    "$rootfs_tarball" "$tag" >/dev/null </dev/null
  log "imported $tag in $(since "$t0")"
}

# ---- the images built FROM it ----------------------------------------------------------------------------------------

build_from_dockerfile() { # $1 = name, $2 = recipe
  local name=$1 tag t0 opts=()
  tag=$(tag_of "$name")
  [ -f "$root/images/base/$name/Dockerfile" ] || die "no images/base/$name/Dockerfile"
  [ $force = 1 ] && opts+=(--no-cache)
  t0=$(now_ms)
  log "building $tag (log: $logs/$name.log)"
  # The legacy builder is what a Docker 20.10 engine without buildx offers; the engine has no bridge network, so the
  # build's apt-get reaches the mirrors through the host's network.
  DOCKER_BUILDKIT=0 docker build --network host "${opts[@]}" --label "io.granda.base.recipe=$2" -t "$tag" \
    "$root/images/base/$name" >"$logs/$name.log" 2>&1 </dev/null || {
    tail -30 "$logs/$name.log" >&2
    die "building $tag failed (log: $logs/$name.log)"
  }
  log "built $tag in $(since "$t0")"
}

# ---- checks: each image really works, in a container with no network ------------------------------------------------

check_script() {
  case $1 in
    debian) cat <<'EOF'
bash --version | head -1
ls --version | head -1
for c in sh bash ls cat cp mv rm mkdir chmod ln sleep env date sort head tail tr cut wc sed grep find xargs tar gzip \
  id mktemp tee dpkg apt-get; do
  command -v "$c" >/dev/null || { echo "missing $c"; exit 1; }
done
grep -c '^deb ' /etc/apt/sources.list | grep -qx 3
echo "coreutils, findutils, grep, sed, tar, gzip, apt: present; apt sources: $(cut -d' ' -f3 /etc/apt/sources.list | tr '\n' ' ')"
EOF
      ;;
    python) cat <<'EOF'
python3 --version
python3 -c 'import requests, venv; print(requests.__version__)'
pip --version
d=$(mktemp -d)
python3 -m venv --system-site-packages "$d/venv"
echo 'requests>=2' >"$d/requirements.txt"
"$d/venv/bin/pip" install -q -r "$d/requirements.txt"
"$d/venv/bin/python" -c 'import requests, sys; print("venv", sys.prefix, "sees requests", requests.__version__)'
pip install -q -r "$d/requirements.txt" && echo "system pip: requirements.txt satisfied offline"
EOF
      ;;
    node) cat <<'EOF'
node --version && npm --version
d=$(mktemp -d) && cd "$d"
node -e 'const http = require("http"); console.log("node ok:", typeof http.createServer)'
npm init -y >/dev/null && npm install --offline --no-audit --no-fund >/dev/null && echo "npm install (no dependencies) ok offline"
EOF
      ;;
    golang) cat <<'EOF'
go version
d=$(mktemp -d) && cd "$d"
go mod init hello 2>&1
cat >main.go <<'GO'
package main

import (
	"fmt"
	"net/http"
)

func main() { fmt.Println("hello from go,", http.StatusText(http.StatusOK)) }
GO
go build && ./hello
EOF
      ;;
    openjdk) cat <<'EOF'
javac -version && java -version 2>&1
echo "JAVA_HOME=$JAVA_HOME"
d=$(mktemp -d) && cd "$d"
cat >Hello.java <<'JAVA'
public class Hello {
    public static void main(String[] args) {
        System.out.println("hello from java " + System.getProperty("java.version"));
    }
}
JAVA
javac Hello.java && java -cp . Hello
EOF
      ;;
  esac
}

verify() { # $1 = name
  local name=$1 tag t0 out
  tag=$(tag_of "$name")
  t0=$(now_ms)
  if ! out=$(docker run --rm --network none "$tag" bash -euo pipefail -c "$(check_script "$name")" 2>&1 </dev/null); then
    printf '%s\n' "$out" | sed 's/^/    /' >&2
    die "$tag does not work (check above)"
  fi
  printf '%s\n' "$out" | sed 's/^/    /' >&2
  log "checked $tag in $(since "$t0")"
}

# ---- main ------------------------------------------------------------------------------------------------------------

total0=$(now_ms)
built=() stale_ids=()

# The debian base comes first: every other image is built on it, so it is built when missing or out of date even if
# not named, and rebuilt with --force only when named (or with --refresh).
tag=$(tag_of debian)
old_id=$(image_id "$tag")
if [ -z "$old_id" ] || [ "$(image_recipe "$tag")" != "$(debian_recipe)" ] || [ $refresh = 1 ] ||
  { [ $force = 1 ] && is_requested debian; }; then
  build_debian
  built+=(debian)
  [ -z "$old_id" ] || stale_ids+=("$old_id")
elif is_requested debian; then
  log "$tag is up to date"
fi
debian_id=$(image_id "$tag")

for name in "${requested[@]}"; do
  [ "$name" != debian ] || continue
  tag=$(tag_of "$name")
  recipe=$(context_recipe "$name" "$debian_id")
  old_id=$(image_id "$tag")
  if [ -n "$old_id" ] && [ "$(image_recipe "$tag")" = "$recipe" ] && [ $force = 0 ]; then
    log "$tag is up to date"
    continue
  fi
  build_from_dockerfile "$name" "$recipe"
  built+=("$name")
  [ -z "$old_id" ] || [ "$old_id" = "$(image_id "$tag")" ] || stale_ids+=("$old_id")
done

for name in "${all_names[@]}"; do
  if printf '%s\n' "${built[@]}" | grep -qx "$name" || { [ $verify_all = 1 ] && is_requested "$name"; }; then
    verify "$name"
  fi
done

# The images this script replaced, now untagged: removed unless something still uses them (Docker refuses while an image
# is some image's base, e.g. an old debian base under images not rebuilt yet, or a function image's). Those stay listed
# in $cache/replaced-images and are tried again next time. Newest first, so dependants go before their base.
replaced=$cache/replaced-images
touch "$replaced"
{ cat "$replaced"; printf '%s\n' "${stale_ids[@]}"; } | grep . | tac | awk '!seen[$0]++' >"$replaced.new" || true
: >"$replaced"
while read -r id; do
  # Gone, or tagged again (rebuilt to the same image): nothing to do.
  tags=$(docker image inspect -f '{{join .RepoTags ","}}' "$id" 2>/dev/null </dev/null) || continue
  [ -z "$tags" ] || continue
  docker image rm "$id" >/dev/null 2>&1 </dev/null || echo "$id" >>"$replaced"
done <"$replaced.new"
tac "$replaced" >"$replaced.new" && mv "$replaced.new" "$replaced"

if [ ${#built[@]} -gt 0 ]; then
  log "built ${built[*]} in $(since "$total0"):"
  docker image ls --filter label=io.granda.image=base --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' </dev/null |
    grep '^granda-base/' | sort | sed 's/^/  /' >&2 || true
else
  log "all up to date ($(since "$total0"))"
fi
