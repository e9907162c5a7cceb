"""The public API's one OpenAPI document, served by the gateway at /openapi.json (and so /docs):
the gateway's own routes plus, from every upstream's /openapi.json, the paths under the prefixes
the gateway routes to it. `/internal` paths and anything not routed are left out.

Schemas of the same name and shape are shared; two services' different schemas of one name are
kept apart by prefixing the later one with its service's name (and every reference to it). The
document is rebuilt after `ttl_s`, or sooner while a service could not be asked.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from copy import deepcopy
from typing import Any

import aiohttp
import orjson

from ticketing_api_gateway.routing import INTERNAL_PREFIX
from ticketing_api_gateway.upstreams import Upstreams

log = logging.getLogger(__name__)

REF_PREFIX = "#/components/schemas/"
INCOMPLETE_TTL_S = 5.0


def _service_name(prefixes: list[str]) -> str:
    return prefixes[0].rstrip("/").rsplit("/", 1)[-1] or "service"


def routed(path: str, prefixes: list[str]) -> bool:
    """Whether the gateway passes `path` on to the service it routes `prefixes` to."""
    if path == INTERNAL_PREFIX or path.startswith(INTERNAL_PREFIX + "/"):
        return False
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def _renamed_refs(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                REF_PREFIX + renames.get(item[len(REF_PREFIX) :], item[len(REF_PREFIX) :])
                if key == "$ref" and isinstance(item, str) and item.startswith(REF_PREFIX)
                else _renamed_refs(item, renames)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_renamed_refs(item, renames) for item in value]
    return value


def merge(own: dict[str, Any], services: list[tuple[list[str], dict[str, Any]]]) -> dict[str, Any]:
    """The gateway's own document with each service's routed paths and what they refer to."""
    merged = deepcopy(own)
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components: dict[str, Any] = merged.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    security: dict[str, Any] = components.setdefault("securitySchemes", {})
    tags = {tag["name"]: tag for tag in merged.get("tags", [])}
    for prefixes, document in services:
        name = _service_name(prefixes)
        theirs: dict[str, Any] = document.get("components", {}).get("schemas", {})
        renames = {
            key: f"{name}_{key}"
            for key, schema in theirs.items()
            if key in schemas and schemas[key] != schema
        }
        for key, schema in theirs.items():
            schemas.setdefault(renames.get(key, key), _renamed_refs(schema, renames))
        security.update(document.get("components", {}).get("securitySchemes", {}))
        for path, item in document.get("paths", {}).items():
            if routed(path, prefixes):
                paths[path] = _renamed_refs(item, renames)
        for tag in document.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = list(tags.values())
    if not security:
        del components["securitySchemes"]
    return merged


class PublicApi:
    def __init__(
        self,
        upstreams: Upstreams,
        routes: dict[str, list[str]],
        own: Callable[[], dict[str, Any]],
        *,
        ttl_s: float,
        timeout_s: float,
    ) -> None:
        self.upstreams = upstreams
        self.routes = routes  # upstream base URL -> the prefixes routed to it
        self.own = own
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._document: bytes | None = None
        self._expires = 0.0
        self._building: asyncio.Task[bytes] | None = None

    async def document(self) -> bytes:
        """The merged document, serialised (one build at a time; the rest wait for it)."""
        if self._document is not None and time.monotonic() < self._expires:
            return self._document
        if self._building is None:
            self._building = asyncio.create_task(self._build())
            self._building.add_done_callback(self._built)
        return await asyncio.shield(self._building)

    def _built(self, task: asyncio.Task[bytes]) -> None:
        self._building = None

    async def _build(self) -> bytes:
        fetched = await asyncio.gather(*(self._fetch(url) for url in sorted(self.routes)))
        services = [(self.routes[url], doc) for url, doc in fetched if doc is not None]
        missing = [_service_name(self.routes[url]) for url, doc in fetched if doc is None]
        document = merge(self.own(), services)
        if missing:
            note = f"\n\nNot listed right now (unreachable): {', '.join(missing)}."
            document["info"]["description"] = document["info"].get("description", "") + note
        self._document = orjson.dumps(document)
        self._expires = time.monotonic() + (INCOMPLETE_TTL_S if missing else self.ttl_s)
        return self._document

    async def _fetch(self, url: str) -> tuple[str, dict[str, Any] | None]:
        return url, await fetch_document(self.upstreams, url, self.timeout_s)


async def fetch_document(upstreams: Upstreams, url: str, timeout_s: float) -> dict[str, Any] | None:
    """The upstream's own OpenAPI document, or None (logged) when it cannot be had."""
    try:
        async with upstreams.session.get(
            f"{url}/openapi.json", timeout=aiohttp.ClientTimeout(total=timeout_s)
        ) as response:
            if response.status != 200:
                raise aiohttp.ClientError(f"answered {response.status}")
            document = orjson.loads(await response.read())
    except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
        log.warning(
            "an upstream's OpenAPI document is unavailable",
            extra={"upstream": url, "error": repr(exc)},
        )
        return None
    return document if isinstance(document, dict) else None
