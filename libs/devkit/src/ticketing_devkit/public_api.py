"""The public API's merged OpenAPI document, built in-process: what the gateway serves at
/openapi.json under `make dev`, without starting anything.

    python -m ticketing_devkit.public_api [FILE]   # writes {"paths": {path: [methods]}}

(to FILE, or stdout; the services' log lines go to stdout too, so a caller names a file.)

Each service's app is built (never started: no store is reached) with the environment `make dev`
gives it, and its document merged the way the gateway merges them (ticketing_api_gateway.openapi).
Run it in the workspace virtualenv (`make sync`), where every service is installed.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

from ticketing_devkit.stack import discover, service_env

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _document(app_path: str, env: dict[str, str]) -> dict[str, Any]:
    module_name, factory = app_path.split(":")
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        app = getattr(importlib.import_module(module_name), factory)()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    control = getattr(app, "control", app)  # the gateway wraps its FastAPI app
    document: dict[str, Any] = control.openapi()
    return document


def merged_document() -> dict[str, Any]:
    specs = discover()
    gateway = next(spec for spec in specs if spec.routes == () and spec.name == "api-gateway")
    own = _document(gateway.app, service_env(gateway, specs, {}))
    services = [
        (list(spec.routes), _document(spec.app, service_env(spec, specs, {})))
        for spec in specs
        if spec.routes
    ]
    merge = importlib.import_module("ticketing_api_gateway.openapi").merge
    document: dict[str, Any] = merge(own, services)
    return document


def public_paths(document: dict[str, Any]) -> dict[str, list[str]]:
    return {
        path: sorted(method.upper() for method in item if method in HTTP_METHODS)
        for path, item in document.get("paths", {}).items()
    }


if __name__ == "__main__":
    text = json.dumps({"paths": public_paths(merged_document())}, indent=1, sort_keys=True)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as out:
            out.write(text)
    else:
        print(text)
