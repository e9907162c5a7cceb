"""A resource is something a service opens at startup, checks for readiness and closes at shutdown.

The app factory starts resources in order inside the lifespan (never at import), publishes each on
`app.state.<name>`, and asks each one in `/ready`.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from starlette.requests import HTTPConnection

R = TypeVar("R", bound="Resource")


class Resource:
    name: ClassVar[str]

    async def start(self) -> None:
        """Open connections; raise if the service cannot work without them."""

    async def stop(self) -> None:
        """Close what start() opened."""

    async def check(self) -> None:
        """Raise if the dependency is not reachable now (called by /ready)."""


def resource(conn: HTTPConnection, kind: type[R]) -> R:
    """The running instance of a resource type, for dependencies."""
    found: Any = getattr(conn.app.state, kind.name, None)
    if not isinstance(found, kind):
        raise RuntimeError(f"resource {kind.name!r} is not configured for this service")
    return found
