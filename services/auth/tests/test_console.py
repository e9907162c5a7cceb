"""The admin console's user search, and door staff: a role scoped to one organizer's events."""

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from ticketing_devkit.pytest_plugin import assert_problem, bearer
from ticketing_devkit.services import ADMIN


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def admin(accounts) -> str:  # type: ignore[no-untyped-def]
    return str(accounts.tokens(ADMIN.email, ADMIN.password)["access_token"])


def promote(api: httpx.Client, admin: str, user_id: str, **body: Any) -> httpx.Response:
    return api.patch(f"/users/{user_id}/role", json=body, headers=bearer(admin))


def organizer(accounts, api: httpx.Client, admin: str) -> tuple[dict[str, str], str]:  # type: ignore[no-untyped-def]
    user = accounts.register()
    assert promote(api, admin, user["id"], role="organizer").status_code == 200
    return user, accounts.tokens(user["email"], user["password"])["access_token"]


def test_an_admin_finds_users_by_part_of_email_or_name_and_by_role(  # type: ignore[no-untyped-def]
    accounts, api: httpx.Client, admin: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    ana = accounts.register(email=f"ana-{tag}@example.com", name="Ana Kim")
    bo = accounts.register(email=f"bo-{tag}@example.com", name=f"Bo {tag.upper()}")
    promote(api, admin, bo["id"], role="organizer")

    response = api.get("/users", params={"q": tag}, headers=bearer(admin))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "private, no-store"
    found = response.json()
    assert [u["id"] for u in found["items"]] == [bo["id"], ana["id"]]  # newest first
    assert found["items"][0]["role"] == "organizer"
    assert "password_hash" not in response.text
    assert found["next_cursor"] is None

    by_name = api.get("/users", params={"q": f"bo {tag}"}, headers=bearer(admin)).json()
    assert [u["id"] for u in by_name["items"]] == [bo["id"]]  # names match too, any case
    organizers = api.get(
        "/users", params={"q": tag, "role": "organizer"}, headers=bearer(admin)
    ).json()
    assert [u["id"] for u in organizers["items"]] == [bo["id"]]
    assert api.get("/users", params={"q": "%"}, headers=bearer(admin)).json()["items"] == []


def test_user_search_pages_and_is_for_admins_only(accounts, api: httpx.Client, admin: str) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:8]
    made = [accounts.register(email=f"p{n}-{tag}@example.com")["id"] for n in range(3)]
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"q": tag, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get("/users", params=params, headers=bearer(admin)).json()
        seen += [u["id"] for u in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == made[::-1]

    user = accounts.register()
    token = accounts.tokens(user["email"], user["password"])["access_token"]
    assert_problem(api.get("/users", headers=bearer(token)), 403)
    assert_problem(api.get("/users"), 401)
    for params in ({"role": "emperor"}, {"limit": 0}, {"cursor": "garbage!"}, {"q": "x" * 255}):
        assert_problem(api.get("/users", params=params, headers=bearer(admin)), 422)


def test_an_admin_makes_someone_an_organizers_staff_and_their_token_says_so(  # type: ignore[no-untyped-def]
    accounts, api: httpx.Client, admin: str
) -> None:
    boss, _ = organizer(accounts, api, admin)
    door = accounts.register()
    response = promote(api, admin, door["id"], role="staff", organizer_id=boss["id"])
    assert response.status_code == 200, response.text
    assert response.json()["organizer_id"] == boss["id"]
    tokens = accounts.tokens(door["email"], door["password"])
    claims = claims_of(tokens["access_token"])
    assert (claims["role"], claims["organizer_id"]) == ("staff", boss["id"])
    refreshed = api.post("/refresh", json={"refresh_token": tokens["refresh_token"]}).json()
    assert claims_of(refreshed["access_token"])["organizer_id"] == boss["id"]
    me = api.get("/me", headers=bearer(refreshed["access_token"])).json()
    assert (me["role"], me["organizer_id"]) == ("staff", boss["id"])

    # Back to customer: the organizer link goes with the role.
    assert "organizer_id" not in promote(api, admin, door["id"], role="customer").json()
    customer = accounts.tokens(door["email"], door["password"])["access_token"]
    assert "organizer_id" not in claims_of(customer)


def test_staff_must_work_for_an_organizer(accounts, api: httpx.Client, admin: str) -> None:  # type: ignore[no-untyped-def]
    door, customer = accounts.register(), accounts.register()
    for body in (
        {"role": "staff"},
        {"role": "staff", "organizer_id": customer["id"]},  # not an organizer
        {"role": "staff", "organizer_id": "no-such-user"},
        {"role": "organizer", "organizer_id": customer["id"]},  # only staff name one
    ):
        problem = assert_problem(promote(api, admin, door["id"], **body), 422)
        assert problem["errors"][0]["loc"] == ["body", "organizer_id"], problem
    assert (
        api.get("/users", params={"q": door["email"]}, headers=bearer(admin)).json()["items"][0][
            "role"
        ]
        == "customer"
    )


def test_an_organizer_adds_lists_and_removes_their_own_door_staff(  # type: ignore[no-untyped-def]
    accounts, api: httpx.Client, admin: str
) -> None:
    boss, token = organizer(accounts, api, admin)
    rival, rival_token = organizer(accounts, api, admin)
    door = accounts.register()

    added = api.post("/staff", json={"email": door["email"].upper()}, headers=bearer(token))
    assert added.status_code == 200, added.text
    assert (added.json()["role"], added.json()["organizer_id"]) == ("staff", boss["id"])
    again = api.post("/staff", json={"email": door["email"]}, headers=bearer(token))
    assert again.json() == added.json()  # already on the team: unchanged
    team = api.get("/staff", headers=bearer(token)).json()["items"]
    assert [u["id"] for u in team] == [door["id"]]
    assert api.get("/staff", headers=bearer(rival_token)).json()["items"] == []

    # Another organizer can neither poach nor remove them, nor read the team.
    assert_problem(
        api.post("/staff", json={"email": door["email"]}, headers=bearer(rival_token)), 409
    )
    assert_problem(api.delete(f"/staff/{door['id']}", headers=bearer(rival_token)), 404)
    assert_problem(
        api.get("/staff", params={"organizer_id": boss["id"]}, headers=bearer(rival_token)), 403
    )
    admin_view = api.get("/staff", params={"organizer_id": boss["id"]}, headers=bearer(admin))
    assert [u["id"] for u in admin_view.json()["items"]] == [door["id"]]

    assert api.delete(f"/staff/{door['id']}", headers=bearer(token)).status_code == 204
    assert api.get("/staff", headers=bearer(token)).json()["items"] == []
    assert_problem(api.delete(f"/staff/{door['id']}", headers=bearer(token)), 404)
    me = accounts.tokens(door["email"], door["password"])["access_token"]
    assert claims_of(me)["role"] == "customer"
    del rival


def test_only_customer_accounts_become_staff(accounts, api: httpx.Client, admin: str) -> None:  # type: ignore[no-untyped-def]
    _, token = organizer(accounts, api, admin)
    other, _ = organizer(accounts, api, admin)
    problem = assert_problem(
        api.post("/staff", json={"email": other["email"]}, headers=bearer(token)), 409
    )
    assert "an organizer" in problem["detail"]
    assert_problem(api.post("/staff", json={"email": ADMIN.email}, headers=bearer(token)), 409)
    missing = api.post("/staff", json={"email": "nobody-here@example.com"}, headers=bearer(token))
    assert "register first" in assert_problem(missing, 404)["detail"]
    assert_problem(api.post("/staff", json={}, headers=bearer(token)), 422)
    # Customers and staff do not build teams; admins assign staff with the role change.
    customer = accounts.register()
    customer_token = accounts.tokens(customer["email"], customer["password"])["access_token"]
    assert_problem(
        api.post("/staff", json={"email": "x@example.com"}, headers=bearer(customer_token)), 403
    )
    assert_problem(
        api.post("/staff", json={"email": customer["email"]}, headers=bearer(admin)), 403
    )
