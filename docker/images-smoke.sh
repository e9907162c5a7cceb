#!/usr/bin/env bash
# make images-smoke: build images with buildah on a machine without a Docker engine, from a base
# image made here from Debian's packages and a uv image made from the local uv binary, then run
# them: inventory and the gateway must answer /health (and pass their own HEALTHCHECK) as the
# image's non-root user, and auth must apply its migrations from its image.
#
# Needs root, buildah, debootstrap, PostgreSQL and Redis on 127.0.0.1. Slow (minutes): not in CI.
# SMOKE_SERVICES overrides which images are built (default: api-gateway inventory auth).
set -euo pipefail
cd "$(dirname "$0")/.."

storage=(--storage-driver vfs)
run_flags=(--isolation chroot --network host)
base_image=${BASE_IMAGE:-localhost/ticketing-python:bookworm}
read -r -a services <<<"${SMOKE_SERVICES:-api-gateway inventory auth}"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "base image $base_image (debootstrap + python3)"
BUILD_TOOL=buildah BUILDAH_FLAGS="${storage[*]}" docker/base/build-base.sh "$base_image"
step "uv image"
uv_image=${UV_IMAGE:-$(BUILD_TOOL=buildah BUILDAH_FLAGS="${storage[*]}" docker/base/build-uv.sh | tail -1)}
echo "uv: $uv_image"

step "building ${services[*]}"
BUILD_TOOL=buildah BASE_IMAGE=$base_image UV_IMAGE=$uv_image docker/build-images.sh "${services[@]}"

containers=()
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  for container in "${containers[@]}"; do buildah "${storage[@]}" rm "$container" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

built() { [[ " ${services[*]} " == *" $1 "* ]]; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# A list from the image's Docker config (Cmd, Healthcheck.Test), as shell words.
image_config() {
  buildah "${storage[@]}" inspect --type image "localhost/ticketing/$1:dev" | python3 -c '
import json, shlex, sys
value = json.load(sys.stdin)["Docker"]["config"]
for key in sys.argv[1].split("."):
    value = value[key]
print(shlex.join(value))' "$2"
}

# Runs the image's own CMD on a free port until /health answers, then its own HEALTHCHECK.
serve() {
  local service=$1; shift
  local port container log pid cmd check
  port=$(free_port)
  container=$(buildah "${storage[@]}" from "localhost/ticketing/$service:dev")
  containers+=("$container")
  step "running $service from its image on 127.0.0.1:$port"
  echo "user: $(buildah "${storage[@]}" run "${run_flags[@]}" "$container" -- id)"
  eval "cmd=($(image_config "$service" Cmd))"
  echo "CMD: ${cmd[*]}"
  log=$(mktemp /tmp/images-smoke-$service.XXXXXX)
  setsid buildah "${storage[@]}" run "${run_flags[@]}" --env UVICORN_HOST=127.0.0.1 \
    --env "UVICORN_PORT=$port" "$@" "$container" -- "${cmd[@]}" >"$log" 2>&1 &
  pid=$!
  servers+=("$pid")
  local health=""
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "$service exited before answering" >&2; exit 1; fi
    if health=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1).read().decode())" 2>/dev/null); then
      break
    fi
    sleep 0.5
  done
  [ -n "$health" ] || { cat "$log"; echo "$service did not answer /health within 60 s" >&2; exit 1; }
  echo "GET /health: $health"
  eval "check=($(image_config "$service" Healthcheck.Test))"
  [ "${check[0]}" = CMD ] || { echo "unexpected HEALTHCHECK form: ${check[*]}" >&2; exit 1; }
  buildah "${storage[@]}" run "${run_flags[@]}" --env "UVICORN_PORT=$port" "$container" -- "${check[@]:1}"
  echo "HEALTHCHECK (${check[*]:1:2} ...): passed"
  echo "log:"; sed 's/^/  /' "$log" | tail -5
  kill -TERM -- "-$pid"; wait "$pid" 2>/dev/null || true
}

if built inventory; then
  serve inventory --env REDIS_URL=redis://127.0.0.1:6379/0
fi
if built api-gateway; then
  # No auth here: the gateway starts without its JWKS (it fetches the keys when asked).
  serve api-gateway --env REDIS_URL=redis://127.0.0.1:6379/0 \
    --env "JWKS_URL=http://127.0.0.1:$(free_port)/api/v1/auth/jwks" --env 'GATEWAY_ROUTES={}'
fi
if built auth; then
  database=ticketing_images_smoke_$$
  step "auth: migrations from its image (database $database)"
  container=$(buildah "${storage[@]}" from localhost/ticketing/auth:dev)
  containers+=("$container")
  buildah "${storage[@]}" run "${run_flags[@]}" \
    --env "DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/$database" \
    "$container" -- python -m ticketing_auth migrate
  echo "tables: $(psql -h 127.0.0.1 -U postgres -d "$database" -Atc \
    "select string_agg(tablename, ', ' order by tablename) from pg_tables where schemaname = 'public'")"
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE \"$database\" WITH (FORCE)"
fi

step "images"
buildah "${storage[@]}" images --format '{{.Name}}:{{.Tag}}  {{.Size}}' | grep -E "ticketing/($(IFS='|'; echo "${services[*]}")):dev"
echo
echo "images-smoke: passed"
