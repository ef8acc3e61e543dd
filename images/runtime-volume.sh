#!/usr/bin/env bash
# Copies an image's /usr into a Docker volume, the image's runtime volume,
# which worker nodes mount read-only over /usr in that image's sandboxes
# (README, "Runtime volumes"). Where the engine's storage driver is slow to
# read from (fuse-overlayfs), every file a program opens then comes from the
# host's own filesystem instead of a FUSE daemon.
#
# The volume is named after the image's ID, braindrill-runtime-<12 hex>;
# Docker copies the image's /usr into it when a container that mounts it is
# created. Only then is the marker volume <name>-ready created: a node
# mounts a runtime volume only when its marker exists, so a copy cut short
# is never used (the next run of this script starts it again from an empty
# volume). Both carry the label braindrill.runtime-image=<image ID>.
#
# Runtime volumes of images that no longer exist on this engine are removed
# (one still mounted by a container is left for a later run).
#
# Idempotent. Usage: images/runtime-volume.sh IMAGE
set -euo pipefail

image="${1:?usage: images/runtime-volume.sh IMAGE}"
label=braindrill.runtime-image

for volume in $(docker volume ls -q --filter "label=$label"); do
  # (a marker removed above with its volume is no longer there to inspect)
  id="$(docker volume inspect --format "{{ index .Labels \"$label\" }}" "$volume" 2>/dev/null)" || continue
  if ! docker image inspect "$id" >/dev/null 2>&1; then
    # The marker first: a volume without it is never mounted.
    case "$volume" in
      *-ready) docker volume rm "$volume" >/dev/null 2>&1 || true ;;
      *) docker volume rm "$volume-ready" >/dev/null 2>&1 || true
         docker volume rm "$volume" >/dev/null 2>&1 \
           && echo "removed the runtime volume $volume (its image is gone)" ;;
    esac
  fi
done

id="$(docker image inspect --format '{{ .Id }}' "$image")"
hex="${id#sha256:}"
volume="braindrill-runtime-${hex:0:12}"
if docker volume inspect "$volume-ready" >/dev/null 2>&1 && docker volume inspect "$volume" >/dev/null 2>&1; then
  echo "runtime volume $volume of $image is ready"
  exit 0
fi
echo "copying /usr of $image into the runtime volume $volume"
started=$SECONDS
populator="$volume-populate"
docker rm -f "$populator" >/dev/null 2>&1 || true
docker volume rm "$volume-ready" >/dev/null 2>&1 || true
# A copy cut short left files: Docker copies only into an empty volume.
docker volume rm "$volume" >/dev/null 2>&1 || true
docker volume create --label "$label=$id" "$volume" >/dev/null
docker create --name "$populator" --network none \
  --mount "type=volume,src=$volume,dst=/usr,readonly" "$id" /usr/bin/true >/dev/null
docker rm "$populator" >/dev/null
docker volume create --label "$label=$id" "$volume-ready" >/dev/null
echo "runtime volume $volume of $image ready in $((SECONDS - started)) s"
