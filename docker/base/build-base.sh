#!/usr/bin/env bash
# A Python base image made from Debian's packages alone, for machines that reach Debian's mirror
# but no container registry: debootstrap a minimal bookworm with python3, then commit that root
# file system as an image with buildah. The Dockerfiles take it as BASE_IMAGE.
#
#   docker/base/build-base.sh [IMAGE]        (default localhost/ticketing-python:bookworm)
#
# Needs root, debootstrap and buildah. An image that already exists is kept; REBUILD=1 remakes it.
# BUILDAH_FLAGS (default "--storage-driver vfs") selects buildah's storage.
set -euo pipefail

image=${1:-localhost/ticketing-python:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
read -r -a buildah_flags <<<"${BUILDAH_FLAGS:---storage-driver vfs}"

if [ "${REBUILD:-0}" != 1 ] && buildah "${buildah_flags[@]}" inspect --type image "$image" >/dev/null 2>&1; then
  echo "base: $image exists (REBUILD=1 remakes it)"
  exit 0
fi
for tool in debootstrap buildah; do
  command -v "$tool" >/dev/null || { echo "base: $tool is not installed" >&2; exit 1; }
done

rootfs=$(mktemp -d /var/tmp/ticketing-rootfs.XXXXXX)
container=""
cleanup() {
  [ -n "$container" ] && buildah "${buildah_flags[@]}" rm "$container" >/dev/null 2>&1
  rm -rf "$rootfs"
}
trap cleanup EXIT

echo "base: debootstrap bookworm (minbase + python3) into $rootfs"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
version=$(chroot "$rootfs" python3 --version)
# What an image needs no copy of: package lists and caches, logs, man pages.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/doc/*

echo "base: committing $image"
container=$(buildah "${buildah_flags[@]}" from scratch)
buildah "${buildah_flags[@]}" copy "$container" "$rootfs" / >/dev/null
buildah "${buildah_flags[@]}" config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 \
  --cmd python3 \
  --label org.opencontainers.image.description="Debian bookworm (minbase) with python3" \
  "$container"
buildah "${buildah_flags[@]}" commit --quiet "$container" "$image" >/dev/null
echo "base: $image ($version)"
