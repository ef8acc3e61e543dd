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
#   ./deploy.sh swarm up [--workers N]  the same cluster on Docker Swarm (this
#                                    engine's swarm; `docker swarm init` only
#                                    if it is in none), ready when it returns
#   ./deploy.sh swarm down           remove the stack; leave the swarm only if
#                                    `swarm up` made it
#   ./deploy.sh k8s-validate         check deploy/k8s against the API schemas
#   ./deploy.sh secrets              make the cluster's secrets if missing (a CA,
#                                    master and worker certificates, a cookie)
#                                    in $BRAINDRILL_SECRETS (default ./.secrets)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export DOCKER_BUILDKIT=0
APP_IMAGE="${BRAINDRILL_IMAGE:-braindrill:latest}"
HTTP_PORT="${BRAINDRILL_HTTP_PORT:-8080}"
PROJECT="${COMPOSE_PROJECT_NAME:-braindrill}"
SECRETS_DIR="${BRAINDRILL_SECRETS:-$PWD/.secrets}"
export BRAINDRILL_SECRETS="$SECRETS_DIR"
STACK="${BRAINDRILL_STACK:-braindrill}"
export BRAINDRILL_STACK="$STACK"
# Where `swarm up` notes that it initialised the swarm (so `swarm down`
# leaves only a swarm it made).
SWARM_MARK="${BRAINDRILL_STATE:-$PWD/.state}/swarm-initialised"

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

# The cluster link's secrets for a local cluster: a certificate authority,
# a certificate per role (its role as a DNS name: master.braindrill or
# worker.braindrill, which is what peers check), their keys, and a cookie.
# Kept across runs; the CA's key stays here and is never mounted in a node.
make_secrets() {
  local dir="$SECRETS_DIR" role
  if [ -s "$dir/cookie" ] && [ -s "$dir/ca.pem" ] && [ -s "$dir/master.pem" ] && [ -s "$dir/worker.pem" ]; then
    return 0
  fi
  command -v openssl >/dev/null || apt_install openssl
  log "making the cluster's secrets in $dir"
  mkdir -p "$dir"
  chmod 700 "$dir"
  (
    cd "$dir"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=braindrill cluster CA" -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    for role in master worker; do
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=braindrill $role" -keyout "$role.key" -out "$role.csr" 2>/dev/null
      printf 'subjectAltName=DNS:%s.braindrill\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' "$role" > "$role.ext"
      openssl x509 -req -in "$role.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
        -extfile "$role.ext" -out "$role.pem" 2>/dev/null
      rm -f "$role.csr" "$role.ext"
    done
    rm -f ca.srl
    openssl rand -hex 32 > cookie
    # Containers read them as whatever user they run as; the folder is 700.
    chmod 644 ca.pem master.pem worker.pem master.key worker.key cookie
  )
}

# Waits for /ready; on a timeout runs "$@" to show logs.
wait_ready() {
  local url="http://127.0.0.1:$HTTP_PORT/ready" deadline=$((SECONDS + 90))
  log "waiting for $url"
  until curl -fsS "$url" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      "$@" >&2 || true
      die "the cluster did not become ready within 90 s (logs above)"
    fi
    sleep 1
  done
}

compose_logs() { compose logs --tail 30; }

swarm_logs() {
  docker stack ps --no-trunc "$STACK"
  docker service logs --tail 30 "${STACK}_master"
  docker service logs --tail 30 "${STACK}_worker"
}

swarm_up() {
  local workers=2 build=1 state
  while [ $# -gt 0 ]; do
    case "$1" in
      --workers) workers="$2"; shift 2 ;;
      # CI's tests build the images once, before they run this.
      --no-build) build=0; shift ;;
      *) die "unknown option $1" ;;
    esac
  done
  command -v curl >/dev/null || apt_install curl
  need_docker
  if [ "$build" = 1 ]; then
    build_images
    build_app_image
  else
    docker image inspect "$APP_IMAGE" >/dev/null 2>&1 || die "the image $APP_IMAGE is missing: run without --no-build"
  fi
  make_secrets
  state="$(docker info --format '{{.Swarm.LocalNodeState}}')"
  if [ "$state" = inactive ]; then
    log "initialising a single-node swarm (./deploy.sh swarm down leaves it)"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
    mkdir -p "$(dirname "$SWARM_MARK")"
    touch "$SWARM_MARK"
  elif [ "$state" != active ]; then
    die "this engine's swarm is $state; fix it (docker swarm leave --force) and retry"
  fi
  log "deploying the stack $STACK: master and $workers workers"
  BRAINDRILL_IMAGE="$APP_IMAGE" BRAINDRILL_HTTP_PORT="$HTTP_PORT" BRAINDRILL_WORKERS="$workers" \
    docker stack deploy --prune -c deploy/swarm/stack.yaml "$STACK" >/dev/null
  wait_ready swarm_logs
  cat <<MSG

braindrill is running on Docker Swarm at http://127.0.0.1:$HTTP_PORT
scale: docker service scale ${STACK}_worker=N
stop:  ./deploy.sh swarm down
MSG
}

swarm_down() {
  need_docker
  local deadline=$((SECONDS + 90)) left
  if docker stack ls --format '{{.Name}}' 2>/dev/null | grep -qx "$STACK"; then
    log "removing the stack $STACK"
    docker stack rm "$STACK" >/dev/null
  fi
  # `stack rm` returns at once; its containers stop within their grace
  # period and its network goes a few seconds after them.
  while :; do
    left="$(docker ps -aq --filter "label=com.docker.stack.namespace=$STACK")$(docker network ls -q --filter "label=com.docker.stack.namespace=$STACK")"
    [ -z "$left" ] && break
    [ $SECONDS -lt $deadline ] || die "the stack $STACK left containers or networks behind after 90 s"
    sleep 1
  done
  # Its workers removed their sandboxes on SIGTERM; sweep what a crash left.
  left="$(docker ps -a --filter label=braindrill.engine=braindrill --format '{{.ID}} {{.Label "braindrill.node"}}' | awk -v p="$STACK-worker-" 'index($2, p) == 1 {print $1}')"
  [ -z "$left" ] || docker rm -fv $left >/dev/null
  # Its volumes (the judge's database), as `./deploy.sh down` removes
  # compose's: `stack rm` leaves them.
  left="$(docker volume ls -q --filter "label=com.docker.stack.namespace=$STACK")"
  [ -z "$left" ] || docker volume rm -f $left >/dev/null
  if [ -e "$SWARM_MARK" ]; then
    log "leaving the swarm that swarm up made"
    docker swarm leave --force >/dev/null
    rm -f "$SWARM_MARK"
  fi
  log "stack $STACK removed; nothing left"
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
  make_secrets
  log "starting master and $workers workers"
  BRAINDRILL_HTTP_PORT="$HTTP_PORT" compose up -d --scale worker="$workers"
  wait_ready compose_logs
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

need_k8s_validator() {
  command -v kubernetes-validate >/dev/null && return 0
  command -v python3 >/dev/null || apt_install python3
  log "installing kubernetes-validate (checks deploy/k8s against the Kubernetes API schemas, offline)"
  python3 -m pip install -q kubernetes-validate 2>/dev/null \
    || python3 -m pip install -q --break-system-packages kubernetes-validate
}

# Every Kubernetes manifest against the API schemas bundled with the
# validator (no cluster, no network). kustomization.yaml is kustomize's
# own file, not an API object.
k8s_validate() {
  need_k8s_validator
  log "validating deploy/k8s against the Kubernetes API schemas"
  local files=() file
  for file in deploy/k8s/*.yaml; do
    [ "$(basename "$file")" = kustomization.yaml ] || files+=("$file")
  done
  kubernetes-validate --strict --quiet "${files[@]}"
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
  k8s_validate
  log "fast tier: unit tests and the in-process node (no Docker)"
  cargo test --release --locked --workspace --lib --bins
  cargo test --release --locked --test in_process --test observe_in_process --test judge_in_process
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
  secrets) make_secrets ;;
  k8s-validate) k8s_validate ;;
  swarm)
    case "${2:-}" in
      up) shift 2; swarm_up "$@" ;;
      down) swarm_down ;;
      *) die "usage: $0 swarm up [--workers N] | swarm down" ;;
    esac ;;
  *) die "usage: $0 [up [--workers N] | down | test | images | secrets | k8s-validate | swarm up|down]" ;;
esac
