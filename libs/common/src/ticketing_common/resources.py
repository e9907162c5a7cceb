"""A resource is something a service opens at startup, checks for readiness and closes at shutdown.

The app factory starts resources in order inside the lifespan (never at import), publishes each on
`app.state.<name>`, and asks each one in `/ready`.

What routes use (the service's settings, its domain services) is `provide`d to the app by type
and declared by routes as `Annotated[X, Depends(provided(X))]`: one typed way, no casts of
`app.state`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, TypeVar

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

R = TypeVar("R", bound="Resource")
T = TypeVar("T")
_PROVIDED = "provided"


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


def provide(app: Starlette, *objects: object, as_type: type | None = None) -> None:
    """Make `objects` available to the app's routes, each by its own type (`provided`), or by
    `as_type` (an interface several implementations answer for, say)."""
    registry: dict[type, object] | None = getattr(app.state, _PROVIDED, None)
    if registry is None:
        registry = {}
        setattr(app.state, _PROVIDED, registry)
    for item in objects:
        registry[as_type or type(item)] = item


def provided_by(app: Starlette, kind: type[T]) -> T:
    """The app's `provide`d object of type `kind` (for a background loop, or a hot path that
    reads its own inputs; routes declare `provided(kind)`)."""
    found = getattr(app.state, _PROVIDED, {}).get(kind)
    if not isinstance(found, kind):
        raise RuntimeError(f"{kind.__name__} is not provided to this app")
    return found


def provided(kind: type[T]) -> Callable[[HTTPConnection], Awaitable[T]]:
    """A dependency answering the app's `provide`d object of type `kind` (async: FastAPI runs a
    plain `def` dependency in a worker thread, a hop per request for a dictionary lookup)."""

    async def dependency(conn: HTTPConnection) -> T:
        return provided_by(conn.app, kind)

    dependency.__name__ = f"provided_{kind.__name__}"
    return dependency
