"""The route table: which upstream serves a public path (longest prefix wins), and which paths are
never routed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ticketing_api_gateway.settings import GroupLimits, Limit, Timeouts

# Service-to-service commands live under /internal on every service; the gateway never routes
# them, whatever the configuration says.
INTERNAL_PREFIX = "/internal"


class RouteConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Route:
    prefix: str
    upstream: str  # base URL, no trailing slash
    group: str  # rate-limit group
    anonymous_limit: Limit
    user_limit: Limit
    timeouts: Timeouts


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self._routes = routes
        # Prefixes by their number of segments, deepest first: a path is matched by cutting it
        # to each depth and looking the cut up, so the first hit is the longest prefix.
        by_depth: dict[int, dict[str, Route]] = {}
        for route in routes:
            by_depth.setdefault(route.prefix.count("/"), {})[route.prefix] = route
        self._by_depth = sorted(by_depth.items(), reverse=True)

    @classmethod
    def build(
        cls,
        routes: Mapping[str, str],
        *,
        rate_limits: Mapping[str, GroupLimits],
        default_timeouts: Timeouts,
        timeouts: Mapping[str, Timeouts],
    ) -> RouteTable:
        table = []
        for prefix, upstream in routes.items():
            _check_prefix(prefix)
            if not upstream.startswith(("http://", "https://")):
                raise RouteConfigError(f"upstream of {prefix} is not an http(s) URL: {upstream!r}")
            group = _group_of(prefix, rate_limits)
            limits = rate_limits[group]
            table.append(
                Route(
                    prefix=prefix,
                    upstream=upstream.rstrip("/"),
                    group=group,
                    anonymous_limit=limits.anonymous,
                    user_limit=limits.user,
                    timeouts=timeouts.get(prefix, default_timeouts),
                )
            )
        unknown = set(timeouts) - set(routes)
        if unknown:
            raise RouteConfigError(f"timeouts for prefixes that are not routed: {sorted(unknown)}")
        return cls(table)

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    @property
    def upstreams(self) -> dict[str, list[str]]:
        """Every upstream base URL with the prefixes it serves."""
        found: dict[str, list[str]] = {}
        for route in sorted(self._routes, key=lambda route: route.prefix):
            found.setdefault(route.upstream, []).append(route.prefix)
        return found

    def match(self, path: str) -> Route | None:
        """The route serving `path` (the decoded request path), or None: not routed."""
        for depth, prefixes in self._by_depth:
            parts = path.split("/", depth + 1)
            if len(parts) <= depth:
                continue
            route = prefixes.get("/".join(parts[: depth + 1]))
            if route is not None:
                if "/." in path and _has_dot_segment(path):
                    # The upstream's URL handling would resolve these ("/api/v1/x/../../internal");
                    # a path the gateway cannot vouch for is not routed.
                    return None
                return route
        return None


def _check_prefix(prefix: str) -> None:
    if not prefix.startswith("/") or prefix == "/" or prefix.endswith("/"):
        raise RouteConfigError(f"route prefix {prefix!r} must look like /api/v1/name")
    if _has_dot_segment(prefix) or "?" in prefix or "#" in prefix:
        raise RouteConfigError(f"route prefix {prefix!r} is not a plain path")
    if prefix == INTERNAL_PREFIX or prefix.startswith(INTERNAL_PREFIX + "/"):
        raise RouteConfigError(f"{prefix!r}: /internal paths are never routed")


def _has_dot_segment(path: str) -> bool:
    return any(segment in (".", "..") for segment in path.split("/"))


def _group_of(prefix: str, rate_limits: Mapping[str, GroupLimits]) -> str:
    """The group naming the longest group prefix that covers this route prefix; else default."""
    best, best_length = "default", -1
    for name, limits in rate_limits.items():
        for candidate in limits.prefixes:
            covers = prefix == candidate or prefix.startswith(candidate.rstrip("/") + "/")
            if covers and len(candidate) > best_length:
                best, best_length = name, len(candidate)
    return best
