import httpx
from ticketing_devkit.pytest_plugin import assert_problem, bearer
from ticketing_devkit.services import ADMIN


def test_admin_is_bootstrapped_from_configuration(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    token = accounts.tokens(ADMIN.email, ADMIN.password)["access_token"]
    assert api.get("/me", headers=bearer(token)).json()["role"] == "admin"


def test_admin_changes_a_role_and_the_next_token_carries_it(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    admin = accounts.tokens(ADMIN.email, ADMIN.password)["access_token"]
    user = accounts.register()
    response = api.patch(
        f"/users/{user['id']}/role", json={"role": "organizer"}, headers=bearer(admin)
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "organizer"
    token = accounts.tokens(user["email"], user["password"])["access_token"]
    assert api.get("/me", headers=bearer(token)).json()["role"] == "organizer"


def test_non_admins_cannot_change_roles(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    token = accounts.tokens(user["email"], user["password"])["access_token"]
    assert_problem(
        api.patch(f"/users/{user['id']}/role", json={"role": "admin"}, headers=bearer(token)), 403
    )
    assert_problem(api.patch(f"/users/{user['id']}/role", json={"role": "admin"}), 401)


def test_role_change_validates_role_and_user(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    admin = accounts.tokens(ADMIN.email, ADMIN.password)["access_token"]
    user = accounts.register()
    assert_problem(
        api.patch(f"/users/{user['id']}/role", json={"role": "emperor"}, headers=bearer(admin)), 422
    )
    assert_problem(
        api.patch("/users/no-such-user/role", json={"role": "organizer"}, headers=bearer(admin)),
        404,
    )


def test_services_look_up_users_with_the_service_credential(accounts, auth) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    url = f"{auth.url}/internal/users/{user['id']}"
    assert_problem(httpx.get(url), 401)
    token = {"X-Service-Token": "dev-service-token-not-for-production"}
    found = httpx.get(url, headers=token)
    assert found.json()["email"] == user["email"]
    assert_problem(httpx.get(f"{auth.url}/internal/users/nobody", headers=token), 404)


def test_services_look_up_many_users_at_once(accounts, auth) -> None:  # type: ignore[no-untyped-def]
    first, second = accounts.register(), accounts.register()
    url = f"{auth.url}/internal/users/lookup"
    body = {"ids": [first["id"], second["id"], first["id"], "nobody"]}
    assert_problem(httpx.post(url, json=body), 401)
    token = {"X-Service-Token": "dev-service-token-not-for-production"}
    found = httpx.post(url, json=body, headers=token)
    assert found.status_code == 200, found.text
    assert {u["email"] for u in found.json()["users"]} == {first["email"], second["email"]}
    assert_problem(httpx.post(url, json={"ids": ["x"] * 501}, headers=token), 422)
