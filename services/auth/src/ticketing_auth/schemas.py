from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from ticketing_common.cursors import Page

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("is not a valid email address")
    return value


Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
Role = Literal["customer", "organizer", "admin", "staff"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Strict):
    email: Email
    password: Annotated[str, StringConstraints(max_length=128)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class LoginIn(Strict):
    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254)]
    password: Annotated[str, StringConstraints(max_length=128)]


class RefreshIn(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class RoleIn(Strict):
    role: Role
    organizer_id: Annotated[
        str | None,
        Field(max_length=36, description="For `staff` (required): the organizer they work for"),
    ] = None


class StaffIn(Strict):
    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254)]


class UserIds(Strict):
    ids: Annotated[list[Annotated[str, StringConstraints(max_length=36)]], Field(max_length=500)]


class User(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    # API.md's User has exactly the fields above; a staff member's also names their organizer.
    organizer_id: str | None = Field(
        default=None,
        description="Staff only: the organizer they work for (absent for every other role)",
        exclude_if=lambda value: value is None,
    )
    created_at: datetime


class Users(BaseModel):
    users: list[User]


class UserPage(Page[User]):
    pass


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    expires_in: int = Field(description="Seconds until the access token expires")
