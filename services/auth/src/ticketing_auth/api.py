from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from ticketing_common.internal import internal_router
from ticketing_common.security import AdminUser, CurrentUser

from ticketing_auth.deps import AccountsService, ClientIp, Keys, Throttle
from ticketing_auth.schemas import LoginIn, RefreshIn, RegisterIn, RoleIn, TokenPair, User

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
internal = internal_router()

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "/register",
    status_code=201,
    response_model=User,
    responses={409: _PROBLEM | {"description": "Email taken"}},
)
async def register(body: RegisterIn, accounts: AccountsService) -> dict[str, Any]:
    return await accounts.register(body.email, body.password, body.name)


@router.post(
    "/login",
    response_model=TokenPair,
    responses={
        401: _PROBLEM | {"description": "Wrong email or password"},
        429: _PROBLEM | {"description": "Too many attempts"},
    },
)
async def login(
    body: LoginIn, accounts: AccountsService, throttle: Throttle, ip: ClientIp
) -> TokenPair:
    return await accounts.login(body.email, body.password, ip, throttle)


@router.post("/refresh", response_model=TokenPair, responses={401: _PROBLEM})
async def refresh(body: RefreshIn, accounts: AccountsService) -> TokenPair:
    return await accounts.refresh(body.refresh_token)


@router.post("/logout", status_code=204)
async def logout(body: RefreshIn, accounts: AccountsService) -> Response:
    await accounts.logout(body.refresh_token)
    return Response(status_code=204)


@router.get("/me", response_model=User, responses={401: _PROBLEM})
async def me(user: CurrentUser, accounts: AccountsService) -> dict[str, Any]:
    return await accounts.user(user.user_id)


@router.get("/jwks", summary="Public keys that verify access tokens")
async def jwks(keys: Keys, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return keys.jwks()


@router.patch(
    "/users/{user_id}/role", response_model=User, responses={403: _PROBLEM, 404: _PROBLEM}
)
async def change_role(
    user_id: str, body: RoleIn, _: AdminUser, accounts: AccountsService
) -> dict[str, Any]:
    return await accounts.change_role(user_id, body.role)


@internal.get("/users/{user_id}", response_model=User, responses={404: _PROBLEM})
async def user_by_id(user_id: str, accounts: AccountsService) -> dict[str, Any]:
    """For services that need a user's contact details (notification emails)."""
    return await accounts.profile(user_id)
