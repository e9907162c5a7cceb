"""The compose file `make compose-check` adds for the platform's own images: every service that
docker-compose.yml builds from the root Dockerfile is built FROM the local base and uv images
(docker/base/build-*.sh), with the host's network for its RUN steps (the engine here runs with
--bridge=none: a build container has no other way to reach PyPI). Derived from the compose file
as compose reads it, so a new service's block needs no line in docker/local/compose.yml.

    docker compose -f docker-compose.yml config --format json | python3 platform_builds.py

Standard library only (the check runs it with the machine's python3).
"""

from __future__ import annotations

import json
import sys
from typing import Any

BUILD = {
    "network": "host",
    "args": {
        "BASE_IMAGE": "${BASE_IMAGE:?the local base image (docker/base/build-base.sh)}",
        "UV_IMAGE": "${UV_IMAGE:?the local uv image (docker/base/build-uv.sh)}",
    },
}


def platform_builds(compose: dict[str, Any]) -> dict[str, Any]:
    return {
        "services": {
            name: {"build": BUILD}
            for name, service in compose["services"].items()
            if (service.get("build") or {}).get("dockerfile") == "Dockerfile"
        }
    }


if __name__ == "__main__":
    json.dump(platform_builds(json.load(sys.stdin)), sys.stdout, indent=2)
