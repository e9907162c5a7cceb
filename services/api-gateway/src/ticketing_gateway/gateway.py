"""The gateway's ASGI entry point: routed public paths go to the proxy, everything else (health,
readiness, status, docs, lifespan, and 404 for what is not routed, /internal included) to the
FastAPI app."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ticketing_gateway.proxy import ROUTE_SCOPE_KEY
from ticketing_gateway.routing import RouteTable


class Gateway:
    def __init__(self, routes: RouteTable, proxy: ASGIApp, control: ASGIApp) -> None:
        self.routes = routes
        self.proxy = proxy
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self.routes.match(scope["path"])
            if route is not None:
                scope[ROUTE_SCOPE_KEY] = route
                await self.proxy(scope, receive, send)
                return
        await self.control(scope, receive, send)
