"""The gateway's ASGI entry point: routed public paths go to the proxy, a waiting room's position
poll to its raw handler, everything else (health, readiness, status, docs, the rest of the
waiting room, lifespan, and 404 for what is not routed, /internal included) to the FastAPI app.
A trailing slash is dropped first."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ticketing_api_gateway.proxy import ROUTE_SCOPE_KEY
from ticketing_api_gateway.room_api import POLL_PATH
from ticketing_api_gateway.routing import RouteTable


class Gateway:
    def __init__(
        self, routes: RouteTable, proxy: ASGIApp, control: ASGIApp, room_poll: ASGIApp
    ) -> None:
        self.routes = routes
        self.proxy = proxy
        self.control = control
        self.room_poll = room_poll

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = _without_trailing_slash(scope)
            route = self.routes.match(scope["path"])
            if route is not None:
                scope[ROUTE_SCOPE_KEY] = route
                await self.proxy(scope, receive, send)
                return
            if scope["method"] in ("GET", "HEAD") and POLL_PATH.match(scope["path"]):
                await self.room_poll(scope, receive, send)
                return
        await self.control(scope, receive, send)


def _without_trailing_slash(scope: Scope) -> Scope:
    """`/api/v1/bookings/` is `/api/v1/bookings`: served as such, rather than answered with the
    service's redirect (which would name the service's own address)."""
    path = scope["path"].rstrip("/") or "/"
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    return {**scope, "path": path, "raw_path": raw.rstrip(b"/") or b"/"}
