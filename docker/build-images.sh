#!/usr/bin/env bash
# Build the services' images from the one Dockerfile (--build-arg SERVICE=<service>), every one or
# those named, tagged ticketing/<service>:${IMAGE_TAG:-dev} (the names docker-compose.yml uses),
# with docker, podman or buildah. (`docker compose build` builds the same images.)
#
#   docker/build-images.sh [service ...]
#
# BUILD_TOOL    docker | podman | buildah (default: a docker with a running engine, else podman,
#               else buildah)
# BASE_IMAGE, UV_IMAGE   passed on as build args when set (the Dockerfiles' defaults otherwise)
# BUILDAH_FLAGS          buildah's options (default: chroot isolation, vfs storage, host network,
#                        this machine's CA bundle for downloads: what works as root without a
#                        container runtime)
set -euo pipefail
cd "$(dirname "$0")/.."

tool=${BUILD_TOOL:-}
if [ -z "$tool" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then tool=docker
  elif command -v podman >/dev/null; then tool=podman
  elif command -v buildah >/dev/null; then tool=buildah
  else echo "images: no docker engine, podman or buildah here" >&2; exit 1
  fi
fi

services=("$@")
if [ ${#services[@]} -eq 0 ]; then
  for manifest in services/*/pyproject.toml; do services+=("$(basename "$(dirname "$manifest")")"); done
fi

args=()
[ -n "${BASE_IMAGE:-}" ] && args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
[ -n "${UV_IMAGE:-}" ] && args+=(--build-arg "UV_IMAGE=$UV_IMAGE")
case "$tool" in
  # RUN --mount needs BuildKit (the default from Docker Engine 23; 20.10 asks for it).
  docker) export DOCKER_BUILDKIT=1; build=(docker build) ;;
  podman) build=(podman build) ;;
  # --format docker: OCI image configs have no HEALTHCHECK; --layers: reuse the dependency layer.
  buildah)
    default="--isolation chroot --storage-driver vfs --network host"
    # Downloads in the build trust what this machine trusts (a TLS-inspecting proxy's CA, say),
    # through a mount: nothing of it ends up in the images.
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
      default+=" -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro"
    fi
    read -r -a flags <<<"${BUILDAH_FLAGS:-$default}"
    build=(buildah bud --format docker --layers "${flags[@]}") ;;
  *) echo "images: unknown BUILD_TOOL $tool" >&2; exit 1 ;;
esac

for service in "${services[@]}"; do
  [ -f "services/$service/pyproject.toml" ] || { echo "images: no service in services/$service" >&2; exit 1; }
  image="ticketing/$service:${IMAGE_TAG:-dev}"
  echo "images: building $image with $tool"
  started=$SECONDS
  "${build[@]}" "${args[@]}" --build-arg "SERVICE=$service" -f Dockerfile -t "$image" .
  echo "images: $image built in $((SECONDS - started)) s"
done
