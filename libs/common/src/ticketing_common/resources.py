"""A resource is something a service opens at startup, checks for readiness and closes at shutdown.

The app factory starts resources in order inside the lifespan (never at import), publishes each on
`app.state.<name>`, and asks each one in `/ready`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, TypeVar

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

R = TypeVar("R", bound="Resource")


class Degraded(Exception):
    """Raised by `Resource.check` when the dependency answers but the service is not whole (say,
    inventory rebuilding an event after a cache loss): `/ready` stays 200 and says `degraded`."""


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


class Resource:
    name: ClassVar[str]

    async def start(self) -> None:
        """Open connections; raise if the service cannot work without them."""

    async def stop(self) -> None:
        """Close what start() opened."""

    async def check(self) -> None:
        """Raise if the dependency is not reachable now (called by /ready); raise Degraded if it
        works only in part."""

    def exception_handlers(self) -> Mapping[type[Exception], ExceptionHandler]:
        """How the app answers this dependency's errors that are the caller's fault."""
        return {}


def resource(conn: HTTPConnection, kind: type[R]) -> R:
    """The running instance of a resource type, for dependencies."""
    found: Any = getattr(conn.app.state, kind.name, None)
    if not isinstance(found, kind):
        raise RuntimeError(f"resource {kind.name!r} is not configured for this service")
    return found
