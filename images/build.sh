#!/usr/bin/env bash
# Builds the images braindrill needs from Debian's packages alone (no image
# registry is needed): one image per folder under images/ that holds a
# `packages` file, named braindrill/<folder>:bookworm.
#
# A folder that also holds a Dockerfile gets two stages: the packages are
# imported as braindrill/<folder>-packages:bookworm, and the Dockerfile builds
# the final image on top of it (the runtime image compiles its in-sandbox
# runner this way), so changing the Dockerfile's inputs does not re-run
# debootstrap.
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

# The hash of a stage's inputs; the label `braindrill.recipe` holds it.
recipe_of() {
  local image="$1"
  docker image inspect --format '{{ index .Config.Labels "braindrill.recipe" }}' "$image" 2>/dev/null || true
}

import_packages() {
  local recipe="$1" image="$2" hash="$3"
  local packages
  packages="$(grep -v '^\s*#' "$recipe" | grep -v '^\s*$' | paste -sd, - || true)"
  local root
  root="$(mktemp -d /tmp/braindrill-rootfs.XXXXXX)"
  trap 'rm -rf "$root" "$root.log"; trap - RETURN' RETURN
  echo "building $image from $suite minbase${packages:+ + $packages}"
  local started=$SECONDS
  debootstrap --variant=minbase ${packages:+--include="$packages"} \
    "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
      echo "debootstrap failed; its log:" >&2; tail -n 30 "$root.log" >&2; return 1; }
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

build_one() {
  local name="$1" dir="$here/$1"
  local image="braindrill/$name:$suite"
  # Only what debootstrap reads: the package list and the suite.
  local packages_hash
  packages_hash="$( (echo "$suite"; cat "$dir/packages") | sha256sum | cut -c1-16)"
  if [ ! -f "$dir/Dockerfile" ]; then
    if [ "$force" -eq 0 ] && [ "$(recipe_of "$image")" = "$packages_hash" ]; then
      echo "image $image is up to date (recipe $packages_hash)"
      return 0
    fi
    import_packages "$dir/packages" "$image" "$packages_hash"
    return 0
  fi
  local packages_image="braindrill/$name-packages:$suite"
  if [ "$force" -eq 1 ] || [ "$(recipe_of "$packages_image")" != "$packages_hash" ]; then
    import_packages "$dir/packages" "$packages_image" "$packages_hash"
  fi
  local hash
  hash="$( (echo "$packages_hash"; cd "$dir" && find . -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16)"
  if [ "$force" -eq 0 ] && [ "$(recipe_of "$image")" = "$hash" ]; then
    echo "image $image is up to date (recipe $hash)"
    return 0
  fi
  echo "building $image on $packages_image"
  DOCKER_BUILDKIT=0 docker build --quiet --network none --force-rm \
    --build-arg "PACKAGES_IMAGE=$packages_image" \
    --label "braindrill.recipe=$hash" \
    -t "$image" "$dir" >/dev/null
  echo "built $image"
}

for name in "${names[@]}"; do
  build_one "$name"
  # The sandboxes' image: its /usr is also served from a runtime volume.
  if [ "$name" = runtime ]; then
    "$here/runtime-volume.sh" "braindrill/$name:$suite"
  fi
done
