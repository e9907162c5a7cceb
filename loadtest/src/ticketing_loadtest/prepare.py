"""The setup step before a load run: customer accounts (registered through the gateway, written
to a file the simulated users log in with) and the on-sale events the run sells (created and
published by the demo organizer). Nothing here runs during the load."""

from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ticketing_common.platform import Platform, PlatformError, event_body

from ticketing_loadtest.api import api, login

DEMO_ORGANIZER = ("organizer@ticketing.dev", "Organizer-demo-2026")
ACCOUNT_DOMAIN = "loadtest.ticketing.dev"


@dataclass(frozen=True)
class RoomPlan:
    """The burst event's waiting room: opening `opens_in_s` after the setup step ends."""

    admission_per_minute: int = 300
    max_shoppers: int = 50
    shopping_minutes: int = 2
    opens_in_s: float = 15.0


@dataclass(frozen=True)
class Account:
    email: str
    password: str


def read_accounts(path: Path) -> list[Account]:
    if not path.exists():
        return []
    return [Account(**entry) for entry in json.loads(path.read_text())]


def write_accounts(path: Path, accounts: list[Account]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([a.__dict__ for a in accounts], indent=0))
    path.chmod(0o600)


def new_account(batch: str, number: int) -> Account:
    # Two character kinds and 20+ characters: auth's password rules accept it.
    return Account(f"lt-{batch}-{number:05d}@{ACCOUNT_DOMAIN}", "Lt-" + secrets.token_hex(10))


def register_accounts(gateway: str, path: Path, count: int, workers: int = 8) -> list[Account]:
    """At least `count` accounts in `path`: the ones already there, plus new registrations."""
    accounts = read_accounts(path)
    missing = count - len(accounts)
    if missing <= 0:
        return accounts
    batch = secrets.token_hex(3)
    fresh = [new_account(batch, n) for n in range(missing)]
    client = api(gateway, patience_s=300)

    def register(account: Account) -> Account:
        name = account.email.split("@")[0]
        client.register(account.email, account.password, name)
        return account

    with ThreadPoolExecutor(workers) as pool:
        accounts += list(pool.map(register, fresh))
    write_accounts(path, accounts)
    return accounts


def venue_body(tag: str, seated_sections: int, rows: int, seats_per_row: int, standing: int) -> Any:
    sections: list[dict[str, Any]] = [
        {
            "section_id": f"S{n}",
            "name": f"Section {n}",
            "kind": "seated",
            "rows": [{"label": str(r), "seats": seats_per_row} for r in range(1, rows + 1)],
        }
        for n in range(1, seated_sections + 1)
    ]
    if standing:
        sections.append(
            {"section_id": "GA", "name": "Standing", "kind": "standing", "capacity": standing}
        )
    return {
        "name": f"Load Test Hall {tag}",
        "city": "London",
        "country": "GB",
        "address": "1 Loopback Lane, London",
        "timezone": "Europe/London",
        "sections": sections,
    }


def create_onsale_event(organizer: Platform, title: str, venue: Any) -> str:
    """A venue, an event on it and its publication: the event is on sale when this returns."""
    venue_id = organizer.post("/api/v1/venues", venue)["venue_id"]
    tiers = {
        s["section_id"]: ("ga" if s["kind"] == "standing" else "std") for s in venue["sections"]
    }
    event = organizer.post(
        "/api/v1/events",
        event_body(
            venue_id,
            title,
            description="Made by the load test's setup step.",
            prices={"std": 4500, "ga": 3000},
            currency="GBP",
            section_tiers=tiers,
        ),
    )
    organizer.post(f"/api/v1/events/{event['event_id']}/publish")
    event_id: str = event["event_id"]
    return event_id


def await_token_acceptance(gateway: str, account: Account, timeout_s: float = 90) -> None:
    """Waits until the services behind the gateway accept a fresh customer token. Right after
    `make dev` starts, services whose first JWKS fetch found auth not yet up answer 401 until
    they fetch the keys again; a run started then would measure that, not the on-sale."""
    customer = api(gateway, token=login(gateway, account.email, account.password, patience_s=60))
    probes = ("/api/v1/bookings?limit=1", "/api/v1/inventory/holds/warm-up", "/api/v1/payments/x")
    deadline = time.monotonic() + timeout_s
    for probe in probes:
        while True:
            status, _ = customer.request("GET", probe, ok=(200, 401, 404))
            if status != 401:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{probe} still refuses a valid token after {timeout_s:.0f} s")
            time.sleep(1)


def open_waiting_room(gateway: str, organizer: Platform, event_id: str, plan: RoomPlan) -> Any:
    """Turn the event's room on, and wait until the gateway enforces it (it reads the rooms
    every couple of seconds): a crowd let in before that would shop past the room."""
    opens_at = datetime.now(UTC) + timedelta(seconds=plan.opens_in_s)
    _, room = organizer.request(
        "PUT",
        f"/api/v1/events/{event_id}/waiting-room",
        json={
            "enabled": True,
            "opens_at": opens_at.isoformat(),
            "admission_per_minute": plan.admission_per_minute,
            "max_shoppers": plan.max_shoppers,
            "shopping_minutes": plan.shopping_minutes,
        },
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, state = organizer.request("GET", f"/api/v1/waiting-room/{event_id}", ok=(200, 404))
        if status == 404 or (state or {}).get("state") != "off":
            return room
        time.sleep(0.5)
    raise SystemExit(f"the gateway at {gateway} never enforced the waiting room of {event_id}")


def prepare(
    gateway: str, out_dir: Path, accounts: int, room: RoomPlan | None = None
) -> dict[str, Any]:
    """Accounts (reused between runs) and two fresh on-sale events: `steady` for the weighted
    mix, `burst` (smaller, so the crowd contends for the same seats) for the on-sale burst,
    behind a waiting room unless `room` is None."""
    started = time.monotonic()
    registered = register_accounts(gateway, out_dir / "accounts.json", accounts)
    await_token_acceptance(gateway, registered[0])
    try:
        token = login(gateway, *DEMO_ORGANIZER, patience_s=120)
    except PlatformError as exc:
        raise SystemExit(
            f"cannot log in the demo organizer (is `make dev` running?): {exc}"
        ) from exc
    organizer = api(gateway, token=token)
    tag = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    fixture: dict[str, Any] = {
        "created_at": datetime.now(UTC).isoformat(),
        "events": {
            "steady": create_onsale_event(
                organizer, f"Load Test Steady {tag}", venue_body(f"{tag} A", 6, 20, 25, 1000)
            ),
            "burst": create_onsale_event(
                organizer, f"Load Test On-Sale {tag}", venue_body(f"{tag} B", 2, 10, 20, 200)
            ),
        },
    }
    if room is not None:
        fixture["waiting_room"] = open_waiting_room(
            gateway, organizer, fixture["events"]["burst"], room
        )
    (out_dir / "fixture.json").write_text(json.dumps(fixture, indent=2))
    print(
        f"prepare: {len(registered)} accounts in {out_dir / 'accounts.json'}, events "
        f"{fixture['events']} in {out_dir / 'fixture.json'} ({time.monotonic() - started:.1f} s)",
        flush=True,
    )
    return fixture
