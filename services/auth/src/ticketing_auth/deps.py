"""What auth's routes declare: each dependency reads like the thing it is."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection
from ticketing_common.database import DbSession
from ticketing_common.middleware import client_ip

from ticketing_auth.accounts import Accounts
from ticketing_auth.keys import KeyRing
from ticketing_auth.settings import AuthSettings
from ticketing_auth.throttle import LoginThrottle

# Dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop per dependency per request for what is an attribute lookup.


def _settings(conn: HTTPConnection) -> AuthSettings:
    settings: AuthSettings = conn.app.state.settings
    return settings


async def _keys(conn: HTTPConnection) -> KeyRing:
    keys: KeyRing = conn.app.state.keys
    return keys


Keys = Annotated[KeyRing, Depends(_keys)]


async def _throttle(conn: HTTPConnection) -> LoginThrottle:
    throttle: LoginThrottle = conn.app.state.login_throttle
    return throttle


async def _accounts(db: DbSession, keys: Keys, conn: HTTPConnection) -> Accounts:
    return Accounts(db, keys, _settings(conn))


async def _client_ip(conn: HTTPConnection) -> str:
    return client_ip(conn, _settings(conn).trusted_proxy_hops)


Throttle = Annotated[LoginThrottle, Depends(_throttle)]
AccountsService = Annotated[Accounts, Depends(_accounts)]
ClientIp = Annotated[str, Depends(_client_ip)]
