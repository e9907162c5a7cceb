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
