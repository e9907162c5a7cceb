from concurrent.futures import ThreadPoolExecutor

import httpx
from ticketing_devkit.pytest_plugin import assert_problem, bearer


def test_refresh_rotates_the_pair(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    first = accounts.tokens(user["email"], user["password"])
    second = api.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert api.get("/me", headers=bearer(pair["access_token"])).json()["id"] == user["id"]


def test_reusing_a_rotated_token_revokes_the_family(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    stolen = accounts.tokens(user["email"], user["password"])["refresh_token"]
    legit = api.post("/refresh", json={"refresh_token": stolen}).json()["refresh_token"]
    assert_problem(api.post("/refresh", json={"refresh_token": stolen}), 401)
    # The whole family is dead: the legitimate holder's newer token no longer works either.
    assert_problem(api.post("/refresh", json={"refresh_token": legit}), 401)
    # Another login starts a fresh family.
    other = accounts.tokens(user["email"], user["password"])["refresh_token"]
    assert api.post("/refresh", json={"refresh_token": other}).status_code == 200


def test_concurrent_refreshes_of_one_token_yield_one_pair(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    token = accounts.tokens(user["email"], user["password"])["refresh_token"]
    base = str(api.base_url).rstrip("/")

    def refresh(_: int) -> int:
        return httpx.post(f"{base}/refresh", json={"refresh_token": token}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(refresh, range(8)))
    assert statuses.count(200) == 1
    assert statuses.count(401) == 7


def test_logout_revokes_the_refresh_token(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    token = accounts.tokens(user["email"], user["password"])["refresh_token"]
    response = api.post("/logout", json={"refresh_token": token})
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(api.post("/refresh", json={"refresh_token": token}), 401)
    assert api.post("/logout", json={"refresh_token": token}).status_code == 204  # idempotent


def test_forged_refresh_tokens_are_401(accounts, api: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    user = accounts.register()
    token = accounts.tokens(user["email"], user["password"])["refresh_token"]
    token_id = token.split(".")[0]
    for forged in [f"{token_id}.guessed-secret", "no-dot-at-all", "x" * 40 + ".y"]:
        assert_problem(api.post("/refresh", json={"refresh_token": forged}), 401)
    # A wrong guess does not burn the real token.
    assert api.post("/refresh", json={"refresh_token": token}).status_code == 200
    assert_problem(api.post("/refresh", json={"refresh_token": 123}), 422)
    assert_problem(api.post("/refresh", json={}), 422)
