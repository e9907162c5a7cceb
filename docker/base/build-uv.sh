#!/usr/bin/env bash
# A uv image (just /uv and /uvx, like ghcr.io/astral-sh/uv) made from the uv binary installed on
# this machine (pip install uv), for machines that reach PyPI but no container registry. The
# Dockerfiles take it as UV_IMAGE.
#
#   docker/base/build-uv.sh [IMAGE]          (default localhost/ticketing-uv:<uv version>)
#
# Prints the image name on the last line. BUILD_TOOL and BUILDAH_FLAGS as in build-base.sh.
set -euo pipefail

read -r -a buildah_flags <<<"${BUILDAH_FLAGS:---storage-driver vfs}"
tool=${BUILD_TOOL:-}
if [ -z "$tool" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then tool=docker; else tool=buildah; fi
fi
uv_bin=$(python3 -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null || command -v uv)
version=$("$uv_bin" --version | awk '{print $2}')
image=${1:-localhost/ticketing-uv:$version}

case "$tool" in
  docker)
    if ! docker image inspect "$image" >/dev/null 2>&1; then
      staging=$(mktemp -d)
      trap 'rm -rf "$staging"' EXIT
      install -m 0755 "$uv_bin" "$staging/uv"
      install -m 0755 "$(dirname "$uv_bin")/uvx" "$staging/uvx"
      tar --numeric-owner --owner=0 --group=0 -C "$staging" -c uv uvx | docker import - "$image" >/dev/null
      echo "uv: built $image from $uv_bin" >&2
    fi ;;
  buildah)
    if ! buildah "${buildah_flags[@]}" inspect --type image "$image" >/dev/null 2>&1; then
      container=$(buildah "${buildah_flags[@]}" from scratch)
      trap 'buildah "${buildah_flags[@]}" rm "$container" >/dev/null 2>&1' EXIT
      buildah "${buildah_flags[@]}" copy --chmod 0755 "$container" "$uv_bin" /uv >/dev/null
      buildah "${buildah_flags[@]}" copy --chmod 0755 "$container" "$(dirname "$uv_bin")/uvx" /uvx >/dev/null
      buildah "${buildah_flags[@]}" commit --quiet "$container" "$image" >/dev/null
      echo "uv: built $image from $uv_bin" >&2
    fi ;;
  *) echo "uv: unknown BUILD_TOOL $tool (docker or buildah)" >&2; exit 1 ;;
esac
echo "$image"
