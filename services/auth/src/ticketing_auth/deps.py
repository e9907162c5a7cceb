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


def _settings(conn: HTTPConnection) -> AuthSettings:
    settings: AuthSettings = conn.app.state.settings
    return settings


def _keys(conn: HTTPConnection) -> KeyRing:
    keys: KeyRing = conn.app.state.keys
    return keys


def _throttle(conn: HTTPConnection) -> LoginThrottle:
    throttle: LoginThrottle = conn.app.state.login_throttle
    return throttle


def _accounts(db: DbSession, conn: HTTPConnection) -> Accounts:
    return Accounts(db, _keys(conn), _settings(conn))


def _client_ip(conn: HTTPConnection) -> str:
    return client_ip(conn, _settings(conn).trusted_proxy_hops)


Keys = Annotated[KeyRing, Depends(_keys)]
Throttle = Annotated[LoginThrottle, Depends(_throttle)]
AccountsService = Annotated[Accounts, Depends(_accounts)]
ClientIp = Annotated[str, Depends(_client_ip)]
