"""A minimal app served by the header-read-timeout protocol in test_server.py."""

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(_: object) -> PlainTextResponse:
    return PlainTextResponse("hello")


def create_app() -> Starlette:
    return Starlette(routes=[Route("/", hello), Route("/health", hello)])
