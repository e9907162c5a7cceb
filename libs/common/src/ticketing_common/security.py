"""Verifying the platform's JWTs against the auth service's JWKS, and the FastAPI dependencies
that routes declare (`CurrentUser`, `OptionalUser`, `require_role`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol

import aiohttp
import jwt
from fastapi import Depends, FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from ticketing_common.problems import forbidden, unauthorized
from ticketing_common.resources import Resource, resource

log = logging.getLogger(__name__)

# `staff` checks tickets in at the door for one organizer's events (the `organizer_id` claim)
# and may do nothing else an organizer can.
Role = Literal["customer", "organizer", "admin", "staff"]
ROLES: frozenset[str] = frozenset({"customer", "organizer", "admin", "staff"})
ALGORITHMS = ("EdDSA", "RS256")


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller of a request."""

    user_id: str
    role: str
    token_id: str
    expires_at: int
    claims: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def organizer_id(self) -> str | None:
        """The organizer a staff member works for (None for every other role)."""
        found = self.claims.get("organizer_id") if self.role == "staff" else None
        return found if isinstance(found, str) else None

    def acts_for(self, organizer_id: str | None) -> bool:
        """May work on this organizer's events: an admin, the organizer, or their staff."""
        if organizer_id is None:
            return self.is_admin
        return (
            self.is_admin
            or (self.role == "organizer" and self.user_id == organizer_id)
            or (self.role == "staff" and self.organizer_id == organizer_id)
        )


class InvalidToken(Exception):
    """The token is not one we accept; the message says why (safe to show the caller)."""


class KeySource(Protocol):
    async def key_for(self, kid: str) -> jwt.PyJWK | None: ...


class StaticKeySource:
    """Keys known in-process (the auth service verifies its own tokens this way)."""

    def __init__(self, jwks: Callable[[], dict[str, Any]]) -> None:
        self._jwks = jwks

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        for entry in self._jwks()["keys"]:
            if entry.get("kid") == kid:
                return jwt.PyJWK(entry)
        return None


class JwksKeySource:
    """Keys fetched from a JWKS URL: cached, refreshed periodically, and re-fetched when a token
    names a `kid` we have not seen (key rotation) — at most once per `min_refetch_s`, so random
    kids cannot make us hammer the auth service."""

    def __init__(
        self,
        url: str,
        *,
        refresh_interval_s: float = 300.0,
        min_refetch_s: float = 10.0,
        timeout_s: float = 3.0,
    ) -> None:
        self.url = url
        self.refresh_interval_s = refresh_interval_s
        self.min_refetch_s = min_refetch_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._attempted_at = 0.0
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    @property
    def has_keys(self) -> bool:
        return bool(self._keys)

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    async def key_for(self, kid: str) -> jwt.PyJWK | None:
        now = time.monotonic()
        stale = now - self._fetched_at > self.refresh_interval_s
        if kid in self._keys and not stale:
            return self._keys[kid]
        if self._lock.locked():
            async with self._lock:  # a fetch is in flight: wait for its answer, don't refuse
                pass
        elif now - self._attempted_at >= self._refetch_interval():
            await self.refresh()
        return self._keys.get(kid)

    def _refetch_interval(self) -> float:
        # Until the first successful fetch (auth still starting) retry soon; afterwards an unknown
        # kid may trigger a fetch only every `min_refetch_s`.
        return self.min_refetch_s if self._keys else min(self.min_refetch_s, 1.0)

    async def refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._attempted_at < 0.5:
                return  # another waiter just refreshed
            self._attempted_at = time.monotonic()
            if self._session is None:
                await self.open()
            assert self._session is not None
            try:
                async with self._session.get(self.url) as response:
                    response.raise_for_status()
                    document = await response.json(content_type=None)
                keys = {}
                for entry in document.get("keys", []):
                    if entry.get("kid") and entry.get("use", "sig") == "sig":
                        keys[entry["kid"]] = jwt.PyJWK(entry)
            except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWKError) as exc:
                # Keep serving with the keys we have: a blip at auth must not log everyone out.
                log.warning("JWKS fetch failed", extra={"url": self.url, "error": repr(exc)})
                return
            self._keys = keys
            self._fetched_at = time.monotonic()


class TokenVerifier(Resource):
    """Verifies access tokens. Caches verified tokens (bounded) so a hot token is checked once."""

    name = "tokens"

    def __init__(
        self, keys: KeySource, *, issuer: str, audience: str, cache_size: int = 10_000
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Principal] = OrderedDict()

    async def start(self) -> None:
        if isinstance(self.keys, JwksKeySource):
            await self.keys.open()
            await self.keys.refresh()  # warm, but do not fail startup if auth is not up yet

    async def stop(self) -> None:
        if isinstance(self.keys, JwksKeySource):
            await self.keys.close()

    async def check(self) -> None:
        if isinstance(self.keys, JwksKeySource) and not self.keys.has_keys:
            await self.keys.refresh()
            if not self.keys.has_keys:
                raise RuntimeError(f"no signing keys from {self.keys.url}")

    async def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at > time.time():
                return cached
            del self._cache[token]
        principal = await self._verify(token)
        self._cache[token] = principal
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("The token is malformed") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise InvalidToken("The token's algorithm is not accepted")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("The token names no signing key")
        key = await self.keys.key_for(kid)
        if key is None:
            raise InvalidToken("The token was signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "jti", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("The token is not meant for this platform") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("The token is invalid") from exc
        if claims["role"] not in ROLES or not isinstance(claims["sub"], str):
            raise InvalidToken("The token's claims are invalid")
        if claims["role"] == "staff" and not isinstance(claims.get("organizer_id"), str):
            raise InvalidToken("A staff token must name its organizer")
        return Principal(
            user_id=claims["sub"],
            role=claims["role"],
            token_id=str(claims["jti"]),
            expires_at=int(claims["exp"]),
            claims=claims,
        )


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other header. The
    one reading of the header: the dependencies below, inventory's hold route and the gateway."""
    scheme, _, credentials = authorization.partition(" ")
    token = credentials.strip()
    return token if scheme.lower() == "bearer" and token else None


_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login")


async def _verified(conn: HTTPConnection, token: str) -> Principal:
    try:
        return await resource(conn, TokenVerifier).verify(token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from exc


async def _optional_user(
    conn: HTTPConnection,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    return None if credentials is None else await _verified(conn, credentials.credentials)


async def optional_caller(conn: HTTPConnection) -> Principal | None:
    """The caller of a route served without FastAPI's dependencies (a fast path), as
    OptionalUser resolves it: None without a token, 401 for a token that is not valid."""
    token = bearer_token(conn.headers.get("authorization", ""))
    return None if token is None else await _verified(conn, token)


async def authenticated(conn: HTTPConnection) -> Principal:
    """The caller of a fast-path route, as CurrentUser resolves it: 401 without a valid bearer
    token."""
    user = await optional_caller(conn)
    if user is None:
        raise unauthorized("This endpoint needs a bearer token")
    return user


async def _current_user(
    user: Annotated[Principal | None, Depends(_optional_user)],
) -> Principal:
    if user is None:
        raise unauthorized("This endpoint needs a bearer token")
    return user


OptionalUser = Annotated[Principal | None, Depends(_optional_user)]
CurrentUser = Annotated[Principal, Depends(_current_user)]


def require_role(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits only callers with one of `roles`."""
    allowed = frozenset(roles)

    async def dependency(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            raise forbidden(f"This needs the role {' or '.join(sorted(allowed))}")
        return user

    return dependency


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(
        dependency.call is call or _depends_on(dependency, call)
        for dependency in dependant.dependencies
    )


def document_anonymous_access(app: FastAPI) -> None:
    """Say in the app's OpenAPI document which operations a caller may use without a token.
    One that takes an `OptionalUser` and never a `CurrentUser` lists the empty security
    requirement `{}` beside the bearer scheme (OpenAPI's "optional"); one with no user at all
    has no security requirement. The gateway reads this from each service's document to know which
    routes to let through without a token (ticketing_api_gateway.public_routes)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()  # FastAPI builds it once and keeps it; marking it again changes nothing
        paths = schema.get("paths", {})
        # Each route as the app serves it: its full path, and its dependencies with the
        # routers' own (FastAPI resolves included routers lazily).
        for context in routing.iter_route_contexts(app.routes):
            if not isinstance(context.original_route, APIRoute):
                continue
            dependant = getattr(context, "dependant", None)
            if dependant is None or not _depends_on(dependant, _optional_user):
                continue
            if _depends_on(dependant, _current_user):
                continue
            item = paths.get(context.path_format, {})
            for method in context.methods or ():
                operation = item.get(method.lower())
                if operation and operation.get("security") and {} not in operation["security"]:
                    operation["security"] = [{}, *operation["security"]]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


AdminUser = Annotated[Principal, Depends(require_role("admin"))]
OrganizerUser = Annotated[Principal, Depends(require_role("organizer", "admin"))]
# Door check-in: organizers and admins, and the staff of an organizer (check `acts_for`).
DoorUser = Annotated[Principal, Depends(require_role("organizer", "admin", "staff"))]
