#!/usr/bin/env bash
# A Python base image made from Debian's packages alone, for machines that reach Debian's mirror
# but no container registry: debootstrap a minimal bookworm with python3, then import that root
# file system as an image (`docker import`, or a buildah commit). The Dockerfiles take it as
# BASE_IMAGE.
#
#   docker/base/build-base.sh [IMAGE]        (default localhost/ticketing-python:bookworm)
#
# Needs root and debootstrap, and a Docker engine that answers or buildah. BUILD_TOOL=docker|buildah
# chooses (default: docker when its engine answers). An image that already exists is kept;
# REBUILD=1 remakes it. BUILDAH_FLAGS (default "--storage-driver vfs") selects buildah's storage.
#
# The image trusts the certificate authorities this machine added to its own store
# (/usr/local/share/ca-certificates: a TLS-inspecting proxy's CA, say), so that builds FROM it
# reach PyPI where this machine does. It is a local image: it is never pushed anywhere.
set -euo pipefail

image=${1:-localhost/ticketing-python:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
read -r -a buildah_flags <<<"${BUILDAH_FLAGS:---storage-driver vfs}"
tool=${BUILD_TOOL:-}
if [ -z "$tool" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then tool=docker; else tool=buildah; fi
fi

exists() {
  case "$tool" in
    docker) docker image inspect "$image" >/dev/null 2>&1 ;;
    buildah) buildah "${buildah_flags[@]}" inspect --type image "$image" >/dev/null 2>&1 ;;
    *) echo "base: unknown BUILD_TOOL $tool (docker or buildah)" >&2; exit 1 ;;
  esac
}
if [ "${REBUILD:-0}" != 1 ] && exists; then
  echo "base: $image exists (REBUILD=1 remakes it)"
  exit 0
fi
for command in debootstrap "$tool"; do
  command -v "$command" >/dev/null || { echo "base: $command is not installed" >&2; exit 1; }
done

rootfs=$(mktemp -d /var/tmp/ticketing-rootfs.XXXXXX)
container=""
cleanup() {
  if [ -n "$container" ]; then buildah "${buildah_flags[@]}" rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$rootfs" "$rootfs.log"
}
trap cleanup EXIT

echo "base: debootstrap bookworm (minbase + python3) into $rootfs"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
version=$(chroot "$rootfs" python3 --version)

extra_cas=(/usr/local/share/ca-certificates/*.crt)
if [ -e "${extra_cas[0]}" ]; then
  cp "${extra_cas[@]}" "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
  echo "base: trusts this machine's extra CAs: $(basename -a "${extra_cas[@]}" | tr '\n' ' ')"
fi
# What an image needs no copy of: package lists and caches, logs, man pages.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/doc/*

echo "base: importing $image with $tool"
description="Debian bookworm (minbase) with python3"
case "$tool" in
  docker)
    tar --numeric-owner -C "$rootfs" -c . | docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["python3"]' \
      --change "LABEL org.opencontainers.image.description=\"$description\"" \
      - "$image" >/dev/null ;;
  buildah)
    container=$(buildah "${buildah_flags[@]}" from scratch)
    buildah "${buildah_flags[@]}" copy "$container" "$rootfs" / >/dev/null
    buildah "${buildah_flags[@]}" config \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --env LANG=C.UTF-8 \
      --cmd python3 \
      --label org.opencontainers.image.description="$description" \
      "$container"
    buildah "${buildah_flags[@]}" commit --quiet "$container" "$image" >/dev/null ;;
esac
echo "base: $image ($version)"
