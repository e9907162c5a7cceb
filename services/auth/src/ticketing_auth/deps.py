"""What auth's routes declare: each dependency reads like the thing it is."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection
from ticketing_common.database import DbSession
from ticketing_common.middleware import client_ip
from ticketing_common.resources import provided

from ticketing_auth.accounts import Accounts
from ticketing_auth.keys import KeyRing
from ticketing_auth.settings import AuthSettings
from ticketing_auth.throttle import LoginThrottle

# Dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a
# thread hop per dependency per request for what is an attribute lookup.


Settings = Annotated[AuthSettings, Depends(provided(AuthSettings))]
Keys = Annotated[KeyRing, Depends(provided(KeyRing))]
Throttle = Annotated[LoginThrottle, Depends(provided(LoginThrottle))]


async def _accounts(db: DbSession, keys: Keys, settings: Settings) -> Accounts:
    return Accounts(db, keys, settings)


async def _client_ip(conn: HTTPConnection, settings: Settings) -> str:
    return client_ip(conn, settings.trusted_proxy_hops)


AccountsService = Annotated[Accounts, Depends(_accounts)]
ClientIp = Annotated[str, Depends(_client_ip)]
