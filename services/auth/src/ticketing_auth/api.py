from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from ticketing_common.database import Database
from ticketing_common.fastpath import path_parameter
from ticketing_common.internal import check_service_credential, internal_router
from ticketing_common.problems import PROBLEM, not_found
from ticketing_common.resources import resource
from ticketing_common.security import AdminUser, CurrentUser, OrganizerUser

from ticketing_auth import repository
from ticketing_auth.deps import AccountsService, ClientIp, Keys, Throttle
from ticketing_auth.schemas import (
    LoginIn,
    RefreshIn,
    RegisterIn,
    Role,
    RoleIn,
    StaffIn,
    TokenPair,
    User,
    UserIds,
    UserPage,
    Users,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
internal = internal_router()
# An internal route served by FastPath, which checks the credential itself (main.py).
internal_reads = APIRouter(prefix="/internal", tags=["internal"])

_AUTH: dict[int | str, dict[str, Any]] = {401: PROBLEM, 403: PROBLEM}
# Lists of people are one caller's view: no shared cache may keep them.
PRIVATE = "private, no-store"


@router.post(
    "/register",
    status_code=201,
    response_model=User,
    responses={409: PROBLEM | {"description": "Email taken"}},
)
async def register(body: RegisterIn, accounts: AccountsService) -> dict[str, Any]:
    return await accounts.register(body.email, body.password, body.name)


@router.post(
    "/login",
    response_model=TokenPair,
    responses={
        401: PROBLEM | {"description": "Wrong email or password"},
        429: PROBLEM | {"description": "Too many attempts"},
    },
)
async def login(
    body: LoginIn, accounts: AccountsService, throttle: Throttle, ip: ClientIp
) -> TokenPair:
    return await accounts.login(body.email, body.password, ip, throttle)


@router.post("/refresh", response_model=TokenPair, responses={401: PROBLEM})
async def refresh(body: RefreshIn, accounts: AccountsService) -> TokenPair:
    return await accounts.refresh(body.refresh_token)


@router.post("/logout", status_code=204)
async def logout(body: RefreshIn, accounts: AccountsService) -> Response:
    await accounts.logout(body.refresh_token)
    return Response(status_code=204)


@router.get("/me", response_model=User, responses={401: PROBLEM})
async def me(user: CurrentUser, accounts: AccountsService) -> dict[str, Any]:
    return await accounts.user(user.user_id)


@router.get("/jwks", summary="Public keys that verify access tokens")
async def jwks(keys: Keys, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return keys.jwks()


@router.get(
    "/users",
    response_model=UserPage,
    summary="Find users (admins): newest first, by part of the email or name, by role",
    responses=_AUTH | {422: PROBLEM},
)
async def search_users(
    _: AdminUser,
    accounts: AccountsService,
    response: Response,
    q: Annotated[
        str | None, Query(max_length=254, description="Part of the email or name, any case")
    ] = None,
    role: Role | None = None,
    organizer_id: Annotated[
        str | None, Query(max_length=36, description="Staff of this organizer")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = PRIVATE
    return await accounts.search(
        text=q, role=role, organizer_id=organizer_id, limit=limit, cursor=cursor
    )


@router.patch(
    "/users/{user_id}/role",
    response_model=User,
    description="`staff` needs `organizer_id`, the organizer's account they check tickets in "
    "for. The new role is in the user's tokens from their next login or refresh.",
    responses=_AUTH | {404: PROBLEM, 422: PROBLEM},
)
async def change_role(
    user_id: str, body: RoleIn, _: AdminUser, accounts: AccountsService
) -> dict[str, Any]:
    return await accounts.change_role(user_id, body.role, body.organizer_id)


@router.get(
    "/staff",
    response_model=UserPage,
    summary="An organizer's door staff (admins: `organizer_id`, or every organizer's)",
    responses=_AUTH | {422: PROBLEM},
)
async def list_staff(
    user: OrganizerUser,
    accounts: AccountsService,
    response: Response,
    organizer_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = PRIVATE
    return await accounts.staff(user, organizer_id, limit, cursor)


@router.post(
    "/staff",
    response_model=User,
    summary="Make a customer account this organizer's door staff",
    description="Staff may check tickets in for the organizer's events and nothing else an "
    "organizer can. Adding someone already on the team returns them unchanged.",
    responses=_AUTH
    | {
        404: PROBLEM | {"description": "No account has this email"},
        409: PROBLEM | {"description": "The account is not a customer's"},
        422: PROBLEM,
    },
)
async def add_staff(
    body: StaffIn, user: OrganizerUser, accounts: AccountsService
) -> dict[str, Any]:
    return await accounts.add_staff(user, body.email)


@router.delete(
    "/staff/{user_id}",
    status_code=204,
    summary="Take someone off the organizer's door staff (back to customer)",
    responses=_AUTH | {404: PROBLEM},
)
async def remove_staff(user_id: str, user: OrganizerUser, accounts: AccountsService) -> Response:
    await accounts.remove_staff(user, user_id)
    return Response(status_code=204)


@internal_reads.get(
    "/users/{user_id}",
    response_model=User,
    responses={401: PROBLEM, 404: PROBLEM},
    openapi_extra={"parameters": [path_parameter("user_id")]},
)
async def user_by_id(request: Request) -> Response:
    """For services that need a user's contact details (notification emails)."""
    # Asked for every booking's email during an on-sale: served by FastPath (main.py), which
    # runs no dependencies, so it checks the credential itself.
    check_service_credential(request)
    async with resource(request, Database).session() as db:
        user = await repository.user_by_id(db, request.path_params["user_id"])
    if user is None:
        raise not_found("User", request.path_params["user_id"])
    return Response(User.model_validate(user).model_dump_json(), media_type="application/json")


@internal.post("/users/lookup", response_model=Users, responses={422: PROBLEM})
async def users_by_id(body: UserIds, accounts: AccountsService) -> dict[str, Any]:
    """Many users at once (booking's CSV export names each booking's customer); unknown ids are
    left out."""
    return {"users": await accounts.profiles(body.ids)}
