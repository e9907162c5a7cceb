import base64
import json
from typing import Any

import httpx
import pytest
from ticketing_devkit.pytest_plugin import assert_problem, bearer


def test_an_organizer_creates_a_venue_and_anyone_reads_it(
    api: httpx.Client, organizer, venue_body
) -> None:  # type: ignore[no-untyped-def]
    user_id, token = organizer
    response = api.post("/venues", json=venue_body(), headers=bearer(token))
    assert response.status_code == 201, response.text
    venue = response.json()
    assert venue["organizer_id"] == user_id
    assert venue["capacity"] == 3 + 4 + 2 + 50
    assert [s["capacity"] for s in venue["sections"]] == [7, 2, 50]
    assert venue["sections"][0]["rows"] == [{"label": "A", "seats": 3}, {"label": "B", "seats": 4}]
    assert venue["sections"][2] == {
        "section_id": "PIT",
        "name": "Pit",
        "kind": "standing",
        "capacity": 50,
    }
    assert venue["timezone"] == "Europe/London"
    assert venue["created_at"].endswith("Z")

    public = api.get(f"/venues/{venue['venue_id']}")
    assert public.status_code == 200
    assert public.json() == venue


def test_admins_create_venues_customers_and_strangers_do_not(  # type: ignore[no-untyped-def]
    api: httpx.Client, admin, customer, venue_body
) -> None:
    assert api.post("/venues", json=venue_body(), headers=bearer(admin)).status_code == 201
    assert_problem(api.post("/venues", json=venue_body(), headers=bearer(customer[1])), 403)
    assert_problem(api.post("/venues", json=venue_body()), 401)


def test_a_tampered_token_is_refused(api: httpx.Client, organizer, venue_body) -> None:  # type: ignore[no-untyped-def]
    token = organizer[1]
    header, payload, signature = token.split(".")
    # Claim to be an admin, keeping the organizer's signature: the signature no longer matches.
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps(claims | {"role": "admin"}).encode())
    forged_token = f"{header}.{forged.decode().rstrip('=')}.{signature}"
    assert_problem(api.post("/venues", json=venue_body(), headers=bearer(forged_token)), 401)
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    assert_problem(
        api.post("/venues", json=venue_body(), headers=bearer(f"{header}.{payload}.{flipped}")),
        401,
    )
    assert_problem(api.post("/venues", json=venue_body(), headers=bearer("not-a-jwt")), 401)


def test_unknown_venue_is_404(api: httpx.Client) -> None:
    assert_problem(api.get("/venues/no-such-venue"), 404)


def seated(section_id: str = "S", rows: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "section_id": section_id,
        "name": "Section",
        "kind": "seated",
        "rows": rows if rows is not None else [{"label": "A", "seats": 10}],
    } | extra


@pytest.mark.parametrize(
    ("case", "overrides", "message"),
    [
        ("duplicate sections", {"sections": [seated("S"), seated("S")]}, "unique"),
        ("dash in a section id", {"sections": [seated("S-1")]}, "'-'"),
        ("dash in a row label", {"sections": [seated(rows=[{"label": "A-1", "seats": 2}])]}, "'-'"),
        ("empty section id", {"sections": [seated("")]}, "letters"),
        (
            "repeated row label",
            {"sections": [seated(rows=[{"label": "A", "seats": 2}, {"label": "A", "seats": 3}])]},
            "unique",
        ),
        ("zero seats", {"sections": [seated(rows=[{"label": "A", "seats": 0}])]}, "greater"),
        ("negative seats", {"sections": [seated(rows=[{"label": "A", "seats": -3}])]}, "greater"),
        ("seats as text", {"sections": [seated(rows=[{"label": "A", "seats": "10"}])]}, "integer"),
        ("seats as bool", {"sections": [seated(rows=[{"label": "A", "seats": True}])]}, "integer"),
        ("no rows", {"sections": [seated(rows=[])]}, "at least 1"),
        (
            "zero standing",
            {"sections": [{"section_id": "P", "name": "Pit", "kind": "standing", "capacity": 0}]},
            "greater",
        ),
        ("no sections", {"sections": []}, "at least 1"),
        ("unknown kind", {"sections": [seated(kind="floating")]}, "seated"),
        (
            "too big",
            {
                "sections": [
                    {"section_id": "P", "name": "Pit", "kind": "standing", "capacity": 100_000},
                    seated("S", rows=[{"label": str(n), "seats": 1000} for n in range(51)]),
                ]
            },
            "151,000 places",
        ),
        ("bad time zone", {"timezone": "Mars/Olympus"}, "IANA"),
        ("long name", {"name": "x" * 201}, "at most 200"),
        ("blank city", {"city": "   "}, "at least 1"),
        ("unknown field", {"owner": "me"}, "Extra inputs"),
    ],
)
def test_invalid_venues_are_422_and_say_why(  # type: ignore[no-untyped-def]
    api: httpx.Client, organizer, case: str, overrides: dict[str, Any], message: str, venue_body
) -> None:
    response = api.post("/venues", json=venue_body(**overrides), headers=bearer(organizer[1]))
    body = assert_problem(response, 422)
    assert message in response.text, (case, body["errors"])


def test_a_venue_may_hold_exactly_the_cap(api: httpx.Client, organizer, venue_body) -> None:  # type: ignore[no-untyped-def]
    sections = [
        {"section_id": "P", "name": "Pit", "kind": "standing", "capacity": 100_000},
        seated("S", rows=[{"label": str(n), "seats": 1000} for n in range(50)]),
    ]
    response = api.post("/venues", json=venue_body(sections=sections), headers=bearer(organizer[1]))
    assert response.status_code == 201, response.text
    assert response.json()["capacity"] == 150_000


def test_malformed_json_is_400_and_huge_bodies_413(api: httpx.Client, organizer) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(organizer[1]) | {"Content-Type": "application/json"}
    assert_problem(api.post("/venues", content=b'{"name": "x",', headers=headers), 400)
    assert_problem(api.post("/venues", content=b"[1, 2, 3]", headers=headers), 422)
    huge = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    assert_problem(api.post("/venues", content=huge, headers=headers), 413)
