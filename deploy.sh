#!/usr/bin/env bash
# braindrill's one entry point for people and CI.
#
#   ./deploy.sh [up] [--workers N]   build what is missing, start a local
#                                    cluster (master + N workers, default 2),
#                                    wait until it is ready, print how to call it
#   ./deploy.sh down                 stop the cluster, remove everything it made
#   ./deploy.sh test                 install what is missing, then fmt, clippy
#                                    and every test (CI runs exactly this)
#   ./deploy.sh images               build only the runtime and base images
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export DOCKER_BUILDKIT=0
APP_IMAGE="${BRAINDRILL_IMAGE:-braindrill:latest}"
HTTP_PORT="${BRAINDRILL_HTTP_PORT:-8080}"
PROJECT="${COMPOSE_PROJECT_NAME:-braindrill}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_install() {
  [ "$(id -u)" -eq 0 ] || die "missing $*; install it (apt-get install $*) or run as root"
  log "installing $*"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need_docker() {
  command -v docker >/dev/null || apt_install docker.io
  docker info >/dev/null 2>&1 || die "the Docker engine is not running (or this user may not use /var/run/docker.sock)"
}

# `docker compose` where the plugin exists, else `docker-compose`.
compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose -p "$PROJECT" "$@"
  else
    command -v docker-compose >/dev/null || apt_install docker-compose
    docker-compose -p "$PROJECT" "$@"
  fi
}

need_cargo() {
  command -v cargo >/dev/null || die "cargo is missing: install the Rust toolchain (https://rustup.rs)"
}

build_images() {
  need_docker
  images/build.sh
}

build_app_image() {
  need_cargo
  log "building the braindrill binary (release)"
  cargo build --release --locked
  log "building the image $APP_IMAGE"
  docker build --network none -q -t "$APP_IMAGE" . >/dev/null
}

wait_ready() {
  local url="http://127.0.0.1:$HTTP_PORT/ready" deadline=$((SECONDS + 90))
  log "waiting for $url"
  until curl -fsS "$url" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      compose logs --tail 30 >&2 || true
      die "the cluster did not become ready within 90 s (logs above)"
    fi
    sleep 1
  done
}

up() {
  local workers=2
  while [ $# -gt 0 ]; do
    case "$1" in
      --workers) workers="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  command -v curl >/dev/null || apt_install curl
  build_images
  build_app_image
  log "starting master and $workers workers"
  BRAINDRILL_HTTP_PORT="$HTTP_PORT" compose up -d --scale worker="$workers"
  wait_ready
  cat <<MSG

braindrill is running at http://127.0.0.1:$HTTP_PORT
try:  curl -X POST --data 'print("hi")' http://127.0.0.1:$HTTP_PORT/lang/python
stop: ./deploy.sh down
MSG
}

down() {
  need_docker
  compose down -v --remove-orphans --timeout 20
  # Sandboxes are removed by their workers on shutdown; sweep what a crash left.
  local left
  left="$(docker ps -aq --filter label=braindrill.engine=braindrill)"
  [ -z "$left" ] || docker rm -fv $left >/dev/null
  left="$(docker volume ls -q --filter label=braindrill.engine=braindrill)"
  [ -z "$left" ] || docker volume rm -f $left >/dev/null
  log "stopped; nothing left"
}

need_openapi_validator() {
  python3 -c 'import openapi_spec_validator' 2>/dev/null && return 0
  command -v python3 >/dev/null || apt_install python3
  log "installing openapi-spec-validator (checks the OpenAPI document)"
  python3 -m pip install -q openapi-spec-validator 2>/dev/null \
    || python3 -m pip install -q --break-system-packages openapi-spec-validator 2>/dev/null \
    || apt_install python3-openapi-spec-validator
}

# The playground's browser test: headless Chromium, and the editor the
# master serves from the system.
need_browser() {
  command -v chromium >/dev/null && [ -d /usr/share/javascript/codemirror ] && return 0
  apt_install chromium libjs-codemirror
}

test_all() {
  need_cargo
  command -v curl >/dev/null || apt_install curl
  # The fast tier first: formatting, lints and the tests that need no Docker
  # (unit tests and a whole node in-process with a fake sandbox), so a broken
  # change fails in minutes, before any image is built.
  log "cargo fmt --check"
  cargo fmt --all -- --check
  log "cargo clippy"
  cargo clippy --locked --all-targets --workspace -- -D warnings
  log "fast tier: unit tests and the in-process node (no Docker)"
  cargo test --release --locked --workspace --lib --bins
  cargo test --release --locked --test in_process --test observe_in_process
  # The end-to-end tier: the real Docker engine, real processes and clusters.
  need_openapi_validator
  need_browser
  build_images
  build_app_image
  log "end-to-end tier: cargo test"
  BRAINDRILL_TEST_IMAGE="$APP_IMAGE" cargo test --release --locked --workspace -- --test-threads 4
  log "checking that no sandbox is left"
  local containers volumes
  containers="$(docker ps -aq --filter label=braindrill.engine=braindrill)"
  volumes="$(docker volume ls -q --filter label=braindrill.engine=braindrill)"
  if [ -n "$containers$volumes" ]; then
    docker ps -a --filter label=braindrill.engine=braindrill >&2
    docker volume ls --filter label=braindrill.engine=braindrill >&2
    die "sandbox containers or volumes were left behind"
  fi
  log "all checks passed"
}

case "${1:-up}" in
  up) shift || true; up "$@" ;;
  down) down ;;
  test) test_all ;;
  images) build_images ;;
  *) die "usage: $0 [up [--workers N] | down | test | images]" ;;
esac
