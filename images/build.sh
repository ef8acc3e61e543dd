#!/usr/bin/env bash
# Builds the images braindrill needs from Debian's packages alone (no image
# registry is needed): one image per folder under images/ that holds a
# `packages` file, named braindrill/<folder>:bookworm.
#
# Idempotent: an image whose recipe has not changed is skipped; the recipe's
# hash is stored as a label on the image. `--force` rebuilds everything.
#
# Usage: images/build.sh [--force] [name ...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite="${DEBIAN_SUITE:-bookworm}"
force=0
names=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    *) names+=("$arg") ;;
  esac
done
if [ ${#names[@]} -eq 0 ]; then
  for dir in "$here"/*/; do
    [ -f "$dir/packages" ] && names+=("$(basename "$dir")")
  done
fi

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2 (needed for $1)" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: $1 is missing and this is not root; install the package $2" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need debootstrap debootstrap
need docker docker.io

build_one() {
  local name="$1" recipe="$here/$1/packages"
  local image="braindrill/$name:$suite"
  local hash
  hash="$(cat "$recipe" "$here/build.sh" | sha256sum | cut -c1-16)"
  local current
  current="$(docker image inspect --format '{{ index .Config.Labels "braindrill.recipe" }}' "$image" 2>/dev/null || true)"
  if [ "$force" -eq 0 ] && [ "$current" = "$hash" ]; then
    echo "image $image is up to date (recipe $hash)"
    return 0
  fi
  local packages
  packages="$(grep -v '^\s*#' "$recipe" | grep -v '^\s*$' | paste -sd, - || true)"
  local root
  root="$(mktemp -d /tmp/braindrill-rootfs.XXXXXX)"
  trap 'rm -rf "$root"' RETURN
  echo "building $image from $suite minbase${packages:+ + $packages}"
  local started=$SECONDS
  debootstrap --variant=minbase ${packages:+--include="$packages"} \
    "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
      echo "debootstrap failed; its log:" >&2; tail -n 30 "$root.log" >&2; rm -f "$root.log"; return 1; }
  rm -f "$root.log"
  # Keep the image small: package caches and lists are never used at run time.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL braindrill.recipe=$hash" \
    --change 'CMD ["/bin/sh"]' \
    - "$image" >/dev/null
  echo "built $image in $((SECONDS - started)) s"
}

for name in "${names[@]}"; do
  build_one "$name"
done
