import base64
import gzip

import httpx
from ticketing_devkit.processes import ServiceProcess
from ticketing_devkit.pytest_plugin import assert_problem, bearer


def test_the_seat_map_merges_live_availability(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, customer, inventory: ServiceProcess
) -> None:
    event = make.published(organizer[1])
    event_id = event["event_id"]
    holds = f"{inventory.url}/api/v1/inventory/events/{event_id}/holds"
    held = httpx.post(holds, json={"seat_ids": ["ST-A-2", "BAL-1-1"]}, headers=bearer(customer[1]))
    assert held.status_code == 201, held.text
    standing = httpx.post(
        holds, json={"section_id": "PIT", "quantity": 3}, headers=bearer(customer[1])
    )
    assert standing.status_code == 201, standing.text

    response = api.get(f"/events/{event_id}/seatmap")
    assert response.status_code == 200, response.text
    seatmap = response.json()
    assert seatmap["event_status"] == "on_sale"
    stalls, balcony, pit = seatmap["sections"]
    assert [row["label"] for row in stalls["rows"]] == ["A", "B"]
    assert stalls["rows"][0]["seats"] == [
        {"seat_id": "ST-A-1", "number": 1, "price_tier": "front", "status": "available"},
        {"seat_id": "ST-A-2", "number": 2, "price_tier": "front", "status": "held"},
        {"seat_id": "ST-A-3", "number": 3, "price_tier": "front", "status": "available"},
    ]
    assert len(stalls["rows"][1]["seats"]) == 4
    assert (stalls["capacity"], stalls["available"], stalls["held"], stalls["sold"]) == (7, 6, 1, 0)
    assert balcony["rows"][0]["seats"][0]["status"] == "held"
    assert balcony["price_tier"] == "back"
    assert pit["kind"] == "standing"
    assert "rows" not in pit
    assert (pit["capacity"], pit["available"], pit["held"], pit["sold"]) == (50, 47, 3, 0)
    assert {t["tier"] for t in seatmap["price_tiers"]} == {"front", "back", "standing"}

    released = httpx.delete(
        f"{inventory.url}/api/v1/inventory/holds/{held.json()['hold_id']}",
        headers=bearer(customer[1]),
    )
    assert released.status_code == 204
    again = api.get(f"/events/{event_id}/seatmap").json()
    assert again["sections"][0]["rows"][0]["seats"][1]["status"] == "available"


def test_a_draft_seat_map_shows_every_seat_available_to_its_owner(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    event = make.event(organizer[1])
    response = api.get(f"/events/{event['event_id']}/seatmap", headers=bearer(organizer[1]))
    assert response.status_code == 200, response.text
    seats = [
        s for sec in response.json()["sections"] for r in sec.get("rows") or [] for s in r["seats"]
    ]
    assert len(seats) == 9
    assert {s["status"] for s in seats} == {"available"}
    assert_problem(api.get(f"/events/{event['event_id']}/seatmap"), 404)


def bits_set(bitmap: str, count: int) -> set[int]:
    raw = base64.b64decode(bitmap)
    return {bit for bit in range(count) if raw[bit >> 3] & (0x80 >> (bit & 7))}


def test_the_layout_and_inventorys_bits_make_the_seat_map(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer, customer, inventory: ServiceProcess
) -> None:
    event_id = make.published(organizer[1])["event_id"]
    response = api.get(f"/events/{event_id}/layout", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200, response.text
    assert "content-encoding" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    layout = response.json()
    assert response.headers["etag"] == f'"{layout["version"]}"'
    assert layout["seat_count"] == 9
    bit_of = {
        seat["seat_id"]: seat["bit"]
        for section in layout["sections"]
        for row in section.get("rows") or []
        for seat in row["seats"]
    }
    assert sorted(bit_of.values()) == list(range(9))
    assert "rows" not in layout["sections"][2]  # the standing pit
    assert {t["tier"]: t["price_cents"] for t in layout["price_tiers"]}["front"] == 5000

    held = httpx.post(
        f"{inventory.url}/api/v1/inventory/events/{event_id}/holds",
        json={"seat_ids": ["ST-B-4", "BAL-1-2"]},
        headers=bearer(customer[1]),
    )
    assert held.status_code == 201, held.text
    bits = httpx.get(f"{inventory.url}/api/v1/inventory/events/{event_id}/availability/bits")
    assert bits.status_code == 200, bits.text
    assert bits.headers["cache-control"] == "no-store"
    answer = bits.json()
    assert answer["seat_count"] == 9
    assert bits_set(answer["held"], 9) == {bit_of["ST-B-4"], bit_of["BAL-1-2"]}
    assert bits_set(answer["sold"], 9) == set()
    seats = {
        seat["seat_id"]: seat["status"]
        for section in api.get(f"/events/{event_id}/seatmap").json()["sections"]
        for row in section.get("rows") or []
        for seat in row["seats"]
    }
    assert {seat for seat, status in seats.items() if status == "held"} == {"ST-B-4", "BAL-1-2"}


def test_a_layout_goes_compressed_to_those_who_accept_gzip(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    event_id = make.published(organizer[1])["event_id"]
    path = f"/events/{event_id}/layout"
    plain = api.get(path, headers={"Accept-Encoding": "identity"})
    with api.stream("GET", path, headers={"Accept-Encoding": "br, gzip;q=0.8"}) as compressed:
        raw = b"".join(compressed.iter_raw())
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(raw) == plain.content
    assert len(raw) < len(plain.content)
    # Its own representation, its own strong tag; each revalidates only itself.
    assert compressed.headers["etag"] != plain.headers["etag"]
    assert compressed.headers["cache-control"] == plain.headers["cache-control"]
    gz_again = api.get(
        path, headers={"Accept-Encoding": "gzip", "If-None-Match": compressed.headers["etag"]}
    )
    assert gz_again.status_code == 304
    refused = api.get(path, headers={"Accept-Encoding": "gzip;q=0, *"})
    assert "content-encoding" not in refused.headers
    assert refused.content == plain.content


def test_a_layout_is_revalidated_with_its_etag(api: httpx.Client, make, organizer) -> None:  # type: ignore[no-untyped-def]
    event_id = make.published(organizer[1])["event_id"]
    first = api.get(f"/events/{event_id}/layout")
    etag = first.headers["etag"]
    again = api.get(f"/events/{event_id}/layout", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "immutable" in again.headers["cache-control"]
    weak_list = api.get(
        f"/events/{event_id}/layout", headers={"If-None-Match": f'"nope", W/{etag}'}
    )
    assert weak_list.status_code == 304
    other = api.get(f"/events/{event_id}/layout", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200
    assert other.content == first.content


def test_a_drafts_layout_is_private_and_follows_its_edits(  # type: ignore[no-untyped-def]
    api: httpx.Client, make, organizer
) -> None:
    event = make.event(organizer[1])
    path = f"/events/{event['event_id']}/layout"
    assert_problem(api.get(path), 404)
    first = api.get(path, headers=bearer(organizer[1]))
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "private, no-cache"
    tiers = [dict(tier, price_cents=tier["price_cents"] + 100) for tier in event["price_tiers"]]
    edited = api.patch(
        f"/events/{event['event_id']}", json={"price_tiers": tiers}, headers=bearer(organizer[1])
    )
    assert edited.status_code == 200, edited.text
    after = api.get(path, headers=bearer(organizer[1]) | {"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != first.headers["etag"]
    assert after.json()["price_tiers"][0]["price_cents"] == tiers[0]["price_cents"]
